/*
 * Routes: waits on group, topic, partition and transaction states; group
 * description and controls (force a rebalance, expire a member); topic and
 * partition state; log controls (roll the active segment, apply retention,
 * compact now).
 */
#include <cjson/cJSON.h>
#include <event2/http.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http_int.h"
#include "kf_msgs.h"
#include "skiff/arena.h"
#include "skiff/errors.h"
#include "skiff/group.h"
#include "skiff/jsonv.h"
#include "skiff/logstore.h"
#include "skiff/meta.h"
#include "skiff/txn.h"

#define WAIT_DEFAULT_MS 30000
#define NAME_MAX_LEN 256

/* ---- State as JSON ------------------------------------------------------ */

/* Decodes a consumer protocol assignment (ConsumerProtocolAssignment v0-3:
 * int16 version, [topic string, [int32 partition]], bytes user data) into
 * {"topic": [partitions]}; NULL when it is not one. */
static cJSON *assignment_json(kf_bytes a)
{
    if (a.len < 2)
        return NULL;
    sk_reader rd;
    sk_reader_init(&rd, a.p, (size_t)a.len);
    sk_read_i16(&rd);
    int32_t ntopics = sk_read_i32(&rd);
    if (rd.err || ntopics < 0 || (size_t)ntopics > sk_reader_left(&rd))
        return NULL;
    cJSON *o = cJSON_CreateObject();
    for (int32_t i = 0; o && i < ntopics && !rd.err; i++) {
        int16_t len = sk_read_i16(&rd);
        const uint8_t *name = len >= 0 ? sk_read_raw(&rd, (size_t)len) : NULL;
        int32_t n = sk_read_i32(&rd);
        if (!name || rd.err || n < 0 || (size_t)n > sk_reader_left(&rd) / 4)
            break;
        char topic[NAME_MAX_LEN];
        snprintf(topic, sizeof topic, "%.*s", (int)len, (const char *)name);
        cJSON *parts = cJSON_AddArrayToObject(o, topic);
        for (int32_t k = 0; k < n; k++)
            cJSON_AddItemToArray(parts, cJSON_CreateNumber(sk_read_i32(&rd)));
    }
    if (rd.err) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static void add_str(cJSON *o, const char *name, kf_str s)
{
    if (s.p)
        cJSON_AddStringToObject(o, name, s.p);
    else
        cJSON_AddNullToObject(o, name);
}

/* A consumer-protocol (KIP-848) group as sk_http_group_json shows it, from
 * ConsumerGroupDescribe's answer: the group epoch as its generation, the
 * server assignor as its protocol, each member's current assignment. */
static void cgroup_json(cJSON *o, const kf_consumer_group_describe_response_described_group *g, bool members)
{
    cJSON_AddStringToObject(o, "type", "consumer");
    add_str(o, "state", g->group_state);
    cJSON_AddNumberToObject(o, "generation_id", g->group_epoch);
    cJSON_AddStringToObject(o, "protocol_type", "consumer");
    add_str(o, "protocol", g->assignor_name);
    cJSON_AddNumberToObject(o, "member_count", g->members.n);
    cJSON *arr = members ? cJSON_AddArrayToObject(o, "members") : NULL;
    for (int32_t i = 0; arr && i < g->members.n; i++) {
        const kf_consumer_group_describe_response_member *m = &g->members.items[i];
        cJSON *mo = cJSON_CreateObject();
        add_str(mo, "member_id", m->member_id);
        add_str(mo, "group_instance_id", m->instance_id);
        add_str(mo, "client_id", m->client_id);
        add_str(mo, "client_host", m->client_host);
        cJSON_AddNumberToObject(mo, "member_epoch", m->member_epoch);
        cJSON *as = cJSON_AddObjectToObject(mo, "assignment");
        for (int32_t t = 0; as && t < m->assignment.topic_partitions.n; t++) {
            const kf_consumer_group_describe_response_topic_partitions *tp = &m->assignment.topic_partitions.items[t];
            cJSON *parts = tp->topic_name.p ? cJSON_AddArrayToObject(as, tp->topic_name.p) : NULL;
            for (int32_t k = 0; parts && k < tp->partitions.n; k++)
                cJSON_AddItemToArray(parts, cJSON_CreateNumber(tp->partitions.items[k]));
        }
        cJSON_AddItemToArray(arr, mo);
    }
}

cJSON *sk_http_group_json(sk_broker *b, const char *group_id, bool members)
{
    sk_arena arena;
    sk_arena_init(&arena);
    kf_describe_groups_response_group g;
    kf_init(&kf_describe_groups_response_group_desc, &g);
    kf_consumer_group_describe_response_described_group cg;
    kf_init(&kf_consumer_group_describe_response_described_group_desc, &cg);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "group_id", group_id);
    if (sk_cgroup_describe(b->groups, kf_str_c(group_id), &cg, &arena) == 0 && cg.error_code == SK_ERR_NONE) {
        cgroup_json(o, &cg, members);
        sk_arena_free(&arena);
        return o;
    }
    if (sk_group_describe(b->groups, kf_str_c(group_id), &g, &arena) < 0) {
        sk_arena_free(&arena);
        return o;
    }
    cJSON_AddStringToObject(o, "type", "classic");
    add_str(o, "state", g.group_state);
    cJSON_AddNumberToObject(o, "generation_id", sk_group_generation_of(b->groups, group_id));
    add_str(o, "protocol_type", g.protocol_type);
    add_str(o, "protocol", g.protocol_data);
    cJSON_AddNumberToObject(o, "member_count", g.members.n);
    if (members) {
        cJSON *arr = cJSON_AddArrayToObject(o, "members");
        for (int32_t i = 0; i < g.members.n; i++) {
            const kf_describe_groups_response_member *m = &g.members.items[i];
            cJSON *mo = cJSON_CreateObject();
            add_str(mo, "member_id", m->member_id);
            add_str(mo, "group_instance_id", m->group_instance_id);
            add_str(mo, "client_id", m->client_id);
            add_str(mo, "client_host", m->client_host);
            cJSON *as = assignment_json(m->member_assignment);
            cJSON_AddItemToObject(mo, "assignment", as ? as : cJSON_CreateNull());
            cJSON_AddItemToArray(arr, mo);
        }
    }
    sk_arena_free(&arena);
    return o;
}

/* The offsets of a loaded partition (sk_partition_ensure_loaded). */
static cJSON *partition_json(sk_partition *p)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "partition", sk_partition_index(p));
    cJSON_AddNumberToObject(o, "log_start_offset", (double)sk_partition_log_start_offset(p));
    cJSON_AddNumberToObject(o, "high_watermark", (double)sk_partition_high_watermark(p));
    cJSON_AddNumberToObject(o, "last_stable_offset", (double)sk_partition_last_stable_offset(p));
    cJSON_AddNumberToObject(o, "log_end_offset", (double)sk_partition_log_end_offset(p));
    cJSON_AddNumberToObject(o, "segments", (double)sk_partition_segment_count(p));
    cJSON_AddNumberToObject(o, "size_bytes", (double)sk_partition_size_bytes(p));
    return o;
}

static cJSON *topic_json(sk_broker *b, const char *name)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "topic", name);
    sk_topic *t = sk_meta_topic(b->meta, name, strlen(name));
    cJSON_AddBoolToObject(o, "exists", t != NULL);
    cJSON_AddNumberToObject(o, "partition_count", t ? t->partitions : 0);
    cJSON *arr = cJSON_AddArrayToObject(o, "partitions");
    for (int32_t i = 0; t && i < t->partitions; i++) {
        sk_partition *p = sk_logstore_find(b->logs, name, i);
        if (p && sk_partition_ensure_loaded(p) == SK_ERR_NONE) /* logs that are online, as DescribeLogDirs */
            cJSON_AddItemToArray(arr, partition_json(p));
    }
    return o;
}

static cJSON *txn_json(sk_broker *b, const char *id)
{
    sk_arena arena;
    sk_arena_init(&arena);
    sk_txn_info info;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "transactional_id", id);
    int16_t err = sk_txn_describe(b->txns, id, &info, &arena);
    if (err == SK_ERR_NONE) {
        cJSON_AddStringToObject(o, "state", sk_txn_state_name(info.state));
        cJSON_AddNumberToObject(o, "producer_id", (double)info.producer_id);
        cJSON_AddNumberToObject(o, "producer_epoch", info.producer_epoch);
        cJSON_AddNumberToObject(o, "timeout_ms", info.timeout_ms);
        cJSON_AddNumberToObject(o, "partition_count", info.npartitions);
    } else {
        cJSON_AddNullToObject(o, "state");
        cJSON_AddStringToObject(o, "error", sk_err_name(err));
    }
    sk_arena_free(&arena);
    return o;
}

/* ---- Waits -------------------------------------------------------------- */

typedef struct wait_cond {
    char name[NAME_MAX_LEN]; /* group id, topic or transactional id */
    char state[32];          /* wanted state, "" = any */
    int64_t a, b;            /* per kind: members / generation, partitions, offsets (-1 = any) */
    int32_t partition;       /* partition waited on (partition waits only) */
} wait_cond;

static bool check_group(sk_broker *b, const void *arg, cJSON **state)
{
    const wait_cond *c = arg;
    *state = sk_http_group_json(b, c->name, false);
    sk_group_state st = sk_group_state_of(b->groups, c->name);
    return st != SK_GROUP_DEAD && (!c->state[0] || !strcasecmp(sk_group_state_name(st), c->state)) &&
           (c->a < 0 || sk_group_member_count(b->groups, c->name) == c->a) &&
           (c->b < 0 || sk_group_generation_of(b->groups, c->name) >= c->b);
}

static bool check_topic(sk_broker *b, const void *arg, cJSON **state)
{
    const wait_cond *c = arg;
    *state = topic_json(b, c->name);
    const sk_topic *t = sk_meta_topic(b->meta, c->name, strlen(c->name));
    return t && (c->a < 0 || t->partitions >= c->a);
}

static bool check_partition(sk_broker *b, const void *arg, cJSON **state)
{
    const wait_cond *c = arg;
    sk_partition *p = sk_logstore_find(b->logs, c->name, c->partition);
    if (!p) {
        *state = cJSON_CreateObject();
        cJSON_AddBoolToObject(*state, "exists", false);
        return false;
    }
    int16_t err = sk_partition_ensure_loaded(p);
    if (err != SK_ERR_NONE) {
        *state = cJSON_CreateObject();
        cJSON_AddNumberToObject(*state, "partition", sk_partition_index(p));
        cJSON_AddStringToObject(*state, "error", sk_err_name(err));
        return false;
    }
    *state = partition_json(p);
    return (c->a < 0 || sk_partition_high_watermark(p) >= c->a) &&
           (c->b < 0 || sk_partition_last_stable_offset(p) >= c->b);
}

static bool check_txn(sk_broker *b, const void *arg, cJSON **state)
{
    const wait_cond *c = arg;
    *state = txn_json(b, c->name);
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(*state, "state");
    return cJSON_IsString(st) && (!c->state[0] || !strcasecmp(st->valuestring, c->state));
}

/* Reads the fields every wait has: the name field and timeout_ms. */
static bool wait_common(sk_http_req *r, const char *const *fields, const char *name_field, wait_cond *c,
                        int64_t *timeout)
{
    char detail[256];
    const char *name = NULL;
    *timeout = WAIT_DEFAULT_MS;
    memset(c, 0, sizeof *c);
    c->a = c->b = -1;
    int rc;
    if (sk_jsonv_fields(r->body, fields, detail, sizeof detail) < 0 ||
        (rc = sk_jsonv_str(r->body, name_field, &name, detail, sizeof detail)) < 0 ||
        sk_jsonv_int(r->body, "timeout_ms", 0, SK_HTTP_WAIT_MAX_MS, timeout, detail, sizeof detail) < 0) {
        sk_http_reply_error(r, 400, "bad_request", "%s", detail);
        return false;
    }
    if (rc == 1 || strlen(name) >= sizeof c->name) {
        sk_http_reply_error(r, 400, "bad_request", "field \"%s\" is required (at most %d bytes)", name_field,
                            NAME_MAX_LEN - 1);
        return false;
    }
    snprintf(c->name, sizeof c->name, "%s", name);
    return true;
}

static bool wait_state(sk_http_req *r, wait_cond *c, const char *const *allowed)
{
    const char *state = NULL;
    char detail[256];
    if (sk_jsonv_str(r->body, "state", &state, detail, sizeof detail) < 0) {
        sk_http_reply_error(r, 400, "bad_request", "%s", detail);
        return false;
    }
    if (!state)
        return true;
    for (const char *const *a = allowed; *a; a++) {
        if (!strcasecmp(*a, state)) {
            snprintf(c->state, sizeof c->state, "%s", *a);
            return true;
        }
    }
    sk_http_reply_error(r, 400, "bad_request", "field \"state\": unknown state \"%s\"", state);
    return false;
}

static void wait_group(sk_http_req *r)
{
    static const char *const fields[] = {"group_id", "state", "members", "min_generation", "timeout_ms", NULL};
    static const char *const states[] = {"Empty", "PreparingRebalance", "CompletingRebalance", "Stable", NULL};
    wait_cond c;
    int64_t timeout;
    char detail[256];
    if (!wait_common(r, fields, "group_id", &c, &timeout) || !wait_state(r, &c, states))
        return;
    if (sk_jsonv_int(r->body, "members", 0, INT32_MAX, &c.a, detail, sizeof detail) < 0 ||
        sk_jsonv_int(r->body, "min_generation", 0, INT32_MAX, &c.b, detail, sizeof detail) < 0) {
        sk_http_reply_error(r, 400, "bad_request", "%s", detail);
        return;
    }
    char what[400];
    snprintf(what, sizeof what, "group %s", c.name);
    sk_http_wait_start(r, check_group, &c, sizeof c, timeout, what);
}

static void wait_topic(sk_http_req *r)
{
    static const char *const fields[] = {"topic", "partitions", "timeout_ms", NULL};
    wait_cond c;
    int64_t timeout;
    char detail[256];
    if (!wait_common(r, fields, "topic", &c, &timeout))
        return;
    if (sk_jsonv_int(r->body, "partitions", 1, INT32_MAX, &c.a, detail, sizeof detail) < 0) {
        sk_http_reply_error(r, 400, "bad_request", "%s", detail);
        return;
    }
    char what[400];
    snprintf(what, sizeof what, "topic %s", c.name);
    sk_http_wait_start(r, check_topic, &c, sizeof c, timeout, what);
}

static void wait_partition(sk_http_req *r)
{
    static const char *const fields[] = {"topic",      "partition", "high_watermark", "last_stable_offset",
                                         "timeout_ms", NULL};
    wait_cond c;
    int64_t timeout, p = -1;
    char detail[256];
    if (!wait_common(r, fields, "topic", &c, &timeout))
        return;
    if (sk_jsonv_int(r->body, "partition", 0, INT32_MAX, &p, detail, sizeof detail) < 0 ||
        sk_jsonv_int(r->body, "high_watermark", 0, INT64_MAX, &c.a, detail, sizeof detail) < 0 ||
        sk_jsonv_int(r->body, "last_stable_offset", 0, INT64_MAX, &c.b, detail, sizeof detail) < 0) {
        sk_http_reply_error(r, 400, "bad_request", "%s", detail);
        return;
    }
    if (p < 0 || (c.a < 0 && c.b < 0)) {
        sk_http_reply_error(r, 400, "bad_request",
                            "give \"partition\" and at least one of \"high_watermark\" and \"last_stable_offset\"");
        return;
    }
    c.partition = (int32_t)p;
    char what[400];
    snprintf(what, sizeof what, "partition %s-%d", c.name, c.partition);
    sk_http_wait_start(r, check_partition, &c, sizeof c, timeout, what);
}

static void wait_txn(sk_http_req *r)
{
    static const char *const fields[] = {"transactional_id", "state", "timeout_ms", NULL};
    static const char *const states[] = {"Empty",        "Ongoing",           "PrepareCommit",
                                         "PrepareAbort", "CompleteCommit",    "CompleteAbort",
                                         "Dead",         "PrepareEpochFence", NULL};
    wait_cond c;
    int64_t timeout;
    if (!wait_common(r, fields, "transactional_id", &c, &timeout) || !wait_state(r, &c, states))
        return;
    char what[400];
    snprintf(what, sizeof what, "transactional id %s", c.name);
    sk_http_wait_start(r, check_txn, &c, sizeof c, timeout, what);
}

/* ---- Groups, topics, transactions --------------------------------------- */

static void group_get(sk_http_req *r)
{
    if (sk_group_state_of(r->b->groups, r->params[0]) == SK_GROUP_DEAD) {
        sk_http_reply_error(r, 404, "not_found", "no group %s", r->params[0]);
        return;
    }
    sk_http_reply_json(r, 200, sk_http_group_json(r->b, r->params[0], true));
}

static void group_rebalance(sk_http_req *r)
{
    int16_t err = sk_group_force_rebalance(r->b->groups, r->params[0]);
    if (err == SK_ERR_GROUP_ID_NOT_FOUND)
        sk_http_reply_error(r, 404, "not_found", "no group %s", r->params[0]);
    else if (err)
        sk_http_reply_error(r, 409, "conflict", "group %s is Empty: nothing to rebalance", r->params[0]);
    else
        sk_http_reply_json(r, 200, sk_http_group_json(r->b, r->params[0], false));
}

static void group_member_delete(sk_http_req *r)
{
    int16_t err = sk_group_expire_member(r->b->groups, r->params[0], r->params[1]);
    if (err == SK_ERR_GROUP_ID_NOT_FOUND || err == SK_ERR_UNKNOWN_MEMBER_ID)
        sk_http_reply_error(r, 404, "not_found", "no member %s in group %s", r->params[1], r->params[0]);
    else if (err)
        sk_http_reply_error(r, 409, "conflict", "member %s is waiting in a JoinGroup or SyncGroup", r->params[1]);
    else
        sk_http_reply_json(r, 200, sk_http_group_json(r->b, r->params[0], true));
}

static void topic_get(sk_http_req *r)
{
    if (!sk_meta_topic(r->b->meta, r->params[0], strlen(r->params[0]))) {
        sk_http_reply_error(r, 404, "not_found", "no topic %s", r->params[0]);
        return;
    }
    sk_http_reply_json(r, 200, topic_json(r->b, r->params[0]));
}

static void txn_get(sk_http_req *r)
{
    cJSON *o = txn_json(r->b, r->params[0]);
    if (cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(o, "state"))) {
        cJSON_Delete(o);
        sk_http_reply_error(r, 404, "not_found", "no transactional id %s", r->params[0]);
        return;
    }
    sk_http_reply_json(r, 200, o);
}

/* ---- Log controls ------------------------------------------------------- */

static const char *const no_fields[] = {NULL};

/* The partition of a .../partitions/{p}/... route in *out (-1 for a route
 * without one); false, answered 404, when the topic has no such partition. */
static bool partition_param(sk_http_req *r, const sk_topic *t, int32_t *out)
{
    *out = -1;
    if (!r->params[1])
        return true;
    char *end;
    long v = strtol(r->params[1], &end, 10);
    if (*end || v < 0 || v >= t->partitions) {
        sk_http_reply_error(r, 404, "not_found", "no partition %s of topic %s", r->params[1], t->name);
        return false;
    }
    *out = (int32_t)v;
    return true;
}

static void topic_roll(sk_http_req *r)
{
    char detail[256];
    if (sk_jsonv_fields(r->body, no_fields, detail, sizeof detail) < 0) {
        sk_http_reply_error(r, 400, "bad_request", "%s", detail);
        return;
    }
    const char *name = r->params[0];
    sk_topic *t = sk_meta_topic(r->b->meta, name, strlen(name));
    if (!t) {
        sk_http_reply_error(r, 404, "not_found", "no topic %s", name);
        return;
    }
    int32_t only;
    if (!partition_param(r, t, &only))
        return;
    for (int32_t i = 0; i < t->partitions; i++) {
        sk_partition *p = only < 0 || only == i ? sk_logstore_find(r->b->logs, name, i) : NULL;
        if (p && sk_partition_roll(p) != SK_ERR_NONE) {
            sk_http_reply_error(r, 500, "internal", "cannot roll %s-%d (see the log)", name, i);
            return;
        }
    }
    sk_http_reply_json(r, 200, topic_json(r->b, name));
}

/* The log cleaner's totals since the store opened. */
static cJSON *cleaner_json(const sk_cleaner_stats *st)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddBoolToObject(o, "running", st->running);
    cJSON_AddNumberToObject(o, "passes", (double)st->passes);
    cJSON_AddNumberToObject(o, "bytes_read", (double)st->bytes_read);
    cJSON_AddNumberToObject(o, "bytes_written", (double)st->bytes_written);
    cJSON_AddNumberToObject(o, "records_read", (double)st->records_read);
    cJSON_AddNumberToObject(o, "records_removed", (double)st->records_removed);
    cJSON_AddNumberToObject(o, "last_pass_ms", (double)st->last_pass_ms);
    return o;
}

/* "Compact now": starts a cleaner pass on each partition of the topic (or
 * the one asked for) in turn, the cleaner running one at a time, until none
 * has cleanable segments left (the active segment, anything newer than
 * min.compaction.lag.ms and anything from the last stable offset on stay, as
 * in every pass); met once the last pass has swapped its segments in. */
static bool check_compact(sk_broker *b, const void *arg, cJSON **state)
{
    const wait_cond *c = arg;
    sk_cleaner_stats st;
    sk_logstore_cleaner_stats(b->logs, &st);
    *state = cleaner_json(&st);
    if (st.running)
        return false;
    const sk_topic *t = sk_meta_topic(b->meta, c->name, strlen(c->name));
    for (int32_t i = 0; t && i < t->partitions; i++) {
        sk_partition *p = c->partition < 0 || c->partition == i ? sk_logstore_find(b->logs, c->name, i) : NULL;
        if (p && sk_logstore_clean_now(p) != 0)
            return false; /* started (or could not start, logged): look again */
    }
    return true;
}

static void compact_now(sk_http_req *r)
{
    static const char *const fields[] = {"timeout_ms", NULL};
    char detail[256];
    int64_t timeout = WAIT_DEFAULT_MS;
    if (sk_jsonv_fields(r->body, fields, detail, sizeof detail) < 0 ||
        sk_jsonv_int(r->body, "timeout_ms", 0, SK_HTTP_WAIT_MAX_MS, &timeout, detail, sizeof detail) < 0) {
        sk_http_reply_error(r, 400, "bad_request", "%s", detail);
        return;
    }
    wait_cond c = {.a = -1, .b = -1, .partition = -1};
    const char *name = r->params[0];
    const sk_topic *t = sk_meta_topic(r->b->meta, name, strlen(name));
    if (!t || strlen(name) >= sizeof c.name) {
        sk_http_reply_error(r, 404, "not_found", "no topic %s", name);
        return;
    }
    snprintf(c.name, sizeof c.name, "%s", name);
    if (!partition_param(r, t, &c.partition))
        return;
    sk_partition *p = sk_logstore_find(r->b->logs, name, c.partition < 0 ? 0 : c.partition);
    if (!p || !sk_partition_config(p)->compact) {
        sk_http_reply_error(r, 409, "conflict", "topic %s is not compacted (cleanup.policy has no compact)", name);
        return;
    }
    char what[400];
    snprintf(what, sizeof what, "compaction of %s", name);
    sk_http_wait_start(r, check_compact, &c, sizeof c, timeout, what);
}

static void retention_now(sk_http_req *r)
{
    char detail[256];
    if (sk_jsonv_fields(r->body, no_fields, detail, sizeof detail) < 0) {
        sk_http_reply_error(r, 400, "bad_request", "%s", detail);
        return;
    }
    int n = sk_logstore_run_retention(r->b->logs);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "segments_deleted", n < 0 ? 0 : n);
    sk_http_reply_json(r, 200, o);
}

const sk_http_route sk_http_routes_state[] = {
    {EVHTTP_REQ_POST, "/v1/waits/group", wait_group, true},
    {EVHTTP_REQ_POST, "/v1/waits/topic", wait_topic, true},
    {EVHTTP_REQ_POST, "/v1/waits/partition", wait_partition, true},
    {EVHTTP_REQ_POST, "/v1/waits/transaction", wait_txn, true},
    {EVHTTP_REQ_GET, "/v1/groups/{}", group_get, false},
    {EVHTTP_REQ_POST, "/v1/groups/{}/rebalance", group_rebalance, true},
    {EVHTTP_REQ_DELETE, "/v1/groups/{}/members/{}", group_member_delete, false},
    {EVHTTP_REQ_GET, "/v1/topics/{}", topic_get, false},
    {EVHTTP_REQ_POST, "/v1/topics/{}/roll", topic_roll, true},
    {EVHTTP_REQ_POST, "/v1/topics/{}/partitions/{}/roll", topic_roll, true},
    {EVHTTP_REQ_POST, "/v1/topics/{}/compact", compact_now, true},
    {EVHTTP_REQ_POST, "/v1/topics/{}/partitions/{}/compact", compact_now, true},
    {EVHTTP_REQ_POST, "/v1/log/retention", retention_now, true},
    {EVHTTP_REQ_GET, "/v1/transactions/{}", txn_get, false},
    {0, NULL, NULL, false},
};
