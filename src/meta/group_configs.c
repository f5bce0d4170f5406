/*
 * Per-group configs (skiff/group_configs.h): Kafka 4.4's GroupConfig table,
 * its checks, and the store of the overrides.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "skiff/broker_configs.h"
#include "skiff/errors.h"
#include "skiff/group_configs.h"
#include "skiff/trace.h"

#define STORE_FILE "skiff-group-configs.json"
#define NONE INT64_MIN

/* Which broker bounds a key's value must respect (GroupConfig.validateValues). */
typedef enum bound {
    B_NONE,
    B_RANGE,             /* lo..hi inclusive */
    B_MAX,               /* at most hi */
    B_MIN,               /* at least lo */
    B_CONSUMER_SESSION,  /* group.consumer.min/max.session.timeout.ms */
    B_CONSUMER_HEARTBEAT /* group.consumer.min/max.heartbeat.interval.ms */
} bound;

/* A key with its checks: `at_least` is ConfigDef's lower bound (NONE = none);
 * lo/hi are Kafka's default broker bounds for the keys skiff has no
 * setting for; `parse` and `check` order the checks as Kafka's parse (its
 * definition order) and validateValues make them. */
typedef struct key_rule {
    sk_group_config_def def; /* the key as described (name, type, synonym, default) */
    int64_t at_least;        /* ConfigDef's lower bound; NONE = none */
    bound bound;             /* the broker-side bound checked after it */
    int32_t lo, hi;          /* B_RANGE / B_MAX / B_MIN bounds for keys without a setting */
    int parse, check;        /* rank in Kafka's parse order and validateValues order */
} key_rule;

#define T(x) SK_CONFIG_TYPE_##x
static const key_rule KEYS[] = {
    {{"consumer.session.timeout.ms", T(INT), "group.consumer.session.timeout.ms", "45000", false},
     1,
     B_CONSUMER_SESSION,
     0,
     0,
     0,
     1},
    {{"streams.assignor.name", T(STRING), "group.streams.assignors", "sticky", false}, NONE, B_NONE, 0, 0, 22, 15},
    {{"consumer.assignment.interval.ms", T(INT), "group.consumer.assignment.interval.ms", "1000", false},
     0,
     B_RANGE,
     0,
     15000,
     2,
     2},
    {{"errors.deadletterqueue.copy.record.enable", T(BOOLEAN), NULL, "false", false}, NONE, B_NONE, 0, 0, 26, 99},
    {{"share.auto.offset.reset", T(STRING), NULL, "latest", false}, NONE, B_NONE, 0, 0, 9, 99},
    {{"streams.rack.aware.assignment.tags", T(LIST), "group.streams.rack.aware.assignment.tags", "", false},
     NONE,
     B_NONE,
     0,
     0,
     17,
     99},
    {{"share.renew.acknowledge.enable", T(BOOLEAN), NULL, "true", false}, NONE, B_NONE, 0, 0, 24, 99},
    {{"streams.initial.rebalance.delay.ms", T(INT), "group.streams.initial.rebalance.delay.ms", "3000", false},
     0,
     B_NONE,
     0,
     0,
     15,
     99},
    {{"share.session.timeout.ms", T(INT), "group.share.session.timeout.ms", "45000", false},
     1,
     B_RANGE,
     45000,
     60000,
     4,
     4},
    {{"streams.assignment.interval.ms", T(INT), "group.streams.assignment.interval.ms", "1000", false},
     0,
     B_RANGE,
     0,
     15000,
     16,
     12},
    {{"share.heartbeat.interval.ms", T(INT), "group.share.heartbeat.interval.ms", "5000", false},
     1,
     B_RANGE,
     5000,
     15000,
     5,
     3},
    {{"streams.heartbeat.interval.ms", T(INT), "group.streams.heartbeat.interval.ms", "5000", false},
     1,
     B_RANGE,
     5000,
     15000,
     13,
     9},
    {{"share.delivery.count.limit", T(INT), "group.share.delivery.count.limit", "5", false}, 2, B_RANGE, 2, 10, 7, 6},
    {{"errors.deadletterqueue.topic.name", T(STRING), NULL, "", false}, NONE, B_NONE, 0, 0, 25, 99},
    {{"consumer.heartbeat.interval.ms", T(INT), "group.consumer.heartbeat.interval.ms", "5000", false},
     1,
     B_CONSUMER_HEARTBEAT,
     0,
     0,
     1,
     0},
    {{"share.record.lock.duration.ms", T(INT), "group.share.record.lock.duration.ms", "30000", false},
     1000,
     B_RANGE,
     15000,
     60000,
     6,
     5},
    {{"share.assignment.interval.ms", T(INT), "group.share.assignment.interval.ms", "1000", false},
     0,
     B_RANGE,
     0,
     15000,
     10,
     8},
    {{"share.isolation.level", T(STRING), NULL, "read_uncommitted", false}, NONE, B_NONE, 0, 0, 23, 99},
    {{"streams.session.timeout.ms", T(INT), "group.streams.session.timeout.ms", "45000", false},
     1,
     B_RANGE,
     45000,
     60000,
     12,
     10},
    {{"share.partition.max.record.locks", T(INT), "group.share.partition.max.record.locks", "2000", false},
     100,
     B_RANGE,
     100,
     4000,
     8,
     7},
    {{"streams.num.standby.replicas", T(INT), "group.streams.num.standby.replicas", "0", false},
     0,
     B_MAX,
     0,
     2,
     14,
     11},
    /* defineInternal: accepted, not described */
    {{"consumer.assignor.offload.enable", T(BOOLEAN), NULL, "true", true}, NONE, B_NONE, 0, 0, 3, 99},
    {{"share.assignor.offload.enable", T(BOOLEAN), NULL, "true", true}, NONE, B_NONE, 0, 0, 11, 99},
    {{"streams.assignor.offload.enable", T(BOOLEAN), NULL, "true", true}, NONE, B_NONE, 0, 0, 18, 99},
    {{"streams.task.offset.interval.ms", T(INT), NULL, "60000", true}, 1, B_MIN, 15000, 0, 19, 13},
    {{"streams.num.warmup.replicas", T(INT), NULL, "2", true}, 0, B_MAX, 0, 20, 20, 14},
    {{"streams.acceptable.recovery.lag", T(LONG), NULL, "10000", true}, 0, B_NONE, 0, 0, 21, 99},
};
#undef T

#define NKEYS ((int)(sizeof KEYS / sizeof KEYS[0]))
#define NRANKS 27

/* Session timeouts that must exceed their heartbeat interval, with Kafka's
 * broker defaults for the share and streams pairs. */
static const struct {
    const char *session, *heartbeat;            /* group config keys: the session timeout, the heartbeat interval */
    int32_t session_default, heartbeat_default; /* 0: the broker's consumer settings */
} PAIRS[] = {
    {"consumer.session.timeout.ms", "consumer.heartbeat.interval.ms", 0, 0},
    {"share.session.timeout.ms", "share.heartbeat.interval.ms", 45000, 5000},
    {"streams.session.timeout.ms", "streams.heartbeat.interval.ms", 45000, 5000},
};

const sk_group_config_def *sk_group_config_def_at(int i)
{
    return i >= 0 && i < NKEYS ? &KEYS[i].def : NULL;
}

static const key_rule *find_key(const char *name)
{
    for (int i = 0; i < NKEYS; i++)
        if (!strcmp(KEYS[i].def.name, name))
            return &KEYS[i];
    return NULL;
}

struct sk_group_configs {
    char *dir;                /* the log dir holding the store */
    sk_broker_configs *store; /* {"<group>": {"key": "value"}} */
};

sk_group_configs *sk_group_configs_open(const char *dir)
{
    sk_group_configs *gc = calloc(1, sizeof *gc);
    if (!gc || !(gc->dir = strdup(dir)) || !(gc->store = sk_broker_configs_load_file(dir, STORE_FILE))) {
        sk_group_configs_close(gc);
        return NULL;
    }
    return gc;
}

void sk_group_configs_close(sk_group_configs *gc)
{
    if (!gc)
        return;
    sk_broker_configs_free(gc->store);
    free(gc->dir);
    free(gc);
}

const char *sk_group_configs_get(const sk_group_configs *gc, const char *group, const char *key)
{
    return gc ? sk_broker_configs_get(gc->store, group, key) : NULL;
}

/* ---- Checks ------------------------------------------------------------- */

/* `text` as an integer, blanks around it ignored; false when it is not one. */
static bool parse_int(const char *text, int64_t *v)
{
    char *end;
    errno = 0;
    long long x = strtoll(text, &end, 10);
    while (isspace((unsigned char)*end))
        end++;
    *v = x;
    return !errno && end != text && !*end;
}

/* ISO-8601 duration as Java's Duration.parse takes it, non-negative:
 * P[nD][T[nH][nM][n[.n]S]] with at least one part. */
static bool iso_duration(const char *s)
{
    if (*s != 'P' && *s != 'p')
        return false;
    s++;
    bool any = false, time = false;
    while (*s) {
        if (!time && (*s == 'T' || *s == 't')) {
            time = true;
            s++;
            if (!*s)
                return false;
            continue;
        }
        const char *digits = s;
        while (isdigit((unsigned char)*s))
            s++;
        if (*s == '.' && time) {
            s++;
            while (isdigit((unsigned char)*s))
                s++;
        }
        if (s == digits || !*s)
            return false;
        char unit = (char)toupper((unsigned char)*s++);
        if ((!time && unit != 'D') || (time && unit != 'H' && unit != 'M' && unit != 'S'))
            return false;
        any = true;
    }
    return any;
}

/* ConfigDef.parse for one key (type, lower bound, validators). */
static int16_t parse_value(const key_rule *k, const char *v, char *msg, size_t len)
{
    const char *name = k->def.name, *why = sk_config_type_error(k->def.type, v);
    int64_t n;
    if (why) {
        snprintf(msg, len, "Invalid value %s for configuration %s: %s", v, name, why);
        return SK_ERR_INVALID_CONFIG;
    }
    if (k->at_least != NONE && parse_int(v, &n) && n < k->at_least) {
        snprintf(msg, len, "Invalid value %" PRId64 " for configuration %s: Value must be at least %" PRId64, n, name,
                 k->at_least);
        return SK_ERR_INVALID_CONFIG;
    }
    if (!strcmp(name, "share.isolation.level") && strcmp(v, "read_committed") && strcmp(v, "read_uncommitted")) {
        snprintf(msg, len,
                 "Invalid value %s for configuration %s: String must be one of: read_committed, "
                 "read_uncommitted",
                 v, name);
        return SK_ERR_INVALID_CONFIG;
    }
    if (!strcmp(name, "share.auto.offset.reset") && strcmp(v, "earliest") && strcmp(v, "latest") &&
        !(strncmp(v, "by_duration:", 12) == 0 && iso_duration(v + 12))) {
        snprintf(msg, len,
                 "Invalid value %s for configuration %s: Invalid value `%s` for configuration %s. The "
                 "value must be either 'earliest', 'latest' or of the format 'by_duration:<PnDTnHnMn.nS>'.",
                 v, name, v, name);
        return SK_ERR_INVALID_CONFIG;
    }
    return SK_ERR_NONE;
}

/* True when the comma list `v` (blanks around commas ignored) names a tag twice. */
static bool duplicate_tags(const char *v)
{
    char copy[1024];
    snprintf(copy, sizeof copy, "%s", v);
    char *tags[64];
    int n = 0;
    for (char *save = NULL, *t = strtok_r(copy, ",", &save); t && n < 64; t = strtok_r(NULL, ",", &save)) {
        while (isspace((unsigned char)*t))
            t++;
        size_t l = strlen(t);
        while (l && isspace((unsigned char)t[l - 1]))
            t[--l] = '\0';
        for (int i = 0; i < n; i++)
            if (!strcmp(tags[i], t))
                return true;
        tags[n++] = t;
    }
    return false;
}

/* GroupConfig.validateValues for the key of rank `rank`: its broker bounds. */
static int16_t check_bounds(const key_rule *k, const sk_config *cfg, const char *v, char *msg, size_t len)
{
    const char *name = k->def.name;
    int64_t n = 0;
    int32_t lo = k->lo, hi = k->hi;
    if (k->bound == B_CONSUMER_SESSION) {
        lo = cfg->group_consumer_min_session_timeout_ms;
        hi = cfg->group_consumer_max_session_timeout_ms;
    } else if (k->bound == B_CONSUMER_HEARTBEAT) {
        lo = cfg->group_consumer_min_heartbeat_interval_ms;
        hi = cfg->group_consumer_max_heartbeat_interval_ms;
    }
    if (k->bound != B_NONE)
        parse_int(v, &n);
    switch (k->bound) {
    case B_RANGE:
    case B_CONSUMER_SESSION:
    case B_CONSUMER_HEARTBEAT:
        if (n < lo || n > hi) {
            snprintf(msg, len, "%s must be in the range %" PRId32 " to %" PRId32 " inclusive.", name, lo, hi);
            return SK_ERR_INVALID_CONFIG;
        }
        break;
    case B_MAX:
        if (n > hi) {
            snprintf(msg, len, "%s must be less than or equal to %" PRId32, name, hi);
            return SK_ERR_INVALID_CONFIG;
        }
        break;
    case B_MIN:
        if (n < lo) {
            snprintf(msg, len, "%s must be greater than or equal to %" PRId32, name, lo);
            return SK_ERR_INVALID_CONFIG;
        }
        break;
    case B_NONE:
        break;
    }
    if (!strcmp(name, "streams.assignor.name") && strcmp(v, "sticky")) {
        snprintf(msg, len, "%s '%s' is not a registered task assignor. Registered assignors are: [sticky].", name, v);
        return SK_ERR_INVALID_CONFIG;
    }
    return SK_ERR_NONE;
}

/* GroupConfig.validate on the group's whole set of overrides. */
static int16_t check_all(const sk_broker_configs *set, const char *group, const sk_config *cfg, char *msg, size_t len)
{
    int16_t err = SK_ERR_NONE;
    const char *v;
    for (int rank = 0; rank < NRANKS && err == SK_ERR_NONE; rank++)
        for (int i = 0; i < NKEYS && err == SK_ERR_NONE; i++)
            if (KEYS[i].parse == rank && (v = sk_broker_configs_get(set, group, KEYS[i].def.name)))
                err = parse_value(&KEYS[i], v, msg, len);
    for (int rank = 0; rank < NRANKS && err == SK_ERR_NONE; rank++)
        for (int i = 0; i < NKEYS && err == SK_ERR_NONE; i++)
            if (KEYS[i].check == rank && (v = sk_broker_configs_get(set, group, KEYS[i].def.name)))
                err = check_bounds(&KEYS[i], cfg, v, msg, len);
    for (size_t p = 0; p < sizeof PAIRS / sizeof PAIRS[0] && err == SK_ERR_NONE; p++) {
        const char *s = sk_broker_configs_get(set, group, PAIRS[p].session),
                   *h = sk_broker_configs_get(set, group, PAIRS[p].heartbeat);
        if (!s && !h)
            continue;
        int64_t session = p == 0 ? cfg->group_consumer_session_timeout_ms : PAIRS[p].session_default;
        int64_t heartbeat = p == 0 ? cfg->group_consumer_heartbeat_interval_ms : PAIRS[p].heartbeat_default;
        if (s)
            parse_int(s, &session);
        if (h)
            parse_int(h, &heartbeat);
        if (session <= heartbeat) {
            snprintf(msg, len, "%s must be greater than %s", PAIRS[p].session, PAIRS[p].heartbeat);
            err = SK_ERR_INVALID_CONFIG;
        }
    }
    if (err == SK_ERR_NONE && (v = sk_broker_configs_get(set, group, "errors.deadletterqueue.topic.name")) &&
        !strncmp(v, "__", 2)) {
        snprintf(msg, len, "errors.deadletterqueue.topic.name: DLQ topic name must not start with '__'");
        err = SK_ERR_INVALID_CONFIG;
    }
    if (err == SK_ERR_NONE && (v = sk_broker_configs_get(set, group, "streams.rack.aware.assignment.tags")) &&
        duplicate_tags(v)) {
        snprintf(msg, len, "streams.rack.aware.assignment.tags must not contain duplicate tag keys.");
        err = SK_ERR_INVALID_CONFIG;
    }
    return err;
}

int16_t sk_group_configs_alter(sk_group_configs *gc, const sk_config *cfg, const char *group,
                               const sk_group_config_change *changes, int n, bool replace, bool validate_only,
                               char *msg, size_t msg_len)
{
    for (int i = 0; i < n; i++) {
        if (!changes[i].del && !find_key(changes[i].name)) {
            snprintf(msg, msg_len, "Unknown group config name: %s", changes[i].name);
            return SK_ERR_INVALID_CONFIG;
        }
    }
    /* The new set, built in a scratch store under the same group name. */
    sk_broker_configs *next = sk_broker_configs_new();
    if (!next)
        return SK_ERR_KAFKA_STORAGE_ERROR;
    const char *key, *value;
    int16_t err = SK_ERR_NONE;
    for (int i = 0; !replace && (key = sk_broker_configs_key_at(gc->store, group, i, &value)); i++)
        if (sk_broker_configs_set(next, group, key, value) < 0)
            err = SK_ERR_KAFKA_STORAGE_ERROR;
    for (int i = 0; i < n && err == SK_ERR_NONE; i++)
        if (sk_broker_configs_set(next, group, changes[i].name, changes[i].del ? NULL : changes[i].value) < 0)
            err = SK_ERR_KAFKA_STORAGE_ERROR;
    if (err == SK_ERR_NONE)
        err = check_all(next, group, cfg, msg, msg_len);
    if (err == SK_ERR_NONE && !validate_only) {
        sk_broker_configs_clear(gc->store, group);
        for (int i = 0; err == SK_ERR_NONE && (key = sk_broker_configs_key_at(next, group, i, &value)); i++)
            if (sk_broker_configs_set(gc->store, group, key, value) < 0)
                err = SK_ERR_KAFKA_STORAGE_ERROR;
        if (err == SK_ERR_NONE && sk_broker_configs_save_file(gc->store, gc->dir, STORE_FILE) < 0) {
            sk_error("meta", "%s/%s: %s", gc->dir, STORE_FILE, strerror(errno));
            err = SK_ERR_KAFKA_STORAGE_ERROR;
        }
        if (err == SK_ERR_KAFKA_STORAGE_ERROR)
            snprintf(msg, msg_len, "The configs could not be written to the data directory.");
    }
    sk_broker_configs_free(next);
    return err;
}

/* ---- Effective values --------------------------------------------------- */

/* The override `key` of `group` clamped to lo..hi, else `def`. */
static int32_t effective(const sk_group_configs *gc, const char *group, const char *key, int32_t def, int32_t lo,
                         int32_t hi)
{
    const char *v = sk_group_configs_get(gc, group, key);
    int64_t n;
    if (!v || !parse_int(v, &n))
        return def;
    return n < lo ? lo : n > hi ? hi : (int32_t)n;
}

int32_t sk_group_consumer_session_timeout_ms(const sk_group_configs *gc, const sk_config *cfg, const char *group)
{
    return effective(gc, group, "consumer.session.timeout.ms", cfg->group_consumer_session_timeout_ms,
                     cfg->group_consumer_min_session_timeout_ms, cfg->group_consumer_max_session_timeout_ms);
}

int32_t sk_group_consumer_heartbeat_interval_ms(const sk_group_configs *gc, const sk_config *cfg, const char *group)
{
    return effective(gc, group, "consumer.heartbeat.interval.ms", cfg->group_consumer_heartbeat_interval_ms,
                     cfg->group_consumer_min_heartbeat_interval_ms, cfg->group_consumer_max_heartbeat_interval_ms);
}
