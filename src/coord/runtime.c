/*
 * The group coordinator runtime's write path, shaped like Kafka's
 * CoordinatorRuntime: an operation produces records (a grecs batch) and
 * its answer; the records are appended to __consumer_offsets as one batch
 * and, only once stored, applied through the same replay() that loads the
 * topic at start-up (sk_groups_replay: group_records.c for classic groups
 * and offsets, cgroup_records.c for consumer groups). State therefore
 * changes in one way, whether written now or read back after a restart,
 * and a failed append leaves it untouched (the operation answers the
 * store's error). The append is synchronous: when sk_coord_write returns the
 * batch is in the log under its flush policy, so an answer given after it
 * is given for stored state.
 *
 * While a write replays its own records gs->writing is set: replay then
 * knows the record describes a group that lives in memory (a classic
 * group's members, parked requests and timers are not in its record) and
 * updates that group instead of rebuilding it.
 *
 * Timers are on the coordinators' one facility (coord_timer.h) on the
 * injectable clock of sk_groups_opts.now_ms. The transaction coordinator
 * follows the same rules for __transaction_state (txn.c: txn_write).
 */
#include <stdlib.h>
#include <string.h>

#include "cgroup_int.h"
#include "skiff/errors.h"
#include "skiff/trace.h"

/* Hands the batch to the store for __consumer_offsets-`partition`.
 * *base_offset gets the offset of its first record (without a store, a
 * counter's). Returns NONE, UNKNOWN_SERVER_ERROR when building failed, or
 * the store's error as is. */
static int16_t grecs_append(sk_groups *gs, int32_t partition, grecs *b, int64_t *base_offset)
{
    if (b->err || b->w.err)
        return SK_ERR_UNKNOWN_SERVER_ERROR;
    int64_t base = gs->next_record_offset;
    int16_t err = SK_ERR_NONE;
    if (gs->has_store) {
        sk_group_record *recs = calloc((size_t)b->n, sizeof *recs);
        if (!recs)
            return SK_ERR_UNKNOWN_SERVER_ERROR;
        for (int i = 0; i < b->n; i++) {
            recs[i].key = b->w.buf + b->items[i].key_off;
            recs[i].key_len = b->items[i].key_len;
            recs[i].value = b->items[i].tombstone ? NULL : b->w.buf + b->items[i].value_off;
            recs[i].value_len = b->items[i].tombstone ? 0 : b->items[i].value_len;
        }
        sk_group_batch batch = {partition, recs, b->n, b->producer_id, b->producer_epoch, sk_groups_now(gs)};
        err = gs->store.append(gs->store.arg, &batch, &base);
        free(recs);
    } else {
        gs->next_record_offset += b->n;
    }
    if (err == SK_ERR_NONE)
        *base_offset = base;
    return err;
}

int16_t sk_coord_write(sk_groups *gs, int32_t partition, grecs *b)
{
    if (b->n == 0)
        return SK_ERR_NONE;
    int64_t base = -1;
    int16_t err = grecs_append(gs, partition, b, &base);
    if (err != SK_ERR_NONE) {
        sk_warn("group", "__consumer_offsets-%d: cannot store %d records: %s", partition, b->n, sk_err_name(err));
        return sk_groups_append_error(err);
    }
    /* The batch's own records: a group it names may be freed by the replay
     * of its tombstone, so no group pointer is held across this loop. */
    int64_t producer_id = b->producer_id >= 0 ? b->producer_id : -1;
    gs->writing = true;
    for (int i = 0; i < b->n; i++) {
        sk_group_record rec = {b->w.buf + b->items[i].key_off, b->items[i].key_len,
                               b->items[i].tombstone ? NULL : b->w.buf + b->items[i].value_off,
                               b->items[i].tombstone ? 0 : b->items[i].value_len};
        if (sk_groups_replay(gs, &rec, base + i, producer_id) < 0) {
            sk_error("group", "__consumer_offsets-%d: a record just written does not apply (out of memory?)",
                     partition);
            err = SK_ERR_UNKNOWN_SERVER_ERROR;
        }
    }
    gs->writing = false;
    return err;
}

int16_t sk_group_write_deletion(sk_groups *gs, ggroup *g, grecs *b, const char *reason)
{
    char *id = sk_coord_strdup(g->group_id);
    if (!id)
        return SK_ERR_UNKNOWN_SERVER_ERROR;
    int16_t err = sk_coord_write(gs, g->partition, b);
    /* A classic group's tombstone removed it; a consumer group's records
     * end its consumer part (Kafka keeps offsets apart from groups, skiff
     * hangs them off the group: the group itself goes here). */
    if (err == SK_ERR_NONE && (g = sk_group_find(gs, id, strlen(id))) != NULL)
        sk_group_destroy(gs, g, reason);
    free(id);
    return err;
}
