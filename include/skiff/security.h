/*
 * Security: what each listener's security protocol needs (TLS context, SASL
 * mechanisms and users, principal mapping), the per-connection
 * authentication state, and the SCRAM credential store. Configured with
 * Kafka's keys (docs/security.md): listener.security.protocol.map, ssl.*,
 * sasl.*, listener.name.<listener>.<key> overrides and
 * listener.name.<listener>.<mechanism>.sasl.jaas.config.
 *
 * One sk_sec_listener is built per configured listener name at start-up and
 * outlives every connection; a broker's accepting socket (sk_listener)
 * points at it, so several brokers or several sockets of one name share it.
 */
#ifndef SKIFF_SECURITY_H
#define SKIFF_SECURITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "skiff/config.h"

struct ssl_ctx_st;
struct ssl_st;
struct sk_scram_store;
struct sk_sasl_server;
struct sk_acl_store;

/* Kafka's SecurityProtocol. */
typedef enum sk_sec_protocol {
    SK_SEC_PLAINTEXT = 0,
    SK_SEC_SSL,
    SK_SEC_SASL_PLAINTEXT,
    SK_SEC_SASL_SSL,
} sk_sec_protocol;

/* SASL mechanisms skiff serves (bit flags of sk_sec_listener.mechanisms). */
typedef enum sk_sasl_mech {
    SK_SASL_PLAIN = 1 << 0,
    SK_SASL_SCRAM_SHA_256 = 1 << 1,
    SK_SASL_SCRAM_SHA_512 = 1 << 2,
    SK_SASL_OAUTHBEARER = 1 << 3,
} sk_sasl_mech;

/* ssl.client.auth. */
typedef enum sk_client_auth {
    SK_CLIENT_AUTH_NONE = 0,
    SK_CLIENT_AUTH_REQUESTED,
    SK_CLIENT_AUTH_REQUIRED,
} sk_client_auth;

/* One PLAIN user of a PlainLoginModule JAAS entry (user_<name>="<password>"). */
typedef struct sk_plain_user {
    char *name;     /* owned */
    char *password; /* owned */
} sk_plain_user;

/* One rule of ssl.principal.mapping.rules (Kafka's SslPrincipalMapper):
 * DEFAULT, or RULE:pattern/replacement/[LU]. */
typedef struct sk_principal_rule {
    bool is_default;   /* DEFAULT: the distinguished name as it is */
    void *regex;       /* compiled pattern (regex_t, owned); NULL for DEFAULT */
    char *replacement; /* with $1..$9 group references (owned) */
    char case_fold;    /* 'L' lower, 'U' upper, 0 none */
} sk_principal_rule;

/* Security settings of one listener name. */
typedef struct sk_sec_listener {
    char name[16];                /* listener name, upper case (e.g. SASL_SSL, CLIENT) */
    sk_sec_protocol protocol;     /* from listener.security.protocol.map */
    struct ssl_ctx_st *ssl_ctx;   /* SSL and SASL_SSL: the server context (owned), else NULL */
    sk_client_auth client_auth;   /* ssl.client.auth */
    sk_principal_rule *rules;     /* ssl.principal.mapping.rules, in order (owned) */
    size_t nrules;                /* entries in rules */
    unsigned mechanisms;          /* SASL: enabled sk_sasl_mech bits */
    char mechanism_names[8][16];  /* the enabled mechanisms in sasl.enabled.mechanisms order */
    int nmechanism_names;         /* entries in mechanism_names */
    sk_plain_user *plain_users;   /* PLAIN: users of the JAAS entry (owned) */
    size_t nplain_users;          /* entries in plain_users */
    char *oauth_principal_claim;  /* OAUTHBEARER (skiff/oauth.h): the validator's options from the
                                       OAuthBearerLoginModule entry (owned; NULL = default) */
    char *oauth_scope_claim;      /* unsecuredValidatorScopeClaimName (NULL = "scope") */
    char *oauth_required_scope;   /* unsecuredValidatorRequiredScope, or NULL */
    int64_t oauth_clock_skew_ms;  /* unsecuredValidatorAllowableClockSkewMs */
    int64_t reauth_ms[4];         /* connections.max.reauth.ms per mechanism (index: the bit's
                                       position; listener.name.<l>.<mechanism>. prefix allowed);
                                       0 = no re-authentication */
    int64_t failed_auth_delay_ms; /* connection.failed.authentication.delay.ms */
} sk_sec_listener;

/* Every listener's settings and the SCRAM credentials. */
typedef struct sk_security {
    sk_sec_listener *listeners;   /* one per listener name of `listeners` (owned) */
    size_t nlisteners;            /* entries in listeners */
    struct sk_scram_store *scram; /* SCRAM credentials (owned) */
    struct sk_acl_store *acls;    /* ACL bindings (skiff/acl.h, owned); NULL without an authorizer
                                       (authorizer.class.name unset): everything is allowed and
                                       the ACL APIs answer SECURITY_DISABLED */
} sk_security;

/* Builds the settings of every listener in c->listeners from the config,
 * loads the SCRAM credentials from `data_dir` and adds skiff.scram.users;
 * with authorizer.class.name set to Kafka's StandardAuthorizer (or the
 * older AclAuthorizer), loads the ACLs from `data_dir` and applies
 * super.users and allow.everyone.if.no.acl.found.
 * Returns a new sk_security, or NULL with an error logged naming the key
 * (a missing keystore, a malformed JAAS entry, an unknown mechanism...). */
sk_security *sk_security_new(const sk_config *c, const char *data_dir);
/* Frees everything `s` owns; NULL is fine. */
void sk_security_free(sk_security *s);
/* The settings of listener `name` (any case), or NULL. */
const sk_sec_listener *sk_security_listener(const sk_security *s, const char *name);

/* Kafka's name of a protocol ("SASL_SSL") and of a mechanism bit ("SCRAM-SHA-256"). */
const char *sk_sec_protocol_name(sk_sec_protocol p);
const char *sk_sasl_mech_name(unsigned mech);
/* The mechanism bit of Kafka's name (exact case), or 0. */
unsigned sk_sasl_mech_parse(const char *name, size_t len);
/* True when protocol `p` runs TLS / SASL. */
bool sk_sec_is_tls(sk_sec_protocol p);
bool sk_sec_is_sasl(sk_sec_protocol p);

/* ---- Per-connection authentication state -------------------------------- */

/* Where a connection is in its authentication (Kafka's SaslServerAuthenticator
 * states, simplified). */
typedef enum sk_auth_state {
    SK_AUTH_DONE = 0,     /* authenticated (or a listener without SASL) */
    SK_AUTH_HANDSHAKE,    /* SASL: only ApiVersions and SaslHandshake are served */
    SK_AUTH_AUTHENTICATE, /* after SaslHandshake v1: only SaslAuthenticate */
    SK_AUTH_RAW,          /* after SaslHandshake v0: frames are bare SASL tokens */
    SK_AUTH_FAILED,       /* refused: the connection closes */
} sk_auth_state;

/* Authentication of one connection (inside the connection; handlers reach
 * it through sk_request.auth while they run). */
typedef struct sk_auth {
    const sk_sec_listener *sec;    /* the listener's settings (borrowed) */
    const char *listener;          /* its name, for logs */
    sk_auth_state state;           /* where the connection is in authentication */
    unsigned mechanism;            /* mechanism chosen by SaslHandshake (sk_sasl_mech bit) */
    struct sk_sasl_server *server; /* the mechanism's exchange in progress (owned), or NULL */
    char principal[320];           /* "User:<name>", "User:ANONYMOUS" until known */
    int64_t session_end_ms;        /* KIP-368: CLOCK_MONOTONIC ms after which only
                                      SaslHandshake is served; 0 = never */
    bool reauthenticating;         /* SaslHandshake on an authenticated connection */
    bool supports_reauth;          /* the client used SaslAuthenticate v1+ (KIP-368) */
} sk_auth;

/* Frees the exchange in progress; the struct itself belongs to the connection. */
void sk_auth_clear(sk_auth *a);
/* CLOCK_MONOTONIC in ms (session ends). */
int64_t sk_auth_now_ms(void);
/* A SASL exchange succeeded for `user`: sets the principal "User:<user>",
 * the state SK_AUTH_DONE and the session end (KIP-368: now +
 * connections.max.reauth.ms when that is set, and not after
 * `credential_expiry_ms`, wall-clock ms, when not 0: an OAUTHBEARER
 * token's exp, as Kafka does), and frees the exchange.
 * Returns the session lifetime for SaslAuthenticate v1+ (ms, 0 = none), or
 * -1 when a re-authentication would change the principal (Kafka refuses
 * that; its message in `msg`). Logs the success at debug level. */
int64_t sk_auth_complete(sk_auth *a, const char *user, int64_t credential_expiry_ms, char *msg, size_t msg_len);
/* Logs one warning line for a refused authentication: connection, listener,
 * principal tried and the reason; marks the state SK_AUTH_FAILED. */
void sk_auth_log_failure(sk_auth *a, uint64_t conn_id, const char *peer, const char *user, const char *why);

/* ---- TLS (src/security/tls.c) ------------------------------------------- */

/* The principal of a TLS peer after the handshake: its certificate's
 * subject, as RFC 2253 text, through the listener's mapping rules, as
 * "User:<name>"; "User:ANONYMOUS" without a certificate; "" when no mapping
 * rule matches (the connection is refused then, as Kafka does). */
void sk_tls_principal(const sk_sec_listener *l, struct ssl_st *ssl, char *out, size_t len);
/* Applies the rules of `l` to distinguished name `dn` (Kafka's
 * SslPrincipalMapper): the first rule that matches wins; DEFAULT gives `dn`.
 * Writes the short name into `out`; returns 0, or -1 when no rule matches
 * (Kafka refuses the connection then). */
int sk_principal_map(const sk_principal_rule *rules, size_t n, const char *dn, char *out, size_t len);
/* Parses ssl.principal.mapping.rules into a new array (*out, *n; owned by
 * the caller, freed with sk_principal_rules_free). Returns NULL, or a static
 * reason. */
const char *sk_principal_rules_parse(const char *text, sk_principal_rule **out, size_t *n);
void sk_principal_rules_free(sk_principal_rule *rules, size_t n);

/* ---- JAAS (src/security/jaas.c) ---------------------------------------- */

/* One option of a JAAS login module entry. */
typedef struct sk_jaas_option {
    char *key;   /* owned */
    char *value; /* unquoted, owned */
} sk_jaas_option;

/* A parsed sasl.jaas.config: `module flag key=value ...;`. */
typedef struct sk_jaas {
    char *module;            /* login module class, e.g.
                              org.apache.kafka.common.security.plain.PlainLoginModule (owned) */
    sk_jaas_option *options; /* key=value options in order (owned) */
    size_t noptions;         /* entries in options */
} sk_jaas;

/* Parses one JAAS entry (Kafka's JaasConfig grammar: a module name, a
 * control flag (required, requisite, sufficient, optional), options
 * key=value with the value quoted or not, a closing ';'). Returns NULL, or
 * a static reason. `out` is freed with sk_jaas_free in both cases. */
const char *sk_jaas_parse(const char *text, sk_jaas *out);
void sk_jaas_free(sk_jaas *j);

#endif
