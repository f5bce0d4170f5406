/*
 * Request metrics: counters updated on the request path (a few array
 * increments and two clock reads per request) and read by GET /metrics.
 */
#include <time.h>

#include "control_int.h"
#include "kf_msgs.h"
#include "skiff/api.h"

const double sk_stats_bucket_ms[SK_STATS_BUCKETS - 1] = {1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000};

/* In ns, not sk_clock_mono_ms: the latency histogram's first bucket is 1 ms
 * and its sum counts sub-ms requests. */
static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void sk_stats_request(sk_request *req)
{
    sk_stats *s = &req->broker->control->stats;
    int16_t key = req->hdr.api_key, v = req->hdr.api_version;
    req->arrival_ns = mono_ns();
    s->request_bytes += req->frame_len + 4;
    if (key >= 0 && key < SK_STATS_APIS && v >= 0 && v < SK_STATS_VERSIONS)
        s->requests[key][v]++;
    if (key == KF_API_PRODUCE && req->body) {
        const kf_produce_request *p = req->body;
        for (int32_t t = 0; t < p->topic_data.n; t++)
            for (int32_t i = 0; i < p->topic_data.items[t].partition_data.n; i++) {
                int32_t len = p->topic_data.items[t].partition_data.items[i].records.len;
                s->produce_record_bytes += len > 0 ? (uint64_t)len : 0;
            }
    }
}

static void count_error(int16_t code, void *arg)
{
    uint64_t *errors = arg;
    if (code >= -1 && code < SK_STATS_ERRORS - 1)
        errors[code + 1]++;
}

void sk_stats_response(sk_request *req, const void *response, size_t bytes)
{
    sk_stats *s = &req->broker->control->stats;
    int16_t key = req->hdr.api_key;
    if (key < 0 || key >= SK_STATS_APIS || !req->arrival_ns)
        return;
    double ms = (double)(mono_ns() - req->arrival_ns) / 1e6;
    int b = 0;
    while (b < SK_STATS_BUCKETS - 1 && ms > sk_stats_bucket_ms[b])
        b++;
    s->latency[key][b]++;
    s->latency_sum_ms[key] += ms;
    s->answered[key]++;
    s->response_bytes += bytes;
    if (!response)
        return;
    kf_foreach_error(req->api->response, req->hdr.api_version, response, count_error, s->errors[key]);
    if (key == KF_API_FETCH) {
        const kf_fetch_response *f = response;
        for (int32_t t = 0; t < f->responses.n; t++)
            for (int32_t i = 0; i < f->responses.items[t].partitions.n; i++) {
                int32_t len = f->responses.items[t].partitions.items[i].records.len;
                s->fetch_record_bytes += len > 0 ? (uint64_t)len : 0;
            }
    }
}

const sk_stats *sk_control_stats(const sk_broker *b)
{
    return &b->control->stats;
}
