/*
 * Unit tests for the group coordinator's state machine (src/coord/group*.c)
 * with a fake clock and a store that records what would be written to
 * __consumer_offsets: every state transition, every error code of JoinGroup,
 * SyncGroup, Heartbeat, LeaveGroup, session and rebalance timeouts, pending
 * members and pending syncs, static membership, the initial rebalance
 * delay, group.max.size, and a state x API table. Offsets, administration,
 * record formats and replay are in test_group_offsets.c.
 */
#include "kf_msgs.h"
#include "skiff/group.h"
#include "test_group.h"
#include "unit_run.h"

/* ---- JoinGroup: member ids, first rebalance, sync ---- */

START_TEST(test_join_member_id_required_then_stable)
{
    waiter w1 = {0}, w2 = {0};
    join(&w1, 5, "g", "", NULL, "range", "m1");
    ck_assert_int_eq(w1.calls, 1);
    ck_assert_int_eq(w1.error_code, SK_ERR_MEMBER_ID_REQUIRED);
    ck_assert_int_eq(strncmp(w1.member_id, "client-", 7), 0);
    ck_assert_uint_eq(strlen(w1.member_id), 7 + 36);
    ck_assert_int_eq(sk_group_state_of(gs, "g"), SK_GROUP_EMPTY);
    /* The new group's empty metadata record (generation 0) was stored. */
    ck_assert_int_eq(nrecords, 1);
    ck_assert_int_eq(records[0].key[1], 2);

    join(&w2, 5, "g", w1.member_id, NULL, "range", "m1");
    ck_assert_int_eq(w2.calls, 0); /* parked until the initial delay (0 ms) passes */
    ck_assert_int_eq(sk_group_state_of(gs, "g"), SK_GROUP_PREPARING_REBALANCE);
    ck_assert_int_eq(settle(), 1);
    ck_assert_int_eq(w2.calls, 1);
    ck_assert_int_eq(w2.error_code, SK_ERR_NONE);
    ck_assert_int_eq(w2.generation_id, 1);
    ck_assert_str_eq(w2.member_id, w1.member_id);
    ck_assert_str_eq(w2.leader, w1.member_id);
    ck_assert_str_eq(w2.protocol_name, "range");
    ck_assert_str_eq(w2.protocol_type, "consumer");
    ck_assert_int_eq(w2.nmembers, 1);
    ck_assert_str_eq(w2.members[0], w1.member_id);
    ck_assert_str_eq(w2.member_meta[0], "m1");
    ck_assert_int_eq(sk_group_state_of(gs, "g"), SK_GROUP_COMPLETING_REBALANCE);

    waiter s = {0};
    sync_assign(&s, 3, "g", 1, w1.member_id, w1.member_id, "a1", NULL, NULL);
    ck_assert_int_eq(s.calls, 1);
    ck_assert_int_eq(s.error_code, SK_ERR_NONE);
    ck_assert_str_eq(s.assignment, "a1");
    ck_assert_int_eq(sk_group_state_of(gs, "g"), SK_GROUP_STABLE);
    ck_assert_int_eq(sk_group_generation_of(gs, "g"), 1);
    ck_assert_int_eq(heartbeat("g", 1, w1.member_id, NULL), SK_ERR_NONE);
    /* The assignment was stored before it was handed out. */
    ck_assert_int_eq(nrecords, 2);
    ck_assert_int_eq(records[1].value_len > 0, 1);
}
END_TEST

START_TEST(test_join_v3_gets_member_id_at_once)
{
    waiter w = {0};
    join(&w, 3, "g", "", NULL, "range", "m");
    ck_assert_int_eq(w.calls, 0);
    settle();
    ck_assert_int_eq(w.calls, 1);
    ck_assert_int_eq(w.error_code, SK_ERR_NONE);
    ck_assert_int_eq(strncmp(w.member_id, "client-", 7), 0);
    ck_assert_int_eq(w.generation_id, 1);
}
END_TEST

START_TEST(test_join_errors)
{
    waiter w = {0};
    join(&w, 5, "", "", NULL, "range", "m");
    ck_assert_int_eq(w.error_code, SK_ERR_INVALID_GROUP_ID);
    memset(&w, 0, sizeof w);
    join_timeouts(&w, 5, "g", "", 5999, 10000);
    ck_assert_int_eq(w.error_code, SK_ERR_INVALID_SESSION_TIMEOUT);
    memset(&w, 0, sizeof w);
    join_timeouts(&w, 5, "g", "", 1800001, 10000);
    ck_assert_int_eq(w.error_code, SK_ERR_INVALID_SESSION_TIMEOUT);
    ck_assert_uint_eq(sk_groups_count(gs), 0);
    memset(&w, 0, sizeof w);
    join(&w, 5, "g", "someone", NULL, "range", "m");
    ck_assert_int_eq(w.error_code, SK_ERR_UNKNOWN_MEMBER_ID);
    ck_assert_str_eq(w.member_id, "someone");
    ck_assert_uint_eq(sk_groups_count(gs), 0);

    /* An empty protocol type or no protocol at all cannot start a group. */
    memset(&w, 0, sizeof w);
    kf_join_group_request rq = join_request("g", "", NULL, "range", "m");
    rq.protocol_type = kf_str_c("");
    sk_group_join(gs, &client, 5, &rq, &w);
    ck_assert_int_eq(w.error_code, SK_ERR_INCONSISTENT_GROUP_PROTOCOL);
    ck_assert_str_eq(w.member_id, "");
    memset(&w, 0, sizeof w);
    rq = join_request("g", "", NULL, "range", "m");
    rq.protocols.n = 0;
    sk_group_join(gs, &client, 5, &rq, &w);
    ck_assert_int_eq(w.error_code, SK_ERR_INCONSISTENT_GROUP_PROTOCOL);

    /* Once the group has a member: another protocol type, or no common protocol. */
    char a[64];
    stable_member("g", a, sizeof a);
    memset(&w, 0, sizeof w);
    rq = join_request("g", "", NULL, "range", "m");
    rq.protocol_type = kf_str_c("connect");
    sk_group_join(gs, &client, 3, &rq, &w);
    ck_assert_int_eq(w.error_code, SK_ERR_INCONSISTENT_GROUP_PROTOCOL);
    memset(&w, 0, sizeof w);
    join(&w, 3, "g", "", NULL, "roundrobin", "m");
    ck_assert_int_eq(w.error_code, SK_ERR_INCONSISTENT_GROUP_PROTOCOL);
    memset(&w, 0, sizeof w);
    join(&w, 3, "g", a, NULL, "roundrobin", "m");
    ck_assert_int_eq(w.error_code, SK_ERR_INCONSISTENT_GROUP_PROTOCOL);
    ck_assert_str_eq(w.member_id, a);
    ck_assert_int_eq(sk_group_state_of(gs, "g"), SK_GROUP_STABLE);
    /* A known member id that is not in the group. */
    memset(&w, 0, sizeof w);
    join(&w, 5, "g", "client-unknown", NULL, "range", "m");
    ck_assert_int_eq(w.error_code, SK_ERR_UNKNOWN_MEMBER_ID);
}
END_TEST

START_TEST(test_protocol_selection)
{
    /* Two members support range and roundrobin in opposite preference;
     * a third prefers roundrobin: roundrobin wins 2 votes to 1. */
    const char *p1[] = {"range", "roundrobin"}, *p2[] = {"roundrobin", "range"};
    waiter w1 = {0}, w2 = {0}, w3 = {0};
    join_protocols(&w1, 3, "g", "", p1, 2);
    join_protocols(&w2, 3, "g", "", p2, 2);
    join_protocols(&w3, 3, "g", "", p2, 2);
    settle();
    ck_assert_int_eq(w1.error_code, SK_ERR_NONE);
    ck_assert_str_eq(w1.protocol_name, "roundrobin");
    ck_assert_str_eq(w2.protocol_name, "roundrobin");
    ck_assert_int_eq(w1.nmembers, 3);
    ck_assert_int_eq(w2.nmembers, 0);
    /* A fourth member supporting only range narrows the candidates to range. */
    waiter w4 = {0};
    const char *p4[] = {"range"};
    join_protocols(&w4, 3, "g", "", p4, 1);
    ck_assert_int_eq(sk_group_state_of(gs, "g"), SK_GROUP_PREPARING_REBALANCE);
    waiter r1 = {0}, r2 = {0}, r3 = {0};
    join_protocols(&r1, 3, "g", w1.member_id, p1, 2);
    join_protocols(&r2, 3, "g", w2.member_id, p2, 2);
    join_protocols(&r3, 3, "g", w3.member_id, p2, 2);
    ck_assert_int_eq(r1.calls, 1);
    ck_assert_str_eq(r1.protocol_name, "range");
    ck_assert_int_eq(r1.generation_id, 2);
    ck_assert_str_eq(w4.protocol_name, "range");
}
END_TEST

START_TEST(test_rebalance_two_members)
{
    char a[64];
    stable_member("g", a, sizeof a);
    waiter wb = {0};
    join(&wb, 3, "g", "", NULL, "range", "mb");
    ck_assert_int_eq(wb.calls, 0);
    ck_assert_int_eq(sk_group_state_of(gs, "g"), SK_GROUP_PREPARING_REBALANCE);
    ck_assert_int_eq(heartbeat("g", 1, a, NULL), SK_ERR_REBALANCE_IN_PROGRESS);
    waiter s = {0};
    sync_assign(&s, 3, "g", 1, a, NULL, NULL, NULL, NULL);
    ck_assert_int_eq(s.error_code, SK_ERR_REBALANCE_IN_PROGRESS);

    /* A rejoins: everyone is in, the join phase ends at once. */
    waiter wa = {0};
    join(&wa, 3, "g", a, NULL, "range", "ma");
    ck_assert_int_eq(wa.calls, 1);
    ck_assert_int_eq(wb.calls, 1);
    ck_assert_int_eq(wa.generation_id, 2);
    ck_assert_int_eq(wb.generation_id, 2);
    ck_assert_str_eq(wa.leader, a);
    ck_assert_str_eq(wb.leader, a);
    ck_assert_int_eq(wa.nmembers, 2);
    ck_assert_int_eq(wb.nmembers, 0);
    ck_assert_int_eq(sk_group_state_of(gs, "g"), SK_GROUP_COMPLETING_REBALANCE);

    /* The follower's SyncGroup waits for the leader's. */
    waiter sb = {0}, sa = {0};
    sync_assign(&sb, 3, "g", 2, wb.member_id, NULL, NULL, NULL, NULL);
    ck_assert_int_eq(sb.calls, 0);
    ck_assert_int_eq(heartbeat("g", 2, wb.member_id, NULL), SK_ERR_NONE);
    sync_assign(&sa, 3, "g", 2, a, a, "pa", wb.member_id, "pb");
    ck_assert_int_eq(sa.calls, 1);
    ck_assert_int_eq(sb.calls, 1);
    ck_assert_str_eq(sa.assignment, "pa");
    ck_assert_str_eq(sb.assignment, "pb");
    ck_assert_int_eq(sk_group_state_of(gs, "g"), SK_GROUP_STABLE);

    /* In Stable, a follower rejoining with the same metadata gets the
     * current generation at once; a SyncGroup gets its assignment. */
    waiter again = {0}, sync_again = {0};
    join(&again, 3, "g", wb.member_id, NULL, "range", "mb");
    ck_assert_int_eq(again.calls, 1);
    ck_assert_int_eq(again.generation_id, 2);
    ck_assert_int_eq(sk_group_state_of(gs, "g"), SK_GROUP_STABLE);
    sync_assign(&sync_again, 3, "g", 2, wb.member_id, NULL, NULL, NULL, NULL);
    ck_assert_str_eq(sync_again.assignment, "pb");
    /* ... with new metadata it starts a rebalance; so does the leader. */
    waiter changed = {0};
    join(&changed, 3, "g", wb.member_id, NULL, "range", "mb2");
    ck_assert_int_eq(changed.calls, 0);
    ck_assert_int_eq(sk_group_state_of(gs, "g"), SK_GROUP_PREPARING_REBALANCE);
    waiter lead = {0};
    join(&lead, 3, "g", a, NULL, "range", "ma");
    ck_assert_int_eq(lead.calls, 1);
    ck_assert_int_eq(changed.calls, 1);
    ck_assert_int_eq(lead.generation_id, 3);
    ck_assert_str_eq(lead.member_meta[1], "mb2");
}
END_TEST

START_TEST(test_completing_rebalance_joins)
{
    char a[64];
    stable_member("g", a, sizeof a);
    waiter wb = {0}, wa = {0};
    join(&wb, 3, "g", "", NULL, "range", "mb");
    join(&wa, 3, "g", a, NULL, "range", "ma");
    ck_assert_int_eq(sk_group_state_of(gs, "g"), SK_GROUP_COMPLETING_REBALANCE);
    /* Same metadata: the current generation again (the leader gets the members). */
    waiter again = {0};
    join(&again, 3, "g", a, NULL, "range", "ma");
    ck_assert_int_eq(again.calls, 1);
    ck_assert_int_eq(again.generation_id, 2);
    ck_assert_int_eq(again.nmembers, 2);
    ck_assert_int_eq(sk_group_state_of(gs, "g"), SK_GROUP_COMPLETING_REBALANCE);
    /* A parked follower's SyncGroup is answered REBALANCE_IN_PROGRESS when
     * new metadata starts another rebalance. */
    waiter sb = {0};
    sync_assign(&sb, 3, "g", 2, wb.member_id, NULL, NULL, NULL, NULL);
    ck_assert_int_eq(sb.calls, 0);
    waiter changed = {0};
    join(&changed, 3, "g", wb.member_id, NULL, "range", "mb2");
    ck_assert_int_eq(sb.calls, 1);
    ck_assert_int_eq(sb.error_code, SK_ERR_REBALANCE_IN_PROGRESS);
    ck_assert_int_eq(sk_group_state_of(gs, "g"), SK_GROUP_PREPARING_REBALANCE);
}
END_TEST

/* ---- Timeouts ---- */

START_TEST(test_session_timeout_evicts)
{
    char a[64], b[64];
    stable_pair("g", a, b);
    /* A heartbeats every 3 s; B stays silent past its 10 s session. */
    for (int i = 0; i < 3; i++) {
        advance(3000);
        ck_assert_int_eq(heartbeat("g", 2, a, NULL), SK_ERR_NONE);
        ck_assert_int_eq(settle(), 0);
    }
    advance(1000);
    ck_assert_int_eq(settle(), 1);
    ck_assert_int_eq(sk_group_state_of(gs, "g"), SK_GROUP_PREPARING_REBALANCE);
    ck_assert_int_eq(heartbeat("g", 2, b, NULL), SK_ERR_UNKNOWN_MEMBER_ID);
    ck_assert_int_eq(heartbeat("g", 2, a, NULL), SK_ERR_REBALANCE_IN_PROGRESS);
    waiter w = {0};
    join(&w, 3, "g", a, NULL, "range", "ma");
    ck_assert_int_eq(w.calls, 1);
    ck_assert_int_eq(w.generation_id, 3);
    ck_assert_int_eq(w.nmembers, 1);
}
END_TEST

START_TEST(test_rebalance_timeout_expels_members_not_rejoining)
{
    char a[64], b[64];
    stable_pair("g", a, b);
    waiter wc = {0}, wa = {0};
    join(&wc, 3, "g", "", NULL, "range", "mc");
    join(&wa, 3, "g", a, NULL, "range", "ma");
    ck_assert_int_eq(wa.calls, 0);
    /* B keeps heartbeating but never rejoins within the 30 s rebalance timeout. */
    for (int i = 0; i < 9; i++) {
        advance(3000);
        ck_assert_int_eq(heartbeat("g", 2, b, NULL), SK_ERR_REBALANCE_IN_PROGRESS);
        settle();
    }
    ck_assert_int_eq(wa.calls, 0);
    advance(3000);
    settle();
    ck_assert_int_eq(wa.calls, 1);
    ck_assert_int_eq(wc.calls, 1);
    ck_assert_int_eq(wa.generation_id, 3);
    ck_assert_int_eq(wa.nmembers, 2);
    ck_assert_int_eq(heartbeat("g", 3, b, NULL), SK_ERR_UNKNOWN_MEMBER_ID);
}
END_TEST

START_TEST(test_pending_sync_expiry)
{
    char a[64];
    stable_member("g", a, sizeof a);
    waiter wb = {0}, wa = {0};
    join(&wb, 3, "g", "", NULL, "range", "mb");
    join(&wa, 3, "g", a, NULL, "range", "ma");
    ck_assert_int_eq(sk_group_generation_of(gs, "g"), 2);
    /* The leader syncs, the follower never does: after the rebalance
     * timeout it is removed and the group rebalances. */
    waiter sa = {0};
    sync_assign(&sa, 3, "g", 2, a, a, "pa", wb.member_id, "pb");
    ck_assert_int_eq(sk_group_state_of(gs, "g"), SK_GROUP_STABLE);
    for (int i = 0; i < 10; i++) {
        advance(3000);
        ck_assert_int_eq(heartbeat("g", 2, a, NULL), SK_ERR_NONE);
        ck_assert_int_eq(heartbeat("g", 2, wb.member_id, NULL), SK_ERR_NONE);
        settle();
    }
    ck_assert_int_eq(sk_group_state_of(gs, "g"), SK_GROUP_PREPARING_REBALANCE);
    ck_assert_int_eq(heartbeat("g", 2, wb.member_id, NULL), SK_ERR_UNKNOWN_MEMBER_ID);
}
END_TEST

START_TEST(test_pending_member_expires)
{
    waiter w = {0};
    join(&w, 5, "g", "", NULL, "range", "m");
    ck_assert_int_eq(w.error_code, SK_ERR_MEMBER_ID_REQUIRED);
    advance(10000);
    ck_assert_int_eq(settle(), 1);
    waiter again = {0};
    join(&again, 5, "g", w.member_id, NULL, "range", "m");
    ck_assert_int_eq(again.error_code, SK_ERR_UNKNOWN_MEMBER_ID);
}
END_TEST

START_TEST(test_new_member_join_timeout)
{
    char a[64];
    stable_member_timeouts("g", a, sizeof a, 10000, 600000);
    waiter wb = {0};
    join_timeouts(&wb, 3, "g", "", 10000, 600000);
    ck_assert_int_eq(wb.calls, 0);
    /* A heartbeats but never rejoins: after 5 minutes the waiting new
     * member is dropped and told UNKNOWN_MEMBER_ID. */
    for (int i = 0; i < 100; i++) {
        advance(3000);
        heartbeat("g", 1, a, NULL);
        settle();
    }
    ck_assert_int_eq(wb.calls, 1);
    ck_assert_int_eq(wb.error_code, SK_ERR_UNKNOWN_MEMBER_ID);
    ck_assert_str_eq(wb.member_id, "");
}
END_TEST

START_TEST(test_initial_rebalance_delay)
{
    cfg.group_initial_rebalance_delay_ms = 3000;
    waiter w1 = {0}, w2 = {0};
    join(&w1, 3, "g", "", NULL, "range", "m1");
    ck_assert_int_eq(sk_groups_next_deadline(gs), now_ms + 3000);
    advance(1000);
    join(&w2, 3, "g", "", NULL, "range", "m2");
    advance(2000);
    settle();
    /* A member arrived during the delay: it is extended by another 3 s. */
    ck_assert_int_eq(w1.calls, 0);
    advance(3000);
    settle();
    ck_assert_int_eq(w1.calls, 1);
    ck_assert_int_eq(w2.calls, 1);
    ck_assert_int_eq(w1.generation_id, 1);
    ck_assert_int_eq(w1.nmembers, 2);
}
END_TEST

START_TEST(test_group_max_size)
{
    cfg.group_max_size = 1;
    char a[64];
    stable_member("g", a, sizeof a);
    waiter w = {0};
    join(&w, 3, "g", "", NULL, "range", "m");
    ck_assert_int_eq(w.error_code, SK_ERR_GROUP_MAX_SIZE_REACHED);
    ck_assert_str_eq(w.member_id, "");
    ck_assert_int_eq(sk_group_state_of(gs, "g"), SK_GROUP_STABLE);
    waiter again = {0};
    join(&again, 3, "g", a, NULL, "range", "ma");
    ck_assert_int_eq(again.error_code, SK_ERR_NONE);
}
END_TEST

/* ---- Static membership (KIP-345) ---- */

START_TEST(test_static_member_rejoins_without_rebalance)
{
    waiter w = {0};
    join(&w, 5, "g", "", "i1", "range", "m");
    ck_assert_int_eq(w.calls, 0); /* static members skip MEMBER_ID_REQUIRED */
    settle();
    ck_assert_int_eq(strncmp(w.member_id, "i1-", 3), 0);
    waiter s = {0};
    sync_assign(&s, 3, "g", 1, w.member_id, w.member_id, "p", NULL, NULL);
    ck_assert_int_eq(s.error_code, SK_ERR_NONE);

    /* Restarted: unknown member id, same instance id, same protocol. */
    waiter r = {0};
    join(&r, 5, "g", "", "i1", "range", "m");
    ck_assert_int_eq(r.calls, 1);
    ck_assert_int_eq(r.error_code, SK_ERR_NONE);
    ck_assert_str_ne(r.member_id, w.member_id);
    ck_assert_int_eq(r.generation_id, 1);
    ck_assert_str_eq(r.leader, w.member_id); /* before v9 the old id: no reassignment */
    ck_assert_int_eq(sk_group_state_of(gs, "g"), SK_GROUP_STABLE);
    ck_assert_int_eq(heartbeat("g", 1, w.member_id, "i1"), SK_ERR_FENCED_INSTANCE_ID);
    ck_assert_int_eq(heartbeat("g", 1, r.member_id, "i1"), SK_ERR_NONE);
    ck_assert_int_eq(heartbeat("g", 1, r.member_id, "i2"), SK_ERR_UNKNOWN_MEMBER_ID);
    waiter s2 = {0};
    sync_assign(&s2, 3, "g", 1, r.member_id, NULL, NULL, NULL, NULL);
    ck_assert_str_eq(s2.assignment, "p");
    waiter s3 = {0};
    sync_assign_instance(&s3, "g", 1, w.member_id, "i1");
    ck_assert_int_eq(s3.error_code, SK_ERR_FENCED_INSTANCE_ID);

    /* v9: the leader is told to skip the assignment. */
    waiter r9 = {0};
    join(&r9, 9, "g", "", "i1", "range", "m");
    ck_assert_int_eq(r9.error_code, SK_ERR_NONE);
    ck_assert_str_eq(r9.leader, r9.member_id);
    ck_assert_int_eq(r9.skip_assignment, 1);
    ck_assert_int_eq(r9.nmembers, 1);
    ck_assert_int_eq(sk_group_generation_of(gs, "g"), 1);
}
END_TEST

START_TEST(test_static_member_fenced_while_waiting)
{
    waiter w = {0};
    join(&w, 5, "g", "", "i1", "range", "m");
    waiter d = {0};
    join(&d, 5, "g", "", "i1", "range", "m");
    /* The second instance replaces the first, whose parked join is fenced. */
    ck_assert_int_eq(w.calls, 1);
    ck_assert_int_eq(w.error_code, SK_ERR_FENCED_INSTANCE_ID);
    settle();
    ck_assert_int_eq(d.calls, 1);
    ck_assert_int_eq(d.error_code, SK_ERR_NONE);
    ck_assert_int_eq(d.generation_id, 1);
    waiter old = {0};
    kf_join_group_request rq = join_request("g", w.member_id, "i1", "range", "m");
    sk_group_join(gs, &client, 5, &rq, &old);
    ck_assert_int_eq(old.error_code, SK_ERR_FENCED_INSTANCE_ID);
}
END_TEST

START_TEST(test_static_member_kept_at_rebalance_timeout)
{
    waiter w = {0};
    join(&w, 5, "g", "", "i1", "range", "m");
    settle();
    waiter s = {0};
    sync_assign(&s, 3, "g", 1, w.member_id, w.member_id, "p", NULL, NULL);
    waiter wb = {0};
    join(&wb, 3, "g", "", NULL, "range", "mb");
    /* The static member does not rejoin but keeps its session. */
    for (int i = 0; i < 10; i++) {
        advance(3000);
        heartbeat("g", 1, w.member_id, "i1");
        settle();
    }
    ck_assert_int_eq(wb.calls, 1);
    ck_assert_int_eq(wb.generation_id, 2);
    ck_assert_str_eq(wb.leader, wb.member_id);
    ck_assert_int_eq(heartbeat("g", 2, w.member_id, "i1"), SK_ERR_NONE);
}
END_TEST

/* ---- SyncGroup, Heartbeat and LeaveGroup errors ---- */

START_TEST(test_sync_errors)
{
    waiter s = {0};
    sync_assign(&s, 3, "", 1, "x", NULL, NULL, NULL, NULL);
    ck_assert_int_eq(s.error_code, SK_ERR_INVALID_GROUP_ID);
    memset(&s, 0, sizeof s);
    sync_assign(&s, 3, "g", 1, "x", NULL, NULL, NULL, NULL);
    ck_assert_int_eq(s.error_code, SK_ERR_UNKNOWN_MEMBER_ID);
    char a[64];
    stable_member("g", a, sizeof a);
    memset(&s, 0, sizeof s);
    sync_assign(&s, 3, "g", 1, "x", NULL, NULL, NULL, NULL);
    ck_assert_int_eq(s.error_code, SK_ERR_UNKNOWN_MEMBER_ID);
    memset(&s, 0, sizeof s);
    sync_assign(&s, 3, "g", 7, a, NULL, NULL, NULL, NULL);
    ck_assert_int_eq(s.error_code, SK_ERR_ILLEGAL_GENERATION);
    memset(&s, 0, sizeof s);
    kf_sync_group_request rq = sync_request("g", 1, a);
    sk_group_sync(gs, 5, &rq, &s);
    ck_assert_int_eq(s.error_code, SK_ERR_INCONSISTENT_GROUP_PROTOCOL); /* v5 needs type and name */
    memset(&s, 0, sizeof s);
    rq.protocol_type = kf_str_c("consumer");
    rq.protocol_name = kf_str_c("roundrobin");
    sk_group_sync(gs, 5, &rq, &s);
    ck_assert_int_eq(s.error_code, SK_ERR_INCONSISTENT_GROUP_PROTOCOL);
    memset(&s, 0, sizeof s);
    rq.protocol_name = kf_str_c("range");
    sk_group_sync(gs, 5, &rq, &s);
    ck_assert_int_eq(s.error_code, SK_ERR_NONE);
    ck_assert_str_eq(s.protocol_name, "range");
    ck_assert_str_eq(s.protocol_type, "consumer");
}
END_TEST

START_TEST(test_heartbeat_errors)
{
    ck_assert_int_eq(heartbeat("", 0, "x", NULL), SK_ERR_INVALID_GROUP_ID);
    ck_assert_int_eq(heartbeat("g", 0, "x", NULL), SK_ERR_UNKNOWN_MEMBER_ID);
    char a[64];
    stable_member("g", a, sizeof a);
    ck_assert_int_eq(heartbeat("g", 1, "x", NULL), SK_ERR_UNKNOWN_MEMBER_ID);
    ck_assert_int_eq(heartbeat("g", 0, a, NULL), SK_ERR_ILLEGAL_GENERATION);
    ck_assert_int_eq(heartbeat("g", 2, a, NULL), SK_ERR_ILLEGAL_GENERATION);
    ck_assert_int_eq(heartbeat("g", 1, a, "nobody"), SK_ERR_UNKNOWN_MEMBER_ID);
    ck_assert_int_eq(heartbeat("g", 1, a, NULL), SK_ERR_NONE);
}
END_TEST

START_TEST(test_leave)
{
    kf_leave_group_response_member out[3];
    kf_leave_group_request_member m[3] = {0};
    m[0].member_id = kf_str_c("x");
    ck_assert_int_eq(sk_group_leave(gs, kf_str_c(""), m, 1, out), SK_ERR_INVALID_GROUP_ID);
    ck_assert_int_eq(sk_group_leave(gs, kf_str_c("g"), m, 1, out), SK_ERR_NONE);
    ck_assert_int_eq(out[0].error_code, SK_ERR_UNKNOWN_MEMBER_ID);

    waiter w = {0};
    join(&w, 5, "g", "", "i1", "range", "m");
    settle();
    waiter s = {0};
    sync_assign(&s, 3, "g", 1, w.member_id, w.member_id, "p", NULL, NULL);
    waiter wb = {0}, wa = {0};
    join(&wb, 3, "g", "", NULL, "range", "mb");
    join(&wa, 5, "g", w.member_id, "i1", "range", "m");
    ck_assert_int_eq(sk_group_state_of(gs, "g"), SK_GROUP_COMPLETING_REBALANCE);
    const char *b = wb.member_id;

    /* v3+ batch: by member id, by instance id only, a stranger, a fenced id. */
    m[0].member_id = kf_str_c(b);
    m[0].group_instance_id = kf_str_c(NULL);
    m[1].member_id = kf_str_c("");
    m[1].group_instance_id = kf_str_c("i1");
    m[2].member_id = kf_str_c("ghost");
    m[2].group_instance_id = kf_str_c(NULL);
    ck_assert_int_eq(sk_group_leave(gs, kf_str_c("g"), m, 3, out), SK_ERR_NONE);
    ck_assert_int_eq(out[0].error_code, SK_ERR_NONE);
    ck_assert_int_eq(out[1].error_code, SK_ERR_NONE);
    ck_assert_int_eq(out[2].error_code, SK_ERR_UNKNOWN_MEMBER_ID);
    ck_assert_str_eq(out[1].group_instance_id.p, "i1");
    /* Everyone left: the join phase ends with no member, the group empties. */
    ck_assert_int_eq(sk_group_state_of(gs, "g"), SK_GROUP_EMPTY);
    ck_assert_int_eq(sk_group_generation_of(gs, "g"), 3);
}
END_TEST

START_TEST(test_leave_fenced_and_pending)
{
    waiter w = {0};
    join(&w, 5, "g", "", "i1", "range", "m");
    settle();
    kf_leave_group_response_member out[1];
    kf_leave_group_request_member m[1] = {0};
    m[0].member_id = kf_str_c("i1-other");
    m[0].group_instance_id = kf_str_c("i1");
    sk_group_leave(gs, kf_str_c("g"), m, 1, out);
    ck_assert_int_eq(out[0].error_code, SK_ERR_FENCED_INSTANCE_ID);
    /* A pending member id (MEMBER_ID_REQUIRED) may leave too. */
    waiter p = {0};
    join(&p, 5, "g", "", NULL, "range", "m");
    ck_assert_int_eq(p.error_code, SK_ERR_MEMBER_ID_REQUIRED);
    m[0].member_id = kf_str_c(p.member_id);
    m[0].group_instance_id = kf_str_c(NULL);
    sk_group_leave(gs, kf_str_c("g"), m, 1, out);
    ck_assert_int_eq(out[0].error_code, SK_ERR_NONE);
    waiter again = {0};
    join(&again, 5, "g", p.member_id, NULL, "range", "m");
    ck_assert_int_eq(again.error_code, SK_ERR_UNKNOWN_MEMBER_ID);
}
END_TEST

/* ---- State x API table ---- */

/* Expected errors per state for a member of the group ("a") sending, in
 * this order, Heartbeat, OffsetCommit at the group's generation,
 * DeleteGroups, and SyncGroup. */
static const struct {
    sk_group_state state;
    int16_t heartbeat, commit, delete, sync;
} state_api[] = {
    {SK_GROUP_PREPARING_REBALANCE, SK_ERR_REBALANCE_IN_PROGRESS, SK_ERR_NONE, SK_ERR_NON_EMPTY_GROUP,
     SK_ERR_REBALANCE_IN_PROGRESS},
    /* the member is the leader: its SyncGroup completes the rebalance */
    {SK_GROUP_COMPLETING_REBALANCE, SK_ERR_NONE, SK_ERR_REBALANCE_IN_PROGRESS, SK_ERR_NON_EMPTY_GROUP, SK_ERR_NONE},
    {SK_GROUP_STABLE, SK_ERR_NONE, SK_ERR_NONE, SK_ERR_NON_EMPTY_GROUP, SK_ERR_NONE},
    {SK_GROUP_EMPTY, SK_ERR_UNKNOWN_MEMBER_ID, SK_ERR_UNKNOWN_MEMBER_ID, SK_ERR_NONE, SK_ERR_UNKNOWN_MEMBER_ID},
    {SK_GROUP_DEAD, SK_ERR_UNKNOWN_MEMBER_ID, SK_ERR_ILLEGAL_GENERATION, SK_ERR_GROUP_ID_NOT_FOUND,
     SK_ERR_UNKNOWN_MEMBER_ID},
};

START_TEST(test_state_api_matrix)
{
    const char *gid = "g";
    char a[64] = "client-gone";
    int32_t gen = 1;
    switch (state_api[_i].state) {
    case SK_GROUP_PREPARING_REBALANCE: {
        stable_member(gid, a, sizeof a);
        waiter w = {0};
        join(&w, 3, gid, "", NULL, "range", "m2");
        break;
    }
    case SK_GROUP_COMPLETING_REBALANCE: {
        stable_member(gid, a, sizeof a);
        waiter w = {0}, wa = {0};
        join(&w, 3, gid, "", NULL, "range", "m2");
        join(&wa, 3, gid, a, NULL, "range", "ma");
        gen = 2;
        break;
    }
    case SK_GROUP_STABLE:
        stable_member(gid, a, sizeof a);
        break;
    case SK_GROUP_EMPTY: {
        stable_member(gid, a, sizeof a);
        kf_leave_group_request_member m = {.member_id = kf_str_c(a)};
        kf_leave_group_response_member out;
        sk_group_leave(gs, kf_str_c(gid), &m, 1, &out);
        gen = 2;
        break;
    }
    case SK_GROUP_DEAD:
        break;
    }
    ck_assert_int_eq(sk_group_state_of(gs, gid), state_api[_i].state);
    ck_assert_int_eq(heartbeat(gid, gen, a, NULL), state_api[_i].heartbeat);
    ck_assert_int_eq(commit_one(8, gid, gen, a, "t", 0, 5), state_api[_i].commit);
    ck_assert_int_eq(sk_group_delete(gs, kf_str_c(gid)), state_api[_i].delete);
    waiter s = {0};
    sync_assign(&s, 3, gid, gen, a, NULL, NULL, NULL, NULL);
    ck_assert_int_eq(s.calls, 1);
    ck_assert_int_eq(s.error_code, state_api[_i].sync);
}
END_TEST

/* ---- Shutdown ---- */

START_TEST(test_close_answers_parked_requests)
{
    char a[64];
    stable_member("g", a, sizeof a);
    waiter wb = {0};
    join(&wb, 3, "g", "", NULL, "range", "mb");
    ck_assert_int_eq(wb.calls, 0);
    sk_groups_close(gs);
    gs = NULL;
    ck_assert_int_eq(wb.calls, 1);
    ck_assert_int_eq(wb.error_code, SK_ERR_NOT_COORDINATOR);
}
END_TEST

START_TEST(test_partition_for)
{
    ck_assert_int_eq(sk_group_partition_for("my-group", 8, 50), 12);
    ck_assert_int_eq(sk_group_partition_for("test-group", 10, 50), 12);
    ck_assert_int_eq(sk_group_partition_for("", 0, 50), 0);
    /* hashCode == Integer.MIN_VALUE: Kafka's Utils.abs makes it 0. */
    ck_assert_int_eq(sk_group_partition_for("polygenelubricants", 18, 50), 0);
    ck_assert_int_eq(sk_group_partition_for("gr\xc3\xbcppe", 7, 50), 12);
    /* A code point outside the BMP hashes as its two UTF-16 surrogates. */
    ck_assert_int_eq(sk_group_partition_for("g\xf0\x9f\x98\x80", 5, 50), 32);
    ck_assert_int_eq(sk_group_partition_for("my-group", 8, 1), 0);
    ck_assert_str_eq(sk_group_state_name(SK_GROUP_PREPARING_REBALANCE), "PreparingRebalance");
    ck_assert_str_eq(sk_group_state_name(SK_GROUP_COMPLETING_REBALANCE), "CompletingRebalance");
}
END_TEST

static Suite *group_suite(void)
{
    Suite *s = suite_create("group");
    TCase *tc = tcase_create("fsm");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_join_member_id_required_then_stable);
    tcase_add_test(tc, test_join_v3_gets_member_id_at_once);
    tcase_add_test(tc, test_join_errors);
    tcase_add_test(tc, test_protocol_selection);
    tcase_add_test(tc, test_rebalance_two_members);
    tcase_add_test(tc, test_completing_rebalance_joins);
    tcase_add_test(tc, test_session_timeout_evicts);
    tcase_add_test(tc, test_rebalance_timeout_expels_members_not_rejoining);
    tcase_add_test(tc, test_pending_sync_expiry);
    tcase_add_test(tc, test_pending_member_expires);
    tcase_add_test(tc, test_new_member_join_timeout);
    tcase_add_test(tc, test_initial_rebalance_delay);
    tcase_add_test(tc, test_group_max_size);
    tcase_add_test(tc, test_static_member_rejoins_without_rebalance);
    tcase_add_test(tc, test_static_member_fenced_while_waiting);
    tcase_add_test(tc, test_static_member_kept_at_rebalance_timeout);
    tcase_add_test(tc, test_sync_errors);
    tcase_add_test(tc, test_heartbeat_errors);
    tcase_add_test(tc, test_leave);
    tcase_add_test(tc, test_leave_fenced_and_pending);
    tcase_add_loop_test(tc, test_state_api_matrix, 0, (int)(sizeof state_api / sizeof state_api[0]));
    tcase_add_test(tc, test_close_answers_parked_requests);
    tcase_add_test(tc, test_partition_for);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return sk_unit_run(group_suite());
}
