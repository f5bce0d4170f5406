/*
 * SASL mechanisms, server side, with Kafka's messages:
 *
 * PLAIN (RFC 4616; PlainSaslServer): one token "authzid NUL user NUL
 * password"; the users are the user_<name>="<password>" options of the
 * listener's PlainLoginModule entry. Passwords are compared in constant
 * time (SHA-256 of both, then CRYPTO_memcmp, so the length leaks nothing).
 *
 * SCRAM-SHA-256 / SCRAM-SHA-512 (skiff/scram.h): two tokens each way;
 * every failure gives the client Kafka's generic message.
 *
 * OAUTHBEARER (skiff/oauth.h): one token; a bad one is answered with the
 * error challenge, and the client's \x01 reply fails the exchange with it.
 */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "skiff/clock.h"
#include "skiff/oauth.h"
#include "skiff/sasl.h"

struct sk_sasl_server {
    unsigned mech;            /* sk_sasl_mech bit */
    const sk_sec_listener *l; /* borrowed */
    sk_scram_server *scram;   /* SCRAM exchange (owned) */
    char user[256];           /* for logs and the principal */
    int done;                 /* 1 after success or failure */
    char oauth_error[96];     /* OAUTHBEARER: the error challenge sent, awaiting \x01 ("" none) */
    char oauth_why[128];      /* OAUTHBEARER: why the token was refused, for the log */
    int64_t expiry_ms;        /* OAUTHBEARER: the token's exp, wall-clock ms; 0 none */
};

sk_sasl_server *sk_sasl_server_new(unsigned mech, const sk_sec_listener *l, const sk_scram_store *store)
{
    if (mech != SK_SASL_PLAIN && mech != SK_SASL_SCRAM_SHA_256 && mech != SK_SASL_SCRAM_SHA_512 &&
        mech != SK_SASL_OAUTHBEARER)
        return NULL;
    sk_sasl_server *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->mech = mech;
    s->l = l;
    if (mech == SK_SASL_SCRAM_SHA_256 || mech == SK_SASL_SCRAM_SHA_512) {
        s->scram =
            sk_scram_server_new(mech == SK_SASL_SCRAM_SHA_256 ? SK_SCRAM_TYPE_SHA_256 : SK_SCRAM_TYPE_SHA_512, store);
        if (!s->scram) {
            free(s);
            return NULL;
        }
    }
    return s;
}

void sk_sasl_server_free(sk_sasl_server *s)
{
    if (!s)
        return;
    sk_scram_server_free(s->scram);
    free(s);
}

const char *sk_sasl_server_user(const sk_sasl_server *s)
{
    return s->user;
}

int64_t sk_sasl_server_expiry_ms(const sk_sasl_server *s)
{
    return s->expiry_ms;
}

/* Kafka's message for a SaslException (it never tells which part failed). */
static void generic_message(const sk_sasl_server *s, char *msg, size_t len)
{
    snprintf(msg, len,
             "Authentication failed during authentication due to invalid credentials with SASL "
             "mechanism %s",
             sk_sasl_mech_name(s->mech));
}

/* Equal strings, in time that depends on neither's content or length. */
static bool secret_equal(const char *a, size_t alen, const char *b, size_t blen)
{
    uint8_t ha[32], hb[32];
    unsigned int n = 0;
    if (EVP_Digest(a, alen, ha, &n, EVP_sha256(), NULL) != 1 || EVP_Digest(b, blen, hb, &n, EVP_sha256(), NULL) != 1)
        return false;
    return CRYPTO_memcmp(ha, hb, sizeof ha) == 0;
}

static int plain_step(sk_sasl_server *s, const uint8_t *in, size_t len, char *msg, size_t msg_len, char *why,
                      size_t why_len)
{
    const char *p = (const char *)in, *end = p + len;
    const char *nul1 = memchr(p, '\0', len);
    const char *nul2 = nul1 ? memchr(nul1 + 1, '\0', (size_t)(end - nul1 - 1)) : NULL;
    if (!nul1 || !nul2 || memchr(nul2 + 1, '\0', (size_t)(end - nul2 - 1))) {
        int tokens = 1;
        for (size_t i = 0; i < len; i++)
            tokens += in[i] == '\0';
        snprintf(why, why_len, "Invalid SASL/PLAIN response: expected 3 tokens, got %d", tokens);
        generic_message(s, msg, msg_len);
        return -1;
    }
    const char *authz = p, *user = nul1 + 1, *pass = nul2 + 1;
    size_t authz_len = (size_t)(nul1 - p), user_len = (size_t)(nul2 - user), pass_len = (size_t)(end - pass);
    snprintf(s->user, sizeof s->user, "%.*s", (int)(user_len < sizeof s->user ? user_len : sizeof s->user - 1), user);
    const char *fail = NULL;
    if (user_len == 0)
        fail = "Authentication failed: username not specified";
    else if (pass_len == 0)
        fail = "Authentication failed: password not specified";
    else if (authz_len && (authz_len != user_len || memcmp(authz, user, user_len)))
        fail = "Authentication failed: Client requested an authorization id that is different from username";
    if (!fail) {
        const sk_plain_user *u = NULL;
        for (size_t i = 0; i < s->l->nplain_users && !u; i++)
            if (strlen(s->l->plain_users[i].name) == user_len && !memcmp(s->l->plain_users[i].name, user, user_len))
                u = &s->l->plain_users[i];
        /* An unknown user costs the same comparison as a wrong password. */
        const char *expect = u ? u->password : "";
        bool ok = secret_equal(expect, strlen(expect), pass, pass_len) && u;
        if (!ok)
            fail = "Authentication failed: Invalid username or password";
        snprintf(why, why_len, "%s", u ? "wrong password" : "unknown user");
    }
    if (fail) {
        snprintf(msg, msg_len, "%s", fail);
        if (user_len == 0 || pass_len == 0 || authz_len)
            snprintf(why, why_len, "%s", fail);
        return -1;
    }
    return 1;
}

static int oauth_step(sk_sasl_server *s, const uint8_t *in, size_t len, uint8_t **out, size_t *out_len, char *msg,
                      size_t msg_len, char *why, size_t why_len)
{
    if (s->oauth_error[0]) {
        snprintf(msg, msg_len, "%s", s->oauth_error);
        snprintf(why, why_len, "%s%s", s->oauth_why,
                 len == 1 && in[0] == 0x01 ? "" : " (and the client did not acknowledge the error challenge)");
        return -1;
    }
    const char *authz, *token;
    size_t authz_len, token_len;
    const char *bad = sk_oauth_parse_initial((const char *)in, len, &authz, &authz_len, &token, &token_len);
    if (bad) {
        snprintf(why, why_len, "%s", bad);
        generic_message(s, msg, msg_len);
        return -1;
    }
    const sk_sec_listener *l = s->l;
    sk_oauth_options o = {.principal_claim = l->oauth_principal_claim ? l->oauth_principal_claim : "sub",
                          .scope_claim = l->oauth_scope_claim ? l->oauth_scope_claim : "scope",
                          .required_scope = l->oauth_required_scope,
                          .clock_skew_ms = l->oauth_clock_skew_ms};
    const char *status;
    if (sk_oauth_validate(&o, token, token_len, sk_clock_wall_ms(), s->user, sizeof s->user, &s->expiry_ms, &status,
                          s->oauth_why, sizeof s->oauth_why) < 0) {
        /* RFC 7628 3.2.2: an error challenge; the client answers \x01. */
        snprintf(s->oauth_error, sizeof s->oauth_error, "{\"status\":\"%s\"}", status);
        *out_len = strlen(s->oauth_error);
        if (!(*out = malloc(*out_len)))
            return -1;
        memcpy(*out, s->oauth_error, *out_len);
        return 0;
    }
    if (authz_len && (authz_len != strlen(s->user) || memcmp(authz, s->user, authz_len))) {
        snprintf(msg, msg_len,
                 "Authentication failed: Client requested an authorization id (%.*s) that is "
                 "different from the token's principal name (%s)",
                 (int)authz_len, authz, s->user);
        snprintf(why, why_len, "%s", msg);
        return -1;
    }
    return 1;
}

int sk_sasl_server_step(sk_sasl_server *s, const uint8_t *in, size_t len, uint8_t **out, size_t *out_len,
                        char *client_msg, size_t client_msg_len, char *why, size_t why_len)
{
    *out = NULL;
    *out_len = 0;
    if (s->done) {
        snprintf(why, why_len, "SASL exchange already finished");
        generic_message(s, client_msg, client_msg_len);
        return -1;
    }
    int rc;
    if (s->mech == SK_SASL_PLAIN) {
        rc = plain_step(s, in, len, client_msg, client_msg_len, why, why_len);
    } else if (s->mech == SK_SASL_OAUTHBEARER) {
        rc = oauth_step(s, in, len, out, out_len, client_msg, client_msg_len, why, why_len);
    } else {
        rc = sk_scram_server_step(s->scram, in, len, out, out_len, why, why_len);
        snprintf(s->user, sizeof s->user, "%s", sk_scram_server_user(s->scram));
        if (rc < 0) {
            if (strstr(why, "authorization id"))
                snprintf(client_msg, client_msg_len, "%s", why);
            else
                generic_message(s, client_msg, client_msg_len);
        }
    }
    if (rc != 0)
        s->done = 1;
    return rc;
}
