/*
 * Fault rules: parsing their JSON form, listing them, and deciding which
 * rule fires for a request.
 *
 * A rule matches by API key and optionally version, client id, topic,
 * partition, group id, transactional id and the broker the request came
 * in on (node_id, with skiff.cluster.brokers: a per-broker delay or
 * error). Topics, partitions, group ids and transactional ids are found in the decoded request by walking its
 * schema table: string fields named topic / topic_name (or name inside a
 * topic struct; topic ids are looked up), int32 fields named partition /
 * partition_index / index and int32 arrays named partitions /
 * partition_indexes, fields named group_id and transactional_id, and
 * FindCoordinator's key / coordinator_keys by key_type (0 group, 1
 * transaction).
 *
 * Triggers: a rule counts each request it matches; it fires when the count
 * is past `after`, it has fired fewer than `times` times (0: no limit), the
 * deadline has not passed, and a draw from its own seeded generator is below
 * `probability`. The first rule (oldest first) that fires acts; later rules
 * do not see that request.
 */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "control_int.h"
#include "kf_msgs.h"
#include "skiff/api.h"
#include "skiff/clock.h"
#include "skiff/errors.h"
#include "skiff/jsonv.h"
#include "skiff/meta.h"

int64_t sk_control_now_ms(void)
{
    return sk_clock_wall_ms();
}

int sk_err_parse(const char *s, int16_t *code)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*s && !*end) {
        if (v < -1 || v > INT16_MAX || !strcmp(sk_err_name((int16_t)v), "UNKNOWN"))
            return -1;
        *code = (int16_t)v;
        return 0;
    }
    for (int c = -1; c < 512; c++) {
        if (!strcasecmp(sk_err_name((int16_t)c), s) && strcmp(sk_err_name((int16_t)c), "UNKNOWN")) {
            *code = (int16_t)c;
            return 0;
        }
    }
    return -1;
}

int sk_api_key_parse(const char *s)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*s && !*end)
        return v >= 0 && v <= INT16_MAX && kf_api_find((int16_t)v) ? (int)v : -1;
    for (size_t i = 0; i < kf_napis; i++)
        if (!strcasecmp(kf_apis[i].name, s))
            return kf_apis[i].key;
    return -1;
}

/* ---- Parsing ------------------------------------------------------------ */

static const char *const rule_fields[] = {
    "api",     "version", "client_id",   "topic",       "partition", "group_id",    "transactional_id",
    "node_id", "error",   "error_level", "delay_ms",    "close",     "blackhole",   "throttle_time_ms",
    "once",    "times",   "after",       "probability", "seed",      "duration_ms", NULL};

static void rule_free(sk_fault_rule *r)
{
    if (!r)
        return;
    free(r->client_id);
    free(r->topic);
    free(r->group_id);
    free(r->transactional_id);
    cJSON_Delete(r->spec);
    free(r);
}

static int dup_str(const cJSON *spec, const char *name, char **out, char *detail, size_t len)
{
    const char *s = NULL;
    int rc = sk_jsonv_str(spec, name, &s, detail, len);
    if (rc < 0)
        return -1;
    if (rc == 0 && !(*out = strdup(s))) {
        snprintf(detail, len, "out of memory");
        return -1;
    }
    return 0;
}

/* A string-or-integer field naming an API or an error. */
static const cJSON *name_or_number(const cJSON *spec, const char *name, char *buf, size_t buflen)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(spec, name);
    if (cJSON_IsString(v))
        snprintf(buf, buflen, "%s", v->valuestring);
    else if (cJSON_IsNumber(v))
        snprintf(buf, buflen, "%.0f", v->valuedouble);
    else
        return v ? (const cJSON *)spec : NULL; /* present but of a bad type: caller reports */
    return v;
}

static int parse_match(sk_fault_rule *r, const cJSON *spec, char *detail, size_t len)
{
    char buf[64];
    const cJSON *api = name_or_number(spec, "api", buf, sizeof buf);
    int key = api && api != spec ? sk_api_key_parse(buf) : -1;
    if (key < 0) {
        snprintf(detail, len,
                 api ? "field \"api\": unknown API \"%s\" (give Kafka's name, e.g. "
                       "\"OffsetCommit\", or its key)"
                     : "field \"api\" is required%s",
                 api && api != spec ? buf : "");
        return -1;
    }
    r->api_key = (int16_t)key;
    int64_t v = -1, p = -1, node = -1;
    if (sk_jsonv_int(spec, "version", 0, INT16_MAX, &v, detail, len) < 0 ||
        sk_jsonv_int(spec, "partition", 0, INT32_MAX, &p, detail, len) < 0 ||
        sk_jsonv_int(spec, "node_id", 0, INT32_MAX, &node, detail, len) < 0)
        return -1;
    r->version = (int16_t)v;
    r->partition = (int32_t)p;
    r->node_id = (int32_t)node;
    return dup_str(spec, "client_id", &r->client_id, detail, len) < 0 ||
                   dup_str(spec, "topic", &r->topic, detail, len) < 0 ||
                   dup_str(spec, "group_id", &r->group_id, detail, len) < 0 ||
                   dup_str(spec, "transactional_id", &r->transactional_id, detail, len) < 0
               ? -1
               : 0;
}

static int parse_action(sk_fault_rule *r, const cJSON *spec, char *detail, size_t len)
{
    char buf[64];
    int kinds = 0;
    const cJSON *err = name_or_number(spec, "error", buf, sizeof buf);
    if (err) {
        if (err == spec || sk_err_parse(buf, &r->error_code) < 0 || r->error_code == 0) {
            snprintf(detail, len,
                     "field \"error\": unknown Kafka error \"%s\" (give its name, e.g. "
                     "\"NOT_LEADER_OR_FOLLOWER\", or its non-zero code)",
                     err == spec ? "" : buf);
            return -1;
        }
        r->kind = SK_FAULT_ERROR;
        kinds++;
    }
    const char *level = NULL, *close = NULL;
    bool blackhole = false;
    int64_t delay = 0, throttle = -1;
    if (sk_jsonv_str(spec, "error_level", &level, detail, len) < 0 ||
        sk_jsonv_str(spec, "close", &close, detail, len) < 0 ||
        sk_jsonv_bool(spec, "blackhole", &blackhole, detail, len) < 0 ||
        sk_jsonv_int(spec, "delay_ms", 0, 3600000, &delay, detail, len) < 0 ||
        sk_jsonv_int(spec, "throttle_time_ms", 0, INT32_MAX, &throttle, detail, len) < 0)
        return -1;
    r->level = -1;
    if (level) {
        if (!err || (strcmp(level, "auto") && strcmp(level, "partition") && strcmp(level, "top"))) {
            snprintf(detail, len,
                     "field \"error_level\" must be \"auto\", \"partition\" or \"top\", "
                     "with \"error\"");
            return -1;
        }
        r->level = !strcmp(level, "partition") ? KF_ERR_DEEPEST : !strcmp(level, "top") ? KF_ERR_SHALLOWEST : -1;
    }
    if (close) {
        if (strcmp(close, "before") && strcmp(close, "after")) {
            snprintf(detail, len, "field \"close\" must be \"before\" or \"after\"");
            return -1;
        }
        r->kind = !strcmp(close, "before") ? SK_FAULT_CLOSE_BEFORE : SK_FAULT_CLOSE_AFTER;
        kinds++;
    }
    if (blackhole) {
        r->kind = SK_FAULT_BLACKHOLE;
        kinds++;
    }
    if (kinds > 1) {
        snprintf(detail, len, "give at most one of \"error\", \"close\" and \"blackhole\"");
        return -1;
    }
    r->delay_ms = (int32_t)delay;
    r->throttle_time_ms = (int32_t)throttle;
    if (kinds == 0 && delay == 0 && throttle < 0) {
        snprintf(detail, len,
                 "no action: give \"error\", \"delay_ms\", \"close\", \"blackhole\" or "
                 "\"throttle_time_ms\"");
        return -1;
    }
    if ((r->kind == SK_FAULT_BLACKHOLE || r->kind == SK_FAULT_CLOSE_BEFORE) && (delay || throttle >= 0)) {
        snprintf(detail, len, "\"delay_ms\" and \"throttle_time_ms\" need a response; this rule sends none");
        return -1;
    }
    return 0;
}

static int parse_trigger(sk_fault_rule *r, const cJSON *spec, char *detail, size_t len)
{
    bool once = false;
    int64_t times = 0, after = 0, seed = 0, duration = 0;
    double p = 1.0;
    if (sk_jsonv_bool(spec, "once", &once, detail, len) < 0 ||
        sk_jsonv_int(spec, "times", 1, INT64_MAX / 2, &times, detail, len) < 0 ||
        sk_jsonv_int(spec, "after", 0, INT64_MAX / 2, &after, detail, len) < 0 ||
        sk_jsonv_num(spec, "probability", 0.0, 1.0, &p, detail, len) < 0 ||
        sk_jsonv_int(spec, "seed", 0, (int64_t)1 << 53, &seed, detail, len) < 0 ||
        sk_jsonv_int(spec, "duration_ms", 1, (int64_t)1 << 40, &duration, detail, len) < 0)
        return -1;
    if (once && times) {
        snprintf(detail, len, "give \"once\" or \"times\", not both");
        return -1;
    }
    r->times = once ? 1 : times;
    r->after = after;
    r->probability = p;
    r->seed = (uint64_t)seed;
    r->rng = (uint64_t)seed * 0x9E3779B97F4A7C15ull + 0x2545F4914F6CDD1Dull;
    r->deadline_ms = duration ? sk_control_now_ms() + duration : 0;
    return 0;
}

static cJSON *rule_json(const sk_fault_rule *r)
{
    cJSON *o = cJSON_Duplicate(r->spec, true);
    if (!o)
        return NULL;
    cJSON_AddNumberToObject(o, "id", (double)r->id);
    cJSON_AddNumberToObject(o, "api_key", r->api_key);
    cJSON_AddNumberToObject(o, "matched", (double)r->matched);
    cJSON_AddNumberToObject(o, "fired", (double)r->fired);
    bool spent = (r->times && r->fired >= r->times) || (r->deadline_ms && sk_control_now_ms() > r->deadline_ms);
    cJSON_AddBoolToObject(o, "active", !spent);
    return o;
}

cJSON *sk_faults_add(sk_broker *b, const cJSON *spec, char *detail, size_t len)
{
    sk_control *ctl = b->control;
    if (sk_jsonv_fields(spec, rule_fields, detail, len) < 0)
        return NULL;
    sk_fault_rule *r = calloc(1, sizeof *r);
    if (!r) {
        snprintf(detail, len, "out of memory");
        return NULL;
    }
    if (parse_match(r, spec, detail, len) < 0 || parse_action(r, spec, detail, len) < 0 ||
        parse_trigger(r, spec, detail, len) < 0 || !(r->spec = cJSON_Duplicate(spec, true))) {
        rule_free(r);
        return NULL;
    }
    cJSON *out = rule_json(r);
    if (!out) {
        rule_free(r);
        snprintf(detail, len, "out of memory");
        return NULL;
    }
    r->id = ++ctl->next_rule_id;
    cJSON_ReplaceItemInObject(out, "id", cJSON_CreateNumber((double)r->id));
    sk_fault_rule **tail = &ctl->rules;
    while (*tail)
        tail = &(*tail)->next;
    *tail = r;
    ctl->nrules++;
    sk_control_update_intercept(b);
    return out;
}

cJSON *sk_faults_list(sk_broker *b)
{
    cJSON *arr = cJSON_CreateArray();
    for (const sk_fault_rule *r = b->control->rules; arr && r; r = r->next)
        cJSON_AddItemToArray(arr, rule_json(r));
    return arr;
}

cJSON *sk_faults_get(sk_broker *b, uint64_t id)
{
    for (const sk_fault_rule *r = b->control->rules; r; r = r->next)
        if (r->id == id)
            return rule_json(r);
    return NULL;
}

bool sk_faults_remove(sk_broker *b, uint64_t id)
{
    sk_control *ctl = b->control;
    for (sk_fault_rule **p = &ctl->rules; *p; p = &(*p)->next) {
        if ((*p)->id == id) {
            sk_fault_rule *r = *p;
            *p = r->next;
            rule_free(r);
            ctl->nrules--;
            sk_control_update_intercept(b);
            return true;
        }
    }
    return false;
}

void sk_faults_free_all(sk_control *ctl)
{
    while (ctl->rules) {
        sk_fault_rule *r = ctl->rules;
        ctl->rules = r->next;
        rule_free(r);
    }
    ctl->nrules = 0;
}

int sk_faults_clear(sk_broker *b)
{
    int n = b->control->nrules;
    sk_faults_free_all(b->control);
    sk_control_update_intercept(b);
    return n;
}

/* ---- Matching ----------------------------------------------------------- */

/* What a rule looks for in a request body, and what was found. */
typedef struct match_ctx {
    const sk_fault_rule *r;            /* the rule matched against */
    sk_meta *meta;                     /* resolves topic ids to names (borrowed) */
    int16_t version;                   /* the request's version, for the fields it has */
    bool topic, partition, group, txn; /* found */
} match_ctx;

static bool str_is(kf_str s, const char *want)
{
    return want && kf_str_eq(s, want);
}

static bool is_topic_struct(const kf_struct_desc *d)
{
    return strstr(d->name, "topic") != NULL;
}

static void walk(match_ctx *m, const kf_struct_desc *d, const void *msg, bool topic_here);

/* Notes a partition of the current topic context. */
static void saw_partition(match_ctx *m, int32_t p, bool topic_here)
{
    if (p == m->r->partition && (!m->r->topic || topic_here))
        m->partition = true;
}

static void walk(match_ctx *m, const kf_struct_desc *d, const void *msg, bool topic_here)
{
    const sk_fault_rule *r = m->r;
    /* The topic of this struct first, so its partitions see it. */
    for (uint16_t i = 0; i < d->nfields; i++) {
        const kf_field *f = &d->fields[i];
        if (m->version < f->ver_min || m->version > f->ver_max)
            continue;
        const char *p = (const char *)msg + f->offset;
        if (f->type == KF_STRING && (!strcmp(f->name, "topic") || !strcmp(f->name, "topic_name") ||
                                     (!strcmp(f->name, "name") && is_topic_struct(d)))) {
            if (r->topic)
                topic_here = str_is(*(const kf_str *)p, r->topic);
        } else if (f->type == KF_UUID && !strcmp(f->name, "topic_id") && r->topic && m->meta) {
            const sk_topic *t = sk_meta_topic_by_id(m->meta, ((const kf_uuid *)p)->b);
            if (t && !strcmp(t->name, r->topic))
                topic_here = true;
        }
    }
    if (topic_here)
        m->topic = true;
    for (uint16_t i = 0; i < d->nfields; i++) {
        const kf_field *f = &d->fields[i];
        if (m->version < f->ver_min || m->version > f->ver_max)
            continue;
        const char *p = (const char *)msg + f->offset;
        if (f->type == KF_STRING && !strcmp(f->name, "group_id")) {
            m->group = m->group || str_is(*(const kf_str *)p, r->group_id);
        } else if (f->type == KF_STRING && !strcmp(f->name, "transactional_id")) {
            m->txn = m->txn || str_is(*(const kf_str *)p, r->transactional_id);
        } else if (f->type == KF_INT32 && r->partition >= 0 &&
                   (!strcmp(f->name, "partition") || !strcmp(f->name, "partition_index") ||
                    !strcmp(f->name, "index"))) {
            saw_partition(m, *(const int32_t *)p, topic_here);
        } else if (f->type == KF_ARRAY) {
            kf_array a;
            memcpy(&a, p, sizeof a);
            for (int32_t k = 0; k < a.n; k++) {
                if (f->elem == KF_STRUCT)
                    walk(m, f->child, (const char *)a.items + (size_t)k * f->child->size, topic_here);
                else if (f->elem == KF_INT32 && r->partition >= 0 &&
                         (!strcmp(f->name, "partitions") || !strcmp(f->name, "partition_indexes")))
                    saw_partition(m, ((const int32_t *)a.items)[k], topic_here);
                else if (f->elem == KF_STRING && (!strcmp(f->name, "topic_names") || !strcmp(f->name, "topics")) &&
                         str_is(((const kf_str *)a.items)[k], r->topic))
                    m->topic = true;
            }
        } else if (f->type == KF_STRUCT) {
            walk(m, f->child, p, topic_here);
        } else if (f->type == KF_NULLABLE_STRUCT && *(void *const *)p) {
            walk(m, f->child, *(void *const *)p, topic_here);
        }
    }
}

/* FindCoordinator names groups and transactional ids as keys. */
static void match_coordinator_keys(match_ctx *m, const kf_find_coordinator_request *fc)
{
    const char *want = fc->key_type == 0 ? m->r->group_id : fc->key_type == 1 ? m->r->transactional_id : NULL;
    bool hit = str_is(fc->key, want);
    for (int32_t i = 0; i < fc->coordinator_keys.n; i++)
        hit = hit || str_is(fc->coordinator_keys.items[i], want);
    if (fc->key_type == 0)
        m->group = m->group || hit;
    else if (fc->key_type == 1)
        m->txn = m->txn || hit;
}

static bool rule_matches(const sk_fault_rule *r, const sk_request *req)
{
    if (r->api_key != req->hdr.api_key || (r->version >= 0 && r->version != req->hdr.api_version))
        return false;
    if (r->client_id && !str_is(req->hdr.client_id, r->client_id))
        return false;
    if (r->node_id >= 0 && r->node_id != req->node_id)
        return false;
    if (!r->topic && r->partition < 0 && !r->group_id && !r->transactional_id)
        return true;
    if (!req->body)
        return false;
    match_ctx m = {.r = r, .meta = req->broker->meta, .version = req->hdr.api_version};
    walk(&m, req->api->request, req->body, false);
    if (req->hdr.api_key == KF_API_FIND_COORDINATOR)
        match_coordinator_keys(&m, req->body);
    return (!r->topic || m.topic) && (r->partition < 0 || m.partition) && (!r->group_id || m.group) &&
           (!r->transactional_id || m.txn);
}

/* xorshift64*: a uniform draw in [0, 1). */
static double draw(sk_fault_rule *r)
{
    uint64_t x = r->rng ? r->rng : 0x9E3779B97F4A7C15ull;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    r->rng = x;
    return (double)((x * 0x2545F4914F6CDD1Dull) >> 11) / 9007199254740992.0;
}

sk_fault_rule *sk_faults_fire(sk_control *ctl, const sk_request *req, int64_t now_ms)
{
    for (sk_fault_rule *r = ctl->rules; r; r = r->next) {
        if (!rule_matches(r, req))
            continue;
        r->matched++;
        if (r->matched <= r->after || (r->times && r->fired >= r->times) || (r->deadline_ms && now_ms > r->deadline_ms))
            continue;
        if (r->probability < 1.0 && draw(r) >= r->probability)
            continue;
        r->fired++;
        return r;
    }
    return NULL;
}
