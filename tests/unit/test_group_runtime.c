/*
 * Unit tests for the group coordinator runtime (src/coord/runtime.c) as the
 * classic group protocol and offset commits use it, on a fake clock: an
 * operation's records are stored first and applied by their replay, so a
 * failed append leaves no trace (no group created, no offset, no
 * assignment), answers wait for the store, timers run on the injected
 * clock, and a coordinator rebuilt from the stored records holds what the
 * live one held.
 */
#include "../../src/coord/group_int.h"
#include "kf_msgs.h"
#include "skiff/group.h"
#include "test_group.h"
#include "unit_run.h"

/* The DescribeGroups answer of `group`, member i's assignment as text. */
static void member_assignment(const char *group, int i, char *out, size_t len)
{
    sk_arena a = {0};
    kf_describe_groups_response_group d;
    ck_assert_int_eq(sk_group_describe(gs, kf_str_c(group), &d, &a), 0);
    ck_assert_int_gt(d.members.n, i);
    kf_bytes b = d.members.items[i].member_assignment;
    snprintf(out, len, "%.*s", (int)b.len, b.p ? (const char *)b.p : "");
    sk_arena_free(&a);
}

START_TEST(test_failed_create_leaves_no_group)
{
    waiter w = {0};
    store_fails = SK_ERR_NOT_ENOUGH_REPLICAS;
    join(&w, 5, "g", "", NULL, "range", "m1");
    ck_assert_int_eq(w.calls, 1);
    ck_assert_int_eq(w.error_code, SK_ERR_COORDINATOR_NOT_AVAILABLE);
    ck_assert_uint_eq(sk_groups_count(gs), 0);
    ck_assert_int_eq(nrecords, 0);
    /* The retry creates the group from its stored empty record. */
    store_fails = 0;
    join(&w, 5, "g", "", NULL, "range", "m1");
    ck_assert_int_eq(w.calls, 2);
    ck_assert_int_eq(w.error_code, SK_ERR_MEMBER_ID_REQUIRED);
    ck_assert_uint_eq(sk_groups_count(gs), 1);
    ck_assert_int_eq(nrecords, 1);
    ck_assert_int_eq(records[0].key[1], 2); /* group metadata key */
    /* Value v3: protocol type "", generation 0, protocol null, leader null,
     * the current state timestamp (the fake clock), no members. */
    uint8_t want[24] = {0, 3, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff};
    for (int i = 0; i < 8; i++)
        want[12 + i] = (uint8_t)(now_ms >> (56 - 8 * i));
    ck_assert_int_eq(records[0].value_len, (long)sizeof want);
    ck_assert_mem_eq(records[0].value, want, sizeof want);
}
END_TEST

START_TEST(test_failed_simple_commit_creates_nothing)
{
    store_fails = SK_ERR_KAFKA_STORAGE_ERROR;
    ck_assert_int_eq(commit_one(8, "s", -1, "", "t", 0, 5), SK_ERR_NOT_COORDINATOR);
    ck_assert_uint_eq(sk_groups_count(gs), 0);
    ck_assert_int_eq(committed("s", "t", 0), -1);
    store_fails = 0;
    ck_assert_int_eq(commit_one(8, "s", -1, "", "t", 0, 5), SK_ERR_NONE);
    ck_assert_uint_eq(sk_groups_count(gs), 1);
    ck_assert_int_eq(sk_group_state_of(gs, "s"), SK_GROUP_EMPTY);
    ck_assert_int_eq(committed("s", "t", 0), 5);
    /* The record's offset in the log is the offset's: a later plain commit
     * replaces it, as at load. */
    ck_assert_int_eq(nrecords, 1);
    ck_assert_int_eq(records[0].offset, 0);
}
END_TEST

START_TEST(test_failed_sync_applies_no_assignment)
{
    waiter w = {0}, s = {0};
    join(&w, 3, "g", "", NULL, "range", "m1");
    settle();
    ck_assert_int_eq(sk_group_state_of(gs, "g"), SK_GROUP_COMPLETING_REBALANCE);
    int before = nrecords;
    store_fails = SK_ERR_KAFKA_STORAGE_ERROR;
    sync_assign(&s, 3, "g", 1, w.member_id, w.member_id, "a1", NULL, NULL);
    ck_assert_int_eq(s.calls, 1);
    ck_assert_int_eq(s.error_code, SK_ERR_NOT_COORDINATOR);
    ck_assert_int_eq(nrecords, before);
    ck_assert_int_ne(sk_group_state_of(gs, "g"), SK_GROUP_STABLE);
    char got[16];
    member_assignment("g", 0, got, sizeof got);
    ck_assert_str_eq(got, "");
}
END_TEST

START_TEST(test_sync_applied_by_replay)
{
    char a[64], b[64];
    stable_pair("g", a, b);
    char got[16];
    member_assignment("g", 0, got, sizeof got);
    ck_assert_str_eq(got, "pa");
    member_assignment("g", 1, got, sizeof got);
    ck_assert_str_eq(got, "pb");
    /* The answer was given after the record was stored: the last record is
     * the group of generation 2 with both assignments. */
    const stored *last = &records[nrecords - 1];
    ck_assert_int_eq(last->key[1], 2);
    ck_assert_int_gt(last->value_len, 0);
    /* A coordinator rebuilt from the records holds the same group. */
    restart();
    ck_assert_int_eq(sk_group_state_of(gs, "g"), SK_GROUP_STABLE);
    ck_assert_int_eq(sk_group_generation_of(gs, "g"), 2);
    member_assignment("g", 0, got, sizeof got);
    ck_assert_str_eq(got, "pa");
    member_assignment("g", 1, got, sizeof got);
    ck_assert_str_eq(got, "pb");
    ck_assert_int_eq(heartbeat("g", 2, a, NULL), SK_ERR_NONE);
    ck_assert_int_eq(heartbeat("g", 2, b, NULL), SK_ERR_NONE);
}
END_TEST

START_TEST(test_expiration_on_fake_clock)
{
    ck_assert_int_eq(commit_one(8, "s", -1, "", "t", 0, 5), SK_ERR_NONE);
    int64_t retention = (int64_t)cfg.offsets_retention_minutes * 60000;
    /* Nothing is due before the retention has passed since the commit. */
    advance(retention - 1);
    settle();
    ck_assert_int_eq(committed("s", "t", 0), 5);
    /* The next expiration run (every 10 minutes) after it writes the
     * tombstones; their replay removes the offset and the empty group. */
    advance(600000);
    ck_assert_int_gt(settle(), 0);
    ck_assert_int_eq(committed("s", "t", 0), -1);
    ck_assert_int_eq(sk_group_state_of(gs, "s"), SK_GROUP_DEAD);
    ck_assert_int_eq(nrecords, 3);
    ck_assert_int_eq(records[1].value_len, -1);
    ck_assert_int_eq(records[1].key[1], 1); /* the offset's tombstone */
    ck_assert_int_eq(records[2].value_len, -1);
    ck_assert_int_eq(records[2].key[1], 2); /* the group's */
    restart();
    ck_assert_uint_eq(sk_groups_count(gs), 0);
}
END_TEST

START_TEST(test_failed_expiration_keeps_offsets)
{
    ck_assert_int_eq(commit_one(8, "s", -1, "", "t", 0, 5), SK_ERR_NONE);
    store_fails = SK_ERR_KAFKA_STORAGE_ERROR;
    advance((int64_t)cfg.offsets_retention_minutes * 60000 + 600000);
    settle();
    ck_assert_int_eq(committed("s", "t", 0), 5);
    ck_assert_int_eq(sk_group_state_of(gs, "s"), SK_GROUP_EMPTY);
    store_fails = 0;
    advance(600000);
    settle();
    ck_assert_int_eq(committed("s", "t", 0), -1);
}
END_TEST

START_TEST(test_illegal_transition_refused)
{
    waiter w = {0};
    join(&w, 3, "g", "", NULL, "range", "m1");
    ck_assert_int_eq(sk_group_state_of(gs, "g"), SK_GROUP_PREPARING_REBALANCE);
    ggroup *g = sk_group_find(gs, "g", 1);
    ck_assert_ptr_nonnull(g);
    /* PreparingRebalance -> Stable skips CompletingRebalance: refused, the
     * group unchanged (the ERROR "BUG:" line is the log's). */
    ck_assert(!sk_group_can_transit(g, SK_GROUP_STABLE));
    ck_assert(!sk_group_set_state(gs, g, SK_GROUP_STABLE, "test"));
    ck_assert_int_eq(sk_group_state_of(gs, "g"), SK_GROUP_PREPARING_REBALANCE);
    /* Kafka's ClassicGroupState predecessors, all of them. */
    static const bool legal[5][5] = {
        /* to:       Empty  Preparing Completing Stable Dead */
        [SK_GROUP_EMPTY] = {false, true, false, false, true},
        [SK_GROUP_PREPARING_REBALANCE] = {true, false, true, false, true},
        [SK_GROUP_COMPLETING_REBALANCE] = {false, true, false, true, true},
        [SK_GROUP_STABLE] = {false, true, false, false, true},
        [SK_GROUP_DEAD] = {false, false, false, false, true},
    };
    sk_group_state saved = g->state;
    for (int from = 0; from < 5; from++) {
        for (int to = 0; to < 5; to++) {
            g->state = (sk_group_state)from;
            ck_assert_msg(sk_group_can_transit(g, (sk_group_state)to) == legal[from][to], "%s -> %s",
                          sk_group_state_name((sk_group_state)from), sk_group_state_name((sk_group_state)to));
        }
    }
    g->state = saved;
    settle();
    ck_assert_int_eq(w.error_code, SK_ERR_NONE);
    ck_assert_int_eq(sk_group_state_of(gs, "g"), SK_GROUP_COMPLETING_REBALANCE);
}
END_TEST

static Suite *group_runtime_suite(void)
{
    Suite *s = suite_create("group_runtime");
    TCase *tc = tcase_create("runtime");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_failed_create_leaves_no_group);
    tcase_add_test(tc, test_failed_simple_commit_creates_nothing);
    tcase_add_test(tc, test_failed_sync_applies_no_assignment);
    tcase_add_test(tc, test_sync_applied_by_replay);
    tcase_add_test(tc, test_expiration_on_fake_clock);
    tcase_add_test(tc, test_failed_expiration_keeps_offsets);
    tcase_add_test(tc, test_illegal_transition_refused);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return sk_unit_run(group_runtime_suite());
}
