/*
 * POST /v3/clusters/{cluster_id}/topics/{topic_name}/records: Confluent
 * REST Proxy v3 produce. The body is one record or several records as
 * concatenated JSON (Confluent's streaming form); each record is
 *
 *   {"partition_id": 0, "headers": [{"name": "h", "value": "<base64>"}],
 *    "key": {"type": "STRING", "data": "k"},
 *    "value": {"type": "JSON", "data": {"any": "json"}},
 *    "timestamp": "2026-12-07T10:00:00.000Z"}
 *
 * with every field optional: type BINARY (data in base64), STRING (UTF-8
 * text) or JSON (the data serialized compactly; the default); a missing or
 * null data is a null key or value. Without partition_id a keyed record goes
 * to Kafka's default partition (murmur2 of the key), an unkeyed one round
 * robin. The records become one uncompressed record batch per partition and
 * one Kafka Produce request (acks=all) through the broker's own Produce
 * handler, so compression.type, max.message.bytes, timestamps and the flush
 * policy apply exactly as for a client; records that would make a batch
 * larger than max.message.bytes wait for the next request, in order.
 *
 * A missing topic is asked of Metadata first (allow_auto_topic_creation),
 * which creates it when auto.create.topics.enable is true, as for a Kafka
 * producer. Each record has one result (a delivery report, error code 200,
 * or an error object). One record without Transfer-Encoding: chunked is
 * answered with its result and that result's HTTP status; otherwise
 * (Confluent's streaming mode) the reply is 200 and chunked, and the result
 * lines of each Produce request are sent as one chunk when it is answered,
 * in record order. Records are produced without a producer id and the
 * control plane's fault rules do not see these requests (docs/rest.md says
 * why).
 */
#include <cjson/cJSON.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kf_msgs.h"
#include "rest_int.h"
#include "skiff/base64.h"
#include "skiff/errors.h"
#include "skiff/logstore.h"
#include "skiff/meta.h"
#include "skiff/record.h"

#define NAME_LEN 256

/* One key or value as given. */
typedef struct rest_data {
    uint8_t *p;   /* heap; NULL = null */
    size_t len;   /* bytes at p */
    char type[8]; /* BINARY, JSON or STRING */
} rest_data;

/* One record of the body and its result. */
typedef struct rest_record {
    int32_t partition;              /* partition_id given or chosen; -1 until chosen */
    rest_data key, value;           /* as given; p NULL for null */
    sk_record_header_spec *headers; /* heap array; keys and values heap */
    int32_t nheaders;               /* entries of headers */
    int64_t timestamp;              /* create time, wall ms (the body's, else when parsed) */
    size_t estimate;                /* bytes it adds to a batch, about */
    int round;                      /* request it went in (0 = not yet) */
    int32_t position;               /* its index in its batch */
    cJSON *result;                  /* delivery report or error once known */
} rest_record;

typedef struct produce_ctx {
    char topic[NAME_LEN]; /* the topic of the path */
    char *text;           /* the body (heap, NUL-ended) until parsed */
    size_t len;           /* its length, bytes */
    rest_record *recs;    /* the body's records in order (heap) */
    int n, cap;           /* records in recs, slots allocated */
    int round;            /* number of the Produce request in flight (0 before the first) */
    int32_t partitions;   /* partition count of the topic */
    int32_t max_bytes;    /* max.message.bytes of the topic */
    bool streaming;       /* a chunked reply of result lines */
    int written;          /* results sent so far (streaming) */
} produce_ctx;

static uint32_t rr_counter; /* round robin for unkeyed records */

/* Kafka's murmur2 (Utils.murmur2), seed 0x9747b28c. */
static int32_t murmur2(const uint8_t *data, size_t length)
{
    const uint32_t m = 0x5bd1e995;
    const int r = 24;
    uint32_t h = 0x9747b28c ^ (uint32_t)length;
    size_t n4 = length / 4;
    for (size_t i = 0; i < n4; i++) {
        const uint8_t *d = data + i * 4;
        uint32_t k = (uint32_t)d[0] | (uint32_t)d[1] << 8 | (uint32_t)d[2] << 16 | (uint32_t)d[3] << 24;
        k *= m;
        k ^= k >> r;
        k *= m;
        h *= m;
        h ^= k;
    }
    const uint8_t *tail = data + n4 * 4;
    switch (length % 4) {
    case 3:
        h ^= (uint32_t)tail[2] << 16;
        /* fall through */
    case 2:
        h ^= (uint32_t)tail[1] << 8;
        /* fall through */
    case 1:
        h ^= tail[0];
        h *= m;
    }
    h ^= h >> 13;
    h *= m;
    h ^= h >> 15;
    return (int32_t)h;
}

static void record_free(rest_record *rec)
{
    free(rec->key.p);
    free(rec->value.p);
    for (int32_t i = 0; i < rec->nheaders; i++) {
        free((void *)rec->headers[i].key);
        free((void *)rec->headers[i].value);
    }
    free(rec->headers);
    cJSON_Delete(rec->result);
}

static void ctx_free(produce_ctx *c)
{
    for (int i = 0; i < c->n; i++)
        record_free(&c->recs[i]);
    free(c->recs);
    free(c->text);
    free(c);
}

/* Decodes a key or value object into `d`; NULL or an error message. */
static const char *parse_data(const cJSON *o, const char *what, rest_data *d, char *msg, size_t size)
{
    snprintf(d->type, sizeof d->type, "JSON");
    if (!o || cJSON_IsNull(o))
        return NULL;
    if (!cJSON_IsObject(o)) {
        snprintf(msg, size, "%s must be an object {\"type\", \"data\"}", what);
        return msg;
    }
    const cJSON *type = NULL, *data = NULL;
    for (const cJSON *f = o->child; f; f = f->next) {
        if (!strcmp(f->string, "type"))
            type = f;
        else if (!strcmp(f->string, "data"))
            data = f;
        else {
            snprintf(msg, size, "%s: unknown field \"%s\" (schemas are not supported)", what, f->string);
            return msg;
        }
    }
    if (type && (!cJSON_IsString(type) || (strcmp(type->valuestring, "BINARY") && strcmp(type->valuestring, "JSON") &&
                                           strcmp(type->valuestring, "STRING")))) {
        snprintf(msg, size, "%s: type must be BINARY, JSON or STRING", what);
        return msg;
    }
    if (type)
        snprintf(d->type, sizeof d->type, "%s", type->valuestring);
    if (!data || cJSON_IsNull(data))
        return NULL;
    if (!strcmp(d->type, "JSON")) {
        char *text = cJSON_PrintUnformatted(data);
        if (!text)
            return "out of memory";
        d->p = (uint8_t *)text;
        d->len = strlen(text);
        return NULL;
    }
    if (!cJSON_IsString(data)) {
        snprintf(msg, size, "%s: data of type %s must be a string", what, d->type);
        return msg;
    }
    size_t len = strlen(data->valuestring);
    d->p = malloc(len + 1);
    if (!d->p)
        return "out of memory";
    if (!strcmp(d->type, "STRING")) {
        memcpy(d->p, data->valuestring, len);
        d->len = len;
        return NULL;
    }
    int n = sk_base64_decode(data->valuestring, len, d->p, len + 1);
    if (n < 0) {
        snprintf(msg, size, "%s: data of type BINARY must be base64", what);
        return msg;
    }
    d->len = (size_t)n;
    return NULL;
}

static const char *parse_headers(const cJSON *hs, rest_record *rec, char *msg, size_t size)
{
    if (!hs || cJSON_IsNull(hs))
        return NULL;
    int n = cJSON_GetArraySize(hs);
    if (!cJSON_IsArray(hs))
        return "headers must be an array of {\"name\", \"value\"}";
    rec->headers = calloc((size_t)n + 1, sizeof *rec->headers);
    if (!rec->headers)
        return "out of memory";
    for (const cJSON *h = hs->child; h; h = h->next) {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(h, "name");
        const cJSON *value = cJSON_GetObjectItemCaseSensitive(h, "value");
        if (!cJSON_IsObject(h) || !cJSON_IsString(name) || cJSON_GetArraySize(h) != 1 + (value != NULL) ||
            (value && !cJSON_IsNull(value) && !cJSON_IsString(value)))
            return "each header must be {\"name\": string, \"value\": base64 string or null}";
        sk_record_header_spec *spec = &rec->headers[rec->nheaders++];
        spec->key = strdup(name->valuestring);
        spec->key_len = strlen(name->valuestring);
        if (!spec->key)
            return "out of memory";
        if (value && cJSON_IsString(value)) {
            size_t len = strlen(value->valuestring);
            uint8_t *v = malloc(len + 1);
            int got = v ? sk_base64_decode(value->valuestring, len, v, len + 1) : -1;
            spec->value = v;
            if (got < 0) {
                snprintf(msg, size, "header \"%s\": value must be base64", name->valuestring);
                return v ? msg : "out of memory";
            }
            spec->value_len = (size_t)got;
        }
    }
    return NULL;
}

/* Fills `rec` from one record object; NULL or an error message. */
static const char *parse_record(sk_http_req *r, produce_ctx *c, const cJSON *o, rest_record *rec, char *msg,
                                size_t size)
{
    rec->partition = -1;
    rec->timestamp = sk_logstore_now(r->b->logs);
    if (!cJSON_IsObject(o))
        return "a record must be a JSON object";
    for (const cJSON *f = o->child; f; f = f->next) {
        static const char *const known[] = {"partition_id", "headers", "key", "value", "timestamp", NULL};
        const char *const *k = known;
        while (*k && strcmp(*k, f->string))
            k++;
        if (!*k) {
            snprintf(msg, size, "unknown field \"%s\"", f->string);
            return msg;
        }
    }
    const cJSON *pid = cJSON_GetObjectItemCaseSensitive(o, "partition_id");
    const cJSON *ts = cJSON_GetObjectItemCaseSensitive(o, "timestamp");
    const char *why;
    if ((why = parse_data(cJSON_GetObjectItemCaseSensitive(o, "key"), "key", &rec->key, msg, size)) ||
        (why = parse_data(cJSON_GetObjectItemCaseSensitive(o, "value"), "value", &rec->value, msg, size)) ||
        (why = parse_headers(cJSON_GetObjectItemCaseSensitive(o, "headers"), rec, msg, size)))
        return why;
    if (ts && !cJSON_IsNull(ts) && (!cJSON_IsString(ts) || !sk_rest_parse_time(ts->valuestring, &rec->timestamp)))
        return "timestamp must be an RFC 3339 UTC time such as 2026-12-07T10:00:00.000Z";
    if (pid && !cJSON_IsNull(pid)) {
        if (!cJSON_IsNumber(pid) || pid->valuedouble != (double)(int32_t)pid->valuedouble || pid->valuedouble < 0)
            return "partition_id must be a partition number";
        rec->partition = (int32_t)pid->valuedouble;
    } else if (rec->key.p) {
        rec->partition = (int32_t)((uint32_t)murmur2(rec->key.p, rec->key.len) & 0x7fffffff) % c->partitions;
    } else {
        rec->partition = (int32_t)(rr_counter++ % (uint32_t)c->partitions);
    }
    rec->estimate = rec->key.len + rec->value.len + 24;
    for (int32_t i = 0; i < rec->nheaders; i++)
        rec->estimate += rec->headers[i].key_len + rec->headers[i].value_len + 10;
    return NULL;
}

static rest_record *add_record(produce_ctx *c)
{
    if (c->n == c->cap) {
        int cap = c->cap ? c->cap * 2 : 8;
        rest_record *grown = realloc(c->recs, (size_t)cap * sizeof *grown);
        if (!grown)
            return NULL;
        c->recs = grown;
        c->cap = cap;
    }
    rest_record *rec = &c->recs[c->n++];
    memset(rec, 0, sizeof *rec);
    return rec;
}

/* Splits the body into records; false after replying (nothing produced). */
static bool parse_body(sk_http_req *r, produce_ctx *c)
{
    char *text = c->text;
    size_t len = c->len;
    c->text = NULL;
    size_t pos = 0;
    for (;;) {
        while (pos < len && strchr(" \t\r\n", text[pos]))
            pos++;
        if (pos >= len)
            break;
        const char *end = NULL;
        cJSON *o = cJSON_ParseWithLengthOpts(text + pos, len - pos, &end, false);
        rest_record *rec = add_record(c);
        if (!rec) {
            cJSON_Delete(o);
            free(text);
            sk_rest_error(r, 500, 50002, -1, "out of memory");
            return false;
        }
        char msg[400];
        if (!o) {
            snprintf(msg, sizeof msg, "malformed JSON at byte %zu of the body", pos);
            rec->result = sk_rest_error_json(400, -1, msg);
            break; /* no way to find the next record */
        }
        const char *why = parse_record(r, c, o, rec, msg, sizeof msg);
        cJSON_Delete(o);
        if (why)
            rec->result = sk_rest_error_json(400, -1, why);
        else if (rec->partition >= c->partitions) {
            snprintf(msg, sizeof msg, "This server does not host this topic-partition: %s-%d", c->topic,
                     rec->partition);
            rec->result = sk_rest_error_json(40403, SK_ERR_UNKNOWN_TOPIC_OR_PARTITION, msg);
        }
        pos = (size_t)(end - text);
    }
    free(text);
    if (c->n == 0) {
        sk_rest_error(r, 400, 400, -1, "the body holds no record");
        return false;
    }
    return true;
}

static void produce_round(sk_http_req *r, produce_ctx *c);

/* Streaming: sends the results not sent yet that are known, in record
 * order (up to the first record still waiting), as one chunk. */
static void send_results(sk_http_req *r, produce_ctx *c)
{
    struct evbuffer *out = evbuffer_new();
    for (; out && c->written < c->n && c->recs[c->written].result; c->written++) {
        rest_record *rec = &c->recs[c->written];
        char *line = cJSON_PrintUnformatted(rec->result);
        if (line)
            evbuffer_add_printf(out, "%s\n", line);
        free(line);
        cJSON_Delete(rec->result);
        rec->result = cJSON_CreateNull(); /* sent */
    }
    size_t len = out ? evbuffer_get_length(out) : 0;
    if (len)
        sk_http_reply_chunk(r, (const char *)evbuffer_pullup(out, -1), len);
    if (out)
        evbuffer_free(out);
}

/* Every record has its result: the last lines and the end of a streamed
 * reply, or the one record's result with its HTTP status. Frees c and r. */
static void reply_all(sk_http_req *r, produce_ctx *c)
{
    if (c->streaming) {
        send_results(r, c);
        ctx_free(c);
        sk_http_reply_end(r);
        return;
    }
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(c->recs[0].result, "error_code");
    int status = code && code->valueint != 200 ? code->valueint : 200;
    while (status >= 1000)
        status /= 10; /* 40403 -> 404 */
    cJSON *one = c->recs[0].result;
    c->recs[0].result = NULL;
    ctx_free(c);
    sk_http_reply_json(r, status, one);
}

static cJSON *data_report(const rest_data *d)
{
    if (!d->p)
        return cJSON_CreateNull();
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "type", d->type);
    cJSON_AddNumberToObject(o, "size", (double)d->len);
    return o;
}

static void produced(sk_http_req *r, const void *resp_, void *arg)
{
    produce_ctx *c = arg;
    const kf_produce_response *resp = resp_;
    const kf_produce_response_topic *t = resp && resp->responses.n == 1 ? &resp->responses.items[0] : NULL;
    for (int i = 0; i < c->n; i++) {
        rest_record *rec = &c->recs[i];
        if (rec->round != c->round)
            continue;
        const kf_produce_response_partition *pr = NULL;
        for (int32_t k = 0; t && k < t->partition_responses.n; k++)
            if (t->partition_responses.items[k].index == rec->partition)
                pr = &t->partition_responses.items[k];
        if (!pr || pr->error_code != SK_ERR_NONE) {
            int16_t err = pr ? pr->error_code : SK_ERR_UNKNOWN_SERVER_ERROR;
            int code;
            sk_rest_status_of(err, &code);
            const char *msg = pr && pr->error_message.p ? pr->error_message.p : sk_err_name(err);
            rec->result = sk_rest_error_json(code, err, msg);
            continue;
        }
        char when[40];
        sk_rest_iso_time(pr->log_append_time_ms >= 0 ? pr->log_append_time_ms : rec->timestamp, when, sizeof when);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "error_code", 200);
        cJSON_AddStringToObject(o, "cluster_id", sk_meta_cluster_id(r->b->meta));
        cJSON_AddStringToObject(o, "topic_name", c->topic);
        cJSON_AddNumberToObject(o, "partition_id", rec->partition);
        cJSON_AddNumberToObject(o, "offset", (double)(pr->base_offset + rec->position));
        cJSON_AddStringToObject(o, "timestamp", when);
        cJSON_AddItemToObject(o, "key", data_report(&rec->key));
        cJSON_AddItemToObject(o, "value", data_report(&rec->value));
        rec->result = o;
    }
    if (!r->ev) { /* the client left: produce nothing more */
        ctx_free(c);
        sk_http_reply_text(r, 0, "", "", 0);
        return;
    }
    if (c->streaming)
        send_results(r, c);
    produce_round(r, c);
}

/* Sends the next Produce request: for each partition, its next records in
 * order while the batch stays within max.message.bytes (at least one). */
static void produce_round(sk_http_req *r, produce_ctx *c)
{
    c->round++;
    int32_t nparts = 0;
    int32_t *order = calloc((size_t)c->n + 1, sizeof *order); /* partitions in this round */
    size_t *used = calloc((size_t)c->partitions + 1, sizeof *used);
    bool *closed = calloc((size_t)c->partitions + 1, sizeof *closed);
    int32_t *count = calloc((size_t)c->partitions + 1, sizeof *count);
    if (!order || !used || !closed || !count) {
        free(order), free(used), free(closed), free(count);
        for (int i = 0; i < c->n; i++)
            if (!c->recs[i].result)
                c->recs[i].result = sk_rest_error_json(50002, -1, "out of memory");
        reply_all(r, c);
        return;
    }
    for (int i = 0; i < c->n; i++) {
        rest_record *rec = &c->recs[i];
        if (rec->result || rec->round || closed[rec->partition])
            continue;
        int32_t p = rec->partition;
        if (count[p] > 0 && used[p] + rec->estimate > (size_t)c->max_bytes) {
            closed[p] = true;
            continue;
        }
        if (count[p] == 0)
            order[nparts++] = p;
        used[p] += rec->estimate;
        rec->round = c->round;
        rec->position = count[p]++;
    }
    /* A topic deleted meanwhile is not created again by the Produce handler. */
    bool gone = nparts > 0 && !sk_meta_topic(r->b->meta, c->topic, strlen(c->topic));
    if (nparts == 0 || gone) {
        free(order), free(used), free(closed), free(count);
        for (int i = 0; gone && i < c->n; i++)
            if (!c->recs[i].result)
                c->recs[i].result = sk_rest_error_json(40403, SK_ERR_UNKNOWN_TOPIC_OR_PARTITION,
                                                       "This server does not host this topic-partition");
        reply_all(r, c);
        return;
    }
    sk_request *kreq = sk_rest_request(r, KF_API_PRODUCE);
    if (!kreq) {
        free(order), free(used), free(closed), free(count);
        ctx_free(c);
        return;
    }
    kf_produce_request *body = kreq->body;
    body->acks = -1;
    body->timeout_ms = 30000;
    kf_produce_request_topic *td = sk_arena_alloc(&kreq->arena, sizeof *td);
    kf_produce_request_partition *pd = sk_arena_alloc(&kreq->arena, (size_t)nparts * sizeof *pd);
    bool ok = td && pd;
    if (ok) {
        memset(td, 0, sizeof *td);
        td->name = kf_str_c(sk_arena_strndup(&kreq->arena, c->topic, strlen(c->topic)));
        td->partition_data.items = pd;
        td->partition_data.n = nparts;
        body->topic_data.items = td;
        body->topic_data.n = 1;
    }
    for (int32_t k = 0; ok && k < nparts; k++) {
        int32_t p = order[k];
        sk_record_spec *specs = calloc((size_t)count[p], sizeof *specs);
        ok = specs != NULL;
        int32_t m = 0;
        for (int i = 0; ok && i < c->n; i++) {
            rest_record *rec = &c->recs[i];
            if (rec->round != c->round || rec->partition != p)
                continue;
            specs[m++] = (sk_record_spec){rec->key.p,     rec->key.len, rec->value.p, rec->value.len,
                                          rec->timestamp, rec->headers, rec->nheaders};
        }
        sk_writer w;
        sk_writer_init(&w, used[p] + SK_BATCH_HEADER_SIZE);
        sk_batch_spec spec = {.producer_id = -1, .producer_epoch = -1, .base_sequence = -1};
        ok = ok && sk_batch_build(&w, &spec, specs, m) == 0;
        uint8_t *copy = ok ? sk_arena_alloc(&kreq->arena, w.len) : NULL;
        ok = copy != NULL;
        if (ok) {
            memcpy(copy, w.buf, w.len);
            pd[k] = (kf_produce_request_partition){.index = p, .records = {copy, (int32_t)w.len, NULL}};
        }
        sk_writer_free(&w);
        free(specs);
    }
    free(order), free(used), free(closed), free(count);
    if (!ok) {
        sk_request_local_free(kreq);
        for (int i = 0; i < c->n; i++)
            if (!c->recs[i].result)
                c->recs[i].result = sk_rest_error_json(50002, -1, "out of memory");
        reply_all(r, c);
        return;
    }
    sk_rest_call(r, kreq, produced, c);
}

/* Parses the body for topic c->topic (which exists) and produces it. */
static void produce_start(sk_http_req *r, produce_ctx *c)
{
    const sk_topic *t = sk_meta_topic(r->b->meta, c->topic, strlen(c->topic));
    c->partitions = t->partitions;
    c->max_bytes = t->log_config.max_message_bytes - SK_BATCH_HEADER_SIZE;
    if (!parse_body(r, c)) {
        ctx_free(c);
        return;
    }
    c->streaming = c->streaming || c->n > 1;
    if (c->streaming) { /* 200 now: each record's outcome is its line */
        sk_http_reply_start(r, 200, "application/json");
        send_results(r, c);
    }
    produce_round(r, c);
}

/* The Metadata answer for a topic that did not exist: created, or not. */
static void topic_looked_up(sk_http_req *r, const void *resp_, void *arg)
{
    produce_ctx *c = arg;
    const kf_metadata_response *resp = resp_;
    int16_t err = resp && resp->topics.n == 1 ? resp->topics.items[0].error_code : SK_ERR_UNKNOWN_SERVER_ERROR;
    if (err == SK_ERR_NONE && !sk_meta_topic(r->b->meta, c->topic, strlen(c->topic)))
        err = SK_ERR_UNKNOWN_TOPIC_OR_PARTITION;
    if (!r->ev || err != SK_ERR_NONE) {
        char topic[NAME_LEN];
        snprintf(topic, sizeof topic, "%s", c->topic);
        ctx_free(c);
        if (!r->ev)
            sk_http_reply_text(r, 0, "", "", 0);
        else if (err == SK_ERR_UNKNOWN_TOPIC_OR_PARTITION)
            sk_rest_error(r, 404, 40403, err, "This server does not host this topic-partition: no topic %s", topic);
        else
            sk_rest_kafka_error(r, err, NULL);
        return;
    }
    produce_start(r, c);
}

void sk_rest_produce(sk_http_req *r)
{
    if (!sk_rest_cluster_ok(r))
        return;
    const char *name = r->params[1];
    if (strlen(name) >= NAME_LEN) {
        sk_rest_error(r, 404, 40403, SK_ERR_UNKNOWN_TOPIC_OR_PARTITION,
                      "This server does not host this topic-partition: no topic %s", name);
        return;
    }
    produce_ctx *c = calloc(1, sizeof *c);
    struct evbuffer *in = evhttp_request_get_input_buffer(r->ev);
    size_t len = evbuffer_get_length(in);
    if (!c || !(c->text = malloc(len + 1))) {
        free(c);
        sk_rest_error(r, 500, 50002, -1, "out of memory");
        return;
    }
    snprintf(c->topic, sizeof c->topic, "%s", name);
    evbuffer_remove(in, c->text, len);
    c->text[len] = '\0';
    c->len = len;
    const char *te = evhttp_find_header(evhttp_request_get_input_headers(r->ev), "Transfer-Encoding");
    c->streaming = te && strstr(te, "chunked"); /* Confluent's streaming mode */
    if (sk_meta_topic(r->b->meta, name, strlen(name))) {
        produce_start(r, c);
        return;
    }
    /* As a Kafka producer finds a topic: Metadata, which creates it when
     * auto.create.topics.enable is true (UNKNOWN_TOPIC_OR_PARTITION when not). */
    sk_request *kreq = sk_rest_request(r, KF_API_METADATA);
    kf_metadata_request_topic *want = kreq ? sk_arena_alloc(&kreq->arena, sizeof *want) : NULL;
    char *copy = want ? sk_arena_strndup(&kreq->arena, name, strlen(name)) : NULL;
    if (!copy) {
        ctx_free(c);
        if (kreq)
            sk_rest_oom(r, kreq);
        return;
    }
    memset(want, 0, sizeof *want);
    want->name = kf_str_c(copy);
    kf_metadata_request *body = kreq->body;
    body->topics.items = want;
    body->topics.n = 1;
    body->allow_auto_topic_creation = true;
    sk_rest_call(r, kreq, topic_looked_up, c);
}
