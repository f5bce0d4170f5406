/*
 * ListOffsets v1-10: per partition, the offset for a timestamp.
 *
 * Behaviour, as Kafka answers:
 * - -1 (latest): the high watermark, or the last stable offset for
 *   read_committed (the first offset of the oldest open transaction, else
 *   the high watermark); -2 (earliest) and
 *   -4 (earliest local, v8+): the log start offset; -3 (max timestamp, v7+):
 *   the offset and timestamp of the record with the largest timestamp;
 *   -5 (earliest pending upload, v9+): none (no tiered storage).
 *   These answer timestamp -1 except -3.
 * - A timestamp >= 0: the first offset whose record timestamp is at least
 *   it, with that timestamp; offset and timestamp -1 when no record is that
 *   new.
 * - Unknown topic or partition: UNKNOWN_TOPIC_OR_PARTITION.
 */
#include "kf_msgs.h"
#include "skiff/api.h"
#include "skiff/cluster.h"
#include "skiff/errors.h"
#include "skiff/topics.h"

#define EARLIEST_PENDING_UPLOAD (-5LL)

static int16_t lookup(sk_partition *p, int64_t ts, int8_t isolation_level, int64_t *offset, int64_t *found_ts)
{
    *found_ts = -1;
    switch (ts) {
    case SK_LIST_OFFSETS_LATEST:
        *offset =
            isolation_level == SK_READ_COMMITTED ? sk_partition_last_stable_offset(p) : sk_partition_high_watermark(p);
        return SK_ERR_NONE;
    case SK_LIST_OFFSETS_EARLIEST:
    case SK_LIST_OFFSETS_EARLIEST_LOCAL:
        *offset = sk_partition_log_start_offset(p);
        return SK_ERR_NONE;
    case EARLIEST_PENDING_UPLOAD:
        *offset = -1;
        return SK_ERR_NONE;
    default:
        return sk_partition_offset_for_timestamp(p, ts, offset, found_ts);
    }
}

void sk_api_list_offsets(sk_request *req)
{
    const kf_list_offsets_request *body = req->body;
    kf_list_offsets_response *resp = sk_request_response(req);
    if (!resp || kf_mirror_array(&kf_list_offsets_response_topic_desc, &resp->topics,
                                 &kf_list_offsets_request_topic_desc, &body->topics, &req->arena) < 0) {
        sk_request_close(req, "out of memory");
        return;
    }
    for (int32_t i = 0; i < resp->topics.n; i++) {
        const kf_list_offsets_request_topic *rt = &body->topics.items[i];
        sk_topic *t = rt->name.p ? sk_meta_topic(req->broker->meta, rt->name.p, (size_t)rt->name.len) : NULL;
        for (int32_t j = 0; j < rt->partitions.n; j++) {
            const kf_list_offsets_request_partition *rp = &rt->partitions.items[j];
            kf_list_offsets_response_partition *po = &resp->topics.items[i].partitions.items[j];
            sk_partition *p = t ? sk_topics_partition(req->broker, t, rp->partition_index) : NULL;
            po->offset = -1;
            po->timestamp = -1; /* mirrored from the request's target timestamp */
            po->leader_epoch = -1;
            if (!p) {
                po->error_code = SK_ERR_UNKNOWN_TOPIC_OR_PARTITION;
                continue;
            }
            /* Consumers (replica id -1) need the leader; followers (>= 0) any replica. */
            po->error_code = sk_cluster_check_leader(req, t->name, t->partitions, rp->partition_index,
                                                     rp->current_leader_epoch, NULL);
            if (po->error_code == SK_ERR_NOT_LEADER_OR_FOLLOWER && body->replica_id >= 0)
                po->error_code = SK_ERR_NONE;
            if (po->error_code == SK_ERR_NONE)
                po->error_code = sk_partition_ensure_loaded(p);
            if (po->error_code != SK_ERR_NONE)
                continue;
            po->error_code = lookup(p, rp->timestamp, body->isolation_level, &po->offset, &po->timestamp);
            if (po->error_code == SK_ERR_NONE && po->offset >= 0)
                po->leader_epoch =
                    sk_cluster_epoch_at(req->broker, t->name, t->partitions, rp->partition_index, po->offset);
        }
    }
    sk_request_respond(req, resp);
}
