/*
 * The group coordinator, classic protocol: consumer groups (and any other
 * protocol type) that join, sync, heartbeat and leave, with their committed
 * offsets. This node coordinates every group. Kafka's rules are followed
 * observably (Apache Kafka 4.0 GroupMetadataManager and ClassicGroup):
 * member ids handed out by the broker (KIP-394), static membership
 * (KIP-345), session and rebalance timeouts, generation fencing, and
 * offsets that expire offsets.retention.minutes after a group empties.
 *
 * The state machine lives in src/coord/group.c, whose header comment has
 * the state diagram, the transition table and the state x API matrix.
 *
 * Requests come in as the decoded protocol structs (kf_msgs.h) and answers
 * go out as response structs. JoinGroup and SyncGroup may wait for other
 * members: their answers are delivered through the callbacks in
 * sk_groups_opts, possibly before the call returns. Every pointer inside an
 * answer (member ids, metadata, assignments) is borrowed from the
 * coordinator and valid only until the callback returns, or, for the
 * synchronous calls, until the next call into the coordinator; encode the
 * answer before that. Callbacks must not call back into the coordinator.
 *
 * Durability: every change Kafka writes to __consumer_offsets (group
 * metadata, offset commits, tombstones) is handed to sk_group_store.append
 * as records in Kafka's key and value formats (group metadata key v2 /
 * value v3, offset commit key v1 / value v3, or v1 with an expire
 * timestamp) before the change is applied and answered. At start, the
 * stored records are fed back through sk_groups_replay, then
 * sk_groups_loaded arms the members' session timers.
 *
 * Timers (session, rebalance, pending sync, initial rebalance delay, offset
 * expiration) are deadlines on one heap; with an event base the earliest
 * arms a libevent timer, without one (tests) sk_groups_run_timers fires what
 * is due by the injected clock. One thread owns everything (no locks).
 */
#ifndef SKIFF_GROUP_H
#define SKIFF_GROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kf_msgs.h"
#include "skiff/arena.h"
#include "skiff/config.h"

struct event_base;

typedef struct sk_groups sk_groups;

/* Classic group states (ClassicGroupState). */
typedef enum sk_group_state {
    SK_GROUP_EMPTY = 0,                /* no members (maybe committed offsets) */
    SK_GROUP_PREPARING_REBALANCE = 1,  /* waiting for members to (re)join */
    SK_GROUP_COMPLETING_REBALANCE = 2, /* joined; waiting for the leader's assignment */
    SK_GROUP_STABLE = 3,               /* assignment handed out */
    SK_GROUP_DEAD = 4,                 /* removed (deleted or expired) */
} sk_group_state;

/* Kafka's name of a state ("PreparingRebalance"); static storage. */
const char *sk_group_state_name(sk_group_state s);

/* One __consumer_offsets record in Kafka's formats (key and value start
 * with their int16 version). value == NULL is a tombstone. */
typedef struct sk_group_record {
    const uint8_t *key;
    size_t key_len;
    const uint8_t *value; /* NULL for a tombstone */
    size_t value_len;
} sk_group_record;

/* One batch the coordinator writes to __consumer_offsets. */
typedef struct sk_group_batch {
    int32_t partition;              /* of __consumer_offsets (Kafka's rule: abs(Java
                                     * hashCode of the group id) % offsets.topic.num.partitions) */
    const sk_group_record *records; /* n, in order */
    int n;
    int64_t producer_id;    /* -1; a TxnOffsetCommit's producer: the batch is transactional */
    int16_t producer_epoch; /* -1, or the producer's epoch */
    int64_t now_ms;         /* append time */
} sk_group_batch;

/* Where the coordinator writes __consumer_offsets. */
typedef struct sk_group_store {
    /* Appends the batch as one record batch. Returns SK_ERR_NONE once the
     * records are stored, with the offset of the first one in *base_offset
     * (the coordinator orders transactional and plain commits of a
     * partition by it, as Kafka does), or a Kafka error code (the
     * operation then fails as Kafka's does: KAFKA_STORAGE_ERROR becomes
     * NOT_COORDINATOR, and so on). */
    int16_t (*append)(void *arg, const sk_group_batch *batch, int64_t *base_offset);
    void *arg;
} sk_group_store;

/* Answers to parked requests: `waiter` is what the caller passed in. */
typedef void (*sk_group_join_done)(void *waiter, const kf_join_group_response *resp);
typedef void (*sk_group_sync_done)(void *waiter, const kf_sync_group_response *resp);

/* Topic lookups for consumer-protocol groups (KIP-848 assigns by topic
 * id). Names and ids are borrowed for the duration of the call. */
typedef struct sk_group_topics {
    /* The id and partition count of topic `name`; false when it does not exist. */
    bool (*by_name)(void *arg, const char *name, uint8_t id[16], int32_t *partitions);
    /* The name of the topic with `id`, or NULL when it does not exist. */
    const char *(*by_id)(void *arg, const uint8_t id[16]);
    /* Calls fn(ctx, name) for every topic, internal ones included (regex
     * subscriptions match them, as in Kafka). */
    void (*each)(void *arg, void (*fn)(void *ctx, const char *name), void *ctx);
    void *arg;
} sk_group_topics;

typedef struct sk_groups_opts {
    int64_t (*now_ms)(void *arg);  /* wall clock, ms; NULL = CLOCK_REALTIME. Tests inject one. */
    void *clock_arg;               /* passed to now_ms */
    struct event_base *base;       /* loop for the timer; NULL = call sk_groups_run_timers */
    const sk_group_store *store;   /* NULL = keep state in memory only */
    sk_group_join_done join_done;  /* required */
    sk_group_sync_done sync_done;  /* required */
    int32_t num_partitions;        /* partitions of __consumer_offsets; 0 = offsets.topic.num.partitions */
    const sk_group_topics *topics; /* NULL = no topics (consumer groups get empty assignments) */
} sk_groups_opts;

/* Creates the coordinator. `cfg` (borrowed, outlives it) gives
 * group.min/max.session.timeout.ms, group.max.size,
 * group.initial.rebalance.delay.ms, offsets.retention.minutes and
 * offsets.topic.num.partitions. Returns NULL when out of memory. */
sk_groups *sk_groups_open(const sk_config *cfg, const sk_groups_opts *opts);
/* Consumer groups take their session timeout and heartbeat interval from
 * `gc` (skiff/group_configs.h; borrowed, outlives `gs`; NULL = the broker's
 * settings), from their next heartbeat on. */
struct sk_group_configs;
void sk_groups_set_configs(sk_groups *gs, const struct sk_group_configs *gc);
/* Shutdown begins: every parked JoinGroup and SyncGroup is answered
 * NOT_COORDINATOR now (as Kafka answers them when a coordinator unloads),
 * and later ones at once, so connections can drain. State is kept. */
void sk_groups_unload(sk_groups *gs);
/* Answers what is still parked with NOT_COORDINATOR (the callbacks run),
 * then frees everything. NULL is a no-op. */
void sk_groups_close(sk_groups *gs);

/* Fires every timer whose deadline has passed by the clock; returns how
 * many fired. The libevent timer calls it; tests call it after moving the
 * fake clock. */
int sk_groups_run_timers(sk_groups *gs);
/* Earliest armed deadline (ms by the clock), or -1 when none is armed. */
int64_t sk_groups_next_deadline(const sk_groups *gs);

/* The partition of __consumer_offsets that holds `group_id` (`len` bytes of
 * UTF-8): abs(String.hashCode) % partitions, as Kafka computes it. */
int32_t sk_group_partition_for(const char *group_id, size_t len, int32_t partitions);

/* ---- Classic group membership ---- */

/* Who sends a request: client id and host as DescribeGroups shows them
 * ("/127.0.0.1", as Kafka prints an InetAddress). Borrowed. */
typedef struct sk_group_client {
    const char *client_id;
    const char *client_host;
    /* Whether the sender may DESCRIBE topic `name`: a ConsumerGroupHeartbeat's
     * regular expressions resolve only to such topics (Kafka's
     * GroupMetadataManager.filterTopicDescribeAuthorizedTopics). NULL = every
     * topic (no authorizer). */
    bool (*may_describe)(void *arg, const char *name);
    void *arg; /* passed to may_describe */
} sk_group_client;

/* JoinGroup at `version` (its rules differ: v0 has no rebalance timeout,
 * v4+ requires a member id first, v9 may skip the assignment). The answer
 * comes through join_done(waiter, ...), now or when the rebalance
 * completes. Errors: INVALID_GROUP_ID, INVALID_SESSION_TIMEOUT,
 * UNKNOWN_MEMBER_ID, MEMBER_ID_REQUIRED, INCONSISTENT_GROUP_PROTOCOL,
 * GROUP_MAX_SIZE_REACHED, FENCED_INSTANCE_ID, REBALANCE_IN_PROGRESS (a
 * newer JoinGroup of the same member replaced this one), NOT_COORDINATOR
 * (store failure or shutdown). */
void sk_group_join(sk_groups *gs, const sk_group_client *client, int16_t version, const kf_join_group_request *req,
                   void *waiter);
/* SyncGroup at `version`: the leader's assignment is stored and handed to
 * every member; followers wait for it. The answer comes through
 * sync_done(waiter, ...). Errors: INVALID_GROUP_ID, UNKNOWN_MEMBER_ID,
 * FENCED_INSTANCE_ID, ILLEGAL_GENERATION, INCONSISTENT_GROUP_PROTOCOL,
 * REBALANCE_IN_PROGRESS, NOT_COORDINATOR / COORDINATOR_NOT_AVAILABLE
 * (store failure or shutdown). */
void sk_group_sync(sk_groups *gs, int16_t version, const kf_sync_group_request *req, void *waiter);
/* Heartbeat: returns NONE, INVALID_GROUP_ID, UNKNOWN_MEMBER_ID,
 * FENCED_INSTANCE_ID, ILLEGAL_GENERATION or REBALANCE_IN_PROGRESS. */
int16_t sk_group_heartbeat(sk_groups *gs, const kf_heartbeat_request *req);
/* LeaveGroup of `n` members (v0-2 callers pass their one member_id as a
 * member with a null group instance id). Fills out[i] (caller-allocated, n
 * entries) with each member's id, instance id and error (UNKNOWN_MEMBER_ID,
 * FENCED_INSTANCE_ID). Returns the group-level error: NONE or
 * INVALID_GROUP_ID (a group that does not exist answers UNKNOWN_MEMBER_ID
 * per member). */
int16_t sk_group_leave(sk_groups *gs, kf_str group_id, const kf_leave_group_request_member *members, int32_t n,
                       kf_leave_group_response_member *out);

/* ---- Consumer-protocol groups (KIP-848) ---- */

/* ConsumerGroupHeartbeat at `version` (src/coord/cgroup.c): joins (member
 * epoch 0), heartbeats, reconciles and leaves (-1, static -2). Fills
 * `resp` (strings and the assignment allocated in `arena`). Errors:
 * INVALID_REQUEST, GROUP_ID_NOT_FOUND (a classic group with members),
 * UNKNOWN_MEMBER_ID, FENCED_MEMBER_EPOCH, FENCED_INSTANCE_ID,
 * UNRELEASED_INSTANCE_ID, UNSUPPORTED_ASSIGNOR, GROUP_MAX_SIZE_REACHED,
 * and the store's (NOT_COORDINATOR...). Returns 0, or -1 when out of
 * memory. */
int sk_cgroup_heartbeat(sk_groups *gs, const sk_group_client *client, int16_t version,
                        const kf_consumer_group_heartbeat_request *req, kf_consumer_group_heartbeat_response *resp,
                        sk_arena *arena);
/* Describes one group for ConsumerGroupDescribe into `out`: unknown or
 * classic groups get GROUP_ID_NOT_FOUND. Returns 0, or -1 when out of memory. */
int sk_cgroup_describe(sk_groups *gs, kf_str group_id, kf_consumer_group_describe_response_described_group *out,
                       sk_arena *arena);
/* OffsetFetch v9's member check for a consumer group: NONE when the group
 * is not one or `member_id` is null; UNKNOWN_MEMBER_ID, STALE_MEMBER_EPOCH. */
int16_t sk_cgroup_validate_fetch(sk_groups *gs, kf_str group_id, kf_str member_id, int32_t member_epoch);

/* ---- Administration ---- */

/* Describes one group into `out` (DescribeGroups; member metadata and
 * assignments in Stable only, assignments always). An unknown group is
 * described as Dead with no error. Arrays are allocated in `arena`. Returns
 * 0, or -1 when out of memory. */
int sk_group_describe(sk_groups *gs, kf_str group_id, kf_describe_groups_response_group *out, sk_arena *arena);
/* Lists groups for ListGroups: those whose state (case-insensitive, Kafka's
 * names) is in `states` and whose type ("classic") is in `types`; an empty
 * or null filter matches all. Allocates *out in `arena`; returns the count,
 * or -1 when out of memory. */
int32_t sk_groups_list(sk_groups *gs, const kf_str *states, int32_t nstates, const kf_str *types, int32_t ntypes,
                       kf_list_groups_response_group **out, sk_arena *arena);
/* The topic `topic` was deleted: every group's committed and pending
 * transactional offsets of its partitions go, each with a tombstone in
 * __consumer_offsets (OffsetMetadataManager.onPartitionsDeleted), so a
 * topic created again under the name starts without them. A group whose
 * tombstones cannot be stored keeps its offsets (logged). */
void sk_groups_topic_deleted(sk_groups *gs, const char *topic);
/* Deletes an empty group and its committed offsets (DeleteGroups).
 * Returns NONE, GROUP_ID_NOT_FOUND, NON_EMPTY_GROUP, or the store's error. */
int16_t sk_group_delete(sk_groups *gs, kf_str group_id);

/* ---- Offsets ---- */

/* OffsetCommit at `version`. `resp` must mirror req->topics (same topics and
 * partitions, in order) with each partition's error_code preset: partitions
 * preset to an error (e.g. UNKNOWN_TOPIC_OR_PARTITION) are skipped; the
 * others get NONE, OFFSET_METADATA_TOO_LARGE (metadata over 4096 bytes) or
 * the group's error: INVALID_GROUP_ID, ILLEGAL_GENERATION,
 * GROUP_ID_NOT_FOUND (v9+, unknown group with a generation),
 * UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID, REBALANCE_IN_PROGRESS,
 * COORDINATOR_NOT_AVAILABLE / NOT_COORDINATOR (store failure). A commit
 * with generation -1 and no member creates a "simple" group when needed. */
void sk_group_commit_offsets(sk_groups *gs, int16_t version, const kf_offset_commit_request *req,
                             kf_offset_commit_response *resp);
/* OffsetFetch for one group (the v8+ shape; callers of v0-7 convert).
 * `topics` NULL with `ntopics` -1 asks for every partition with a committed offset. Fills
 * `out` (arrays in `arena`): committed offset, leader epoch and metadata,
 * or -1, -1, "" for partitions without one (and for unknown groups). With
 * `require_stable`, partitions with a pending transactional commit answer
 * UNSTABLE_OFFSET_COMMIT. Returns 0, or -1 when out of memory. */
int sk_group_fetch_offsets(sk_groups *gs, kf_str group_id, const kf_offset_fetch_request_group_topic *topics,
                           int32_t ntopics, bool require_stable, kf_offset_fetch_response_group *out, sk_arena *arena);
/* OffsetDelete (KIP-496). `resp` mirrors req->topics with partition errors
 * preset as for sk_group_commit_offsets; the others get NONE or
 * GROUP_SUBSCRIBED_TO_TOPIC. Returns the group-level error: NONE,
 * INVALID_GROUP_ID, GROUP_ID_NOT_FOUND, NON_EMPTY_GROUP, or the store's. */
int16_t sk_group_delete_offsets(sk_groups *gs, const kf_offset_delete_request *req, kf_offset_delete_response *resp);

/* ---- Transactional offset commits (KIP-98, KIP-447) ----
 * TxnOffsetCommit writes the offsets to __consumer_offsets in a
 * transactional batch of the producer, and keeps them pending until the
 * transaction's marker reaches that partition; OffsetFetch with
 * require_stable reports them as UNSTABLE_OFFSET_COMMIT meanwhile. */

/* TxnOffsetCommit (the transaction coordinator has checked the producer).
 * `resp` mirrors req->topics with partition errors preset as for
 * sk_group_commit_offsets; the others get NONE, OFFSET_METADATA_TOO_LARGE,
 * or the group's error (ClassicGroup.validateOffsetCommit for a
 * transactional commit, v3 member fields): INVALID_GROUP_ID,
 * ILLEGAL_GENERATION (unknown group with a generation, or another
 * generation), UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID, or the store's.
 * Without a generation an unknown group is created as a simple group.
 * Scratch copies of the topics go to `arena`. Returns 0, or -1 when out of
 * memory (nothing committed). */
int sk_group_txn_commit_offsets(sk_groups *gs, const kf_txn_offset_commit_request *req,
                                kf_txn_offset_commit_response *resp, sk_arena *arena);
/* A COMMIT (`commit`) or ABORT marker of `producer_id` was written to (or
 * replayed from) partition `partition` of __consumer_offsets: the
 * producer's pending offsets of the groups on that partition are
 * committed, unless a later record (by offset in the partition) already
 * committed the same topic partition, or dropped. */
void sk_groups_txn_marker(sk_groups *gs, int32_t partition, int64_t producer_id, bool commit);

/* ---- Persistence and introspection ---- */

struct sk_broker;
/* The coordinator of a running broker, stored in the log store: creates
 * __consumer_offsets when missing (offsets.topic.num.partitions partitions,
 * cleanup.policy=compact; an existing topic keeps its partition count, as
 * in Kafka), opens the coordinator on the broker's loop with a store that
 * appends one uncompressed record batch per change, replays every
 * partition from its log start offset (transaction markers completing the
 * pending transactional offsets) and arms the loaded members' sessions. Returns NULL on failure (logged). */
sk_groups *sk_groups_start(struct sk_broker *b, sk_group_join_done join_done, sk_group_sync_done sync_done);

/* Applies one stored __consumer_offsets record (replay at start): `offset`
 * is its offset in the partition, `producer_id` that of its batch when the
 * batch is transactional (its offsets are then pending until
 * sk_groups_txn_marker replays the marker), else -1. Unknown key versions
 * (KIP-848 and share-group records) are skipped. Returns 0, or -1 when the
 * record is malformed (logged, skipped). */
int sk_groups_replay(sk_groups *gs, const sk_group_record *rec, int64_t offset, int64_t producer_id);
/* Replays one record batch of partition `partition` of __consumer_offsets
 * (parsed, whole; compressed ones inflated up to `cap` bytes): its records
 * through sk_groups_replay (with the producer id when the batch is
 * transactional), a transaction marker through sk_groups_txn_marker.
 * Unreadable batches are logged and skipped. */
struct sk_batch;
void sk_groups_replay_batch(sk_groups *gs, int32_t partition, const struct sk_batch *batch, size_t cap);
/* Ends the replay: arms the session timer of every loaded member. */
void sk_groups_loaded(sk_groups *gs);

/* The state of `group_id`, or SK_GROUP_DEAD when it does not exist. */
sk_group_state sk_group_state_of(sk_groups *gs, const char *group_id);
/* The generation of `group_id`, or -1 when it does not exist. */
int32_t sk_group_generation_of(sk_groups *gs, const char *group_id);
/* Number of groups. */
size_t sk_groups_count(const sk_groups *gs);

/* Control plane (src/coord/group_control.c). Members of `group_id`, or -1
 * when it does not exist. */
int32_t sk_group_member_count(sk_groups *gs, const char *group_id);
/* Starts a rebalance of a Stable or CompletingRebalance group (members see
 * REBALANCE_IN_PROGRESS on their next heartbeat). NONE (also when one is
 * already in progress), GROUP_ID_NOT_FOUND, or NON_EMPTY_GROUP standing for
 * "the group is Empty: nothing to rebalance". */
int16_t sk_group_force_rebalance(sk_groups *gs, const char *group_id);
/* Removes a member as if its session had expired (then rebalances).
 * NONE, GROUP_ID_NOT_FOUND, UNKNOWN_MEMBER_ID, or REBALANCE_IN_PROGRESS when
 * the member is parked in a JoinGroup or SyncGroup (alive by definition). */
int16_t sk_group_expire_member(sk_groups *gs, const char *group_id, const char *member_id);

#endif
