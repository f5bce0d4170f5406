/*
 * Shared pieces of the HTTP produce/consume API and the console endpoints:
 * Kafka calls through the broker's own handlers (local requests, so a
 * produce or a topic creation is validated exactly as a client's), errors
 * in Confluent's shape, base64 and RFC 3339 timestamps.
 */
#include <cjson/cJSON.h>
#include <event2/http.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rest_int.h"
#include "skiff/errors.h"

/* ---- Kafka calls -------------------------------------------------------- */

typedef struct rest_pending {
    sk_http_req *r;    /* the HTTP request that made the Kafka call (borrowed) */
    sk_rest_done done; /* called with the Kafka response */
    void *ctx;         /* the caller's argument to done (borrowed) */
} rest_pending;

sk_request *sk_rest_request(sk_http_req *r, int16_t key)
{
    const kf_api *api = kf_api_find(key);
    sk_request *kreq = api ? sk_request_local_new(r->b, key, api->max_ver, "skiff-http") : NULL;
    if (!kreq)
        sk_rest_error(r, 500, 50002, -1, "cannot make the Kafka request (out of memory)");
    return kreq;
}

static void closed_cb(struct evhttp_connection *evcon, void *arg)
{
    (void)evcon;
    rest_pending *p = arg;
    sk_http_req_gone(p->r);
}

static void answered(void *arg, const void *resp)
{
    rest_pending *p = arg;
    sk_http_req *r = p->r;
    if (r->ev)
        evhttp_connection_set_closecb(evhttp_request_get_connection(r->ev), NULL, NULL);
    sk_rest_done done = p->done;
    void *ctx = p->ctx;
    free(p);
    done(r, resp, ctx);
}

void sk_rest_call(sk_http_req *r, sk_request *kreq, sk_rest_done done, void *ctx)
{
    rest_pending *p = malloc(sizeof *p);
    if (!p) {
        sk_request_local_free(kreq);
        sk_rest_error(r, 500, 50002, -1, "out of memory");
        return;
    }
    p->r = r;
    p->done = done;
    p->ctx = ctx;
    if (r->ev)
        evhttp_connection_set_closecb(evhttp_request_get_connection(r->ev), closed_cb, p);
    sk_request_local_dispatch(kreq, answered, p);
}

/* ---- Errors ------------------------------------------------------------- */

int sk_rest_status_of(int16_t kafka_code, int *error_code)
{
    switch (kafka_code) {
    case SK_ERR_UNKNOWN_TOPIC_OR_PARTITION:
        *error_code = 40403;
        return 404;
    case SK_ERR_MESSAGE_TOO_LARGE:
    case SK_ERR_RECORD_LIST_TOO_LARGE:
        *error_code = 41301;
        return 413;
    case SK_ERR_CORRUPT_MESSAGE:
    case SK_ERR_INVALID_RECORD:
    case SK_ERR_INVALID_TIMESTAMP:
    case SK_ERR_INVALID_TOPIC_EXCEPTION:
    case SK_ERR_INVALID_PARTITIONS:
    case SK_ERR_INVALID_REPLICATION_FACTOR:
    case SK_ERR_INVALID_CONFIG:
    case SK_ERR_INVALID_REQUEST:
    case SK_ERR_UNSUPPORTED_COMPRESSION_TYPE:
        *error_code = 40002;
        return 400;
    case SK_ERR_TOPIC_ALREADY_EXISTS:
        *error_code = 40002;
        return 400;
    case SK_ERR_GROUP_ID_NOT_FOUND:
        *error_code = 40403;
        return 404;
    case SK_ERR_NON_EMPTY_GROUP:
    case SK_ERR_UNKNOWN_MEMBER_ID:
        *error_code = 40903;
        return 409;
    default:
        *error_code = sk_err_retriable(kafka_code) ? 50003 : 50002;
        return 500;
    }
}

cJSON *sk_rest_error_json(int error_code, int16_t kafka_code, const char *message)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "error_code", error_code);
    cJSON_AddStringToObject(o, "message", message);
    if (kafka_code != -1) {
        cJSON_AddNumberToObject(o, "kafka_error_code", kafka_code);
        cJSON_AddStringToObject(o, "kafka_error", sk_err_name(kafka_code));
    }
    return o;
}

void sk_rest_error(sk_http_req *r, int status, int error_code, int16_t kafka_code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    sk_http_reply_json(r, status, sk_rest_error_json(error_code, kafka_code, msg));
}

void sk_rest_kafka_error(sk_http_req *r, int16_t kafka_code, const char *message)
{
    int code;
    int status = sk_rest_status_of(kafka_code, &code);
    sk_rest_error(r, status, code, kafka_code, "%s", message && *message ? message : sk_err_name(kafka_code));
}

void sk_rest_reply_outcome(sk_http_req *r, bool result, int16_t err, const char *message)
{
    if (result && err == SK_ERR_NONE)
        sk_http_reply_text(r, 204, "application/json", "", 0);
    else
        sk_rest_kafka_error(r, result ? err : SK_ERR_UNKNOWN_SERVER_ERROR, message);
}

void sk_rest_oom(sk_http_req *r, sk_request *kreq)
{
    if (kreq)
        sk_request_local_free(kreq);
    sk_rest_error(r, 500, 50002, -1, "out of memory");
}

/* ---- Time --------------------------------------------------------------- */

void sk_rest_iso_time(int64_t ms, char *out, size_t size)
{
    time_t secs = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    char base[32];
    strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, size, "%s.%03dZ", base, (int)(ms - (int64_t)secs * 1000));
}

bool sk_rest_parse_time(const char *s, int64_t *ms)
{
    struct tm tm = {0};
    const char *p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!p)
        return false;
    int frac = 0, digits = 0;
    if (*p == '.') {
        for (p++; *p >= '0' && *p <= '9'; p++, digits++)
            if (digits < 3)
                frac = frac * 10 + (*p - '0');
        if (!digits)
            return false;
        for (int d = digits; d < 3; d++)
            frac *= 10;
    }
    if (strcmp(p, "Z") && strcmp(p, "+00:00"))
        return false;
    *ms = (int64_t)timegm(&tm) * 1000 + frac;
    return true;
}

/* ---- Confluent resource shapes ------------------------------------------ */

cJSON *sk_rest_related(const char *cluster, const char *fmt, ...)
{
    char tail[600], url[900];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tail, sizeof tail, fmt, ap);
    va_end(ap);
    snprintf(url, sizeof url, "/v3/clusters/%s%s", cluster, tail);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "related", url);
    return o;
}

cJSON *sk_rest_list(const char *kind, const char *self, cJSON **data)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "kind", kind);
    cJSON *md = cJSON_AddObjectToObject(o, "metadata");
    cJSON_AddStringToObject(md, "self", self);
    cJSON_AddNullToObject(md, "next");
    *data = cJSON_AddArrayToObject(o, "data");
    return o;
}
