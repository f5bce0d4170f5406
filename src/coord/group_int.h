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
    char *name;           /* protocol name, e.g. "range" (heap) */
    uint8_t *metadata;    /* its metadata bytes from JoinGroup (heap, never NULL) */
    int32_t metadata_len; /* bytes at metadata */
} gprotocol;

typedef struct gmember {
    ggroup *group; /* the group it belongs to */
    /* identity and settings */
    char *member_id;              /* Kafka's member id (heap) */
    char *group_instance_id;      /* static members (KIP-345); NULL = dynamic */
    char *client_id;              /* the client id of its JoinGroup (heap, "" when none) */
    char *client_host;            /* the address it joined from, "/1.2.3.4" (heap) */
    int32_t session_timeout_ms;   /* JoinGroup's session timeout, ms */
    int32_t rebalance_timeout_ms; /* JoinGroup's rebalance timeout (v0: the session timeout), ms */
    gprotocol *protocols;         /* nprotocols, in the member's preference order */
    int32_t nprotocols;           /* entries at protocols */
    uint8_t *assignment;          /* from the leader's SyncGroup; NULL = empty */
    int32_t assignment_len;       /* bytes at assignment */
    /* state */
    void *join_waiter;    /* parked JoinGroup (awaiting join), or NULL */
    int16_t join_version; /* its request version */
    void *sync_waiter;    /* parked SyncGroup (awaiting sync), or NULL */
    bool is_new;          /* joined, no join answer yet: may expire while waiting */
    bool pending_sync;    /* joined this generation, has not sent SyncGroup */
    gtimer heartbeat;     /* session expiry */
    struct gmember *next; /* group's members, in join order */
} gmember;

/* A member id handed out with MEMBER_ID_REQUIRED, not yet joined. */
typedef struct gpending {
    ggroup *group;         /* the group that handed out the id */
    char *member_id;       /* the id handed out (heap) */
    gtimer timer;          /* session expiry */
    struct gpending *next; /* the group's pending ids */
} gpending;

/* A committed offset. */
typedef struct goffset {
    int32_t partition;        /* partition of the topic */
    int64_t offset;           /* the committed offset */
    int32_t leader_epoch;     /* -1 = none */
    char *metadata;           /* metadata_len bytes (any, NUL too) + a NUL; never NULL */
    int32_t metadata_len;     /* bytes at metadata */
    int64_t commit_timestamp; /* ms */
    int64_t expire_timestamp; /* ms; -1 unless a v2-4 commit gave a retention time */
    int64_t record_offset;    /* of its record in __consumer_offsets: the later record wins
                                  * when a transaction commits offsets (-1 = none) */
} goffset;

/* The committed offsets of one topic, sorted by partition. */
typedef struct gtopic {
    char *name;     /* topic name (heap) */
    goffset *parts; /* committed partitions, sorted by partition */
    int32_t n, cap; /* entries used and allocated at parts */
} gtopic;

struct ggroup {
    /* identity */
    char *group_id;      /* heap, NUL-terminated */
    size_t group_id_len; /* bytes of group_id */
    int32_t partition;   /* partition of __consumer_offsets */
    /* state */
    sk_group_state state;            /* the classic state (Empty for consumer groups) */
    sk_group_state previous_state;   /* the state before the last transition */
    int64_t current_state_timestamp; /* ms of the last state change, -1 = unknown */
    int32_t generation_id;           /* the current generation (0 for a new group) */
    char *protocol_type;             /* NULL = none yet (simple groups) */
    char *protocol_name;             /* selected protocol; NULL outside a generation */
    gmember *leader;                 /* a member of members, NULL when none */
    gmember *members;                /* in join order */
    int32_t nmembers;                /* entries in members */
    int32_t nawaiting_join;          /* members with a parked JoinGroup */
    gpending *pending;               /* MEMBER_ID_REQUIRED ids */
    int32_t npending;                /* entries in pending */
    bool new_member_added;           /* a member joined during the initial delay */
    int32_t initial_delay_ms;        /* current step of the initial rebalance delay */
    int32_t initial_remaining_ms;    /* rebalance timeout left for further steps of the initial delay */
    gtimer join_timer;               /* join phase deadline (or initial delay) */
    bool join_timer_initial;         /* join_timer is a step of the initial delay */
    gtimer sync_timer;               /* pending-sync deadline */
    int32_t sync_generation;         /* generation the sync deadline belongs to */
    char **subscribed;               /* topics of the consumer protocol subscriptions, sorted, unique */
    int32_t nsubscribed;             /* entries at subscribed */
    bool subscribed_known;           /* false: not a parsable consumer group */
    struct cgroup *consumer;         /* set: a consumer-protocol group (KIP-848, cgroup_int.h) */
    gtopic *topics;                  /* committed offsets */
    int32_t ntopics, topics_cap;     /* entries used and allocated at topics */
    /* links */
    sk_hnode node;       /* in the table by group id */
    ggroup *prev, *next; /* all groups, in creation order */
};

/* A pending transactional offset: written to __consumer_offsets in the
 * producer's transactional batch, committed or dropped by its marker. */
typedef struct gtxn_offset {
    int64_t producer_id;      /* the transaction's producer */
    char *group_id;           /* heap */
    int32_t coord_partition;  /* the group's partition of __consumer_offsets */
    char *topic;              /* heap */
    int32_t partition;        /* partition of the topic */
    int64_t offset;           /* the offset the transaction commits */
    int32_t leader_epoch;     /* -1 = none */
    char *metadata;           /* as goffset's */
    int32_t metadata_len;     /* bytes at metadata */
    int64_t commit_timestamp; /* ms */
    int64_t record_offset;    /* of its record in __consumer_offsets */
    struct gtxn_offset *next; /* sk_groups.txn_offsets, in arrival order */
} gtxn_offset;

/* One partition of a commit, as commit_next (group_offsets.c) yields it. */
typedef struct gcommit {
    int32_t t, p;         /* position in the request (commit_next steps it) */
    const char *topic;    /* the request's topic name */
    int32_t partition;    /* partition index */
    int64_t offset;       /* committed offset */
    int32_t leader_epoch; /* committed leader epoch, -1 = none */
    kf_str metadata;      /* null = none */
    int16_t *error_code;  /* its answer in the response */
} gcommit;

/* A commit of either kind (OffsetMetadataManager.commitOffset and
 * commitTransactionalOffset), its partitions in OffsetCommit's form (a
 * TxnOffsetCommit's are mirrored into it: the fields are the same). */
typedef struct gcommit_req {
    kf_str group_id;                              /* as in the request */
    kf_str member_id;                             /* null or "" = none */
    kf_str group_instance_id;                     /* null = not a static member */
    int32_t generation;                           /* generation (or member epoch), -1 = none */
    int16_t unknown_group_error;                  /* an unknown group with a generation */
    int64_t producer_id;                          /* -1: a plain commit; else a transaction's */
    int16_t producer_epoch;                       /* the transaction's epoch, -1 for a plain commit */
    int64_t expire_timestamp;                     /* ms, -1 = none */
    const kf_offset_commit_request_topic *topics; /* the partitions to commit */
    int32_t ntopics;                              /* entries at topics */
    kf_offset_commit_response_topic *results;     /* mirrors topics; partition errors preset */
} gcommit_req;

struct sk_groups {
    /* configuration */
    const sk_config *cfg;   /* broker configuration (borrowed) */
    sk_groups_opts opts;    /* copy of the options given to sk_groups_open */
    sk_group_store store;   /* copy of *opts.store */
    bool has_store;         /* store is set (tests may run without one) */
    int32_t num_partitions; /* of __consumer_offsets */
    /* state */
    sk_htab index;                                /* groups by id; index.count groups; buckets reserved at open */
    ggroup *first, *last;                         /* creation order */
    sk_coord_timers timers;                       /* every deadline, on the clock of opts.now_ms */
    gtimer expiration;                            /* offsets.retention.check.interval.ms */
    gtxn_offset *txn_offsets;                     /* pending transactional offsets */
    int64_t next_record_offset;                   /* without a store: the offset the next record would get */
    sk_group_topics topics;                       /* topic lookups for consumer groups (copy of *opts.topics) */
    const struct sk_group_configs *group_configs; /* per-group overrides (KIP-848); NULL = none */
    bool closing;                                 /* unloading: parked requests get NOT_COORDINATOR */
    bool writing;                                 /* sk_coord_write is replaying its own batch (runtime.c) */
};

/* ---- group_table.c ---- */
int64_t sk_groups_now(const sk_groups *gs);
ggroup *sk_group_find(sk_groups *gs, const char *id, size_t len);
ggroup *sk_group_find_str(sk_groups *gs, kf_str id);
/* Creates an Empty group; NULL when out of memory. */
ggroup *sk_group_create(sk_groups *gs, const char *id, size_t len);
/* Removes the classic members and pending member ids (parked requests
 * answered) and cancels the group's join and sync deadlines. */
void sk_group_members_clear(sk_groups *gs, ggroup *g);
/* Removes the group (Dead) and frees it, answering any parked request. */
void sk_group_destroy(sk_groups *gs, ggroup *g, const char *reason);
/* True when `to` may follow g's state (ClassicGroupState's valid previous
 * states); false after logging the bug ("BUG: ... illegal transition"). */
bool sk_group_can_transit(const ggroup *g, sk_group_state to);
/* Moves g to `to`, logging "old -> new: reason"; an illegal transition is
 * refused (false, logged as a bug by sk_group_can_transit). */
bool sk_group_set_state(sk_groups *gs, ggroup *g, sk_group_state to, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Checks the group's invariants in debug builds (SK_INVARIANT): member and
 * waiter counts, the leader is a member, the states' member rules. */
void sk_group_check(const ggroup *g);
gmember *sk_group_member_find(const ggroup *g, const char *member_id);
gmember *sk_group_member_find_static(const ggroup *g, const char *group_instance_id);
gpending *sk_group_pending_find(const ggroup *g, const char *member_id);
void sk_group_pending_remove(sk_groups *gs, gpending *p);
/* Unlinks and frees `m` (no rebalance logic): cancels its timer, answers a
 * parked JoinGroup or SyncGroup with UNKNOWN_MEMBER_ID, picks a new leader. */
void sk_group_member_remove(sk_groups *gs, gmember *m);
/* Answers a parked JoinGroup / SyncGroup with an error only. */
void sk_group_answer_join_error(sk_groups *gs, void *waiter, const char *member_id, int16_t err);
void sk_group_answer_sync_error(sk_groups *gs, void *waiter, int16_t err);
/* Replaces the member's protocols with copies of `p` (n). Returns 0 or -1. */
int sk_group_member_set_protocols(gmember *m, const kf_join_group_request_protocol *p, int32_t n);
/* The member's metadata for `protocol`, or NULL. */
const gprotocol *sk_group_member_protocol(const gmember *m, const char *protocol);
int sk_group_member_set_assignment(gmember *m, const uint8_t *p, int32_t len);
/* Recomputes the subscribed topics from the members' consumer protocol
 * subscriptions (ClassicGroup.computeSubscribedTopics). */
void sk_group_compute_subscribed(ggroup *g);
bool sk_group_is_subscribed(const ggroup *g, const char *topic);
bool sk_group_uses_consumer_protocol(const ggroup *g);
/* The largest rebalance timeout of the members, ms. */
int32_t sk_group_rebalance_timeout(const ggroup *g);

/* Kafka's mapping of a store error to the error a client sees
 * (appendGroupMetadataErrorToResponseError). */
int16_t sk_groups_append_error(int16_t err);

char *sk_coord_strndup(const char *s, size_t n);
/* A NUL-terminated heap copy of the bytes of `s` (null: ""), or NULL. */
char *sk_coord_memdup(kf_str s);
char *sk_coord_strdup(const char *s);

/* ---- group.c ---- */
/* Starts a rebalance if the state allows one, else tries to end the join
 * phase (GroupMetadataManager.maybePrepareRebalanceOrCompleteJoin). */
void sk_group_maybe_rebalance(sk_groups *gs, ggroup *g, const char *reason);
/* Checks a member's identity (ClassicGroup.validateMember): a group
 * instance id unknown -> UNKNOWN_MEMBER_ID, mapped to another member id ->
 * FENCED_INSTANCE_ID; an unknown member id -> UNKNOWN_MEMBER_ID. */
int16_t sk_group_validate_member(const ggroup *g, const char *member_id, kf_str group_instance_id);
/* ClassicGroup.selectProtocol: the protocol every member supports that
 * most members prefer; NULL for an empty group. */
const char *sk_group_select_protocol(const ggroup *g);
/* The group's join-phase and pending-sync deadlines passed. */
void sk_group_join_timer_expired(sk_groups *gs, ggroup *g);
void sk_group_sync_timer_expired(sk_groups *gs, ggroup *g);
/* The member's session timer callback (gmember.heartbeat). */
void sk_group_member_session_expired(void *owner, gtimer *t);
/* Arms the member's session timer `timeout_ms` from now. */
void sk_group_reschedule_heartbeat(sk_groups *gs, gmember *m, int64_t timeout_ms);

/* ---- group_offsets.c ---- */
goffset *sk_group_offset_find(const ggroup *g, const char *topic, int32_t partition);
/* Inserts or replaces an offset (metadata copied, null = ""). Returns 0 or -1. */
int sk_group_offset_put(ggroup *g, const char *topic, int32_t partition, int64_t offset, int32_t leader_epoch,
                        kf_str metadata, int64_t commit_timestamp, int64_t expire_timestamp, int64_t record_offset);
/* Applies an offset tombstone: the committed offset and every pending
 * transactional one of the partition are gone (OffsetMetadataManager.replay). */
void sk_group_offset_remove(sk_groups *gs, ggroup *g, const char *topic, int32_t partition);
void sk_group_offsets_free(ggroup *g);
/* Validates, stores as one batch (transactional for a producer) and
 * applies a commit; answers through each partition's error_code. */
void sk_group_commit(sk_groups *gs, const gcommit_req *c);
void sk_groups_expiration_fire(void *owner, gtimer *t);

/* ---- group_txn.c ---- */
/* Adds or replaces producer_id's pending offset of a partition for `g`.
 * Returns 0 or -1. */
int sk_group_txn_offset_put(sk_groups *gs, const ggroup *g, int64_t producer_id, const char *topic, int32_t partition,
                            int64_t offset, int32_t leader_epoch, kf_str metadata, int64_t commit_timestamp,
                            int64_t record_offset);
/* Drops the pending transactional offsets of a group: of one topic
 * partition, or all with `topic` NULL. */
void sk_group_txn_offsets_drop(sk_groups *gs, const char *group_id, const char *topic, int32_t partition);
/* True when a transaction has a pending offset for the partition; with
 * `topic` NULL, for any partition of the group. */
bool sk_group_txn_offset_pending(const sk_groups *gs, const char *group_id, const char *topic, int32_t partition);

/* ---- group_records.c ---- */
/* A batch of __consumer_offsets records being built: keys and values are
 * written to one buffer and located by offsets until the batch is sent. */
typedef struct grecs {
    sk_writer w; /* every key and value, back to back */
    struct grec {
        size_t key_off, key_len;     /* the key's bytes in w */
        size_t value_off, value_len; /* the value's bytes in w */
        bool tombstone;              /* a null value */
    } * items;                       /* one per record, in order */
    int n, cap;                      /* records used and allocated at items */
    int err;                         /* an allocation failed */
    int64_t producer_id;             /* -1 (sk_grecs_init); a transaction's: the batch is transactional */
    int16_t producer_epoch;          /* the transaction's epoch, -1 otherwise */
} grecs;

/* Adds a record to `b`: a key of record type `type` (`key`, a struct of
 * rt->key) and a value at `version` (`value`, a struct of rt->value; NULL
 * for a tombstone), written by the one codec. A failure sets b->err. */
void sk_grecs_add(grecs *b, const kf_record_type *rt, int16_t type, const void *key, int16_t version,
                  const void *value);
/* A NUL-terminated copy of a decoded string in `arena` (null: NULL). */
char *sk_grec_str(sk_arena *arena, kf_str s);
void sk_grecs_init(grecs *b);
void sk_grecs_free(grecs *b);
/* Group metadata (key v2, value v3) of `g` as it is now, members with
 * their current assignments, or with assignments[i] for the i-th member
 * when `assignments` is given (a leader's SyncGroup: replaying the record
 * hands them out); `empty`: the record of a just-created group
 * (generation 0, no protocol, no members). */
void sk_grecs_group_metadata(grecs *b, const ggroup *g, bool empty, const kf_bytes *assignments);
void sk_grecs_group_tombstone(grecs *b, const char *group_id);
/* Offset commit (key v1; value v3, or v1 when it has an expire timestamp). */
void sk_grecs_offset_commit(grecs *b, const char *group_id, const char *topic, int32_t partition, const goffset *o);
void sk_grecs_offset_tombstone(grecs *b, const char *group_id, const char *topic, int32_t partition);
/* Adds to `b` a tombstone for each committed offset of group g (of `topic`
 * only, unless NULL) and one for each partition with only pending
 * transactional offsets. Returns the number of committed offsets. */
int32_t sk_group_offset_tombstones(const sk_groups *gs, const ggroup *g, const char *topic, grecs *b);

/* ---- runtime.c ---- */
/* The coordinator runtime's write: appends `b` to __consumer_offsets-
 * `partition` and, once it is stored, applies every record through the one
 * replay (sk_groups_replay), so live writes and loading take one path.
 * Nothing is applied when the append fails. Returns NONE, the store's
 * error as sk_groups_append_error maps it (logged), or UNKNOWN_SERVER_ERROR
 * when a stored record could not be applied (out of memory). */
int16_t sk_coord_write(sk_groups *gs, int32_t partition, grecs *b);
/* Writes `b`, the tombstones of group `g` and all its offsets, and removes
 * what is left of the group once they are stored (`reason` for the log).
 * Returns as sk_coord_write; `g` is gone on success. */
int16_t sk_group_write_deletion(sk_groups *gs, ggroup *g, grecs *b, const char *reason);

#endif
