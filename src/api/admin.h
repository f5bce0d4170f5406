/*
 * Helpers shared by the admin API handlers (topics_admin.c, configs.c,
 * records_admin.c, cluster.c): response arrays allocated in the request
 * arena with their schema defaults, and formatted strings for error
 * messages. Internal to src/api.
 */
#ifndef SKIFF_API_ADMIN_H
#define SKIFF_API_ADMIN_H

#include <stddef.h>
#include <stdint.h>

#include "skiff/api.h"
#include "skiff/proto.h"

/* `n` elements of struct `desc` in the request arena, each at its schema
 * defaults (kf_init); NULL when out of memory. n may be 0. */
void *sk_admin_array(sk_request *req, const kf_struct_desc *desc, int32_t n);

/* A string formatted into the request arena; the null string when out of
 * memory. */
kf_str sk_admin_printf(sk_request *req, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A copy of `s` in the request arena (strings of a decoded request already
 * live there; this is for values computed into stack buffers). */
kf_str sk_admin_str(sk_request *req, const char *s);

/* Finds repeated names among `n` strings (kf_str values `stride` bytes
 * apart, starting at `first`): dup[i] = 1 when name i appears more than
 * once, 2 when it is a later occurrence of such a name (answered by the
 * first). Null strings are never duplicates. Sorting keeps this O(n log n)
 * whatever the request holds. Returns -1 when out of memory. */
int sk_admin_find_duplicates(sk_request *req, const void *first, size_t stride, int32_t n, uint8_t *dup);

/* Kafka's validateManualPartitionAssignment (CreateTopics, CreatePartitions,
 * AlterPartitionReassignments): a non-empty replica list of registered
 * brokers (skiff/cluster.h; brokers that are down are still registered),
 * each once, `rf` long when rf > 0; when partition >= 0 also one broker up
 * among them (that partition named in the message). Returns NONE or
 * INVALID_REPLICA_ASSIGNMENT with Kafka's message in *msg
 * (KAFKA_STORAGE_ERROR when out of memory). */
int16_t sk_admin_check_replicas(sk_request *req, const int32_t *ids, int32_t n, int32_t rf, int32_t partition,
                                kf_str *msg);

/* Kafka's resource types in DescribeConfigs and the AlterConfigs APIs
 * (ConfigResource.Type). */
#define SK_RESOURCE_TOPIC 2
#define SK_RESOURCE_BROKER 4
#define SK_RESOURCE_BROKER_LOGGER 8
#define SK_RESOURCE_GROUP 32 /* KIP-848 group configs */

/* At most this many metadata records per request, as Kafka's controller
 * (MAX_RECORDS_PER_USER_OP): one per topic, config and partition created.
 * Beyond it every topic fails with POLICY_VIOLATION. */
#define SK_ADMIN_MAX_RECORDS 10000
#define SK_ADMIN_TOO_LARGE_MSG "Unable to perform excessively large batch operation."

#endif
