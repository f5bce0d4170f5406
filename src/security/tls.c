/*
 * TLS server contexts from Kafka's ssl.* keys (PEM stores only), and the
 * principal of a TLS peer.
 *
 * Keystore: ssl.keystore.type=PEM with ssl.keystore.location (a file that
 * holds the private key and the certificate chain, leaf first), or the
 * inline ssl.keystore.key and ssl.keystore.certificate.chain; an encrypted
 * key is opened with ssl.key.password. Truststore (client certificates):
 * ssl.truststore.location or inline ssl.truststore.certificates, PEM.
 * ssl.client.auth none/requested/required; ssl.enabled.protocols among
 * TLSv1.2 and TLSv1.3; ssl.cipher.suites in the IANA names Java uses
 * (TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS_AES_128_GCM_SHA256).
 */
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sec_int.h"
#include "skiff/fsutil.h"
#include "skiff/trace.h"

/* Bytes OpenSSL may read from the socket at once (read-ahead). */
#define SK_TLS_READ_AHEAD (64 * 1024)

/* A client certificate that does not verify is refused with the alert
 * bad_certificate (42), as Kafka's broker (Java's TLS) refuses it, not with
 * OpenSSL's alert for the reason (unknown_ca, 48, for an unknown issuer):
 * clients and their tests (librdkafka's 0097) look for Kafka's. */
static int verify_client(int ok, X509_STORE_CTX *x)
{
    if (!ok)
        X509_STORE_CTX_set_error(x, X509_V_ERR_CERT_REJECTED);
    return ok;
}

/* The text of the newest OpenSSL error, for a log line. */
static const char *ssl_error_text(char *buf, size_t len)
{
    unsigned long e = ERR_get_error();
    if (!e)
        return "no detail";
    ERR_error_string_n(e, buf, len);
    ERR_clear_error();
    return buf;
}

/* PEM text from a key holding text (inline) or one holding a file name. */
static char *pem_text(const sk_config *c, const char *listener, const char *inline_key, const char *file_key)
{
    const char *text = inline_key ? sk_sec_get(c, listener, NULL, inline_key) : NULL;
    if (text && *text)
        return strdup(text);
    const char *path = file_key ? sk_sec_get(c, listener, NULL, file_key) : NULL;
    if (!path || !*path)
        return NULL;
    char *data = sk_file_read_all(path, 1 << 20, NULL);
    if (!data)
        sk_error("security", "listener %s: cannot read %s %s", listener, file_key, path);
    return data;
}

static int load_keystore(SSL_CTX *ctx, const sk_config *c, const char *listener)
{
    const char *type = sk_sec_get(c, listener, NULL, "ssl.keystore.type");
    if (type && strcasecmp(type, "PEM") != 0) {
        sk_error("security",
                 "listener %s: ssl.keystore.type %s is not supported; use PEM (convert a JKS or "
                 "PKCS12 store with keytool/openssl, see docs/security.md)",
                 listener, type);
        return -1;
    }
    const char *password = sk_sec_get(c, listener, NULL, "ssl.key.password");
    char *key_pem = pem_text(c, listener, "ssl.keystore.key", "ssl.keystore.location");
    char *chain_pem = pem_text(c, listener, "ssl.keystore.certificate.chain", "ssl.keystore.location");
    if (!key_pem || !chain_pem) {
        sk_error("security",
                 "listener %s: TLS needs a keystore: ssl.keystore.location (PEM key and "
                 "certificates), or ssl.keystore.key and ssl.keystore.certificate.chain",
                 listener);
        free(key_pem);
        free(chain_pem);
        return -1;
    }
    char err[256];
    int rc = -1;
    BIO *kb = BIO_new_mem_buf(key_pem, -1), *cb = BIO_new_mem_buf(chain_pem, -1);
    EVP_PKEY *pkey = kb ? PEM_read_bio_PrivateKey(kb, NULL, NULL, (void *)(password ? password : "")) : NULL;
    X509 *leaf = cb && pkey ? PEM_read_bio_X509(cb, NULL, NULL, NULL) : NULL;
    if (!pkey) {
        sk_error("security",
                 "listener %s: cannot read the private key of the keystore (%s; wrong "
                 "ssl.key.password?)",
                 listener, ssl_error_text(err, sizeof err));
    } else if (!leaf) {
        sk_error("security", "listener %s: no certificate in the keystore (%s)", listener,
                 ssl_error_text(err, sizeof err));
    } else if (SSL_CTX_use_certificate(ctx, leaf) != 1 || SSL_CTX_use_PrivateKey(ctx, pkey) != 1 ||
               SSL_CTX_check_private_key(ctx) != 1) {
        sk_error("security", "listener %s: the keystore's key does not fit its certificate (%s)", listener,
                 ssl_error_text(err, sizeof err));
    } else {
        rc = 0;
        X509 *more;
        while ((more = PEM_read_bio_X509(cb, NULL, NULL, NULL)) != NULL)
            if (SSL_CTX_add0_chain_cert(ctx, more) != 1)
                X509_free(more);
        ERR_clear_error(); /* the end of the chain reads as an error */
    }
    X509_free(leaf);
    EVP_PKEY_free(pkey);
    BIO_free(kb);
    BIO_free(cb);
    OPENSSL_cleanse(key_pem, strlen(key_pem));
    free(key_pem);
    free(chain_pem);
    return rc;
}

static int load_truststore(SSL_CTX *ctx, const sk_config *c, const char *listener, bool needed)
{
    const char *type = sk_sec_get(c, listener, NULL, "ssl.truststore.type");
    if (type && strcasecmp(type, "PEM") != 0) {
        sk_error("security", "listener %s: ssl.truststore.type %s is not supported; use PEM", listener, type);
        return -1;
    }
    char *pem = pem_text(c, listener, "ssl.truststore.certificates", "ssl.truststore.location");
    if (!pem) {
        if (needed)
            sk_error("security",
                     "listener %s: ssl.client.auth needs a truststore (ssl.truststore.location "
                     "or ssl.truststore.certificates, PEM)",
                     listener);
        return needed ? -1 : 0;
    }
    BIO *b = BIO_new_mem_buf(pem, -1);
    X509_STORE *store = SSL_CTX_get_cert_store(ctx);
    STACK_OF(X509_NAME) *names = sk_X509_NAME_new_null();
    int count = 0;
    X509 *x;
    while (b && names && (x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
        if (X509_STORE_add_cert(store, x) == 1) {
            X509_NAME *n = X509_NAME_dup(X509_get_subject_name(x));
            if (n && !sk_X509_NAME_push(names, n))
                X509_NAME_free(n);
            count++;
        }
        X509_free(x);
    }
    ERR_clear_error();
    BIO_free(b);
    free(pem);
    if (names)
        SSL_CTX_set_client_CA_list(ctx, names);
    if (count == 0) {
        sk_error("security", "listener %s: no certificate in the truststore", listener);
        return -1;
    }
    return 0;
}

/* ssl.enabled.protocols: the lowest and highest of TLSv1.2, TLSv1.3. */
static int set_protocols(SSL_CTX *ctx, const sk_config *c, const char *listener)
{
    const char *list = sk_sec_get(c, listener, NULL, "ssl.enabled.protocols");
    if (!list)
        list = "TLSv1.2,TLSv1.3";
    int lo = 0, hi = 0;
    size_t n;
    for (const char *p; (p = sk_sec_list_next(&list, &n)) != NULL;) {
        int v = n == 7 && !strncmp(p, "TLSv1.2", 7)   ? TLS1_2_VERSION
                : n == 7 && !strncmp(p, "TLSv1.3", 7) ? TLS1_3_VERSION
                                                      : 0;
        if (!v) {
            sk_error("security", "listener %s: ssl.enabled.protocols: \"%.*s\" is not TLSv1.2 or TLSv1.3", listener,
                     (int)n, p);
            return -1;
        }
        lo = lo && lo < v ? lo : v;
        hi = hi > v ? hi : v;
    }
    if (!lo) {
        sk_error("security", "listener %s: ssl.enabled.protocols is empty", listener);
        return -1;
    }
    SSL_CTX_set_min_proto_version(ctx, lo);
    SSL_CTX_set_max_proto_version(ctx, hi);
    return 0;
}

/* ssl.cipher.suites in IANA names: TLS 1.3 suites go to the ciphersuites
 * list, the others are mapped to OpenSSL's names. */
static int set_ciphers(SSL_CTX *ctx, const sk_config *c, const char *listener)
{
    const char *list = sk_sec_get(c, listener, NULL, "ssl.cipher.suites");
    if (!list || !*list)
        return 0;
    char tls12[2048] = "", tls13[512] = "";
    size_t n12 = 0, n13 = 0;
    SSL *probe = SSL_new(ctx);
    STACK_OF(SSL_CIPHER) *all = probe ? SSL_get1_supported_ciphers(probe) : NULL;
    int rc = 0;
    size_t n;
    for (const char *p; rc == 0 && (p = sk_sec_list_next(&list, &n)) != NULL;) {
        bool found = false;
        for (int i = 0; all && i < sk_SSL_CIPHER_num(all) && !found; i++) {
            const SSL_CIPHER *ci = sk_SSL_CIPHER_value(all, i);
            const char *std = SSL_CIPHER_standard_name(ci);
            if (!std || strlen(std) != n || strncmp(std, p, n))
                continue;
            found = true;
            bool v13 = strstr(std, "_WITH_") == NULL; /* TLS 1.3 suites name no key exchange */
            if (v13)
                n13 += (size_t)snprintf(tls13 + n13, sizeof tls13 - n13, "%s%s", n13 ? ":" : "", std);
            else
                n12 +=
                    (size_t)snprintf(tls12 + n12, sizeof tls12 - n12, "%s%s", n12 ? ":" : "", SSL_CIPHER_get_name(ci));
        }
        if (!found) {
            sk_error("security", "listener %s: ssl.cipher.suites: %.*s is not a suite this OpenSSL offers", listener,
                     (int)n, p);
            rc = -1;
        }
    }
    sk_SSL_CIPHER_free(all);
    SSL_free(probe);
    if (rc == 0 && ((n12 && SSL_CTX_set_cipher_list(ctx, tls12) != 1) || (SSL_CTX_set_ciphersuites(ctx, tls13) != 1))) {
        sk_error("security", "listener %s: ssl.cipher.suites rejected by OpenSSL", listener);
        rc = -1;
    }
    return rc;
}

int sk_sec_tls_setup(sk_sec_listener *l, const sk_config *c)
{
    const char *auth = sk_sec_get(c, l->name, NULL, "ssl.client.auth");
    if (!auth || !strcasecmp(auth, "none"))
        l->client_auth = SK_CLIENT_AUTH_NONE;
    else if (!strcasecmp(auth, "requested"))
        l->client_auth = SK_CLIENT_AUTH_REQUESTED;
    else if (!strcasecmp(auth, "required"))
        l->client_auth = SK_CLIENT_AUTH_REQUIRED;
    else {
        sk_error("security", "listener %s: ssl.client.auth must be none, requested or required, not \"%s\"", l->name,
                 auth);
        return -1;
    }
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx)
        return -1;
    l->ssl_ctx = ctx;
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    /* No SSL_MODE_ENABLE_PARTIAL_WRITE: libevent's writer drains whole chains per SSL_write. */
    SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
    /* Read ahead: one read() takes whatever the socket holds, up to the
     * buffer, not a 5-byte record header and then the record (clients send
     * small records: librdkafka one per 1 KiB message). The connection
     * decrypts every record held (conn_tls_drain in src/net/conn.c). */
    SSL_CTX_set_read_ahead(ctx, 1);
    SSL_CTX_set_default_read_buffer_len(ctx, SK_TLS_READ_AHEAD);
    if (load_keystore(ctx, c, l->name) < 0 || set_protocols(ctx, c, l->name) < 0 || set_ciphers(ctx, c, l->name) < 0 ||
        load_truststore(ctx, c, l->name, l->client_auth != SK_CLIENT_AUTH_NONE) < 0)
        return -1;
    /* A client resuming a session (the Java client does) on a listener that
     * verifies certificates is refused by OpenSSL unless the context is named. */
    size_t sid_len = strlen(l->name) < SSL_MAX_SID_CTX_LENGTH ? strlen(l->name) : SSL_MAX_SID_CTX_LENGTH;
    if (SSL_CTX_set_session_id_context(ctx, (const unsigned char *)l->name, (unsigned)sid_len) != 1)
        return -1;
    if (l->client_auth != SK_CLIENT_AUTH_NONE)
        SSL_CTX_set_verify(
            ctx, SSL_VERIFY_PEER | (l->client_auth == SK_CLIENT_AUTH_REQUIRED ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0),
            verify_client);
    const char *rules = sk_sec_get(c, l->name, NULL, "ssl.principal.mapping.rules");
    if (rules) {
        const char *why = sk_principal_rules_parse(rules, &l->rules, &l->nrules);
        if (why) {
            sk_error("security", "listener %s: ssl.principal.mapping.rules: %s", l->name, why);
            return -1;
        }
    }
    return 0;
}

void sk_tls_principal(const sk_sec_listener *l, struct ssl_st *ssl, char *out, size_t len)
{
    X509 *peer = SSL_get1_peer_certificate(ssl);
    if (!peer) {
        snprintf(out, len, "User:ANONYMOUS");
        return;
    }
    char dn[1024] = "";
    BIO *b = BIO_new(BIO_s_mem());
    if (b && X509_NAME_print_ex(b, X509_get_subject_name(peer), 0, XN_FLAG_RFC2253) >= 0) {
        int n = BIO_read(b, dn, sizeof dn - 1);
        dn[n > 0 ? n : 0] = '\0';
    }
    BIO_free(b);
    X509_free(peer);
    char name[512];
    if (sk_principal_map(l->rules, l->nrules, dn, name, sizeof name) < 0) {
        snprintf(out, len, "%s", "");
        return;
    }
    snprintf(out, len, "User:%s", name);
}
