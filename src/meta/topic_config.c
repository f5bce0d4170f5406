/*
 * The topic config table (skiff/topic_config.h): one row per Kafka 4.4
 * topic config with its type, default, broker synonyms, validator and a
 * line of documentation, plus the parser that turns client text into
 * canonical values with Kafka's ConfigDef rules and messages.
 *
 * Defaults and ranges are Kafka 4.4's (LogConfig; 4.4 added errors.deadletterqueue.group.enable,
 * max.decompressed.message.bytes, remote.copy.lag.bytes and remote.copy.lag.ms; KIP-1030: segment.bytes
 * at least 1 MiB, message.timestamp.after.max.ms one hour). Removed in 4.0
 * and so unknown here: message.format.version,
 * message.timestamp.difference.max.ms, message.downconversion.enable.
 */
#include "skiff/topic_config.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "skiff/compress.h"
#include "skiff/errors.h"

#define I64_MAX_TEXT "9223372036854775807"

/* How a value is checked once parsed. */
typedef enum check_kind {
    CHECK_NONE,
    CHECK_RANGE,      /* integers: [min, max] (INT64_MIN/INT64_MAX = open) */
    CHECK_UNIT_RANGE, /* doubles: [0, 1] */
    CHECK_IN,         /* strings: one of `allowed` */
    CHECK_LIST_IN,    /* lists: every element one of `allowed` */
    CHECK_GZIP_LEVEL, /* 1..9 or -1 */
    CHECK_REPLICAS,   /* "*" or partition:broker pairs */
} check_kind;

typedef struct row {
    sk_topic_config_def def;    /* the key as described (name, type, default, synonyms, doc) */
    check_kind check;           /* the check of its values */
    int64_t min, max;           /* CHECK_RANGE bounds, inclusive */
    const char *const *allowed; /* NULL-terminated */
} row;

static const char *const cleanup_policies[] = {"compact", "delete", NULL};
static const char *const compression_types[] = {"uncompressed", "zstd", "lz4", "snappy", "gzip", "producer", NULL};
static const char *const timestamp_types[] = {"CreateTime", "LogAppendTime", NULL};

#define ROW(id, n, t, dflt, bkey, syn, synv, chk, lo, hi, allow, doc) \
    [id] = {{n, t, dflt, bkey, syn, synv, doc}, chk, lo, hi, allow}
#define LONG_ROW(id, n, dflt, bkey, syn, synv, lo, doc) \
    ROW(id, n, SK_CONFIG_TYPE_LONG, dflt, bkey, syn, synv, CHECK_RANGE, lo, INT64_MAX, NULL, doc)
#define INT_ROW(id, n, dflt, bkey, syn, synv, lo, hi, doc) \
    ROW(id, n, SK_CONFIG_TYPE_INT, dflt, bkey, syn, synv, CHECK_RANGE, lo, hi, NULL, doc)
#define BOOL_ROW(id, n, syn, doc) \
    ROW(id, n, SK_CONFIG_TYPE_BOOLEAN, "false", NULL, syn, syn ? "false" : NULL, CHECK_NONE, 0, 0, NULL, doc)

static const row rows[SK_TC_COUNT] = {
    ROW(SK_TC_CLEANUP_POLICY, "cleanup.policy", SK_CONFIG_TYPE_LIST, "delete", NULL, "log.cleanup.policy", "delete",
        CHECK_LIST_IN, 0, 0, cleanup_policies,
        "What happens to old segments: delete (retention by time and size), compact (keep the "
        "newest record per key), or both"),
    ROW(SK_TC_COMPRESSION_GZIP_LEVEL, "compression.gzip.level", SK_CONFIG_TYPE_INT, "-1", NULL,
        "compression.gzip.level", "-1", CHECK_GZIP_LEVEL, 0, 0, NULL,
        "gzip level used when the broker recompresses to gzip; -1 = zlib's default (6)"),
    INT_ROW(SK_TC_COMPRESSION_LZ4_LEVEL, "compression.lz4.level", "9", NULL, "compression.lz4.level", "9", 1, 17,
            "lz4 level used when the broker recompresses to lz4"),
    ROW(SK_TC_COMPRESSION_TYPE, "compression.type", SK_CONFIG_TYPE_STRING, "producer", NULL, "compression.type",
        "producer", CHECK_IN, 0, 0, compression_types,
        "Codec of the stored batches: producer keeps each batch as it came, any other value "
        "recompresses to that codec"),
    INT_ROW(SK_TC_COMPRESSION_ZSTD_LEVEL, "compression.zstd.level", "3", NULL, "compression.zstd.level", "3", -131072,
            22, "zstd level used when the broker recompresses to zstd"),
    LONG_ROW(SK_TC_DELETE_RETENTION_MS, "delete.retention.ms", "86400000", "log.cleaner.delete.retention.ms",
             "log.cleaner.delete.retention.ms", "86400000", 0,
             "How long tombstones stay readable in a compacted topic, ms"),
    BOOL_ROW(SK_TC_ERRORS_DEADLETTERQUEUE_GROUP_ENABLE, "errors.deadletterqueue.group.enable", NULL,
             "Share groups may write undeliverable records here (Kafka 4.4; skiff has no share groups)"),
    LONG_ROW(SK_TC_FILE_DELETE_DELAY_MS, "file.delete.delay.ms", "60000", "file.delete.delay.ms",
             "log.segment.delete.delay.ms", "60000", 0,
             "Wait before a segment removed from the log is deleted from disk, ms"),
    LONG_ROW(SK_TC_FLUSH_MESSAGES, "flush.messages", I64_MAX_TEXT, "log.flush.interval.messages",
             "log.flush.interval.messages", I64_MAX_TEXT, 1, "fsync the log once this many messages are unflushed"),
    LONG_ROW(SK_TC_FLUSH_MS, "flush.ms", I64_MAX_TEXT, "log.flush.interval.ms", "log.flush.scheduler.interval.ms",
             I64_MAX_TEXT, 0, "fsync the log once its oldest unflushed message is this old, ms"),
    ROW(SK_TC_FOLLOWER_REPLICATION_THROTTLED_REPLICAS, "follower.replication.throttled.replicas", SK_CONFIG_TYPE_LIST,
        "", NULL, NULL, NULL, CHECK_REPLICAS, 0, 0, NULL,
        "Replicas whose follower traffic is throttled (accepted; skiff has one replica)"),
    INT_ROW(SK_TC_INDEX_INTERVAL_BYTES, "index.interval.bytes", "4096", "log.index.interval.bytes",
            "log.index.interval.bytes", "4096", 0, INT32_MAX, "Bytes of records between two offset index entries"),
    ROW(SK_TC_LEADER_REPLICATION_THROTTLED_REPLICAS, "leader.replication.throttled.replicas", SK_CONFIG_TYPE_LIST, "",
        NULL, NULL, NULL, CHECK_REPLICAS, 0, 0, NULL,
        "Replicas whose leader traffic is throttled (accepted; skiff has one replica)"),
    LONG_ROW(SK_TC_LOCAL_RETENTION_BYTES, "local.retention.bytes", "-2", NULL, "log.local.retention.bytes", "-2", -2,
             "Local size limit with tiered storage; -2 = retention.bytes (no tiered storage in skiff)"),
    LONG_ROW(SK_TC_LOCAL_RETENTION_MS, "local.retention.ms", "-2", NULL, "log.local.retention.ms", "-2", -2,
             "Local time limit with tiered storage; -2 = retention.ms (no tiered storage in skiff)"),
    LONG_ROW(SK_TC_MAX_COMPACTION_LAG_MS, "max.compaction.lag.ms", I64_MAX_TEXT, "log.cleaner.max.compaction.lag.ms",
             "log.cleaner.max.compaction.lag.ms", I64_MAX_TEXT, 1,
             "Longest a record may stay uncompacted in a compacted topic, ms"),
    INT_ROW(SK_TC_MAX_DECOMPRESSED_MESSAGE_BYTES, "max.decompressed.message.bytes", "2147483639", NULL,
            "max.decompressed.message.bytes", "2147483639", 1, 2147483639,
            "Largest record after decompression, bytes (Kafka 4.4; accepted, skiff does not enforce it)"),
    INT_ROW(SK_TC_MAX_MESSAGE_BYTES, "max.message.bytes", "1048588", "message.max.bytes", "message.max.bytes",
            "1048588", 0, INT32_MAX, "Largest record batch accepted, after compression, bytes"),
    LONG_ROW(SK_TC_MESSAGE_TIMESTAMP_AFTER_MAX_MS, "message.timestamp.after.max.ms", "3600000",
             "log.message.timestamp.after.max.ms", "log.message.timestamp.after.max.ms", "3600000", 0,
             "Reject a batch whose CreateTime is further than this in the future, ms"),
    LONG_ROW(SK_TC_MESSAGE_TIMESTAMP_BEFORE_MAX_MS, "message.timestamp.before.max.ms", I64_MAX_TEXT,
             "log.message.timestamp.before.max.ms", "log.message.timestamp.before.max.ms", I64_MAX_TEXT, 0,
             "Reject a batch whose CreateTime is further than this in the past, ms"),
    ROW(SK_TC_MESSAGE_TIMESTAMP_TYPE, "message.timestamp.type", SK_CONFIG_TYPE_STRING, "CreateTime",
        "log.message.timestamp.type", "log.message.timestamp.type", "CreateTime", CHECK_IN, 0, 0, timestamp_types,
        "Keep the producer's timestamps (CreateTime) or stamp the append time (LogAppendTime)"),
    ROW(SK_TC_MIN_CLEANABLE_DIRTY_RATIO, "min.cleanable.dirty.ratio", SK_CONFIG_TYPE_DOUBLE, "0.5",
        "log.cleaner.min.cleanable.ratio", "log.cleaner.min.cleanable.ratio", "0.5", CHECK_UNIT_RANGE, 0, 1, NULL,
        "Share of uncompacted log at which the cleaner compacts a compacted topic"),
    LONG_ROW(SK_TC_MIN_COMPACTION_LAG_MS, "min.compaction.lag.ms", "0", "log.cleaner.min.compaction.lag.ms",
             "log.cleaner.min.compaction.lag.ms", "0", 0,
             "Shortest time a record stays uncompacted in a compacted topic, ms"),
    INT_ROW(SK_TC_MIN_INSYNC_REPLICAS, "min.insync.replicas", "1", NULL, "min.insync.replicas", "1", 1, INT32_MAX,
            "Replicas that must acknowledge an acks=all write (accepted; skiff has one)"),
    BOOL_ROW(SK_TC_PREALLOCATE, "preallocate", "log.preallocate",
             "Preallocate segment files (accepted; skiff does not preallocate)"),
    LONG_ROW(SK_TC_REMOTE_COPY_LAG_BYTES, "remote.copy.lag.bytes", "-1", NULL, "log.remote.copy.lag.bytes", "-1", -1,
             "Size lag before a segment is copied to tiered storage, bytes (Kafka 4.4; no tiered storage in skiff)"),
    LONG_ROW(SK_TC_REMOTE_COPY_LAG_MS, "remote.copy.lag.ms", "0", NULL, "log.remote.copy.lag.ms", "0", -1,
             "Time lag before a segment is copied to tiered storage, ms (Kafka 4.4; no tiered storage in skiff)"),
    BOOL_ROW(SK_TC_REMOTE_LOG_COPY_DISABLE, "remote.log.copy.disable", NULL,
             "Stop copying segments to tiered storage (no tiered storage in skiff)"),
    BOOL_ROW(SK_TC_REMOTE_LOG_DELETE_ON_DISABLE, "remote.log.delete.on.disable", NULL,
             "Delete tiered data when tiered storage is turned off (no tiered storage in skiff)"),
    BOOL_ROW(SK_TC_REMOTE_STORAGE_ENABLE, "remote.storage.enable", NULL,
             "Tiered storage for the topic; skiff has none, so only false is accepted"),
    ROW(SK_TC_RETENTION_BYTES, "retention.bytes", SK_CONFIG_TYPE_LONG, "-1", "log.retention.bytes",
        "log.retention.bytes", "-1", CHECK_RANGE, INT64_MIN, INT64_MAX, NULL,
        "Delete the oldest segments while a partition is larger than this, bytes; -1 = no limit"),
    LONG_ROW(SK_TC_RETENTION_MS, "retention.ms", "604800000", "log.retention.ms", "log.retention.hours", "168", -1,
             "Delete segments whose newest record is older than this, ms; -1 = keep forever"),
    INT_ROW(SK_TC_SEGMENT_BYTES, "segment.bytes", "1073741824", "log.segment.bytes", "log.segment.bytes", "1073741824",
            1048576, INT32_MAX, "Size at which the active segment is closed and a new one rolled, bytes"),
    INT_ROW(SK_TC_SEGMENT_INDEX_BYTES, "segment.index.bytes", "10485760", "log.index.size.max.bytes",
            "log.index.size.max.bytes", "10485760", 4, INT32_MAX,
            "Largest offset or time index file of a segment, bytes"),
    LONG_ROW(SK_TC_SEGMENT_JITTER_MS, "segment.jitter.ms", "0", NULL, "log.roll.jitter.hours", "0", 0,
             "Random jitter subtracted from segment.ms (accepted; skiff rolls without jitter)"),
    LONG_ROW(SK_TC_SEGMENT_MS, "segment.ms", "604800000", "log.roll.ms", "log.roll.hours", "168", 1,
             "Age of the active segment at which a new one is rolled, ms"),
    BOOL_ROW(SK_TC_UNCLEAN_LEADER_ELECTION_ENABLE, "unclean.leader.election.enable", "unclean.leader.election.enable",
             "Let an out-of-sync replica become leader (accepted; skiff has one replica)"),
};

const sk_topic_config_def *sk_topic_config_def_get(sk_topic_config_id id)
{
    return &rows[id].def;
}

int sk_topic_config_find(const char *name, size_t len)
{
    for (int i = 0; i < SK_TC_COUNT; i++)
        if (strlen(rows[i].def.name) == len && !memcmp(rows[i].def.name, name, len))
            return i;
    return -1;
}

/* ---- Parsing (Kafka's ConfigDef.parseType) ------------------------------ */

/* Java's String.trim(): drops characters <= ' ' at both ends. */
static void trim(const char *s, const char **start, size_t *len)
{
    size_t n = strlen(s);
    while (n > 0 && (unsigned char)*s <= ' ') {
        s++;
        n--;
    }
    while (n > 0 && (unsigned char)s[n - 1] <= ' ')
        n--;
    *start = s;
    *len = n;
}

/* Java's Long.parseLong: optional sign, at least one decimal digit. */
static bool parse_java_long(const char *s, size_t n, int64_t *out)
{
    size_t i = 0;
    bool neg = false;
    if (n > 0 && (s[0] == '-' || s[0] == '+')) {
        neg = s[0] == '-';
        i = 1;
    }
    if (i == n)
        return false;
    uint64_t v = 0, limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (limit - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return true;
}

/* Java's Double.parseDouble, close enough: strtod's syntax (decimal, hex,
 * inf, nan) with an optional f/F/d/D suffix. */
static bool parse_java_double(const char *s, size_t n, double *out)
{
    char buf[128];
    if (n == 0 || n >= sizeof buf)
        return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    if (strchr("fFdD", buf[n - 1]) && n > 1)
        buf[n - 1] = '\0';
    char *end;
    errno = 0;
    *out = strtod(buf, &end);
    return end != buf && *end == '\0';
}

/* Java's Double.toString: shortest round-trip digits, plain notation for
 * 1e-3 <= |v| < 1e7 (with at least one fractional digit), else d.dddE<n>. */
static void format_java_double(double v, char *buf, size_t len)
{
    if (isnan(v)) {
        snprintf(buf, len, "NaN");
        return;
    }
    if (isinf(v)) {
        snprintf(buf, len, "%sInfinity", v < 0 ? "-" : "");
        return;
    }
    if (v == 0) {
        snprintf(buf, len, "%s0.0", signbit(v) ? "-" : "");
        return;
    }
    char e[40];
    for (int prec = 0; prec < 17; prec++) {
        snprintf(e, sizeof e, "%.*e", prec, v);
        if (strtod(e, NULL) == v)
            break;
    }
    /* e is [-]d[.ddd]e[+-]xx: collect the digits and the exponent. */
    const char *p = e;
    bool neg = *p == '-';
    if (neg)
        p++;
    char digits[24];
    size_t nd = 0;
    for (; *p && *p != 'e'; p++)
        if (*p != '.' && nd < sizeof digits - 1)
            digits[nd++] = *p;
    digits[nd] = '\0';
    int exp = atoi(p + 1);
    size_t o = 0;
    char out[64];
    if (neg)
        out[o++] = '-';
    if (exp >= -3 && exp < 7) {
        if (exp < 0) {
            out[o++] = '0';
            out[o++] = '.';
            for (int i = -1; i > exp; i--)
                out[o++] = '0';
            for (size_t i = 0; i < nd; i++)
                out[o++] = digits[i];
        } else {
            for (int i = 0; i <= exp; i++)
                out[o++] = (size_t)i < nd ? digits[i] : '0';
            out[o++] = '.';
            if ((size_t)exp + 1 < nd)
                for (size_t i = (size_t)exp + 1; i < nd; i++)
                    out[o++] = digits[i];
            else
                out[o++] = '0';
        }
        out[o] = '\0';
    } else {
        out[o++] = digits[0];
        out[o++] = '.';
        if (nd > 1)
            for (size_t i = 1; i < nd; i++)
                out[o++] = digits[i];
        else
            out[o++] = '0';
        snprintf(out + o, sizeof out - o, "E%d", exp);
    }
    snprintf(buf, len, "%s", out);
}

static const char *type_name(sk_config_type t)
{
    switch (t) {
    case SK_CONFIG_TYPE_INT:
        return "INT";
    case SK_CONFIG_TYPE_LONG:
        return "LONG";
    case SK_CONFIG_TYPE_DOUBLE:
        return "DOUBLE";
    default:
        return "UNKNOWN";
    }
}

static bool in_list(const char *const *allowed, const char *s, size_t n)
{
    for (; *allowed; allowed++)
        if (strlen(*allowed) == n && !memcmp(*allowed, s, n))
            return true;
    return false;
}

static void join_allowed(const char *const *allowed, char *buf, size_t len)
{
    size_t o = 0;
    buf[0] = '\0';
    for (const char *const *a = allowed; *a && o < len; a++)
        o += (size_t)snprintf(buf + o, len - o, "%s%s", a == allowed ? "" : ", ", *a);
}

/* A "partition:broker" pair, or an empty element. */
static bool replica_pair_ok(const char *s, size_t n)
{
    if (n == 0)
        return true;
    const char *colon = memchr(s, ':', n);
    if (!colon || colon == s || colon == s + n - 1)
        return false;
    for (const char *p = s; p < s + n; p++)
        if (p != colon && (*p < '0' || *p > '9'))
            return false;
    return true;
}

/* Splits a trimmed list on commas with surrounding blanks (Kafka's
 * "\\s*,\\s*", trailing empty elements kept) and calls fn per element. */
static bool list_each(const char *s, size_t n, bool (*fn)(const char *e, size_t en, void *arg), void *arg)
{
    if (n == 0)
        return true;
    size_t i = 0;
    for (;;) {
        size_t j = i;
        while (j < n && s[j] != ',')
            j++;
        size_t a = i, b = j;
        while (b > a && (s[b - 1] == ' ' || (s[b - 1] >= '\t' && s[b - 1] <= '\r')))
            b--;
        while (a < b && (s[a] == ' ' || (s[a] >= '\t' && s[a] <= '\r')))
            a++;
        if (!fn(s + a, b - a, arg))
            return false;
        if (j == n)
            return true;
        i = j + 1;
    }
}

typedef struct list_ctx {
    const row *r;         /* the key being parsed */
    char *canon;          /* canonical text being built */
    size_t canon_len, o;  /* capacity of canon, bytes wanted so far */
    bool overflow;        /* canon was too small */
    bool all_pairs;       /* CHECK_REPLICAS: every element a pair or empty */
    char joined[8];       /* CHECK_REPLICAS: start of the elements concatenated */
    size_t joined_len;    /* bytes of all elements (may exceed joined) */
    char *msg;            /* error message out, caller's buffer */
    size_t msg_len;       /* capacity of msg */
    char *shown;          /* Java List.toString of the elements, for messages */
    size_t shown_len, so; /* capacity of shown, bytes wanted so far */
    int count;            /* elements seen */
} list_ctx;

/* Appends formatted text at buf[*o], never past `cap`; *o counts what was wanted. */
__attribute__((format(printf, 4, 5))) static void append(char *buf, size_t cap, size_t *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(*o < cap ? buf + *o : NULL, *o < cap ? cap - *o : 0, fmt, ap);
    va_end(ap);
    if (w > 0)
        *o += (size_t)w;
}

static bool list_element(const char *e, size_t en, void *arg)
{
    list_ctx *x = arg;
    if (x->r->check == CHECK_LIST_IN && !in_list(x->r->allowed, e, en)) {
        char allowed[128];
        join_allowed(x->r->allowed, allowed, sizeof allowed);
        snprintf(x->msg, x->msg_len, "Invalid value %.*s for configuration %s: String must be one of: %s", (int)en, e,
                 x->r->def.name, allowed);
        return false;
    }
    if (x->r->check == CHECK_REPLICAS) {
        x->all_pairs = x->all_pairs && replica_pair_ok(e, en);
        if (x->joined_len + en < sizeof x->joined)
            memcpy(x->joined + x->joined_len, e, en);
        x->joined_len += en;
        append(x->shown, x->shown_len, &x->so, "%s%.*s", x->count ? ", " : "", (int)en, e);
    }
    append(x->canon, x->canon_len, &x->o, "%s%.*s", x->count ? "," : "", (int)en, e);
    x->count++;
    if (x->o >= x->canon_len)
        x->overflow = true;
    return true;
}

static int parse_list(const row *r, const char *s, size_t n, char *canon, size_t canon_len, char *msg, size_t msg_len)
{
    char shown[256] = "[";
    list_ctx x = {.r = r,
                  .canon = canon,
                  .canon_len = canon_len,
                  .all_pairs = true,
                  .msg = msg,
                  .msg_len = msg_len,
                  .shown = shown,
                  .shown_len = sizeof shown - 1,
                  .so = 1};
    canon[0] = '\0';
    if (!list_each(s, n, list_element, &x))
        return -1;
    if (x.overflow) {
        snprintf(msg, msg_len, "Invalid value for configuration %s: the list is too long", r->def.name);
        return -1;
    }
    if (r->check == CHECK_REPLICAS && !x.all_pairs && !(x.joined_len == 1 && x.joined[0] == '*')) {
        snprintf(msg, msg_len,
                 "Invalid value %s] for configuration %s: %s must be the literal '*' or a list of "
                 "replicas in the following format: [partitionId]:[brokerId],[partitionId]:[brokerId],...",
                 shown, r->def.name, r->def.name);
        return -1;
    }
    return 0;
}

int sk_topic_config_parse(sk_topic_config_id id, const char *value, char *canon, size_t canon_len, char *msg,
                          size_t msg_len)
{
    const row *r = &rows[id];
    const char *name = r->def.name;
    const char *s;
    size_t n;
    trim(value, &s, &n);
    int64_t iv = 0;
    double dv = 0;
    switch (r->def.type) {
    case SK_CONFIG_TYPE_BOOLEAN:
        if (n == 4 && !strncasecmp(s, "true", 4)) {
            snprintf(canon, canon_len, "true");
        } else if (n == 5 && !strncasecmp(s, "false", 5)) {
            snprintf(canon, canon_len, "false");
        } else {
            snprintf(msg, msg_len, "Invalid value %s for configuration %s: Expected value to be either true or false",
                     value, name);
            return -1;
        }
        return 0;
    case SK_CONFIG_TYPE_INT:
    case SK_CONFIG_TYPE_LONG:
        if (!parse_java_long(s, n, &iv) || (r->def.type == SK_CONFIG_TYPE_INT && (iv < INT32_MIN || iv > INT32_MAX))) {
            snprintf(msg, msg_len, "Invalid value %s for configuration %s: Not a number of type %s", value, name,
                     type_name(r->def.type));
            return -1;
        }
        if (r->check == CHECK_RANGE && iv < r->min) {
            snprintf(msg, msg_len, "Invalid value %" PRId64 " for configuration %s: Value must be at least %" PRId64,
                     iv, name, r->min);
            return -1;
        }
        if (r->check == CHECK_RANGE && iv > r->max) {
            snprintf(msg, msg_len,
                     "Invalid value %" PRId64 " for configuration %s: Value must be no more than %" PRId64, iv, name,
                     r->max);
            return -1;
        }
        if (r->check == CHECK_GZIP_LEVEL && (iv > SK_GZIP_LEVEL_MAX || (iv < SK_GZIP_LEVEL_MIN && iv != -1))) {
            snprintf(msg, msg_len,
                     "Invalid value %" PRId64 " for configuration %s: Value must be between %d and %d or equal to -1",
                     iv, name, SK_GZIP_LEVEL_MIN, SK_GZIP_LEVEL_MAX);
            return -1;
        }
        snprintf(canon, canon_len, "%" PRId64, iv);
        return 0;
    case SK_CONFIG_TYPE_DOUBLE: {
        if (!parse_java_double(s, n, &dv)) {
            snprintf(msg, msg_len, "Invalid value %s for configuration %s: Not a number of type DOUBLE", value, name);
            return -1;
        }
        char shown[64];
        format_java_double(dv, shown, sizeof shown);
        if (dv < (double)r->min || dv > (double)r->max) {
            snprintf(msg, msg_len, "Invalid value %s for configuration %s: Value must be %s %" PRId64, shown, name,
                     dv < (double)r->min ? "at least" : "no more than", dv < (double)r->min ? r->min : r->max);
            return -1;
        }
        snprintf(canon, canon_len, "%s", shown);
        return 0;
    }
    case SK_CONFIG_TYPE_STRING:
        if (r->check == CHECK_IN && !in_list(r->allowed, s, n)) {
            char allowed[128];
            join_allowed(r->allowed, allowed, sizeof allowed);
            snprintf(msg, msg_len, "Invalid value %.*s for configuration %s: String must be one of: %s", (int)n, s,
                     name, allowed);
            return -1;
        }
        if (n >= canon_len) {
            snprintf(msg, msg_len, "Invalid value for configuration %s: the value is too long", name);
            return -1;
        }
        memcpy(canon, s, n);
        canon[n] = '\0';
        return 0;
    case SK_CONFIG_TYPE_LIST:
        return parse_list(r, s, n, canon, canon_len, msg, msg_len);
    default:
        snprintf(msg, msg_len, "Invalid value %s for configuration %s", value, name);
        return -1;
    }
}

/* ---- Overrides ---------------------------------------------------------- */

void sk_topic_configs_free(sk_topic_configs *c)
{
    for (int i = 0; i < SK_TC_COUNT; i++)
        free(c->value[i]);
    memset(c, 0, sizeof *c);
}

int sk_topic_configs_copy(sk_topic_configs *dst, const sk_topic_configs *src)
{
    sk_topic_configs tmp = {0};
    for (int i = 0; src && i < SK_TC_COUNT; i++) {
        if (src->value[i] && !(tmp.value[i] = strdup(src->value[i]))) {
            sk_topic_configs_free(&tmp);
            sk_topic_configs_free(dst);
            return -1;
        }
    }
    sk_topic_configs_free(dst);
    *dst = tmp;
    return 0;
}

int16_t sk_topic_configs_set(sk_topic_configs *c, const char *name, const char *value, char *msg, size_t msg_len)
{
    int id = sk_topic_config_find(name, strlen(name));
    if (id < 0) {
        snprintf(msg, msg_len, "Unknown topic config name: %s", name);
        return SK_ERR_INVALID_CONFIG;
    }
    char *copy = NULL;
    if (value) {
        size_t cap = strlen(value) + 64;
        char *canon = malloc(cap);
        if (!canon)
            return SK_ERR_KAFKA_STORAGE_ERROR;
        if (sk_topic_config_parse((sk_topic_config_id)id, value, canon, cap, msg, msg_len) < 0) {
            free(canon);
            return SK_ERR_INVALID_CONFIG;
        }
        copy = canon;
    }
    free(c->value[id]);
    c->value[id] = copy;
    return SK_ERR_NONE;
}

/* ---- Effective values --------------------------------------------------- */

bool sk_config_key_is_set(const sk_config *broker, const char *key, char *buf, size_t len)
{
    for (int i = 0; sk_config_key_name(i); i++) {
        if (strcmp(sk_config_key_name(i), key) != 0)
            continue;
        if (sk_config_format_value(broker, key, buf, len) < 0)
            return false;
        return strcmp(buf, sk_config_key_default(i)) != 0;
    }
    return false;
}

const char *sk_topic_config_value(const sk_topic_configs *c, const sk_config *broker, sk_topic_config_id id,
                                  char *scratch, size_t scratch_len, sk_config_source *source)
{
    const sk_topic_config_def *d = &rows[id].def;
    sk_config_source src = SK_CONFIG_SOURCE_DEFAULT_CONFIG;
    const char *v = d->default_value;
    if (c && c->value[id]) {
        src = SK_CONFIG_SOURCE_DYNAMIC_TOPIC_CONFIG;
        v = c->value[id];
    } else if (d->broker_key && broker && sk_config_key_is_set(broker, d->broker_key, scratch, scratch_len)) {
        src = SK_CONFIG_SOURCE_STATIC_BROKER_CONFIG;
        v = scratch;
    }
    if (source)
        *source = src;
    return v;
}

int sk_topic_config_synonyms(const sk_topic_configs *c, const sk_config *broker, sk_topic_config_id id, char *scratch,
                             size_t scratch_len, sk_config_synonym out[SK_CONFIG_SYNONYMS_MAX])
{
    const sk_topic_config_def *d = &rows[id].def;
    int n = 0;
    if (c && c->value[id])
        out[n++] = (sk_config_synonym){d->name, c->value[id], SK_CONFIG_SOURCE_DYNAMIC_TOPIC_CONFIG};
    bool broker_set = d->broker_key && broker && sk_config_key_is_set(broker, d->broker_key, scratch, scratch_len);
    if (broker_set)
        out[n++] = (sk_config_synonym){d->broker_key, scratch, SK_CONFIG_SOURCE_STATIC_BROKER_CONFIG};
    /* A fallback key (log.retention.hours for log.retention.ms, whose own
     * default is null) is listed only beside a broker value, as Kafka 4.4
     * lists it. */
    static const char *const fallbacks[] = {"log.retention.hours", "log.roll.hours", "log.roll.jitter.hours",
                                            "log.flush.scheduler.interval.ms"};
    bool fallback = false;
    for (size_t i = 0; d->synonym && i < sizeof fallbacks / sizeof fallbacks[0]; i++)
        fallback = fallback || !strcmp(d->synonym, fallbacks[i]);
    if (d->synonym && (!fallback || broker_set))
        out[n++] = (sk_config_synonym){d->synonym, d->synonym_value, SK_CONFIG_SOURCE_DEFAULT_CONFIG};
    return n;
}

static int64_t effective_long(const sk_topic_configs *c, const sk_config *broker, sk_topic_config_id id)
{
    char scratch[64];
    return strtoll(sk_topic_config_value(c, broker, id, scratch, sizeof scratch, NULL), NULL, 10);
}

int16_t sk_topic_configs_check(const sk_topic_configs *c, const sk_config *broker, char *msg, size_t msg_len)
{
    int64_t min_lag = effective_long(c, broker, SK_TC_MIN_COMPACTION_LAG_MS);
    int64_t max_lag = effective_long(c, broker, SK_TC_MAX_COMPACTION_LAG_MS);
    if (min_lag > max_lag) {
        snprintf(msg, msg_len,
                 "conflict topic config setting min.compaction.lag.ms (%" PRId64 ") > max.compaction.lag.ms (%" PRId64
                 ")",
                 min_lag, max_lag);
        return SK_ERR_INVALID_CONFIG;
    }
    if (c && c->value[SK_TC_REMOTE_STORAGE_ENABLE] && !strcmp(c->value[SK_TC_REMOTE_STORAGE_ENABLE], "true")) {
        snprintf(msg, msg_len,
                 "Tiered Storage functionality is disabled in the broker. Topic cannot be "
                 "configured with remote log storage.");
        return SK_ERR_INVALID_CONFIG;
    }
    return SK_ERR_NONE;
}

/* ---- Derived settings --------------------------------------------------- */

static bool has_override(const sk_topic_configs *c, sk_topic_config_id id, int64_t *v)
{
    if (!c || !c->value[id])
        return false;
    *v = strtoll(c->value[id], NULL, 10);
    return true;
}

bool sk_topic_config_list_has(const char *list, const char *item)
{
    size_t n = strlen(item);
    for (const char *p = list; *p;) {
        size_t len = strcspn(p, ",");
        if (len == n && !memcmp(p, item, n))
            return true;
        p += len;
        if (*p == ',')
            p++;
    }
    return false;
}

void sk_topic_log_config(const sk_topic_configs *c, const sk_config *broker, sk_log_config *out)
{
    sk_log_config_from_broker(out, broker);
    int64_t v;
    if (has_override(c, SK_TC_SEGMENT_BYTES, &v))
        out->segment_bytes = v;
    if (has_override(c, SK_TC_SEGMENT_MS, &v))
        out->segment_ms = v;
    if (has_override(c, SK_TC_RETENTION_MS, &v))
        out->retention_ms = v;
    if (has_override(c, SK_TC_RETENTION_BYTES, &v))
        out->retention_bytes = v;
    if (has_override(c, SK_TC_FLUSH_MESSAGES, &v))
        out->flush_messages = v;
    if (has_override(c, SK_TC_FLUSH_MS, &v))
        out->flush_ms = v;
    if (has_override(c, SK_TC_INDEX_INTERVAL_BYTES, &v))
        out->index_interval_bytes = (int32_t)v;
    if (has_override(c, SK_TC_SEGMENT_INDEX_BYTES, &v))
        out->max_index_size_bytes = (int32_t)v;
    if (has_override(c, SK_TC_FILE_DELETE_DELAY_MS, &v))
        out->file_delete_delay_ms = v;
    if (has_override(c, SK_TC_MAX_MESSAGE_BYTES, &v))
        out->max_message_bytes = (int32_t)v;
    if (has_override(c, SK_TC_MESSAGE_TIMESTAMP_BEFORE_MAX_MS, &v))
        out->timestamp_before_max_ms = v;
    if (has_override(c, SK_TC_MESSAGE_TIMESTAMP_AFTER_MAX_MS, &v))
        out->timestamp_after_max_ms = v;
    if (c && c->value[SK_TC_MESSAGE_TIMESTAMP_TYPE])
        out->timestamp_type = sk_timestamp_type_from_name(c->value[SK_TC_MESSAGE_TIMESTAMP_TYPE]);
    if (has_override(c, SK_TC_DELETE_RETENTION_MS, &v))
        out->delete_retention_ms = v;
    if (has_override(c, SK_TC_MIN_COMPACTION_LAG_MS, &v))
        out->min_compaction_lag_ms = v;
    if (has_override(c, SK_TC_MAX_COMPACTION_LAG_MS, &v))
        out->max_compaction_lag_ms = v;
    if (c && c->value[SK_TC_MIN_CLEANABLE_DIRTY_RATIO])
        out->min_cleanable_ratio = strtod(c->value[SK_TC_MIN_CLEANABLE_DIRTY_RATIO], NULL);
    const char *policy = c && c->value[SK_TC_CLEANUP_POLICY] ? c->value[SK_TC_CLEANUP_POLICY] : "delete";
    out->compact = sk_topic_config_list_has(policy, "compact");
    if (!sk_topic_config_list_has(policy, "delete")) {
        out->retention_ms = -1;
        out->retention_bytes = -1;
    }
}

int sk_topic_config_compression(const sk_topic_configs *c, int32_t *level)
{
    const char *type = c && c->value[SK_TC_COMPRESSION_TYPE] ? c->value[SK_TC_COMPRESSION_TYPE] : "producer";
    int codec = sk_compression_parse(type);
    sk_topic_config_id lid = codec == SK_COMPRESSION_GZIP   ? SK_TC_COMPRESSION_GZIP_LEVEL
                             : codec == SK_COMPRESSION_LZ4  ? SK_TC_COMPRESSION_LZ4_LEVEL
                             : codec == SK_COMPRESSION_ZSTD ? SK_TC_COMPRESSION_ZSTD_LEVEL
                                                            : SK_TC_COUNT;
    *level = SK_COMPRESSION_LEVEL_DEFAULT;
    int64_t v;
    if (lid != SK_TC_COUNT && has_override(c, lid, &v) && !(lid == SK_TC_COMPRESSION_GZIP_LEVEL && v == -1))
        *level = (int32_t)v;
    return codec;
}
