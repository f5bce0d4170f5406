/*
 * A partition's producer state on disk, over the table of producer_state.c:
 * applying a checked append (aborted transactions become .txnindex
 * entries), the `<offset>.snapshot` files (written at each roll and at a
 * clean close, Kafka's ProducerStateManager.takeSnapshot), and rebuilding
 * the state at load from the newest snapshot at or below the log end offset
 * plus the batch headers after it. Markers, the last stable offset and the
 * reads of transactions are in partition_txn.c.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log_int.h"
#include "skiff/errors.h"
#include "skiff/fsutil.h"
#include "skiff/trace.h"

#define SNAPSHOT_MAX_BYTES (256u << 20) /* a larger snapshot file is corrupt */

int sk_partition_apply_producers(sk_partition *p, sk_segment *seg, sk_producer_append *pa)
{
    int rc = sk_producer_append_commit(pa, &p->producers);
    for (size_t i = 0; i < pa->ndone; i++) {
        const sk_completed_txn *t = &pa->done[i];
        if (!t->aborted)
            continue;
        /* Kafka's ProducerStateManager.lastStableOffset(completedTxn): the
         * next transaction still open, else just after the marker. */
        int64_t lso = sk_producer_state_first_unstable(&p->producers);
        sk_aborted_txn a = {t->producer_id, t->first_offset, t->last_offset, lso >= 0 ? lso : t->last_offset + 1};
        if (sk_txn_index_append(seg, &a) < 0) {
            sk_error("log", "%s.txnindex: cannot record the aborted transaction of producer %" PRId64 ": %m",
                     seg->prefix, t->producer_id);
            rc = -1;
        }
    }
    return rc;
}

static void snapshot_path(const sk_partition *p, int64_t offset, char *out, size_t n)
{
    sk_offset_file_path(out, n, p->dir, offset, SK_SNAPSHOT_SUFFIX, "");
}

/* The snapshot offsets in the partition directory, ascending (heap array in
 * *out, caller frees). Returns the count, or -1. */
static int list_snapshots(const sk_partition *p, int64_t **out)
{
    *out = NULL;
    DIR *d = opendir(p->dir);
    if (!d)
        return -1;
    int n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        int64_t off = sk_offset_file_name(de->d_name, SK_SNAPSHOT_SUFFIX);
        if (off < 0)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 4;
            int64_t *a = realloc(*out, (size_t)cap * sizeof *a);
            if (!a) {
                closedir(d);
                free(*out);
                *out = NULL;
                return -1;
            }
            *out = a;
        }
        (*out)[n++] = off;
    }
    closedir(d);
    if (n > 1)
        qsort(*out, (size_t)n, sizeof **out, sk_offset_cmp);
    return n;
}

static void remove_snapshot(const sk_partition *p, int64_t offset)
{
    char path[4096];
    snapshot_path(p, offset, path, sizeof path);
    if (unlink(path) < 0 && errno != ENOENT)
        sk_warn("log", "cannot delete %s: %m", path);
}

/* Writes `len` bytes to `path` through a .tmp file and a rename, without
 * fsync (the caller syncs the whole file system). 0 or -1. */
static int write_unsynced(const char *path, const uint8_t *data, size_t len)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    int rc = sk_pwrite_full(fd, data, len, 0);
    if (close(fd) < 0)
        rc = -1;
    if (rc == 0 && rename(tmp, path) < 0)
        rc = -1;
    if (rc < 0)
        unlink(tmp);
    return rc;
}

void sk_partition_snapshot_producers(sk_partition *p, bool later)
{
    if (!p->loaded || p->deleted || p->nsegs == 0)
        return;
    char path[4096];
    snapshot_path(p, p->log_end_offset, path, sizeof path);
    size_t len;
    uint8_t *data = sk_producer_snapshot_render(&p->producers, &len);
    if (!data) {
        sk_error("log", "%s: cannot snapshot the producer state: out of memory", p->dir);
        return;
    }
    if (later) {
        sk_partition_write_later(p, strrchr(path, '/') + 1, (char *)data, len);
    } else {
        if (write_unsynced(path, data, len) < 0)
            sk_error("log", "cannot write %s: %m", path);
        free(data);
    }
    /* Keep the snapshots from the segment before the active one on: enough
     * to start from if the newest is lost with the tail of the log. */
    int64_t keep_from = p->segs[p->nsegs > 1 ? p->nsegs - 2 : 0]->base_offset;
    int64_t *offs;
    int n = list_snapshots(p, &offs);
    for (int i = 0; i < n; i++)
        if (offs[i] < keep_from)
            remove_snapshot(p, offs[i]);
    free(offs);
}

/* ---- Rebuilding at load ---- */

/* Replays the producer batches of the log from `from` to its end into
 * p->producers (no checks), rewriting the .txnindex entries from `from` on
 * (dropping those of batches no longer in the log). */
static int rebuild_from(sk_partition *p, int64_t from)
{
    uint8_t *buf = NULL;
    size_t cap = 0;
    int rc = 0;
    for (size_t i = sk_partition_find_segment(p, from); rc == 0 && i < p->nsegs; i++) {
        sk_segment *seg = p->segs[i];
        if (sk_partition_ensure_segment(p, i) < 0 || sk_txn_index_truncate(seg, from) < 0) {
            rc = -1;
            break;
        }
        sk_batch b;
        int64_t pos = sk_segment_find(seg, from, &b);
        if (pos == -2)
            rc = -1;
        while (rc == 0 && pos >= 0 && pos < seg->size) {
            if (sk_segment_read_header(seg, pos, &b) < 0)
                break;
            if (b.producer_id >= 0 && sk_batch_last_offset(&b) >= from) {
                if (b.attributes & SK_BATCH_CONTROL) {
                    if (b.size > cap) {
                        uint8_t *nb = realloc(buf, b.size);
                        if (!nb) {
                            rc = -1;
                            break;
                        }
                        buf = nb;
                        cap = b.size;
                    }
                    if (sk_pread_full(seg->file->fd, buf, b.size, pos) < 0) {
                        rc = -1;
                        break;
                    }
                    sk_batch_header_parse(&b, buf, b.size);
                }
                sk_producer_append pa = {0};
                if (sk_producer_append_batch(&pa, &p->producers, &b, b.base_offset, b.max_timestamp, SK_APPEND_CLIENT,
                                             true, NULL) != SK_ERR_NONE ||
                    sk_partition_apply_producers(p, seg, &pa) < 0)
                    rc = -1;
                sk_producer_append_free(&pa);
            }
            pos += (int64_t)b.size;
        }
    }
    free(buf);
    return rc;
}

int sk_partition_load_producers(sk_partition *p)
{
    sk_producer_state_clear(&p->producers);
    int64_t *offs;
    int n = list_snapshots(p, &offs);
    int64_t from = -1;
    for (int i = n - 1; i >= 0; i--) {
        char path[4096];
        snapshot_path(p, offs[i], path, sizeof path);
        if (offs[i] > p->log_end_offset) {
            sk_info("log", "%s: deleting a snapshot beyond the log end offset %" PRId64, path, p->log_end_offset);
            remove_snapshot(p, offs[i]);
            continue;
        }
        size_t len;
        char *data = sk_file_read_all(path, SNAPSHOT_MAX_BYTES, &len);
        if (data && sk_producer_snapshot_parse(&p->producers, (const uint8_t *)data, len) == 0) {
            free(data);
            from = offs[i];
            break;
        }
        sk_warn("log", "%s: %s, deleting it", path, data ? "corrupt snapshot" : strerror(errno));
        free(data);
        remove_snapshot(p, offs[i]);
    }
    free(offs);
    if (from < p->segs[0]->base_offset)
        from = p->segs[0]->base_offset;
    /* Even with nothing to replay, .txnindex entries at or beyond `from`
     * belong to batches a crash took away. */
    if (from < p->log_end_offset)
        sk_debug("log", "%s: rebuilding the producer state from offset %" PRId64, p->dir, from);
    if (rebuild_from(p, from) < 0) {
        sk_error("log", "%s: cannot rebuild the producer state from offset %" PRId64, p->dir, from);
        return -1;
    }
    /* Producers that expired while the partition was closed stay forgotten. */
    sk_producer_state_expire(&p->producers, sk_logstore_now(p->store), p->store->producer_expiration_ms);
    return 0;
}
