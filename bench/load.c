/*
 * load: drives a Kafka-protocol broker with librdkafka and prints one JSON
 * line per run, so skiff and its peer (bench/mock_cluster) are measured by the
 * same client with the same settings (bench/compare.py runs both).
 *
 *   load produce -b HOST:PORT -t TOPIC [-s BYTES] [-d SECS | -n COUNT] [-p P]
 *        [-a 0|1|all] [--linger MS] [--batch BYTES] [-z none|lz4|zstd|gzip|snappy]
 *        [--idempotence] [-X key=value]...
 *   load consume -b .. -t TOPIC [-s BYTES] [-d SECS] [--fill-mb MB] [--group ID]
 *   load e2e     -b .. -t TOPIC [-s BYTES] [-d SECS] [--rate MSGS_PER_S] [-a ..]
 *   load txn     -b .. -t TOPIC [-s BYTES] [-d SECS]
 *   load create  -b .. -t TOPIC -p PARTITIONS
 *
 * produce: messages of -s bytes, sent round-robin to the first P partitions as
 *   fast as the client queue takes them for -d seconds (or -n messages); the
 *   clock runs from the first send to the last delivery report. Reports
 *   messages/s, MB/s (1 MB = 10^6 payload bytes) and the delivery latency
 *   (send call to delivery report) p50/p99/p99.9/max.
 * consume: fills the topic with --fill-mb of -s byte messages when it is empty
 *   (untimed), then reads it from the log start: by assignment (repeated
 *   passes over the whole topic for -d seconds), or once through consumer
 *   group --group (reports the time to the first message as join_ms).
 * e2e: one message every 1/rate seconds for -d seconds (after 0.5 s of
 *   warm-up), a consumer in the same process; each payload carries its send
 *   time, so produce-to-consume latency is p50/p99/p99.9/max.
 * txn: transactions of one message each, back to back, for -d seconds.
 * create: a topic with P partitions (CreateTopics when the broker serves it,
 *   else auto-creation through Metadata); exit status 3 when the count differs.
 *
 * Features a broker does not serve (ApiVersions says so, or it refuses with a
 * fatal error) give {"status":"unsupported","reason":..}, exit status 0.
 * Other failures give "status":"error", exit status 1.
 */
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "wire.h"

/* ---- options ---------------------------------------------------------- */

typedef struct options {
    const char *mode;      /* produce, consume, e2e, txn, create */
    const char *bootstrap; /* -b */
    const char *topic;     /* -t */
    const char *label;     /* --label, echoed in the result */
    const char *acks;      /* -a: "0", "1" or "all" */
    const char *codec;     /* -z */
    const char *group;     /* --group: consume through this consumer group */
    int size;              /* -s: payload bytes per message */
    double secs;           /* -d: run time, seconds (0 = until -n) */
    long count;            /* -n: messages (0 = until -d) */
    int partitions;        /* -p: partitions to use (0 = all) */
    int linger_ms;         /* --linger, -1 = client default */
    long batch_bytes;      /* --batch, -1 = client default */
    bool idempotence;      /* --idempotence */
    double rate;           /* --rate: e2e messages per second */
    long fill_mb;          /* --fill-mb: consume's data set, MB */
    const char *props[64]; /* -X key=value, applied to every client */
    int nprops;
} options;

static options opt = {
    .acks = "1",
    .codec = "none",
    .size = 100,
    .secs = 2,
    .linger_ms = -1,
    .batch_bytes = -1,
    .rate = 1000,
    .fill_mb = 256,
};

/* ---- results ---------------------------------------------------------- */

static char result[4096];
static size_t result_len;

__attribute__((format(printf, 1, 2))) static void result_add(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(result + result_len, sizeof result - result_len, fmt, ap);
    va_end(ap);
    if (n > 0 && result_len + (size_t)n < sizeof result)
        result_len += (size_t)n;
}

static void result_str(const char *key, const char *value)
{
    result_add(",\"%s\":\"", key);
    for (const char *p = value; *p; p++)
        result_add(*p == '"' || *p == '\\' ? "\\%c" : (unsigned char)*p < 32 ? " " : "%c", *p);
    result_add("\"");
}

static void result_num(const char *key, double value)
{
    if (isfinite(value))
        result_add(",\"%s\":%.6g", key, value);
}

/* Starts the JSON line with the run's settings. */
static void result_begin(void)
{
    result_len = 0;
    result_add("{\"test\":\"%s\"", opt.mode);
    if (opt.label)
        result_str("label", opt.label);
    if (opt.topic)
        result_str("topic", opt.topic);
    result_num("size", opt.size);
}

/* Prints the line and exits: status 0 for ok/unsupported, 1 for error. */
static void finish(const char *status, const char *reason)
{
    result_str("status", status);
    if (reason)
        result_str("reason", reason);
    printf("%s}\n", result);
    fflush(stdout);
    exit(strcmp(status, "error") == 0 ? 1 : 0);
}

__attribute__((format(printf, 1, 2))) static void fail(const char *fmt, ...)
{
    char reason[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    finish("error", reason);
}

/* ---- time and statistics ---------------------------------------------- */

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* A growing array of latencies in milliseconds. */
typedef struct samples {
    float *v;
    size_t n, cap;
} samples;

static void samples_add(samples *s, double ms)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 1 << 16;
        s->v = realloc(s->v, s->cap * sizeof *s->v);
        if (!s->v)
            fail("out of memory for latency samples");
    }
    s->v[s->n++] = (float)ms;
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* Nearest-rank percentile q (0..1] of sorted samples; NAN when empty. */
static double percentile(const samples *s, double q)
{
    if (s->n == 0)
        return NAN;
    size_t rank = (size_t)ceil(q * (double)s->n);
    return s->v[rank ? rank - 1 : 0];
}

/* Sorts the samples and adds "<prefix>_p50_ms" etc. to the result. */
static void result_latency(const char *prefix, samples *s, bool tail)
{
    char key[64];
    qsort(s->v, s->n, sizeof *s->v, cmp_float);
    snprintf(key, sizeof key, "%s_p50_ms", prefix);
    result_num(key, percentile(s, 0.50));
    snprintf(key, sizeof key, "%s_p99_ms", prefix);
    result_num(key, percentile(s, 0.99));
    if (tail) {
        snprintf(key, sizeof key, "%s_p999_ms", prefix);
        result_num(key, percentile(s, 0.999));
        snprintf(key, sizeof key, "%s_max_ms", prefix);
        result_num(key, s->n ? s->v[s->n - 1] : NAN);
    }
}

/* ---- payloads ---------------------------------------------------------- */

/* Text-like payloads (words from a small vocabulary) so compression has
 * something realistic to do; several distinct ones so batches differ. */
enum { PAYLOAD_POOL_BYTES = 64 << 20 };
static char **payloads;
static int npayloads;

static void payloads_init(int size)
{
    static const char *words[] = {
        "offset", "partition", "broker",   "leader",   "replica", "segment", "index", "batch",
        "record", "topic",     "consumer", "producer", "group",   "epoch",   "fetch", "commit",
        "skiff",  "kafka",     "latency",  "stream",   "event",   "order",   "user",  "value",
    };
    uint64_t x = 0x9e3779b97f4a7c15ull;
    npayloads = size > 0 && PAYLOAD_POOL_BYTES / size < 64 ? PAYLOAD_POOL_BYTES / size : 64;
    if (npayloads < 1)
        npayloads = 1;
    payloads = calloc((size_t)npayloads, sizeof *payloads);
    for (int i = 0; i < npayloads; i++) {
        char *p = malloc((size_t)size + 16);
        if (!payloads || !p)
            fail("out of memory for payloads");
        int len = 0;
        while (len < size) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            len += snprintf(p + len, (size_t)(size + 16 - len), "%s%s%" PRIu64 " ",
                            words[x % (sizeof words / sizeof words[0])], x % 3 ? "" : "=", (x >> 8) % 1000);
        }
        payloads[i] = p;
    }
}

/* ---- librdkafka helpers ------------------------------------------------ */

static atomic_bool fatal_seen;      /* a fatal error was raised */
static atomic_bool compression_off; /* the client dropped -z for this broker */
static char fatal_text[512];

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    (void)opaque;
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        char text[256];
        rd_kafka_resp_err_t orig = rd_kafka_fatal_error(rk, text, sizeof text);
        snprintf(fatal_text, sizeof fatal_text, "%s: %s", rd_kafka_err2name(orig), text);
        atomic_store(&fatal_seen, true);
    }
    fprintf(stderr, "load: %s: %s\n", rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
}

static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk;
    if (!strcmp(fac, "COMPRESSION"))
        atomic_store(&compression_off, true);
    if (level <= 4)
        fprintf(stderr, "load: librdkafka %s: %s\n", fac, buf);
}

static void conf_set(rd_kafka_conf_t *conf, const char *key, const char *value)
{
    char errstr[512];
    if (rd_kafka_conf_set(conf, key, value, errstr, sizeof errstr) != RD_KAFKA_CONF_OK)
        fail("config %s=%s: %s", key, value, errstr);
}

/* A configuration with the bootstrap, the callbacks and every -X. */
static rd_kafka_conf_t *conf_new(void)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    conf_set(conf, "bootstrap.servers", opt.bootstrap);
    conf_set(conf, "client.id", "skiff-bench");
    rd_kafka_conf_set_error_cb(conf, on_error);
    rd_kafka_conf_set_log_cb(conf, on_log);
    for (int i = 0; i < opt.nprops; i++) {
        char key[256];
        const char *eq = strchr(opt.props[i], '=');
        if (!eq)
            fail("-X %s: want key=value", opt.props[i]);
        snprintf(key, sizeof key, "%.*s", (int)(eq - opt.props[i]), opt.props[i]);
        conf_set(conf, key, eq + 1);
    }
    return conf;
}

static rd_kafka_t *client_new(rd_kafka_type_t type, rd_kafka_conf_t *conf)
{
    char errstr[512];
    rd_kafka_t *rk = rd_kafka_new(type, conf, errstr, sizeof errstr);
    if (!rk)
        fail("rd_kafka_new: %s", errstr);
    return rk;
}

/* Waits until the topic has partitions with leaders; returns their count. */
static int topic_partitions(rd_kafka_t *rk, const char *topic, int timeout_ms)
{
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    int64_t deadline = now_ns() + (int64_t)timeout_ms * 1000000;
    int count = 0;
    const char *why = "no answer";
    while (count == 0 && now_ns() < deadline) {
        const struct rd_kafka_metadata *md = NULL;
        rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, rkt, &md, 5000);
        if (!err && md->topic_cnt == 1 && !md->topics[0].err) {
            int leaders = 0;
            for (int i = 0; i < md->topics[0].partition_cnt; i++)
                leaders += md->topics[0].partitions[i].leader >= 0;
            if (leaders > 0 && leaders == md->topics[0].partition_cnt)
                count = leaders;
        } else {
            why = rd_kafka_err2str(err                  ? err
                                   : md->topic_cnt == 1 ? md->topics[0].err
                                                        : RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC);
        }
        if (md)
            rd_kafka_metadata_destroy(md);
        if (count == 0)
            usleep(50000);
    }
    rd_kafka_topic_destroy(rkt);
    if (count == 0)
        fail("topic %s has no partitions with leaders: %s", topic, why);
    return count;
}

/* Skips the run (status unsupported) unless the broker serves every key. */
static void require_apis(const int16_t *keys, int n, const char *feature)
{
    char host[256];
    int port = 0;
    bench_api_ranges ranges;
    if (bench_wire_parse_bootstrap(opt.bootstrap, host, sizeof host, &port) != 0)
        fail("bad bootstrap %s", opt.bootstrap);
    if (bench_wire_api_versions(host, port, 5000, &ranges) != 0)
        fail("ApiVersions to %s failed", opt.bootstrap);
    for (int i = 0; i < n; i++) {
        if (!bench_wire_serves(&ranges, &keys[i], 1)) {
            char reason[256];
            snprintf(reason, sizeof reason, "%s: broker does not serve API key %d", feature, keys[i]);
            finish("unsupported", reason);
        }
    }
}

/* Topic-level and producer settings shared by produce, fill and e2e. */
static rd_kafka_conf_t *producer_conf(const char *acks, int linger_ms)
{
    rd_kafka_conf_t *conf = conf_new();
    char text[32];
    conf_set(conf, "acks", acks);
    conf_set(conf, "compression.codec", opt.codec);
    if (linger_ms >= 0) {
        snprintf(text, sizeof text, "%d", linger_ms);
        conf_set(conf, "linger.ms", text);
    }
    if (opt.batch_bytes >= 0) {
        snprintf(text, sizeof text, "%ld", opt.batch_bytes);
        conf_set(conf, "batch.size", text);
    }
    conf_set(conf, "enable.idempotence", opt.idempotence ? "true" : "false");
    return conf;
}

/* ---- produce ----------------------------------------------------------- */

typedef struct produce_state {
    samples latency;    /* send call -> delivery report, ms */
    long delivered;     /* successful delivery reports */
    long failed;        /* failed delivery reports */
    int64_t last_dr_ns; /* time of the last delivery report */
    char first_error[256];
} produce_state;

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    produce_state *ps = opaque;
    int64_t now = now_ns();
    ps->last_dr_ns = now;
    if (m->err) {
        if (ps->failed++ == 0)
            snprintf(ps->first_error, sizeof ps->first_error, "%s", rd_kafka_err2str(m->err));
        return;
    }
    ps->delivered++;
    samples_add(&ps->latency, (double)(now - (int64_t)(intptr_t)m->_private) / 1e6);
}

/* Produces until `secs` pass or `count` messages are sent (0 = no limit);
 * returns the elapsed seconds from the first send to the last report. */
static double produce_run(rd_kafka_t *rk, const char *topic, int partitions, double secs, long count, produce_state *ps,
                          long *sent)
{
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    int64_t start = now_ns();
    int64_t stop = secs > 0 ? start + (int64_t)(secs * 1e9) : INT64_MAX;
    long i = 0;
    while ((count == 0 || i < count) && !atomic_load(&fatal_seen)) {
        if ((i & 255) == 0) {
            rd_kafka_poll(rk, 0);
            if (now_ns() >= stop)
                break;
        }
        int64_t t = now_ns();
        if (rd_kafka_produce(rkt, (int32_t)(i % partitions), 0, payloads[i % npayloads], (size_t)opt.size, NULL, 0,
                             (void *)(intptr_t)t) == -1) {
            rd_kafka_resp_err_t err = rd_kafka_last_error();
            if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL)
                fail("produce: %s", rd_kafka_err2str(err));
            rd_kafka_poll(rk, 1);
            continue;
        }
        i++;
    }
    while (rd_kafka_outq_len(rk) > 0 && !atomic_load(&fatal_seen) && now_ns() - start < (int64_t)120e9)
        rd_kafka_poll(rk, 50);
    rd_kafka_topic_destroy(rkt);
    *sent = i;
    return (double)(ps->last_dr_ns - start) / 1e9;
}

static void fatal_to_result(void)
{
    if (strstr(fatal_text, "UNSUPPORTED") || strstr(fatal_text, "not supported"))
        finish("unsupported", fatal_text);
    fail("fatal: %s", fatal_text);
}

static void cmd_produce(void)
{
    if (opt.idempotence) {
        static const int16_t keys[] = {22}; /* InitProducerId */
        require_apis(keys, 1, "idempotence");
    }
    result_str("acks", opt.acks);
    result_str("compression", opt.codec);
    result_num("linger_ms", opt.linger_ms);
    result_num("batch_bytes", (double)opt.batch_bytes);
    result_add(",\"idempotence\":%s", opt.idempotence ? "true" : "false");

    produce_state ps = {0};
    rd_kafka_conf_t *conf = producer_conf(opt.acks, opt.linger_ms);
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_opaque(conf, &ps);
    rd_kafka_t *rk = client_new(RD_KAFKA_PRODUCER, conf);
    int have = topic_partitions(rk, opt.topic, 10000);
    int partitions = opt.partitions > 0 && opt.partitions < have ? opt.partitions : have;
    result_num("partitions", partitions);
    payloads_init(opt.size);

    long sent = 0;
    double secs = produce_run(rk, opt.topic, partitions, opt.secs, opt.count, &ps, &sent);
    if (atomic_load(&fatal_seen))
        fatal_to_result();
    rd_kafka_destroy(rk);
    result_num("msgs", (double)ps.delivered);
    result_num("secs", secs);
    result_num("msgs_per_s", (double)ps.delivered / secs);
    result_num("mb_per_s", (double)ps.delivered * opt.size / secs / 1e6);
    result_latency("lat", &ps.latency, true);
    if (strcmp(opt.codec, "none") && atomic_load(&compression_off))
        result_str("note", "client sent uncompressed: broker lacks the feature librdkafka requires");
    if (ps.failed || ps.delivered != sent)
        fail("%ld of %ld messages failed: %s", ps.failed, sent, ps.first_error);
    finish("ok", NULL);
}

/* ---- consume ----------------------------------------------------------- */

/* Low and high watermarks of every partition; returns the messages between. */
static long watermarks(rd_kafka_t *rk, const char *topic, int partitions, int64_t *low)
{
    long total = 0;
    for (int p = 0; p < partitions; p++) {
        int64_t lo = 0, hi = 0;
        rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(rk, topic, p, &lo, &hi, 10000);
        if (err)
            fail("watermarks of %s [%d]: %s", topic, p, rd_kafka_err2str(err));
        if (low)
            low[p] = lo;
        total += (long)(hi - lo);
    }
    return total;
}

/* Fills an empty topic with fill_mb of messages (acks 1, untimed). */
static void fill_topic(int partitions)
{
    produce_state ps = {0};
    rd_kafka_conf_t *conf = producer_conf("1", -1);
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_opaque(conf, &ps);
    rd_kafka_t *rk = client_new(RD_KAFKA_PRODUCER, conf);
    if (watermarks(rk, opt.topic, partitions, NULL) == 0) {
        long sent = 0;
        long count = (long)(opt.fill_mb * 1000000 / opt.size);
        produce_run(rk, opt.topic, partitions, 0, count, &ps, &sent);
        if (ps.failed || ps.delivered != count)
            fail("fill: %ld of %ld messages failed: %s", ps.failed, count, ps.first_error);
    }
    rd_kafka_destroy(rk);
    free(ps.latency.v);
}

static rd_kafka_t *consumer_new(const char *group)
{
    rd_kafka_conf_t *conf = conf_new();
    conf_set(conf, "group.id", group ? group : "skiff-bench-assign");
    conf_set(conf, "enable.auto.commit", "false");
    conf_set(conf, "enable.auto.offset.store", "false");
    conf_set(conf, "auto.offset.reset", "earliest");
    rd_kafka_t *rk = client_new(RD_KAFKA_CONSUMER, conf);
    rd_kafka_poll_set_consumer(rk);
    return rk;
}

/* Reads messages until `want` arrived or `stop_ns` passed; adds payload
 * bytes to *bytes; returns the messages read. first_ns gets the arrival time
 * of the first message when it is 0. */
static long consume_until(rd_kafka_t *rk, long want, int64_t stop_ns, double *bytes, int64_t *first_ns)
{
    rd_kafka_queue_t *q = rd_kafka_queue_get_consumer(rk);
    rd_kafka_message_t *msgs[1024];
    long got = 0;
    int64_t idle_since = now_ns();
    while (got < want && now_ns() < stop_ns) {
        /* The call waits for a full batch, so never ask for more than is left. */
        size_t ask = want - got < 1024 ? (size_t)(want - got) : 1024;
        ssize_t n = rd_kafka_consume_batch_queue(q, 100, msgs, ask);
        if (n <= 0) {
            if (now_ns() - idle_since > (int64_t)15e9)
                fail("no message for 15 s after %ld of %ld", got, want);
            continue;
        }
        idle_since = now_ns();
        if (*first_ns == 0)
            *first_ns = idle_since;
        for (ssize_t i = 0; i < n; i++) {
            if (msgs[i]->err) {
                if (msgs[i]->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                    fail("consume: %s", rd_kafka_message_errstr(msgs[i]));
            } else {
                got++;
                *bytes += (double)msgs[i]->len;
            }
            rd_kafka_message_destroy(msgs[i]);
        }
    }
    rd_kafka_queue_destroy(q);
    return got;
}

static void cmd_consume(void)
{
    if (opt.group) {
        static const int16_t keys[] = {8, 9, 10, 11, 12, 13, 14}; /* group coordinator APIs */
        require_apis(keys, 7, "consumer groups");
    }
    rd_kafka_t *meta = client_new(RD_KAFKA_PRODUCER, conf_new());
    int partitions = topic_partitions(meta, opt.topic, 10000);
    rd_kafka_destroy(meta);
    result_num("partitions", partitions);
    result_str("mode", opt.group ? "group" : "assign");
    payloads_init(opt.size);
    fill_topic(partitions);

    rd_kafka_t *rk = consumer_new(opt.group);
    int64_t *low = calloc((size_t)partitions, sizeof *low);
    long per_pass = watermarks(rk, opt.topic, partitions, low);
    result_num("topic_msgs", (double)per_pass);
    double bytes = 0;
    long got = 0;
    int64_t start = now_ns(), first = 0;
    if (opt.group) {
        rd_kafka_topic_partition_list_t *subs = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(subs, opt.topic, RD_KAFKA_PARTITION_UA);
        rd_kafka_resp_err_t err = rd_kafka_subscribe(rk, subs);
        rd_kafka_topic_partition_list_destroy(subs);
        if (err)
            fail("subscribe: %s", rd_kafka_err2str(err));
        got = consume_until(rk, per_pass, start + (int64_t)120e9, &bytes, &first);
        result_num("join_ms", (double)(first - start) / 1e6);
    } else {
        int64_t stop = start + (int64_t)(opt.secs * 1e9);
        int passes = 0;
        do {
            rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(partitions);
            for (int p = 0; p < partitions; p++)
                rd_kafka_topic_partition_list_add(parts, opt.topic, p)->offset = low[p];
            rd_kafka_assign(rk, parts);
            rd_kafka_topic_partition_list_destroy(parts);
            got += consume_until(rk, per_pass, stop, &bytes, &first);
            rd_kafka_assign(rk, NULL);
            passes++;
        } while (now_ns() < stop);
        result_num("passes", passes);
    }
    double secs = (double)(now_ns() - start) / 1e9;
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    free(low);
    result_num("msgs", (double)got);
    result_num("secs", secs);
    result_num("msgs_per_s", (double)got / secs);
    result_num("mb_per_s", bytes / secs / 1e6);
    finish("ok", NULL);
}

/* ---- end-to-end latency ------------------------------------------------ */

/* Each e2e payload starts with its send time (ns) and a warm-up flag. */
typedef struct e2e_head {
    int64_t sent_ns;
    int64_t warmup;
} e2e_head;

typedef struct e2e_state {
    rd_kafka_t *consumer;
    samples latency;      /* measured messages only, ms */
    atomic_long received; /* measured messages received */
    atomic_bool stop;     /* set by the producer side when done */
} e2e_state;

static void *e2e_consumer(void *arg)
{
    e2e_state *st = arg;
    while (!atomic_load(&st->stop)) {
        /* One message at a time: batch calls wait to fill the batch. */
        rd_kafka_message_t *m = rd_kafka_consumer_poll(st->consumer, 50);
        if (!m)
            continue;
        int64_t now = now_ns();
        e2e_head h;
        if (!m->err && m->len >= sizeof h) {
            memcpy(&h, m->payload, sizeof h);
            if (!h.warmup) {
                samples_add(&st->latency, (double)(now - h.sent_ns) / 1e6);
                atomic_fetch_add(&st->received, 1);
            }
        }
        rd_kafka_message_destroy(m);
    }
    return NULL;
}

static void cmd_e2e(void)
{
    if (opt.size < (int)sizeof(e2e_head))
        opt.size = (int)sizeof(e2e_head);
    int linger = opt.linger_ms >= 0 ? opt.linger_ms : 0;
    result_str("acks", opt.acks);
    result_num("rate", opt.rate);
    result_num("linger_ms", linger);
    produce_state ps = {0};
    rd_kafka_conf_t *conf = producer_conf(opt.acks, linger);
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_opaque(conf, &ps);
    rd_kafka_t *producer = client_new(RD_KAFKA_PRODUCER, conf);
    int have = topic_partitions(producer, opt.topic, 10000);
    int partitions = opt.partitions > 0 && opt.partitions < have ? opt.partitions : have;
    result_num("partitions", partitions);
    payloads_init(opt.size);

    e2e_state st = {.consumer = consumer_new(NULL)};
    int64_t *end = calloc((size_t)have, sizeof *end);
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(have);
    for (int p = 0; p < have; p++) {
        int64_t lo = 0;
        rd_kafka_query_watermark_offsets(st.consumer, opt.topic, p, &lo, &end[p], 10000);
        rd_kafka_topic_partition_list_add(parts, opt.topic, p)->offset = end[p];
    }
    rd_kafka_assign(st.consumer, parts);
    rd_kafka_topic_partition_list_destroy(parts);
    free(end);
    pthread_t thread;
    pthread_create(&thread, NULL, e2e_consumer, &st);

    rd_kafka_topic_t *rkt = rd_kafka_topic_new(producer, opt.topic, NULL);
    char *buf = malloc((size_t)opt.size);
    memcpy(buf, payloads[0], (size_t)opt.size);
    int64_t interval = (int64_t)(1e9 / opt.rate);
    int64_t start = now_ns(), measure_from = start + 500000000, stop = measure_from + (int64_t)(opt.secs * 1e9);
    long measured = 0;
    for (int64_t next = start; next < stop && !atomic_load(&fatal_seen); next += interval) {
        struct timespec ts = {(time_t)(next / 1000000000), (long)(next % 1000000000)};
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
        e2e_head h = {now_ns(), next < measure_from};
        memcpy(buf, &h, sizeof h);
        if (rd_kafka_produce(rkt, (int32_t)(measured % partitions), RD_KAFKA_MSG_F_COPY, buf, (size_t)opt.size, NULL, 0,
                             (void *)(intptr_t)h.sent_ns) == -1)
            fail("produce: %s", rd_kafka_err2str(rd_kafka_last_error()));
        measured += !h.warmup;
        rd_kafka_poll(producer, 0);
    }
    rd_kafka_flush(producer, 10000);
    int64_t wait_until = now_ns() + (int64_t)5e9;
    while (atomic_load(&st.received) < measured && now_ns() < wait_until)
        usleep(1000);
    atomic_store(&st.stop, true);
    pthread_join(thread, NULL);
    if (atomic_load(&fatal_seen))
        fatal_to_result();
    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(producer);
    rd_kafka_consumer_close(st.consumer);
    rd_kafka_destroy(st.consumer);
    result_num("msgs", (double)measured);
    result_num("lost", (double)(measured - atomic_load(&st.received)));
    result_latency("e2e", &st.latency, true);
    if (ps.failed)
        fail("%ld messages failed: %s", ps.failed, ps.first_error);
    finish("ok", NULL);
}

/* ---- transactions ------------------------------------------------------ */

static void txn_check(rd_kafka_error_t *error, const char *what)
{
    if (!error)
        return;
    char reason[512];
    snprintf(reason, sizeof reason, "%s: %s", what, rd_kafka_error_string(error));
    rd_kafka_resp_err_t code = rd_kafka_error_code(error);
    bool unsupported = code == RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE ||
                       code == RD_KAFKA_RESP_ERR_UNSUPPORTED_VERSION ||
                       code == RD_KAFKA_RESP_ERR_UNSUPPORTED_FOR_MESSAGE_FORMAT;
    rd_kafka_error_destroy(error);
    if (unsupported)
        finish("unsupported", reason);
    fail("%s", reason);
}

static void cmd_txn(void)
{
    static const int16_t keys[] = {10, 22, 24, 26}; /* FindCoordinator, InitProducerId, AddPartitionsToTxn, EndTxn */
    require_apis(keys, 4, "transactions");
    char txn_id[64];
    snprintf(txn_id, sizeof txn_id, "skiff-bench-%d-%" PRId64, (int)getpid(), now_ns());
    produce_state ps = {0};
    rd_kafka_conf_t *conf = producer_conf("all", opt.linger_ms >= 0 ? opt.linger_ms : 0);
    conf_set(conf, "enable.idempotence", "true");
    conf_set(conf, "transactional.id", txn_id);
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_opaque(conf, &ps);
    rd_kafka_t *rk = client_new(RD_KAFKA_PRODUCER, conf);
    int have = topic_partitions(rk, opt.topic, 10000);
    result_num("partitions", have);
    payloads_init(opt.size);
    txn_check(rd_kafka_init_transactions(rk, 10000), "init_transactions");

    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, opt.topic, NULL);
    samples commit = {0};
    long done = 0;
    int64_t start = now_ns(), stop = start + (int64_t)(opt.secs * 1e9);
    while (now_ns() < stop) {
        int64_t t = now_ns();
        txn_check(rd_kafka_begin_transaction(rk), "begin_transaction");
        if (rd_kafka_produce(rkt, (int32_t)(done % have), 0, payloads[done % npayloads], (size_t)opt.size, NULL, 0,
                             (void *)(intptr_t)t) == -1)
            fail("produce: %s", rd_kafka_err2str(rd_kafka_last_error()));
        txn_check(rd_kafka_commit_transaction(rk, 10000), "commit_transaction");
        samples_add(&commit, (double)(now_ns() - t) / 1e6);
        done++;
    }
    double secs = (double)(now_ns() - start) / 1e9;
    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(rk);
    result_num("txns", (double)done);
    result_num("secs", secs);
    result_num("txn_per_s", (double)done / secs);
    result_latency("txn", &commit, false);
    finish("ok", NULL);
}

/* ---- create ------------------------------------------------------------ */

static void cmd_create(void)
{
    char host[256];
    int port = 0;
    bench_api_ranges ranges;
    if (bench_wire_parse_bootstrap(opt.bootstrap, host, sizeof host, &port) != 0 ||
        bench_wire_api_versions(host, port, 5000, &ranges) != 0)
        fail("ApiVersions to %s failed", opt.bootstrap);
    rd_kafka_conf_t *conf = conf_new();
    conf_set(conf, "allow.auto.create.topics", "true");
    rd_kafka_t *rk = client_new(RD_KAFKA_PRODUCER, conf);
    const int16_t create_topics = 19;
    if (bench_wire_serves(&ranges, &create_topics, 1)) {
        char errstr[512];
        rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(opt.topic, opt.partitions, 1, errstr, sizeof errstr);
        if (!nt)
            fail("NewTopic: %s", errstr);
        rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
        rd_kafka_CreateTopics(rk, &nt, 1, NULL, q);
        rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 15000);
        const rd_kafka_CreateTopics_result_t *res = ev ? rd_kafka_event_CreateTopics_result(ev) : NULL;
        if (!res)
            fail("CreateTopics: %s", ev ? rd_kafka_event_error_string(ev) : "timed out");
        size_t n = 0;
        const rd_kafka_topic_result_t **tr = rd_kafka_CreateTopics_result_topics(res, &n);
        rd_kafka_resp_err_t err = n == 1 ? rd_kafka_topic_result_error(tr[0]) : rd_kafka_event_error(ev);
        if (err && err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
            fail("CreateTopics: %s", rd_kafka_err2str(err));
        rd_kafka_event_destroy(ev);
        rd_kafka_queue_destroy(q);
        rd_kafka_NewTopic_destroy(nt);
        result_str("method", "CreateTopics");
    } else {
        result_str("method", "auto-create");
    }
    int have = topic_partitions(rk, opt.topic, 15000);
    rd_kafka_destroy(rk);
    result_num("partitions", have);
    if (have != opt.partitions) {
        result_str("status", "mismatch");
        printf("%s}\n", result);
        exit(3);
    }
    finish("ok", NULL);
}

/* ---- main -------------------------------------------------------------- */

static void usage(void)
{
    fprintf(stderr,
            "usage: load produce|consume|e2e|txn|create -b HOST:PORT -t TOPIC [-s BYTES] [-d SECS] [-n COUNT]\n"
            "            [-p PARTITIONS] [-a 0|1|all] [--linger MS] [--batch BYTES] [-z CODEC]\n"
            "            [--idempotence] [--group ID] [--rate N] [--fill-mb MB] [--label TEXT] [-X key=value]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    if (argc < 2)
        usage();
    opt.mode = argv[1];
    bool acks_given = false;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--idempotence")) {
            opt.idempotence = true;
            continue;
        }
        if (!v)
            usage();
        i++;
        if (!strcmp(a, "-b"))
            opt.bootstrap = v;
        else if (!strcmp(a, "-t"))
            opt.topic = v;
        else if (!strcmp(a, "-s"))
            opt.size = atoi(v);
        else if (!strcmp(a, "-d"))
            opt.secs = atof(v);
        else if (!strcmp(a, "-n"))
            opt.count = atol(v);
        else if (!strcmp(a, "-p"))
            opt.partitions = atoi(v);
        else if (!strcmp(a, "-a"))
            opt.acks = v, acks_given = true;
        else if (!strcmp(a, "--linger"))
            opt.linger_ms = atoi(v);
        else if (!strcmp(a, "--batch"))
            opt.batch_bytes = atol(v);
        else if (!strcmp(a, "-z"))
            opt.codec = v;
        else if (!strcmp(a, "--group"))
            opt.group = v;
        else if (!strcmp(a, "--rate"))
            opt.rate = atof(v);
        else if (!strcmp(a, "--fill-mb"))
            opt.fill_mb = atol(v);
        else if (!strcmp(a, "--label"))
            opt.label = v;
        else if (!strcmp(a, "-X") && opt.nprops < 64)
            opt.props[opt.nprops++] = v;
        else
            usage();
    }
    if (opt.count > 0 && opt.secs == 2)
        opt.secs = 0;
    if (opt.idempotence && !acks_given)
        opt.acks = "all"; /* librdkafka requires it */
    if (!opt.bootstrap || !opt.topic || opt.size < 1 || opt.rate <= 0)
        usage();
    result_begin();
    if (!strcmp(opt.mode, "produce"))
        cmd_produce();
    else if (!strcmp(opt.mode, "consume"))
        cmd_consume();
    else if (!strcmp(opt.mode, "e2e"))
        cmd_e2e();
    else if (!strcmp(opt.mode, "txn"))
        cmd_txn();
    else if (!strcmp(opt.mode, "create") && opt.partitions > 0)
        cmd_create();
    else
        usage();
    return 0;
}
