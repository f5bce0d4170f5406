/*
 * The handlers of Kafka's APIs (src/api). The front end (net/conn) decodes a
 * frame's header and body into an sk_request (skiff/request.h) and calls the
 * API's handler; the handler answers with sk_request_respond (now or later,
 * for parked requests such as long-poll Fetch or JoinGroup) or
 * sk_request_no_response (acks=0 Produce). Responses on one connection always
 * leave in request order.
 */
#ifndef SKIFF_API_H
#define SKIFF_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "skiff/broker.h"
#include "skiff/proto.h"
#include "skiff/request.h"

/* Kafka's IsolationLevel: the isolation_level field of Fetch and ListOffsets. */
enum {
    SK_READ_UNCOMMITTED = 0, /* read up to the high watermark */
    SK_READ_COMMITTED = 1,   /* read up to the last stable offset; skip aborted transactions */
};

/* A handler: must eventually call exactly one of sk_request_respond,
 * sk_request_no_response or sk_request_close. */
typedef void (*sk_api_handler)(sk_request *req);

/* The handler for `key`, or NULL when skiff does not serve it. Only APIs with
 * a handler are advertised by ApiVersions. */
sk_api_handler sk_api_handler_find(int16_t key);
/* Handles a decoded request: dispatches to the API's handler. */
void sk_api_dispatch(sk_request *req);
/* Answers requests addressed to a coordinator that is not the broker they
 * arrived at with NOT_COORDINATOR (the whole request, Kafka's error layout;
 * src/api/coordinator_route.c). Returns true when it answered. */
bool sk_api_route_coordinator(sk_request *req);
/* True when the broker `req` arrived at coordinates `key` of `key_type`
 * (SK_COORD_GROUP / SK_COORD_TXN of skiff/cluster.h): always with one
 * broker and for the HTTP API's local requests. Handlers of requests naming
 * several keys answer NOT_COORDINATOR for the others. */
bool sk_api_coordinates(const sk_request *req, int key_type, kf_str key);

/* Handlers (src/api/<name>.c). */
void sk_api_versions(sk_request *req);
void sk_api_produce(sk_request *req);
void sk_api_fetch(sk_request *req);
void sk_api_list_offsets(sk_request *req);

/* Answers every parked Fetch now with what is readable (shutdown). */
void sk_api_fetch_shutdown(sk_broker *b);
void sk_api_metadata(sk_request *req);
/* DescribeTopicPartitions v0 (src/api/describe_topic_partitions.c, KIP-966). */
void sk_api_describe_topic_partitions(sk_request *req);
/* Group coordinator APIs (src/api/groups.c, src/api/offsets.c). sk_api_groups_start
 * starts the coordinator on __consumer_offsets (b->groups) with the per-group
 * configs (b->group_configs); 0 or -1 (logged). */
int sk_api_groups_start(sk_broker *b);
void sk_api_find_coordinator(sk_request *req);
void sk_api_join_group(sk_request *req);
void sk_api_sync_group(sk_request *req);
void sk_api_heartbeat(sk_request *req);
void sk_api_leave_group(sk_request *req);
void sk_api_describe_groups(sk_request *req);
void sk_api_list_groups(sk_request *req);
void sk_api_delete_groups(sk_request *req);
void sk_api_offset_commit(sk_request *req);
void sk_api_offset_fetch(sk_request *req);
void sk_api_offset_delete(sk_request *req);
/* "/host" from the request's peer "host:port" or "[v6]:port", as Kafka
 * prints a client address (DescribeGroups, ConsumerGroupDescribe). */
void sk_api_client_host(const sk_request *req, char *out, size_t len);
/* KIP-848 consumer group protocol (src/api/consumer_groups.c). */
void sk_api_consumer_group_heartbeat(sk_request *req);
void sk_api_consumer_group_describe(sk_request *req);
/* Producer and transaction APIs (src/api/txn.c, txn_admin.c; skiff/txn.h). */
void sk_api_init_producer_id(sk_request *req);
void sk_api_add_partitions_to_txn(sk_request *req);
void sk_api_add_offsets_to_txn(sk_request *req);
void sk_api_end_txn(sk_request *req);
void sk_api_txn_offset_commit(sk_request *req);
void sk_api_describe_producers(sk_request *req);
void sk_api_describe_transactions(sk_request *req);
void sk_api_list_transactions(sk_request *req);
/* Admin APIs (src/api/topics_admin.c, configs.c, records_admin.c, cluster.c). */
void sk_api_create_topics(sk_request *req);
void sk_api_delete_topics(sk_request *req);
void sk_api_create_partitions(sk_request *req);
void sk_api_describe_configs(sk_request *req);
void sk_api_alter_configs(sk_request *req);
void sk_api_incremental_alter_configs(sk_request *req);
void sk_api_delete_records(sk_request *req);
void sk_api_describe_cluster(sk_request *req);
void sk_api_describe_log_dirs(sk_request *req);
void sk_api_offset_for_leader_epoch(sk_request *req);
void sk_api_elect_leaders(sk_request *req);
/* Partition reassignment, KIP-455 (src/api/reassign.c). */
void sk_api_alter_partition_reassignments(sk_request *req);
void sk_api_list_partition_reassignments(sk_request *req);
/* ACL APIs (src/api/acls.c): answered as by a Kafka broker without an
 * authorizer, SECURITY_DISABLED. */
void sk_api_describe_acls(sk_request *req);
void sk_api_create_acls(sk_request *req);
void sk_api_delete_acls(sk_request *req);
/* SASL (src/api/sasl.c): SaslHandshake v0-1, SaslAuthenticate v0-2. */
void sk_api_sasl_handshake(sk_request *req);
void sk_api_sasl_authenticate(sk_request *req);
/* SCRAM credentials (src/api/scram_admin.c, KIP-554). */
void sk_api_describe_user_scram_credentials(sk_request *req);
void sk_api_alter_user_scram_credentials(sk_request *req);

#endif
