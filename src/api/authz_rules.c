/*
 * Which operation on which resource each API needs (Kafka's KafkaApis and
 * AuthHelper), applied in one place before the handler runs, when an
 * authorizer is configured (skiff/acl.h):
 *
 * - WHOLE rules name one resource per request (a group id, a transactional
 *   id, the cluster): refused, the request is answered by the schema's
 *   error response (src/proto/error_response.c) with the error where Kafka
 *   puts it, and the handler does not run.
 * - EACH rules check every element of a request array (topics, groups,
 *   transactional ids, config resources): the refused elements are taken
 *   out of the request before the handler runs and answered with the error
 *   next to the handler's answers for the others. When every element is
 *   refused the handler does not run (except for Metadata, which answers
 *   the brokers too).
 * - FILTER rules leave out of a response the elements the principal may
 *   not describe (Metadata and DescribeTopicPartitions for all topics,
 *   ListGroups, ListTransactions).
 *
 * Then the authorized-operations fields the client asked for are filled
 * with what the principal may do (Metadata, DescribeTopicPartitions,
 * DescribeCluster, DescribeGroups).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authorized_ops.h"
#include "authz.h"
#include "kf_msgs.h"
#include "skiff/errors.h"
#include "skiff/trace.h"
#include "skiff/meta.h"
#include "skiff/security.h"

enum { WHOLE, EACH, FILTER };

/* Resource types decided per request or element. */
#define T_KEY_TYPE -1 /* FindCoordinator: GROUP or TRANSACTIONAL_ID from key_type */
#define T_CONFIG -2   /* config resources: TOPIC, or the CLUSTER for brokers and broker loggers */

/* Flags. */
#define CLUSTER_GRANTS 1 /* the operation on the CLUSTER allows every element (CreateTopics, ListGroups) */
#define RUN_IF_EMPTY 2   /* run the handler even when every element is refused */
#define ALL_OR_NONE 4    /* EACH: one refused element refuses the whole request */
#define NO_ECHO 8        /* the refusal is the error alone, nothing of the request echoed */

typedef struct rule {
    int16_t api;              /* api_key */
    int16_t min_ver, max_ver; /* the versions the rule applies to */
    uint8_t kind;             /* WHOLE, EACH or FILTER */
    const char *field;        /* WHOLE: string naming the resource, NULL = the cluster; EACH: request array;
                          FILTER: response array */
    int8_t type, op;          /* resource type and operation checked (SK_RES_*, SK_OP_*) */
    int16_t error;            /* error code of a refusal (e.g. TOPIC_AUTHORIZATION_FAILED) */
    uint8_t place;            /* kf_error_place of the refusal */
    uint8_t flags;            /* CLUSTER_GRANTS, RUN_IF_EMPTY */
} rule;

#define V_ALL 0, 32767
#define TOPIC_ERR SK_ERR_TOPIC_AUTHORIZATION_FAILED
#define GROUP_ERR SK_ERR_GROUP_AUTHORIZATION_FAILED
#define CLUSTER_ERR SK_ERR_CLUSTER_AUTHORIZATION_FAILED
#define TXN_ERR SK_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED
#define DEEP KF_ERR_DEEPEST
#define SHALLOW KF_ERR_SHALLOWEST

static const rule rules[] = {
    {KF_API_PRODUCE, V_ALL, WHOLE, "transactional_id", SK_RES_TRANSACTIONAL_ID, SK_OP_WRITE, TXN_ERR, DEEP, 0},
    {KF_API_PRODUCE, V_ALL, EACH, "topic_data", SK_RES_TOPIC, SK_OP_WRITE, TOPIC_ERR, DEEP, 0},
    {KF_API_FETCH, V_ALL, EACH, "topics", SK_RES_TOPIC, SK_OP_READ, TOPIC_ERR, DEEP, 0},
    {KF_API_LIST_OFFSETS, V_ALL, EACH, "topics", SK_RES_TOPIC, SK_OP_DESCRIBE, TOPIC_ERR, DEEP, 0},
    {KF_API_METADATA, V_ALL, EACH, "topics", SK_RES_TOPIC, SK_OP_DESCRIBE, TOPIC_ERR, DEEP, RUN_IF_EMPTY},
    {KF_API_METADATA, V_ALL, FILTER, "topics", SK_RES_TOPIC, SK_OP_DESCRIBE, 0, 0, 0},
    {KF_API_OFFSET_COMMIT, V_ALL, WHOLE, "group_id", SK_RES_GROUP, SK_OP_READ, GROUP_ERR, DEEP, 0},
    {KF_API_OFFSET_COMMIT, V_ALL, EACH, "topics", SK_RES_TOPIC, SK_OP_READ, TOPIC_ERR, DEEP, 0},
    {KF_API_OFFSET_FETCH, 0, 7, WHOLE, "group_id", SK_RES_GROUP, SK_OP_DESCRIBE, GROUP_ERR, SHALLOW, 0},
    {KF_API_OFFSET_FETCH, 8, 32767, EACH, "groups", SK_RES_GROUP, SK_OP_DESCRIBE, GROUP_ERR, SHALLOW, 0},
    {KF_API_FIND_COORDINATOR, 0, 3, WHOLE, "key", T_KEY_TYPE, SK_OP_DESCRIBE, 0, SHALLOW, 0},
    {KF_API_FIND_COORDINATOR, 4, 32767, EACH, "coordinator_keys", T_KEY_TYPE, SK_OP_DESCRIBE, 0, SHALLOW, 0},
    {KF_API_JOIN_GROUP, V_ALL, WHOLE, "group_id", SK_RES_GROUP, SK_OP_READ, GROUP_ERR, SHALLOW, 0},
    {KF_API_HEARTBEAT, V_ALL, WHOLE, "group_id", SK_RES_GROUP, SK_OP_READ, GROUP_ERR, SHALLOW, 0},
    {KF_API_LEAVE_GROUP, V_ALL, WHOLE, "group_id", SK_RES_GROUP, SK_OP_READ, GROUP_ERR, SHALLOW, 0},
    {KF_API_SYNC_GROUP, V_ALL, WHOLE, "group_id", SK_RES_GROUP, SK_OP_READ, GROUP_ERR, SHALLOW, 0},
    {KF_API_DESCRIBE_GROUPS, V_ALL, EACH, "groups", SK_RES_GROUP, SK_OP_DESCRIBE, GROUP_ERR, SHALLOW, 0},
    {KF_API_LIST_GROUPS, V_ALL, FILTER, "groups", SK_RES_GROUP, SK_OP_DESCRIBE, 0, 0, CLUSTER_GRANTS},
    {KF_API_DELETE_GROUPS, V_ALL, EACH, "groups_names", SK_RES_GROUP, SK_OP_DELETE, GROUP_ERR, SHALLOW, 0},
    {KF_API_CONSUMER_GROUP_HEARTBEAT, V_ALL, WHOLE, "group_id", SK_RES_GROUP, SK_OP_READ, GROUP_ERR, SHALLOW, NO_ECHO},
    {KF_API_CONSUMER_GROUP_HEARTBEAT, V_ALL, EACH, "subscribed_topic_names", SK_RES_TOPIC, SK_OP_DESCRIBE, TOPIC_ERR,
     SHALLOW, ALL_OR_NONE | NO_ECHO},
    {KF_API_CONSUMER_GROUP_DESCRIBE, V_ALL, EACH, "group_ids", SK_RES_GROUP, SK_OP_DESCRIBE, GROUP_ERR, SHALLOW, 0},
    {KF_API_OFFSET_DELETE, V_ALL, WHOLE, "group_id", SK_RES_GROUP, SK_OP_DELETE, GROUP_ERR, SHALLOW, 0},
    {KF_API_OFFSET_DELETE, V_ALL, EACH, "topics", SK_RES_TOPIC, SK_OP_READ, TOPIC_ERR, DEEP, 0},
    {KF_API_CREATE_TOPICS, V_ALL, EACH, "topics", SK_RES_TOPIC, SK_OP_CREATE, TOPIC_ERR, SHALLOW, CLUSTER_GRANTS},
    {KF_API_DELETE_TOPICS, 0, 5, EACH, "topic_names", SK_RES_TOPIC, SK_OP_DELETE, TOPIC_ERR, SHALLOW, 0},
    {KF_API_DELETE_TOPICS, 6, 32767, EACH, "topics", SK_RES_TOPIC, SK_OP_DELETE, TOPIC_ERR, SHALLOW, 0},
    {KF_API_CREATE_PARTITIONS, V_ALL, EACH, "topics", SK_RES_TOPIC, SK_OP_ALTER, TOPIC_ERR, SHALLOW, 0},
    {KF_API_DELETE_RECORDS, V_ALL, EACH, "topics", SK_RES_TOPIC, SK_OP_DELETE, TOPIC_ERR, DEEP, 0},
    {KF_API_OFFSET_FOR_LEADER_EPOCH, V_ALL, EACH, "topics", SK_RES_TOPIC, SK_OP_DESCRIBE, TOPIC_ERR, DEEP, 0},
    {KF_API_ADD_PARTITIONS_TO_TXN, 0, 3, WHOLE, "v3_and_below_transactional_id", SK_RES_TRANSACTIONAL_ID, SK_OP_WRITE,
     TXN_ERR, DEEP, 0},
    /* v0-3's WRITE on each topic: the handler (src/api/txn.c), as one refused topic fails the transaction */
    {KF_API_ADD_PARTITIONS_TO_TXN, 4, 32767, WHOLE, NULL, SK_RES_CLUSTER, SK_OP_CLUSTER_ACTION, CLUSTER_ERR, SHALLOW,
     NO_ECHO},
    {KF_API_ADD_OFFSETS_TO_TXN, V_ALL, WHOLE, "transactional_id", SK_RES_TRANSACTIONAL_ID, SK_OP_WRITE, TXN_ERR,
     SHALLOW, 0},
    {KF_API_ADD_OFFSETS_TO_TXN, V_ALL, WHOLE, "group_id", SK_RES_GROUP, SK_OP_READ, GROUP_ERR, SHALLOW, 0},
    {KF_API_END_TXN, V_ALL, WHOLE, "transactional_id", SK_RES_TRANSACTIONAL_ID, SK_OP_WRITE, TXN_ERR, SHALLOW, 0},
    {KF_API_TXN_OFFSET_COMMIT, V_ALL, WHOLE, "transactional_id", SK_RES_TRANSACTIONAL_ID, SK_OP_WRITE, TXN_ERR, DEEP,
     0},
    {KF_API_TXN_OFFSET_COMMIT, V_ALL, WHOLE, "group_id", SK_RES_GROUP, SK_OP_READ, GROUP_ERR, DEEP, 0},
    {KF_API_TXN_OFFSET_COMMIT, V_ALL, EACH, "topics", SK_RES_TOPIC, SK_OP_READ, TOPIC_ERR, DEEP, 0},
    {KF_API_INIT_PRODUCER_ID, V_ALL, WHOLE, "transactional_id", SK_RES_TRANSACTIONAL_ID, SK_OP_WRITE, TXN_ERR, SHALLOW,
     0},
    {KF_API_DESCRIBE_PRODUCERS, V_ALL, EACH, "topics", SK_RES_TOPIC, SK_OP_READ, TOPIC_ERR, DEEP, 0},
    {KF_API_DESCRIBE_TRANSACTIONS, V_ALL, EACH, "transactional_ids", SK_RES_TRANSACTIONAL_ID, SK_OP_DESCRIBE, TXN_ERR,
     SHALLOW, 0},
    {KF_API_LIST_TRANSACTIONS, V_ALL, FILTER, "transaction_states", SK_RES_TRANSACTIONAL_ID, SK_OP_DESCRIBE, 0, 0, 0},
    {KF_API_DESCRIBE_CONFIGS, V_ALL, EACH, "resources", T_CONFIG, SK_OP_DESCRIBE_CONFIGS, 0, SHALLOW, 0},
    {KF_API_ALTER_CONFIGS, V_ALL, EACH, "resources", T_CONFIG, SK_OP_ALTER_CONFIGS, 0, SHALLOW, 0},
    {KF_API_INCREMENTAL_ALTER_CONFIGS, V_ALL, EACH, "resources", T_CONFIG, SK_OP_ALTER_CONFIGS, 0, SHALLOW, 0},
    {KF_API_DESCRIBE_LOG_DIRS, V_ALL, WHOLE, NULL, SK_RES_CLUSTER, SK_OP_DESCRIBE, CLUSTER_ERR, SHALLOW, 0},
    {KF_API_ELECT_LEADERS, V_ALL, WHOLE, NULL, SK_RES_CLUSTER, SK_OP_ALTER, CLUSTER_ERR, DEEP, 0},
    {KF_API_ALTER_PARTITION_REASSIGNMENTS, V_ALL, WHOLE, NULL, SK_RES_CLUSTER, SK_OP_ALTER, CLUSTER_ERR, DEEP, 0},
    {KF_API_LIST_PARTITION_REASSIGNMENTS, V_ALL, WHOLE, NULL, SK_RES_CLUSTER, SK_OP_DESCRIBE, CLUSTER_ERR, SHALLOW, 0},
    {KF_API_DESCRIBE_USER_SCRAM_CREDENTIALS, V_ALL, WHOLE, NULL, SK_RES_CLUSTER, SK_OP_DESCRIBE, CLUSTER_ERR, SHALLOW,
     0},
    {KF_API_DESCRIBE_TOPIC_PARTITIONS, V_ALL, EACH, "topics", SK_RES_TOPIC, SK_OP_DESCRIBE, TOPIC_ERR, SHALLOW, 0},
    {KF_API_DESCRIBE_TOPIC_PARTITIONS, V_ALL, FILTER, "topics", SK_RES_TOPIC, SK_OP_DESCRIBE, 0, 0, 0},
};

/* Error responses for refused elements, merged into the handler's response. */
#define MAX_MERGES 4

struct sk_authz_ctx {
    char principal[320];     /* "User:<name>" of the connection */
    char host[64];           /* the client's IP address */
    void *merge[MAX_MERGES]; /* responses whose echoed top-level arrays are appended */
    int nmerge;              /* entries in merge */
};

/* The field `name` of `desc` present at `version`, or NULL. */
static const kf_field *field_at(const kf_struct_desc *desc, const char *name, int16_t version)
{
    for (uint16_t i = 0; desc && i < desc->nfields; i++) {
        const kf_field *f = &desc->fields[i];
        if (!strcmp(f->name, name) && version >= f->ver_min && version <= f->ver_max)
            return f;
    }
    return NULL;
}

typedef struct arr {
    void *items; /* elements (the generated array's layout, kf_array) */
    int32_t n;   /* element count, -1 = null */
} arr;

/* The names that carry a resource's name in request and response elements. */
static const char *const key_names[] = {"name",          "topic",      "group_id", "transactional_id",
                                        "resource_name", "topic_name", "key",      NULL};

/* The resource name of element `e` (a struct of `desc`, or a kf_str when
 * desc is NULL) into `out`; false when it has none that can be checked (an
 * unknown topic id: the handler answers it). */
static bool elem_name(sk_request *req, const kf_struct_desc *desc, const void *e, char *out, size_t len)
{
    int16_t v = req->hdr.api_version;
    kf_str s = {NULL, -1};
    if (!desc) {
        s = *(const kf_str *)e;
    } else {
        for (const char *const *k = key_names; *k && s.len <= 0; k++) {
            const kf_field *f = field_at(desc, *k, v);
            if (f && f->type == KF_STRING)
                s = *(const kf_str *)((const char *)e + f->offset);
        }
        const kf_field *id = field_at(desc, "topic_id", v);
        if (s.len <= 0 && id) {
            const sk_topic *t =
                sk_meta_topic_by_id(req->broker->meta, ((const kf_uuid *)((const char *)e + id->offset))->b);
            if (!t)
                return false;
            snprintf(out, len, "%s", t->name);
            return true;
        }
    }
    if (s.len < 0 || (size_t)s.len >= len)
        return false;
    memcpy(out, s.p, (size_t)s.len);
    out[s.len] = '\0';
    return true;
}

static bool allowed(sk_request *req, int8_t op, int8_t type, const char *name)
{
    const sk_authz_ctx *x = req->authz;
    return sk_acl_authorize(sk_authz_store(req), x->principal, x->host, op, type, name);
}

/* The resource type and error of rule `r` for element `e` (config
 * resources and FindCoordinator keys decide it per element); false when
 * the element is not checked (another config resource type). */
static bool type_of(sk_request *req, const rule *r, const kf_struct_desc *desc, const void *e, int8_t *type,
                    int16_t *error)
{
    *type = r->type;
    *error = r->error;
    if (r->type == T_KEY_TYPE) {
        bool txn = ((const kf_find_coordinator_request *)req->body)->key_type == 1;
        *type = txn ? SK_RES_TRANSACTIONAL_ID : SK_RES_GROUP;
        *error = txn ? TXN_ERR : GROUP_ERR;
    } else if (r->type == T_CONFIG) {
        const kf_field *f = field_at(desc, "resource_type", req->hdr.api_version);
        int8_t rt = f ? *((const int8_t *)e + f->offset) : 0;
        if (rt == 2)
            *type = SK_RES_TOPIC, *error = TOPIC_ERR;
        else if (rt == 4 || rt == 8)
            *type = SK_RES_CLUSTER, *error = CLUSTER_ERR;
        else if (rt == 32) /* KIP-848 group configs */
            *type = SK_RES_GROUP, *error = GROUP_ERR;
        else
            return false;
    }
    return true;
}

/* Answers the request with `error` alone; `echo`: the response echoes the
 * request's elements with the error where Kafka puts it (`place`). */
static void respond_whole(sk_request *req, int16_t error, uint8_t place, bool echo)
{
    if (req->hdr.api_key == KF_API_PRODUCE && ((const kf_produce_request *)req->body)->acks == 0) {
        sk_request_close(req, "acks=0 produce refused by the authorizer"); /* as Kafka does */
        return;
    }
    void *resp = kf_error_response(req->api, req->hdr.api_version, echo ? req->body : NULL, error, place, &req->arena);
    if (!resp)
        sk_request_close(req, "out of memory");
    else
        sk_request_respond(req, resp);
}

/* A WHOLE rule: true when the request was refused (and answered). */
static bool check_whole(sk_request *req, const rule *r)
{
    const char *name = SK_ACL_CLUSTER_NAME;
    char buf[512];
    int8_t type;
    int16_t error;
    type_of(req, r, NULL, NULL, &type, &error);
    if (r->field) {
        const kf_field *f = field_at(req->api->request, r->field, req->hdr.api_version);
        if (!f || !elem_name(req, NULL, (const char *)req->body + f->offset, buf, sizeof buf))
            return false; /* absent or null: nothing to check (e.g. Produce without a transactional id) */
        name = buf;
    }
    if (allowed(req, r->op, type, name))
        return false;
    sk_info("authz", "conn %llu: %s refused: %s may not %s %s %s", (unsigned long long)req->conn_id, req->api->name,
            req->authz->principal, sk_acl_operation_name(r->op), sk_acl_resource_name(type), name);
    respond_whole(req, error, r->place, !(r->flags & NO_ECHO));
    return true;
}

/* An EACH rule: refused elements leave the request; their answers are kept
 * for the response. Returns true when the request was answered (every
 * element refused). */
static bool check_each(sk_request *req, const rule *r)
{
    int16_t v = req->hdr.api_version;
    const kf_field *f = field_at(req->api->request, r->field, v);
    if (!f || f->type != KF_ARRAY)
        return false;
    arr *a = (arr *)((char *)req->body + f->offset);
    if (a->n <= 0)
        return false;
    if ((r->flags & CLUSTER_GRANTS) && allowed(req, r->op, SK_RES_CLUSTER, SK_ACL_CLUSTER_NAME))
        return false;
    const kf_struct_desc *desc = f->elem == KF_STRUCT ? f->child : NULL;
    size_t size = desc ? desc->size : sizeof(kf_str);
    /* kept, then up to two groups of refused elements (one per error code) */
    char *kept = sk_arena_alloc(&req->arena, (size_t)a->n * size + 1);
    char *refused[2] = {sk_arena_alloc(&req->arena, (size_t)a->n * size + 1),
                        sk_arena_alloc(&req->arena, (size_t)a->n * size + 1)};
    int16_t errors[2] = {0, 0};
    int32_t nkept = 0, nref[2] = {0, 0};
    if (!kept || !refused[0] || !refused[1])
        return false;
    for (int32_t i = 0; i < a->n; i++) {
        const char *e = (const char *)a->items + (size_t)i * size;
        char name[512];
        int8_t type;
        int16_t error;
        int g = -1;
        if (type_of(req, r, desc, e, &type, &error) && elem_name(req, desc, e, name, sizeof name) &&
            !allowed(req, r->op, type, type == SK_RES_CLUSTER ? SK_ACL_CLUSTER_NAME : name)) {
            g = errors[0] == 0 || errors[0] == error ? 0 : 1;
            errors[g] = error;
            sk_info("authz", "conn %llu: %s: %s may not %s %s %s", (unsigned long long)req->conn_id, req->api->name,
                    req->authz->principal, sk_acl_operation_name(r->op), sk_acl_resource_name(type), name);
            if (r->flags & ALL_OR_NONE) {
                respond_whole(req, error, r->place, !(r->flags & NO_ECHO));
                return true;
            }
        }
        if (g < 0)
            memcpy(kept + (size_t)nkept++ * size, e, size);
        else
            memcpy(refused[g] + (size_t)nref[g]++ * size, e, size);
    }
    if (!nref[0])
        return false;
    if (!nkept && !nref[1] && !(r->flags & RUN_IF_EMPTY)) {
        respond_whole(req, errors[0], r->place, true);
        return true;
    }
    if (req->hdr.api_key == KF_API_PRODUCE && ((const kf_produce_request *)req->body)->acks == 0) {
        sk_request_close(req, "acks=0 produce refused by the authorizer");
        return true;
    }
    size_t body_size = req->api->request->size;
    for (int g = 0; g < 2 && nref[g]; g++) {
        char *copy = sk_arena_alloc(&req->arena, body_size);
        if (!copy || req->authz->nmerge == MAX_MERGES)
            return false;
        memcpy(copy, req->body, body_size);
        ((arr *)(copy + f->offset))->items = refused[g];
        ((arr *)(copy + f->offset))->n = nref[g];
        void *resp = kf_error_response(req->api, v, copy, errors[g], r->place, &req->arena);
        if (!resp)
            return false;
        req->authz->merge[req->authz->nmerge++] = resp;
    }
    a->items = kept;
    a->n = nkept;
    return false;
}

/* Appends the echoed top-level arrays of `extra` to those of `resp`. */
static void merge(sk_request *req, void *resp, const void *extra)
{
    const kf_struct_desc *d = req->api->response;
    for (uint16_t i = 0; i < d->nfields; i++) {
        const kf_field *f = &d->fields[i];
        if (f->type != KF_ARRAY)
            continue;
        const arr *b = (const arr *)((const char *)extra + f->offset);
        arr *a = (arr *)((char *)resp + f->offset);
        if (b->n <= 0)
            continue;
        size_t size = f->elem == KF_STRUCT ? f->child->size : sizeof(kf_str);
        int32_t n = a->n > 0 ? a->n : 0;
        char *items = sk_arena_alloc(&req->arena, (size_t)(n + b->n) * size);
        if (!items)
            continue;
        if (n)
            memcpy(items, a->items, (size_t)n * size);
        memcpy(items + (size_t)n * size, b->items, (size_t)b->n * size);
        a->items = items;
        a->n = n + b->n;
    }
}

/* A FILTER rule: leaves out the response elements the principal may not see. */
static void filter(sk_request *req, const rule *r, void *resp)
{
    const kf_field *f = field_at(req->api->response, r->field, req->hdr.api_version);
    if (!f || f->type != KF_ARRAY || f->elem != KF_STRUCT)
        return;
    if ((r->flags & CLUSTER_GRANTS) && allowed(req, r->op, SK_RES_CLUSTER, SK_ACL_CLUSTER_NAME))
        return;
    arr *a = (arr *)((char *)resp + f->offset);
    size_t size = f->child->size;
    int32_t w = 0;
    for (int32_t i = 0; i < a->n; i++) {
        char *e = (char *)a->items + (size_t)i * size;
        char name[512];
        if (elem_name(req, f->child, e, name, sizeof name) && !allowed(req, r->op, r->type, name))
            continue;
        if (w != i)
            memmove((char *)a->items + (size_t)w * size, e, size);
        w++;
    }
    a->n = w;
}

/* Fills the authorized-operations fields that were asked for (not
 * INT32_MIN) of the elements of array `f` of `resp`. */
static void fill_ops_array(sk_request *req, const kf_field *f, void *resp)
{
    int16_t v = req->hdr.api_version;
    const kf_field *topic_ops = field_at(f->child, "topic_authorized_operations", v);
    const kf_field *group_ops = field_at(f->child, "authorized_operations", v);
    const kf_field *err = field_at(f->child, "error_code", v);
    const kf_field *ops = topic_ops ? topic_ops : group_ops;
    if (!ops)
        return;
    arr *a = (arr *)((char *)resp + f->offset);
    for (int32_t i = 0; i < a->n; i++) {
        char *e = (char *)a->items + (size_t)i * f->child->size;
        int32_t *value = (int32_t *)(e + ops->offset);
        char name[512];
        if (*value == INT32_MIN || (err && *(int16_t *)(e + err->offset)) ||
            !elem_name(req, f->child, e, name, sizeof name))
            continue;
        int32_t bits = 0;
        int32_t supported = topic_ops ? SK_TOPIC_OPERATIONS : SK_GROUP_OPERATIONS;
        for (int8_t op = SK_OP_READ; op <= SK_OP_DESCRIBE_TOKENS; op++)
            if ((supported & (1 << op)) && allowed(req, op, topic_ops ? SK_RES_TOPIC : SK_RES_GROUP, name))
                bits |= 1 << op;
        *value = bits;
    }
}

static void fill_ops(sk_request *req, void *resp)
{
    const kf_struct_desc *d = req->api->response;
    int16_t v = req->hdr.api_version;
    const kf_field *cluster = field_at(d, "cluster_authorized_operations", v);
    if (cluster) {
        int32_t *value = (int32_t *)((char *)resp + cluster->offset);
        int32_t bits = 0;
        for (int8_t op = SK_OP_READ; *value != INT32_MIN && op <= SK_OP_DESCRIBE_TOKENS; op++)
            if ((SK_CLUSTER_OPERATIONS & (1 << op)) && allowed(req, op, SK_RES_CLUSTER, SK_ACL_CLUSTER_NAME))
                bits |= 1 << op;
        if (*value != INT32_MIN)
            *value = bits;
    }
    for (uint16_t i = 0; i < d->nfields; i++)
        if (d->fields[i].type == KF_ARRAY && d->fields[i].elem == KF_STRUCT && v >= d->fields[i].ver_min &&
            v <= d->fields[i].ver_max)
            fill_ops_array(req, &d->fields[i], resp);
}

/* OffsetFetch (Kafka's fetchOffsetsForGroup and fetchAllOffsetsForGroup):
 * in a group answered without error, a topic the principal may not
 * DESCRIBE is left out when every topic was asked for (`all`), else answered
 * after the others with TOPIC_AUTHORIZATION_FAILED and offset -1 in each of
 * its partitions. */
static void offset_fetch_topics(sk_request *req, const kf_struct_desc *desc,
                                kf_offset_fetch_response_group_topic *topics, int32_t *n, bool all)
{
    kf_offset_fetch_response_group_topic *refused = sk_arena_alloc(&req->arena, (size_t)*n * sizeof *refused + 1);
    int32_t kept = 0, nref = 0;
    if (!refused)
        return;
    for (int32_t i = 0; i < *n; i++) {
        char name[512];
        if (!elem_name(req, desc, &topics[i], name, sizeof name) || allowed(req, SK_OP_DESCRIBE, SK_RES_TOPIC, name)) {
            topics[kept++] = topics[i];
            continue;
        }
        sk_info("authz", "conn %llu: OffsetFetch: %s may not DESCRIBE TOPIC %s", (unsigned long long)req->conn_id,
                req->authz->principal, name);
        for (int32_t j = 0; j < topics[i].partitions.n; j++) {
            kf_offset_fetch_response_group_partition *p = &topics[i].partitions.items[j];
            p->committed_offset = -1;
            p->committed_leader_epoch = -1;
            p->metadata = kf_str_c("");
            p->error_code = TOPIC_ERR;
        }
        refused[nref++] = topics[i];
    }
    if (!all)
        for (int32_t i = 0; i < nref; i++)
            topics[kept++] = refused[i];
    *n = kept;
}

/* v1-7 answer one group at the top level, in topic structs of the v8+ layout. */
_Static_assert(sizeof(kf_offset_fetch_response_topic) == sizeof(kf_offset_fetch_response_group_topic) &&
                   sizeof(kf_offset_fetch_response_partition) == sizeof(kf_offset_fetch_response_group_partition),
               "OffsetFetch topic layouts differ");

static void offset_fetch(sk_request *req, kf_offset_fetch_response *resp)
{
    const kf_offset_fetch_request *body = req->body;
    if (req->hdr.api_version < 8) {
        if (resp->error_code == SK_ERR_NONE)
            offset_fetch_topics(req, &kf_offset_fetch_response_topic_desc,
                                (kf_offset_fetch_response_group_topic *)resp->topics.items, &resp->topics.n,
                                body->topics.n < 0);
        return;
    }
    for (int32_t i = 0; i < resp->groups.n && i < body->groups.n; i++) {
        kf_offset_fetch_response_group *g = &resp->groups.items[i];
        if (g->error_code == SK_ERR_NONE)
            offset_fetch_topics(req, &kf_offset_fetch_response_group_topic_desc, g->topics.items, &g->topics.n,
                                body->groups.items[i].topics.n < 0);
    }
}

/* ConsumerGroupDescribe (KIP-848; Kafka 4.0, KAFKA-18813): a group one of
 * whose members is assigned, or to be assigned, a topic the principal may
 * not DESCRIBE is answered with TOPIC_AUTHORIZATION_FAILED and no members. */
static bool assignment_allowed(sk_request *req, const kf_consumer_group_describe_response_assignment *a)
{
    for (int32_t i = 0; i < a->topic_partitions.n; i++) {
        char name[512];
        if (elem_name(req, &kf_consumer_group_describe_response_topic_partitions_desc, &a->topic_partitions.items[i],
                      name, sizeof name) &&
            !allowed(req, SK_OP_DESCRIBE, SK_RES_TOPIC, name))
            return false;
    }
    return true;
}

static void consumer_group_describe(sk_request *req, kf_consumer_group_describe_response *resp)
{
    for (int32_t i = 0; i < resp->groups.n; i++) {
        kf_consumer_group_describe_response_described_group *g = &resp->groups.items[i];
        bool ok = true;
        for (int32_t m = 0; ok && g->error_code == SK_ERR_NONE && m < g->members.n; m++)
            ok = assignment_allowed(req, &g->members.items[m].assignment) &&
                 assignment_allowed(req, &g->members.items[m].target_assignment);
        if (ok)
            continue;
        kf_str id = g->group_id;
        sk_info("authz", "conn %llu: ConsumerGroupDescribe: %s may not DESCRIBE a topic of group %.*s",
                (unsigned long long)req->conn_id, req->authz->principal, id.len > 0 ? id.len : 0, id.p ? id.p : "");
        kf_init(&kf_consumer_group_describe_response_described_group_desc, g);
        g->group_id = id;
        g->error_code = TOPIC_ERR;
        g->error_message = kf_str_c("The group has described topic(s) that the client is not authorized to describe.");
    }
}

static void on_respond(sk_request *req, void *resp)
{
    if (req->hdr.api_key == KF_API_OFFSET_FETCH)
        offset_fetch(req, resp);
    else if (req->hdr.api_key == KF_API_CONSUMER_GROUP_DESCRIBE)
        consumer_group_describe(req, resp);
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
        const rule *r = &rules[i];
        if (r->kind == FILTER && r->api == req->hdr.api_key && req->hdr.api_version >= r->min_ver &&
            req->hdr.api_version <= r->max_ver)
            filter(req, r, resp);
    }
    for (int i = 0; i < req->authz->nmerge; i++)
        merge(req, resp, req->authz->merge[i]);
    req->authz->nmerge = 0;
    fill_ops(req, resp);
}

/* InitProducerId without a transactional id: IDEMPOTENT_WRITE on the
 * cluster, or WRITE on some topic (Kafka's authorizeByResourceType). */
static bool check_idempotent(sk_request *req)
{
    const kf_init_producer_id_request *b = req->body;
    if (b->transactional_id.len >= 0 || allowed(req, SK_OP_IDEMPOTENT_WRITE, SK_RES_CLUSTER, SK_ACL_CLUSTER_NAME) ||
        sk_acl_authorize_any(sk_authz_store(req), req->authz->principal, req->authz->host, SK_OP_WRITE, SK_RES_TOPIC))
        return false;
    respond_whole(req, CLUSTER_ERR, SHALLOW, true);
    return true;
}

/* Metadata: auto-creation needs CREATE on the cluster or on every topic
 * the request would create; without it the topics are not created. */
static void check_auto_create(sk_request *req)
{
    kf_metadata_request *b = req->body;
    if (!b->allow_auto_topic_creation || b->topics.n <= 0 ||
        allowed(req, SK_OP_CREATE, SK_RES_CLUSTER, SK_ACL_CLUSTER_NAME))
        return;
    for (int32_t i = 0; i < b->topics.n; i++) {
        char name[512];
        if (elem_name(req, &kf_metadata_request_topic_desc, &b->topics.items[i], name, sizeof name) &&
            !allowed(req, SK_OP_CREATE, SK_RES_TOPIC, name)) {
            b->allow_auto_topic_creation = false;
            return;
        }
    }
}

bool sk_authz_request(sk_request *req)
{
    /* The HTTP API's local requests: its listener is the operator's plane
     * (skiff.http.token guards it), not a Kafka principal's. */
    if (!sk_authz_store(req) || req->node_id == SK_NODE_LOCAL)
        return false;
    sk_authz_ctx *x = sk_arena_alloc(&req->arena, sizeof *x);
    if (!x) {
        sk_request_close(req, "out of memory");
        return true;
    }
    memset(x, 0, sizeof *x);
    snprintf(x->principal, sizeof x->principal, "%s", sk_authz_principal(req));
    sk_authz_host(req, x->host, sizeof x->host);
    req->authz = x;
    req->on_respond = on_respond;
    int16_t key = req->hdr.api_key, v = req->hdr.api_version;
    if (key == KF_API_INIT_PRODUCER_ID && check_idempotent(req))
        return true;
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
        const rule *r = &rules[i];
        if (r->api != key || v < r->min_ver || v > r->max_ver)
            continue;
        if ((r->kind == WHOLE && check_whole(req, r)) || (r->kind == EACH && check_each(req, r)))
            return true;
    }
    if (key == KF_API_METADATA)
        check_auto_create(req);
    return false;
}
