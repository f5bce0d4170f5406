/*
 * SCRAM key derivation (RFC 5802 section 3) and the server side of the
 * exchange, with Kafka's rules (ScramSaslServer, ScramMessages): a gs2
 * header without channel binding ("n,,", or "n,a=<authzid>," where the
 * authzid must be the user name), user names escaped with =2C and =3D,
 * the final nonce ending with the server's (Kafka checks no more),
 * extensions accepted and ignored, the client proof compared in constant
 * time. Any failure is reported to the client with Kafka's one generic
 * message (the caller's business); the reason here is for the log only.
 */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "skiff/scram.h"

struct sk_scram_server {
    int type;                    /* SK_SCRAM_TYPE_* */
    const sk_scram_store *store; /* borrowed */
    int step;                    /* 0: expect client-first, 1: client-final, 2: done */
    char user[256];              /* unescaped user name */
    char *client_first_bare;     /* owned */
    char *server_first;          /* owned */
    char *gs2_header;            /* owned */
    char nonce[128];             /* client nonce + server nonce */
    sk_scram_cred cred;          /* the user's credential (copied at the first step) */
};

size_t sk_scram_key_len(int type)
{
    return type == SK_SCRAM_TYPE_SHA_256 ? 32 : type == SK_SCRAM_TYPE_SHA_512 ? 64 : 0;
}

const char *sk_scram_type_name(int type)
{
    return type == SK_SCRAM_TYPE_SHA_256 ? "SCRAM-SHA-256" : type == SK_SCRAM_TYPE_SHA_512 ? "SCRAM-SHA-512" : NULL;
}

int sk_scram_type_of(const char *name)
{
    return !strcmp(name, "SCRAM-SHA-256")   ? SK_SCRAM_TYPE_SHA_256
           : !strcmp(name, "SCRAM-SHA-512") ? SK_SCRAM_TYPE_SHA_512
                                            : 0;
}

static const EVP_MD *scram_md(int type)
{
    return type == SK_SCRAM_TYPE_SHA_256 ? EVP_sha256() : type == SK_SCRAM_TYPE_SHA_512 ? EVP_sha512() : NULL;
}

int sk_scram_salted_password(int type, const char *password, size_t password_len, const uint8_t *salt, size_t salt_len,
                             int32_t iterations, uint8_t *out)
{
    const EVP_MD *md = scram_md(type);
    if (!md || iterations < 1 || password_len > INT32_MAX || salt_len > INT32_MAX)
        return -1;
    return PKCS5_PBKDF2_HMAC(password, (int)password_len, salt, (int)salt_len, iterations, md,
                             (int)sk_scram_key_len(type), out) == 1
               ? 0
               : -1;
}

static int hmac(int type, const uint8_t *key, size_t key_len, const void *data, size_t len, uint8_t *out)
{
    unsigned int n = 0;
    return HMAC(scram_md(type), key, (int)key_len, data, len, out, &n) ? 0 : -1;
}

int sk_scram_keys(int type, const uint8_t *salted_password, size_t salted_len, sk_scram_cred *cred)
{
    size_t klen = sk_scram_key_len(type);
    uint8_t client_key[SK_SCRAM_MAX_KEY];
    unsigned int n = 0;
    if (!klen || salted_len > INT32_MAX || hmac(type, salted_password, salted_len, "Client Key", 10, client_key) < 0 ||
        hmac(type, salted_password, salted_len, "Server Key", 10, cred->server_key) < 0 ||
        EVP_Digest(client_key, klen, cred->stored_key, &n, scram_md(type), NULL) != 1)
        return -1;
    OPENSSL_cleanse(client_key, sizeof client_key);
    return 0;
}

/* ---- Server exchange ---------------------------------------------------- */

sk_scram_server *sk_scram_server_new(int type, const sk_scram_store *store)
{
    if (!sk_scram_key_len(type))
        return NULL;
    sk_scram_server *s = calloc(1, sizeof *s);
    if (s) {
        s->type = type;
        s->store = store;
    }
    return s;
}

void sk_scram_server_free(sk_scram_server *s)
{
    if (!s)
        return;
    free(s->client_first_bare);
    free(s->server_first);
    free(s->gs2_header);
    OPENSSL_cleanse(&s->cred, sizeof s->cred);
    free(s);
}

const char *sk_scram_server_user(const sk_scram_server *s)
{
    return s->user;
}

/* Unescapes a saslname (=2C -> ',', =3D -> '='); -1 when malformed. */
static int unescape_name(const char *p, size_t len, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char c = p[i];
        if (c == '=') {
            if (i + 3 > len)
                return -1;
            if (!strncmp(p + i, "=2C", 3))
                c = ',';
            else if (!strncmp(p + i, "=3D", 3))
                c = '=';
            else
                return -1;
            i += 2;
        } else if (c == ',' || c == '\0') {
            return -1;
        }
        if (o + 1 >= cap)
            return -1;
        out[o++] = c;
    }
    out[o] = '\0';
    return 0;
}

/* The value of attribute `attr` ("r", "p", ...) in a comma-separated message
 * of `len` bytes: start in *v, length returned; -1 when absent. */
static long attr_value(const char *msg, size_t len, char attr, const char **v)
{
    size_t i = 0;
    while (i < len) {
        size_t end = i;
        while (end < len && msg[end] != ',')
            end++;
        if (end - i >= 2 && msg[i] == attr && msg[i + 1] == '=') {
            *v = msg + i + 2;
            return (long)(end - i - 2);
        }
        i = end + 1;
    }
    return -1;
}

static char *dup_len(const char *p, size_t len)
{
    char *s = malloc(len + 1);
    if (s) {
        memcpy(s, p, len);
        s[len] = '\0';
    }
    return s;
}

static int fail(char *why, size_t why_len, const char *reason)
{
    snprintf(why, why_len, "%s", reason);
    return -1;
}

static int client_first(sk_scram_server *s, const char *msg, size_t len, uint8_t **out, size_t *out_len, char *why,
                        size_t why_len)
{
    /* gs2-header: "n," [ "a=" authzid ] "," */
    if (len < 3 || msg[0] != 'n' || msg[1] != ',')
        return fail(why, why_len,
                    "client-first-message without the gs2 header \"n,\" (channel binding "
                    "is not supported)");
    const char *authz = NULL;
    size_t authz_len = 0, pos = 2;
    if (msg[2] == 'a' && len > 3 && msg[3] == '=') {
        authz = msg + 4;
        const char *comma = memchr(authz, ',', len - 4);
        if (!comma)
            return fail(why, why_len, "malformed gs2 header");
        authz_len = (size_t)(comma - authz);
        pos = (size_t)(comma - msg) + 1;
    } else if (msg[2] == ',') {
        pos = 3;
    } else {
        return fail(why, why_len, "malformed gs2 header");
    }
    const char *bare = msg + pos;
    size_t bare_len = len - pos;
    if (bare_len < 2 || bare[0] != 'n' || bare[1] != '=')
        return fail(why, why_len, "client-first-message without n=<user>");
    const char *name = NULL, *cnonce = NULL;
    long name_len = attr_value(bare, bare_len, 'n', &name);
    long cnonce_len = attr_value(bare, bare_len, 'r', &cnonce);
    if (name_len <= 0 || cnonce_len <= 0 || cnonce_len > 64 ||
        unescape_name(name, (size_t)name_len, s->user, sizeof s->user) < 0)
        return fail(why, why_len, "malformed client-first-message");
    if (authz) {
        char authzid[256];
        if (unescape_name(authz, authz_len, authzid, sizeof authzid) < 0 || strcmp(authzid, s->user))
            return fail(why, why_len,
                        "Authentication failed: Client requested an authorization id that is "
                        "different from username");
    }
    const sk_scram_cred *cred = s->store ? sk_scram_store_get(s->store, s->user, s->type) : NULL;
    if (!cred)
        return fail(why, why_len, "unknown user");
    s->cred = *cred;
    s->gs2_header = dup_len(msg, pos);
    s->client_first_bare = dup_len(bare, bare_len);
    uint8_t rnd[24];
    char snonce[33], salt[4 * (SK_SCRAM_MAX_SALT / 3 + 1) + 1];
    if (!s->gs2_header || !s->client_first_bare || RAND_bytes(rnd, sizeof rnd) != 1)
        return fail(why, why_len, "out of memory");
    sk_base64_encode(rnd, sizeof rnd, snonce);
    snprintf(s->nonce, sizeof s->nonce, "%.*s%s", (int)cnonce_len, cnonce, snonce);
    sk_base64_encode(s->cred.salt, s->cred.salt_len, salt);
    size_t n = strlen(s->nonce) + strlen(salt) + 32;
    s->server_first = malloc(n);
    if (!s->server_first)
        return fail(why, why_len, "out of memory");
    snprintf(s->server_first, n, "r=%s,s=%s,i=%d", s->nonce, salt, s->cred.iterations);
    *out_len = strlen(s->server_first);
    *out = (uint8_t *)dup_len(s->server_first, *out_len);
    if (!*out)
        return fail(why, why_len, "out of memory");
    s->step = 1;
    return 0;
}

static int client_final(sk_scram_server *s, const char *msg, size_t len, uint8_t **out, size_t *out_len, char *why,
                        size_t why_len)
{
    const char *cb = NULL, *nonce = NULL, *proof = NULL;
    long cb_len = attr_value(msg, len, 'c', &cb);
    long nonce_len = attr_value(msg, len, 'r', &nonce);
    long proof_len = attr_value(msg, len, 'p', &proof);
    if (cb_len < 0 || nonce_len < 0 || proof_len < 0 || msg[0] != 'c' || proof < msg + 3 ||
        (size_t)(proof - msg) + (size_t)proof_len != len)
        return fail(why, why_len, "malformed client-final-message");
    char expect_cb[64];
    if (strlen(s->gs2_header) > 40)
        return fail(why, why_len, "gs2 header too long");
    sk_base64_encode((const uint8_t *)s->gs2_header, strlen(s->gs2_header), expect_cb);
    if ((size_t)cb_len != strlen(expect_cb) || memcmp(cb, expect_cb, (size_t)cb_len))
        return fail(why, why_len, "channel binding does not match the gs2 header");
    /* Kafka checks that the nonce ends with the server's (librdkafka 2.0 sends
     * the client nonce once more in front of it). */
    size_t want = strlen(s->nonce);
    if ((size_t)nonce_len < want || memcmp(nonce + nonce_len - want, s->nonce, want))
        return fail(why, why_len, "Invalid client nonce in the final client message.");
    size_t klen = sk_scram_key_len(s->type);
    uint8_t client_proof[SK_SCRAM_MAX_KEY + 3];
    if (sk_base64_decode(proof, (size_t)proof_len, client_proof, sizeof client_proof) != (int)klen)
        return fail(why, why_len, "malformed client proof");
    /* AuthMessage = client-first-bare "," server-first "," client-final-without-proof */
    size_t without_proof = (size_t)(proof - msg) - 3;
    size_t am_len = strlen(s->client_first_bare) + strlen(s->server_first) + without_proof + 2;
    char *am = malloc(am_len + 1);
    if (!am)
        return fail(why, why_len, "out of memory");
    snprintf(am, am_len + 1, "%s,%s,%.*s", s->client_first_bare, s->server_first, (int)without_proof, msg);
    uint8_t signature[SK_SCRAM_MAX_KEY], client_key[SK_SCRAM_MAX_KEY], stored[SK_SCRAM_MAX_KEY];
    uint8_t server_sig[SK_SCRAM_MAX_KEY];
    unsigned int n = 0;
    int rc = hmac(s->type, s->cred.stored_key, klen, am, am_len, signature);
    if (rc == 0) {
        for (size_t i = 0; i < klen; i++)
            client_key[i] = client_proof[i] ^ signature[i];
        rc = EVP_Digest(client_key, klen, stored, &n, scram_md(s->type), NULL) == 1 ? 0 : -1;
    }
    if (rc == 0)
        rc = hmac(s->type, s->cred.server_key, klen, am, am_len, server_sig);
    free(am);
    OPENSSL_cleanse(client_key, sizeof client_key);
    if (rc < 0)
        return fail(why, why_len, "digest failed");
    if (CRYPTO_memcmp(stored, s->cred.stored_key, klen) != 0)
        return fail(why, why_len, "Invalid client credentials");
    char v[4 * (SK_SCRAM_MAX_KEY / 3 + 1) + 3];
    v[0] = 'v';
    v[1] = '=';
    *out_len = 2 + sk_base64_encode(server_sig, klen, v + 2);
    *out = (uint8_t *)dup_len(v, *out_len);
    if (!*out)
        return fail(why, why_len, "out of memory");
    s->step = 2;
    return 1;
}

int sk_scram_server_step(sk_scram_server *s, const uint8_t *in, size_t len, uint8_t **out, size_t *out_len, char *why,
                         size_t why_len)
{
    *out = NULL;
    *out_len = 0;
    if (memchr(in, '\0', len))
        return fail(why, why_len, "NUL byte in a SCRAM message");
    if (s->step == 0)
        return client_first(s, (const char *)in, len, out, out_len, why, why_len);
    if (s->step == 1)
        return client_final(s, (const char *)in, len, out, out_len, why, why_len);
    return fail(why, why_len, "SCRAM exchange already complete");
}
