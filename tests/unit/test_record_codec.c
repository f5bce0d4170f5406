/*
 * The internal topics' record formats (src/proto/schema/record_*.kfs) through
 * the one codec (src/proto/record_codec.c): fixed byte strings laid out as
 * Kafka's message definitions say (OffsetCommitKey/Value, GroupMetadataKey/
 * Value, the ConsumerGroup* records, TransactionLogKey/Value, each prefixed
 * by its int16 version) decode to the expected fields and encode back to
 * the same bytes; unknown versions, short input and trailing key bytes are
 * rejected; the record table finds each type.
 */
#include <check.h>
#include <string.h>

#include "kf_msgs.h"
#include "skiff/arena.h"
#include "skiff/buf.h"
#include "skiff/proto.h"
#include "unit_run.h"

/* Encodes with `enc` and compares with the expected bytes. */
#define CHECK_BYTES(w, want)                             \
    do {                                                 \
        ck_assert_uint_eq((w).len, sizeof(want));        \
        ck_assert_mem_eq((w).buf, (want), sizeof(want)); \
    } while (0)

START_TEST(test_find)
{
    ck_assert_ptr_eq(kf_record_find("__consumer_offsets", 0), KF_RECORD_OFFSET_COMMIT);
    ck_assert_ptr_eq(kf_record_find("__consumer_offsets", 1), KF_RECORD_OFFSET_COMMIT);
    ck_assert_ptr_eq(kf_record_find("__consumer_offsets", 2), KF_RECORD_GROUP_METADATA);
    ck_assert_ptr_eq(kf_record_find("__consumer_offsets", 3), KF_RECORD_CONSUMER_GROUP_METADATA);
    ck_assert_ptr_eq(kf_record_find("__consumer_offsets", 8), KF_RECORD_CONSUMER_GROUP_CURRENT_MEMBER_ASSIGNMENT);
    ck_assert_ptr_null(kf_record_find("__consumer_offsets", 9)); /* share groups: not read */
    ck_assert_ptr_null(kf_record_find("__consumer_offsets", -1));
    ck_assert_ptr_eq(kf_record_find("__transaction_state", 0), KF_RECORD_TRANSACTION_LOG);
    ck_assert_ptr_null(kf_record_find("__transaction_state", 1));
    ck_assert_int_eq(kf_record_version((const uint8_t *)"\x00\x07", 2), 7);
    ck_assert_int_eq(kf_record_version((const uint8_t *)"\x00", 1), -1);
}
END_TEST

/* OffsetCommitKey v1 {group "g1", topic "t", partition 3}. */
static const uint8_t OFFSET_KEY[] = {0, 1, 0, 2, 'g', '1', 0, 1, 't', 0, 0, 0, 3};
/* OffsetCommitValue v3 {offset 42, leaderEpoch 5, metadata "m", commitTimestamp 1000}. */
static const uint8_t OFFSET_V3[] = {0, 3, 0, 0, 0, 0, 0, 0, 0, 42, 0, 0, 0, 5, 0, 1, 'm', 0, 0, 0, 0, 0, 0, 0x03, 0xe8};
/* v1 {offset 42, metadata "", commitTimestamp 1000, expireTimestamp 2000}. */
static const uint8_t OFFSET_V1[] = {0, 1, 0, 0, 0,    0,    0, 0, 0, 42, 0, 0, 0,    0,
                                    0, 0, 0, 0, 0x03, 0xe8, 0, 0, 0, 0,  0, 0, 0x07, 0xd0};
/* v4 (flexible) {offset 42, leaderEpoch -1, metadata "m", commitTimestamp
 * 1000}, then a tagged field 0 of Kafka 4's that skiff does not know. */
static const uint8_t OFFSET_V4[] = {0,   4, 0, 0, 0, 0, 0, 0,    0,    42, 0xff, 0xff, 0xff, 0xff, 2,
                                    'm', 0, 0, 0, 0, 0, 0, 0x03, 0xe8, 1,  0,    2,    0xab, 0xcd};

START_TEST(test_offset_commit)
{
    const kf_record_type *rt = KF_RECORD_OFFSET_COMMIT;
    sk_arena a = {0};
    kf_offset_commit_key k;
    ck_assert_int_eq(kf_record_key_decode(rt, OFFSET_KEY, sizeof OFFSET_KEY, &a, &k), 0);
    ck_assert_int_eq(k.group.len, 2);
    ck_assert_mem_eq(k.group.p, "g1", 2);
    ck_assert_mem_eq(k.topic.p, "t", 1);
    ck_assert_int_eq(k.partition, 3);
    sk_writer w;
    sk_writer_init(&w, 64);
    ck_assert_int_eq(kf_record_key_encode(rt, 1, &k, &w), 0);
    CHECK_BYTES(w, OFFSET_KEY);
    /* a key with bytes after it, or of another type, is not this record's */
    uint8_t longer[sizeof OFFSET_KEY + 1];
    memcpy(longer, OFFSET_KEY, sizeof OFFSET_KEY);
    ck_assert_int_eq(kf_record_key_decode(rt, longer, sizeof longer, &a, &k), -1);
    ck_assert_int_eq(kf_record_key_decode(rt, (const uint8_t *)"\x00\x02\x00\x00", 4, &a, &k), -1);

    kf_offset_commit_value v;
    int16_t version;
    ck_assert_int_eq(kf_record_value_decode(rt, OFFSET_V3, sizeof OFFSET_V3, &a, &v, &version), 0);
    ck_assert_int_eq(version, 3);
    ck_assert_int_eq(v.offset, 42);
    ck_assert_int_eq(v.leader_epoch, 5);
    ck_assert_int_eq(v.commit_timestamp, 1000);
    ck_assert_int_eq(v.expire_timestamp, -1); /* absent from v3: the default */
    w.len = 0;
    ck_assert_int_eq(kf_record_value_encode(rt, 3, &v, &w), 0);
    CHECK_BYTES(w, OFFSET_V3);

    ck_assert_int_eq(kf_record_value_decode(rt, OFFSET_V1, sizeof OFFSET_V1, &a, &v, &version), 0);
    ck_assert_int_eq(version, 1);
    ck_assert_int_eq(v.leader_epoch, -1);
    ck_assert_int_eq(v.metadata.len, 0);
    ck_assert_int_eq(v.expire_timestamp, 2000);
    w.len = 0;
    ck_assert_int_eq(kf_record_value_encode(rt, 1, &v, &w), 0);
    CHECK_BYTES(w, OFFSET_V1);

    ck_assert_int_eq(kf_record_value_decode(rt, OFFSET_V4, sizeof OFFSET_V4, &a, &v, &version), 0);
    ck_assert_int_eq(version, 4);
    ck_assert_int_eq(v.offset, 42);
    ck_assert_int_eq(v.leader_epoch, -1);
    ck_assert_int_eq(v.metadata.len, 1);
    ck_assert_int_eq(v.commit_timestamp, 1000);
    /* written back without the unknown tag */
    w.len = 0;
    ck_assert_int_eq(kf_record_value_encode(rt, 4, &v, &w), 0);
    ck_assert_uint_eq(w.len, sizeof OFFSET_V4 - 4);
    ck_assert_mem_eq(w.buf, OFFSET_V4, w.len - 1);
    ck_assert_int_eq(w.buf[w.len - 1], 0);

    /* v5 is unknown; short values are malformed */
    uint8_t v5[sizeof OFFSET_V3];
    memcpy(v5, OFFSET_V3, sizeof v5);
    v5[1] = 5;
    ck_assert_int_eq(kf_record_value_decode(rt, v5, sizeof v5, &a, &v, &version), -1);
    ck_assert_int_eq(kf_record_value_decode(rt, OFFSET_V3, sizeof OFFSET_V3 - 1, &a, &v, &version), -1);
    sk_writer_free(&w);
    sk_arena_free(&a);
}
END_TEST

/* GroupMetadataValue v3: protocolType "consumer", generation 2, protocol
 * "range", leader "m1", currentStateTimestamp 7, one member {memberId "m1",
 * groupInstanceId null, clientId "c", clientHost "/h", rebalanceTimeout
 * 300, sessionTimeout 100, subscription "s", assignment "a"}. */
static const uint8_t GROUP_V3[] = {0,    3,    0,   8,   'c', 'o', 'n', 's',  'u',  'm', 'e', 'r', 0, 0, 0,   2,   0, 5,
                                   'r',  'a',  'n', 'g', 'e', 0,   2,   'm',  '1',  0,   0,   0,   0, 0, 0,   0,   7, 0,
                                   0,    0,    1,   0,   2,   'm', '1', 0xff, 0xff, 0,   1,   'c', 0, 2, '/', 'h', 0, 0,
                                   0x01, 0x2c, 0,   0,   0,   100, 0,   0,    0,    1,   's', 0,   0, 0, 1,   'a'};
/* The same group as v4 (flexible: compact lengths, a tag section after the
 * member and after the value). */
static const uint8_t GROUP_V4[] = {0, 4, 9,    'c',  'o', 'n', 's', 'u', 'm', 'e', 'r', 0,   0,   0,
                                   2, 6, 'r',  'a',  'n', 'g', 'e', 3,   'm', '1', 0,   0,   0,   0,
                                   0, 0, 0,    7,    2,   3,   'm', '1', 0,   2,   'c', 3,   '/', 'h',
                                   0, 0, 0x01, 0x2c, 0,   0,   0,   100, 2,   's', 2,   'a', 0,   0};

static void check_group(const kf_group_metadata_value *v)
{
    ck_assert_int_eq(v->protocol_type.len, 8);
    ck_assert_int_eq(v->generation, 2);
    ck_assert_mem_eq(v->protocol.p, "range", 5);
    ck_assert_mem_eq(v->leader.p, "m1", 2);
    ck_assert_int_eq(v->current_state_timestamp, 7);
    ck_assert_int_eq(v->members.n, 1);
    const kf_group_metadata_value_member_metadata *m = &v->members.items[0];
    ck_assert_mem_eq(m->member_id.p, "m1", 2);
    ck_assert_ptr_null(m->group_instance_id.p);
    ck_assert_mem_eq(m->client_host.p, "/h", 2);
    ck_assert_int_eq(m->rebalance_timeout, 300);
    ck_assert_int_eq(m->session_timeout, 100);
    ck_assert_int_eq(m->subscription.len, 1);
    ck_assert_int_eq(m->assignment.p[0], 'a');
}

START_TEST(test_group_metadata)
{
    const kf_record_type *rt = KF_RECORD_GROUP_METADATA;
    static const uint8_t key_bytes[] = {0, 2, 0, 2, 'g', '1'};
    sk_arena a = {0};
    kf_group_metadata_key k;
    ck_assert_int_eq(kf_record_key_decode(rt, key_bytes, sizeof key_bytes, &a, &k), 0);
    ck_assert_mem_eq(k.group.p, "g1", 2);
    sk_writer w;
    sk_writer_init(&w, 64);
    ck_assert_int_eq(kf_record_key_encode(rt, 2, &k, &w), 0);
    CHECK_BYTES(w, key_bytes);
    kf_group_metadata_value v;
    int16_t version;
    ck_assert_int_eq(kf_record_value_decode(rt, GROUP_V3, sizeof GROUP_V3, &a, &v, &version), 0);
    check_group(&v);
    w.len = 0;
    ck_assert_int_eq(kf_record_value_encode(rt, 3, &v, &w), 0);
    CHECK_BYTES(w, GROUP_V3);
    ck_assert_int_eq(kf_record_value_decode(rt, GROUP_V4, sizeof GROUP_V4, &a, &v, &version), 0);
    ck_assert_int_eq(version, 4);
    check_group(&v);
    w.len = 0;
    ck_assert_int_eq(kf_record_value_encode(rt, 4, &v, &w), 0);
    CHECK_BYTES(w, GROUP_V4);
    sk_writer_free(&w);
    sk_arena_free(&a);
}
END_TEST

/* ConsumerGroupCurrentMemberAssignmentKey {groupId "g", memberId "m"} and
 * value v0 {memberEpoch 3, previousMemberEpoch 2, state 1, assigned
 * [{topic id 0x11.., partitions [0, 1]}], pending revocation []}. */
static const uint8_t CURRENT_KEY[] = {0, 8, 0, 1, 'g', 0, 1, 'm'};
static const uint8_t CURRENT_V0[] = {0,    0,    0,    0,    0,    3,    0,    0,    0,    2,    1,    2,    0x11, 0x11,
                                     0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
                                     3,    0,    0,    0,    0,    0,    0,    0,    1,    0,    1,    0};
/* ConsumerGroupMemberMetadataValue v0 {instanceId null, rackId null,
 * clientId "c", clientHost "h", topics ["t"], regex null, rebalance
 * timeout 5000, serverAssignor "uniform"}. */
static const uint8_t MEMBER_V0[] = {0, 0,    0,    0, 2,   'c', 2,   'h', 2,   2,   't', 0, 0,
                                    0, 0x13, 0x88, 8, 'u', 'n', 'i', 'f', 'o', 'r', 'm', 0};

START_TEST(test_consumer_group_records)
{
    const kf_record_type *rt = KF_RECORD_CONSUMER_GROUP_CURRENT_MEMBER_ASSIGNMENT;
    sk_arena a = {0};
    kf_consumer_group_current_member_assignment_key k;
    ck_assert_int_eq(kf_record_key_decode(rt, CURRENT_KEY, sizeof CURRENT_KEY, &a, &k), 0);
    ck_assert_mem_eq(k.member_id.p, "m", 1);
    sk_writer w;
    sk_writer_init(&w, 64);
    ck_assert_int_eq(kf_record_key_encode(rt, 8, &k, &w), 0);
    CHECK_BYTES(w, CURRENT_KEY);
    kf_consumer_group_current_member_assignment_value v;
    int16_t version;
    ck_assert_int_eq(kf_record_value_decode(rt, CURRENT_V0, sizeof CURRENT_V0, &a, &v, &version), 0);
    ck_assert_int_eq(v.member_epoch, 3);
    ck_assert_int_eq(v.previous_member_epoch, 2);
    ck_assert_int_eq(v.state, 1);
    ck_assert_int_eq(v.assigned_partitions.n, 1);
    ck_assert_int_eq(v.assigned_partitions.items[0].topic_id.b[15], 0x11);
    ck_assert_int_eq(v.assigned_partitions.items[0].partitions.n, 2);
    ck_assert_int_eq(v.assigned_partitions.items[0].partitions.items[1], 1);
    ck_assert_int_eq(v.partitions_pending_revocation.n, 0);
    w.len = 0;
    ck_assert_int_eq(kf_record_value_encode(rt, 0, &v, &w), 0);
    CHECK_BYTES(w, CURRENT_V0);

    rt = KF_RECORD_CONSUMER_GROUP_MEMBER_METADATA;
    kf_consumer_group_member_metadata_value m;
    ck_assert_int_eq(kf_record_value_decode(rt, MEMBER_V0, sizeof MEMBER_V0, &a, &m, &version), 0);
    ck_assert_ptr_null(m.instance_id.p);
    ck_assert_int_eq(m.subscribed_topic_names.n, 1);
    ck_assert_ptr_null(m.subscribed_topic_regex.p);
    ck_assert_int_eq(m.rebalance_timeout_ms, 5000);
    ck_assert_mem_eq(m.server_assignor.p, "uniform", 7);
    w.len = 0;
    ck_assert_int_eq(kf_record_value_encode(rt, 0, &m, &w), 0);
    CHECK_BYTES(w, MEMBER_V0);
    sk_writer_free(&w);
    sk_arena_free(&a);
}
END_TEST

/* TransactionLogValue v0 {producerId 7, epoch 1, timeout 60000, status 1
 * (Ongoing), partitions [{topic "t", [0, 2]}], lastUpdate 9, start 8}. */
static const uint8_t TXN_V0[] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 7, 0, 1, 0, 0, 0xea, 0x60, 1, 0, 0, 0, 1, 0, 1, 't', 0, 0,
                                 0, 2, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0,    0,    0, 9, 0, 0, 0, 0, 0, 0,   0, 8};
/* v1 (flexible) of the same, Empty with null partitions and the tagged
 * fields 0 previousProducerId 6 and 2 clientTransactionVersion 2. */
static const uint8_t TXN_V1[] = {0, 1, 0, 0, 0, 0, 0, 0, 0, 7, 0, 1, 0, 0, 0xea, 0x60, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                 9, 0, 0, 0, 0, 0, 0, 0, 8, 2, 0, 8, 0, 0, 0,    0,    0, 0, 0, 6, 2, 2, 0, 2};

START_TEST(test_transaction_log)
{
    const kf_record_type *rt = KF_RECORD_TRANSACTION_LOG;
    sk_arena a = {0};
    kf_transaction_log_value v;
    int16_t version;
    ck_assert_int_eq(kf_record_value_decode(rt, TXN_V0, sizeof TXN_V0, &a, &v, &version), 0);
    ck_assert_int_eq(v.producer_id, 7);
    ck_assert_int_eq(v.previous_producer_id, -1);
    ck_assert_int_eq(v.producer_epoch, 1);
    ck_assert_int_eq(v.transaction_timeout_ms, 60000);
    ck_assert_int_eq(v.transaction_status, 1);
    ck_assert_int_eq(v.transaction_partitions.n, 1);
    ck_assert_int_eq(v.transaction_partitions.items[0].partition_ids.items[1], 2);
    ck_assert_int_eq(v.transaction_last_update_timestamp_ms, 9);
    ck_assert_int_eq(v.transaction_start_timestamp_ms, 8);
    sk_writer w;
    sk_writer_init(&w, 64);
    ck_assert_int_eq(kf_record_value_encode(rt, 0, &v, &w), 0);
    CHECK_BYTES(w, TXN_V0);
    ck_assert_int_eq(kf_record_value_decode(rt, TXN_V1, sizeof TXN_V1, &a, &v, &version), 0);
    ck_assert_int_eq(version, 1);
    ck_assert_int_eq(v.transaction_partitions.n, -1);
    ck_assert_int_eq(v.previous_producer_id, 6);
    ck_assert_int_eq(v.next_producer_id, -1);
    ck_assert_int_eq(v.client_transaction_version, 2);
    w.len = 0;
    ck_assert_int_eq(kf_record_value_encode(rt, 1, &v, &w), 0);
    CHECK_BYTES(w, TXN_V1);
    sk_writer_free(&w);
    sk_arena_free(&a);
}
END_TEST

static Suite *record_codec_suite(void)
{
    Suite *s = suite_create("record_codec");
    TCase *tc = tcase_create("records");
    tcase_add_test(tc, test_find);
    tcase_add_test(tc, test_offset_commit);
    tcase_add_test(tc, test_group_metadata);
    tcase_add_test(tc, test_consumer_group_records);
    tcase_add_test(tc, test_transaction_log);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return sk_unit_run(record_codec_suite());
}
