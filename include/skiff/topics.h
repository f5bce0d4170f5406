/*
 * Topics as the broker serves them: the catalog entry (meta.h) together
 * with its partition logs (logstore.h). Handlers create, grow, reconfigure
 * and delete topics through here so that the catalog and the logs never
 * disagree: the catalog is written first, then the logs follow it, and
 * sk_topics_open repairs what a crash in between left behind.
 */
#ifndef SKIFF_TOPICS_H
#define SKIFF_TOPICS_H

#include <stdbool.h>
#include <stdint.h>

#include "skiff/broker.h"
#include "skiff/logstore.h"
#include "skiff/meta.h"

/* At start-up, after sk_meta_open and sk_logstore_open: finishes pending
 * topic deletions (deletes the logs of deleted topics still on disk), gives
 * every catalog topic its settings (sk_topics_configure) and makes sure
 * every partition has its log (creating the missing ones, e.g. after a
 * crash between the catalog write and the log creation); loads the logs of
 * the internal topics, which the coordinators replay next. Returns 0, or -1
 * (logged). */
int sk_topics_open(sk_broker *b);

/* A callback for sk_logstore_opts.topic_config (arg = the sk_broker, whose
 * meta is open): the log settings of `topic` from its catalog configs, so
 * partitions are recovered with their topic's settings. False for a topic
 * the catalog does not know. */
bool sk_topics_log_config(void *arg, const char *topic, sk_log_config *out);

/* Creates a topic: the catalog entry, then one log per partition with the
 * topic's settings. Errors as sk_meta_create_topic, plus
 * KAFKA_STORAGE_ERROR when a log cannot be created (the catalog keeps the
 * topic; sk_topics_open completes it at the next start). */
int16_t sk_topics_create(sk_broker *b, const char *name, int32_t partitions, sk_topic **out);
/* The same with dynamic topic configs (a copy is kept; NULL = none). The
 * caller validates them first (sk_topic_configs_set, sk_topic_configs_check);
 * internal topics pass theirs here (e.g. cleanup.policy=compact). */
int16_t sk_topics_create_with_configs(sk_broker *b, const char *name, int32_t partitions,
                                      const sk_topic_configs *configs, sk_topic **out);

/* Finds topic `name` (`len` bytes), creating it with num.partitions
 * partitions when it does not exist, `may_create` is true,
 * auto.create.topics.enable is on and the name is not an internal topic's.
 * Returns NONE with *out set, UNKNOWN_TOPIC_OR_PARTITION,
 * INVALID_TOPIC_EXCEPTION or KAFKA_STORAGE_ERROR. */
int16_t sk_topics_find_or_create(sk_broker *b, const char *name, size_t len, bool may_create, sk_topic **out);

/* An internal topic of a coordinator (__consumer_offsets,
 * __transaction_state): the existing one, or a new compacted topic with
 * `partitions` partitions and, when `segment_bytes` is not NULL, that
 * segment.bytes. Created on first use, as Kafka does. NULL (logged) when it
 * cannot be created. */
sk_topic *sk_topics_internal(sk_broker *b, const char *name, int32_t partitions, const char *segment_bytes);

/* The log of partition `index` of `t`, or NULL when out of range. */
sk_partition *sk_topics_partition(sk_broker *b, const sk_topic *t, int32_t index);

/* Deletes topic `t` as Kafka does: it leaves the catalog at once (Metadata,
 * Produce and Fetch stop seeing it), then each partition's directory is
 * renamed `<topic>-<n>.<uuid>-delete` and removed in the background. `t` is
 * invalid afterwards. Returns NONE or KAFKA_STORAGE_ERROR (catalog not
 * written: nothing changed). A log that cannot be renamed is logged and
 * retried at the next start. */
int16_t sk_topics_delete(sk_broker *b, sk_topic *t);

/* Grows `t` to `count` partitions (CreatePartitions): the catalog first,
 * then the new logs with the topic's settings. Returns NONE,
 * INVALID_PARTITIONS (not larger) or KAFKA_STORAGE_ERROR. */
int16_t sk_topics_add_partitions(sk_broker *b, sk_topic *t, int32_t count);

/* Replaces the dynamic configs of `t` (validated by the caller), persists
 * them and applies them live to every partition (sk_topics_configure).
 * Returns NONE or KAFKA_STORAGE_ERROR (unchanged). */
int16_t sk_topics_set_configs(sk_broker *b, sk_topic *t, const sk_topic_configs *configs);

/* Recomputes the derived settings of `t` (log_config, compression) from its
 * configs and the broker configuration and gives every partition log the
 * new settings (sk_partition_set_config). */
void sk_topics_configure(sk_broker *b, sk_topic *t);

#endif
