/*
 * SASL/OAUTHBEARER (RFC 7628, KIP-255) with Kafka's default validator for
 * unsecured tokens (OAuthBearerUnsecuredValidatorCallbackHandler), as dev
 * set-ups use it: the token is an unsecured JWS, base64url(header) "."
 * base64url(claims) ".", with "alg":"none"; the claims must hold the
 * principal claim (default "sub", a non-empty string) and "exp" (seconds)
 * in the future, "iat" if present not after "exp", and every scope of
 * unsecuredValidatorRequiredScope in the scope claim (default "scope", a
 * string of space-separated scopes or an array). Nothing is signed: this
 * is for development, as in Kafka.
 *
 * The client's first message: gs2 header "n,[a=authzid]," then \x01,
 * key=value pairs each ended by \x01 (one must be auth=Bearer <token>),
 * then \x01. A bad token is answered with the error challenge
 * {"status":"invalid_token"} (or insufficient_scope); the client's \x01
 * reply then fails the exchange with that text, as Kafka's
 * OAuthBearerSaslServer does.
 */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "skiff/oauth.h"

/* base64url without padding (RFC 4648 section 5) into `out`; -1 when malformed. */
static int b64url_decode(const char *in, size_t len, char *out, size_t cap)
{
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        char c = in[i];
        int v = c >= 'A' && c <= 'Z'   ? c - 'A'
                : c >= 'a' && c <= 'z' ? c - 'a' + 26
                : c >= '0' && c <= '9' ? c - '0' + 52
                : c == '-'             ? 62
                : c == '_'             ? 63
                                       : -1;
        if (v < 0)
            return c == '=' && i + 2 >= len ? (int)o : -1;
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o + 1 >= cap)
                return -1;
            out[o++] = (char)(acc >> bits);
        }
    }
    out[o] = '\0';
    return (int)o;
}

static cJSON *json_part(const char *p, size_t len)
{
    char buf[4096];
    int n = b64url_decode(p, len, buf, sizeof buf);
    if (n < 0 || memchr(buf, '\0', (size_t)n))
        return NULL;
    cJSON *j = cJSON_ParseWithLength(buf, (size_t)n);
    if (j && !cJSON_IsObject(j)) {
        cJSON_Delete(j);
        return NULL;
    }
    return j;
}

/* True when `scope` (a claim: string of space-separated words, or array of
 * strings) holds `want` (len bytes). */
static bool scope_has(const cJSON *scope, const char *want, size_t len)
{
    if (cJSON_IsString(scope)) {
        for (const char *p = scope->valuestring; *p;) {
            while (*p == ' ')
                p++;
            size_t n = strcspn(p, " ");
            if (n == len && !memcmp(p, want, len))
                return true;
            p += n;
        }
        return false;
    }
    const cJSON *item;
    cJSON_ArrayForEach(item, scope) if (cJSON_IsString(item) && strlen(item->valuestring) == len &&
                                        !memcmp(item->valuestring, want, len)) return true;
    return false;
}

int sk_oauth_validate(const sk_oauth_options *o, const char *token, size_t len, int64_t now_ms, char *principal,
                      size_t principal_len, int64_t *expires_ms, const char **status, char *why, size_t why_len)
{
    *status = "invalid_token";
    const char *dot1 = memchr(token, '.', len);
    const char *dot2 = dot1 ? memchr(dot1 + 1, '.', (size_t)(token + len - dot1 - 1)) : NULL;
    if (!dot2 || dot2 + 1 != token + len) {
        snprintf(why, why_len, "an unsecured JWS must be header.claims. (an empty signature)");
        return -1;
    }
    cJSON *header = json_part(token, (size_t)(dot1 - token));
    cJSON *claims = header ? json_part(dot1 + 1, (size_t)(dot2 - dot1 - 1)) : NULL;
    int rc = -1;
    const cJSON *alg = cJSON_GetObjectItemCaseSensitive(header, "alg");
    const cJSON *sub = cJSON_GetObjectItemCaseSensitive(claims, o->principal_claim);
    const cJSON *exp = cJSON_GetObjectItemCaseSensitive(claims, "exp");
    const cJSON *iat = cJSON_GetObjectItemCaseSensitive(claims, "iat");
    const cJSON *scope = cJSON_GetObjectItemCaseSensitive(claims, o->scope_claim);
    if (cJSON_IsString(sub))
        snprintf(principal, principal_len, "%s", sub->valuestring); /* also for the log of a refusal */
    if (!claims) {
        snprintf(why, why_len, "the header or the claims are not base64url JSON objects");
    } else if (!cJSON_IsString(alg) || strcmp(alg->valuestring, "none")) {
        snprintf(why, why_len, "the header's alg must be \"none\" (an unsecured JWS)");
    } else if (!cJSON_IsString(sub) || !sub->valuestring[0]) {
        snprintf(why, why_len, "no principal claim \"%s\"", o->principal_claim);
    } else if (!cJSON_IsNumber(exp) || !isfinite(exp->valuedouble)) {
        snprintf(why, why_len, "no expiration time (exp)");
    } else if (iat && !cJSON_IsNumber(iat)) {
        snprintf(why, why_len, "iat is not a number");
    } else if (exp->valuedouble * 1000.0 <= (double)(now_ms - o->clock_skew_ms)) {
        snprintf(why, why_len, "the token expired");
    } else if (iat && iat->valuedouble > exp->valuedouble) {
        snprintf(why, why_len, "the token was issued after it expires");
    } else {
        rc = 0;
        for (const char *p = o->required_scope ? o->required_scope : ""; *p && rc == 0;) {
            while (*p == ' ' || *p == ',')
                p++;
            size_t n = strcspn(p, " ,");
            if (n && !(scope && scope_has(scope, p, n))) {
                snprintf(why, why_len, "the token lacks the required scope %.*s", (int)n, p);
                *status = "insufficient_scope";
                rc = -1;
            }
            p += n;
        }
        if (rc == 0) {
            *expires_ms = exp->valuedouble * 1000.0 > 9.0e18 ? INT64_MAX : (int64_t)(exp->valuedouble * 1000.0);
        }
    }
    cJSON_Delete(header);
    cJSON_Delete(claims);
    return rc;
}

const char *sk_oauth_parse_initial(const char *msg, size_t len, const char **authzid, size_t *authzid_len,
                                   const char **token, size_t *token_len)
{
    const char *end = msg + len;
    if (len < 4 || msg[0] != 'n' || msg[1] != ',')
        return "the message must start with the gs2 header \"n,\"";
    const char *p = msg + 2;
    *authzid = NULL;
    *authzid_len = 0;
    if (p < end && *p == 'a') {
        if (p + 1 >= end || p[1] != '=')
            return "malformed authorization id";
        *authzid = p + 2;
        const char *comma = memchr(*authzid, ',', (size_t)(end - *authzid));
        if (!comma)
            return "malformed gs2 header";
        *authzid_len = (size_t)(comma - *authzid);
        p = comma;
    }
    if (p >= end || *p != ',' || p + 1 >= end || p[1] != '\x01')
        return "the gs2 header must be followed by \\x01";
    p += 2;
    *token = NULL;
    while (p < end && *p != '\x01') {
        const char *kv_end = memchr(p, '\x01', (size_t)(end - p));
        if (!kv_end)
            return "a key=value pair must end with \\x01";
        const char *eq = memchr(p, '=', (size_t)(kv_end - p));
        if (!eq || eq == p)
            return "expected key=value";
        for (const char *k = p; k < eq; k++)
            if (!isalpha((unsigned char)*k))
                return "a key must be letters";
        if (eq - p == 4 && !memcmp(p, "auth", 4)) {
            const char *v = eq + 1;
            if (kv_end - v < 8 || strncasecmp(v, "bearer ", 7))
                return "auth must be \"Bearer <token>\"";
            v += 7;
            while (v < kv_end && *v == ' ')
                v++;
            *token = v;
            *token_len = (size_t)(kv_end - v);
        }
        p = kv_end + 1;
    }
    if (p + 1 != end)
        return "the message must end with \\x01\\x01";
    if (!*token || !*token_len)
        return "no auth=Bearer <token>";
    return NULL;
}
