/*
 * Broker configuration. Keys use Kafka's names; values come from, in rising
 * precedence: built-in defaults < JSON file (--config) < environment
 * (SKIFF_ + the key in capitals with dots and dashes as underscores, e.g.
 * SKIFF_LOG_DIRS) < command-line flags (--key=value or --key value, with
 * Kafka's key name). The key table in src/config/config.c is the only list of
 * keys; it also drives validation, --help, the accessors below and the
 * documented defaults (docs/configuration.md, config.example.json).
 */
#ifndef SKIFF_CONFIG_H
#define SKIFF_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sk_config {
    /* Network */
    char *listeners;                      /* listeners: "NAME://host:port[,...]"; port 0 = any free port.
                                   After loading, without controller.listener.names' entries */
    char *advertised_listeners;           /* advertised.listeners; NULL/empty = the address the client connected to */
    int32_t socket_request_max_bytes;     /* socket.request.max.bytes: largest request frame, bytes */
    int64_t connection_output_max_bytes;  /* skiff.connection.output.max.bytes: unsent response bytes
                                            per connection before its reads pause */
    char *listener_security_protocol_map; /* listener.security.protocol.map: "NAME:PROTOCOL,...";
                                             a listener's protocol: PLAINTEXT, SSL, SASL_PLAINTEXT
                                             or SASL_SSL (skiff/security.h) */
    char *controller_listener_names;      /* controller.listener.names: KRaft controller listeners,
                                        accepted in `listeners` but never opened */
    char *http_listeners;                 /* skiff.http.listeners: "http://host:port" of the HTTP control
                                   plane; empty = off */
    char *http_token;                     /* skiff.http.token: bearer token the control plane requires
                                   (not for /healthz, /readyz); empty = none */
    /* Identity and storage */
    int32_t node_id;              /* node.id; the first broker's id with skiff.cluster.brokers > 1 */
    int32_t cluster_brokers;      /* skiff.cluster.brokers: brokers served by this process (skiff/cluster.h) */
    char *cluster_ports;          /* skiff.cluster.ports: explicit ports per broker, "" = derived */
    char *broker_rack;            /* broker.rack: one rack, or one per broker comma-separated; "" = none */
    char *replica_selector_class; /* replica.selector.class: "" or Kafka's RackAwareReplicaSelector (KIP-392) */
    char *log_dirs;               /* log.dirs: data directory (the first of a comma list is used) */
    char *log_level;              /* log.level: debug, info, warn, error */
    /* Topics */
    int32_t num_partitions;             /* num.partitions: default partition count for new topics */
    int16_t default_replication_factor; /* default.replication.factor (at most skiff.cluster.brokers) */
    bool auto_create_topics_enable;     /* auto.create.topics.enable */
    int32_t message_max_bytes;          /* message.max.bytes: largest record batch, bytes */
    /* Log store (topic-level defaults, Kafka's broker names) */
    int64_t log_segment_bytes;                        /* log.segment.bytes */
    int64_t log_roll_ms;                              /* log.roll.ms (segment.ms for topics) */
    int64_t log_retention_ms;                         /* log.retention.ms; -1 = unlimited */
    int64_t log_retention_bytes;                      /* log.retention.bytes; -1 = unlimited */
    int64_t log_retention_check_interval_ms;          /* log.retention.check.interval.ms */
    int64_t log_flush_interval_messages;              /* log.flush.interval.messages */
    int64_t log_flush_interval_ms;                    /* log.flush.interval.ms; -1 = only by messages/OS */
    int32_t log_index_interval_bytes;                 /* log.index.interval.bytes */
    int32_t log_index_size_max_bytes;                 /* log.index.size.max.bytes */
    int64_t file_delete_delay_ms;                     /* file.delete.delay.ms (log.segment.delete.delay.ms) */
    char *log_message_timestamp_type;                 /* log.message.timestamp.type: CreateTime or LogAppendTime */
    int64_t log_message_timestamp_before_max_ms;      /* log.message.timestamp.before.max.ms */
    int64_t log_message_timestamp_after_max_ms;       /* log.message.timestamp.after.max.ms */
    int32_t producer_id_expiration_ms;                /* producer.id.expiration.ms: a partition forgets
                                             a producer idle this long (no open transaction,
                                             newest batch timestamp this old), ms */
    int32_t producer_id_expiration_check_interval_ms; /* producer.id.expiration.check.
                                                         interval.ms: how often, ms */
    /* Log cleaner */
    bool log_cleaner_enable;                   /* log.cleaner.enable */
    int32_t log_cleaner_threads;               /* log.cleaner.threads (accepted; one thread) */
    int64_t log_cleaner_dedupe_buffer_size;    /* log.cleaner.dedupe.buffer.size: key map memory, bytes */
    int32_t log_cleaner_io_buffer_size;        /* log.cleaner.io.buffer.size: read buffer, bytes */
    int64_t log_cleaner_backoff_ms;            /* log.cleaner.backoff.ms: wait between looks, ms */
    char *log_cleaner_io_max_bytes_per_second; /* log.cleaner.io.max.bytes.per.second: a number > 0 */
    char *log_cleaner_min_cleanable_ratio;     /* log.cleaner.min.cleanable.ratio: a number in [0, 1] */
    int64_t log_cleaner_delete_retention_ms;   /* log.cleaner.delete.retention.ms */
    int64_t log_cleaner_min_compaction_lag_ms; /* log.cleaner.min.compaction.lag.ms */
    int64_t log_cleaner_max_compaction_lag_ms; /* log.cleaner.max.compaction.lag.ms */
    /* Group coordinator */
    int32_t group_initial_rebalance_delay_ms;         /* group.initial.rebalance.delay.ms: wait for
                                                 more members before the first rebalance of
                                                 an empty group, ms */
    int32_t group_min_session_timeout_ms;             /* group.min.session.timeout.ms: smallest session
                                             timeout a member may ask for, ms */
    int32_t group_max_session_timeout_ms;             /* group.max.session.timeout.ms: largest one, ms */
    int32_t group_max_size;                           /* group.max.size: members per group */
    int32_t group_consumer_heartbeat_interval_ms;     /* group.consumer.heartbeat.interval.ms:
                                                     KIP-848 members heartbeat this often, ms */
    int32_t group_consumer_session_timeout_ms;        /* group.consumer.session.timeout.ms: a
                                                     KIP-848 member silent this long is removed, ms */
    int32_t group_consumer_min_session_timeout_ms;    /* group.consumer.min.session.timeout.ms and */
    int32_t group_consumer_max_session_timeout_ms;    /* ...max...: bounds of a group's override, ms */
    int32_t group_consumer_min_heartbeat_interval_ms; /* group.consumer.min.heartbeat.interval.ms and */
    int32_t group_consumer_max_heartbeat_interval_ms; /* ...max...: bounds of a group's override, ms */
    char *group_consumer_migration_policy;            /* group.consumer.migration.policy: disabled, upgrade,
                                              downgrade or bidirectional (KIP-848 online migration) */
    int32_t offsets_topic_num_partitions;             /* offsets.topic.num.partitions: partitions of
                                             __consumer_offsets (fixed once created) */
    int32_t offsets_retention_minutes;                /* offsets.retention.minutes: committed offsets of
                                             an empty group live this long, minutes */
    /* Transaction coordinator */
    int32_t transaction_max_timeout_ms;           /* transaction.max.timeout.ms: largest transaction
                                             timeout a producer may ask for, ms */
    int32_t transactional_id_expiration_ms;       /* transactional.id.expiration.ms: an idle
                                               transactional id is forgotten after this, ms */
    int32_t transaction_cleanup_interval_ms;      /* transaction.remove.expired.transaction.
                                                cleanup.interval.ms: expiry check period, ms */
    int32_t transaction_state_log_num_partitions; /* transaction.state.log.num.partitions:
                                                     partitions of __transaction_state */
    /* Shutdown */
    int64_t shutdown_timeout_ms; /* skiff.shutdown.timeout.ms: longest wait for in-flight work */

    /* State (not keys): filled by sk_config_load */
    char **security;      /* security keys (sk_config_is_security_key) as
                                             "key=value" strings, one per key, the last
                                             source's value; read by src/security */
    size_t nsecurity;     /* entries in `security` */
    int warnings;         /* warnings logged while loading (unknown keys, ...) */
    char *ignored;        /* Kafka keys accepted and ignored, ", "-joined; NULL = none */
    uint8_t time_rank[2]; /* what set log.retention.ms [0] and log.roll.ms [1]:
                                             0 the key itself, else the rank of the alias
                                             (sk_config_time_alias); 255 the default */
    char *cluster_id;     /* CLUSTER_ID from the environment (apache/kafka's
                                             image): the id a new data directory gets; NULL = random */
} sk_config;

/* Result of sk_config_load. */
typedef enum sk_config_status {
    SK_CONFIG_OK = 0,    /* start the broker */
    SK_CONFIG_EXIT = 1,  /* --help or --version printed; exit 0 */
    SK_CONFIG_ERROR = 2, /* a bad value or file; a message naming the key was logged; exit 2 */
} sk_config_status;

/* Fills `c` from defaults, then the file named by --config / -c, else by the
 * SKIFF_CONFIG variable (JSON, or a Kafka server.properties: by the name's
 * extension, else by content), then `envp` (NULL-terminated "NAME=value"
 * strings; apache/kafka's KAFKA_* variables, then SKIFF_* ones, which win;
 * NULL = none), then `argv` (argv[0] is the program name). Kafka keys that
 * mean nothing to one skiff node (KRaft, replication, thread counts) are
 * accepted and listed once in an info line; other unknown keys log a warning
 * (counted in c->warnings) and are ignored. On SK_CONFIG_OK, strings are heap copies owned by `c` and
 * sk_trace_threshold follows log.level. On any other status `c` holds nothing
 * (it has been freed and zeroed); sk_config_free on it is still safe. */
sk_config_status sk_config_load(sk_config *c, int argc, char **argv, char **envp);
/* Frees the strings of `c` and zeroes it. Safe on a zeroed struct. */
void sk_config_free(sk_config *c);

/* The key table, in table order (i from 0): Kafka's key name, and skiff's
 * default as the text a flag would carry. Both NULL when i is out of range.
 * Static storage. For DescribeConfigs, docs checks and tests. */
const char *sk_config_key_name(int i);
const char *sk_config_key_default(int i);
/* Writes the value of key `name` in `c` as text (integers in decimal,
 * booleans as true/false) into `buf` (NUL-terminated, truncated to `len`).
 * Returns the full length as snprintf does, or -1 if `name` is not a key. */
int sk_config_format_value(const sk_config *c, const char *name, char *buf, size_t len);

/* One entry of a listeners / advertised.listeners string, e.g.
 * "PLAINTEXT://[::1]:9092" -> {"PLAINTEXT", "::1", 9092}. */
typedef struct sk_listener_addr {
    char name[16];  /* listener name, upper-case; letters, digits, '_' and '-' */
    char host[256]; /* host name, IPv4 or IPv6 address without brackets; "" = all interfaces */
    int port;       /* 0-65535; 0 = any free port (listeners only) */
} sk_listener_addr;

/* Parses skiff.http.listeners: one "http://host:port" (an IPv6 host in
 * brackets; port 0-65535). Fills `out` (name "HTTP") and returns NULL, or a
 * static reason when malformed. */
const char *sk_http_listener_parse(const char *s, sk_listener_addr *out);

/* Most entries a listener list may hold. */
#define SK_LISTENERS_MAX 16

/* Parses a comma-separated list of NAME://host:port (Kafka's listeners
 * syntax; spaces around commas allowed; an IPv6 host in brackets; names must
 * be unique; at most SK_LISTENERS_MAX entries). Fills up to `max` entries of
 * `out` (`out` may be NULL when `max` is 0) and returns how many the string
 * holds (may exceed `max`, like snprintf); "" holds 0. Returns -1 if
 * malformed, with a static reason in `*why` when `why` is not NULL. */
int sk_listeners_parse(const char *s, sk_listener_addr *out, int max, const char **why);

/* ---- Apache Kafka's conventions (src/config/kafka_compat.c) ------------- */

/* The server property named by an apache/kafka image variable: "KAFKA_"
 * removed, lower case, then each run of underscores mapped as that image's
 * KafkaDockerWrapper does ("_" -> ".", "__" -> "_", "___" -> "-", longer
 * runs threes first): KAFKA_LOG_DIRS -> log.dirs, KAFKA_A__B -> a_b,
 * KAFKA_A___B -> a-b. `name` is the variable's name, `name_len` bytes.
 * Returns 1 with the key in `key` (NUL-terminated), 0 when `name` is no
 * server property (no KAFKA_ prefix, or one of the image's JVM and log4j
 * variables such as KAFKA_HEAP_OPTS), -1 when the key does not fit. */
int sk_kafka_env_key(const char *name, size_t name_len, char *key, size_t key_len);

/* skiff's log.level for a log4j level (apache/kafka's
 * KAFKA_LOG4J_ROOT_LOGLEVEL, any case): TRACE and DEBUG -> "debug", INFO ->
 * "info", WARN -> "warn", ERROR, FATAL and OFF -> "error". NULL for anything
 * else. Static strings. */
const char *sk_kafka_log4j_level(const char *level);

/* apache/kafka's listeners when only advertised listeners are given: each
 * entry of `advertised` with its host replaced by 0.0.0.0. Writes into `out`
 * (NUL-terminated); returns 0, or -1 if `advertised` is malformed or the
 * result does not fit. */
int sk_kafka_listeners_from_advertised(const char *advertised, char *out, size_t len);

/* Kafka's coarser spellings of two time keys: log.retention.minutes (rank
 * 1) and log.retention.hours (rank 2) of log.retention.ms, log.roll.hours
 * (rank 1) of log.roll.ms. As in Kafka, the ms key wins over its aliases
 * and a lower rank over a higher one, whatever the order or source. If
 * `name` is an alias, returns its rank with the key it sets in *target
 * (static) and its unit in *unit_ms; else 0. */
int sk_config_time_alias(const char *name, const char **target, int64_t *unit_ms);

/* Why skiff accepts Kafka broker key `name` and ignores it (static text,
 * e.g. "KRaft" for process.roles), or NULL if it is not such a key. */
const char *sk_config_ignored_reason(const char *name);

/* One key=value of a properties file, unescaped; `line` is where it starts
 * (from 1). Returns 0 to go on, anything else to stop the parse with it. */
typedef int (*sk_properties_cb)(const char *key, const char *value, int line, void *arg);

/* Parses `text` (NUL-terminated) with java.util.Properties' rules: '#' and
 * '!' comments, key and value split by '=', ':' or white space, a line
 * ending in an odd number of backslashes continues on the next, escapes
 * \t \n \r \f \uXXXX (as UTF-8) and \c = c. Calls `cb` per entry in file
 * order. Returns 0, what `cb` returned to stop, or -1 on a malformed \u
 * escape (its line in *bad_line) or when out of memory (*bad_line 0). */
int sk_properties_parse(const char *text, sk_properties_cb cb, void *arg, int *bad_line);

/* After loading: checks every listener's protocol in
 * listener.security.protocol.map (one of Kafka's four), and removes
 * the entries named by controller.listener.names from listeners and
 * advertised.listeners, logging each. Returns 0, or -1 (logged, naming the
 * key) when a listener has no protocol or one skiff does not serve, or
 * when no listener is left. */
int sk_config_resolve_listeners(sk_config *c);

/* The security protocol of listener `name` in listener.security.protocol.map,
 * as spelled there, into `proto`. Returns 0, or -1 when it has none. */
int sk_config_listener_protocol(const sk_config *c, const char *name, char *proto, size_t len);

/* True for the keys src/security reads, which are not rows of the key table
 * because their names are open-ended: ssl.*, sasl.*, listener.name.* (Kafka's
 * per-listener overrides), connections.max.reauth.ms,
 * connection.failed.authentication.delay.ms, skiff.scram.users and the
 * authorizer's authorizer.class.name, super.users and
 * allow.everyone.if.no.acl.found. */
bool sk_config_is_security_key(const char *name);

/* The security key a SKIFF_* variable names (src/config/security_env.c):
 * SKIFF_ + a security key in capitals with dots and dashes as underscores,
 * or SKIFF_LISTENER_NAME_<LISTENER>_[<MECHANISM>_]<KEY> for a per-listener
 * key (listener lower-cased, mechanism one of Kafka's). `name` is the
 * variable's name (`name_len` bytes, not NUL-terminated). Returns 1 with
 * the key in `key` (NUL-terminated), 0 when the variable names no security
 * key skiff reads, -1 when the key does not fit in `key_len`. */
int sk_security_env_key(const char *name, size_t name_len, char *key, size_t key_len);

/* A broker-level security key as DescribeConfigs lists it (Kafka lists its
 * ssl.*, sasl.* and authentication keys among a broker's configs). */
typedef struct sk_security_key_info {
    const char *name;
    const char *default_value; /* skiff's default; NULL: none (Kafka's null) */
    int8_t type;               /* Kafka's ConfigType code: 2 string, 3 int, 5 long, 7 list, 8 class, 9 password */
} sk_security_key_info;

/* The i-th such key (from 0), or NULL past the last (src/config/security_env.c). */
const sk_security_key_info *sk_security_broker_key_at(int i);
/* The value of security key `name` (exact name), or NULL when not set. */
const char *sk_config_security_get(const sk_config *c, const char *name);

#endif
