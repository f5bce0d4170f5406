/*
 * Producer state of a partition (Kafka 4.0's ProducerStateManager,
 * ProducerStateEntry and ProducerAppendInfo, transaction versions 0 and 1):
 * what the log remembers of every idempotent or transactional producer that
 * wrote to it, so that an append can be checked (epoch fencing, sequence
 * order, duplicates of the last five batches, transactional writes only
 * inside a transaction) and transactions tracked from their first batch to
 * their marker. The earliest open transaction gives the last stable offset;
 * each aborted one becomes a .txnindex entry (txn_index.c).
 *
 * An append stages its changes per producer in an sk_producer_append and
 * applies them only after the bytes are written, as Kafka's UnifiedLog does
 * with ProducerAppendInfo. The state is snapshotted in Kafka's format
 * (`<offset>.snapshot`, ProducerSnapshot v1) at each roll and at a clean
 * close, and rebuilt at load from the newest snapshot at or below the log
 * end offset plus the batch headers after it.
 *
 * Rules (ProducerAppendInfo.checkProducerEpoch/checkSequence/appendDataBatch/
 * appendEndTxnMarker):
 *   epoch < the producer's                      INVALID_PRODUCER_EPOCH
 *   new epoch, sequence != 0, epoch was known   OUT_OF_ORDER_SEQUENCE_NUMBER
 *   same epoch, sequence != last + 1 (with the
 *     INT32_MAX -> 0 wrap), epoch was known     OUT_OF_ORDER_SEQUENCE_NUMBER
 *   unknown producer                            any sequence accepted
 *   non-transactional batch in a transaction    INVALID_TXN_STATE
 *   marker of an older coordinator epoch        TRANSACTION_COORDINATOR_FENCED
 * Sequences are checked for client appends only; coordinator appends check
 * epochs. Since KIP-360 (Kafka 2.5) the log never answers
 * UNKNOWN_PRODUCER_ID: a producer it does not know starts where it says.
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
#include "skiff/crc32c.h"
#include "skiff/errors.h"
#include "skiff/fsutil.h"
#include "skiff/log.h"

#define NO_SEQUENCE (-1)
#define SNAPSHOT_VERSION 1
#define SNAPSHOT_HEADER 10 /* int16 version, uint32 crc, int32 count */
#define SNAPSHOT_CRC_FROM 6
#define SNAPSHOT_ENTRY 46
#define SNAPSHOT_MAX_BYTES (256u << 20)

/* ---- The table ---- */

static uint64_t id_hash(int64_t producer_id)
{
    return sk_hash_bytes(&producer_id, sizeof producer_id);
}

void sk_producer_state_init(sk_producer_state *ps)
{
    memset(ps, 0, sizeof *ps);
}

void sk_producer_state_clear(sk_producer_state *ps)
{
    size_t bucket;
    for (sk_hnode *n = sk_htab_next(&ps->table, NULL, &bucket), *next; n; n = next) {
        next = sk_htab_next(&ps->table, n, &bucket);
        free(SK_CONTAINER_OF(n, sk_producer_entry, node));
    }
    sk_htab_free(&ps->table);
    sk_producer_state_init(ps);
}

const sk_producer_entry *sk_producer_state_find(const sk_producer_state *ps, int64_t producer_id)
{
    uint64_t h = id_hash(producer_id);
    for (sk_hnode *n = sk_htab_chain(&ps->table, h); n; n = n->next) {
        const sk_producer_entry *e = SK_CONTAINER_OF(n, sk_producer_entry, node);
        if (e->producer_id == producer_id)
            return e;
    }
    return NULL;
}

static void entry_reset(sk_producer_entry *e, int64_t producer_id)
{
    memset(e, 0, sizeof *e);
    e->producer_id = producer_id;
    e->producer_epoch = -1;
    e->coordinator_epoch = -1;
    e->last_timestamp = -1;
    e->txn_first_offset = -1;
}

static sk_producer_entry *entry_get_or_add(sk_producer_state *ps, int64_t producer_id)
{
    sk_producer_entry *e = (sk_producer_entry *)sk_producer_state_find(ps, producer_id);
    if (e)
        return e;
    if (!(e = malloc(sizeof *e)))
        return NULL;
    entry_reset(e, producer_id);
    if (sk_htab_insert(&ps->table, &e->node, id_hash(producer_id)) < 0) {
        free(e);
        return NULL;
    }
    return e;
}

size_t sk_producer_state_expire(sk_producer_state *ps, int64_t now_ms, int64_t expiration_ms)
{
    size_t removed = 0;
    size_t bucket;
    for (sk_hnode *n = sk_htab_next(&ps->table, NULL, &bucket), *next; n; n = next) {
        next = sk_htab_next(&ps->table, n, &bucket);
        sk_producer_entry *e = SK_CONTAINER_OF(n, sk_producer_entry, node);
        int64_t idle;
        if (e->txn_first_offset < 0 &&
            (__builtin_sub_overflow(now_ms, e->last_timestamp, &idle) || idle >= expiration_ms)) {
            sk_htab_remove(&ps->table, n);
            free(e);
            removed++;
        }
    }
    return removed;
}

/* Open transactions, ordered by first offset: appends start transactions at
 * growing offsets, so the walk from the tail is one step. */
static void txn_link(sk_producer_state *ps, sk_producer_entry *e)
{
    sk_producer_entry *after = ps->txn_tail;
    while (after && after->txn_first_offset > e->txn_first_offset)
        after = after->txn_prev;
    e->txn_prev = after;
    e->txn_next = after ? after->txn_next : ps->txn_head;
    if (e->txn_next)
        e->txn_next->txn_prev = e;
    else
        ps->txn_tail = e;
    if (after)
        after->txn_next = e;
    else
        ps->txn_head = e;
}

static void txn_unlink(sk_producer_state *ps, sk_producer_entry *e)
{
    if (e->txn_prev)
        e->txn_prev->txn_next = e->txn_next;
    else
        ps->txn_head = e->txn_next;
    if (e->txn_next)
        e->txn_next->txn_prev = e->txn_prev;
    else
        ps->txn_tail = e->txn_prev;
    e->txn_prev = e->txn_next = NULL;
}

int64_t sk_producer_state_first_unstable(const sk_producer_state *ps)
{
    return ps->txn_head ? ps->txn_head->txn_first_offset : -1;
}

/* ---- Sequences (DefaultRecordBatch.incrementSequence/decrementSequence) ---- */

/* Java's int arithmetic wraps: so does ours (in uint32_t), as replayed
 * batches and snapshots may hold any sequence and delta. */
static int32_t seq_increment(int32_t seq, int32_t by)
{
    if (seq == NO_SEQUENCE)
        return NO_SEQUENCE;
    if (seq > (int32_t)((uint32_t)INT32_MAX - (uint32_t)by))
        return (int32_t)((uint32_t)by - ((uint32_t)INT32_MAX - (uint32_t)seq) - 1u);
    return (int32_t)((uint32_t)seq + (uint32_t)by);
}

static int32_t seq_decrement(int32_t seq, int32_t by)
{
    if (seq == NO_SEQUENCE)
        return NO_SEQUENCE;
    if (seq < by)
        return (int32_t)((uint32_t)INT32_MAX - ((uint32_t)by - (uint32_t)seq) + 1u);
    return (int32_t)((uint32_t)seq - (uint32_t)by);
}

static bool in_sequence(int32_t last, int32_t next)
{
    return (int64_t)next == (int64_t)last + 1 || (next == 0 && last == INT32_MAX);
}

static int32_t entry_last_seq(const sk_producer_entry *e)
{
    return e->nbatches ? e->batches[e->nbatches - 1].last_seq : NO_SEQUENCE;
}

/* A new epoch forgets the batches of the old one. */
static void entry_set_epoch(sk_producer_entry *e, int16_t epoch)
{
    if (e->producer_epoch != epoch) {
        e->nbatches = 0;
        e->producer_epoch = epoch;
    }
}

static void entry_add_batch(sk_producer_entry *e, const sk_producer_batch *pb)
{
    if (e->nbatches == SK_PRODUCER_BATCHES) {
        memmove(e->batches, e->batches + 1, (SK_PRODUCER_BATCHES - 1) * sizeof *e->batches);
        e->nbatches--;
    }
    e->batches[e->nbatches++] = *pb;
    e->last_timestamp = pb->timestamp;
}

/* ---- Appends ---- */

static sk_producer_staged *stage(sk_producer_append *pa, const sk_producer_entry *stored, int64_t producer_id)
{
    for (size_t i = 0; i < pa->nstaged; i++)
        if (pa->staged[i].e.producer_id == producer_id)
            return &pa->staged[i];
    if (pa->nstaged == pa->staged_cap) {
        size_t cap = pa->staged_cap ? pa->staged_cap * 2 : 2;
        sk_producer_staged *a = realloc(pa->staged, cap * sizeof *a);
        if (!a)
            return NULL;
        pa->staged = a;
        pa->staged_cap = cap;
    }
    sk_producer_staged *st = &pa->staged[pa->nstaged++];
    if (stored)
        st->e = *stored;
    else
        entry_reset(&st->e, producer_id);
    st->e.node = (sk_hnode){0};
    st->e.txn_prev = st->e.txn_next = NULL;
    st->stored_epoch = stored ? stored->producer_epoch : -1;
    return st;
}

static int add_done(sk_producer_append *pa, const sk_completed_txn *t)
{
    if (pa->ndone == pa->done_cap) {
        size_t cap = pa->done_cap ? pa->done_cap * 2 : 2;
        sk_completed_txn *a = realloc(pa->done, cap * sizeof *a);
        if (!a)
            return -1;
        pa->done = a;
        pa->done_cap = cap;
    }
    pa->done[pa->ndone++] = *t;
    return 0;
}

static int16_t append_marker(sk_producer_append *pa, sk_producer_staged *st, const sk_batch *b,
                             int64_t offset, bool replay)
{
    sk_producer_entry *e = &st->e;
    sk_txn_marker mk;
    int m = sk_batch_txn_marker(b, &mk);
    if (m <= 0)
        return m < 0 && !replay ? SK_ERR_INVALID_RECORD : SK_ERR_NONE;
    if (!replay && b->producer_epoch < e->producer_epoch)
        return SK_ERR_INVALID_PRODUCER_EPOCH;
    if (!replay && e->coordinator_epoch > mk.coordinator_epoch)
        return SK_ERR_TRANSACTION_COORDINATOR_FENCED;
    /* Only a transaction with data is completed (it moves the last stable
     * offset and may need a .txnindex entry). */
    if (e->txn_first_offset >= 0) {
        sk_completed_txn t = {e->producer_id, e->txn_first_offset, offset, mk.type == SK_CONTROL_ABORT};
        if (add_done(pa, &t) < 0)
            return SK_ERR_UNKNOWN_SERVER_ERROR;
    }
    entry_set_epoch(e, b->producer_epoch);
    e->coordinator_epoch = mk.coordinator_epoch;
    e->last_timestamp = mk.timestamp;
    e->txn_first_offset = -1;
    return SK_ERR_NONE;
}

int16_t sk_producer_append_batch(sk_producer_append *pa, const sk_producer_state *ps, const sk_batch *b,
                                 int64_t first_offset, int64_t max_timestamp, sk_append_origin origin,
                                 bool replay, sk_producer_batch *dup)
{
    const sk_producer_entry *stored = sk_producer_state_find(ps, b->producer_id);
    bool control = (b->attributes & SK_BATCH_CONTROL) != 0;
    bool client = origin == SK_APPEND_CLIENT && !replay;
    int32_t last_seq = seq_increment(b->base_sequence, b->last_offset_delta);

    /* A retry of a stored batch: same epoch and sequence range. */
    if (client && !control && stored && stored->producer_epoch == b->producer_epoch) {
        for (int i = 0; i < stored->nbatches; i++) {
            const sk_producer_batch *sb = &stored->batches[i];
            if (sb->first_seq == b->base_sequence && sb->last_seq == last_seq) {
                if (dup)
                    *dup = *sb;
                return SK_ERR_DUPLICATE_SEQUENCE_NUMBER;
            }
        }
    }
    sk_producer_staged *st = stage(pa, stored, b->producer_id);
    if (!st)
        return SK_ERR_UNKNOWN_SERVER_ERROR;
    if (control)
        return append_marker(pa, st, b, first_offset, replay);

    sk_producer_entry *e = &st->e;
    if (!replay && b->producer_epoch < e->producer_epoch)
        return SK_ERR_INVALID_PRODUCER_EPOCH;
    if (client) {
        if (b->producer_epoch != e->producer_epoch) {
            if (b->base_sequence != 0 && e->producer_epoch != -1)
                return SK_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER;
        } else if (st->stored_epoch != -1 && !in_sequence(entry_last_seq(e), b->base_sequence)) {
            return SK_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER;
        }
    }
    sk_producer_batch pb = {
        .first_seq = b->base_sequence,
        .last_seq = last_seq,
        .first_offset = first_offset,
        .last_offset = first_offset + b->last_offset_delta,
        .timestamp = max_timestamp,
    };
    entry_set_epoch(e, b->producer_epoch);
    entry_add_batch(e, &pb);
    bool transactional = (b->attributes & SK_BATCH_TRANSACTIONAL) != 0;
    if (e->txn_first_offset >= 0 && !transactional && !replay)
        return SK_ERR_INVALID_TXN_STATE;
    if (e->txn_first_offset < 0 && transactional)
        e->txn_first_offset = first_offset;
    return SK_ERR_NONE;
}

int sk_producer_append_commit(sk_producer_append *pa, sk_producer_state *ps)
{
    int rc = 0;
    for (size_t i = 0; i < pa->nstaged; i++) {
        const sk_producer_entry *src = &pa->staged[i].e;
        sk_producer_entry *e = entry_get_or_add(ps, src->producer_id);
        if (!e) {
            rc = -1;
            continue;
        }
        bool was_open = e->txn_first_offset >= 0, open = src->txn_first_offset >= 0;
        bool moved = was_open != open || e->txn_first_offset != src->txn_first_offset;
        if (was_open && moved)
            txn_unlink(ps, e);
        e->producer_epoch = src->producer_epoch;
        e->coordinator_epoch = src->coordinator_epoch;
        e->last_timestamp = src->last_timestamp;
        e->txn_first_offset = src->txn_first_offset;
        memcpy(e->batches, src->batches, sizeof e->batches);
        e->nbatches = src->nbatches;
        if (open && moved)
            txn_link(ps, e);
    }
    return rc;
}

void sk_producer_append_free(sk_producer_append *pa)
{
    free(pa->staged);
    free(pa->done);
    memset(pa, 0, sizeof *pa);
}

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

/* ---- Snapshots ---- */

uint8_t *sk_producer_snapshot_render(const sk_producer_state *ps, size_t *len)
{
    size_t n = SNAPSHOT_HEADER + ps->table.count * SNAPSHOT_ENTRY;
    uint8_t *buf = malloc(n);
    if (!buf)
        return NULL;
    sk_put_be16(buf, SNAPSHOT_VERSION);
    sk_put_be32(buf + 6, (uint32_t)ps->table.count);
    uint8_t *p = buf + SNAPSHOT_HEADER;
    size_t bucket;
    for (const sk_hnode *h = sk_htab_next(&ps->table, NULL, &bucket); h; h = sk_htab_next(&ps->table, h, &bucket)) {
        const sk_producer_entry *e = SK_CONTAINER_OF(h, sk_producer_entry, node);
        const sk_producer_batch *last = e->nbatches ? &e->batches[e->nbatches - 1] : NULL;
        sk_put_be64(p, (uint64_t)e->producer_id);
        sk_put_be16(p + 8, (uint16_t)e->producer_epoch);
        sk_put_be32(p + 10, (uint32_t)(last ? last->last_seq : NO_SEQUENCE));
        sk_put_be64(p + 14, (uint64_t)(last ? last->last_offset : -1));
        sk_put_be32(p + 22, last ? (uint32_t)((uint64_t)last->last_offset - (uint64_t)last->first_offset) : 0);
        sk_put_be64(p + 26, (uint64_t)e->last_timestamp);
        sk_put_be32(p + 34, (uint32_t)e->coordinator_epoch);
        sk_put_be64(p + 38, (uint64_t)e->txn_first_offset);
        p += SNAPSHOT_ENTRY;
    }
    sk_put_be32(buf + 2, sk_crc32c(0, buf + SNAPSHOT_CRC_FROM, n - SNAPSHOT_CRC_FROM));
    *len = n;
    return buf;
}

int sk_producer_snapshot_parse(sk_producer_state *ps, const uint8_t *buf, size_t len)
{
    sk_producer_state_clear(ps);
    if (len < SNAPSHOT_HEADER || (int16_t)sk_be16(buf) != SNAPSHOT_VERSION ||
        sk_be32(buf + 2) != sk_crc32c(0, buf + SNAPSHOT_CRC_FROM, len - SNAPSHOT_CRC_FROM))
        return -1;
    uint32_t n = sk_be32(buf + 6);
    if ((len - SNAPSHOT_HEADER) / SNAPSHOT_ENTRY != n || (len - SNAPSHOT_HEADER) % SNAPSHOT_ENTRY != 0)
        return -1;
    const uint8_t *p = buf + SNAPSHOT_HEADER;
    for (uint32_t i = 0; i < n; i++, p += SNAPSHOT_ENTRY) {
        sk_producer_entry *e = entry_get_or_add(ps, (int64_t)sk_be64(p));
        if (!e) {
            sk_producer_state_clear(ps);
            return -1;
        }
        /* A producer id listed twice: the later entry wins (as Kafka's map
         * put), so the earlier one leaves the open-transaction list. */
        if (e->txn_first_offset >= 0)
            txn_unlink(ps, e);
        e->producer_epoch = (int16_t)sk_be16(p + 8);
        int32_t last_seq = (int32_t)sk_be32(p + 10);
        int64_t last_offset = (int64_t)sk_be64(p + 14);
        int32_t delta = (int32_t)sk_be32(p + 22);
        e->last_timestamp = (int64_t)sk_be64(p + 26);
        e->coordinator_epoch = (int32_t)sk_be32(p + 34);
        e->txn_first_offset = (int64_t)sk_be64(p + 38);
        e->nbatches = 0;
        if (last_offset >= 0) {
            /* delta is untrusted: wrap as Java's long arithmetic does, not overflow. */
            int64_t first_offset = (int64_t)((uint64_t)last_offset - (uint64_t)(int64_t)delta);
            sk_producer_batch pb = {seq_decrement(last_seq, delta), last_seq, first_offset, last_offset,
                                    e->last_timestamp};
            entry_add_batch(e, &pb);
        }
        if (e->txn_first_offset >= 0)
            txn_link(ps, e);
        else
            e->txn_first_offset = -1;
    }
    return 0;
}

static void snapshot_path(const sk_partition *p, int64_t offset, char *out, size_t n)
{
    snprintf(out, n, "%s/%020" PRId64 SK_SNAPSHOT_SUFFIX, p->dir, offset);
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
                if (sk_producer_append_batch(&pa, &p->producers, &b, b.base_offset, b.max_timestamp,
                                             SK_APPEND_CLIENT, true, NULL) != SK_ERR_NONE ||
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

/* ---- Markers and reads (logstore.h) ---- */

int16_t sk_partition_append_marker(sk_partition *p, int64_t producer_id, int16_t producer_epoch,
                                   int32_t coordinator_epoch, bool commit, int64_t now_ms, sk_append_info *out)
{
    uint8_t key[4], value[6];
    sk_put_be16(key, 0);
    sk_put_be16(key + 2, commit ? SK_CONTROL_COMMIT : SK_CONTROL_ABORT);
    sk_put_be16(value, 0);
    sk_put_be32(value + 2, (uint32_t)coordinator_epoch);
    sk_record_spec rec = {.key = key, .key_len = sizeof key, .value = value, .value_len = sizeof value,
                          .timestamp = now_ms};
    sk_batch_spec spec = {.attributes = SK_BATCH_TRANSACTIONAL | SK_BATCH_CONTROL,
                          .producer_id = producer_id,
                          .producer_epoch = producer_epoch,
                          .base_sequence = NO_SEQUENCE};
    sk_writer w;
    sk_writer_init(&w, 128);
    int16_t err = SK_ERR_UNKNOWN_SERVER_ERROR;
    if (sk_batch_build(&w, &spec, &rec, 1) == 0)
        err = sk_partition_append_origin(p, SK_APPEND_COORDINATOR, w.buf, w.len, now_ms, out);
    sk_writer_free(&w);
    return err;
}


int64_t sk_partition_last_stable_offset(sk_partition *p)
{
    if (sk_partition_load(p, p->store->recover_on_load) < 0)
        return -1;
    int64_t first = sk_producer_state_first_unstable(&p->producers);
    if (first < 0 || first > p->log_end_offset)
        return p->log_end_offset;
    return first < p->log_start_offset ? p->log_start_offset : first;
}

int16_t sk_partition_aborted_txns(sk_partition *p, int64_t fetch_offset, int64_t upper_bound, sk_arena *arena,
                                  sk_aborted_txn **out, int32_t *n)
{
    *out = NULL;
    *n = 0;
    if (sk_partition_load(p, p->store->recover_on_load) < 0)
        return SK_ERR_KAFKA_STORAGE_ERROR;
    size_t cap = 0;
    for (size_t i = sk_partition_find_segment(p, fetch_offset); i < p->nsegs; i++) {
        sk_segment *seg = p->segs[i];
        if (sk_txn_index_load(seg) < 0)
            return SK_ERR_KAFKA_STORAGE_ERROR;
        bool complete = false;
        for (size_t k = 0; k < seg->naborted && !complete; k++) {
            const sk_aborted_txn *t = &seg->aborted[k];
            if (t->last_offset >= fetch_offset && t->first_offset < upper_bound) {
                if ((size_t)*n == cap) {
                    size_t ncap = cap ? cap * 2 : 4;
                    sk_aborted_txn *a = sk_arena_alloc(arena, ncap * sizeof *a);
                    if (!a)
                        return SK_ERR_UNKNOWN_SERVER_ERROR;
                    if (*n)
                        memcpy(a, *out, (size_t)*n * sizeof *a);
                    *out = a;
                    cap = ncap;
                }
                (*out)[(*n)++] = *t;
            }
            complete = t->last_stable_offset >= upper_bound;
        }
        if (complete)
            break;
    }
    return SK_ERR_NONE;
}

int16_t sk_partition_producers(sk_partition *p, sk_arena *arena, sk_producer_info **out, int32_t *n)
{
    *out = NULL;
    *n = 0;
    if (sk_partition_load(p, p->store->recover_on_load) < 0)
        return SK_ERR_KAFKA_STORAGE_ERROR;
    const sk_producer_state *ps = &p->producers;
    if (ps->table.count == 0)
        return SK_ERR_NONE;
    sk_producer_info *a = sk_arena_alloc(arena, ps->table.count * sizeof *a);
    if (!a)
        return SK_ERR_UNKNOWN_SERVER_ERROR;
    size_t bucket;
    for (const sk_hnode *h = sk_htab_next(&ps->table, NULL, &bucket); h; h = sk_htab_next(&ps->table, h, &bucket)) {
        const sk_producer_entry *e = SK_CONTAINER_OF(h, sk_producer_entry, node);
        a[(*n)++] = (sk_producer_info){
            .producer_id = e->producer_id,
            .producer_epoch = e->producer_epoch,
            .last_sequence = entry_last_seq(e),
            .last_timestamp = e->last_timestamp,
            .coordinator_epoch = e->coordinator_epoch,
            .current_txn_start_offset = e->txn_first_offset,
        };
    }
    *out = a;
    return SK_ERR_NONE;
}
