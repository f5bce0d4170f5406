/*
 * Requests and their handlers. The front end (net/conn) decodes a frame's
 * header and body into an sk_request and calls the API's handler; the handler
 * answers with sk_request_respond (now or later, for parked requests such as
 * long-poll Fetch or JoinGroup) or sk_request_no_response (acks=0 Produce).
 * Responses on one connection always leave in request order.
 */
#ifndef SKIFF_API_H
#define SKIFF_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "skiff/arena.h"
#include "skiff/broker.h"
#include "skiff/proto.h"

struct sk_reply;
struct request_cleanup;
struct sk_req_ctl;
struct sk_auth;
struct sk_authz_ctx;

typedef struct sk_request {
    sk_broker *broker;          /* the broker */
    kf_request_header hdr;      /* decoded header; client_id lives in `arena` */
    const kf_api *api;          /* schema entry of hdr.api_key */
    void *body;                 /* decoded request struct (in `arena`) */
    sk_arena arena;             /* request-scoped memory, freed with the request */
    uint8_t *frame;             /* the request frame (owned), bytes/records in `body` point here */
    size_t frame_len;           /* bytes in frame */
    struct sk_reply *reply;     /* the connection's slot for the answer (owned by the net layer) */
    struct request_cleanup *cleanups; /* run when the request is freed (sk_request_on_free) */
    uint64_t conn_id;           /* id of the connection, for logs */
    char peer[64];              /* "host:port" of the client, for logs */
    const char *advertised_host; /* host to advertise to this client (in `arena`) */
    int32_t advertised_port;    /* port to advertise to this client */
    bool advertised_from_config; /* advertised_port comes from advertised.listeners */
    int32_t node_id;            /* the broker (skiff/cluster.h) whose listener the connection came in on */
    int32_t listener;           /* index of that listener in `listeners` */
    struct sk_req_ctl *ctl;     /* fault effects and capture entry (skiff/control.h), usually NULL */
    int64_t arrival_ns;         /* CLOCK_MONOTONIC when the frame was read, ns (request metrics) */
    struct sk_auth *auth;       /* the connection's authentication state (skiff/security.h);
                                   valid only while the handler runs synchronously */
    struct sk_authz_ctx *authz; /* authorization state (src/api/authz.h, in `arena`); NULL
                                   without an authorizer */
    void (*on_respond)(struct sk_request *req, void *response); /* run by sk_request_respond
                                   before encoding (the authorizer's edits), or NULL */
    bool close_after;           /* close the connection once this response is sent */
} sk_request;

/* A handler: must eventually call exactly one of sk_request_respond,
 * sk_request_no_response or sk_request_close. */
typedef void (*sk_api_handler)(sk_request *req);

/* Encodes `response` (the API's response struct, at the request's version)
 * into the request's reply slot, then frees the request. If the connection is
 * gone (a parked request outlived it) the response is dropped. */
void sk_request_respond(sk_request *req, const void *response);
/* Completes the slot without a response (acks=0 Produce) and frees the request. */
void sk_request_no_response(sk_request *req);
/* Closes the connection after earlier responses are sent (Kafka's answer to
 * requests it cannot answer) and frees the request. `why` is logged. */
void sk_request_close(sk_request *req, const char *why);
/* Never answers (a blackhole fault): the slot stays owed, so later responses
 * on the connection are held back too, until the connection closes. Frees
 * the request. */
void sk_request_abandon(sk_request *req);

/* Registers `fn(arg)` to run when the request is freed, after its response
 * was encoded or dropped (e.g. to release log slices the response refers
 * to through kf_bytes.ext). Returns 0, or -1 when out of memory. */
int sk_request_on_free(sk_request *req, void (*fn)(void *arg), void *arg);

/* Allocates the API's response struct in the request arena, every field at
 * its schema default (kf_init); NULL when out of memory. Elements of arrays
 * the handler allocates are its own to initialise. */
void *sk_request_response(sk_request *req);

/* The handler for `key`, or NULL when skiff does not serve it. Only APIs with
 * a handler are advertised by ApiVersions. */
sk_api_handler sk_api_handler_find(int16_t key);
/* Handles a decoded request: dispatches to the API's handler. */
void sk_api_dispatch(sk_request *req);

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
 * starts the coordinator on __consumer_offsets (b->groups); 0 or -1 (logged). */
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
