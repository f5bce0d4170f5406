/*
 * Cluster metadata of this single-node cluster: the cluster id and node id
 * (Kafka's meta.properties in the log dir) and the topic catalog (names,
 * topic ids, partition counts), persisted atomically in
 * <log.dirs>/skiff-topics.json and reloaded at start.
 *
 * Topic ids are UUIDs (KIP-516), generated once per topic and never reused.
 */
#ifndef SKIFF_META_H
#define SKIFF_META_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "skiff/uuid.h"

typedef struct sk_topic {
    char *name;             /* topic name (heap, owned) */
    uint8_t id[16];         /* topic id (KIP-516) */
    int32_t partitions;     /* partition count */
    bool internal;          /* __consumer_offsets, __transaction_state */
    struct sk_topic *next;  /* hash chain (internal) */
} sk_topic;

typedef struct sk_meta sk_meta;

/* Opens the metadata of `dir` (created if absent): reads meta.properties or
 * writes a new one with a fresh cluster id, then loads the topic catalog.
 * Fails (NULL, with a logged reason) when meta.properties names another
 * node id than `node_id` (as Kafka refuses to start) or a file is corrupt. */
sk_meta *sk_meta_open(const char *dir, int32_t node_id);
void sk_meta_close(sk_meta *m);

/* Kafka's cluster id: 22 characters of base64url (static for the process). */
const char *sk_meta_cluster_id(const sk_meta *m);

/* Checks a topic name with Kafka's rules (org.apache.kafka.common.internals.Topic):
 * non-empty, not "." or "..", at most 249 characters of [a-zA-Z0-9._-].
 * Returns SK_ERR_NONE or SK_ERR_INVALID_TOPIC_EXCEPTION. */
int16_t sk_topic_name_check(const char *name, size_t len);
/* True for Kafka's internal topic names. */
bool sk_topic_is_internal(const char *name);

/* The topic named `name` (`len` bytes), or NULL. */
sk_topic *sk_meta_topic(sk_meta *m, const char *name, size_t len);
/* The topic with id `id`, or NULL. */
sk_topic *sk_meta_topic_by_id(sk_meta *m, const uint8_t id[16]);
/* Creates a topic with `partitions` partitions and a new topic id and
 * persists the catalog. Errors: INVALID_TOPIC_EXCEPTION (bad name or a name
 * colliding with an existing one once '.' and '_' are treated alike),
 * TOPIC_ALREADY_EXISTS, INVALID_PARTITIONS (< 1), KAFKA_STORAGE_ERROR
 * (catalog not written; nothing created). On success *out is the new topic. */
int16_t sk_meta_create_topic(sk_meta *m, const char *name, int32_t partitions, sk_topic **out);

/* Calls `fn` for every topic, in creation order. */
void sk_meta_foreach(sk_meta *m, void (*fn)(sk_topic *t, void *arg), void *arg);
/* Number of topics. */
int32_t sk_meta_topic_count(const sk_meta *m);

#endif
