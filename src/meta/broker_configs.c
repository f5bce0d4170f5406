/*
 * Dynamic broker configs: Kafka 4.4's table of dynamic keys, the checks
 * DynamicBrokerConfig.validateConfigs makes, and the JSON store
 * (skiff/broker_configs.h).
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "skiff/broker_configs.h"
#include "skiff/config.h"
#include "skiff/errors.h"
#include "skiff/fsutil.h"
#include "skiff/trace.h"

#define STORE_FILE "skiff-broker-configs.json"
#define STORE_MAX_BYTES (1 << 20)
#define LISTENER_PREFIX "listener.name."

/* Kafka 4.4.0: DynamicBrokerConfig.ALL_DYNAMIC_CONFIGS and
 * DynamicConfig.Broker.names(), with dynamicConfigUpdateModes() (per-broker
 * or cluster-wide) and KafkaConfig's ConfigDef type and default. */
static const sk_dynamic_key KEYS[] = {
    {"background.threads", false, SK_CONFIG_TYPE_INT, "10"},
    {"compression.gzip.level", false, SK_CONFIG_TYPE_INT, "-1"},
    {"compression.lz4.level", false, SK_CONFIG_TYPE_INT, "9"},
    {"compression.type", false, SK_CONFIG_TYPE_STRING, "producer"},
    {"compression.zstd.level", false, SK_CONFIG_TYPE_INT, "3"},
    {"config.providers", false, SK_CONFIG_TYPE_LIST, ""},
    {"cordoned.log.dirs", true, SK_CONFIG_TYPE_LIST, ""},
    {"errors.deadletterqueue.auto.create.topics.enable", false, SK_CONFIG_TYPE_BOOLEAN, "false"},
    {"errors.deadletterqueue.topic.name.prefix", false, SK_CONFIG_TYPE_STRING, "dlq."},
    {"follower.fetch.last.tiered.offset.enable", false, SK_CONFIG_TYPE_BOOLEAN, "false"},
    {"follower.replication.throttled.rate", false, SK_CONFIG_TYPE_LONG, "9223372036854775807"},
    {"group.consumer.assignment.interval.ms", false, SK_CONFIG_TYPE_INT, "1000"},
    {"group.consumer.assignor.offload.enable", false, SK_CONFIG_TYPE_BOOLEAN, "true"},
    {"group.coordinator.cached.buffer.max.bytes", false, SK_CONFIG_TYPE_INT, "1048588"},
    {"group.share.assignment.interval.ms", false, SK_CONFIG_TYPE_INT, "1000"},
    {"group.share.assignor.offload.enable", false, SK_CONFIG_TYPE_BOOLEAN, "true"},
    {"group.streams.assignment.interval.ms", false, SK_CONFIG_TYPE_INT, "1000"},
    {"group.streams.assignor.offload.enable", false, SK_CONFIG_TYPE_BOOLEAN, "true"},
    {"leader.replication.throttled.rate", false, SK_CONFIG_TYPE_LONG, "9223372036854775807"},
    {"listener.security.protocol.map", true, SK_CONFIG_TYPE_STRING,
     "SASL_SSL:SASL_SSL,PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT"},
    {"listeners", true, SK_CONFIG_TYPE_LIST, "PLAINTEXT://:9092"},
    {"log.cleaner.backoff.ms", false, SK_CONFIG_TYPE_LONG, "15000"},
    {"log.cleaner.dedupe.buffer.size", false, SK_CONFIG_TYPE_LONG, "134217728"},
    {"log.cleaner.delete.retention.ms", false, SK_CONFIG_TYPE_LONG, "86400000"},
    {"log.cleaner.io.buffer.load.factor", false, SK_CONFIG_TYPE_DOUBLE, "0.9"},
    {"log.cleaner.io.buffer.size", false, SK_CONFIG_TYPE_INT, "524288"},
    {"log.cleaner.io.max.bytes.per.second", false, SK_CONFIG_TYPE_DOUBLE, "1.7976931348623157E308"},
    {"log.cleaner.max.compaction.lag.ms", false, SK_CONFIG_TYPE_LONG, "9223372036854775807"},
    {"log.cleaner.min.cleanable.ratio", false, SK_CONFIG_TYPE_DOUBLE, "0.5"},
    {"log.cleaner.min.compaction.lag.ms", false, SK_CONFIG_TYPE_LONG, "0"},
    {"log.cleaner.threads", false, SK_CONFIG_TYPE_INT, "1"},
    {"log.cleanup.policy", false, SK_CONFIG_TYPE_LIST, "delete"},
    {"log.flush.interval.messages", false, SK_CONFIG_TYPE_LONG, "9223372036854775807"},
    {"log.flush.interval.ms", false, SK_CONFIG_TYPE_LONG, NULL},
    {"log.index.interval.bytes", false, SK_CONFIG_TYPE_INT, "4096"},
    {"log.index.size.max.bytes", false, SK_CONFIG_TYPE_INT, "10485760"},
    {"log.local.retention.bytes", false, SK_CONFIG_TYPE_LONG, "-2"},
    {"log.local.retention.ms", false, SK_CONFIG_TYPE_LONG, "-2"},
    {"log.message.timestamp.after.max.ms", false, SK_CONFIG_TYPE_LONG, "3600000"},
    {"log.message.timestamp.before.max.ms", false, SK_CONFIG_TYPE_LONG, "9223372036854775807"},
    {"log.message.timestamp.type", false, SK_CONFIG_TYPE_STRING, "CreateTime"},
    {"log.preallocate", false, SK_CONFIG_TYPE_BOOLEAN, "false"},
    {"log.remote.copy.lag.bytes", false, SK_CONFIG_TYPE_LONG, "-1"},
    {"log.remote.copy.lag.ms", false, SK_CONFIG_TYPE_LONG, "0"},
    {"log.retention.bytes", false, SK_CONFIG_TYPE_LONG, "-1"},
    {"log.retention.ms", false, SK_CONFIG_TYPE_LONG, NULL},
    {"log.roll.jitter.ms", false, SK_CONFIG_TYPE_LONG, NULL},
    {"log.roll.ms", false, SK_CONFIG_TYPE_LONG, NULL},
    {"log.segment.bytes", false, SK_CONFIG_TYPE_INT, "1073741824"},
    {"log.segment.delete.delay.ms", false, SK_CONFIG_TYPE_LONG, "60000"},
    {"max.connection.creation.rate", false, SK_CONFIG_TYPE_INT, "2147483647"},
    {"max.connections", false, SK_CONFIG_TYPE_INT, "2147483647"},
    {"max.connections.per.ip", false, SK_CONFIG_TYPE_INT, "2147483647"},
    {"max.connections.per.ip.overrides", false, SK_CONFIG_TYPE_STRING, ""},
    {"max.decompressed.message.bytes", false, SK_CONFIG_TYPE_INT, "2147483639"},
    {"message.max.bytes", false, SK_CONFIG_TYPE_INT, "1048588"},
    {"metric.reporters", false, SK_CONFIG_TYPE_LIST, "org.apache.kafka.common.metrics.JmxReporter"},
    {"min.insync.replicas", false, SK_CONFIG_TYPE_INT, "1"},
    {"num.io.threads", false, SK_CONFIG_TYPE_INT, "8"},
    {"num.network.threads", false, SK_CONFIG_TYPE_INT, "3"},
    {"num.recovery.threads.per.data.dir", false, SK_CONFIG_TYPE_INT, "2"},
    {"num.replica.fetchers", false, SK_CONFIG_TYPE_INT, "1"},
    {"principal.builder.class", true, SK_CONFIG_TYPE_CLASS,
     "org.apache.kafka.common.security.authenticator.DefaultKafkaPrincipalBuilder"},
    {"producer.id.expiration.ms", false, SK_CONFIG_TYPE_INT, "86400000"},
    {"remote.fetch.max.wait.ms", false, SK_CONFIG_TYPE_INT, "500"},
    {"remote.list.offsets.request.timeout.ms", false, SK_CONFIG_TYPE_LONG, "30000"},
    {"remote.log.index.file.cache.total.size.bytes", false, SK_CONFIG_TYPE_LONG, "1073741824"},
    {"remote.log.manager.copier.thread.pool.size", false, SK_CONFIG_TYPE_INT, "10"},
    {"remote.log.manager.copy.max.bytes.per.second", false, SK_CONFIG_TYPE_LONG, "9223372036854775807"},
    {"remote.log.manager.expiration.thread.pool.size", false, SK_CONFIG_TYPE_INT, "10"},
    {"remote.log.manager.fetch.max.bytes.per.second", false, SK_CONFIG_TYPE_LONG, "9223372036854775807"},
    {"remote.log.manager.follower.thread.pool.size", false, SK_CONFIG_TYPE_INT, "2"},
    {"remote.log.reader.threads", false, SK_CONFIG_TYPE_INT, "10"},
    {"replica.alter.log.dirs.io.max.bytes.per.second", false, SK_CONFIG_TYPE_LONG, "9223372036854775807"},
    {"sasl.enabled.mechanisms", true, SK_CONFIG_TYPE_LIST, "GSSAPI"},
    {"sasl.jaas.config", true, SK_CONFIG_TYPE_PASSWORD, NULL},
    {"sasl.kerberos.kinit.cmd", true, SK_CONFIG_TYPE_STRING, "/usr/bin/kinit"},
    {"sasl.kerberos.min.time.before.relogin", true, SK_CONFIG_TYPE_LONG, "60000"},
    {"sasl.kerberos.principal.to.local.rules", true, SK_CONFIG_TYPE_LIST, "DEFAULT"},
    {"sasl.kerberos.service.name", true, SK_CONFIG_TYPE_STRING, NULL},
    {"sasl.kerberos.ticket.renew.jitter", true, SK_CONFIG_TYPE_DOUBLE, "0.05"},
    {"sasl.kerberos.ticket.renew.window.factor", true, SK_CONFIG_TYPE_DOUBLE, "0.8"},
    {"sasl.login.refresh.buffer.seconds", true, SK_CONFIG_TYPE_SHORT, "300"},
    {"sasl.login.refresh.min.period.seconds", true, SK_CONFIG_TYPE_SHORT, "60"},
    {"sasl.login.refresh.window.factor", true, SK_CONFIG_TYPE_DOUBLE, "0.8"},
    {"sasl.login.refresh.window.jitter", true, SK_CONFIG_TYPE_DOUBLE, "0.05"},
    {"sasl.mechanism.inter.broker.protocol", true, SK_CONFIG_TYPE_STRING, "GSSAPI"},
    {"share.coordinator.cached.buffer.max.bytes", false, SK_CONFIG_TYPE_INT, "1048588"},
    {"ssl.cipher.suites", true, SK_CONFIG_TYPE_LIST, ""},
    {"ssl.client.auth", true, SK_CONFIG_TYPE_STRING, "none"},
    {"ssl.enabled.protocols", true, SK_CONFIG_TYPE_LIST, "TLSv1.2,TLSv1.3"},
    {"ssl.endpoint.identification.algorithm", true, SK_CONFIG_TYPE_STRING, "https"},
    {"ssl.engine.factory.class", true, SK_CONFIG_TYPE_CLASS, NULL},
    {"ssl.key.password", true, SK_CONFIG_TYPE_PASSWORD, NULL},
    {"ssl.keymanager.algorithm", true, SK_CONFIG_TYPE_STRING, "SunX509"},
    {"ssl.keystore.certificate.chain", true, SK_CONFIG_TYPE_PASSWORD, NULL},
    {"ssl.keystore.key", true, SK_CONFIG_TYPE_PASSWORD, NULL},
    {"ssl.keystore.location", true, SK_CONFIG_TYPE_STRING, NULL},
    {"ssl.keystore.password", true, SK_CONFIG_TYPE_PASSWORD, NULL},
    {"ssl.keystore.type", true, SK_CONFIG_TYPE_STRING, "JKS"},
    {"ssl.protocol", true, SK_CONFIG_TYPE_STRING, "TLSv1.3"},
    {"ssl.provider", true, SK_CONFIG_TYPE_STRING, NULL},
    {"ssl.secure.random.implementation", true, SK_CONFIG_TYPE_STRING, NULL},
    {"ssl.trustmanager.algorithm", true, SK_CONFIG_TYPE_STRING, "PKIX"},
    {"ssl.truststore.certificates", true, SK_CONFIG_TYPE_PASSWORD, NULL},
    {"ssl.truststore.location", true, SK_CONFIG_TYPE_STRING, NULL},
    {"ssl.truststore.password", true, SK_CONFIG_TYPE_PASSWORD, NULL},
    {"ssl.truststore.type", true, SK_CONFIG_TYPE_STRING, "JKS"},
    {"transaction.partition.verification.enable", false, SK_CONFIG_TYPE_BOOLEAN, "true"},
    {"unclean.leader.election.enable", false, SK_CONFIG_TYPE_BOOLEAN, "false"},
};

#define NKEYS ((int)(sizeof KEYS / sizeof KEYS[0]))

/* Listener-level keys that stay cluster-wide (ClusterLevelListenerConfigs). */
static const char *const CLUSTER_LISTENER_KEYS[] = {"max.connections", "max.connection.creation.rate",
                                                    "num.network.threads"};

static const sk_dynamic_key *find_exact(const char *name)
{
    for (int i = 0; i < NKEYS; i++)
        if (!strcmp(KEYS[i].name, name))
            return &KEYS[i];
    return NULL;
}

/* The base key of listener.name.<listener>.<key>, or NULL. */
static const char *listener_base(const char *name)
{
    if (strncmp(name, LISTENER_PREFIX, strlen(LISTENER_PREFIX)) != 0)
        return NULL;
    const char *dot = strchr(name + strlen(LISTENER_PREFIX), '.');
    return dot && dot[1] ? dot + 1 : NULL;
}

const sk_dynamic_key *sk_dynamic_key_find(const char *name)
{
    const char *base = listener_base(name);
    return find_exact(base ? base : name);
}

const sk_dynamic_key *sk_dynamic_key_at(int i)
{
    return i >= 0 && i < NKEYS ? &KEYS[i] : NULL;
}

/* True when Kafka takes `name` only per broker (PerBrokerConfigs, and every
 * listener-prefixed key but the cluster-level ones). */
static bool per_broker_only(const char *name)
{
    const char *base = listener_base(name);
    if (base) {
        for (size_t i = 0; i < sizeof CLUSTER_LISTENER_KEYS / sizeof CLUSTER_LISTENER_KEYS[0]; i++)
            if (!strcmp(base, CLUSTER_LISTENER_KEYS[i]))
                return false;
        return true;
    }
    const sk_dynamic_key *k = find_exact(name);
    return k && k->per_broker;
}

/* True when `name` is a broker key skiff knows that Kafka cannot change
 * dynamically (DynamicConfig.Broker.nonDynamicProps). */
static bool non_dynamic(const char *name)
{
    if (sk_dynamic_key_find(name))
        return false;
    for (int i = 0; sk_config_key_name(i); i++)
        if (!strcmp(sk_config_key_name(i), name))
            return true;
    return false;
}

const char *sk_config_type_error(sk_config_type type, const char *value)
{
    char buf[128];
    size_t n = strlen(value);
    while (n && isspace((unsigned char)value[n - 1]))
        n--;
    while (n && isspace((unsigned char)*value)) {
        value++;
        n--;
    }
    if (n >= sizeof buf)
        n = sizeof buf - 1;
    memcpy(buf, value, n);
    buf[n] = '\0';
    char *end;
    errno = 0;
    switch (type) {
    case SK_CONFIG_TYPE_BOOLEAN:
        return strcasecmp(buf, "true") && strcasecmp(buf, "false") ? "Expected value to be either true or false" : NULL;
    case SK_CONFIG_TYPE_SHORT:
    case SK_CONFIG_TYPE_INT:
    case SK_CONFIG_TYPE_LONG: {
        long long v = strtoll(buf, &end, 10);
        long long lo = type == SK_CONFIG_TYPE_SHORT ? SHRT_MIN : type == SK_CONFIG_TYPE_INT ? INT_MIN : LLONG_MIN;
        long long hi = type == SK_CONFIG_TYPE_SHORT ? SHRT_MAX : type == SK_CONFIG_TYPE_INT ? INT_MAX : LLONG_MAX;
        if (!*buf || *end || errno || v < lo || v > hi)
            return type == SK_CONFIG_TYPE_SHORT ? "Not a number of type SHORT"
                   : type == SK_CONFIG_TYPE_INT ? "Not a number of type INT"
                                                : "Not a number of type LONG";
        return NULL;
    }
    case SK_CONFIG_TYPE_DOUBLE:
        strtod(buf, &end);
        return !*buf || *end ? "Not a number of type DOUBLE" : NULL;
    default:
        return NULL;
    }
}

/* Appends "[a, b]" (Java's Set.toString) of the names `pick` selects. */
static size_t name_set(char *msg, size_t len, size_t o, const char *const *names, int n, bool (*pick)(const char *))
{
    bool first = true;
    o += (size_t)snprintf(msg + o, o < len ? len - o : 0, "[");
    for (int i = 0; i < n; i++) {
        if (!pick(names[i]))
            continue;
        o += (size_t)snprintf(msg + o, o < len ? len - o : 0, "%s%s", first ? "" : ", ", names[i]);
        first = false;
    }
    return o + (size_t)snprintf(msg + o, o < len ? len - o : 0, "]");
}

int16_t sk_dynamic_configs_check(const char *const *names, const char *const *values, int n, bool per_broker, char *msg,
                                 size_t msg_len)
{
    bool any = false;
    for (int i = 0; i < n; i++)
        any = any || non_dynamic(names[i]);
    if (any) {
        size_t o = (size_t)snprintf(msg, msg_len, "Cannot update these configs dynamically: ");
        name_set(msg, msg_len, o, names, n, non_dynamic);
        return SK_ERR_INVALID_REQUEST;
    }
    for (int i = 0; i < n && !per_broker; i++)
        any = any || per_broker_only(names[i]);
    if (any) {
        size_t o = (size_t)snprintf(
            msg, msg_len, "Cannot update these configs at default cluster level, broker id must be specified: ");
        name_set(msg, msg_len, o, names, n, per_broker_only);
        return SK_ERR_INVALID_REQUEST;
    }
    for (int i = 0; i < n; i++) {
        const sk_dynamic_key *k = sk_dynamic_key_find(names[i]);
        const char *why = k && values[i] ? sk_config_type_error(k->type, values[i]) : NULL;
        if (why) {
            snprintf(msg, msg_len, "Invalid value %s for configuration %s: %s", values[i], names[i], why);
            return SK_ERR_INVALID_REQUEST;
        }
    }
    return SK_ERR_NONE;
}

/* ---- The store ---------------------------------------------------------- */

struct sk_broker_configs {
    cJSON *root; /* {"<resource>": {"key": "value"}} */
};

sk_broker_configs *sk_broker_configs_new(void)
{
    sk_broker_configs *c = calloc(1, sizeof *c);
    if (c && !(c->root = cJSON_CreateObject())) {
        free(c);
        return NULL;
    }
    return c;
}

sk_broker_configs *sk_broker_configs_load(const char *dir)
{
    return sk_broker_configs_load_file(dir, STORE_FILE);
}

sk_broker_configs *sk_broker_configs_load_file(const char *dir, const char *file)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    sk_broker_configs *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    char *text = sk_file_read_all(path, STORE_MAX_BYTES, NULL);
    if (!text && errno != ENOENT) {
        sk_error("meta", "%s: %s", path, strerror(errno));
        free(c);
        return NULL;
    }
    c->root = text ? cJSON_Parse(text) : cJSON_CreateObject();
    free(text);
    if (!cJSON_IsObject(c->root)) {
        sk_error("meta", "%s: not a JSON object", path);
        sk_broker_configs_free(c);
        return NULL;
    }
    return c;
}

void sk_broker_configs_free(sk_broker_configs *c)
{
    if (!c)
        return;
    cJSON_Delete(c->root);
    free(c);
}

const char *sk_broker_configs_get(const sk_broker_configs *c, const char *resource, const char *key)
{
    cJSON *v = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(c->root, resource), key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

int sk_broker_configs_set(sk_broker_configs *c, const char *resource, const char *key, const char *value)
{
    cJSON *r = cJSON_GetObjectItemCaseSensitive(c->root, resource);
    if (!r) {
        if (!value)
            return 0;
        r = cJSON_AddObjectToObject(c->root, resource);
        if (!r)
            return -1;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(r, key);
    if (value && !cJSON_AddStringToObject(r, key, value))
        return -1;
    if (!r->child)
        cJSON_DeleteItemFromObjectCaseSensitive(c->root, resource);
    return 0;
}

void sk_broker_configs_clear(sk_broker_configs *c, const char *resource)
{
    cJSON_DeleteItemFromObjectCaseSensitive(c->root, resource);
}

const char *sk_broker_configs_key_at(const sk_broker_configs *c, const char *resource, int i, const char **value)
{
    cJSON *v = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(c->root, resource), i);
    if (!v || !cJSON_IsString(v))
        return NULL;
    *value = v->valuestring;
    return v->string;
}

int sk_broker_configs_save(const sk_broker_configs *c, const char *dir)
{
    return sk_broker_configs_save_file(c, dir, STORE_FILE);
}

int sk_broker_configs_save_file(const sk_broker_configs *c, const char *dir, const char *file)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    char *text = cJSON_Print(c->root);
    if (!text) {
        errno = ENOMEM;
        return -1;
    }
    int rc = sk_file_write_atomic(path, text, strlen(text));
    free(text);
    return rc;
}
