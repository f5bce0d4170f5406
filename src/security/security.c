/*
 * Builds each listener's security settings from the configuration (see
 * skiff/security.h), with Kafka's lookup order for per-listener keys:
 * listener.name.<listener>.<mechanism>.<key>, listener.name.<listener>.<key>,
 * then <key>.
 */
#include <ctype.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sec_int.h"
#include "skiff/acl.h"
#include "skiff/clock.h"
#include "skiff/trace.h"
#include "skiff/sasl.h"
#include "skiff/scram.h"

/* Default of connection.failed.authentication.delay.ms, as Kafka's. */
#define FAILED_AUTH_DELAY_MS_DEFAULT 100
/* sasl.enabled.mechanisms when unset (Kafka's default, GSSAPI, is not served). */
#define MECHANISMS_DEFAULT "PLAIN,SCRAM-SHA-256,SCRAM-SHA-512"

static const struct {
    unsigned bit;     /* SK_SASL_* flag of the mechanism */
    const char *name; /* its name in sasl.enabled.mechanisms and SaslHandshake */
} mechs[] = {
    {SK_SASL_PLAIN, "PLAIN"},
    {SK_SASL_SCRAM_SHA_256, "SCRAM-SHA-256"},
    {SK_SASL_SCRAM_SHA_512, "SCRAM-SHA-512"},
    {SK_SASL_OAUTHBEARER, "OAUTHBEARER"},
};

const char *sk_sasl_mech_name(unsigned mech)
{
    for (size_t i = 0; i < sizeof mechs / sizeof mechs[0]; i++)
        if (mechs[i].bit == mech)
            return mechs[i].name;
    return "?";
}

unsigned sk_sasl_mech_parse(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof mechs / sizeof mechs[0]; i++)
        if (strlen(mechs[i].name) == len && !memcmp(mechs[i].name, name, len))
            return mechs[i].bit;
    return 0;
}

const char *sk_sec_protocol_name(sk_sec_protocol p)
{
    static const char *const names[] = {"PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"};
    return (unsigned)p < 4 ? names[p] : "?";
}

bool sk_sec_is_tls(sk_sec_protocol p)
{
    return p == SK_SEC_SSL || p == SK_SEC_SASL_SSL;
}

bool sk_sec_is_sasl(sk_sec_protocol p)
{
    return p == SK_SEC_SASL_PLAINTEXT || p == SK_SEC_SASL_SSL;
}

static void lower_into(char *dst, size_t len, const char *src)
{
    size_t i = 0;
    for (; src[i] && i + 1 < len; i++)
        dst[i] = (char)tolower((unsigned char)src[i]);
    dst[i] = '\0';
}

const char *sk_sec_get(const sk_config *c, const char *listener, const char *mech, const char *key)
{
    char name[512], l[32], m[32];
    lower_into(l, sizeof l, listener);
    const char *v = NULL;
    if (mech) {
        lower_into(m, sizeof m, mech);
        snprintf(name, sizeof name, "listener.name.%s.%s.%s", l, m, key);
        v = sk_config_security_get(c, name);
    }
    if (!v) {
        snprintf(name, sizeof name, "listener.name.%s.%s", l, key);
        v = sk_config_security_get(c, name);
    }
    return v ? v : sk_config_security_get(c, key);
}

const char *sk_sec_list_next(const char **p, size_t *len)
{
    while (**p == ' ' || **p == ',')
        (*p)++;
    *len = strcspn(*p, ", ");
    if (!*len)
        return NULL;
    const char *item = *p;
    *p += *len;
    return item;
}

void sk_auth_clear(sk_auth *a)
{
    sk_sasl_server_free(a->server);
    a->server = NULL;
}

int64_t sk_auth_now_ms(void)
{
    return sk_clock_mono_ms();
}

int64_t sk_auth_complete(sk_auth *a, const char *user, int64_t credential_expiry_ms, char *msg, size_t msg_len)
{
    char principal[sizeof a->principal];
    snprintf(principal, sizeof principal, "User:%s", user);
    if (a->reauthenticating && strcmp(principal, a->principal) != 0) {
        snprintf(msg, msg_len, "Cannot change principals during re-authentication from %s: %s", a->principal,
                 principal);
        return -1;
    }
    snprintf(a->principal, sizeof a->principal, "%s", principal);
    a->state = SK_AUTH_DONE;
    a->reauthenticating = false;
    sk_auth_clear(a);
    int64_t lifetime = a->sec && a->mechanism ? a->sec->reauth_ms[__builtin_ctz(a->mechanism)] : 0;
    if (credential_expiry_ms) {
        int64_t left = credential_expiry_ms - sk_clock_wall_ms();
        left = left > 1 ? left : 1;
        lifetime = lifetime > 0 && lifetime < left ? lifetime : left;
    }
    a->session_end_ms = lifetime > 0 ? sk_auth_now_ms() + lifetime : 0;
    sk_debug("security", "listener %s: authenticated %s with %s", a->listener, a->principal,
             sk_sasl_mech_name(a->mechanism));
    return lifetime;
}

void sk_auth_log_failure(sk_auth *a, uint64_t conn_id, const char *peer, const char *user, const char *why)
{
    sk_warn("security", "conn %llu from %s on listener %s: authentication of principal User:%s%s%s failed: %s",
            (unsigned long long)conn_id, peer, a->listener, user && *user ? user : "(none)",
            a->mechanism ? " with " : "", a->mechanism ? sk_sasl_mech_name(a->mechanism) : "", why);
    a->state = SK_AUTH_FAILED;
    sk_auth_clear(a);
}

/* An integer key, or `def` when unset; -1 (logged) when malformed. */
static int get_ms(const sk_config *c, const char *listener, const char *mech, const char *key, int64_t def,
                  int64_t *out)
{
    const char *v = sk_sec_get(c, listener, mech, key);
    if (!v) {
        *out = def;
        return 0;
    }
    char *end;
    long long n = strtoll(v, &end, 10);
    if (end == v || *end || n < 0) {
        sk_error("security", "listener %s: %s must be an integer >= 0, not \"%s\"", listener, key, v);
        return -1;
    }
    *out = n;
    return 0;
}

/* The PLAIN users of the listener's PlainLoginModule entry. */
static int load_plain_users(sk_sec_listener *l, const sk_config *c)
{
    const char *text = sk_sec_get(c, l->name, "PLAIN", "sasl.jaas.config");
    if (!text) {
        sk_warn("security",
                "listener %s: PLAIN is enabled but listener.name.%s.plain.sasl.jaas.config is not "
                "set: no PLAIN user can log in",
                l->name, l->name);
        return 0;
    }
    sk_jaas j;
    const char *why = sk_jaas_parse(text, &j);
    size_t mlen = why ? 0 : strlen(j.module), slen = strlen("PlainLoginModule");
    if (!why && (mlen < slen || strcmp(j.module + mlen - slen, "PlainLoginModule")))
        why = "PLAIN needs org.apache.kafka.common.security.plain.PlainLoginModule";
    for (size_t i = 0; !why && i < j.noptions; i++) {
        if (strncmp(j.options[i].key, "user_", 5) != 0 || !j.options[i].key[5])
            continue; /* username/password: the broker's own login, for inter-broker use */
        sk_plain_user *grown = realloc(l->plain_users, (l->nplain_users + 1) * sizeof *grown);
        if (!grown) {
            why = "out of memory";
            break;
        }
        l->plain_users = grown;
        sk_plain_user *u = &l->plain_users[l->nplain_users];
        u->name = strdup(j.options[i].key + 5);
        u->password = strdup(j.options[i].value);
        l->nplain_users++;
        if (!u->name || !u->password)
            why = "out of memory";
    }
    sk_jaas_free(&j);
    if (why) {
        sk_error("security", "listener %s: PLAIN sasl.jaas.config: %s", l->name, why);
        return -1;
    }
    return 0;
}

/* OAUTHBEARER: only Kafka's default, unsecured validator; its options. */
static int load_oauth_options(sk_sec_listener *l, const sk_config *c)
{
    if (sk_sec_get(c, l->name, "OAUTHBEARER", "sasl.server.callback.handler.class")) {
        sk_error("security",
                 "listener %s: OAUTHBEARER: sasl.server.callback.handler.class is set; skiff serves "
                 "only Kafka's default validator of unsecured tokens",
                 l->name);
        return -1;
    }
    const char *text = sk_sec_get(c, l->name, "OAUTHBEARER", "sasl.jaas.config");
    if (!text)
        return 0;
    sk_jaas j;
    const char *why = sk_jaas_parse(text, &j);
    for (size_t i = 0; !why && i < j.noptions; i++) {
        const char *k = j.options[i].key, *v = j.options[i].value;
        char **dst = !strcmp(k, "unsecuredValidatorPrincipalClaimName") ? &l->oauth_principal_claim
                     : !strcmp(k, "unsecuredValidatorScopeClaimName")   ? &l->oauth_scope_claim
                     : !strcmp(k, "unsecuredValidatorRequiredScope")    ? &l->oauth_required_scope
                                                                        : NULL;
        if (dst) {
            free(*dst);
            if (!(*dst = strdup(v)))
                why = "out of memory";
        } else if (!strcmp(k, "unsecuredValidatorAllowableClockSkewMs")) {
            char *end;
            long long ms = strtoll(v, &end, 10);
            if (*end || end == v || ms < 0)
                why = "unsecuredValidatorAllowableClockSkewMs must be an integer >= 0";
            l->oauth_clock_skew_ms = ms;
        }
    }
    sk_jaas_free(&j);
    if (why) {
        sk_error("security", "listener %s: OAUTHBEARER sasl.jaas.config: %s", l->name, why);
        return -1;
    }
    return 0;
}

static int setup_sasl(sk_sec_listener *l, const sk_config *c)
{
    const char *list = sk_sec_get(c, l->name, NULL, "sasl.enabled.mechanisms");
    if (!list)
        list = MECHANISMS_DEFAULT;
    size_t n;
    for (const char *p; (p = sk_sec_list_next(&list, &n)) != NULL;) {
        unsigned bit = sk_sasl_mech_parse(p, n);
        if (!bit) {
            sk_error("security",
                     "listener %s: sasl.enabled.mechanisms: %.*s is not served (skiff serves PLAIN, "
                     "SCRAM-SHA-256, SCRAM-SHA-512 and OAUTHBEARER)",
                     l->name, (int)n, p);
            return -1;
        }
        if (!(l->mechanisms & bit) && l->nmechanism_names < 8) {
            l->mechanisms |= bit;
            snprintf(l->mechanism_names[l->nmechanism_names++], sizeof l->mechanism_names[0], "%s",
                     sk_sasl_mech_name(bit));
        }
    }
    if (!l->mechanisms) {
        sk_error("security", "listener %s: sasl.enabled.mechanisms is empty", l->name);
        return -1;
    }
    if ((l->mechanisms & SK_SASL_PLAIN) && load_plain_users(l, c) < 0)
        return -1;
    if ((l->mechanisms & SK_SASL_OAUTHBEARER) && load_oauth_options(l, c) < 0)
        return -1;
    for (int i = 0; i < 4; i++)
        if ((l->mechanisms & (1u << i)) &&
            get_ms(c, l->name, sk_sasl_mech_name(1u << i), "connections.max.reauth.ms", 0, &l->reauth_ms[i]) < 0)
            return -1;
    return 0;
}

static int setup_listener(sk_sec_listener *l, const sk_config *c, const char *name)
{
    char proto[32];
    snprintf(l->name, sizeof l->name, "%.15s", name);
    if (sk_config_listener_protocol(c, name, proto, sizeof proto) < 0) {
        sk_error("security", "listener %s has no protocol in listener.security.protocol.map", name);
        return -1;
    }
    for (int p = SK_SEC_PLAINTEXT; p <= SK_SEC_SASL_SSL; p++)
        if (!strcasecmp(proto, sk_sec_protocol_name((sk_sec_protocol)p)))
            l->protocol = (sk_sec_protocol)p;
    if (get_ms(c, name, NULL, "connection.failed.authentication.delay.ms", FAILED_AUTH_DELAY_MS_DEFAULT,
               &l->failed_auth_delay_ms) < 0)
        return -1;
    if (sk_sec_is_tls(l->protocol) && sk_sec_tls_setup(l, c) < 0)
        return -1;
    if (sk_sec_is_sasl(l->protocol) && setup_sasl(l, c) < 0)
        return -1;
    if (l->protocol != SK_SEC_PLAINTEXT) {
        char mechs_text[128] = "";
        for (int i = 0, n = 0; i < l->nmechanism_names; i++)
            n += snprintf(mechs_text + n, sizeof mechs_text - (size_t)n, "%s%s", i ? "," : "", l->mechanism_names[i]);
        sk_info("security", "listener %s: %s%s%s%s%s", name, sk_sec_protocol_name(l->protocol),
                sk_sec_is_tls(l->protocol) ? ", ssl.client.auth=" : "",
                !sk_sec_is_tls(l->protocol)                  ? ""
                : l->client_auth == SK_CLIENT_AUTH_REQUIRED  ? "required"
                : l->client_auth == SK_CLIENT_AUTH_REQUESTED ? "requested"
                                                             : "none",
                l->mechanisms ? ", mechanisms " : "", mechs_text);
    }
    return 0;
}

/* authorizer.class.name, super.users, allow.everyone.if.no.acl.found:
 * opens the ACL store when an authorizer is named. 0, or -1 (logged). */
static int setup_authorizer(sk_security *s, const sk_config *c, const char *data_dir)
{
    const char *cls = sk_config_security_get(c, "authorizer.class.name");
    if (!cls || !*cls)
        return 0;
    if (strcmp(cls, "org.apache.kafka.metadata.authorizer.StandardAuthorizer") &&
        strcmp(cls, "kafka.security.authorizer.AclAuthorizer")) {
        sk_error("security",
                 "authorizer.class.name: %s is not served (use "
                 "org.apache.kafka.metadata.authorizer.StandardAuthorizer)",
                 cls);
        return -1;
    }
    const char *everyone = sk_config_security_get(c, "allow.everyone.if.no.acl.found");
    bool allow = false;
    if (everyone && !strcasecmp(everyone, "true"))
        allow = true;
    else if (everyone && strcasecmp(everyone, "false")) {
        sk_error("security", "allow.everyone.if.no.acl.found: \"%s\" is not true or false", everyone);
        return -1;
    }
    const char *supers = sk_config_security_get(c, "super.users");
    if (!(s->acls = sk_acl_store_open(data_dir)) || sk_acl_store_configure(s->acls, supers, allow) < 0)
        return -1;
    sk_info("security", "authorizer %s: ACLs enforced, super.users %s, allow.everyone.if.no.acl.found=%s", cls,
            supers && *supers ? supers : "(none)", allow ? "true" : "false");
    return 0;
}

sk_security *sk_security_new(const sk_config *c, const char *data_dir)
{
    sk_listener_addr addrs[SK_LISTENERS_MAX];
    int n = sk_listeners_parse(c->listeners, addrs, SK_LISTENERS_MAX, NULL);
    sk_security *s = calloc(1, sizeof *s);
    if (!s || n < 0 || !(s->listeners = calloc((size_t)(n ? n : 1), sizeof *s->listeners))) {
        sk_security_free(s);
        return NULL;
    }
    for (int i = 0; i < n; i++) {
        s->nlisteners++;
        if (setup_listener(&s->listeners[i], c, addrs[i].name) < 0) {
            sk_security_free(s);
            return NULL;
        }
    }
    s->scram = sk_scram_store_open(data_dir);
    if (!s->scram) {
        sk_security_free(s);
        return NULL;
    }
    if (setup_authorizer(s, c, data_dir) < 0) {
        sk_security_free(s);
        return NULL;
    }
    const char *users = sk_config_security_get(c, "skiff.scram.users");
    const char *why = users ? sk_scram_store_bootstrap(s->scram, users) : NULL;
    if (why) {
        sk_error("security", "skiff.scram.users: %s", why);
        sk_security_free(s);
        return NULL;
    }
    return s;
}

void sk_security_free(sk_security *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nlisteners; i++) {
        sk_sec_listener *l = &s->listeners[i];
        SSL_CTX_free(l->ssl_ctx);
        sk_principal_rules_free(l->rules, l->nrules);
        for (size_t k = 0; k < l->nplain_users; k++) {
            free(l->plain_users[k].name);
            OPENSSL_cleanse(l->plain_users[k].password, strlen(l->plain_users[k].password));
            free(l->plain_users[k].password);
        }
        free(l->plain_users);
        free(l->oauth_principal_claim);
        free(l->oauth_scope_claim);
        free(l->oauth_required_scope);
    }
    free(s->listeners);
    sk_scram_store_free(s->scram);
    sk_acl_store_free(s->acls);
    free(s);
}

const sk_sec_listener *sk_security_listener(const sk_security *s, const char *name)
{
    for (size_t i = 0; s && i < s->nlisteners; i++)
        if (!strcasecmp(s->listeners[i].name, name))
            return &s->listeners[i];
    return NULL;
}
