/*
 * The group coordinator on a running broker: __consumer_offsets in the log
 * store. At start every partition of the topic, if it exists, is replayed
 * into the coordinator; the topic (internal, compacted) is created by the
 * first write, as Kafka creates it on first use; afterwards each
 * change the coordinator makes is appended to the group's partition as one
 * uncompressed record batch (no producer id, or the producer's
 * transactional batch for TxnOffsetCommit), exactly as Kafka's coordinator
 * writes it, so kafka-dump-log and Kafka's own tools read it. Replay
 * honours transaction markers: offsets of a transaction without one stay
 * pending.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "group_int.h"
#include "skiff/broker.h"
#include "skiff/compress.h"
#include "skiff/errors.h"
#include "skiff/trace.h"
#include "skiff/logstore.h"
#include "skiff/record.h"
#include "skiff/topics.h"

#define OFFSETS_TOPIC "__consumer_offsets"

static sk_topic *offsets_topic(sk_broker *b);

static int16_t log_append(void *arg, const sk_group_batch *gb, int64_t *base_offset)
{
    sk_broker *b = arg;
    sk_partition *p = sk_logstore_find(b->logs, OFFSETS_TOPIC, gb->partition);
    if (!p && offsets_topic(b)) /* created by the first write, as Kafka creates it on first use */
        p = sk_logstore_find(b->logs, OFFSETS_TOPIC, gb->partition);
    if (!p)
        return SK_ERR_UNKNOWN_TOPIC_OR_PARTITION;
    sk_record_spec *specs = calloc((size_t)gb->n, sizeof *specs);
    if (!specs)
        return SK_ERR_UNKNOWN_SERVER_ERROR;
    for (int i = 0; i < gb->n; i++) {
        specs[i].key = gb->records[i].key;
        specs[i].key_len = gb->records[i].key_len;
        specs[i].value = gb->records[i].value;
        specs[i].value_len = gb->records[i].value_len;
        specs[i].timestamp = gb->now_ms;
    }
    /* A TxnOffsetCommit's batch is the producer's, transactional, without
     * a sequence (the coordinator's writes are not deduplicated). */
    sk_batch_spec spec = {.attributes = gb->producer_id >= 0 ? SK_BATCH_TRANSACTIONAL : 0,
                          .producer_id = gb->producer_id,
                          .producer_epoch = gb->producer_epoch,
                          .base_sequence = -1};
    sk_writer w;
    sk_writer_init(&w, 256);
    int16_t err = SK_ERR_UNKNOWN_SERVER_ERROR;
    if (sk_batch_build(&w, &spec, specs, gb->n) == 0) {
        sk_append_info info;
        err = sk_partition_append_origin(p, SK_APPEND_COORDINATOR, w.buf, w.len, gb->now_ms, &info);
        if (err == SK_ERR_NONE)
            *base_offset = info.base_offset;
    }
    sk_writer_free(&w);
    free(specs);
    return err;
}

/* The replay of one partition (sk_partition_scan_batches). */
typedef struct replay_ctx {
    sk_groups *gs;
    int32_t partition;
    size_t cap; /* inflated batch bound */
} replay_ctx;

static void replay_batch(void *arg, const sk_batch *batch)
{
    replay_ctx *rc = arg;
    sk_groups_replay_batch(rc->gs, rc->partition, batch, rc->cap);
}

/* The topic, created when missing. */
static sk_topic *offsets_topic(sk_broker *b)
{
    return sk_topics_internal(b, OFFSETS_TOPIC, b->config->offsets_topic_num_partitions, NULL);
}

static bool topic_by_name(void *arg, const char *name, uint8_t id[16], int32_t *partitions)
{
    sk_broker *b = arg;
    sk_topic *t = sk_meta_topic(b->meta, name, strlen(name));
    if (!t)
        return false;
    memcpy(id, t->id, 16);
    *partitions = t->partitions;
    return true;
}

static const char *topic_by_id(void *arg, const uint8_t id[16])
{
    sk_broker *b = arg;
    sk_topic *t = sk_meta_topic_by_id(b->meta, id);
    return t ? t->name : NULL;
}

typedef struct each_ctx {
    void (*fn)(void *ctx, const char *name);
    void *ctx;
} each_ctx;

static void each_one(sk_topic *t, void *arg)
{
    each_ctx *e = arg;
    e->fn(e->ctx, t->name);
}

static void topic_each(void *arg, void (*fn)(void *ctx, const char *name), void *ctx)
{
    sk_broker *b = arg;
    each_ctx e = {fn, ctx};
    sk_meta_foreach(b->meta, each_one, &e);
}

sk_groups *sk_groups_start(sk_broker *b, sk_group_join_done join_done, sk_group_sync_done sync_done)
{
    sk_topic *t = sk_meta_topic(b->meta, OFFSETS_TOPIC, strlen(OFFSETS_TOPIC));
    if (t && t->partitions != b->config->offsets_topic_num_partitions)
        sk_warn("group", "%s has %d partitions; offsets.topic.num.partitions (%d) applies only when it is created",
                OFFSETS_TOPIC, t->partitions, b->config->offsets_topic_num_partitions);
    sk_group_store store = {log_append, b};
    sk_group_topics topics = {topic_by_name, topic_by_id, topic_each, b};
    sk_groups_opts opts = {.base = b->base,
                           .store = &store,
                           .join_done = join_done,
                           .sync_done = sync_done,
                           .num_partitions = t ? t->partitions : b->config->offsets_topic_num_partitions,
                           .topics = &topics};
    sk_groups *gs = sk_groups_open(b->config, &opts);
    if (!gs) {
        sk_error("group", "cannot start the group coordinator: out of memory");
        return NULL;
    }
    size_t cap = sk_decompress_cap(b->config->message_max_bytes);
    for (int32_t i = 0; t && i < t->partitions; i++) {
        sk_partition *p = sk_topics_partition(b, t, i);
        replay_ctx rc = {gs, i, cap};
        if (!p || sk_partition_scan_batches(p, replay_batch, &rc) < 0) {
            sk_error("group", "cannot load %s-%d", OFFSETS_TOPIC, i);
            sk_groups_close(gs);
            return NULL;
        }
    }
    sk_groups_loaded(gs);
    return gs;
}
