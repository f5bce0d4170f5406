/*
 * Several brokers in one process (skiff.cluster.brokers, docs/cluster.md): a
 * test fixture, not replication. N node ids (node.id .. node.id + N - 1)
 * each get their own listener sockets over the one log store; what differs
 * between them is routing state, kept here: each partition's replica list,
 * leader, leader epoch (with the offsets where each epoch began, for
 * OffsetForLeaderEpoch) and ISR, and which brokers are down. The group and
 * transaction coordinators are the leaders of the __consumer_offsets /
 * __transaction_state partition of their key, as in Kafka.
 *
 * With one broker (the default) nothing is allocated per partition: every
 * partition is led by node.id in epoch 0, as before.
 *
 * Routing state (replicas, leaders, epochs, replication factors) is saved
 * in the data directory after every change and reloaded at start
 * (cluster_store.c); which brokers are down is not: a restart brings them
 * all up.
 */
#ifndef SKIFF_CLUSTER_H
#define SKIFF_CLUSTER_H

#include <stdbool.h>
#include <stdint.h>

#include "skiff/broker.h"
#include "skiff/proto.h"

struct sk_request;
typedef struct sk_cluster sk_cluster;

/* Most brokers one process serves (skiff.cluster.brokers). */
#define SK_CLUSTER_MAX_BROKERS 16

/* Where a partition is served. Node ids, -1 = none. */
typedef struct sk_route {
    int32_t leader;                           /* -1 while no replica is up (leaderless) */
    int32_t leader_epoch;                     /* bumped on every leader change */
    int32_t nreplicas;                        /* replication factor */
    int32_t replicas[SK_CLUSTER_MAX_BROKERS]; /* assignment order; replicas[0] the preferred leader */
    int32_t nisr;                             /* entries in isr */
    int32_t isr[SK_CLUSTER_MAX_BROKERS];      /* replicas of brokers that are up (all of them when none is down) */
} sk_route;

/* Builds b->cluster from the configuration (skiff.cluster.brokers,
 * skiff.cluster.ports, broker.rack, default.replication.factor). Returns 0,
 * or -1 (logged, naming the key) on a bad value or out of memory. */
int sk_cluster_open(sk_broker *b);
/* Loads the routing state saved in `dir` (cluster-routes.json) and saves
 * every later change there; call once the catalog and the log store are
 * open (a partition saved without a leader elects one, in a new epoch,
 * stamped on its log). Nothing with one broker. Returns 0 (also when
 * nothing was saved), or -1 (logged) on an unreadable or malformed file. */
int sk_cluster_load(sk_broker *b, const char *dir);
/* Frees b->cluster (NULL-safe). */
void sk_cluster_close(sk_broker *b);

/* Number of brokers (1 when b->cluster is NULL). */
int32_t sk_cluster_size(const sk_broker *b);
/* Node id of broker `index` (0 .. size-1). */
int32_t sk_cluster_node_id(const sk_broker *b, int32_t index);
/* True when `node_id` is one of the brokers (up or down). */
bool sk_cluster_node_id_known(const sk_broker *b, int32_t node_id);
/* True when `node_id` is one of the brokers and is up. */
bool sk_cluster_node_up(const sk_broker *b, int32_t node_id);
/* broker.rack of `node_id`, or NULL when none is configured. */
const char *sk_cluster_rack(const sk_broker *b, int32_t node_id);
/* The controller id Metadata and DescribeCluster report: the lowest node
 * id that is up (-1 when none). */
int32_t sk_cluster_controller(const sk_broker *b);

/* The port broker `index` binds for listener `listener` (index into
 * `listeners`) when the configured port is `configured`: the explicit
 * skiff.cluster.ports entry, else configured + index (0 stays 0). */
int32_t sk_cluster_listen_port(const sk_broker *b, int32_t index, int32_t listener, int32_t configured);
/* Records the port broker `index` bound for listener `listener`. */
void sk_cluster_set_bound_port(sk_broker *b, int32_t index, int32_t listener, int32_t port);
/* The port broker `index` bound for listener `listener` (0 before it did). */
int32_t sk_cluster_bound_port(const sk_broker *b, int32_t index, int32_t listener);
/* The port to advertise for `node_id` on listener `listener`, given that
 * the advertised.listeners entry of that listener (or, without one, the
 * first broker's own address) says `advertised` for node.id: advertised
 * ports move with the bound ports (advertised + offset of the broker's
 * configured port); ephemeral ports are advertised as bound. */
int32_t sk_cluster_advertised_port(const sk_broker *b, int32_t node_id, int32_t listener, int32_t advertised,
                                   bool from_advertised_listeners);
/* The endpoint of `node_id` as the client of `req` must reach it: the host
 * the request's connection advertises, the node's port on the same
 * listener. */
void sk_cluster_endpoint(const struct sk_request *req, int32_t node_id, kf_str *host, int32_t *port);

/* Replica assignment (Kafka's rack-unaware AdminUtils.assignReplicasToBrokers):
 * the replicas of `partition` among `n` brokers (indexes 0..n-1) with
 * replication factor `rf` (<= n), the topic's start index and replica shift
 * (each 0..n-1). Writes rf indexes to `out`, the first the preferred leader. */
void sk_cluster_assign(int32_t n, int32_t rf, int32_t partition, int32_t start, int32_t shift, int32_t *out);

/* Kafka's rack-aware assignment (AdminUtils.assignReplicasToBrokersRackAware),
 * used when every broker has broker.rack: brokers are listed alternating
 * between racks (racks in name order, each rack's brokers in index order),
 * then placed as the rack-unaware assignment places them on that list, but
 * skipping a broker whose rack already holds a replica while some rack holds
 * none (and a broker already chosen while some broker is not). `racks[i]`
 * is broker i's rack; other arguments as sk_cluster_assign. */
void sk_cluster_assign_racks(int32_t n, const char *const *racks, int32_t rf, int32_t partition, int32_t start,
                             int32_t shift, int32_t *out);

/* The route of partition `partition` of topic `topic` that has `partitions`
 * partitions (created on first use from the assignment). Returns 0, or -1
 * when out of memory (then *out is the single-broker route). */
int sk_cluster_route(sk_broker *b, const char *topic, int32_t partitions, int32_t partition, sk_route *out);
/* A route with its lists as Metadata-style answers carry them. */
typedef struct sk_route_lists {
    sk_route route;                    /* leader, epoch, replicas and ISR */
    int32_t *replicas, *isr, *offline; /* in the request arena */
    int32_t noffline;                  /* replicas on brokers that are down */
} sk_route_lists;
/* Fills *out for the partition (sk_cluster_route); 0, or -1 when out of
 * memory. */
int sk_cluster_route_lists(struct sk_request *req, const char *topic, int32_t partitions, int32_t partition,
                           sk_route_lists *out);
/* The node ids of the brokers that are up, ascending, into `ids` (room for
 * SK_CLUSTER_MAX_BROKERS); returns how many. */
int32_t sk_cluster_brokers_up(const sk_broker *b, int32_t *ids);
/* A topic was created with replication factor `rf` (CreateTopics): its
 * routes start afresh with it. 0, or -1 when out of memory. */
int sk_cluster_set_replication_factor(sk_broker *b, const char *topic, int32_t rf);
/* A manual assignment (CreateTopics, CreatePartitions) of a partition just
 * created: its replicas are `ids` (n node ids, checked by the caller to be
 * distinct brokers), the ISR those up, the leader the first up; its epoch
 * is unchanged. Nothing with one broker. 0, or -1 when out of memory. */
int sk_cluster_place(sk_broker *b, const char *topic, int32_t partitions, int32_t partition, const int32_t *ids,
                     int32_t n);
/* Forgets the routes of a deleted topic (a topic created later with its
 * name starts afresh, in epoch 0). */
void sk_cluster_topic_deleted(sk_broker *b, const char *topic);
/* Checks that the broker `req` arrived at leads the partition, as Kafka's
 * Partition.getLocalLog does for a request that needs the leader: a
 * current_leader_epoch (-1 = none) older than the partition's is
 * FENCED_LEADER_EPOCH, newer UNKNOWN_LEADER_EPOCH; then, whenever this
 * broker is not the leader (also while there is none),
 * NOT_LEADER_OR_FOLLOWER. Fills *route when not NULL. */
int16_t sk_cluster_check_leader(struct sk_request *req, const char *topic, int32_t partitions, int32_t partition,
                                int32_t current_leader_epoch, sk_route *route);
/* KIP-320 OffsetForLeaderEpoch of the partition: the epoch at or below
 * `epoch` and the offset where the next epoch began (the log end offset
 * `leo` for the current epoch); -1/-1 for an unknown (newer) epoch. */
void sk_cluster_epoch_end(sk_broker *b, const char *topic, int32_t partitions, int32_t partition, int32_t epoch,
                          int64_t leo, int64_t log_start, int32_t *out_epoch, int64_t *out_offset);

/* The leader epoch in which `offset` of the partition was written (the
 * newest epoch that began at or before it; 0 with one broker). */
int32_t sk_cluster_epoch_at(sk_broker *b, const char *topic, int32_t partitions, int32_t partition, int64_t offset);

/* True when `node_id` is one of the route's replicas. */
bool sk_route_has_replica(const sk_route *r, int32_t node_id);
/* KIP-392 with replica.selector.class set (RackAwareReplicaSelector): the
 * replica a consumer in `rack` should fetch from, a replica in the ISR in
 * that rack, unless the leader is in it; -1 for the leader. */
int32_t sk_cluster_preferred_read_replica(const sk_broker *b, const sk_route *r, kf_str rack);

/* Coordinator key types (FindCoordinator's key_type). */
enum { SK_COORD_GROUP = 0, SK_COORD_TXN = 1 };
/* The node coordinating `key` (a group id or transactional id): the leader
 * of its partition of __consumer_offsets / __transaction_state (Kafka's
 * abs(hashCode) % partitions). -1 while that partition has no leader. */
int32_t sk_cluster_coordinator(sk_broker *b, int key_type, const char *key, size_t len);

/* AlterPartitionReassignments of one partition (KIP-455), `ids` (n node
 * ids, distinct brokers, checked by the caller) the target replicas, or
 * NULL to cancel. As Kafka's controller: the replicas become the target
 * followed by the original replicas leaving it, those joining are `adding`
 * and those leaving `removing`; the reassignment completes when every
 * target replica is in the ISR, here at once unless one is down (then when
 * it comes back): the replicas become the target, a leader that left is
 * replaced by the first target replica in the ISR, and the leader epoch is
 * bumped when the leader changed or a replica left. Cancelling reverts to
 * the replicas without those joining. With one broker nothing moves.
 * Returns NONE, NO_REASSIGNMENT_IN_PROGRESS (cancel with none),
 * INVALID_REPLICA_ASSIGNMENT (a node that is not a broker) or
 * KAFKA_STORAGE_ERROR (memory). */
int16_t sk_cluster_reassign(sk_broker *b, const char *topic, int32_t partitions, int32_t partition, const int32_t *ids,
                            int32_t n);
/* The reassignment in progress of the partition: true with the node ids
 * joining (`adding`) and leaving (`removing`), each with room for
 * SK_CLUSTER_MAX_BROKERS; false when there is none. */
bool sk_cluster_reassignment(sk_broker *b, const char *topic, int32_t partition, int32_t *adding, int32_t *nadding,
                             int32_t *removing, int32_t *nremoving);

/* ---- Controls (HTTP control plane) ---- */

/* Makes `node_id` the leader of the partition (-1: the next replica that is
 * up after the current leader); it joins the replicas if it is not one. The
 * leader epoch is bumped even when the leader stays. Returns
 * UNKNOWN_TOPIC_OR_PARTITION, BROKER_NOT_AVAILABLE (node down or unknown),
 * or NONE; *route gets the new route. */
int16_t sk_cluster_move_leader(sk_broker *b, const char *topic, int32_t partition, int32_t node_id, sk_route *route);
/* Leaves the partition without a leader (LEADER_NOT_AVAILABLE in
 * Metadata, NOT_LEADER_OR_FOLLOWER everywhere) for `ms` milliseconds, in a
 * new leader epoch; the first look at it after that elects the first
 * replica up in its ISR, in another. Returns UNKNOWN_TOPIC_OR_PARTITION,
 * BROKER_NOT_AVAILABLE (one broker), or NONE with *route. */
int16_t sk_cluster_leaderless(sk_broker *b, const char *topic, int32_t partition, int64_t ms, sk_route *route);
/* ElectLeaders (KIP-183, KIP-460) for one partition of a topic with
 * `partitions` partitions. Preferred (`unclean` false): NONE after making
 * the first replica the leader, ELECTION_NOT_NEEDED when it already is,
 * PREFERRED_LEADER_NOT_AVAILABLE when it is down or out of the ISR.
 * Unclean: ELECTION_NOT_NEEDED while there is a leader, else NONE after
 * electing a replica that is up (the ISR's first), or
 * ELIGIBLE_LEADERS_NOT_AVAILABLE. With one broker: ELECTION_NOT_NEEDED. */
int16_t sk_cluster_elect(sk_broker *b, const char *topic, int32_t partitions, int32_t partition, bool unclean);
/* Moves the leader of every partition of every topic to another replica
 * that is up (at random); returns the number of partitions moved. */
int32_t sk_cluster_shuffle(sk_broker *b, uint32_t seed);
/* Takes `node_id` down (its connections are closed and its listening
 * sockets too, so new connections are refused;
 * it leaves every ISR; the partitions it led move to the first replica of
 * their assignment that is up, or stay leaderless when `leaderless` or no
 * replica is up) or brings it back (it rejoins every ISR, and leaderless
 * partitions it holds get it as leader). Returns NONE, or
 * BROKER_NOT_AVAILABLE for an unknown node, INVALID_REQUEST when taking
 * down the last broker that is up. */
int16_t sk_cluster_set_down(sk_broker *b, int32_t node_id, bool down, bool leaderless);

#endif
