/*
 * Routes: a subset of the Confluent REST Proxy v3 API (docs/rest.md):
 * clusters, brokers, topics (list, get, create, delete, configs), partitions,
 * produce (rest_produce.c), a partition read (rest_read.c, skiff's own),
 * and consumer groups with their consumers and lag. Shapes follow
 * Confluent's ("kind", "metadata", "data", {"related": url} links, given as
 * paths); errors are {"error_code", "message"} plus the Kafka error.
 * Writes go through the broker's Kafka handlers (CreateTopics,
 * DeleteTopics, IncrementalAlterConfigs), reads through DescribeConfigs or
 * the broker's state.
 */
#include <cjson/cJSON.h>
#include <event2/http.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kf_msgs.h"
#include "rest_int.h"
#include "skiff/cluster.h"
#include "skiff/errors.h"
#include "skiff/group.h"
#include "skiff/jsonv.h"
#include "skiff/logstore.h"
#include "skiff/meta.h"
#include "skiff/net.h"

#define RESOURCE_TOPIC 2 /* Kafka's ConfigResource.Type.TOPIC */

bool sk_rest_cluster_ok(sk_http_req *r)
{
    if (!strcmp(r->params[0], sk_meta_cluster_id(r->b->meta)))
        return true;
    sk_rest_error(r, 404, 404, -1, "Cluster %s not found", r->params[0]);
    return false;
}

static void add_metadata(cJSON *o, const char *self, const char *resource)
{
    cJSON *md = cJSON_AddObjectToObject(o, "metadata");
    cJSON_AddStringToObject(md, "self", self);
    if (resource)
        cJSON_AddStringToObject(md, "resource_name", resource);
}

/* ---- Clusters ----------------------------------------------------------- */

static cJSON *cluster_json(sk_broker *b)
{
    const char *id = sk_meta_cluster_id(b->meta);
    char self[128], crn[128];
    snprintf(self, sizeof self, "/v3/clusters/%s", id);
    snprintf(crn, sizeof crn, "crn:///kafka=%s", id);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "kind", "KafkaCluster");
    add_metadata(o, self, crn);
    cJSON_AddStringToObject(o, "cluster_id", id);
    cJSON_AddItemToObject(o, "controller", sk_rest_related(id, "/brokers/%d", sk_cluster_controller(b)));
    cJSON_AddItemToObject(o, "brokers", sk_rest_related(id, "/brokers"));
    cJSON_AddItemToObject(o, "topics", sk_rest_related(id, "/topics"));
    cJSON_AddItemToObject(o, "consumer_groups", sk_rest_related(id, "/consumer-groups"));
    return o;
}

static void clusters_list(sk_http_req *r)
{
    cJSON *data;
    cJSON *o = sk_rest_list("KafkaClusterList", "/v3/clusters", &data);
    cJSON_AddItemToArray(data, cluster_json(r->b));
    sk_http_reply_json(r, 200, o);
}

static void cluster_get(sk_http_req *r)
{
    if (sk_rest_cluster_ok(r))
        sk_http_reply_json(r, 200, cluster_json(r->b));
}

/* ---- Brokers ------------------------------------------------------------- */

/* The address Kafka clients are given: the first advertised.listeners entry,
 * else the first listener as bound ("localhost" for all interfaces). */
static void broker_address(sk_broker *b, sk_listener_addr *a)
{
    const char *why;
    const char *adv = b->config->advertised_listeners;
    if (adv && *adv && sk_listeners_parse(adv, a, 1, &why) >= 1)
        return;
    if (!sk_net_listener_at(b, 0, a))
        memset(a, 0, sizeof *a);
    if (!a->host[0])
        snprintf(a->host, sizeof a->host, "localhost");
}

/* Broker `node` (one of the cluster's, skiff.cluster.brokers): the address
 * Kafka clients are given for it: its advertised port (which moves with its
 * listener's, sk_cluster_advertised_port), else the port it bound. */
static cJSON *broker_json(sk_broker *b, int32_t node)
{
    const char *id = sk_meta_cluster_id(b->meta);
    char self[128], crn[128];
    snprintf(self, sizeof self, "/v3/clusters/%s/brokers/%d", id, node);
    snprintf(crn, sizeof crn, "crn:///kafka=%s/broker=%d", id, node);
    sk_listener_addr a;
    broker_address(b, &a);
    const char *adv = b->config->advertised_listeners;
    const char *rack = sk_cluster_rack(b, node);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "kind", "KafkaBroker");
    add_metadata(o, self, crn);
    cJSON_AddStringToObject(o, "cluster_id", id);
    cJSON_AddNumberToObject(o, "broker_id", node);
    cJSON_AddStringToObject(o, "host", a.host);
    int32_t port = a.port;
    if (adv && *adv)
        port = sk_cluster_advertised_port(b, node, 0, a.port, true);
    else if (sk_cluster_size(b) > 1) /* b->listeners holds every broker's: take this one's */
        port = sk_cluster_bound_port(b, node - sk_cluster_node_id(b, 0), 0);
    cJSON_AddNumberToObject(o, "port", port);
    if (rack)
        cJSON_AddStringToObject(o, "rack", rack);
    else
        cJSON_AddNullToObject(o, "rack");
    return o;
}

static void brokers_list(sk_http_req *r)
{
    if (!sk_rest_cluster_ok(r))
        return;
    char self[128];
    snprintf(self, sizeof self, "/v3/clusters/%s/brokers", r->params[0]);
    cJSON *data;
    cJSON *o = sk_rest_list("KafkaBrokerList", self, &data);
    int32_t up[SK_CLUSTER_MAX_BROKERS], n = sk_cluster_brokers_up(r->b, up);
    for (int32_t i = 0; i < n; i++)
        cJSON_AddItemToArray(data, broker_json(r->b, up[i]));
    sk_http_reply_json(r, 200, o);
}

static void broker_get(sk_http_req *r)
{
    if (!sk_rest_cluster_ok(r))
        return;
    char *end;
    long id = strtol(r->params[1], &end, 10);
    if (*end || id < 0 || id > INT32_MAX || !sk_cluster_node_up(r->b, (int32_t)id)) {
        sk_rest_error(r, 404, 404, -1, "Broker %s not found", r->params[1]);
        return;
    }
    sk_http_reply_json(r, 200, broker_json(r->b, (int32_t)id));
}

/* ---- Topics and partitions ---------------------------------------------- */

static cJSON *topic_json(sk_broker *b, const sk_topic *t)
{
    const char *id = sk_meta_cluster_id(b->meta);
    char self[600], crn[600];
    snprintf(self, sizeof self, "/v3/clusters/%s/topics/%s", id, t->name);
    snprintf(crn, sizeof crn, "crn:///kafka=%s/topic=%s", id, t->name);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "kind", "KafkaTopic");
    add_metadata(o, self, crn);
    cJSON_AddStringToObject(o, "cluster_id", id);
    cJSON_AddStringToObject(o, "topic_name", t->name);
    cJSON_AddBoolToObject(o, "is_internal", t->internal);
    cJSON_AddNumberToObject(o, "replication_factor", 1);
    cJSON_AddNumberToObject(o, "partitions_count", t->partitions);
    cJSON_AddItemToObject(o, "partitions", sk_rest_related(id, "/topics/%s/partitions", t->name));
    cJSON_AddItemToObject(o, "configs", sk_rest_related(id, "/topics/%s/configs", t->name));
    return o;
}

typedef struct topic_walk {
    sk_broker *b; /* the broker listed (borrowed) */
    cJSON *data;  /* the list's data array the topics are added to (borrowed) */
} topic_walk;

static void add_topic(sk_topic *t, void *arg)
{
    topic_walk *w = arg;
    cJSON_AddItemToArray(w->data, topic_json(w->b, t));
}

static void topics_list(sk_http_req *r)
{
    if (!sk_rest_cluster_ok(r))
        return;
    char self[128];
    snprintf(self, sizeof self, "/v3/clusters/%s/topics", r->params[0]);
    cJSON *data;
    cJSON *o = sk_rest_list("KafkaTopicList", self, &data);
    topic_walk w = {r->b, data};
    sk_meta_foreach(r->b->meta, add_topic, &w);
    sk_http_reply_json(r, 200, o);
}

/* The topic of r->params[1]; NULL after a 404. */
static sk_topic *topic_or_404(sk_http_req *r)
{
    sk_topic *t = sk_meta_topic(r->b->meta, r->params[1], strlen(r->params[1]));
    if (!t)
        sk_rest_error(r, 404, 40403, SK_ERR_UNKNOWN_TOPIC_OR_PARTITION,
                      "This server does not host this topic-partition: no topic %s", r->params[1]);
    return t;
}

static void topic_get(sk_http_req *r)
{
    sk_topic *t;
    if (sk_rest_cluster_ok(r) && (t = topic_or_404(r)))
        sk_http_reply_json(r, 200, topic_json(r->b, t));
}

static cJSON *partition_json(sk_broker *b, const sk_topic *t, int32_t i)
{
    const char *id = sk_meta_cluster_id(b->meta);
    char self[600], crn[600];
    snprintf(self, sizeof self, "/v3/clusters/%s/topics/%s/partitions/%d", id, t->name, i);
    snprintf(crn, sizeof crn, "crn:///kafka=%s/topic=%s/partition=%d", id, t->name, i);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "kind", "KafkaPartition");
    add_metadata(o, self, crn);
    cJSON_AddStringToObject(o, "cluster_id", id);
    cJSON_AddStringToObject(o, "topic_name", t->name);
    cJSON_AddNumberToObject(o, "partition_id", i);
    cJSON_AddItemToObject(o, "leader", sk_rest_related(id, "/brokers/%d", b->config->node_id));
    return o;
}

static void partitions_list(sk_http_req *r)
{
    sk_topic *t;
    if (!sk_rest_cluster_ok(r) || !(t = topic_or_404(r)))
        return;
    char self[600];
    snprintf(self, sizeof self, "/v3/clusters/%s/topics/%s/partitions", r->params[0], t->name);
    cJSON *data;
    cJSON *o = sk_rest_list("KafkaPartitionList", self, &data);
    for (int32_t i = 0; i < t->partitions; i++)
        cJSON_AddItemToArray(data, partition_json(r->b, t, i));
    sk_http_reply_json(r, 200, o);
}

static void partition_get(sk_http_req *r)
{
    sk_topic *t;
    if (!sk_rest_cluster_ok(r) || !(t = topic_or_404(r)))
        return;
    char *end;
    long i = strtol(r->params[2], &end, 10);
    if (*end || i < 0 || i >= t->partitions) {
        sk_rest_error(r, 404, 40402, SK_ERR_UNKNOWN_TOPIC_OR_PARTITION, "Partition %s of %s not found", r->params[2],
                      t->name);
        return;
    }
    sk_http_reply_json(r, 200, partition_json(r->b, t, (int32_t)i));
}

/* ---- Topic create, delete, configs (through the Kafka handlers) ---------- */

static void created(sk_http_req *r, const void *resp_, void *ctx)
{
    (void)ctx;
    const kf_create_topics_response *resp = resp_;
    const kf_create_topics_response_creatable_topic_result *res =
        resp && resp->topics.n == 1 ? &resp->topics.items[0] : NULL;
    if (!res || res->error_code != SK_ERR_NONE) {
        int16_t err = res ? res->error_code : SK_ERR_UNKNOWN_SERVER_ERROR;
        sk_rest_kafka_error(r, err, res && res->error_message.p ? res->error_message.p : NULL);
        return;
    }
    sk_topic *t = res->name.p ? sk_meta_topic(r->b->meta, res->name.p, (size_t)res->name.len) : NULL;
    if (!t) {
        sk_rest_kafka_error(r, SK_ERR_UNKNOWN_TOPIC_OR_PARTITION, "the topic was deleted meanwhile");
        return;
    }
    sk_http_reply_json(r, 201, topic_json(r->b, t));
}

static void topic_create(sk_http_req *r)
{
    static const char *const fields[] = {"topic_name", "partitions_count", "replication_factor", "configs", NULL};
    char detail[256];
    const char *name = NULL;
    int64_t partitions = -1, rf = -1;
    if (!sk_rest_cluster_ok(r))
        return;
    if (sk_jsonv_fields(r->body, fields, detail, sizeof detail) < 0 ||
        sk_jsonv_str(r->body, "topic_name", &name, detail, sizeof detail) < 0 ||
        sk_jsonv_int(r->body, "partitions_count", 1, INT32_MAX, &partitions, detail, sizeof detail) < 0 ||
        sk_jsonv_int(r->body, "replication_factor", -1, INT16_MAX, &rf, detail, sizeof detail) < 0) {
        sk_rest_error(r, 400, 400, -1, "%s", detail);
        return;
    }
    const cJSON *configs = cJSON_GetObjectItemCaseSensitive(r->body, "configs");
    if (!name || (configs && !cJSON_IsArray(configs))) {
        sk_rest_error(r, 400, 400, -1, "give topic_name, and configs as [{\"name\", \"value\"}]");
        return;
    }
    sk_request *kreq = sk_rest_request(r, KF_API_CREATE_TOPICS);
    if (!kreq)
        return;
    kf_create_topics_request *body = kreq->body;
    sk_arena *a = &kreq->arena;
    int nconf = configs ? cJSON_GetArraySize(configs) : 0;
    kf_create_topics_request_creatable_topic *ct = sk_arena_alloc(a, sizeof *ct);
    kf_create_topics_request_creatable_topic_config *cc = sk_arena_alloc(a, (size_t)nconf * sizeof *cc + 1);
    if (!ct || !cc) {
        sk_rest_oom(r, kreq);
        return;
    }
    kf_init(&kf_create_topics_request_creatable_topic_desc, ct);
    ct->name = kf_str_c(sk_arena_strndup(a, name, strlen(name)));
    ct->num_partitions = (int32_t)partitions;
    ct->replication_factor = (int16_t)rf;
    int k = 0;
    for (const cJSON *c = configs ? configs->child : NULL; c; c = c->next, k++) {
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(c, "name"), *v = cJSON_GetObjectItemCaseSensitive(c, "value");
        if (!cJSON_IsString(n) || (v && !cJSON_IsString(v) && !cJSON_IsNull(v))) {
            sk_request_local_free(kreq);
            sk_rest_error(r, 400, 400, -1, "configs: each must be {\"name\": string, \"value\": string}");
            return;
        }
        cc[k].name = kf_str_c(sk_arena_strndup(a, n->valuestring, strlen(n->valuestring)));
        cc[k].value =
            cJSON_IsString(v) ? kf_str_c(sk_arena_strndup(a, v->valuestring, strlen(v->valuestring))) : kf_str_c(NULL);
    }
    ct->configs.items = cc;
    ct->configs.n = nconf;
    body->topics.items = ct;
    body->topics.n = 1;
    body->timeout_ms = 30000;
    sk_rest_call(r, kreq, created, NULL);
}

static void deleted(sk_http_req *r, const void *resp_, void *ctx)
{
    (void)ctx;
    const kf_delete_topics_response *resp = resp_;
    const kf_delete_topics_response_deletable_topic_result *res =
        resp && resp->responses.n == 1 ? &resp->responses.items[0] : NULL;
    sk_rest_reply_outcome(r, res, res ? res->error_code : 0, res ? res->error_message.p : NULL);
}

static void topic_delete(sk_http_req *r)
{
    if (!sk_rest_cluster_ok(r))
        return;
    sk_request *kreq = sk_rest_request(r, KF_API_DELETE_TOPICS);
    if (!kreq)
        return;
    kf_delete_topics_request *body = kreq->body;
    kf_delete_topics_request_delete_topic_state *ts = sk_arena_alloc(&kreq->arena, sizeof *ts);
    kf_str *names = sk_arena_alloc(&kreq->arena, sizeof *names);
    if (!ts || !names) {
        sk_rest_oom(r, kreq);
        return;
    }
    memset(ts, 0, sizeof *ts);
    ts->name = kf_str_c(sk_arena_strndup(&kreq->arena, r->params[1], strlen(r->params[1])));
    *names = ts->name;
    body->topics.items = ts; /* v6+ */
    body->topics.n = 1;
    body->topic_names.items = names; /* v0-5 */
    body->topic_names.n = 1;
    body->timeout_ms = 30000;
    sk_rest_call(r, kreq, deleted, NULL);
}

static const char *const config_sources[] = {"UNKNOWN",
                                             "DYNAMIC_TOPIC_CONFIG",
                                             "DYNAMIC_BROKER_CONFIG",
                                             "DYNAMIC_DEFAULT_BROKER_CONFIG",
                                             "STATIC_BROKER_CONFIG",
                                             "DEFAULT_CONFIG",
                                             "DYNAMIC_BROKER_LOGGER_CONFIG",
                                             "CLIENT_METRICS_CONFIG",
                                             "GROUP_CONFIG"};

static void configs_described(sk_http_req *r, const void *resp_, void *ctx)
{
    (void)ctx;
    const kf_describe_configs_response *resp = resp_;
    const kf_describe_configs_response_describe_configs_result *res =
        resp && resp->results.n == 1 ? &resp->results.items[0] : NULL;
    if (!res || res->error_code != SK_ERR_NONE) {
        int16_t err = res ? res->error_code : SK_ERR_UNKNOWN_SERVER_ERROR;
        sk_rest_kafka_error(r, err, res && res->error_message.p ? res->error_message.p : NULL);
        return;
    }
    const char *id = sk_meta_cluster_id(r->b->meta);
    char self[600];
    snprintf(self, sizeof self, "/v3/clusters/%s/topics/%s/configs", id, res->resource_name.p);
    cJSON *data;
    cJSON *o = sk_rest_list("KafkaTopicConfigList", self, &data);
    for (int32_t i = 0; i < res->configs.n; i++) {
        const kf_describe_configs_response_describe_configs_resource_result *c = &res->configs.items[i];
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "kind", "KafkaTopicConfig");
        cJSON_AddStringToObject(e, "cluster_id", id);
        cJSON_AddStringToObject(e, "topic_name", res->resource_name.p);
        cJSON_AddStringToObject(e, "name", c->name.p ? c->name.p : "");
        if (c->value.p)
            cJSON_AddStringToObject(e, "value", c->value.p);
        else
            cJSON_AddNullToObject(e, "value");
        int src = c->config_source >= 0 && c->config_source < 9 ? c->config_source : 0;
        cJSON_AddBoolToObject(e, "is_default", src == 5 || src == 4);
        cJSON_AddBoolToObject(e, "is_read_only", c->read_only);
        cJSON_AddBoolToObject(e, "is_sensitive", c->is_sensitive);
        cJSON_AddStringToObject(e, "source", config_sources[src]);
        cJSON_AddItemToArray(data, e);
    }
    sk_http_reply_json(r, 200, o);
}

static void configs_get(sk_http_req *r)
{
    sk_topic *t;
    if (!sk_rest_cluster_ok(r) || !(t = topic_or_404(r)))
        return;
    sk_request *kreq = sk_rest_request(r, KF_API_DESCRIBE_CONFIGS);
    if (!kreq)
        return;
    kf_describe_configs_request *body = kreq->body;
    kf_describe_configs_request_describe_configs_resource *res = sk_arena_alloc(&kreq->arena, sizeof *res);
    if (!res) {
        sk_rest_oom(r, kreq);
        return;
    }
    res->resource_type = RESOURCE_TOPIC;
    res->resource_name = kf_str_c(sk_arena_strndup(&kreq->arena, t->name, strlen(t->name)));
    res->configuration_keys.items = NULL;
    res->configuration_keys.n = -1;
    body->resources.items = res;
    body->resources.n = 1;
    sk_rest_call(r, kreq, configs_described, NULL);
}

static void configs_altered(sk_http_req *r, const void *resp_, void *ctx)
{
    (void)ctx;
    const kf_incremental_alter_configs_response *resp = resp_;
    const kf_incremental_alter_configs_response_alter_configs_resource_response *res =
        resp && resp->responses.n == 1 ? &resp->responses.items[0] : NULL;
    sk_rest_reply_outcome(r, res, res ? res->error_code : 0, res ? res->error_message.p : NULL);
}

/* POST .../configs:alter {"data": [{"name", "value", "operation": "SET"|"DELETE"}]} */
static void configs_alter(sk_http_req *r)
{
    static const char *const fields[] = {"data", "validate_only", NULL};
    char detail[256];
    sk_topic *t;
    if (!sk_rest_cluster_ok(r) || !(t = topic_or_404(r)))
        return;
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(r->body, "data");
    if (sk_jsonv_fields(r->body, fields, detail, sizeof detail) < 0 || !cJSON_IsArray(data)) {
        sk_rest_error(r, 400, 400, -1, "the body must be {\"data\": [{\"name\", \"value\", \"operation\"}]}");
        return;
    }
    sk_request *kreq = sk_rest_request(r, KF_API_INCREMENTAL_ALTER_CONFIGS);
    if (!kreq)
        return;
    sk_arena *a = &kreq->arena;
    int n = cJSON_GetArraySize(data), k = 0;
    kf_incremental_alter_configs_request *body = kreq->body;
    kf_incremental_alter_configs_request_alter_configs_resource *res = sk_arena_alloc(a, sizeof *res);
    kf_incremental_alter_configs_request_alterable_config *cs = sk_arena_alloc(a, (size_t)n * sizeof *cs + 1);
    if (!res || !cs) {
        sk_rest_oom(r, kreq);
        return;
    }
    for (const cJSON *c = data->child; c; c = c->next, k++) {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(c, "name");
        const cJSON *value = cJSON_GetObjectItemCaseSensitive(c, "value");
        const cJSON *op = cJSON_GetObjectItemCaseSensitive(c, "operation");
        bool del = cJSON_IsString(op) && !strcmp(op->valuestring, "DELETE");
        if (!cJSON_IsString(name) || (op && !del && (!cJSON_IsString(op) || strcmp(op->valuestring, "SET"))) ||
            (!del && !cJSON_IsString(value))) {
            sk_request_local_free(kreq);
            sk_rest_error(r, 400, 400, -1, "data[%d]: give name, operation SET (with a string value) or DELETE", k);
            return;
        }
        cs[k].name = kf_str_c(sk_arena_strndup(a, name->valuestring, strlen(name->valuestring)));
        cs[k].config_operation = del ? 1 : 0; /* Kafka's AlterConfigOp.OpType: SET 0, DELETE 1 */
        cs[k].value =
            del ? kf_str_c(NULL) : kf_str_c(sk_arena_strndup(a, value->valuestring, strlen(value->valuestring)));
    }
    res->resource_type = RESOURCE_TOPIC;
    res->resource_name = kf_str_c(sk_arena_strndup(a, t->name, strlen(t->name)));
    res->configs.items = cs;
    res->configs.n = n;
    body->resources.items = res;
    body->resources.n = 1;
    body->validate_only = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r->body, "validate_only"));
    sk_rest_call(r, kreq, configs_altered, NULL);
}

/* ---- Consumer groups and lag -------------------------------------------- */

static cJSON *group_json(sk_broker *b, const kf_list_groups_response_group *g)
{
    const char *id = sk_meta_cluster_id(b->meta);
    char self[600];
    snprintf(self, sizeof self, "/v3/clusters/%s/consumer-groups/%s", id, g->group_id.p);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "kind", "KafkaConsumerGroup");
    add_metadata(o, self, NULL);
    cJSON_AddStringToObject(o, "cluster_id", id);
    cJSON_AddStringToObject(o, "consumer_group_id", g->group_id.p);
    cJSON_AddBoolToObject(o, "is_simple", !g->protocol_type.p || !g->protocol_type.len);
    cJSON_AddStringToObject(o, "state", g->group_state.p ? g->group_state.p : "Unknown");
    cJSON_AddStringToObject(o, "type", g->group_type.p ? g->group_type.p : "classic");
    cJSON_AddItemToObject(o, "coordinator", sk_rest_related(id, "/brokers/%d", b->config->node_id));
    cJSON_AddItemToObject(o, "consumers", sk_rest_related(id, "/consumer-groups/%s/consumers", g->group_id.p));
    cJSON_AddItemToObject(o, "lag_summary", sk_rest_related(id, "/consumer-groups/%s/lag-summary", g->group_id.p));
    return o;
}

static void groups_list(sk_http_req *r)
{
    if (!sk_rest_cluster_ok(r))
        return;
    sk_arena arena;
    sk_arena_init(&arena);
    kf_list_groups_response_group *gs = NULL;
    int32_t n = sk_groups_list(r->b->groups, NULL, 0, NULL, 0, &gs, &arena);
    char self[128];
    snprintf(self, sizeof self, "/v3/clusters/%s/consumer-groups", r->params[0]);
    cJSON *data;
    cJSON *o = sk_rest_list("KafkaConsumerGroupList", self, &data);
    for (int32_t i = 0; i < n; i++)
        cJSON_AddItemToArray(data, group_json(r->b, &gs[i]));
    sk_arena_free(&arena);
    sk_http_reply_json(r, 200, o);
}

/* The group of r->params[1] as listed, in `arena`; false after a 404. */
static bool group_or_404(sk_http_req *r, sk_arena *arena, kf_list_groups_response_group *out)
{
    kf_list_groups_response_group *gs = NULL;
    int32_t n = sk_groups_list(r->b->groups, NULL, 0, NULL, 0, &gs, arena);
    for (int32_t i = 0; i < n; i++) {
        if (kf_str_eq(gs[i].group_id, r->params[1])) {
            *out = gs[i];
            return true;
        }
    }
    sk_arena_free(arena);
    sk_rest_error(r, 404, 40403, SK_ERR_GROUP_ID_NOT_FOUND, "Consumer group %s not found", r->params[1]);
    return false;
}

static void group_get(sk_http_req *r)
{
    sk_arena arena;
    sk_arena_init(&arena);
    kf_list_groups_response_group g;
    if (!sk_rest_cluster_ok(r) || !group_or_404(r, &arena, &g))
        return;
    cJSON *o = group_json(r->b, &g);
    sk_arena_free(&arena);
    sk_http_reply_json(r, 200, o);
}

/* The member of `group` (sk_http_group_json) assigned topic-partition, or NULL. */
static const cJSON *assigned_to(const cJSON *group, const char *topic, int32_t partition)
{
    const cJSON *m;
    cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(group, "members"))
    {
        const cJSON *p;
        cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(m, "assignment"),
                                                               topic)) if (cJSON_IsNumber(p) &&
                                                                           p->valueint == partition) return m;
    }
    return NULL;
}

/* Copies member field `from` of `m` (a string or null) to `o` as `name`. */
static void add_member_field(cJSON *o, const char *name, const cJSON *m, const char *from)
{
    const cJSON *v = m ? cJSON_GetObjectItemCaseSensitive(m, from) : NULL;
    cJSON_AddItemToObject(o, name, cJSON_IsString(v) ? cJSON_CreateString(v->valuestring) : cJSON_CreateNull());
}

/* The lag of every partition with a committed offset: a list of
 * KafkaConsumerLag (summary false) or the KafkaConsumerGroupLagSummary. */
static void group_lags(sk_http_req *r, bool summary)
{
    sk_arena arena;
    sk_arena_init(&arena);
    kf_list_groups_response_group g;
    if (!sk_rest_cluster_ok(r) || !group_or_404(r, &arena, &g))
        return;
    const char *id = sk_meta_cluster_id(r->b->meta);
    kf_offset_fetch_response_group og;
    kf_init(&kf_offset_fetch_response_group_desc, &og);
    cJSON *dg = sk_http_group_json(r->b, r->params[1], true);
    if (sk_group_fetch_offsets(r->b->groups, g.group_id, NULL, -1, false, &og, &arena) < 0 || !dg) {
        cJSON_Delete(dg);
        sk_arena_free(&arena);
        sk_rest_error(r, 500, 50002, -1, "out of memory");
        return;
    }
    char self[600];
    snprintf(self, sizeof self, "/v3/clusters/%s/consumer-groups/%s/lags", id, r->params[1]);
    cJSON *data;
    cJSON *list = sk_rest_list("KafkaConsumerLagList", self, &data);
    int64_t total = 0, max = -1;
    cJSON *max_entry = NULL;
    for (int32_t t = 0; t < og.topics.n; t++) {
        const kf_offset_fetch_response_group_topic *tp = &og.topics.items[t];
        for (int32_t i = 0; i < tp->partitions.n; i++) {
            const kf_offset_fetch_response_group_partition *pp = &tp->partitions.items[i];
            sk_partition *p = tp->name.p ? sk_logstore_find(r->b->logs, tp->name.p, pp->partition_index) : NULL;
            if (!p || pp->committed_offset < 0 || sk_partition_ensure_loaded(p) != SK_ERR_NONE)
                continue;
            int64_t end = sk_partition_high_watermark(p), lag = end - pp->committed_offset;
            lag = lag > 0 ? lag : 0;
            const cJSON *who = assigned_to(dg, tp->name.p, pp->partition_index);
            cJSON *e = cJSON_CreateObject();
            cJSON_AddStringToObject(e, "kind", "KafkaConsumerLag");
            cJSON_AddStringToObject(e, "cluster_id", id);
            cJSON_AddStringToObject(e, "consumer_group_id", r->params[1]);
            cJSON_AddStringToObject(e, "topic_name", tp->name.p);
            cJSON_AddNumberToObject(e, "partition_id", pp->partition_index);
            cJSON_AddNumberToObject(e, "current_offset", (double)pp->committed_offset);
            cJSON_AddNumberToObject(e, "log_end_offset", (double)end);
            cJSON_AddNumberToObject(e, "lag", (double)lag);
            add_member_field(e, "consumer_id", who, "member_id");
            add_member_field(e, "instance_id", who, "group_instance_id");
            add_member_field(e, "client_id", who, "client_id");
            cJSON_AddItemToArray(data, e);
            total += lag;
            if (lag > max) {
                max = lag;
                max_entry = e;
            }
        }
    }
    cJSON_Delete(dg);
    if (!summary) {
        sk_arena_free(&arena);
        sk_http_reply_json(r, 200, list);
        return;
    }
    cJSON *o = cJSON_CreateObject();
    snprintf(self, sizeof self, "/v3/clusters/%s/consumer-groups/%s/lag-summary", id, r->params[1]);
    cJSON_AddStringToObject(o, "kind", "KafkaConsumerGroupLagSummary");
    add_metadata(o, self, NULL);
    cJSON_AddStringToObject(o, "cluster_id", id);
    cJSON_AddStringToObject(o, "consumer_group_id", r->params[1]);
    static const char *const copied[][2] = {{"max_lag_consumer_id", "consumer_id"},
                                            {"max_lag_instance_id", "instance_id"},
                                            {"max_lag_client_id", "client_id"},
                                            {"max_lag_topic_name", "topic_name"},
                                            {"max_lag_partition_id", "partition_id"}};
    for (size_t k = 0; k < sizeof copied / sizeof copied[0]; k++) {
        const cJSON *v = max_entry ? cJSON_GetObjectItemCaseSensitive(max_entry, copied[k][1]) : NULL;
        cJSON_AddItemToObject(o, copied[k][0], v ? cJSON_Duplicate(v, true) : cJSON_CreateNull());
    }
    cJSON_AddNumberToObject(o, "max_lag", (double)(max < 0 ? 0 : max));
    cJSON_AddNumberToObject(o, "total_lag", (double)total);
    cJSON_Delete(list);
    sk_arena_free(&arena);
    sk_http_reply_json(r, 200, o);
}

static void group_lags_list(sk_http_req *r)
{
    group_lags(r, false);
}

static void group_lag_summary(sk_http_req *r)
{
    group_lags(r, true);
}

static void group_consumers(sk_http_req *r)
{
    sk_arena arena;
    sk_arena_init(&arena);
    kf_list_groups_response_group g;
    if (!sk_rest_cluster_ok(r) || !group_or_404(r, &arena, &g))
        return;
    sk_arena_free(&arena);
    const char *id = sk_meta_cluster_id(r->b->meta);
    char self[600];
    snprintf(self, sizeof self, "/v3/clusters/%s/consumer-groups/%s/consumers", id, r->params[1]);
    cJSON *data;
    cJSON *o = sk_rest_list("KafkaConsumerList", self, &data);
    cJSON *dg = sk_http_group_json(r->b, r->params[1], true); /* classic or consumer (KIP-848) */
    const cJSON *m;
    cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(dg, "members"))
    {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "kind", "KafkaConsumer");
        cJSON_AddStringToObject(e, "cluster_id", id);
        cJSON_AddStringToObject(e, "consumer_group_id", r->params[1]);
        add_member_field(e, "consumer_id", m, "member_id");
        add_member_field(e, "instance_id", m, "group_instance_id");
        add_member_field(e, "client_id", m, "client_id");
        add_member_field(e, "client_host", m, "client_host");
        cJSON_AddItemToArray(data, e);
    }
    cJSON_Delete(dg);
    sk_http_reply_json(r, 200, o);
}

const sk_http_route sk_http_routes_rest[] = {
    {EVHTTP_REQ_GET, "/v3/clusters", clusters_list, false},
    {EVHTTP_REQ_GET, "/v3/clusters/{}", cluster_get, false},
    {EVHTTP_REQ_GET, "/v3/clusters/{}/brokers", brokers_list, false},
    {EVHTTP_REQ_GET, "/v3/clusters/{}/brokers/{}", broker_get, false},
    {EVHTTP_REQ_GET, "/v3/clusters/{}/topics", topics_list, false},
    {EVHTTP_REQ_POST, "/v3/clusters/{}/topics", topic_create, true},
    {EVHTTP_REQ_GET, "/v3/clusters/{}/topics/{}", topic_get, false},
    {EVHTTP_REQ_DELETE, "/v3/clusters/{}/topics/{}", topic_delete, false},
    {EVHTTP_REQ_GET, "/v3/clusters/{}/topics/{}/configs", configs_get, false},
    {EVHTTP_REQ_POST, "/v3/clusters/{}/topics/{}/configs:alter", configs_alter, true},
    {EVHTTP_REQ_GET, "/v3/clusters/{}/topics/{}/partitions", partitions_list, false},
    {EVHTTP_REQ_GET, "/v3/clusters/{}/topics/{}/partitions/{}", partition_get, false},
    {EVHTTP_REQ_GET, "/v3/clusters/{}/topics/{}/partitions/{}/records", sk_rest_read, false},
    {EVHTTP_REQ_POST, "/v3/clusters/{}/topics/{}/records", sk_rest_produce, false},
    {EVHTTP_REQ_GET, "/v3/clusters/{}/consumer-groups", groups_list, false},
    {EVHTTP_REQ_GET, "/v3/clusters/{}/consumer-groups/{}", group_get, false},
    {EVHTTP_REQ_GET, "/v3/clusters/{}/consumer-groups/{}/consumers", group_consumers, false},
    {EVHTTP_REQ_GET, "/v3/clusters/{}/consumer-groups/{}/lags", group_lags_list, false},
    {EVHTTP_REQ_GET, "/v3/clusters/{}/consumer-groups/{}/lag-summary", group_lag_summary, false},
    {0, NULL, NULL, false},
};
