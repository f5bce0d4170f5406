/*
 * Internals shared by the files of src/security.
 */
#ifndef SKIFF_SEC_INT_H
#define SKIFF_SEC_INT_H

#include "skiff/config.h"
#include "skiff/security.h"

/* The value of security key `key` for `listener` (upper-case name) and,
 * when `mech` is not NULL, SASL mechanism `mech`, as Kafka resolves it:
 * listener.name.<listener>.<mech>.<key>, then listener.name.<listener>.<key>,
 * then <key> (listener and mechanism in lower case). NULL when unset. */
const char *sk_sec_get(const sk_config *c, const char *listener, const char *mech, const char *key);

/* The next item of a comma-separated list (spaces allowed around items)
 * at *p: its start, its length in *len; *p moves past it. NULL at the end. */
const char *sk_sec_list_next(const char **p, size_t *len);

/* Builds l->ssl_ctx, client_auth and the principal rules from the ssl.*
 * keys of listener l->name. Returns 0, or -1 logged. */
int sk_sec_tls_setup(sk_sec_listener *l, const sk_config *c);

#endif
