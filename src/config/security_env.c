/*
 * The security keys' SKIFF_* variables and broker DescribeConfigs entries.
 *
 * SKIFF_* variables for the security keys (docs/security.md), which are not
 * rows of the configuration table because their names are open-ended. The
 * names follow the table's rule, SKIFF_ + the key in capitals with dots and
 * dashes as underscores (SKIFF_SSL_KEYSTORE_LOCATION, SKIFF_SUPER_USERS,
 * SKIFF_SKIFF_SCRAM_USERS); a per-listener key is
 * SKIFF_LISTENER_NAME_<LISTENER>_[<MECHANISM>_]<KEY>, e.g.
 * SKIFF_LISTENER_NAME_SASL_SSL_SCRAM_SHA_256_SASL_JAAS_CONFIG for
 * listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config. A listener name
 * keeps its underscores (Kafka's listener names hold no dots or dashes) and
 * is lower-cased; the mechanism is one Kafka names. Contract in
 * skiff/config.h.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "skiff/config.h"

/* The keys skiff reads (src/security); the first group may be given per listener. */
static const char *const listener_keys[] = {
    "ssl.keystore.type",
    "ssl.keystore.location",
    "ssl.keystore.key",
    "ssl.keystore.certificate.chain",
    "ssl.key.password",
    "ssl.truststore.type",
    "ssl.truststore.location",
    "ssl.truststore.certificates",
    "ssl.client.auth",
    "ssl.enabled.protocols",
    "ssl.cipher.suites",
    "ssl.principal.mapping.rules",
    "sasl.enabled.mechanisms",
    "sasl.jaas.config",
    "sasl.server.callback.handler.class",
    "connections.max.reauth.ms",
    "connection.failed.authentication.delay.ms",
    NULL,
};
static const char *const broker_keys[] = {
    "skiff.scram.users", "authorizer.class.name", "super.users", "allow.everyone.if.no.acl.found", NULL,
};
/* Keys that may also be given per listener and mechanism. */
static const char *const mechanism_keys[] = {"sasl.jaas.config", "sasl.server.callback.handler.class",
                                             "connections.max.reauth.ms", NULL};
static const char *const mechanisms[] = {"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER", "GSSAPI", NULL};

/* True when the `len` bytes at `name` are `key` in variable form. */
static bool env_equals(const char *name, size_t len, const char *key)
{
    if (strlen(key) != len)
        return false;
    for (size_t i = 0; i < len; i++) {
        char want = key[i] == '.' || key[i] == '-' ? '_' : (char)toupper((unsigned char)key[i]);
        if (name[i] != want)
            return false;
    }
    return true;
}

/* True when the `len` bytes at `name` end with "_" + `key` in variable form
 * after at least one byte; *head is the length before that "_". */
static bool env_ends_with(const char *name, size_t len, const char *key, size_t *head)
{
    size_t n = strlen(key);
    if (len < n + 2 || name[len - n - 1] != '_' || !env_equals(name + len - n, n, key))
        return false;
    *head = len - n - 1;
    return true;
}

static bool in(const char *const *list, const char *s)
{
    for (; *list; list++)
        if (!strcmp(*list, s))
            return true;
    return false;
}

/* Writes "listener.name.<listener>.[<mechanism>.]<key>" (lower case). */
static int listener_key(const char *listener, size_t n, const char *mechanism, const char *key, char *out,
                        size_t out_len)
{
    size_t w = (size_t)snprintf(out, out_len, "listener.name.");
    for (size_t i = 0; i < n && w + 1 < out_len; i++)
        out[w++] = (char)tolower((unsigned char)listener[i]);
    int more = snprintf(out + (w < out_len ? w : out_len), w < out_len ? out_len - w : 0, ".%s%s%s",
                        mechanism ? mechanism : "", mechanism ? "." : "", key);
    if (w + 1 >= out_len || more < 0 || (size_t)more >= out_len - w)
        return -1;
    for (char *p = out + w + 1; mechanism && *p != '.'; p++)
        *p = (char)tolower((unsigned char)*p);
    return 1;
}

int sk_security_env_key(const char *name, size_t name_len, char *key, size_t key_len)
{
    static const char prefix[] = "SKIFF_", per_listener[] = "LISTENER_NAME_";
    if (name_len <= sizeof prefix - 1 || memcmp(name, prefix, sizeof prefix - 1) != 0)
        return 0;
    name += sizeof prefix - 1;
    name_len -= sizeof prefix - 1;
    const char *const *groups[] = {listener_keys, broker_keys};
    for (int g = 0; g < 2; g++)
        for (const char *const *k = groups[g]; *k; k++)
            if (env_equals(name, name_len, *k))
                return (size_t)snprintf(key, key_len, "%s", *k) < key_len ? 1 : -1;
    size_t plen = sizeof per_listener - 1;
    if (name_len <= plen || memcmp(name, per_listener, plen) != 0)
        return 0;
    name += plen;
    name_len -= plen;
    for (const char *const *k = listener_keys; *k; k++) {
        size_t head;
        if (!env_ends_with(name, name_len, *k, &head))
            continue;
        if (in(mechanism_keys, *k))
            for (const char *const *m = mechanisms; *m; m++) {
                size_t listener;
                if (env_ends_with(name, head, *m, &listener))
                    return listener_key(name, listener, *m, *k, key, key_len);
            }
        return listener_key(name, head, NULL, *k, key, key_len);
    }
    return 0;
}

/* The broker-level keys DescribeConfigs lists, with skiff's defaults and
 * Kafka's ConfigDef types (1 boolean, 2 string, 3 int, 5 long, 7 list,
 * 8 class, 9 password). */
static const sk_security_key_info broker_infos[] = {
    {"ssl.keystore.type", "PEM", 2},
    {"ssl.keystore.location", NULL, 2},
    {"ssl.keystore.key", NULL, 9},
    {"ssl.keystore.certificate.chain", NULL, 9},
    {"ssl.key.password", NULL, 9},
    {"ssl.truststore.type", "PEM", 2},
    {"ssl.truststore.location", NULL, 2},
    {"ssl.truststore.certificates", NULL, 9},
    {"ssl.client.auth", "none", 2},
    {"ssl.enabled.protocols", "TLSv1.2,TLSv1.3", 7},
    {"ssl.cipher.suites", "", 7},
    {"ssl.principal.mapping.rules", "DEFAULT", 2},
    {"sasl.enabled.mechanisms", "PLAIN,SCRAM-SHA-256,SCRAM-SHA-512", 7},
    {"sasl.jaas.config", NULL, 9},
    {"sasl.server.callback.handler.class", NULL, 8},
    {"connections.max.reauth.ms", "0", 5},
    {"connection.failed.authentication.delay.ms", "100", 3},
    {"authorizer.class.name", "", 2},
};

const sk_security_key_info *sk_security_broker_key_at(int i)
{
    return i >= 0 && (size_t)i < sizeof broker_infos / sizeof broker_infos[0] ? &broker_infos[i] : NULL;
}
