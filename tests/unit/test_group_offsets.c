/*
 * Unit tests for the group coordinator's offsets, administration and
 * durability (src/coord/group_offsets.c, group_admin.c, group_records.c):
 * OffsetCommit / OffsetFetch / OffsetDelete rules and errors, retention and
 * expiration on the fake clock, DescribeGroups / ListGroups / DeleteGroups,
 * the exact bytes of the
 * __consumer_offsets records, replay into a fresh coordinator (offsets and
 * static members survive), and store failures.
 */
#include "kf_msgs.h"
#include "skiff/buf.h"
#include "skiff/group.h"
#include "test_group.h"
#include "unit_run.h"

/* A ConsumerProtocolSubscription v0 of `topic`, as consumers send it. */
static const char *subscription(const char *topic, int32_t *len)
{
    static uint8_t buf[64];
    sk_writer w;
    sk_writer_init(&w, 64);
    sk_write_i16(&w, 0);
    sk_write_i32(&w, 1);
    sk_write_i16(&w, (int16_t)strlen(topic));
    sk_write_raw(&w, topic, strlen(topic));
    sk_write_i32(&w, -1);
    memcpy(buf, w.buf, w.len);
    *len = (int32_t)w.len;
    sk_writer_free(&w);
    return (const char *)buf;
}

/* A Stable consumer group whose one member subscribes to `topic`. */
static void stable_subscriber(const char *group, const char *topic, char *out, size_t len)
{
    int32_t n;
    const char *sub = subscription(topic, &n);
    kf_join_group_request rq = join_request(group, "", NULL, "range", "");
    protocols[0].metadata.p = (const uint8_t *)sub;
    protocols[0].metadata.len = n;
    waiter w = {0}, s = {0};
    sk_group_join(gs, &client, 3, &rq, &w);
    settle();
    snprintf(out, len, "%s", w.member_id);
    sync_assign(&s, 3, group, 1, out, out, "pa", NULL, NULL);
    ck_assert_int_eq(sk_group_state_of(gs, group), SK_GROUP_STABLE);
}

/* ---- OffsetCommit / OffsetFetch ---- */

START_TEST(test_simple_commit_and_fetch)
{
    ck_assert_int_eq(commit_one(8, "s", -1, "", "t", 0, 5), SK_ERR_NONE);
    ck_assert_int_eq(sk_group_state_of(gs, "s"), SK_GROUP_EMPTY);
    ck_assert_int_eq(committed("s", "t", 0), 5);
    ck_assert_int_eq(committed("s", "t", 1), -1);
    ck_assert_int_eq(committed("nobody", "t", 0), -1);
    sk_arena a = {0};
    kf_offset_fetch_response_group out = fetch("s", "t", 0, false, &a);
    ck_assert_int_eq(out.error_code, SK_ERR_NONE);
    ck_assert_str_eq(out.topics.items[0].partitions.items[0].metadata.p, "md");
    ck_assert_int_eq(out.topics.items[0].partitions.items[0].committed_leader_epoch, -1);
    out = fetch("s", "t", 1, false, &a);
    ck_assert_str_eq(out.topics.items[0].partitions.items[0].metadata.p, "");
    /* All partitions: topics null. */
    ck_assert_int_eq(commit_one(8, "s", -1, "", "u", 3, 9), SK_ERR_NONE);
    out = fetch("s", NULL, 0, false, &a);
    ck_assert_int_eq(out.topics.n, 2);
    ck_assert_str_eq(out.topics.items[0].name.p, "t");
    ck_assert_str_eq(out.topics.items[1].name.p, "u");
    ck_assert_int_eq(out.topics.items[1].partitions.items[0].partition_index, 3);
    ck_assert_int_eq(out.topics.items[1].partitions.items[0].committed_offset, 9);
    out = fetch("nobody", NULL, 0, false, &a);
    ck_assert_int_eq(out.topics.n, 0);
    ck_assert_int_eq(out.error_code, SK_ERR_NONE);
    sk_arena_free(&a);
    /* A later commit replaces the offset. */
    ck_assert_int_eq(commit_one(8, "s", -1, "", "t", 0, 7), SK_ERR_NONE);
    ck_assert_int_eq(committed("s", "t", 0), 7);
}
END_TEST

START_TEST(test_metadata_bytes_exact)
{
    /* Metadata is a string of any characters, NUL included (librdkafka's
     * test 0099 commits "Hello\0world!"): kept, fetched and replayed whole. */
    static const char md[] = "Hello\0world!";
    kf_offset_commit_request rq;
    kf_offset_commit_response resp;
    commit_request(&rq, &resp, "s", -1, "", "t", 1, 42);
    commit_parts[0].committed_metadata = (kf_str){md, 12};
    sk_group_commit_offsets(gs, 8, &rq, &resp);
    ck_assert_int_eq(commit_resp_parts[0].error_code, SK_ERR_NONE);
    for (int pass = 0; pass < 2; pass++) {
        sk_arena a = {0};
        kf_offset_fetch_response_group out = fetch("s", "t", 0, false, &a);
        ck_assert_int_eq(out.topics.items[0].partitions.items[0].committed_offset, 42);
        ck_assert_int_eq(out.topics.items[0].partitions.items[0].metadata.len, 12);
        ck_assert_mem_eq(out.topics.items[0].partitions.items[0].metadata.p, md, 12);
        sk_arena_free(&a);
        restart();
    }
}
END_TEST

START_TEST(test_commit_errors)
{
    ck_assert_int_eq(commit_one(8, "g", 3, "m", "t", 0, 5), SK_ERR_ILLEGAL_GENERATION);
    ck_assert_int_eq(commit_one(9, "g", 3, "m", "t", 0, 5), SK_ERR_GROUP_ID_NOT_FOUND);
    ck_assert_uint_eq(sk_groups_count(gs), 0);
    char a[64];
    stable_member("g", a, sizeof a);
    ck_assert_int_eq(commit_one(8, "g", 2, a, "t", 0, 5), SK_ERR_ILLEGAL_GENERATION);
    ck_assert_int_eq(commit_one(8, "g", 1, "x", "t", 0, 5), SK_ERR_UNKNOWN_MEMBER_ID);
    ck_assert_int_eq(commit_one(8, "g", -1, "", "t", 0, 5), SK_ERR_UNKNOWN_MEMBER_ID);
    ck_assert_int_eq(commit_one(8, "g", 1, a, "t", 0, 5), SK_ERR_NONE);

    /* Per partition: metadata over 4096 bytes; preset errors are left alone. */
    kf_offset_commit_request rq;
    kf_offset_commit_response resp;
    commit_request(&rq, &resp, "g", 1, a, "t", 3, 10);
    static char big[4098];
    memset(big, 'x', 4097);
    commit_parts[1].committed_metadata = kf_str_c(big);
    commit_resp_parts[2].error_code = SK_ERR_UNKNOWN_TOPIC_OR_PARTITION;
    sk_group_commit_offsets(gs, 8, &rq, &resp);
    ck_assert_int_eq(commit_resp_parts[0].error_code, SK_ERR_NONE);
    ck_assert_int_eq(commit_resp_parts[1].error_code, SK_ERR_OFFSET_METADATA_TOO_LARGE);
    ck_assert_int_eq(commit_resp_parts[2].error_code, SK_ERR_UNKNOWN_TOPIC_OR_PARTITION);
    ck_assert_int_eq(committed("g", "t", 0), 10);
    ck_assert_int_eq(committed("g", "t", 1), -1);
    ck_assert_int_eq(committed("g", "t", 2), -1);

    /* Static members: the instance id must map to the member id. */
    waiter w = {0};
    join(&w, 5, "st", "", "i1", "range", "m");
    settle();
    kf_offset_commit_request srq;
    kf_offset_commit_response sresp;
    commit_request(&srq, &sresp, "st", 1, "i1-wrong", "t", 1, 1);
    srq.group_instance_id = kf_str_c("i1");
    sk_group_commit_offsets(gs, 8, &srq, &sresp);
    ck_assert_int_eq(commit_resp_parts[0].error_code, SK_ERR_FENCED_INSTANCE_ID);
}
END_TEST

START_TEST(test_commit_keeps_session)
{
    char a[64];
    stable_member("g", a, sizeof a);
    for (int i = 0; i < 5; i++) {
        advance(8000);
        ck_assert_int_eq(commit_one(8, "g", 1, a, "t", 0, i), SK_ERR_NONE);
        settle();
    }
    ck_assert_int_eq(heartbeat("g", 1, a, NULL), SK_ERR_NONE);
    advance(10000);
    settle();
    ck_assert_int_eq(heartbeat("g", 1, a, NULL), SK_ERR_UNKNOWN_MEMBER_ID);
}
END_TEST

/* ---- Record formats ---- */

static void put_str(sk_writer *w, const char *s)
{
    sk_write_i16(w, (int16_t)strlen(s));
    sk_write_raw(w, s, strlen(s));
}

static void assert_record(const stored *r, const sk_writer *key, const sk_writer *value)
{
    ck_assert_uint_eq(r->key_len, key->len);
    ck_assert_mem_eq(r->key, key->buf, key->len);
    if (!value) {
        ck_assert_int_eq(r->value_len, -1);
        return;
    }
    ck_assert_int_eq(r->value_len, (long)value->len);
    ck_assert_mem_eq(r->value, value->buf, value->len);
}

START_TEST(test_record_bytes)
{
    /* "my-group" lives in partition 12 of 50. */
    ck_assert_int_eq(commit_one(8, "my-group", -1, "", "t", 0, 5), SK_ERR_NONE);
    ck_assert_int_eq(nrecords, 1);
    ck_assert_int_eq(records[0].partition, 12);
    sk_writer k, v;
    sk_writer_init(&k, 64);
    sk_writer_init(&v, 64);
    sk_write_i16(&k, 1);
    put_str(&k, "my-group");
    put_str(&k, "t");
    sk_write_i32(&k, 0);
    sk_write_i16(&v, 3);
    sk_write_i64(&v, 5);
    sk_write_i32(&v, -1);
    put_str(&v, "md");
    sk_write_i64(&v, now_ms);
    assert_record(&records[0], &k, &v);

    /* v2 retention time: value v1 with the expire timestamp. */
    kf_offset_commit_request rq;
    kf_offset_commit_response resp;
    commit_request(&rq, &resp, "my-group", -1, "", "t", 1, 6);
    rq.retention_time_ms = 60000;
    sk_group_commit_offsets(gs, 2, &rq, &resp);
    v.len = 0;
    sk_write_i16(&v, 1);
    sk_write_i64(&v, 6);
    put_str(&v, "md");
    sk_write_i64(&v, now_ms);
    sk_write_i64(&v, now_ms + 60000);
    assert_record(&records[1], &k, &v);

    /* Group metadata: a Stable one-member group. */
    nrecords = 0;
    char a[64];
    stable_member("my-group", a, sizeof a);
    ck_assert_int_eq(nrecords, 1);
    k.len = 0;
    sk_write_i16(&k, 2);
    put_str(&k, "my-group");
    v.len = 0;
    sk_write_i16(&v, 3);
    put_str(&v, "consumer");
    sk_write_i32(&v, 1);
    put_str(&v, "range");
    put_str(&v, a);
    sk_write_i64(&v, now_ms);
    sk_write_i32(&v, 1);
    put_str(&v, a);
    sk_write_i16(&v, -1);
    put_str(&v, "client");
    put_str(&v, "/127.0.0.1");
    sk_write_i32(&v, 30000);
    sk_write_i32(&v, 10000);
    sk_write_i32(&v, 1);
    sk_write_raw(&v, "m", 1);
    sk_write_i32(&v, 2);
    sk_write_raw(&v, "pa", 2);
    assert_record(&records[0], &k, &v);

    /* DeleteGroups writes a tombstone per offset, then the group's. */
    kf_leave_group_request_member m = {.member_id = kf_str_c(a)};
    kf_leave_group_response_member out;
    sk_group_leave(gs, kf_str_c("my-group"), &m, 1, &out);
    nrecords = 0;
    ck_assert_int_eq(sk_group_delete(gs, kf_str_c("my-group")), SK_ERR_NONE);
    ck_assert_int_eq(nrecords, 2);
    k.len = 0;
    sk_write_i16(&k, 1);
    put_str(&k, "my-group");
    put_str(&k, "t");
    sk_write_i32(&k, 0);
    assert_record(&records[0], &k, NULL);
    k.len = 0;
    sk_write_i16(&k, 2);
    put_str(&k, "my-group");
    assert_record(&records[1], &k, NULL);
    sk_writer_free(&k);
    sk_writer_free(&v);
}
END_TEST

/* ---- Replay ---- */

START_TEST(test_replay_restores_offsets_and_static_members)
{
    waiter w = {0}, s = {0};
    join(&w, 5, "g", "", "i1", "range", "m");
    settle();
    sync_assign(&s, 3, "g", 1, w.member_id, w.member_id, "pa", NULL, NULL);
    ck_assert_int_eq(commit_one(8, "g", 1, w.member_id, "t", 0, 42), SK_ERR_NONE);
    ck_assert_int_eq(commit_one(8, "simple", -1, "", "t", 1, 7), SK_ERR_NONE);
    ck_assert_int_eq(commit_one(8, "gone", -1, "", "t", 1, 7), SK_ERR_NONE);
    ck_assert_int_eq(sk_group_delete(gs, kf_str_c("gone")), SK_ERR_NONE);

    restart();
    ck_assert_uint_eq(sk_groups_count(gs), 2);
    ck_assert_int_eq(sk_group_state_of(gs, "g"), SK_GROUP_STABLE);
    ck_assert_int_eq(sk_group_generation_of(gs, "g"), 1);
    ck_assert_int_eq(sk_group_state_of(gs, "simple"), SK_GROUP_EMPTY);
    ck_assert_int_eq(sk_group_state_of(gs, "gone"), SK_GROUP_DEAD);
    ck_assert_int_eq(committed("g", "t", 0), 42);
    ck_assert_int_eq(committed("simple", "t", 1), 7);
    sk_arena a = {0};
    kf_describe_groups_response_group d;
    ck_assert_int_eq(sk_group_describe(gs, kf_str_c("g"), &d, &a), 0);
    ck_assert_int_eq(d.members.n, 1);
    ck_assert_str_eq(d.members.items[0].group_instance_id.p, "i1");
    ck_assert_str_eq(d.members.items[0].client_host.p, "/127.0.0.1");
    ck_assert_str_eq(d.protocol_data.p, "range");
    sk_arena_free(&a);

    /* The restarted static consumer rejoins without a rebalance and keeps
     * its assignment. */
    waiter r = {0}, s2 = {0};
    join(&r, 5, "g", "", "i1", "range", "m");
    ck_assert_int_eq(r.error_code, SK_ERR_NONE);
    ck_assert_int_eq(r.generation_id, 1);
    ck_assert_int_eq(sk_group_state_of(gs, "g"), SK_GROUP_STABLE);
    sync_assign(&s2, 3, "g", 1, r.member_id, NULL, NULL, NULL, NULL);
    ck_assert_str_eq(s2.assignment, "pa");
    /* Loaded members have sessions: silence removes them, and the group of
     * one member empties at once. */
    advance(10000);
    settle();
    ck_assert_int_eq(sk_group_state_of(gs, "g"), SK_GROUP_EMPTY);
    ck_assert_int_eq(sk_group_generation_of(gs, "g"), 2);
}
END_TEST

START_TEST(test_replay_old_and_flexible_versions)
{
    /* Offset commit key v0 + value v0; group metadata value v4 (flexible). */
    sk_writer k, v;
    sk_writer_init(&k, 64);
    sk_writer_init(&v, 64);
    sk_write_i16(&k, 0);
    put_str(&k, "old");
    put_str(&k, "t");
    sk_write_i32(&k, 2);
    sk_write_i16(&v, 0);
    sk_write_i64(&v, 11);
    put_str(&v, "");
    sk_write_i64(&v, now_ms);
    sk_group_record r = {k.buf, k.len, v.buf, v.len};
    ck_assert_int_eq(sk_groups_replay(gs, &r, 0, -1), 0);
    ck_assert_int_eq(committed("old", "t", 2), 11);

    k.len = v.len = 0;
    sk_write_i16(&k, 2);
    put_str(&k, "flex");
    sk_write_i16(&v, 4);
    sk_write_uvarint(&v, 9);
    sk_write_raw(&v, "consumer", 8);
    sk_write_i32(&v, 3);
    sk_write_uvarint(&v, 6);
    sk_write_raw(&v, "range", 5);
    sk_write_uvarint(&v, 3);
    sk_write_raw(&v, "m1", 2);
    sk_write_i64(&v, now_ms);
    sk_write_uvarint(&v, 2); /* one member */
    sk_write_uvarint(&v, 3);
    sk_write_raw(&v, "m1", 2);
    sk_write_uvarint(&v, 0); /* group instance id null */
    sk_write_uvarint(&v, 2);
    sk_write_raw(&v, "c", 1);
    sk_write_uvarint(&v, 2);
    sk_write_raw(&v, "h", 1);
    sk_write_i32(&v, 30000);
    sk_write_i32(&v, 10000);
    sk_write_uvarint(&v, 2);
    sk_write_raw(&v, "s", 1);
    sk_write_uvarint(&v, 2);
    sk_write_raw(&v, "a", 1);
    sk_write_uvarint(&v, 1); /* member tagged fields: one unknown tag */
    sk_write_uvarint(&v, 7);
    sk_write_uvarint(&v, 1);
    sk_write_i8(&v, 0);
    sk_write_uvarint(&v, 0); /* value tagged fields */
    r = (sk_group_record){k.buf, k.len, v.buf, v.len};
    ck_assert_int_eq(sk_groups_replay(gs, &r, 0, -1), 0);
    ck_assert_int_eq(sk_group_state_of(gs, "flex"), SK_GROUP_STABLE);
    ck_assert_int_eq(sk_group_generation_of(gs, "flex"), 3);
    sk_arena a = {0};
    kf_describe_groups_response_group d;
    sk_group_describe(gs, kf_str_c("flex"), &d, &a);
    ck_assert_str_eq(d.members.items[0].member_id.p, "m1");
    ck_assert_int_eq(d.members.items[0].member_assignment.len, 1);
    sk_arena_free(&a);

    /* Truncated values and unknown key versions. */
    r.value_len = v.len - 5;
    ck_assert_int_eq(sk_groups_replay(gs, &r, 0, -1), -1);
    k.len = 0;
    sk_write_i16(&k, 100); /* a record type skiff does not know (3-8 are KIP-848's) */
    r = (sk_group_record){k.buf, k.len, NULL, 0};
    ck_assert_int_eq(sk_groups_replay(gs, &r, 0, -1), 0);
    r.key_len = 1;
    ck_assert_int_eq(sk_groups_replay(gs, &r, 0, -1), -1);
    sk_writer_free(&k);
    sk_writer_free(&v);
}
END_TEST

/* ---- Administration ---- */

START_TEST(test_describe_and_list)
{
    sk_arena a = {0};
    kf_describe_groups_response_group d;
    ck_assert_int_eq(sk_group_describe(gs, kf_str_c("none"), &d, &a), 0);
    ck_assert_int_eq(d.error_code, SK_ERR_NONE);
    ck_assert_str_eq(d.group_state.p, "Dead");
    ck_assert_str_eq(d.protocol_type.p, "");
    ck_assert_int_eq(d.members.n, 0);

    char m[64];
    stable_member("g", m, sizeof m);
    ck_assert_int_eq(commit_one(8, "s", -1, "", "t", 0, 1), SK_ERR_NONE);
    sk_group_describe(gs, kf_str_c("g"), &d, &a);
    ck_assert_str_eq(d.group_state.p, "Stable");
    ck_assert_str_eq(d.protocol_type.p, "consumer");
    ck_assert_str_eq(d.protocol_data.p, "range");
    ck_assert_str_eq(d.members.items[0].member_id.p, m);
    ck_assert_str_eq(d.members.items[0].client_id.p, "client");
    ck_assert_int_eq(d.members.items[0].member_metadata.len, 1);
    ck_assert_int_eq(d.members.items[0].member_assignment.len, 2);
    /* Outside Stable: no protocol, no metadata, the assignment still. */
    waiter w = {0};
    join(&w, 3, "g", "", NULL, "range", "m2");
    sk_group_describe(gs, kf_str_c("g"), &d, &a);
    ck_assert_str_eq(d.group_state.p, "PreparingRebalance");
    ck_assert_str_eq(d.protocol_data.p, "");
    ck_assert_int_eq(d.members.n, 2);
    ck_assert_int_eq(d.members.items[0].member_metadata.len, 0);
    ck_assert_int_eq(d.members.items[0].member_assignment.len, 2);

    kf_list_groups_response_group *l;
    ck_assert_int_eq(sk_groups_list(gs, NULL, -1, NULL, -1, &l, &a), 2);
    ck_assert_str_eq(l[0].group_id.p, "g");
    ck_assert_str_eq(l[0].protocol_type.p, "consumer");
    ck_assert_str_eq(l[0].group_state.p, "PreparingRebalance");
    ck_assert_str_eq(l[0].group_type.p, "classic");
    ck_assert_str_eq(l[1].group_id.p, "s");
    ck_assert_str_eq(l[1].protocol_type.p, "");
    kf_str states[] = {kf_str_c(" EMPTY "), kf_str_c("stable")};
    ck_assert_int_eq(sk_groups_list(gs, states, 2, NULL, 0, &l, &a), 1);
    ck_assert_str_eq(l[0].group_id.p, "s");
    kf_str types[] = {kf_str_c("Classic")};
    ck_assert_int_eq(sk_groups_list(gs, NULL, 0, types, 1, &l, &a), 2);
    types[0] = kf_str_c("consumer");
    ck_assert_int_eq(sk_groups_list(gs, NULL, 0, types, 1, &l, &a), 0);
    sk_arena_free(&a);
}
END_TEST

START_TEST(test_delete_groups)
{
    ck_assert_int_eq(sk_group_delete(gs, kf_str_c("none")), SK_ERR_GROUP_ID_NOT_FOUND);
    char m[64];
    stable_member("g", m, sizeof m);
    ck_assert_int_eq(sk_group_delete(gs, kf_str_c("g")), SK_ERR_NON_EMPTY_GROUP);
    ck_assert_int_eq(commit_one(8, "s", -1, "", "t", 0, 1), SK_ERR_NONE);
    ck_assert_int_eq(commit_one(8, "s", -1, "", "t", 1, 1), SK_ERR_NONE);
    store_fails = SK_ERR_KAFKA_STORAGE_ERROR;
    ck_assert_int_eq(sk_group_delete(gs, kf_str_c("s")), SK_ERR_NOT_COORDINATOR);
    ck_assert_int_eq(sk_group_state_of(gs, "s"), SK_GROUP_EMPTY);
    store_fails = 0;
    nrecords = 0;
    ck_assert_int_eq(sk_group_delete(gs, kf_str_c("s")), SK_ERR_NONE);
    ck_assert_int_eq(nrecords, 3);
    ck_assert_int_eq(sk_group_state_of(gs, "s"), SK_GROUP_DEAD);
    ck_assert_int_eq(committed("s", "t", 0), -1);
}
END_TEST

START_TEST(test_offset_delete)
{
    kf_offset_delete_request rq;
    kf_offset_delete_response resp;
    kf_offset_delete_request_topic rt[2];
    kf_offset_delete_request_partition rp[2] = {{0}, {0}};
    kf_offset_delete_response_topic st[2];
    kf_offset_delete_response_partition sp[2];
    memset(sp, 0, sizeof sp);
    kf_init(&kf_offset_delete_request_desc, &rq);
    rq.group_id = kf_str_c("g");
    const char *names[] = {"t", "u"};
    for (int i = 0; i < 2; i++) {
        rt[i].name = kf_str_c(names[i]);
        rt[i].partitions.items = &rp[i];
        rt[i].partitions.n = 1;
        st[i].name = rt[i].name;
        st[i].partitions.items = &sp[i];
        st[i].partitions.n = 1;
    }
    rq.topics.items = rt;
    rq.topics.n = 2;
    resp.topics.items = st;
    resp.topics.n = 2;
    ck_assert_int_eq(sk_group_delete_offsets(gs, &rq, &resp), SK_ERR_GROUP_ID_NOT_FOUND);
    rq.group_id = kf_str_c("");
    ck_assert_int_eq(sk_group_delete_offsets(gs, &rq, &resp), SK_ERR_INVALID_GROUP_ID);
    rq.group_id = kf_str_c("g");

    /* A Stable group of another protocol type may not lose offsets. */
    char m[64];
    kf_join_group_request jr = join_request("c", "", NULL, "range", "m");
    jr.protocol_type = kf_str_c("connect");
    waiter w = {0};
    sk_group_join(gs, &client, 3, &jr, &w);
    settle();
    rq.group_id = kf_str_c("c");
    ck_assert_int_eq(sk_group_delete_offsets(gs, &rq, &resp), SK_ERR_NON_EMPTY_GROUP);

    /* A consumer group subscribed to t: t is protected, u is not. */
    stable_subscriber("g", "t", m, sizeof m);
    ck_assert_int_eq(commit_one(8, "g", 1, m, "t", 0, 4), SK_ERR_NONE);
    ck_assert_int_eq(commit_one(8, "g", 1, m, "u", 0, 4), SK_ERR_NONE);
    rq.group_id = kf_str_c("g");
    nrecords = 0;
    ck_assert_int_eq(sk_group_delete_offsets(gs, &rq, &resp), SK_ERR_NONE);
    ck_assert_int_eq(sp[0].error_code, SK_ERR_GROUP_SUBSCRIBED_TO_TOPIC);
    ck_assert_int_eq(sp[1].error_code, SK_ERR_NONE);
    ck_assert_int_eq(nrecords, 1);
    ck_assert_int_eq(committed("g", "t", 0), 4);
    ck_assert_int_eq(committed("g", "u", 0), -1);
}
END_TEST

/* ---- Expiration ---- */

#define DAY_MS (24LL * 3600 * 1000)

START_TEST(test_expiration_of_simple_group)
{
    ck_assert_int_eq(commit_one(8, "s", -1, "", "t", 0, 1), SK_ERR_NONE);
    advance(6 * DAY_MS);
    ck_assert_int_eq(commit_one(8, "s", -1, "", "t", 1, 1), SK_ERR_NONE);
    advance(DAY_MS);
    settle();
    /* Seven days after its commit, t-0 expired; t-1 is a day old. */
    ck_assert_int_eq(committed("s", "t", 0), -1);
    ck_assert_int_eq(committed("s", "t", 1), 1);
    advance(6 * DAY_MS);
    nrecords = 0;
    settle();
    ck_assert_int_eq(sk_group_state_of(gs, "s"), SK_GROUP_DEAD);
    ck_assert_int_eq(nrecords, 2); /* the offset's tombstone, then the group's */
    ck_assert_int_eq(records[1].key[1], 2);
    ck_assert_int_eq(records[1].value_len, -1);
}
END_TEST

START_TEST(test_expiration_counts_from_empty)
{
    char m[64];
    stable_subscriber("g", "t", m, sizeof m);
    ck_assert_int_eq(commit_one(8, "g", 1, m, "t", 0, 3), SK_ERR_NONE);
    ck_assert_int_eq(commit_one(8, "g", 1, m, "old", 0, 3), SK_ERR_NONE);
    /* While Stable, subscribed topics never expire; others do by commit time. */
    for (int i = 0; i < 8; i++) {
        advance(DAY_MS);
        ck_assert_int_eq(heartbeat("g", 1, m, NULL), SK_ERR_NONE);
        settle();
    }
    ck_assert_int_eq(committed("g", "t", 0), 3);
    ck_assert_int_eq(committed("g", "old", 0), -1);
    /* Once Empty, offsets live offsets.retention.minutes from then. */
    kf_leave_group_request_member lm = {.member_id = kf_str_c(m)};
    kf_leave_group_response_member out;
    sk_group_leave(gs, kf_str_c("g"), &lm, 1, &out);
    ck_assert_int_eq(sk_group_state_of(gs, "g"), SK_GROUP_EMPTY);
    advance(7 * DAY_MS - 60000);
    settle();
    ck_assert_int_eq(committed("g", "t", 0), 3);
    advance(15 * 60000);
    settle();
    ck_assert_int_eq(sk_group_state_of(gs, "g"), SK_GROUP_DEAD);
}
END_TEST

START_TEST(test_retention_time_expires)
{
    kf_offset_commit_request rq;
    kf_offset_commit_response resp;
    commit_request(&rq, &resp, "s", -1, "", "t", 1, 6);
    rq.retention_time_ms = 60000;
    sk_group_commit_offsets(gs, 2, &rq, &resp);
    ck_assert_int_eq(commit_one(8, "s", -1, "", "t", 1, 1), SK_ERR_NONE);
    advance(10 * 60000);
    settle();
    ck_assert_int_eq(committed("s", "t", 0), -1);
    ck_assert_int_eq(committed("s", "t", 1), 1);
}
END_TEST

/* ---- Store failures, unload ---- */

START_TEST(test_store_failures)
{
    char a[64];
    stable_member("g", a, sizeof a);
    store_fails = SK_ERR_KAFKA_STORAGE_ERROR;
    ck_assert_int_eq(commit_one(8, "g", 1, a, "t", 0, 5), SK_ERR_NOT_COORDINATOR);
    store_fails = SK_ERR_NOT_ENOUGH_REPLICAS;
    ck_assert_int_eq(commit_one(8, "g", 1, a, "t", 0, 5), SK_ERR_COORDINATOR_NOT_AVAILABLE);
    store_fails = 0;
    ck_assert_int_eq(committed("g", "t", 0), -1);

    /* The leader's assignment cannot be stored: everyone is told and the
     * group rebalances. */
    waiter wb = {0}, wa = {0}, sb = {0}, sa = {0};
    join(&wb, 3, "g", "", NULL, "range", "mb");
    join(&wa, 3, "g", a, NULL, "range", "ma");
    sync_assign(&sb, 3, "g", 2, wb.member_id, NULL, NULL, NULL, NULL);
    store_fails = SK_ERR_KAFKA_STORAGE_ERROR;
    sync_assign(&sa, 3, "g", 2, a, a, "pa", wb.member_id, "pb");
    ck_assert_int_eq(sa.error_code, SK_ERR_NOT_COORDINATOR);
    ck_assert_int_eq(sb.error_code, SK_ERR_NOT_COORDINATOR);
    ck_assert_int_eq(sk_group_state_of(gs, "g"), SK_GROUP_PREPARING_REBALANCE);
}
END_TEST

START_TEST(test_unload)
{
    char a[64];
    stable_member("g", a, sizeof a);
    waiter wb = {0};
    join(&wb, 3, "g", "", NULL, "range", "mb");
    sk_groups_unload(gs);
    ck_assert_int_eq(wb.calls, 1);
    ck_assert_int_eq(wb.error_code, SK_ERR_NOT_COORDINATOR);
    waiter late = {0};
    join(&late, 3, "g", a, NULL, "range", "ma");
    ck_assert_int_eq(late.error_code, SK_ERR_NOT_COORDINATOR);
    ck_assert_int_eq(committed("g", "t", 0), -1);
}
END_TEST

static Suite *group_offsets_suite(void)
{
    Suite *s = suite_create("group_offsets");
    TCase *tc = tcase_create("offsets");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_simple_commit_and_fetch);
    tcase_add_test(tc, test_metadata_bytes_exact);
    tcase_add_test(tc, test_commit_errors);
    tcase_add_test(tc, test_commit_keeps_session);
    tcase_add_test(tc, test_record_bytes);
    tcase_add_test(tc, test_replay_restores_offsets_and_static_members);
    tcase_add_test(tc, test_replay_old_and_flexible_versions);
    tcase_add_test(tc, test_describe_and_list);
    tcase_add_test(tc, test_delete_groups);
    tcase_add_test(tc, test_offset_delete);
    tcase_add_test(tc, test_expiration_of_simple_group);
    tcase_add_test(tc, test_expiration_counts_from_empty);
    tcase_add_test(tc, test_retention_time_expires);
    tcase_add_test(tc, test_store_failures);
    tcase_add_test(tc, test_unload);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return sk_unit_run(group_offsets_suite());
}
