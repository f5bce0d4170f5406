/*
 * Unit tests of src/security: SCRAM key derivation against RFC 7677's test
 * vector, the SCRAM server exchange driven by a client written here, the
 * PLAIN mechanism, the credential store's file, JAAS parsing, principal
 * mapping rules and base64.
 */
#include <check.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "skiff/config.h"
#include "skiff/oauth.h"
#include "skiff/sasl.h"
#include "skiff/scram.h"
#include "skiff/security.h"
#include "unit_run.h"

/* RFC 7677 section 3: SCRAM-SHA-256, user "user", password "pencil". */
#define RFC_SALT "W22ZaJ0SNY7soEsUEjb6gQ=="
#define RFC_CLIENT_FIRST_BARE "n=user,r=rOprNGfwEbeRWgbNEkqO"
#define RFC_SERVER_FIRST "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
#define RFC_FINAL_NO_PROOF "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
#define RFC_PROOF "dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
#define RFC_SERVER_SIGNATURE "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="

static sk_scram_cred cred_for(int type, const char *password, const char *salt_b64, int32_t iterations)
{
    sk_scram_cred c = {.iterations = iterations};
    int n = sk_base64_decode(salt_b64, strlen(salt_b64), c.salt, sizeof c.salt);
    ck_assert_int_gt(n, 0);
    c.salt_len = (size_t)n;
    uint8_t salted[SK_SCRAM_MAX_KEY];
    ck_assert_int_eq(sk_scram_salted_password(type, password, strlen(password), c.salt, c.salt_len, iterations, salted),
                     0);
    ck_assert_int_eq(sk_scram_keys(type, salted, sk_scram_key_len(type), &c), 0);
    return c;
}

static void expect_b64(const uint8_t *bytes, size_t len, const char *want)
{
    char text[200];
    sk_base64_encode(bytes, len, text);
    ck_assert_str_eq(text, want);
}

START_TEST(test_rfc7677_vector)
{
    sk_scram_cred c = cred_for(SK_SCRAM_TYPE_SHA_256, "pencil", RFC_SALT, 4096);
    expect_b64(c.stored_key, 32, "WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=");
    expect_b64(c.server_key, 32, "wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=");
    /* The RFC's proof and server signature follow from these keys. */
    const char *am = RFC_CLIENT_FIRST_BARE "," RFC_SERVER_FIRST "," RFC_FINAL_NO_PROOF;
    uint8_t sig[32], proof[34], client_key[32], stored[32];
    unsigned int n = 0;
    HMAC(EVP_sha256(), c.stored_key, 32, (const uint8_t *)am, strlen(am), sig, &n);
    ck_assert_int_eq(sk_base64_decode(RFC_PROOF, strlen(RFC_PROOF), proof, sizeof proof), 32);
    for (int i = 0; i < 32; i++)
        client_key[i] = proof[i] ^ sig[i];
    EVP_Digest(client_key, 32, stored, &n, EVP_sha256(), NULL);
    ck_assert_mem_eq(stored, c.stored_key, 32);
    HMAC(EVP_sha256(), c.server_key, 32, (const uint8_t *)am, strlen(am), sig, &n);
    expect_b64(sig, 32, RFC_SERVER_SIGNATURE);
    /* SCRAM-SHA-512 of the same password and salt (computed with Python's hashlib). */
    sk_scram_cred c5 = cred_for(SK_SCRAM_TYPE_SHA_512, "pencil", RFC_SALT, 4096);
    expect_b64(c5.stored_key, 64,
               "6AAub3065EYRmyFpM2RNwqK+eGnrkYuEWbXn19LsEmBqzu8QaCXNc1FwpnX9NhH2hK/60dzj9DoO5DvVkOHbvg==");
    expect_b64(c5.server_key, 64,
               "jZHbYjC1aHh0/hKbxyBuGFjDrgjgKTT1esA7awWiKcRZ0o/0b1yWEebBeSVkkCFewf91nLDfKF24mvD5nmE6rA==");
}
END_TEST

/* A SCRAM-SHA-256 client: the client-final-message for the server's first
 * message, and the server signature it must then receive. */
static void client_final(const char *first, const char *bare, const char *server_first, const char *password,
                         const char *nonce_prefix, char *final, size_t final_len, char *want_v)
{
    char copy[512];
    snprintf(copy, sizeof copy, "%s", server_first);
    const char *r = strstr(copy, "r="), *s = strstr(copy, ",s="), *i = strstr(copy, ",i=");
    ck_assert(r && s && i);
    char nonce[256], salt[256];
    snprintf(nonce, sizeof nonce, "%.*s", (int)(s - r - 2), r + 2);
    snprintf(salt, sizeof salt, "%.*s", (int)(i - s - 3), s + 3);
    sk_scram_cred c = cred_for(SK_SCRAM_TYPE_SHA_256, password, salt, atoi(i + 3));
    uint8_t salted[32], client_key[32], sig[32], proof[32];
    unsigned int n = 0;
    sk_scram_salted_password(SK_SCRAM_TYPE_SHA_256, password, strlen(password), c.salt, c.salt_len, c.iterations,
                             salted);
    HMAC(EVP_sha256(), salted, 32, (const uint8_t *)"Client Key", 10, client_key, &n);
    char without[400], am[1200];
    char gs2[64], cb[100];
    snprintf(gs2, sizeof gs2, "%.*s", (int)(strstr(first, bare) - first), first);
    sk_base64_encode((const uint8_t *)gs2, strlen(gs2), cb);
    snprintf(without, sizeof without, "c=%s,r=%s%s", cb, nonce_prefix, nonce);
    snprintf(am, sizeof am, "%s,%s,%s", bare, server_first, without);
    HMAC(EVP_sha256(), c.stored_key, 32, (const uint8_t *)am, strlen(am), sig, &n);
    for (int k = 0; k < 32; k++)
        proof[k] = client_key[k] ^ sig[k];
    char proof_b64[64];
    sk_base64_encode(proof, 32, proof_b64);
    snprintf(final, final_len, "%s,p=%s", without, proof_b64);
    HMAC(EVP_sha256(), c.server_key, 32, (const uint8_t *)am, strlen(am), sig, &n);
    strcpy(want_v, "v=");
    sk_base64_encode(sig, 32, want_v + 2);
}

/* Runs one exchange; returns the second step's result. */
static int exchange(sk_scram_store *store, const char *first, const char *password, const char *nonce_prefix, char *why)
{
    sk_scram_server *s = sk_scram_server_new(SK_SCRAM_TYPE_SHA_256, store);
    uint8_t *out;
    size_t out_len;
    int rc = sk_scram_server_step(s, (const uint8_t *)first, strlen(first), &out, &out_len, why, 128);
    if (rc != 0) {
        sk_scram_server_free(s);
        return rc;
    }
    char server_first[512], final[600], want_v[64];
    snprintf(server_first, sizeof server_first, "%.*s", (int)out_len, out);
    free(out);
    const char *bare = strstr(first, ",n=") + 1;
    client_final(first, bare, server_first, password, nonce_prefix, final, sizeof final, want_v);
    rc = sk_scram_server_step(s, (const uint8_t *) final, strlen(final), &out, &out_len, why, 128);
    if (rc == 1) {
        ck_assert_uint_eq(out_len, strlen(want_v));
        ck_assert_mem_eq(out, want_v, out_len);
        ck_assert_str_eq(sk_scram_server_user(s), "us,er=x");
    }
    free(out);
    sk_scram_server_free(s);
    return rc;
}

START_TEST(test_scram_exchange)
{
    sk_scram_store *store = sk_scram_store_open(NULL);
    ck_assert_ptr_nonnull(store);
    ck_assert_ptr_null(sk_scram_store_bootstrap(store, "SCRAM-SHA-256=[name=user,password=pencil]"));
    ck_assert_ptr_nonnull(sk_scram_store_get(store, "user", SK_SCRAM_TYPE_SHA_256));
    ck_assert_ptr_nonnull(sk_scram_store_bootstrap(store, "SCRAM-SHA-256=[name=a]"));
    sk_scram_store_free(store);

    store = sk_scram_store_open(NULL);
    sk_scram_cred c = cred_for(SK_SCRAM_TYPE_SHA_256, "pencil", RFC_SALT, 4096);
    ck_assert_int_eq(sk_scram_store_put(store, "us,er=x", SK_SCRAM_TYPE_SHA_256, &c), 0);
    char why[128];
    /* The user name is escaped on the wire (=2C ',' and =3D '='). */
    ck_assert_int_eq(exchange(store, "n,,n=us=2Cer=3Dx,r=clientnonce", "pencil", "", why), 1);
    ck_assert_int_eq(exchange(store, "n,a=us=2Cer=3Dx,n=us=2Cer=3Dx,r=abc", "pencil", "", why), 1);
    /* librdkafka 2.0 repeats the client nonce: Kafka accepts a nonce that ends with the server's. */
    ck_assert_int_eq(exchange(store, "n,,n=us=2Cer=3Dx,r=clientnonce", "pencil", "clientnonce", why), 1);
    ck_assert_int_eq(exchange(store, "n,,n=us=2Cer=3Dx,r=clientnonce", "wrong", "", why), -1);
    ck_assert_str_eq(why, "Invalid client credentials");
    ck_assert_int_eq(exchange(store, "n,,n=nobody,r=abc", "pencil", "", why), -1);
    ck_assert_str_eq(why, "unknown user");
    ck_assert_int_eq(exchange(store, "n,a=other,n=us=2Cer=3Dx,r=abc", "pencil", "", why), -1);
    ck_assert_str_eq(why, "Authentication failed: Client requested an authorization id that is different from "
                          "username");
    ck_assert_int_eq(exchange(store, "p=tls-unique,,n=us=2Cer=3Dx,r=abc", "pencil", "", why), -1);
    ck_assert_int_eq(exchange(store, "n,,n=us=2Cer=3Dx", "pencil", "", why), -1);
    ck_assert_int_eq(exchange(store, "n,,n=us=2Xer,r=abc", "pencil", "", why), -1);
    ck_assert_int_eq(exchange(store, "n,,n=us=2", "pencil", "", why), -1);
    sk_scram_store_free(store);
}
END_TEST

START_TEST(test_scram_final_message_checks)
{
    sk_scram_store *store = sk_scram_store_open(NULL);
    sk_scram_cred c = cred_for(SK_SCRAM_TYPE_SHA_256, "pencil", RFC_SALT, 4096);
    sk_scram_store_put(store, "user", SK_SCRAM_TYPE_SHA_256, &c);
    /* prefix, nonce or not, suffix */
    static const char *const finals[][3] = {
        {"", NULL, ""},
        {"c=biws", NULL, ""},
        {"c=biws,r=x,p=AAAA", NULL, ""},
        {"c=eSws,r=", "", ",p=AAAA"},
        {"r=", "", ",p=AAAA,c=biws"},
        {"c=biws,r=", "", ",p=!!!!"},
        {"c=biws,r=", "", ",p=AAAA"},
    };
    for (size_t i = 0; i < sizeof finals / sizeof finals[0]; i++) {
        sk_scram_server *s = sk_scram_server_new(SK_SCRAM_TYPE_SHA_256, store);
        uint8_t *out;
        size_t out_len;
        char why[128], nonce[128], final[256];
        const char *first = "n,,n=user,r=abc";
        ck_assert_int_eq(sk_scram_server_step(s, (const uint8_t *)first, strlen(first), &out, &out_len, why, 128), 0);
        snprintf(nonce, sizeof nonce, "%.*s", (int)(strstr((char *)out, ",s=") - (char *)out - 2), (char *)out + 2);
        free(out);
        snprintf(final, sizeof final, "%s%s%s", finals[i][0], finals[i][1] ? nonce : "", finals[i][2]);
        ck_assert_int_eq(sk_scram_server_step(s, (const uint8_t *) final, strlen(final), &out, &out_len, why, 128), -1);
        ck_assert_ptr_null(out);
        sk_scram_server_free(s);
    }
    sk_scram_store_free(store);
}
END_TEST

static sk_sec_listener plain_listener(void)
{
    static sk_plain_user users[] = {{"alice", "alice-secret"}, {"bob", "b"}};
    sk_sec_listener l = {.name = "SASL_PLAINTEXT",
                         .protocol = SK_SEC_SASL_PLAINTEXT,
                         .mechanisms = SK_SASL_PLAIN,
                         .plain_users = users,
                         .nplain_users = 2};
    return l;
}

static int plain(const sk_sec_listener *l, const char *tok, size_t len, char *msg, char *why)
{
    sk_sasl_server *s = sk_sasl_server_new(SK_SASL_PLAIN, l, NULL);
    uint8_t *out;
    size_t out_len;
    int rc = sk_sasl_server_step(s, (const uint8_t *)tok, len, &out, &out_len, msg, 200, why, 200);
    ck_assert_ptr_null(out);
    if (rc == 1)
        ck_assert_str_eq(sk_sasl_server_user(s), "alice");
    sk_sasl_server_free(s);
    return rc;
}

START_TEST(test_plain)
{
    sk_sec_listener l = plain_listener();
    char msg[200], why[200];
    ck_assert_int_eq(plain(&l, "\0alice\0alice-secret", 19, msg, why), 1);
    ck_assert_int_eq(plain(&l, "alice\0alice\0alice-secret", 24, msg, why), 1);
    ck_assert_int_eq(plain(&l, "\0alice\0alice-secreT", 19, msg, why), -1);
    ck_assert_str_eq(msg, "Authentication failed: Invalid username or password");
    ck_assert_str_eq(why, "wrong password");
    ck_assert_int_eq(plain(&l, "\0carol\0alice-secret", 19, msg, why), -1);
    ck_assert_str_eq(msg, "Authentication failed: Invalid username or password");
    ck_assert_str_eq(why, "unknown user");
    ck_assert_int_eq(plain(&l, "\0alice\0alice-secret-longer", 26, msg, why), -1);
    ck_assert_int_eq(plain(&l, "\0\0x", 3, msg, why), -1);
    ck_assert_str_eq(msg, "Authentication failed: username not specified");
    ck_assert_int_eq(plain(&l, "\0alice\0", 7, msg, why), -1);
    ck_assert_str_eq(msg, "Authentication failed: password not specified");
    ck_assert_int_eq(plain(&l, "bob\0alice\0alice-secret", 22, msg, why), -1);
    ck_assert_str_eq(msg, "Authentication failed: Client requested an authorization id that is different from "
                          "username");
    ck_assert_int_eq(plain(&l, "alice-secret", 12, msg, why), -1);
    ck_assert_str_eq(why, "Invalid SASL/PLAIN response: expected 3 tokens, got 1");
    ck_assert_str_eq(msg, "Authentication failed during authentication due to invalid credentials with SASL "
                          "mechanism PLAIN");
    ck_assert_int_eq(plain(&l, "\0a\0b\0c", 6, msg, why), -1);
    ck_assert_str_eq(why, "Invalid SASL/PLAIN response: expected 3 tokens, got 4");
}
END_TEST

START_TEST(test_store_file)
{
    char dir[] = "/tmp/skiff-test-scram-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    sk_scram_store *s = sk_scram_store_open(dir);
    ck_assert_ptr_nonnull(s);
    ck_assert_ptr_null(sk_scram_store_bootstrap(s, "SCRAM-SHA-256=[name=a b,password=p1]; "
                                                   "SCRAM-SHA-512=[name=a b,password=p2,iterations=8192]"));
    sk_scram_cred c256 = *sk_scram_store_get(s, "a b", SK_SCRAM_TYPE_SHA_256);
    ck_assert_int_eq(sk_scram_store_delete(s, "nobody", SK_SCRAM_TYPE_SHA_256), 1);
    sk_scram_store_free(s);
    char path[128], text[4096];
    snprintf(path, sizeof path, "%s/scram-credentials", dir);
    FILE *f = fopen(path, "r");
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    ck_assert(strstr(text, "p1") == NULL || strstr(text, " p1 ") == NULL);
    ck_assert(strncmp(text, "# skiff SCRAM credentials v1\nSCRAM-SHA-256 YSBi 4096 ", 53) == 0);
    ck_assert(strstr(text, "\nSCRAM-SHA-512 YSBi 8192 ") != NULL);
    /* Reopened: the same credentials; the same password again keeps the salt. */
    s = sk_scram_store_open(dir);
    const sk_scram_cred *again = sk_scram_store_get(s, "a b", SK_SCRAM_TYPE_SHA_256);
    ck_assert_ptr_nonnull(again);
    ck_assert_mem_eq(again->stored_key, c256.stored_key, 32);
    ck_assert_mem_eq(again->salt, c256.salt, c256.salt_len);
    ck_assert_ptr_null(sk_scram_store_bootstrap(s, "SCRAM-SHA-256=[name=a b,password=p1]"));
    ck_assert_mem_eq(sk_scram_store_get(s, "a b", SK_SCRAM_TYPE_SHA_256)->salt, c256.salt, c256.salt_len);
    ck_assert_int_eq(sk_scram_store_delete(s, "a b", SK_SCRAM_TYPE_SHA_256), 0);
    ck_assert_ptr_null(sk_scram_store_get(s, "a b", SK_SCRAM_TYPE_SHA_256));
    sk_scram_store_free(s);
    s = sk_scram_store_open(dir);
    ck_assert_ptr_null(sk_scram_store_get(s, "a b", SK_SCRAM_TYPE_SHA_256));
    ck_assert_ptr_nonnull(sk_scram_store_get(s, "a b", SK_SCRAM_TYPE_SHA_512));
    sk_scram_store_free(s);
    /* A damaged file is refused, not half-read. */
    f = fopen(path, "a");
    fputs("SCRAM-SHA-256 !!! 4096 x y z\n", f);
    fclose(f);
    ck_assert_ptr_null(sk_scram_store_open(dir));
    unlink(path);
    rmdir(dir);
}
END_TEST

/* kafka-storage's --add-scram syntax quotes values: salt="N3E=", password="...". */
START_TEST(test_bootstrap_quoted_values)
{
    char dir[] = "/tmp/skiff-test-scram-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    sk_scram_store *s = sk_scram_store_open(dir);
    ck_assert_ptr_nonnull(s);
    ck_assert_ptr_null(sk_scram_store_bootstrap(s, "SCRAM-SHA-256=[name=q,password=\"pw=256\",salt=\"N3E=\"];"
                                                   "SCRAM-SHA-256=[name=u,password=pw=256,salt=N3E=]"));
    const sk_scram_cred *q = sk_scram_store_get(s, "q", SK_SCRAM_TYPE_SHA_256);
    const sk_scram_cred *u = sk_scram_store_get(s, "u", SK_SCRAM_TYPE_SHA_256);
    ck_assert_ptr_nonnull(q);
    ck_assert_ptr_nonnull(u);
    ck_assert_uint_eq(q->salt_len, 2);
    ck_assert_mem_eq(q->salt, "7q", 2);
    ck_assert_mem_eq(q->stored_key, u->stored_key, 32);
    ck_assert_mem_eq(q->server_key, u->server_key, 32);
    sk_scram_store_free(s);
    char path[128];
    snprintf(path, sizeof path, "%s/scram-credentials", dir);
    unlink(path);
    rmdir(dir);
}
END_TEST

START_TEST(test_bootstrap_errors)
{
    sk_scram_store *s = sk_scram_store_open(NULL);
    ck_assert_str_eq(sk_scram_store_bootstrap(s, "SCRAM-SHA-1=[name=a,password=b]"),
                     "the mechanism must be SCRAM-SHA-256 or SCRAM-SHA-512");
    ck_assert_str_eq(sk_scram_store_bootstrap(s, "SCRAM-SHA-256=[name=a,password=b,iterations=10]"),
                     "iterations must be from 4096 to 16384");
    ck_assert_str_eq(sk_scram_store_bootstrap(s, "SCRAM-SHA-256=name=a"),
                     "expected MECHANISM=[name=NAME,password=PASSWORD]");
    ck_assert_ptr_nonnull(sk_scram_store_bootstrap(s, "SCRAM-SHA-256=[name=a,pw=b]"));
    sk_scram_store_free(s);
}
END_TEST

START_TEST(test_jaas)
{
    sk_jaas j;
    ck_assert_ptr_null(sk_jaas_parse("org.apache.kafka.common.security.plain.PlainLoginModule required\n"
                                     "  username=\"admin\" password=\"a\\\"b\" /* comment */ user_alice=alice-secret\n"
                                     "  // line comment\n  user_x=\"\";",
                                     &j));
    ck_assert_str_eq(j.module, "org.apache.kafka.common.security.plain.PlainLoginModule");
    ck_assert_uint_eq(j.noptions, 4);
    ck_assert_str_eq(j.options[0].key, "username");
    ck_assert_str_eq(j.options[0].value, "admin");
    ck_assert_str_eq(j.options[1].value, "a\"b");
    ck_assert_str_eq(j.options[2].key, "user_alice");
    ck_assert_str_eq(j.options[2].value, "alice-secret");
    ck_assert_str_eq(j.options[3].value, "");
    sk_jaas_free(&j);
    static const char *const bad[][2] = {
        {"", "expected a login module class name"},
        {"M", "expected a control flag (required, requisite, sufficient or optional) after the module"},
        {"M always a=b;", "expected a control flag (required, requisite, sufficient or optional) after the module"},
        {"M required a=b", "missing ';' at the end of the entry"},
        {"M required a b;", "expected '=' after an option name"},
        {"M required a=\"b;", "expected a value (a word or a \"quoted string\") after '='"},
        {"M required a=b; N required;", "only one login module entry is allowed (text after ';')"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_str_eq(sk_jaas_parse(bad[i][0], &j), bad[i][1]);
        sk_jaas_free(&j);
    }
    ck_assert_ptr_null(sk_jaas_parse("M Optional;", &j));
    ck_assert_uint_eq(j.noptions, 0);
    sk_jaas_free(&j);
}
END_TEST

static void expect_map(const char *rules, const char *dn, const char *want)
{
    sk_principal_rule *r;
    size_t n;
    ck_assert_ptr_null(sk_principal_rules_parse(rules, &r, &n));
    char out[256];
    int rc = sk_principal_map(r, n, dn, out, sizeof out);
    if (want) {
        ck_assert_int_eq(rc, 0);
        ck_assert_str_eq(out, want);
    } else {
        ck_assert_int_eq(rc, -1);
    }
    sk_principal_rules_free(r, n);
}

START_TEST(test_principal_rules)
{
    const char *dn = "CN=Alice Smith,OU=ServiceUsers,O=Example,C=US";
    expect_map("", dn, dn);
    expect_map("DEFAULT", dn, dn);
    expect_map("RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/", dn, "Alice Smith");
    expect_map("RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/L", dn, "alice smith");
    expect_map("RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/U", dn, "ALICE SMITH");
    expect_map("RULE:^CN=(.*?),OU=(.*?),O=(.*?),C=(.*?)$/$1@$3.$4/L", dn, "alice smith@example.us");
    expect_map("RULE:^CN=(.*?),OU=Other.*$/$1/, DEFAULT", dn, dn);
    expect_map("RULE:^CN=(.*?),OU=Other.*$/$1/", dn, NULL);
    expect_map("RULE:CN=Alice/bob/", dn, NULL); /* the whole name must match, as Java's matches() */
    expect_map("RULE:^CN=([^,]*),.*$/x\\/$1/", dn, "x/Alice Smith");
    sk_principal_rule *r;
    size_t n;
    ck_assert_str_eq(sk_principal_rules_parse("RULE:^CN=(.*$/$1/", &r, &n),
                     "a RULE's pattern is not a valid regular expression");
    ck_assert_str_eq(sk_principal_rules_parse("RULE:abc", &r, &n),
                     "a RULE needs the form RULE:pattern/replacement/[LU]");
    ck_assert_str_eq(sk_principal_rules_parse("DEFAULT,NOPE", &r, &n),
                     "each rule must be DEFAULT or RULE:pattern/replacement/[LU]");
    ck_assert_str_eq(sk_principal_rules_parse("DEFAULT DEFAULT", &r, &n), "rules must be separated by commas");
    ck_assert_str_eq(sk_principal_rules_parse("RULE:^CN=(.*+)$/$1/", &r, &n),
                     "a RULE's pattern repeats a quantifier (such as .*+); write one quantifier");
}
END_TEST

/* base64url without padding of `json` into `out`. */
static void b64url(const char *json, char *out)
{
    sk_base64_encode((const uint8_t *)json, strlen(json), out);
    for (char *p = out; *p; p++)
        *p = *p == '+' ? '-' : *p == '/' ? '_' : *p;
    char *pad = strchr(out, '=');
    if (pad)
        *pad = '\0';
}

static int validate(const sk_oauth_options *o, const char *header, const char *claims, const char *sig, char *principal,
                    const char **status, char *why)
{
    char h[512], c[512], token[1100];
    b64url(header, h);
    b64url(claims, c);
    snprintf(token, sizeof token, "%s.%s.%s", h, c, sig);
    int64_t exp = 0;
    return sk_oauth_validate(o, token, strlen(token), 1700000000000, principal, 64, &exp, status, why, 128);
}

START_TEST(test_oauth_unsecured_jws)
{
    sk_oauth_options o = {.principal_claim = "sub", .scope_claim = "scope"};
    char principal[64], why[128];
    const char *status;
    const char *alg = "{\"alg\":\"none\"}";
    ck_assert_int_eq(
        validate(&o, alg, "{\"sub\":\"alice\",\"exp\":1700000001,\"iat\":1699999000}", "", principal, &status, why), 0);
    ck_assert_str_eq(principal, "alice");
    ck_assert_int_eq(validate(&o, alg, "{\"sub\":\"alice\",\"exp\":1699999999}", "", principal, &status, why), -1);
    ck_assert_str_eq(why, "the token expired");
    ck_assert_str_eq(status, "invalid_token");
    o.clock_skew_ms = 5000;
    ck_assert_int_eq(validate(&o, alg, "{\"sub\":\"alice\",\"exp\":1699999999}", "", principal, &status, why), 0);
    o.clock_skew_ms = 0;
    ck_assert_int_eq(
        validate(&o, "{\"alg\":\"HS256\"}", "{\"sub\":\"a\",\"exp\":1800000000}", "", principal, &status, why), -1);
    ck_assert_str_eq(why, "the header's alg must be \"none\" (an unsecured JWS)");
    ck_assert_int_eq(validate(&o, alg, "{\"sub\":\"a\",\"exp\":1800000000}", "sig", principal, &status, why), -1);
    ck_assert_int_eq(validate(&o, alg, "{\"exp\":1800000000}", "", principal, &status, why), -1);
    ck_assert_str_eq(why, "no principal claim \"sub\"");
    ck_assert_int_eq(validate(&o, alg, "{\"sub\":\"a\"}", "", principal, &status, why), -1);
    ck_assert_str_eq(why, "no expiration time (exp)");
    ck_assert_int_eq(
        validate(&o, alg, "{\"sub\":\"a\",\"exp\":1800000000,\"iat\":1900000000}", "", principal, &status, why), -1);
    ck_assert_str_eq(why, "the token was issued after it expires");
    o.required_scope = "read, write";
    ck_assert_int_eq(
        validate(&o, alg, "{\"sub\":\"a\",\"exp\":1800000000,\"scope\":\"write read x\"}", "", principal, &status, why),
        0);
    ck_assert_int_eq(validate(&o, alg, "{\"sub\":\"a\",\"exp\":1800000000,\"scope\":[\"read\",\"write\"]}", "",
                              principal, &status, why),
                     0);
    ck_assert_int_eq(
        validate(&o, alg, "{\"sub\":\"a\",\"exp\":1800000000,\"scope\":\"read\"}", "", principal, &status, why), -1);
    ck_assert_str_eq(status, "insufficient_scope");
    ck_assert_str_eq(why, "the token lacks the required scope write");
    o.required_scope = NULL;
    o.principal_claim = "user";
    ck_assert_int_eq(validate(&o, alg, "{\"user\":\"bob\",\"exp\":1800000000}", "", principal, &status, why), 0);
    ck_assert_str_eq(principal, "bob");
}
END_TEST

START_TEST(test_oauth_initial_response)
{
    const char *authz, *token;
    size_t alen, tlen;
    const char m1[] = "n,,\x01"
                      "auth=Bearer abc.def.\x01\x01";
    ck_assert_ptr_null(sk_oauth_parse_initial(m1, sizeof m1 - 1, &authz, &alen, &token, &tlen));
    ck_assert_ptr_null(authz);
    ck_assert_uint_eq(tlen, 8);
    ck_assert_mem_eq(token, "abc.def.", 8);
    const char m2[] = "n,a=alice,\x01"
                      "host=h\x01"
                      "auth=bearer t.u.\x01"
                      "port=1\x01\x01";
    ck_assert_ptr_null(sk_oauth_parse_initial(m2, sizeof m2 - 1, &authz, &alen, &token, &tlen));
    ck_assert_uint_eq(alen, 5);
    ck_assert_mem_eq(authz, "alice", 5);
    ck_assert_mem_eq(token, "t.u.", 4);
    static const char *const bad[] = {
        "",
        "y,,\x01"
        "auth=Bearer t\x01\x01",
        "n,,\x01\x01",
        "n,,\x01"
        "auth=Basic t\x01\x01",
        "n,,\x01"
        "auth=Bearer t\x01",
        "n,,auth=Bearer t\x01\x01",
        "n,,\x01=x\x01\x01",
        "n,,\x01"
        "auth=Bearer t\x01\x01x",
        "n,a=x\x01"
        "auth=Bearer t\x01\x01",
        "n,,\x01"
        "au1h=x\x01\x01",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_ptr_nonnull(sk_oauth_parse_initial(bad[i], strlen(bad[i]), &authz, &alen, &token, &tlen));
}
END_TEST

/* SKIFF_* variables of the security keys (src/config/security_env.c). */
START_TEST(test_security_env_names)
{
    static const char *const cases[][2] = {
        {"SKIFF_SSL_KEYSTORE_LOCATION", "ssl.keystore.location"},
        {"SKIFF_SSL_KEYSTORE_KEY", "ssl.keystore.key"},
        {"SKIFF_SUPER_USERS", "super.users"},
        {"SKIFF_SKIFF_SCRAM_USERS", "skiff.scram.users"},
        {"SKIFF_ALLOW_EVERYONE_IF_NO_ACL_FOUND", "allow.everyone.if.no.acl.found"},
        {"SKIFF_LISTENER_NAME_SASL_SSL_SCRAM_SHA_256_SASL_JAAS_CONFIG",
         "listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config"},
        {"SKIFF_LISTENER_NAME_SASL_SSL_SASL_JAAS_CONFIG", "listener.name.sasl_ssl.sasl.jaas.config"},
        {"SKIFF_LISTENER_NAME_MTLS_SSL_CLIENT_AUTH", "listener.name.mtls.ssl.client.auth"},
        {"SKIFF_LISTENER_NAME_X_PLAIN_CONNECTIONS_MAX_REAUTH_MS", "listener.name.x.plain.connections.max.reauth.ms"},
        /* a mechanism only before a per-mechanism key: here PLAIN is part of the listener name */
        {"SKIFF_LISTENER_NAME_X_PLAIN_SSL_CLIENT_AUTH", "listener.name.x_plain.ssl.client.auth"},
        {"SKIFF_LISTENER_NAME_SSL_CLIENT_AUTH", NULL}, /* no listener */
        {"SKIFF_LISTENER_NAME_X_SUPER_USERS", NULL},   /* not a per-listener key */
        {"SKIFF_SSL_ENDPOINT_IDENTIFICATION_ALGORITHM", NULL},
        {"SKIFF_NUM_PARTITIONS", NULL},
        {"KAFKA_SSL_KEYSTORE_LOCATION", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char key[256];
        int rc = sk_security_env_key(cases[i][0], strlen(cases[i][0]), key, sizeof key);
        ck_assert_msg(cases[i][1] ? rc == 1 && !strcmp(key, cases[i][1]) : rc == 0, "%s: %d %s", cases[i][0], rc,
                      rc == 1 ? key : "");
    }
    char small[20];
    const char *v = "SKIFF_LISTENER_NAME_SASL_SSL_SASL_JAAS_CONFIG";
    ck_assert_int_eq(sk_security_env_key(v, strlen(v), small, sizeof small), -1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("security");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_rfc7677_vector);
    tcase_add_test(tc, test_scram_exchange);
    tcase_add_test(tc, test_scram_final_message_checks);
    tcase_add_test(tc, test_plain);
    tcase_add_test(tc, test_store_file);
    tcase_add_test(tc, test_bootstrap_quoted_values);
    tcase_add_test(tc, test_bootstrap_errors);
    tcase_add_test(tc, test_jaas);
    tcase_add_test(tc, test_principal_rules);
    tcase_add_test(tc, test_oauth_unsecured_jws);
    tcase_add_test(tc, test_oauth_initial_response);
    tcase_add_test(tc, test_security_env_names);
    suite_add_tcase(s, tc);
    return sk_unit_run(s);
}
