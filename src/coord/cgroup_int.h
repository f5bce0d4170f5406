/*
 * Internals of consumer-protocol groups (KIP-848), shared by
 * src/coord/cgroup*.c. A consumer group is a ggroup (group_int.h: its id,
 * partition of __consumer_offsets and committed offsets) whose `consumer`
 * part is set; its classic state stays Empty and it has no classic members.
 *
 * Files: cgroup.c (ConsumerGroupHeartbeat: the operation that turns a
 * heartbeat into records and an answer; session and rebalance timeouts),
 * cgroup_assign.c (the server-side assignors uniform and range),
 * cgroup_migrate.c (classic members in consumer groups: the online
 * upgrade and downgrade), cgroup_records.c (Kafka's record types and the one replay() that applies
 * them, live and at load), cgroup_admin.c (ConsumerGroupDescribe,
 * DescribeGroups and ListGroups answers, offset commit and fetch checks),
 * runtime.c (append a batch, then replay it).
 *
 * Every change of a consumer group's state is made by replaying a record:
 * an operation writes records into a grecs batch, sk_coord_write() appends the
 * batch to __consumer_offsets and, once it is stored, replays each record
 * through sk_cgroup_replay(), which is also what loading at start-up runs.
 */
#ifndef SKIFF_CGROUP_INT_H
#define SKIFF_CGROUP_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "group_int.h"

/* Record types of __consumer_offsets (Kafka's key versions). */
enum {
    CREC_GROUP_METADATA = 3,     /* ConsumerGroupMetadata: group epoch */
    CREC_PARTITION_METADATA = 4, /* ConsumerGroupPartitionMetadata: subscribed topics */
    CREC_MEMBER_METADATA = 5,    /* ConsumerGroupMemberMetadata: subscription */
    CREC_TARGET_METADATA = 6,    /* ConsumerGroupTargetAssignmentMetadata: assignment epoch */
    CREC_TARGET_MEMBER = 7,      /* ConsumerGroupTargetAssignmentMember */
    CREC_CURRENT_ASSIGNMENT = 8, /* ConsumerGroupCurrentMemberAssignment */
};

/* Member states of the reconciliation (Kafka's MemberState, the values of
 * CurrentMemberAssignment.State). */
typedef enum cmember_state {
    CM_STABLE = 0,                /* owns its target at the assignment epoch */
    CM_UNREVOKED_PARTITIONS = 1,  /* must give up partitions first */
    CM_UNRELEASED_PARTITIONS = 2, /* waits for others to give up its new partitions */
    CM_UNKNOWN = 3,
} cmember_state;

/* Consumer group states (ConsumerGroup.ConsumerGroupState). */
typedef enum cgroup_state {
    CG_EMPTY = 0,
    CG_ASSIGNING = 1,   /* group epoch ahead of the assignment epoch */
    CG_RECONCILING = 2, /* some member not yet at the assignment epoch */
    CG_STABLE = 3,
    CG_DEAD = 4,
} cgroup_state;

#define CM_EPOCH_LEAVE (-1)        /* a member leaves */
#define CM_EPOCH_STATIC_LEAVE (-2) /* a static member leaves and will come back */

/* A topic partition: the topic by id (KIP-516), as the records and the
 * protocol name it. Sets of them are arrays sorted by (id, partition). */
typedef struct ctp {
    uint8_t id[16];
    int32_t partition;
} ctp;

typedef struct ctps {
    ctp *v;
    int32_t n, cap;
} ctps;

/* A member that speaks the classic protocol in a consumer group (KIP-848
 * migration: ConsumerGroupMemberMetadata's ClassicMemberMetadata). */
typedef struct cclassic {
    int32_t session_timeout_ms; /* its JoinGroup's session timeout, ms */
    gprotocol *protocols;       /* its JoinGroup's protocols, in preference order */
    int32_t nprotocols;
} cclassic;

typedef struct cmember {
    char *member_id;
    char *instance_id; /* static member (KIP-345); NULL = dynamic */
    char *rack_id;     /* NULL = none */
    char *client_id;
    char *client_host;
    char **topics; /* subscribed topic names, sorted, unique */
    int32_t ntopics;
    char *regex;           /* subscribed regular expression; NULL = none */
    void *re;              /* `regex` compiled (cgroup_regex.c); NULL when none or invalid */
    char *server_assignor; /* NULL = the group's default */
    int32_t rebalance_timeout_ms;
    cclassic *classic; /* NULL: the member uses the consumer protocol */
    /* reconciliation (CurrentMemberAssignment) */
    int32_t member_epoch;
    int32_t previous_member_epoch;
    cmember_state state;
    ctps assigned;    /* partitions it owns now */
    ctps revoking;    /* partitions it must give up */
    ctps target;      /* target assignment (TargetAssignmentMember) */
    bool has_current; /* a CurrentMemberAssignment was applied */
    gtimer session;   /* group.consumer.session.timeout.ms */
    gtimer rebalance; /* rebalance timeout while it revokes */
    struct cgroup *group;
} cmember;

/* One subscribed topic as the group saw it (PartitionMetadata). */
typedef struct ctopic_meta {
    char *name;
    uint8_t id[16];
    int32_t partitions;
} ctopic_meta;

typedef struct cgroup {
    ggroup *g; /* owner: id, partition, offsets */
    int32_t group_epoch;
    int32_t assignment_epoch;
    bool has_metadata; /* a ConsumerGroupMetadata was applied */
    cmember **members; /* in join order */
    int32_t nmembers, cap;
    ctopic_meta *topics; /* subscribed topics' metadata, by name */
    int32_t ntopics;
} cgroup;

/* ---- cgroup.c ---- */
cgroup_state sk_cgroup_state_of(const cgroup *c);
const char *sk_cgroup_state_name(cgroup_state s);
cmember *sk_cmember_find(const cgroup *c, const char *member_id);
/* The group's server assignor: the one most members ask for (the first
 * such on a tie; ConsumerGroup.computePreferredServerAssignor), else
 * "uniform". */
const char *sk_cgroup_assignor(const cgroup *c);
cmember *sk_cmember_find_static(const cgroup *c, const char *instance_id);
/* The consumer part of `g`, created (group epoch 0) when missing; NULL
 * when out of memory. */
cgroup *sk_cgroup_of(ggroup *g, bool create);
void sk_cgroup_free(sk_groups *gs, ggroup *g);
/* Frees a member (timers cancelled); the caller unlinks it (cgroup_records.c). */
void sk_cmember_free(sk_groups *gs, cmember *m);
/* Arms a member's session timer (on every heartbeat). */
void sk_cmember_touch(sk_groups *gs, cmember *m);
/* After loading: the session timer, and the rebalance timer of a member
 * that must revoke partitions. */
void sk_cmember_loaded(sk_groups *gs, cmember *m);

/* ---- ctps helpers (cgroup_assign.c) ---- */
int sk_ctps_add(ctps *s, const uint8_t id[16], int32_t partition);
void sk_ctps_sort(ctps *s);
bool sk_ctps_has(const ctps *s, const uint8_t id[16], int32_t partition);
int sk_ctps_copy(ctps *dst, const ctps *src);
bool sk_ctps_equal(const ctps *a, const ctps *b);
/* Whether entry `i` of a sorted set starts another topic than entry i - 1. */
bool sk_ctps_topic_starts(const ctps *s, int32_t i);
/* The number of distinct topics in a sorted set. */
int32_t sk_ctps_topic_count(const ctps *s);
void sk_ctps_free(ctps *s);

/* ---- cgroup_assign.c ---- */
/* A member as an assignor sees it: subscribed topics (indexes into the
 * topics given), the previous target, and the new target it fills. */
typedef struct cassign_member {
    const char *member_id;
    const int32_t *topics;
    int32_t ntopics;
    const ctps *previous;
    ctps target; /* out: sorted; the caller frees */
} cassign_member;

typedef struct cassign_topic {
    uint8_t id[16];
    int32_t partitions;
} cassign_topic;

/* Whether `name` is a server assignor skiff runs ("uniform", "range"). */
bool sk_cassign_known(const char *name);
/* Computes the target assignment with assignor `name` ("uniform" or
 * "range"): every partition of a subscribed topic goes to one subscribed
 * member, members keep what they had where balance allows (sticky), and
 * counts differ by at most one among members with the same subscription
 * (uniform: over all their topics; range: per topic). 0, or -1 when out of
 * memory. */
int sk_cassign_run(const char *name, const cassign_topic *topics, int32_t ntopics, cassign_member *members,
                   int32_t nmembers);

/* ---- cgroup_records.c ---- */
void sk_crec_group_epoch(grecs *b, const char *group_id, int32_t epoch);
void sk_crec_group_tombstone(grecs *b, const char *group_id);
void sk_crec_partition_metadata(grecs *b, const char *group_id, const ctopic_meta *t, int32_t n);
void sk_crec_partition_metadata_tombstone(grecs *b, const char *group_id);
void sk_crec_member(grecs *b, const char *group_id, const cmember *m);
void sk_crec_member_tombstone(grecs *b, const char *group_id, const char *member_id);
void sk_crec_target_epoch(grecs *b, const char *group_id, int32_t epoch);
void sk_crec_target_epoch_tombstone(grecs *b, const char *group_id);
void sk_crec_target_member(grecs *b, const char *group_id, const char *member_id, const ctps *t);
void sk_crec_target_member_tombstone(grecs *b, const char *group_id, const char *member_id);
/* A CurrentMemberAssignment of `m` as it will be. */
void sk_crec_current(grecs *b, const char *group_id, const char *member_id, int32_t epoch, int32_t previous_epoch,
                     cmember_state state, const ctps *assigned, const ctps *revoking);
void sk_crec_current_tombstone(grecs *b, const char *group_id, const char *member_id);
/* Applies one consumer-group record of record type `rt` (key version
 * `type`, 3-8). Returns 0, or -1 when malformed (skipped, logged by the
 * caller). */
int sk_cgroup_replay(sk_groups *gs, const kf_record_type *rt, int16_t type, const sk_group_record *rec);

/* ---- cgroup_regex.c ---- */
/* Compiles a subscription regex (PCRE2, whole-name match); NULL with a
 * message in `err` when it is not valid. */
void *sk_cregex_compile(const char *pattern, char *err, size_t errlen);
/* Whether the whole of `name` (`len` bytes) matches. */
bool sk_cregex_match(void *re, const char *name, size_t len);
void sk_cregex_free(void *re);

/* ---- cgroup_admin.c ---- */
/* OffsetCommit (TxnOffsetCommit when `transactional`) of a consumer group:
 * NONE, UNKNOWN_MEMBER_ID, STALE_MEMBER_EPOCH (ILLEGAL_GENERATION for a
 * transaction's), as ConsumerGroup.validateOffsetCommit. */
int16_t sk_cgroup_validate_commit(const ggroup *g, const char *member_id, int32_t epoch, bool transactional);
/* Whether a member subscribes to `topic`, by name or regex
 * (ConsumerGroup.isSubscribedToTopic: OffsetDelete's GROUP_SUBSCRIBED_TO_TOPIC). */
bool sk_cgroup_is_subscribed(const cgroup *c, const char *topic);
/* The records that delete an empty consumer group (offsets aside). */
void sk_cgroup_tombstones(const ggroup *g, grecs *b);
/* A classic JoinGroup meets `g`: an empty consumer group becomes classic
 * (its records deleted); one with members answers
 * INCONSISTENT_GROUP_PROTOCOL. NONE when `g` is not a consumer group. */
int16_t sk_cgroup_classic_join(sk_groups *gs, ggroup *g);

/* ---- cgroup_migrate.c (classic members in consumer groups) ---- */
/* A ConsumerGroupHeartbeat joining the classic group `g` that has members:
 * converts it to a consumer group as Kafka's convertToConsumerGroup does
 * when group.consumer.migration.policy allows an upgrade (its members stay,
 * with their assignments, at the group's generation). NONE when converted;
 * GROUP_ID_NOT_FOUND (message in `msg`) when Kafka refuses; `g` may be
 * freed and created again, so the caller looks the group up anew. */
int16_t sk_cgroup_upgrade(sk_groups *gs, ggroup *g, char *msg, size_t msglen);
/* A classic member's JoinGroup to a consumer group as a heartbeat
 * (cgroup.c): `req` built by cgroup_migrate.c, the member's
 * ClassicMemberMetadata `classic` (borrowed) stored with it. NONE or the
 * heartbeat's error, its message in `msg`. */
int16_t sk_cgroup_classic_heartbeat(sk_groups *gs, const sk_group_client *client,
                                    const kf_consumer_group_heartbeat_request *req, cclassic *classic, char *msg,
                                    size_t msglen);
/* Removes member `m` as if it left (records tombstoned, group epoch + 1). */
int16_t sk_cmember_remove(sk_groups *gs, cmember *m, const char *why);
/* JoinGroup, SyncGroup, Heartbeat and LeaveGroup of a classic member of
 * the consumer group `g` (Kafka's classicGroupJoinToConsumerGroup etc.):
 * answered through the coordinator's join_done / sync_done callbacks, or
 * returned. */
void sk_cgroup_classic_join_member(sk_groups *gs, ggroup *g, const sk_group_client *client, int16_t version,
                                   const kf_join_group_request *rq, void *waiter);
void sk_cgroup_classic_sync(sk_groups *gs, ggroup *g, const kf_sync_group_request *rq, void *waiter);
int16_t sk_cgroup_classic_beat(sk_groups *gs, ggroup *g, const kf_heartbeat_request *rq);
void sk_cgroup_classic_leave(sk_groups *gs, ggroup *g, const kf_leave_group_request_member *members, int32_t n,
                             kf_leave_group_response_member *out);
/* Whether the consumer-protocol member `leaving` is the last one beside
 * classic members and group.consumer.migration.policy allows a downgrade
 * (validateOnlineDowngradeWithFencedMember). */
bool sk_cgroup_downgrade_allowed(const sk_groups *gs, const cgroup *c, const cmember *leaving);
/* Removes `leaving` and turns the group into a classic group of the other
 * members (convertToClassicGroup): Stable at the group epoch, each member
 * with its target assignment, then a rebalance. NONE or the write's error. */
int16_t sk_cgroup_downgrade(sk_groups *gs, cgroup *c, cmember *leaving);
/* A copy of `c` (NULL: NULL); NULL when out of memory. */
cclassic *cclassic_copy(const cclassic *c);
void cclassic_free(cclassic *c);

#endif
