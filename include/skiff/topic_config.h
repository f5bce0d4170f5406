/*
 * Topic configs: the table of every topic-level config Kafka 4.4 knows
 * (LogConfig's non-internal keys), the one source for CreateTopics,
 * DescribeConfigs, AlterConfigs, IncrementalAlterConfigs and the log
 * settings of each partition.
 *
 * A topic keeps only its overrides (Kafka's dynamic topic configs); every
 * other value comes from the broker key that stands for it when that key was
 * set (log.retention.ms for retention.ms, ...; Kafka's "server default
 * property"), else from Kafka's default. Values are kept as canonical text,
 * the way DescribeConfigs shows them ("100" for " 100", "0.5" for ".50",
 * "compact,delete" for "compact, delete").
 *
 * Parsing and validation follow Kafka's ConfigDef (trimmed values, Java's
 * integer and double syntax, ranges, allowed strings and lists) and answer
 * with Kafka's messages, "Invalid value X for configuration NAME: reason",
 * which CreateTopics and the AlterConfigs APIs return with INVALID_CONFIG.
 */
#ifndef SKIFF_TOPIC_CONFIG_H
#define SKIFF_TOPIC_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "skiff/config.h"
#include "skiff/logstore.h"

/* Rows of the table, in alphabetical order of Kafka's names (the order
 * DescribeConfigs and CreateTopics list them in). */
typedef enum sk_topic_config_id {
    SK_TC_CLEANUP_POLICY,
    SK_TC_COMPRESSION_GZIP_LEVEL,
    SK_TC_COMPRESSION_LZ4_LEVEL,
    SK_TC_COMPRESSION_TYPE,
    SK_TC_COMPRESSION_ZSTD_LEVEL,
    SK_TC_DELETE_RETENTION_MS,
    SK_TC_ERRORS_DEADLETTERQUEUE_GROUP_ENABLE,
    SK_TC_FILE_DELETE_DELAY_MS,
    SK_TC_FLUSH_MESSAGES,
    SK_TC_FLUSH_MS,
    SK_TC_FOLLOWER_REPLICATION_THROTTLED_REPLICAS,
    SK_TC_INDEX_INTERVAL_BYTES,
    SK_TC_LEADER_REPLICATION_THROTTLED_REPLICAS,
    SK_TC_LOCAL_RETENTION_BYTES,
    SK_TC_LOCAL_RETENTION_MS,
    SK_TC_MAX_COMPACTION_LAG_MS,
    SK_TC_MAX_DECOMPRESSED_MESSAGE_BYTES,
    SK_TC_MAX_MESSAGE_BYTES,
    SK_TC_MESSAGE_TIMESTAMP_AFTER_MAX_MS,
    SK_TC_MESSAGE_TIMESTAMP_BEFORE_MAX_MS,
    SK_TC_MESSAGE_TIMESTAMP_TYPE,
    SK_TC_MIN_CLEANABLE_DIRTY_RATIO,
    SK_TC_MIN_COMPACTION_LAG_MS,
    SK_TC_MIN_INSYNC_REPLICAS,
    SK_TC_PREALLOCATE,
    SK_TC_REMOTE_COPY_LAG_BYTES,
    SK_TC_REMOTE_COPY_LAG_MS,
    SK_TC_REMOTE_LOG_COPY_DISABLE,
    SK_TC_REMOTE_LOG_DELETE_ON_DISABLE,
    SK_TC_REMOTE_STORAGE_ENABLE,
    SK_TC_RETENTION_BYTES,
    SK_TC_RETENTION_MS,
    SK_TC_SEGMENT_BYTES,
    SK_TC_SEGMENT_INDEX_BYTES,
    SK_TC_SEGMENT_JITTER_MS,
    SK_TC_SEGMENT_MS,
    SK_TC_UNCLEAN_LEADER_ELECTION_ENABLE,
    SK_TC_COUNT
} sk_topic_config_id;

/* DescribeConfigs ConfigType (v3+, KIP-569). */
typedef enum sk_config_type {
    SK_CONFIG_TYPE_UNKNOWN = 0,
    SK_CONFIG_TYPE_BOOLEAN = 1,
    SK_CONFIG_TYPE_STRING = 2,
    SK_CONFIG_TYPE_INT = 3,
    SK_CONFIG_TYPE_SHORT = 4,
    SK_CONFIG_TYPE_LONG = 5,
    SK_CONFIG_TYPE_DOUBLE = 6,
    SK_CONFIG_TYPE_LIST = 7,
    SK_CONFIG_TYPE_CLASS = 8,
    SK_CONFIG_TYPE_PASSWORD = 9,
} sk_config_type;

/* DescribeConfigs ConfigSource (v1+, KIP-226). */
typedef enum sk_config_source {
    SK_CONFIG_SOURCE_UNKNOWN = 0,
    SK_CONFIG_SOURCE_DYNAMIC_TOPIC_CONFIG = 1,
    SK_CONFIG_SOURCE_DYNAMIC_BROKER_CONFIG = 2,
    SK_CONFIG_SOURCE_DYNAMIC_DEFAULT_BROKER_CONFIG = 3,
    SK_CONFIG_SOURCE_STATIC_BROKER_CONFIG = 4,
    SK_CONFIG_SOURCE_DEFAULT_CONFIG = 5,
    SK_CONFIG_SOURCE_DYNAMIC_BROKER_LOGGER_CONFIG = 6,
} sk_config_source;

/* One row of the table (static storage). */
typedef struct sk_topic_config_def {
    const char *name;          /* Kafka's topic config name */
    sk_config_type type;       /* its ConfigDef type */
    const char *default_value; /* Kafka's default, canonical text */
    const char *broker_key;    /* skiff broker key whose value, when set, is the
                                  topic default (a Kafka synonym); NULL if none */
    const char *synonym;       /* the broker key Kafka reports with DEFAULT_CONFIG
                                  when nothing is set (e.g. log.retention.hours); NULL if none */
    const char *synonym_value; /* that key's default as Kafka reports it */
    const char *doc;           /* one line: meaning, units, what skiff does with it */
} sk_topic_config_def;

/* The row of `id` (0 <= id < SK_TC_COUNT). */
const sk_topic_config_def *sk_topic_config_def_get(sk_topic_config_id id);
/* The id of config `name` (`len` bytes), or -1 when Kafka has no such topic config. */
int sk_topic_config_find(const char *name, size_t len);

/* Checks `value` for config `id` as Kafka's ConfigDef does (trimmed; Java
 * integer, long, double and boolean syntax; ranges; allowed strings). On
 * success writes the canonical text into `canon` (NUL-terminated; values
 * longer than `canon_len` - 1 fail) and returns 0. Otherwise returns -1 with
 * Kafka's message in `msg` ("Invalid value abc for configuration
 * retention.ms: Not a number of type LONG"). */
int sk_topic_config_parse(sk_topic_config_id id, const char *value, char *canon, size_t canon_len, char *msg,
                          size_t msg_len);

/* The overrides of one topic: canonical text per row (heap, owned), NULL =
 * not set. Zero-initialise; free with sk_topic_configs_free. */
typedef struct sk_topic_configs {
    char *value[SK_TC_COUNT]; /* by sk_topic_config_id; NULL = not set */
} sk_topic_configs;

/* Frees the strings and zeroes `c`. */
void sk_topic_configs_free(sk_topic_configs *c);
/* Deep copy of `src` into `dst` (whose old strings are freed). Returns 0, or
 * -1 when out of memory (`dst` is then empty). */
int sk_topic_configs_copy(sk_topic_configs *dst, const sk_topic_configs *src);
/* Sets override `name` to `value` (validated and stored canonical), or
 * removes it when `value` is NULL. Returns SK_ERR_NONE, SK_ERR_INVALID_CONFIG
 * (unknown name: "Unknown topic config name: x", or a bad value; message in
 * `msg`) or SK_ERR_KAFKA_STORAGE_ERROR when out of memory. */
int16_t sk_topic_configs_set(sk_topic_configs *c, const char *name, const char *value, char *msg, size_t msg_len);

/* Rules across configs, checked with the effective values (overrides over
 * the broker's): Kafka's LogConfig.validateValues (min.compaction.lag.ms <=
 * max.compaction.lag.ms) and remote.storage.enable (skiff has no tiered
 * storage, as a Kafka broker with it disabled). Returns SK_ERR_NONE or
 * SK_ERR_INVALID_CONFIG with Kafka's message in `msg`. */
int16_t sk_topic_configs_check(const sk_topic_configs *c, const sk_config *broker, char *msg, size_t msg_len);

/* The effective value of config `id` for a topic with overrides `c` (NULL =
 * none): the override (source DYNAMIC_TOPIC_CONFIG), else the broker key's
 * value when it was set (STATIC_BROKER_CONFIG; formatted into `scratch`),
 * else Kafka's default (DEFAULT_CONFIG). The result points into `c`, the
 * table or `scratch`. `source` may be NULL. */
const char *sk_topic_config_value(const sk_topic_configs *c, const sk_config *broker, sk_topic_config_id id,
                                  char *scratch, size_t scratch_len, sk_config_source *source);

/* One DescribeConfigs synonym. */
typedef struct sk_config_synonym {
    const char *name;        /* config or broker key name (static storage or `c`) */
    const char *value;       /* its value (points into `c`, the table or the scratch buffer) */
    sk_config_source source; /* where it comes from */
} sk_config_synonym;

#define SK_CONFIG_SYNONYMS_MAX 3

/* The synonyms of config `id` in Kafka's order (ConfigHelper): the topic
 * override, the broker key when set (STATIC_BROKER_CONFIG), then Kafka's
 * default synonym (DEFAULT_CONFIG). The first one's source is the config's
 * source; none means DEFAULT_CONFIG. Returns how many were written to `out`. */
int sk_topic_config_synonyms(const sk_topic_configs *c, const sk_config *broker, sk_topic_config_id id, char *scratch,
                             size_t scratch_len, sk_config_synonym out[SK_CONFIG_SYNONYMS_MAX]);

/* True when broker key `key` was set (file, environment or flag) to a value
 * other than skiff's default; its value is then formatted into `buf`. */
bool sk_config_key_is_set(const sk_config *broker, const char *key, char *buf, size_t len);

/* True when the comma list `list` (canonical text) holds `item`. */
bool sk_topic_config_list_has(const char *list, const char *item);

/* The log settings of a topic: the broker's (sk_log_config_from_broker) with
 * the topic's overrides applied (segment.*, retention.*, flush.*,
 * index.interval.bytes, file.delete.delay.ms, max.message.bytes,
 * message.timestamp.*, cleanup.policy: compact sets `compact`; a policy
 * without "delete" turns time and size retention off). `c` may be NULL. */
void sk_topic_log_config(const sk_topic_configs *c, const sk_config *broker, sk_log_config *out);

/* The topic's compression.type as an sk_compression value (compress.h), or
 * SK_COMPRESSION_PRODUCER; and the level configured for that codec
 * (compression.<codec>.level; SK_COMPRESSION_LEVEL_DEFAULT for Kafka's
 * defaults and codecs without levels). `c` may be NULL. */
int sk_topic_config_compression(const sk_topic_configs *c, int32_t *level);

#endif
