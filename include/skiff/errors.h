/*
 * Kafka protocol error codes (the ErrorCode fields of every response).
 *
 * One table, SK_ERRORS, is the only source: it gives the enum, the names used
 * in logs and the retriable flag. Codes and names follow Apache Kafka's
 * org.apache.kafka.common.protocol.Errors.
 */
#ifndef SKIFF_ERRORS_H
#define SKIFF_ERRORS_H

#include <stdbool.h>
#include <stdint.h>

/* X(code, NAME, retriable) */
#define SK_ERRORS(X)                                \
    X(-1, UNKNOWN_SERVER_ERROR, 0)                  \
    X(0, NONE, 0)                                   \
    X(1, OFFSET_OUT_OF_RANGE, 0)                    \
    X(2, CORRUPT_MESSAGE, 1)                        \
    X(3, UNKNOWN_TOPIC_OR_PARTITION, 1)             \
    X(4, INVALID_FETCH_SIZE, 0)                     \
    X(5, LEADER_NOT_AVAILABLE, 1)                   \
    X(6, NOT_LEADER_OR_FOLLOWER, 1)                 \
    X(7, REQUEST_TIMED_OUT, 1)                      \
    X(8, BROKER_NOT_AVAILABLE, 0)                   \
    X(9, REPLICA_NOT_AVAILABLE, 1)                  \
    X(10, MESSAGE_TOO_LARGE, 0)                     \
    X(11, STALE_CONTROLLER_EPOCH, 0)                \
    X(12, OFFSET_METADATA_TOO_LARGE, 0)             \
    X(13, NETWORK_EXCEPTION, 1)                     \
    X(14, COORDINATOR_LOAD_IN_PROGRESS, 1)          \
    X(15, COORDINATOR_NOT_AVAILABLE, 1)             \
    X(16, NOT_COORDINATOR, 1)                       \
    X(17, INVALID_TOPIC_EXCEPTION, 0)               \
    X(18, RECORD_LIST_TOO_LARGE, 0)                 \
    X(19, NOT_ENOUGH_REPLICAS, 1)                   \
    X(20, NOT_ENOUGH_REPLICAS_AFTER_APPEND, 1)      \
    X(21, INVALID_REQUIRED_ACKS, 0)                 \
    X(22, ILLEGAL_GENERATION, 0)                    \
    X(23, INCONSISTENT_GROUP_PROTOCOL, 0)           \
    X(24, INVALID_GROUP_ID, 0)                      \
    X(25, UNKNOWN_MEMBER_ID, 0)                     \
    X(26, INVALID_SESSION_TIMEOUT, 0)               \
    X(27, REBALANCE_IN_PROGRESS, 0)                 \
    X(28, INVALID_COMMIT_OFFSET_SIZE, 0)            \
    X(29, TOPIC_AUTHORIZATION_FAILED, 0)            \
    X(30, GROUP_AUTHORIZATION_FAILED, 0)            \
    X(31, CLUSTER_AUTHORIZATION_FAILED, 0)          \
    X(32, INVALID_TIMESTAMP, 0)                     \
    X(33, UNSUPPORTED_SASL_MECHANISM, 0)            \
    X(34, ILLEGAL_SASL_STATE, 0)                    \
    X(35, UNSUPPORTED_VERSION, 0)                   \
    X(36, TOPIC_ALREADY_EXISTS, 0)                  \
    X(37, INVALID_PARTITIONS, 0)                    \
    X(38, INVALID_REPLICATION_FACTOR, 0)            \
    X(39, INVALID_REPLICA_ASSIGNMENT, 0)            \
    X(40, INVALID_CONFIG, 0)                        \
    X(41, NOT_CONTROLLER, 1)                        \
    X(42, INVALID_REQUEST, 0)                       \
    X(43, UNSUPPORTED_FOR_MESSAGE_FORMAT, 0)        \
    X(44, POLICY_VIOLATION, 0)                      \
    X(45, OUT_OF_ORDER_SEQUENCE_NUMBER, 0)          \
    X(46, DUPLICATE_SEQUENCE_NUMBER, 0)             \
    X(47, INVALID_PRODUCER_EPOCH, 0)                \
    X(48, INVALID_TXN_STATE, 0)                     \
    X(49, INVALID_PRODUCER_ID_MAPPING, 0)           \
    X(50, INVALID_TRANSACTION_TIMEOUT, 0)           \
    X(51, CONCURRENT_TRANSACTIONS, 1)               \
    X(52, TRANSACTION_COORDINATOR_FENCED, 0)        \
    X(53, TRANSACTIONAL_ID_AUTHORIZATION_FAILED, 0) \
    X(54, SECURITY_DISABLED, 0)                     \
    X(55, OPERATION_NOT_ATTEMPTED, 0)               \
    X(56, KAFKA_STORAGE_ERROR, 1)                   \
    X(57, LOG_DIR_NOT_FOUND, 0)                     \
    X(58, SASL_AUTHENTICATION_FAILED, 0)            \
    X(59, UNKNOWN_PRODUCER_ID, 0)                   \
    X(60, REASSIGNMENT_IN_PROGRESS, 0)              \
    X(61, DELEGATION_TOKEN_AUTH_DISABLED, 0)        \
    X(62, DELEGATION_TOKEN_NOT_FOUND, 0)            \
    X(63, DELEGATION_TOKEN_OWNER_MISMATCH, 0)       \
    X(64, DELEGATION_TOKEN_REQUEST_NOT_ALLOWED, 0)  \
    X(65, DELEGATION_TOKEN_AUTHORIZATION_FAILED, 0) \
    X(66, DELEGATION_TOKEN_EXPIRED, 0)              \
    X(67, INVALID_PRINCIPAL_TYPE, 0)                \
    X(68, NON_EMPTY_GROUP, 0)                       \
    X(69, GROUP_ID_NOT_FOUND, 0)                    \
    X(70, FETCH_SESSION_ID_NOT_FOUND, 1)            \
    X(71, INVALID_FETCH_SESSION_EPOCH, 1)           \
    X(72, LISTENER_NOT_FOUND, 1)                    \
    X(73, TOPIC_DELETION_DISABLED, 0)               \
    X(74, FENCED_LEADER_EPOCH, 1)                   \
    X(75, UNKNOWN_LEADER_EPOCH, 1)                  \
    X(76, UNSUPPORTED_COMPRESSION_TYPE, 0)          \
    X(77, STALE_BROKER_EPOCH, 0)                    \
    X(78, OFFSET_NOT_AVAILABLE, 1)                  \
    X(79, MEMBER_ID_REQUIRED, 0)                    \
    X(80, PREFERRED_LEADER_NOT_AVAILABLE, 1)        \
    X(81, GROUP_MAX_SIZE_REACHED, 0)                \
    X(82, FENCED_INSTANCE_ID, 0)                    \
    X(83, ELIGIBLE_LEADERS_NOT_AVAILABLE, 1)        \
    X(84, ELECTION_NOT_NEEDED, 1)                   \
    X(85, NO_REASSIGNMENT_IN_PROGRESS, 0)           \
    X(86, GROUP_SUBSCRIBED_TO_TOPIC, 0)             \
    X(87, INVALID_RECORD, 0)                        \
    X(88, UNSTABLE_OFFSET_COMMIT, 1)                \
    X(89, THROTTLING_QUOTA_EXCEEDED, 1)             \
    X(90, PRODUCER_FENCED, 0)                       \
    X(91, RESOURCE_NOT_FOUND, 0)                    \
    X(92, DUPLICATE_RESOURCE, 0)                    \
    X(93, UNACCEPTABLE_CREDENTIAL, 0)               \
    X(94, INCONSISTENT_VOTER_SET, 0)                \
    X(95, INVALID_UPDATE_VERSION, 0)                \
    X(96, FEATURE_UPDATE_FAILED, 0)                 \
    X(97, PRINCIPAL_DESERIALIZATION_FAILURE, 0)     \
    X(98, SNAPSHOT_NOT_FOUND, 0)                    \
    X(99, POSITION_OUT_OF_RANGE, 0)                 \
    X(100, UNKNOWN_TOPIC_ID, 1)                     \
    X(101, DUPLICATE_BROKER_REGISTRATION, 0)        \
    X(102, BROKER_ID_NOT_REGISTERED, 0)             \
    X(103, INCONSISTENT_TOPIC_ID, 1)                \
    X(104, INCONSISTENT_CLUSTER_ID, 0)              \
    X(105, TRANSACTIONAL_ID_NOT_FOUND, 0)           \
    X(106, FETCH_SESSION_TOPIC_ID_ERROR, 1)         \
    X(107, INELIGIBLE_REPLICA, 0)                   \
    X(108, NEW_LEADER_ELECTED, 0)                   \
    X(109, OFFSET_MOVED_TO_TIERED_STORAGE, 0)       \
    X(110, FENCED_MEMBER_EPOCH, 0)                  \
    X(111, UNRELEASED_INSTANCE_ID, 0)               \
    X(112, UNSUPPORTED_ASSIGNOR, 0)                 \
    X(113, STALE_MEMBER_EPOCH, 0)                   \
    X(114, MISMATCHED_ENDPOINT_TYPE, 0)             \
    X(115, UNSUPPORTED_ENDPOINT_TYPE, 0)            \
    X(116, UNKNOWN_CONTROLLER_ID, 0)                \
    X(117, UNKNOWN_SUBSCRIPTION_ID, 0)              \
    X(118, TELEMETRY_TOO_LARGE, 0)                  \
    X(119, INVALID_REGISTRATION, 0)                 \
    X(120, TRANSACTION_ABORTABLE, 0)                \
    X(128, INVALID_REGULAR_EXPRESSION, 0)

/* A Kafka error code as carried on the wire (int16). */
typedef enum sk_err {
#define SK_ERR_ENUM(code, name, retriable) SK_ERR_##name = code,
    SK_ERRORS(SK_ERR_ENUM)
#undef SK_ERR_ENUM
} sk_err;

/* Kafka's name of an error code ("UNKNOWN_TOPIC_OR_PARTITION"); "UNKNOWN" for
 * codes outside the table. Static storage, never NULL. */
const char *sk_err_name(int16_t code);

/* True when Kafka marks the error retriable (clients retry it). */
bool sk_err_retriable(int16_t code);

/* The default messages of Kafka's exceptions (Errors.java), which Kafka
 * sends where a response has an error message and nothing more specific. */
#define SK_ERR_MSG_UNKNOWN_TOPIC_OR_PARTITION "This server does not host this topic-partition."
#define SK_ERR_MSG_INVALID_REQUEST                                                                       \
    "This most likely occurs because of a request being malformed by the client library or the message " \
    "was sent to an incompatible broker. See the broker logs for more details."

#endif
