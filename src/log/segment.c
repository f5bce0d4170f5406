/*
 * Log segments: one .log file of record batches plus its .index,
 * .timeindex and .txnindex (txn_index.c), named by the segment's base
 * offset (Kafka's LogSegment). This file opens, creates, scans and recovers
 * segments and keeps the indexes in step with appended batches; partition.c
 * decides when to roll, read or delete them. Segment files are refcounted
 * so read slices outlive deletion.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log_int.h"
#include "skiff/crc32c.h"
#include "skiff/trace.h"

#define RECOVER_BUF_BYTES (1u << 20)

/* ---- Segment files ---- */

static sk_segment_file *segment_file_new(int fd)
{
    sk_segment_file *f = malloc(sizeof *f);
    if (!f)
        return NULL;
    f->fd = fd;
    atomic_init(&f->refs, 1);
    return f;
}

int sk_segment_file_fd(const sk_segment_file *f)
{
    return f->fd;
}

sk_segment_file *sk_segment_file_ref(sk_segment_file *f)
{
    atomic_fetch_add_explicit(&f->refs, 1, memory_order_relaxed);
    return f;
}

void sk_segment_file_unref(sk_segment_file *f)
{
    if (!f || atomic_fetch_sub_explicit(&f->refs, 1, memory_order_acq_rel) != 1)
        return;
    close(f->fd);
    free(f);
}

/* ---- Segments ---- */

sk_segment *sk_segment_new(const char *dir, int64_t base)
{
    sk_segment *seg = calloc(1, sizeof *seg);
    if (!seg)
        return NULL;
    size_t n = strlen(dir) + 22;
    seg->prefix = malloc(n);
    if (!seg->prefix) {
        free(seg);
        return NULL;
    }
    sk_offset_file_path(seg->prefix, n, dir, base, "", "");
    seg->base_offset = base;
    seg->size = -1;
    seg->next_offset = -1;
    seg->max_timestamp = SK_NO_TIMESTAMP;
    seg->offset_of_max_timestamp = -1;
    seg->rolling_timestamp = SK_NO_TIMESTAMP;
    seg->txn_fd = -1;
    sk_index_init(&seg->offset_index, SK_OFFSET_INDEX_ENTRY);
    sk_index_init(&seg->time_index, SK_TIME_INDEX_ENTRY);
    return seg;
}

void sk_segment_free(sk_segment *seg)
{
    if (!seg)
        return;
    sk_index_close(&seg->offset_index);
    sk_index_close(&seg->time_index);
    sk_txn_index_close(seg);
    sk_segment_file_unref(seg->file);
    free(seg->prefix);
    free(seg);
}

static int open_log_file(sk_segment *seg, int flags)
{
    char path[4096];
    sk_segment_path(seg, ".log", path, sizeof path);
    int fd = open(path, O_RDWR | O_CLOEXEC | flags, 0644);
    if (fd < 0) {
        sk_error("log", "open %s: %m", path);
        return -1;
    }
    seg->file = segment_file_new(fd);
    if (!seg->file) {
        close(fd);
        return -1;
    }
    return 0;
}

int sk_segment_open(sk_segment *seg)
{
    if (seg->file)
        return 0;
    if (open_log_file(seg, 0) < 0)
        return -1;
    if (seg->size < 0) {
        struct stat st;
        if (fstat(seg->file->fd, &st) < 0)
            return -1;
        seg->size = st.st_size;
        seg->mtime_ms = (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
    }
    return 0;
}

/* Opens empty, writable indexes (old contents dropped). */
static int open_fresh_indexes(sk_segment *seg, const sk_log_config *cfg)
{
    char path[4096];
    sk_index_close(&seg->offset_index);
    sk_index_close(&seg->time_index);
    sk_segment_path(seg, ".index", path, sizeof path);
    if (sk_index_open(&seg->offset_index, path, cfg->max_index_size_bytes, true) < 0) {
        sk_error("log", "open %s: %m", path);
        return -1;
    }
    sk_segment_path(seg, ".timeindex", path, sizeof path);
    if (sk_index_open(&seg->time_index, path, cfg->max_index_size_bytes, true) < 0) {
        sk_error("log", "open %s: %m", path);
        return -1;
    }
    seg->indexes_loaded = true;
    seg->bytes_since_index = 0;
    return 0;
}

int sk_segment_create(sk_segment *seg, const sk_log_config *cfg, int64_t now_ms)
{
    if (open_log_file(seg, O_CREAT | O_TRUNC) < 0)
        return -1;
    seg->active = true;
    if (open_fresh_indexes(seg, cfg) < 0)
        return -1;
    seg->size = 0;
    seg->next_offset = seg->base_offset;
    seg->created_ms = now_ms;
    seg->mtime_ms = now_ms;
    return 0;
}

bool sk_log_batch_header_ok(const sk_batch *b, int64_t avail)
{
    return b->magic == SK_BATCH_MAGIC_V2 && b->batch_length >= SK_BATCH_HEADER_SIZE - SK_BATCH_LOG_OVERHEAD &&
           (int64_t)b->size <= avail;
}

int sk_segment_read_header(sk_segment *seg, int64_t pos, sk_batch *b)
{
    uint8_t hdr[SK_BATCH_HEADER_SIZE];
    if (pos < 0 || pos + SK_BATCH_HEADER_SIZE > seg->size)
        return -1;
    if (sk_pread_full(seg->file->fd, hdr, sizeof hdr, pos) < 0)
        return -1;
    sk_batch_header_parse(b, hdr, sizeof hdr);
    b->data = NULL; /* the header buffer is local */
    if (!sk_log_batch_header_ok(b, seg->size - pos) || b->last_offset_delta < 0 ||
        b->base_offset >= INT64_MAX - b->last_offset_delta) /* last offset + 1 must be an int64 */
        return -1;
    return 0;
}

int64_t sk_segment_find(sk_segment *seg, int64_t offset, sk_batch *b)
{
    int64_t pos = sk_offset_index_lookup(&seg->offset_index, seg->base_offset, offset);
    while (pos < seg->size) {
        if (sk_segment_read_header(seg, pos, b) < 0)
            return -2;
        if (sk_batch_last_offset(b) >= offset)
            return pos;
        pos += (int64_t)b->size;
    }
    return -1;
}

void sk_segment_index_batch(sk_segment *seg, const sk_log_config *cfg, int64_t pos, int64_t last_offset,
                            int64_t max_timestamp, int64_t size)
{
    if (pos == 0)
        seg->rolling_timestamp = max_timestamp;
    if (max_timestamp > seg->max_timestamp) {
        seg->max_timestamp = max_timestamp;
        seg->offset_of_max_timestamp = last_offset;
    }
    if (seg->bytes_since_index > cfg->index_interval_bytes) {
        sk_offset_index_append(&seg->offset_index, seg->base_offset, last_offset, pos);
        sk_time_index_maybe_append(&seg->time_index, seg->base_offset, seg->max_timestamp,
                                   seg->offset_of_max_timestamp);
        seg->bytes_since_index = 0;
    }
    seg->bytes_since_index += size;
}

const uint8_t *sk_log_scan_window(sk_log_scan *sc, int64_t pos, size_t n)
{
    if (pos >= sc->win_pos && pos + (int64_t)n <= sc->win_pos + (int64_t)sc->win_len)
        return sc->buf + (pos - sc->win_pos);
    size_t min_read = sc->min_read ? sc->min_read : RECOVER_BUF_BYTES;
    size_t want = n > min_read ? n : min_read;
    if (want > sc->cap) {
        uint8_t *b = realloc(sc->buf, want);
        if (!b)
            return NULL;
        sc->buf = b;
        sc->cap = want;
    }
    ssize_t got = pread(sc->fd, sc->buf, sc->cap, (off_t)pos);
    if (got < 0 || (size_t)got < n)
        return NULL;
    sc->win_pos = pos;
    sc->win_len = (size_t)got;
    return sc->buf;
}

int64_t sk_segment_recover(sk_segment *seg, const sk_log_config *cfg, int64_t min_offset)
{
    if (sk_segment_open(seg) < 0 || open_fresh_indexes(seg, cfg) < 0)
        return -1;
    struct stat st;
    if (fstat(seg->file->fd, &st) < 0)
        return -1;
    int64_t file_size = st.st_size;
    seg->size = file_size; /* bounds header reads during the scan */
    seg->max_timestamp = SK_NO_TIMESTAMP;
    seg->offset_of_max_timestamp = -1;
    seg->rolling_timestamp = SK_NO_TIMESTAMP;

    sk_log_scan sc = {.fd = seg->file->fd, .win_pos = -1};
    int64_t pos = 0;
    int64_t next = seg->base_offset > min_offset ? seg->base_offset : min_offset;
    int64_t first = next;
    while (file_size - pos >= SK_BATCH_HEADER_SIZE) {
        sk_batch b;
        const uint8_t *p = sk_log_scan_window(&sc, pos, SK_BATCH_HEADER_SIZE);
        if (!p)
            break;
        sk_batch_header_parse(&b, p, SK_BATCH_HEADER_SIZE);
        if (!sk_log_batch_header_ok(&b, file_size - pos))
            break;
        p = sk_log_scan_window(&sc, pos, b.size);
        if (!p || !sk_batch_crc_valid(p, b.size))
            break;
        if (b.last_offset_delta < 0 || b.base_offset < next || b.base_offset >= INT64_MAX - b.last_offset_delta)
            break;
        int64_t last = sk_batch_last_offset(&b);
        if (last - seg->base_offset > INT32_MAX)
            break;
        sk_segment_index_batch(seg, cfg, pos, last, b.max_timestamp, (int64_t)b.size);
        pos += (int64_t)b.size;
        next = last + 1;
    }
    free(sc.buf);

    int64_t truncated = file_size - pos;
    if (truncated > 0) {
        char path[4096];
        sk_segment_path(seg, ".log", path, sizeof path);
        sk_warn("log", "%s: truncating %" PRId64 " invalid bytes at position %" PRId64, path, truncated, pos);
        if (ftruncate(seg->file->fd, (off_t)pos) < 0)
            return -1;
    }
    seg->size = pos;
    seg->next_offset = pos > 0 ? next : first;
    /* A closed segment's time index ends with its largest timestamp. */
    sk_time_index_maybe_append(&seg->time_index, seg->base_offset, seg->max_timestamp, seg->offset_of_max_timestamp);
    if (!seg->active && (sk_index_trim(&seg->offset_index) < 0 || sk_index_trim(&seg->time_index) < 0))
        return -1;
    return truncated;
}

int sk_segment_load_indexes(sk_segment *seg, const sk_log_config *cfg, int64_t next_offset)
{
    char path[4096];
    if (seg->indexes_loaded)
        return 0;
    if (sk_segment_open(seg) < 0)
        return -1;
    int64_t max_bytes = seg->active ? cfg->max_index_size_bytes : 0;
    sk_segment_path(seg, ".index", path, sizeof path);
    bool ok = sk_index_open(&seg->offset_index, path, max_bytes, false) == 0;
    if (ok) {
        sk_segment_path(seg, ".timeindex", path, sizeof path);
        ok = sk_index_open(&seg->time_index, path, max_bytes, false) == 0;
    }
    ok = ok && sk_offset_index_sane(&seg->offset_index, seg->base_offset, next_offset, seg->size) &&
         sk_time_index_sane(&seg->time_index, seg->base_offset, next_offset);
    if (!ok) {
        sk_warn("log", "%s: index missing or corrupt, rebuilding", seg->prefix);
        if (sk_segment_recover(seg, cfg, seg->base_offset) < 0)
            return -1;
        return 0;
    }
    seg->indexes_loaded = true;
    sk_time_index_last(&seg->time_index, seg->base_offset, &seg->max_timestamp, &seg->offset_of_max_timestamp);
    if (seg->max_timestamp == SK_NO_TIMESTAMP)
        seg->offset_of_max_timestamp = -1;
    if (seg->next_offset < 0 && next_offset >= 0)
        seg->next_offset = next_offset;
    sk_batch first;
    if (seg->active && sk_segment_read_header(seg, 0, &first) == 0)
        seg->rolling_timestamp = first.max_timestamp;
    return 0;
}

int sk_segment_find_end(sk_segment *seg)
{
    int64_t pos = sk_offset_index_last_position(&seg->offset_index);
    int64_t next = seg->base_offset;
    sk_batch b;
    while (pos < seg->size && sk_segment_read_header(seg, pos, &b) == 0) {
        if (b.base_offset < next) /* offsets go backwards: not a log to trust */
            return -1;
        next = sk_batch_last_offset(&b) + 1;
        pos += (int64_t)b.size;
    }
    if (pos != seg->size || (next == seg->base_offset && pos > 0))
        return -1;
    seg->next_offset = next;
    return 0;
}

void sk_segment_deactivate(sk_segment *seg)
{
    if (!seg->active)
        return;
    seg->active = false;
    if (!seg->indexes_loaded)
        return;
    sk_time_index_maybe_append(&seg->time_index, seg->base_offset, seg->max_timestamp, seg->offset_of_max_timestamp);
    if (sk_index_trim(&seg->offset_index) < 0 || sk_index_trim(&seg->time_index) < 0)
        sk_warn("log", "%s: cannot trim indexes: %m", seg->prefix);
}

int64_t sk_segment_largest_timestamp(const sk_segment *seg)
{
    return seg->max_timestamp >= 0 ? seg->max_timestamp : seg->mtime_ms;
}
