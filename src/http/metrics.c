/*
 * GET /metrics: the Prometheus text exposition format (version 0.0.4).
 * Names follow Kafka's JMX MBeans flattened the way the Prometheus JMX
 * exporter does (kafka.network:type=RequestMetrics,name=RequestsPerSec ->
 * kafka_network_requestmetrics_requests_total); lag uses kafka_exporter's
 * kafka_consumergroup_lag; skiff_* where Kafka has no MBean.
 */
#include <event2/buffer.h>
#include <event2/http.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "http_int.h"
#include "kf_msgs.h"
#include "skiff/control.h"
#include "skiff/errors.h"
#include "skiff/group.h"
#include "skiff/logstore.h"
#include "skiff/meta.h"
#include "skiff/net.h"
#include "skiff/txn.h"

static void out(struct evbuffer *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out(struct evbuffer *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    evbuffer_add_vprintf(b, fmt, ap);
    va_end(ap);
}

static void family(struct evbuffer *b, const char *name, const char *type, const char *help)
{
    out(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* `s` as a label value: backslash, double quote and newline escaped. */
static void label(struct evbuffer *b, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\' || *s == '"')
            out(b, "\\%c", *s);
        else if (*s == '\n')
            out(b, "\\n");
        else
            evbuffer_add(b, s, 1);
    }
}

static void request_metrics(struct evbuffer *b, const sk_stats *s)
{
    family(b, "kafka_network_requestmetrics_requests_total", "counter", "Requests read, by API and version.");
    for (int k = 0; k < SK_STATS_APIS; k++)
        for (int v = 0; v < SK_STATS_VERSIONS; v++)
            if (s->requests[k][v])
                out(b, "kafka_network_requestmetrics_requests_total{request=\"%s\",version=\"%d\"} %llu\n",
                    kf_api_find((int16_t)k)->name, v, (unsigned long long)s->requests[k][v]);
    family(b, "kafka_network_requestmetrics_errors_total", "counter",
           "Non-zero error codes in responses, by API and error.");
    for (int k = 0; k < SK_STATS_APIS; k++)
        for (int e = 0; e < SK_STATS_ERRORS; e++)
            if (s->errors[k][e])
                out(b, "kafka_network_requestmetrics_errors_total{request=\"%s\",error=\"%s\"} %llu\n",
                    kf_api_find((int16_t)k)->name, sk_err_name((int16_t)(e - 1)), (unsigned long long)s->errors[k][e]);
    family(b, "kafka_network_requestmetrics_totaltimems", "histogram",
           "Time from reading a request to queueing its response, ms, by API.");
    for (int k = 0; k < SK_STATS_APIS; k++) {
        if (!s->answered[k])
            continue;
        const char *name = kf_api_find((int16_t)k)->name;
        uint64_t cum = 0;
        for (int i = 0; i < SK_STATS_BUCKETS; i++) {
            cum += s->latency[k][i];
            if (i < SK_STATS_BUCKETS - 1)
                out(b, "kafka_network_requestmetrics_totaltimems_bucket{request=\"%s\",le=\"%g\"} %llu\n", name,
                    sk_stats_bucket_ms[i], (unsigned long long)cum);
            else
                out(b, "kafka_network_requestmetrics_totaltimems_bucket{request=\"%s\",le=\"+Inf\"} %llu\n", name,
                    (unsigned long long)cum);
        }
        out(b, "kafka_network_requestmetrics_totaltimems_sum{request=\"%s\"} %.3f\n", name, s->latency_sum_ms[k]);
        out(b, "kafka_network_requestmetrics_totaltimems_count{request=\"%s\"} %llu\n", name,
            (unsigned long long)s->answered[k]);
    }
    family(b, "kafka_server_brokertopicmetrics_bytesin_total", "counter", "Record bytes received in Produce requests.");
    out(b, "kafka_server_brokertopicmetrics_bytesin_total %llu\n", (unsigned long long)s->produce_record_bytes);
    family(b, "kafka_server_brokertopicmetrics_bytesout_total", "counter", "Record bytes sent in Fetch responses.");
    out(b, "kafka_server_brokertopicmetrics_bytesout_total %llu\n", (unsigned long long)s->fetch_record_bytes);
    family(b, "skiff_network_request_bytes_total", "counter", "Request frames read, bytes (size prefix included).");
    out(b, "skiff_network_request_bytes_total %llu\n", (unsigned long long)s->request_bytes);
    family(b, "skiff_network_response_bytes_total", "counter", "Responses queued for sending, bytes.");
    out(b, "skiff_network_response_bytes_total %llu\n", (unsigned long long)s->response_bytes);
}

typedef struct log_ctx {
    struct evbuffer *b; /* the /metrics body being written (borrowed) */
    const char *metric; /* the gauge's family name, e.g. kafka_log_log_size */
    int which;          /* 0 size bytes, 1 segments, 2 log end offset, 3 log start offset */
} log_ctx;

static void partition_metric(sk_partition *p, void *arg)
{
    log_ctx *x = arg;
    if (sk_partition_ensure_loaded(p) != SK_ERR_NONE)
        return; /* an offline log has no gauges, as in Kafka */
    int64_t v = x->which == 0   ? sk_partition_size_bytes(p)
                : x->which == 1 ? (int64_t)sk_partition_segment_count(p)
                : x->which == 2 ? sk_partition_log_end_offset(p)
                                : sk_partition_log_start_offset(p);
    out(x->b, "%s{topic=\"", x->metric);
    label(x->b, sk_partition_topic(p));
    out(x->b, "\",partition=\"%d\"} %lld\n", sk_partition_index(p), (long long)v);
}

static void count_partitions(sk_topic *t, void *arg)
{
    *(int64_t *)arg += t->partitions;
}

static void log_metrics(struct evbuffer *b, sk_broker *br)
{
    static const char *const names[][2] = {
        {"kafka_log_log_size", "Bytes of the partition's segments."},
        {"kafka_log_log_numlogsegments", "Segments of the partition."},
        {"kafka_log_log_logendoffset", "Log end offset of the partition."},
        {"kafka_log_log_logstartoffset", "Log start offset of the partition."},
    };
    for (int i = 0; i < 4; i++) {
        family(b, names[i][0], "gauge", names[i][1]);
        log_ctx x = {b, names[i][0], i};
        sk_logstore_foreach(br->logs, partition_metric, &x);
    }
    int64_t partitions = 0;
    sk_meta_foreach(br->meta, count_partitions, &partitions);
    family(b, "kafka_controller_kafkacontroller_globaltopiccount", "gauge", "Topics.");
    out(b, "kafka_controller_kafkacontroller_globaltopiccount %d\n", sk_meta_topic_count(br->meta));
    family(b, "kafka_controller_kafkacontroller_globalpartitioncount", "gauge", "Partitions of all topics.");
    out(b, "kafka_controller_kafkacontroller_globalpartitioncount %lld\n", (long long)partitions);
    static const double bounds[SK_FSYNC_BUCKETS - 1] = SK_FSYNC_BUCKET_MS;
    const sk_fsync_stats *fs = sk_logstore_fsync_stats(br->logs);
    family(b, "kafka_log_logflushstats_logflushrateandtimems", "histogram", "Partition fsync latency, ms.");
    uint64_t cum = 0;
    for (int i = 0; i < SK_FSYNC_BUCKETS; i++) {
        cum += fs->buckets[i];
        if (i < SK_FSYNC_BUCKETS - 1)
            out(b, "kafka_log_logflushstats_logflushrateandtimems_bucket{le=\"%g\"} %llu\n", bounds[i],
                (unsigned long long)cum);
        else
            out(b, "kafka_log_logflushstats_logflushrateandtimems_bucket{le=\"+Inf\"} %llu\n", (unsigned long long)cum);
    }
    out(b, "kafka_log_logflushstats_logflushrateandtimems_sum %.3f\n", fs->sum_ms);
    out(b, "kafka_log_logflushstats_logflushrateandtimems_count %llu\n", (unsigned long long)fs->count);
    sk_cleaner_stats cs;
    sk_logstore_cleaner_stats(br->logs, &cs);
    static const char *const cleaner[][2] = {
        {"skiff_log_cleaner_passes_total", "Log cleaner passes completed."},
        {"skiff_log_cleaner_bytes_read_total", "Bytes the log cleaner read."},
        {"skiff_log_cleaner_bytes_written_total", "Bytes of the segments the log cleaner wrote."},
        {"skiff_log_cleaner_records_removed_total", "Records the log cleaner removed."},
    };
    const int64_t totals[] = {cs.passes, cs.bytes_read, cs.bytes_written, cs.records_removed};
    for (int i = 0; i < 4; i++) {
        family(b, cleaner[i][0], "counter", cleaner[i][1]);
        out(b, "%s %lld\n", cleaner[i][0], (long long)totals[i]);
    }
    family(b, "kafka_log_logcleaner_max_clean_time_secs", "gauge", "Duration of the last log cleaner pass, s.");
    out(b, "kafka_log_logcleaner_max_clean_time_secs %.3f\n", cs.last_pass_ms < 0 ? 0.0 : cs.last_pass_ms / 1e3);
    family(b, "kafka_log_logcleanermanager_max_dirty_percent", "gauge",
           "Dirty ratio of the log the last pass cleaned, percent.");
    out(b, "kafka_log_logcleanermanager_max_dirty_percent %.1f\n", cs.last_dirty_ratio * 100);
    family(b, "kafka_server_socketservermetrics_connection_count", "gauge", "Open Kafka client connections.");
    out(b, "kafka_server_socketservermetrics_connection_count %zu\n", sk_net_connection_count(br));
}

/* Committed offset lag of every partition of group `g` with an offset. */
static void group_lag(struct evbuffer *b, sk_broker *br, const char *group_id, sk_arena *arena)
{
    kf_offset_fetch_response_group og;
    kf_init(&kf_offset_fetch_response_group_desc, &og);
    if (sk_group_fetch_offsets(br->groups, kf_str_c(group_id), NULL, -1, false, &og, arena) < 0)
        return;
    for (int32_t t = 0; t < og.topics.n; t++) {
        const kf_offset_fetch_response_group_topic *tp = &og.topics.items[t];
        for (int32_t i = 0; i < tp->partitions.n; i++) {
            const kf_offset_fetch_response_group_partition *pp = &tp->partitions.items[i];
            sk_partition *p = tp->name.p ? sk_logstore_find(br->logs, tp->name.p, pp->partition_index) : NULL;
            if (!p || pp->committed_offset < 0 || sk_partition_ensure_loaded(p) != SK_ERR_NONE)
                continue;
            int64_t lag = sk_partition_high_watermark(p) - pp->committed_offset;
            out(b, "kafka_consumergroup_lag{consumergroup=\"");
            label(b, group_id);
            out(b, "\",topic=\"");
            label(b, tp->name.p);
            out(b, "\",partition=\"%d\"} %lld\n", pp->partition_index, (long long)(lag > 0 ? lag : 0));
        }
    }
}

static void group_metrics(struct evbuffer *b, sk_broker *br)
{
    sk_arena arena;
    sk_arena_init(&arena);
    kf_list_groups_response_group *groups = NULL;
    int32_t n = sk_groups_list(br->groups, NULL, 0, NULL, 0, &groups, &arena);
    family(b, "kafka_coordinator_group_groupmetadatamanager_numgroups", "gauge", "Consumer groups.");
    out(b, "kafka_coordinator_group_groupmetadatamanager_numgroups %d\n", n < 0 ? 0 : n);
    static const char *const states[] = {"Stable", "PreparingRebalance", "CompletingRebalance", "Empty", "Dead"};
    for (size_t s = 0; s < sizeof states / sizeof states[0]; s++) {
        char name[128];
        snprintf(name, sizeof name, "kafka_coordinator_group_groupmetadatamanager_numgroups%s", states[s]);
        for (char *c = name; *c; c++)
            *c = (char)(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
        int count = 0;
        for (int32_t i = 0; i < n; i++)
            count += kf_str_eq(groups[i].group_state, states[s]);
        family(b, name, "gauge", "Consumer groups in this state.");
        out(b, "%s %d\n", name, count);
    }
    family(b, "kafka_consumergroup_lag", "gauge", "High watermark minus the group's committed offset.");
    for (int32_t i = 0; i < n; i++)
        if (groups[i].group_id.p)
            group_lag(b, br, groups[i].group_id.p, &arena);
    sk_arena_free(&arena);
    sk_arena_init(&arena);
    sk_txn_info *txns = NULL;
    static const sk_txn_state open_states[] = {SK_TXN_ONGOING, SK_TXN_PREPARE_COMMIT, SK_TXN_PREPARE_ABORT};
    int32_t open = sk_txns_list(br->txns, open_states, 3, NULL, 0, -1, &txns, &arena);
    family(b, "skiff_transactions_open", "gauge", "Transactions ongoing or being completed.");
    out(b, "skiff_transactions_open %d\n", open < 0 ? 0 : open);
    sk_arena_free(&arena);
}

static void metrics(sk_http_req *r)
{
    struct evbuffer *b = evbuffer_new();
    if (!b) {
        sk_http_reply_error(r, 500, "internal", "out of memory");
        return;
    }
    request_metrics(b, sk_control_stats(r->b));
    log_metrics(b, r->b);
    group_metrics(b, r->b);
    size_t len = evbuffer_get_length(b);
    const char *text = (const char *)evbuffer_pullup(b, -1);
    sk_http_reply_text(r, 200, "text/plain; version=0.0.4; charset=utf-8", text ? text : "", text ? len : 0);
    evbuffer_free(b);
}

const sk_http_route sk_http_routes_metrics[] = {
    {EVHTTP_REQ_GET, "/metrics", metrics, false},
    {0, NULL, NULL, false},
};
