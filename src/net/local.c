/*
 * Local requests: a Kafka request made inside the broker, by the HTTP API,
 * and handled by the same handler as a client's. It gets a reply slot that
 * belongs to no connection, so sk_request_respond encodes nothing and the
 * answer reaches the caller through req->local_done.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net_int.h"
#include "skiff/api.h"
#include "skiff/control.h"

void sk_request_local_free(sk_request *req)
{
    free(req->reply);
    sk_arena_free(&req->arena);
    free(req);
}

sk_request *sk_request_local_new(sk_broker *b, int16_t key, int16_t version, const char *client_id)
{
    const kf_api *api = kf_api_find(key);
    if (!api || !sk_api_handler_find(key) || version < api->min_ver || version > api->max_ver)
        return NULL;
    sk_request *req = calloc(1, sizeof *req);
    if (!req)
        return NULL;
    sk_arena_init(&req->arena);
    req->broker = b;
    req->api = api;
    req->hdr.api_key = key;
    req->hdr.api_version = version;
    req->hdr.client_id = kf_str_c(sk_arena_strndup(&req->arena, client_id, strlen(client_id)));
    req->node_id = SK_NODE_LOCAL;
    req->advertised_host = "localhost";
    snprintf(req->peer, sizeof req->peer, "local");
    req->body = sk_arena_alloc(&req->arena, api->request->size);
    req->reply = calloc(1, sizeof *req->reply);
    if (!req->body || !req->reply || !req->hdr.client_id.p) {
        sk_request_local_free(req);
        return NULL;
    }
    kf_init(api->request, req->body);
    return req;
}

void sk_request_local_dispatch(sk_request *req, void (*done)(void *arg, const void *response), void *arg)
{
    req->local_done = done;
    req->local_arg = arg;
    if (req->broker->control)
        sk_stats_request(req);
    sk_api_dispatch(req);
}
