/*
 * Topic administration: CreateTopics v0-7, DeleteTopics v0-6 and
 * CreatePartitions v0-3, answered as Kafka 4.0's controller answers them
 * (ControllerApis, ReplicationControlManager), on the brokers of skiff/cluster.h.
 *
 * CreateTopics, per distinct topic name, in Kafka's order of checks:
 * - a name given twice: INVALID_REQUEST "Duplicate topic name.";
 *   __cluster_metadata: INVALID_REQUEST;
 * - an invalid name: INVALID_TOPIC_EXCEPTION; a name colliding with an
 *   existing one ('.' vs '_'): INVALID_TOPIC_EXCEPTION; an existing topic:
 *   TOPIC_ALREADY_EXISTS;
 * - configs: a null value, an unknown name, a bad value or a rule across
 *   configs: INVALID_CONFIG with Kafka's message;
 * - a manual assignment needs num_partitions and replication_factor -1
 *   (INVALID_REQUEST), partitions 0..n-1 each given once and replica lists
 *   of distinct brokers (skiff/cluster.h), all as long as the first, each
 *   with a broker up (INVALID_REPLICA_ASSIGNMENT); the partitions are placed
 *   there;
 * - otherwise replication_factor 0 or < -1: INVALID_REPLICATION_FACTOR;
 *   num_partitions 0 or < -1: INVALID_PARTITIONS; -1 takes num.partitions /
 *   default.replication.factor; a factor above the brokers that are up
 *   (skiff/cluster.h) cannot be placed: INVALID_REPLICATION_FACTOR.
 * More than SK_ADMIN_MAX_RECORDS topics + configs + partitions in one
 * request fails every topic with POLICY_VIOLATION, as Kafka's controller.
 * validate_only answers the same without creating anything. v5+ answers
 * carry the partition count, the replication factor and every config with
 * its source; v7 the topic id.
 *
 * DeleteTopics deletes by name (v0-5) or by name or id (v6): unknown names
 * are UNKNOWN_TOPIC_OR_PARTITION, unknown ids UNKNOWN_TOPIC_ID, duplicates
 * and malformed entries INVALID_REQUEST. The topic leaves the catalog at
 * once; its logs are removed in the background.
 *
 * CreatePartitions grows topics (INVALID_PARTITIONS when the count is not
 * larger), with optional assignments checked as for CreateTopics (each as
 * long as partition 0's replica list) and placed there.
 *
 * skiff's one deviation: internal topics (__consumer_offsets,
 * __transaction_state) belong to its coordinators and can be neither deleted
 * nor grown: TOPIC_AUTHORIZATION_FAILED, as for a principal without the
 * right (Kafka 4.0 lets a super user do both, and breaks its groups).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "kf_msgs.h"
#include "skiff/cluster.h"
#include "skiff/errors.h"
#include "skiff/trace.h"
#include "skiff/topics.h"

#define CLUSTER_METADATA_TOPIC "__cluster_metadata"
#define INTERNAL_MSG "skiff's coordinators own the internal topics: they cannot be deleted or grown"

/* ---- CreateTopics ------------------------------------------------------- */

/* What the first pass decided for one requested topic. */
typedef struct topic_plan {
    int16_t err;              /* NONE: create it */
    kf_str msg;               /* error message */
    int32_t partitions;       /* resolved count */
    int32_t rf;               /* resolved replication factor (1 with a manual assignment) */
    sk_topic_configs configs; /* validated overrides (heap; freed at the end) */
} topic_plan;

/* Validates the configs of one topic into plan->configs. */
static int16_t plan_configs(sk_request *req, const kf_create_topics_request_creatable_topic *in, topic_plan *plan)
{
    char msg[1024];
    size_t o = 0;
    for (int32_t i = 0; i < in->configs.n; i++) {
        const kf_create_topics_request_creatable_topic_config *c = &in->configs.items[i];
        if (!c->value.p && o < sizeof msg)
            o += (size_t)snprintf(msg + o, sizeof msg - o, "%s%s", o ? "," : "", c->name.p);
    }
    if (o > 0) {
        plan->msg = sk_admin_printf(req, "Null value not supported for topic configs: %s", msg);
        return SK_ERR_INVALID_CONFIG;
    }
    for (int32_t i = 0; i < in->configs.n; i++) {
        const kf_create_topics_request_creatable_topic_config *c = &in->configs.items[i];
        if (sk_topic_config_find(c->name.p, (size_t)c->name.len) < 0) {
            plan->msg = sk_admin_printf(req, "Unknown topic config name: %s", c->name.p);
            return SK_ERR_INVALID_CONFIG;
        }
    }
    for (int32_t i = 0; i < in->configs.n; i++) {
        const kf_create_topics_request_creatable_topic_config *c = &in->configs.items[i];
        int16_t err = sk_topic_configs_set(&plan->configs, c->name.p, c->value.p, msg, sizeof msg);
        if (err != SK_ERR_NONE) {
            plan->msg = sk_admin_str(req, msg);
            return err;
        }
    }
    int16_t err = sk_topic_configs_check(&plan->configs, req->broker->config, msg, sizeof msg);
    if (err != SK_ERR_NONE)
        plan->msg = sk_admin_str(req, msg);
    return err;
}

/* Checks a manual assignment; sets plan->partitions. */
static int16_t plan_assignments(sk_request *req, const kf_create_topics_request_creatable_topic *in, topic_plan *plan)
{
    if (in->replication_factor != -1) {
        plan->msg = kf_str_c("A manual partition assignment was specified, but replication factor was not set "
                             "to -1.");
        return SK_ERR_INVALID_REQUEST;
    }
    if (in->num_partitions != -1) {
        plan->msg = kf_str_c("A manual partition assignment was specified, but numPartitions was not set to -1.");
        return SK_ERR_INVALID_REQUEST;
    }
    int32_t n = in->assignments.n, rf = 0;
    uint8_t *seen = sk_arena_alloc(&req->arena, (size_t)n);
    if (!seen)
        return SK_ERR_KAFKA_STORAGE_ERROR;
    int32_t in_range = 0;
    for (int32_t i = 0; i < n; i++) {
        const kf_create_topics_request_creatable_replica_assignment *a = &in->assignments.items[i];
        bool inside = a->partition_index >= 0 && a->partition_index < n, twice = inside && seen[a->partition_index];
        for (int32_t k = 0; !inside && !twice && k < i; k++) /* out of range: compare with the earlier ones */
            twice = in->assignments.items[k].partition_index == a->partition_index;
        if (twice) {
            plan->msg = sk_admin_printf(req, "Found multiple manual partition assignments for partition %d",
                                        a->partition_index);
            return SK_ERR_INVALID_REPLICA_ASSIGNMENT;
        }
        int16_t err =
            sk_admin_check_replicas(req, a->broker_ids.items, a->broker_ids.n, rf, a->partition_index, &plan->msg);
        if (err != SK_ERR_NONE)
            return err;
        rf = a->broker_ids.n;
        if (inside) {
            seen[a->partition_index] = 1;
            in_range++;
        }
    }
    if (in_range != n) {
        plan->msg = kf_str_c("partitions should be a consecutive 0-based integer sequence");
        return SK_ERR_INVALID_REPLICA_ASSIGNMENT;
    }
    plan->partitions = n;
    plan->rf = rf;
    return SK_ERR_NONE;
}

/* Places the partitions of a created topic as its manual assignment says. */
static int place_assignments(sk_request *req, const sk_topic *t, const kf_create_topics_request_creatable_topic *in)
{
    for (int32_t i = 0; i < in->assignments.n; i++) {
        const kf_create_topics_request_creatable_replica_assignment *a = &in->assignments.items[i];
        if (sk_cluster_place(req->broker, t->name, t->partitions, a->partition_index, a->broker_ids.items,
                             a->broker_ids.n) < 0)
            return -1;
    }
    return 0;
}

static int16_t plan_topic(sk_request *req, const kf_create_topics_request_creatable_topic *in, topic_plan *plan)
{
    sk_broker *b = req->broker;
    char msg[512];
    if (kf_str_eq(in->name, CLUSTER_METADATA_TOPIC)) {
        plan->msg = kf_str_c("Creation of internal topic " CLUSTER_METADATA_TOPIC " is prohibited.");
        return SK_ERR_INVALID_REQUEST;
    }
    if (sk_topic_name_check_msg(in->name.p, (size_t)in->name.len, msg, sizeof msg) != SK_ERR_NONE) {
        plan->msg = sk_admin_str(req, msg);
        return SK_ERR_INVALID_TOPIC_EXCEPTION;
    }
    sk_topic *other = sk_meta_topic_colliding(b->meta, in->name.p);
    if (other) {
        plan->msg = sk_admin_printf(req, "Topic '%s' collides with existing topic: %s", in->name.p, other->name);
        return SK_ERR_INVALID_TOPIC_EXCEPTION;
    }
    if (sk_meta_topic(b->meta, in->name.p, (size_t)in->name.len)) {
        plan->msg = sk_admin_printf(req, "Topic '%s' already exists.", in->name.p);
        return SK_ERR_TOPIC_ALREADY_EXISTS;
    }
    int16_t err = plan_configs(req, in, plan);
    if (err != SK_ERR_NONE)
        return err;
    if (in->assignments.n > 0)
        return plan_assignments(req, in, plan);
    if (in->replication_factor < -1 || in->replication_factor == 0) {
        plan->msg = kf_str_c("Replication factor must be larger than 0, or -1 to use the default value.");
        return SK_ERR_INVALID_REPLICATION_FACTOR;
    }
    if (in->num_partitions < -1 || in->num_partitions == 0) {
        plan->msg = kf_str_c("Number of partitions was set to an invalid non-positive value.");
        return SK_ERR_INVALID_PARTITIONS;
    }
    int32_t rf = in->replication_factor == -1 ? b->config->default_replication_factor : in->replication_factor;
    int32_t up = 0;
    for (int32_t i = 0; i < sk_cluster_size(b); i++)
        up += sk_cluster_node_up(b, sk_cluster_node_id(b, i));
    if (rf > up) {
        plan->msg = sk_admin_printf(req,
                                    "Unable to replicate the partition %d time(s): The target replication "
                                    "factor of %d cannot be reached because only %d broker(s) are registered or "
                                    "some brokers have all their log directories cordoned.",
                                    rf, rf, up);
        return SK_ERR_INVALID_REPLICATION_FACTOR;
    }
    plan->rf = rf;
    plan->partitions = in->num_partitions == -1 ? b->config->num_partitions : in->num_partitions;
    return SK_ERR_NONE;
}

/* Fills the v5+ description of a created (or validated) topic. */
static int describe_created(sk_request *req, kf_create_topics_response_creatable_topic_result *out,
                            const sk_topic_configs *configs, int32_t partitions, int32_t rf)
{
    kf_create_topics_response_creatable_topic_configs *cfg =
        sk_admin_array(req, &kf_create_topics_response_creatable_topic_configs_desc, SK_TC_COUNT);
    if (!cfg)
        return -1;
    for (int i = 0; i < SK_TC_COUNT; i++) {
        char scratch[128];
        sk_config_source src;
        const char *v =
            sk_topic_config_value(configs, req->broker->config, (sk_topic_config_id)i, scratch, sizeof scratch, &src);
        cfg[i].name = kf_str_c(sk_topic_config_def_get((sk_topic_config_id)i)->name);
        cfg[i].value = sk_admin_str(req, v);
        cfg[i].config_source = (int8_t)src;
        if (!cfg[i].value.p)
            return -1;
    }
    out->configs.items = cfg;
    out->configs.n = SK_TC_COUNT;
    out->num_partitions = partitions;
    out->replication_factor = (int16_t)rf;
    out->topic_config_error_code = SK_ERR_NONE;
    return 0;
}

void sk_api_create_topics(sk_request *req)
{
    const kf_create_topics_request *body = req->body;
    kf_create_topics_response *resp = sk_request_response(req);
    int32_t n = body->topics.n > 0 ? body->topics.n : 0;
    kf_create_topics_response_creatable_topic_result *results =
        sk_admin_array(req, &kf_create_topics_response_creatable_topic_result_desc, n);
    topic_plan *plans = sk_arena_alloc(&req->arena, (size_t)n * sizeof *plans);
    uint8_t *dup = sk_arena_alloc(&req->arena, (size_t)n);
    if (!resp || !results || !plans || !dup ||
        (n > 0 &&
         sk_admin_find_duplicates(req, &body->topics.items[0].name, sizeof body->topics.items[0], n, dup) < 0)) {
        sk_request_close(req, "out of memory");
        return;
    }

    /* First pass: decide every topic; count the records Kafka would write. */
    int64_t records = 0;
    for (int32_t i = 0; i < n; i++) {
        const kf_create_topics_request_creatable_topic *in = &body->topics.items[i];
        topic_plan *plan = &plans[i];
        if (dup[i] == 2)
            continue;
        if (dup[i] == 1) {
            plan->err = SK_ERR_INVALID_REQUEST;
            plan->msg = kf_str_c("Duplicate topic name.");
            continue;
        }
        plan->err = plan_topic(req, in, plan);
        if (plan->err == SK_ERR_NONE) {
            records += 1 + plan->partitions;
            for (int c = 0; c < SK_TC_COUNT; c++)
                records += plan->configs.value[c] != NULL;
        }
    }
    bool too_large = records > SK_ADMIN_MAX_RECORDS;

    /* Second pass: create and answer, one entry per distinct name. */
    int32_t m = 0;
    for (int32_t i = 0; i < n; i++) {
        const kf_create_topics_request_creatable_topic *in = &body->topics.items[i];
        topic_plan *plan = &plans[i];
        if (dup[i] == 2)
            continue;
        kf_create_topics_response_creatable_topic_result *out = &results[m++];
        out->name = in->name;
        if (too_large) {
            plan->err = SK_ERR_POLICY_VIOLATION;
            plan->msg = kf_str_c(SK_ADMIN_TOO_LARGE_MSG);
        }
        if (plan->err == SK_ERR_NONE) {
            sk_topic *t = NULL;
            if (body->validate_only)
                sk_uuid_random(out->topic_id.b);
            else
                plan->err =
                    sk_topics_create_with_configs(req->broker, in->name.p, plan->partitions, &plan->configs, &t);
            if (t)
                memcpy(out->topic_id.b, t->id, 16);
            if (t && (sk_cluster_set_replication_factor(req->broker, t->name, plan->rf) < 0 ||
                      place_assignments(req, t, in) < 0))
                plan->err = SK_ERR_KAFKA_STORAGE_ERROR;
            if (plan->err == SK_ERR_NONE && describe_created(req, out, &plan->configs, plan->partitions, plan->rf) < 0)
                plan->err = SK_ERR_KAFKA_STORAGE_ERROR;
            if (plan->err == SK_ERR_KAFKA_STORAGE_ERROR)
                plan->msg = kf_str_c("The topic could not be written to the data directory.");
        }
        if (plan->err != SK_ERR_NONE) {
            out->error_code = plan->err;
            out->error_message = plan->msg;
            sk_info("api", "conn %llu: CreateTopics %s%s: %s (%s)", (unsigned long long)req->conn_id, in->name.p,
                    body->validate_only ? " (validate only)" : "", sk_err_name(plan->err),
                    plan->msg.p ? plan->msg.p : "");
        }
    }
    for (int32_t i = 0; i < n; i++)
        sk_topic_configs_free(&plans[i].configs);
    resp->topics.items = results;
    resp->topics.n = m;
    sk_request_respond(req, resp);
}

/* ---- DeleteTopics ------------------------------------------------------- */

enum { BY_NAME, BY_ID, BY_NEITHER, BY_BOTH };

/* One requested deletion. */
typedef struct del_entry {
    kf_str name;     /* as given (null for v6 entries by id) */
    kf_uuid id;      /* as given (zero before v6) */
    int kind;        /* BY_* */
    kf_str name_key; /* the name when kind == BY_NAME, else null: for duplicates */
    kf_str id_key;   /* the 16 id bytes when kind == BY_ID, else null */
    sk_topic *t;     /* resolved topic */
} del_entry;

static bool uuid_zero(const kf_uuid *u)
{
    static const uint8_t zero[16];
    return !memcmp(u->b, zero, 16);
}

static int cmp_entry_topic(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t)(*(del_entry *const *)a)->t, y = (uintptr_t)(*(del_entry *const *)b)->t;
    return (x > y) - (x < y);
}

void sk_api_delete_topics(sk_request *req)
{
    const kf_delete_topics_request *body = req->body;
    kf_delete_topics_response *resp = sk_request_response(req);
    sk_meta *meta = req->broker->meta;
    bool v6 = req->hdr.api_version >= 6;
    int32_t n = v6 ? body->topics.n : body->topic_names.n;
    if (n < 0)
        n = 0;
    kf_delete_topics_response_deletable_topic_result *results =
        sk_admin_array(req, &kf_delete_topics_response_deletable_topic_result_desc, n);
    del_entry *e = sk_arena_alloc(&req->arena, (size_t)n * sizeof *e);
    del_entry **by_topic = sk_arena_alloc(&req->arena, (size_t)n * sizeof *by_topic);
    uint8_t *dup_name = sk_arena_alloc(&req->arena, (size_t)n);
    uint8_t *dup_id = sk_arena_alloc(&req->arena, (size_t)n);
    if (!resp || !results || !e || !by_topic || !dup_name || !dup_id) {
        sk_request_close(req, "out of memory");
        return;
    }
    for (int32_t i = 0; i < n; i++) {
        e[i].name = v6 ? body->topics.items[i].name : body->topic_names.items[i];
        if (v6)
            e[i].id = body->topics.items[i].topic_id;
        bool has_id = !uuid_zero(&e[i].id);
        e[i].kind = e[i].name.p ? (has_id ? BY_BOTH : BY_NAME) : (has_id ? BY_ID : BY_NEITHER);
        e[i].name_key = e[i].kind == BY_NAME ? e[i].name : (kf_str){NULL, -1};
        e[i].id_key = e[i].kind == BY_ID ? (kf_str){(const char *)e[i].id.b, 16} : (kf_str){NULL, -1};
    }
    if (n > 0 && (sk_admin_find_duplicates(req, &e[0].name_key, sizeof *e, n, dup_name) < 0 ||
                  sk_admin_find_duplicates(req, &e[0].id_key, sizeof *e, n, dup_id) < 0)) {
        sk_request_close(req, "out of memory");
        return;
    }
    /* Resolve; a topic named by one entry and identified by another is
     * refused for both (Kafka: the name maps to an id already supplied). */
    int32_t nres = 0;
    for (int32_t i = 0; i < n; i++) {
        if (dup_name[i] || dup_id[i])
            continue;
        if (e[i].kind == BY_NAME)
            e[i].t = sk_meta_topic(meta, e[i].name.p, (size_t)e[i].name.len);
        else if (e[i].kind == BY_ID)
            e[i].t = sk_meta_topic_by_id(meta, e[i].id.b);
        if (e[i].t)
            by_topic[nres++] = &e[i];
    }
    qsort(by_topic, (size_t)nres, sizeof *by_topic, cmp_entry_topic);
    for (int32_t i = 1; i < nres; i++)
        if (by_topic[i]->t == by_topic[i - 1]->t)
            by_topic[i]->kind = by_topic[i - 1]->kind = BY_BOTH + 1;

    int32_t m = 0;
    for (int32_t i = 0; i < n; i++) {
        if (dup_name[i] == 2 || dup_id[i] == 2)
            continue;
        kf_delete_topics_response_deletable_topic_result *out = &results[m++];
        out->name = e[i].name;
        out->topic_id = e[i].id;
        if (dup_name[i] || dup_id[i]) {
            out->error_code = SK_ERR_INVALID_REQUEST;
            out->error_message = kf_str_c(dup_name[i] ? "Duplicate topic name." : "Duplicate topic id.");
        } else if (e[i].kind == BY_NEITHER) {
            out->error_code = SK_ERR_INVALID_REQUEST;
            out->error_message = kf_str_c("Neither topic name nor id were specified.");
        } else if (e[i].kind == BY_BOTH) {
            out->error_code = SK_ERR_INVALID_REQUEST;
            out->error_message = kf_str_c("You may not specify both topic name and topic id.");
        } else if (e[i].kind > BY_BOTH) {
            out->error_code = SK_ERR_INVALID_REQUEST;
            out->error_message = kf_str_c("The provided topic name maps to an ID that was already supplied.");
        } else if (!e[i].t) {
            out->error_code = e[i].kind == BY_NAME ? SK_ERR_UNKNOWN_TOPIC_OR_PARTITION : SK_ERR_UNKNOWN_TOPIC_ID;
            if (e[i].kind == BY_NAME)
                out->error_message = kf_str_c(SK_ERR_MSG_UNKNOWN_TOPIC_OR_PARTITION);
        } else {
            sk_topic *t = e[i].t;
            out->name = sk_admin_str(req, t->name);
            memcpy(out->topic_id.b, t->id, 16);
            if (t->internal) {
                out->error_code = SK_ERR_TOPIC_AUTHORIZATION_FAILED;
                out->error_message = kf_str_c(INTERNAL_MSG);
            } else if ((out->error_code = sk_topics_delete(req->broker, t)) != SK_ERR_NONE) {
                out->error_message = kf_str_c("The topic could not be removed from the catalog.");
            }
            sk_info("api", "conn %llu: DeleteTopics %s: %s", (unsigned long long)req->conn_id, out->name.p,
                    sk_err_name(out->error_code));
        }
    }
    resp->responses.items = results;
    resp->responses.n = m;
    sk_request_respond(req, resp);
}

/* ---- CreatePartitions --------------------------------------------------- */

static int16_t plan_partitions(sk_request *req, const kf_create_partitions_request_create_partitions_topic *in,
                               sk_topic **out, kf_str *msg)
{
    sk_topic *t = sk_meta_topic(req->broker->meta, in->name.p, (size_t)in->name.len);
    *out = t;
    if (!t)
        return SK_ERR_UNKNOWN_TOPIC_OR_PARTITION;
    if (t->internal) {
        *msg = kf_str_c(INTERNAL_MSG);
        return SK_ERR_TOPIC_AUTHORIZATION_FAILED;
    }
    if (in->count == t->partitions) {
        *msg = sk_admin_printf(req, "Topic already has %d partition(s).", t->partitions);
        return SK_ERR_INVALID_PARTITIONS;
    }
    if (in->count < t->partitions) {
        *msg = sk_admin_printf(req, "The topic %s currently has %d partition(s); %d would not be an increase.", t->name,
                               t->partitions, in->count);
        return SK_ERR_INVALID_PARTITIONS;
    }
    int32_t additional = in->count - t->partitions;
    if (in->assignments.n >= 0) {
        if (in->assignments.n != additional) {
            *msg = sk_admin_printf(req,
                                   "Attempted to add %d additional partition(s), but only %d assignment(s) "
                                   "were specified.",
                                   additional, in->assignments.n);
            return SK_ERR_INVALID_REPLICA_ASSIGNMENT;
        }
        /* Every new partition has the replication factor of the first. */
        sk_route first;
        sk_cluster_route(req->broker, t->name, t->partitions, 0, &first);
        for (int32_t i = 0; i < in->assignments.n; i++) {
            const kf_create_partitions_request_create_partitions_assignment *a = &in->assignments.items[i];
            int16_t err = sk_admin_check_replicas(req, a->broker_ids.items, a->broker_ids.n, first.nreplicas,
                                                  t->partitions + i, msg);
            if (err != SK_ERR_NONE)
                return err;
        }
    }
    return SK_ERR_NONE;
}

void sk_api_create_partitions(sk_request *req)
{
    const kf_create_partitions_request *body = req->body;
    kf_create_partitions_response *resp = sk_request_response(req);
    int32_t n = body->topics.n > 0 ? body->topics.n : 0;
    kf_create_partitions_response_create_partitions_topic_result *results =
        sk_admin_array(req, &kf_create_partitions_response_create_partitions_topic_result_desc, n);
    uint8_t *dup = sk_arena_alloc(&req->arena, (size_t)n);
    sk_topic **topics = sk_arena_alloc(&req->arena, (size_t)n * sizeof *topics);
    if (!resp || !results || !dup || !topics ||
        (n > 0 &&
         sk_admin_find_duplicates(req, &body->topics.items[0].name, sizeof body->topics.items[0], n, dup) < 0)) {
        sk_request_close(req, "out of memory");
        return;
    }
    int64_t records = 0;
    int32_t m = 0;
    for (int32_t i = 0; i < n; i++) {
        const kf_create_partitions_request_create_partitions_topic *in = &body->topics.items[i];
        if (dup[i] == 2)
            continue;
        kf_create_partitions_response_create_partitions_topic_result *out = &results[m++];
        out->name = in->name;
        if (dup[i] == 1) {
            out->error_code = SK_ERR_INVALID_REQUEST;
            out->error_message = kf_str_c("Duplicate topic name.");
            continue;
        }
        out->error_code = plan_partitions(req, in, &topics[i], &out->error_message);
        if (out->error_code == SK_ERR_NONE)
            records += in->count - topics[i]->partitions;
    }
    m = 0;
    for (int32_t i = 0; i < n; i++) {
        const kf_create_partitions_request_create_partitions_topic *in = &body->topics.items[i];
        if (dup[i] == 2)
            continue;
        kf_create_partitions_response_create_partitions_topic_result *out = &results[m++];
        if (out->error_code != SK_ERR_NONE)
            continue;
        if (records > SK_ADMIN_MAX_RECORDS) {
            out->error_code = SK_ERR_POLICY_VIOLATION;
            out->error_message = kf_str_c(SK_ADMIN_TOO_LARGE_MSG);
        } else if (!body->validate_only) {
            int32_t from = topics[i]->partitions;
            out->error_code = sk_topics_add_partitions(req->broker, topics[i], in->count);
            for (int32_t k = 0; out->error_code == SK_ERR_NONE && k < in->assignments.n; k++)
                if (sk_cluster_place(req->broker, topics[i]->name, in->count, from + k,
                                     in->assignments.items[k].broker_ids.items,
                                     in->assignments.items[k].broker_ids.n) < 0)
                    out->error_code = SK_ERR_KAFKA_STORAGE_ERROR;
            sk_info("api", "conn %llu: CreatePartitions %s to %d: %s", (unsigned long long)req->conn_id, in->name.p,
                    in->count, sk_err_name(out->error_code));
        }
    }
    resp->results.items = results;
    resp->results.n = m;
    sk_request_respond(req, resp);
}
