/*
 * The log store's blocking file work, handed to the background workers
 * (skiff/bg.h): files renamed *.deleted unlinked after file.delete.delay.ms
 * (a deleted partition's whole directory too), files written whole and
 * atomically on the sync worker (a partition's producer snapshots and
 * partition.metadata, the store's three checkpoint files), and the start
 * of writeback of appended segment bytes on the writeback worker.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "log_int.h"
#include "skiff/fsutil.h"
#include "skiff/trace.h"

/* Files (and possibly a whole directory) to unlink after a delay. */
struct sk_delete_batch {
    sk_logstore *store;      /* the store (its timer base and workers) */
    char **paths;            /* files to unlink */
    size_t npaths;           /* entries in paths */
    sk_segment_file **files; /* references dropped after unlinking (closes off the loop) */
    size_t nfiles;           /* entries in files */
    char *tree;              /* a directory to empty and remove, or NULL */
    struct event *timer;     /* pending delay, or NULL */
    sk_delete_batch *next;   /* store->deletes list while the timer runs */
};

static void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) {
        if (errno != ENOENT)
            sk_warn("log", "opendir %s: %m", dir);
        return;
    }
    struct dirent *de;
    char path[4096];
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        if (unlink(path) < 0 && errno == EISDIR)
            remove_tree(path);
    }
    closedir(d);
    if (rmdir(dir) < 0)
        sk_warn("log", "rmdir %s: %m", dir);
}

static void delete_work(void *arg)
{
    sk_delete_batch *b = arg;
    for (size_t i = 0; i < b->npaths; i++)
        if (unlink(b->paths[i]) < 0 && errno != ENOENT)
            sk_warn("log", "unlink %s: %m", b->paths[i]);
    if (b->tree)
        remove_tree(b->tree);
    for (size_t i = 0; i < b->nfiles; i++)
        sk_segment_file_unref(b->files[i]);
    b->nfiles = 0;
}

static void delete_batch_free(void *arg)
{
    sk_delete_batch *b = arg;
    for (size_t i = 0; i < b->npaths; i++)
        free(b->paths[i]);
    for (size_t i = 0; i < b->nfiles; i++)
        sk_segment_file_unref(b->files[i]);
    free(b->paths);
    free(b->files);
    free(b->tree);
    if (b->timer)
        event_free(b->timer);
    free(b);
}

static void delete_submit(sk_delete_batch *b)
{
    if (sk_bg_submit(b->store->bg, SK_BG_DELETE, delete_work, delete_batch_free, b) < 0) {
        delete_work(b);
        delete_batch_free(b);
    }
}

static void delete_unlink_pending(sk_logstore *s, sk_delete_batch *b)
{
    for (sk_delete_batch **pp = &s->deletes; *pp; pp = &(*pp)->next)
        if (*pp == b) {
            *pp = b->next;
            return;
        }
}

static void on_delete_timer(evutil_socket_t fd, short what, void *arg)
{
    sk_delete_batch *b = arg;
    (void)fd;
    (void)what;
    delete_unlink_pending(b->store, b);
    event_free(b->timer);
    b->timer = NULL;
    delete_submit(b);
}

static void delete_schedule(sk_logstore *s, sk_delete_batch *b, int64_t delay_ms)
{
    if (delay_ms > 0 && s->base) {
        b->timer = evtimer_new(s->base, on_delete_timer, b);
        struct timeval tv = {.tv_sec = (time_t)(delay_ms / 1000), .tv_usec = (suseconds_t)(delay_ms % 1000) * 1000};
        if (b->timer && evtimer_add(b->timer, &tv) == 0) {
            b->next = s->deletes;
            s->deletes = b;
            return;
        }
    }
    delete_submit(b);
}

/* Takes the arrays and `tree` (NULL or a directory to remove). */
static void delete_later(sk_logstore *s, char **paths, size_t npaths, sk_segment_file **files, size_t nfiles,
                         char *tree, int64_t delay_ms)
{
    sk_delete_batch *b = calloc(1, sizeof *b);
    if (!b) {
        for (size_t i = 0; i < npaths; i++)
            free(paths[i]);
        for (size_t i = 0; i < nfiles; i++)
            sk_segment_file_unref(files[i]);
        free(paths);
        free(files);
        free(tree);
        return;
    }
    *b =
        (sk_delete_batch){.store = s, .paths = paths, .npaths = npaths, .files = files, .nfiles = nfiles, .tree = tree};
    delete_schedule(s, b, delay_ms);
}

void sk_logstore_delete_later(sk_logstore *s, char **paths, size_t npaths, sk_segment_file **files, size_t nfiles,
                              int64_t delay_ms)
{
    delete_later(s, paths, npaths, files, nfiles, NULL, delay_ms);
}

void sk_logstore_delete_tree_later(sk_logstore *s, char *tree, sk_segment_file **files, size_t nfiles, int64_t delay_ms)
{
    delete_later(s, NULL, 0, files, nfiles, tree, delay_ms);
}

void sk_logstore_deletes_now(sk_logstore *s)
{
    while (s->deletes) {
        sk_delete_batch *b = s->deletes;
        s->deletes = b->next;
        event_free(b->timer);
        b->timer = NULL;
        delete_submit(b);
    }
}

void sk_logstore_deletes_drop(sk_logstore *s)
{
    while (s->deletes) {
        sk_delete_batch *b = s->deletes;
        s->deletes = b->next;
        delete_batch_free(b);
    }
}

/* Writes whole files atomically on the sync worker. A partition's job names
 * its files relative to the partition directory, open as `dirfd` (the write
 * follows the directory if the partition is deleted and it is renamed), and
 * holds a reference on the partition; it is skipped once the partition is
 * deleted, so a topic created again under the same name never sees it. */
typedef struct write_job {
    sk_logstore *store; /* set for checkpoint jobs: clears checkpoint_running */
    sk_partition *p;    /* set for a partition's files (reference held) */
    int dirfd;          /* the partition directory, -1 for absolute paths */
    char *paths[3];     /* file names (relative to dirfd) or absolute paths (heap) */
    char *data[3];      /* each file's whole content (heap) */
    size_t len[3];      /* bytes of each */
    int n;              /* files in the job (at most 3) */
} write_job;

static void write_work(void *arg)
{
    write_job *j = arg;
    if (j->p && atomic_load(&j->p->deleted))
        return;
    for (int i = 0; i < j->n; i++) {
        int rc = j->dirfd >= 0 ? sk_file_write_atomic_at(j->dirfd, j->paths[i], j->data[i], j->len[i])
                               : sk_file_write_atomic(j->paths[i], j->data[i], j->len[i]);
        if (rc < 0)
            sk_error("log", "cannot write %s%s%s: %m", j->p ? j->p->dir : "", j->p ? "/" : "", j->paths[i]);
    }
}

static void write_job_free(write_job *j)
{
    for (int i = 0; i < j->n; i++) {
        free(j->paths[i]);
        free(j->data[i]);
    }
    if (j->dirfd >= 0)
        close(j->dirfd);
    free(j);
}

static write_job *write_job_new(void)
{
    write_job *j = calloc(1, sizeof *j);
    if (j)
        j->dirfd = -1;
    return j;
}

static void write_done(void *arg)
{
    write_job *j = arg;
    sk_logstore *s = j->store;
    if (j->p)
        sk_partition_unref(j->p);
    write_job_free(j);
    if (!s)
        return;
    s->checkpoint_running = false;
    if (s->checkpoint_again) {
        s->checkpoint_again = false;
        sk_logstore_checkpoint(s);
    }
}

void sk_partition_write_later(sk_partition *p, const char *name, char *data, size_t len)
{
    write_job *j = write_job_new();
    if (!j || !(j->paths[0] = strdup(name)) || (j->dirfd = sk_dir_open(p->dir)) < 0) {
        sk_error("log", "cannot write %s/%s: %s", p->dir, name, j && j->paths[0] ? strerror(errno) : "out of memory");
        free(data);
        if (j)
            write_job_free(j);
        return;
    }
    j->n = 1;
    j->data[0] = data;
    j->len[0] = len;
    j->p = p;
    if (sk_bg_submit(p->store->bg, SK_BG_SYNC, write_work, write_done, j) < 0) {
        sk_error("log", "cannot write %s/%s: out of memory", p->dir, name);
        write_job_free(j);
        return;
    }
    p->refs++;
}

/* Renders the checkpoint files into a job. NULL when out of memory. */
static write_job *checkpoint_job(sk_logstore *s)
{
    static const char *const names[3] = {SK_RECOVERY_POINT_FILE, SK_LOG_START_FILE, SK_CLEANER_OFFSET_FILE};
    write_job *j = write_job_new();
    if (!j)
        return NULL;
    for (int i = 0; i < 3; i++) {
        j->n = i + 1;
        j->paths[i] = sk_path_join(s->dir, names[i]);
        j->data[i] = sk_checkpoint_render(s, i, &j->len[i]);
        if (!j->paths[i] || !j->data[i]) {
            write_job_free(j);
            return NULL;
        }
    }
    return j;
}

void sk_logstore_checkpoint(sk_logstore *s)
{
    if (s->checkpoint_running) {
        s->checkpoint_again = true;
        return;
    }
    write_job *j = checkpoint_job(s);
    if (!j)
        return;
    j->store = s;
    if (sk_bg_submit(s->bg, SK_BG_SYNC, write_work, write_done, j) < 0) {
        write_job_free(j);
        return;
    }
    s->checkpoint_running = true;
}

void sk_logstore_checkpoint_now(sk_logstore *s)
{
    write_job *j = checkpoint_job(s);
    if (j) {
        write_work(j);
        write_job_free(j);
    }
}

/* A range of a .log file whose writeback to start. */
typedef struct writeback_job {
    sk_segment_file *file; /* reference held by the job */
    int64_t off, len;      /* the range, bytes */
} writeback_job;

static void writeback_work(void *arg)
{
    writeback_job *j = arg;
    /* Only starts writing the dirty pages of the range: an error here
     * changes nothing, the next fsync reports it. */
    if (sync_file_range(j->file->fd, (off64_t)j->off, (off64_t)j->len, SYNC_FILE_RANGE_WRITE) < 0)
        sk_debug("log", "sync_file_range: %m");
}

static void writeback_done(void *arg)
{
    writeback_job *j = arg;
    sk_segment_file_unref(j->file);
    free(j);
}

void sk_segment_writeback_later(sk_logstore *s, sk_segment *seg)
{
    if (seg->writeback_from > seg->size)
        seg->writeback_from = seg->size;
    if (!seg->file || seg->size == seg->writeback_from)
        return;
    writeback_job *j = malloc(sizeof *j);
    if (!j)
        return;
    *j = (writeback_job){
        .file = sk_segment_file_ref(seg->file), .off = seg->writeback_from, .len = seg->size - seg->writeback_from};
    if (sk_bg_submit(s->bg, SK_BG_WRITEBACK, writeback_work, writeback_done, j) < 0) {
        writeback_done(j);
        return;
    }
    seg->writeback_from = seg->size;
    s->writeback_jobs++;
}
