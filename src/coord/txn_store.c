/*
 * The transaction coordinator on a running broker: __transaction_state in
 * the log store (created by its first write, as Kafka creates it on first
 * use: internal, compacted, Kafka's transaction.state.log.segment.bytes of
 * 100 MiB), one uncompressed record
 * batch without producer id per transition, replayed at start; markers
 * written to the partition logs as control batches, and on
 * __consumer_offsets partitions handed to the group coordinator, which
 * then commits or drops the producer's pending transactional offsets of
 * that partition (skiff/group.h sk_groups_txn_marker). The group
 * coordinator creates __consumer_offsets on its first write: a partition
 * that does not exist holds no offsets of the producer.
 */
#include <stdlib.h>
#include <string.h>

#include "skiff/broker.h"
#include "skiff/compress.h"
#include "skiff/errors.h"
#include "skiff/group.h"
#include "skiff/trace.h"
#include "skiff/logstore.h"
#include "skiff/topics.h"
#include "txn_int.h"

#define OFFSETS_TOPIC "__consumer_offsets"
#define TXN_SEGMENT_BYTES "104857600" /* Kafka's transaction.state.log.segment.bytes */

static sk_topic *state_topic(sk_broker *b);

static int16_t log_append(void *arg, int32_t partition, const uint8_t *key, size_t key_len, const uint8_t *value,
                          size_t value_len, int64_t now_ms)
{
    sk_broker *b = arg;
    sk_partition *p = sk_logstore_find(b->logs, TXN_TOPIC, partition);
    if (!p && state_topic(b)) /* created by the first write, as Kafka creates it on first use */
        p = sk_logstore_find(b->logs, TXN_TOPIC, partition);
    if (!p)
        return SK_ERR_UNKNOWN_TOPIC_OR_PARTITION;
    sk_record_spec rec = {.key = key, .key_len = key_len, .value = value, .value_len = value_len, .timestamp = now_ms};
    sk_batch_spec spec = {.producer_id = -1, .producer_epoch = -1, .base_sequence = -1};
    sk_writer w;
    sk_writer_init(&w, 128 + key_len + value_len);
    int16_t err = SK_ERR_UNKNOWN_SERVER_ERROR;
    if (sk_batch_build(&w, &spec, &rec, 1) == 0)
        err = sk_partition_append_origin(p, SK_APPEND_COORDINATOR, w.buf, w.len, now_ms, NULL);
    sk_writer_free(&w);
    return err;
}

static int16_t write_marker(void *arg, const char *topic, int32_t partition, int64_t producer_id,
                            int16_t producer_epoch, bool commit, int64_t now_ms)
{
    sk_broker *b = arg;
    bool offsets = !strcmp(topic, OFFSETS_TOPIC);
    sk_partition *p = sk_logstore_find(b->logs, topic, partition);
    /* __consumer_offsets exists once the group coordinator first wrote to
     * it: without it there is nothing of this producer to mark. */
    int16_t err = p         ? sk_partition_append_marker(p, producer_id, producer_epoch, 0, commit, now_ms, NULL)
                  : offsets ? SK_ERR_NONE
                            : SK_ERR_UNKNOWN_TOPIC_OR_PARTITION;
    if (err == SK_ERR_NONE && offsets && b->groups)
        sk_groups_txn_marker(b->groups, partition, producer_id, commit);
    return err;
}

static void replay_record(void *arg, const sk_batch *batch, const sk_record *rec)
{
    (void)batch;
    if (rec->key)
        sk_txns_replay(arg, rec->key, (size_t)rec->key_len, rec->value, rec->value ? (size_t)rec->value_len : 0);
}

/* The topic, created when missing. */
static sk_topic *state_topic(sk_broker *b)
{
    return sk_topics_internal(b, TXN_TOPIC, b->config->transaction_state_log_num_partitions, TXN_SEGMENT_BYTES);
}

sk_txns *sk_txns_start(sk_broker *b, const char *log_dir)
{
    sk_topic *t = sk_meta_topic(b->meta, TXN_TOPIC, strlen(TXN_TOPIC));
    if (t && t->partitions != b->config->transaction_state_log_num_partitions)
        sk_warn("txn",
                "%s has %d partitions; transaction.state.log.num.partitions (%d) applies only when it is created",
                TXN_TOPIC, t->partitions, b->config->transaction_state_log_num_partitions);
    sk_producer_ids *ids = sk_producer_ids_open(log_dir);
    if (!ids)
        return NULL;
    sk_txn_store store = {log_append, write_marker, b};
    sk_txns_opts opts = {.base = b->base,
                         .store = &store,
                         .ids = ids,
                         .num_partitions = t ? t->partitions : b->config->transaction_state_log_num_partitions};
    sk_txns *tc = sk_txns_open(b->config, &opts);
    if (!tc) {
        sk_error("txn", "cannot start the transaction coordinator: out of memory");
        sk_producer_ids_close(ids);
        return NULL;
    }
    size_t cap = sk_decompress_cap(b->config->message_max_bytes);
    for (int32_t i = 0; t && i < t->partitions; i++) {
        sk_partition *p = sk_topics_partition(b, t, i);
        if (!p || sk_partition_scan_records(p, cap, replay_record, tc) < 0) {
            sk_error("txn", "cannot load %s-%d", TXN_TOPIC, i);
            sk_txns_stop(tc);
            return NULL;
        }
    }
    sk_txns_loaded(tc);
    return tc;
}

void sk_txns_stop(sk_txns *tc)
{
    if (!tc)
        return;
    sk_producer_ids *ids = sk_txns_producer_ids(tc);
    sk_txns_close(tc);
    sk_producer_ids_close(ids);
}
