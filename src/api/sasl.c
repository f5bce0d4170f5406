/*
 * SaslHandshake v0-1 and SaslAuthenticate v0-2 (KIP-43, KIP-152, KIP-368),
 * as Kafka's SaslServerAuthenticator and KafkaApis answer them.
 *
 * - SaslHandshake names a mechanism; the answer lists the listener's
 *   enabled mechanisms. An unknown or disabled one gets
 *   UNSUPPORTED_SASL_MECHANISM and the connection closes. v0 switches the
 *   connection to bare tokens (net/conn.c), v1 to SaslAuthenticate.
 * - SaslAuthenticate carries one token each way. A refusal answers
 *   SASL_AUTHENTICATION_FAILED with Kafka's message, logs one line naming
 *   the principal and the listener, and closes the connection after
 *   connection.failed.authentication.delay.ms (the answer waits too, as in
 *   Kafka). Success answers the session lifetime (v1+,
 *   connections.max.reauth.ms) and the connection may send anything.
 * - On an authenticated connection SaslHandshake starts a re-authentication
 *   when the client used SaslAuthenticate v1+ (KIP-368), with the same
 *   mechanism and principal; otherwise both APIs answer ILLEGAL_SASL_STATE,
 *   as Kafka's KafkaApis does (also on listeners without SASL).
 */
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

#include "kf_msgs.h"
#include "skiff/api.h"
#include "skiff/errors.h"
#include "skiff/trace.h"
#include "skiff/sasl.h"
#include "skiff/security.h"

/* A refusal waiting for connection.failed.authentication.delay.ms. */
typedef struct delayed_reply {
    sk_request *req; /* the SaslAuthenticate request */
    void *resp;      /* its refusal, sent when the timer fires */
} delayed_reply;

static void delayed_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    delayed_reply *d = arg;
    sk_request_respond(d->req, d->resp);
    free(d);
}

/* Answers `resp`, then closes the connection, after the listener's delay. */
static void respond_and_close(sk_request *req, void *resp)
{
    req->close_after = true;
    int64_t ms = req->auth && req->auth->sec ? req->auth->sec->failed_auth_delay_ms : 0;
    delayed_reply *d = ms > 0 ? malloc(sizeof *d) : NULL;
    if (d) {
        d->req = req;
        d->resp = resp;
        struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
        if (event_base_once(req->broker->base, -1, EV_TIMEOUT, delayed_cb, d, &tv) == 0)
            return;
        free(d);
    }
    sk_request_respond(req, resp);
}

static int set_mechanisms(sk_request *req, kf_sasl_handshake_response *resp, const sk_sec_listener *l)
{
    resp->mechanisms.n = l ? l->nmechanism_names : 0;
    if (!resp->mechanisms.n)
        return 0;
    resp->mechanisms.items = sk_arena_alloc(&req->arena, (size_t)resp->mechanisms.n * sizeof(kf_str));
    if (!resp->mechanisms.items)
        return -1;
    for (int i = 0; i < l->nmechanism_names; i++)
        resp->mechanisms.items[i] = kf_str_c(l->mechanism_names[i]);
    return 0;
}

void sk_api_sasl_handshake(sk_request *req)
{
    const kf_sasl_handshake_request *body = req->body;
    kf_sasl_handshake_response *resp = sk_request_response(req);
    sk_auth *a = req->auth;
    const sk_sec_listener *l = a ? a->sec : NULL;
    if (!resp || set_mechanisms(req, resp, l) < 0) {
        sk_request_close(req, "out of memory");
        return;
    }
    bool sasl = l && sk_sec_is_sasl(l->protocol);
    bool reauth = sasl && a->state == SK_AUTH_DONE && a->supports_reauth;
    if (!sasl || (a->state != SK_AUTH_HANDSHAKE && !reauth)) {
        resp->error_code = SK_ERR_ILLEGAL_SASL_STATE;
        sk_request_respond(req, resp);
        return;
    }
    unsigned mech = body->mechanism.p ? sk_sasl_mech_parse(body->mechanism.p, (size_t)body->mechanism.len) : 0;
    if (!mech || !(l->mechanisms & mech) || (reauth && mech != a->mechanism)) {
        char why[160];
        snprintf(why, sizeof why, "Unsupported SASL mechanism %.*s%s", body->mechanism.p ? body->mechanism.len : 0,
                 body->mechanism.p ? body->mechanism.p : "",
                 reauth && mech ? " (a re-authentication must keep the mechanism)" : "");
        a->mechanism = mech;
        sk_auth_log_failure(a, req->conn_id, req->peer, NULL, why);
        resp->error_code = SK_ERR_UNSUPPORTED_SASL_MECHANISM;
        respond_and_close(req, resp);
        return;
    }
    sk_auth_clear(a);
    a->server = sk_sasl_server_new(mech, l, req->broker->security ? req->broker->security->scram : NULL);
    if (!a->server) {
        sk_request_close(req, "out of memory");
        return;
    }
    a->mechanism = mech;
    a->reauthenticating = reauth;
    a->state = req->hdr.api_version == 0 ? SK_AUTH_RAW : SK_AUTH_AUTHENTICATE;
    sk_request_respond(req, resp);
}

void sk_api_sasl_authenticate(sk_request *req)
{
    const kf_sasl_authenticate_request *body = req->body;
    kf_sasl_authenticate_response *resp = sk_request_response(req);
    sk_auth *a = req->auth;
    if (!resp) {
        sk_request_close(req, "out of memory");
        return;
    }
    if (!a || a->state != SK_AUTH_AUTHENTICATE || !a->server) {
        resp->error_code = SK_ERR_ILLEGAL_SASL_STATE;
        resp->error_message = kf_str_c("SaslAuthenticate request received after successful authentication");
        sk_request_respond(req, resp);
        return;
    }
    if (req->hdr.api_version > 0)
        a->supports_reauth = true;
    uint8_t *out = NULL;
    size_t out_len = 0;
    char msg[256], why[256] = "";
    int rc = sk_sasl_server_step(a->server, body->auth_bytes.p ? body->auth_bytes.p : (const uint8_t *)"",
                                 body->auth_bytes.len > 0 ? (size_t)body->auth_bytes.len : 0, &out, &out_len, msg,
                                 sizeof msg, why, sizeof why);
    char user[256];
    snprintf(user, sizeof user, "%s", sk_sasl_server_user(a->server));
    if (out_len) {
        uint8_t *copy = sk_arena_alloc(&req->arena, out_len);
        if (copy)
            memcpy(copy, out, out_len);
        resp->auth_bytes.p = copy;
        resp->auth_bytes.len = copy ? (int32_t)out_len : 0;
    } else {
        resp->auth_bytes.p = (const uint8_t *)"";
        resp->auth_bytes.len = 0;
    }
    free(out);
    if (rc == 1) {
        int64_t lifetime = sk_auth_complete(a, user, sk_sasl_server_expiry_ms(a->server), msg, sizeof msg);
        if (lifetime >= 0) {
            resp->session_lifetime_ms = lifetime;
            sk_request_respond(req, resp);
            return;
        }
        snprintf(why, sizeof why, "%s", msg);
        rc = -1;
    }
    if (rc < 0) {
        sk_auth_log_failure(a, req->conn_id, req->peer, user, why);
        resp->error_code = SK_ERR_SASL_AUTHENTICATION_FAILED;
        resp->error_message.p = sk_arena_strndup(&req->arena, msg, strlen(msg));
        resp->error_message.len = resp->error_message.p ? (int32_t)strlen(msg) : -1;
        resp->auth_bytes.p = (const uint8_t *)"";
        resp->auth_bytes.len = 0;
        respond_and_close(req, resp);
        return;
    }
    sk_request_respond(req, resp);
}
