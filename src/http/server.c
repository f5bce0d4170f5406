/*
 * The HTTP server of the control plane: evhttp on the broker's loop, the
 * route table, and the JSON reply helpers every route uses.
 *
 * Routing: a path is split at '/', each segment percent-decoded; "{}" in a
 * pattern takes any one segment (given to the handler in r->params). A path
 * that matches no pattern is 404; one that matches only with another method
 * is 405 with an Allow header (OPTIONS: 204 with it). HEAD is answered as
 * GET without the body (its Content-Length given). Bodies: a route that takes one parses it as a JSON object (an
 * empty body is {}); malformed JSON is 400; evhttp refuses bodies over
 * SK_HTTP_BODY_MAX with 413 before any handler runs.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <sys/queue.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http_int.h"
#include "rest_int.h"
#include "skiff/config.h"
#include "skiff/trace.h"

static void req_free(sk_http_req *r)
{
    for (int i = 0; i < SK_HTTP_PARAMS; i++)
        free(r->params[i]);
    cJSON_Delete(r->body);
    free(r->query);
    free(r);
}

/* Headers of every answer; no close callback once the reply is ours. */
static void reply_headers(sk_http_req *r, const char *content_type)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(r->ev);
    evhttp_add_header(h, "Content-Type", content_type);
    evhttp_add_header(h, "Cache-Control", "no-store");
    evhttp_connection_set_closecb(evhttp_request_get_connection(r->ev), NULL, NULL);
}

void sk_http_reply_text(sk_http_req *r, int status, const char *content_type, const char *text, size_t len)
{
    if (r->ev) {
        reply_headers(r, content_type);
        struct evbuffer *buf = NULL;
        if (evhttp_request_get_command(r->ev) == EVHTTP_REQ_HEAD) {
            /* evhttp would send a body given to a HEAD: the length only */
            char n[24];
            snprintf(n, sizeof n, "%zu", len);
            if (status != 204)
                evhttp_add_header(evhttp_request_get_output_headers(r->ev), "Content-Length", n);
        } else if ((buf = evbuffer_new())) {
            evbuffer_add(buf, text, len);
        }
        evhttp_send_reply(r->ev, status, NULL, buf);
        if (buf)
            evbuffer_free(buf);
    }
    req_free(r);
}

void sk_http_req_gone(sk_http_req *r)
{
    /* A request not yet answered was detached from its connection by
     * libevent (evhttp_connection_incoming_fail) and is ours to free; one
     * still attached is freed with the connection. */
    if (r->ev && !evhttp_request_get_connection(r->ev))
        evhttp_request_free(r->ev);
    r->ev = NULL;
}

void sk_http_reply_start(sk_http_req *r, int status, const char *content_type)
{
    if (!r->ev)
        return;
    reply_headers(r, content_type);
    evhttp_send_reply_start(r->ev, status, NULL);
}

void sk_http_reply_chunk(sk_http_req *r, const char *text, size_t len)
{
    struct evbuffer *buf = r->ev && len ? evbuffer_new() : NULL;
    if (!buf)
        return;
    evbuffer_add(buf, text, len);
    evhttp_send_reply_chunk(r->ev, buf);
    evbuffer_free(buf);
}

void sk_http_reply_end(sk_http_req *r)
{
    if (r->ev)
        evhttp_send_reply_end(r->ev);
    req_free(r);
}

void sk_http_reply_json(sk_http_req *r, int status, cJSON *json)
{
    char *text = json ? cJSON_PrintUnformatted(json) : NULL;
    cJSON_Delete(json);
    if (!text) {
        static const char oom[] = "{\"error\":\"internal\",\"detail\":\"out of memory\"}";
        sk_http_reply_text(r, 500, "application/json", oom, sizeof oom - 1);
        return;
    }
    size_t len = strlen(text);
    sk_http_reply_text(r, status, "application/json", text, len);
    free(text);
}

void sk_http_reply_error(sk_http_req *r, int status, const char *error, const char *fmt, ...)
{
    char detail[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "error", error);
    cJSON_AddStringToObject(o, "detail", detail);
    sk_http_reply_json(r, status, o);
}

char *sk_http_query(const sk_http_req *r, const char *name)
{
    if (!r->query)
        return NULL;
    struct evkeyvalq q;
    TAILQ_INIT(&q);
    char *out = NULL;
    if (evhttp_parse_query_str(r->query, &q) == 0) {
        const char *v = evhttp_find_header(&q, name);
        if (v)
            out = strdup(v);
    }
    evhttp_clear_headers(&q);
    return out;
}

int sk_http_query_int(sk_http_req *r, const char *name, int64_t min, int64_t max, int64_t *out)
{
    char *v = sk_http_query(r, name);
    if (!v)
        return 1;
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    bool ok = *v && !*end && errno == 0 && n >= min && n <= max;
    free(v);
    if (!ok) {
        sk_http_reply_error(r, 400, "bad_request", "query parameter \"%s\" must be an integer from %lld to %lld", name,
                            (long long)min, (long long)max);
        return -1;
    }
    *out = n;
    return 0;
}

/* Matches `path` against `pattern`; fills params (heap) on success. */
static bool route_match(const char *pattern, const char *path, char **params)
{
    int np = 0;
    const char *p = pattern, *s = path;
    while (*p && *s) {
        if (*p != '/' || *s != '/')
            return false;
        p++;
        s++;
        size_t plen = strcspn(p, "/"), slen = strcspn(s, "/");
        if (plen == 2 && !strncmp(p, "{}", 2)) {
            if (slen == 0 || np >= SK_HTTP_PARAMS)
                return false;
            char *raw = strndup(s, slen);
            params[np] = raw ? evhttp_uridecode(raw, 0, NULL) : NULL;
            free(raw);
            if (!params[np])
                return false;
            np++;
        } else if (plen != slen || strncmp(p, s, plen)) {
            return false;
        }
        p += plen;
        s += slen;
    }
    return !*p && (!*s || !strcmp(s, "/"));
}

static const sk_http_route *const route_tables[] = {sk_http_routes_core,    sk_http_routes_state,
                                                    sk_http_routes_metrics, sk_http_routes_cluster,
                                                    sk_http_routes_rest,    sk_http_routes_console};

static void http_cb(struct evhttp_request *ev, void *arg)
{
    sk_broker *b = arg;
    sk_http_req *r = calloc(1, sizeof *r);
    if (!r) {
        evhttp_send_error(ev, 500, "out of memory");
        return;
    }
    r->b = b;
    r->ev = ev;
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(ev);
    const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
    const char *query = uri ? evhttp_uri_get_query(uri) : NULL;
    if (query && !(r->query = strdup(query))) {
        sk_http_reply_error(r, 500, "internal", "out of memory");
        return;
    }
    if (!path || !*path)
        path = "/";
    const char *token = b->config->http_token;
    /* The console's static files hold no data: the page asks for the token. */
    bool open_path = !strcmp(path, "/healthz") || !strcmp(path, "/readyz") || !strcmp(path, "/") ||
                     !strcmp(path, "/console") || !strncmp(path, "/console/", 9);
    if (token && *token && !open_path) {
        const char *auth = evhttp_find_header(evhttp_request_get_input_headers(ev), "Authorization");
        if (!auth || strncasecmp(auth, "Bearer ", 7) || strcmp(auth + 7, token)) {
            evhttp_add_header(evhttp_request_get_output_headers(ev), "WWW-Authenticate", "Bearer");
            sk_http_reply_error(r, 401, "unauthorized", "this skiff requires Authorization: Bearer <skiff.http.token>");
            return;
        }
    }
    int command = (int)evhttp_request_get_command(ev);
    int method = command == EVHTTP_REQ_HEAD ? EVHTTP_REQ_GET : command; /* HEAD: GET without the body */
    int allowed = 0;                                                    /* methods of the routes that match the path */
    for (size_t t = 0; t < sizeof route_tables / sizeof route_tables[0]; t++) {
        for (const sk_http_route *rt = route_tables[t]; rt->pattern; rt++) {
            char *params[SK_HTTP_PARAMS] = {0};
            bool hit = route_match(rt->pattern, path, params);
            if (hit)
                allowed |= rt->method;
            if (!hit || rt->method != method) {
                for (int i = 0; i < SK_HTTP_PARAMS; i++)
                    free(params[i]);
                continue;
            }
            memcpy(r->params, params, sizeof params);
            if (rt->body) {
                struct evbuffer *in = evhttp_request_get_input_buffer(ev);
                size_t len = evbuffer_get_length(in);
                if (len > SK_HTTP_BODY_MAX) {
                    sk_http_reply_error(r, 413, "too_large", "bodies of this endpoint are at most %d bytes",
                                        SK_HTTP_BODY_MAX);
                    return;
                }
                char *text = malloc(len + 1);
                if (!text) {
                    sk_http_reply_error(r, 500, "internal", "out of memory");
                    return;
                }
                evbuffer_remove(in, text, len);
                text[len] = '\0';
                const char *end = NULL;
                r->body = len ? cJSON_ParseWithLengthOpts(text, len, &end, false) : cJSON_CreateObject();
                bool ok = r->body && cJSON_IsObject(r->body);
                if (ok && len) { /* nothing but white space may follow */
                    for (const char *q = end; q && q < text + len; q++)
                        ok = ok && (*q == ' ' || *q == '\n' || *q == '\r' || *q == '\t');
                }
                free(text);
                if (!ok) {
                    sk_http_reply_error(r, 400, "bad_request", "the body must be one JSON object");
                    return;
                }
            }
            rt->handler(r);
            return;
        }
    }
    if (allowed) {
        char allow[64] = "";
        static const int methods[] = {EVHTTP_REQ_GET, EVHTTP_REQ_POST, EVHTTP_REQ_PUT, EVHTTP_REQ_DELETE};
        static const char *const names[] = {"GET, HEAD", "POST", "PUT", "DELETE"};
        for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
            if (allowed & methods[i])
                snprintf(allow + strlen(allow), sizeof allow - strlen(allow), "%s%s", *allow ? ", " : "", names[i]);
        evhttp_add_header(evhttp_request_get_output_headers(ev), "Allow", allow);
        if (command == EVHTTP_REQ_OPTIONS)
            sk_http_reply_text(r, 204, "application/json", "", 0);
        else
            sk_http_reply_error(r, 405, "method_not_allowed", "%s takes %s", path, allow);
    } else
        sk_http_reply_error(r, 404, "not_found", "no endpoint %s (see GET /openapi.json)", path);
}

/* skiff's default for a key. */
static const char *key_default(const char *name)
{
    for (int i = 0; sk_config_key_name(i); i++)
        if (!strcmp(sk_config_key_name(i), name))
            return sk_config_key_default(i);
    return "";
}

int sk_http_start(sk_broker *b)
{
    const char *conf = b->config->http_listeners;
    if (!conf || !*conf)
        return 0;
    sk_listener_addr a;
    const char *why = sk_http_listener_parse(conf, &a);
    if (why) {
        sk_error("http", "skiff.http.listeners \"%s\": %s", conf, why);
        return -1;
    }
    sk_http *h = calloc(1, sizeof *h);
    if (!h || !(h->http = evhttp_new(b->base))) {
        free(h);
        sk_error("http", "out of memory");
        return -1;
    }
    evhttp_set_max_body_size(h->http, SK_REST_BODY_MAX); /* routes with a JSON body: SK_HTTP_BODY_MAX */
    evhttp_set_max_headers_size(h->http, 16 * 1024);
    /* Every method evhttp knows reaches http_cb (405 with Allow, not evhttp's 501). */
    evhttp_set_allowed_methods(h->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
                                            EVHTTP_REQ_HEAD | EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH | EVHTTP_REQ_TRACE);
    evhttp_set_timeout(h->http, 3600);
    evhttp_set_gencb(h->http, http_cb, b);
    struct evhttp_bound_socket *sock =
        evhttp_bind_socket_with_handle(h->http, a.host[0] ? a.host : "0.0.0.0", (uint16_t)a.port);
    if (!sock) {
        int e = errno;
        evhttp_free(h->http);
        free(h);
        if (!strcmp(conf, key_default("skiff.http.listeners"))) {
            sk_warn("http", "cannot listen on %s (%s): running without the HTTP control plane", conf, strerror(e));
            return 0;
        }
        sk_error("http", "cannot listen on %s (skiff.http.listeners): %s", conf, strerror(e));
        return -1;
    }
    evutil_socket_t fd = evhttp_bound_socket_get_fd(sock);
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    int port = a.port;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
        port = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                                        : ntohs(((struct sockaddr_in *)&ss)->sin_port);
    b->http = h;
    sk_info("http", "http control plane at http://%s%s%s:%d", strchr(a.host, ':') ? "[" : "",
            a.host[0] ? a.host : "0.0.0.0", strchr(a.host, ':') ? "]" : "", port);
    return 0;
}

void sk_http_stop(sk_broker *b)
{
    if (!b->http)
        return;
    sk_http_waits_close(b);
    if (b->http->pause_timer)
        event_free(b->http->pause_timer);
    if (b->http->refuse_timer)
        event_free(b->http->refuse_timer);
    evhttp_free(b->http->http);
    free(b->http);
    b->http = NULL;
}
