/*
 * Dispatch: the handler table is the only list of the APIs skiff serves;
 * ApiVersions advertises exactly these, with the version ranges of their
 * schemas.
 */
#include "authz.h"
#include "kf_msgs.h"
#include "skiff/api.h"
#include "skiff/cluster.h"

static const sk_api_handler handlers[] = {
    [KF_API_PRODUCE] = sk_api_produce,
    [KF_API_FETCH] = sk_api_fetch,
    [KF_API_LIST_OFFSETS] = sk_api_list_offsets,
    [KF_API_METADATA] = sk_api_metadata,
    [KF_API_API_VERSIONS] = sk_api_versions,
    [KF_API_OFFSET_COMMIT] = sk_api_offset_commit,
    [KF_API_OFFSET_FETCH] = sk_api_offset_fetch,
    [KF_API_FIND_COORDINATOR] = sk_api_find_coordinator,
    [KF_API_JOIN_GROUP] = sk_api_join_group,
    [KF_API_HEARTBEAT] = sk_api_heartbeat,
    [KF_API_LEAVE_GROUP] = sk_api_leave_group,
    [KF_API_SYNC_GROUP] = sk_api_sync_group,
    [KF_API_DESCRIBE_GROUPS] = sk_api_describe_groups,
    [KF_API_LIST_GROUPS] = sk_api_list_groups,
    [KF_API_DELETE_GROUPS] = sk_api_delete_groups,
    [KF_API_OFFSET_DELETE] = sk_api_offset_delete,
    [KF_API_CREATE_TOPICS] = sk_api_create_topics,
    [KF_API_DELETE_TOPICS] = sk_api_delete_topics,
    [KF_API_CREATE_PARTITIONS] = sk_api_create_partitions,
    [KF_API_DESCRIBE_CONFIGS] = sk_api_describe_configs,
    [KF_API_ALTER_CONFIGS] = sk_api_alter_configs,
    [KF_API_INCREMENTAL_ALTER_CONFIGS] = sk_api_incremental_alter_configs,
    [KF_API_DELETE_RECORDS] = sk_api_delete_records,
    [KF_API_DESCRIBE_CLUSTER] = sk_api_describe_cluster,
    [KF_API_DESCRIBE_LOG_DIRS] = sk_api_describe_log_dirs,
    [KF_API_OFFSET_FOR_LEADER_EPOCH] = sk_api_offset_for_leader_epoch,
    [KF_API_ELECT_LEADERS] = sk_api_elect_leaders,
    [KF_API_ALTER_PARTITION_REASSIGNMENTS] = sk_api_alter_partition_reassignments,
    [KF_API_LIST_PARTITION_REASSIGNMENTS] = sk_api_list_partition_reassignments,
    [KF_API_DESCRIBE_ACLS] = sk_api_describe_acls,
    [KF_API_CREATE_ACLS] = sk_api_create_acls,
    [KF_API_DELETE_ACLS] = sk_api_delete_acls,
    [KF_API_INIT_PRODUCER_ID] = sk_api_init_producer_id,
    [KF_API_ADD_PARTITIONS_TO_TXN] = sk_api_add_partitions_to_txn,
    [KF_API_ADD_OFFSETS_TO_TXN] = sk_api_add_offsets_to_txn,
    [KF_API_END_TXN] = sk_api_end_txn,
    [KF_API_TXN_OFFSET_COMMIT] = sk_api_txn_offset_commit,
    [KF_API_DESCRIBE_PRODUCERS] = sk_api_describe_producers,
    [KF_API_DESCRIBE_TRANSACTIONS] = sk_api_describe_transactions,
    [KF_API_LIST_TRANSACTIONS] = sk_api_list_transactions,
    [KF_API_DESCRIBE_TOPIC_PARTITIONS] = sk_api_describe_topic_partitions,
    [KF_API_SASL_HANDSHAKE] = sk_api_sasl_handshake,
    [KF_API_SASL_AUTHENTICATE] = sk_api_sasl_authenticate,
    [KF_API_DESCRIBE_USER_SCRAM_CREDENTIALS] = sk_api_describe_user_scram_credentials,
    [KF_API_ALTER_USER_SCRAM_CREDENTIALS] = sk_api_alter_user_scram_credentials,
    [KF_API_CONSUMER_GROUP_HEARTBEAT] = sk_api_consumer_group_heartbeat,
    [KF_API_CONSUMER_GROUP_DESCRIBE] = sk_api_consumer_group_describe,
};

sk_api_handler sk_api_handler_find(int16_t key)
{
    if (key < 0 || (size_t)key >= sizeof handlers / sizeof handlers[0])
        return NULL;
    return handlers[key];
}

void sk_api_dispatch(sk_request *req)
{
    if (sk_authz_request(req) || sk_api_route_coordinator(req))
        return;
    sk_api_handler_find(req->hdr.api_key)(req);
}
