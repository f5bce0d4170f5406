/*
 * libFuzzer target for the SASL and security parsers that read untrusted or
 * configured text: the PLAIN token, both SCRAM client messages, the
 * OAUTHBEARER message and unsecured token, JAAS entries,
 * ssl.principal.mapping.rules and base64.
 *
 * The first byte picks the mode (its low 3 bits):
 * - 0: a PLAIN token against a listener with two users.
 * - 1: a SCRAM-SHA-256 client-first-message for the stored user "user"
 *      (the input), then, if accepted, the rest split at the first 0xff as
 *      a client-final-message (the server nonce is random, so proofs fail;
 *      the parsing of every attribute is what is exercised).
 * - 2: the same with a fixed valid client-first-message and the input as
 *      the client-final-message, with the server's nonce substituted for
 *      the text "NONCE" so that the proof check is reached.
 * - 3: a JAAS entry; 4: principal mapping rules, then a distinguished name
 *      after the first 0xff; 5: base64 decoding, whose output must encode
 *      to text of the input's length that decodes to the same bytes (the
 *      unused bits of the last character may differ).
 * - 6: an OAUTHBEARER client first message through the OAUTHBEARER
 *      mechanism (unsecured token validation), then \x01.
 * Seeds: tests/data/fuzz/sasl/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "skiff/sasl.h"
#include "skiff/scram.h"
#include "skiff/security.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static sk_scram_store *store;
static sk_plain_user users[] = {{"alice", "alice-secret"}, {"bob", "x"}};
static sk_sec_listener listener = {.name = "SASL_SSL",
                                   .protocol = SK_SEC_SASL_SSL,
                                   .mechanisms = SK_SASL_PLAIN | SK_SASL_OAUTHBEARER,
                                   .plain_users = users,
                                   .nplain_users = 2,
                                   .oauth_required_scope = "read"};

static char *text(const uint8_t *p, size_t n)
{
    char *s = malloc(n + 1);
    if (!s)
        abort();
    memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

static void scram(const uint8_t *first, size_t first_len, const uint8_t *final, size_t final_len, bool nonce)
{
    sk_scram_server *s = sk_scram_server_new(SK_SCRAM_TYPE_SHA_256, store);
    uint8_t *out;
    size_t out_len;
    char why[128];
    if (sk_scram_server_step(s, first, first_len, &out, &out_len, why, sizeof why) == 0) {
        uint8_t *msg = malloc(final_len + (final_len / 5 + 1) * out_len + 1); /* each NONCE may grow */
        size_t n = 0;
        const char *r = (const char *)out + 2, *end = strstr((const char *)out, ",s=");
        for (size_t i = 0; i < final_len; i++) {
            if (nonce && i + 5 <= final_len && !memcmp(final + i, "NONCE", 5) && end) {
                memcpy(msg + n, r, (size_t)(end - r));
                n += (size_t)(end - r);
                i += 4;
            } else {
                msg[n++] = final[i];
            }
        }
        free(out);
        sk_scram_server_step(s, msg, n, &out, &out_len, why, sizeof why);
        free(msg);
    }
    free(out);
    sk_scram_server_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!store) {
        store = sk_scram_store_open(NULL);
        if (sk_scram_store_bootstrap(store, "SCRAM-SHA-256=[name=user,password=pencil]"))
            abort();
    }
    if (size < 1)
        return 0;
    int mode = data[0] & 7;
    data++;
    size--;
    const uint8_t *cut = memchr(data, 0xff, size);
    size_t head = cut ? (size_t)(cut - data) : size;
    const uint8_t *tail = cut ? cut + 1 : data + size;
    size_t tail_len = cut ? size - head - 1 : 0;
    switch (mode) {
    case 0:
    case 6: {
        sk_sasl_server *s = sk_sasl_server_new(mode ? SK_SASL_OAUTHBEARER : SK_SASL_PLAIN, &listener, store);
        uint8_t *out;
        size_t out_len;
        char msg[256], why[256];
        if (sk_sasl_server_step(s, data, size, &out, &out_len, msg, sizeof msg, why, sizeof why) == 0) {
            free(out);
            sk_sasl_server_step(s, (const uint8_t *)"\x01", 1, &out, &out_len, msg, sizeof msg, why, sizeof why);
        }
        free(out);
        sk_sasl_server_free(s);
        break;
    }
    case 1:
        scram(data, head, tail, tail_len, false);
        break;
    case 2:
        scram((const uint8_t *)"n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL", 36, data, size, true);
        break;
    case 3: {
        char *t = text(data, size);
        sk_jaas j;
        sk_jaas_parse(t, &j);
        sk_jaas_free(&j);
        free(t);
        break;
    }
    case 4: {
        char *rules = text(data, head), *dn = text(tail, tail_len);
        sk_principal_rule *r;
        size_t n;
        if (!sk_principal_rules_parse(rules, &r, &n)) {
            char out[128];
            sk_principal_map(r, n, dn, out, sizeof out);
            sk_principal_rules_free(r, n);
        }
        free(rules);
        free(dn);
        break;
    }
    case 5: {
        uint8_t bytes[256];
        char back[400];
        int n = size <= 340 ? sk_base64_decode((const char *)data, size, bytes, sizeof bytes) : -1;
        if (n >= 0) {
            uint8_t again[256];
            sk_base64_encode(bytes, (size_t)n, back);
            if (strlen(back) != size || sk_base64_decode(back, size, again, sizeof again) != n ||
                memcmp(again, bytes, (size_t)n))
                abort();
        }
        break;
    }
    default:
        break;
    }
    return 0;
}
