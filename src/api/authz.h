/*
 * Authorization of requests (Kafka's AuthHelper): the connection's
 * principal and host asked of the ACL store (skiff/acl.h) when an
 * authorizer is configured; everything allowed otherwise. Internal to
 * src/api.
 */
#ifndef SKIFF_API_AUTHZ_H
#define SKIFF_API_AUTHZ_H

#include <stdbool.h>
#include <stdint.h>

#include "skiff/acl.h"
#include "skiff/api.h"

/* The ACL store when an authorizer is configured, else NULL. */
struct sk_acl_store *sk_authz_store(const sk_request *req);
/* True when the request's principal may do `op` on resource (`type`,
 * `name`); always true without an authorizer. */
bool sk_authz(sk_request *req, int8_t op, int8_t type, kf_str name);
bool sk_authz_c(sk_request *req, int8_t op, int8_t type, const char *name);
/* The authorized-operations bit set (one bit per AclOperation code) of
 * resource (`type`, `name`): the operations of `supported` the principal
 * may do (all of them without an authorizer). */
int32_t sk_authz_ops(sk_request *req, int8_t type, kf_str name, int32_t supported);
/* The request's principal ("User:ANONYMOUS" on a connection without one)
 * and the client's address without the port, into `host`. */
const char *sk_authz_principal(const sk_request *req);
void sk_authz_host(const sk_request *req, char *host, size_t len);

/* Per-request authorization state (src/api/authz_rules.c). */
typedef struct sk_authz_ctx sk_authz_ctx;
/* Applies the rules of the request's API before its handler runs (see
 * authz_rules.c) when an authorizer is configured. Returns true when the
 * request was answered (refused) and the handler must not run. */
bool sk_authz_request(sk_request *req);

#endif
