/*
 * SASL mechanisms on the server side (Kafka's PlainSaslServer,
 * ScramSaslServer, OAuthBearerSaslServer with unsecured tokens): one exchange per connection, fed the client's tokens
 * (SaslAuthenticate auth_bytes, or bare tokens after SaslHandshake v0).
 * The wire decoding of the tokens is here and is bounds-checked for
 * untrusted input (fuzzed by tests/fuzz/fuzz_sasl.c).
 */
#ifndef SKIFF_SASL_H
#define SKIFF_SASL_H

#include <stddef.h>
#include <stdint.h>

#include "skiff/scram.h"
#include "skiff/security.h"

typedef struct sk_sasl_server sk_sasl_server;

/* Starts an exchange of mechanism `mech` (one sk_sasl_mech bit) for
 * listener `l` (PLAIN users) with the SCRAM credentials in `store`
 * (borrowed; both outlive the exchange). NULL when out of memory or the
 * mechanism is unknown. */
sk_sasl_server *sk_sasl_server_new(unsigned mech, const sk_sec_listener *l, const sk_scram_store *store);
void sk_sasl_server_free(sk_sasl_server *s);

/* Feeds one client token. Returns 0 to continue (send *out), 1 when
 * authenticated (send *out, possibly empty), -1 when refused: `client_msg`
 * gets Kafka's error message for the client and `why` the reason for the
 * log. *out is malloc'd (NULL when empty), *out_len bytes. */
int sk_sasl_server_step(sk_sasl_server *s, const uint8_t *in, size_t len, uint8_t **out, size_t *out_len,
                        char *client_msg, size_t client_msg_len, char *why, size_t why_len);
/* The user name the client gave (known after its first token), or "". */
const char *sk_sasl_server_user(const sk_sasl_server *s);
/* When the credential expires, wall-clock ms since the epoch (an
 * OAUTHBEARER token's exp), or 0 when it does not. */
int64_t sk_sasl_server_expiry_ms(const sk_sasl_server *s);

#endif
