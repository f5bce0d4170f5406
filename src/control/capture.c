/*
 * Request capture: a bounded ring of the Kafka requests the broker read,
 * each with its connection, client id, API and version, correlation id,
 * arrival and response times (wall clock, ms), the non-zero error codes of
 * its response, and (when `bodies` is on) the decoded request and response
 * as JSON (kf_to_json). The oldest entry is dropped when the ring is full.
 * Entries are numbered from 1; a request still in flight finds its entry by
 * number, so an entry dropped meanwhile is simply not completed.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control_int.h"
#include "skiff/api.h"
#include "skiff/jsonv.h"

#define CAPTURE_DEFAULT 1000
#define CAPTURE_MAX 100000
#define CAPTURE_APIS 128

typedef struct sk_capture_entry {
    uint64_t id; /* 0 = empty slot */
    cJSON *json; /* the entry as served */
} sk_capture_entry;

typedef struct sk_capture {
    bool enabled;            /* capturing now (a stopped ring keeps its entries) */
    bool bodies;             /* keep decoded request and response */
    bool apis[CAPTURE_APIS]; /* captured API keys (all true = every API) */
    int64_t capacity;        /* entries kept */
    sk_capture_entry *ring;  /* capacity entries; id % capacity is the slot */
    uint64_t next_id;        /* id of the next entry */
} sk_capture;

bool sk_capture_active(const sk_control *ctl)
{
    return ctl->capture && ctl->capture->enabled;
}

static void ring_clear(sk_capture *c)
{
    for (int64_t i = 0; c->ring && i < c->capacity; i++) {
        cJSON_Delete(c->ring[i].json);
        c->ring[i].json = NULL;
        c->ring[i].id = 0;
    }
}

void sk_capture_free(sk_control *ctl)
{
    if (!ctl->capture)
        return;
    ring_clear(ctl->capture);
    free(ctl->capture->ring);
    free(ctl->capture);
    ctl->capture = NULL;
}

static const char *const capture_fields[] = {"capacity", "apis", "bodies", NULL};

const char *sk_capture_configure(sk_broker *b, const cJSON *spec, char *detail, size_t len)
{
    sk_control *ctl = b->control;
    int64_t capacity = CAPTURE_DEFAULT;
    bool bodies = true, apis[CAPTURE_APIS];
    if (sk_jsonv_fields(spec, capture_fields, detail, len) < 0 ||
        sk_jsonv_int(spec, "capacity", 1, CAPTURE_MAX, &capacity, detail, len) < 0 ||
        sk_jsonv_bool(spec, "bodies", &bodies, detail, len) < 0)
        return detail;
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(spec, "apis");
    memset(apis, !list, sizeof apis);
    if (list && !cJSON_IsArray(list)) {
        snprintf(detail, len, "field \"apis\" must be an array of API names or keys");
        return detail;
    }
    for (const cJSON *it = list ? list->child : NULL; it; it = it->next) {
        char buf[64];
        if (cJSON_IsString(it))
            snprintf(buf, sizeof buf, "%s", it->valuestring);
        else if (cJSON_IsNumber(it))
            snprintf(buf, sizeof buf, "%.0f", it->valuedouble);
        else
            buf[0] = '\0';
        int key = sk_api_key_parse(buf);
        if (key < 0 || key >= CAPTURE_APIS) {
            snprintf(detail, len, "field \"apis\": unknown API \"%s\"", buf);
            return detail;
        }
        apis[key] = true;
    }
    sk_capture *c = ctl->capture;
    if (!c || c->capacity != capacity) {
        sk_capture *n = calloc(1, sizeof *n);
        if (n)
            n->ring = calloc((size_t)capacity, sizeof *n->ring);
        if (!n || !n->ring) {
            free(n);
            snprintf(detail, len, "out of memory");
            return detail;
        }
        n->capacity = capacity;
        n->next_id = c ? c->next_id : 1;
        sk_capture_free(ctl);
        ctl->capture = c = n;
    }
    c->enabled = true;
    c->bodies = bodies;
    memcpy(c->apis, apis, sizeof apis);
    sk_control_update_intercept(b);
    return NULL;
}

void sk_capture_stop(sk_broker *b)
{
    if (b->control->capture)
        b->control->capture->enabled = false;
    sk_control_update_intercept(b);
}

void sk_capture_clear(sk_broker *b)
{
    if (b->control->capture)
        ring_clear(b->control->capture);
}

uint64_t sk_capture_begin(sk_control *ctl, const sk_request *req)
{
    sk_capture *c = ctl->capture;
    int16_t key = req->hdr.api_key;
    if (key < 0 || key >= CAPTURE_APIS || !c->apis[key])
        return 0;
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return 0;
    uint64_t id = c->next_id++;
    cJSON_AddNumberToObject(o, "id", (double)id);
    cJSON_AddNumberToObject(o, "connection_id", (double)req->conn_id);
    cJSON_AddStringToObject(o, "peer", req->peer);
    cJSON_AddNumberToObject(o, "node_id", req->node_id);
    if (req->hdr.client_id.p)
        cJSON_AddStringToObject(o, "client_id", req->hdr.client_id.p);
    else
        cJSON_AddNullToObject(o, "client_id");
    cJSON_AddNumberToObject(o, "api_key", key);
    cJSON_AddStringToObject(o, "api", req->api->name);
    cJSON_AddNumberToObject(o, "api_version", req->hdr.api_version);
    cJSON_AddNumberToObject(o, "correlation_id", req->hdr.correlation_id);
    cJSON_AddNumberToObject(o, "arrival_ms", (double)sk_control_now_ms());
    cJSON_AddNullToObject(o, "response_ms");
    cJSON_AddStringToObject(o, "outcome", "pending");
    cJSON_AddItemToObject(o, "error_codes", cJSON_CreateArray());
    if (c->bodies && req->body)
        cJSON_AddItemToObject(o, "request", kf_to_json(req->api->request, req->hdr.api_version, req->body));
    sk_capture_entry *e = &c->ring[id % (uint64_t)c->capacity];
    cJSON_Delete(e->json);
    e->id = id;
    e->json = o;
    return id;
}

/* Adds the distinct non-zero values of fields named *error_code to `out`. */
static void collect_errors(const cJSON *j, cJSON *out)
{
    for (const cJSON *it = j ? j->child : NULL; it; it = it->next) {
        size_t n = it->string ? strlen(it->string) : 0;
        if (cJSON_IsNumber(it) && n >= 10 && !strcmp(it->string + n - 10, "error_code") && it->valueint) {
            bool seen = false;
            for (const cJSON *e = out->child; e && !seen; e = e->next)
                seen = e->valueint == it->valueint;
            if (!seen)
                cJSON_AddItemToArray(out, cJSON_CreateNumber(it->valueint));
        } else if (cJSON_IsObject(it) || cJSON_IsArray(it)) {
            collect_errors(it, out);
        }
    }
}

void sk_capture_response(sk_control *ctl, uint64_t id, const sk_request *req, const void *response)
{
    sk_capture *c = ctl->capture;
    if (!c)
        return;
    sk_capture_entry *e = &c->ring[id % (uint64_t)c->capacity];
    if (e->id != id || !e->json)
        return;
    cJSON_ReplaceItemInObject(e->json, "response_ms", cJSON_CreateNumber((double)sk_control_now_ms()));
    cJSON_ReplaceItemInObject(e->json, "outcome", cJSON_CreateString(response ? "response" : "no response"));
    if (!response)
        return;
    cJSON *body = kf_to_json(req->api->response, req->hdr.api_version, response);
    collect_errors(body, cJSON_GetObjectItemCaseSensitive(e->json, "error_codes"));
    if (c->bodies && body)
        cJSON_AddItemToObject(e->json, "response", body);
    else
        cJSON_Delete(body);
}

cJSON *sk_capture_query(sk_broker *b, int api_key, const char *client_id, int64_t since_id, int limit)
{
    sk_capture *c = b->control->capture;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddBoolToObject(o, "enabled", c && c->enabled);
    cJSON_AddNumberToObject(o, "capacity", c ? (double)c->capacity : 0);
    cJSON *arr = cJSON_AddArrayToObject(o, "entries");
    if (!c || !arr)
        return o;
    uint64_t first = c->next_id > (uint64_t)c->capacity ? c->next_id - (uint64_t)c->capacity : 1;
    if (since_id > 0 && (uint64_t)since_id + 1 > first)
        first = (uint64_t)since_id + 1;
    int n = 0;
    for (uint64_t id = first; id < c->next_id && n < limit; id++) {
        const sk_capture_entry *e = &c->ring[id % (uint64_t)c->capacity];
        if (e->id != id || !e->json)
            continue;
        const cJSON *key = cJSON_GetObjectItemCaseSensitive(e->json, "api_key");
        const cJSON *cid = cJSON_GetObjectItemCaseSensitive(e->json, "client_id");
        if (api_key >= 0 && key->valueint != api_key)
            continue;
        if (client_id && !(cJSON_IsString(cid) && !strcmp(cid->valuestring, client_id)))
            continue;
        cJSON_AddItemToArray(arr, cJSON_Duplicate(e->json, true));
        n++;
    }
    return o;
}
