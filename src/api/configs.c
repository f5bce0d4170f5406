/*
 * Configs: DescribeConfigs v0-4, AlterConfigs v0-2 and
 * IncrementalAlterConfigs v0-1, answered as a Kafka 4.0 broker answers them
 * (ConfigHelper for describing, ConfigAdminManager then the controller's
 * ConfigurationControlManager for altering).
 *
 * Resources:
 * - TOPIC (2): every topic config of the table (topic_config.h) with its
 *   value, source, synonyms (v1+), type and documentation (v3+). Altering
 *   validates each value (INVALID_CONFIG with Kafka's message), then the
 *   rules across configs, then that the topic exists
 *   (UNKNOWN_TOPIC_OR_PARTITION); accepted changes are persisted and applied
 *   to the partitions at once. AlterConfigs replaces the whole set of a
 *   topic's overrides; IncrementalAlterConfigs SETs, DELETEs, APPENDs to or
 *   SUBTRACTs from lists.
 * - BROKER (4): name = this node id, or "" for the cluster defaults. Kafka's
 *   dynamic broker keys (broker_configs.h) can be set per broker and, but
 *   for the per-broker-only ones, as cluster defaults; they are persisted
 *   and described with their sources (DYNAMIC_BROKER_CONFIG,
 *   DYNAMIC_DEFAULT_BROKER_CONFIG, STATIC_BROKER_CONFIG, DEFAULT_CONFIG);
 *   skiff's other keys are read-only (INVALID_REQUEST "Cannot update these
 *   configs dynamically"). skiff stores them but does not apply them.
 * - BROKER_LOGGER (8): the "root" logger, whose level can be changed with
 *   IncrementalAlterConfigs (KIP-412): TRACE/DEBUG, INFO, WARN, ERROR/FATAL.
 * - GROUP (32, KIP-848): the group configs of Kafka 4.4 (skiff/group_configs.h),
 *   described for any group name, overrides SET or DELETEd (AlterConfigs
 *   replaces them all), validated against the broker's bounds, persisted;
 *   consumer groups apply the session timeout and heartbeat interval.
 * - Other types (CLIENT_METRICS, ...): INVALID_REQUEST.
 * A resource named twice in one alter request fails both times with
 * INVALID_REQUEST; so do repeated config names and null values (except for
 * DELETE).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "kf_msgs.h"
#include "skiff/broker_configs.h"
#include "skiff/cluster.h"
#include "skiff/errors.h"
#include "skiff/group_configs.h"
#include "skiff/meta.h"
#include "skiff/trace.h"
#include "skiff/topics.h"

#define ROOT_LOGGER "root"
#define VALID_LOG_LEVELS "DEBUG, ERROR, FATAL, INFO, TRACE, WARN"

/* IncrementalAlterConfigs operations (AlterConfigOp.OpType). */
enum { OP_SET = 0, OP_DELETE = 1, OP_APPEND = 2, OP_SUBTRACT = 3 };

static const char *resource_type_name(int8_t type)
{
    switch (type) {
    case SK_RESOURCE_TOPIC:
        return "TOPIC";
    case SK_RESOURCE_BROKER:
        return "BROKER";
    case SK_RESOURCE_BROKER_LOGGER:
        return "BROKER_LOGGER";
    case 16:
        return "CLIENT_METRICS";
    case SK_RESOURCE_GROUP:
        return "GROUP";
    default:
        return "UNKNOWN";
    }
}

/* A broker resource name must be empty (cluster default) or this node's id:
 * Kafka's validateResourceNameIsCurrentNodeId. */
static int16_t check_broker_name(sk_request *req, kf_str name, bool allow_empty, const char *what, kf_str *msg)
{
    int32_t node = req->node_id == SK_NODE_LOCAL ? sk_cluster_node_id(req->broker, 0) : req->node_id;
    if (allow_empty && name.len <= 0)
        return SK_ERR_NONE;
    char *end = NULL;
    long id = name.p && name.len > 0 ? strtol(name.p, &end, 10) : 0;
    if (!end || *end || end == name.p) {
        *msg = sk_admin_printf(req, "%s id must be an integer, but it is: %s", what, name.p ? name.p : "null");
        return SK_ERR_INVALID_REQUEST;
    }
    if (id != node) {
        /* DescribeConfigs (what = "Broker") names the cluster default too. */
        *msg = sk_admin_printf(req, "Unexpected broker id, expected %d%s, but received %ld", node,
                               allow_empty && !strcmp(what, "Broker") ? " or empty string" : "", id);
        return SK_ERR_INVALID_REQUEST;
    }
    return SK_ERR_NONE;
}

/* ---- DescribeConfigs ---------------------------------------------------- */

typedef struct describe_ctx {
    sk_request *req;                                                        /* the DescribeConfigs request (arena) */
    const kf_describe_configs_request_describe_configs_resource *in;        /* the resource being described */
    bool synonyms;                                                          /* include_synonyms */
    bool documentation;                                                     /* include_documentation */
    kf_describe_configs_response_describe_configs_resource_result *entries; /* its configs (arena) */
    int32_t n;                                                              /* results in entries */
} describe_ctx;

/* True when config `name` is asked for (null or empty keys = all). */
static bool wanted(const describe_ctx *x, const char *name)
{
    if (x->in->configuration_keys.n <= 0)
        return true;
    for (int32_t i = 0; i < x->in->configuration_keys.n; i++)
        if (kf_str_eq(x->in->configuration_keys.items[i], name))
            return true;
    return false;
}

/* Appends one entry; `value` may be NULL (Kafka's null), `syn` may be NULL
 * when `nsyn` is 0. Returns -1 when out of memory. */
static int add_entry(describe_ctx *x, const char *name, const char *value, sk_config_source source, bool read_only,
                     sk_config_type type, const char *doc, const sk_config_synonym *syn, int nsyn)
{
    kf_describe_configs_response_describe_configs_resource_result *e = &x->entries[x->n++];
    e->name = sk_admin_str(x->req, name);
    e->value = sk_admin_str(x->req, value);
    e->read_only = read_only;
    e->config_source = (int8_t)source;
    e->config_type = (int8_t)type;
    e->is_sensitive = type == SK_CONFIG_TYPE_PASSWORD;
    if (x->documentation && doc)
        e->documentation = kf_str_c(doc);
    if (!e->name.p || (value && !e->value.p))
        return -1;
    if (!x->synonyms || nsyn == 0)
        return 0;
    kf_describe_configs_response_describe_configs_synonym *s =
        sk_admin_array(x->req, &kf_describe_configs_response_describe_configs_synonym_desc, nsyn);
    if (!s)
        return -1;
    for (int i = 0; i < nsyn; i++) {
        s[i].name = sk_admin_str(x->req, syn[i].name);
        s[i].value = sk_admin_str(x->req, syn[i].value);
        s[i].source = (int8_t)syn[i].source;
        if (!s[i].name.p || !s[i].value.p)
            return -1;
    }
    e->synonyms.items = s;
    e->synonyms.n = nsyn;
    return 0;
}

static int16_t describe_topic(describe_ctx *x, kf_str *msg)
{
    sk_request *req = x->req;
    char text[512];
    if (sk_topic_name_check_msg(x->in->resource_name.p, (size_t)x->in->resource_name.len, text, sizeof text) !=
        SK_ERR_NONE) {
        *msg = sk_admin_str(req, text);
        return SK_ERR_INVALID_TOPIC_EXCEPTION;
    }
    sk_topic *t = sk_meta_topic(req->broker->meta, x->in->resource_name.p, (size_t)x->in->resource_name.len);
    if (!t)
        return SK_ERR_UNKNOWN_TOPIC_OR_PARTITION;
    x->entries = sk_admin_array(req, &kf_describe_configs_response_describe_configs_resource_result_desc, SK_TC_COUNT);
    if (!x->entries)
        return SK_ERR_KAFKA_STORAGE_ERROR;
    for (int i = 0; i < SK_TC_COUNT; i++) {
        const sk_topic_config_def *d = sk_topic_config_def_get((sk_topic_config_id)i);
        if (!wanted(x, d->name))
            continue;
        char scratch[128], syn_scratch[128];
        sk_config_source src;
        sk_config_synonym syn[SK_CONFIG_SYNONYMS_MAX];
        const char *v = sk_topic_config_value(&t->configs, req->broker->config, (sk_topic_config_id)i, scratch,
                                              sizeof scratch, &src);
        int nsyn = sk_topic_config_synonyms(&t->configs, req->broker->config, (sk_topic_config_id)i, syn_scratch,
                                            sizeof syn_scratch, syn);
        if (add_entry(x, d->name, v, src, false, d->type, d->doc, syn, nsyn) < 0)
            return SK_ERR_KAFKA_STORAGE_ERROR;
    }
    return SK_ERR_NONE;
}

/* The DescribeConfigs type of a broker key, from its default's shape. */
static sk_config_type broker_key_type(const char *def)
{
    if (!strcmp(def, "true") || !strcmp(def, "false"))
        return SK_CONFIG_TYPE_BOOLEAN;
    char *end;
    strtoll(def, &end, 10);
    return *def && !*end ? SK_CONFIG_TYPE_LONG : SK_CONFIG_TYPE_STRING;
}

/* The synonyms of broker key `name`, most specific first as Kafka lists
 * them, into `syn` (room for 4): this broker's dynamic value, the cluster
 * default, the static value (`static_value`, NULL when not set), the default
 * (`def`, NULL = null). Returns how many. */
static int broker_synonyms(const sk_broker_configs *dyn, const char *node, const char *name, const char *static_value,
                           const char *def, sk_config_synonym *syn)
{
    const sk_dynamic_key *k = sk_dynamic_key_find(name);
    int nsyn = 0;
    const char *dyn_node = k ? sk_broker_configs_get(dyn, node, name) : NULL;
    const char *dyn_default = k ? sk_broker_configs_get(dyn, "", name) : NULL;
    if (dyn_node)
        syn[nsyn++] = (sk_config_synonym){name, dyn_node, SK_CONFIG_SOURCE_DYNAMIC_BROKER_CONFIG};
    if (dyn_default)
        syn[nsyn++] = (sk_config_synonym){name, dyn_default, SK_CONFIG_SOURCE_DYNAMIC_DEFAULT_BROKER_CONFIG};
    if (static_value)
        syn[nsyn++] = (sk_config_synonym){name, static_value, SK_CONFIG_SOURCE_STATIC_BROKER_CONFIG};
    if (def)
        syn[nsyn++] = (sk_config_synonym){name, def, SK_CONFIG_SOURCE_DEFAULT_CONFIG};
    return nsyn;
}

/* One broker key: its value and synonyms (broker_synonyms). Password values
 * are never shown. */
static int describe_broker_key(describe_ctx *x, const sk_broker_configs *dyn, const char *node, const char *name,
                               const char *static_value, const char *def, sk_config_type type)
{
    const sk_dynamic_key *k = sk_dynamic_key_find(name);
    sk_config_synonym syn[4];
    int nsyn = broker_synonyms(dyn, node, name, static_value, def, syn);
    bool secret = type == SK_CONFIG_TYPE_PASSWORD;
    const char *value = nsyn && !secret ? syn[0].value : NULL;
    sk_config_source source = nsyn ? syn[0].source : SK_CONFIG_SOURCE_DEFAULT_CONFIG;
    return add_entry(x, name, value, source, k == NULL, type, NULL, syn, secret ? 0 : nsyn);
}

/* The security key `name` with skiff's default (it differs from Kafka's
 * for sasl.enabled.mechanisms and the store types), or NULL. */
static const sk_security_key_info *security_key(const char *name)
{
    const sk_security_key_info *s;
    for (int i = 0; (s = sk_security_broker_key_at(i)); i++)
        if (!strcmp(s->name, name))
            return s;
    return NULL;
}

/* BROKER "<id>": every key skiff knows (config.h), then every other key
 * Kafka can change dynamically; BROKER "": the cluster defaults set. */
static int16_t describe_broker(describe_ctx *x, kf_str *msg)
{
    sk_request *req = x->req;
    int16_t err = check_broker_name(req, x->in->resource_name, true, "Broker", msg);
    if (err != SK_ERR_NONE)
        return err;
    sk_broker_configs *dyn = sk_broker_configs_load(sk_meta_dir(req->broker->meta));
    if (!dyn)
        return SK_ERR_KAFKA_STORAGE_ERROR;
    int32_t nkeys = 0, ndyn = 0, nsec = 0;
    while (sk_config_key_name(nkeys))
        nkeys++;
    while (sk_security_broker_key_at(nsec))
        nsec++;
    while (sk_dynamic_key_at(ndyn))
        ndyn++;
    const char *value;
    int32_t nset = 0;
    while (sk_broker_configs_key_at(dyn, "", nset, &value))
        nset++;
    x->entries = sk_admin_array(req, &kf_describe_configs_response_describe_configs_resource_result_desc,
                                nkeys + ndyn + nset + nsec);
    if (!x->entries)
        err = SK_ERR_KAFKA_STORAGE_ERROR;
    if (x->entries && x->in->resource_name.len <= 0) {
        const char *name;
        for (int i = 0; err == SK_ERR_NONE && (name = sk_broker_configs_key_at(dyn, "", i, &value)); i++) {
            const sk_dynamic_key *k = sk_dynamic_key_find(name);
            sk_config_type type = k ? k->type : SK_CONFIG_TYPE_STRING;
            sk_config_synonym syn = {name, value, SK_CONFIG_SOURCE_DYNAMIC_DEFAULT_BROKER_CONFIG};
            if (wanted(x, name) && add_entry(x, name, type == SK_CONFIG_TYPE_PASSWORD ? NULL : value, syn.source, false,
                                             type, NULL, &syn, 1) < 0)
                err = SK_ERR_KAFKA_STORAGE_ERROR;
        }
    } else if (x->entries) {
        const char *node = x->in->resource_name.p;
        for (int32_t i = 0; err == SK_ERR_NONE && sk_config_key_name(i); i++) {
            const char *name = sk_config_key_name(i), *def = sk_config_key_default(i);
            const sk_dynamic_key *k = sk_dynamic_key_find(name);
            char set_value[1024];
            bool set = sk_config_key_is_set(req->broker->config, name, set_value, sizeof set_value);
            if (wanted(x, name) && describe_broker_key(x, dyn, node, name, set ? set_value : NULL, def,
                                                       k ? k->type : broker_key_type(def)) < 0)
                err = SK_ERR_KAFKA_STORAGE_ERROR;
        }
        const sk_dynamic_key *k;
        for (int i = 0; err == SK_ERR_NONE && (k = sk_dynamic_key_at(i)); i++) {
            bool skiff_key = false;
            for (int32_t j = 0; sk_config_key_name(j) && !skiff_key; j++)
                skiff_key = !strcmp(sk_config_key_name(j), k->name);
            const sk_security_key_info *si = security_key(k->name);
            if (!skiff_key && wanted(x, k->name) &&
                describe_broker_key(x, dyn, node, k->name, sk_config_security_get(req->broker->config, k->name),
                                    si ? si->default_value : k->default_value, k->type) < 0)
                err = SK_ERR_KAFKA_STORAGE_ERROR;
        }
        /* The broker-level TLS, SASL and authorizer keys Kafka cannot change dynamically. */
        const sk_security_key_info *s;
        for (int i = 0; err == SK_ERR_NONE && (s = sk_security_broker_key_at(i)); i++)
            if (!sk_dynamic_key_find(s->name) && wanted(x, s->name) &&
                describe_broker_key(x, dyn, node, s->name, sk_config_security_get(req->broker->config, s->name),
                                    s->default_value, (sk_config_type)s->type) < 0)
                err = SK_ERR_KAFKA_STORAGE_ERROR;
    }
    sk_broker_configs_free(dyn);
    return err;
}

/* GROUP (KIP-848): every group config Kafka 4.4 describes, whether or not
 * the group exists: the group's override (GROUP_CONFIG), then the synonyms
 * of the broker key it overrides (skiff's setting, or a dynamic broker key,
 * or Kafka's default for keys skiff has no setting for); a key with no
 * broker key has its own default as its synonym. */
static int16_t describe_group(describe_ctx *x, kf_str *msg)
{
    sk_request *req = x->req;
    if (x->in->resource_name.len <= 0) {
        *msg = kf_str_c("Group name must not be empty");
        return SK_ERR_INVALID_REQUEST;
    }
    int32_t ndefs = 0;
    while (sk_group_config_def_at(ndefs))
        ndefs++;
    x->entries = sk_admin_array(req, &kf_describe_configs_response_describe_configs_resource_result_desc, ndefs);
    sk_broker_configs *dyn = sk_broker_configs_load(sk_meta_dir(req->broker->meta));
    if (!x->entries || !dyn) {
        sk_broker_configs_free(dyn);
        return SK_ERR_KAFKA_STORAGE_ERROR;
    }
    char node[16];
    snprintf(node, sizeof node, "%d",
             req->node_id == SK_NODE_LOCAL ? sk_cluster_node_id(req->broker, 0) : req->node_id);
    int16_t err = SK_ERR_NONE;
    const sk_group_config_def *d;
    for (int i = 0; err == SK_ERR_NONE && (d = sk_group_config_def_at(i)); i++) {
        if (d->internal || !wanted(x, d->name))
            continue;
        sk_config_synonym syn[5];
        char set_value[1024]; /* the static broker value, which syn[] may point to */
        int nsyn = 0;
        const char *over = sk_group_configs_get(req->broker->group_configs, x->in->resource_name.p, d->name);
        if (over)
            syn[nsyn++] = (sk_config_synonym){d->name, over, SK_CONFIG_SOURCE_GROUP_CONFIG};
        if (d->broker_key) {
            const char *def = d->default_value, *static_value = NULL;
            for (int32_t j = 0; sk_config_key_name(j); j++)
                if (!strcmp(sk_config_key_name(j), d->broker_key))
                    def = sk_config_key_default(j);
            if (sk_config_key_is_set(req->broker->config, d->broker_key, set_value, sizeof set_value))
                static_value = set_value;
            const sk_dynamic_key *k = sk_dynamic_key_find(d->broker_key);
            if (k && k->default_value)
                def = k->default_value;
            nsyn += broker_synonyms(dyn, node, d->broker_key, static_value, def, syn + nsyn);
        } else {
            syn[nsyn++] = (sk_config_synonym){d->name, d->default_value, SK_CONFIG_SOURCE_DEFAULT_CONFIG};
        }
        if (add_entry(x, d->name, syn[0].value, syn[0].source, false, d->type, NULL, syn, nsyn) < 0)
            err = SK_ERR_KAFKA_STORAGE_ERROR;
    }
    sk_broker_configs_free(dyn);
    return err;
}

static const char *log_level_name(void)
{
    switch (sk_trace_threshold) {
    case SK_TRACE_DEBUG:
        return "DEBUG";
    case SK_TRACE_INFO:
        return "INFO";
    case SK_TRACE_WARN:
        return "WARN";
    default:
        return "ERROR";
    }
}

static int16_t describe_logger(describe_ctx *x, kf_str *msg)
{
    if (x->in->resource_name.len <= 0) {
        *msg = kf_str_c("Broker id must not be empty");
        return SK_ERR_INVALID_REQUEST;
    }
    int16_t err = check_broker_name(x->req, x->in->resource_name, false, "Broker", msg);
    if (err != SK_ERR_NONE)
        return err;
    x->entries = sk_admin_array(x->req, &kf_describe_configs_response_describe_configs_resource_result_desc, 1);
    if (!x->entries)
        return SK_ERR_KAFKA_STORAGE_ERROR;
    if (wanted(x, ROOT_LOGGER) &&
        add_entry(x, ROOT_LOGGER, log_level_name(), SK_CONFIG_SOURCE_DYNAMIC_BROKER_LOGGER_CONFIG, false,
                  SK_CONFIG_TYPE_UNKNOWN, NULL, NULL, 0) < 0)
        return SK_ERR_KAFKA_STORAGE_ERROR;
    return SK_ERR_NONE;
}

void sk_api_describe_configs(sk_request *req)
{
    const kf_describe_configs_request *body = req->body;
    kf_describe_configs_response *resp = sk_request_response(req);
    int32_t n = body->resources.n > 0 ? body->resources.n : 0;
    kf_describe_configs_response_describe_configs_result *results =
        sk_admin_array(req, &kf_describe_configs_response_describe_configs_result_desc, n);
    if (!resp || !results) {
        sk_request_close(req, "out of memory");
        return;
    }
    for (int32_t i = 0; i < n; i++) {
        const kf_describe_configs_request_describe_configs_resource *in = &body->resources.items[i];
        kf_describe_configs_response_describe_configs_result *out = &results[i];
        describe_ctx x = {
            .req = req, .in = in, .synonyms = body->include_synonyms, .documentation = body->include_documentation};
        out->resource_type = in->resource_type;
        out->resource_name = in->resource_name;
        switch (in->resource_type) {
        case SK_RESOURCE_TOPIC:
            out->error_code = describe_topic(&x, &out->error_message);
            break;
        case SK_RESOURCE_BROKER:
            out->error_code = describe_broker(&x, &out->error_message);
            break;
        case SK_RESOURCE_BROKER_LOGGER:
            out->error_code = describe_logger(&x, &out->error_message);
            break;
        case SK_RESOURCE_GROUP:
            out->error_code = describe_group(&x, &out->error_message);
            break;
        default:
            out->error_code = SK_ERR_INVALID_REQUEST;
            /* Types Kafka 4.4 has but skiff does not serve are named; for
             * others Kafka gives its generic message. */
            out->error_message =
                strcmp(resource_type_name(in->resource_type), "UNKNOWN")
                    ? sk_admin_printf(req, "Unsupported resource type: %s", resource_type_name(in->resource_type))
                    : kf_str_c(SK_ERR_MSG_INVALID_REQUEST);
            break;
        }
        if (out->error_code == SK_ERR_NONE) {
            out->configs.items = x.entries;
            out->configs.n = x.n;
        }
        if (!out->error_message.p)
            out->error_message = kf_str_c(""); /* Kafka's answer when it has no message */
    }
    resp->results.items = results;
    resp->results.n = n;
    sk_request_respond(req, resp);
}

/* ---- Altering ----------------------------------------------------------- */

/* One requested change, from either alter API. */
typedef struct alter_op {
    kf_str name;  /* config key */
    kf_str value; /* new value; null for DELETE */
    int8_t op;    /* OP_*; AlterConfigs sends only SETs */
} alter_op;

/* One resource of an alter request. */
typedef struct alter_resource {
    int8_t type;   /* resource_type (TOPIC, BROKER, ...) */
    kf_str name;   /* resource_name */
    alter_op *ops; /* the changes, in request order */
    int32_t nops;  /* entries in ops */
} alter_resource;

/* The checks every resource gets first (ConfigAdminManager.preprocess):
 * repeated config names and null values. */
static int16_t preprocess(sk_request *req, const alter_resource *r, kf_str *msg)
{
    uint8_t *dup = sk_arena_alloc(&req->arena, (size_t)r->nops);
    if (!dup || (r->nops > 0 && sk_admin_find_duplicates(req, &r->ops[0].name, sizeof r->ops[0], r->nops, dup) < 0))
        return SK_ERR_KAFKA_STORAGE_ERROR;
    for (int32_t i = 0; i < r->nops; i++) {
        if (dup[i]) {
            *msg = kf_str_c("Error due to duplicate config keys");
            return SK_ERR_INVALID_REQUEST;
        }
    }
    char names[512];
    size_t o = 0;
    for (int32_t i = 0; i < r->nops; i++)
        if (r->ops[i].op != OP_DELETE && !r->ops[i].value.p && o < sizeof names)
            o += (size_t)snprintf(names + o, sizeof names - o, "%s%s", o ? ", " : "", r->ops[i].name.p);
    if (o > 0) {
        *msg = sk_admin_printf(req, "Null value not supported for : %s", names);
        return SK_ERR_INVALID_REQUEST;
    }
    return SK_ERR_NONE;
}

/* Splits a comma list (a copy in the request arena) into its parts, empty
 * ones dropped when `drop_empty`; *n receives the count. NULL when out of
 * memory. */
static char **split_list(sk_request *req, const char *s, bool drop_empty, int32_t *n)
{
    size_t len = strlen(s);
    int32_t max = 1;
    for (const char *p = s; *p; p++)
        max += *p == ',';
    char *copy = sk_arena_strndup(&req->arena, s, len);
    char **parts = sk_arena_alloc(&req->arena, (size_t)max * sizeof *parts);
    if (!copy || !parts)
        return NULL;
    *n = 0;
    for (char *p = copy;;) {
        char *comma = strchr(p, ',');
        if (comma)
            *comma = '\0';
        if (*p || !drop_empty)
            parts[(*n)++] = p;
        if (!comma)
            return parts;
        p = comma + 1;
    }
}

/* APPEND / SUBTRACT on a list config (ConfigurationControlManager): `cur`
 * with the values of `given` added (when missing) or removed (their first
 * occurrence), joined in the request arena; NULL when out of memory. */
static char *list_op(sk_request *req, const char *cur, const char *given_list, int8_t op)
{
    int32_t nhave, ngiven;
    char **have = split_list(req, cur, true, &nhave);
    char **given = split_list(req, given_list, false, &ngiven);
    char **out = have && given ? sk_arena_alloc(&req->arena, (size_t)(nhave + ngiven) * sizeof *out) : NULL;
    if (!out)
        return NULL;
    memcpy(out, have, (size_t)nhave * sizeof *out);
    int32_t n = nhave;
    size_t len = 1;
    for (int32_t g = 0; g < ngiven; g++) {
        int32_t at = -1;
        for (int32_t h = 0; h < n && at < 0; h++)
            if (!strcmp(out[h], given[g]))
                at = h;
        if (op == OP_APPEND && at < 0)
            out[n++] = given[g];
        if (op == OP_SUBTRACT && at >= 0) {
            memmove(&out[at], &out[at + 1], (size_t)(n - at - 1) * sizeof *out);
            n--;
        }
    }
    for (int32_t h = 0; h < n; h++)
        len += strlen(out[h]) + 1;
    char *joined = sk_arena_alloc(&req->arena, len);
    if (!joined)
        return NULL;
    joined[0] = '\0';
    for (int32_t h = 0, o = 0; h < n; h++)
        o += snprintf(joined + o, len - (size_t)o, "%s%s", h ? "," : "", out[h]);
    return joined;
}

/* A topic's list config: the current value, else the default, changed by `op`. */
static int16_t apply_list_op(sk_request *req, sk_topic_configs *c, sk_topic_config_id id, const alter_op *op, char *msg,
                             size_t msg_len)
{
    const char *cur = c->value[id] ? c->value[id] : sk_topic_config_def_get(id)->default_value;
    char *joined = list_op(req, cur, op->value.p, op->op);
    if (!joined)
        return SK_ERR_KAFKA_STORAGE_ERROR;
    return sk_topic_configs_set(c, sk_topic_config_def_get(id)->name, joined, msg, msg_len);
}

/* Computes the new overrides of a topic from `r` into `next` (starting from
 * `current`, or from nothing when `replace`). */
static int16_t plan_topic_configs(sk_request *req, const alter_resource *r, bool replace,
                                  const sk_topic_configs *current, sk_topic_configs *next, kf_str *msg)
{
    char text[1024];
    if (sk_topic_configs_copy(next, replace ? NULL : current) < 0)
        return SK_ERR_KAFKA_STORAGE_ERROR;
    for (int32_t i = 0; i < r->nops; i++) {
        const alter_op *op = &r->ops[i];
        int id = sk_topic_config_find(op->name.p, (size_t)op->name.len);
        int16_t err = SK_ERR_NONE;
        switch (op->op) {
        case OP_SET:
            err = sk_topic_configs_set(next, op->name.p, op->value.p, text, sizeof text);
            break;
        case OP_DELETE:
            if (id >= 0)
                sk_topic_configs_set(next, op->name.p, NULL, text, sizeof text);
            break;
        case OP_APPEND:
        case OP_SUBTRACT:
            if (id < 0 || sk_topic_config_def_get((sk_topic_config_id)id)->type != SK_CONFIG_TYPE_LIST) {
                snprintf(text, sizeof text, "Can't %s to key %s because its type is not LIST.",
                         op->op == OP_APPEND ? "APPEND" : "SUBTRACT", op->name.p);
                err = SK_ERR_INVALID_CONFIG;
            } else {
                err = apply_list_op(req, next, (sk_topic_config_id)id, op, text, sizeof text);
            }
            break;
        default:
            snprintf(text, sizeof text, "Unknown operations type %d", op->op);
            err = SK_ERR_INVALID_REQUEST;
            break;
        }
        if (err != SK_ERR_NONE) {
            *msg = sk_admin_str(req, text);
            return err;
        }
    }
    int16_t err = sk_topic_configs_check(next, req->broker->config, text, sizeof text);
    if (err != SK_ERR_NONE)
        *msg = sk_admin_str(req, text);
    return err;
}

static int16_t alter_topic(sk_request *req, const alter_resource *r, bool replace, bool validate_only, kf_str *msg)
{
    char text[512];
    if (r->name.len <= 0) {
        *msg = kf_str_c("Default topic resources are not allowed.");
        return SK_ERR_INVALID_REQUEST;
    }
    if (sk_topic_name_check_msg(r->name.p, (size_t)r->name.len, text, sizeof text) != SK_ERR_NONE) {
        *msg = sk_admin_str(req, text);
        return SK_ERR_INVALID_TOPIC_EXCEPTION;
    }
    sk_topic *t = sk_meta_topic(req->broker->meta, r->name.p, (size_t)r->name.len);
    sk_topic_configs next = {0};
    int16_t err = plan_topic_configs(req, r, replace, t ? &t->configs : NULL, &next, msg);
    if (err == SK_ERR_NONE && !t) {
        *msg = sk_admin_printf(req, "The topic '%s' does not exist.", r->name.p);
        err = SK_ERR_UNKNOWN_TOPIC_OR_PARTITION;
    }
    if (err == SK_ERR_NONE && !validate_only) {
        err = sk_topics_set_configs(req->broker, t, &next);
        if (err != SK_ERR_NONE)
            *msg = kf_str_c("The configs could not be written to the data directory.");
    }
    sk_topic_configs_free(&next);
    return err;
}

/* BROKER "<id>" or "" (the cluster default): Kafka's dynamic broker configs
 * (skiff/broker_configs.h). AlterConfigs (`replace`) sets the resource's
 * whole set; IncrementalAlterConfigs SETs, DELETEs (unset keys: no-op), and
 * APPENDs to or SUBTRACTs from LIST keys. Checked as Kafka checks, then
 * stored unless `validate_only`. */
static int16_t alter_broker(sk_request *req, const alter_resource *r, bool replace, bool validate_only, kf_str *msg)
{
    int16_t err = check_broker_name(req, r->name, true, "Node", msg);
    if (err != SK_ERR_NONE)
        return err;
    const char **names = sk_arena_alloc(&req->arena, (size_t)r->nops * sizeof *names);
    const char **values = sk_arena_alloc(&req->arena, (size_t)r->nops * sizeof *values);
    if (!names || !values)
        return SK_ERR_KAFKA_STORAGE_ERROR;
    int n = 0;
    for (int32_t i = 0; i < r->nops; i++) {
        const alter_op *op = &r->ops[i];
        const sk_dynamic_key *k = sk_dynamic_key_find(op->name.p);
        if (op->op == OP_APPEND || op->op == OP_SUBTRACT) {
            if (!k || k->type != SK_CONFIG_TYPE_LIST) {
                *msg = sk_admin_printf(req, "Config value %s is not allowed for config key: %s",
                                       op->op == OP_APPEND ? "append" : "subtract", op->name.p);
                return SK_ERR_INVALID_CONFIG;
            }
        } else if (op->op != OP_SET && op->op != OP_DELETE) {
            *msg = sk_admin_printf(req, "Unknown operations type %d", op->op);
            return SK_ERR_INVALID_REQUEST;
        }
        if (op->op != OP_DELETE) {
            names[n] = op->name.p;
            values[n++] = op->value.p;
        }
    }
    char text[1024];
    err = sk_dynamic_configs_check(names, values, n, r->name.len > 0, text, sizeof text);
    if (err != SK_ERR_NONE) {
        *msg = sk_admin_str(req, text);
        return err;
    }
    if (validate_only)
        return SK_ERR_NONE;
    const char *dir = sk_meta_dir(req->broker->meta), *res = r->name.len > 0 ? r->name.p : "";
    sk_broker_configs *dyn = sk_broker_configs_load(dir);
    if (!dyn)
        return SK_ERR_KAFKA_STORAGE_ERROR;
    if (replace)
        sk_broker_configs_clear(dyn, res);
    for (int32_t i = 0; i < r->nops && err == SK_ERR_NONE; i++) {
        const alter_op *op = &r->ops[i];
        const char *v = op->op == OP_DELETE ? NULL : op->value.p;
        if (op->op == OP_APPEND || op->op == OP_SUBTRACT) {
            const char *cur = sk_broker_configs_get(dyn, res, op->name.p);
            v = list_op(req, cur ? cur : "", op->value.p, op->op);
        }
        if ((op->op != OP_DELETE && !v) || sk_broker_configs_set(dyn, res, op->name.p, v) < 0)
            err = SK_ERR_KAFKA_STORAGE_ERROR;
    }
    if (err == SK_ERR_NONE && sk_broker_configs_save(dyn, dir) < 0) {
        sk_error("api", "%s: writing the dynamic broker configs: %s", dir, strerror(errno));
        *msg = kf_str_c("The configs could not be written to the data directory.");
        err = SK_ERR_KAFKA_STORAGE_ERROR;
    }
    sk_broker_configs_free(dyn);
    return err;
}

/* GROUP (KIP-848): the group's overrides, checked and stored by
 * skiff/group_configs.h; the empty name is Kafka's "default group", refused.
 * Only SET and DELETE: GroupConfig has no list Kafka lets one append to. */
static int16_t alter_group(sk_request *req, const alter_resource *r, bool replace, bool validate_only, kf_str *msg)
{
    if (r->name.len <= 0) {
        *msg = kf_str_c("Default group resources are not allowed.");
        return SK_ERR_INVALID_REQUEST;
    }
    sk_group_config_change *changes = sk_arena_alloc(&req->arena, (size_t)r->nops * sizeof *changes + 1);
    if (!changes)
        return SK_ERR_KAFKA_STORAGE_ERROR;
    for (int32_t i = 0; i < r->nops; i++) {
        const alter_op *op = &r->ops[i];
        if (op->op == OP_APPEND || op->op == OP_SUBTRACT) {
            *msg = sk_admin_printf(req, "Can't %s to key %s because its type is not LIST.",
                                   op->op == OP_APPEND ? "APPEND" : "SUBTRACT", op->name.p);
            return SK_ERR_INVALID_CONFIG;
        }
        if (op->op != OP_SET && op->op != OP_DELETE)
            return SK_ERR_UNKNOWN_SERVER_ERROR; /* Kafka's answer, without a message */
        changes[i] = (sk_group_config_change){op->name.p, op->value.p, op->op == OP_DELETE};
    }
    char text[1024];
    int16_t err = sk_group_configs_alter(req->broker->group_configs, req->broker->config, r->name.p, changes, r->nops,
                                         replace, validate_only, text, sizeof text);
    if (err != SK_ERR_NONE)
        *msg = sk_admin_str(req, text);
    return err;
}

/* Kafka's log4j levels onto skiff's. */
static int log_level_parse(const char *level)
{
    static const struct {
        const char *name;
        sk_trace_level level;
    } levels[] = {{"TRACE", SK_TRACE_DEBUG}, {"DEBUG", SK_TRACE_DEBUG}, {"INFO", SK_TRACE_INFO},
                  {"WARN", SK_TRACE_WARN},   {"ERROR", SK_TRACE_ERROR}, {"FATAL", SK_TRACE_ERROR}};
    for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++)
        if (!strcmp(level, levels[i].name))
            return (int)levels[i].level;
    return -1;
}

/* BROKER_LOGGER (IncrementalAlterConfigs only): the root logger's level. */
static int16_t alter_logger(sk_request *req, const alter_resource *r, bool validate_only, kf_str *msg)
{
    int16_t err = check_broker_name(req, r->name, false, "Node", msg);
    if (err != SK_ERR_NONE)
        return err;
    int level = -1;
    for (int32_t i = 0; i < r->nops; i++) {
        const alter_op *op = &r->ops[i];
        if (op->op == OP_APPEND || op->op == OP_SUBTRACT) {
            *msg = sk_admin_printf(req, "%s operation is not allowed for the BROKER_LOGGER resource",
                                   op->op == OP_APPEND ? "APPEND" : "SUBTRACT");
            return SK_ERR_INVALID_REQUEST;
        }
        if (op->op != OP_SET && op->op != OP_DELETE) {
            *msg =
                sk_admin_printf(req, "Unknown operation type %d is not allowed for the BROKER_LOGGER resource", op->op);
            return SK_ERR_INVALID_REQUEST;
        }
        if (!kf_str_eq(op->name, ROOT_LOGGER)) {
            *msg = sk_admin_printf(req, "Logger %s does not exist!", op->name.p);
            return SK_ERR_INVALID_CONFIG;
        }
        if (op->op == OP_DELETE) {
            *msg = kf_str_c("Removing the log level of the " ROOT_LOGGER " logger is not allowed");
            return SK_ERR_INVALID_REQUEST;
        }
        level = log_level_parse(op->value.p);
        if (level < 0) {
            *msg = sk_admin_printf(req,
                                   "Cannot set the log level of %s to %s as it is not a supported log level. "
                                   "Valid log levels are " VALID_LOG_LEVELS,
                                   op->name.p, op->value.p);
            return SK_ERR_INVALID_CONFIG;
        }
    }
    if (level >= 0 && !validate_only) {
        sk_warn("api", "conn %llu: log level set to %s", (unsigned long long)req->conn_id, r->ops[r->nops - 1].value.p);
        sk_trace_threshold = (sk_trace_level)level;
    }
    return SK_ERR_NONE;
}

/* Answers every resource of an alter request: `res` holds them in request
 * order; `err` and `msg` receive each one's answer. */
static void alter_all(sk_request *req, alter_resource *res, int32_t n, bool incremental, bool validate_only,
                      int16_t *err, kf_str *msg)
{
    /* A resource (type and name) given twice fails both times. */
    kf_str *keys = sk_arena_alloc(&req->arena, (size_t)n * sizeof *keys);
    uint8_t *dup = sk_arena_alloc(&req->arena, (size_t)n);
    for (int32_t i = 0; keys && i < n; i++)
        keys[i] = sk_admin_printf(req, "%d:%.*s", res[i].type, res[i].name.len > 0 ? res[i].name.len : 0,
                                  res[i].name.p ? res[i].name.p : "");
    if (!keys || !dup || (n > 0 && sk_admin_find_duplicates(req, keys, sizeof *keys, n, dup) < 0)) {
        for (int32_t i = 0; i < n; i++)
            err[i] = SK_ERR_KAFKA_STORAGE_ERROR;
        return;
    }
    for (int32_t i = 0; i < n; i++) {
        alter_resource *r = &res[i];
        if (dup[i]) {
            err[i] = SK_ERR_INVALID_REQUEST;
            msg[i] = kf_str_c("Each resource must appear at most once.");
            continue;
        }
        err[i] = preprocess(req, r, &msg[i]);
        if (err[i] != SK_ERR_NONE)
            continue;
        if (r->type == SK_RESOURCE_TOPIC) {
            err[i] = alter_topic(req, r, !incremental, validate_only, &msg[i]);
        } else if (r->type == SK_RESOURCE_BROKER) {
            err[i] = alter_broker(req, r, !incremental, validate_only, &msg[i]);
        } else if (r->type == SK_RESOURCE_GROUP) {
            err[i] = alter_group(req, r, !incremental, validate_only, &msg[i]);
        } else if (r->type == SK_RESOURCE_BROKER_LOGGER && incremental) {
            err[i] = alter_logger(req, r, validate_only, &msg[i]);
        } else {
            err[i] = SK_ERR_INVALID_REQUEST;
            msg[i] = sk_admin_printf(req, "Unknown resource type %d", r->type);
        }
        sk_info("api", "conn %llu: %s %s %s%s: %s%s%s", (unsigned long long)req->conn_id,
                incremental ? "IncrementalAlterConfigs" : "AlterConfigs", resource_type_name(r->type),
                r->name.p ? r->name.p : "", validate_only ? " (validate only)" : "", sk_err_name(err[i]),
                msg[i].p ? ": " : "", msg[i].p ? msg[i].p : "");
    }
}

void sk_api_alter_configs(sk_request *req)
{
    const kf_alter_configs_request *body = req->body;
    kf_alter_configs_response *resp = sk_request_response(req);
    int32_t n = body->resources.n > 0 ? body->resources.n : 0;
    kf_alter_configs_response_alter_configs_resource_response *out =
        sk_admin_array(req, &kf_alter_configs_response_alter_configs_resource_response_desc, n);
    alter_resource *res = sk_arena_alloc(&req->arena, (size_t)n * sizeof *res);
    int16_t *err = sk_arena_alloc(&req->arena, (size_t)n * sizeof *err);
    kf_str *msg = sk_arena_alloc(&req->arena, (size_t)n * sizeof *msg);
    if (!resp || !out || !res || !err || !msg) {
        sk_request_close(req, "out of memory");
        return;
    }
    for (int32_t i = 0; i < n; i++) {
        const kf_alter_configs_request_alter_configs_resource *in = &body->resources.items[i];
        int32_t nops = in->configs.n > 0 ? in->configs.n : 0;
        res[i] = (alter_resource){in->resource_type, in->resource_name,
                                  sk_arena_alloc(&req->arena, (size_t)nops * sizeof(alter_op)), nops};
        if (!res[i].ops) {
            sk_request_close(req, "out of memory");
            return;
        }
        for (int32_t j = 0; j < nops; j++)
            res[i].ops[j] = (alter_op){in->configs.items[j].name, in->configs.items[j].value, OP_SET};
        msg[i] = (kf_str){NULL, -1};
    }
    alter_all(req, res, n, false, body->validate_only, err, msg);
    for (int32_t i = 0; i < n; i++) {
        out[i].error_code = err[i];
        out[i].error_message = msg[i];
        out[i].resource_type = res[i].type;
        out[i].resource_name = res[i].name;
    }
    resp->responses.items = out;
    resp->responses.n = n;
    sk_request_respond(req, resp);
}

void sk_api_incremental_alter_configs(sk_request *req)
{
    const kf_incremental_alter_configs_request *body = req->body;
    kf_incremental_alter_configs_response *resp = sk_request_response(req);
    int32_t n = body->resources.n > 0 ? body->resources.n : 0;
    kf_incremental_alter_configs_response_alter_configs_resource_response *out =
        sk_admin_array(req, &kf_incremental_alter_configs_response_alter_configs_resource_response_desc, n);
    alter_resource *res = sk_arena_alloc(&req->arena, (size_t)n * sizeof *res);
    int16_t *err = sk_arena_alloc(&req->arena, (size_t)n * sizeof *err);
    kf_str *msg = sk_arena_alloc(&req->arena, (size_t)n * sizeof *msg);
    if (!resp || !out || !res || !err || !msg) {
        sk_request_close(req, "out of memory");
        return;
    }
    for (int32_t i = 0; i < n; i++) {
        const kf_incremental_alter_configs_request_alter_configs_resource *in = &body->resources.items[i];
        int32_t nops = in->configs.n > 0 ? in->configs.n : 0;
        res[i] = (alter_resource){in->resource_type, in->resource_name,
                                  sk_arena_alloc(&req->arena, (size_t)nops * sizeof(alter_op)), nops};
        if (!res[i].ops) {
            sk_request_close(req, "out of memory");
            return;
        }
        for (int32_t j = 0; j < nops; j++) {
            const kf_incremental_alter_configs_request_alterable_config *c = &in->configs.items[j];
            res[i].ops[j] = (alter_op){c->name, c->value, c->config_operation};
        }
        msg[i] = (kf_str){NULL, -1};
    }
    alter_all(req, res, n, true, body->validate_only, err, msg);
    for (int32_t i = 0; i < n; i++) {
        out[i].error_code = err[i];
        out[i].error_message = msg[i];
        out[i].resource_type = res[i].type;
        out[i].resource_name = res[i].name;
    }
    resp->responses.items = out;
    resp->responses.n = n;
    sk_request_respond(req, resp);
}
