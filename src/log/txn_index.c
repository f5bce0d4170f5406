/*
 * The aborted-transaction index of a segment, `<base offset>.txnindex`
 * (Kafka's TransactionIndex): one entry per transaction whose ABORT marker
 * lies in the segment, appended when the marker is appended (or found again
 * when the producer state is rebuilt after an unclean stop). read_committed
 * fetches read it to tell consumers which records to drop. The whole file is
 * kept in memory once read: entries are few (aborts only).
 *
 * Entry layout (big-endian, 34 bytes, no header):
 *
 *   OFFSET SIZE DESCRIPTION
 *        0    2 version (0)
 *        2    8 producer id
 *       10    8 first offset of the transaction
 *       18    8 last offset (the ABORT marker)
 *       26    8 last stable offset of the partition once the transaction ended
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log_int.h"
#include "skiff/buf.h"
#include "skiff/trace.h"

#define TXN_INDEX_VERSION 0
#define TXN_INDEX_MAX_BYTES (64u << 20) /* sanity bound on what is read */

static int aborted_reserve(sk_segment *seg, size_t n)
{
    if (n <= seg->aborted_cap)
        return 0;
    size_t cap = seg->aborted_cap ? seg->aborted_cap * 2 : 4;
    while (cap < n)
        cap *= 2;
    sk_aborted_txn *a = realloc(seg->aborted, cap * sizeof *a);
    if (!a)
        return -1;
    seg->aborted = a;
    seg->aborted_cap = cap;
    return 0;
}

static void txn_path(const sk_segment *seg, char *out, size_t n)
{
    sk_segment_path(seg, ".txnindex", out, n);
}

int sk_txn_index_load(sk_segment *seg)
{
    if (seg->txn_index_loaded)
        return 0;
    char path[4096];
    txn_path(seg, path, sizeof path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno != ENOENT)
            return -1;
        seg->naborted = 0;
        seg->txn_index_loaded = true;
        return 0;
    }
    struct stat st;
    uint8_t *buf = NULL;
    int rc = -1;
    if (fstat(fd, &st) < 0 || (uint64_t)st.st_size > TXN_INDEX_MAX_BYTES)
        goto out;
    size_t len = (size_t)st.st_size - (size_t)st.st_size % SK_TXN_INDEX_ENTRY;
    if (len > 0 && (!(buf = malloc(len)) || sk_pread_full(fd, buf, len, 0) < 0))
        goto out;
    size_t n = len / SK_TXN_INDEX_ENTRY;
    if (aborted_reserve(seg, n) < 0)
        goto out;
    seg->naborted = 0;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *e = buf + i * SK_TXN_INDEX_ENTRY;
        if ((int16_t)sk_be16(e) != TXN_INDEX_VERSION) {
            sk_warn("log", "%s: entry %zu has version %d, ignoring the rest", path, i, (int16_t)sk_be16(e));
            break;
        }
        seg->aborted[seg->naborted++] = (sk_aborted_txn){
            .producer_id = (int64_t)sk_be64(e + 2),
            .first_offset = (int64_t)sk_be64(e + 10),
            .last_offset = (int64_t)sk_be64(e + 18),
            .last_stable_offset = (int64_t)sk_be64(e + 26),
        };
    }
    seg->txn_index_loaded = true;
    rc = 0;
out:
    free(buf);
    close(fd);
    return rc;
}

static int open_for_write(sk_segment *seg)
{
    if (seg->txn_fd >= 0)
        return 0;
    char path[4096];
    txn_path(seg, path, sizeof path);
    seg->txn_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    return seg->txn_fd < 0 ? -1 : 0;
}

int sk_txn_index_append(sk_segment *seg, const sk_aborted_txn *t)
{
    if (sk_txn_index_load(seg) < 0 || aborted_reserve(seg, seg->naborted + 1) < 0 || open_for_write(seg) < 0)
        return -1;
    uint8_t e[SK_TXN_INDEX_ENTRY];
    sk_put_be16(e, TXN_INDEX_VERSION);
    sk_put_be64(e + 2, (uint64_t)t->producer_id);
    sk_put_be64(e + 10, (uint64_t)t->first_offset);
    sk_put_be64(e + 18, (uint64_t)t->last_offset);
    sk_put_be64(e + 26, (uint64_t)t->last_stable_offset);
    if (sk_pwrite_full(seg->txn_fd, e, sizeof e, (int64_t)(seg->naborted * SK_TXN_INDEX_ENTRY)) < 0)
        return -1;
    seg->aborted[seg->naborted++] = *t;
    return 0;
}

int sk_txn_index_truncate(sk_segment *seg, int64_t offset)
{
    if (sk_txn_index_load(seg) < 0)
        return -1;
    size_t keep = 0;
    while (keep < seg->naborted && seg->aborted[keep].last_offset < offset)
        keep++;
    char path[4096];
    txn_path(seg, path, sizeof path);
    if (keep == seg->naborted) {
        struct stat st;
        /* Nothing to drop, unless the file holds more than was read (a torn
         * or foreign tail). */
        if (stat(path, &st) < 0 || st.st_size == (off_t)(keep * SK_TXN_INDEX_ENTRY))
            return 0;
    }
    seg->naborted = keep;
    if (keep == 0 && seg->txn_fd < 0)
        return unlink(path) < 0 && errno != ENOENT ? -1 : 0;
    if (open_for_write(seg) < 0 || ftruncate(seg->txn_fd, (off_t)(keep * SK_TXN_INDEX_ENTRY)) < 0)
        return -1;
    return 0;
}

void sk_txn_index_close(sk_segment *seg)
{
    if (seg->txn_fd >= 0)
        close(seg->txn_fd);
    seg->txn_fd = -1;
    free(seg->aborted);
    seg->aborted = NULL;
    seg->naborted = seg->aborted_cap = 0;
    seg->txn_index_loaded = false;
}
