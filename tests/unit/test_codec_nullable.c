/*
 * Unit tests for nullable structs in the codec (KF_NULLABLE_STRUCT, schema
 * `{name} RANGE nullable RANGE`): a pointer in C, NULL = null, allocated in
 * the arena on decode. On the wire an int8 marker (negative = null, written
 * -1; else the struct follows, written 1), and as a tagged field an unsigned
 * varint marker (0 = null, 1 = present), as Kafka's generated readers and
 * writers do.
 *
 * - Through a descriptor written here: null and present, plain and flexible,
 *   untagged and tagged, exact bytes, decode/encode round trips, every
 *   truncation rejected, markers other than -1 and 1, badly sized tags.
 * - DescribeTopicPartitions v0 (the first API with nullable structs):
 *   request with and without a cursor, response with and without
 *   next_topic_partition, exact bytes from Kafka's message definitions.
 */
#include "codec_check.h"
#include "kf_msgs.h"
#include "skiff/proto.h"
#include "unit_run.h"

/* ---- a hand-written descriptor: version 0 plain, version 1 flexible ---- */

typedef struct opt_child {
    int16_t a;
    kf_str s;
} opt_child;

static const kf_field opt_child_fields[] = {
    {"a", KF_INT16, 0, offsetof(opt_child, a), 0, KF_VMAX, KF_VMAX, -1, -1, 0, false, NULL},
    {"s", KF_STRING, 0, offsetof(opt_child, s), 0, KF_VMAX, KF_VMAX, -1, -1, 0, false, NULL},
};
static const kf_struct_desc opt_child_desc = {"opt_child", sizeof(opt_child), 2, opt_child_fields};

typedef struct opt_msg {
    int16_t n;
    opt_child *opt; /* untagged, every version */
    int8_t after;
    opt_child *tagged; /* tag 0, flexible versions */
} opt_msg;

static const kf_field opt_fields[] = {
    {"n", KF_INT16, 0, offsetof(opt_msg, n), 0, KF_VMAX, KF_VMAX, -1, -1, 0, false, NULL},
    {"opt", KF_NULLABLE_STRUCT, 0, offsetof(opt_msg, opt), 0, KF_VMAX, 0, KF_VMAX, -1, 0, true, &opt_child_desc},
    {"after", KF_INT8, 0, offsetof(opt_msg, after), 0, KF_VMAX, KF_VMAX, -1, -1, 0, false, NULL},
    {"tagged", KF_NULLABLE_STRUCT, 0, offsetof(opt_msg, tagged), 1, KF_VMAX, 1, KF_VMAX, 0, 0, true, &opt_child_desc},
};
static const kf_struct_desc opt_desc = {"opt_msg", sizeof(opt_msg), 4, opt_fields};

static void opt_sample(opt_msg *m)
{
    kf_init(&opt_desc, m);
    m->n = 7;
    m->after = 5;
}

START_TEST(test_init_is_null)
{
    opt_msg m;
    memset(&m, 0xab, sizeof m);
    kf_init(&opt_desc, &m);
    ck_assert_ptr_null(m.opt);
    ck_assert_ptr_null(m.tagged);
}
END_TEST

START_TEST(test_null_plain_and_flexible)
{
    sk_arena a = {0};
    opt_msg m;
    opt_sample(&m);
    opt_msg *d = check_hex(&a, &opt_desc, 0, false, &m, "0007 ff 05");
    ck_assert_ptr_null(d->opt);
    ck_assert_int_eq(d->after, 5);
    d = check_hex(&a, &opt_desc, 1, true, &m, "0007 ff 05 00");
    ck_assert_ptr_null(d->opt);
    ck_assert_ptr_null(d->tagged);
    sk_arena_free(&a);
}
END_TEST

START_TEST(test_present_plain_and_flexible)
{
    sk_arena a = {0};
    opt_child c = {1, kf_str_c("x")};
    opt_msg m;
    opt_sample(&m);
    m.opt = &c;
    /* Plain: marker 1, int16, int16-length string. */
    opt_msg *d = check_hex(&a, &opt_desc, 0, false, &m, "0007 01 0001 0001 78 05");
    ck_assert_ptr_nonnull(d->opt);
    ck_assert_ptr_ne(d->opt, &c);
    ck_assert_int_eq(d->opt->a, 1);
    assert_str(d->opt->s, "x");
    ck_assert_int_eq(d->after, 5);
    /* Flexible: compact string, and the child ends with its own tag section. */
    d = check_hex(&a, &opt_desc, 1, true, &m, "0007 01 0001 02 78 00 05 00");
    ck_assert_int_eq(d->opt->a, 1);
    assert_str(d->opt->s, "x");
    ck_assert_ptr_null(d->tagged);
    sk_arena_free(&a);
}
END_TEST

/* Kafka reads any negative marker as null and any other as present. */
START_TEST(test_other_markers)
{
    sk_arena a = {0};
    opt_msg *d;
    ck_assert_int_eq(decode_hex(&a, &opt_desc, 0, false, "0007 80 05", (void **)&d), 0);
    ck_assert_ptr_null(d->opt);
    ck_assert_int_eq(decode_hex(&a, &opt_desc, 0, false, "0007 00 0002 0000 05", (void **)&d), 0);
    ck_assert_ptr_nonnull(d->opt);
    ck_assert_int_eq(d->opt->a, 2);
    assert_str(d->opt->s, "");
    ck_assert_int_eq(decode_hex(&a, &opt_desc, 0, false, "0007 7f 0003 0000 05", (void **)&d), 0);
    ck_assert_int_eq(d->opt->a, 3);

    /* Re-encoded, the marker is 1. */
    sk_writer w;
    sk_writer_init(&w, 0);
    ck_assert_int_eq(kf_encode(&opt_desc, 0, false, d, &w), 0);
    uint8_t want[] = {0, 7, 1, 0, 3, 0, 0, 5};
    ck_assert_uint_eq(w.len, sizeof want);
    ck_assert_mem_eq(w.buf, want, sizeof want);
    sk_writer_free(&w);
    sk_arena_free(&a);
}
END_TEST

START_TEST(test_tagged)
{
    sk_arena a = {0};
    opt_child c = {2, kf_str_c("y")};
    opt_msg m;
    opt_sample(&m);
    m.tagged = &c;
    /* One tag: tag 0, size 6 = marker + int16 + compact "y" + child tags. */
    opt_msg *d = check_hex(&a, &opt_desc, 1, true, &m, "0007 ff 05 01 00 06 01 0002 02 79 00");
    ck_assert_ptr_null(d->opt);
    ck_assert_ptr_nonnull(d->tagged);
    ck_assert_int_eq(d->tagged->a, 2);
    assert_str(d->tagged->s, "y");

    /* Tagged fields do not exist in plain versions: not written, NULL on decode. */
    d = check_hex(&a, &opt_desc, 0, false, &m, "0007 ff 05");
    ck_assert_ptr_null(d->tagged);

    /* A tagged null (marker 0) decodes as NULL; NULL is the default, so it is
     * not written again. */
    ck_assert_int_eq(decode_hex(&a, &opt_desc, 1, true, "0007 ff 05 01 00 01 00", (void **)&d), 0);
    ck_assert_ptr_null(d->tagged);
    sk_writer w;
    sk_writer_init(&w, 0);
    ck_assert_int_eq(kf_encode(&opt_desc, 1, true, d, &w), 0);
    uint8_t want[] = {0, 7, 0xff, 5, 0};
    ck_assert_uint_eq(w.len, sizeof want);
    ck_assert_mem_eq(w.buf, want, sizeof want);
    sk_writer_free(&w);

    /* Kafka reads the tagged marker as a signed int: 2^31 and up are null. */
    ck_assert_int_eq(decode_hex(&a, &opt_desc, 1, true, "0007 ff 05 01 00 05 8080808008", (void **)&d), 0);
    ck_assert_ptr_null(d->tagged);
    /* Any marker from 1 to 2^31 - 1 is present. */
    ck_assert_int_eq(decode_hex(&a, &opt_desc, 1, true, "0007 ff 05 01 00 05 02 0004 01 00", (void **)&d), 0);
    ck_assert_int_eq(d->tagged->a, 4);
    assert_str(d->tagged->s, "");
    sk_arena_free(&a);
}
END_TEST

START_TEST(test_malformed)
{
    sk_arena a = {0};
    void *d;
    /* The tag's size must be exactly the value's: one byte short, one extra. */
    ck_assert_int_eq(decode_hex(&a, &opt_desc, 1, true, "0007 ff 05 01 00 05 01 0002 02 79 00", &d), -1);
    ck_assert_int_eq(decode_hex(&a, &opt_desc, 1, true, "0007 ff 05 01 00 07 01 0002 02 79 00 00", &d), -1);
    /* A marker with nothing after it, or a struct cut short. */
    ck_assert_int_eq(decode_hex(&a, &opt_desc, 0, false, "0007 01", &d), -1);
    ck_assert_int_eq(decode_hex(&a, &opt_desc, 1, true, "0007 01 0001 02", &d), -1);
    /* A null string inside the present struct, where it is not nullable. */
    ck_assert_int_eq(decode_hex(&a, &opt_desc, 1, true, "0007 01 0001 00 00 05 00", &d), -1);
    sk_arena_free(&a);
}
END_TEST

/* Both nullable structs present and nested in a tagged section: the sizes
 * kf_size reports match what kf_encode writes. */
START_TEST(test_both_present)
{
    sk_arena a = {0};
    opt_child c1 = {1, kf_str_c("ab")}, c2 = {-1, kf_str_c("")};
    opt_msg m;
    opt_sample(&m);
    m.opt = &c1;
    m.tagged = &c2;
    opt_msg *d = check_hex(&a, &opt_desc, 1, true, &m, "0007 01 0001 03 6162 00 05 01 00 05 01 ffff 01 00");
    ck_assert_int_eq(d->opt->a, 1);
    assert_str(d->opt->s, "ab");
    ck_assert_int_eq(d->tagged->a, -1);
    assert_str(d->tagged->s, "");
    sk_arena_free(&a);
}
END_TEST

/* ---- DescribeTopicPartitions v0 ---- */

typedef kf_describe_topic_partitions_request dtp_request;
typedef kf_describe_topic_partitions_response dtp_response;

START_TEST(test_dtp_schema)
{
    const kf_api *api = kf_api_find(KF_API_DESCRIBE_TOPIC_PARTITIONS);
    ck_assert_ptr_nonnull(api);
    ck_assert_int_eq(api->min_ver, 0);
    ck_assert_int_eq(api->max_ver, 0);
    ck_assert_int_eq(api->flex_min, 0);
    const kf_field *cursor = &kf_describe_topic_partitions_request_desc.fields[2];
    ck_assert_str_eq(cursor->name, "cursor");
    ck_assert_int_eq(cursor->type, KF_NULLABLE_STRUCT);
    ck_assert_ptr_eq(cursor->child, &kf_describe_topic_partitions_request_cursor_desc);

    dtp_request req;
    kf_init(&kf_describe_topic_partitions_request_desc, &req);
    ck_assert_int_eq(req.response_partition_limit, 2000);
    ck_assert_ptr_null(req.cursor);
    dtp_response resp;
    kf_init(&kf_describe_topic_partitions_response_desc, &resp);
    ck_assert_ptr_null(resp.next_topic_partition);
}
END_TEST

START_TEST(test_dtp_request)
{
    sk_arena a = {0};
    kf_describe_topic_partitions_request_topic_request topics[] = {{kf_str_c("a")}, {kf_str_c("bc")}};
    kf_describe_topic_partitions_request_cursor cursor = {kf_str_c("bc"), 1};
    dtp_request req;
    kf_init(&kf_describe_topic_partitions_request_desc, &req);
    req.topics.items = topics;
    req.topics.n = 2;
    req.response_partition_limit = 4;

    dtp_request *d = check_hex(&a, &kf_describe_topic_partitions_request_desc, 0, true, &req,
                               "03 0261 00 036263 00  00000004  ff  00");
    ck_assert_ptr_null(d->cursor);
    ck_assert_int_eq(d->topics.n, 2);
    assert_str(d->topics.items[1].name, "bc");

    req.cursor = &cursor;
    d = check_hex(&a, &kf_describe_topic_partitions_request_desc, 0, true, &req,
                  "03 0261 00 036263 00  00000004  01 036263 00000001 00  00");
    ck_assert_ptr_nonnull(d->cursor);
    assert_str(d->cursor->topic_name, "bc");
    ck_assert_int_eq(d->cursor->partition_index, 1);
    sk_arena_free(&a);
}
END_TEST

START_TEST(test_dtp_response)
{
    sk_arena a = {0};
    int32_t node[] = {1};
    kf_describe_topic_partitions_response_partition p;
    kf_init(&kf_describe_topic_partitions_response_partition_desc, &p);
    p.leader_id = 1;
    p.leader_epoch = 0;
    p.replica_nodes.items = node;
    p.replica_nodes.n = 1;
    p.isr_nodes.items = node;
    p.isr_nodes.n = 1;
    kf_describe_topic_partitions_response_topic t;
    kf_init(&kf_describe_topic_partitions_response_topic_desc, &t);
    t.name = kf_str_c("a");
    memcpy(t.topic_id.b, topic_uuid, 16);
    t.partitions.items = &p;
    t.partitions.n = 1;
    t.topic_authorized_operations = 0xdf8;
    kf_describe_topic_partitions_response_cursor next = {kf_str_c("a"), 1};
    dtp_response resp;
    kf_init(&kf_describe_topic_partitions_response_desc, &resp);
    resp.topics.items = &t;
    resp.topics.n = 1;

    /* Partition: error, index, leader, epoch, replicas [1], isr [1], ELR
     * null, last known ELR null, offline [], tags. */
#define DTP_TOPIC                                                             \
    "02 0000 0261 " TOPIC_UUID_HEX " 00 "                                     \
    "02 0000 00000000 00000001 00000000 02 00000001 02 00000001 00 00 01 00 " \
    "00000df8 00 "
    dtp_response *d =
        check_hex(&a, &kf_describe_topic_partitions_response_desc, 0, true, &resp, "00000000 " DTP_TOPIC "ff 00");
    ck_assert_ptr_null(d->next_topic_partition);
    ck_assert_int_eq(d->topics.items[0].partitions.items[0].eligible_leader_replicas.n, -1);
    ck_assert_int_eq(d->topics.items[0].partitions.items[0].last_known_elr.n, -1);

    resp.next_topic_partition = &next;
    d = check_hex(&a, &kf_describe_topic_partitions_response_desc, 0, true, &resp,
                  "00000000 " DTP_TOPIC "01 0261 00000001 00 00");
    ck_assert_ptr_nonnull(d->next_topic_partition);
    assert_str(d->next_topic_partition->topic_name, "a");
    ck_assert_int_eq(d->next_topic_partition->partition_index, 1);
#undef DTP_TOPIC
    sk_arena_free(&a);
}
END_TEST

static Suite *codec_nullable_suite(void)
{
    Suite *s = suite_create("codec_nullable");
    TCase *tc = tcase_create("nullable_structs");
    tcase_add_test(tc, test_init_is_null);
    tcase_add_test(tc, test_null_plain_and_flexible);
    tcase_add_test(tc, test_present_plain_and_flexible);
    tcase_add_test(tc, test_other_markers);
    tcase_add_test(tc, test_tagged);
    tcase_add_test(tc, test_malformed);
    tcase_add_test(tc, test_both_present);
    tcase_add_test(tc, test_dtp_schema);
    tcase_add_test(tc, test_dtp_request);
    tcase_add_test(tc, test_dtp_response);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return sk_unit_run(codec_nullable_suite());
}
