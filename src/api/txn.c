/*
 * Producer and transaction APIs: InitProducerId v0-5, AddPartitionsToTxn
 * v0-4, AddOffsetsToTxn v0-3, EndTxn v0-4 and TxnOffsetCommit v0-3, thin
 * handlers over the transaction coordinator (src/coord/txn.c, skiff/txn.h),
 * which owns every rule, and the group coordinator for the offsets.
 *
 * Behaviour, as Kafka 4.0's KafkaApis answers:
 * - InitProducerId with a producer id but no epoch (or the reverse) is
 *   INVALID_REQUEST. Without a transactional id it gives a fresh producer
 *   id at epoch 0 (idempotent producers; librdkafka and the Java client
 *   bump the epoch of an idempotent producer themselves).
 * - PRODUCER_FENCED is answered as INVALID_PRODUCER_EPOCH to the versions
 *   before it existed (InitProducerId < 4, AddPartitionsToTxn,
 *   AddOffsetsToTxn and EndTxn < 2).
 * - AddPartitionsToTxn v0-3: a topic the principal may not WRITE, or an
 *   internal topic, is TOPIC_AUTHORIZATION_FAILED; a topic or partition that
 *   does not exist UNKNOWN_TOPIC_OR_PARTITION; with either, every other
 *   partition of the request is OPERATION_NOT_ATTEMPTED and nothing is added; otherwise every
 *   partition carries the coordinator's answer. v4 (broker to broker)
 *   answers per transaction, verify_only checks without adding
 *   (INVALID_TXN_STATE for a partition not in the transaction: v5's
 *   TRANSACTION_ABORTABLE is not served).
 * - AddOffsetsToTxn adds the group's __consumer_offsets partition.
 * - TxnOffsetCommit: the transaction must be Ongoing with the group's
 *   partition (AddOffsetsToTxn first: INVALID_TXN_STATE otherwise), the
 *   producer id current (INVALID_PRODUCER_ID_MAPPING) and the epoch current
 *   (INVALID_PRODUCER_EPOCH); unknown topics and partitions are
 *   UNKNOWN_TOPIC_OR_PARTITION. The group coordinator checks v3's member
 *   id, group instance id and generation against the group, writes the
 *   offsets to __consumer_offsets in the producer's transactional batch
 *   and keeps them pending until the transaction's marker commits or
 *   drops them; meanwhile OffsetFetch with require_stable answers
 *   UNSTABLE_OFFSET_COMMIT.
 */
#include <string.h>

#include "authz.h"
#include "kf_msgs.h"
#include "skiff/api.h"
#include "skiff/errors.h"
#include "skiff/group.h"
#include "skiff/trace.h"
#include "skiff/topics.h"
#include "skiff/txn.h"

#define OFFSETS_TOPIC "__consumer_offsets"

/* PRODUCER_FENCED for versions that predate it. */
static int16_t fenced_for(int16_t err, int16_t version, int16_t first_version)
{
    return err == SK_ERR_PRODUCER_FENCED && version < first_version ? SK_ERR_INVALID_PRODUCER_EPOCH : err;
}

static const char *str_or_null(kf_str s)
{
    return s.len >= 0 ? s.p : NULL;
}

/* ---- InitProducerId ---- */

void sk_api_init_producer_id(sk_request *req)
{
    const kf_init_producer_id_request *body = req->body;
    kf_init_producer_id_response *resp = sk_request_response(req);
    if (!resp) {
        sk_request_close(req, "out of memory");
        return;
    }
    int64_t id = -1;
    int16_t epoch = -1;
    int16_t err;
    if ((body->producer_id == -1) != (body->producer_epoch == -1))
        err = SK_ERR_INVALID_REQUEST;
    else
        err =
            sk_txn_init_producer_id(req->broker->txns, str_or_null(body->transactional_id),
                                    body->transaction_timeout_ms, body->producer_id, body->producer_epoch, &id, &epoch);
    resp->error_code = fenced_for(err, req->hdr.api_version, 4);
    resp->producer_id = err == SK_ERR_NONE ? id : -1;
    resp->producer_epoch = err == SK_ERR_NONE ? epoch : -1;
    sk_debug("api", "conn %llu: InitProducerId v%d '%s': %s, producer %lld epoch %d", (unsigned long long)req->conn_id,
             req->hdr.api_version, body->transactional_id.p ? body->transactional_id.p : "(null)",
             sk_err_name(resp->error_code), (long long)resp->producer_id, resp->producer_epoch);
    sk_request_respond(req, resp);
}

/* ---- AddPartitionsToTxn ---- */

/* True when the request's principal may add topic `name` to a transaction. */
static bool writable(sk_request *req, kf_str name)
{
    char buf[256];
    if (name.len < 0 || (size_t)name.len >= sizeof buf)
        return sk_authz(req, SK_OP_WRITE, SK_RES_TOPIC, name);
    memcpy(buf, name.p, (size_t)name.len);
    buf[name.len] = '\0';
    if (sk_topic_is_internal(buf))
        return false;
    if (sk_authz_c(req, SK_OP_WRITE, SK_RES_TOPIC, buf))
        return true;
    sk_info("authz", "conn %llu: AddPartitionsToTxn: %s may not WRITE TOPIC %s", (unsigned long long)req->conn_id,
            sk_authz_principal(req), buf);
    return false;
}

/* Fills `out` (mirroring `topics`) for one transaction: authorization (v0-3) and existence checks,
 * then the coordinator's answer for every partition. NULL transactional id
 * pointers are the coordinator's INVALID_REQUEST. Returns -1 when out of
 * memory. */
static int add_partitions(sk_request *req, const char *txn_id, int64_t producer_id, int16_t producer_epoch,
                          bool verify_only, const kf_add_partitions_to_txn_request_topic *topics, int32_t ntopics,
                          kf_add_partitions_to_txn_response_topic_result *out)
{
    sk_broker *b = req->broker;
    int32_t total = 0;
    for (int32_t i = 0; i < ntopics; i++)
        total += topics[i].partitions.n > 0 ? topics[i].partitions.n : 0;
    sk_txn_partition *parts = sk_arena_alloc(&req->arena, (size_t)total * sizeof *parts);
    int16_t *errs = sk_arena_alloc(&req->arena, (size_t)total * sizeof *errs);
    if (!parts || !errs)
        return -1;
    bool unknown = false;
    int32_t k = 0;
    for (int32_t i = 0; i < ntopics; i++) {
        const kf_add_partitions_to_txn_request_topic *t = &topics[i];
        int32_t np = t->partitions.n > 0 ? t->partitions.n : 0;
        sk_topic *mt = t->name.p ? sk_meta_topic(b->meta, t->name.p, (size_t)t->name.len) : NULL;
        out[i].name = t->name;
        out[i].results_by_partition.items =
            sk_arena_alloc(&req->arena, (size_t)np * sizeof *out[i].results_by_partition.items);
        out[i].results_by_partition.n = np;
        if (!out[i].results_by_partition.items)
            return -1;
        /* v0-3 come from clients: WRITE on the topic, never an internal one (Kafka's KafkaApis) */
        bool refused = req->hdr.api_version < 4 && !writable(req, t->name);
        for (int32_t j = 0; j < np; j++, k++) {
            int32_t part = t->partitions.items[j];
            parts[k] = (sk_txn_partition){t->name.p ? t->name.p : "", part};
            errs[k] = refused                                    ? SK_ERR_TOPIC_AUTHORIZATION_FAILED
                      : mt && part >= 0 && part < mt->partitions ? SK_ERR_NONE
                                                                 : SK_ERR_UNKNOWN_TOPIC_OR_PARTITION;
            unknown |= errs[k] != SK_ERR_NONE;
        }
    }
    int16_t err = SK_ERR_NONE;
    if (unknown) {
        for (int32_t i = 0; i < total; i++)
            if (errs[i] == SK_ERR_NONE)
                errs[i] = SK_ERR_OPERATION_NOT_ATTEMPTED;
    } else if (verify_only) {
        err = sk_txn_verify_partitions(b->txns, txn_id, producer_id, producer_epoch, parts, total, errs);
        for (int32_t i = 0; i < total; i++)
            if (err != SK_ERR_NONE || errs[i] == SK_ERR_TRANSACTION_ABORTABLE)
                errs[i] = err != SK_ERR_NONE ? err : SK_ERR_INVALID_TXN_STATE;
    } else {
        err = sk_txn_add_partitions(b->txns, txn_id, producer_id, producer_epoch, parts, total);
        err = fenced_for(err, req->hdr.api_version, 2);
        for (int32_t i = 0; i < total; i++)
            errs[i] = err;
    }
    k = 0;
    for (int32_t i = 0; i < ntopics; i++) {
        for (int32_t j = 0; j < out[i].results_by_partition.n; j++, k++) {
            out[i].results_by_partition.items[j].partition_index = topics[i].partitions.items[j];
            out[i].results_by_partition.items[j].partition_error_code = errs[k];
        }
    }
    sk_debug("api", "conn %llu: AddPartitionsToTxn '%s' (%d partitions): %s", (unsigned long long)req->conn_id,
             txn_id ? txn_id : "(null)", total, unknown ? "refused or unknown partitions" : sk_err_name(err));
    return 0;
}

void sk_api_add_partitions_to_txn(sk_request *req)
{
    const kf_add_partitions_to_txn_request *body = req->body;
    kf_add_partitions_to_txn_response *resp = sk_request_response(req);
    if (!resp)
        goto oom;
    if (req->hdr.api_version < 4) {
        int32_t nt = body->v3_and_below_topics.n > 0 ? body->v3_and_below_topics.n : 0;
        kf_add_partitions_to_txn_response_topic_result *out = sk_arena_alloc(&req->arena, (size_t)nt * sizeof *out);
        if (!out ||
            add_partitions(req, str_or_null(body->v3_and_below_transactional_id), body->v3_and_below_producer_id,
                           body->v3_and_below_producer_epoch, false, body->v3_and_below_topics.items, nt, out) < 0)
            goto oom;
        resp->results_by_topic_v3_and_below.items = out;
        resp->results_by_topic_v3_and_below.n = nt;
        sk_request_respond(req, resp);
        return;
    }
    int32_t n = body->transactions.n > 0 ? body->transactions.n : 0;
    kf_add_partitions_to_txn_response_result *results = sk_arena_alloc(&req->arena, (size_t)n * sizeof *results);
    if (!results)
        goto oom;
    for (int32_t i = 0; i < n; i++) {
        const kf_add_partitions_to_txn_request_transaction *t = &body->transactions.items[i];
        int32_t nt = t->topics.n > 0 ? t->topics.n : 0;
        kf_add_partitions_to_txn_response_topic_result *out = sk_arena_alloc(&req->arena, (size_t)nt * sizeof *out);
        if (!out || add_partitions(req, str_or_null(t->transactional_id), t->producer_id, t->producer_epoch,
                                   t->verify_only, t->topics.items, nt, out) < 0)
            goto oom;
        results[i].transactional_id = t->transactional_id;
        results[i].topic_results.items = out;
        results[i].topic_results.n = nt;
    }
    resp->results_by_transaction.items = results;
    resp->results_by_transaction.n = n;
    sk_request_respond(req, resp);
    return;
oom:
    sk_request_close(req, "out of memory");
}

/* ---- AddOffsetsToTxn, EndTxn ---- */

/* The __consumer_offsets partition of `group_id` (the group coordinator
 * creates the topic on its first write, with offsets.topic.num.partitions
 * partitions), or -1 without a group id. */
static int32_t offsets_partition(sk_broker *b, kf_str group_id)
{
    sk_topic *t = sk_meta_topic(b->meta, OFFSETS_TOPIC, strlen(OFFSETS_TOPIC));
    if (!group_id.p)
        return -1;
    return sk_group_partition_for(group_id.p, (size_t)group_id.len,
                                  t ? t->partitions : b->config->offsets_topic_num_partitions);
}

void sk_api_add_offsets_to_txn(sk_request *req)
{
    const kf_add_offsets_to_txn_request *body = req->body;
    kf_add_offsets_to_txn_response *resp = sk_request_response(req);
    if (!resp) {
        sk_request_close(req, "out of memory");
        return;
    }
    int32_t p = offsets_partition(req->broker, body->group_id);
    int16_t err = SK_ERR_COORDINATOR_NOT_AVAILABLE;
    if (!body->group_id.p || body->group_id.len == 0) {
        err = SK_ERR_INVALID_GROUP_ID;
    } else if (p >= 0) {
        sk_txn_partition tp = {OFFSETS_TOPIC, p};
        err = sk_txn_add_partitions(req->broker->txns, str_or_null(body->transactional_id), body->producer_id,
                                    body->producer_epoch, &tp, 1);
    }
    resp->error_code = fenced_for(err, req->hdr.api_version, 2);
    sk_request_respond(req, resp);
}

void sk_api_end_txn(sk_request *req)
{
    const kf_end_txn_request *body = req->body;
    kf_end_txn_response *resp = sk_request_response(req);
    if (!resp) {
        sk_request_close(req, "out of memory");
        return;
    }
    int16_t err = sk_txn_end(req->broker->txns, str_or_null(body->transactional_id), body->producer_id,
                             body->producer_epoch, body->committed);
    resp->error_code = fenced_for(err, req->hdr.api_version, 2);
    sk_debug("api", "conn %llu: EndTxn '%s' %s: %s", (unsigned long long)req->conn_id,
             body->transactional_id.p ? body->transactional_id.p : "(null)", body->committed ? "commit" : "abort",
             sk_err_name(resp->error_code));
    sk_request_respond(req, resp);
}

/* ---- TxnOffsetCommit ---- */

void sk_api_txn_offset_commit(sk_request *req)
{
    const kf_txn_offset_commit_request *body = req->body;
    sk_broker *b = req->broker;
    kf_txn_offset_commit_response *resp = sk_request_response(req);
    if (!resp || kf_mirror_array(&kf_txn_offset_commit_response_topic_desc, &resp->topics,
                                 &kf_txn_offset_commit_request_topic_desc, &body->topics, &req->arena) < 0) {
        sk_request_close(req, "out of memory");
        return;
    }
    int16_t err;
    int32_t p = offsets_partition(b, body->group_id);
    if (!body->group_id.p || body->group_id.len == 0)
        err = SK_ERR_INVALID_GROUP_ID;
    else if (p < 0 || !b->groups)
        err = SK_ERR_COORDINATOR_NOT_AVAILABLE;
    else
        err = sk_txn_check_offset_commit(b->txns, str_or_null(body->transactional_id), body->producer_id,
                                         body->producer_epoch, p);
    for (int32_t i = 0; i < resp->topics.n; i++) {
        kf_txn_offset_commit_response_topic *rt = &resp->topics.items[i];
        sk_topic *t = rt->name.p ? sk_meta_topic(b->meta, rt->name.p, (size_t)rt->name.len) : NULL;
        for (int32_t j = 0; j < rt->partitions.n; j++) {
            kf_txn_offset_commit_response_partition *rp = &rt->partitions.items[j];
            if (!t || rp->partition_index < 0 || rp->partition_index >= t->partitions)
                rp->error_code = SK_ERR_UNKNOWN_TOPIC_OR_PARTITION;
            else
                rp->error_code = err;
        }
    }
    if (err == SK_ERR_NONE && sk_group_txn_commit_offsets(b->groups, body, resp, &req->arena) < 0) {
        sk_request_close(req, "out of memory");
        return;
    }
    sk_debug("api", "conn %llu: TxnOffsetCommit '%s' group '%s': %s", (unsigned long long)req->conn_id,
             body->transactional_id.p ? body->transactional_id.p : "(null)", body->group_id.p ? body->group_id.p : "",
             sk_err_name(err));
    sk_request_respond(req, resp);
}
