/*
 * Kafka's segment indexes: the sparse offset index (.index: int32 offset
 * relative to the segment's base offset, int32 file position) and the time
 * index (.timeindex: int64 timestamp, int32 relative offset). Both are files
 * of fixed-size big-endian entries, mapped into memory; the active segment's
 * are preallocated to segment.index.bytes and trimmed when it closes (Kafka's
 * AbstractIndex/OffsetIndex/TimeIndex). Byte tables: docs/log-format.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log_int.h"

void sk_index_init(sk_index *ix, uint32_t entry_size)
{
    memset(ix, 0, sizeof *ix);
    ix->fd = -1;
    ix->entry_size = entry_size;
}

static int index_map(sk_index *ix, size_t len, bool writable)
{
    ix->map = NULL;
    ix->map_len = 0;
    if (len == 0)
        return 0;
    void *m = mmap(NULL, len, writable ? PROT_READ | PROT_WRITE : PROT_READ, MAP_SHARED, ix->fd, 0);
    if (m == MAP_FAILED)
        return -1;
    /* Lookups are binary searches and appends touch one page: without this
     * a first touch of the (sparse, preallocated) file makes the kernel read
     * ahead and zero-fill many pages, which dominated recovery and start-up
     * with thousands of partitions. */
    madvise(m, len, MADV_RANDOM);
    ix->map = m;
    ix->map_len = len;
    return 0;
}

static void index_unmap(sk_index *ix)
{
    if (ix->map)
        munmap(ix->map, ix->map_len);
    ix->map = NULL;
    ix->map_len = 0;
}

int sk_index_open(sk_index *ix, const char *path, int64_t max_bytes, bool fresh)
{
    bool writable = max_bytes > 0;
    ix->fd = open(path, (writable ? O_RDWR | O_CREAT : O_RDONLY) | O_CLOEXEC, 0644);
    if (ix->fd < 0)
        return -1;
    struct stat st;
    if (fstat(ix->fd, &st) < 0)
        goto fail;
    /* A fresh index ignores the old bytes rather than truncating the file to
     * zero: ext4 flushes a file truncated to zero when it is closed
     * (auto_da_alloc), which made recovering thousands of partitions slow.
     * Bytes past `entries` are never trusted, and trimming cuts them off. */
    uint64_t entries = fresh ? 0 : (uint64_t)st.st_size / ix->entry_size;
    if (entries > UINT32_MAX / ix->entry_size) {
        errno = EFBIG;
        goto fail;
    }
    ix->entries = (uint32_t)entries;
    ix->max_entries = ix->entries;
    ix->writable = writable;
    size_t len = (size_t)entries * ix->entry_size;
    if (writable) {
        uint64_t cap = (uint64_t)max_bytes / ix->entry_size;
        if (cap > UINT32_MAX / ix->entry_size)
            cap = UINT32_MAX / ix->entry_size;
        if (cap > ix->entries)
            ix->max_entries = (uint32_t)cap;
        len = (size_t)ix->max_entries * ix->entry_size;
        if (ftruncate(ix->fd, (off_t)len) < 0)
            goto fail;
    }
    if (index_map(ix, len, writable) < 0)
        goto fail;
    if (!writable) {
        /* A read-only map needs no descriptor: thousands of closed segments
         * cost no file descriptors for their indexes. */
        close(ix->fd);
        ix->fd = -1;
    }
    return 0;
fail : {
    int e = errno;
    close(ix->fd);
    ix->fd = -1;
    errno = e;
    return -1;
}
}

void sk_index_close(sk_index *ix)
{
    index_unmap(ix);
    if (ix->fd >= 0)
        close(ix->fd);
    ix->fd = -1;
    ix->entries = ix->max_entries = 0;
    ix->writable = false;
}

int sk_index_trim(sk_index *ix)
{
    if (ix->fd < 0)
        return 0;
    size_t len = (size_t)ix->entries * ix->entry_size;
    index_unmap(ix);
    ix->writable = false;
    ix->max_entries = ix->entries;
    if (ftruncate(ix->fd, (off_t)len) < 0)
        return -1;
    return index_map(ix, len, false);
}

bool sk_index_full(const sk_index *ix)
{
    return ix->entries >= ix->max_entries;
}

static const uint8_t *entry_at(const sk_index *ix, uint32_t i)
{
    return ix->map + (size_t)i * ix->entry_size;
}

/* ---- Offset index ---- */

static int64_t off_rel(const sk_index *ix, uint32_t i)
{
    return (int32_t)sk_be32(entry_at(ix, i));
}

static int64_t off_pos(const sk_index *ix, uint32_t i)
{
    return (int32_t)sk_be32(entry_at(ix, i) + 4);
}

int sk_offset_index_append(sk_index *ix, int64_t base, int64_t offset, int64_t position)
{
    int64_t rel = offset - base;
    if (!ix->writable || sk_index_full(ix) || rel < 0 || rel > INT32_MAX || position > INT32_MAX)
        return -1;
    if (ix->entries > 0 && (rel <= off_rel(ix, ix->entries - 1) || position <= off_pos(ix, ix->entries - 1)))
        return -1;
    uint8_t *e = ix->map + (size_t)ix->entries * ix->entry_size;
    sk_put_be32(e, (uint32_t)rel);
    sk_put_be32(e + 4, (uint32_t)position);
    ix->entries++;
    return 0;
}

int64_t sk_offset_index_lookup(const sk_index *ix, int64_t base, int64_t offset)
{
    int64_t rel = offset - base;
    uint32_t lo = 0, hi = ix->entries; /* find the first entry with rel > target */
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (off_rel(ix, mid) <= rel)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo == 0 ? 0 : off_pos(ix, lo - 1);
}

int64_t sk_offset_index_floor_position(const sk_index *ix, int64_t base, int64_t max_pos, int64_t max_offset)
{
    uint32_t lo = 0, hi = ix->entries; /* first entry with position > max_pos */
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (off_pos(ix, mid) <= max_pos)
            lo = mid + 1;
        else
            hi = mid;
    }
    while (lo > 0 && base + off_rel(ix, lo - 1) >= max_offset)
        lo--;
    return lo == 0 ? 0 : off_pos(ix, lo - 1);
}

int64_t sk_offset_index_last_offset(const sk_index *ix, int64_t base)
{
    return ix->entries ? base + off_rel(ix, ix->entries - 1) : base;
}

int64_t sk_offset_index_last_position(const sk_index *ix)
{
    return ix->entries ? off_pos(ix, ix->entries - 1) : 0;
}

bool sk_offset_index_sane(const sk_index *ix, int64_t base, int64_t next_offset, int64_t log_size)
{
    for (uint32_t i = 0; i < ix->entries; i++) {
        int64_t rel = off_rel(ix, i), pos = off_pos(ix, i);
        if (rel < 0 || pos <= 0 || pos >= log_size)
            return false;
        if (next_offset >= 0 && base + rel >= next_offset)
            return false;
        if (i > 0 && (rel <= off_rel(ix, i - 1) || pos <= off_pos(ix, i - 1)))
            return false;
    }
    return true;
}

/* ---- Time index ---- */

static int64_t time_ts(const sk_index *ix, uint32_t i)
{
    return (int64_t)sk_be64(entry_at(ix, i));
}

static int64_t time_rel(const sk_index *ix, uint32_t i)
{
    return (int32_t)sk_be32(entry_at(ix, i) + 8);
}

void sk_time_index_last(const sk_index *ix, int64_t base, int64_t *timestamp, int64_t *offset)
{
    if (ix->entries == 0) {
        *timestamp = SK_NO_TIMESTAMP;
        *offset = base;
        return;
    }
    *timestamp = time_ts(ix, ix->entries - 1);
    *offset = base + time_rel(ix, ix->entries - 1);
}

void sk_time_index_maybe_append(sk_index *ix, int64_t base, int64_t timestamp, int64_t offset)
{
    int64_t last_ts, last_off;
    int64_t rel = offset - base;
    if (!ix->writable || sk_index_full(ix) || rel < 0 || rel > INT32_MAX)
        return;
    sk_time_index_last(ix, base, &last_ts, &last_off);
    if (timestamp <= last_ts || (ix->entries > 0 && offset < last_off))
        return;
    uint8_t *e = ix->map + (size_t)ix->entries * ix->entry_size;
    sk_put_be64(e, (uint64_t)timestamp);
    sk_put_be32(e + 8, (uint32_t)rel);
    ix->entries++;
}

int64_t sk_time_index_lookup(const sk_index *ix, int64_t base, int64_t timestamp)
{
    uint32_t lo = 0, hi = ix->entries; /* first entry with ts > target */
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (time_ts(ix, mid) <= timestamp)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo == 0 ? base : base + time_rel(ix, lo - 1);
}

bool sk_time_index_sane(const sk_index *ix, int64_t base, int64_t next_offset)
{
    for (uint32_t i = 0; i < ix->entries; i++) {
        int64_t rel = time_rel(ix, i);
        if (rel < 0 || (next_offset >= 0 && base + rel >= next_offset))
            return false;
        if (i > 0 && (time_ts(ix, i) <= time_ts(ix, i - 1) || rel < time_rel(ix, i - 1)))
            return false;
    }
    return true;
}
