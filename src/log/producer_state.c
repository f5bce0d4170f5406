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
 * with ProducerAppendInfo. The state renders to and parses from Kafka's
 * snapshot format (ProducerSnapshot v1); producer_snapshot.c keeps the
 * partition's snapshot files, partition_txn.c its transaction features.
 *
 * This file knows the table only, not partitions or files.
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
#include <stdlib.h>
#include <string.h>

#include "log_int.h"
#include "skiff/crc32c.h"
#include "skiff/errors.h"

#define SNAPSHOT_VERSION 1
#define SNAPSHOT_HEADER 10 /* int16 version, uint32 crc, int32 count */
#define SNAPSHOT_CRC_FROM 6
#define SNAPSHOT_ENTRY 46

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
    if (seq == SK_NO_SEQUENCE)
        return SK_NO_SEQUENCE;
    if (seq > (int32_t)((uint32_t)INT32_MAX - (uint32_t)by))
        return (int32_t)((uint32_t)by - ((uint32_t)INT32_MAX - (uint32_t)seq) - 1u);
    return (int32_t)((uint32_t)seq + (uint32_t)by);
}

static int32_t seq_decrement(int32_t seq, int32_t by)
{
    if (seq == SK_NO_SEQUENCE)
        return SK_NO_SEQUENCE;
    if (seq < by)
        return (int32_t)((uint32_t)INT32_MAX - ((uint32_t)by - (uint32_t)seq) + 1u);
    return (int32_t)((uint32_t)seq - (uint32_t)by);
}

static bool in_sequence(int32_t last, int32_t next)
{
    return (int64_t)next == (int64_t)last + 1 || (next == 0 && last == INT32_MAX);
}

int32_t sk_producer_entry_last_seq(const sk_producer_entry *e)
{
    return e->nbatches ? e->batches[e->nbatches - 1].last_seq : SK_NO_SEQUENCE;
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

static int16_t append_marker(sk_producer_append *pa, sk_producer_staged *st, const sk_batch *b, int64_t offset,
                             bool replay)
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
                                 int64_t first_offset, int64_t max_timestamp, sk_append_origin origin, bool replay,
                                 sk_producer_batch *dup)
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
        } else if (st->stored_epoch != -1 && !in_sequence(sk_producer_entry_last_seq(e), b->base_sequence)) {
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
        sk_put_be32(p + 10, (uint32_t)(last ? last->last_seq : SK_NO_SEQUENCE));
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
