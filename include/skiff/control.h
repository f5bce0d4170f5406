/*
 * The control plane for tests (src/control): fault rules applied to Kafka
 * requests and connections, and the request capture ring. The HTTP API
 * (skiff/http.h) edits them; the network front end consults them.
 *
 * Faults act on responses and connections only, never on stored data: an
 * injected error answers the request without running its handler; a delay
 * holds the handler's response back; a close drops the connection before
 * or after the handler ran; a blackhole never answers (and so, as responses
 * leave in order, holds back every later answer on that connection);
 * throttle_time_ms is set in the handler's response.
 *
 * The request path costs one branch while no rule exists and capture is off
 * (sk_broker.intercept).
 */
#ifndef SKIFF_CONTROL_H
#define SKIFF_CONTROL_H

#include <stdbool.h>
#include <stdint.h>

#include "skiff/broker.h"

struct cJSON;
struct sk_request;
struct sk_reply;

/* What a matching fault rule does to a request. */
typedef enum sk_fault_kind {
    SK_FAULT_NONE = 0,     /* only delay_ms / throttle_time_ms */
    SK_FAULT_ERROR,        /* answer with error_code, handler not run */
    SK_FAULT_CLOSE_BEFORE, /* close the connection, handler not run */
    SK_FAULT_CLOSE_AFTER,  /* run the handler, send its response, then close */
    SK_FAULT_BLACKHOLE,    /* never answer (the connection stays open) */
} sk_fault_kind;

/* Per-request effects of a fired rule (arena-allocated, sk_request.ctl). */
typedef struct sk_req_ctl {
    int32_t delay_ms;         /* hold the response this long, ms; 0 = none */
    int32_t throttle_time_ms; /* set in the response when >= 0; -1 = leave */
    bool close_after;         /* close the connection once the response is sent */
    uint64_t capture_id;      /* this request's capture entry id, 0 when not captured */
} sk_req_ctl;

/* Creates the control state on b->control (b->intercept false). 0 or -1 (out of memory). */
int sk_control_open(sk_broker *b);
/* Releases every held response, then frees the control state. NULL-safe. */
void sk_control_close(sk_broker *b);

/* Called by the front end for each decoded request when b->intercept is set:
 * applies the first fault rule that fires and starts the request's capture
 * entry. Returns true when it answered or dropped the request itself (the
 * handler must not run), false to dispatch it (req->ctl may be set). */
bool sk_control_on_request(struct sk_request *req);
/* Called by sk_request_respond when req->ctl is set, before encoding:
 * sets throttle_time_ms and records the response in the capture. */
void sk_control_on_response(struct sk_request *req, void *response);
/* Completes `slot` by calling release(slot) after `ms` milliseconds (or at
 * sk_control_close, whichever comes first). */
void sk_control_hold_reply(sk_broker *b, struct sk_reply *slot, int32_t ms, void (*release)(struct sk_reply *slot));

/* ---- Request metrics (src/control/stats.c) ----------------------------- */

#define SK_STATS_APIS 128    /* API keys counted: 0..127 */
#define SK_STATS_VERSIONS 32 /* versions counted per API: 0..31 */
#define SK_STATS_ERRORS 160  /* error codes counted: -1..158 (index code + 1) */
#define SK_STATS_BUCKETS 14  /* latency histogram buckets (sk_stats_bucket_ms), +Inf last */

/* Request metrics (src/control/stats.c), read by GET /metrics. */
typedef struct sk_stats {
    uint64_t requests[SK_STATS_APIS][SK_STATS_VERSIONS]; /* by API and version */
    uint64_t errors[SK_STATS_APIS][SK_STATS_ERRORS];     /* non-zero error codes in responses */
    uint64_t latency[SK_STATS_APIS][SK_STATS_BUCKETS];   /* cumulative-free counts per bucket */
    double latency_sum_ms[SK_STATS_APIS];                /* sum of latencies, ms */
    uint64_t answered[SK_STATS_APIS];                    /* requests answered or dropped */
    uint64_t request_bytes;                              /* request frames read, bytes */
    uint64_t response_bytes;                             /* responses queued, bytes */
    uint64_t produce_record_bytes;                       /* record bytes in Produce requests */
    uint64_t fetch_record_bytes;                         /* record bytes in Fetch responses */
} sk_stats;

/* Upper bounds of the latency buckets, ms (the last, +Inf, is not listed). */
extern const double sk_stats_bucket_ms[SK_STATS_BUCKETS - 1];

/* The broker's request metrics. */
const sk_stats *sk_control_stats(const sk_broker *b);

/* Counts a decoded request (API, version, bytes, produced record bytes) and
 * stamps req->arrival_ns. */
void sk_stats_request(struct sk_request *req);
/* Counts its answer: latency, error codes, response bytes (`bytes` 0 and
 * `response` NULL when none was sent), fetched record bytes. */
void sk_stats_response(struct sk_request *req, const void *response, size_t bytes);

/* ---- Fault rules (src/control/fault.c) ---------------------------------- */

/* Adds a rule from its JSON form (docs/testing-with-skiff.md, openapi.json
 * FaultRule). On success returns the rule's JSON (with id, matched, fired;
 * the caller frees it with cJSON_Delete); on a bad rule returns NULL with a
 * message naming the field in `detail`, and nothing is added. */
struct cJSON *sk_faults_add(sk_broker *b, const struct cJSON *spec, char *detail, size_t detail_len);
/* Every rule as a JSON array, oldest first (caller frees). */
struct cJSON *sk_faults_list(sk_broker *b);
/* One rule as JSON (caller frees), or NULL when no rule has that id. */
struct cJSON *sk_faults_get(sk_broker *b, uint64_t id);
/* Removes one rule; false when no rule has that id. */
bool sk_faults_remove(sk_broker *b, uint64_t id);
/* Removes every rule; returns how many there were. */
int sk_faults_clear(sk_broker *b);

/* Kafka error code by name ("NOT_LEADER_OR_FOLLOWER", any case) or decimal
 * text; returns 0 and sets *code, or -1 when unknown. */
int sk_err_parse(const char *s, int16_t *code);
/* API key by Kafka's name ("OffsetCommit", any case) or decimal text; -1 when unknown. */
int sk_api_key_parse(const char *s);

/* ---- Request capture (src/control/capture.c) ---------------------------- */

/* Starts (or restarts with new settings) capturing: `spec` has capacity
 * (entries kept, oldest dropped first; a new capacity drops the entries),
 * apis (names or keys; absent = all), bodies (bool: decoded request and
 * response JSON). NULL on success, else `detail` holding a message naming
 * the field (and nothing changes). */
const char *sk_capture_configure(sk_broker *b, const struct cJSON *spec, char *detail, size_t detail_len);
/* Stops capturing; entries stay readable. */
void sk_capture_stop(sk_broker *b);
/* Drops every entry. */
void sk_capture_clear(sk_broker *b);
/* The entries matching the filters (api key or -1, client id or NULL, ids
 * above `since_id`, at most `limit`, oldest first), and the capture's
 * settings, as a JSON object (caller frees). */
struct cJSON *sk_capture_query(sk_broker *b, int api_key, const char *client_id, int64_t since_id, int limit);
/* Recomputes b->intercept from the rules and the capture state. */
void sk_control_update_intercept(sk_broker *b);

#endif
