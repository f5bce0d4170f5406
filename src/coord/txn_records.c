/*
 * __transaction_state records in Kafka's formats (TransactionLogKey and
 * TransactionLogValue, src/proto/schema/record_transaction_log.kfs), read
 * and written by the one codec (src/proto/record_codec.c), so Kafka's own
 * tools read a skiff data dir and skiff replays what Kafka wrote. This file
 * only maps them to the coordinator's txn_value: partitions are grouped by
 * topic on the wire, one entry per partition in memory.
 */
#include <stdlib.h>
#include <string.h>

#include "kf_msgs.h"
#include "skiff/arena.h"
#include "txn_int.h"

#define VALUE_VERSION 0 /* the version skiff writes */

int sk_txn_key_encode(sk_writer *w, const char *transactional_id)
{
    if (strlen(transactional_id) > INT16_MAX)
        return -1;
    kf_transaction_log_key k = {.transactional_id = kf_str_c(transactional_id)};
    return kf_record_key_encode(KF_RECORD_TRANSACTION_LOG, 0, &k, w);
}

int sk_txn_key_decode(const uint8_t *p, size_t len, char **id)
{
    sk_arena arena = {0};
    kf_transaction_log_key k;
    *id = NULL;
    if (kf_record_key_decode(KF_RECORD_TRANSACTION_LOG, p, len, &arena, &k) == 0)
        *id = strndup(k.transactional_id.p ? k.transactional_id.p : "", (size_t)k.transactional_id.len);
    sk_arena_free(&arena);
    return *id ? 0 : -1;
}

/* Index of the first part of `topic` in v->parts. */
static int32_t first_of_topic(const txn_value *v, int32_t upto, const char *topic)
{
    int32_t k = 0;
    while (k < upto && strcmp(v->parts[k].topic, topic))
        k++;
    return k;
}

int sk_txn_value_encode(sk_writer *w, const txn_value *v)
{
    kf_transaction_log_value x;
    kf_init(&kf_transaction_log_value_desc, &x);
    x.producer_id = v->producer_id;
    x.producer_epoch = v->producer_epoch;
    x.transaction_timeout_ms = v->timeout_ms;
    x.transaction_status = v->state;
    x.transaction_last_update_timestamp_ms = v->update_ms;
    x.transaction_start_timestamp_ms = v->start_ms;
    /* One entry per topic, partitions grouped as they come; null for Empty. */
    size_t n = v->nparts > 0 ? (size_t)v->nparts : 1;
    kf_transaction_log_value_partitions_schema *topics = calloc(n, sizeof *topics);
    int32_t *ids = calloc(n, sizeof *ids);
    int rc = -1;
    if (!topics || !ids)
        goto out;
    x.transaction_partitions.items = topics;
    x.transaction_partitions.n = v->state == SK_TXN_EMPTY ? -1 : 0;
    int32_t at = 0;
    for (int32_t i = 0; v->state != SK_TXN_EMPTY && i < v->nparts; i++) {
        if (first_of_topic(v, i, v->parts[i].topic) < i)
            continue;
        kf_transaction_log_value_partitions_schema *t = &topics[x.transaction_partitions.n++];
        t->topic = kf_str_c(v->parts[i].topic);
        t->partition_ids.items = ids + at;
        for (int32_t k = i; k < v->nparts; k++)
            if (!strcmp(v->parts[k].topic, v->parts[i].topic))
                ids[at + t->partition_ids.n++] = v->parts[k].partition;
        at += t->partition_ids.n;
    }
    rc = kf_record_value_encode(KF_RECORD_TRANSACTION_LOG, VALUE_VERSION, &x, w);
out:
    free(topics);
    free(ids);
    return rc;
}

static int add_part(txn_value *v, int32_t *cap, kf_str topic, int32_t partition)
{
    if (v->nparts == *cap) {
        int32_t ncap = *cap ? *cap * 2 : 4;
        txn_part *a = realloc(v->parts, (size_t)ncap * sizeof *a);
        if (!a)
            return -1;
        v->parts = a;
        *cap = ncap;
    }
    char *t = strndup(topic.p ? topic.p : "", topic.len > 0 ? (size_t)topic.len : 0);
    if (!t)
        return -1;
    v->parts[v->nparts++] = (txn_part){t, partition, false};
    return 0;
}

int sk_txn_value_decode(const uint8_t *p, size_t len, txn_value *out)
{
    memset(out, 0, sizeof *out);
    sk_arena arena = {0};
    kf_transaction_log_value x;
    int16_t version;
    int rc = kf_record_value_decode(KF_RECORD_TRANSACTION_LOG, p, len, &arena, &x, &version);
    if (rc == 0 && (x.transaction_status < 0 || x.transaction_status >= SK_TXN_NSTATES))
        rc = -1;
    if (rc == 0) {
        *out = (txn_value){.producer_id = x.producer_id,
                           .previous_producer_id = x.previous_producer_id,
                           .next_producer_id = x.next_producer_id,
                           .producer_epoch = x.producer_epoch,
                           .timeout_ms = x.transaction_timeout_ms,
                           .state = x.transaction_status,
                           .update_ms = x.transaction_last_update_timestamp_ms,
                           .start_ms = x.transaction_start_timestamp_ms};
        int32_t cap = 0;
        for (int32_t i = 0; i < x.transaction_partitions.n && rc == 0; i++) {
            const kf_transaction_log_value_partitions_schema *t = &x.transaction_partitions.items[i];
            for (int32_t k = 0; k < t->partition_ids.n && rc == 0; k++)
                rc = add_part(out, &cap, t->topic, t->partition_ids.items[k]);
        }
        if (rc < 0)
            sk_txn_value_free(out);
    }
    sk_arena_free(&arena);
    return rc;
}

void sk_txn_value_free(txn_value *v)
{
    for (int32_t i = 0; i < v->nparts; i++)
        free(v->parts[i].topic);
    free(v->parts);
    v->parts = NULL;
    v->nparts = 0;
}
