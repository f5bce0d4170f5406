/*
 * DescribeTopicPartitions v0 (key 75, KIP-966, Kafka 3.8+): the partitions
 * of the requested topics, in pages, for admin clients that would otherwise
 * ask Metadata for everything at once.
 *
 * Behaviour, as Kafka's DescribeTopicPartitionsRequestHandler and
 * KRaftMetadataCache.getTopicMetadataForDescribeTopicResponse answer:
 * - Topics: the named ones (a name given twice is answered once), or every
 *   topic when the list is empty; only names at or after the cursor's topic
 *   name; sorted by name (byte order, which is Java's String order for
 *   valid topic names).
 * - A cursor whose topic is not in a non-empty list is INVALID_REQUEST,
 *   answered as Kafka's error response: every requested topic (in request
 *   order) with that error, its name, a zero topic id and no partitions.
 * - Budget: min(response_partition_limit, 2000, Kafka's
 *   max.request.partition.size.limit default) partitions in all. The
 *   cursor's topic starts at the cursor's partition index, the others at 0.
 *   A topic that does not fit whole gets what fits, and next_topic_partition
 *   names its first partition left out; when the budget runs out exactly at
 *   the end of a topic, next_topic_partition is the following topic (known
 *   or not) at partition 0. Otherwise next_topic_partition is null. A budget
 *   below zero answers no topics and no cursor.
 * - A named topic that does not exist: UNKNOWN_TOPIC_OR_PARTITION
 *   (INVALID_TOPIC_EXCEPTION for an invalid name), zero topic id, no
 *   partitions; it takes no budget.
 * - Each partition: its leader, leader epoch, replicas, ISR and offline
 *   replicas (skiff/cluster.h; with one broker this node in epoch 0),
 *   LEADER_NOT_AVAILABLE without a leader; eligible leader replicas
 *   and last known ELR empty.
 * - topic_authorized_operations: every topic operation without an
 *   authorizer (with one, src/api/authz_rules.c keeps those the caller may
 *   use), on each topic answered.
 * Partition ranges are computed in 64 bits, where Kafka's int arithmetic
 * would wrap for a cursor index near 2^31.
 */
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "authorized_ops.h"
#include "kf_msgs.h"
#include "skiff/cluster.h"
#include "skiff/errors.h"
#include "skiff/trace.h"
#include "skiff/meta.h"

/* Kafka's max.request.partition.size.limit default: the most partitions one
 * response carries whatever the request asks. */
#define MAX_REQUEST_PARTITION_SIZE_LIMIT 2000

typedef kf_describe_topic_partitions_request dtp_request;
typedef kf_describe_topic_partitions_response dtp_response;
typedef kf_describe_topic_partitions_response_topic dtp_topic;
typedef kf_describe_topic_partitions_response_partition dtp_partition;

/* One topic to answer: its name and the topic, NULL when it does not exist. */
typedef struct dtp_entry {
    kf_str name; /* topic name as requested */
    sk_topic *t; /* the topic, NULL when it does not exist */
} dtp_entry;

/* Topic names in Java's String.compareTo order: bytes, then length. */
static int name_cmp(kf_str a, kf_str b)
{
    size_t n = (size_t)(a.len < b.len ? a.len : b.len);
    int c = n ? memcmp(a.p, b.p, n) : 0;
    return c ? c : (a.len > b.len) - (a.len < b.len);
}

static int entry_cmp(const void *x, const void *y)
{
    return name_cmp(((const dtp_entry *)x)->name, ((const dtp_entry *)y)->name);
}

typedef struct collect_ctx {
    dtp_entry *entries; /* `n` filled of `cap` */
    int32_t n, cap;     /* entries filled, and allocated */
    kf_str from;        /* the cursor's topic name, "" without a cursor */
} collect_ctx;

static void collect_topic(sk_topic *t, void *arg)
{
    collect_ctx *x = arg;
    kf_str name = kf_str_c(t->name);
    if (x->n < x->cap && name_cmp(name, x->from) >= 0)
        x->entries[x->n++] = (dtp_entry){name, t};
}

/* The topics to answer, sorted and distinct, into x->entries. */
static void collect(sk_request *req, const dtp_request *body, collect_ctx *x)
{
    sk_meta *meta = req->broker->meta;
    if (body->topics.n <= 0) {
        sk_meta_foreach(meta, collect_topic, x);
    } else {
        for (int32_t i = 0; i < body->topics.n; i++) {
            kf_str name = body->topics.items[i].name;
            if (name_cmp(name, x->from) >= 0)
                x->entries[x->n++] = (dtp_entry){name, sk_meta_topic(meta, name.p, (size_t)name.len)};
        }
    }
    qsort(x->entries, (size_t)x->n, sizeof *x->entries, entry_cmp);
    int32_t kept = 0;
    for (int32_t i = 0; i < x->n; i++)
        if (kept == 0 || name_cmp(x->entries[kept - 1].name, x->entries[i].name) != 0)
            x->entries[kept++] = x->entries[i];
    x->n = kept;
}

/* Kafka's error response for a cursor outside the requested topics. */
static int answer_invalid_cursor(sk_request *req, const dtp_request *body, dtp_response *resp)
{
    dtp_topic *topics = sk_admin_array(req, &kf_describe_topic_partitions_response_topic_desc, body->topics.n);
    if (!topics)
        return -1;
    sk_debug("api", "DescribeTopicPartitions: cursor topic '%s' is not among the requested topics",
             body->cursor->topic_name.p);
    for (int32_t i = 0; i < body->topics.n; i++) {
        topics[i].error_code = SK_ERR_INVALID_REQUEST;
        topics[i].name = body->topics.items[i].name;
    }
    resp->topics.items = topics;
    resp->topics.n = body->topics.n;
    return 0;
}

/* Sets next_topic_partition to (name, partition_index). */
static int set_cursor(sk_request *req, dtp_response *resp, kf_str name, int32_t partition_index)
{
    kf_describe_topic_partitions_response_cursor *c = sk_arena_alloc(&req->arena, sizeof *c);
    if (!c)
        return -1;
    c->topic_name = name;
    c->partition_index = partition_index;
    resp->next_topic_partition = c;
    return 0;
}

/* An entry for a named topic that does not exist. */
static void answer_unknown(const dtp_entry *e, dtp_topic *out)
{
    int16_t err = sk_topic_name_check(e->name.p, (size_t)e->name.len);
    out->error_code = err == SK_ERR_NONE ? SK_ERR_UNKNOWN_TOPIC_OR_PARTITION : err;
    out->name = e->name;
    out->is_internal = err == SK_ERR_NONE && sk_topic_is_internal(e->name.p);
    out->topic_authorized_operations = SK_TOPIC_OPERATIONS;
}

/* Fills `out` with the partitions [start, upper) of e->t that exist
 * (indexes below 0 do not). Returns how many, or -1 when out of memory. */
static int32_t answer_partitions(sk_request *req, const dtp_entry *e, int64_t start, int64_t upper, dtp_topic *out)
{
    int64_t first = start > 0 ? start : 0;
    int32_t count = upper > first ? (int32_t)(upper - first) : 0;
    dtp_partition *parts = sk_admin_array(req, &kf_describe_topic_partitions_response_partition_desc, count);
    if (!parts)
        return -1;
    for (int32_t i = 0; i < count; i++) {
        dtp_partition *p = &parts[i];
        p->partition_index = (int32_t)(first + i);
        sk_route_lists l;
        if (sk_cluster_route_lists(req, e->t->name, e->t->partitions, p->partition_index, &l) < 0)
            return -1;
        p->error_code = l.route.leader < 0 ? SK_ERR_LEADER_NOT_AVAILABLE : SK_ERR_NONE;
        p->leader_id = l.route.leader;
        p->leader_epoch = l.route.leader_epoch;
        p->replica_nodes.items = l.replicas;
        p->replica_nodes.n = l.route.nreplicas;
        p->isr_nodes.items = l.isr;
        p->isr_nodes.n = l.route.nisr;
        p->offline_replicas.items = l.offline;
        p->offline_replicas.n = l.noffline;
        p->eligible_leader_replicas.n = 0;
        p->last_known_elr.n = 0;
    }
    out->name = e->name;
    memcpy(out->topic_id.b, e->t->id, sizeof out->topic_id.b);
    out->is_internal = e->t->internal;
    out->partitions.items = parts;
    out->partitions.n = count;
    out->topic_authorized_operations = SK_TOPIC_OPERATIONS;
    return count;
}

/* Answers the sorted topics within the partition budget. Returns 0 or -1
 * (out of memory). */
static int answer_page(sk_request *req, const dtp_request *body, const collect_ctx *x, dtp_response *resp)
{
    dtp_topic *topics = sk_admin_array(req, &kf_describe_topic_partitions_response_topic_desc, x->n);
    if (!topics)
        return -1;
    resp->topics.items = topics;
    resp->topics.n = 0;

    int32_t remaining = body->response_partition_limit < MAX_REQUEST_PARTITION_SIZE_LIMIT
                            ? body->response_partition_limit
                            : MAX_REQUEST_PARTITION_SIZE_LIMIT;
    for (int32_t i = 0; i < x->n && remaining >= 0; i++) {
        const dtp_entry *e = &x->entries[i];
        if (remaining == 0)
            return set_cursor(req, resp, e->name, 0);
        dtp_topic *out = &topics[resp->topics.n++];
        if (!e->t) {
            answer_unknown(e, out);
            continue;
        }
        bool resumes = body->cursor && name_cmp(e->name, body->cursor->topic_name) == 0;
        int64_t start = resumes ? body->cursor->partition_index : 0;
        int64_t upper = start + remaining < e->t->partitions ? start + remaining : e->t->partitions;
        int32_t got = answer_partitions(req, e, start, upper, out);
        if (got < 0)
            return -1;
        /* Kafka's "next partition" is upper when short of the partition
         * count, -1 meaning none. */
        if (upper < e->t->partitions && upper != -1)
            return set_cursor(req, resp, e->name, (int32_t)upper);
        remaining -= got;
    }
    return 0;
}

void sk_api_describe_topic_partitions(sk_request *req)
{
    const dtp_request *body = req->body;
    dtp_response *resp = sk_request_response(req);
    bool all = body->topics.n <= 0;
    collect_ctx x = {
        .cap = all ? sk_meta_topic_count(req->broker->meta) : body->topics.n,
        .from = body->cursor ? body->cursor->topic_name : kf_str_c(""),
    };
    x.entries = sk_arena_alloc(&req->arena, (size_t)x.cap * sizeof *x.entries);
    if (!resp || !x.entries) {
        sk_request_close(req, "out of memory");
        return;
    }
    collect(req, body, &x);
    bool cursor_listed = x.n > 0 && name_cmp(x.entries[0].name, x.from) == 0;
    int rc = !all && body->cursor && !cursor_listed ? answer_invalid_cursor(req, body, resp)
                                                    : answer_page(req, body, &x, resp);
    if (rc < 0) {
        sk_request_close(req, "out of memory");
        return;
    }
    sk_request_respond(req, resp);
}
