/*
 * A request in flight and how it is completed (src/net/request.c; local
 * requests made by the HTTP API: src/net/local.c): the
 * front end (net/conn) decodes a frame into an sk_request and hands it to
 * its API's handler (skiff/api.h), which must eventually call exactly one of
 * sk_request_respond, sk_request_no_response, sk_request_close or
 * sk_request_abandon.
 */
#ifndef SKIFF_REQUEST_H
#define SKIFF_REQUEST_H

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

/* sk_request.node_id of a local request (sk_request_local_new, the HTTP API):
 * it is served as by the leader or coordinator of whatever it names. */
#define SK_NODE_LOCAL (-1)

typedef struct sk_request {
    sk_broker *broker;                /* the broker */
    kf_request_header hdr;            /* decoded header; client_id lives in `arena` */
    const kf_api *api;                /* schema entry of hdr.api_key */
    void *body;                       /* decoded request struct (in `arena`) */
    sk_arena arena;                   /* request-scoped memory, freed with the request */
    uint8_t *frame;                   /* the request frame (owned), bytes/records in `body` point here */
    size_t frame_len;                 /* bytes in frame */
    struct sk_reply *reply;           /* the connection's slot for the answer (owned by the net layer) */
    struct request_cleanup *cleanups; /* run when the request is freed (sk_request_on_free) */
    uint64_t conn_id;                 /* id of the connection, for logs */
    char peer[64];                    /* "host:port" of the client, for logs */
    const char *advertised_host;      /* host to advertise to this client (in `arena`) */
    int32_t advertised_port;          /* port to advertise to this client */
    bool advertised_from_config;      /* advertised_port comes from advertised.listeners */
    int32_t node_id;                  /* the broker (skiff/cluster.h) whose listener the connection came in on;
                                   SK_NODE_LOCAL for a local request */
    int32_t listener;                 /* index of that listener in `listeners` */
    struct sk_req_ctl *ctl;           /* fault effects and capture entry (skiff/control.h), usually NULL */
    int64_t arrival_ns;               /* CLOCK_MONOTONIC when the frame was read, ns (request metrics) */
    struct sk_auth *auth;             /* the connection's authentication state (skiff/security.h);
                                   valid only while the handler runs synchronously */
    struct sk_authz_ctx *authz;       /* authorization state (src/api/authz.h, in `arena`); NULL
                                   without an authorizer */
    void (*on_respond)(struct sk_request *req, void *response); /* run by sk_request_respond
                                   before encoding (the authorizer's edits), or NULL */
    bool close_after;                                           /* close the connection once this response is sent */
    /* A local request (sk_request_local_new) has no connection: its handler's
     * answer goes to local_done (response NULL when the handler closed,
     * abandoned or sent no response), still inside the request's arena. */
    void (*local_done)(void *arg, const void *response);
    void *local_arg; /* argument of local_done */
} sk_request;

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

/* A request made inside the broker (the HTTP API's produce and admin calls
 * go through the same handlers as a client's): api `key` at `version`, its
 * body allocated in the arena at the schema defaults (kf_init) for the
 * caller to fill (arena memory or bytes that outlive the request), client
 * id `client_id`. NULL when out of memory or the API or version is not
 * served. sk_request_local_dispatch completes (and frees) it. */
sk_request *sk_request_local_new(sk_broker *b, int16_t key, int16_t version, const char *client_id);
/* Runs the handler of a local request; done(arg, response) is called once,
 * now or later (a parked produce waiting for its fsync), with the decoded
 * response struct (valid only during the call) or NULL. Counted in the
 * request metrics like a client's request; fault rules do not apply. */
void sk_request_local_dispatch(sk_request *req, void (*done)(void *arg, const void *response), void *arg);
/* Frees a local request that will not be dispatched. */
void sk_request_local_free(sk_request *req);

#endif
