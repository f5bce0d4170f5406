/*
 * DescribeUserScramCredentials v0 and AlterUserScramCredentials v0
 * (KIP-554), with the checks and messages of Kafka's controller
 * (ScramControlManager) and broker:
 *
 * Describe: no users (null or empty) lists every user with a credential;
 * a named user without one gets RESOURCE_NOT_FOUND, a name given twice
 * DUPLICATE_RESOURCE. Only mechanisms and iteration counts are returned.
 *
 * Alter: a caller that may not ALTER the cluster gets CLUSTER_AUTHORIZATION_FAILED
 * for each user named, sorted by name (Kafka's getErrorResponse). Otherwise
 * one result per user, in request order: a user named twice (across
 * deletions and upsertions) gets DUPLICATE_RESOURCE and nothing changes; an empty name
 * UNACCEPTABLE_CREDENTIAL; a mechanism other than SCRAM-SHA-256 (1) and
 * SCRAM-SHA-512 (2) UNSUPPORTED_SASL_MECHANISM; iterations outside
 * 4096..16384 UNACCEPTABLE_CREDENTIAL; deleting a missing credential
 * RESOURCE_NOT_FOUND. Upsertions store StoredKey and ServerKey derived
 * from the salted password the client sent (never a password), persisted
 * before the answer (skiff/scram.h).
 */
#include <stdlib.h>
#include <string.h>

#include "authz.h"
#include "kf_msgs.h"
#include "skiff/api.h"
#include "skiff/errors.h"
#include "skiff/trace.h"
#include "skiff/scram.h"
#include "skiff/security.h"

typedef kf_describe_user_scram_credentials_response_description_result describe_result;
typedef kf_describe_user_scram_credentials_response_credential_info cred_info;
typedef kf_alter_user_scram_credentials_response_alter_user_scram_credentials_result alter_result;

static sk_scram_store *store_of(sk_request *req)
{
    return req->broker->security ? req->broker->security->scram : NULL;
}

/* Collects (user, infos) while walking the store. */
typedef struct describe_ctx {
    sk_request *req;        /* the DescribeUserScramCredentials request (arena) */
    const char *only;       /* one user, or NULL for all */
    describe_result *items; /* grown in the arena */
    int32_t n, cap;         /* items filled, and allocated */
    bool failed;            /* the arena ran out */
} describe_ctx;

/* A new zeroed result at the end of x->items; NULL when out of memory. */
static describe_result *push_result(describe_ctx *x, const char *user)
{
    if (x->n == x->cap) {
        int32_t cap = x->cap ? x->cap * 2 : 8;
        describe_result *grown = sk_arena_alloc(&x->req->arena, (size_t)cap * sizeof *grown);
        if (!grown)
            return NULL;
        if (x->n)
            memcpy(grown, x->items, (size_t)x->n * sizeof *grown);
        x->items = grown;
        x->cap = cap;
    }
    describe_result *r = &x->items[x->n++];
    memset(r, 0, sizeof *r);
    r->user = kf_str_c(user);
    r->error_message.len = -1;
    return r;
}

static void describe_one(const char *user, int type, const sk_scram_cred *cred, void *arg)
{
    describe_ctx *x = arg;
    if (x->failed || (x->only && strcmp(user, x->only)))
        return;
    describe_result *r = x->n ? &x->items[x->n - 1] : NULL;
    if (!r || !kf_str_eq(r->user, user)) {
        char *copy = sk_arena_strndup(&x->req->arena, user, strlen(user));
        r = copy ? push_result(x, copy) : NULL;
        if (r)
            r->credential_infos.items = sk_arena_alloc(&x->req->arena, 2 * sizeof(cred_info));
        if (!r || !r->credential_infos.items) {
            x->failed = true;
            return;
        }
    }
    if (r->credential_infos.n < 2) {
        cred_info *ci = &r->credential_infos.items[r->credential_infos.n++];
        ci->mechanism = (int8_t)type;
        ci->iterations = cred->iterations;
    }
}

static bool same_name(kf_str a, kf_str b)
{
    return a.len == b.len && (a.len <= 0 || !memcmp(a.p, b.p, (size_t)a.len));
}

void sk_api_describe_user_scram_credentials(sk_request *req)
{
    const kf_describe_user_scram_credentials_request *body = req->body;
    kf_describe_user_scram_credentials_response *resp = sk_request_response(req);
    sk_scram_store *store = store_of(req);
    if (!resp || !store) {
        sk_request_close(req, "out of memory");
        return;
    }
    describe_ctx x = {.req = req};
    if (body->users.n <= 0)
        sk_scram_store_each(store, describe_one, &x);
    for (int32_t i = 0; i < body->users.n && !x.failed; i++) {
        kf_str name = body->users.items[i].name;
        char *user = sk_arena_strndup(&req->arena, name.p ? name.p : "", name.len > 0 ? (size_t)name.len : 0);
        bool twice = false;
        for (int32_t k = 0; k < body->users.n && !twice; k++)
            twice = k != i && same_name(body->users.items[k].name, name);
        int32_t before = x.n;
        x.only = user;
        if (user && !twice)
            sk_scram_store_each(store, describe_one, &x);
        if (x.n > before || x.failed)
            continue;
        describe_result *r = user ? push_result(&x, user) : NULL;
        if (!r) {
            x.failed = true;
            break;
        }
        r->error_code = twice ? SK_ERR_DUPLICATE_RESOURCE : SK_ERR_RESOURCE_NOT_FOUND;
        r->error_message = kf_str_c(twice ? "Cannot describe SCRAM credentials for the same user twice in a "
                                            "single request"
                                          : "Attempt to describe a user credential that does not exist");
    }
    if (x.failed) {
        sk_request_close(req, "out of memory");
        return;
    }
    resp->results.items = x.items;
    resp->results.n = x.n;
    sk_request_respond(req, resp);
}

/* How often `name` occurs among the request's deletions and upsertions, and
 * whether an entry before position `pos` (deletions first, then upsertions)
 * has it. */
static int name_count(const kf_alter_user_scram_credentials_request *body, kf_str name, int32_t pos, bool *earlier)
{
    int count = 0;
    *earlier = false;
    for (int32_t i = 0; i < body->deletions.n + body->upsertions.n; i++) {
        kf_str other =
            i < body->deletions.n ? body->deletions.items[i].name : body->upsertions.items[i - body->deletions.n].name;
        if (same_name(other, name)) {
            count++;
            *earlier |= i < pos;
        }
    }
    return count;
}

/* The error of one deletion or upsertion before it is applied, or NONE;
 * `refused`: the caller may not ALTER the cluster. */
static int16_t check_alter(const kf_alter_user_scram_credentials_request *body, kf_str name, int8_t mechanism,
                           const int32_t *iterations, bool refused, const char **msg)
{
    bool earlier;
    if (refused) {
        *msg = "Cluster authorization failed.";
        return SK_ERR_CLUSTER_AUTHORIZATION_FAILED;
    }
    if (name_count(body, name, 0, &earlier) > 1) {
        *msg = "A user credential cannot be altered twice in the same request";
        return SK_ERR_DUPLICATE_RESOURCE;
    }
    if (name.len <= 0) {
        *msg = "Username must not be empty";
        return SK_ERR_UNACCEPTABLE_CREDENTIAL;
    }
    if (!sk_scram_type_name(mechanism)) {
        *msg = "Unknown SCRAM mechanism";
        return SK_ERR_UNSUPPORTED_SASL_MECHANISM;
    }
    if (iterations && *iterations < SK_SCRAM_MIN_ITERATIONS) {
        *msg = "Too few iterations";
        return SK_ERR_UNACCEPTABLE_CREDENTIAL;
    }
    if (iterations && *iterations > SK_SCRAM_MAX_ITERATIONS) {
        *msg = "Too many iterations";
        return SK_ERR_UNACCEPTABLE_CREDENTIAL;
    }
    return SK_ERR_NONE;
}

static int by_user(const void *a, const void *b)
{
    kf_str x = ((const alter_result *)a)->user, y = ((const alter_result *)b)->user;
    size_t nx = x.len > 0 ? (size_t)x.len : 0, ny = y.len > 0 ? (size_t)y.len : 0;
    int c = memcmp(x.p ? x.p : "", y.p ? y.p : "", nx < ny ? nx : ny);
    return c ? c : (nx > ny) - (nx < ny);
}

void sk_api_alter_user_scram_credentials(sk_request *req)
{
    const kf_alter_user_scram_credentials_request *body = req->body;
    kf_alter_user_scram_credentials_response *resp = sk_request_response(req);
    sk_scram_store *store = store_of(req);
    int32_t total = (body->deletions.n > 0 ? body->deletions.n : 0) + (body->upsertions.n > 0 ? body->upsertions.n : 0);
    alter_result *results = resp && total ? sk_arena_alloc(&req->arena, (size_t)total * sizeof *results) : NULL;
    if (!resp || !store || (total && !results)) {
        sk_request_close(req, "out of memory");
        return;
    }
    /* Checked here rather than by authz_rules.c: the refusal is one result per
     * user, sorted, as Kafka's AlterUserScramCredentialsRequest.getErrorResponse. */
    bool refused = !sk_authz_c(req, SK_OP_ALTER, SK_RES_CLUSTER, SK_ACL_CLUSTER_NAME);
    if (refused)
        sk_info("authz", "conn %llu: %s refused: %s may not ALTER CLUSTER", (unsigned long long)req->conn_id,
                req->api->name, sk_authz_principal(req));
    int32_t n = 0;
    for (int32_t i = 0; i < body->deletions.n; i++) {
        const kf_alter_user_scram_credentials_request_scram_credential_deletion *d = &body->deletions.items[i];
        const char *msg = NULL;
        bool earlier;
        if (name_count(body, d->name, i, &earlier) > 1 && earlier)
            continue; /* one result per user, as Kafka answers */
        int16_t err = check_alter(body, d->name, d->mechanism, NULL, refused, &msg);
        char *user =
            sk_arena_strndup(&req->arena, d->name.p ? d->name.p : "", d->name.len > 0 ? (size_t)d->name.len : 0);
        if (!user) {
            sk_request_close(req, "out of memory");
            return;
        }
        if (!err) {
            int rc = sk_scram_store_delete(store, user, d->mechanism);
            if (rc == 1) {
                err = SK_ERR_RESOURCE_NOT_FOUND;
                msg = "Attempt to delete a user credential that does not exist";
            } else if (rc < 0) {
                err = SK_ERR_UNKNOWN_SERVER_ERROR;
                msg = "The credential could not be saved";
            } else {
                sk_info("security", "SCRAM credential %s of user %s deleted", sk_scram_type_name(d->mechanism), user);
            }
        }
        results[n++] = (alter_result){kf_str_c(user), err, msg ? kf_str_c(msg) : (kf_str){NULL, -1}};
    }
    for (int32_t i = 0; i < body->upsertions.n; i++) {
        const kf_alter_user_scram_credentials_request_scram_credential_upsertion *u = &body->upsertions.items[i];
        const char *msg = NULL;
        bool earlier;
        if (name_count(body, u->name, body->deletions.n + i, &earlier) > 1 && earlier)
            continue;
        int16_t err = check_alter(body, u->name, u->mechanism, &u->iterations, refused, &msg);
        char *user =
            sk_arena_strndup(&req->arena, u->name.p ? u->name.p : "", u->name.len > 0 ? (size_t)u->name.len : 0);
        if (!user) {
            sk_request_close(req, "out of memory");
            return;
        }
        sk_scram_cred cred = {.iterations = u->iterations};
        if (!err && (u->salt.len < 0 || (size_t)u->salt.len > sizeof cred.salt || u->salted_password.len <= 0)) {
            err = SK_ERR_UNACCEPTABLE_CREDENTIAL;
            msg = "Invalid salt or salted password";
        }
        if (!err) {
            cred.salt_len = (size_t)u->salt.len;
            if (cred.salt_len)
                memcpy(cred.salt, u->salt.p, cred.salt_len);
            if (sk_scram_keys(u->mechanism, u->salted_password.p, (size_t)u->salted_password.len, &cred) < 0) {
                err = SK_ERR_UNACCEPTABLE_CREDENTIAL;
                msg = "Invalid salt or salted password";
            } else if (sk_scram_store_put(store, user, u->mechanism, &cred) < 0) {
                err = SK_ERR_UNKNOWN_SERVER_ERROR;
                msg = "The credential could not be saved";
            } else {
                sk_info("security", "SCRAM credential %s of user %s set (%d iterations)",
                        sk_scram_type_name(u->mechanism), user, u->iterations);
            }
        }
        results[n++] = (alter_result){kf_str_c(user), err, msg ? kf_str_c(msg) : (kf_str){NULL, -1}};
    }
    if (refused && n > 1)
        qsort(results, (size_t)n, sizeof *results, by_user);
    resp->results.items = results;
    resp->results.n = n;
    sk_request_respond(req, resp);
}
