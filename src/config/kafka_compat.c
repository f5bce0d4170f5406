/*
 * Apache Kafka's configuration conventions, so that set-ups written for
 * Kafka and its apache/kafka image start skiff unchanged:
 *  - the image's KAFKA_* environment variables (KafkaDockerWrapper's
 *    mapping) and its default listeners derived from the advertised ones
 *    (docker/resources/common-scripts/configure);
 *  - server.properties files (java.util.Properties syntax);
 *  - the keys that only mean something to a KRaft cluster or a JVM broker,
 *    accepted and ignored;
 *  - listener names mapped to security protocols by
 *    listener.security.protocol.map, and the KRaft controller listeners of
 *    controller.listener.names, which skiff never opens.
 * Contracts in skiff/config.h.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "skiff/config.h"
#include "skiff/trace.h"

/* ---- KAFKA_* variables -------------------------------------------------- */

/* The image's variables that configure the JVM and log4j, not the broker
 * (KafkaDockerWrapper's exclusion list). */
static const char *const not_server_props[] = {
    "KAFKA_VERSION",       "KAFKA_HEAP_OPTS",
    "KAFKA_LOG4J_OPTS",    "KAFKA_OPTS",
    "KAFKA_JMX_OPTS",      "KAFKA_JVM_PERFORMANCE_OPTS",
    "KAFKA_GC_LOG_OPTS",   "KAFKA_LOG4J_ROOT_LOGLEVEL",
    "KAFKA_LOG4J_LOGGERS", "KAFKA_TOOLS_LOG4J_LOGLEVEL",
    "KAFKA_JMX_HOSTNAME",  NULL,
};

int sk_kafka_env_key(const char *name, size_t name_len, char *key, size_t key_len)
{
    static const char prefix[] = "KAFKA_";
    const size_t plen = sizeof prefix - 1;
    if (name_len <= plen || memcmp(name, prefix, plen) != 0)
        return 0;
    for (const char *const *x = not_server_props; *x; x++)
        if (strlen(*x) == name_len && memcmp(*x, name, name_len) == 0)
            return 0;
    size_t n = 0;
    for (size_t i = plen; i < name_len;) {
        size_t run = 0;
        while (i + run < name_len && name[i + run] == '_')
            run++;
        if (run == 0) {
            if (n + 1 >= key_len)
                return -1;
            key[n++] = (char)tolower((unsigned char)name[i++]);
            continue;
        }
        i += run;
        for (; run > 0; run = run >= 3 ? run - 3 : 0) {
            if (n + 1 >= key_len)
                return -1;
            key[n++] = run >= 3 ? '-' : run == 2 ? '_' : '.';
        }
    }
    key[n] = '\0';
    return 1;
}

const char *sk_kafka_log4j_level(const char *level)
{
    static const char *const map[][2] = {
        {"TRACE", "debug"}, {"DEBUG", "debug"}, {"INFO", "info"}, {"WARN", "warn"},
        {"ERROR", "error"}, {"FATAL", "error"}, {"OFF", "error"},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcasecmp(level, map[i][0]) == 0)
            return map[i][1];
    return NULL;
}

int sk_kafka_listeners_from_advertised(const char *advertised, char *out, size_t len)
{
    sk_listener_addr addr[SK_LISTENERS_MAX];
    int n = sk_listeners_parse(advertised, addr, SK_LISTENERS_MAX, NULL);
    if (n < 0)
        return -1;
    size_t used = 0;
    out[0] = '\0';
    for (int i = 0; i < n; i++) {
        int w = snprintf(out + used, len - used, "%s%s://0.0.0.0:%d", i ? "," : "", addr[i].name, addr[i].port);
        if (w < 0 || (size_t)w >= len - used)
            return -1;
        used += (size_t)w;
    }
    return 0;
}

/* ---- Time keys' aliases ------------------------------------------------- */

static const struct {
    const char *name, *target;
    int64_t unit_ms;
    int rank;
} time_aliases[] = {
    {"log.retention.minutes", "log.retention.ms", 60000, 1},
    {"log.retention.hours", "log.retention.ms", 3600000, 2},
    {"log.roll.hours", "log.roll.ms", 3600000, 1},
};

int sk_config_time_alias(const char *name, const char **target, int64_t *unit_ms)
{
    for (size_t i = 0; i < sizeof time_aliases / sizeof time_aliases[0]; i++) {
        if (strcmp(name, time_aliases[i].name) == 0) {
            *target = time_aliases[i].target;
            *unit_ms = time_aliases[i].unit_ms;
            return time_aliases[i].rank;
        }
    }
    return 0;
}

/* ---- Keys accepted and ignored ------------------------------------------ */

typedef struct ignored_key {
    const char *name;   /* the key, or a prefix when it ends in '.' */
    const char *reason; /* shown in the start-up line */
} ignored_key;

static const ignored_key ignored_keys[] = {
    /* A KRaft cluster's roles, quorum and inter-node listener. */
    {"process.roles", "KRaft"},
    {"controller.quorum.", "KRaft"},
    {"inter.broker.listener.name", "KRaft"},
    {"metadata.log.dir", "KRaft"},
    {"broker.id", "ZooKeeper-era id, skiff uses node.id"},
    {"zookeeper.", "ZooKeeper"},
    /* Replication: one node holds one copy. */
    {"offsets.topic.replication.factor", "one replica"},
    {"transaction.state.log.replication.factor", "one replica"},
    {"transaction.state.log.min.isr", "one replica"},
    {"share.coordinator.state.topic.replication.factor", "one replica"},
    {"share.coordinator.state.topic.min.isr", "one replica"},
    {"min.insync.replicas", "one replica"},
    {"unclean.leader.election.enable", "one replica"},
    {"replica.", "one replica"},
    {"num.replica.fetchers", "one replica"},
    /* The JVM broker's threads and socket tuning; skiff has one event loop. */
    {"num.network.threads", "JVM tuning"},
    {"num.io.threads", "JVM tuning"},
    {"num.recovery.threads.per.data.dir", "JVM tuning"},
    {"background.threads", "JVM tuning"},
    {"queued.max.requests", "JVM tuning"},
    {"socket.send.buffer.bytes", "JVM tuning"},
    {"socket.receive.buffer.bytes", "JVM tuning"},
    /* Confluent's images' own switches (KAFKA_CONFLUENT_*). */
    {"confluent.", "Confluent Platform"},
};

const char *sk_config_ignored_reason(const char *name)
{
    for (size_t i = 0; i < sizeof ignored_keys / sizeof ignored_keys[0]; i++) {
        const char *k = ignored_keys[i].name;
        size_t n = strlen(k);
        bool prefix = k[n - 1] == '.';
        if (prefix ? strncmp(name, k, n) == 0 && name[n] : strcmp(name, k) == 0)
            return ignored_keys[i].reason;
    }
    return NULL;
}

/* ---- server.properties -------------------------------------------------- */

static bool prop_space(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\f';
}

static bool line_end(char ch)
{
    return ch == '\n' || ch == '\r' || ch == '\0';
}

/* Skips one line terminator (\n, \r or \r\n) at *p, counting lines. */
static void skip_newline(const char **p, int *line)
{
    if (**p == '\r')
        (*p)++;
    if (**p == '\n')
        (*p)++;
    (*line)++;
}

static int hex_digit(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    ch = (char)tolower((unsigned char)ch);
    return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

/* Unescapes [p, end) into `out` (room for end - p + 1 bytes: no escape
 * grows). Returns 0, or -1 on a malformed \uXXXX. */
static int unescape(const char *p, const char *end, char *out)
{
    while (p < end) {
        char ch = *p++;
        if (ch != '\\' || p == end) {
            *out++ = ch;
            continue;
        }
        ch = *p++;
        switch (ch) {
        case 't':
            *out++ = '\t';
            break;
        case 'n':
            *out++ = '\n';
            break;
        case 'r':
            *out++ = '\r';
            break;
        case 'f':
            *out++ = '\f';
            break;
        case 'u': {
            unsigned cp = 0;
            for (int i = 0; i < 4; i++) {
                int d = p < end ? hex_digit(*p++) : -1;
                if (d < 0)
                    return -1;
                cp = cp << 4 | (unsigned)d;
            }
            /* \uXXXX is at most 3 bytes of UTF-8, from 6 of text. */
            if (cp < 0x80) {
                *out++ = (char)cp;
            } else if (cp < 0x800) {
                *out++ = (char)(0xc0 | cp >> 6);
                *out++ = (char)(0x80 | (cp & 0x3f));
            } else {
                *out++ = (char)(0xe0 | cp >> 12);
                *out++ = (char)(0x80 | (cp >> 6 & 0x3f));
                *out++ = (char)(0x80 | (cp & 0x3f));
            }
            break;
        }
        default:
            *out++ = ch;
            break;
        }
    }
    *out = '\0';
    return 0;
}

int sk_properties_parse(const char *text, sk_properties_cb cb, void *arg, int *bad_line)
{
    size_t size = strlen(text) + 1;
    char *logical = malloc(size), *key = malloc(size), *value = malloc(size);
    int rc = 0, line = 1;
    *bad_line = 0;
    if (!logical || !key || !value) {
        rc = -1;
        goto out;
    }
    const char *p = text;
    while (*p && rc == 0) {
        while (prop_space(*p))
            p++;
        if (line_end(*p)) {
            if (*p)
                skip_newline(&p, &line);
            continue;
        }
        if (*p == '#' || *p == '!') {
            while (!line_end(*p))
                p++;
            continue;
        }
        /* One logical line: physical lines joined where one ends in an odd
         * number of backslashes (that backslash and the next line's leading
         * white space dropped). */
        int start = line;
        size_t n = 0;
        for (;;) {
            size_t seg = n, slashes = 0;
            while (!line_end(*p))
                logical[n++] = *p++;
            for (size_t i = n; i > seg && logical[i - 1] == '\\'; i--)
                slashes++;
            if (slashes % 2 == 0 || !*p)
                break;
            n--;
            skip_newline(&p, &line);
            while (prop_space(*p))
                p++;
        }
        /* The key ends at the first unescaped '=', ':' or white space. */
        size_t k = 0;
        while (k < n && logical[k] != '=' && logical[k] != ':' && !prop_space(logical[k]))
            k += logical[k] == '\\' ? 2 : 1;
        if (k > n)
            k = n;
        size_t v = k;
        while (v < n && prop_space(logical[v]))
            v++;
        if (v < n && (logical[v] == '=' || logical[v] == ':'))
            v++;
        while (v < n && prop_space(logical[v]))
            v++;
        if (unescape(logical, logical + k, key) < 0 || unescape(logical + v, logical + n, value) < 0) {
            *bad_line = start;
            rc = -1;
            break;
        }
        rc = cb(key, value, start, arg);
    }
out:
    free(logical);
    free(key);
    free(value);
    return rc;
}

/* ---- Listener names ----------------------------------------------------- */

/* One NAME:PROTOCOL entry of a listener.security.protocol.map, trimmed. */
typedef struct map_entry {
    const char *name, *proto;   /* listener name and security protocol (not NUL-terminated) */
    size_t name_len, proto_len; /* their lengths */
} map_entry;

/* Reads the entry at *p into `e` and moves *p past it. Returns 1, 0 at the
 * end of the map, or -1 if the entry has no NAME: part. */
static int map_next(const char **p, map_entry *e)
{
    const char *s = *p;
    while (*s == ' ' || *s == ',')
        s++;
    if (!*s)
        return 0;
    size_t len = strcspn(s, ",");
    const char *colon = memchr(s, ':', len), *end = s + len;
    if (!colon || colon == s)
        return -1;
    e->name = s;
    e->name_len = (size_t)(colon - s);
    while (e->name_len > 0 && s[e->name_len - 1] == ' ')
        e->name_len--;
    e->proto = colon + 1;
    while (e->proto < end && *e->proto == ' ')
        e->proto++;
    while (end > e->proto && end[-1] == ' ')
        end--;
    e->proto_len = (size_t)(end - e->proto);
    *p = s + len;
    return 1;
}

/* The protocol `name` maps to, into `proto`. Returns 1 if found, 0 if not,
 * -1 if the map is malformed. */
static int map_lookup(const char *map, const char *name, char *proto, size_t len)
{
    map_entry e;
    int rc;
    while ((rc = map_next(&map, &e)) == 1) {
        if (strlen(name) == e.name_len && strncasecmp(e.name, name, e.name_len) == 0) {
            snprintf(proto, len, "%.*s", (int)e.proto_len, e.proto);
            return 1;
        }
    }
    return rc;
}

int sk_config_listener_protocol(const sk_config *c, const char *name, char *proto, size_t len)
{
    return map_lookup(c->listener_security_protocol_map, name, proto, len) == 1 ? 0 : -1;
}

/* True if `name` is one of the comma-separated `names` (any case). */
static bool name_listed(const char *names, const char *name)
{
    size_t nlen = strlen(name);
    for (const char *p = names; p && *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        size_t n = strcspn(p, ",");
        size_t t = n;
        while (t > 0 && p[t - 1] == ' ')
            t--;
        if (t == nlen && t > 0 && strncasecmp(p, name, t) == 0)
            return true;
        p += n;
    }
    return false;
}

static int append_listener(char *out, size_t len, size_t *used, const sk_listener_addr *a)
{
    bool v6 = strchr(a->host, ':') != NULL;
    int w = snprintf(out + *used, len - *used, "%s%s://%s%s%s:%d", *used ? "," : "", a->name, v6 ? "[" : "", a->host,
                     v6 ? "]" : "", a->port);
    if (w < 0 || (size_t)w >= len - *used)
        return -1;
    *used += (size_t)w;
    return 0;
}

/* Rewrites the listener list in *field without the controller listeners;
 * for `listeners` (check_protocols) also checks each one's protocol. */
static int drop_controllers(sk_config *c, char **field, const char *key, bool check_protocols)
{
    sk_listener_addr addr[SK_LISTENERS_MAX];
    int n = sk_listeners_parse(*field, addr, SK_LISTENERS_MAX, NULL);
    if (n <= 0)
        return 0;
    char kept[SK_LISTENERS_MAX * 300];
    size_t used = 0;
    int dropped = 0;
    kept[0] = '\0';
    for (int i = 0; i < n; i++) {
        if (name_listed(c->controller_listener_names, addr[i].name)) {
            dropped++;
            if (check_protocols)
                sk_info("config",
                        "listeners: %s://%s:%d is a KRaft controller listener "
                        "(controller.listener.names); skiff has no controller quorum and does "
                        "not open it",
                        addr[i].name, addr[i].host, addr[i].port);
            continue;
        }
        if (check_protocols) {
            char proto[32];
            int found = map_lookup(c->listener_security_protocol_map, addr[i].name, proto, sizeof proto);
            if (found <= 0) {
                sk_error("config",
                         "listeners: listener %s has no security protocol in "
                         "listener.security.protocol.map (\"%s\")",
                         addr[i].name, c->listener_security_protocol_map);
                return -1;
            }
        }
        if (append_listener(kept, sizeof kept, &used, &addr[i]) < 0)
            return -1;
    }
    if (check_protocols && used == 0) {
        sk_error("config",
                 "listeners: no listener left for clients once the controller "
                 "listeners (%s) are set aside",
                 c->controller_listener_names);
        return -1;
    }
    if (!dropped)
        return 0;
    char *dup = strdup(kept);
    if (!dup) {
        sk_error("config", "%s: out of memory", key);
        return -1;
    }
    free(*field);
    *field = dup;
    return 0;
}

/* Kafka's security protocols (SecurityProtocol). */
static const char *const protocols[] = {"PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL", NULL};

/* Why `map` is not a list of NAME:PROTOCOL pairs, or NULL. */
static const char *map_check(const char *map)
{
    map_entry e;
    int rc;
    while ((rc = map_next(&map, &e)) == 1) {
        bool known = false;
        for (const char *const *q = protocols; *q && !known; q++)
            known = strlen(*q) == e.proto_len && strncasecmp(*q, e.proto, e.proto_len) == 0;
        if (!known)
            return "a protocol is not one of PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL";
    }
    return rc < 0 ? "expected NAME:PROTOCOL pairs, comma-separated" : NULL;
}

int sk_config_resolve_listeners(sk_config *c)
{
    const char *why = map_check(c->listener_security_protocol_map);
    if (why) {
        sk_error("config", "listener.security.protocol.map: bad value \"%s\": %s", c->listener_security_protocol_map,
                 why);
        return -1;
    }
    if (drop_controllers(c, &c->listeners, "listeners", true) < 0)
        return -1;
    return drop_controllers(c, &c->advertised_listeners, "advertised.listeners", false);
}
