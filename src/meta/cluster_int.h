/*
 * Internals of the cluster fixture shared by src/meta/cluster.c (brokers,
 * assignment, routes) and src/meta/cluster_control.c (the controls).
 */
#ifndef SKIFF_CLUSTER_INT_H
#define SKIFF_CLUSTER_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "skiff/cluster.h"
#include "skiff/config.h"
#include "skiff/htab.h"

/* Where a leader epoch began. */
typedef struct epoch_start {
    int32_t epoch; /* the leader epoch */
    int64_t start; /* log end offset when the epoch began */
} epoch_start;

/* One partition's routing state; brokers are indexes 0..n-1. */
typedef struct proute {
    int32_t epoch;                       /* leader epoch */
    int8_t leader;                       /* -1: none */
    uint8_t nrep;                        /* replication factor */
    uint16_t isr;                        /* bit per broker */
    uint8_t rep[SK_CLUSTER_MAX_BROKERS]; /* replicas, assignment order */
    int32_t nhist;                       /* entries of hist */
    epoch_start *hist;                   /* epochs after 0, oldest first (heap) */
    int64_t leaderless_until;            /* CLOCK_MONOTONIC ms a control left it leaderless until, 0 = none */
    uint16_t adding, removing;           /* reassignment in progress (KIP-455), bit per broker: replicas
                                          * joining / leaving; 0, 0 = none */
} proute;

/* The routes of one topic, by name. */
typedef struct troute {
    sk_hnode node;        /* in sk_cluster.topics */
    char *name;           /* heap */
    int32_t nparts;       /* routes held */
    int32_t rf;           /* CreateTopics' replication factor; 0 = default.replication.factor */
    int32_t start, shift; /* assignment's start index and replica shift */
    proute *parts;        /* nparts routes, by partition index (heap) */
} troute;

struct sk_cluster {
    int32_t n;                                               /* brokers */
    int32_t base_id;                                         /* node id of broker 0 (node.id) */
    uint32_t down;                                           /* bit per broker that is down */
    char *racks[SK_CLUSTER_MAX_BROKERS];                     /* broker.rack per broker, NULL = none (heap) */
    int32_t nlisteners;                                      /* entries of `listeners` */
    int32_t ports[SK_CLUSTER_MAX_BROKERS][SK_LISTENERS_MAX]; /* port each broker binds, 0 = ephemeral */
    int32_t bound[SK_CLUSTER_MAX_BROKERS][SK_LISTENERS_MAX]; /* port it bound */
    sk_htab topics;                                          /* troute by name */
    char *dir;  /* data directory of cluster-routes.json, NULL = not saved (heap) */
    bool dirty; /* routing state changed since it was saved */
};

int32_t cluster_index(const sk_cluster *c, int32_t node_id);
int32_t cluster_elect(const sk_cluster *c, const proute *p);
int32_t cluster_topic_partitions(sk_broker *b, const char *name);
proute *cluster_proute(sk_broker *b, const char *topic, int32_t partitions, int32_t partition, troute **t);
void cluster_fill_route(const sk_cluster *c, const proute *p, sk_route *out);
int cluster_new_epoch(sk_broker *b, const char *topic, int32_t partition, proute *p);
int64_t cluster_now_ms(void);
/* The routes of topic `name`, NULL when none are held. */
troute *cluster_topic_find(const sk_cluster *c, const char *name);
/* The routes of topic `name`, created (empty) when absent; NULL when out of memory. */
troute *cluster_topic_get(sk_cluster *c, const char *name);
/* Fills `p` with partition `index`'s assignment (replicas, ISR of those up,
 * leader), epoch untouched. */
void cluster_assign_partition(sk_broker *b, const troute *t, int32_t index, proute *p);
/* Saves the routing state (cluster_store.c) when it changed since the last
 * save; a failed write is logged and retried at the next change. */
void cluster_flush(sk_broker *b);
/* Completes the reassignment in progress of `p` when every target replica
 * is up (in the ISR): the replicas become the target, a leader that left
 * is replaced, and the epoch is bumped when the leader changed or a replica
 * left (Kafka's PartitionChangeBuilder). Returns 0, -1 when out of memory. */
int cluster_complete_reassignment(sk_broker *b, const troute *t, int32_t partition, proute *p);

#endif
