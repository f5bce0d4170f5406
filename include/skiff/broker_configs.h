/*
 * Dynamic broker configs (KIP-226): the keys Kafka 4.4 lets AlterConfigs and
 * IncrementalAlterConfigs change on a BROKER resource, and the store of what
 * was set, per broker ("1") and as the cluster default ("").
 *
 * The table lists every key of Kafka's DynamicBrokerConfig.ALL_DYNAMIC_CONFIGS
 * and DynamicConfig.Broker (its update mode, ConfigDef type and default, as
 * Kafka 4.4.0 reports them). Values are validated as Kafka's
 * DynamicBrokerConfig.validateConfigs does: a key Kafka cannot change
 * dynamically (here: a broker key skiff knows that is not in the table),
 * then a per-broker key at the cluster level, then the value's type. Keys
 * neither Kafka nor skiff knows are kept as custom configs, as Kafka keeps them.
 *
 * skiff stores and reports these values (DescribeConfigs sources
 * DYNAMIC_BROKER_CONFIG and DYNAMIC_DEFAULT_BROKER_CONFIG); it does not apply
 * them to the running broker (docs/compatibility.md).
 *
 * The store is <log.dirs>/skiff-broker-configs.json, replaced atomically on
 * every change: {"<resource name>": {"key": "value", ...}, ...}.
 */
#ifndef SKIFF_BROKER_CONFIGS_H
#define SKIFF_BROKER_CONFIGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "skiff/topic_config.h"

/* One dynamic key (static storage). */
typedef struct sk_dynamic_key {
    const char *name;          /* Kafka's broker config name */
    bool per_broker;           /* only per broker id, never as the cluster default */
    sk_config_type type;       /* its ConfigDef type */
    const char *default_value; /* Kafka's default as DescribeConfigs shows it; NULL = null */
} sk_dynamic_key;

/* The row of `name`, or NULL when Kafka cannot change it dynamically. Keys
 * prefixed with listener.name.<listener>. resolve to their base key. */
const sk_dynamic_key *sk_dynamic_key_find(const char *name);
/* Row `i` (0-based, alphabetical), or NULL past the end. */
const sk_dynamic_key *sk_dynamic_key_at(int i);

/* Checks that the keys a change SETs may be set on this resource
 * (`per_broker`: a broker id rather than the cluster default), in Kafka's
 * order; `names`/`values` hold `n` keys. Returns SK_ERR_NONE, or
 * SK_ERR_INVALID_REQUEST with Kafka's message in `msg`. */
int16_t sk_dynamic_configs_check(const char *const *names, const char *const *values, int n, bool per_broker, char *msg,
                                 size_t msg_len);

/* ConfigDef.parseType for the numeric (SHORT, INT, LONG, DOUBLE) and
 * BOOLEAN types, surrounding blanks ignored: NULL when `value` parses, else
 * the reason Kafka gives ("Not a number of type INT", ...). Other types: NULL. */
const char *sk_config_type_error(sk_config_type type, const char *value);

/* The stored dynamic configs (opaque). */
typedef struct sk_broker_configs sk_broker_configs;

/* Loads the store of log dir `dir` (empty when the file is absent). NULL when
 * out of memory or when the file cannot be read or parsed (logged). */
sk_broker_configs *sk_broker_configs_load(const char *dir);
void sk_broker_configs_free(sk_broker_configs *c);
/* The value of `key` for `resource` ("" = cluster default, else a broker
 * id), or NULL when not set. Valid until the next change or free. */
const char *sk_broker_configs_get(const sk_broker_configs *c, const char *resource, const char *key);
/* Sets `key` (value NULL: deletes it). Returns 0, or -1 when out of memory. */
int sk_broker_configs_set(sk_broker_configs *c, const char *resource, const char *key, const char *value);
/* Removes every key of `resource`. */
void sk_broker_configs_clear(sk_broker_configs *c, const char *resource);
/* The `i`-th key set on `resource` and its value in *value, or NULL past the end. */
const char *sk_broker_configs_key_at(const sk_broker_configs *c, const char *resource, int i, const char **value);
/* Writes the store to `dir` atomically. Returns 0, or -1 with errno set. */
int sk_broker_configs_save(const sk_broker_configs *c, const char *dir);
/* The same for another store of the same shape, file `file` of `dir` (the
 * per-group configs, skiff/group_configs.h). */
sk_broker_configs *sk_broker_configs_load_file(const char *dir, const char *file);
/* An empty store (scratch space); NULL when out of memory. */
sk_broker_configs *sk_broker_configs_new(void);
int sk_broker_configs_save_file(const sk_broker_configs *c, const char *dir, const char *file);

#endif
