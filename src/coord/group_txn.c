/*
 * Transactional offset commits of the group coordinator (KIP-98, KIP-447;
 * Kafka 4.0's OffsetMetadataManager):
 *
 * - TxnOffsetCommit goes through the commit path of OffsetCommit
 *   (group_offsets.c sk_group_commit) with the producer's id and epoch: the
 *   offsets are written to the group's partition of __consumer_offsets as
 *   one transactional record batch, then kept here, pending, per producer.
 * - The transaction coordinator writes the COMMIT or ABORT marker to that
 *   partition, then calls sk_groups_txn_marker; replay calls it when it
 *   meets the marker in the log. Either way the producer's pending offsets
 *   of the groups on that partition are committed (each unless a later
 *   record, by its offset in the partition, already committed that topic
 *   partition) or dropped. A broker restarted in the middle of a
 *   transaction thus finds its offsets pending again.
 * - An offset tombstone drops the pending offsets of its partition; a
 *   deleted group drops all of its own.
 * - Pending offsets make OffsetFetch with require_stable answer
 *   UNSTABLE_OFFSET_COMMIT, keep the group from expiring and are deleted by
 *   OffsetDelete like committed ones.
 */
#include <stdlib.h>
#include <string.h>

#include "group_int.h"
#include "skiff/errors.h"
#include "skiff/trace.h"

static void txn_offset_free(gtxn_offset *o)
{
    free(o->group_id);
    free(o->topic);
    free(o->metadata);
    free(o);
}

bool sk_group_txn_offset_pending(const sk_groups *gs, const char *group_id, const char *topic, int32_t partition)
{
    for (const gtxn_offset *o = gs->txn_offsets; o; o = o->next)
        if (!strcmp(o->group_id, group_id) && (!topic || (o->partition == partition && !strcmp(o->topic, topic))))
            return true;
    return false;
}

void sk_group_txn_offsets_drop(sk_groups *gs, const char *group_id, const char *topic, int32_t partition)
{
    for (gtxn_offset **pp = &gs->txn_offsets; *pp;) {
        gtxn_offset *o = *pp;
        if (!strcmp(o->group_id, group_id) && (!topic || (o->partition == partition && !strcmp(o->topic, topic)))) {
            *pp = o->next;
            txn_offset_free(o);
        } else {
            pp = &o->next;
        }
    }
}

int sk_group_txn_offset_put(sk_groups *gs, const ggroup *g, int64_t producer_id, const char *topic, int32_t partition,
                            int64_t offset, int32_t leader_epoch, kf_str metadata, int64_t commit_timestamp,
                            int64_t record_offset)
{
    gtxn_offset *o = NULL;
    for (gtxn_offset *x = gs->txn_offsets; x && !o; x = x->next)
        if (x->producer_id == producer_id && x->partition == partition && !strcmp(x->group_id, g->group_id) &&
            !strcmp(x->topic, topic))
            o = x;
    char *md = sk_coord_memdup(metadata);
    if (!md)
        return -1;
    if (!o) {
        o = calloc(1, sizeof *o);
        if (!o || !(o->group_id = sk_coord_strdup(g->group_id)) || !(o->topic = sk_coord_strdup(topic))) {
            if (o)
                txn_offset_free(o);
            free(md);
            return -1;
        }
        o->producer_id = producer_id;
        o->coord_partition = g->partition;
        o->partition = partition;
        o->next = gs->txn_offsets;
        gs->txn_offsets = o;
    }
    free(o->metadata);
    o->metadata = md;
    o->metadata_len = metadata.p ? metadata.len : 0;
    o->offset = offset;
    o->leader_epoch = leader_epoch;
    o->commit_timestamp = commit_timestamp;
    o->record_offset = record_offset;
    return 0;
}

int sk_group_txn_commit_offsets(sk_groups *gs, const kf_txn_offset_commit_request *req,
                                kf_txn_offset_commit_response *resp, sk_arena *arena)
{
    kf_array topics, results; /* req->topics and resp->topics in OffsetCommit's form */
    if (kf_mirror_array(&kf_offset_commit_request_topic_desc, &topics, &kf_txn_offset_commit_request_topic_desc,
                        &req->topics, arena) < 0 ||
        kf_mirror_array(&kf_offset_commit_response_topic_desc, &results, &kf_txn_offset_commit_response_topic_desc,
                        &resp->topics, arena) < 0)
        return -1;
    gcommit_req c = {
        .group_id = req->group_id,
        .member_id = req->member_id,
        .group_instance_id = req->group_instance_id,
        .generation = req->generation_id,
        .unknown_group_error = SK_ERR_ILLEGAL_GENERATION,
        .producer_id = req->producer_id,
        .producer_epoch = req->producer_epoch,
        .expire_timestamp = -1,
        .topics = topics.items,
        .ntopics = topics.n,
        .results = results.items,
    };
    sk_group_commit(gs, &c);
    for (int32_t t = 0; t < resp->topics.n; t++)
        for (int32_t p = 0; p < resp->topics.items[t].partitions.n; p++)
            resp->topics.items[t].partitions.items[p].error_code = c.results[t].partitions.items[p].error_code;
    return 0;
}

void sk_groups_txn_marker(sk_groups *gs, int32_t partition, int64_t producer_id, bool commit)
{
    int committed = 0, dropped = 0;
    for (gtxn_offset **pp = &gs->txn_offsets; *pp;) {
        gtxn_offset *o = *pp;
        if (o->producer_id != producer_id || o->coord_partition != partition) {
            pp = &o->next;
            continue;
        }
        *pp = o->next;
        ggroup *g = commit ? sk_group_find(gs, o->group_id, strlen(o->group_id)) : NULL;
        const goffset *cur = g ? sk_group_offset_find(g, o->topic, o->partition) : NULL;
        if (!g || (cur && cur->record_offset > o->record_offset))
            dropped++;
        else if (sk_group_offset_put(g, o->topic, o->partition, o->offset, o->leader_epoch,
                                     (kf_str){o->metadata, o->metadata_len}, o->commit_timestamp, -1,
                                     o->record_offset) == 0)
            committed++;
        else
            sk_error("group", "group %s: out of memory committing the transactional offset of %s-%d", g->group_id,
                     o->topic, o->partition);
        txn_offset_free(o);
    }
    if (committed || dropped)
        sk_debug("group", "__consumer_offsets-%d: %s marker of producer %lld: %d offsets committed, %d dropped",
                 partition, commit ? "COMMIT" : "ABORT", (long long)producer_id, committed, dropped);
}
