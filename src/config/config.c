/*
 * Broker configuration: one key table, and the loader that fills sk_config
 * from it. Each row gives Kafka's key name, its type, the sk_config field,
 * skiff's default (as text, parsed by the same code as every other source),
 * the valid range or values, Kafka's default where skiff's differs, and a
 * one-line description. Defaults, validation, the JSON file, SKIFF_*
 * environment variables, --flags, --help and the accessors all read this
 * table; docs/configuration.md and config.example.json are checked against
 * it by tests/unit/test_config.c.
 *
 * Sources, lowest precedence first: defaults, the file given by --config
 * or SKIFF_CONFIG (JSON with comments allowed: the text goes through
 * cJSON_Minify first; or a Kafka server.properties), the environment
 * (apache/kafka's KAFKA_* variables, then SKIFF_*), the command line.
 * Kafka's own conventions live in kafka_compat.c.
 */
#include "skiff/config.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "skiff/trace.h"

/* Largest --config file read, bytes. */
#define CONFIG_FILE_MAX (1 << 20)
/* Largest integer a JSON number (an IEEE double) carries exactly: 2^53. */
#define JSON_EXACT_MAX 9007199254740992.0

typedef enum key_type {
    KT_STRING,    /* free text; `min` 1 = must not be empty */
    KT_LISTENERS, /* NAME://host:port list (sk_listeners_parse); `min` 1 = at least one */
    KT_ENUM,      /* one of `allowed` (any case; stored as spelled there) */
    KT_BOOL,      /* true or false (any case) */
    KT_INT16,     /* decimal integers in [min, max] */
    KT_INT32,
    KT_INT64,
} key_type;

typedef struct key_def {
    const char *name;                        /* Kafka's key name */
    key_type type;                           /* the value's type (parsing and bounds) */
    size_t offset;                           /* offsetof(sk_config, field) */
    const char *def;                         /* skiff's default, as text */
    const char *kafka_def;                   /* Kafka's default where skiff's differs, else NULL */
    int64_t min, max;                        /* integers: inclusive range; see key_type for others */
    const char *const *allowed;              /* KT_ENUM: NULL-terminated values */
    const char *(*check)(const char *value); /* extra rule: reason it fails, or NULL */
    const char *doc;                         /* one line: meaning and units */
} key_def;

static const char *const log_levels[] = {"debug", "info", "warn", "error", NULL};
static const char *const timestamp_types[] = {"CreateTime", "LogAppendTime", NULL};
static const char *const migration_policies[] = {"disabled", "upgrade", "downgrade", "bidirectional", NULL};

static const char *check_advertised(const char *value);
static const char *check_http_listener(const char *value);
static const char *check_ratio(const char *value);
static const char *check_rate(const char *value);
static const char *check_replica_selector(const char *value);

#define F(field) offsetof(sk_config, field)
#define STR(n, field, def, kdef, minlen, doc)                         \
    {                                                                 \
        n, KT_STRING, F(field), def, kdef, minlen, 0, NULL, NULL, doc \
    }
#define LISTENERS(n, field, def, kdef, mincount, check, doc)                \
    {                                                                       \
        n, KT_LISTENERS, F(field), def, kdef, mincount, 0, NULL, check, doc \
    }
#define ENUM(n, field, def, kdef, allowed, doc)                   \
    {                                                             \
        n, KT_ENUM, F(field), def, kdef, 0, 0, allowed, NULL, doc \
    }
#define BOOL(n, field, def, kdef, doc)                         \
    {                                                          \
        n, KT_BOOL, F(field), def, kdef, 0, 1, NULL, NULL, doc \
    }
#define INT(type, n, field, def, kdef, lo, hi, doc)           \
    {                                                         \
        n, type, F(field), def, kdef, lo, hi, NULL, NULL, doc \
    }

static const key_def keys[] = {
    /* Network */
    LISTENERS("listeners", listeners, "PLAINTEXT://localhost:9092", "PLAINTEXT://:9092", 1, NULL,
              "Addresses to accept connections on, NAME://host:port comma-separated; "
              "empty host = all interfaces, port 0 = any free port"),
    LISTENERS("advertised.listeners", advertised_listeners, "", "null = the listeners", 0, check_advertised,
              "Addresses given to clients in Metadata; empty = the address each client "
              "connected to"),
    STR("listener.security.protocol.map", listener_security_protocol_map,
        "PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL", NULL, 1,
        "Security protocol of each listener name, NAME:PROTOCOL comma-separated: PLAINTEXT, "
        "SSL, SASL_PLAINTEXT or SASL_SSL (docs/security.md)"),
    STR("controller.listener.names", controller_listener_names, "", "none, required with KRaft", 0,
        "Listener names of a KRaft controller: accepted in listeners, never opened"),
    INT(KT_INT32, "socket.request.max.bytes", socket_request_max_bytes, "104857600", NULL, 1, INT32_MAX,
        "Largest request frame a client may send, bytes"),
    INT(KT_INT64, "skiff.connection.output.max.bytes", connection_output_max_bytes, "16777216", "no such key", 1,
        INT64_MAX, "Unsent response bytes per connection before skiff stops reading its requests"),
    {"skiff.http.listeners", KT_STRING, F(http_listeners), "http://localhost:9644", "no such key", 0, 0, NULL,
     check_http_listener,
     "Address of the HTTP control plane for tests, http://host:port; port 0 = any free port; empty = off"},
    STR("skiff.http.token", http_token, "", "no such key", 0,
        "Bearer token the HTTP control plane requires (Authorization header; not for /healthz and "
        "/readyz); empty = none"),
    /* Identity and storage */
    INT(KT_INT32, "node.id", node_id, "1", "none, required", 0, INT32_MAX,
        "This broker's id, given to clients in Metadata and kept in the data directory"),
    STR("log.dirs", log_dirs, "./data", "/tmp/kafka-logs, via log.dir", 1,
        "Data directory; of a comma-separated list only the first is used"),
    ENUM("log.level", log_level, "info", "no such key", log_levels, "Lowest level of the log lines written to stderr"),
    INT(KT_INT32, "skiff.cluster.brokers", cluster_brokers, "1", "no such key", 1, 16,
        "Brokers this process serves over its one log store, node ids node.id and up (docs/cluster.md)"),
    STR("skiff.cluster.ports", cluster_ports, "", "no such key", 0,
        "Ports of the brokers, one entry per broker comma-separated, each listener's port '/'-separated; "
        "empty = each listener's port + the broker's index (0 stays ephemeral)"),
    STR("broker.rack", broker_rack, "", "null", 0,
        "Rack of the brokers, in Metadata and DescribeCluster: one for all, or one per broker comma-separated"),
    {"replica.selector.class", KT_STRING, F(replica_selector_class), "", "null", 0, 0, NULL, check_replica_selector,
     "Empty, or org.apache.kafka.common.replica.RackAwareReplicaSelector: consumers with client.rack are sent "
     "to a replica in their rack (KIP-392)"},
    /* Topics */
    INT(KT_INT32, "num.partitions", num_partitions, "1", NULL, 1, INT32_MAX,
        "Partitions of a topic created without a partition count (auto-created topics)"),
    INT(KT_INT16, "default.replication.factor", default_replication_factor, "1", NULL, 1, 16,
        "Replication factor of topics created without one; at most skiff.cluster.brokers"),
    BOOL("auto.create.topics.enable", auto_create_topics_enable, "true", NULL,
         "Create a missing topic when a client asks Metadata for it"),
    INT(KT_INT32, "message.max.bytes", message_max_bytes, "1048588", NULL, 0, INT32_MAX,
        "Largest record batch accepted, after compression, bytes"),
    /* Log store */
    INT(KT_INT64, "log.segment.bytes", log_segment_bytes, "1073741824", NULL, 14, INT32_MAX,
        "Size at which the active segment is closed and a new one rolled, bytes"),
    INT(KT_INT64, "log.roll.ms", log_roll_ms, "604800000", "null = log.roll.hours 168", 1, INT64_MAX,
        "Age of the active segment at which a new one is rolled, ms"),
    INT(KT_INT64, "log.retention.ms", log_retention_ms, "604800000", "null = log.retention.hours 168", -1, INT64_MAX,
        "Delete segments whose newest record is older than this, ms; -1 = keep forever"),
    INT(KT_INT64, "log.retention.bytes", log_retention_bytes, "-1", NULL, -1, INT64_MAX,
        "Delete the oldest segments while a partition is larger than this, bytes; "
        "-1 = no limit"),
    INT(KT_INT64, "log.retention.check.interval.ms", log_retention_check_interval_ms, "300000", NULL, 1, INT64_MAX,
        "How often retention is applied, ms"),
    INT(KT_INT64, "log.flush.interval.messages", log_flush_interval_messages, "9223372036854775807", NULL, 1, INT64_MAX,
        "fsync a partition once it has this many unflushed messages"),
    INT(KT_INT64, "log.flush.interval.ms", log_flush_interval_ms, "-1",
        "null = never (log.flush.scheduler.interval.ms)", -1, INT64_MAX,
        "fsync a partition whose oldest unflushed message is older than this, ms; "
        "-1 = no time-based fsync"),
    INT(KT_INT32, "log.index.interval.bytes", log_index_interval_bytes, "4096", NULL, 0, INT32_MAX,
        "Bytes of records between two offset index entries"),
    INT(KT_INT32, "log.index.size.max.bytes", log_index_size_max_bytes, "10485760", NULL, 4, INT32_MAX,
        "Largest offset or time index file (a full index rolls the segment), bytes"),
    INT(KT_INT64, "file.delete.delay.ms", file_delete_delay_ms, "60000", NULL, 0, INT64_MAX,
        "Wait before a segment removed from the log is deleted from disk, ms "
        "(Kafka's broker key: log.segment.delete.delay.ms)"),
    ENUM("log.message.timestamp.type", log_message_timestamp_type, "CreateTime", NULL, timestamp_types,
         "Keep the producer's timestamps (CreateTime) or stamp the append time (LogAppendTime)"),
    INT(KT_INT64, "log.message.timestamp.before.max.ms", log_message_timestamp_before_max_ms, "9223372036854775807",
        NULL, 0, INT64_MAX, "Reject a batch whose CreateTime is further than this in the past, ms"),
    INT(KT_INT64, "log.message.timestamp.after.max.ms", log_message_timestamp_after_max_ms, "3600000", NULL, 0,
        INT64_MAX, "Reject a batch whose CreateTime is further than this in the future, ms"),
    INT(KT_INT32, "producer.id.expiration.ms", producer_id_expiration_ms, "86400000", NULL, 1, INT32_MAX,
        "Forget an idempotent producer idle on a partition for this long, ms"),
    INT(KT_INT32, "producer.id.expiration.check.interval.ms", producer_id_expiration_check_interval_ms, "600000", NULL,
        1, INT32_MAX, "How often idle producers are looked for, ms"),
    /* Log cleaner (compacted topics) */
    BOOL("log.cleaner.enable", log_cleaner_enable, "true", NULL,
         "Run the log cleaner, which compacts topics whose cleanup.policy has compact"),
    INT(KT_INT32, "log.cleaner.threads", log_cleaner_threads, "1", NULL, 0, INT32_MAX,
        "Cleaner threads (accepted; skiff cleans with one background thread)"),
    INT(KT_INT64, "log.cleaner.dedupe.buffer.size", log_cleaner_dedupe_buffer_size, "134217728", NULL, 1048576,
        INT64_MAX, "Most memory of the key-to-offset map of one cleaning pass, bytes (24 bytes per key)"),
    INT(KT_INT32, "log.cleaner.io.buffer.size", log_cleaner_io_buffer_size, "524288", NULL, 1024, INT32_MAX,
        "Read buffer of the cleaner, bytes"),
    INT(KT_INT64, "log.cleaner.backoff.ms", log_cleaner_backoff_ms, "15000", NULL, 0, INT64_MAX,
        "Wait between the cleaner's looks for a log to clean, ms"),
    {"log.cleaner.io.max.bytes.per.second", KT_STRING, F(log_cleaner_io_max_bytes_per_second), "1.7976931348623157E308",
     NULL, 1, 0, NULL, check_rate,
     "Most bytes a second the cleaner reads and writes, a positive number (the default: no limit)"},
    {"log.cleaner.min.cleanable.ratio", KT_STRING, F(log_cleaner_min_cleanable_ratio), "0.5", NULL, 1, 0, NULL,
     check_ratio, "Share of uncleaned bytes at which a compacted log is cleaned (topic: min.cleanable.dirty.ratio)"},
    INT(KT_INT64, "log.cleaner.delete.retention.ms", log_cleaner_delete_retention_ms, "86400000", NULL, 0, INT64_MAX,
        "Tombstones and transaction markers stay this long after their batch was first cleaned, ms"),
    INT(KT_INT64, "log.cleaner.min.compaction.lag.ms", log_cleaner_min_compaction_lag_ms, "0", NULL, 0, INT64_MAX,
        "Records stay uncompacted at least this long, ms"),
    INT(KT_INT64, "log.cleaner.max.compaction.lag.ms", log_cleaner_max_compaction_lag_ms, "9223372036854775807", NULL,
        1, INT64_MAX, "A log whose oldest uncleaned record is this old is cleaned whatever its ratio, ms"),
    /* Group coordinator */
    INT(KT_INT32, "group.initial.rebalance.delay.ms", group_initial_rebalance_delay_ms, "0", "3000", 0, INT32_MAX,
        "Wait for more members before the first rebalance of an empty group, ms"),
    INT(KT_INT32, "group.min.session.timeout.ms", group_min_session_timeout_ms, "6000", NULL, 0, INT32_MAX,
        "Smallest session timeout a group member may ask for, ms"),
    INT(KT_INT32, "group.max.session.timeout.ms", group_max_session_timeout_ms, "1800000", NULL, 0, INT32_MAX,
        "Largest session timeout a group member may ask for, ms"),
    INT(KT_INT32, "group.max.size", group_max_size, "2147483647", NULL, 1, INT32_MAX,
        "Most members in one consumer group"),
    INT(KT_INT32, "group.consumer.heartbeat.interval.ms", group_consumer_heartbeat_interval_ms, "500", "5000", 1,
        INT32_MAX, "Heartbeat interval of consumer-protocol members (KIP-848), ms"),
    INT(KT_INT32, "group.consumer.session.timeout.ms", group_consumer_session_timeout_ms, "10000", "45000", 1,
        INT32_MAX, "A consumer-protocol member silent this long is removed (KIP-848), ms"),
    INT(KT_INT32, "group.consumer.min.session.timeout.ms", group_consumer_min_session_timeout_ms, "1000", "45000", 1,
        INT32_MAX, "Smallest consumer.session.timeout.ms a group config may set (KIP-848), ms"),
    INT(KT_INT32, "group.consumer.max.session.timeout.ms", group_consumer_max_session_timeout_ms, "60000", NULL, 1,
        INT32_MAX, "Largest consumer.session.timeout.ms a group config may set (KIP-848), ms"),
    INT(KT_INT32, "group.consumer.min.heartbeat.interval.ms", group_consumer_min_heartbeat_interval_ms, "100", "5000",
        1, INT32_MAX, "Smallest consumer.heartbeat.interval.ms a group config may set (KIP-848), ms"),
    INT(KT_INT32, "group.consumer.max.heartbeat.interval.ms", group_consumer_max_heartbeat_interval_ms, "15000", NULL,
        1, INT32_MAX, "Largest consumer.heartbeat.interval.ms a group config may set (KIP-848), ms"),
    ENUM("group.consumer.migration.policy", group_consumer_migration_policy, "bidirectional", NULL, migration_policies,
         "Which way a non-empty group may change protocol while its members stay: classic "
         "to consumer (upgrade), back (downgrade), both (bidirectional) or neither (disabled)"),
    INT(KT_INT32, "offsets.topic.num.partitions", offsets_topic_num_partitions, "1", "50", 1, INT32_MAX,
        "Partitions of __consumer_offsets (fixed once it exists)"),
    INT(KT_INT32, "offsets.retention.minutes", offsets_retention_minutes, "10080", NULL, 1, INT32_MAX,
        "Keep an empty group's committed offsets this long, minutes"),
    /* Transaction coordinator */
    INT(KT_INT32, "transaction.max.timeout.ms", transaction_max_timeout_ms, "900000", NULL, 1, INT32_MAX,
        "Largest transaction timeout a producer may ask for, ms"),
    INT(KT_INT32, "transactional.id.expiration.ms", transactional_id_expiration_ms, "604800000", NULL, 1, INT32_MAX,
        "Forget a transactional id idle for this long, ms"),
    INT(KT_INT32, "transaction.remove.expired.transaction.cleanup.interval.ms", transaction_cleanup_interval_ms,
        "3600000", NULL, 1, INT32_MAX, "How often idle transactional ids are looked for, ms"),
    INT(KT_INT32, "transaction.state.log.num.partitions", transaction_state_log_num_partitions, "1", "50", 1, INT32_MAX,
        "Partitions of __transaction_state (fixed once it exists)"),
    /* Shutdown */
    INT(KT_INT64, "skiff.shutdown.timeout.ms", shutdown_timeout_ms, "5000", "no such key", 0, INT64_MAX,
        "Longest wait for in-flight requests and flushes at shutdown, ms"),
};

#undef F
#undef STR
#undef LISTENERS
#undef ENUM
#undef BOOL
#undef INT

#define NKEYS ((int)(sizeof keys / sizeof keys[0]))

/* ---- The table ---------------------------------------------------------- */

/* The row whose name is the `len` bytes at `name`, or NULL. */
static const key_def *key_find(const char *name, size_t len)
{
    for (int i = 0; i < NKEYS; i++)
        if (strlen(keys[i].name) == len && memcmp(keys[i].name, name, len) == 0)
            return &keys[i];
    return NULL;
}

/* SKIFF_ + the key in capitals, dots and dashes as underscores. */
static void key_env_name(const key_def *k, char *buf, size_t len)
{
    size_t n = (size_t)snprintf(buf, len, "SKIFF_");
    for (const char *p = k->name; *p && n + 1 < len; p++, n++)
        buf[n] = (*p == '.' || *p == '-') ? '_' : (char)toupper((unsigned char)*p);
    buf[n] = '\0';
}

static void *key_field(sk_config *c, const key_def *k)
{
    return (char *)c + k->offset;
}

static const void *key_field_const(const sk_config *c, const key_def *k)
{
    return (const char *)c + k->offset;
}

const char *sk_config_key_name(int i)
{
    return i >= 0 && i < NKEYS ? keys[i].name : NULL;
}

const char *sk_config_key_default(int i)
{
    return i >= 0 && i < NKEYS ? keys[i].def : NULL;
}

static int format_value(const sk_config *c, const key_def *k, char *buf, size_t len)
{
    const void *f = key_field_const(c, k);
    switch (k->type) {
    case KT_STRING:
    case KT_LISTENERS:
    case KT_ENUM: {
        const char *s = *(char *const *)f;
        return snprintf(buf, len, "%s", s ? s : "");
    }
    case KT_BOOL:
        return snprintf(buf, len, "%s", *(const bool *)f ? "true" : "false");
    case KT_INT16:
        return snprintf(buf, len, "%d", (int)*(const int16_t *)f);
    case KT_INT32:
        return snprintf(buf, len, "%" PRId32, *(const int32_t *)f);
    case KT_INT64:
        return snprintf(buf, len, "%" PRId64, *(const int64_t *)f);
    }
    return -1;
}

int sk_config_format_value(const sk_config *c, const char *name, char *buf, size_t len)
{
    const key_def *k = key_find(name, strlen(name));
    return k ? format_value(c, k, buf, len) : -1;
}

/* ---- Values ------------------------------------------------------------- */

/* skiff.http.listeners: empty, or one http://host:port (sk_http_listener_parse). */
static const char *check_http_listener(const char *value)
{
    sk_listener_addr a;
    return *value ? sk_http_listener_parse(value, &a) : NULL;
}

static const char *check_advertised(const char *value)
{
    sk_listener_addr addr[SK_LISTENERS_MAX];
    int n = sk_listeners_parse(value, addr, SK_LISTENERS_MAX, NULL);
    for (int i = 0; i < n && i < SK_LISTENERS_MAX; i++) {
        if (addr[i].port == 0)
            return "an advertised port cannot be 0";
        if (addr[i].host[0] == '\0' || strcmp(addr[i].host, "0.0.0.0") == 0 || strcmp(addr[i].host, "::") == 0)
            return "an advertised host must be an address clients can reach, "
                   "not empty or a wildcard";
    }
    return NULL;
}

/* A number from 0 to 1 (Kafka's double keys such as log.cleaner.min.cleanable.ratio). */
static const char *check_ratio(const char *value)
{
    char *end;
    errno = 0;
    double d = strtod(value, &end);
    if (errno || end == value || *end != '\0' || !(d >= 0.0 && d <= 1.0))
        return "must be a number from 0 to 1";
    return NULL;
}

/* A positive number (Kafka's double keys such as log.cleaner.io.max.bytes.per.second). */
static const char *check_rate(const char *value)
{
    char *end;
    errno = 0;
    double d = strtod(value, &end);
    if (errno || end == value || *end != '\0' || !(d > 0.0))
        return "must be a number above 0";
    return NULL;
}

#define RACK_AWARE_SELECTOR "org.apache.kafka.common.replica.RackAwareReplicaSelector"

/* replica.selector.class: empty (consumers fetch from the leader) or the
 * one selector skiff implements. */
static const char *check_replica_selector(const char *value)
{
    if (!*value || !strcmp(value, RACK_AWARE_SELECTOR))
        return NULL;
    return "must be empty or " RACK_AWARE_SELECTOR;
}

/* The allowed values of an enum key, joined by `sep`. */
static void join_allowed(const key_def *k, const char *sep, char *buf, size_t len)
{
    size_t n = 0;
    buf[0] = '\0';
    for (const char *const *a = k->allowed; *a && n < len; a++)
        n += (size_t)snprintf(buf + n, len - n, "%s%s", a == k->allowed ? "" : sep, *a);
}

/* Index in sk_config.time_rank of a time key that has Kafka aliases, or -1. */
static int time_slot(const char *name)
{
    return !strcmp(name, "log.retention.ms") ? 0 : !strcmp(name, "log.roll.ms") ? 1 : -1;
}

/* Strict decimal: optional sign, digits, nothing else. Returns 0, -1 if
 * `text` is not an integer, or 1 if it is one beyond int64. */
static int parse_int64(const char *text, int64_t *out)
{
    const char *p = text;
    if (*p == '-' || *p == '+')
        p++;
    if (*p < '0' || *p > '9')
        return -1;
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (*end != '\0')
        return -1;
    if (errno == ERANGE)
        return 1;
    *out = v;
    return 0;
}

/* Parses `text` for key `k` and stores it in `c`; on a bad value logs an
 * error naming the key, the value and `origin`, and returns -1. */
static int set_value(sk_config *c, const key_def *k, const char *text, const char *origin)
{
    void *f = key_field(c, k);
    const char *why = NULL;
    char reason[128];
    const char *stored = text;
    int64_t v = 0;

    switch (k->type) {
    case KT_STRING:
        if ((int64_t)strlen(text) < k->min)
            why = "must not be empty";
        if (!why && k->check)
            why = k->check(text);
        break;
    case KT_LISTENERS: {
        int n = sk_listeners_parse(text, NULL, 0, &why);
        if (n >= 0 && n < k->min)
            why = "needs at least one NAME://host:port";
        if (!why && k->check)
            why = k->check(text);
        break;
    }
    case KT_ENUM:
        stored = NULL;
        for (const char *const *a = k->allowed; *a && !stored; a++)
            if (strcasecmp(text, *a) == 0)
                stored = *a;
        if (!stored) {
            char values[96];
            join_allowed(k, ", ", values, sizeof values);
            snprintf(reason, sizeof reason, "must be one of %s", values);
            why = reason;
        }
        break;
    case KT_BOOL:
        if (strcasecmp(text, "true") == 0)
            v = 1;
        else if (strcasecmp(text, "false") != 0)
            why = "must be true or false";
        break;
    case KT_INT16:
    case KT_INT32:
    case KT_INT64:
        switch (parse_int64(text, &v)) {
        case -1:
            why = "not an integer";
            break;
        case 0:
            if (v >= k->min && v <= k->max)
                break;
            /* fall through */
        default:
            if (k->min == k->max)
                snprintf(reason, sizeof reason, "must be %" PRId64, k->min);
            else
                snprintf(reason, sizeof reason, "must be from %" PRId64 " to %" PRId64, k->min, k->max);
            why = reason;
            break;
        }
        break;
    }
    if (why) {
        sk_error("config", "%s: bad value \"%s\" from %s: %s", k->name, text, origin, why);
        return -1;
    }

    switch (k->type) {
    case KT_STRING:
    case KT_LISTENERS:
    case KT_ENUM: {
        char *dup = strdup(stored);
        if (!dup) {
            sk_error("config", "%s: out of memory", k->name);
            return -1;
        }
        free(*(char **)f);
        *(char **)f = dup;
        break;
    }
    case KT_BOOL:
        *(bool *)f = v != 0;
        break;
    case KT_INT16:
        *(int16_t *)f = (int16_t)v;
        break;
    case KT_INT32:
        *(int32_t *)f = (int32_t)v;
        break;
    case KT_INT64:
        *(int64_t *)f = v;
        break;
    }
    int slot = time_slot(k->name);
    if (slot >= 0 && strcmp(origin, "the defaults") != 0)
        c->time_rank[slot] = 0;
    return 0;
}

static void warn_unknown(sk_config *c, const char *what, int len, const char *name, const char *origin)
{
    sk_warn("config", "unknown %s \"%.*s\" in %s ignored", what, len, name, origin);
    c->warnings++;
}

/* Adds `name` to the keys accepted and ignored (once). */
static int note_ignored(sk_config *c, const char *name, const char *reason)
{
    size_t nlen = strlen(name);
    for (const char *p = c->ignored; p && (p = strstr(p, name)); p += nlen)
        if ((p == c->ignored || p[-1] == ' ') && (p[nlen] == ' ' || p[nlen] == '\0'))
            return 0;
    size_t old = c->ignored ? strlen(c->ignored) : 0;
    size_t len = old + nlen + strlen(reason) + 8;
    char *grown = realloc(c->ignored, len);
    if (!grown) {
        sk_error("config", "out of memory");
        return -1;
    }
    snprintf(grown + old, len - old, "%s%s (%s)", old ? ", " : "", name, reason);
    c->ignored = grown;
    return 0;
}

/* Alias `name` (of `rank`, in `unit_ms`) sets `target` unless the key or a
 * lower-ranked alias already did; a negative value is -1 (no limit), as in
 * Kafka. */
static int apply_time_alias(sk_config *c, const char *name, const char *value, const char *target, int64_t unit_ms,
                            int rank, const char *origin)
{
    int64_t v = 0;
    if (parse_int64(value, &v) != 0 || v > INT64_MAX / unit_ms) {
        sk_error("config", "%s: bad value \"%s\" from %s: must be an integer of at most %" PRId64, name, value, origin,
                 INT64_MAX / unit_ms);
        return -1;
    }
    int slot = time_slot(target);
    if (rank > c->time_rank[slot])
        return note_ignored(c, name, c->time_rank[slot] ? "a finer alias is set" : "the ms key is set");
    char ms[32], via[400];
    snprintf(ms, sizeof ms, "%" PRId64, v < 0 ? -1 : v * unit_ms);
    snprintf(via, sizeof via, "%s as %s", origin, name);
    if (set_value(c, key_find(target, strlen(target)), ms, via) != 0)
        return -1;
    c->time_rank[slot] = (uint8_t)rank;
    return 0;
}

bool sk_config_is_security_key(const char *name)
{
    static const char *const prefixes[] = {"ssl.", "sasl.", "listener.name.", NULL};
    static const char *const exact[] = {"connections.max.reauth.ms",
                                        "connection.failed.authentication.delay.ms",
                                        "skiff.scram.users",
                                        "authorizer.class.name",
                                        "super.users",
                                        "allow.everyone.if.no.acl.found",
                                        NULL};
    for (const char *const *p = prefixes; *p; p++)
        if (strncmp(name, *p, strlen(*p)) == 0 && name[strlen(*p)] != '\0')
            return true;
    for (const char *const *p = exact; *p; p++)
        if (strcmp(name, *p) == 0)
            return true;
    return false;
}

const char *sk_config_security_get(const sk_config *c, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < c->nsecurity; i++)
        if (strncmp(c->security[i], name, n) == 0 && c->security[i][n] == '=')
            return c->security[i] + n + 1;
    return NULL;
}

/* Stores security key `name` (replacing an earlier value). */
static int set_security(sk_config *c, const char *name, const char *value)
{
    size_t n = strlen(name);
    char *kv = malloc(n + strlen(value) + 2);
    if (!kv) {
        sk_error("config", "%s: out of memory", name);
        return -1;
    }
    sprintf(kv, "%s=%s", name, value);
    for (size_t i = 0; i < c->nsecurity; i++) {
        if (strncmp(c->security[i], name, n) == 0 && c->security[i][n] == '=') {
            free(c->security[i]);
            c->security[i] = kv;
            return 0;
        }
    }
    char **grown = realloc(c->security, (c->nsecurity + 1) * sizeof *grown);
    if (!grown) {
        free(kv);
        sk_error("config", "%s: out of memory", name);
        return -1;
    }
    c->security = grown;
    c->security[c->nsecurity++] = kv;
    return 0;
}

/* Sets Kafka key `name` from any source: a key of the table, an alias of
 * one, a Kafka key skiff accepts and ignores, or an unknown one (a warning
 * naming `what`). */
static int apply_key(sk_config *c, const char *name, const char *value, const char *what, const char *origin)
{
    const key_def *k = key_find(name, strlen(name));
    if (k)
        return set_value(c, k, value, origin);
    const char *target;
    int64_t unit_ms;
    int rank = sk_config_time_alias(name, &target, &unit_ms);
    if (rank)
        return apply_time_alias(c, name, value, target, unit_ms, rank, origin);
    if (sk_config_is_security_key(name))
        return set_security(c, name, value);
    const char *reason = sk_config_ignored_reason(name);
    if (reason)
        return note_ignored(c, name, reason);
    warn_unknown(c, what, (int)strlen(name), name, origin);
    return 0;
}

/* ---- Sources ------------------------------------------------------------ */

/* Reads all of `path` into a NUL-terminated heap string; NULL on error. */
static char *read_file(const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        sk_error("config", "cannot open config file %s: %s", path, strerror(errno));
        return NULL;
    }
    char *text = malloc(CONFIG_FILE_MAX + 1);
    size_t n = text ? fread(text, 1, CONFIG_FILE_MAX + 1, fp) : 0;
    bool failed = !text || ferror(fp);
    fclose(fp);
    if (failed) {
        sk_error("config", "cannot read config file %s", path);
    } else if (n > CONFIG_FILE_MAX) {
        sk_error("config", "config file %s is larger than %d bytes", path, CONFIG_FILE_MAX);
        failed = true;
    }
    if (failed) {
        free(text);
        return NULL;
    }
    text[n] = '\0';
    return text;
}

/* The text form of one JSON value for key `k`: strings as they are, integral
 * numbers in decimal, booleans as true/false. NULL (and an error logged) for
 * any other JSON type, or a type the key cannot take. */
static const char *json_value_text(const key_def *k, const cJSON *item, char *buf, size_t len, const char *origin)
{
    bool is_int = k->type == KT_INT16 || k->type == KT_INT32 || k->type == KT_INT64;
    const char *why;
    if (cJSON_IsString(item))
        return item->valuestring;
    if (cJSON_IsNumber(item) && is_int) {
        double d = item->valuedouble;
        if (d >= -JSON_EXACT_MAX && d <= JSON_EXACT_MAX && d == (double)(int64_t)d) {
            snprintf(buf, len, "%" PRId64, (int64_t)d);
            return buf;
        }
        why = "not an integer a JSON number holds exactly (up to 2^53); "
              "write large values as strings, e.g. \"9223372036854775807\"";
    } else if (cJSON_IsNumber(item) && (k->check == check_ratio || k->check == check_rate)) {
        snprintf(buf, len, "%.17g", item->valuedouble);
        return buf;
    } else if (cJSON_IsBool(item) && k->type == KT_BOOL) {
        return cJSON_IsTrue(item) ? "true" : "false";
    } else {
        why = is_int               ? "expected an integer or a string of digits"
              : k->type == KT_BOOL ? "expected true, false or a string"
                                   : "expected a string";
    }
    char *shown = cJSON_PrintUnformatted(item);
    sk_error("config", "%s: bad value %s from %s: %s", k->name, shown ? shown : "?", origin, why);
    free(shown);
    return NULL;
}

typedef struct props_ctx {
    sk_config *c;     /* the settings being filled */
    const char *path; /* the properties file, for messages */
} props_ctx;

static int props_entry(const char *key, const char *value, int line, void *arg)
{
    props_ctx *ctx = arg;
    char origin[320];
    snprintf(origin, sizeof origin, "config file %s line %d", ctx->path, line);
    return apply_key(ctx->c, key, value, "key", origin);
}

/* A Kafka server.properties file. */
static int load_properties(sk_config *c, const char *path, const char *text)
{
    props_ctx ctx = {c, path};
    int bad_line = 0;
    int rc = sk_properties_parse(text, props_entry, &ctx, &bad_line);
    if (rc != 0 && bad_line)
        sk_error("config", "config file %s line %d: malformed \\uXXXX escape", path, bad_line);
    else if (rc != 0 && rc != -1)
        rc = -1;
    return rc;
}

/* A file is read as properties when its name ends in .properties, as JSON
 * when it ends in .json, else as JSON when its first character (past white
 * space and comments) opens an object or an array. */
static bool is_properties(const char *path, const char *text)
{
    size_t n = strlen(path);
    if (n >= 11 && strcmp(path + n - 11, ".properties") == 0)
        return true;
    if (n >= 5 && strcmp(path + n - 5, ".json") == 0)
        return false;
    char *copy = strdup(text);
    if (!copy)
        return false;
    cJSON_Minify(copy);
    bool json = copy[0] == '{' || copy[0] == '[';
    free(copy);
    return !json;
}

static int load_file(sk_config *c, const char *path)
{
    char origin[300];
    snprintf(origin, sizeof origin, "config file %s", path);
    char *text = read_file(path);
    if (!text)
        return -1;
    if (is_properties(path, text)) {
        int rc = load_properties(c, path, text);
        free(text);
        return rc;
    }
    cJSON_Minify(text);
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithOpts(text, &end, 1);
    int rc = -1;
    if (!root) {
        if (end && *end)
            sk_error("config", "%s: invalid JSON near \"%.20s\"", origin, end);
        else
            sk_error("config", "%s: invalid JSON: unexpected end of file", origin);
    } else if (!cJSON_IsObject(root)) {
        sk_error("config", "%s: expected a JSON object of key: value pairs", origin);
    } else {
        const cJSON *item;
        rc = 0;
        cJSON_ArrayForEach(item, root)
        {
            const key_def *k = key_find(item->string, strlen(item->string));
            if (!k && sk_config_is_security_key(item->string)) {
                char num[32];
                const char *v = cJSON_IsString(item) ? item->valuestring : NULL;
                if (!v && cJSON_IsNumber(item)) {
                    snprintf(num, sizeof num, "%.0f", item->valuedouble);
                    v = num;
                } else if (!v && cJSON_IsBool(item)) {
                    v = cJSON_IsTrue(item) ? "true" : "false";
                }
                if (!v) {
                    sk_error("config", "%s: bad value from %s: expected a string", item->string, origin);
                    rc = -1;
                    break;
                }
                if (set_security(c, item->string, v) != 0) {
                    rc = -1;
                    break;
                }
                continue;
            }
            if (!k) {
                if (apply_key(c, item->string, "", "key", origin) != 0) {
                    rc = -1;
                    break;
                }
                continue;
            }
            char buf[32];
            const char *value = json_value_text(k, item, buf, sizeof buf, origin);
            if (!value || set_value(c, k, value, origin) != 0) {
                rc = -1;
                break;
            }
        }
    }
    cJSON_Delete(root);
    free(text);
    return rc;
}

/* The value of variable `name` in `envp`, or NULL. */
static const char *env_get(char **envp, const char *name)
{
    size_t n = strlen(name);
    for (char **e = envp; e && *e; e++)
        if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
            return *e + n + 1;
    return NULL;
}

/* apache/kafka's image variables: KAFKA_<KEY> (sk_kafka_env_key), the
 * listeners derived from the advertised ones when KAFKA_LISTENERS is unset
 * (as that image's configure script does), CLUSTER_ID, and the log4j root
 * level as log.level. */
static int load_kafka_env(sk_config *c, char **envp)
{
    for (char **e = envp; e && *e; e++) {
        const char *eq = strchr(*e, '=');
        char key[128];
        if (!eq || sk_kafka_env_key(*e, (size_t)(eq - *e), key, sizeof key) != 1)
            continue;
        char origin[160];
        snprintf(origin, sizeof origin, "environment %.*s", (int)(eq - *e), *e);
        if (apply_key(c, key, eq + 1, "variable", origin) != 0)
            return -1;
    }
    const char *adv = env_get(envp, "KAFKA_ADVERTISED_LISTENERS");
    const char *roles = env_get(envp, "KAFKA_PROCESS_ROLES");
    if (adv && *adv && !env_get(envp, "KAFKA_LISTENERS") && !(roles && !strcmp(roles, "controller"))) {
        char derived[4096];
        if (sk_kafka_listeners_from_advertised(adv, derived, sizeof derived) == 0 &&
            set_value(c, key_find("listeners", 9), derived,
                      "KAFKA_ADVERTISED_LISTENERS (listeners on 0.0.0.0, as apache/kafka "
                      "derives them)") != 0)
            return -1;
    }
    const char *log4j = env_get(envp, "KAFKA_LOG4J_ROOT_LOGLEVEL");
    if (log4j && *log4j) {
        const char *level = sk_kafka_log4j_level(log4j);
        if (!level)
            warn_unknown(c, "log4j level", (int)strlen(log4j), log4j, "environment KAFKA_LOG4J_ROOT_LOGLEVEL");
        else if (set_value(c, key_find("log.level", 9), level, "environment KAFKA_LOG4J_ROOT_LOGLEVEL") != 0)
            return -1;
    }
    const char *cluster_id = env_get(envp, "CLUSTER_ID");
    if (cluster_id && *cluster_id) {
        free(c->cluster_id);
        if (!(c->cluster_id = strdup(cluster_id))) {
            sk_error("config", "out of memory");
            return -1;
        }
    }
    return 0;
}

static int load_env(sk_config *c, char **envp)
{
    if (load_kafka_env(c, envp) != 0)
        return -1;
    for (char **e = envp; e && *e; e++) {
        const char *eq = strchr(*e, '=');
        if (strncmp(*e, "SKIFF_", 6) != 0 || !eq || strncmp(*e, "SKIFF_CONFIG=", 13) == 0)
            continue;
        size_t len = (size_t)(eq - *e);
        const key_def *k = NULL;
        char env_name[96];
        for (int i = 0; i < NKEYS && !k; i++) {
            key_env_name(&keys[i], env_name, sizeof env_name);
            if (strlen(env_name) == len && memcmp(env_name, *e, len) == 0)
                k = &keys[i];
        }
        char security[256];
        if (!k && sk_security_env_key(*e, len, security, sizeof security) == 1) {
            if (set_security(c, security, eq + 1) != 0)
                return -1;
            continue;
        }
        if (!k) {
            warn_unknown(c, "variable", (int)len, *e, "the environment");
            continue;
        }
        char origin[128];
        snprintf(origin, sizeof origin, "environment %s", env_name);
        if (set_value(c, k, eq + 1, origin) != 0)
            return -1;
    }
    return 0;
}

static void print_help(void)
{
    printf("usage: skiff [-c FILE | --config FILE] [--KEY=VALUE | --KEY VALUE]...\n"
           "       skiff healthcheck [the same settings]\n"
           "       skiff COMMAND [ARG]...\n"
           "       skiff -h | --help\n"
           "       skiff -V | --version\n"
           "\n"
           "A Kafka-compatible broker. Settings, lowest precedence first: the defaults\n"
           "below, the file given by --config or SKIFF_CONFIG (JSON with Kafka's key\n"
           "names at the top level, comments allowed; or a Kafka server.properties),\n"
           "apache/kafka's KAFKA_<KEY> variables, SKIFF_<KEY> variables (capitals, dots\n"
           "as underscores), then these flags. A bad value stops start-up with status 2.\n"
           "\n"
           "healthcheck exits 0 if the broker these settings describe answers ApiVersions,\n"
           "else 1. A COMMAND (a first argument that is no option) runs in skiff's place,\n"
           "as a container's command does.\n"
           "\n"
           "  -c, --config FILE   read settings from a JSON or .properties file\n"
           "  -h, --help          show this help and exit\n"
           "  -V, --version       show the version and exit\n"
           "\n"
           "TLS and SASL keys (ssl.*, sasl.*, listener.name.<listener>.*,\n"
           "connections.max.reauth.ms, connection.failed.authentication.delay.ms,\n"
           "skiff.scram.users) are read per listener: see docs/security.md.\n"
           "\n"
           "Keys:\n");
    for (int i = 0; i < NKEYS; i++) {
        const key_def *k = &keys[i];
        char env_name[96], values[96];
        key_env_name(k, env_name, sizeof env_name);
        switch (k->type) {
        case KT_STRING:
            snprintf(values, sizeof values, "STRING");
            break;
        case KT_LISTENERS:
            snprintf(values, sizeof values, "NAME://HOST:PORT,...");
            break;
        case KT_ENUM:
            join_allowed(k, "|", values, sizeof values);
            break;
        case KT_BOOL:
            snprintf(values, sizeof values, "true|false");
            break;
        default:
            if (k->max == (k->type == KT_INT64 ? INT64_MAX : k->type == KT_INT32 ? INT32_MAX : INT16_MAX))
                snprintf(values, sizeof values, "INT >= %" PRId64, k->min);
            else
                snprintf(values, sizeof values, "INT %" PRId64 "..%" PRId64, k->min, k->max);
            break;
        }
        printf("  --%s %s  [%s]\n      %s\n      default: \"%s\"%s%s%s\n", k->name, values, env_name, k->doc, k->def,
               k->kafka_def ? " (Kafka: " : "", k->kafka_def ? k->kafka_def : "", k->kafka_def ? ")" : "");
    }
}

enum { ARGS_SCAN, ARGS_APPLY };

/* Walks argv. ARGS_SCAN handles --help/--version, finds --config and rejects
 * malformed arguments (warning about unknown flags); ARGS_APPLY sets the
 * keys. Both passes consume values the same way: "--key=value", or
 * "--key value" when the next argument does not start with "--". */
static sk_config_status walk_args(sk_config *c, int argc, char **argv, int pass, const char **config_path)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *next = i + 1 < argc && strncmp(argv[i + 1], "--", 2) != 0 ? argv[i + 1] : NULL;
        if (pass == ARGS_SCAN && (!strcmp(a, "-h") || !strcmp(a, "--help"))) {
            print_help();
            return SK_CONFIG_EXIT;
        }
        if (pass == ARGS_SCAN && (!strcmp(a, "-V") || !strcmp(a, "--version"))) {
            printf("skiff %s\n", SKIFF_VERSION);
            return SK_CONFIG_EXIT;
        }
        if (!strcmp(a, "-c") || !strcmp(a, "--config") || !strncmp(a, "--config=", 9)) {
            const char *path = strncmp(a, "--config=", 9) == 0 ? a + 9 : next;
            if (!path || !*path) {
                sk_error("config", "%s needs a file name", a);
                return SK_CONFIG_ERROR;
            }
            if (path == next)
                i++;
            *config_path = path;
            continue;
        }
        if (strncmp(a, "--", 2) != 0 || a[2] == '\0' || a[2] == '=') {
            sk_error("config",
                     "unexpected argument \"%s\" (settings are --KEY=VALUE; see "
                     "--help)",
                     a);
            return SK_CONFIG_ERROR;
        }
        const char *name = a + 2;
        const char *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        const char *value = eq ? eq + 1 : next;
        if (!eq && next)
            i++;
        const key_def *k = key_find(name, len);
        if (!k) {
            char key[128], origin[160];
            const char *target;
            int64_t unit_ms;
            snprintf(key, sizeof key, "%.*s", (int)len, name);
            snprintf(origin, sizeof origin, "flag --%s", key);
            bool alias = sk_config_time_alias(key, &target, &unit_ms) != 0 || sk_config_is_security_key(key);
            const char *reason = sk_config_ignored_reason(key);
            if (alias && !value) {
                sk_error("config", "%s: flag --%s needs a value", key, key);
                return SK_CONFIG_ERROR;
            }
            if (alias && pass == ARGS_APPLY && apply_key(c, key, value, "flag", origin) != 0)
                return SK_CONFIG_ERROR;
            if (pass == ARGS_SCAN && !alias && !reason)
                warn_unknown(c, "flag", (int)len + 2, a, "the command line");
            if (pass == ARGS_SCAN && reason && note_ignored(c, key, reason) != 0)
                return SK_CONFIG_ERROR;
            continue;
        }
        if (!value) {
            sk_error("config", "%s: flag --%s needs a value", k->name, k->name);
            return SK_CONFIG_ERROR;
        }
        if (pass == ARGS_APPLY) {
            char origin[128];
            snprintf(origin, sizeof origin, "flag --%s", k->name);
            if (set_value(c, k, value, origin) != 0)
                return SK_CONFIG_ERROR;
        }
    }
    return SK_CONFIG_OK;
}

/* GroupCoordinatorConfig's rules on the consumer group protocol's settings:
 * each default within its bounds, the session longer than the heartbeat. */
static int check_consumer_group_bounds(const sk_config *c)
{
    const struct {
        const char *name, *min_name, *max_name;
        int32_t value, min, max;
    } rules[] = {
        {"group.consumer.session.timeout.ms", "group.consumer.min.session.timeout.ms",
         "group.consumer.max.session.timeout.ms", c->group_consumer_session_timeout_ms,
         c->group_consumer_min_session_timeout_ms, c->group_consumer_max_session_timeout_ms},
        {"group.consumer.heartbeat.interval.ms", "group.consumer.min.heartbeat.interval.ms",
         "group.consumer.max.heartbeat.interval.ms", c->group_consumer_heartbeat_interval_ms,
         c->group_consumer_min_heartbeat_interval_ms, c->group_consumer_max_heartbeat_interval_ms},
    };
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
        const char *why = rules[i].min > rules[i].max     ? "min above max"
                          : rules[i].value < rules[i].min ? "below its min"
                          : rules[i].value > rules[i].max ? "above its max"
                                                          : NULL;
        if (why) {
            sk_error("config", "%s (%" PRId32 ") must be within %s (%" PRId32 ") and %s (%" PRId32 "): %s",
                     rules[i].name, rules[i].value, rules[i].min_name, rules[i].min, rules[i].max_name, rules[i].max,
                     why);
            return -1;
        }
    }
    if (c->group_consumer_heartbeat_interval_ms >= c->group_consumer_session_timeout_ms) {
        sk_error("config",
                 "group.consumer.heartbeat.interval.ms (%" PRId32 ") must be less than "
                 "group.consumer.session.timeout.ms (%" PRId32 ")",
                 c->group_consumer_heartbeat_interval_ms, c->group_consumer_session_timeout_ms);
        return -1;
    }
    return 0;
}

/* Rules that span keys, and warnings about accepted but partly used values. */
static int check_loaded(sk_config *c)
{
    if (c->group_min_session_timeout_ms > c->group_max_session_timeout_ms) {
        sk_error("config",
                 "group.min.session.timeout.ms (%" PRId32 ") must not exceed "
                 "group.max.session.timeout.ms (%" PRId32 ")",
                 c->group_min_session_timeout_ms, c->group_max_session_timeout_ms);
        return -1;
    }
    if (check_consumer_group_bounds(c) != 0)
        return -1;
    if (c->default_replication_factor > c->cluster_brokers) {
        sk_error("config", "default.replication.factor (%d) must be at most skiff.cluster.brokers (%" PRId32 ")",
                 c->default_replication_factor, c->cluster_brokers);
        return -1;
    }
    const char *comma = strchr(c->log_dirs, ',');
    if (comma) {
        sk_warn("config",
                "log.dirs lists several directories; skiff uses only the first, "
                "\"%.*s\"",
                (int)(comma - c->log_dirs), c->log_dirs);
        c->warnings++;
    }
    if (sk_config_resolve_listeners(c) != 0)
        return -1;
    if (c->ignored)
        sk_info("config",
                "Kafka keys accepted and ignored (they mean nothing to one skiff "
                "node): %s",
                c->ignored);
    return 0;
}

/* ---- Entry points ------------------------------------------------------- */

sk_config_status sk_config_load(sk_config *c, int argc, char **argv, char **envp)
{
    const char *config_path = NULL;
    sk_config_status st;

    memset(c, 0, sizeof *c);
    memset(c->time_rank, 255, sizeof c->time_rank);
    for (int i = 0; i < NKEYS; i++)
        if (set_value(c, &keys[i], keys[i].def, "the defaults") != 0)
            goto fail;
    st = walk_args(c, argc, argv, ARGS_SCAN, &config_path);
    if (st != SK_CONFIG_OK) {
        sk_config_free(c);
        return st;
    }
    if (!config_path)
        config_path = env_get(envp, "SKIFF_CONFIG");
    if (config_path && *config_path && load_file(c, config_path) != 0)
        goto fail;
    if (load_env(c, envp) != 0)
        goto fail;
    if (walk_args(c, argc, argv, ARGS_APPLY, &config_path) != SK_CONFIG_OK)
        goto fail;
    if (check_loaded(c) != 0)
        goto fail;
    sk_trace_threshold = (sk_trace_level)sk_trace_level_parse(c->log_level);
    return SK_CONFIG_OK;
fail:
    sk_config_free(c);
    return SK_CONFIG_ERROR;
}

void sk_config_free(sk_config *c)
{
    for (int i = 0; i < NKEYS; i++) {
        if (keys[i].type == KT_STRING || keys[i].type == KT_LISTENERS || keys[i].type == KT_ENUM)
            free(*(char **)key_field(c, &keys[i]));
    }
    for (size_t i = 0; i < c->nsecurity; i++)
        free(c->security[i]);
    free(c->security);
    free(c->ignored);
    free(c->cluster_id);
    memset(c, 0, sizeof *c);
}
