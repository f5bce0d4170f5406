/*
 * The log directory as a whole (Kafka's LogManager for one log dir):
 * start-up (leftover cleanup, checkpoints, recovery after an unclean stop or
 * lazy loading after a clean one), clean shutdown (fsync, trimmed indexes,
 * checkpoints, the .kafka_cleanshutdown marker), partition creation and
 * deletion, and the periodic tasks on the event loop: retention, flush.ms,
 * producer expiry and checkpoint writing. The table of partitions is in
 * store_table.c, the blocking file work handed to the background workers in
 * file_jobs.c, the settings from the broker's keys in log_config.c.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

#include "log_int.h"
#include "skiff/errors.h"
#include "skiff/fsutil.h"
#include "skiff/trace.h"
#include "skiff/uuid.h"

#define MAX_TOPIC_LEN 249 /* Kafka's Topic.MAX_NAME_LENGTH */
#define CLEAN_SHUTDOWN_CONTENT "{\"version\":0,\"brokerEpoch\":-1}"

/* ---- Periodic tasks ---- */

typedef struct retention_ctx {
    int64_t now; /* clock, ms */
    int deleted; /* segments deleted by the pass */
} retention_ctx;

static void retention_one(sk_partition *p, void *arg)
{
    retention_ctx *r = arg;
    /* Do not load a lazily opened partition that has nothing to delete. */
    if (!p->loaded && p->cfg.retention_ms < 0 && p->cfg.retention_bytes < 0 && !p->log_start_checkpointed)
        return;
    r->deleted += sk_partition_retention(p, r->now);
}

int sk_logstore_run_retention(sk_logstore *s)
{
    retention_ctx r = {.now = sk_logstore_now(s)};
    sk_logstore_foreach(s, retention_one, &r);
    if (r.deleted > 0)
        sk_logstore_checkpoint(s);
    return r.deleted;
}

static void flush_check_one(sk_partition *p, void *arg)
{
    int64_t now = *(const int64_t *)arg;
    int64_t waited;
    if (!p->loaded || p->first_unflushed_ms < 0 || p->cfg.flush_ms < 0)
        return;
    if (!__builtin_sub_overflow(now, p->first_unflushed_ms, &waited) && waited >= p->cfg.flush_ms)
        sk_partition_flush_to(p, p->log_end_offset);
}

void sk_logstore_run_flush_check(sk_logstore *s)
{
    int64_t now = sk_logstore_now(s);
    sk_logstore_foreach(s, flush_check_one, &now);
}

static void expire_producers_one(sk_partition *p, void *arg)
{
    size_t *removed = arg;
    if (p->loaded)
        *removed +=
            sk_producer_state_expire(&p->producers, sk_logstore_now(p->store), p->store->producer_expiration_ms);
}

size_t sk_logstore_expire_producers(sk_logstore *s)
{
    size_t removed = 0;
    sk_logstore_foreach(s, expire_producers_one, &removed);
    if (removed)
        sk_info("log", "forgot %zu producer%s idle for producer.id.expiration.ms", removed, removed == 1 ? "" : "s");
    return removed;
}

static void on_producers_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    sk_logstore_expire_producers(arg);
}

static void on_retention_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    sk_logstore_run_retention(arg);
}

static void on_flush_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    sk_logstore_run_flush_check(arg);
}

static void on_checkpoint_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    sk_logstore_checkpoint(arg);
}

static struct event *arm_timer(sk_logstore *s, int64_t every_ms, event_callback_fn cb)
{
    if (!s->base || every_ms <= 0)
        return NULL;
    struct event *ev = event_new(s->base, -1, EV_PERSIST, cb, s);
    struct timeval tv = {.tv_sec = (time_t)(every_ms / 1000), .tv_usec = (suseconds_t)(every_ms % 1000) * 1000};
    if (ev && event_add(ev, &tv) < 0) {
        event_free(ev);
        ev = NULL;
    }
    return ev;
}

static void stop_timers(sk_logstore *s)
{
    sk_cleaner_stop(s);
    struct event **evs[] = {&s->retention_ev, &s->flush_ev, &s->checkpoint_ev, &s->producers_ev};
    for (size_t i = 0; i < sizeof evs / sizeof *evs; i++) {
        if (*evs[i])
            event_free(*evs[i]);
        *evs[i] = NULL;
    }
}

/* ---- Open ---- */

static bool topic_name_valid(const char *t)
{
    size_t n = strlen(t);
    if (n == 0 || n > MAX_TOPIC_LEN || strcmp(t, ".") == 0 || strcmp(t, "..") == 0)
        return false;
    return strspn(t, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

/* Parses a partition directory name "<topic>-<index>"; 0 or -1. */
static int parse_partition_dir(const char *name, char *topic, size_t cap, int32_t *index)
{
    const char *dash = strrchr(name, '-');
    if (!dash || dash == name || dash[1] == '\0' || (size_t)(dash - name) >= cap)
        return -1;
    int64_t v = 0;
    for (const char *c = dash + 1; *c; c++) {
        if (*c < '0' || *c > '9' || v > INT32_MAX / 10)
            return -1;
        v = v * 10 + (*c - '0');
    }
    if (v > INT32_MAX)
        return -1;
    memcpy(topic, name, (size_t)(dash - name));
    topic[dash - name] = '\0';
    *index = (int32_t)v;
    return topic_name_valid(topic) ? 0 : -1;
}

/* `which`: 0 recovery points, 1 log start offsets, 2 cleaner offsets. */
static void apply_checkpoint(sk_logstore *s, const char *file, int which)
{
    sk_checkpoint_entry *e = NULL;
    char *path = sk_path_join(s->dir, file);
    int n = path ? sk_checkpoint_read(path, &e) : 0;
    free(path);
    for (int i = 0; i < n; i++) {
        sk_partition *p = sk_logstore_find(s, e[i].topic, e[i].partition);
        if (!p)
            continue;
        if (which == 1) {
            p->log_start_offset = e[i].offset;
            p->log_start_checkpointed = true;
        } else if (which == 2) {
            p->cleaner_offset = e[i].offset;
        } else {
            p->recovery_point = e[i].offset;
        }
    }
    sk_checkpoint_entries_free(e, n);
}

/* Lists the log directory: partitions (with their topic's settings from
 * `opts`), leftovers to remove. */
static int scan_log_dir(sk_logstore *s, const sk_logstore_opts *opts)
{
    DIR *d = opendir(s->dir);
    if (!d) {
        sk_error("log", "opendir %s: %m", s->dir);
        return -1;
    }
    struct dirent *de;
    char topic[MAX_TOPIC_LEN + 1];
    int32_t index;
    while ((de = readdir(d)) != NULL) {
        const char *name = de->d_name;
        if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
            continue;
        char *path = sk_path_join(s->dir, name);
        struct stat st;
        if (!path || stat(path, &st) < 0) {
            free(path);
            continue;
        }
        size_t n = strlen(name);
        if (!S_ISDIR(st.st_mode)) {
            if (n > 4 && strcmp(name + n - 4, ".tmp") == 0)
                unlink(path);
            free(path);
            continue;
        }
        if (n > strlen(SK_DELETE_DIR_SUFFIX) &&
            strcmp(name + n - strlen(SK_DELETE_DIR_SUFFIX), SK_DELETE_DIR_SUFFIX) == 0) {
            sk_logstore_delete_tree_later(s, path, NULL, 0, 0);
            continue;
        } else if (parse_partition_dir(name, topic, sizeof topic, &index) == 0 && !sk_logstore_find(s, topic, index)) {
            sk_partition *p = sk_partition_new(s, topic, index);
            if (p) {
                if (opts && opts->topic_config && !opts->topic_config(opts->topic_config_arg, topic, &p->cfg))
                    p->cfg = s->defaults;
                sk_logstore_insert(s, p);
            }
        }
        free(path);
    }
    closedir(d);
    return 0;
}

static void load_for_recovery(sk_partition *p, void *arg)
{
    (void)arg;
    sk_partition_load(p, true);
}

sk_logstore *sk_logstore_open(const char *dir, struct event_base *base, const sk_config *cfg,
                              const sk_logstore_opts *opts)
{
    sk_logstore *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->dir = strdup(dir);
    if (!s->dir || sk_htab_reserve(&s->partitions, 64) < 0)
        goto fail;
    size_t n = strlen(s->dir);
    while (n > 1 && s->dir[n - 1] == '/')
        s->dir[--n] = '\0';
    s->base = base;
    s->now_ms = opts && opts->now_ms ? opts->now_ms : sk_logstore_wall_clock_ms;
    s->clock_arg = opts ? opts->clock_arg : NULL;
    sk_log_config_from_broker(&s->defaults, cfg);
    s->retention_check_ms = cfg->log_retention_check_interval_ms;
    s->producer_expiration_ms = cfg->producer_id_expiration_ms;
    s->producer_check_ms = cfg->producer_id_expiration_check_interval_ms;
    if (opts && opts->bg) {
        s->bg = opts->bg;
    } else {
        s->bg = sk_bg_new(base);
        s->own_bg = true;
    }
    if (!s->bg)
        goto fail;
    if (sk_mkdirs(s->dir) < 0) {
        sk_error("log", "cannot create %s: %m", s->dir);
        goto fail;
    }

    char *marker = sk_path_join(s->dir, SK_CLEAN_SHUTDOWN_FILE);
    if (!marker)
        goto fail;
    bool clean = access(marker, F_OK) == 0;
    s->recover_on_load = !clean;
    if (scan_log_dir(s, opts) < 0) {
        free(marker);
        goto fail;
    }
    apply_checkpoint(s, SK_RECOVERY_POINT_FILE, 0);
    apply_checkpoint(s, SK_LOG_START_FILE, 1);
    apply_checkpoint(s, SK_CLEANER_OFFSET_FILE, 2);
    /* The marker must be gone before the first append: a crash from now on
     * is an unclean stop. */
    if (clean && (unlink(marker) < 0 || sk_fsync_dir(s->dir) < 0)) {
        sk_error("log", "cannot remove %s: %m", marker);
        free(marker);
        goto fail;
    }
    free(marker);
    size_t count = s->partitions.count;
    if (count > 0)
        sk_info("log", "%s: %zu partition%s after %s shutdown, %s", s->dir, count, count == 1 ? "" : "s",
                clean ? "a clean" : "an unclean", clean ? "loading on first use" : "recovering now");
    if (!clean)
        sk_logstore_foreach(s, load_for_recovery, NULL);

    s->retention_ev = arm_timer(s, s->retention_check_ms, on_retention_timer);
    int64_t flush_every =
        s->defaults.flush_ms > 0 && s->defaults.flush_ms < SK_FLUSH_CHECK_MS ? s->defaults.flush_ms : SK_FLUSH_CHECK_MS;
    s->flush_ev = arm_timer(s, flush_every, on_flush_timer);
    s->checkpoint_ev = arm_timer(s, SK_CHECKPOINT_INTERVAL_MS, on_checkpoint_timer);
    s->producers_ev = arm_timer(s, s->producer_check_ms, on_producers_timer);
    if (sk_cleaner_start(s, cfg) < 0)
        sk_error("log", "%s: cannot start the log cleaner", s->dir);
    return s;
fail:
    if (s->bg && s->own_bg)
        sk_bg_free(s->bg);
    sk_htab_free(&s->partitions);
    free(s->dir);
    free(s);
    return NULL;
}

/* ---- Close ---- */

static void close_segments(sk_partition *p, void *arg)
{
    (void)arg;
    if (p->loaded && p->nsegs > 0) {
        sk_segment_deactivate(p->segs[p->nsegs - 1]);
        /* The snapshot at the log end offset makes the next load read no
         * batch (Kafka's clean-shutdown snapshot). */
        sk_partition_snapshot_producers(p, false);
    }
}

static void mark_flushed(sk_partition *p, void *arg)
{
    (void)arg;
    if (p->loaded)
        p->recovery_point = p->log_end_offset;
}

/* One syncfs for the whole store instead of an fsync per file: every log,
 * trimmed index and directory entry is durable when it returns. */
static int sync_all(const sk_logstore *s)
{
    int fd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = syncfs(fd);
    close(fd);
    return rc;
}

static void close_listeners(sk_partition *p, void *arg)
{
    (void)arg;
    sk_partition_fire_listeners(p, NULL);
}

static void free_partition(sk_partition *p, void *arg)
{
    (void)arg;
    p->deleted = true;
    sk_partition_unref(p);
}

static void store_free(sk_logstore *s)
{
    sk_logstore_foreach(s, free_partition, NULL);
    sk_cleaner_free(s);
    if (s->own_bg)
        sk_bg_free(s->bg);
    sk_htab_free(&s->partitions);
    free(s->dir);
    free(s);
}

void sk_logstore_close(sk_logstore *s)
{
    if (!s)
        return;
    stop_timers(s);
    sk_logstore_foreach(s, close_listeners, NULL);
    sk_logstore_deletes_now(s);
    sk_bg_drain(s->bg);
    sk_logstore_foreach(s, close_segments, NULL);
    if (sync_all(s) == 0)
        sk_logstore_foreach(s, mark_flushed, NULL);
    else
        sk_error("log", "syncfs %s: %m; recovery points stay where they were", s->dir);

    sk_logstore_checkpoint_now(s);
    char *marker = sk_path_join(s->dir, SK_CLEAN_SHUTDOWN_FILE);
    if (!marker || sk_file_write_atomic(marker, CLEAN_SHUTDOWN_CONTENT, strlen(CLEAN_SHUTDOWN_CONTENT)) < 0)
        sk_error("log", "cannot write the clean shutdown marker in %s: %m", s->dir);
    free(marker);
    sk_info("log", "%s: closed cleanly", s->dir);
    store_free(s);
}

void sk_logstore_close_unclean(sk_logstore *s)
{
    if (!s)
        return;
    stop_timers(s);
    sk_bg_drain(s->bg);
    sk_logstore_deletes_drop(s);
    store_free(s);
}

/* ---- Partitions: create, delete, topic id ---- */

int16_t sk_logstore_create_partition(sk_logstore *s, const char *topic, int32_t index, const uint8_t topic_id[16],
                                     const sk_log_config *cfg, sk_partition **out)
{
    *out = NULL;
    if (!topic_name_valid(topic) || index < 0)
        return SK_ERR_INVALID_TOPIC_EXCEPTION;
    sk_partition *p = sk_logstore_find(s, topic, index);
    if (p) {
        *out = p;
        return SK_ERR_TOPIC_ALREADY_EXISTS;
    }
    p = sk_partition_new(s, topic, index);
    if (!p)
        return SK_ERR_KAFKA_STORAGE_ERROR;
    if (cfg)
        p->cfg = *cfg;
    if (mkdir(p->dir, 0755) < 0) {
        /* A directory left by someone else: adopt what is there. */
        if (errno != EEXIST || sk_partition_load(p, false) < 0)
            goto fail;
    } else if (sk_partition_init_empty(p) < 0) {
        goto fail;
    }
    if (topic_id) {
        memcpy(p->topic_id, topic_id, 16);
        p->topic_id_state = SK_TOPIC_ID_KNOWN;
        size_t len;
        char *text = sk_partition_metadata_render(topic_id, &len);
        if (text)
            sk_partition_write_later(p, SK_PARTITION_METADATA_FILE, text, len);
        else
            sk_error("log", "cannot write %s/%s: out of memory", p->dir, SK_PARTITION_METADATA_FILE);
    } else {
        p->topic_id_state = SK_TOPIC_ID_NONE;
    }
    sk_logstore_insert(s, p);
    *out = p;
    return SK_ERR_NONE;
fail:
    sk_error("log", "cannot create partition %s-%" PRId32 ": %m", topic, index);
    sk_partition_unref(p);
    return SK_ERR_KAFKA_STORAGE_ERROR;
}

int16_t sk_logstore_delete_partition(sk_logstore *s, sk_partition *p)
{
    uint8_t rnd[16];
    char hex[33];
    size_t n = strlen(s->dir) + strlen(p->topic) + 64;
    char *dead = malloc(n);
    if (!dead || sk_uuid_random(rnd) < 0) {
        free(dead);
        return SK_ERR_KAFKA_STORAGE_ERROR;
    }
    for (int i = 0; i < 16; i++)
        snprintf(hex + 2 * i, 3, "%02x", rnd[i]);
    snprintf(dead, n, "%s/%s-%" PRId32 ".%s%s", s->dir, p->topic, p->index, hex, SK_DELETE_DIR_SUFFIX);
    if (rename(p->dir, dead) < 0) {
        sk_error("log", "rename %s: %m", p->dir);
        free(dead);
        return SK_ERR_KAFKA_STORAGE_ERROR;
    }
    sk_info("log", "%s: deleted (renamed to %s)", p->dir, dead);
    sk_htab_remove(&s->partitions, &p->node);
    p->deleted = true;
    sk_partition_fire_listeners(p, NULL);

    sk_segment_file **files = calloc(p->nsegs + 1, sizeof *files);
    size_t nfiles = 0;
    for (size_t i = 0; files && i < p->nsegs; i++) {
        if (p->segs[i]->file) {
            files[nfiles++] = p->segs[i]->file;
            p->segs[i]->file = NULL;
        }
    }
    sk_partition_free_segments(p);
    sk_logstore_delete_tree_later(s, dead, files, nfiles, p->cfg.file_delete_delay_ms);
    sk_partition_unref(p);
    return SK_ERR_NONE;
}

bool sk_partition_read_topic_id(sk_partition *p, uint8_t out[16])
{
    if (p->topic_id_state == SK_TOPIC_ID_UNREAD) {
        char *path = sk_path_join(p->dir, SK_PARTITION_METADATA_FILE);
        char *text = path ? sk_file_read_all(path, 4096, NULL) : NULL;
        bool known = text && sk_partition_metadata_parse(text, p->topic_id) == 0;
        p->topic_id_state = known ? SK_TOPIC_ID_KNOWN : SK_TOPIC_ID_NONE;
        if (text && p->topic_id_state == SK_TOPIC_ID_NONE)
            sk_warn("log", "%s is malformed", path);
        free(text);
        free(path);
    }
    if (p->topic_id_state == SK_TOPIC_ID_KNOWN)
        memcpy(out, p->topic_id, 16);
    return p->topic_id_state == SK_TOPIC_ID_KNOWN;
}
