/*
 * A partition's transactions as the API sees them (logstore.h): writing a
 * transaction marker, the last stable offset, the aborted transactions a
 * read_committed fetch skips, and the producers of DescribeProducers. The
 * producer state they read is kept by producer_snapshot.c.
 */
#include <string.h>

#include "log_int.h"
#include "skiff/errors.h"
#include "skiff/invariant.h"

int16_t sk_partition_append_marker(sk_partition *p, int64_t producer_id, int16_t producer_epoch,
                                   int32_t coordinator_epoch, bool commit, int64_t now_ms, sk_append_info *out)
{
    uint8_t key[4], value[6];
    sk_put_be16(key, 0);
    sk_put_be16(key + 2, commit ? SK_CONTROL_COMMIT : SK_CONTROL_ABORT);
    sk_put_be16(value, 0);
    sk_put_be32(value + 2, (uint32_t)coordinator_epoch);
    sk_record_spec rec = {
        .key = key, .key_len = sizeof key, .value = value, .value_len = sizeof value, .timestamp = now_ms};
    sk_batch_spec spec = {.attributes = SK_BATCH_TRANSACTIONAL | SK_BATCH_CONTROL,
                          .producer_id = producer_id,
                          .producer_epoch = producer_epoch,
                          .base_sequence = SK_NO_SEQUENCE};
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
    SK_INVARIANT(p->loaded, p->dir);
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
    if (sk_partition_ensure_loaded(p) != SK_ERR_NONE)
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
    if (sk_partition_ensure_loaded(p) != SK_ERR_NONE)
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
            .last_sequence = sk_producer_entry_last_seq(e),
            .last_timestamp = e->last_timestamp,
            .coordinator_epoch = e->coordinator_epoch,
            .current_txn_start_offset = e->txn_first_offset,
        };
    }
    *out = a;
    return SK_ERR_NONE;
}
