/*
 * Topics as the broker serves them: the catalog entry (meta.h) together
 * with its partition logs (logstore.h). Handlers create and find topics
 * through here so that the catalog and the logs never disagree.
 */
#ifndef SKIFF_TOPICS_H
#define SKIFF_TOPICS_H

#include <stdint.h>

#include "skiff/broker.h"
#include "skiff/logstore.h"
#include "skiff/meta.h"

/* At start-up: makes sure every partition of every catalog topic has its log
 * (creating the missing ones, e.g. after a crash between the catalog write
 * and the log creation). Returns 0, or -1 (logged). */
int sk_topics_open(sk_broker *b);

/* Creates a topic: the catalog entry, then one log per partition with the
 * broker's log defaults. Errors as sk_meta_create_topic, plus
 * KAFKA_STORAGE_ERROR when a log cannot be created (the catalog keeps the
 * topic; sk_topics_open completes it at the next start). */
int16_t sk_topics_create(sk_broker *b, const char *name, int32_t partitions, sk_topic **out);

/* Finds topic `name` (`len` bytes), creating it with num.partitions
 * partitions when it does not exist, `may_create` is true,
 * auto.create.topics.enable is on and the name is not an internal topic's.
 * Returns NONE with *out set, UNKNOWN_TOPIC_OR_PARTITION,
 * INVALID_TOPIC_EXCEPTION or KAFKA_STORAGE_ERROR. */
int16_t sk_topics_find_or_create(sk_broker *b, const char *name, size_t len, bool may_create,
                                 sk_topic **out);

/* The log of partition `index` of `t`, or NULL when out of range. */
sk_partition *sk_topics_partition(sk_broker *b, const sk_topic *t, int32_t index);

#endif
