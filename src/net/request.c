/*
 * Completing requests: encode the response into the request's reply slot
 * (size prefix, response header, body), or complete the slot without one,
 * or close the connection; then free the request.
 *
 * Record data read from the log (kf_bytes.ext = an sk_log_slice) is not
 * copied: the encoder leaves a hole where it goes, and the reply's evbuffer
 * gets the surrounding bytes and, in each hole, a file segment that libevent
 * sends with sendfile. Each file segment holds its own reference to the
 * segment file until it has been sent.
 */
#include <event2/buffer.h>
#include <stdlib.h>

#include "net_int.h"
#include "skiff/request.h"
#include "skiff/control.h"
#include "skiff/trace.h"
#include "skiff/logstore.h"

/* A cleanup registered with sk_request_on_free (arena-allocated). */
typedef struct request_cleanup {
    struct request_cleanup *next; /* registered before this one (run after it) */
    void (*fn)(void *arg);        /* the cleanup */
    void *arg;                    /* its argument */
} request_cleanup;

/* A hole left by the encoder for a log slice (arena-allocated). */
typedef struct splice_hole {
    struct splice_hole *next;  /* the next hole, in encoding order */
    size_t at;                 /* position in the encoded bytes */
    const sk_log_slice *slice; /* the bytes to send there */
} splice_hole;

typedef struct splice_ctx {
    sk_request *req;           /* the request whose response is encoded */
    splice_hole *head, **tail; /* holes in encoding order, and where the next is linked */
} splice_ctx;

void *sk_request_response(sk_request *req)
{
    void *resp = sk_arena_alloc(&req->arena, req->api->response->size);
    if (resp)
        kf_init(req->api->response, resp);
    return resp;
}

int sk_request_on_free(sk_request *req, void (*fn)(void *arg), void *arg)
{
    request_cleanup *c = sk_arena_alloc(&req->arena, sizeof *c);
    if (!c)
        return -1;
    c->fn = fn;
    c->arg = arg;
    c->next = req->cleanups;
    req->cleanups = c;
    return 0;
}

static void request_free(sk_request *req)
{
    for (request_cleanup *c = req->cleanups; c; c = c->next)
        c->fn(c->arg);
    sk_arena_free(&req->arena);
    free(req->frame);
    free(req);
}

static int splice_slice(sk_writer *w, const void *ext, size_t len)
{
    splice_ctx *x = w->splice_arg;
    const sk_log_slice *slice = ext;
    splice_hole *h = sk_arena_alloc(&x->req->arena, sizeof *h);
    if (!h || !slice->file || (size_t)slice->length != len)
        return -1;
    h->at = w->len;
    h->slice = slice;
    *x->tail = h;
    x->tail = &h->next;
    return 0;
}

static void free_data_cb(const void *data, size_t len, void *arg)
{
    (void)len;
    (void)arg;
    free((void *)data);
}

static void file_segment_done(struct evbuffer_file_segment const *seg, int flags, void *arg)
{
    (void)seg;
    (void)flags;
    sk_segment_file_unref(arg);
}

/* Appends a slice as a file segment holding its own reference: sent by
 * sendfile on a plain socket; over TLS (`tls`) read into memory when added
 * (pread, not mmap: a segment truncated meanwhile must not fault) and
 * encrypted from there. */
static int add_slice(struct evbuffer *out, const sk_log_slice *s, bool tls)
{
    struct evbuffer_file_segment *seg =
        evbuffer_file_segment_new(sk_segment_file_fd(s->file), s->position, s->length, tls ? EVBUF_FS_DISABLE_MMAP : 0);
    if (!seg)
        return -1;
    evbuffer_file_segment_add_cleanup_cb(seg, file_segment_done, sk_segment_file_ref(s->file));
    int rc = evbuffer_add_file_segment(out, seg, 0, s->length);
    evbuffer_file_segment_free(seg);
    return rc;
}

/* Builds the reply's evbuffer from the encoded bytes and the holes; takes `buf`. */
static struct evbuffer *assemble(uint8_t *buf, size_t len, const splice_hole *holes, bool tls)
{
    struct evbuffer *out = evbuffer_new();
    if (!out) {
        free(buf);
        return NULL;
    }
    /* Headed for a plain socket: file segments stay unread and go out by sendfile. */
    if (!tls)
        evbuffer_set_flags(out, EVBUFFER_FLAG_DRAINS_TO_FD);
    int rc = 0;
    if (!holes) {
        rc = evbuffer_add_reference(out, buf, len, free_data_cb, NULL);
        if (rc < 0)
            free(buf);
    } else {
        size_t pos = 0;
        for (const splice_hole *h = holes; h && rc == 0; h = h->next) {
            rc = evbuffer_add(out, buf + pos, h->at - pos);
            if (rc == 0)
                rc = add_slice(out, h->slice, tls);
            pos = h->at;
        }
        if (rc == 0)
            rc = evbuffer_add(out, buf + pos, len - pos);
        free(buf);
    }
    if (rc < 0) {
        evbuffer_free(out);
        return NULL;
    }
    return out;
}

/* Hands a local request's answer (or NULL) to its caller, once. */
static void local_answer(sk_request *req, const void *response)
{
    if (req->local_done) {
        req->local_done(req->local_arg, response);
        req->local_done = NULL;
    }
}

void sk_request_respond(sk_request *req, const void *response)
{
    sk_reply *slot = req->reply;
    if (req->on_respond)
        req->on_respond(req, (void *)response);
    local_answer(req, response);
    if (req->ctl) /* control plane: throttle_time_ms and capture edit or read the response */
        sk_control_on_response(req, (void *)response);
    if (slot->conn) {
        int16_t key = req->hdr.api_key, version = req->hdr.api_version;
        bool flexible = kf_api_flexible(req->api, version);
        size_t size = kf_response_header_size(key, version) + kf_size(req->api->response, version, flexible, response);
        splice_ctx x = {.req = req};
        x.tail = &x.head;
        size_t spliced = 0;
        sk_writer w;
        sk_writer_init(&w, 4 + size);
        w.splice = splice_slice;
        w.splice_arg = &x;
        sk_write_i32(&w, (int32_t)size);
        kf_response_header_encode(&w, key, version, req->hdr.correlation_id);
        int rc = size > INT32_MAX ? -1 : kf_encode(req->api->response, version, flexible, response, &w);
        for (const splice_hole *h = x.head; h; h = h->next)
            spliced += (size_t)h->slice->length;
        if (rc == 0 && w.len + spliced == 4 + size) {
            uint8_t *buf = sk_writer_take(&w, &size);
            slot->out = assemble(buf, size, x.head, slot->conn->tls);
        }
        if (!slot->out) {
            sk_error("api", "conn %llu: cannot encode %s v%d response (%zu bytes); closing",
                     (unsigned long long)req->conn_id, req->api->name, version, size);
            sk_writer_free(&w);
            sk_conn_close_after_flush(slot->conn);
        }
    }
    if (req->broker->control)
        sk_stats_response(req, response, slot->out ? evbuffer_get_length(slot->out) : 0);
    if (((req->ctl && req->ctl->close_after) || req->close_after) && slot->conn)
        sk_conn_close_after_flush(slot->conn);
    if (req->ctl && req->ctl->delay_ms > 0)
        sk_control_hold_reply(req->broker, slot, req->ctl->delay_ms, sk_conn_reply_done);
    else
        sk_conn_reply_done(slot);
    request_free(req);
}

void sk_request_no_response(sk_request *req)
{
    local_answer(req, NULL);
    if (req->ctl)
        sk_control_on_response(req, NULL);
    if (req->broker->control)
        sk_stats_response(req, NULL, 0);
    sk_conn_reply_done(req->reply);
    request_free(req);
}

void sk_request_close(sk_request *req, const char *why)
{
    sk_reply *slot = req->reply;
    local_answer(req, NULL);
    if (req->ctl)
        sk_control_on_response(req, NULL);
    if (req->broker->control)
        sk_stats_response(req, NULL, 0);
    if (why)
        sk_warn("api", "conn %llu from %s: %s; closing", (unsigned long long)req->conn_id, req->peer, why);
    if (slot->conn)
        sk_conn_close_after_flush(slot->conn);
    sk_conn_reply_done(slot);
    request_free(req);
}

void sk_request_abandon(sk_request *req)
{
    sk_reply *slot = req->reply;
    local_answer(req, NULL);
    if (slot->conn) {
        slot->abandoned = true;
    } else {
        slot->done = true;
        sk_conn_reply_done(slot); /* the connection is gone: free the slot */
    }
    request_free(req);
}
