/*
 * ACLs: the bindings of Kafka's authorizer (KIP-140, prefixed patterns
 * KIP-290), their filters, and the authorization decision of Kafka's
 * StandardAuthorizer (and of the older AclAuthorizer, which decides alike):
 *
 * - a super user (super.users) may do everything;
 * - the bindings that apply to a resource are the LITERAL ones of its name
 *   or of "*", and the PREFIXED ones whose name starts the resource's name;
 *   of those, the ones whose principal is the caller's or "User:*" and whose
 *   host is the caller's or "*" decide;
 * - a DENY for the operation (or ALL) refuses, whatever allows it;
 * - else an ALLOW for the operation (or ALL) allows; DESCRIBE is also
 *   allowed by READ, WRITE, DELETE and ALTER, DESCRIBE_CONFIGS by
 *   ALTER_CONFIGS;
 * - else, when no binding at all applies to the resource,
 *   allow.everyone.if.no.acl.found decides; otherwise it is refused.
 *
 * The store keeps the bindings in memory and rewrites them whole,
 * atomically, to `<data dir>/acls` on every change.
 */
#ifndef SKIFF_ACL_H
#define SKIFF_ACL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Kafka's ResourceType codes. */
enum {
    SK_RES_UNKNOWN = 0,
    SK_RES_ANY = 1,
    SK_RES_TOPIC = 2,
    SK_RES_GROUP = 3,
    SK_RES_CLUSTER = 4,
    SK_RES_TRANSACTIONAL_ID = 5,
    SK_RES_DELEGATION_TOKEN = 6,
    SK_RES_USER = 7,
};

/* Kafka's PatternType codes. */
enum {
    SK_PAT_UNKNOWN = 0,
    SK_PAT_ANY = 1,
    SK_PAT_MATCH = 2,
    SK_PAT_LITERAL = 3,
    SK_PAT_PREFIXED = 4,
};

/* Kafka's AclOperation codes. */
enum {
    SK_OP_UNKNOWN = 0,
    SK_OP_ANY = 1,
    SK_OP_ALL = 2,
    SK_OP_READ = 3,
    SK_OP_WRITE = 4,
    SK_OP_CREATE = 5,
    SK_OP_DELETE = 6,
    SK_OP_ALTER = 7,
    SK_OP_DESCRIBE = 8,
    SK_OP_CLUSTER_ACTION = 9,
    SK_OP_DESCRIBE_CONFIGS = 10,
    SK_OP_ALTER_CONFIGS = 11,
    SK_OP_IDEMPOTENT_WRITE = 12,
    SK_OP_CREATE_TOKENS = 13,
    SK_OP_DESCRIBE_TOKENS = 14,
};

/* Kafka's AclPermissionType codes. */
enum {
    SK_PERM_UNKNOWN = 0,
    SK_PERM_ANY = 1,
    SK_PERM_DENY = 2,
    SK_PERM_ALLOW = 3,
};

/* The name of the CLUSTER resource. */
#define SK_ACL_CLUSTER_NAME "kafka-cluster"

/* One ACL binding (resource pattern + access control entry), or a filter of
 * them (AclBindingFilter): in a filter a NULL string matches any value and
 * the ANY codes (and MATCH for the pattern type) match as in Kafka.
 * Codes outside Kafka's enums are read as UNKNOWN (sk_acl_code). */
typedef struct sk_acl {
    int8_t resource_type;  /* SK_RES_* (Kafka's ResourceType code) */
    int8_t pattern_type;   /* SK_PAT_* (PatternType code) */
    int8_t operation;      /* SK_OP_* (AclOperation code) */
    int8_t permission;     /* SK_PERM_* (AclPermissionType code) */
    const char *name;      /* resource name (a prefix for PREFIXED) */
    const char *principal; /* "User:alice", "User:*" */
    const char *host;      /* an IP address or "*" */
} sk_acl;

typedef struct sk_acl_store sk_acl_store;

/* A code of a request field mapped into its enum's range: `code` itself, or
 * UNKNOWN (0) when above `max` or negative, as Kafka's fromCode does. */
int8_t sk_acl_code(int8_t code, int8_t max);
/* Kafka's names of the codes ("TOPIC", "PREFIXED", "DESCRIBE_CONFIGS", "ALLOW"). */
const char *sk_acl_resource_name(int8_t code);
const char *sk_acl_pattern_name(int8_t code);
const char *sk_acl_operation_name(int8_t code);
const char *sk_acl_permission_name(int8_t code);

/* Why binding `b` cannot be created (Kafka's AclControlManager.validateNewAcl
 * and AclApis: INVALID_REQUEST with this message), or NULL when it can.
 * `buf` holds the message when one is composed. */
const char *sk_acl_validate(const sk_acl *b, char *buf, size_t len);
/* Why filter `f` cannot be used to delete or describe (an UNKNOWN code), or NULL. */
const char *sk_acl_validate_filter(const sk_acl *f);
/* True when filter `f` matches binding `b` (ResourcePatternFilter.matches and
 * AccessControlEntryFilter.matches). */
bool sk_acl_filter_matches(const sk_acl *f, const sk_acl *b);

/* Opens the store of `dir` (NULL: memory only), loading `<dir>/acls`.
 * Returns NULL with an error logged when the file cannot be read or a line
 * is malformed (start-up stops: bindings are never dropped silently). */
sk_acl_store *sk_acl_store_open(const char *dir);
void sk_acl_store_free(sk_acl_store *s);
/* Sets super.users (principals separated by ';', spaces trimmed) and
 * allow.everyone.if.no.acl.found. Returns 0, or -1 when out of memory. */
int sk_acl_store_configure(sk_acl_store *s, const char *super_users, bool allow_everyone);
/* Adds the `n` bindings (already validated; one equal to a stored one is
 * kept once) and saves. Returns 0, or -1 (nothing added) when the file
 * cannot be written or memory runs out. */
int sk_acl_store_add(sk_acl_store *s, const sk_acl *b, size_t n);
/* Removes every binding matching filter `f`, calling `fn(arg, binding)` for
 * each before it goes (the strings are valid during the call), and saves.
 * Returns the number removed, or -1 (nothing removed, `fn` not called)
 * when the file cannot be written or memory runs out. */
int sk_acl_store_delete(sk_acl_store *s, const sk_acl *f, void (*fn)(void *arg, const sk_acl *b), void *arg);
/* Calls `fn(arg, binding)` for every binding matching filter `f`, in
 * creation order. */
void sk_acl_store_each(const sk_acl_store *s, const sk_acl *f, void (*fn)(void *arg, const sk_acl *b), void *arg);
/* Number of bindings stored. */
size_t sk_acl_store_count(const sk_acl_store *s);

/* The authorizer's decision for `principal` ("User:alice") from `host`
 * (IP address) doing `operation` on resource (`resource_type`, `name`). */
bool sk_acl_authorize(const sk_acl_store *s, const char *principal, const char *host, int8_t operation,
                      int8_t resource_type, const char *name);

/* Whether `principal` from `host` may do `operation` on some resource of
 * `resource_type` (Kafka's Authorizer.authorizeByResourceType, used for
 * InitProducerId without a transactional id: WRITE on any topic): a super
 * user; else an ALLOW binding for it (or ALL) that no DENY of the same
 * name, of a prefix of it, or of "*" cancels; else, with no binding of the
 * type at all, allow.everyone.if.no.acl.found. */
bool sk_acl_authorize_any(const sk_acl_store *s, const char *principal, const char *host, int8_t operation,
                          int8_t resource_type);

#endif
