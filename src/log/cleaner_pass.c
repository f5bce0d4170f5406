/*
 * One pass of the log cleaner over one log, on the cleaner's worker thread
 * (Kafka's Cleaner.doClean). It touches only what the job hands it: the
 * segment files (held by reference, immutable since they are not active),
 * the aborted transactions and the producers' last offsets copied on the
 * loop thread. It writes `<base>.log.cleaned` (+ .index, .timeindex,
 * .txnindex) per group of segments; cleaner.c swaps them in on the loop.
 *
 *  1. The offset map: for every keyed record of the dirty range [first
 *     dirty, end) outside aborted transactions, key -> its newest offset
 *     (Kafka's SkimpyOffsetMap: a 16-byte hash of the key and the offset,
 *     24 bytes an entry, bounded by log.cleaner.dedupe.buffer.size). When
 *     the map fills, the pass ends at the last batch that fit.
 *  2. The segments from the start of the log to that end, grouped up to
 *     segment.bytes (Kafka's groupSegmentsBySize), are filtered batch by
 *     batch with Kafka's rules (LogCleaner's RecordFilter and
 *     MemoryRecords.filterTo): see filter_batch.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log_int.h"
#include "skiff/clock.h"
#include "skiff/compress.h"
#include "skiff/crc32c.h"
#include "skiff/errors.h"
#include "skiff/trace.h"

/* ---- Offset map ---- */

typedef struct map_slot {
    uint64_t h1, h2; /* 128-bit hash of the key */
    int64_t offset;  /* -1: empty slot */
} map_slot;

static uint64_t mix64(uint64_t k)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53ULL;
    k ^= k >> 33;
    return k;
}

/* A seeded 64-bit hash of `n` bytes (8-byte words folded through mix64). */
static uint64_t key_hash(const uint8_t *p, size_t n, uint64_t seed)
{
    uint64_t h = seed ^ ((uint64_t)n * 0x9e3779b97f4a7c15ULL);
    while (n >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        h = mix64(h ^ v) * 0x9e3779b97f4a7c15ULL;
        p += 8;
        n -= 8;
    }
    uint64_t tail = 0;
    for (size_t i = 0; i < n; i++)
        tail |= (uint64_t)p[i] << (8 * i);
    return mix64(h ^ tail ^ 0x2545f4914f6cdd1dULL);
}

void sk_clean_map_init(sk_clean_map *m, int64_t max_bytes)
{
    memset(m, 0, sizeof *m);
    size_t max_slots = 1024;
    while ((int64_t)(max_slots * 2 * sizeof(map_slot)) <= max_bytes)
        max_slots *= 2;
    m->max_slots = max_slots;
    m->max_entries = max_slots / 10 * 9; /* Kafka's load factor 0.9 */
    m->latest = -1;
}

void sk_clean_map_free(sk_clean_map *m)
{
    free(m->slots);
    m->slots = NULL;
    m->count = m->cap = 0;
}

static map_slot *map_find(const sk_clean_map *m, uint64_t h1, uint64_t h2)
{
    map_slot *s = m->slots;
    size_t mask = m->cap - 1;
    for (size_t i = (size_t)h1 & mask;; i = (i + 1) & mask)
        if (s[i].offset < 0 || (s[i].h1 == h1 && s[i].h2 == h2))
            return &s[i];
}

static int map_grow(sk_clean_map *m)
{
    size_t cap = m->cap ? m->cap * 2 : 1024;
    map_slot *old = m->slots;
    size_t old_cap = m->cap;
    m->slots = malloc(cap * sizeof *m->slots);
    if (!m->slots) {
        m->slots = old;
        return -1;
    }
    memset(m->slots, 0xff, cap * sizeof *m->slots);
    m->cap = cap;
    for (size_t i = 0; i < old_cap; i++)
        if (old[i].offset >= 0)
            *map_find(m, old[i].h1, old[i].h2) = old[i];
    free(old);
    return 0;
}

bool sk_clean_map_has_room(const sk_clean_map *m, size_t n)
{
    return m->count + n <= m->max_entries;
}

int sk_clean_map_put(sk_clean_map *m, const uint8_t *key, size_t len, int64_t offset)
{
    if ((m->cap == 0 || (m->count + 1) * 4 > m->cap * 3) && m->cap < m->max_slots && map_grow(m) < 0)
        return -1;
    if (m->count + 1 > m->cap / 10 * 9)
        return -1; /* full at the largest size */
    uint64_t h1 = key_hash(key, len, 0), h2 = key_hash(key, len, 0x5bd1e9955bd1e995ULL);
    map_slot *s = map_find(m, h1, h2);
    if (s->offset < 0)
        m->count++;
    *s = (map_slot){h1, h2, offset};
    return 0;
}

int64_t sk_clean_map_get(const sk_clean_map *m, const uint8_t *key, size_t len)
{
    if (m->cap == 0)
        return -1;
    uint64_t h1 = key_hash(key, len, 0), h2 = key_hash(key, len, 0x5bd1e9955bd1e995ULL);
    return map_find(m, h1, h2)->offset;
}

/* ---- Transactions met during a scan (Kafka's CleanedTransactionMetadata) ---- */

typedef struct ongoing_abort {
    const sk_aborted_txn *txn; /* the aborted transaction (the job's list) */
    bool observed;             /* a batch of it was read in this scan */
} ongoing_abort;

typedef struct txn_scan {
    const sk_aborted_txn *aborted; /* by first offset */
    size_t naborted, next;         /* entries in aborted, and the first not met yet */
    int64_t from;                  /* the scan's first offset: transactions ended before it are skipped */
    ongoing_abort *ab;             /* aborted transactions the scan is inside */
    size_t nab, abcap;             /* entries in ab, and its capacity */
    int64_t *committed;            /* producers with a committed transaction in progress */
    size_t ncom, comcap;           /* entries in committed, and its capacity */
    sk_segment *out;               /* the cleaned segment, whose .txnindex gets kept aborts; or NULL */
    bool oom;                      /* out of memory: the pass fails */
} txn_scan;

/* Kafka's collectAbortedTransactions(from, ...): the aborted transactions
 * whose marker is at or after `from`. */
static void txn_scan_init(txn_scan *t, const sk_clean_job *job, int64_t from, sk_segment *out)
{
    memset(t, 0, sizeof *t);
    t->aborted = job->aborted;
    t->naborted = job->naborted;
    t->from = from;
    t->out = out;
}

static void txn_scan_free(txn_scan *t)
{
    free(t->ab);
    free(t->committed);
}

static ongoing_abort *find_abort(txn_scan *t, int64_t pid)
{
    for (size_t i = 0; i < t->nab; i++)
        if (t->ab[i].txn->producer_id == pid)
            return &t->ab[i];
    return NULL;
}

static void consume_aborts_to(txn_scan *t, int64_t offset)
{
    while (t->next < t->naborted && t->aborted[t->next].first_offset <= offset) {
        const sk_aborted_txn *a = &t->aborted[t->next++];
        if (a->last_offset < t->from || find_abort(t, a->producer_id))
            continue;
        if (t->nab == t->abcap) {
            size_t cap = t->abcap ? t->abcap * 2 : 8;
            ongoing_abort *n = realloc(t->ab, cap * sizeof *n);
            if (!n) {
                t->oom = true;
                return;
            }
            t->ab = n;
            t->abcap = cap;
        }
        t->ab[t->nab++] = (ongoing_abort){a, false};
    }
}

static ssize_t find_committed(const txn_scan *t, int64_t pid)
{
    for (size_t i = 0; i < t->ncom; i++)
        if (t->committed[i] == pid)
            return (ssize_t)i;
    return -1;
}

/* A data batch: true when it belongs to an aborted transaction (discard). */
static bool txn_on_batch(txn_scan *t, const sk_batch *b)
{
    consume_aborts_to(t, sk_batch_last_offset(b));
    if (!(b->attributes & SK_BATCH_TRANSACTIONAL))
        return false;
    ongoing_abort *a = find_abort(t, b->producer_id);
    if (a) {
        a->observed = true;
        return true;
    }
    if (find_committed(t, b->producer_id) < 0) {
        if (t->ncom == t->comcap) {
            size_t cap = t->comcap ? t->comcap * 2 : 8;
            int64_t *n = realloc(t->committed, cap * sizeof *n);
            if (!n) {
                t->oom = true;
                return false;
            }
            t->committed = n;
            t->comcap = cap;
        }
        t->committed[t->ncom++] = b->producer_id;
    }
    return false;
}

/* A control batch (whole, uncompressed): true when the marker may go once
 * its delete horizon has passed: the data of its transaction is gone. */
static bool txn_on_control(txn_scan *t, const sk_batch *b)
{
    consume_aborts_to(t, sk_batch_last_offset(b));
    if (b->record_count == 0)
        return true; /* an empty control batch was cleaned already */
    sk_txn_marker mk;
    if (sk_batch_txn_marker(b, &mk) != 1)
        return false;
    if (mk.type == SK_CONTROL_ABORT) {
        ongoing_abort *a = find_abort(t, b->producer_id);
        if (!a)
            return true;
        bool observed = a->observed;
        sk_aborted_txn txn = *a->txn;
        *a = t->ab[--t->nab];
        if (!observed)
            return true;
        if (t->out && sk_txn_index_append(t->out, &txn) < 0)
            t->oom = true;
        return false;
    }
    ssize_t i = find_committed(t, b->producer_id);
    if (i < 0)
        return true;
    t->committed[i] = t->committed[--t->ncom];
    return false;
}

/* ---- I/O throttle (Kafka's Throttler) ---- */

static double mono_s(void)
{
    return (double)sk_clock_mono_ms() / 1e3;
}

#define THROTTLE_WINDOW_S 0.3 /* the rate is measured over windows of 300 ms */

/* Counts `bytes` of I/O; every 300 ms (or sooner, once the window holds
 * 300 ms worth of bytes at the limit), sleeps for as long as the window's
 * rate exceeds log.cleaner.io.max.bytes.per.second. */
static void throttle(sk_clean_job *job, int64_t bytes)
{
    double now = mono_s();
    if (job->throttle_start == 0)
        job->throttle_start = now;
    job->throttle_bytes += bytes;
    double elapsed = now - job->throttle_start;
    if (elapsed < THROTTLE_WINDOW_S && (double)job->throttle_bytes < job->io_max_bytes_per_second * THROTTLE_WINDOW_S)
        return;
    double want = (double)job->throttle_bytes / job->io_max_bytes_per_second;
    if (want > elapsed) {
        double pause = want - elapsed;
        struct timespec ts = {.tv_sec = (time_t)pause, .tv_nsec = (long)((pause - (double)(time_t)pause) * 1e9)};
        nanosleep(&ts, NULL);
    }
    job->throttle_start = mono_s();
    job->throttle_bytes = 0;
}

/* ---- Reading segments ---- */

/* Calls `fn` on every batch of job segment `seg` (whole, CRC checked when
 * `check`). Returns 0, 1 when `fn` asked to stop, -1 on a bad batch or I/O,
 * or when the pass is to give up (job->stopped set). */
typedef int (*batch_fn)(void *arg, const sk_batch *b);

static int scan_segment(const sk_clean_job *job, const sk_clean_seg *seg, bool check, batch_fn fn, void *arg)
{
    sk_log_scan sc = {.fd = sk_segment_file_fd(seg->file), .win_pos = -1, .min_read = job->io_buffer_bytes};
    int rc = 0;
    int64_t next = seg->base;
    for (int64_t pos = 0; pos < seg->size && rc == 0;) {
        const uint8_t *p = sk_log_scan_window(&sc, pos, SK_BATCH_HEADER_SIZE);
        sk_batch b;
        /* Whole batches, offsets increasing within the segment's range. */
        if (!p || sk_batch_header_parse(&b, p, SK_BATCH_HEADER_SIZE) < 0 ||
            !sk_log_batch_header_ok(&b, seg->size - pos) || b.last_offset_delta < 0 || b.base_offset < next ||
            b.base_offset >= seg->end || b.last_offset_delta >= seg->end - b.base_offset) {
            rc = -1;
            break;
        }
        next = sk_batch_last_offset(&b) + 1;
        p = sk_log_scan_window(&sc, pos, b.size);
        if (!p || (check && !sk_batch_crc_valid(p, b.size))) {
            rc = -1;
            break;
        }
        sk_batch_header_parse(&b, p, b.size);
        if (atomic_load(job->stop) || atomic_load(&job->p->deleted)) {
            ((sk_clean_job *)job)->stopped = true;
            rc = -2;
            break;
        }
        throttle((sk_clean_job *)job, (int64_t)b.size);
        rc = fn(arg, &b);
        pos += (int64_t)b.size;
    }
    free(sc.buf);
    if (rc == -1)
        sk_error("cleaner", "%s: segment %" PRId64 " cannot be read or holds a corrupt batch", job->dir, seg->base);
    return rc < 0 ? -1 : rc;
}

/* ---- Phase 1: the offset map ---- */

typedef struct map_ctx {
    sk_clean_job *job; /* the pass */
    txn_scan txn;      /* transactions met while indexing the dirty range */
} map_ctx;

static int map_batch(void *arg, const sk_batch *b)
{
    map_ctx *c = arg;
    sk_clean_job *job = c->job;
    sk_clean_map *m = &job->map;
    int64_t last = sk_batch_last_offset(b);
    job->stats.bytes_read += (int64_t)b->size;
    if (b->attributes & SK_BATCH_CONTROL) {
        txn_on_control(&c->txn, b);
    } else if (!txn_on_batch(&c->txn, b) && last >= job->first_dirty) {
        if (!sk_clean_map_has_room(m, (size_t)(b->record_count > 0 ? b->record_count : 0)))
            return 1; /* full: the pass ends before this batch */
        sk_batch_records br;
        if (sk_batch_records_open(&br, b, job->decompress_cap) != SK_ERR_NONE)
            return -1;
        sk_record rec;
        int r;
        while ((r = sk_record_next(&br.it, &rec)) == 1) {
            int64_t off = b->base_offset + rec.offset_delta;
            if (rec.key && off >= job->first_dirty && sk_clean_map_put(m, rec.key, (size_t)rec.key_len, off) < 0) {
                r = -2;
                break;
            }
        }
        sk_batch_records_close(&br);
        if (r == -2)
            return 1; /* out of memory for a larger map: stop here */
        if (r < 0)
            return -1;
    }
    if (last >= job->first_dirty)
        m->latest = last;
    return c->txn.oom ? -1 : 0;
}

static int build_map(sk_clean_job *job)
{
    map_ctx c = {.job = job};
    size_t first = 0;
    while (first < job->nsegs && job->segs[first].end <= job->first_dirty)
        first++;
    txn_scan_init(&c.txn, job, first < job->nsegs ? job->segs[first].base : job->first_dirty, NULL);
    int rc = 0;
    for (size_t i = first; i < job->nsegs && rc == 0; i++) {
        rc = scan_segment(job, &job->segs[i], false, map_batch, &c);
        /* A whole segment: the map covers it to its end, gaps included. */
        if (rc == 0 && job->segs[i].end - 1 > job->map.latest)
            job->map.latest = job->segs[i].end - 1;
    }
    txn_scan_free(&c.txn);
    if (rc < 0 || job->map.latest < job->first_dirty) {
        if (rc >= 0 && !job->stopped)
            sk_warn("cleaner", "%s: log.cleaner.dedupe.buffer.size holds no batch of the dirty range", job->dir);
        return -1;
    }
    return 0;
}

/* ---- Phase 2: filtering into the cleaned segment ---- */

typedef struct clean_ctx {
    sk_clean_job *job; /* the pass */
    txn_scan *txn;     /* carried from group to group, as Kafka's */
    sk_segment *out;   /* the .cleaned segment being written */
    int fd;            /* its .log.cleaned */
    sk_writer buf;     /* bytes not yet written */
    int64_t written;   /* bytes written to fd */
    sk_record *kept;   /* records retained from the current batch */
    size_t kept_cap;   /* entries kept can hold */
    sk_writer area;    /* scratch: rebuilt record area */
} clean_ctx;

static const sk_clean_producer *find_producer(const sk_clean_job *job, int64_t pid)
{
    size_t lo = 0, hi = job->nproducers;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (job->producers[mid].producer_id == pid)
            return &job->producers[mid];
        if (job->producers[mid].producer_id < pid)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* Writes the finished batch at w->buf[start..] : length and CRC. */
static void finish_batch(sk_writer *w, size_t start)
{
    uint8_t *h = w->buf + start;
    size_t size = w->len - start;
    sk_put_be32(h + SK_BATCH_LENGTH, (uint32_t)(size - SK_BATCH_LOG_OVERHEAD));
    sk_put_be32(h + SK_BATCH_CRC, sk_crc32c(0, h + SK_BATCH_ATTRIBUTES, size - SK_BATCH_ATTRIBUTES));
}

static void write_header(sk_writer *w, const sk_batch *b, int16_t attributes, int64_t base_ts, int64_t max_ts,
                         int32_t count)
{
    sk_write_i64(w, b->base_offset);
    sk_write_i32(w, 0);
    sk_write_i32(w, b->partition_leader_epoch);
    sk_write_i8(w, 2);
    sk_write_u32(w, 0);
    sk_write_i16(w, attributes);
    sk_write_i32(w, b->last_offset_delta);
    sk_write_i64(w, base_ts);
    sk_write_i64(w, max_ts);
    sk_write_i64(w, b->producer_id);
    sk_write_i16(w, b->producer_epoch);
    sk_write_i32(w, b->base_sequence);
    sk_write_i32(w, count);
}

static void write_bytes(sk_writer *w, const uint8_t *p, int32_t len)
{
    sk_write_varint(w, p ? len : -1);
    if (p)
        sk_write_raw(w, p, (size_t)len);
}

/* Kafka's buildRetainedRecordsInto: the batch with only `n` kept records,
 * same base offset, last offset delta, producer fields and codec; the base
 * timestamp is the delete horizon when `horizon` >= 0 (attribute bit 6). */
static int rebuild_batch(clean_ctx *c, const sk_batch *b, size_t n, int64_t horizon)
{
    bool lat = (b->attributes & SK_BATCH_TIMESTAMP_TYPE) != 0;
    int64_t max_ts = SK_NO_TIMESTAMP;
    for (size_t i = 0; i < n; i++) {
        int64_t ts = lat ? b->max_timestamp : c->kept[i].timestamp;
        if (ts > max_ts)
            max_ts = ts;
    }
    int64_t base_ts = horizon >= 0 ? horizon : (lat ? b->max_timestamp : c->kept[0].timestamp);
    c->area.len = 0;
    for (size_t i = 0; i < n; i++) {
        const sk_record *r = &c->kept[i];
        int64_t ts = lat ? b->max_timestamp : r->timestamp;
        size_t body = 1 + sk_varlong_size(ts - base_ts) + sk_varint_size(r->offset_delta) +
                      (r->key ? sk_varint_size(r->key_len) + (size_t)r->key_len : sk_varint_size(-1)) +
                      (r->value ? sk_varint_size(r->value_len) + (size_t)r->value_len : sk_varint_size(-1)) +
                      sk_varint_size(r->header_count) + r->headers_len;
        sk_write_varint(&c->area, (int32_t)body);
        sk_write_i8(&c->area, r->attributes);
        sk_write_varlong(&c->area, ts - base_ts);
        sk_write_varint(&c->area, r->offset_delta);
        write_bytes(&c->area, r->key, r->key_len);
        write_bytes(&c->area, r->value, r->value_len);
        sk_write_varint(&c->area, r->header_count);
        if (r->headers_len)
            sk_write_raw(&c->area, r->headers, r->headers_len);
    }
    if (c->area.err)
        return -1;
    int16_t attrs =
        (int16_t)((b->attributes & ~SK_BATCH_DELETE_HORIZON) | (horizon >= 0 ? SK_BATCH_DELETE_HORIZON : 0));
    size_t start = c->buf.len;
    write_header(&c->buf, b, attrs, base_ts, max_ts, (int32_t)n);
    int codec = b->attributes & SK_BATCH_COMPRESSION_MASK;
    if (sk_compress(codec, SK_COMPRESSION_LEVEL_DEFAULT, c->area.buf, c->area.len, &c->buf) != SK_COMPRESS_OK ||
        c->buf.err)
        return -1;
    finish_batch(&c->buf, start);
    return 0;
}

/* MemoryRecords.filterTo for one batch with LogCleaner's RecordFilter:
 *  - its transaction decides first: data of an aborted transaction may go;
 *    a marker may go once its transaction's data is gone and the batch's
 *    delete horizon has passed;
 *  - the batch holding a producer's last data offset (or, with none, its
 *    marker at its current epoch) stays, empty if need be (RETAIN_EMPTY), so
 *    the producer's sequence and epoch survive;
 *  - a data record stays when no newer offset of its key is in the map (or
 *    it lies past the map's end) and it has a value, or it is a tombstone
 *    whose batch has no delete horizon yet or one still in the future;
 *  - a batch keeping every record and needing no new horizon is copied as
 *    it is; otherwise it is rebuilt; a batch keeping tombstones (or a marker
 *    that may go) gets the horizon now + delete.retention.ms. */
static int filter_batch(void *arg, const sk_batch *b)
{
    clean_ctx *c = arg;
    sk_clean_job *job = c->job;
    bool control = (b->attributes & SK_BATCH_CONTROL) != 0;
    bool horizon_set = (b->attributes & SK_BATCH_DELETE_HORIZON) != 0;
    int64_t now = job->now_ms;
    bool can_discard = control ? txn_on_control(c->txn, b) : txn_on_batch(c->txn, b);
    bool discard = control ? can_discard && horizon_set && b->base_timestamp <= now : can_discard;
    bool retain_empty = false;
    const sk_clean_producer *pr = b->producer_id >= 0 ? find_producer(job, b->producer_id) : NULL;
    if (pr)
        retain_empty = pr->last_data_offset >= 0 ? sk_batch_last_offset(b) == pr->last_data_offset
                                                 : control && b->producer_epoch == pr->producer_epoch;
    job->stats.bytes_read += (int64_t)b->size;
    job->stats.records_read += b->record_count;
    /* Kafka also keeps the round's last batch, emptied if need be, so the
     * cleaned range keeps its end offset. */
    if (sk_batch_last_offset(b) + 1 == job->upper_bound)
        retain_empty = true;
    if (c->txn->oom)
        return -1;
    if (discard && !retain_empty)
        return 0;

    size_t n = 0;
    bool all = true, tombstones = false;
    sk_batch_records br;
    if (sk_batch_records_open(&br, b, job->decompress_cap) != SK_ERR_NONE)
        return -1;
    sk_record rec;
    int r;
    while ((r = sk_record_next(&br.it, &rec)) == 1) {
        int64_t off = b->base_offset + rec.offset_delta;
        bool keep;
        if (discard)
            keep = false;
        else if (control || off > job->map.latest)
            keep = true;
        else if (!rec.key)
            keep = false;
        else
            keep = off >= sk_clean_map_get(&job->map, rec.key, (size_t)rec.key_len) &&
                   (rec.value || !horizon_set || now < b->base_timestamp);
        if (!keep) {
            all = false;
            continue;
        }
        if (n == c->kept_cap) {
            size_t cap = c->kept_cap ? c->kept_cap * 2 : 64;
            sk_record *k = realloc(c->kept, cap * sizeof *k);
            if (!k) {
                r = -1;
                break;
            }
            c->kept = k;
            c->kept_cap = cap;
        }
        c->kept[n++] = rec;
        if (!rec.value)
            tombstones = true;
    }
    int rc = r < 0 ? -1 : 0;
    size_t start = c->buf.len;
    if (rc == 0 && n > 0) {
        bool need_horizon = (tombstones || (can_discard && control)) && !horizon_set;
        if (all && !need_horizon)
            sk_write_raw(&c->buf, b->data, b->size);
        else
            rc = rebuild_batch(c, b, n,
                               need_horizon  ? now + job->delete_retention_ms
                               : horizon_set ? b->base_timestamp
                                             : SK_NO_TIMESTAMP);
    } else if (rc == 0 && retain_empty) {
        int16_t attrs = b->attributes & (SK_BATCH_TIMESTAMP_TYPE | SK_BATCH_TRANSACTIONAL | SK_BATCH_CONTROL);
        write_header(&c->buf, b, attrs, b->max_timestamp, b->max_timestamp, 0);
        finish_batch(&c->buf, start);
    }
    sk_batch_records_close(&br);
    if (rc < 0 || c->buf.err)
        return -1;
    if (c->buf.len > start) {
        sk_batch out;
        sk_batch_header_parse(&out, c->buf.buf + start, c->buf.len - start);
        int64_t pos = c->written + (int64_t)start;
        sk_segment_index_batch(c->out, &job->cfg, pos, sk_batch_last_offset(&out), out.max_timestamp,
                               (int64_t)out.size);
        job->stats.records_kept += out.record_count;
    }
    if (c->buf.len >= job->io_buffer_bytes) {
        if (sk_pwrite_full(c->fd, c->buf.buf, c->buf.len, c->written) < 0)
            return -1;
        throttle(job, (int64_t)c->buf.len);
        c->written += (int64_t)c->buf.len;
        c->buf.len = 0;
    }
    return 0;
}

void sk_clean_group_unlink(const char *dir, int64_t base)
{
    char path[4200];
    for (size_t k = 0; k < SK_SEGMENT_FILES; k++) {
        sk_offset_file_path(path, sizeof path, dir, base, sk_segment_suffixes[k], SK_CLEANED_SUFFIX);
        unlink(path);
    }
}

static int fsync_path(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

/* Writes, syncs and closes the .cleaned files of group `g`. 0 or -1. */
static int clean_group(sk_clean_job *job, sk_clean_group *g, txn_scan *txn)
{
    const sk_clean_seg *first = &job->segs[g->first];
    clean_ctx c = {.job = job, .txn = txn, .fd = -1};
    char path[4200];
    int rc = -1;
    sk_writer_init(&c.buf, 0);
    sk_writer_init(&c.area, 0);
    c.out = sk_segment_new(job->dir, first->base);
    if (!c.out)
        goto out;
    txn->out = c.out;
    snprintf(path, sizeof path, "%s.log" SK_CLEANED_SUFFIX, c.out->prefix);
    if ((c.fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0)
        goto io;
    snprintf(path, sizeof path, "%s.index" SK_CLEANED_SUFFIX, c.out->prefix);
    if (sk_index_open(&c.out->offset_index, path, job->cfg.max_index_size_bytes, true) < 0)
        goto io;
    snprintf(path, sizeof path, "%s.timeindex" SK_CLEANED_SUFFIX, c.out->prefix);
    if (sk_index_open(&c.out->time_index, path, job->cfg.max_index_size_bytes, true) < 0)
        goto io;
    snprintf(path, sizeof path, "%s.txnindex" SK_CLEANED_SUFFIX, c.out->prefix);
    if ((c.out->txn_fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0)
        goto io;
    c.out->txn_index_loaded = true;
    c.out->indexes_loaded = true;
    c.out->active = true;
    c.out->size = 0;
    for (size_t i = g->first; i < g->first + g->count; i++)
        if (scan_segment(job, &job->segs[i], true, filter_batch, &c) != 0)
            goto out;
    if (c.buf.len && sk_pwrite_full(c.fd, c.buf.buf, c.buf.len, c.written) < 0)
        goto io;
    c.written += (int64_t)c.buf.len;
    c.out->size = c.written;
    sk_segment_deactivate(c.out);
    const sk_clean_seg *last = &job->segs[g->first + g->count - 1];
    struct timespec times[2] = {{.tv_nsec = UTIME_OMIT},
                                {.tv_sec = last->mtime_ms / 1000, .tv_nsec = (last->mtime_ms % 1000) * 1000000}};
    if (fsync(c.fd) < 0 || fsync(c.out->txn_fd) < 0 || futimens(c.fd, times) < 0)
        goto io;
    snprintf(path, sizeof path, "%s.index" SK_CLEANED_SUFFIX, c.out->prefix);
    if (fsync_path(path) < 0)
        goto io;
    snprintf(path, sizeof path, "%s.timeindex" SK_CLEANED_SUFFIX, c.out->prefix);
    if (fsync_path(path) < 0)
        goto io;
    if (c.out->naborted == 0) { /* as Kafka, no .txnindex without an entry */
        snprintf(path, sizeof path, "%s.txnindex" SK_CLEANED_SUFFIX, c.out->prefix);
        unlink(path);
    }
    g->size = c.written;
    job->stats.bytes_written += c.written;
    rc = 0;
    goto out;
io:
    sk_error("cleaner", "%s: cannot write %s: %m", job->dir, path);
out:
    if (c.fd >= 0)
        close(c.fd);
    txn->out = NULL;
    sk_segment_free(c.out);
    sk_writer_free(&c.buf);
    sk_writer_free(&c.area);
    free(c.kept);
    if (rc < 0)
        sk_clean_group_unlink(job->dir, first->base);
    return rc;
}

/* Kafka's groupSegmentsBySize over the segments below `end`: consecutive
 * segments while their bytes stay within segment.bytes and their offsets
 * within an int32 of the group's base. */
static int group_segments(sk_clean_job *job, int64_t end)
{
    size_t m = 0;
    while (m < job->nsegs && job->segs[m].base < end)
        m++;
    job->groups = calloc(m ? m : 1, sizeof *job->groups);
    if (!job->groups)
        return -1;
    for (size_t i = 0; i < m;) {
        size_t j = i + 1;
        int64_t bytes = job->segs[i].size;
        while (j < m && bytes + job->segs[j].size <= job->cfg.segment_bytes &&
               job->segs[j].end - 1 - job->segs[i].base <= INT32_MAX) {
            bytes += job->segs[j].size;
            j++;
        }
        job->groups[job->ngroups++] = (sk_clean_group){.first = i, .count = j - i};
        i = j;
    }
    return 0;
}

void sk_clean_job_run(void *arg)
{
    sk_clean_job *job = arg;
    if (atomic_load(&job->p->deleted))
        return;
    sk_clean_map_init(&job->map, job->dedupe_buffer_bytes);
    job->failed = true;
    if (build_map(job) == 0 && group_segments(job, job->map.latest + 1) == 0) {
        job->failed = false;
        job->end_offset = job->map.latest + 1;
        txn_scan txn;
        txn_scan_init(&txn, job, job->segs[0].base, NULL);
        for (size_t i = 0; i < job->ngroups; i++) {
            if (atomic_load(&job->p->deleted))
                break;
            if (clean_group(job, &job->groups[i], &txn) < 0) {
                job->failed = !job->stopped;
                break;
            }
            job->groups[i].written = true;
            job->groups_written++;
        }
        txn_scan_free(&txn);
    }
    sk_clean_map_free(&job->map);
    if (job->stopped)
        job->failed = false;
}
