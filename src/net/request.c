/*
 * Completing requests: encode the response into the request's reply slot
 * (size prefix, response header, body), or complete the slot without one,
 * or close the connection; then free the request.
 */
#include <stdlib.h>

#include "net_int.h"
#include "skiff/api.h"
#include "skiff/log.h"

void *sk_request_response(sk_request *req)
{
    return sk_arena_alloc(&req->arena, req->api->response->size);
}

static void request_free(sk_request *req)
{
    sk_arena_free(&req->arena);
    free(req->frame);
    free(req);
}

void sk_request_respond(sk_request *req, const void *response)
{
    sk_reply *slot = req->reply;
    if (slot->conn) {
        int16_t key = req->hdr.api_key, version = req->hdr.api_version;
        bool flexible = kf_api_flexible(req->api, version);
        size_t size = kf_response_header_size(key, version) + kf_size(req->api->response, version, flexible, response);
        sk_writer w;
        sk_writer_init(&w, 4 + size);
        sk_write_i32(&w, (int32_t)size);
        kf_response_header_encode(&w, key, version, req->hdr.correlation_id);
        if (size > INT32_MAX || kf_encode(req->api->response, version, flexible, response, &w) < 0 ||
            w.len != 4 + size) {
            sk_error("api", "conn %llu: cannot encode %s v%d response (%zu bytes); closing",
                     (unsigned long long)req->conn_id, req->api->name, version, size);
            sk_writer_free(&w);
            sk_conn_close_after_flush(slot->conn);
        } else {
            slot->data = sk_writer_take(&w, &slot->len);
        }
    }
    sk_conn_reply_done(slot);
    request_free(req);
}

void sk_request_no_response(sk_request *req)
{
    sk_conn_reply_done(req->reply);
    request_free(req);
}

void sk_request_close(sk_request *req, const char *why)
{
    sk_reply *slot = req->reply;
    if (why)
        sk_warn("api", "conn %llu from %s: %s; closing", (unsigned long long)req->conn_id, req->peer, why);
    if (slot->conn)
        sk_conn_close_after_flush(slot->conn);
    sk_conn_reply_done(slot);
    request_free(req);
}
