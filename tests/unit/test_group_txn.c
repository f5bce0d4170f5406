/*
 * Unit tests for the group coordinator's transactional offsets
 * (src/coord/group_txn.c and the commit path they share): TxnOffsetCommit
 * writes a transactional batch of the producer, the offsets stay pending
 * (require_stable answers UNSTABLE_OFFSET_COMMIT) until the marker on the
 * group's partition commits or drops them, a replayed log (records and
 * markers) restores pending and committed offsets alike, the later record
 * wins between plain and transactional commits, tombstones and group
 * deletion drop pending offsets, and v3's member and generation checks.
 */
#include "kf_msgs.h"
#include "skiff/group.h"
#include "test_group.h"
#include "unit_run.h"

static kf_txn_offset_commit_request_partition txn_parts[1];
static kf_txn_offset_commit_request_topic txn_topics[1];
static kf_txn_offset_commit_response_partition txn_resp_parts[1];
static kf_txn_offset_commit_response_topic txn_resp_topics[1];

/* A TxnOffsetCommit of one partition with the v3 member fields; returns
 * its error. */
static int16_t txn_commit_member(int64_t producer_id, const char *group, const char *member, int32_t generation,
                                 const char *instance, const char *topic, int32_t partition, int64_t offset)
{
    kf_txn_offset_commit_request rq;
    kf_txn_offset_commit_response resp;
    kf_init(&kf_txn_offset_commit_request_desc, &rq);
    kf_init(&kf_txn_offset_commit_response_desc, &resp);
    rq.transactional_id = kf_str_c("tx");
    rq.group_id = kf_str_c(group);
    rq.producer_id = producer_id;
    rq.producer_epoch = 3;
    rq.member_id = kf_str_c(member);
    rq.generation_id = generation;
    rq.group_instance_id = kf_str_c(instance);
    kf_init(&kf_txn_offset_commit_request_partition_desc, &txn_parts[0]);
    txn_parts[0].partition_index = partition;
    txn_parts[0].committed_offset = offset;
    txn_parts[0].committed_leader_epoch = 2;
    txn_parts[0].committed_metadata = kf_str_c("x");
    txn_topics[0].name = kf_str_c(topic);
    txn_topics[0].partitions.items = txn_parts;
    txn_topics[0].partitions.n = 1;
    rq.topics.items = txn_topics;
    rq.topics.n = 1;
    txn_resp_parts[0].partition_index = partition;
    txn_resp_parts[0].error_code = SK_ERR_NONE;
    txn_resp_topics[0].name = kf_str_c(topic);
    txn_resp_topics[0].partitions.items = txn_resp_parts;
    txn_resp_topics[0].partitions.n = 1;
    resp.topics.items = txn_resp_topics;
    resp.topics.n = 1;
    sk_arena a = {0};
    ck_assert_int_eq(sk_group_txn_commit_offsets(gs, &rq, &resp, &a), 0);
    sk_arena_free(&a);
    return txn_resp_parts[0].error_code;
}

/* The same from a producer without group membership (v0-2 shape). */
static int16_t txn_commit(int64_t producer_id, const char *group, const char *topic, int32_t partition, int64_t offset)
{
    return txn_commit_member(producer_id, group, "", -1, NULL, topic, partition, offset);
}

static int32_t partition_of(const char *group)
{
    return sk_group_partition_for(group, strlen(group), 50);
}

/* The answer to OffsetFetch with require_stable for one partition. */
static int16_t stable_error(const char *group, const char *topic, int32_t partition)
{
    sk_arena a = {0};
    kf_offset_fetch_response_group out = fetch(group, topic, partition, true, &a);
    int16_t err = out.topics.items[0].partitions.items[0].error_code;
    sk_arena_free(&a);
    return err;
}

START_TEST(test_pending_until_the_marker)
{
    ck_assert_int_eq(commit_one(8, "g", -1, "", "t", 0, 1), SK_ERR_NONE);
    ck_assert_int_eq(records[0].producer_id, -1);
    ck_assert_int_eq(txn_commit(77, "g", "t", 0, 50), SK_ERR_NONE);
    /* Written at once, in the producer's transactional batch. */
    ck_assert_int_eq(nrecords, 2);
    ck_assert_int_eq(records[1].producer_id, 77);
    ck_assert_int_eq(records[1].partition, partition_of("g"));
    ck_assert_int_eq(stable_error("g", "t", 0), SK_ERR_UNSTABLE_OFFSET_COMMIT);
    ck_assert_int_eq(committed("g", "t", 0), 1);

    /* A marker of the producer on another partition changes nothing. */
    store_marker((partition_of("g") + 1) % 50, 77, true);
    ck_assert_int_eq(stable_error("g", "t", 0), SK_ERR_UNSTABLE_OFFSET_COMMIT);
    /* Its COMMIT marker on the group's partition commits; nothing else is written. */
    store_marker(partition_of("g"), 77, true);
    ck_assert_int_eq(nrecords, 4);
    ck_assert_int_eq(stable_error("g", "t", 0), SK_ERR_NONE);
    sk_arena a = {0};
    kf_offset_fetch_response_group out = fetch("g", "t", 0, true, &a);
    ck_assert_int_eq(out.topics.items[0].partitions.items[0].committed_offset, 50);
    ck_assert_int_eq(out.topics.items[0].partitions.items[0].committed_leader_epoch, 2);
    ck_assert_str_eq(out.topics.items[0].partitions.items[0].metadata.p, "x");
    sk_arena_free(&a);

    /* ABORT drops. */
    ck_assert_int_eq(txn_commit(78, "g", "t", 0, 60), SK_ERR_NONE);
    store_marker(partition_of("g"), 78, false);
    ck_assert_int_eq(stable_error("g", "t", 0), SK_ERR_NONE);
    ck_assert_int_eq(committed("g", "t", 0), 50);

    /* A transaction creates a simple group. */
    ck_assert_int_eq(txn_commit(79, "fresh", "t", 3, 9), SK_ERR_NONE);
    ck_assert_int_eq(sk_group_state_of(gs, "fresh"), SK_GROUP_EMPTY);
    store_marker(partition_of("fresh"), 79, true);
    ck_assert_int_eq(committed("fresh", "t", 3), 9);
}
END_TEST

START_TEST(test_errors)
{
    ck_assert_int_eq(txn_commit(79, "", "t", 0, 60), SK_ERR_INVALID_GROUP_ID);
    store_fails = SK_ERR_NOT_ENOUGH_REPLICAS;
    ck_assert_int_eq(txn_commit(81, "g", "t", 1, 1), SK_ERR_COORDINATOR_NOT_AVAILABLE);
    store_fails = SK_ERR_KAFKA_STORAGE_ERROR;
    ck_assert_int_eq(txn_commit(81, "g", "t", 1, 1), SK_ERR_NOT_COORDINATOR);
    store_fails = 0;
    /* Nothing stored, nothing pending. */
    ck_assert_int_eq(nrecords, 0);
    ck_assert_int_eq(stable_error("g", "t", 1), SK_ERR_NONE);
}
END_TEST

START_TEST(test_metadata_too_large)
{
    static char meta[4098];
    memset(meta, 'm', 4097);
    kf_txn_offset_commit_request rq;
    kf_txn_offset_commit_response resp;
    kf_init(&kf_txn_offset_commit_request_desc, &rq);
    kf_init(&kf_txn_offset_commit_response_desc, &resp);
    rq.group_id = kf_str_c("g");
    rq.producer_id = 5;
    kf_txn_offset_commit_request_partition parts[2];
    kf_txn_offset_commit_response_partition rparts[2] = {{0}, {0}};
    for (int i = 0; i < 2; i++) {
        kf_init(&kf_txn_offset_commit_request_partition_desc, &parts[i]);
        parts[i].partition_index = i;
        parts[i].committed_offset = 10 + i;
        rparts[i].partition_index = i;
    }
    parts[1].committed_metadata = kf_str_c(meta);
    kf_txn_offset_commit_request_topic topic = {.name = kf_str_c("t"), .partitions = {parts, 2}};
    kf_txn_offset_commit_response_topic rtopic = {.name = kf_str_c("t"), .partitions = {rparts, 2}};
    rq.topics.items = &topic;
    rq.topics.n = 1;
    resp.topics.items = &rtopic;
    resp.topics.n = 1;
    sk_arena a = {0};
    ck_assert_int_eq(sk_group_txn_commit_offsets(gs, &rq, &resp, &a), 0);
    sk_arena_free(&a);
    ck_assert_int_eq(rparts[0].error_code, SK_ERR_NONE);
    ck_assert_int_eq(rparts[1].error_code, SK_ERR_OFFSET_METADATA_TOO_LARGE);
    ck_assert_int_eq(nrecords, 1);
    store_marker(partition_of("g"), 5, true);
    ck_assert_int_eq(committed("g", "t", 0), 10);
    ck_assert_int_eq(committed("g", "t", 1), -1);
}
END_TEST

START_TEST(test_pending_survives_restart)
{
    ck_assert_int_eq(txn_commit(90, "g", "t", 0, 5), SK_ERR_NONE); /* stays open */
    ck_assert_int_eq(txn_commit(91, "g", "t", 1, 6), SK_ERR_NONE); /* committed */
    ck_assert_int_eq(txn_commit(92, "g", "t", 2, 7), SK_ERR_NONE); /* aborted */
    store_marker(partition_of("g"), 91, true);
    store_marker(partition_of("g"), 92, false);
    restart();
    ck_assert_int_eq(stable_error("g", "t", 0), SK_ERR_UNSTABLE_OFFSET_COMMIT);
    ck_assert_int_eq(committed("g", "t", 0), -1);
    ck_assert_int_eq(committed("g", "t", 1), 6);
    ck_assert_int_eq(committed("g", "t", 2), -1);
    ck_assert_int_eq(stable_error("g", "t", 2), SK_ERR_NONE);
    /* The open transaction still commits after the restart. */
    store_marker(partition_of("g"), 90, true);
    ck_assert_int_eq(committed("g", "t", 0), 5);
    restart();
    ck_assert_int_eq(committed("g", "t", 0), 5);
    ck_assert_int_eq(stable_error("g", "t", 0), SK_ERR_NONE);
}
END_TEST

START_TEST(test_later_record_wins)
{
    /* Transactional record first, plain commit after it: the plain one stays. */
    ck_assert_int_eq(txn_commit(93, "g", "t", 0, 10), SK_ERR_NONE);
    ck_assert_int_eq(commit_one(8, "g", -1, "", "t", 0, 20), SK_ERR_NONE);
    store_marker(partition_of("g"), 93, true);
    ck_assert_int_eq(committed("g", "t", 0), 20);
    /* Plain first, transactional after: the transaction's wins. */
    ck_assert_int_eq(commit_one(8, "g", -1, "", "t", 1, 20), SK_ERR_NONE);
    ck_assert_int_eq(txn_commit(94, "g", "t", 1, 30), SK_ERR_NONE);
    store_marker(partition_of("g"), 94, true);
    ck_assert_int_eq(committed("g", "t", 1), 30);
    /* Replay decides the same way. */
    restart();
    ck_assert_int_eq(committed("g", "t", 0), 20);
    ck_assert_int_eq(committed("g", "t", 1), 30);
}
END_TEST

START_TEST(test_tombstones_drop_pending)
{
    ck_assert_int_eq(txn_commit(95, "s", "t", 0, 4), SK_ERR_NONE);
    ck_assert_int_eq(txn_commit(96, "s", "t", 0, 5), SK_ERR_NONE);
    ck_assert_int_eq(commit_one(8, "s", -1, "", "t", 1, 3), SK_ERR_NONE);
    int before = nrecords;
    ck_assert_int_eq(sk_group_delete(gs, kf_str_c("s")), SK_ERR_NONE);
    /* t-1 committed, t-0 pending (two producers, one tombstone), the group. */
    ck_assert_int_eq(nrecords - before, 3);
    ck_assert_int_eq(records[before + 2].value_len, -1);
    store_marker(partition_of("s"), 95, true);
    ck_assert_int_eq(sk_group_state_of(gs, "s"), SK_GROUP_DEAD);
    restart();
    ck_assert_int_eq(sk_group_state_of(gs, "s"), SK_GROUP_DEAD);
    ck_assert_uint_eq(sk_groups_count(gs), 0);
}
END_TEST

START_TEST(test_deleted_topic_drops_offsets)
{
    ck_assert_int_eq(commit_one(8, "d", -1, "", "t", 1, 3), SK_ERR_NONE);
    ck_assert_int_eq(commit_one(8, "d", -1, "", "u", 0, 6), SK_ERR_NONE);
    ck_assert_int_eq(txn_commit(97, "d", "t", 0, 4), SK_ERR_NONE);
    ck_assert_int_eq(txn_commit(98, "d", "t", 0, 5), SK_ERR_NONE);
    ck_assert_int_eq(txn_commit(98, "d", "t", 1, 9), SK_ERR_NONE);
    int before = nrecords;
    sk_groups_topic_deleted(gs, "t");
    /* t-1 (committed and pending: one tombstone), t-0 (pending twice: one). */
    ck_assert_int_eq(nrecords - before, 2);
    ck_assert_int_eq(records[before].value_len, -1);
    ck_assert_int_eq(records[before + 1].value_len, -1);
    ck_assert_int_eq(committed("d", "t", 1), -1);
    ck_assert_int_eq(stable_error("d", "t", 0), SK_ERR_NONE);
    ck_assert_int_eq(committed("d", "u", 0), 6);
    /* The markers that follow commit nothing of t. */
    store_marker(partition_of("d"), 97, true);
    store_marker(partition_of("d"), 98, true);
    ck_assert_int_eq(committed("d", "t", 0), -1);
    ck_assert_int_eq(committed("d", "t", 1), -1);
    before = nrecords;
    sk_groups_topic_deleted(gs, "t"); /* nothing left: nothing written */
    ck_assert_int_eq(nrecords, before);
    restart();
    ck_assert_int_eq(committed("d", "t", 0), -1);
    ck_assert_int_eq(committed("d", "t", 1), -1);
    ck_assert_int_eq(committed("d", "u", 0), 6);
}
END_TEST

START_TEST(test_generation_checks)
{
    char a[64];
    stable_member("g", a, sizeof a);
    ck_assert_int_eq(txn_commit_member(1, "g", a, 1, NULL, "t", 0, 1), SK_ERR_NONE);
    ck_assert_int_eq(txn_commit_member(1, "g", a, 2, NULL, "t", 0, 1), SK_ERR_ILLEGAL_GENERATION);
    ck_assert_int_eq(txn_commit_member(1, "g", "nobody", 1, NULL, "t", 0, 1), SK_ERR_UNKNOWN_MEMBER_ID);
    /* No member and no generation: accepted from a producer (v0-2 send none). */
    ck_assert_int_eq(txn_commit(1, "g", "t", 0, 1), SK_ERR_NONE);
    /* An unknown group with a generation. */
    ck_assert_int_eq(txn_commit_member(1, "none", "m", 3, NULL, "t", 0, 1), SK_ERR_ILLEGAL_GENERATION);
    ck_assert_int_eq(sk_group_state_of(gs, "none"), SK_GROUP_DEAD);
    /* CompletingRebalance does not refuse transactional commits. */
    waiter jb = {0}, ja = {0};
    join(&jb, 3, "g", "", NULL, "range", "m");
    join(&ja, 3, "g", a, NULL, "range", "m");
    ck_assert_int_eq(ja.generation_id, 2);
    ck_assert_int_eq(sk_group_state_of(gs, "g"), SK_GROUP_COMPLETING_REBALANCE);
    ck_assert_int_eq(commit_one(8, "g", 2, a, "t", 0, 1), SK_ERR_REBALANCE_IN_PROGRESS);
    ck_assert_int_eq(txn_commit_member(1, "g", a, 2, NULL, "t", 0, 1), SK_ERR_NONE);
    /* A static member's instance id mapped to another member id is fenced. */
    char s[64];
    waiter w = {0}, sy = {0};
    join(&w, 5, "st", "", "i1", "range", "m");
    settle();
    snprintf(s, sizeof s, "%s", w.member_id);
    sync_assign(&sy, 3, "st", 1, s, s, "pa", NULL, NULL);
    ck_assert_int_eq(txn_commit_member(1, "st", s, 1, "i1", "t", 0, 1), SK_ERR_NONE);
    ck_assert_int_eq(txn_commit_member(1, "st", "other", 1, "i1", "t", 0, 1), SK_ERR_FENCED_INSTANCE_ID);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("group_txn");
    TCase *tc = tcase_create("txn_offsets");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_pending_until_the_marker);
    tcase_add_test(tc, test_errors);
    tcase_add_test(tc, test_metadata_too_large);
    tcase_add_test(tc, test_pending_survives_restart);
    tcase_add_test(tc, test_later_record_wins);
    tcase_add_test(tc, test_tombstones_drop_pending);
    tcase_add_test(tc, test_generation_checks);
    tcase_add_test(tc, test_deleted_topic_drops_offsets);
    suite_add_tcase(s, tc);
    return sk_unit_run(s);
}
