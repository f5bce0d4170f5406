/*
 * The coordinator runtime's write path, shaped like Kafka's
 * CoordinatorRuntime: an operation produces records (a grecs batch) and
 * its answer; the records are appended to the coordinator's internal
 * topic as one batch and, only once stored, applied through the same
 * replay() that loads the topic at start-up. State therefore changes in
 * one way, whether written now or read back after a restart, and a failed
 * append leaves it untouched (the operation answers the store's error).
 * Timers are the coordinator's one heap (group_table.c: gtimer_*) on the
 * injectable clock of sk_groups_opts.now_ms.
 *
 * Consumer-protocol groups (cgroup*.c) run on it; the classic group and
 * the transaction coordinators still change their state themselves after
 * their own appends (see docs/consumer-protocol.md, "What remains").
 */
#include <stdlib.h>

#include "cgroup_int.h"
#include "skiff/errors.h"
#include "skiff/trace.h"

int16_t coord_write(sk_groups *gs, const ggroup *g, grecs *b)
{
    if (b->n == 0)
        return SK_ERR_NONE;
    int64_t base = -1;
    int32_t partition = g->partition;
    int16_t err = grecs_append(gs, g, b, &base);
    if (err != SK_ERR_NONE) {
        sk_warn("group", "__consumer_offsets-%d: cannot store %d records: %s", partition, b->n, sk_err_name(err));
        return groups_append_error(err);
    }
    /* `g` may be freed by the replay of its last tombstone: not used below. */
    for (int i = 0; i < b->n; i++) {
        sk_group_record rec = {b->w.buf + b->items[i].key_off, b->items[i].key_len,
                               b->items[i].tombstone ? NULL : b->w.buf + b->items[i].value_off,
                               b->items[i].tombstone ? 0 : b->items[i].value_len};
        if (sk_groups_replay(gs, &rec, base + i, -1) < 0)
            sk_error("group", "__consumer_offsets-%d: BUG: a record just written does not replay", partition);
    }
    return SK_ERR_NONE;
}
