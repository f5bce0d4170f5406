/*
 * Internals of the cluster fixture shared by src/meta/cluster.c (brokers,
 * assignment, routes) and src/meta/cluster_control.c (the controls).
 */
#ifndef SKIFF_CLUSTER_INT_H
#define SKIFF_CLUSTER_INT_H

#include <stdint.h>

#include "skiff/cluster.h"
#include "skiff/config.h"
#include "skiff/htab.h"

/* Where a leader epoch began. */
typedef struct epoch_start {
    int32_t epoch;
    int64_t start; /* log end offset when the epoch began */
} epoch_start;

/* One partition's routing state; brokers are indexes 0..n-1. */
typedef struct proute {
    int32_t epoch;                        /* leader epoch */
    int8_t leader;                        /* -1: none */
    uint8_t nrep;                         /* replication factor */
    uint16_t isr;                         /* bit per broker */
    uint8_t rep[SK_CLUSTER_MAX_BROKERS];  /* replicas, assignment order */
    int32_t nhist;
    epoch_start *hist;                    /* epochs after 0, oldest first (heap) */
    int64_t leaderless_until;             /* CLOCK_MONOTONIC ms a control left it leaderless until, 0 = none */
} proute;

/* The routes of one topic, by name. */
typedef struct troute {
    sk_hnode node;        /* in sk_cluster.topics */
    char *name;           /* heap */
    int32_t nparts;       /* routes held */
    int32_t rf;           /* CreateTopics' replication factor; 0 = default.replication.factor */
    int32_t start, shift; /* assignment's start index and replica shift */
    proute *parts;
} troute;

struct sk_cluster {
    int32_t n;                   /* brokers */
    int32_t base_id;             /* node id of broker 0 (node.id) */
    uint32_t down;               /* bit per broker that is down */
    char *racks[SK_CLUSTER_MAX_BROKERS];  /* broker.rack per broker, NULL = none (heap) */
    int32_t nlisteners;          /* entries of `listeners` */
    int32_t ports[SK_CLUSTER_MAX_BROKERS][SK_LISTENERS_MAX]; /* port each broker binds, 0 = ephemeral */
    int32_t bound[SK_CLUSTER_MAX_BROKERS][SK_LISTENERS_MAX]; /* port it bound */
    sk_htab topics;              /* troute by name */
};

int32_t cluster_index(const sk_cluster *c, int32_t node_id);
int32_t cluster_elect(const sk_cluster *c, const proute *p);
int32_t cluster_topic_partitions(sk_broker *b, const char *name);
proute *cluster_proute(sk_broker *b, const char *topic, int32_t partitions, int32_t partition, troute **t);
void cluster_fill_route(const sk_cluster *c, const proute *p, sk_route *out);
int cluster_new_epoch(sk_broker *b, const char *topic, int32_t partition, proute *p);
int64_t cluster_now_ms(void);

#endif
