/*
 * Internals of the HTTP produce/consume API (Confluent REST Proxy v3
 * subset) and the web console's endpoints: Kafka calls made through the
 * broker's own handlers, Confluent-shaped errors and timestamps (base64:
 * skiff/base64.h).
 */
#ifndef SKIFF_REST_INT_H
#define SKIFF_REST_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http_int.h"
#include "skiff/api.h"

/* Largest produce body accepted, bytes (a record of max.message.bytes in
 * base64 plus its JSON). Other routes keep SK_HTTP_BODY_MAX. */
#define SK_REST_BODY_MAX (8 * 1024 * 1024)

/* Route tables (each ended by a {0} row). */
extern const sk_http_route sk_http_routes_rest[];    /* /v3/...: routes_rest.c, rest_produce.c */
extern const sk_http_route sk_http_routes_console[]; /* /, /console/..., /v1/console/...: routes_console.c */

/* True when r->params[0] is this cluster's id; else replies 404 (Confluent's
 * 404 error_code) and frees r. */
bool sk_rest_cluster_ok(sk_http_req *r);
/* POST /v3/clusters/{cluster_id}/topics/{topic_name}/records (rest_produce.c). */
void sk_rest_produce(sk_http_req *r);
/* GET .../topics/{topic}/partitions/{partition}/records: reads (rest_read.c). */
void sk_rest_read(sk_http_req *r);

/* Called when a Kafka call made for `r` completes: `resp` is the handler's
 * response struct (valid during the call), or NULL when the handler closed
 * the request; r->ev is NULL when the HTTP client went away meanwhile (the
 * callback must still reply, which then only frees r). */
typedef void (*sk_rest_done)(sk_http_req *r, const void *resp, void *ctx);

/* A local Kafka request of `key` at its highest served version, for `r`;
 * NULL after replying 500 (r freed). Fill req->body (arena memory), then
 * sk_rest_call. */
sk_request *sk_rest_request(sk_http_req *r, int16_t key);
/* Dispatches `kreq` to the broker's handler; done(r, resp, ctx) follows,
 * now or later. The HTTP request stays parked meanwhile. */
void sk_rest_call(sk_http_req *r, sk_request *kreq, sk_rest_done done, void *ctx);

/* The HTTP status and Confluent error_code for Kafka error `kafka_code`
 * (40403 unknown topic or partition, 41301 too large, 40002 bad record,
 * 50003 retriable, 50002 other). */
int sk_rest_status_of(int16_t kafka_code, int *error_code);
/* Replies {"error_code": error_code, "message": ...} (Confluent's error
 * shape), plus "kafka_error_code" and "kafka_error" when kafka_code is not
 * -1, with `status`; frees r. */
void sk_rest_error(sk_http_req *r, int status, int error_code, int16_t kafka_code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* The same for a Kafka error: status and error_code from sk_rest_status_of. */
void sk_rest_kafka_error(sk_http_req *r, int16_t kafka_code, const char *message);
/* Replies to a Kafka write's outcome: 204 when `result` is true and `err`
 * NONE, else the Kafka error (UNKNOWN_SERVER_ERROR without a result) with
 * `message` when not NULL. */
void sk_rest_reply_outcome(sk_http_req *r, bool result, int16_t err, const char *message);
/* Frees `kreq` (not dispatched) and replies 500 out of memory. */
void sk_rest_oom(sk_http_req *r, sk_request *kreq);
/* The error object (as sk_rest_error's body), for one result line. */
struct cJSON *sk_rest_error_json(int error_code, int16_t kafka_code, const char *message);

/* ms since the epoch as "YYYY-MM-DDTHH:MM:SS.mmmZ" (out >= 32 bytes). */
void sk_rest_iso_time(int64_t ms, char *out, size_t size);
/* Parses an RFC 3339 UTC time ("...Z" or "+00:00", optional fraction) to
 * ms; false when it is not one. */
bool sk_rest_parse_time(const char *s, int64_t *ms);

/* {"related": "<base>/v3/clusters/<cluster>...<fmt>"} of a resource. */
struct cJSON *sk_rest_related(const char *cluster, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* {"kind": kind, "metadata": {"self": ..., "next": null}, "data": []}: a
 * Confluent list; returns it and sets *data to its data array. */
struct cJSON *sk_rest_list(const char *kind, const char *self, struct cJSON **data);

#endif
