/*
 * Transaction introspection (KIP-664), as kafka-transactions.sh uses it:
 * DescribeProducers v0 (the producers each partition's log knows, from its
 * producer state), DescribeTransactions v0 and ListTransactions v0-1 (the
 * transaction coordinator's state).
 *
 * Behaviour, as Kafka 4.0 answers:
 * - DescribeProducers: UNKNOWN_TOPIC_OR_PARTITION for a topic or partition
 *   that does not exist; otherwise every producer with its epoch, last
 *   sequence (-1 when no batch is remembered), last timestamp, coordinator
 *   epoch and the first offset of its open transaction (-1).
 * - DescribeTransactions: per id, TRANSACTIONAL_ID_NOT_FOUND for an unknown
 *   one, INVALID_REQUEST for "", COORDINATOR_LOAD_IN_PROGRESS while loading;
 *   otherwise state name, timeout, start time, producer id and epoch, and
 *   the partitions grouped by topic.
 * - ListTransactions: state names that are not Kafka's go back in
 *   unknown_state_filters (and match nothing); the producer id filter and,
 *   in v1, the duration filter (transactions running longer than it).
 */
#include <string.h>

#include "kf_msgs.h"
#include "skiff/api.h"
#include "skiff/cluster.h"
#include "skiff/errors.h"
#include "skiff/topics.h"
#include "skiff/txn.h"

/* ---- DescribeProducers ---- */

static int describe_partition(sk_request *req, sk_partition *p, kf_describe_producers_response_partition_response *out)
{
    if (!p) {
        out->error_code = SK_ERR_UNKNOWN_TOPIC_OR_PARTITION;
        return 0;
    }
    sk_producer_info *info;
    int32_t n;
    out->error_code = sk_partition_producers(p, &req->arena, &info, &n);
    if (out->error_code == SK_ERR_UNKNOWN_SERVER_ERROR)
        return -1;
    if (out->error_code != SK_ERR_NONE || n == 0)
        return 0;
    kf_describe_producers_response_producer_state *ps = sk_arena_alloc(&req->arena, (size_t)n * sizeof *ps);
    if (!ps)
        return -1;
    for (int32_t i = 0; i < n; i++)
        ps[i] = (kf_describe_producers_response_producer_state){
            .producer_id = info[i].producer_id,
            .producer_epoch = info[i].producer_epoch,
            .last_sequence = info[i].last_sequence,
            .last_timestamp = info[i].last_timestamp,
            .coordinator_epoch = info[i].coordinator_epoch,
            .current_txn_start_offset = info[i].current_txn_start_offset,
        };
    out->active_producers.items = ps;
    out->active_producers.n = n;
    return 0;
}

void sk_api_describe_producers(sk_request *req)
{
    const kf_describe_producers_request *body = req->body;
    kf_describe_producers_response *resp = sk_request_response(req);
    int32_t nt = body->topics.n > 0 ? body->topics.n : 0;
    kf_describe_producers_response_topic_response *topics = sk_arena_alloc(&req->arena, (size_t)nt * sizeof *topics);
    if (!resp || !topics)
        goto oom;
    for (int32_t i = 0; i < nt; i++) {
        const kf_describe_producers_request_topic_request *rt = &body->topics.items[i];
        int32_t np = rt->partition_indexes.n > 0 ? rt->partition_indexes.n : 0;
        kf_describe_producers_response_partition_response *parts =
            sk_arena_alloc(&req->arena, (size_t)np * sizeof *parts);
        if (!parts)
            goto oom;
        sk_topic *t = rt->name.p ? sk_meta_topic(req->broker->meta, rt->name.p, (size_t)rt->name.len) : NULL;
        topics[i].name = rt->name;
        topics[i].partitions.items = parts;
        topics[i].partitions.n = np;
        for (int32_t j = 0; j < np; j++) {
            kf_init(&kf_describe_producers_response_partition_response_desc, &parts[j]);
            parts[j].partition_index = rt->partition_indexes.items[j];
            sk_partition *p = t ? sk_topics_partition(req->broker, t, parts[j].partition_index) : NULL;
            if (describe_partition(req, p, &parts[j]) < 0)
                goto oom;
            if (!t) /* Kafka names the error only for an unknown topic */
                parts[j].error_message = kf_str_c(SK_ERR_MSG_UNKNOWN_TOPIC_OR_PARTITION);
        }
    }
    resp->topics.items = topics;
    resp->topics.n = nt;
    sk_request_respond(req, resp);
    return;
oom:
    sk_request_close(req, "out of memory");
}

/* ---- DescribeTransactions ---- */

/* The partitions of `info` as topic entries (they come grouped by topic). */
static int fill_topics(sk_request *req, const sk_txn_info *info,
                       kf_describe_transactions_response_transaction_state *out)
{
    kf_describe_transactions_response_topic_data *topics =
        sk_arena_alloc(&req->arena, (size_t)info->npartitions * sizeof *topics);
    int32_t *parts = sk_arena_alloc(&req->arena, (size_t)info->npartitions * sizeof *parts);
    if (!topics || !parts)
        return -1;
    int32_t nt = 0;
    for (int32_t i = 0; i < info->npartitions; i++) {
        if (nt == 0 || strcmp(topics[nt - 1].topic.p, info->partitions[i].topic) != 0) {
            topics[nt].topic = kf_str_c(info->partitions[i].topic);
            topics[nt].partitions.items = &parts[i];
            nt++;
        }
        parts[i] = info->partitions[i].partition;
        topics[nt - 1].partitions.n++;
    }
    out->topics.items = topics;
    out->topics.n = nt;
    return 0;
}

void sk_api_describe_transactions(sk_request *req)
{
    const kf_describe_transactions_request *body = req->body;
    kf_describe_transactions_response *resp = sk_request_response(req);
    int32_t n = body->transactional_ids.n > 0 ? body->transactional_ids.n : 0;
    kf_describe_transactions_response_transaction_state *states =
        sk_arena_alloc(&req->arena, (size_t)n * sizeof *states);
    if (!resp || !states)
        goto oom;
    for (int32_t i = 0; i < n; i++) {
        kf_describe_transactions_response_transaction_state *out = &states[i];
        kf_init(&kf_describe_transactions_response_transaction_state_desc, out);
        kf_str id = body->transactional_ids.items[i];
        out->transactional_id = id;
        if (!sk_api_coordinates(req, SK_COORD_TXN, id)) {
            out->error_code = SK_ERR_NOT_COORDINATOR;
            continue;
        }
        sk_txn_info info;
        out->error_code = sk_txn_describe(req->broker->txns, id.p ? id.p : "", &info, &req->arena);
        if (out->error_code == SK_ERR_UNKNOWN_SERVER_ERROR)
            goto oom;
        if (out->error_code != SK_ERR_NONE)
            continue;
        out->transaction_state = kf_str_c(sk_txn_state_name(info.state));
        out->transaction_timeout_ms = info.timeout_ms;
        out->transaction_start_time_ms = info.start_time_ms;
        out->producer_id = info.producer_id;
        out->producer_epoch = info.producer_epoch;
        if (fill_topics(req, &info, out) < 0)
            goto oom;
    }
    resp->transaction_states.items = states;
    resp->transaction_states.n = n;
    sk_request_respond(req, resp);
    return;
oom:
    sk_request_close(req, "out of memory");
}

/* ---- ListTransactions ---- */

void sk_api_list_transactions(sk_request *req)
{
    const kf_list_transactions_request *body = req->body;
    kf_list_transactions_response *resp = sk_request_response(req);
    int32_t nf = body->state_filters.n > 0 ? body->state_filters.n : 0;
    sk_txn_state *states = sk_arena_alloc(&req->arena, (size_t)nf * sizeof *states);
    kf_str *unknown = sk_arena_alloc(&req->arena, (size_t)nf * sizeof *unknown);
    if (!resp || !states || !unknown)
        goto oom;
    int32_t nstates = 0, nunknown = 0;
    for (int32_t i = 0; i < nf; i++) {
        kf_str name = body->state_filters.items[i];
        int s = name.p ? sk_txn_state_parse(name.p) : -1;
        if (s >= 0)
            states[nstates++] = (sk_txn_state)s;
        else
            unknown[nunknown++] = name;
    }
    resp->unknown_state_filters.items = unknown;
    resp->unknown_state_filters.n = nunknown;
    resp->error_code = sk_txns_status(req->broker->txns);
    if (resp->error_code == SK_ERR_NONE) {
        sk_txn_info *info;
        int32_t nids = body->producer_id_filters.n > 0 ? body->producer_id_filters.n : 0;
        int32_t n = sk_txns_list(req->broker->txns, states, nf > 0 ? nstates : -1, body->producer_id_filters.items,
                                 nids, body->duration_filter, &info, &req->arena);
        kf_list_transactions_response_transaction_state *out =
            n >= 0 ? sk_arena_alloc(&req->arena, (size_t)n * sizeof *out) : NULL;
        if (!out)
            goto oom;
        int32_t kept = 0;
        for (int32_t i = 0; i < n; i++) {
            /* Several brokers (skiff/cluster.h): each lists the ids it coordinates. */
            kf_str id = kf_str_c(info[i].transactional_id);
            if (!sk_api_coordinates(req, SK_COORD_TXN, id))
                continue;
            out[kept].transactional_id = id;
            out[kept].producer_id = info[i].producer_id;
            out[kept].transaction_state = kf_str_c(sk_txn_state_name(info[i].state));
            kept++;
        }
        resp->transaction_states.items = out;
        resp->transaction_states.n = kept;
    }
    sk_request_respond(req, resp);
    return;
oom:
    sk_request_close(req, "out of memory");
}
