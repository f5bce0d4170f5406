/*
 * The control plane's hooks on the Kafka request path: applying the fault
 * rule that fires for a request, holding delayed responses, and starting
 * and finishing capture entries.
 */
#include <event2/event.h>
#include <stdlib.h>

#include "control_int.h"
#include "kf_msgs.h"
#include "skiff/api.h"
#include "skiff/errors.h"
#include "skiff/trace.h"

int sk_control_open(sk_broker *b)
{
    sk_control *ctl = calloc(1, sizeof *ctl);
    if (!ctl)
        return -1;
    ctl->broker = b;
    b->control = ctl;
    b->intercept = false;
    return 0;
}

static void held_release(sk_held_reply *h)
{
    sk_control *ctl = h->ctl;
    if (h->prev)
        h->prev->next = h->next;
    else
        ctl->held = h->next;
    if (h->next)
        h->next->prev = h->prev;
    event_free(h->timer);
    h->release(h->slot);
    free(h);
}

void sk_control_close(sk_broker *b)
{
    sk_control *ctl = b->control;
    if (!ctl)
        return;
    while (ctl->held)
        held_release(ctl->held);
    sk_faults_free_all(ctl);
    sk_capture_free(ctl);
    free(ctl);
    b->control = NULL;
    b->intercept = false;
}

void sk_control_update_intercept(sk_broker *b)
{
    b->intercept = b->control->rules != NULL || sk_capture_active(b->control);
}

static void held_timer_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    held_release(arg);
}

void sk_control_hold_reply(sk_broker *b, struct sk_reply *slot, int32_t ms, void (*release)(struct sk_reply *slot))
{
    sk_control *ctl = b->control;
    sk_held_reply *h = ctl ? calloc(1, sizeof *h) : NULL;
    if (h)
        h->timer = evtimer_new(b->base, held_timer_cb, h);
    if (!h || !h->timer) {
        free(h);
        release(slot); /* no memory to wait: answer now */
        return;
    }
    h->ctl = ctl;
    h->slot = slot;
    h->release = release;
    h->next = ctl->held;
    if (ctl->held)
        ctl->held->prev = h;
    ctl->held = h;
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    evtimer_add(h->timer, &tv);
}

/* Where an injected error goes when the rule says "auto": errors about the
 * request as a whole (coordinator, session, authorization) at the outermost
 * level that has an error code, others per partition. */
static kf_error_place auto_place(int16_t err)
{
    switch (err) {
    case SK_ERR_COORDINATOR_LOAD_IN_PROGRESS:
    case SK_ERR_COORDINATOR_NOT_AVAILABLE:
    case SK_ERR_NOT_COORDINATOR:
    case SK_ERR_GROUP_AUTHORIZATION_FAILED:
    case SK_ERR_CLUSTER_AUTHORIZATION_FAILED:
    case SK_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED:
    case SK_ERR_FETCH_SESSION_ID_NOT_FOUND:
    case SK_ERR_INVALID_FETCH_SESSION_EPOCH:
    case SK_ERR_UNSUPPORTED_VERSION:
        return KF_ERR_SHALLOWEST;
    default:
        return KF_ERR_DEEPEST;
    }
}

static bool acks_zero(const sk_request *req)
{
    return req->hdr.api_key == KF_API_PRODUCE && req->body && ((const kf_produce_request *)req->body)->acks == 0;
}

bool sk_control_on_request(sk_request *req)
{
    sk_control *ctl = req->broker->control;
    sk_req_ctl *rc = sk_arena_alloc(&req->arena, sizeof *rc);
    if (!rc)
        return false;
    rc->throttle_time_ms = -1;
    rc->delay_ms = 0;
    rc->close_after = false;
    rc->capture_id = sk_capture_active(ctl) ? sk_capture_begin(ctl, req) : 0;
    req->ctl = rc;
    bool ok = req->hdr.api_version >= req->api->min_ver && req->hdr.api_version <= req->api->max_ver;
    sk_fault_rule *r = ok && ctl->rules ? sk_faults_fire(ctl, req, sk_control_now_ms()) : NULL;
    if (!r)
        return false;
    sk_info("fault", "rule %llu fired (%lld of %lld matches) on %s v%d from conn %llu (client %s)",
            (unsigned long long)r->id, (long long)r->fired, (long long)r->matched, req->api->name, req->hdr.api_version,
            (unsigned long long)req->conn_id, req->hdr.client_id.p ? req->hdr.client_id.p : "-");
    rc->delay_ms = r->delay_ms;
    rc->throttle_time_ms = r->throttle_time_ms;
    switch (r->kind) {
    case SK_FAULT_ERROR: {
        if (acks_zero(req)) { /* no response to carry it: Kafka closes the connection */
            sk_control_on_response(req, NULL);
            sk_request_close(req, "fault rule: error on an acks=0 Produce");
            return true;
        }
        kf_error_place place = r->level >= 0 ? (kf_error_place)r->level : auto_place(r->error_code);
        void *resp = kf_error_response(req->api, req->hdr.api_version, req->body, r->error_code, place, &req->arena);
        if (!resp) {
            sk_request_close(req, "out of memory building an injected error");
            return true;
        }
        sk_request_respond(req, resp);
        return true;
    }
    case SK_FAULT_CLOSE_BEFORE:
        sk_control_on_response(req, NULL);
        sk_request_close(req, "fault rule: close before handling");
        return true;
    case SK_FAULT_BLACKHOLE:
        sk_control_on_response(req, NULL);
        sk_request_abandon(req);
        return true;
    case SK_FAULT_CLOSE_AFTER:
        rc->close_after = true;
        return false;
    default:
        return false;
    }
}

void sk_control_on_response(sk_request *req, void *response)
{
    sk_req_ctl *rc = req->ctl;
    if (response && rc->throttle_time_ms >= 0)
        kf_set_int_field(req->api->response, req->hdr.api_version, response, "throttle_time_ms", rc->throttle_time_ms);
    if (rc->capture_id) {
        sk_capture_response(req->broker->control, rc->capture_id, req, response);
        rc->capture_id = 0;
    }
}
