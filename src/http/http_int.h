/*
 * Internals of the HTTP control plane: the request passed to route handlers,
 * replies, waits, and the route table.
 */
#ifndef SKIFF_HTTP_INT_H
#define SKIFF_HTTP_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "skiff/broker.h"
#include "skiff/http.h"

struct cJSON;
struct evhttp;
struct evhttp_request;
struct evhttp_bound_socket;

#define SK_HTTP_PARAMS 4

struct event;
struct sk_http_wait;

/* The server (b->http). */
typedef struct sk_http {
    struct evhttp *http;        /* libevent's HTTP server (owned), bound to skiff.http.listeners */
    struct event *pause_timer;  /* ends a timed broker pause, or NULL */
    struct event *refuse_timer; /* ends a timed refusal of connections, or NULL */
    struct sk_http_wait *waits; /* parked waits (list) */
} sk_http;

/* One HTTP request, owned by the server until a reply is sent. */
typedef struct sk_http_req {
    sk_broker *b;                 /* the broker it is served for (borrowed) */
    struct evhttp_request *ev;    /* libevent's request; NULL once its connection is gone */
    char *params[SK_HTTP_PARAMS]; /* decoded {} segments of the path (heap) */
    struct cJSON *body;           /* parsed JSON body (POST/PUT), or NULL */
    char *query;                  /* raw query string (heap), or NULL */
    struct sk_http_wait *wait;    /* a parked wait, or NULL */
} sk_http_req;

typedef void (*sk_http_handler)(sk_http_req *r);

typedef struct sk_http_route {
    int method;              /* EVHTTP_REQ_GET, ... */
    const char *pattern;     /* "/v1/faults/{}" */
    sk_http_handler handler; /* called with the request once the path and body match */
    bool body;               /* expects a JSON object body (empty body = {}) */
} sk_http_route;

/* Route tables of each file, each ended by a {0} row. */
extern const sk_http_route sk_http_routes_core[];    /* health, faults, broker, capture: routes_core.c */
extern const sk_http_route sk_http_routes_state[];   /* waits, groups, logs: routes_state.c */
extern const sk_http_route sk_http_routes_metrics[]; /* /metrics: metrics.c */
extern const sk_http_route sk_http_routes_cluster[]; /* /v1/cluster: routes_cluster.c */

/* Replies with `json` (taken) and status; frees `r`. */
void sk_http_reply_json(sk_http_req *r, int status, struct cJSON *json);
/* Replies with {"error": error, "detail": formatted} and status; frees `r`. */
void sk_http_reply_error(sk_http_req *r, int status, const char *error, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Replies with `len` bytes of `text` and a content type; frees `r`. */
void sk_http_reply_text(sk_http_req *r, int status, const char *content_type, const char *text, size_t len);
/* For a connection's close callback: the client of `r` went away; frees
 * libevent's request when it is left to the caller and sets r->ev to NULL
 * (the handler still replies, which then only frees r). */
void sk_http_req_gone(sk_http_req *r);
/* A reply sent in pieces (HTTP/1.1 chunked): the status line and headers
 * now, then each chunk as it is ready, then the end, which frees `r`. While
 * it runs, r->ev may become NULL (the client left): chunks are then dropped. */
void sk_http_reply_start(sk_http_req *r, int status, const char *content_type);
void sk_http_reply_chunk(sk_http_req *r, const char *text, size_t len);
void sk_http_reply_end(sk_http_req *r);
/* The value of query parameter `name` (decoded, heap; caller frees), or NULL. */
char *sk_http_query(const sk_http_req *r, const char *name);
/* 0 and *out when query parameter `name` is an integer in [min, max]; 1 when
 * absent; -1 after replying 400 (r is freed). */
int sk_http_query_int(sk_http_req *r, const char *name, int64_t min, int64_t max, int64_t *out);

/* A group as JSON (GET /v1/groups/{group}, routes_state.c): group_id,
 * type (classic or consumer, KIP-848), state, generation_id (a consumer
 * group's epoch), protocol_type, protocol (a consumer group's assignor),
 * member_count and, with `members`, each member's ids, client id, host and
 * assignment {"topic": [partitions]}. Only group_id for an unknown group. */
struct cJSON *sk_http_group_json(sk_broker *b, const char *group_id, bool members);

/* A wait condition: returns true when met; `state` gets the current state
 * (a JSON object added to the reply). */
typedef bool (*sk_http_wait_check)(sk_broker *b, const void *cond, struct cJSON **state);
/* Parks `r` until check() is true (200 {"met": true, "state": ...}) or
 * timeout_ms pass (408 {"error": "timeout", "detail", "state"}). `cond`
 * (cond_len bytes) is copied. Checked at once, then every few ms. */
void sk_http_wait_start(sk_http_req *r, sk_http_wait_check check, const void *cond, size_t cond_len, int64_t timeout_ms,
                        const char *what);
/* Frees every parked wait (answering 503). */
void sk_http_waits_close(sk_broker *b);

#endif
