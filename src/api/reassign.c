/*
 * Partition reassignment (KIP-455), answered as Kafka 4.4's controller
 * (ReplicationControlManager) answers it, over the routing state of
 * skiff/cluster.h:
 *
 * - AlterPartitionReassignments v0-1: per partition, an unknown topic or
 *   partition is UNKNOWN_TOPIC_OR_PARTITION ("Unable to find a topic named
 *   t." / "Unable to find partition t:9."); null replicas cancel the
 *   reassignment in progress (NO_REASSIGNMENT_IN_PROGRESS, without a
 *   message, when there is none); a replica list is checked as a manual assignment
 *   (INVALID_REPLICA_ASSIGNMENT) and, with v1's
 *   allow_replication_factor_change false, must keep the replication factor
 *   (INVALID_REPLICATION_FACTOR, KIP-860). A reassignment completes as soon
 *   as every target replica is in the ISR: at once, unless one of them is
 *   down (sk_cluster_reassign).
 * - ListPartitionReassignments v0: the reassignments in progress, of the
 *   partitions named (unknown topics and partitions left out, as Kafka) or
 *   of every partition.
 */
#include <string.h>

#include "admin.h"
#include "kf_msgs.h"
#include "skiff/cluster.h"
#include "skiff/errors.h"
#include "skiff/meta.h"
#include "skiff/trace.h"

/* ---- AlterPartitionReassignments ---------------------------------------- */

static int16_t alter_one(sk_request *req, const kf_alter_partition_reassignments_request *body, kf_str topic,
                         const kf_alter_partition_reassignments_request_reassignable_partition *in, kf_str *msg)
{
    sk_broker *b = req->broker;
    sk_topic *t = sk_meta_topic(b->meta, topic.p, (size_t)topic.len);
    if (!t) {
        *msg = sk_admin_printf(req, "Unable to find a topic named %s.", topic.p);
        return SK_ERR_UNKNOWN_TOPIC_OR_PARTITION;
    }
    if (in->partition_index < 0 || in->partition_index >= t->partitions) {
        *msg = sk_admin_printf(req, "Unable to find partition %s:%d.", t->name, in->partition_index);
        return SK_ERR_UNKNOWN_TOPIC_OR_PARTITION;
    }
    if (in->replicas.n < 0) /* NO_REASSIGNMENT_IN_PROGRESS has no message: Kafka's is the error's own */
        return sk_cluster_reassign(b, t->name, t->partitions, in->partition_index, NULL, 0);
    int16_t err = sk_admin_check_replicas(req, in->replicas.items, in->replicas.n, 0, -1, msg);
    if (err != SK_ERR_NONE)
        return err;
    if (!body->allow_replication_factor_change) {
        sk_route r;
        int32_t adding[SK_CLUSTER_MAX_BROKERS], removing[SK_CLUSTER_MAX_BROKERS], na, nr;
        sk_cluster_route(b, t->name, t->partitions, in->partition_index, &r);
        sk_cluster_reassignment(b, t->name, in->partition_index, adding, &na, removing, &nr);
        if (r.nreplicas - na != in->replicas.n) {
            *msg = sk_admin_printf(req, "The replication factor is changed from %d to %d", r.nreplicas - na,
                                   in->replicas.n);
            return SK_ERR_INVALID_REPLICATION_FACTOR;
        }
    }
    return sk_cluster_reassign(b, t->name, t->partitions, in->partition_index, in->replicas.items, in->replicas.n);
}

void sk_api_alter_partition_reassignments(sk_request *req)
{
    const kf_alter_partition_reassignments_request *body = req->body;
    kf_alter_partition_reassignments_response *resp = sk_request_response(req);
    int32_t n = body->topics.n > 0 ? body->topics.n : 0;
    kf_alter_partition_reassignments_response_reassignable_topic_response *topics =
        sk_admin_array(req, &kf_alter_partition_reassignments_response_reassignable_topic_response_desc, n);
    if (!resp || !topics) {
        sk_request_close(req, "out of memory");
        return;
    }
    for (int32_t i = 0; i < n; i++) {
        const kf_alter_partition_reassignments_request_reassignable_topic *in = &body->topics.items[i];
        int32_t np = in->partitions.n > 0 ? in->partitions.n : 0;
        kf_alter_partition_reassignments_response_reassignable_partition_response *parts =
            sk_admin_array(req, &kf_alter_partition_reassignments_response_reassignable_partition_response_desc, np);
        if (!parts) {
            sk_request_close(req, "out of memory");
            return;
        }
        for (int32_t j = 0; j < np; j++) {
            parts[j].partition_index = in->partitions.items[j].partition_index;
            parts[j].error_code = alter_one(req, body, in->name, &in->partitions.items[j], &parts[j].error_message);
            sk_info("api", "conn %llu: AlterPartitionReassignments %s-%d: %s", (unsigned long long)req->conn_id,
                    in->name.p, parts[j].partition_index, sk_err_name(parts[j].error_code));
        }
        topics[i].name = in->name;
        topics[i].partitions.items = parts;
        topics[i].partitions.n = np;
    }
    resp->allow_replication_factor_change = body->allow_replication_factor_change;
    resp->responses.items = topics;
    resp->responses.n = n;
    sk_request_respond(req, resp);
}

/* ---- ListPartitionReassignments ----------------------------------------- */

typedef struct list_ctx {
    sk_request *req;
    kf_list_partition_reassignments_response_ongoing_topic_reassignment *topics;
    int32_t n, cap;
    int rc;
} list_ctx;

/* Adds partition `index` of `t` when it is being reassigned. */
static int list_partition(list_ctx *x, const sk_topic *t, int32_t index,
                          kf_list_partition_reassignments_response_ongoing_partition_reassignment *out, int32_t *n)
{
    sk_broker *b = x->req->broker;
    int32_t adding[SK_CLUSTER_MAX_BROKERS], removing[SK_CLUSTER_MAX_BROKERS], na, nr;
    if (!sk_cluster_reassignment(b, t->name, index, adding, &na, removing, &nr))
        return 0;
    sk_route r;
    sk_cluster_route(b, t->name, t->partitions, index, &r);
    int32_t *ids = sk_arena_alloc(&x->req->arena, (size_t)(r.nreplicas + na + nr) * sizeof *ids);
    if (!ids)
        return -1;
    memcpy(ids, r.replicas, (size_t)r.nreplicas * sizeof *ids);
    memcpy(ids + r.nreplicas, adding, (size_t)na * sizeof *ids);
    memcpy(ids + r.nreplicas + na, removing, (size_t)nr * sizeof *ids);
    kf_list_partition_reassignments_response_ongoing_partition_reassignment *o = &out[(*n)++];
    o->partition_index = index;
    o->replicas.items = ids;
    o->replicas.n = r.nreplicas;
    o->adding_replicas.items = ids + r.nreplicas;
    o->adding_replicas.n = na;
    o->removing_replicas.items = ids + r.nreplicas + na;
    o->removing_replicas.n = nr;
    return 0;
}

/* Lists the partitions of `t` named in `indexes` (NULL: every one). */
static void list_topic(list_ctx *x, const sk_topic *t, const int32_t *indexes, int32_t nindexes)
{
    int32_t cap = indexes ? nindexes : t->partitions, n = 0;
    kf_list_partition_reassignments_response_ongoing_partition_reassignment *parts =
        sk_admin_array(x->req, &kf_list_partition_reassignments_response_ongoing_partition_reassignment_desc, cap);
    if (!parts) {
        x->rc = -1;
        return;
    }
    for (int32_t i = 0; i < cap && x->rc == 0; i++) {
        int32_t index = indexes ? indexes[i] : i;
        if (index >= 0 && index < t->partitions && list_partition(x, t, index, parts, &n) < 0)
            x->rc = -1;
    }
    if (n == 0 || x->n >= x->cap)
        return;
    x->topics[x->n].name = kf_str_c(t->name);
    x->topics[x->n].partitions.items = parts;
    x->topics[x->n].partitions.n = n;
    x->n++;
}

static void list_every_topic(sk_topic *t, void *arg)
{
    list_topic(arg, t, NULL, 0);
}

void sk_api_list_partition_reassignments(sk_request *req)
{
    const kf_list_partition_reassignments_request *body = req->body;
    kf_list_partition_reassignments_response *resp = sk_request_response(req);
    sk_meta *meta = req->broker->meta;
    bool all = body->topics.n < 0;
    list_ctx x = {.req = req, .cap = all ? sk_meta_topic_count(meta) : body->topics.n};
    x.topics = sk_admin_array(req, &kf_list_partition_reassignments_response_ongoing_topic_reassignment_desc, x.cap);
    if (!resp || !x.topics) {
        sk_request_close(req, "out of memory");
        return;
    }
    if (all)
        sk_meta_foreach(meta, list_every_topic, &x);
    for (int32_t i = 0; !all && i < body->topics.n && x.rc == 0; i++) {
        const kf_list_partition_reassignments_request_list_partition_reassignments_topics *in = &body->topics.items[i];
        sk_topic *t = sk_meta_topic(meta, in->name.p, (size_t)in->name.len);
        if (t)
            list_topic(&x, t, in->partition_indexes.items, in->partition_indexes.n > 0 ? in->partition_indexes.n : 0);
    }
    if (x.rc < 0) {
        sk_request_close(req, "out of memory");
        return;
    }
    resp->topics.items = x.topics;
    resp->topics.n = x.n;
    sk_request_respond(req, resp);
}
