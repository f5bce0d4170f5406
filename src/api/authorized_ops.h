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

#include "skiff/acl.h"

/* One bit per operation: Kafka's authorized-operations encoding. */
#define SK_OP_BIT(op) (1 << (op))

/* Topic: READ, WRITE, CREATE, DELETE, ALTER, DESCRIBE, DESCRIBE_CONFIGS, ALTER_CONFIGS. */
#define SK_TOPIC_OPERATIONS                                                                               \
    (SK_OP_BIT(SK_OP_READ) | SK_OP_BIT(SK_OP_WRITE) | SK_OP_BIT(SK_OP_CREATE) | SK_OP_BIT(SK_OP_DELETE) | \
     SK_OP_BIT(SK_OP_ALTER) | SK_OP_BIT(SK_OP_DESCRIBE) | SK_OP_BIT(SK_OP_DESCRIBE_CONFIGS) |             \
     SK_OP_BIT(SK_OP_ALTER_CONFIGS))

/* Cluster: CREATE, ALTER, DESCRIBE, CLUSTER_ACTION, DESCRIBE_CONFIGS, ALTER_CONFIGS, IDEMPOTENT_WRITE. */
#define SK_CLUSTER_OPERATIONS                                                                                         \
    (SK_OP_BIT(SK_OP_CREATE) | SK_OP_BIT(SK_OP_ALTER) | SK_OP_BIT(SK_OP_DESCRIBE) | SK_OP_BIT(SK_OP_CLUSTER_ACTION) | \
     SK_OP_BIT(SK_OP_DESCRIBE_CONFIGS) | SK_OP_BIT(SK_OP_ALTER_CONFIGS) | SK_OP_BIT(SK_OP_IDEMPOTENT_WRITE))

/* Group (DescribeGroups and ConsumerGroupDescribe): READ, DELETE, DESCRIBE,
 * and since Kafka 4.0 (group configs) DESCRIBE_CONFIGS and ALTER_CONFIGS, as
 * Kafka 4.4 answers; librdkafka's test 0081 expects the five from 4.0 on. */
#define SK_GROUP_OPERATIONS                                                                                            \
    (SK_OP_BIT(SK_OP_READ) | SK_OP_BIT(SK_OP_DELETE) | SK_OP_BIT(SK_OP_DESCRIBE) | SK_OP_BIT(SK_OP_DESCRIBE_CONFIGS) | \
     SK_OP_BIT(SK_OP_ALTER_CONFIGS))

#endif
