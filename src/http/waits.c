/*
 * Long-poll waits: an HTTP request parked on the event loop until a broker
 * condition holds or its timeout passes. The condition is checked when the
 * wait starts and then every SK_WAIT_TICK_MS on the loop (the checks read
 * in-memory state only), so the loop never blocks. A client that goes away
 * cancels its wait.
 */
#include <cjson/cJSON.h>
#include <event2/event.h>
#include <event2/http.h>
#include <stdlib.h>
#include <string.h>

#include "http_int.h"
#include "skiff/clock.h"

#define SK_WAIT_TICK_MS 5

typedef struct sk_http_wait {
    struct sk_http_wait *prev, *next; /* the server's list of parked waits (sk_http.waits) */
    sk_http_req *r;                   /* the request answered when the wait ends (owned until then) */
    sk_http_wait_check check;         /* true once cond holds; run every tick */
    struct event *tick;               /* timer re-running check every SK_WAIT_TICK_MS (owned) */
    int64_t deadline;                 /* monotonic ms */
    int64_t timeout_ms;               /* as requested, for the timeout message */
    char what[160];                   /* for the timeout message */
    void *cond;                       /* copy of the condition (heap) */
} sk_http_wait;

static void wait_unlink(sk_http_wait *w)
{
    sk_http *h = w->r->b->http;
    if (w->prev)
        w->prev->next = w->next;
    else
        h->waits = w->next;
    if (w->next)
        w->next->prev = w->prev;
    if (w->tick)
        event_free(w->tick);
    free(w->cond);
    w->r->wait = NULL;
    free(w);
}

/* Ends the wait: replies (status 0 = the client is gone, no reply). */
static void wait_finish(sk_http_wait *w, int status, cJSON *state)
{
    sk_http_req *r = w->r;
    char what[sizeof w->what];
    memcpy(what, w->what, sizeof what);
    int64_t timeout = w->timeout_ms;
    wait_unlink(w);
    if (status == 0) {
        cJSON_Delete(state);
        r->ev = NULL;
        sk_http_reply_text(r, 0, "", "", 0);
        return;
    }
    cJSON *o = cJSON_CreateObject();
    if (status == 200) {
        cJSON_AddBoolToObject(o, "met", true);
    } else if (status == 408) {
        cJSON_AddStringToObject(o, "error", "timeout");
        char detail[256];
        snprintf(detail, sizeof detail, "%s: not met within %lld ms", what, (long long)timeout);
        cJSON_AddStringToObject(o, "detail", detail);
    } else {
        cJSON_AddStringToObject(o, "error", "unavailable");
        cJSON_AddStringToObject(o, "detail", "skiff is shutting down");
    }
    cJSON_AddItemToObject(o, "state", state ? state : cJSON_CreateObject());
    sk_http_reply_json(r, status, o);
}

/* Checks the condition; finishes the wait when met or timed out. */
static void wait_check(sk_http_wait *w)
{
    cJSON *state = NULL;
    if (w->check(w->r->b, w->cond, &state))
        wait_finish(w, 200, state);
    else if (sk_clock_mono_ms() >= w->deadline)
        wait_finish(w, 408, state);
    else
        cJSON_Delete(state);
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    wait_check(arg);
}

static void closed_cb(struct evhttp_connection *evcon, void *arg)
{
    (void)evcon;
    sk_http_wait *w = arg;
    sk_http_req_gone(w->r);
    wait_finish(w, 0, NULL);
}

void sk_http_wait_start(sk_http_req *r, sk_http_wait_check check, const void *cond, size_t cond_len, int64_t timeout_ms,
                        const char *what)
{
    sk_http_wait *w = calloc(1, sizeof *w);
    if (w)
        w->cond = malloc(cond_len ? cond_len : 1);
    if (w && w->cond)
        w->tick = event_new(r->b->base, -1, EV_PERSIST, tick_cb, w);
    if (!w || !w->cond || !w->tick) {
        if (w)
            free(w->cond);
        free(w);
        sk_http_reply_error(r, 500, "internal", "out of memory");
        return;
    }
    memcpy(w->cond, cond, cond_len);
    w->r = r;
    w->check = check;
    w->timeout_ms = timeout_ms;
    w->deadline = sk_clock_mono_ms() + timeout_ms;
    snprintf(w->what, sizeof w->what, "%s", what);
    sk_http *h = r->b->http;
    w->next = h->waits;
    if (h->waits)
        h->waits->prev = w;
    h->waits = w;
    r->wait = w;
    cJSON *state = NULL;
    if (check(r->b, w->cond, &state)) {
        wait_finish(w, 200, state);
        return;
    }
    cJSON_Delete(state);
    if (timeout_ms == 0) {
        wait_check(w);
        return;
    }
    evhttp_connection_set_closecb(evhttp_request_get_connection(r->ev), closed_cb, w);
    struct timeval tv = {0, SK_WAIT_TICK_MS * 1000};
    event_add(w->tick, &tv);
}

void sk_http_waits_close(sk_broker *b)
{
    while (b->http->waits) {
        sk_http_wait *w = b->http->waits;
        cJSON *state = NULL;
        w->check(b, w->cond, &state);
        wait_finish(w, 503, state);
    }
}
