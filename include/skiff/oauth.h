/*
 * SASL/OAUTHBEARER for unsecured tokens (src/security/oauth.c): Kafka's
 * OAuthBearerUnsecuredValidatorCallbackHandler, for development set-ups.
 */
#ifndef SKIFF_OAUTH_H
#define SKIFF_OAUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The validator's options, from the listener's OAuthBearerLoginModule JAAS
 * entry (Kafka's option names in brackets). Strings borrowed. */
typedef struct sk_oauth_options {
    const char *principal_claim; /* unsecuredValidatorPrincipalClaimName, default "sub" */
    const char *scope_claim;     /* unsecuredValidatorScopeClaimName, default "scope" */
    const char *required_scope;  /* unsecuredValidatorRequiredScope: comma/space list; NULL = none */
    int64_t clock_skew_ms;       /* unsecuredValidatorAllowableClockSkewMs, default 0 */
} sk_oauth_options;

/* Checks an unsecured JWS `token` (`len` bytes) at wall-clock `now_ms`.
 * Returns 0 with the principal name in `principal` and the expiry (ms since
 * the epoch) in *expires_ms, or -1 (`principal` still set when the token
 * names one, for the log) with the RFC 6750 status for the error
 * challenge in *status ("invalid_token", "insufficient_scope") and the
 * reason for the log in `why`. */
int sk_oauth_validate(const sk_oauth_options *o, const char *token, size_t len, int64_t now_ms, char *principal,
                      size_t principal_len, int64_t *expires_ms, const char **status, char *why, size_t why_len);

/* Parses the client's first message (RFC 7628 section 3.1). Returns NULL
 * with the authorization id (*authzid NULL when absent) and the bearer
 * token located in `msg`, or a static reason. */
const char *sk_oauth_parse_initial(const char *msg, size_t len, const char **authzid, size_t *authzid_len,
                                   const char **token, size_t *token_len);

#endif
