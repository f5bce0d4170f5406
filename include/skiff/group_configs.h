/*
 * Per-group configs (KIP-848's GroupConfig): overrides of the broker's group
 * settings for one group id, set with AlterConfigs and
 * IncrementalAlterConfigs on the GROUP resource (ConfigResource type 32) and
 * described by DescribeConfigs (src/api/configs.c).
 *
 * The table holds Kafka 4.4.0's group config keys (GroupConfig): name, type,
 * the broker key it overrides (its DescribeConfigs synonym) and Kafka's
 * default. Values are checked as GroupConfig.validate checks them: the name,
 * the type and lower bound of each key, then the broker's bounds
 * (group.consumer.min/max.session.timeout.ms and
 * group.consumer.min/max.heartbeat.interval.ms for the consumer keys, Kafka's
 * default bounds for the share and streams keys skiff does not serve), then
 * that a session timeout exceeds its heartbeat interval. Errors are
 * INVALID_CONFIG with Kafka's messages.
 *
 * Configs exist whether or not the group does, as in Kafka. They are kept in
 * memory and in <log.dirs>/skiff-group-configs.json (replaced atomically on
 * every change; {"<group id>": {"key": "value"}}), as Kafka keeps them in
 * ConfigRecords of its metadata log. The consumer group protocol applies
 * consumer.session.timeout.ms and consumer.heartbeat.interval.ms, clamped to
 * the broker's current bounds as Kafka 4.4 clamps them.
 */
#ifndef SKIFF_GROUP_CONFIGS_H
#define SKIFF_GROUP_CONFIGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "skiff/config.h"
#include "skiff/topic_config.h"

/* DescribeConfigs ConfigSource of a group override (KIP-848). */
#define SK_CONFIG_SOURCE_GROUP_CONFIG 8

/* One group config key (static storage). */
typedef struct sk_group_config_def {
    const char *name;          /* Kafka's group config name */
    sk_config_type type;       /* its ConfigDef type */
    const char *broker_key;    /* the broker key it overrides (its synonym); NULL = none */
    const char *default_value; /* Kafka's default when no broker key gives one */
    bool internal;             /* settable but not described (ConfigDef.defineInternal) */
} sk_group_config_def;

/* Row `i` (0-based, in the order Kafka 4.4 describes them, internal keys
 * last), or NULL past the end. */
const sk_group_config_def *sk_group_config_def_at(int i);

/* The group configs of a broker (opaque). */
typedef struct sk_group_configs sk_group_configs;

/* Loads the store of log dir `dir` (empty when the file is absent). NULL when
 * out of memory or the file cannot be read or parsed (logged). */
sk_group_configs *sk_group_configs_open(const char *dir);
/* Frees `gc`; NULL is a no-op. */
void sk_group_configs_close(sk_group_configs *gc);

/* The override of `key` for group `group`, or NULL. Valid until the next change. */
const char *sk_group_configs_get(const sk_group_configs *gc, const char *group, const char *key);

/* One change: SET `value` (ops 0) or DELETE (1, value ignored). */
typedef struct sk_group_config_change {
    const char *name;
    const char *value;
    bool del;
} sk_group_config_change;

/* Applies `n` changes to group `group`'s overrides (`replace`: to an empty set,
 * as AlterConfigs does), checks the result against the broker's bounds in
 * `cfg`, and unless `validate_only` keeps and stores it. Returns SK_ERR_NONE,
 * INVALID_CONFIG with Kafka's message in `msg`, or KAFKA_STORAGE_ERROR when
 * the store cannot be written (logged). */
int16_t sk_group_configs_alter(sk_group_configs *gc, const sk_config *cfg, const char *group,
                               const sk_group_config_change *changes, int n, bool replace, bool validate_only,
                               char *msg, size_t msg_len);

/* The session timeout and heartbeat interval of consumer group `group`, ms:
 * its override clamped to the broker's min/max, else the broker's setting.
 * `gc` may be NULL (the broker's settings). */
int32_t sk_group_consumer_session_timeout_ms(const sk_group_configs *gc, const sk_config *cfg, const char *group);
int32_t sk_group_consumer_heartbeat_interval_ms(const sk_group_configs *gc, const sk_config *cfg, const char *group);

#endif
