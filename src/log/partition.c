/*
 * A partition's log (Kafka's UnifiedLog + LocalLog for one replica): the
 * ordered segments, the log start offset, log end offset (= high watermark)
 * and recovery point. This file loads a partition from its directory (with
 * recovery after an unclean stop), validates and appends batches (with the
 * producer checks of producer_state.c), rolls segments, schedules fsyncs on
 * the background worker, and answers reads and offset-by-timestamp lookups.
 * The partition object and its segment array are in partition_segs.c;
 * retention and DeleteRecords in retention.c; the directory-level work in
 * logstore.c; producer state in producer_state.c and producer_snapshot.c;
 * markers, the last stable offset and aborted transactions in
 * partition_txn.c and txn_index.c.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log_int.h"
#include "skiff/invariant.h"
#include "skiff/errors.h"
#include "skiff/fsutil.h"
#include "skiff/trace.h"

static sk_segment *active_seg(const sk_partition *p)
{
    return p->segs[p->nsegs - 1];
}

/* ---- Loading and recovery ---- */

/* Lists the directory: segments by base offset (size and mtime from stat),
 * leftover *.deleted files queued for unlinking, *.tmp and *.cleaned removed. */
static int list_segments(sk_partition *p)
{
    DIR *d = opendir(p->dir);
    if (!d) {
        sk_error("log", "opendir %s: %m", p->dir);
        return -1;
    }
    int64_t *bases = NULL;
    size_t n = 0, cap = 0;
    char **dead = NULL;
    size_t ndead = 0;
    struct dirent *de;
    char path[4096];
    int rc = 0;
    while ((de = readdir(d)) != NULL) {
        const char *name = de->d_name;
        snprintf(path, sizeof path, "%s/%s", p->dir, name);
        if (sk_has_suffix(name, SK_DELETED_SUFFIX)) {
            char **a = realloc(dead, (ndead + 1) * sizeof *a);
            if (a && (a[ndead] = strdup(path)) != NULL) {
                dead = a;
                ndead++;
            } else if (a) {
                dead = a;
            }
            continue;
        }
        if (sk_has_suffix(name, ".tmp") || sk_has_suffix(name, ".cleaned")) {
            unlink(path);
            continue;
        }
        int64_t base = sk_offset_file_name(name, ".log");
        /* Index entries hold int32 offsets relative to the base: a base this
         * close to the int64 limit is not a segment's (base + delta overflows). */
        if (base < 0 || base > INT64_MAX - INT32_MAX)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 8;
            int64_t *a = realloc(bases, cap * sizeof *a);
            if (!a) {
                rc = -1;
                break;
            }
            bases = a;
        }
        bases[n++] = base;
    }
    closedir(d);
    if (ndead)
        sk_logstore_delete_later(p->store, dead, ndead, NULL, 0, 0);
    else
        free(dead);
    if (rc == 0 && n > 1) /* bases is NULL when there is no segment */
        qsort(bases, n, sizeof *bases, sk_offset_cmp);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        sk_segment *seg = sk_segment_new(p->dir, bases[i]);
        struct stat st;
        if (!seg || sk_partition_push_segment(p, seg) < 0) {
            sk_segment_free(seg);
            rc = -1;
            break;
        }
        sk_segment_path(seg, ".log", path, sizeof path);
        if (stat(path, &st) < 0) {
            sk_error("log", "stat %s: %m", path);
            rc = -1;
            break;
        }
        seg->size = st.st_size;
        seg->mtime_ms = (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
    }
    free(bases);
    return rc;
}

/* Removes segments from `from` on, files and all (they follow a truncation). */
static void drop_segments_from(sk_partition *p, size_t from)
{
    char path[4096];
    for (size_t i = from; i < p->nsegs; i++) {
        sk_warn("log", "%s: deleting segment %" PRId64 " after a truncated one", p->dir, p->segs[i]->base_offset);
        for (size_t k = 0; k <= SK_SEGMENT_FILES; k++) {
            sk_segment_path(p->segs[i], sk_segment_suffixes[k], path, sizeof path);
            unlink(path);
        }
        sk_segment_free(p->segs[i]);
    }
    p->nsegs = from;
}

/* Recovery after an unclean stop (Kafka's LogLoader.recoverLog): every
 * segment from the one holding the recovery point on is scanned; after a
 * truncation the later segments are deleted. */
static int recover_segments(sk_partition *p)
{
    size_t from = 0;
    for (size_t i = 0; i < p->nsegs; i++)
        if (p->segs[i]->base_offset <= p->recovery_point)
            from = i;
    for (size_t i = from; i < p->nsegs; i++) {
        sk_segment *seg = p->segs[i];
        seg->active = i + 1 == p->nsegs;
        int64_t truncated = sk_segment_recover(seg, &p->cfg, seg->base_offset);
        if (truncated < 0)
            return -1;
        bool overlaps = i + 1 < p->nsegs && seg->next_offset > p->segs[i + 1]->base_offset;
        if ((truncated > 0 || overlaps) && i + 1 < p->nsegs) {
            drop_segments_from(p, i + 1);
            /* The truncated segment is now the active one: writable indexes. */
            sk_index_close(&seg->offset_index);
            sk_index_close(&seg->time_index);
            seg->indexes_loaded = false;
            seg->active = true;
            int64_t next = seg->next_offset;
            if (sk_segment_load_indexes(seg, &p->cfg, next) < 0)
                return -1;
            seg->next_offset = next;
        }
    }
    return 0;
}

int sk_partition_init_empty(sk_partition *p)
{
    sk_segment *seg = sk_segment_new(p->dir, p->log_start_offset);
    if (!seg || sk_segment_create(seg, &p->cfg, sk_logstore_now(p->store)) < 0 ||
        sk_partition_push_segment(p, seg) < 0) {
        sk_segment_free(seg);
        return -1;
    }
    p->log_end_offset = p->log_start_offset;
    p->recovery_point = p->log_start_offset;
    p->dir_dirty = true;
    p->loaded = true;
    return 0;
}

int sk_partition_load(sk_partition *p, bool recover)
{
    if (p->loaded)
        return 0;
    if (p->deleted)
        return -1;
    if (sk_cleaner_recover_swaps(p) < 0 || list_segments(p) < 0)
        goto fail;
    if (p->nsegs == 0)
        return sk_partition_init_empty(p);

    sk_segment *act = active_seg(p);
    act->active = true;
    if (recover) {
        if (recover_segments(p) < 0)
            goto fail;
        act = active_seg(p);
    } else if (sk_segment_load_indexes(act, &p->cfg, -1) < 0) {
        goto fail;
    } else if (sk_segment_find_end(act) < 0) {
        sk_warn("log", "%s: active segment does not end with a whole batch, recovering it", act->prefix);
        if (sk_segment_recover(act, &p->cfg, act->base_offset) < 0)
            goto fail;
    }
    act->created_ms = sk_logstore_now(p->store);
    p->log_end_offset = act->next_offset;
    if (p->log_start_offset < p->segs[0]->base_offset)
        p->log_start_offset = p->segs[0]->base_offset;
    if (p->log_start_offset > p->log_end_offset)
        p->log_start_offset = p->log_end_offset;
    p->log_start_checkpointed = false;
    p->loaded = true;
    /* As Kafka's LogLoader: after a clean stop everything is flushed; after
     * recovery the recovery point only moves when the next flush completes
     * (a roll, flush.messages/flush.ms or the clean shutdown). */
    if (!recover || p->recovery_point > p->log_end_offset)
        p->recovery_point = p->log_end_offset;
    if (sk_partition_load_producers(p) < 0) {
        p->loaded = false;
        goto fail;
    }
    sk_partition_check(p);
    return 0;
fail:
    sk_error("log", "%s: cannot load the partition", p->dir);
    sk_partition_free_segments(p);
    return -1;
}

/* ---- Accessors ---- */

int16_t sk_partition_ensure_loaded(sk_partition *p)
{
    return sk_partition_load(p, p->store->recover_on_load) < 0 ? SK_ERR_KAFKA_STORAGE_ERROR : SK_ERR_NONE;
}

/* The offset accessors read a loaded partition only: loading is I/O and can
 * fail, so the caller does it (sk_partition_ensure_loaded) and answers the
 * failure. */
static void assert_loaded(const sk_partition *p)
{
    SK_INVARIANT(p->loaded, p->dir);
}

const char *sk_partition_topic(const sk_partition *p)
{
    return p->topic;
}

int32_t sk_partition_index(const sk_partition *p)
{
    return p->index;
}

const sk_log_config *sk_partition_config(const sk_partition *p)
{
    return &p->cfg;
}

void sk_partition_set_config(sk_partition *p, const sk_log_config *cfg)
{
    p->cfg = *cfg;
}

void sk_partition_set_leader_epoch(sk_partition *p, int32_t epoch)
{
    p->leader_epoch = epoch;
}

int64_t sk_partition_log_start_offset(sk_partition *p)
{
    assert_loaded(p);
    return p->log_start_offset;
}

int64_t sk_partition_high_watermark(sk_partition *p)
{
    assert_loaded(p);
    return p->log_end_offset;
}

int64_t sk_partition_log_end_offset(sk_partition *p)
{
    assert_loaded(p);
    return p->log_end_offset;
}

int64_t sk_partition_recovery_point(sk_partition *p)
{
    assert_loaded(p);
    return p->recovery_point;
}

size_t sk_partition_segment_count(sk_partition *p)
{
    assert_loaded(p);
    return p->nsegs;
}

int64_t sk_partition_size_bytes(sk_partition *p)
{
    int64_t total = 0;
    assert_loaded(p);
    for (size_t i = 0; i < p->nsegs; i++)
        total += p->segs[i]->size;
    return total;
}

/* ---- Listeners ---- */

void sk_partition_listen(sk_partition *p, sk_append_listener *l)
{
    l->next = &p->listeners;
    l->prev = p->listeners.prev;
    l->prev->next = l;
    p->listeners.prev = l;
}

void sk_partition_unlisten(sk_append_listener *l)
{
    if (!l->next)
        return;
    l->prev->next = l->next;
    l->next->prev = l->prev;
    l->next = l->prev = NULL;
}

void sk_partition_fire_listeners(sk_partition *p, const sk_append_info *info)
{
    if (p->listeners.next == &p->listeners)
        return;
    /* Move the armed listeners to a local list: callbacks may re-arm on p. */
    sk_append_listener fired;
    fired.next = p->listeners.next;
    fired.prev = p->listeners.prev;
    fired.next->prev = &fired;
    fired.prev->next = &fired;
    p->listeners.next = p->listeners.prev = &p->listeners;
    p->refs++;
    while (fired.next != &fired) {
        sk_append_listener *l = fired.next;
        sk_partition_unlisten(l);
        l->fn(p, info, l->arg);
    }
    sk_partition_unref(p);
}

/* ---- Flush ---- */

typedef struct flush_job {
    sk_partition *p; /* reference held until flush_done */
    int64_t upto;    /* recovery point once done */
    int *fds;        /* dup'ed descriptors to fsync and close */
    size_t nfds;     /* entries in fds */
    int dirfd;       /* partition directory to fsync (new files), or -1 */
    int err;         /* errno of the first failure */
    double ms;       /* time the fsyncs took (worker thread), ms */
} flush_job;

static void flush_job_free(flush_job *j)
{
    if (j->dirfd >= 0)
        close(j->dirfd);
    free(j->fds);
    free(j);
}

/* On the sync worker; nothing to sync once the partition is deleted. */
static void flush_work(void *arg)
{
    flush_job *j = arg;
    bool deleted = atomic_load(&j->p->deleted);
    struct timespec t0, t1; /* not sk_clock_mono_ms: the fsync histogram's first bucket is 0.5 ms */
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (size_t i = 0; i < j->nfds; i++) {
        if (!deleted && fsync(j->fds[i]) < 0 && !j->err)
            j->err = errno;
        close(j->fds[i]);
    }
    if (!deleted && j->dirfd >= 0 && fsync(j->dirfd) < 0 && !j->err)
        j->err = errno;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    j->ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
}

/* Adds a flush job's latency to the store's fsync histogram. */
static void count_fsync(sk_fsync_stats *st, double ms)
{
    static const double bounds[SK_FSYNC_BUCKETS - 1] = SK_FSYNC_BUCKET_MS;
    int b = 0;
    while (b < SK_FSYNC_BUCKETS - 1 && ms > bounds[b])
        b++;
    st->buckets[b]++;
    st->sum_ms += ms;
    st->count++;
}

const sk_fsync_stats *sk_logstore_fsync_stats(const sk_logstore *s)
{
    return &s->fsync;
}

bool sk_partition_await_flush(sk_partition *p, sk_flush_waiter *w)
{
    if (w->offset <= p->recovery_point || !p->flush_running ||
        (p->flush_running_to < w->offset && p->flush_pending_to < w->offset))
        return false;
    w->next = p->flush_waiters;
    p->flush_waiters = w;
    return true;
}

/* Fires the waiters a finished fsync job (to `upto`, failed when `err`)
 * answers; with a failure every waiter it covered learns it. */
static void fire_flush_waiters(sk_partition *p, int64_t upto, int err)
{
    sk_flush_waiter *w = p->flush_waiters, *keep = NULL, *fire = NULL;
    while (w) {
        sk_flush_waiter *next = w->next;
        /* Done when answered, failed, or when no fsync is coming for it. */
        bool done = p->deleted || !p->flush_running || w->offset <= p->recovery_point || (err && w->offset <= upto);
        w->next = done ? fire : keep;
        if (done)
            fire = w;
        else
            keep = w;
        w = next;
    }
    p->flush_waiters = keep;
    while (fire) {
        w = fire;
        fire = w->next;
        w->next = NULL;
        w->fn(p, !p->deleted && w->offset <= p->recovery_point, w->arg);
    }
}

static void flush_done(void *arg)
{
    flush_job *j = arg;
    sk_partition *p = j->p;
    p->flush_running = false;
    if (p->store)
        count_fsync(&p->store->fsync, j->ms);
    if (!p->deleted) {
        if (j->err) {
            sk_error("log", "%s: fsync failed: %s", p->dir, strerror(j->err));
        } else if (j->upto > p->recovery_point) {
            p->recovery_point = j->upto;
        }
        int64_t again = p->flush_pending_to;
        p->flush_pending_to = -1;
        if (again > p->recovery_point)
            sk_partition_flush_to(p, again);
    }
    fire_flush_waiters(p, j->upto, j->err);
    sk_partition_unref(p);
    flush_job_free(j);
}

static int add_fd(flush_job *j, int fd)
{
    if (fd < 0)
        return 0;
    int d = dup(fd);
    if (d < 0)
        return -1;
    j->fds[j->nfds++] = d;
    return 0;
}

void sk_partition_flush_to(sk_partition *p, int64_t upto)
{
    if (!p->loaded || p->deleted)
        return;
    if (upto > p->log_end_offset)
        upto = p->log_end_offset;
    if (upto <= p->recovery_point && !p->dir_dirty)
        return;
    if (p->flush_running) {
        if (upto > p->flush_pending_to)
            p->flush_pending_to = upto;
        return;
    }
    flush_job *j = calloc(1, sizeof *j);
    if (j)
        j->dirfd = -1;
    if (!j || !(j->fds = calloc(4 * p->nsegs, sizeof *j->fds)))
        goto oom;
    j->p = p;
    j->upto = upto;
    for (size_t i = 0; i < p->nsegs; i++) {
        sk_segment *seg = p->segs[i];
        if (sk_partition_segment_end(p, i) <= p->recovery_point || seg->base_offset >= upto || !seg->file)
            continue;
        if (add_fd(j, seg->file->fd) < 0 || add_fd(j, seg->offset_index.fd) < 0 || add_fd(j, seg->time_index.fd) < 0 ||
            add_fd(j, seg->txn_fd) < 0)
            j->err = errno;
    }
    if (p->dir_dirty && (j->dirfd = sk_dir_open(p->dir)) < 0)
        j->err = errno;
    if (sk_bg_submit(p->store->bg, SK_BG_SYNC, flush_work, flush_done, j) < 0)
        goto oom;
    p->dir_dirty = false;
    p->flush_running = true;
    p->flush_running_to = upto;
    p->refs++;
    if (upto >= p->log_end_offset) {
        p->unflushed_messages = 0;
        p->first_unflushed_ms = -1;
    }
    return;
oom:
    sk_error("log", "%s: cannot schedule an fsync: out of memory", p->dir);
    if (j) {
        for (size_t i = 0; i < j->nfds; i++)
            close(j->fds[i]);
        flush_job_free(j);
    }
}

void sk_partition_flush(sk_partition *p)
{
    if (!p->loaded)
        return; /* nothing was appended since the files were last flushed */
    sk_partition_flush_to(p, p->log_end_offset);
}

/* ---- Roll ---- */

/* Kafka's LogSegment.shouldRoll: by size, by segment.ms, by full indexes, or
 * when the relative offset would overflow. Time is measured as Kafka does
 * (timeWaitedForRoll): from the segment's first batch's max timestamp to the
 * new batches' max timestamp when both exist, else from the segment's
 * creation to now, so appending old CreateTime records does not roll. */
static bool should_roll(const sk_partition *p, const sk_segment *seg, size_t len, int64_t last_offset,
                        int64_t max_timestamp, int64_t now_ms)
{
    if (seg->size == 0)
        return false;
    if (seg->size > p->cfg.segment_bytes - (int64_t)len)
        return true;
    bool by_timestamp = seg->rolling_timestamp >= 0 && max_timestamp >= 0;
    int64_t since = by_timestamp ? seg->rolling_timestamp : seg->created_ms;
    int64_t until = by_timestamp ? max_timestamp : now_ms;
    /* Kafka's LogConfig.maxSegmentMs: a compacted log rolls by
     * max.compaction.lag.ms too, so its records can become cleanable. */
    int64_t roll_ms = p->cfg.segment_ms;
    if (p->cfg.compact && p->cfg.max_compaction_lag_ms > 0 && p->cfg.max_compaction_lag_ms < roll_ms)
        roll_ms = p->cfg.max_compaction_lag_ms;
    int64_t waited;
    if (!__builtin_sub_overflow(until, since, &waited) && waited > roll_ms)
        return true;
    if (sk_index_full(&seg->offset_index) || sk_index_full(&seg->time_index))
        return true;
    return last_offset - seg->base_offset > INT32_MAX;
}

int16_t sk_partition_roll(sk_partition *p)
{
    if (sk_partition_ensure_loaded(p) != SK_ERR_NONE)
        return SK_ERR_KAFKA_STORAGE_ERROR;
    sk_segment *old = active_seg(p);
    if (old->size == 0)
        return SK_ERR_NONE;
    sk_segment *seg = sk_segment_new(p->dir, p->log_end_offset);
    if (!seg || sk_segment_create(seg, &p->cfg, sk_logstore_now(p->store)) < 0 ||
        sk_partition_push_segment(p, seg) < 0) {
        sk_error("log", "%s: cannot roll a new segment at %" PRId64, p->dir, p->log_end_offset);
        sk_segment_free(seg);
        return SK_ERR_KAFKA_STORAGE_ERROR;
    }
    sk_segment_deactivate(old);
    p->dir_dirty = true;
    sk_partition_check(p);
    sk_debug("log", "%s: rolled segment %" PRId64, p->dir, seg->base_offset);
    /* Kafka snapshots the producer state at every roll (start-up then
     * rescans at most the last segments). */
    sk_partition_snapshot_producers(p, true);
    /* Kafka flushes the segment it rolled away from. */
    sk_partition_flush_to(p, seg->base_offset);
    return SK_ERR_NONE;
}

/* ---- Append ---- */

/* Appends under `origin`'s rules; when `errors` is set, a batch refused
 * record by record gets its records named there (KIP-467). */
static int16_t append_records(sk_partition *p, sk_append_origin origin, uint8_t *records, size_t len, int64_t now_ms,
                              sk_append_info *out, sk_record_errors *errors)
{
    if (sk_partition_ensure_loaded(p) != SK_ERR_NONE)
        return SK_ERR_KAFKA_STORAGE_ERROR;
    if (len == 0)
        return SK_ERR_INVALID_RECORD;
    sk_batch_rules rules = sk_log_config_rules(&p->cfg, origin);
    bool log_append_time = p->cfg.timestamp_type == SK_TIMESTAMP_LOG_APPEND_TIME;
    sk_append_info info = {
        .base_offset = p->log_end_offset,
        .log_append_time = log_append_time ? now_ms : -1,
        .max_timestamp = SK_NO_TIMESTAMP,
    };

    /* Validate every batch, check its producer, and assign its offsets in
     * the buffer. */
    sk_producer_append pa = {0};
    int16_t err = SK_ERR_NONE;
    int64_t next = p->log_end_offset;
    for (size_t pos = 0; pos < len;) {
        sk_batch b;
        err = sk_batch_validate(records + pos, len - pos, &rules, now_ms, &b);
        if (errors && (err == SK_ERR_INVALID_RECORD || err == SK_ERR_INVALID_TIMESTAMP))
            err = sk_log_name_record_errors(&p->cfg, origin, records + pos, len - pos, now_ms, err, errors);
        if (err != SK_ERR_NONE)
            goto out;
        int64_t max_ts = log_append_time ? now_ms : b.records_max_timestamp;
        if (b.producer_id >= 0) {
            sk_producer_batch dup;
            err = sk_producer_append_batch(&pa, &p->producers, &b, next, max_ts, origin, false, &dup);
            if (err == SK_ERR_DUPLICATE_SEQUENCE_NUMBER) {
                /* Kafka answers a retried batch with its first append. */
                info = (sk_append_info){
                    .base_offset = dup.first_offset,
                    .last_offset = dup.last_offset,
                    .log_append_time = -1,
                    .log_start_offset = p->log_start_offset,
                    .record_count = dup.last_offset - dup.first_offset + 1,
                    .batch_count = 1,
                    .max_timestamp = dup.timestamp,
                    .duplicate = true,
                };
                if (out)
                    *out = info;
                err = SK_ERR_NONE;
                goto out;
            }
            if (err != SK_ERR_NONE)
                goto out;
        }
        sk_batch_assign(records + pos, b.size, next, p->leader_epoch, p->cfg.timestamp_type, max_ts);
        next += b.record_count;
        info.record_count += b.record_count;
        info.batch_count++;
        if (max_ts > info.max_timestamp)
            info.max_timestamp = max_ts;
        pos += b.size;
    }
    if ((int64_t)len > p->cfg.segment_bytes) {
        err = SK_ERR_RECORD_LIST_TOO_LARGE;
        goto out;
    }

    sk_segment *seg = active_seg(p);
    if (should_roll(p, seg, len, next - 1, info.max_timestamp, now_ms)) {
        err = sk_partition_roll(p);
        if (err != SK_ERR_NONE)
            goto out;
        seg = active_seg(p);
    }
    int64_t start = seg->size;
    if (sk_pwrite_full(seg->file->fd, records, len, start) < 0) {
        sk_error("log", "%s.log: write failed: %m", seg->prefix);
        if (ftruncate(seg->file->fd, (off_t)start) < 0)
            sk_error("log", "%s.log: cannot cut back a failed write: %m", seg->prefix);
        err = SK_ERR_KAFKA_STORAGE_ERROR;
        goto out;
    }
    for (size_t pos = 0; pos < len;) {
        sk_batch b;
        sk_batch_header_parse(&b, records + pos, len - pos);
        sk_segment_index_batch(seg, &p->cfg, start + (int64_t)pos, sk_batch_last_offset(&b), b.max_timestamp,
                               (int64_t)b.size);
        pos += b.size;
    }
    seg->size += (int64_t)len;
    if (seg->size - seg->writeback_from >= SK_WRITEBACK_CHUNK)
        sk_segment_writeback_later(p->store, seg);
    seg->next_offset = next;
    seg->mtime_ms = now_ms;
    p->log_end_offset = next;
    p->unflushed_messages += info.record_count;
    if (p->first_unflushed_ms < 0)
        p->first_unflushed_ms = sk_logstore_now(p->store);
    if (pa.nstaged > 0)
        sk_partition_apply_producers(p, seg, &pa);
    sk_partition_check(p);

    info.last_offset = next - 1;
    info.log_start_offset = p->log_start_offset;
    if (out)
        *out = info;
    if (p->unflushed_messages >= p->cfg.flush_messages)
        sk_partition_flush_to(p, p->log_end_offset);
    sk_partition_fire_listeners(p, &info);
out:
    sk_producer_append_free(&pa);
    return err;
}

int16_t sk_partition_append_origin(sk_partition *p, sk_append_origin origin, uint8_t *records, size_t len,
                                   int64_t now_ms, sk_append_info *out)
{
    return append_records(p, origin, records, len, now_ms, out, NULL);
}

int16_t sk_partition_append(sk_partition *p, uint8_t *records, size_t len, int64_t now_ms, sk_append_info *out)
{
    return append_records(p, SK_APPEND_CLIENT, records, len, now_ms, out, NULL);
}

int16_t sk_partition_append_client(sk_partition *p, int codec, int32_t level, uint8_t *records, size_t len,
                                   int64_t now_ms, sk_append_info *out, sk_record_errors *errors)
{
    sk_batch b;
    if (sk_batch_header_parse(&b, records, len) < 0 || b.size != len)
        return SK_ERR_INVALID_RECORD;
    sk_writer rebuilt;
    sk_writer_init(&rebuilt, 0);
    int16_t err = sk_log_conform_compression(&p->cfg, codec, level, &b, &rebuilt);
    if (err == SK_ERR_INVALID_RECORD)
        err = sk_log_name_record_errors(&p->cfg, SK_APPEND_CLIENT, records, len, now_ms, err, errors);
    else if (err == SK_ERR_NONE && rebuilt.len)
        err = append_records(p, SK_APPEND_CLIENT, rebuilt.buf, rebuilt.len, now_ms, out, errors);
    else if (err == SK_ERR_NONE)
        err = append_records(p, SK_APPEND_CLIENT, records, len, now_ms, out, errors);
    sk_writer_free(&rebuilt);
    return err;
}

/* ---- Read ---- */

void sk_log_slice_release(sk_log_slice *s)
{
    sk_segment_file_unref(s->file);
    s->file = NULL;
    s->position = s->length = 0;
}

int sk_log_slice_copy(const sk_log_slice *s, void *buf)
{
    if (!s->file || s->length == 0)
        return 0;
    return sk_pread_full(s->file->fd, buf, (size_t)s->length, s->position);
}

int16_t sk_partition_read(sk_partition *p, int64_t fetch_offset, int32_t max_bytes, int64_t max_offset,
                          sk_read_result *out)
{
    memset(out, 0, sizeof *out);
    out->first_offset = -1;
    out->next_offset = fetch_offset;
    if (sk_partition_ensure_loaded(p) != SK_ERR_NONE)
        return SK_ERR_KAFKA_STORAGE_ERROR;
    out->high_watermark = p->log_end_offset;
    out->log_start_offset = p->log_start_offset;
    if (fetch_offset < p->log_start_offset || fetch_offset > p->log_end_offset)
        return SK_ERR_OFFSET_OUT_OF_RANGE;
    if (max_offset > p->log_end_offset)
        max_offset = p->log_end_offset;
    for (size_t i = sk_partition_find_segment(p, fetch_offset); i < p->nsegs && fetch_offset < max_offset; i++) {
        sk_segment *seg = p->segs[i];
        if (seg->base_offset >= max_offset)
            break;
        if (sk_partition_ensure_segment(p, i) < 0)
            return SK_ERR_KAFKA_STORAGE_ERROR;
        sk_batch b;
        int64_t pos = sk_segment_find(seg, fetch_offset, &b);
        if (pos == -2)
            return SK_ERR_KAFKA_STORAGE_ERROR;
        if (pos < 0)
            continue; /* nothing at or after fetch_offset here: try the next segment */
        if (b.base_offset >= max_offset)
            break;
        int64_t first = b.base_offset;
        int64_t end = pos + (int64_t)b.size;
        int64_t next = sk_batch_last_offset(&b) + 1;
        int64_t limit = pos + (int64_t)max_bytes;
        /* Skip whole batches with the sparse index (its entries are batch
         * starts), then scan the few headers left before the limit. */
        bool have = false;
        int64_t jump = sk_offset_index_floor_position(&seg->offset_index, seg->base_offset, limit, max_offset);
        if (jump > end && sk_segment_read_header(seg, jump, &b) == 0) {
            end = jump;
            next = b.base_offset;
            have = true;
        }
        while (end < seg->size) {
            if (!have && sk_segment_read_header(seg, end, &b) < 0)
                break;
            have = false;
            if (b.base_offset >= max_offset || end + (int64_t)b.size > limit)
                break;
            end += (int64_t)b.size;
            next = sk_batch_last_offset(&b) + 1;
        }
        out->slice.file = sk_segment_file_ref(seg->file);
        out->slice.position = pos;
        out->slice.length = end - pos;
        out->first_offset = first;
        out->next_offset = next;
        return SK_ERR_NONE;
    }
    return SK_ERR_NONE;
}

/* ---- Offsets by timestamp ---- */

/* Reads the whole batch at `pos` into a heap buffer (caller frees). */
static uint8_t *read_batch(sk_segment *seg, int64_t pos, const sk_batch *hdr, sk_batch *b)
{
    uint8_t *buf = malloc(hdr->size);
    if (!buf)
        return NULL;
    if (sk_pread_full(seg->file->fd, buf, hdr->size, pos) < 0) {
        free(buf);
        return NULL;
    }
    sk_batch_header_parse(b, buf, hdr->size);
    return buf;
}

/* Within one batch: the first record at or after `min_offset` whose timestamp
 * is >= `ts` (exact when `ts` is the max timestamp and `exact`). Compressed
 * and LogAppendTime batches answer with their first offset >= min_offset and
 * their max timestamp. Returns 1 when found, 0 when not, -1 on I/O error. */
static int batch_find_timestamp(sk_segment *seg, int64_t pos, const sk_batch *hdr, int64_t ts, int64_t min_offset,
                                bool exact, int64_t *offset, int64_t *found)
{
    if ((hdr->attributes & (SK_BATCH_COMPRESSION_MASK | SK_BATCH_TIMESTAMP_TYPE)) != 0) {
        int64_t first = hdr->base_offset > min_offset ? hdr->base_offset : min_offset;
        if (first > sk_batch_last_offset(hdr))
            return 0;
        *offset = exact ? sk_batch_last_offset(hdr) : first;
        *found = hdr->max_timestamp;
        return 1;
    }
    sk_batch b;
    uint8_t *buf = read_batch(seg, pos, hdr, &b);
    if (!buf)
        return -1;
    sk_record_iter it;
    sk_record rec;
    int rc = 0;
    sk_record_iter_init(&it, &b);
    while (sk_record_next(&it, &rec) == 1) {
        int64_t off = b.base_offset + rec.offset_delta;
        if (off >= min_offset && (exact ? rec.timestamp == ts : rec.timestamp >= ts)) {
            *offset = off;
            *found = rec.timestamp;
            rc = 1;
            break;
        }
    }
    free(buf);
    return rc;
}

/* KIP-734: the record with the largest timestamp. */
static int16_t max_timestamp_offset(sk_partition *p, int64_t *offset, int64_t *found)
{
    size_t best = p->nsegs;
    for (size_t i = 0; i < p->nsegs; i++) {
        if (sk_partition_ensure_segment(p, i) < 0)
            return SK_ERR_KAFKA_STORAGE_ERROR;
        if (p->segs[i]->max_timestamp >= 0 &&
            (best == p->nsegs || p->segs[i]->max_timestamp > p->segs[best]->max_timestamp))
            best = i;
    }
    if (best == p->nsegs)
        return SK_ERR_NONE;
    sk_segment *seg = p->segs[best];
    sk_batch b;
    int64_t pos = sk_segment_find(seg, seg->offset_of_max_timestamp, &b);
    if (pos < 0)
        return pos == -2 ? SK_ERR_KAFKA_STORAGE_ERROR : SK_ERR_NONE;
    if (batch_find_timestamp(seg, pos, &b, seg->max_timestamp, b.base_offset, true, offset, found) < 0)
        return SK_ERR_KAFKA_STORAGE_ERROR;
    return SK_ERR_NONE;
}

int16_t sk_partition_offset_for_timestamp(sk_partition *p, int64_t timestamp, int64_t *offset, int64_t *found_ts)
{
    *offset = -1;
    *found_ts = -1;
    if (sk_partition_ensure_loaded(p) != SK_ERR_NONE)
        return SK_ERR_KAFKA_STORAGE_ERROR;
    switch (timestamp) {
    case SK_LIST_OFFSETS_LATEST:
        *offset = p->log_end_offset;
        return SK_ERR_NONE;
    case SK_LIST_OFFSETS_EARLIEST:
    case SK_LIST_OFFSETS_EARLIEST_LOCAL:
        *offset = p->log_start_offset;
        return SK_ERR_NONE;
    case SK_LIST_OFFSETS_MAX_TIMESTAMP:
        return max_timestamp_offset(p, offset, found_ts);
    default:
        if (timestamp < 0)
            return SK_ERR_NONE;
    }
    int64_t ls = p->log_start_offset;
    for (size_t i = sk_partition_find_segment(p, ls); i < p->nsegs; i++) {
        sk_segment *seg = p->segs[i];
        if (sk_partition_ensure_segment(p, i) < 0)
            return SK_ERR_KAFKA_STORAGE_ERROR;
        if (seg->max_timestamp < timestamp)
            continue;
        int64_t from = sk_time_index_lookup(&seg->time_index, seg->base_offset, timestamp);
        if (from < ls)
            from = ls;
        sk_batch b;
        int64_t pos = sk_segment_find(seg, from, &b);
        if (pos == -2)
            return SK_ERR_KAFKA_STORAGE_ERROR;
        while (pos >= 0 && pos < seg->size) {
            if (sk_segment_read_header(seg, pos, &b) < 0)
                return SK_ERR_KAFKA_STORAGE_ERROR;
            if (b.max_timestamp >= timestamp) {
                int rc = batch_find_timestamp(seg, pos, &b, timestamp, ls, false, offset, found_ts);
                if (rc < 0)
                    return SK_ERR_KAFKA_STORAGE_ERROR;
                if (rc == 1)
                    return SK_ERR_NONE;
            }
            pos += (int64_t)b.size;
        }
    }
    return SK_ERR_NONE;
}
