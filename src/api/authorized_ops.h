/*
 * Authorized-operation bit sets that skiff answers without an authorizer:
 * every operation Kafka supports on the resource is allowed, so the set is
 * the resource type's supported operations (AclEntry.supportedOperations),
 * one bit per AclOperation code. Shared by the handlers that return
 * topic_authorized_operations (Metadata v8+, DescribeTopicPartitions) and
 * cluster_authorized_operations (Metadata v8-10, DescribeCluster) and
 * authorized_operations (DescribeGroups). With an authorizer, the bits the
 * principal may use are kept (src/api/authz_rules.c).
 * Internal to src/api.
 */
#ifndef SKIFF_API_AUTHORIZED_OPS_H
#define SKIFF_API_AUTHORIZED_OPS_H

/* Topic: READ 3, WRITE 4, CREATE 5, DELETE 6, ALTER 7, DESCRIBE 8,
 * DESCRIBE_CONFIGS 10, ALTER_CONFIGS 11. */
#define SK_TOPIC_OPERATIONS                                                                        \
    ((1 << 3) | (1 << 4) | (1 << 5) | (1 << 6) | (1 << 7) | (1 << 8) | (1 << 10) | (1 << 11))

/* Cluster: CREATE 5, ALTER 7, DESCRIBE 8, CLUSTER_ACTION 9,
 * DESCRIBE_CONFIGS 10, ALTER_CONFIGS 11, IDEMPOTENT_WRITE 12. */
#define SK_CLUSTER_OPERATIONS ((1 << 5) | (1 << 7) | (1 << 8) | (1 << 9) | (1 << 10) | (1 << 11) | (1 << 12))

/* Group: READ 3, DELETE 6, DESCRIBE 8. */
#define SK_GROUP_OPERATIONS ((1 << 3) | (1 << 6) | (1 << 8))

#endif
