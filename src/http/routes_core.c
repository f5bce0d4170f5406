/*
 * Routes: health and readiness, the OpenAPI document, fault rules, broker
 * faults (pause, refuse connections) and request capture.
 */
#include <cjson/cJSON.h>
#include <event2/event.h>
#include <event2/http.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_int.h"
#include "skiff/control.h"
#include "skiff/jsonv.h"
#include "skiff/trace.h"
#include "skiff/meta.h"
#include "skiff/net.h"

/* The OpenAPI document (docs/openapi.json, embedded at build time). */
extern const char sk_openapi_json[];

static void healthz(sk_http_req *r)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "status", "ok");
    sk_http_reply_json(r, 200, o);
}

static void readyz(sk_http_req *r)
{
    bool ready = r->b->listeners && !r->b->stopping;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddBoolToObject(o, "ready", ready);
    cJSON_AddBoolToObject(o, "listening", r->b->listeners != NULL);
    cJSON_AddBoolToObject(o, "stores_loaded", true);
    cJSON_AddBoolToObject(o, "stopping", r->b->stopping);
    sk_http_reply_json(r, ready ? 200 : 503, o);
}

static void openapi(sk_http_req *r)
{
    sk_http_reply_text(r, 200, "application/json", sk_openapi_json, strlen(sk_openapi_json));
}

/* ---- Faults ------------------------------------------------------------- */

/* The rule named by the path as JSON (caller frees), or NULL after a 404. */
static cJSON *rule_or_404(sk_http_req *r, uint64_t *id)
{
    char *end;
    *id = strtoull(r->params[0], &end, 10);
    cJSON *rule = *r->params[0] && !*end && *id ? sk_faults_get(r->b, *id) : NULL;
    if (!rule)
        sk_http_reply_error(r, 404, "not_found", "no fault rule %s", r->params[0]);
    return rule;
}

static void faults_add(sk_http_req *r)
{
    char detail[256];
    cJSON *rule = sk_faults_add(r->b, r->body, detail, sizeof detail);
    if (!rule) {
        sk_http_reply_error(r, 400, "bad_rule", "%s", detail);
        return;
    }
    sk_http_reply_json(r, 201, rule);
}

static void faults_list(sk_http_req *r)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "rules", sk_faults_list(r->b));
    sk_http_reply_json(r, 200, o);
}

static void faults_clear(sk_http_req *r)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "removed", sk_faults_clear(r->b));
    sk_http_reply_json(r, 200, o);
}

static void faults_get(sk_http_req *r)
{
    uint64_t id;
    cJSON *rule = rule_or_404(r, &id);
    if (rule)
        sk_http_reply_json(r, 200, rule);
}

static void faults_delete(sk_http_req *r)
{
    uint64_t id;
    cJSON *rule = rule_or_404(r, &id);
    if (!rule)
        return;
    sk_faults_remove(r->b, id);
    sk_http_reply_json(r, 200, rule);
}

/* ---- Broker faults ------------------------------------------------------ */

static cJSON *broker_state(sk_broker *b)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "node_id", b->config->node_id);
    cJSON_AddStringToObject(o, "cluster_id", sk_meta_cluster_id(b->meta));
    cJSON_AddNumberToObject(o, "connections", (double)sk_net_connection_count(b));
    cJSON_AddBoolToObject(o, "paused", b->reads_paused);
    cJSON_AddBoolToObject(o, "refusing_connections", b->refusing);
    return o;
}

static void broker_get(sk_http_req *r)
{
    sk_http_reply_json(r, 200, broker_state(r->b));
}

static void apply_pause(sk_broker *b, bool on);
static void apply_refuse(sk_broker *b, bool on);

static void pause_end(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    apply_pause(arg, false);
}

static void refuse_end(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    apply_refuse(arg, false);
}

static const char *const timed_fields[] = {"duration_ms", NULL};

/* Starts (on) or ends a timed broker fault: apply(b, on) once the body is
 * valid; `timer` (created on demand) ends it after duration_ms. */
static void timed_fault(sk_http_req *r, struct event **timer, event_callback_fn end, bool on,
                        void (*apply)(sk_broker *b, bool on))
{
    char detail[256];
    int64_t ms = 0;
    if (sk_jsonv_fields(r->body, on ? timed_fields : timed_fields + 1, detail, sizeof detail) < 0 ||
        sk_jsonv_int(r->body, "duration_ms", 1, SK_HTTP_WAIT_MAX_MS, &ms, detail, sizeof detail) < 0) {
        sk_http_reply_error(r, 400, "bad_request", "%s", detail);
        return;
    }
    if (!*timer && !(*timer = evtimer_new(r->b->base, end, r->b))) {
        sk_http_reply_error(r, 500, "internal", "out of memory");
        return;
    }
    evtimer_del(*timer);
    apply(r->b, on);
    if (on && ms > 0) {
        struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
        evtimer_add(*timer, &tv);
    }
    sk_http_reply_json(r, 200, broker_state(r->b));
}

static void apply_pause(sk_broker *b, bool on)
{
    sk_info("fault", on ? "broker paused: no connection reads requests" : "broker resumed");
    sk_net_pause_reads(b, on);
}

static void apply_refuse(sk_broker *b, bool on)
{
    sk_info("fault", on ? "refusing new connections" : "accepting connections again");
    b->refusing = on;
}

static void broker_pause(sk_http_req *r)
{
    timed_fault(r, &r->b->http->pause_timer, pause_end, true, apply_pause);
}

static void broker_resume(sk_http_req *r)
{
    timed_fault(r, &r->b->http->pause_timer, pause_end, false, apply_pause);
}

static void broker_refuse(sk_http_req *r)
{
    timed_fault(r, &r->b->http->refuse_timer, refuse_end, true, apply_refuse);
}

static void broker_accept(sk_http_req *r)
{
    timed_fault(r, &r->b->http->refuse_timer, refuse_end, false, apply_refuse);
}

/* ---- Capture ------------------------------------------------------------ */

static void capture_start(sk_http_req *r)
{
    char detail[256];
    if (sk_capture_configure(r->b, r->body, detail, sizeof detail)) {
        sk_http_reply_error(r, 400, "bad_request", "%s", detail);
        return;
    }
    sk_http_reply_json(r, 200, sk_capture_query(r->b, -1, NULL, 0, 0));
}

static void capture_stop(sk_http_req *r)
{
    sk_capture_stop(r->b);
    sk_http_reply_json(r, 200, sk_capture_query(r->b, -1, NULL, 0, 0));
}

static void capture_get(sk_http_req *r)
{
    int64_t since = 0, limit = 1000;
    int api = -1;
    char *name = sk_http_query(r, "api");
    if (name) {
        api = sk_api_key_parse(name);
        free(name);
        if (api < 0) {
            sk_http_reply_error(r, 400, "bad_request", "query parameter \"api\": unknown API");
            return;
        }
    }
    if (sk_http_query_int(r, "since", 0, INT64_MAX, &since) < 0 || sk_http_query_int(r, "limit", 1, 100000, &limit) < 0)
        return;
    char *client = sk_http_query(r, "client_id");
    cJSON *o = sk_capture_query(r->b, api, client, since, (int)limit);
    free(client);
    sk_http_reply_json(r, 200, o);
}

static void capture_clear(sk_http_req *r)
{
    sk_capture_clear(r->b);
    sk_http_reply_json(r, 200, sk_capture_query(r->b, -1, NULL, 0, 0));
}

const sk_http_route sk_http_routes_core[] = {
    {EVHTTP_REQ_GET, "/healthz", healthz, false},
    {EVHTTP_REQ_GET, "/readyz", readyz, false},
    {EVHTTP_REQ_GET, "/openapi.json", openapi, false},
    {EVHTTP_REQ_GET, "/v1/faults", faults_list, false},
    {EVHTTP_REQ_POST, "/v1/faults", faults_add, true},
    {EVHTTP_REQ_DELETE, "/v1/faults", faults_clear, false},
    {EVHTTP_REQ_GET, "/v1/faults/{}", faults_get, false},
    {EVHTTP_REQ_DELETE, "/v1/faults/{}", faults_delete, false},
    {EVHTTP_REQ_GET, "/v1/broker", broker_get, false},
    {EVHTTP_REQ_POST, "/v1/broker/pause", broker_pause, true},
    {EVHTTP_REQ_POST, "/v1/broker/resume", broker_resume, true},
    {EVHTTP_REQ_POST, "/v1/broker/refuse-connections", broker_refuse, true},
    {EVHTTP_REQ_POST, "/v1/broker/accept-connections", broker_accept, true},
    {EVHTTP_REQ_GET, "/v1/capture", capture_get, false},
    {EVHTTP_REQ_POST, "/v1/capture", capture_start, true},
    {EVHTTP_REQ_POST, "/v1/capture/stop", capture_stop, true},
    {EVHTTP_REQ_DELETE, "/v1/capture", capture_clear, false},
    {0, NULL, NULL, false},
};
