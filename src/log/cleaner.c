/*
 * The log cleaner on the loop thread (Kafka's LogCleanerManager and the
 * swap half of LogCleaner): every log.cleaner.backoff.ms it picks the
 * dirtiest compacted log, copies what a pass needs into a job for the
 * cleaner's worker thread (cleaner_pass.c), and when the pass is done swaps
 * the cleaned segments in, Kafka's way: `.cleaned` -> `.swap`, the old
 * segments renamed `.deleted` (unlinked after file.delete.delay.ms; slices
 * read from them stay valid), `.swap` -> the final names. A crash anywhere
 * leaves files sk_cleaner_recover_swaps finishes at the next load.
 *
 * The cleanable part of a log (LogCleanerManager.cleanableOffsets): from the
 * first dirty offset (cleaner-offset-checkpoint, else the log start offset)
 * up to the first uncleanable offset, the smallest of the active segment's
 * base, the last stable offset and the base of the first segment holding a
 * record newer than min.compaction.lag.ms; only whole segments below it are
 * cleaned. A log is chosen when its dirty ratio (dirty bytes over clean +
 * dirty bytes) passes min.cleanable.dirty.ratio, or when its first dirty
 * batch is older than max.compaction.lag.ms; the largest ratio first.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "log_int.h"
#include "skiff/compress.h"
#include "skiff/errors.h"
#include "skiff/trace.h"

#define DEFAULT_IO_BUFFER_BYTES (512 * 1024) /* log.cleaner.io.buffer.size's default */

typedef struct sk_cleaner sk_cleaner;

struct sk_cleaner {
    sk_logstore *store;             /* the store it cleans */
    struct event *timer;            /* every log.cleaner.backoff.ms; NULL once stopped */
    int64_t dedupe_buffer_bytes;    /* log.cleaner.dedupe.buffer.size */
    size_t io_buffer_bytes;         /* log.cleaner.io.buffer.size */
    double io_max_bytes_per_second; /* log.cleaner.io.max.bytes.per.second */
    bool running;                   /* a pass is in flight (one cleaner thread) */
    atomic_bool stop;               /* the store is closing: a pass in flight gives up */
    sk_cleaner_stats stats;         /* totals since start (sk_logstore_cleaner_stats) */
};

/* ---- Choosing a log ---- */

typedef struct cleanable {
    int64_t first_dirty;              /* first offset not cleaned yet */
    size_t nsegs;                     /* segments [0, nsegs) lie below the first uncleanable offset */
    int64_t dirty_bytes, clean_bytes; /* bytes of the chosen segments from first_dirty on, and below it */
    double ratio;                     /* dirty / (clean + dirty) */
    bool forced;                      /* max.compaction.lag.ms passed */
} cleanable;

/* Fills `c` for a loaded compacted partition. False when nothing is cleanable. */
static bool find_cleanable(sk_partition *p, int64_t now, cleanable *c)
{
    memset(c, 0, sizeof *c);
    c->first_dirty = p->cleaner_offset;
    if (c->first_dirty < p->log_start_offset || c->first_dirty > p->log_end_offset)
        c->first_dirty = p->log_start_offset;
    int64_t uncleanable = sk_partition_last_stable_offset(p);
    int64_t active = p->segs[p->nsegs - 1]->base_offset;
    if (active < uncleanable)
        uncleanable = active;
    for (size_t i = sk_partition_find_segment(p, c->first_dirty); i + 1 < p->nsegs; i++) {
        if (p->segs[i]->base_offset >= uncleanable || p->cfg.min_compaction_lag_ms <= 0)
            break;
        if (sk_partition_ensure_segment(p, i) < 0)
            return false;
        int64_t lag;
        if (!__builtin_sub_overflow(now, sk_segment_largest_timestamp(p->segs[i]), &lag) &&
            lag < p->cfg.min_compaction_lag_ms) {
            uncleanable = p->segs[i]->base_offset;
            break;
        }
    }
    while (c->nsegs + 1 < p->nsegs && sk_partition_segment_end(p, c->nsegs) <= uncleanable)
        c->nsegs++;
    size_t first_dirty_seg = c->nsegs;
    for (size_t i = 0; i < c->nsegs; i++) {
        if (sk_partition_segment_end(p, i) <= c->first_dirty) {
            c->clean_bytes += p->segs[i]->size;
        } else {
            c->dirty_bytes += p->segs[i]->size;
            if (first_dirty_seg == c->nsegs)
                first_dirty_seg = i;
        }
    }
    if (c->dirty_bytes == 0)
        return false;
    c->ratio = (double)c->dirty_bytes / (double)(c->dirty_bytes + c->clean_bytes);
    sk_segment *seg = p->segs[first_dirty_seg];
    sk_batch b;
    int64_t waited;
    if (p->cfg.max_compaction_lag_ms < INT64_MAX && sk_segment_open(seg) == 0 &&
        sk_segment_read_header(seg, 0, &b) == 0 && b.max_timestamp > 0 &&
        !__builtin_sub_overflow(now, b.max_timestamp, &waited) && waited > p->cfg.max_compaction_lag_ms)
        c->forced = true;
    return true;
}

typedef struct choose_ctx {
    int64_t now;        /* clock, ms */
    sk_partition *best; /* the dirtiest log so far, or NULL */
    cleanable best_c;   /* what is cleanable in it */
} choose_ctx;

static void consider(sk_partition *p, void *arg)
{
    choose_ctx *ctx = arg;
    cleanable c;
    if (!p->cfg.compact || p->cleaning || p->uncleanable || p->deleted ||
        sk_partition_ensure_loaded(p) != SK_ERR_NONE || !find_cleanable(p, ctx->now, &c))
        return;
    if (!c.forced && c.ratio <= p->cfg.min_cleanable_ratio)
        return;
    if (!ctx->best || c.ratio > ctx->best_c.ratio) {
        ctx->best = p;
        ctx->best_c = c;
    }
}

/* ---- Jobs ---- */

static void job_free(sk_clean_job *job)
{
    for (size_t i = 0; i < job->nsegs; i++)
        sk_segment_file_unref(job->segs[i].file);
    free(job->segs);
    free(job->aborted);
    free(job->producers);
    free(job->groups);
    free(job->dir);
    sk_partition_unref(job->p);
    free(job);
}

static int cmp_aborted(const void *a, const void *b)
{
    const sk_aborted_txn *x = a, *y = b;
    return (x->first_offset > y->first_offset) - (x->first_offset < y->first_offset);
}

static int cmp_producer(const void *a, const void *b)
{
    const sk_clean_producer *x = a, *y = b;
    return (x->producer_id > y->producer_id) - (x->producer_id < y->producer_id);
}

/* Copies what the pass needs. NULL when out of memory or a file cannot be opened. */
static sk_clean_job *job_new(sk_cleaner *cl, sk_partition *p, const cleanable *c)
{
    sk_clean_job *job = calloc(1, sizeof *job);
    if (!job)
        return NULL;
    job->p = p;
    p->refs++;
    job->dir = strdup(p->dir);
    job->cfg = p->cfg;
    job->first_dirty = c->first_dirty;
    job->now_ms = sk_logstore_now(p->store);
    job->started_ms = job->now_ms;
    job->delete_retention_ms = p->cfg.delete_retention_ms;
    job->dedupe_buffer_bytes = cl->dedupe_buffer_bytes;
    job->io_buffer_bytes = cl->io_buffer_bytes;
    job->io_max_bytes_per_second = cl->io_max_bytes_per_second;
    job->stop = &cl->stop;
    job->decompress_cap = sk_decompress_cap(p->cfg.max_message_bytes);
    job->dirty_ratio = c->ratio;
    job->end_offset = -1;
    job->segs = calloc(c->nsegs, sizeof *job->segs);
    if (!job->dir || !job->segs)
        goto fail;
    for (size_t i = 0; i < c->nsegs; i++) {
        sk_segment *seg = p->segs[i];
        if (sk_segment_open(seg) < 0)
            goto fail;
        job->segs[i] = (sk_clean_seg){seg->base_offset, sk_partition_segment_end(p, i), seg->size, seg->mtime_ms,
                                      sk_segment_file_ref(seg->file)};
        job->nsegs++;
    }
    int64_t end = job->upper_bound = job->segs[c->nsegs - 1].end;
    size_t cap = 0;
    for (size_t i = 0; i < p->nsegs; i++) {
        sk_segment *seg = p->segs[i];
        if (sk_txn_index_load(seg) < 0)
            goto fail;
        for (size_t k = 0; k < seg->naborted; k++) {
            if (seg->aborted[k].first_offset >= end)
                continue;
            if (job->naborted == cap) {
                cap = cap ? cap * 2 : 8;
                sk_aborted_txn *a = realloc(job->aborted, cap * sizeof *a);
                if (!a)
                    goto fail;
                job->aborted = a;
            }
            job->aborted[job->naborted++] = seg->aborted[k];
        }
    }
    if (job->naborted > 1)
        qsort(job->aborted, job->naborted, sizeof *job->aborted, cmp_aborted);
    if (p->producers.table.count > 0) {
        job->producers = calloc(p->producers.table.count, sizeof *job->producers);
        if (!job->producers)
            goto fail;
        size_t bucket;
        for (sk_hnode *n = sk_htab_next(&p->producers.table, NULL, &bucket); n;
             n = sk_htab_next(&p->producers.table, n, &bucket)) {
            const sk_producer_entry *e = SK_CONTAINER_OF(n, sk_producer_entry, node);
            job->producers[job->nproducers++] = (sk_clean_producer){
                .producer_id = e->producer_id,
                .last_data_offset = e->nbatches ? e->batches[e->nbatches - 1].last_offset : -1,
                .producer_epoch = e->producer_epoch,
            };
        }
        qsort(job->producers, job->nproducers, sizeof *job->producers, cmp_producer);
    }
    return job;
fail:
    sk_error("cleaner", "%s: cannot prepare a cleaning pass", p->dir);
    job_free(job);
    return NULL;
}

/* Swaps group `g` in (Kafka's LocalLog.replaceSegments). False when the
 * segments changed under the pass (retention, DeleteRecords): the cleaned
 * files are dropped then. */
static bool swap_group(sk_partition *p, sk_clean_job *job, const sk_clean_group *g)
{
    const sk_clean_seg *js = &job->segs[g->first];
    int64_t base = js->base;
    size_t i = sk_partition_find_segment(p, base);
    bool same = i + g->count < p->nsegs;
    for (size_t k = 0; same && k < g->count; k++)
        same = p->segs[i + k]->base_offset == js[k].base && p->segs[i + k]->file == js[k].file;
    sk_segment *seg = same ? sk_segment_new(p->dir, base) : NULL;
    char from[4200], to[4200];
    sk_offset_file_path(from, sizeof from, p->dir, base, ".log", SK_CLEANED_SUFFIX);
    sk_offset_file_path(to, sizeof to, p->dir, base, ".log", SK_SWAP_SUFFIX);
    if (!seg || rename(from, to) < 0) {
        if (seg)
            sk_error("cleaner", "rename %s: %m", from);
        sk_segment_free(seg);
        sk_clean_group_unlink(job->dir, base);
        return false;
    }
    for (size_t k = 1; k < SK_SEGMENT_FILES; k++) {
        sk_offset_file_path(from, sizeof from, p->dir, base, sk_segment_suffixes[k], SK_CLEANED_SUFFIX);
        sk_offset_file_path(to, sizeof to, p->dir, base, sk_segment_suffixes[k], SK_SWAP_SUFFIX);
        if (rename(from, to) < 0 && errno != ENOENT)
            sk_error("cleaner", "rename %s: %m", from);
    }
    sk_partition_retire_segments(p, i, g->count, false);
    for (size_t k = 0; k < SK_SEGMENT_FILES; k++) {
        sk_offset_file_path(from, sizeof from, p->dir, base, sk_segment_suffixes[k], SK_SWAP_SUFFIX);
        sk_offset_file_path(to, sizeof to, p->dir, base, sk_segment_suffixes[k], "");
        if (rename(from, to) < 0 && errno != ENOENT)
            sk_error("cleaner", "rename %s: %m", from);
    }
    seg->size = g->size;
    seg->mtime_ms = js[g->count - 1].mtime_ms;
    p->segs[i] = seg;
    memmove(p->segs + i + 1, p->segs + i + g->count, (p->nsegs - i - g->count) * sizeof *p->segs);
    p->nsegs -= g->count - 1;
    p->dir_dirty = true;
    sk_partition_check(p);
    return true;
}

static void pass_done(void *arg)
{
    sk_clean_job *job = arg;
    sk_partition *p = job->p;
    sk_logstore *s = p->store;
    sk_cleaner *cl = s->cleaner;
    int64_t ms = sk_logstore_now(s) - job->started_ms;
    p->cleaning = false;
    if (cl) {
        cl->running = false;
        cl->stats.passes++;
        cl->stats.bytes_read += job->stats.bytes_read;
        cl->stats.bytes_written += job->stats.bytes_written;
        cl->stats.records_read += job->stats.records_read;
        cl->stats.records_removed += job->stats.records_read - job->stats.records_kept;
        cl->stats.last_pass_ms = ms;
        cl->stats.last_dirty_ratio = job->dirty_ratio;
    }
    size_t swapped = 0;
    for (size_t i = 0; i < job->groups_written; i++) {
        if (p->deleted)
            sk_clean_group_unlink(job->dir, job->segs[job->groups[i].first].base);
        else if (swap_group(p, job, &job->groups[i]))
            swapped++;
    }
    if (!p->deleted && job->end_offset >= 0 && swapped == job->ngroups) {
        p->cleaner_offset = job->end_offset;
        sk_logstore_checkpoint(s);
        sk_info("cleaner",
                "%s: cleaned offsets below %" PRId64 " (dirty ratio %.2f) in %" PRId64 " ms: %" PRId64
                " bytes read, %" PRId64 " written, %" PRId64 " records read, %" PRId64 " kept, %zu segment%s",
                p->dir, job->end_offset, job->dirty_ratio, ms, job->stats.bytes_read, job->stats.bytes_written,
                job->stats.records_read, job->stats.records_kept, swapped, swapped == 1 ? "" : "s");
    } else if (!p->deleted && job->failed) {
        p->uncleanable = true;
        sk_error("cleaner", "%s: cleaning failed; the log is not cleaned again until restart", p->dir);
    } else if (!p->deleted && job->stopped) {
        sk_info("cleaner", "%s: cleaning stopped for shutdown", p->dir);
    } else if (!p->deleted) {
        sk_warn("cleaner", "%s: cleaning pass incomplete (%zu of %zu groups swapped in)", p->dir, swapped,
                job->ngroups);
    }
    job_free(job);
}

static bool start_pass(sk_cleaner *cl, sk_partition *p, const cleanable *c)
{
    sk_clean_job *job = job_new(cl, p, c);
    if (!job)
        return false;
    if (sk_bg_submit(p->store->bg, SK_BG_CLEAN, sk_clean_job_run, pass_done, job) < 0) {
        job_free(job);
        return false;
    }
    p->cleaning = true;
    cl->running = true;
    sk_info("cleaner", "%s: cleaning offsets %" PRId64 " to %" PRId64 " (dirty ratio %.2f%s)", p->dir, c->first_dirty,
            job->upper_bound, c->ratio, c->forced ? ", max.compaction.lag.ms passed" : "");
    return true;
}

static void on_cleaner_timer(evutil_socket_t fd, short what, void *arg)
{
    sk_cleaner *cl = arg;
    (void)fd;
    (void)what;
    if (cl->running)
        return;
    choose_ctx ctx = {.now = sk_logstore_now(cl->store)};
    sk_logstore_foreach(cl->store, consider, &ctx);
    if (ctx.best)
        start_pass(cl, ctx.best, &ctx.best_c);
}

int sk_logstore_clean_now(sk_partition *p)
{
    sk_cleaner *cl = p->store->cleaner;
    cleanable c;
    if (!cl || cl->running || !p->cfg.compact || p->deleted || sk_partition_ensure_loaded(p) != SK_ERR_NONE ||
        !find_cleanable(p, sk_logstore_now(p->store), &c))
        return 0;
    p->uncleanable = false; /* asked for by hand: try again */
    return start_pass(cl, p, &c) ? 1 : -1;
}

void sk_logstore_cleaner_stats(const sk_logstore *s, sk_cleaner_stats *out)
{
    memset(out, 0, sizeof *out);
    out->last_pass_ms = -1;
    if (s->cleaner) {
        *out = s->cleaner->stats;
        out->running = s->cleaner->running;
    }
}

int sk_cleaner_start(sk_logstore *s, const sk_config *cfg)
{
    sk_cleaner *cl = calloc(1, sizeof *cl);
    if (!cl)
        return -1;
    cl->store = s;
    atomic_init(&cl->stop, false);
    cl->stats.last_pass_ms = -1;
    cl->dedupe_buffer_bytes = cfg->log_cleaner_dedupe_buffer_size;
    cl->io_buffer_bytes =
        cfg->log_cleaner_io_buffer_size > 0 ? (size_t)cfg->log_cleaner_io_buffer_size : DEFAULT_IO_BUFFER_BYTES;
    cl->io_max_bytes_per_second =
        cfg->log_cleaner_io_max_bytes_per_second ? strtod(cfg->log_cleaner_io_max_bytes_per_second, NULL) : 0;
    if (!(cl->io_max_bytes_per_second > 0))
        cl->io_max_bytes_per_second = DBL_MAX; /* Kafka's default: Double.MAX_VALUE, no throttling */
    if (cfg->log_cleaner_enable && s->base) {
        int64_t every = cfg->log_cleaner_backoff_ms > 0 ? cfg->log_cleaner_backoff_ms : 1;
        cl->timer = event_new(s->base, -1, EV_PERSIST, on_cleaner_timer, cl);
        struct timeval tv = {.tv_sec = (time_t)(every / 1000), .tv_usec = (suseconds_t)(every % 1000) * 1000};
        if (!cl->timer || event_add(cl->timer, &tv) < 0) {
            if (cl->timer)
                event_free(cl->timer);
            free(cl);
            return -1;
        }
    }
    s->cleaner = cl;
    return 0;
}

void sk_cleaner_stop(sk_logstore *s)
{
    if (s->cleaner)
        atomic_store(&s->cleaner->stop, true);
    if (s->cleaner && s->cleaner->timer) {
        event_free(s->cleaner->timer);
        s->cleaner->timer = NULL;
    }
}

void sk_cleaner_free(sk_logstore *s)
{
    sk_cleaner_stop(s);
    free(s->cleaner);
    s->cleaner = NULL;
}
