/*
 * Client connections: 4-byte size framing, request header and body
 * decoding, dispatch, and the ordered reply queue.
 *
 * Every request read gets a reply slot at the tail of the connection's
 * queue before it is dispatched; responses leave from the head only, so a
 * parked request (long-poll Fetch, JoinGroup) holds back the answers to
 * later requests on the same connection, as Kafka's ordering requires.
 *
 * Back-pressure: reading stops while the socket's unsent output exceeds
 * skiff.connection.output.max.bytes or SK_CONN_MAX_INFLIGHT answers are
 * owed, and resumes when the output has drained and fewer than half are owed.
 *
 * Over TLS the OpenSSL bufferevent reads and decrypts, and the connection
 * then decrypts whatever else OpenSSL read ahead (conn_tls_drain).
 *
 * Plain reads bypass the bufferevent: libevent 2.1 reads at most 4 KiB per
 * readv, which costs a system call per 4 KiB of produced data, so the
 * connection reads itself, SK_CONN_READ_CHUNK bytes at a time, into its own
 * input buffer. A request of SK_CONN_DIRECT_MIN bytes or more that has not
 * fully arrived gets its frame buffer at once (as Kafka's NetworkReceive
 * allocates on reading the size) and the rest of it is read straight into
 * place, not copied out of the input buffer. Writes go through the
 * bufferevent, whose output buffer drains to the socket (file segments by
 * sendfile).
 *
 * A connection is never freed inside a path that may still touch it: errors
 * mark it closing and the free runs later from the event loop.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <limits.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <event2/event.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>
#include <errno.h>

#include "kf_msgs.h"
#include "net_int.h"
#include "skiff/api.h"
#include "skiff/clock.h"
#include "skiff/cluster.h"
#include "skiff/control.h"
#include "skiff/errors.h"
#include "skiff/trace.h"
#include "skiff/net.h"
#include "skiff/sasl.h"
#include "skiff/security.h"

/* Bytes one read callback asks the socket for; responses are written up to
 * SK_CONN_WRITE_CHUNK bytes per write. */
#define SK_CONN_READ_CHUNK (256 * 1024)
#define SK_CONN_WRITE_CHUNK (1024 * 1024)
/* Space reserved for one SSL_read (a TLS record holds at most 16 KiB). */
#define SK_CONN_TLS_READ_SPACE (64 * 1024)
/* Requests at least this large are read straight into their frame buffer. */
#define SK_CONN_DIRECT_MIN (64 * 1024)

static void conn_process_input(sk_conn *c);

static int conn_tls_drain(sk_conn *c);
static void conn_schedule_free(sk_conn *c);

/* Reads on: over TLS the bufferevent reads (and decrypts), else our event.
 * Over TLS, what OpenSSL read ahead while reads were off raises no read
 * event: it is decrypted into the input buffer now. */
static void conn_read_on(sk_conn *c)
{
    if (c->tls) {
        bufferevent_enable(c->bev, EV_READ);
        if (c->tls_ready && conn_tls_drain(c) < 0)
            conn_schedule_free(c);
    } else {
        event_add(c->rev, NULL);
    }
}

static void conn_read_off(sk_conn *c)
{
    if (c->tls)
        bufferevent_disable(c->bev, EV_READ);
    else
        event_del(c->rev);
}

/* Formats `sa` as a numeric "host" and port. */
static void sockaddr_host(const struct sockaddr *sa, socklen_t len, char *host, size_t hostlen, int *port)
{
    char serv[16];
    if (getnameinfo(sa, len, host, (socklen_t)hostlen, serv, sizeof serv, NI_NUMERICHOST | NI_NUMERICSERV)) {
        snprintf(host, hostlen, "?");
        snprintf(serv, sizeof serv, "0");
    }
    *port = atoi(serv);
}

#define BAD_INPUT_LOGS_PER_SECOND 10 /* lines about bad input, process-wide */
#define BAD_INPUT_SAMPLE_BYTES 32    /* bytes of the bad input shown in hex */

/* True while fewer than BAD_INPUT_LOGS_PER_SECOND lines about bad input were
 * logged this second (process-wide, as the log is). */
static bool bad_input_log_allowed(void)
{
    static int64_t window; /* the second being counted, monotonic s */
    static int count;      /* lines allowed in it so far */
    int64_t now = sk_clock_mono_ms() / 1000;
    if (now != window) {
        window = now;
        count = 0;
    }
    return ++count <= BAD_INPUT_LOGS_PER_SECOND;
}

/* Logs a printable sample of bad bytes, at most BAD_INPUT_LOGS_PER_SECOND
 * lines a second. */
static void log_protocol_error(const sk_conn *c, const char *why, const uint8_t *p, size_t len)
{
    if (!bad_input_log_allowed())
        return;
    char hex[3 * BAD_INPUT_SAMPLE_BYTES + 1];
    size_t n = len < BAD_INPUT_SAMPLE_BYTES ? len : BAD_INPUT_SAMPLE_BYTES;
    for (size_t i = 0; i < n; i++)
        snprintf(hex + 3 * i, 4, "%02x ", p[i]);
    hex[3 * n] = '\0';
    sk_warn("net", "conn %llu from %s: %s; closing (%zu bytes: %s%s)", (unsigned long long)c->id, c->peer, why, len,
            hex, len > n ? "..." : "");
}

static void reply_free(sk_reply *s)
{
    if (s->out)
        evbuffer_free(s->out);
    free(s);
}

static void conn_free(sk_conn *c)
{
    sk_broker *b = c->broker;
    sk_reply *s = c->head;
    while (s) {
        sk_reply *next = s->next;
        if (s->done || s->abandoned) {
            reply_free(s);
        } else {
            s->conn = NULL; /* the parked request frees it when it answers */
        }
        s = next;
    }
    if (c->prev)
        c->prev->next = c->next;
    else
        b->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    b->nconns--;
    sk_debug("net", "conn %llu from %s closed", (unsigned long long)c->id, c->peer);
    sk_auth_clear(&c->auth);
    if (c->rev)
        event_free(c->rev);
    evbuffer_free(c->in);
    free(c->frame);
    bufferevent_free(c->bev);
    free(c);
    if (b->drained && b->nconns == 0) {
        void (*done)(sk_broker *) = b->drained;
        b->drained = NULL;
        done(b);
    }
}

static void conn_free_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    conn_free(arg);
}

/* Frees the connection from the event loop, after the current callback. */
static void conn_schedule_free(sk_conn *c)
{
    if (c->free_scheduled)
        return;
    c->free_scheduled = true;
    conn_read_off(c);
    bufferevent_disable(c->bev, EV_WRITE);
    struct timeval now = {0, 0};
    if (event_base_once(c->broker->base, -1, EV_TIMEOUT, conn_free_cb, c, &now) < 0)
        sk_error("net", "conn %llu: cannot schedule close", (unsigned long long)c->id);
}

/* Closes a closing connection once nothing more is owed or unsent. */
static void conn_maybe_finish(sk_conn *c)
{
    /* An abandoned (blackholed) head holds back everything after it for good. */
    if (c->closing && (!c->head || c->head->abandoned) && evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
        conn_schedule_free(c);
}

void sk_conn_close_after_flush(sk_conn *c)
{
    c->closing = true;
    c->reading = false;
    conn_read_off(c);
    conn_maybe_finish(c);
}

/* Pauses or resumes reading according to the back-pressure bounds. */
static void conn_update_reading(sk_conn *c)
{
    if (c->closing || c->free_scheduled)
        return;
    if (c->broker->reads_paused) {
        if (c->reading) {
            c->reading = false;
            conn_read_off(c);
        }
        return;
    }
    size_t unsent = evbuffer_get_length(bufferevent_get_output(c->bev));
    size_t max = (size_t)c->broker->config->connection_output_max_bytes;
    if (c->reading && (unsent > max || c->inflight >= SK_CONN_MAX_INFLIGHT)) {
        c->reading = false;
        conn_read_off(c);
        sk_debug("net", "conn %llu: reads paused (%zu bytes unsent, %u owed)", (unsigned long long)c->id, unsent,
                 c->inflight);
    } else if (!c->reading && unsent <= max / 2 && c->inflight < SK_CONN_MAX_INFLIGHT / 2) {
        c->reading = true;
        conn_read_on(c);
        conn_process_input(c); /* frames already buffered raise no read event */
    }
}

/* Moves the answered slots at the head of the queue to the socket. */
static void conn_flush(sk_conn *c)
{
    struct evbuffer *out = bufferevent_get_output(c->bev);
    while (c->head && c->head->done) {
        sk_reply *s = c->head;
        c->head = s->next;
        if (!c->head)
            c->tail = NULL;
        if (s->out && evbuffer_add_buffer(out, s->out) < 0) {
            sk_error("net", "conn %llu: out of memory queueing a response", (unsigned long long)c->id);
            c->closing = true;
        }
        reply_free(s);
    }
    conn_update_reading(c);
    conn_maybe_finish(c);
}

void sk_conn_reply_done(sk_reply *slot)
{
    sk_conn *c = slot->conn;
    slot->done = true;
    if (!c) {
        reply_free(slot);
        return;
    }
    c->inflight--;
    if (c->head == slot && !c->free_scheduled)
        conn_flush(c);
}

static sk_reply *conn_new_slot(sk_conn *c)
{
    sk_reply *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->conn = c;
    if (c->tail)
        c->tail->next = s;
    else
        c->head = s;
    c->tail = s;
    c->inflight++;
    return s;
}

/* After SaslHandshake v0 a frame is a bare SASL token, answered by a bare
 * size-prefixed token (Kafka's SaslServerAuthenticator without
 * SaslAuthenticate headers); a failure just closes. Takes `frame`. */
static void conn_sasl_raw_token(sk_conn *c, uint8_t *frame, size_t len)
{
    uint8_t *out = NULL;
    size_t out_len = 0;
    char msg[256], why[256] = "";
    int rc = sk_sasl_server_step(c->auth.server, frame, len, &out, &out_len, msg, sizeof msg, why, sizeof why);
    free(frame);
    if (rc == 1 && sk_auth_complete(&c->auth, sk_sasl_server_user(c->auth.server),
                                    sk_sasl_server_expiry_ms(c->auth.server), msg, sizeof msg) < 0) {
        snprintf(why, sizeof why, "%s", msg);
        rc = -1;
    }
    if (rc < 0) {
        sk_auth_log_failure(&c->auth, c->id, c->peer, sk_sasl_server_user(c->auth.server), why);
        free(out);
        sk_conn_close_after_flush(c);
        return;
    }
    sk_reply *slot = conn_new_slot(c);
    uint8_t size[4] = {(uint8_t)(out_len >> 24), (uint8_t)(out_len >> 16), (uint8_t)(out_len >> 8), (uint8_t)out_len};
    if (!slot || !(slot->out = evbuffer_new()) || evbuffer_add(slot->out, size, 4) < 0 ||
        (out_len && evbuffer_add(slot->out, out, out_len) < 0)) {
        free(out);
        sk_error("net", "conn %llu: out of memory answering a SASL token", (unsigned long long)c->id);
        if (slot)
            sk_conn_reply_done(slot);
        sk_conn_close_after_flush(c);
        return;
    }
    free(out);
    sk_conn_reply_done(slot);
}

/* Whether a connection that has not (or no longer) authenticated may send
 * `key` (Kafka's SaslServerAuthenticator): before SaslHandshake only
 * ApiVersions and SaslHandshake; after it only SaslAuthenticate (others get
 * ILLEGAL_SASL_STATE, then the connection closes); once a KIP-368 session
 * has expired only SaslHandshake. 1 = serve, 0 = close, -1 = answer
 * ILLEGAL_SASL_STATE and close. */
static int conn_auth_allows(sk_conn *c, int16_t key)
{
    switch (c->auth.state) {
    case SK_AUTH_DONE:
        if (c->auth.session_end_ms && key != KF_API_SASL_HANDSHAKE && sk_auth_now_ms() > c->auth.session_end_ms)
            return 0;
        return 1;
    case SK_AUTH_HANDSHAKE:
        return key == KF_API_API_VERSIONS || key == KF_API_SASL_HANDSHAKE;
    case SK_AUTH_AUTHENTICATE:
        return key == KF_API_SASL_AUTHENTICATE ? 1 : -1;
    default:
        return 0;
    }
}

/* Decodes one frame and dispatches it; takes ownership of `frame`. */
static void conn_handle_frame(sk_conn *c, uint8_t *frame, size_t len)
{
    if (c->auth.state == SK_AUTH_RAW) {
        conn_sasl_raw_token(c, frame, len);
        return;
    }
    sk_request *req = calloc(1, sizeof *req);
    if (!req) {
        free(frame);
        sk_error("net", "conn %llu: out of memory", (unsigned long long)c->id);
        sk_conn_close_after_flush(c);
        return;
    }
    sk_arena_init(&req->arena);
    req->broker = c->broker;
    req->frame = frame;
    req->frame_len = len;
    req->conn_id = c->id;
    snprintf(req->peer, sizeof req->peer, "%s", c->peer);
    req->advertised_host = sk_arena_strndup(&req->arena, c->advertised_host, strlen(c->advertised_host));
    req->advertised_port = c->advertised_port;
    req->auth = &c->auth;
    req->advertised_from_config = c->advertised_from_config;
    req->node_id = c->node_id;
    req->listener = c->listener_index;

    sk_reader r;
    sk_reader_init(&r, frame, len);
    if (kf_request_header_decode(&r, &req->arena, &req->hdr) < 0 || !req->advertised_host) {
        log_protocol_error(c, "malformed request header", frame, len);
        goto close;
    }
    int16_t key = req->hdr.api_key, version = req->hdr.api_version;
    req->api = kf_api_find(key);
    if (!req->api || !sk_api_handler_find(key)) {
        sk_warn("net", "conn %llu from %s (client %s): unsupported api key %d v%d; closing", (unsigned long long)c->id,
                c->peer, req->hdr.client_id.p ? req->hdr.client_id.p : "-", key, version);
        goto close;
    }
    sk_debug("net", "conn %llu from %s (client %s): %s v%d correlation id %d", (unsigned long long)c->id, c->peer,
             req->hdr.client_id.p ? req->hdr.client_id.p : "-", req->api->name, version, req->hdr.correlation_id);
    int allowed = conn_auth_allows(c, key);
    if (allowed == 0) {
        sk_warn("net", "conn %llu from %s on listener %s: %s %s; closing", (unsigned long long)c->id, c->peer,
                c->auth.listener, req->api->name,
                c->auth.state == SK_AUTH_DONE ? "after the SASL session expired (connections.max.reauth.ms)"
                                              : "before SASL authentication");
        goto close;
    }
    bool supported = version >= req->api->min_ver && version <= req->api->max_ver;
    if (!supported && key != KF_API_API_VERSIONS) {
        sk_warn("net", "conn %llu from %s (client %s): unsupported %s version %d; closing", (unsigned long long)c->id,
                c->peer, req->hdr.client_id.p ? req->hdr.client_id.p : "-", req->api->name, version);
        goto close;
    }
    if (!(req->reply = conn_new_slot(c)))
        goto close;
    if (supported) {
        /* ApiVersions at an unknown version is answered without reading its body. */
        req->body = sk_arena_alloc(&req->arena, req->api->request->size);
        if (!req->body ||
            kf_decode(req->api->request, version, kf_api_flexible(req->api, version), &r, &req->arena, req->body) < 0) {
            log_protocol_error(c, "malformed request body", frame, len);
            sk_request_close(req, NULL);
            return;
        }
    }
    if (c->broker->control)
        sk_stats_request(req);
    if (allowed < 0) {
        sk_warn("net",
                "conn %llu from %s on listener %s: %s during SASL authentication; answering "
                "ILLEGAL_SASL_STATE and closing",
                (unsigned long long)c->id, c->peer, c->auth.listener, req->api->name);
        void *resp =
            kf_error_response(req->api, version, req->body, SK_ERR_ILLEGAL_SASL_STATE, KF_ERR_DEEPEST, &req->arena);
        c->auth.state = SK_AUTH_FAILED;
        if (!resp) {
            sk_request_close(req, "out of memory");
            return;
        }
        req->close_after = true;
        sk_request_respond(req, resp);
        return;
    }
    if (c->broker->intercept && sk_control_on_request(req))
        return;
    sk_api_dispatch(req);
    return;
close:
    sk_arena_free(&req->arena);
    free(req->frame);
    free(req);
    sk_conn_close_after_flush(c);
}

/* Moves buffered bytes into the frame being read in place; dispatches it
 * once whole. True when it was dispatched. */
static bool conn_fill_frame(sk_conn *c)
{
    size_t want = c->frame_size - c->frame_filled, avail = evbuffer_get_length(c->in);
    size_t take = avail < want ? avail : want;
    if (take) {
        evbuffer_remove(c->in, c->frame + c->frame_filled, take);
        c->frame_filled += take;
    }
    if (c->frame_filled < c->frame_size)
        return false;
    uint8_t *frame = c->frame;
    c->frame = NULL;
    conn_handle_frame(c, frame, c->frame_size);
    conn_update_reading(c);
    return true;
}

static void conn_process_input(sk_conn *c)
{
    struct evbuffer *in = c->in;
    int32_t max = c->broker->config->socket_request_max_bytes;
    while (c->reading && !c->closing && !c->free_scheduled) {
        if (c->frame) {
            if (!conn_fill_frame(c))
                break;
            continue;
        }
        size_t avail = evbuffer_get_length(in);
        uint8_t hdr[4];
        if (avail < 4)
            break;
        evbuffer_copyout(in, hdr, 4);
        int32_t size = (int32_t)sk_be32(hdr);
        /* A TLS record (handshake 0x16, alert 0x15...) starts 0x14-0x17, 0x03. */
        if (!c->seen_bytes && !c->tls && hdr[0] >= 0x14 && hdr[0] <= 0x17 && hdr[1] == 0x03) {
            sk_warn("net",
                    "conn %llu from %s: a TLS handshake on %s listener %s (is the client configured "
                    "for SSL?); closing",
                    (unsigned long long)c->id, c->peer,
                    sk_sec_protocol_name(c->auth.sec ? c->auth.sec->protocol : SK_SEC_PLAINTEXT), c->auth.listener);
            sk_conn_close_after_flush(c);
            break;
        }
        c->seen_bytes = true;
        if (size < 0 || size > max) {
            sk_warn("net",
                    "conn %llu from %s: request size %d is outside 0..%d (socket.request.max.bytes); "
                    "closing",
                    (unsigned long long)c->id, c->peer, size, max);
            sk_conn_close_after_flush(c);
            break;
        }
        bool whole = avail - 4 >= (size_t)size;
        if (!whole && size < SK_CONN_DIRECT_MIN)
            break;
        uint8_t *frame = malloc(size ? (size_t)size : 1);
        if (!frame) {
            sk_error("net", "conn %llu: out of memory for a %d-byte request", (unsigned long long)c->id, size);
            sk_conn_close_after_flush(c);
            break;
        }
        evbuffer_drain(in, 4);
        c->frame = frame;
        c->frame_size = (size_t)size;
        c->frame_filled = 0;
        if (!conn_fill_frame(c))
            break;
    }
}

/* Reads what the socket has: the rest of a frame being read in place, then
 * up to SK_CONN_READ_CHUNK more into the input buffer. */
static void conn_read_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    sk_conn *c = arg;
    struct evbuffer *in = c->in;
    struct evbuffer_iovec v[2];
    int n = evbuffer_reserve_space(in, SK_CONN_READ_CHUNK, v, 2);
    if (n <= 0) {
        sk_error("net", "conn %llu: out of memory reading", (unsigned long long)c->id);
        conn_schedule_free(c);
        return;
    }
    struct iovec iov[3];
    int k = 0;
    size_t direct = c->frame ? c->frame_size - c->frame_filled : 0;
    if (direct) {
        iov[k].iov_base = c->frame + c->frame_filled;
        iov[k++].iov_len = direct;
    }
    for (int i = 0; i < n; i++) {
        iov[k].iov_base = v[i].iov_base;
        iov[k++].iov_len = v[i].iov_len;
    }
    ssize_t got = readv(fd, iov, k);
    if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
        evbuffer_commit_space(in, v, 0);
        return;
    }
    if (got <= 0) {
        if (got < 0)
            sk_debug("net", "conn %llu from %s: read error: %s", (unsigned long long)c->id, c->peer, strerror(errno));
        evbuffer_commit_space(in, v, 0);
        conn_schedule_free(c);
        return;
    }
    size_t left = (size_t)got;
    size_t to_frame = left < direct ? left : direct;
    c->frame_filled += to_frame;
    left -= to_frame;
    for (int i = 0; i < n; i++) {
        if (v[i].iov_len > left)
            v[i].iov_len = left;
        left -= v[i].iov_len;
    }
    evbuffer_commit_space(in, v, n);
    conn_process_input(c);
}

/* TLS: decrypts into the input buffer what OpenSSL holds and what the
 * socket has, until OpenSSL needs more from the socket (or
 * SK_CONN_READ_CHUNK bytes were taken and nothing is left inside OpenSSL:
 * the socket's next read event brings the rest). libevent's reader stops
 * after two TLS records per read event (four system calls for two 1 KiB
 * records, as librdkafka writes them); with read-ahead (src/security/tls.c)
 * one read takes many records, which only this loop then decrypts.
 * Returns -1 when the connection failed (logged). */
static int conn_tls_drain(sk_conn *c)
{
    SSL *ssl = bufferevent_openssl_get_ssl(c->bev);
    size_t taken = 0;
    while (taken < SK_CONN_READ_CHUNK || SSL_has_pending(ssl)) {
        struct evbuffer_iovec v;
        if (evbuffer_reserve_space(c->in, SK_CONN_TLS_READ_SPACE, &v, 1) < 1) {
            sk_error("net", "conn %llu: out of memory reading", (unsigned long long)c->id);
            return -1;
        }
        ERR_clear_error();
        int n = SSL_read(ssl, v.iov_base, v.iov_len > INT_MAX ? INT_MAX : (int)v.iov_len);
        if (n <= 0) {
            evbuffer_commit_space(c->in, &v, 0);
            int err = SSL_get_error(ssl, n);
            if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE)
                return 0;
            unsigned long e = ERR_peek_last_error();
            if (err == SSL_ERROR_ZERO_RETURN || (err == SSL_ERROR_SYSCALL && !e) ||
                (err == SSL_ERROR_SSL && ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING)) {
                sk_debug("net", "conn %llu from %s: closed by the client", (unsigned long long)c->id, c->peer);
                return -1;
            }
            char reason[160] = "";
            ERR_error_string_n(e, reason, sizeof reason);
            sk_warn("net", "conn %llu from %s on listener %s: TLS read failed: %s; closing", (unsigned long long)c->id,
                    c->peer, c->auth.listener, e ? reason : strerror(errno));
            return -1;
        }
        v.iov_len = (size_t)n;
        evbuffer_commit_space(c->in, &v, 1);
        taken += (size_t)n;
    }
    return 0;
}

/* TLS: the bufferevent has decrypted bytes; move them (no copy: the chains
 * move) to the input buffer, take what else is readable, and frame them. */
static void conn_tls_read_cb(struct bufferevent *bev, void *arg)
{
    sk_conn *c = arg;
    if (evbuffer_add_buffer(c->in, bufferevent_get_input(bev)) < 0) {
        sk_error("net", "conn %llu: out of memory reading", (unsigned long long)c->id);
        conn_schedule_free(c);
        return;
    }
    if (conn_tls_drain(c) < 0) {
        conn_schedule_free(c);
        return;
    }
    conn_process_input(c);
}

/* Logs why a TLS connection failed, at most 10 lines a second. */
static void conn_tls_log_error(const sk_conn *c, const char *what)
{
    if (!bad_input_log_allowed())
        return;
    char reason[256] = "";
    unsigned long e;
    while ((e = bufferevent_get_openssl_error(c->bev)) != 0)
        if (ERR_GET_LIB(e) != 0 && ERR_reason_error_string(e)) /* libevent also records bare SSL_ERROR_* codes */
            snprintf(reason, sizeof reason, "%s", ERR_reason_error_string(e));
    sk_warn("net", "conn %llu from %s on %s listener %s: %s%s%s; closing", (unsigned long long)c->id, c->peer,
            sk_sec_protocol_name(c->auth.sec->protocol), c->auth.listener, what, reason[0] ? ": " : "",
            reason[0] ? reason : (c->tls_ready ? "" : "the client closed during the handshake"));
}

/* TLS handshake done: the principal from the client certificate. */
static void conn_tls_connected(sk_conn *c)
{
    SSL *ssl = bufferevent_openssl_get_ssl(c->bev);
    c->tls_ready = true;
    char principal[sizeof c->auth.principal];
    sk_tls_principal(c->auth.sec, ssl, principal, sizeof principal);
    if (!principal[0]) {
        sk_warn("net",
                "conn %llu from %s on listener %s: no ssl.principal.mapping.rules rule matches the "
                "client certificate; closing",
                (unsigned long long)c->id, c->peer, c->auth.listener);
        conn_schedule_free(c);
        return;
    }
    if (!sk_sec_is_sasl(c->auth.sec->protocol))
        snprintf(c->auth.principal, sizeof c->auth.principal, "%s", principal);
    sk_debug("net", "conn %llu from %s on listener %s: %s %s, principal %s", (unsigned long long)c->id, c->peer,
             c->auth.listener, SSL_get_version(ssl), SSL_get_cipher_name(ssl), principal);
    /* A request sent right after the client's Finished may already sit in
     * OpenSSL's read-ahead buffer, where no read event announces it. */
    if (c->reading) {
        if (conn_tls_drain(c) < 0) {
            conn_schedule_free(c);
            return;
        }
        conn_process_input(c);
    }
}

static void conn_write_cb(struct bufferevent *bev, void *arg)
{
    (void)bev;
    sk_conn *c = arg;
    conn_update_reading(c);
    conn_maybe_finish(c);
}

static void conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
    (void)bev;
    sk_conn *c = arg;
    if (what & BEV_EVENT_CONNECTED) {
        conn_tls_connected(c);
        return;
    }
    if (c->tls && !c->tls_ready && (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)))
        conn_tls_log_error(c, "TLS handshake failed");
    else if (c->tls && (what & BEV_EVENT_ERROR))
        sk_debug("net", "conn %llu from %s: TLS error", (unsigned long long)c->id, c->peer);
    else if (what & BEV_EVENT_ERROR)
        sk_debug("net", "conn %llu from %s: socket error: %s", (unsigned long long)c->id, c->peer,
                 evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
        conn_schedule_free(c);
}

/* The host and port Metadata advertises to clients of listener `l`: the
 * advertised.listeners entry of the same name, else the configured host
 * when it is not a wildcard, else the address the client connected to. */
static void conn_set_advertised(sk_conn *c, const sk_listener *l, int fd)
{
    const char *adv = c->broker->config->advertised_listeners;
    if (adv && *adv) {
        sk_listener_addr addrs[SK_LISTENERS_MAX];
        int n = sk_listeners_parse(adv, addrs, SK_LISTENERS_MAX, NULL);
        for (int i = 0; i < n && i < SK_LISTENERS_MAX; i++) {
            if (!strcmp(addrs[i].name, l->name)) {
                snprintf(c->advertised_host, sizeof c->advertised_host, "%s", addrs[i].host);
                c->advertised_port = sk_cluster_advertised_port(c->broker, l->node_id, l->index, addrs[i].port, true);
                c->advertised_from_config = true;
                return;
            }
        }
    }
    if (l->host[0] && strcmp(l->host, "0.0.0.0") && strcmp(l->host, "::")) {
        snprintf(c->advertised_host, sizeof c->advertised_host, "%s", l->host);
        c->advertised_port = l->port;
        return;
    }
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    int port = l->port;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
        sockaddr_host((struct sockaddr *)&ss, len, c->advertised_host, sizeof c->advertised_host, &port);
    else
        snprintf(c->advertised_host, sizeof c->advertised_host, "localhost");
    c->advertised_port = port;
}

void sk_conn_accept(sk_broker *b, sk_listener *l, int fd, const struct sockaddr *peer, int peerlen)
{
    sk_conn *c = calloc(1, sizeof *c);
    bool tls = l->sec && sk_sec_is_tls(l->sec->protocol);
    struct bufferevent *bev = NULL;
    struct event *rev = NULL;
    if (tls) {
        SSL *ssl = SSL_new(l->sec->ssl_ctx);
        bev = ssl ? bufferevent_openssl_socket_new(b->base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE)
                  : NULL;
        if (!bev)
            SSL_free(ssl);
        else
            bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
    } else {
        bev = bufferevent_socket_new(b->base, fd, BEV_OPT_CLOSE_ON_FREE);
        rev = c ? event_new(b->base, fd, EV_READ | EV_PERSIST, conn_read_cb, c) : NULL;
    }
    struct evbuffer *in = evbuffer_new();
    if (!c || !bev || (!tls && !rev) || !in) {
        sk_error("net", "out of memory accepting a connection");
        free(c);
        if (in)
            evbuffer_free(in);
        if (rev)
            event_free(rev);
        if (bev)
            bufferevent_free(bev);
        else
            evutil_closesocket(fd);
        return;
    }
    c->rev = rev;
    c->in = in;
    c->tls = tls;
    c->auth.sec = l->sec;
    snprintf(c->listener, sizeof c->listener, "%s", l->name);
    c->auth.listener = c->listener;
    c->auth.state = l->sec && sk_sec_is_sasl(l->sec->protocol) ? SK_AUTH_HANDSHAKE : SK_AUTH_DONE;
    snprintf(c->auth.principal, sizeof c->auth.principal, "User:ANONYMOUS");
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->broker = b;
    c->bev = bev;
    c->id = ++b->next_conn_id;
    char host[128];
    int port = 0;
    sockaddr_host(peer, (socklen_t)peerlen, host, sizeof host, &port);
    snprintf(c->peer, sizeof c->peer, strchr(host, ':') ? "[%s]:%d" : "%s:%d", host, port);
    c->node_id = l->node_id;
    c->listener_index = l->index;
    conn_set_advertised(c, l, fd);
    c->next = b->conns;
    if (b->conns)
        b->conns->prev = c;
    b->conns = c;
    b->nconns++;
    c->reading = !b->reads_paused;
    bufferevent_setcb(bev, tls ? conn_tls_read_cb : NULL, conn_write_cb, conn_event_cb, c);
    bufferevent_set_max_single_write(bev, SK_CONN_WRITE_CHUNK);
    if (tls)
        bufferevent_set_max_single_read(bev, SK_CONN_READ_CHUNK);
    bufferevent_enable(bev, EV_WRITE);
    if (c->reading)
        conn_read_on(c);
    sk_debug("net", "conn %llu from %s accepted on %s:%d", (unsigned long long)c->id, c->peer, l->host, l->port);
}

void sk_net_drain(sk_broker *b, void (*done)(sk_broker *b))
{
    b->drained = done;
    if (b->nconns == 0) {
        b->drained = NULL;
        done(b);
        return;
    }
    for (sk_conn *c = b->conns; c; c = c->next)
        sk_conn_close_after_flush(c);
}

void sk_net_close_all(sk_broker *b)
{
    b->drained = NULL;
    while (b->conns)
        conn_free(b->conns);
}

void sk_net_pause_reads(sk_broker *b, bool paused)
{
    b->reads_paused = paused;
    for (sk_conn *c = b->conns; c; c = c->next)
        conn_update_reading(c);
}

void sk_net_close_node(sk_broker *b, int32_t node_id)
{
    for (sk_conn *c = b->conns; c; c = c->next)
        if (c->node_id == node_id)
            conn_schedule_free(c);
}

size_t sk_net_connection_count(const sk_broker *b)
{
    return b->nconns;
}
