/*
 * The cluster controls of the HTTP control plane (skiff/cluster.h,
 * docs/cluster.md): the brokers and their state, a partition's route,
 * moving a partition's leader, shuffling every leader, taking a broker down
 * and bringing it back, and moving a group's or transactional id's
 * coordinator (the leader of its __consumer_offsets / __transaction_state
 * partition, so every key on that partition moves with it, as in Kafka).
 */
#include <cjson/cJSON.h>
#include <event2/http.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_int.h"
#include "skiff/cluster.h"
#include "skiff/errors.h"
#include "skiff/group.h"
#include "skiff/jsonv.h"
#include "skiff/meta.h"

static cJSON *ids_json(const int32_t *ids, int32_t n)
{
    cJSON *a = cJSON_CreateArray();
    for (int32_t i = 0; i < n; i++)
        cJSON_AddItemToArray(a, cJSON_CreateNumber(ids[i]));
    return a;
}

/* The partition's route; a reassignment in progress (KIP-455) shows its
 * joining and leaving replicas, as ListPartitionReassignments does (both
 * empty when there is none). */
static cJSON *route_json(sk_broker *b, const char *topic, int32_t partition, const sk_route *rt)
{
    int32_t adding[SK_CLUSTER_MAX_BROKERS], removing[SK_CLUSTER_MAX_BROKERS], na, nr;
    sk_cluster_reassignment(b, topic, partition, adding, &na, removing, &nr);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "topic", topic);
    cJSON_AddNumberToObject(o, "partition", partition);
    cJSON_AddNumberToObject(o, "leader", rt->leader);
    cJSON_AddNumberToObject(o, "leader_epoch", rt->leader_epoch);
    cJSON_AddItemToObject(o, "replicas", ids_json(rt->replicas, rt->nreplicas));
    cJSON_AddItemToObject(o, "isr", ids_json(rt->isr, rt->nisr));
    cJSON_AddItemToObject(o, "adding_replicas", ids_json(adding, na));
    cJSON_AddItemToObject(o, "removing_replicas", ids_json(removing, nr));
    return o;
}

static cJSON *cluster_json(sk_broker *b)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "controller_id", sk_cluster_controller(b));
    cJSON *brokers = cJSON_AddArrayToObject(o, "brokers");
    sk_listener_addr addrs[SK_LISTENERS_MAX];
    int nl = sk_listeners_parse(b->config->listeners, addrs, SK_LISTENERS_MAX, NULL);
    for (int32_t i = 0; i < sk_cluster_size(b); i++) {
        int32_t id = sk_cluster_node_id(b, i);
        cJSON *n = cJSON_CreateObject();
        cJSON_AddNumberToObject(n, "node_id", id);
        cJSON_AddBoolToObject(n, "up", sk_cluster_node_up(b, id));
        const char *rack = sk_cluster_rack(b, id);
        if (rack)
            cJSON_AddStringToObject(n, "rack", rack);
        else
            cJSON_AddNullToObject(n, "rack");
        cJSON *ls = cJSON_AddArrayToObject(n, "listeners");
        for (int l = 0; l < nl; l++) {
            cJSON *e = cJSON_CreateObject();
            cJSON_AddStringToObject(e, "name", addrs[l].name);
            cJSON_AddStringToObject(e, "host", addrs[l].host);
            cJSON_AddNumberToObject(e, "port", sk_cluster_bound_port(b, i, l));
            cJSON_AddItemToArray(ls, e);
        }
        cJSON_AddItemToArray(brokers, n);
    }
    return o;
}

static void cluster_get(sk_http_req *r)
{
    sk_http_reply_json(r, 200, cluster_json(r->b));
}

/* The {} node id of the path, or -1 after answering 404. */
static int32_t node_param(sk_http_req *r)
{
    char *end;
    long v = strtol(r->params[0], &end, 10);
    if (*end || end == r->params[0] || v < 0 || v > INT32_MAX || !sk_cluster_node_id_known(r->b, (int32_t)v)) {
        sk_http_reply_error(r, 404, "not_found", "no broker %s", r->params[0]);
        return -1;
    }
    return (int32_t)v;
}

static void broker_set(sk_http_req *r, bool down)
{
    static const char *const fields[] = {"leaderless", NULL};
    char detail[256];
    bool leaderless = false;
    if (sk_jsonv_fields(r->body, fields, detail, sizeof detail) < 0 ||
        sk_jsonv_bool(r->body, "leaderless", &leaderless, detail, sizeof detail) < 0) {
        sk_http_reply_error(r, 400, "bad_request", "%s", detail);
        return;
    }
    int32_t id = node_param(r);
    if (id < 0)
        return;
    if (sk_cluster_set_down(r->b, id, down, leaderless) != SK_ERR_NONE) {
        sk_http_reply_error(r, 409, "conflict", "broker %d is the last broker up", id);
        return;
    }
    sk_http_reply_json(r, 200, cluster_json(r->b));
}

static void broker_down(sk_http_req *r)
{
    broker_set(r, true);
}

static void broker_up(sk_http_req *r)
{
    broker_set(r, false);
}

/* Reads the optional "node_id" of a move body; false after answering 400. */
static bool target_node(sk_http_req *r, int32_t *node)
{
    static const char *const fields[] = {"node_id", NULL};
    char detail[256];
    int64_t v = -1;
    if (sk_jsonv_fields(r->body, fields, detail, sizeof detail) < 0 ||
        sk_jsonv_int(r->body, "node_id", 0, INT32_MAX, &v, detail, sizeof detail) < 0) {
        sk_http_reply_error(r, 400, "bad_request", "%s", detail);
        return false;
    }
    *node = (int32_t)v;
    return true;
}

/* Moves a partition's leader and answers its route. */
static void move_and_reply(sk_http_req *r, const char *topic, int32_t partition, int32_t node, cJSON *extra)
{
    sk_route rt;
    int16_t err = sk_cluster_move_leader(r->b, topic, partition, node, &rt);
    if (err == SK_ERR_UNKNOWN_TOPIC_OR_PARTITION) {
        cJSON_Delete(extra);
        sk_http_reply_error(r, 404, "not_found", "no partition %d of topic %s", partition, topic);
        return;
    }
    if (err != SK_ERR_NONE) {
        cJSON_Delete(extra);
        sk_http_reply_error(r, 409, "conflict", "%s: broker %d is not a broker that is up (or no replica is up)",
                            sk_err_name(err), node);
        return;
    }
    cJSON *o = route_json(r->b, topic, partition, &rt);
    if (extra)
        cJSON_AddItemToObject(o, "coordinator_of", extra);
    sk_http_reply_json(r, 200, o);
}

/* The {} partition of the path, or -1 after answering 404. */
static int32_t partition_of(sk_http_req *r, const char *topic)
{
    sk_topic *t = sk_meta_topic(r->b->meta, topic, strlen(topic));
    char *end;
    long v = strtol(r->params[1], &end, 10);
    if (!t || *end || end == r->params[1] || v < 0 || v >= t->partitions) {
        sk_http_reply_error(r, 404, "not_found", "no partition %s of topic %s", r->params[1], topic);
        return -1;
    }
    return (int32_t)v;
}

static void partition_get(sk_http_req *r)
{
    const char *topic = r->params[0];
    int32_t p = partition_of(r, topic);
    if (p < 0)
        return;
    sk_topic *t = sk_meta_topic(r->b->meta, topic, strlen(topic));
    sk_route rt;
    sk_cluster_route(r->b, topic, t->partitions, p, &rt);
    sk_http_reply_json(r, 200, route_json(r->b, topic, p, &rt));
}

static void partition_move(sk_http_req *r)
{
    int32_t node;
    if (!target_node(r, &node))
        return;
    int32_t p = partition_of(r, r->params[0]);
    if (p >= 0)
        move_and_reply(r, r->params[0], p, node, NULL);
}

static void partition_leaderless(sk_http_req *r)
{
    static const char *const fields[] = {"duration_ms", NULL};
    char detail[256];
    int64_t ms = -1;
    int rc = sk_jsonv_fields(r->body, fields, detail, sizeof detail);
    if (rc == 0 && (rc = sk_jsonv_int(r->body, "duration_ms", 1, 3600000, &ms, detail, sizeof detail)) == 1)
        snprintf(detail, sizeof detail, "duration_ms is required");
    if (rc != 0) {
        sk_http_reply_error(r, 400, "bad_request", "%s", detail);
        return;
    }
    int32_t p = partition_of(r, r->params[0]);
    if (p < 0)
        return;
    sk_route rt;
    if (sk_cluster_leaderless(r->b, r->params[0], p, ms, &rt) != SK_ERR_NONE) {
        sk_http_reply_error(r, 409, "conflict", "only with skiff.cluster.brokers above 1");
        return;
    }
    sk_http_reply_json(r, 200, route_json(r->b, r->params[0], p, &rt));
}

static void leaders_shuffle(sk_http_req *r)
{
    static const char *const fields[] = {"seed", NULL};
    char detail[256];
    int64_t seed = 1;
    if (sk_jsonv_fields(r->body, fields, detail, sizeof detail) < 0 ||
        sk_jsonv_int(r->body, "seed", 0, UINT32_MAX, &seed, detail, sizeof detail) < 0) {
        sk_http_reply_error(r, 400, "bad_request", "%s", detail);
        return;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "moved", sk_cluster_shuffle(r->b, (uint32_t)seed));
    sk_http_reply_json(r, 200, o);
}

static void coordinator_move(sk_http_req *r, int type)
{
    int32_t node;
    if (!target_node(r, &node))
        return;
    const char *key = r->params[0];
    const char *topic = type == SK_COORD_GROUP ? "__consumer_offsets" : "__transaction_state";
    int32_t n = type == SK_COORD_GROUP ? r->b->config->offsets_topic_num_partitions
                                       : r->b->config->transaction_state_log_num_partitions;
    sk_topic *t = sk_meta_topic(r->b->meta, topic, strlen(topic));
    if (t)
        n = t->partitions;
    int32_t p = sk_group_partition_for(key, strlen(key), n);
    cJSON *extra = cJSON_CreateObject();
    cJSON_AddStringToObject(extra, type == SK_COORD_GROUP ? "group_id" : "transactional_id", key);
    move_and_reply(r, topic, p, node, extra);
}

static void group_coordinator_move(sk_http_req *r)
{
    coordinator_move(r, SK_COORD_GROUP);
}

static void txn_coordinator_move(sk_http_req *r)
{
    coordinator_move(r, SK_COORD_TXN);
}

const sk_http_route sk_http_routes_cluster[] = {
    {EVHTTP_REQ_GET, "/v1/cluster", cluster_get, false},
    {EVHTTP_REQ_POST, "/v1/cluster/brokers/{}/down", broker_down, true},
    {EVHTTP_REQ_POST, "/v1/cluster/brokers/{}/up", broker_up, true},
    {EVHTTP_REQ_POST, "/v1/cluster/leaders/shuffle", leaders_shuffle, true},
    {EVHTTP_REQ_GET, "/v1/cluster/topics/{}/partitions/{}", partition_get, false},
    {EVHTTP_REQ_POST, "/v1/cluster/topics/{}/partitions/{}/leader", partition_move, true},
    {EVHTTP_REQ_POST, "/v1/cluster/topics/{}/partitions/{}/leaderless", partition_leaderless, true},
    {EVHTTP_REQ_POST, "/v1/cluster/groups/{}/coordinator", group_coordinator_move, true},
    {EVHTTP_REQ_POST, "/v1/cluster/transactions/{}/coordinator", txn_coordinator_move, true},
    {0, NULL, NULL, false},
};
