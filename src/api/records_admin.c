/*
 * DeleteRecords v0-2: move each partition's log start offset up to the
 * requested offset (-1 = the high watermark), deleting the segments wholly
 * below it, and answer with the new low watermark (the log start offset).
 *
 * Per partition, as Kafka answers (ReplicaManager.deleteRecordsOnLocalLog,
 * Partition.deleteRecordsOnLeader):
 * - an internal topic: INVALID_TOPIC_EXCEPTION;
 * - an unknown topic or partition: UNKNOWN_TOPIC_OR_PARTITION;
 * - a broker that does not lead the partition (skiff.cluster.brokers > 1):
 *   NOT_LEADER_OR_FOLLOWER;
 * - a topic whose cleanup.policy lacks "delete" (compact only):
 *   POLICY_VIOLATION;
 * - an offset below -1 or above the high watermark: OFFSET_OUT_OF_RANGE;
 * errors carry low watermark -1. With one replica the new log start offset
 * is reached at once, so the request never waits for timeout_ms.
 */
#include "admin.h"
#include "kf_msgs.h"
#include "skiff/cluster.h"
#include "skiff/errors.h"
#include "skiff/trace.h"
#include "skiff/topics.h"

static int16_t delete_partition_records(sk_request *req, const sk_topic *t, int32_t index, int64_t offset,
                                        int64_t *low_watermark)
{
    if (t->internal)
        return SK_ERR_INVALID_TOPIC_EXCEPTION;
    sk_partition *p = sk_topics_partition(req->broker, t, index);
    if (!p)
        return SK_ERR_UNKNOWN_TOPIC_OR_PARTITION;
    int16_t err = sk_cluster_check_leader(req, t->name, t->partitions, index, -1, NULL);
    if (err != SK_ERR_NONE)
        return err;
    char scratch[64];
    const char *policy =
        sk_topic_config_value(&t->configs, req->broker->config, SK_TC_CLEANUP_POLICY, scratch, sizeof scratch, NULL);
    if (!sk_topic_config_list_has(policy, "delete"))
        return SK_ERR_POLICY_VIOLATION;
    if (offset < -1)
        return SK_ERR_OFFSET_OUT_OF_RANGE;
    return sk_partition_delete_records(p, offset, low_watermark); /* checkpoints the log start offset */
}

void sk_api_delete_records(sk_request *req)
{
    const kf_delete_records_request *body = req->body;
    kf_delete_records_response *resp = sk_request_response(req);
    if (!resp ||
        kf_mirror_array(&kf_delete_records_response_delete_records_topic_result_desc, &resp->topics,
                        &kf_delete_records_request_delete_records_topic_desc, &body->topics, &req->arena) < 0) {
        sk_request_close(req, "out of memory");
        return;
    }
    for (int32_t i = 0; i < resp->topics.n; i++) {
        const kf_delete_records_request_delete_records_topic *in = &body->topics.items[i];
        kf_delete_records_response_delete_records_partition_result *parts = resp->topics.items[i].partitions.items;
        sk_topic *t = sk_meta_topic(req->broker->meta, in->name.p, (size_t)in->name.len);
        for (int32_t j = 0; j < in->partitions.n; j++) {
            const kf_delete_records_request_delete_records_partition *rp = &in->partitions.items[j];
            int64_t low = -1;
            parts[j].error_code = t ? delete_partition_records(req, t, rp->partition_index, rp->offset, &low)
                                    : SK_ERR_UNKNOWN_TOPIC_OR_PARTITION;
            parts[j].low_watermark = parts[j].error_code == SK_ERR_NONE ? low : -1;
            sk_info("api", "conn %llu: DeleteRecords %s-%d before %lld: %s, low watermark %lld",
                    (unsigned long long)req->conn_id, in->name.p, rp->partition_index, (long long)rp->offset,
                    sk_err_name(parts[j].error_code), (long long)parts[j].low_watermark);
        }
    }
    sk_request_respond(req, resp);
}
