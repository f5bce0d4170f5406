/*
 * Requests for a coordinator that arrive at another broker (several brokers,
 * skiff/cluster.h): Kafka's broker answers them NOT_COORDINATOR without
 * running them, and the client looks its coordinator up again
 * (FindCoordinator). The key is the group id (group APIs, TxnOffsetCommit)
 * or the transactional id (InitProducerId with one, AddPartitionsToTxn
 * v0-3, AddOffsetsToTxn, EndTxn). A request naming several keys
 * (DescribeGroups, DeleteGroups, OffsetFetch v8+, ConsumerGroupDescribe,
 * DescribeTransactions) runs, and its handler answers NOT_COORDINATOR for
 * each key another broker coordinates (sk_api_coordinates), as Kafka's
 * coordinator answers per group; ListGroups and ListTransactions list only
 * the keys this broker coordinates.
 */
#include "kf_msgs.h"
#include "skiff/api.h"
#include "skiff/cluster.h"
#include "skiff/errors.h"
#include "skiff/trace.h"

/* The coordinator key of `req`, or false when it has none. */
static bool coordinator_key(const sk_request *req, int *type, kf_str *key)
{
    const void *b = req->body;
    *type = SK_COORD_GROUP;
    switch (req->hdr.api_key) {
    case KF_API_JOIN_GROUP:
        *key = ((const kf_join_group_request *)b)->group_id;
        return true;
    case KF_API_SYNC_GROUP:
        *key = ((const kf_sync_group_request *)b)->group_id;
        return true;
    case KF_API_HEARTBEAT:
        *key = ((const kf_heartbeat_request *)b)->group_id;
        return true;
    case KF_API_LEAVE_GROUP:
        *key = ((const kf_leave_group_request *)b)->group_id;
        return true;
    case KF_API_OFFSET_COMMIT:
        *key = ((const kf_offset_commit_request *)b)->group_id;
        return true;
    case KF_API_OFFSET_FETCH: /* v8+ name groups: answered per group (sk_api_coordinates) */
        *key = ((const kf_offset_fetch_request *)b)->group_id;
        return req->hdr.api_version < 8;
    case KF_API_OFFSET_DELETE:
        *key = ((const kf_offset_delete_request *)b)->group_id;
        return true;
    case KF_API_TXN_OFFSET_COMMIT:
        *key = ((const kf_txn_offset_commit_request *)b)->group_id;
        return true;
    case KF_API_CONSUMER_GROUP_HEARTBEAT:
        *key = ((const kf_consumer_group_heartbeat_request *)b)->group_id;
        return true;
    default:
        break;
    }
    *type = SK_COORD_TXN;
    switch (req->hdr.api_key) {
    case KF_API_INIT_PRODUCER_ID:
        *key = ((const kf_init_producer_id_request *)b)->transactional_id;
        return key->p != NULL; /* idempotent producers: any broker */
    case KF_API_ADD_PARTITIONS_TO_TXN:
        *key = ((const kf_add_partitions_to_txn_request *)b)->v3_and_below_transactional_id;
        return req->hdr.api_version <= 3;
    case KF_API_ADD_OFFSETS_TO_TXN:
        *key = ((const kf_add_offsets_to_txn_request *)b)->transactional_id;
        return true;
    case KF_API_END_TXN:
        *key = ((const kf_end_txn_request *)b)->transactional_id;
        return true;
    default:
        return false;
    }
}

bool sk_api_coordinates(const sk_request *req, int key_type, kf_str key)
{
    if (sk_cluster_size(req->broker) == 1 || req->node_id == SK_NODE_LOCAL)
        return true;
    return sk_cluster_coordinator(req->broker, key_type, key.p, key.p ? (size_t)key.len : 0) == req->node_id;
}

bool sk_api_route_coordinator(sk_request *req)
{
    if (sk_cluster_size(req->broker) == 1)
        return false;
    int type;
    kf_str key;
    if (!coordinator_key(req, &type, &key))
        return false;
    int32_t node = sk_cluster_coordinator(req->broker, type, key.p, key.p ? (size_t)key.len : 0);
    if (node == req->node_id || req->node_id == SK_NODE_LOCAL)
        return false;
    sk_debug("cluster", "conn %llu: %s for '%.*s' at node %d, coordinator %d: NOT_COORDINATOR",
             (unsigned long long)req->conn_id, req->api->name, key.p ? (int)key.len : 0, key.p ? key.p : "",
             req->node_id, node);
    void *resp = kf_error_response(req->api, req->hdr.api_version, req->body, SK_ERR_NOT_COORDINATOR, KF_ERR_SHALLOWEST,
                                   &req->arena);
    if (!resp)
        sk_request_close(req, "out of memory");
    else
        sk_request_respond(req, resp);
    return true;
}
