/*
 * Cluster metadata of this single-node cluster: the cluster id and node id
 * (Kafka's meta.properties in the log dir) and the topic catalog (names,
 * topic ids, partition counts, dynamic topic configs), persisted atomically
 * in <log.dirs>/skiff-topics.json and reloaded at start. Every change is
 * written (temp file, fsync, rename, directory fsync) before it is visible,
 * so a crash keeps either the old or the new catalog.
 *
 * Topic ids are UUIDs (KIP-516), generated once per topic and never reused.
 * A deleted topic is recorded as a pending deletion in the same write that
 * removes it, until its partition logs are gone (sk_meta_deletion_done), so
 * logs left behind by a crash are removed at the next start.
 */
#ifndef SKIFF_META_H
#define SKIFF_META_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "skiff/htab.h"
#include "skiff/logstore.h"
#include "skiff/topic_config.h"
#include "skiff/uuid.h"

typedef struct sk_topic {
    char *name;               /* topic name (heap, owned) */
    uint8_t id[16];           /* topic id (KIP-516) */
    int32_t partitions;       /* partition count */
    bool internal;            /* __consumer_offsets, __transaction_state */
    sk_topic_configs configs; /* dynamic topic configs (overrides only), persisted */
    /* Derived from `configs` and the broker configuration by topics.c
     * (sk_topics_configure) whenever either changes; not persisted. */
    sk_log_config log_config;  /* settings of every partition log */
    int compression;           /* compression.type: sk_compression or SK_COMPRESSION_PRODUCER */
    int32_t compression_level; /* level for that codec, or SK_COMPRESSION_LEVEL_DEFAULT */
    sk_hnode node;             /* in the catalog's index by name (internal) */
} sk_topic;

/* The topic's compression.type (compress.h: a codec, or
 * SK_COMPRESSION_PRODUCER to keep each batch's own) and in *level the
 * compression.<codec>.level to recompress with. For the produce path. */
static inline int sk_topic_compression(const sk_topic *t, int32_t *level)
{
    *level = t->compression_level;
    return t->compression;
}

typedef struct sk_meta sk_meta;

/* Opens the metadata of `dir` (created if absent): reads meta.properties or
 * writes a new one with a fresh cluster id, then loads the topic catalog.
 * Fails (NULL, with a logged reason) when meta.properties names another
 * node id than `node_id` (as Kafka refuses to start) or a file is corrupt.
 * Topic configs the catalog holds that are no longer valid are dropped with
 * a warning. */
sk_meta *sk_meta_open(const char *dir, int32_t node_id);
/* sk_meta_open, where a new directory gets `cluster_id` (Kafka's 22-character
 * form, e.g. apache/kafka's CLUSTER_ID; NULL = random) as kafka-storage
 * format would give it. A malformed `cluster_id` gets a warning and a random
 * id instead; a directory formatted with another id keeps it (a warning
 * says so). */
sk_meta *sk_meta_open_cluster(const char *dir, int32_t node_id, const char *cluster_id);
void sk_meta_close(sk_meta *m);

/* Kafka's cluster id: 22 characters of base64url (static for the process). */
const char *sk_meta_cluster_id(const sk_meta *m);
/* The log directory holding the files (static for the process). */
const char *sk_meta_dir(const sk_meta *m);

/* Checks a topic name with Kafka's rules (org.apache.kafka.common.internals.Topic):
 * non-empty, not "." or "..", at most 249 characters of [a-zA-Z0-9._-].
 * Returns SK_ERR_NONE or SK_ERR_INVALID_TOPIC_EXCEPTION. */
int16_t sk_topic_name_check(const char *name, size_t len);
/* The same with Kafka's message for an invalid name written into `msg`
 * ("Topic name is illegal, it can't be empty", ...). */
int16_t sk_topic_name_check_msg(const char *name, size_t len, char *msg, size_t msg_len);
/* True for Kafka's internal topic names. */
bool sk_topic_is_internal(const char *name);

/* The topic named `name` (`len` bytes), or NULL. */
sk_topic *sk_meta_topic(sk_meta *m, const char *name, size_t len);
/* The topic with id `id`, or NULL. */
sk_topic *sk_meta_topic_by_id(sk_meta *m, const uint8_t id[16]);
/* The existing topic whose name collides with `name` once '.' and '_' are
 * treated alike (Kafka forbids such pairs: their metric names clash), or
 * NULL. A topic of exactly that name does not count. */
sk_topic *sk_meta_topic_colliding(sk_meta *m, const char *name);

/* Creates a topic with `partitions` partitions, a new topic id and a copy of
 * `configs` (NULL = none; already validated by the caller) and persists the
 * catalog. Errors: INVALID_TOPIC_EXCEPTION (bad name or a name colliding
 * with an existing one), TOPIC_ALREADY_EXISTS, INVALID_PARTITIONS (< 1),
 * KAFKA_STORAGE_ERROR (catalog not written; nothing created). On success
 * *out is the new topic. */
int16_t sk_meta_create_topic(sk_meta *m, const char *name, int32_t partitions, const sk_topic_configs *configs,
                             sk_topic **out);

/* Removes `t` from the catalog and records it as a pending deletion, in one
 * catalog write; `t` is freed. Returns NONE or KAFKA_STORAGE_ERROR (nothing
 * changed). */
int16_t sk_meta_delete_topic(sk_meta *m, sk_topic *t);
/* Calls `fn` for every pending deletion (name, topic id, partition count). */
void sk_meta_foreach_deletion(sk_meta *m,
                              void (*fn)(const char *name, const uint8_t id[16], int32_t partitions, void *arg),
                              void *arg);
/* Forgets the pending deletion of topic id `id` once its logs are gone; the
 * catalog is rewritten when `persist` (else with the next change). */
void sk_meta_deletion_done(sk_meta *m, const uint8_t id[16], bool persist);

/* Grows `t` to `partitions` partitions and persists the catalog. Returns
 * NONE, INVALID_PARTITIONS (not larger) or KAFKA_STORAGE_ERROR (unchanged). */
int16_t sk_meta_set_partitions(sk_meta *m, sk_topic *t, int32_t partitions);
/* Replaces the dynamic configs of `t` by a copy of `configs` (validated by
 * the caller) and persists the catalog. Returns NONE or KAFKA_STORAGE_ERROR
 * (unchanged). The derived fields are the caller's to refresh. */
int16_t sk_meta_set_configs(sk_meta *m, sk_topic *t, const sk_topic_configs *configs);

/* Calls `fn` for every topic, in creation order. `fn` must not create or
 * delete topics. */
void sk_meta_foreach(sk_meta *m, void (*fn)(sk_topic *t, void *arg), void *arg);
/* Number of topics. */
int32_t sk_meta_topic_count(const sk_meta *m);

#endif
