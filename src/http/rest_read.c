/*
 * GET /v3/clusters/{cluster_id}/topics/{topic}/partitions/{partition}/records
 * (skiff's own; Confluent's v3 has no read): the records of one partition
 * from `offset` (default the log start offset), from the first record at or
 * after `timestamp` (ms; ListOffsets' rule), or the `newest` N before the
 * high watermark; at most `max_count` records (default 100, at most 10000)
 * and about `max_bytes` of record batches read (default 1 MiB, at most
 * 16 MiB; the first batch is always read whole). Reads stop at the high
 * watermark (read_uncommitted, as a default consumer); control batches are
 * skipped. Keys, values and header values are base64 ("BINARY").
 *
 * Reading copies batches from the page cache on the loop thread, bounded
 * by max_bytes, as one bounded Fetch would.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rest_int.h"
#include "skiff/compress.h"
#include "skiff/base64.h"
#include "skiff/errors.h"
#include "skiff/logstore.h"
#include "skiff/meta.h"
#include "skiff/record.h"

#define READ_MAX_BYTES (16 * 1024 * 1024)

static cJSON *bytes_json(const uint8_t *p, int32_t len)
{
    if (!p || len < 0)
        return cJSON_CreateNull();
    char *s = sk_base64_encode_alloc(p, (size_t)len);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "type", "BINARY");
    cJSON_AddStringToObject(o, "data", s ? s : "");
    free(s);
    return o;
}

static cJSON *record_json(const sk_batch *b, const sk_record *rec, int32_t partition)
{
    cJSON *o = cJSON_CreateObject();
    char when[40];
    int64_t ts = (b->attributes & SK_BATCH_TIMESTAMP_TYPE) ? b->max_timestamp : rec->timestamp;
    sk_rest_iso_time(ts, when, sizeof when);
    cJSON_AddNumberToObject(o, "partition_id", partition);
    cJSON_AddNumberToObject(o, "offset", (double)(b->base_offset + rec->offset_delta));
    cJSON_AddNumberToObject(o, "timestamp_ms", (double)ts);
    cJSON_AddStringToObject(o, "timestamp", when);
    cJSON_AddStringToObject(o, "timestamp_type",
                            (b->attributes & SK_BATCH_TIMESTAMP_TYPE) ? "LOG_APPEND_TIME" : "CREATE_TIME");
    cJSON_AddItemToObject(o, "key", bytes_json(rec->key, rec->key_len));
    cJSON_AddItemToObject(o, "value", bytes_json(rec->value, rec->value_len));
    cJSON *hs = cJSON_AddArrayToObject(o, "headers");
    sk_reader rd;
    sk_reader_init(&rd, rec->headers, rec->headers_len);
    for (int32_t i = 0; i < rec->header_count && !rd.err; i++) {
        int32_t klen = sk_read_varint(&rd);
        const uint8_t *k = klen >= 0 ? sk_read_raw(&rd, (size_t)klen) : NULL;
        int32_t vlen = sk_read_varint(&rd);
        const uint8_t *v = vlen >= 0 ? sk_read_raw(&rd, (size_t)vlen) : NULL;
        if (!k || rd.err)
            break;
        cJSON *h = cJSON_CreateObject();
        char *name = strndup((const char *)k, (size_t)klen);
        cJSON_AddStringToObject(h, "name", name ? name : "");
        free(name);
        char *val = v ? sk_base64_encode_alloc(v, (size_t)vlen) : NULL;
        if (val)
            cJSON_AddStringToObject(h, "value", val);
        else
            cJSON_AddNullToObject(h, "value");
        free(val);
        cJSON_AddItemToArray(hs, h);
    }
    return o;
}

/* Adds the records of the batches in buf[0, len) at or after `from`, up to
 * `left`; returns the offset after the last batch looked at. */
static int64_t add_batches(const uint8_t *buf, size_t len, int64_t from, int32_t partition, size_t cap, cJSON *arr,
                           int64_t *left, int64_t next)
{
    size_t pos = 0;
    sk_batch b;
    while (*left > 0 && pos + SK_BATCH_HEADER_SIZE <= len && sk_batch_header_parse(&b, buf + pos, len - pos) == 0 &&
           b.size >= SK_BATCH_HEADER_SIZE && pos + b.size <= len) {
        b.size = (size_t)b.batch_length + SK_BATCH_LOG_OVERHEAD;
        pos += b.size;
        if (b.attributes & SK_BATCH_CONTROL) {
            next = sk_batch_last_offset(&b) + 1;
            continue;
        }
        sk_batch_records br;
        if (sk_batch_records_open(&br, &b, cap) != SK_ERR_NONE)
            break;
        sk_record rec;
        int64_t last = b.base_offset - 1;
        while (*left > 0 && sk_record_next(&br.it, &rec) == 1) {
            last = b.base_offset + rec.offset_delta;
            if (last < from)
                continue;
            cJSON_AddItemToArray(arr, record_json(&br.batch, &rec, partition));
            (*left)--;
        }
        sk_batch_records_close(&br);
        next = *left > 0 ? sk_batch_last_offset(&b) + 1 : last + 1;
    }
    return next;
}

/* Query parameter `name` in [min, max] into *out (left alone when absent);
 * false after replying 400 in the REST API's error shape. */
static bool query_int(sk_http_req *r, const char *name, int64_t min, int64_t max, int64_t *out)
{
    char *v = sk_http_query(r, name);
    if (!v)
        return true;
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    bool ok = *v && !*end && errno == 0 && n >= min && n <= max;
    free(v);
    if (!ok)
        sk_rest_error(r, 400, 400, -1, "query parameter \"%s\" must be an integer from %lld to %lld", name,
                      (long long)min, (long long)max);
    else
        *out = n;
    return ok;
}

void sk_rest_read(sk_http_req *r)
{
    if (!sk_rest_cluster_ok(r))
        return;
    const char *name = r->params[1];
    sk_topic *t = sk_meta_topic(r->b->meta, name, strlen(name));
    char *end;
    long idx = strtol(r->params[2], &end, 10);
    sk_partition *p =
        t && !*end && idx >= 0 && idx < t->partitions ? sk_logstore_find(r->b->logs, name, (int32_t)idx) : NULL;
    if (!p) {
        sk_rest_error(r, 404, 40403, SK_ERR_UNKNOWN_TOPIC_OR_PARTITION,
                      "This server does not host this topic-partition: %s-%s", name, r->params[2]);
        return;
    }
    int64_t offset = -1, timestamp = -1, newest = -1, max_count = 100, max_bytes = 1024 * 1024;
    if (!query_int(r, "offset", 0, INT64_MAX, &offset) || !query_int(r, "timestamp", 0, INT64_MAX, &timestamp) ||
        !query_int(r, "newest", 1, 10000, &newest) || !query_int(r, "max_count", 1, 10000, &max_count) ||
        !query_int(r, "max_bytes", 1, READ_MAX_BYTES, &max_bytes))
        return;
    if ((offset >= 0) + (timestamp >= 0) + (newest >= 0) > 1) {
        sk_rest_error(r, 400, 400, -1, "give at most one of offset, timestamp and newest");
        return;
    }
    int16_t load_err = sk_partition_ensure_loaded(p);
    if (load_err != SK_ERR_NONE) {
        sk_rest_kafka_error(r, load_err, NULL);
        return;
    }
    int64_t lso = sk_partition_log_start_offset(p), hwm = sk_partition_high_watermark(p);
    if (timestamp >= 0) {
        int64_t found_ts;
        int16_t err = sk_partition_offset_for_timestamp(p, timestamp, &offset, &found_ts);
        if (err) {
            sk_rest_kafka_error(r, err, NULL);
            return;
        }
        if (offset < 0)
            offset = hwm;
    } else if (newest >= 0) {
        offset = hwm - newest > lso ? hwm - newest : lso;
        if (newest < max_count)
            max_count = newest;
    } else if (offset < 0) {
        offset = lso;
    }
    if (offset < lso || offset > hwm) {
        sk_rest_error(r, 416, 41601, SK_ERR_OFFSET_OUT_OF_RANGE, "offset %lld is outside [%lld, %lld]",
                      (long long)offset, (long long)lso, (long long)hwm);
        return;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "topic_name", name);
    cJSON_AddNumberToObject(o, "partition_id", (double)idx);
    cJSON_AddNumberToObject(o, "log_start_offset", (double)lso);
    cJSON_AddNumberToObject(o, "high_watermark", (double)hwm);
    cJSON *arr = cJSON_AddArrayToObject(o, "records");
    size_t cap = sk_decompress_cap(sk_partition_config(p)->max_message_bytes);
    int64_t next = offset, left = max_count, budget = max_bytes;
    while (left > 0 && budget > 0 && next < hwm) {
        sk_read_result res;
        int16_t err = sk_partition_read(p, next, (int32_t)budget, hwm, &res);
        if (err || !res.slice.file) {
            sk_log_slice_release(&res.slice);
            break;
        }
        uint8_t *buf = malloc((size_t)res.slice.length);
        if (!buf || sk_log_slice_copy(&res.slice, buf) < 0) {
            free(buf);
            sk_log_slice_release(&res.slice);
            break;
        }
        int64_t after = add_batches(buf, (size_t)res.slice.length, next, (int32_t)idx, cap, arr, &left, next);
        budget -= res.slice.length;
        free(buf);
        sk_log_slice_release(&res.slice);
        if (after <= next)
            break;
        next = after;
    }
    cJSON_AddNumberToObject(o, "next_offset", (double)next);
    sk_http_reply_json(r, 200, o);
}
