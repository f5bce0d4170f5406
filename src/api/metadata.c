/*
 * Metadata v0-13: the brokers that are up (one, or skiff.cluster.brokers:
 * skiff/cluster.h) with their racks, the controller, the cluster id, and
 * the requested topics with each partition's leader, leader epoch, replicas,
 * ISR and offline replicas (those of brokers that are down); a partition
 * without a leader answers LEADER_NOT_AVAILABLE, as Kafka.
 *
 * Behaviour, as Kafka answers:
 * - Topics: v0 empty array = all topics; v1+ null = all topics, empty = none.
 *   v10+ may name a topic by id only: an unknown id is UNKNOWN_TOPIC_ID.
 * - An unknown topic is created when auto.create.topics.enable is on and the
 *   request allows it (allow_auto_topic_creation, v4+; always allowed
 *   before v4) with num.partitions partitions; otherwise it is
 *   UNKNOWN_TOPIC_OR_PARTITION. An invalid name is INVALID_TOPIC_EXCEPTION.
 *   Kafka answers a topic it has just started creating with
 *   LEADER_NOT_AVAILABLE and clients ask again; skiff creates it before
 *   answering, so the first answer already carries its partitions.
 * - Internal topics are never auto-created through Metadata.
 * - Authorized operations (v8+): without an authorizer every operation is
 *   allowed, so the bit sets of all topic and cluster operations are returned
 *   when asked for, else Kafka's "not requested" value INT32_MIN. With an
 *   authorizer, src/api/authz_rules.c keeps the operations the caller may
 *   use, leaves out topics it may not describe and refuses named ones.
 */
#include <string.h>

#include "authorized_ops.h"
#include "kf_msgs.h"
#include "skiff/api.h"
#include "skiff/cluster.h"
#include "skiff/errors.h"
#include "skiff/trace.h"
#include "skiff/meta.h"
#include "skiff/topics.h"

#define OPERATIONS_NOT_REQUESTED INT32_MIN

typedef struct metadata_ctx {
    sk_request *req;                    /* the Metadata request (arena) */
    kf_metadata_response_topic *topics; /* answer, `n` filled of `cap` */
    int32_t n, cap;                     /* topics filled, and allocated */
    bool include_ops;                   /* include_topic_authorized_operations */
} metadata_ctx;

/* One partition's route; the lists live in the request arena. */
static int fill_partition(sk_request *req, const sk_topic *t, int32_t i, kf_metadata_response_partition *out)
{
    sk_route_lists l;
    if (sk_cluster_route_lists(req, t->name, t->partitions, i, &l) < 0)
        return -1;
    out->error_code = l.route.leader < 0 ? SK_ERR_LEADER_NOT_AVAILABLE : SK_ERR_NONE;
    out->partition_index = i;
    out->leader_id = l.route.leader;
    out->leader_epoch = l.route.leader_epoch;
    out->replica_nodes.items = l.replicas;
    out->replica_nodes.n = l.route.nreplicas;
    out->isr_nodes.items = l.isr;
    out->isr_nodes.n = l.route.nisr;
    out->offline_replicas.items = l.offline;
    out->offline_replicas.n = l.noffline;
    return 0;
}

static int fill_topic(metadata_ctx *x, kf_metadata_response_topic *out, const sk_topic *t)
{
    out->error_code = SK_ERR_NONE;
    out->name = kf_str_c(t->name);
    memcpy(out->topic_id.b, t->id, 16);
    out->is_internal = t->internal;
    out->topic_authorized_operations = x->include_ops ? SK_TOPIC_OPERATIONS : OPERATIONS_NOT_REQUESTED;
    kf_metadata_response_partition *parts = sk_arena_alloc(&x->req->arena, (size_t)t->partitions * sizeof *parts);
    if (!parts)
        return -1;
    for (int32_t i = 0; i < t->partitions; i++) {
        if (fill_partition(x->req, t, i, &parts[i]) < 0)
            return -1;
    }
    out->partitions.items = parts;
    out->partitions.n = t->partitions;
    return 0;
}

static void add_all(sk_topic *t, void *arg)
{
    metadata_ctx *x = arg;
    if (x->n < x->cap && fill_topic(x, &x->topics[x->n], t) == 0)
        x->n++;
}

/* Answers one requested topic: found, created, or an error entry. */
static int answer_topic(metadata_ctx *x, const kf_metadata_request_topic *rt, bool may_create)
{
    sk_request *req = x->req;
    sk_meta *meta = req->broker->meta;
    kf_metadata_response_topic *out = &x->topics[x->n++];
    out->topic_authorized_operations = OPERATIONS_NOT_REQUESTED;
    out->name = rt->name;
    out->topic_id = rt->topic_id;
    if (!rt->name.p) {
        sk_topic *t = sk_meta_topic_by_id(meta, rt->topic_id.b);
        if (!t) {
            out->error_code = SK_ERR_UNKNOWN_TOPIC_ID;
            return 0;
        }
        return fill_topic(x, out, t);
    }
    sk_topic *t;
    int16_t err = sk_topics_find_or_create(req->broker, rt->name.p, (size_t)rt->name.len, may_create, &t);
    if (err == SK_ERR_NONE)
        return fill_topic(x, out, t);
    out->error_code = err;
    return 0;
}

void sk_api_metadata(sk_request *req)
{
    const kf_metadata_request *body = req->body;
    kf_metadata_response *resp = sk_request_response(req);
    const sk_config *cfg = req->broker->config;
    sk_meta *meta = req->broker->meta;
    int16_t version = req->hdr.api_version;

    metadata_ctx x = {.req = req, .include_ops = body->include_topic_authorized_operations};
    int32_t up[SK_CLUSTER_MAX_BROKERS], nb = sk_cluster_brokers_up(req->broker, up);
    kf_metadata_response_broker *brokers = sk_arena_alloc(&req->arena, (size_t)nb * sizeof *brokers);
    bool all = body->topics.n < 0 || (version == 0 && body->topics.n == 0);
    x.cap = all ? sk_meta_topic_count(meta) : body->topics.n;
    x.topics = sk_arena_alloc(&req->arena, (size_t)x.cap * sizeof *x.topics);
    if (!resp || !brokers || !x.topics) {
        sk_request_close(req, "out of memory");
        return;
    }

    if (all) {
        sk_meta_foreach(meta, add_all, &x);
    } else {
        bool may_create = cfg->auto_create_topics_enable && body->allow_auto_topic_creation;
        for (int32_t i = 0; i < body->topics.n; i++) {
            if (answer_topic(&x, &body->topics.items[i], may_create) < 0) {
                sk_request_close(req, "out of memory");
                return;
            }
        }
    }

    for (int32_t i = 0; i < nb; i++) {
        brokers[i].node_id = up[i];
        sk_cluster_endpoint(req, up[i], &brokers[i].host, &brokers[i].port);
        brokers[i].rack = kf_str_c(sk_cluster_rack(req->broker, up[i]));
    }
    resp->brokers.items = brokers;
    resp->brokers.n = nb;
    resp->cluster_id = kf_str_c(sk_meta_cluster_id(meta));
    resp->controller_id = sk_cluster_controller(req->broker);
    resp->topics.items = x.topics;
    resp->topics.n = x.n;
    resp->cluster_authorized_operations =
        body->include_cluster_authorized_operations ? SK_CLUSTER_OPERATIONS : OPERATIONS_NOT_REQUESTED;
    sk_request_respond(req, resp);
}
