/*
 * ACL APIs: DescribeAcls, CreateAcls and DeleteAcls v1-3 (KIP-140, KIP-290).
 *
 * Without an authorizer (authorizer.class.name unset) they are answered as
 * Kafka's AclApis answers them then: SECURITY_DISABLED with "No Authorizer
 * is configured on the broker" for DescribeAcls, and SECURITY_DISABLED with
 * "No Authorizer is configured." for each creation and each deletion filter.
 *
 * With one, the caller needs DESCRIBE (DescribeAcls) or ALTER (CreateAcls,
 * DeleteAcls) on the CLUSTER, else CLUSTER_AUTHORIZATION_FAILED at the top
 * level or in every result; bindings are validated as Kafka's
 * AclControlManager does (INVALID_REQUEST with its message) and kept in
 * the ACL store (skiff/acl.h), which saves them before the response.
 */
#include <stdbool.h>
#include <string.h>

#include "admin.h"
#include "authz.h"
#include "kf_msgs.h"
#include "skiff/api.h"
#include "skiff/errors.h"

#define NO_AUTHORIZER "No Authorizer is configured."

/* A request field's code mapped into Kafka's enums (UNKNOWN when outside). */
#define RES(c) sk_acl_code((c), SK_RES_USER)
#define PAT(c) sk_acl_code((c), SK_PAT_PREFIXED)
#define OP(c) sk_acl_code((c), SK_OP_DESCRIBE_TOKENS)
#define PERM(c) sk_acl_code((c), SK_PERM_ALLOW)

/* A NUL-terminated copy of `s` in the request arena; NULL for the null
 * string (a filter's "any") or when out of memory (*oom set). */
static const char *cstr(sk_request *req, kf_str s, bool *oom)
{
    if (s.len < 0)
        return NULL;
    char *c = sk_arena_alloc(&req->arena, (size_t)s.len + 1);
    if (!c) {
        *oom = true;
        return NULL;
    }
    memcpy(c, s.p, (size_t)s.len);
    c[s.len] = '\0';
    return c;
}

/* A filter from a request's fields (DescribeAcls, a DeleteAcls filter). */
static sk_acl filter_of(sk_request *req, int8_t rt, kf_str name, int8_t pt, kf_str principal, kf_str host, int8_t op,
                        int8_t perm, bool *oom)
{
    return (sk_acl){
        RES(rt), PAT(pt), OP(op), PERM(perm), cstr(req, name, oom), cstr(req, principal, oom), cstr(req, host, oom)};
}

/* `n` results of struct `desc` (the results of CreateAcls and of
 * DeleteAcls both carry error_code and error_message), each with `code`
 * and `message`; NULL when out of memory. */
static void *results_with(sk_request *req, const kf_struct_desc *desc, int32_t n, int16_t code, const char *message)
{
    uint8_t *items = sk_admin_array(req, desc, n);
    const kf_str msg = kf_str_c(message);
    for (uint16_t f = 0; items && f < desc->nfields; f++) {
        const kf_field *fd = &desc->fields[f];
        bool is_code = !strcmp(fd->name, "error_code"), is_message = !strcmp(fd->name, "error_message");
        for (int32_t i = 0; i < n && (is_code || is_message); i++) {
            uint8_t *p = items + (size_t)i * desc->size + fd->offset;
            if (is_code)
                memcpy(p, &code, sizeof code);
            else
                memcpy(p, &msg, sizeof msg);
        }
    }
    return items;
}

/* The `n` results of CreateAcls or DeleteAcls before any is tried:
 * SECURITY_DISABLED without an authorizer, CLUSTER_AUTHORIZATION_FAILED
 * without ALTER on the cluster, else NONE (*allowed tells which). */
static void *alter_results(sk_request *req, const kf_struct_desc *desc, int32_t n, bool *allowed)
{
    bool on = sk_authz_store(req) != NULL;
    *allowed = on && sk_authz_c(req, SK_OP_ALTER, SK_RES_CLUSTER, SK_ACL_CLUSTER_NAME);
    return results_with(req, desc, n,
                        !on        ? SK_ERR_SECURITY_DISABLED
                        : *allowed ? SK_ERR_NONE
                                   : SK_ERR_CLUSTER_AUTHORIZATION_FAILED,
                        !on ? NO_AUTHORIZER : NULL);
}

/* ---- DescribeAcls ------------------------------------------------------- */

typedef struct describe_ctx {
    sk_request *req;                 /* the DescribeAcls request (its arena holds the results) */
    kf_describe_acls_response *resp; /* the response being filled */
    int32_t cap;                     /* resources allocated in resp->resources */
    bool oom;                        /* the arena ran out: answer an error */
} describe_ctx;

static void describe_one(void *arg, const sk_acl *b)
{
    describe_ctx *x = arg;
    kf_describe_acls_response *resp = x->resp;
    kf_describe_acls_response_describe_acls_resource *r = NULL;
    for (int32_t i = 0; i < resp->resources.n && !r; i++) {
        kf_describe_acls_response_describe_acls_resource *c = &resp->resources.items[i];
        if (c->resource_type == b->resource_type && c->pattern_type == b->pattern_type &&
            c->resource_name.len == (int32_t)strlen(b->name) && !memcmp(c->resource_name.p, b->name, strlen(b->name)))
            r = c;
    }
    if (!r) {
        if (resp->resources.n == x->cap) {
            int32_t cap = x->cap ? x->cap * 2 : 8;
            kf_describe_acls_response_describe_acls_resource *grown =
                sk_admin_array(x->req, &kf_describe_acls_response_describe_acls_resource_desc, cap);
            if (!grown) {
                x->oom = true;
                return;
            }
            if (resp->resources.n)
                memcpy(grown, resp->resources.items, (size_t)resp->resources.n * sizeof *grown);
            resp->resources.items = grown;
            x->cap = cap;
        }
        r = &resp->resources.items[resp->resources.n++];
        r->resource_type = b->resource_type;
        r->pattern_type = b->pattern_type;
        r->resource_name = sk_admin_str(x->req, b->name);
    }
    kf_describe_acls_response_acl_description *acls =
        sk_admin_array(x->req, &kf_describe_acls_response_acl_description_desc, r->acls.n + 1);
    if (!acls) {
        x->oom = true;
        return;
    }
    if (r->acls.n)
        memcpy(acls, r->acls.items, (size_t)r->acls.n * sizeof *acls);
    kf_describe_acls_response_acl_description *a = &acls[r->acls.n];
    a->principal = sk_admin_str(x->req, b->principal);
    a->host = sk_admin_str(x->req, b->host);
    a->operation = b->operation;
    a->permission_type = b->permission;
    r->acls.items = acls;
    r->acls.n++;
}

void sk_api_describe_acls(sk_request *req)
{
    const kf_describe_acls_request *body = req->body;
    kf_describe_acls_response *resp = sk_request_response(req);
    if (!resp) {
        sk_request_close(req, "out of memory");
        return;
    }
    const struct sk_acl_store *store = sk_authz_store(req);
    if (!store) {
        resp->error_code = SK_ERR_SECURITY_DISABLED;
        resp->error_message = kf_str_c("No Authorizer is configured on the broker");
        sk_request_respond(req, resp);
        return;
    }
    if (!sk_authz_c(req, SK_OP_DESCRIBE, SK_RES_CLUSTER, SK_ACL_CLUSTER_NAME)) {
        resp->error_code = SK_ERR_CLUSTER_AUTHORIZATION_FAILED;
        sk_request_respond(req, resp);
        return;
    }
    bool oom = false;
    sk_acl f = filter_of(req, body->resource_type_filter, body->resource_name_filter, body->pattern_type_filter,
                         body->principal_filter, body->host_filter, body->operation, body->permission_type, &oom);
    const char *why = sk_acl_validate_filter(&f);
    if (why) {
        resp->error_code = SK_ERR_INVALID_REQUEST;
        resp->error_message = kf_str_c(why);
        sk_request_respond(req, resp);
        return;
    }
    describe_ctx x = {.req = req, .resp = resp, .oom = oom};
    if (!oom)
        sk_acl_store_each(store, &f, describe_one, &x);
    if (x.oom) {
        sk_request_close(req, "out of memory");
        return;
    }
    sk_request_respond(req, resp);
}

/* ---- CreateAcls --------------------------------------------------------- */

void sk_api_create_acls(sk_request *req)
{
    const kf_create_acls_request *body = req->body;
    kf_create_acls_response *resp = sk_request_response(req);
    int32_t n = body->creations.n > 0 ? body->creations.n : 0;
    struct sk_acl_store *store = sk_authz_store(req);
    bool allowed;
    kf_create_acls_response_acl_creation_result *results =
        alter_results(req, &kf_create_acls_response_acl_creation_result_desc, n, &allowed);
    sk_acl *valid = sk_arena_alloc(&req->arena, (size_t)n * sizeof *valid + 1);
    int32_t *index = sk_arena_alloc(&req->arena, (size_t)n * sizeof *index + 1);
    if (!resp || !results || !valid || !index) {
        sk_request_close(req, "out of memory");
        return;
    }
    resp->results.items = results;
    resp->results.n = n;
    if (!allowed) {
        sk_request_respond(req, resp);
        return;
    }
    size_t nvalid = 0;
    bool oom = false;
    for (int32_t i = 0; i < n; i++) {
        const kf_create_acls_request_acl_creation *c = &body->creations.items[i];
        sk_acl b = {RES(c->resource_type),    PAT(c->resource_pattern_type),     OP(c->operation),
                    PERM(c->permission_type), cstr(req, c->resource_name, &oom), cstr(req, c->principal, &oom),
                    cstr(req, c->host, &oom)};
        char buf[320];
        const char *why = sk_acl_validate(&b, buf, sizeof buf);
        if (why) {
            results[i].error_code = SK_ERR_INVALID_REQUEST;
            results[i].error_message = sk_admin_str(req, why);
            continue;
        }
        index[nvalid] = i;
        valid[nvalid++] = b;
    }
    if (oom) {
        sk_request_close(req, "out of memory");
        return;
    }
    if (nvalid && sk_acl_store_add(store, valid, nvalid) < 0) {
        for (size_t k = 0; k < nvalid; k++) {
            results[index[k]].error_code = SK_ERR_UNKNOWN_SERVER_ERROR;
            results[index[k]].error_message = kf_str_c("The ACLs could not be saved");
        }
    }
    sk_request_respond(req, resp);
}

/* ---- DeleteAcls --------------------------------------------------------- */

typedef struct delete_ctx {
    sk_request *req; /* the DeleteAcls request (its arena holds the results) */
    kf_delete_acls_response_delete_acls_filter_result *result; /* the result of the filter being applied */
    bool oom;                                                  /* the arena ran out: answer an error */
} delete_ctx;

static void deleted_one(void *arg, const sk_acl *b)
{
    delete_ctx *x = arg;
    int32_t n = x->result->matching_acls.n;
    kf_delete_acls_response_delete_acls_matching_acl *m =
        sk_admin_array(x->req, &kf_delete_acls_response_delete_acls_matching_acl_desc, n + 1);
    if (!m) {
        x->oom = true;
        return;
    }
    if (n)
        memcpy(m, x->result->matching_acls.items, (size_t)n * sizeof *m);
    m[n].resource_type = b->resource_type;
    m[n].resource_name = sk_admin_str(x->req, b->name);
    m[n].pattern_type = b->pattern_type;
    m[n].principal = sk_admin_str(x->req, b->principal);
    m[n].host = sk_admin_str(x->req, b->host);
    m[n].operation = b->operation;
    m[n].permission_type = b->permission;
    x->result->matching_acls.items = m;
    x->result->matching_acls.n = n + 1;
}

void sk_api_delete_acls(sk_request *req)
{
    const kf_delete_acls_request *body = req->body;
    kf_delete_acls_response *resp = sk_request_response(req);
    int32_t n = body->filters.n > 0 ? body->filters.n : 0;
    struct sk_acl_store *store = sk_authz_store(req);
    bool allowed;
    kf_delete_acls_response_delete_acls_filter_result *results =
        alter_results(req, &kf_delete_acls_response_delete_acls_filter_result_desc, n, &allowed);
    if (!resp || !results) {
        sk_request_close(req, "out of memory");
        return;
    }
    resp->filter_results.items = results;
    resp->filter_results.n = n;
    for (int32_t i = 0; allowed && i < n; i++) {
        const kf_delete_acls_request_delete_acls_filter *d = &body->filters.items[i];
        bool oom = false;
        sk_acl f = filter_of(req, d->resource_type_filter, d->resource_name_filter, d->pattern_type_filter,
                             d->principal_filter, d->host_filter, d->operation, d->permission_type, &oom);
        const char *why = sk_acl_validate_filter(&f);
        if (why) {
            results[i].error_code = SK_ERR_INVALID_REQUEST;
            results[i].error_message = kf_str_c(why);
            continue;
        }
        delete_ctx x = {.req = req, .result = &results[i], .oom = oom};
        if (oom || sk_acl_store_delete(store, &f, deleted_one, &x) < 0) {
            results[i].error_code = SK_ERR_UNKNOWN_SERVER_ERROR;
            results[i].error_message = kf_str_c("The ACLs could not be saved");
        } else if (x.oom) {
            sk_request_close(req, "out of memory");
            return;
        }
    }
    sk_request_respond(req, resp);
}
