/*
 * The classic group state machine: JoinGroup, SyncGroup, Heartbeat and
 * LeaveGroup, and the timeouts that drive rebalances. The rules are Apache
 * Kafka 4.0's (GroupMetadataManager.classicGroup*, ClassicGroup), observed
 * from the outside: same errors, same member ids, same rebalances.
 *
 *                     first member joins (the initial delay
 *                     group.initial.rebalance.delay.ms starts)
 *        +-------+ --------------------------------------> +--------------------+
 *   +--> | Empty |                                          | PreparingRebalance | <-----+
 *   |    +-------+ <-------------------------------------- +--------------------+       |
 *   |        |         join phase ends with no member             |                      |
 *   |        |                                                    | every member joined, |
 *   |        | DeleteGroups,                                      | or the rebalance     |
 *   |        | offsets expired                                    | timeout passed       |
 *   |        v                                                    v                      |
 *   |    +------+                                     +---------------------+           |
 *   |    | Dead |                                     | CompletingRebalance | ----------+
 *   |    +------+                                     +---------------------+  member   |
 *   |   (removed)                                                 |     joins with new    |
 *   |                                                             |     metadata, leaves, |
 *   |                             leader's SyncGroup stored       |     expires, or a     |
 *   |                                                             v     sync is missing   |
 *   |                                                       +--------+                   |
 *   |                                                       | Stable | ------------------+
 *   |                                                       +--------+   new member, leader
 *   +--(restart: a group stored with no members loads Empty,            or changed member
 *       one with members loads Stable)                                 rejoins, a member
 *                                                                       leaves or expires
 *
 * Transition                               Function
 * Empty -> PreparingRebalance              prepare_rebalance (from a join)
 * PreparingRebalance -> CompletingRebalance complete_join (all joined / join timer)
 * PreparingRebalance -> Empty              complete_join (no member left)
 * CompletingRebalance -> Stable            replay of the record sync_leader stored
 *                                          (group_records.c: replay_group_live)
 * CompletingRebalance -> PreparingRebalance prepare_rebalance
 * Stable -> PreparingRebalance             prepare_rebalance
 * Empty -> Dead                            replay of the group's tombstone (DeleteGroups,
 *                                          offsets expired: sk_group_write_deletion)
 *
 * sk_group_set_state refuses any other transition (an ERROR "BUG: ..." line);
 * sk_group_check verifies the group's invariants after each operation and
 * timer in debug builds. Records (a new group's, the leader's assignment, a
 * static member's new id, an emptied group) are written through the
 * runtime (runtime.c: sk_coord_write): stored first, then applied by replay.
 *
 * State x API (after the group id and member checks; "-" = no such group):
 *
 *                  Empty             Preparing        Completing          Stable            -
 *  JoinGroup new   add, rebalance    add              add, rebalance      add, rebalance    create
 *  JoinGroup known UNKNOWN_MEMBER_ID park the answer  same metadata:      leader or new     UNKNOWN_MEMBER_ID
 *                                                     answer at once;     metadata: rebal.;
 *                                                     else rebalance      else answer
 *  SyncGroup       UNKNOWN_MEMBER_ID REBALANCE_IN_    park; the leader's  answer the        UNKNOWN_MEMBER_ID
 *                                    PROGRESS         assignment ends it  assignment
 *  Heartbeat       UNKNOWN_MEMBER_ID REBALANCE_IN_    NONE                NONE              UNKNOWN_MEMBER_ID
 *                                    PROGRESS
 *  LeaveGroup      per member        remove; maybe    remove, rebalance   remove, rebalance UNKNOWN_MEMBER_ID
 *                                    end join phase                                         per member
 *  OffsetCommit    generation -1     member checks    REBALANCE_IN_       member checks     gen -1: simple group;
 *                  only                               PROGRESS                              ILLEGAL_GENERATION
 *  DeleteGroups    delete            NON_EMPTY_GROUP  NON_EMPTY_GROUP     NON_EMPTY_GROUP   GROUP_ID_NOT_FOUND
 *
 * Member checks, in order: a group instance id unknown -> UNKNOWN_MEMBER_ID,
 * mapped to another member id -> FENCED_INSTANCE_ID; an unknown member id ->
 * UNKNOWN_MEMBER_ID; then a generation other than the group's ->
 * ILLEGAL_GENERATION (SyncGroup, Heartbeat, OffsetCommit).
 *
 * Timers: a member's session (session_timeout_ms, rearmed by heartbeats,
 * commits and answers; 5 minutes while a new member waits for its first
 * join answer) removes it unless it is waiting in a JoinGroup or SyncGroup;
 * the join phase ends after the largest rebalance_timeout_ms, removing the
 * dynamic members that did not rejoin; members that do not send SyncGroup
 * within the rebalance timeout are removed and a new rebalance starts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup_int.h"
#include "skiff/errors.h"
#include "skiff/trace.h"
#include "skiff/uuid.h"

static void prepare_rebalance(sk_groups *gs, ggroup *g, const char *reason);
static void complete_join(sk_groups *gs, ggroup *g);

/* KIP-800: the reason a client gave, or Kafka's "not provided". */
static const char *join_reason(kf_str reason)
{
    return reason.p && reason.len > 0 ? reason.p : "not provided";
}

static const char *str_or(kf_str s, const char *dflt)
{
    return s.p ? s.p : dflt;
}

/* True when the nullable request field (type or name) conflicts with the
 * group's value (isProtocolInconsistent: both known and different). */
static bool protocol_inconsistent(kf_str req, const char *group)
{
    return req.p && group && strcmp(req.p, group) != 0;
}

/* ---- Members ---- */

int16_t sk_group_validate_member(const ggroup *g, const char *member_id, kf_str group_instance_id)
{
    if (group_instance_id.p) {
        const gmember *s = sk_group_member_find_static(g, group_instance_id.p);
        if (!s)
            return SK_ERR_UNKNOWN_MEMBER_ID;
        if (strcmp(s->member_id, member_id) != 0) {
            sk_info("group", "group %s: member id %s of static member %s is fenced by member id %s", g->group_id,
                    member_id, group_instance_id.p, s->member_id);
            return SK_ERR_FENCED_INSTANCE_ID;
        }
    }
    return sk_group_member_find(g, member_id) ? SK_ERR_NONE : SK_ERR_UNKNOWN_MEMBER_ID;
}

/* A new member id: the group instance id (static members) or the client id,
 * a dash and a random UUID in its 36-character form, as Kafka makes them. */
static char *new_member_id(const char *prefix)
{
    uint8_t u[16];
    if (sk_uuid_random(u) < 0)
        return NULL;
    size_t n = strlen(prefix);
    char *id = malloc(n + 38);
    if (!id)
        return NULL;
    int at = snprintf(id, n + 2, "%s-", prefix);
    for (int i = 0; i < 16; i++)
        at += snprintf(id + at, 4, "%s%02x", i == 4 || i == 6 || i == 8 || i == 10 ? "-" : "", u[i]);
    return id;
}

void sk_group_reschedule_heartbeat(sk_groups *gs, gmember *m, int64_t timeout_ms)
{
    sk_coord_timer_arm(&gs->timers, &m->heartbeat, timeout_ms);
}

/* Parks `waiter` as the member's JoinGroup answer. A JoinGroup it replaces
 * (the client gave up and sent another) is answered REBALANCE_IN_PROGRESS. */
static void member_set_join_waiter(sk_groups *gs, gmember *m, void *waiter, int16_t version)
{
    if (m->join_waiter)
        sk_group_answer_join_error(gs, m->join_waiter, m->member_id, SK_ERR_REBALANCE_IN_PROGRESS);
    else if (waiter)
        m->group->nawaiting_join++;
    m->join_waiter = waiter;
    m->join_version = version;
}

/* Applies a JoinGroup to the member's settings (ClassicGroup.updateMember). */
static int member_update(sk_groups *gs, gmember *m, int16_t version, const kf_join_group_request *rq, void *waiter)
{
    if (sk_group_member_set_protocols(m, rq->protocols.items, rq->protocols.n > 0 ? rq->protocols.n : 0) < 0)
        return -1;
    m->session_timeout_ms = rq->session_timeout_ms;
    m->rebalance_timeout_ms = version == 0 ? rq->session_timeout_ms : rq->rebalance_timeout_ms;
    member_set_join_waiter(gs, m, waiter, version);
    return 0;
}

/* True when the member's protocols are the request's, in the same order
 * with the same metadata (ClassicGroupMember.matches). */
static bool member_matches(const gmember *m, const kf_join_group_request *rq)
{
    int32_t n = rq->protocols.n > 0 ? rq->protocols.n : 0;
    if (n != m->nprotocols)
        return false;
    for (int32_t i = 0; i < n; i++) {
        const kf_join_group_request_protocol *p = &rq->protocols.items[i];
        int32_t len = p->metadata.len > 0 ? p->metadata.len : 0;
        if (!p->name.p || strcmp(p->name.p, m->protocols[i].name) != 0 || len != m->protocols[i].metadata_len ||
            (len && memcmp(p->metadata.p, m->protocols[i].metadata, (size_t)len) != 0))
            return false;
    }
    return true;
}

/* Members supporting protocol `name`. */
static int32_t protocol_support(const ggroup *g, const char *name)
{
    int32_t n = 0;
    for (const gmember *m = g->members; m; m = m->next)
        n += sk_group_member_protocol(m, name) != NULL;
    return n;
}

/* ClassicGroup.supportsProtocols: an empty group takes any non-empty
 * protocol type with at least one protocol; otherwise the type must match
 * and one of the protocols must be supported by every member. */
static bool supports_protocols(const ggroup *g, const kf_join_group_request *rq)
{
    int32_t n = rq->protocols.n > 0 ? rq->protocols.n : 0;
    if (g->state == SK_GROUP_EMPTY)
        return rq->protocol_type.len > 0 && n > 0;
    if (!g->protocol_type || !kf_str_eq(rq->protocol_type, g->protocol_type))
        return false;
    for (int32_t i = 0; i < n; i++)
        if (rq->protocols.items[i].name.p && protocol_support(g, rq->protocols.items[i].name.p) == g->nmembers)
            return true;
    return false;
}

/* ClassicGroup.selectProtocol: among the protocols every member supports,
 * each member votes for its most preferred; most votes wins, ties go to the
 * one voted for first. NULL only for an empty group. */
const char *sk_group_select_protocol(const ggroup *g)
{
    const char *best = NULL;
    int32_t best_votes = 0;
    for (const gmember *v = g->members; v; v = v->next) {
        const char *vote = NULL;
        for (int32_t i = 0; i < v->nprotocols && !vote; i++)
            if (protocol_support(g, v->protocols[i].name) == g->nmembers)
                vote = v->protocols[i].name;
        if (!vote || (best && !strcmp(vote, best)))
            continue;
        int32_t votes = 0;
        for (const gmember *m = g->members; m; m = m->next) {
            for (int32_t i = 0; i < m->nprotocols; i++) {
                if (protocol_support(g, m->protocols[i].name) == g->nmembers) {
                    votes += !strcmp(m->protocols[i].name, vote);
                    break;
                }
            }
        }
        if (votes > best_votes) {
            best = vote;
            best_votes = votes;
        }
    }
    return best;
}

/* Creates a member from a JoinGroup and adds it (ClassicGroup.add). */
static gmember *member_add(sk_groups *gs, ggroup *g, const sk_group_client *c, int16_t version,
                           const kf_join_group_request *rq, const char *member_id, void *waiter)
{
    gmember *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->group = g;
    m->member_id = sk_coord_strdup(member_id);
    m->group_instance_id = rq->group_instance_id.p ? sk_coord_strdup(rq->group_instance_id.p) : NULL;
    m->client_id = sk_coord_strdup(c->client_id ? c->client_id : "");
    m->client_host = sk_coord_strdup(c->client_host ? c->client_host : "");
    char *type = g->members ? NULL : sk_coord_strdup(str_or(rq->protocol_type, ""));
    if (!m->member_id || (rq->group_instance_id.p && !m->group_instance_id) || !m->client_id || !m->client_host ||
        (!g->members && !type) || member_update(gs, m, version, rq, NULL) < 0) {
        free(type);
        free(m->member_id);
        free(m->group_instance_id);
        free(m->client_id);
        free(m->client_host);
        free(m);
        return NULL;
    }
    sk_coord_timer_init(&m->heartbeat, sk_group_member_session_expired);
    if (!g->members) {
        free(g->protocol_type);
        g->protocol_type = type;
    }
    gmember **tail = &g->members;
    while (*tail)
        tail = &(*tail)->next;
    *tail = m;
    g->nmembers++;
    if (!g->leader)
        g->leader = m;
    member_set_join_waiter(gs, m, waiter, version);
    gpending *p = sk_group_pending_find(g, member_id);
    if (p)
        sk_group_pending_remove(gs, p);
    return m;
}

/* ---- Answers ---- */

/* Answers `waiter` for member `m` with the current generation. The leader
 * (when `with_members`) gets every member's metadata for the protocol. */
static void answer_join(sk_groups *gs, const ggroup *g, const gmember *m, void *waiter, bool with_members,
                        bool skip_assignment, const char *leader)
{
    kf_join_group_response r;
    kf_init(&kf_join_group_response_desc, &r);
    r.generation_id = g->generation_id;
    r.protocol_type = kf_str_c(g->protocol_type);
    r.protocol_name = kf_str_c(g->protocol_name);
    r.leader = kf_str_c(leader);
    r.skip_assignment = skip_assignment;
    r.member_id = kf_str_c(m->member_id);
    kf_join_group_response_member *list = NULL;
    if (with_members && g->nmembers > 0) {
        list = calloc((size_t)g->nmembers, sizeof *list);
        if (!list) {
            sk_group_answer_join_error(gs, waiter, m->member_id, SK_ERR_UNKNOWN_SERVER_ERROR);
            return;
        }
        int32_t i = 0;
        for (const gmember *x = g->members; x; x = x->next, i++) {
            const gprotocol *p = sk_group_member_protocol(x, g->protocol_name);
            list[i].member_id = kf_str_c(x->member_id);
            list[i].group_instance_id = kf_str_c(x->group_instance_id);
            list[i].metadata.p = p ? p->metadata : NULL;
            list[i].metadata.len = p ? p->metadata_len : 0;
        }
        r.members.items = list;
        r.members.n = g->nmembers;
    }
    gs->opts.join_done(waiter, &r);
    free(list);
}

/* Answers the member's parked JoinGroup (completeJoinFuture); false when
 * it has none. */
static bool complete_join_waiter(sk_groups *gs, ggroup *g, gmember *m, bool with_members, bool skip_assignment,
                                 const char *leader)
{
    void *w = m->join_waiter;
    if (!w)
        return false;
    m->join_waiter = NULL;
    g->nawaiting_join--;
    answer_join(gs, g, m, w, with_members, skip_assignment, leader);
    return true;
}

static const char *leader_id(const ggroup *g)
{
    return g->leader ? g->leader->member_id : NULL;
}

static void answer_sync(sk_groups *gs, const ggroup *g, const gmember *m, void *waiter, int16_t err)
{
    kf_sync_group_response r;
    kf_init(&kf_sync_group_response_desc, &r);
    r.error_code = err;
    if (err == SK_ERR_NONE) {
        r.protocol_type = kf_str_c(g->protocol_type);
        r.protocol_name = kf_str_c(g->protocol_name);
        r.assignment.p = m->assignment;
        r.assignment.len = m->assignment_len;
    }
    gs->opts.sync_done(waiter, &r);
}

/* Answers every parked SyncGroup with the members' assignments or `err`,
 * restarting their sessions (propagateAssignment). */
static void propagate_assignment(sk_groups *gs, ggroup *g, int16_t err)
{
    for (gmember *m = g->members; m; m = m->next) {
        void *w = m->sync_waiter;
        if (!w)
            continue;
        m->sync_waiter = NULL;
        answer_sync(gs, g, m, w, err);
        sk_group_reschedule_heartbeat(gs, m, m->session_timeout_ms);
    }
}

static void reset_and_propagate_assignment(sk_groups *gs, ggroup *g, int16_t err)
{
    for (gmember *m = g->members; m; m = m->next)
        sk_group_member_set_assignment(m, NULL, 0);
    propagate_assignment(gs, g, err);
}

/* ---- Rebalances ---- */

static bool has_all_members_joined(const ggroup *g)
{
    return g->nmembers == g->nawaiting_join && g->npending == 0;
}

static void remove_sync_expiration(sk_groups *gs, ggroup *g)
{
    for (gmember *m = g->members; m; m = m->next)
        m->pending_sync = false;
    sk_coord_timer_cancel(&gs->timers, &g->sync_timer);
}

static void arm_join_timer(sk_groups *gs, ggroup *g, int64_t delay_ms, bool initial)
{
    g->join_timer_initial = initial;
    sk_coord_timer_arm(&gs->timers, &g->join_timer, delay_ms);
}

/* Ends the join phase now if nothing is missing, else at the rebalance
 * timeout (maybeCompleteJoinElseSchedule). */
static void maybe_complete_join_else_schedule(sk_groups *gs, ggroup *g)
{
    if (has_all_members_joined(g))
        complete_join(gs, g);
    else
        arm_join_timer(gs, g, sk_group_rebalance_timeout(g), false);
}

static void prepare_rebalance(sk_groups *gs, ggroup *g, const char *reason)
{
    if (!sk_group_can_transit(g, SK_GROUP_PREPARING_REBALANCE))
        return;
    if (g->state == SK_GROUP_COMPLETING_REBALANCE)
        reset_and_propagate_assignment(gs, g, SK_ERR_REBALANCE_IN_PROGRESS);
    remove_sync_expiration(gs, g);
    bool initial = g->state == SK_GROUP_EMPTY;
    if (initial) {
        int32_t delay = gs->cfg->group_initial_rebalance_delay_ms;
        int32_t remaining = sk_group_rebalance_timeout(g) - delay;
        g->initial_delay_ms = delay;
        g->initial_remaining_ms = remaining > 0 ? remaining : 0;
        arm_join_timer(gs, g, delay, true);
    }
    sk_group_set_state(gs, g, SK_GROUP_PREPARING_REBALANCE, "%s (old generation %d)", reason, g->generation_id);
    if (!initial)
        maybe_complete_join_else_schedule(gs, g);
}

/* Ends the join phase unless this is the initial rebalance (which waits for
 * its delay) or members are missing (maybeCompleteJoinPhase). */
static void maybe_complete_join_phase(sk_groups *gs, ggroup *g)
{
    if (g->state != SK_GROUP_PREPARING_REBALANCE || g->previous_state == SK_GROUP_EMPTY || !has_all_members_joined(g))
        return;
    complete_join(gs, g);
}

void sk_group_maybe_rebalance(sk_groups *gs, ggroup *g, const char *reason)
{
    if (g->state == SK_GROUP_STABLE || g->state == SK_GROUP_COMPLETING_REBALANCE || g->state == SK_GROUP_EMPTY)
        prepare_rebalance(gs, g, reason);
    else
        maybe_complete_join_phase(gs, g);
}

/* Keeps the leader if it rejoined, else makes the first member that did the
 * leader (maybeElectNewJoinedLeader). False when no member rejoined. */
static bool elect_joined_leader(ggroup *g)
{
    if (!g->leader)
        return false;
    if (g->leader->join_waiter)
        return true;
    for (gmember *m = g->members; m; m = m->next) {
        if (m->join_waiter) {
            sk_info("group", "group %s: leader %s did not rejoin before the rebalance timeout; %s is the new leader",
                    g->group_id, g->leader->member_id, m->member_id);
            g->leader = m;
            return true;
        }
    }
    sk_info("group", "group %s: leader %s did not rejoin before the rebalance timeout and no member did", g->group_id,
            g->leader->member_id);
    return false;
}

/* Stores the group's metadata through the runtime (its replay applies
 * `assignments`, see sk_grecs_group_metadata); a failure is logged there and
 * leaves the group as it was. Returns NONE or the error a client gets. */
static int16_t store_group(sk_groups *gs, ggroup *g, const kf_bytes *assignments)
{
    grecs b;
    sk_grecs_init(&b);
    sk_grecs_group_metadata(&b, g, false, assignments);
    int16_t err = sk_coord_write(gs, g->partition, &b);
    sk_grecs_free(&b);
    return err;
}

/* A JoinGroup for an unknown group: the record of an empty group is
 * stored, and its replay creates the group (Kafka writes the same record
 * before the join goes on). NULL with *err set when it cannot be stored. */
static ggroup *create_group(sk_groups *gs, kf_str group_id, int16_t *err)
{
    ggroup scratch = {.group_id = sk_coord_memdup(group_id), .current_state_timestamp = sk_groups_now(gs)};
    if (!scratch.group_id) {
        *err = SK_ERR_UNKNOWN_SERVER_ERROR;
        return NULL;
    }
    grecs b;
    sk_grecs_init(&b);
    sk_grecs_group_metadata(&b, &scratch, true, NULL);
    size_t len = strlen(scratch.group_id);
    *err = sk_coord_write(gs, sk_group_partition_for(scratch.group_id, len, gs->num_partitions), &b);
    sk_grecs_free(&b);
    ggroup *g = *err == SK_ERR_NONE ? sk_group_find(gs, scratch.group_id, len) : NULL;
    if (*err == SK_ERR_NONE && !g)
        *err = SK_ERR_UNKNOWN_SERVER_ERROR;
    free(scratch.group_id);
    return g;
}

/* Ends the join phase (completeClassicGroupJoin): drops the dynamic members
 * that did not rejoin, starts the next generation and answers every parked
 * JoinGroup, or waits another rebalance timeout when nobody rejoined. */
static void complete_join(sk_groups *gs, ggroup *g)
{
    if (!sk_group_can_transit(g, SK_GROUP_COMPLETING_REBALANCE))
        return;
    sk_coord_timer_cancel(&gs->timers, &g->join_timer);
    for (gmember *m = g->members, *next; m; m = next) {
        next = m->next;
        if (!m->join_waiter && !m->group_instance_id) {
            sk_info("group", "group %s: removing dynamic member %s, which did not rejoin", g->group_id, m->member_id);
            sk_group_member_remove(gs, m);
        }
    }
    if (!elect_joined_leader(g) && g->members) {
        sk_warn("group", "group %s: cannot complete the rebalance: no member rejoined", g->group_id);
        arm_join_timer(gs, g, sk_group_rebalance_timeout(g), false);
        return;
    }
    /* Java int arithmetic: a replayed generation of INT32_MAX wraps, as in Kafka. */
    g->generation_id = (int32_t)((uint32_t)g->generation_id + 1u);
    free(g->protocol_name);
    g->protocol_name = NULL;
    if (g->members) {
        const char *selected = sk_group_select_protocol(g);
        g->protocol_name = selected ? sk_coord_strdup(selected) : NULL;
        sk_group_compute_subscribed(g);
        sk_group_set_state(gs, g, SK_GROUP_COMPLETING_REBALANCE, "generation %d with %d members, protocol %s",
                           g->generation_id, g->nmembers, g->protocol_name ? g->protocol_name : "-");
    } else {
        sk_group_compute_subscribed(g);
        sk_group_set_state(gs, g, SK_GROUP_EMPTY, "generation %d has no members", g->generation_id);
    }
    for (gmember *m = g->members; m; m = m->next)
        m->pending_sync = false;
    if (!g->members) {
        store_group(gs, g, NULL);
        return;
    }
    for (gmember *m = g->members; m; m = m->next) {
        complete_join_waiter(gs, g, m, m == g->leader, false, leader_id(g));
        sk_group_reschedule_heartbeat(gs, m, m->session_timeout_ms);
        m->is_new = false;
        m->pending_sync = true;
    }
    g->sync_generation = g->generation_id;
    sk_coord_timer_arm(&gs->timers, &g->sync_timer, sk_group_rebalance_timeout(g));
}

/* The initial delay passed: extend it while members keep arriving, within
 * the rebalance timeout (tryCompleteInitialRebalanceElseSchedule). */
static void initial_delay_expired(sk_groups *gs, ggroup *g)
{
    if (g->new_member_added && g->initial_remaining_ms != 0) {
        g->new_member_added = false;
        int32_t cfg_delay = gs->cfg->group_initial_rebalance_delay_ms;
        int32_t delay = cfg_delay < g->initial_remaining_ms ? cfg_delay : g->initial_remaining_ms;
        int32_t remaining = g->initial_remaining_ms - g->initial_delay_ms;
        g->initial_delay_ms = delay;
        g->initial_remaining_ms = remaining > 0 ? remaining : 0;
        arm_join_timer(gs, g, delay, true);
        return;
    }
    complete_join(gs, g);
}

void sk_group_join_timer_expired(sk_groups *gs, ggroup *g)
{
    if (g->join_timer_initial)
        initial_delay_expired(gs, g);
    else
        complete_join(gs, g);
    sk_group_check(g);
}

void sk_group_sync_timer_expired(sk_groups *gs, ggroup *g)
{
    if (g->sync_generation != g->generation_id ||
        (g->state != SK_GROUP_COMPLETING_REBALANCE && g->state != SK_GROUP_STABLE))
        return;
    char missing[256] = "";
    size_t at = 0;
    bool any = false;
    for (gmember *m = g->members, *next; m; m = next) {
        next = m->next;
        if (!m->pending_sync)
            continue;
        any = true;
        if (at < sizeof missing)
            at += (size_t)snprintf(missing + at, sizeof missing - at, "%s%s", at ? ", " : "", m->member_id);
        sk_group_member_remove(gs, m);
    }
    if (!any)
        return;
    char reason[320];
    snprintf(reason, sizeof reason, "removing [%s] on pending sync request expiration", missing);
    prepare_rebalance(gs, g, reason);
    sk_group_check(g);
}

/* Removes a member that failed or left, then rebalances or ends the join
 * phase (removeMemberAndUpdateClassicGroup). */
static void remove_member_and_update(sk_groups *gs, ggroup *g, gmember *m, const char *reason)
{
    sk_group_member_remove(gs, m);
    if (g->state == SK_GROUP_STABLE || g->state == SK_GROUP_COMPLETING_REBALANCE)
        sk_group_maybe_rebalance(gs, g, reason);
    else if (g->state == SK_GROUP_PREPARING_REBALANCE && has_all_members_joined(g))
        complete_join(gs, g);
    sk_group_check(g);
}

void sk_group_member_session_expired(void *owner, gtimer *t)
{
    sk_groups *gs = owner;
    gmember *m = (gmember *)((char *)t - offsetof(gmember, heartbeat));
    if (!m->is_new && (m->join_waiter || m->sync_waiter))
        return; /* waiting in a rebalance counts as alive; the answer re-arms the session */
    ggroup *g = m->group;
    char reason[300];
    snprintf(reason, sizeof reason, "removing member %s on heartbeat expiration", m->member_id);
    sk_info("group", "group %s: member %s has failed (session timeout %d ms), removing it", g->group_id, m->member_id,
            m->session_timeout_ms);
    remove_member_and_update(gs, g, m, reason);
}

static void pending_session_expired(void *owner, gtimer *t)
{
    sk_groups *gs = owner;
    gpending *p = (gpending *)((char *)t - offsetof(gpending, timer));
    ggroup *g = p->group;
    sk_info("group", "group %s: pending member %s did not join within its session timeout, removing it", g->group_id,
            p->member_id);
    sk_group_pending_remove(gs, p);
    if (g->state == SK_GROUP_PREPARING_REBALANCE && has_all_members_joined(g))
        complete_join(gs, g);
    sk_group_check(g);
}

/* ---- JoinGroup ---- */

static void add_member_then_rebalance(sk_groups *gs, ggroup *g, const sk_group_client *c, int16_t version,
                                      const kf_join_group_request *rq, const char *member_id, void *waiter)
{
    gmember *m = member_add(gs, g, c, version, rq, member_id, NULL);
    if (!m) {
        sk_group_answer_join_error(gs, waiter, "", SK_ERR_UNKNOWN_SERVER_ERROR);
        return;
    }
    m->is_new = true;
    if (g->state == SK_GROUP_PREPARING_REBALANCE && g->previous_state == SK_GROUP_EMPTY)
        g->new_member_added = true;
    member_set_join_waiter(gs, m, waiter, version);
    sk_group_reschedule_heartbeat(gs, m, GROUP_NEW_MEMBER_JOIN_TIMEOUT_MS);
    char reason[512];
    snprintf(reason, sizeof reason, "adding new member %s with group instance id %s; client reason: %s", m->member_id,
             m->group_instance_id ? m->group_instance_id : "null", join_reason(rq->reason));
    sk_group_maybe_rebalance(gs, g, reason);
}

/* `what` and `how` frame the member id in the logged reason, e.g. "leader"
 * X "is re-joining the group during" Stable. */
static void update_member_then_rebalance(sk_groups *gs, ggroup *g, gmember *m, int16_t version,
                                         const kf_join_group_request *rq, void *waiter, const char *what,
                                         const char *how)
{
    if (member_update(gs, m, version, rq, waiter) < 0) {
        sk_group_answer_join_error(gs, waiter, m->member_id, SK_ERR_UNKNOWN_SERVER_ERROR);
        return;
    }
    char reason[512];
    snprintf(reason, sizeof reason, "%s %s %s %s; client reason: %s", what, m->member_id, how,
             sk_group_state_name(g->state), join_reason(rq->reason));
    sk_group_maybe_rebalance(gs, g, reason);
}

/* A known static member joins with an unknown member id (a restart): it
 * takes over the old member id's place; in Stable with the same protocol
 * no rebalance happens (KIP-345, updateStaticMemberThenRebalanceOrCompleteJoin). */
static void replace_static_member(sk_groups *gs, ggroup *g, gmember *m, int16_t version,
                                  const kf_join_group_request *rq, char *new_id, void *waiter)
{
    char *old_id = m->member_id;
    char *old_leader = g->leader ? sk_coord_strdup(g->leader->member_id) : NULL;
    if (m->join_waiter) {
        void *w = m->join_waiter;
        m->join_waiter = NULL;
        g->nawaiting_join--;
        kf_join_group_response r;
        kf_init(&kf_join_group_response_desc, &r);
        r.error_code = SK_ERR_FENCED_INSTANCE_ID;
        r.member_id = kf_str_c(old_id);
        r.leader = kf_str_c("");
        gs->opts.join_done(w, &r);
    }
    if (m->sync_waiter) {
        void *w = m->sync_waiter;
        m->sync_waiter = NULL;
        sk_group_answer_sync_error(gs, w, SK_ERR_FENCED_INSTANCE_ID);
    }
    m->member_id = new_id;
    sk_group_reschedule_heartbeat(gs, m, m->session_timeout_ms);
    sk_info("group", "group %s: static member %s rejoins in %s; member id %s replaces %s", g->group_id,
            m->group_instance_id, sk_group_state_name(g->state), new_id, old_id);
    if (member_update(gs, m, version, rq, waiter) < 0) {
        sk_group_answer_join_error(gs, waiter, "", SK_ERR_UNKNOWN_SERVER_ERROR);
    } else if (g->state == SK_GROUP_STABLE) {
        const char *selected = sk_group_select_protocol(g);
        if (g->protocol_name && selected && !strcmp(selected, g->protocol_name)) {
            int16_t err = store_group(gs, g, NULL);
            if (err != SK_ERR_NONE) {
                m->member_id = old_id;
                old_id = new_id;
                m->join_waiter = NULL;
                g->nawaiting_join--;
                kf_join_group_response r;
                kf_init(&kf_join_group_response_desc, &r);
                r.error_code = err;
                r.member_id = kf_str_c("");
                r.generation_id = g->generation_id;
                r.protocol_type = kf_str_c(g->protocol_type);
                r.protocol_name = kf_str_c(g->protocol_name);
                r.leader = kf_str_c(old_leader);
                gs->opts.join_done(waiter, &r);
            } else if (version >= 9) {
                bool leader = g->leader == m;
                complete_join_waiter(gs, g, m, leader, leader, leader_id(g));
            } else {
                complete_join_waiter(gs, g, m, false, false, old_leader);
            }
        } else {
            char reason[512];
            snprintf(reason, sizeof reason,
                     "the selected protocol will change because static member %s with instance id %s joined with "
                     "a change of protocol; client reason: %s",
                     m->member_id, m->group_instance_id, join_reason(rq->reason));
            sk_group_maybe_rebalance(gs, g, reason);
        }
    } else if (g->state == SK_GROUP_COMPLETING_REBALANCE) {
        char reason[512];
        snprintf(reason, sizeof reason, "updating metadata for static member %s with instance id %s; client reason: %s",
                 m->member_id, m->group_instance_id, join_reason(rq->reason));
        prepare_rebalance(gs, g, reason);
    } else {
        maybe_complete_join_phase(gs, g);
    }
    free(old_id);
    free(old_leader);
}

static void join_new_member(sk_groups *gs, ggroup *g, const sk_group_client *c, int16_t version,
                            const kf_join_group_request *rq, void *waiter)
{
    if (!supports_protocols(g, rq)) {
        sk_group_answer_join_error(gs, waiter, "", SK_ERR_INCONSISTENT_GROUP_PROTOCOL);
        return;
    }
    const char *instance = rq->group_instance_id.p;
    char *id = new_member_id(instance ? instance : (c->client_id ? c->client_id : ""));
    if (!id) {
        sk_group_answer_join_error(gs, waiter, "", SK_ERR_UNKNOWN_SERVER_ERROR);
        return;
    }
    if (instance) {
        gmember *old = sk_group_member_find_static(g, instance);
        if (old) {
            replace_static_member(gs, g, old, version, rq, id, waiter);
            return;
        }
        sk_info("group", "group %s: static member %s joins in %s with new member id %s", g->group_id, instance,
                sk_group_state_name(g->state), id);
        add_member_then_rebalance(gs, g, c, version, rq, id, waiter);
    } else if (version >= 4) {
        /* KIP-394: hand out the member id and expect it in a second join. */
        gpending *p = calloc(1, sizeof *p);
        if (!p) {
            sk_group_answer_join_error(gs, waiter, "", SK_ERR_UNKNOWN_SERVER_ERROR);
            free(id);
            return;
        }
        p->group = g;
        p->member_id = id;
        sk_coord_timer_init(&p->timer, pending_session_expired);
        p->next = g->pending;
        g->pending = p;
        g->npending++;
        sk_coord_timer_arm(&gs->timers, &p->timer, rq->session_timeout_ms);
        sk_debug("group", "group %s: new member gets id %s (MEMBER_ID_REQUIRED)", g->group_id, id);
        sk_group_answer_join_error(gs, waiter, id, SK_ERR_MEMBER_ID_REQUIRED);
        return;
    } else {
        add_member_then_rebalance(gs, g, c, version, rq, id, waiter);
    }
    free(id);
}

static void join_existing_member(sk_groups *gs, ggroup *g, const sk_group_client *c, int16_t version,
                                 const kf_join_group_request *rq, void *waiter)
{
    const char *mid = rq->member_id.p;
    if (!supports_protocols(g, rq)) {
        sk_group_answer_join_error(gs, waiter, mid, SK_ERR_INCONSISTENT_GROUP_PROTOCOL);
        return;
    }
    if (sk_group_pending_find(g, mid)) {
        if (rq->group_instance_id.p) {
            /* Pending ids are dynamic members' only; Kafka fails this request. */
            sk_group_answer_join_error(gs, waiter, mid, SK_ERR_UNKNOWN_SERVER_ERROR);
            return;
        }
        add_member_then_rebalance(gs, g, c, version, rq, mid, waiter);
        return;
    }
    int16_t err = sk_group_validate_member(g, mid, rq->group_instance_id);
    if (err != SK_ERR_NONE) {
        sk_group_answer_join_error(gs, waiter, mid, err);
        return;
    }
    gmember *m = sk_group_member_find(g, mid);
    switch (g->state) {
    case SK_GROUP_PREPARING_REBALANCE:
        update_member_then_rebalance(gs, g, m, version, rq, waiter, "member", "is joining the group during");
        break;
    case SK_GROUP_COMPLETING_REBALANCE:
        if (member_matches(m, rq))
            answer_join(gs, g, m, waiter, m == g->leader, false, leader_id(g));
        else
            update_member_then_rebalance(gs, g, m, version, rq, waiter, "updating metadata for member", "during");
        break;
    case SK_GROUP_STABLE:
        if (m == g->leader)
            update_member_then_rebalance(gs, g, m, version, rq, waiter, "leader", "is re-joining the group during");
        else if (!member_matches(m, rq))
            update_member_then_rebalance(gs, g, m, version, rq, waiter, "updating metadata for member", "during");
        else
            answer_join(gs, g, m, waiter, false, false, leader_id(g));
        break;
    default:
        sk_warn("group", "group %s: member %s rejoins in unexpected state %s", g->group_id, mid,
                sk_group_state_name(g->state));
        sk_group_answer_join_error(gs, waiter, mid, SK_ERR_UNKNOWN_MEMBER_ID);
        break;
    }
}

/* GroupMetadataManager.acceptJoiningMember: group.max.size. */
static bool accept_joining_member(const sk_groups *gs, const ggroup *g, const char *member_id)
{
    const gmember *m = sk_group_member_find(g, member_id);
    switch (g->state) {
    case SK_GROUP_PREPARING_REBALANCE:
        return (m && m->join_waiter) || g->nawaiting_join < gs->cfg->group_max_size;
    case SK_GROUP_COMPLETING_REBALANCE:
    case SK_GROUP_STABLE:
        return m || g->nmembers < gs->cfg->group_max_size;
    default:
        return true;
    }
}

void sk_group_join(sk_groups *gs, const sk_group_client *c, int16_t version, const kf_join_group_request *rq,
                   void *waiter)
{
    const char *mid = str_or(rq->member_id, "");
    if (gs->closing) {
        sk_group_answer_join_error(gs, waiter, mid, SK_ERR_NOT_COORDINATOR);
        return;
    }
    if (rq->group_id.len <= 0) {
        sk_group_answer_join_error(gs, waiter, mid, SK_ERR_INVALID_GROUP_ID);
        return;
    }
    if (rq->session_timeout_ms < gs->cfg->group_min_session_timeout_ms ||
        rq->session_timeout_ms > gs->cfg->group_max_session_timeout_ms) {
        sk_group_answer_join_error(gs, waiter, mid, SK_ERR_INVALID_SESSION_TIMEOUT);
        return;
    }
    sk_debug("group", "group %s: JoinGroup v%d from member '%s' (client %s at %s); reason: %s", rq->group_id.p, version,
             mid, c->client_id ? c->client_id : "-", c->client_host ? c->client_host : "-", join_reason(rq->reason));
    ggroup *g = sk_group_find_str(gs, rq->group_id);
    if (!g) {
        if (mid[0]) {
            sk_group_answer_join_error(gs, waiter, mid, SK_ERR_UNKNOWN_MEMBER_ID);
            return;
        }
        int16_t err;
        if (!(g = create_group(gs, rq->group_id, &err))) {
            sk_group_answer_join_error(gs, waiter, mid, err);
            return;
        }
    }
    if (g->consumer && g->consumer->nmembers > 0) { /* a mixed group (cgroup_migrate.c) */
        sk_cgroup_classic_join_member(gs, g, c, version, rq, waiter);
        return;
    }
    int16_t cerr = sk_cgroup_classic_join(gs, g);
    if (cerr != SK_ERR_NONE) {
        sk_group_answer_join_error(gs, waiter, mid, cerr);
        return;
    }
    if (!accept_joining_member(gs, g, mid)) {
        gmember *m = sk_group_member_find(g, mid);
        gpending *p = sk_group_pending_find(g, mid);
        if (m)
            sk_group_member_remove(gs, m);
        if (p)
            sk_group_pending_remove(gs, p);
        sk_info("group", "group %s: rejecting member '%s': group.max.size %d reached", g->group_id, mid,
                gs->cfg->group_max_size);
        sk_group_answer_join_error(gs, waiter, "", SK_ERR_GROUP_MAX_SIZE_REACHED);
    } else if (!mid[0]) {
        join_new_member(gs, g, c, version, rq, waiter);
    } else {
        join_existing_member(gs, g, c, version, rq, waiter);
    }
    sk_group_check(g);
}

/* ---- SyncGroup ---- */

/* The leader's assignment: stored, and once stored applied by the
 * record's replay (every member's assignment, CompletingRebalance ->
 * Stable), then handed to every parked member. */
static void sync_leader(sk_groups *gs, ggroup *g, gmember *leader, const kf_sync_group_request *rq)
{
    int32_t n = rq->assignments.n > 0 ? rq->assignments.n : 0;
    kf_bytes *given = calloc(g->nmembers > 0 ? (size_t)g->nmembers : 1, sizeof *given);
    if (!given) {
        reset_and_propagate_assignment(gs, g, SK_ERR_UNKNOWN_SERVER_ERROR);
        return;
    }
    int missing = 0;
    int32_t k = 0;
    for (gmember *m = g->members; m; m = m->next, k++) {
        const kf_sync_group_request_assignment *a = NULL;
        for (int32_t i = 0; i < n; i++)
            if (kf_str_eq(rq->assignments.items[i].member_id, m->member_id))
                a = &rq->assignments.items[i];
        missing += !a;
        if (a)
            given[k] = a->assignment;
    }
    if (missing)
        sk_warn("group", "group %s: %d members get an empty assignment in generation %d", g->group_id, missing,
                g->generation_id);
    int16_t err = store_group(gs, g, given);
    free(given);
    if (err != SK_ERR_NONE) {
        reset_and_propagate_assignment(gs, g, err);
        char reason[300];
        snprintf(reason, sizeof reason, "error %s when storing the group assignment during SyncGroup (member %s)",
                 sk_err_name(err), leader->member_id);
        sk_group_maybe_rebalance(gs, g, reason);
        return;
    }
    propagate_assignment(gs, g, SK_ERR_NONE);
}

/* The member sent SyncGroup: the sync deadline stops once nobody is missing. */
static void remove_pending_sync(sk_groups *gs, ggroup *g, gmember *m)
{
    m->pending_sync = false;
    for (gmember *x = g->members; x; x = x->next)
        if (x->pending_sync)
            return;
    sk_coord_timer_cancel(&gs->timers, &g->sync_timer);
}

void sk_group_sync(sk_groups *gs, int16_t version, const kf_sync_group_request *rq, void *waiter)
{
    if (gs->closing) {
        sk_group_answer_sync_error(gs, waiter, SK_ERR_NOT_COORDINATOR);
        return;
    }
    if (rq->group_id.len <= 0) {
        sk_group_answer_sync_error(gs, waiter, SK_ERR_INVALID_GROUP_ID);
        return;
    }
    if (version >= 5 && (!rq->protocol_type.p || !rq->protocol_name.p)) {
        sk_group_answer_sync_error(gs, waiter, SK_ERR_INCONSISTENT_GROUP_PROTOCOL);
        return;
    }
    ggroup *g = sk_group_find_str(gs, rq->group_id);
    const char *mid = str_or(rq->member_id, "");
    if (g && g->consumer) {
        sk_cgroup_classic_sync(gs, g, rq, waiter);
        return;
    }
    if (!g || g->state == SK_GROUP_EMPTY) {
        sk_group_answer_sync_error(gs, waiter, SK_ERR_UNKNOWN_MEMBER_ID);
        return;
    }
    int16_t err = sk_group_validate_member(g, mid, rq->group_instance_id);
    if (err == SK_ERR_NONE && rq->generation_id != g->generation_id)
        err = SK_ERR_ILLEGAL_GENERATION;
    if (err == SK_ERR_NONE && (protocol_inconsistent(rq->protocol_type, g->protocol_type) ||
                               protocol_inconsistent(rq->protocol_name, g->protocol_name)))
        err = SK_ERR_INCONSISTENT_GROUP_PROTOCOL;
    if (err == SK_ERR_NONE && g->state == SK_GROUP_PREPARING_REBALANCE)
        err = SK_ERR_REBALANCE_IN_PROGRESS;
    if (err != SK_ERR_NONE) {
        sk_group_answer_sync_error(gs, waiter, err);
        return;
    }
    gmember *m = sk_group_member_find(g, mid);
    if (g->state == SK_GROUP_STABLE) {
        remove_pending_sync(gs, g, m);
        answer_sync(gs, g, m, waiter, SK_ERR_NONE);
        return;
    }
    /* CompletingRebalance: park until the leader's assignment is stored. */
    if (m->sync_waiter)
        sk_group_answer_sync_error(gs, m->sync_waiter, SK_ERR_REBALANCE_IN_PROGRESS);
    m->sync_waiter = waiter;
    remove_pending_sync(gs, g, m);
    if (m == g->leader)
        sync_leader(gs, g, m, rq);
    sk_group_check(g);
}

/* ---- Heartbeat ---- */

int16_t sk_group_heartbeat(sk_groups *gs, const kf_heartbeat_request *rq)
{
    if (rq->group_id.len <= 0)
        return SK_ERR_INVALID_GROUP_ID;
    ggroup *g = sk_group_find_str(gs, rq->group_id);
    if (!g)
        return SK_ERR_UNKNOWN_MEMBER_ID;
    if (g->consumer)
        return sk_cgroup_classic_beat(gs, g, rq);
    const char *mid = str_or(rq->member_id, "");
    int16_t err = sk_group_validate_member(g, mid, rq->group_instance_id);
    if (err != SK_ERR_NONE)
        return err;
    if (rq->generation_id != g->generation_id)
        return SK_ERR_ILLEGAL_GENERATION;
    gmember *m = sk_group_member_find(g, mid);
    switch (g->state) {
    case SK_GROUP_PREPARING_REBALANCE:
        sk_group_reschedule_heartbeat(gs, m, m->session_timeout_ms);
        return SK_ERR_REBALANCE_IN_PROGRESS;
    case SK_GROUP_COMPLETING_REBALANCE:
    case SK_GROUP_STABLE:
        sk_group_reschedule_heartbeat(gs, m, m->session_timeout_ms);
        return SK_ERR_NONE;
    default:
        return SK_ERR_UNKNOWN_MEMBER_ID;
    }
}

/* ---- LeaveGroup ---- */

int16_t sk_group_leave(sk_groups *gs, kf_str group_id, const kf_leave_group_request_member *members, int32_t n,
                       kf_leave_group_response_member *out)
{
    if (group_id.len <= 0)
        return SK_ERR_INVALID_GROUP_ID;
    ggroup *g = sk_group_find_str(gs, group_id);
    if (g && g->consumer) {
        sk_cgroup_classic_leave(gs, g, members, n, out);
        return SK_ERR_NONE;
    }
    char left[512] = "";
    size_t at = 0;
    int32_t nleft = 0;
    for (int32_t i = 0; i < n; i++) {
        const kf_leave_group_request_member *rm = &members[i];
        const char *mid = str_or(rm->member_id, "");
        const char *why = join_reason(rm->reason);
        out[i].member_id = rm->member_id;
        out[i].group_instance_id = rm->group_instance_id;
        out[i].error_code = SK_ERR_NONE;
        gmember *m = NULL;
        gpending *p = NULL;
        if (!g) {
            out[i].error_code = SK_ERR_UNKNOWN_MEMBER_ID;
        } else if (!mid[0]) {
            /* Administrative removal by group instance id (KIP-345). */
            m = rm->group_instance_id.p ? sk_group_member_find_static(g, rm->group_instance_id.p) : NULL;
            if (!m)
                out[i].error_code = SK_ERR_UNKNOWN_MEMBER_ID;
        } else if ((p = sk_group_pending_find(g, mid)) != NULL) {
            sk_info("group", "group %s: pending member %s leaves; client reason: %s", g->group_id, mid, why);
            sk_group_pending_remove(gs, p);
        } else {
            out[i].error_code = sk_group_validate_member(g, mid, rm->group_instance_id);
            if (out[i].error_code == SK_ERR_NONE)
                m = sk_group_member_find(g, mid);
        }
        if (out[i].error_code != SK_ERR_NONE)
            continue;
        nleft++;
        if (at < sizeof left)
            at += (size_t)snprintf(left + at, sizeof left - at, "%s%s", at ? ", " : "", mid);
        if (m) {
            sk_info("group", "group %s: member %s leaves; client reason: %s", g->group_id, m->member_id, why);
            sk_group_member_remove(gs, m);
        }
    }
    if (g && nleft > 0) {
        char reason[600];
        snprintf(reason, sizeof reason, "explicit LeaveGroup request for (%s) members", left);
        if (g->state == SK_GROUP_STABLE || g->state == SK_GROUP_COMPLETING_REBALANCE)
            sk_group_maybe_rebalance(gs, g, reason);
        else if (g->state == SK_GROUP_PREPARING_REBALANCE)
            maybe_complete_join_phase(gs, g);
    }
    if (g)
        sk_group_check(g);
    return SK_ERR_NONE;
}
