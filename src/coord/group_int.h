/*
 * Internals of the group coordinator shared by src/coord/group*.c: the
 * group, member and offset structures, the timer heap, the group table and
 * the helpers every part uses (state changes, the store, records).
 *
 * Files: group_table.c (lifecycle, table, members, state changes),
 * runtime.c (the write: append, then replay), coord_timer.c (the timer
 * heap on the injectable clock, shared with the transaction coordinator),
 * group.c (the state machine: JoinGroup, SyncGroup, Heartbeat, LeaveGroup,
 * timeouts), group_admin.c (DescribeGroups, ListGroups, DeleteGroups),
 * group_offsets.c (commits, fetches, deletes, expiration), group_txn.c
 * (transactional offsets and their markers), group_records.c (__consumer_offsets formats and replay),
 * group_store.c (the store on the log store).
 */
#ifndef SKIFF_GROUP_INT_H
#define SKIFF_GROUP_INT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kf_msgs.h"
#include "skiff/arena.h"
#include "skiff/buf.h"
#include "skiff/group.h"
#include "skiff/htab.h"

#include "coord_timer.h"

/* Kafka's fixed coordinator settings that skiff does not expose. */
#define GROUP_NEW_MEMBER_JOIN_TIMEOUT_MS (5 * 60 * 1000) /* classic new-member join timeout */
#define OFFSET_METADATA_MAX_SIZE 4096                    /* offset.metadata.max.bytes */
#define OFFSETS_RETENTION_CHECK_INTERVAL_MS 600000       /* offsets.retention.check.interval.ms */

typedef struct ggroup ggroup;

/* A deadline on the coordinator's timer facility (coord_timer.h),
 * embedded in its owner; its fn gets the sk_groups as `owner`. */
typedef sk_coord_timer gtimer;

/* A protocol a member supports (JoinGroup protocols, in preference order). */
typedef struct gprotocol {
    char *name;
    uint8_t *metadata;
    int32_t metadata_len;
} gprotocol;

typedef struct gmember {
    ggroup *group;
    /* identity and settings */
    char *member_id;
    char *group_instance_id;     /* static members (KIP-345); NULL = dynamic */
    char *client_id;
    char *client_host;
    int32_t session_timeout_ms;
    int32_t rebalance_timeout_ms;
    gprotocol *protocols;        /* nprotocols, in the member's preference order */
    int32_t nprotocols;
    uint8_t *assignment;         /* from the leader's SyncGroup; NULL = empty */
    int32_t assignment_len;
    /* state */
    void *join_waiter;           /* parked JoinGroup (awaiting join), or NULL */
    int16_t join_version;        /* its request version */
    void *sync_waiter;           /* parked SyncGroup (awaiting sync), or NULL */
    bool is_new;                 /* joined, no join answer yet: may expire while waiting */
    bool pending_sync;           /* joined this generation, has not sent SyncGroup */
    gtimer heartbeat;            /* session expiry */
    struct gmember *next;        /* group's members, in join order */
} gmember;

/* A member id handed out with MEMBER_ID_REQUIRED, not yet joined. */
typedef struct gpending {
    ggroup *group;
    char *member_id;
    gtimer timer;                /* session expiry */
    struct gpending *next;
} gpending;

/* A committed offset. */
typedef struct goffset {
    int32_t partition;
    int64_t offset;
    int32_t leader_epoch;        /* -1 = none */
    char *metadata;              /* metadata_len bytes (any, NUL too) + a NUL; never NULL */
    int32_t metadata_len;
    int64_t commit_timestamp;    /* ms */
    int64_t expire_timestamp;    /* ms; -1 unless a v2-4 commit gave a retention time */
    int64_t record_offset;       /* of its record in __consumer_offsets: the later record wins
                                  * when a transaction commits offsets (-1 = none) */
} goffset;

/* The committed offsets of one topic, sorted by partition. */
typedef struct gtopic {
    char *name;
    goffset *parts;
    int32_t n, cap;
} gtopic;

struct ggroup {
    /* identity */
    char *group_id;
    size_t group_id_len;
    int32_t partition;           /* partition of __consumer_offsets */
    /* state */
    sk_group_state state;
    sk_group_state previous_state;
    int64_t current_state_timestamp; /* ms of the last state change, -1 = unknown */
    int32_t generation_id;
    char *protocol_type;         /* NULL = none yet (simple groups) */
    char *protocol_name;         /* selected protocol; NULL outside a generation */
    gmember *leader;
    gmember *members;            /* in join order */
    int32_t nmembers;
    int32_t nawaiting_join;      /* members with a parked JoinGroup */
    gpending *pending;           /* MEMBER_ID_REQUIRED ids */
    int32_t npending;
    bool new_member_added;       /* a member joined during the initial delay */
    int32_t initial_delay_ms;    /* current step of the initial rebalance delay */
    int32_t initial_remaining_ms;
    gtimer join_timer;           /* join phase deadline (or initial delay) */
    bool join_timer_initial;     /* join_timer is a step of the initial delay */
    gtimer sync_timer;           /* pending-sync deadline */
    int32_t sync_generation;     /* generation the sync deadline belongs to */
    char **subscribed;           /* topics of the consumer protocol subscriptions, sorted, unique */
    int32_t nsubscribed;
    bool subscribed_known;       /* false: not a parsable consumer group */
    struct cgroup *consumer;     /* set: a consumer-protocol group (KIP-848, cgroup_int.h) */
    gtopic *topics;              /* committed offsets */
    int32_t ntopics, topics_cap;
    /* links */
    sk_hnode node;               /* in the table by group id */
    ggroup *prev, *next;         /* all groups, in creation order */
};

/* A pending transactional offset: written to __consumer_offsets in the
 * producer's transactional batch, committed or dropped by its marker. */
typedef struct gtxn_offset {
    int64_t producer_id;
    char *group_id;
    int32_t coord_partition;     /* the group's partition of __consumer_offsets */
    char *topic;
    int32_t partition;
    int64_t offset;
    int32_t leader_epoch;
    char *metadata;              /* as goffset's */
    int32_t metadata_len;
    int64_t commit_timestamp;
    int64_t record_offset;       /* of its record in __consumer_offsets */
    struct gtxn_offset *next;
} gtxn_offset;

/* One partition of a commit, as commit_next (group_offsets.c) yields it. */
typedef struct gcommit {
    int32_t t, p;                /* position in the request (commit_next steps it) */
    const char *topic;
    int32_t partition;
    int64_t offset;
    int32_t leader_epoch;
    kf_str metadata;             /* null = none */
    int16_t *error_code;         /* its answer in the response */
} gcommit;

/* A commit of either kind (OffsetMetadataManager.commitOffset and
 * commitTransactionalOffset), its partitions in OffsetCommit's form (a
 * TxnOffsetCommit's are mirrored into it: the fields are the same). */
typedef struct gcommit_req {
    kf_str group_id;
    kf_str member_id;
    kf_str group_instance_id;
    int32_t generation;
    int16_t unknown_group_error; /* an unknown group with a generation */
    int64_t producer_id;         /* -1: a plain commit; else a transaction's */
    int16_t producer_epoch;
    int64_t expire_timestamp;    /* ms, -1 = none */
    const kf_offset_commit_request_topic *topics;
    int32_t ntopics;
    kf_offset_commit_response_topic *results; /* mirrors topics; partition errors preset */
} gcommit_req;

struct sk_groups {
    /* configuration */
    const sk_config *cfg;
    sk_groups_opts opts;
    sk_group_store store;        /* copy of *opts.store */
    bool has_store;
    int32_t num_partitions;      /* of __consumer_offsets */
    /* state */
    sk_htab index;               /* groups by id; index.count groups; buckets reserved at open */
    ggroup *first, *last;        /* creation order */
    sk_coord_timers timers;      /* every deadline, on the clock of opts.now_ms */
    gtimer expiration;           /* offsets.retention.check.interval.ms */
    gtxn_offset *txn_offsets;    /* pending transactional offsets */
    int64_t next_record_offset;  /* without a store: the offset the next record would get */
    sk_group_topics topics;      /* topic lookups for consumer groups (copy of *opts.topics) */
    bool closing;                /* unloading: parked requests get NOT_COORDINATOR */
    bool writing;                /* coord_write is replaying its own batch (runtime.c) */
};

/* ---- group_table.c ---- */
int64_t group_now(const sk_groups *gs);
ggroup *group_find(sk_groups *gs, const char *id, size_t len);
ggroup *group_find_str(sk_groups *gs, kf_str id);
/* Creates an Empty group; NULL when out of memory. */
ggroup *group_create(sk_groups *gs, const char *id, size_t len);
/* Removes the group (Dead) and frees it, answering any parked request. */
void group_destroy(sk_groups *gs, ggroup *g, const char *reason);
/* True when `to` may follow g's state (ClassicGroupState's valid previous
 * states); false after logging the bug ("BUG: ... illegal transition"). */
bool group_can_transit(const ggroup *g, sk_group_state to);
/* Moves g to `to`, logging "old -> new: reason"; an illegal transition is
 * refused (false, logged as a bug by group_can_transit). */
bool group_set_state(sk_groups *gs, ggroup *g, sk_group_state to, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Checks the group's invariants in debug builds (SK_INVARIANT): member and
 * waiter counts, the leader is a member, the states' member rules. */
void group_check(const ggroup *g);
gmember *member_find(const ggroup *g, const char *member_id);
gmember *member_find_static(const ggroup *g, const char *group_instance_id);
gpending *pending_find(const ggroup *g, const char *member_id);
void pending_remove(sk_groups *gs, gpending *p);
/* Unlinks and frees `m` (no rebalance logic): cancels its timer, answers a
 * parked JoinGroup or SyncGroup with UNKNOWN_MEMBER_ID, picks a new leader. */
void member_remove(sk_groups *gs, gmember *m);
/* Answers a parked JoinGroup / SyncGroup with an error only. */
void answer_join_error(sk_groups *gs, void *waiter, const char *member_id, int16_t err);
void answer_sync_error(sk_groups *gs, void *waiter, int16_t err);
/* Replaces the member's protocols with copies of `p` (n). Returns 0 or -1. */
int member_set_protocols(gmember *m, const kf_join_group_request_protocol *p, int32_t n);
/* The member's metadata for `protocol`, or NULL. */
const gprotocol *member_protocol(const gmember *m, const char *protocol);
int member_set_assignment(gmember *m, const uint8_t *p, int32_t len);
/* Recomputes the subscribed topics from the members' consumer protocol
 * subscriptions (ClassicGroup.computeSubscribedTopics). */
void group_compute_subscribed(ggroup *g);
bool group_is_subscribed(const ggroup *g, const char *topic);
bool group_uses_consumer_protocol(const ggroup *g);
/* The largest rebalance timeout of the members, ms. */
int32_t group_rebalance_timeout(const ggroup *g);


/* Kafka's mapping of a store error to the error a client sees
 * (appendGroupMetadataErrorToResponseError). */
int16_t groups_append_error(int16_t err);

char *gstrndup(const char *s, size_t n);
/* A NUL-terminated heap copy of the bytes of `s` (null: ""), or NULL. */
char *gmemdup(kf_str s);
char *gstrdup(const char *s);

/* ---- group.c ---- */
/* Starts a rebalance if the state allows one, else tries to end the join
 * phase (GroupMetadataManager.maybePrepareRebalanceOrCompleteJoin). */
void group_maybe_rebalance(sk_groups *gs, ggroup *g, const char *reason);
/* Checks a member's identity (ClassicGroup.validateMember): a group
 * instance id unknown -> UNKNOWN_MEMBER_ID, mapped to another member id ->
 * FENCED_INSTANCE_ID; an unknown member id -> UNKNOWN_MEMBER_ID. */
int16_t group_validate_member(const ggroup *g, const char *member_id, kf_str group_instance_id);
/* The group's join-phase and pending-sync deadlines passed. */
void group_join_timer_expired(sk_groups *gs, ggroup *g);
void group_sync_timer_expired(sk_groups *gs, ggroup *g);
/* The member's session timer callback (gmember.heartbeat). */
void member_session_expired(void *owner, gtimer *t);
/* Arms the member's session timer `timeout_ms` from now. */
void group_reschedule_heartbeat(sk_groups *gs, gmember *m, int64_t timeout_ms);

/* ---- group_offsets.c ---- */
goffset *offset_find(const ggroup *g, const char *topic, int32_t partition);
/* Inserts or replaces an offset (metadata copied, null = ""). Returns 0 or -1. */
int offset_put(ggroup *g, const char *topic, int32_t partition, int64_t offset, int32_t leader_epoch,
               kf_str metadata, int64_t commit_timestamp, int64_t expire_timestamp, int64_t record_offset);
/* Applies an offset tombstone: the committed offset and every pending
 * transactional one of the partition are gone (OffsetMetadataManager.replay). */
void offset_remove(sk_groups *gs, ggroup *g, const char *topic, int32_t partition);
void offsets_free(ggroup *g);
/* Validates, stores as one batch (transactional for a producer) and
 * applies a commit; answers through each partition's error_code. */
void group_commit(sk_groups *gs, const gcommit_req *c);
void groups_expiration_fire(void *owner, gtimer *t);

/* ---- group_txn.c ---- */
/* Adds or replaces producer_id's pending offset of a partition for `g`.
 * Returns 0 or -1. */
int txn_offset_put(sk_groups *gs, const ggroup *g, int64_t producer_id, const char *topic, int32_t partition,
                   int64_t offset, int32_t leader_epoch, kf_str metadata, int64_t commit_timestamp,
                   int64_t record_offset);
/* Drops the pending transactional offsets of a group: of one topic
 * partition, or all with `topic` NULL. */
void txn_offsets_drop(sk_groups *gs, const char *group_id, const char *topic, int32_t partition);
/* True when a transaction has a pending offset for the partition; with
 * `topic` NULL, for any partition of the group. */
bool txn_offset_pending(const sk_groups *gs, const char *group_id, const char *topic, int32_t partition);

/* ---- group_records.c ---- */
/* A batch of __consumer_offsets records being built: keys and values are
 * written to one buffer and located by offsets until the batch is sent. */
typedef struct grecs {
    sk_writer w;
    struct grec {
        size_t key_off, key_len;
        size_t value_off, value_len;
        bool tombstone;
    } *items;
    int n, cap;
    int err;                     /* an allocation failed */
    int64_t producer_id;         /* -1 (grecs_init); a transaction's: the batch is transactional */
    int16_t producer_epoch;
} grecs;

/* Adds a record to `b`: a key of record type `type` (`key`, a struct of
 * rt->key) and a value at `version` (`value`, a struct of rt->value; NULL
 * for a tombstone), written by the one codec. A failure sets b->err. */
void grecs_add(grecs *b, const kf_record_type *rt, int16_t type, const void *key, int16_t version,
               const void *value);
/* A NUL-terminated copy of a decoded string in `arena` (null: NULL). */
char *grec_str(sk_arena *arena, kf_str s);
void grecs_init(grecs *b);
void grecs_free(grecs *b);
/* Group metadata (key v2, value v3) of `g` as it is now, members with
 * their current assignments, or with assignments[i] for the i-th member
 * when `assignments` is given (a leader's SyncGroup: replaying the record
 * hands them out); `empty`: the record of a just-created group
 * (generation 0, no protocol, no members). */
void grecs_group_metadata(grecs *b, const ggroup *g, bool empty, const kf_bytes *assignments);
void grecs_group_tombstone(grecs *b, const char *group_id);
/* Offset commit (key v1; value v3, or v1 when it has an expire timestamp). */
void grecs_offset_commit(grecs *b, const char *group_id, const char *topic, int32_t partition, const goffset *o);
void grecs_offset_tombstone(grecs *b, const char *group_id, const char *topic, int32_t partition);
/* Adds to `b` a tombstone for each committed offset of group g (of `topic`
 * only, unless NULL) and one for each partition with only pending
 * transactional offsets. Returns the number of committed offsets. */
int32_t offset_tombstones(const sk_groups *gs, const ggroup *g, const char *topic, grecs *b);

/* ---- runtime.c ---- */
/* The coordinator runtime's write: appends `b` to __consumer_offsets-
 * `partition` and, once it is stored, applies every record through the one
 * replay (sk_groups_replay), so live writes and loading take one path.
 * Nothing is applied when the append fails. Returns NONE or the store's
 * error as groups_append_error maps it (logged). */
int16_t coord_write(sk_groups *gs, int32_t partition, grecs *b);
/* Writes `b`, the tombstones of group `g` and all its offsets, and removes
 * what is left of the group once they are stored (`reason` for the log).
 * Returns as coord_write; `g` is gone on success. */
int16_t group_write_deletion(sk_groups *gs, ggroup *g, grecs *b, const char *reason);

#endif
