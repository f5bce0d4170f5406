/*
 * Produce v3-12: append each partition's record batch to its log.
 *
 * Behaviour, as Kafka 4.0 answers:
 * - v0-2 are advertised (librdkafka 2.0 enables compression only when
 *   Produce v0 is listed, KAFKA-18659) but a v0-2 request closes the
 *   connection: message formats v0/v1 are gone (KIP-896).
 * - acks other than -1, 0, 1: INVALID_REQUIRED_ACKS for every partition.
 * - Each partition's records must be exactly one magic-2 record batch
 *   (ProduceRequest.validateRecords): INVALID_RECORD otherwise; zstd needs
 *   v7+ (UNSUPPORTED_COMPRESSION_TYPE, as Kafka's KIP-110 rule); then the
 *   log validates it (CORRUPT_MESSAGE, INVALID_RECORD, MESSAGE_TOO_LARGE,
 *   INVALID_TIMESTAMP, ...).
 * - A transactional batch with a transactional id must belong to that
 *   transaction's partitions (partition verification of Kafka 3.6+,
 *   KIP-890): INVALID_TXN_STATE, INVALID_PRODUCER_EPOCH when fenced,
 *   NOT_ENOUGH_REPLICAS (retriable) while the transaction completes. Then
 *   the log checks the producer's epoch and sequence: a retried batch is
 *   answered with its first offsets (DUPLICATE_SEQUENCE_NUMBER handling),
 *   else OUT_OF_ORDER_SEQUENCE_NUMBER, INVALID_PRODUCER_EPOCH,
 *   INVALID_TXN_STATE.
 * - Unknown topics are created when auto.create.topics.enable allows it
 *   (skiff's dev default; Kafka itself creates topics only from Metadata);
 *   otherwise UNKNOWN_TOPIC_OR_PARTITION, as for a partition out of range.
 *   Clients may not write to internal topics: INVALID_TOPIC_EXCEPTION.
 * - acks=0: no response; but if any partition failed the connection is
 *   closed, so the client learns something went wrong (KafkaApis).
 * - An LZ4 batch whose frame has dependent blocks (or another descriptor
 *   Kafka's Lz4BlockInputStream refuses) is UNKNOWN_SERVER_ERROR.
 * - compression.type other than "producer" recompresses batches of another
 *   codec; compacted topics need a key on every record (INVALID_RECORD).
 * - acks=-1 with one replica means appended to the log, like acks=1. When
 *   the flush policy (flush.messages) asks for an fsync after an append, the
 *   answer waits for it (Kafka flushes inside the append).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "kf_msgs.h"
#include "skiff/api.h"
#include "skiff/cluster.h"
#include "skiff/compress.h"
#include "skiff/errors.h"
#include "skiff/trace.h"
#include "skiff/record.h"
#include "skiff/topics.h"
#include "skiff/txn.h"

/* KIP-467: reports the records the log named when it refused a partition's
 * batch record by record (record_errors, with Kafka's messages) and sets
 * error_message, as Kafka's Produce answers a RecordValidationException. */
static void report_record_errors(sk_request *req, const sk_topic *t, int32_t partition, const sk_log_config *lc,
                                 int64_t now, const sk_record_errors *errs, kf_produce_response_partition *out)
{
    int32_t n = errs->n;
    kf_produce_response_record_error *re = n > 0 ? sk_arena_alloc(&req->arena, (size_t)n * sizeof *re) : NULL;
    if (!re)
        return;
    bool timestamps = false;
    sk_writer first3;
    sk_writer_init(&first3, 256);
    for (int32_t i = 0; i < n; i++) {
        const sk_record_error *e = &errs->items[i];
        char msg[256];
        if (e->code == SK_ERR_INVALID_RECORD)
            snprintf(msg, sizeof msg, "Compacted topic cannot accept message without key in topic partition %s-%d.",
                     t->name, partition);
        else if (lc->timestamp_type == SK_TIMESTAMP_CREATE_TIME && e->timestamp != SK_NO_TIMESTAMP)
            snprintf(msg, sizeof msg,
                     "Timestamp %lld of message with offset %lld is out of range. The timestamp should be within "
                     "[%lld, %lld]",
                     (long long)e->timestamp, (long long)(errs->base_offset + e->index),
                     (long long)(now - lc->timestamp_before_max_ms), (long long)(now + lc->timestamp_after_max_ms));
        else
            snprintf(msg, sizeof msg,
                     "Invalid timestamp type in message with offset %lld. Producer should not set timestamp type "
                     "to LogAppendTime.",
                     (long long)(errs->base_offset + e->index));
        timestamps |= e->code == SK_ERR_INVALID_TIMESTAMP;
        re[i].batch_index = e->index;
        re[i].batch_index_error_message = kf_str_c(sk_arena_strndup(&req->arena, msg, strlen(msg)));
        if (i < 3) {
            char item[300];
            int k =
                snprintf(item, sizeof item, "%sRecordError(batchIndex=%d, message='%s')", i ? ", " : "", e->index, msg);
            sk_write_raw(&first3, item, (size_t)k < sizeof item ? (size_t)k : sizeof item - 1);
        }
    }
    char top[1200];
    if (timestamps)
        snprintf(top, sizeof top, "One or more records have been rejected due to invalid timestamp");
    else
        snprintf(top, sizeof top,
                 "One or more records have been rejected due to %d record errors in total, and only showing the "
                 "first three errors at most: [%.*s]",
                 n, first3.err ? 0 : (int)first3.len, first3.err ? "" : (const char *)first3.buf);
    sk_writer_free(&first3);
    out->record_errors.items = re;
    out->record_errors.n = n;
    out->error_message = kf_str_c(sk_arena_strndup(&req->arena, top, strlen(top)));
}

/* A produce request waiting for fsyncs its appends asked for. */
typedef struct produce_op {
    sk_request *req;                         /* the Produce request (owns the response) */
    kf_produce_response *resp;               /* sent when `waiting` reaches 0 */
    int32_t waiting;                         /* partitions whose fsync has not completed */
    int32_t nleaders;                        /* leaders named in current_leader fields (KIP-951) */
    int32_t leaders[SK_CLUSTER_MAX_BROKERS]; /* their node ids */
} produce_op;

/* One partition's wait for its fsync. */
typedef struct flush_wait {
    sk_flush_waiter waiter;             /* registered with the partition */
    produce_op *op;                     /* the request it holds back */
    kf_produce_response_partition *out; /* the partition's answer (an error if the fsync fails) */
} flush_wait;

static void on_flushed(sk_partition *p, bool durable, void *arg)
{
    (void)p;
    flush_wait *fw = arg;
    if (!durable) {
        fw->out->error_code = SK_ERR_KAFKA_STORAGE_ERROR;
        fw->out->base_offset = -1;
    }
    if (--fw->op->waiting == 0)
        sk_request_respond(fw->op->req, fw->op->resp);
}

/* When the flush policy made this append schedule an fsync, the answer waits
 * for it, as Kafka's answer follows its synchronous flush. */
static void await_flush(produce_op *op, sk_partition *p, int64_t last_offset, kf_produce_response_partition *out)
{
    flush_wait *fw = sk_arena_alloc(&op->req->arena, sizeof *fw);
    if (!fw)
        return;
    fw->waiter.fn = on_flushed;
    fw->waiter.arg = fw;
    fw->waiter.offset = last_offset + 1;
    fw->op = op;
    fw->out = out;
    if (sk_partition_await_flush(p, &fw->waiter))
        op->waiting++;
}

/* KIP-951: a NOT_LEADER_OR_FOLLOWER answer names the current leader, whose
 * endpoint the response then carries (v10+). */
static void note_leader(produce_op *op, const sk_route *r, kf_produce_response_partition *out)
{
    out->current_leader.leader_id = r->leader;
    out->current_leader.leader_epoch = r->leader < 0 ? -1 : r->leader_epoch;
    if (r->leader < 0)
        return;
    for (int32_t i = 0; i < op->nleaders; i++)
        if (op->leaders[i] == r->leader)
            return;
    if (op->nleaders < SK_CLUSTER_MAX_BROKERS)
        op->leaders[op->nleaders++] = r->leader;
}

/* Fills node_endpoints with the leaders named in the answer. */
static int fill_endpoints(produce_op *op)
{
    sk_request *req = op->req;
    if (op->nleaders == 0)
        return 0;
    kf_produce_response_node_endpoint *e = sk_arena_alloc(&req->arena, (size_t)op->nleaders * sizeof *e);
    if (!e)
        return -1;
    for (int32_t i = 0; i < op->nleaders; i++) {
        e[i].node_id = op->leaders[i];
        sk_cluster_endpoint(req, op->leaders[i], &e[i].host, &e[i].port);
        e[i].rack = kf_str_c(sk_cluster_rack(req->broker, op->leaders[i]));
    }
    op->resp->node_endpoints.items = e;
    op->resp->node_endpoints.n = op->nleaders;
    return 0;
}

/* Appends one partition's records; returns the error code for its answer. */
static int16_t produce_partition(produce_op *op, const sk_topic *t, const kf_produce_request_partition *in,
                                 kf_produce_response_partition *out)
{
    sk_request *req = op->req;
    sk_broker *b = req->broker;
    sk_partition *p = sk_topics_partition(b, t, in->index);
    if (!p)
        return SK_ERR_UNKNOWN_TOPIC_OR_PARTITION;
    sk_route r;
    int16_t lerr = sk_cluster_check_leader(req, t->name, t->partitions, in->index, -1, &r);
    if (lerr != SK_ERR_NONE) {
        note_leader(op, &r, out);
        return lerr;
    }
    sk_partition_set_leader_epoch(p, r.leader_epoch);
    sk_batch first;
    if (!in->records.p || in->records.len <= 0 ||
        sk_batch_header_parse(&first, in->records.p, (size_t)in->records.len) < 0)
        return SK_ERR_CORRUPT_MESSAGE;
    if (first.magic != SK_BATCH_MAGIC_V2 || first.size < (size_t)in->records.len)
        return SK_ERR_INVALID_RECORD;
    if (first.size > (size_t)in->records.len)
        return SK_ERR_CORRUPT_MESSAGE; /* the batch runs past the records (as sk_batch_validate) */
    if ((first.attributes & SK_BATCH_COMPRESSION_MASK) == SK_COMPRESSION_ZSTD &&
        req->hdr.api_version < SK_ZSTD_MIN_PRODUCE_VERSION)
        return SK_ERR_UNSUPPORTED_COMPRESSION_TYPE;
    if (first.attributes & SK_BATCH_TRANSACTIONAL) {
        const kf_produce_request *body = req->body;
        int16_t err = sk_txn_check_produce(b->txns, body->transactional_id.p, first.producer_id, first.producer_epoch,
                                           t->name, in->index);
        if (err != SK_ERR_NONE)
            return err;
    }
    /* The frame is owned by the request: the log rewrites the batch header in place. */
    sk_append_info info;
    sk_record_errors errs = {0};
    int64_t now = sk_logstore_now(b->logs);
    int32_t level;
    int codec = sk_topic_compression(t, &level);
    int16_t err = sk_partition_append_client(p, codec, level, (uint8_t *)in->records.p, (size_t)in->records.len, now,
                                             &info, &errs);
    /* A successful append and LogValidator's refusals (Kafka's
     * RecordValidationException) carry the log start offset; every other
     * error answers -1 (LogAppendInfo.UNKNOWN_LOG_APPEND_INFO). */
    if (err == SK_ERR_NONE || err == SK_ERR_INVALID_RECORD || err == SK_ERR_INVALID_TIMESTAMP)
        out->log_start_offset = sk_partition_log_start_offset(p);
    report_record_errors(req, t, in->index, sk_partition_config(p), now, &errs, out);
    sk_record_errors_free(&errs);
    if (err != SK_ERR_NONE)
        return err;
    out->base_offset = info.base_offset;
    out->log_append_time_ms = info.log_append_time;
    if (((const kf_produce_request *)req->body)->acks != 0)
        await_flush(op, p, info.last_offset, out);
    return SK_ERR_NONE;
}

void sk_api_produce(sk_request *req)
{
    const kf_produce_request *body = req->body;
    int16_t version = req->hdr.api_version;
    if (version < 3) {
        sk_request_close(req, "Produce v0-2 (message formats v0 and v1) is not supported, as in Kafka 4");
        return;
    }
    kf_produce_response *resp = sk_request_response(req);
    produce_op *op = sk_arena_alloc(&req->arena, sizeof *op);
    if (!resp || !op) {
        sk_request_close(req, "out of memory");
        return;
    }
    op->req = req;
    op->resp = resp;
    int16_t acks = body->acks;
    bool acks_valid = acks == -1 || acks == 0 || acks == 1;
    bool any_error = false;

    kf_produce_response_topic *topics = sk_arena_alloc(&req->arena, (size_t)body->topic_data.n * sizeof *topics);
    if (!topics) {
        sk_request_close(req, "out of memory");
        return;
    }
    for (int32_t i = 0; i < body->topic_data.n; i++) {
        const kf_produce_request_topic *td = &body->topic_data.items[i];
        kf_produce_response_topic *rt = &topics[i];
        rt->name = td->name;
        int32_t np = td->partition_data.n > 0 ? td->partition_data.n : 0;
        kf_produce_response_partition *parts = sk_arena_alloc(&req->arena, (size_t)np * sizeof *parts);
        if (!parts) {
            sk_request_close(req, "out of memory");
            return;
        }
        rt->partition_responses.items = parts;
        rt->partition_responses.n = np;

        sk_topic *t = NULL;
        int16_t terr = SK_ERR_INVALID_REQUIRED_ACKS;
        if (acks_valid && td->name.p && sk_topic_is_internal(td->name.p))
            terr = SK_ERR_INVALID_TOPIC_EXCEPTION;
        else if (acks_valid && td->name.p)
            terr = sk_topics_find_or_create(req->broker, td->name.p, (size_t)td->name.len, true, &t);
        else if (acks_valid)
            terr = SK_ERR_INVALID_TOPIC_EXCEPTION;
        for (int32_t j = 0; j < np; j++) {
            kf_produce_response_partition *out = &parts[j];
            out->index = td->partition_data.items[j].index;
            out->base_offset = -1;
            out->log_append_time_ms = -1;
            out->log_start_offset = -1;
            out->current_leader.leader_id = -1;
            out->current_leader.leader_epoch = -1;
            out->error_code = terr == SK_ERR_NONE ? produce_partition(op, t, &td->partition_data.items[j], out) : terr;
            if (out->error_code != SK_ERR_NONE) {
                any_error = true;
                sk_debug("api", "conn %llu: produce to %s-%d failed: %s", (unsigned long long)req->conn_id,
                         td->name.p ? td->name.p : "(null)", out->index, sk_err_name(out->error_code));
            }
        }
    }
    resp->responses.items = topics;
    resp->responses.n = body->topic_data.n > 0 ? body->topic_data.n : 0;
    if (fill_endpoints(op) < 0) {
        sk_request_close(req, "out of memory");
        return;
    }

    if (acks == 0) {
        if (any_error)
            sk_request_close(req, "acks=0 produce failed");
        else
            sk_request_no_response(req);
        return;
    }
    if (op->waiting == 0)
        sk_request_respond(req, resp);
}
