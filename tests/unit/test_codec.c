/*
 * Unit tests for the table-driven codec (src/proto/codec.c), the request
 * and response headers (src/proto/header.c) and the generated tables.
 *
 * - Wire forms, through a descriptor written here by hand: strings, bytes,
 *   records and arrays in plain, compact and nullable forms, every fixed-width
 *   type, tagged fields (known, unknown, badly sized), malformed lengths and
 *   counts (rejected before anything is allocated).
 * - ApiVersions and Metadata, every version, request and response: exact
 *   bytes written out from the protocol spec (the Kafka message JSON files),
 *   decoded back and re-encoded; every strict prefix of each is rejected.
 * - Headers v0-v2, and the captured first requests of real clients
 *   (tests/data/requests, see capture.py there).
 * Produce, Fetch and ListOffsets are in test_codec_apis.c.
 */
#include "codec_check.h"
#include "kf_msgs.h"
#include "skiff/proto.h"
#include "unit_run.h"

/* ---- wire forms through a hand-written descriptor ----
 * Version 0 is non-flexible without nulls, 1 non-flexible with nulls, 2 flexible. */

typedef struct wire_elem {
    int16_t a;
    kf_str s;
} wire_elem;

static const kf_field wire_elem_fields[] = {
    {"a", KF_INT16, 0, offsetof(wire_elem, a), 0, KF_VMAX, KF_VMAX, -1, -1, 0, false, NULL},
    {"s", KF_STRING, 0, offsetof(wire_elem, s), 0, KF_VMAX, KF_VMAX, -1, -1, 0, false, NULL},
};
static const kf_struct_desc wire_elem_desc = {"wire_elem", sizeof(wire_elem), 2, wire_elem_fields};

typedef struct wire_msg {
    kf_str s;
    kf_bytes b;
    kf_bytes rec;
    struct {
        int32_t *items;
        int32_t n;
    } ints;
    struct {
        wire_elem *items;
        int32_t n;
    } elems;
    kf_uuid id;
    bool flag;
    double f;
    uint16_t u16;
    uint32_t u32;
    int8_t i8;
    int64_t tagged_i;
    kf_str tagged_s;
} wire_msg;

#define WF(name, type, elem, vmin, nmin, tag, def, defnull, child)                                          \
    {                                                                                                       \
#name, type, elem, offsetof(wire_msg, name), vmin, KF_VMAX, nmin, KF_VMAX, tag, def, defnull, child \
    }
static const kf_field wire_fields[] = {
    WF(s, KF_STRING, 0, 0, 1, -1, 0, false, NULL),
    WF(b, KF_BYTES, 0, 0, 1, -1, 0, false, NULL),
    WF(rec, KF_RECORDS, 0, 0, KF_VMAX, -1, 0, false, NULL),
    WF(ints, KF_ARRAY, KF_INT32, 0, 1, -1, 0, false, NULL),
    WF(elems, KF_ARRAY, KF_STRUCT, 0, KF_VMAX, -1, 0, false, &wire_elem_desc),
    WF(id, KF_UUID, 0, 0, KF_VMAX, -1, 0, false, NULL),
    WF(flag, KF_BOOL, 0, 0, KF_VMAX, -1, 0, false, NULL),
    WF(f, KF_FLOAT64, 0, 0, KF_VMAX, -1, 0, false, NULL),
    WF(u16, KF_UINT16, 0, 0, KF_VMAX, -1, 0, false, NULL),
    WF(u32, KF_UINT32, 0, 0, KF_VMAX, -1, 0, false, NULL),
    WF(i8, KF_INT8, 0, 0, KF_VMAX, -1, 0, false, NULL),
    WF(tagged_i, KF_INT64, 0, 2, KF_VMAX, 1, -1, false, NULL),
    WF(tagged_s, KF_STRING, 0, 2, 2, 3, 0, true, NULL),
};
static const kf_struct_desc wire_desc = {"wire_msg", sizeof(wire_msg), 13, wire_fields};

/* A struct with only an array, to see that nothing is allocated on bad counts. */
typedef struct count_msg {
    struct {
        wire_elem *items;
        int32_t n;
    } elems;
} count_msg;
static const kf_field count_fields[] = {
    {"elems", KF_ARRAY, KF_STRUCT, offsetof(count_msg, elems), 0, KF_VMAX, KF_VMAX, -1, -1, 0, false, &wire_elem_desc},
};
static const kf_struct_desc count_desc = {"count_msg", sizeof(count_msg), 1, count_fields};

static int32_t sample_ints[] = {7, -1};
static const uint8_t sample_bytes[] = {1, 2, 3};
static const uint8_t sample_rec[] = {0xff};

static void wire_sample(wire_msg *m, wire_elem *e)
{
    kf_init(&wire_desc, m);
    e->a = 1;
    e->s = kf_str_c("x");
    m->s = kf_str_c("hi");
    m->b = (kf_bytes){sample_bytes, 3, NULL};
    m->rec = (kf_bytes){sample_rec, 1, NULL};
    m->ints.items = sample_ints;
    m->ints.n = 2;
    m->elems.items = e;
    m->elems.n = 1;
    for (int i = 0; i < 16; i++)
        m->id.b[i] = (uint8_t)i;
    m->flag = true;
    m->f = 1.5;
    m->u16 = 0xfffe;
    m->u32 = 0x80000000u;
    m->i8 = -2;
}

#define FIXED_TAIL "000102030405060708090a0b0c0d0e0f 01 3ff8000000000000 fffe 80000000 fe"
#define NULLS_HEAD "0000 00000000 ffffffff 00000000 " /* "", empty, null, [] */
#define TAGS_HEAD "01 01 00 01 01 " FIXED_TAIL " "    /* the v2 body before its tags */

START_TEST(test_wire_plain)
{
    sk_arena a = {0};
    wire_msg m;
    wire_elem e;
    wire_sample(&m, &e);
    const char *hex = "0002 6869  00000003 010203  00000001 ff  00000002 00000007 ffffffff"
                      "  00000001 0001 0001 78  " FIXED_TAIL;
    wire_msg *d = check_hex(&a, &wire_desc, 0, false, &m, hex);
    check_hex(&a, &wire_desc, 1, false, &m, hex);
    assert_str(d->s, "hi");
    ck_assert_int_eq(d->b.len, 3);
    ck_assert_mem_eq(d->b.p, sample_bytes, 3);
    ck_assert_int_eq(d->rec.len, 1);
    ck_assert_int_eq(d->ints.n, 2);
    ck_assert_int_eq(d->ints.items[0], 7);
    ck_assert_int_eq(d->ints.items[1], -1);
    ck_assert_int_eq(d->elems.n, 1);
    ck_assert_int_eq(d->elems.items[0].a, 1);
    assert_str(d->elems.items[0].s, "x");
    ck_assert_uint_eq(d->id.b[15], 15);
    ck_assert(d->flag);
    ck_assert(d->f == 1.5);
    ck_assert_uint_eq(d->u16, 0xfffe);
    ck_assert_uint_eq(d->u32, 0x80000000u);
    ck_assert_int_eq(d->i8, -2);
    /* Tagged fields are absent in non-flexible versions: defaults. */
    ck_assert_int_eq(d->tagged_i, -1);
    assert_str(d->tagged_s, NULL);
    sk_arena_free(&a);
}
END_TEST

START_TEST(test_wire_compact_and_tags)
{
    sk_arena a = {0};
    wire_msg m;
    wire_elem e;
    wire_sample(&m, &e);
    check_hex(&a, &wire_desc, 2, true, &m,
              "03 6869  04 010203  02 ff  03 00000007 ffffffff  02 0001 02 78 00  " FIXED_TAIL "  00");
    /* Tagged fields that differ from their default are written, in tag order. */
    m.tagged_i = 300;
    m.tagged_s = kf_str_c("t");
    wire_msg *d = check_hex(&a, &wire_desc, 2, true, &m,
                            "03 6869  04 010203  02 ff  03 00000007 ffffffff  02 0001 02 78 00  " FIXED_TAIL
                            "  02 01 08 000000000000012c 03 02 02 74");
    ck_assert_int_eq(d->tagged_i, 300);
    assert_str(d->tagged_s, "t");
    sk_arena_free(&a);
}
END_TEST

START_TEST(test_wire_nulls)
{
    sk_arena a = {0};
    wire_msg m;
    wire_elem e;
    wire_sample(&m, &e);
    m.s = kf_str_c(NULL);
    m.b = (kf_bytes){NULL, -1, NULL};
    m.rec = (kf_bytes){NULL, -1, NULL};
    m.ints.items = NULL;
    m.ints.n = -1;
    m.elems.n = 0;
    /* v0 does not allow nulls: written as empty; records are always nullable. */
    wire_msg *d = check_hex(&a, &wire_desc, 0, false, &m, "0000 00000000 ffffffff 00000000 00000000 " FIXED_TAIL);
    assert_str(d->s, "");
    ck_assert_ptr_nonnull(d->b.p);
    ck_assert_int_eq(d->b.len, 0);
    ck_assert_ptr_null(d->rec.p);
    ck_assert_int_eq(d->rec.len, -1);
    ck_assert_int_eq(d->ints.n, 0);
    d = check_hex(&a, &wire_desc, 1, false, &m, "ffff ffffffff ffffffff ffffffff 00000000 " FIXED_TAIL);
    assert_str(d->s, NULL);
    ck_assert_ptr_null(d->b.p);
    ck_assert_int_eq(d->b.len, -1);
    ck_assert_int_eq(d->ints.n, -1);
    ck_assert_ptr_null(d->ints.items);
    ck_assert_int_eq(d->elems.n, 0);
    d = check_hex(&a, &wire_desc, 2, true, &m, "00 00 00 00 01 " FIXED_TAIL " 00");
    assert_str(d->s, NULL);
    ck_assert_int_eq(d->ints.n, -1);
    ck_assert_int_eq(d->elems.n, 0);

    sk_arena_free(&a);
}
END_TEST

START_TEST(test_wire_bool_and_trailing)
{
    sk_arena a = {0};
    void *out;
    /* Any non-zero byte is true. */
    ck_assert_int_eq(decode_hex(&a, &wire_desc, 0, false,
                                "0000 00000000 ffffffff 00000000 00000000 000102030405060708090a0b0c0d0e0f"
                                " 02 3ff8000000000000 fffe 80000000 fe",
                                &out),
                     0);
    ck_assert(((wire_msg *)out)->flag);
    /* Trailing bytes are left in the reader for the caller. */
    ck_assert_int_eq(
        decode_hex(&a, &wire_desc, 0, false, "0000 00000000 ffffffff 00000000 00000000 " FIXED_TAIL " 00", &out), 1);
    sk_arena_free(&a);
}
END_TEST

START_TEST(test_wire_tagged_fields)
{
    sk_arena a = {0};
    const char *head = TAGS_HEAD;
    char hex[512];
    void *out;
    /* Unknown tags are skipped whatever their content; known ones decoded. */
    snprintf(hex, sizeof hex, "%s 03 00 03 aabbcc 01 08 0000000000000005 63 00", head);
    ck_assert_int_eq(decode_hex(&a, &wire_desc, 2, true, hex, &out), 0);
    ck_assert_int_eq(((wire_msg *)out)->tagged_i, 5);
    assert_str(((wire_msg *)out)->tagged_s, NULL);
    /* Tag numbers above 127 take a multi-byte varint. */
    snprintf(hex, sizeof hex, "%s 01 8002 02 ffff", head);
    ck_assert_int_eq(decode_hex(&a, &wire_desc, 2, true, hex, &out), 0);
    /* A known nullable tagged string may be null inside its tag. */
    snprintf(hex, sizeof hex, "%s 01 03 01 00", head);
    ck_assert_int_eq(decode_hex(&a, &wire_desc, 2, true, hex, &out), 0);
    assert_str(((wire_msg *)out)->tagged_s, NULL);
    sk_arena_free(&a);
}
END_TEST

/* A splice hook that records what it was handed. */
static struct {
    const void *ext;
    size_t len, at;
    int calls;
} spliced;

static int record_splice(sk_writer *w, const void *ext, size_t len)
{
    spliced.ext = ext;
    spliced.len = len;
    spliced.at = w->len;
    spliced.calls++;
    return 0;
}

/* Bytes held outside memory (kf_bytes.ext): the length is written, the bytes
 * go to the writer's splice hook; with no hook the writer fails. */
START_TEST(test_wire_bytes_outside_memory)
{
    static const int file_slice = 1;
    wire_msg m;
    wire_elem e;
    wire_sample(&m, &e);
    m.rec = (kf_bytes){NULL, 1000, &file_slice};
    sk_writer w;
    sk_writer_init(&w, 0);
    w.splice = record_splice;
    ck_assert_int_eq(kf_encode(&wire_desc, 2, true, &m, &w), 0);
    ck_assert_int_eq(spliced.calls, 1);
    ck_assert_ptr_eq(spliced.ext, &file_slice);
    ck_assert_uint_eq(spliced.len, 1000);
    /* "hi", 3 bytes, then the compact length 1001 (e9 07) of the records. */
    ck_assert_uint_eq(spliced.at, 3 + 4 + 2);
    ck_assert_uint_eq(w.buf[7], 0xe9);
    ck_assert_uint_eq(w.buf[8], 0x07);
    ck_assert_uint_eq(kf_size(&wire_desc, 2, true, &m), w.len + 1000);
    sk_writer_free(&w);
    sk_writer_init(&w, 0);
    ck_assert_int_eq(kf_encode(&wire_desc, 2, true, &m, &w), -1);
    sk_writer_free(&w);
}
END_TEST

/* Malformed wire_msg bodies: each must fail to decode. */
static const struct {
    int16_t v;
    const char *hex;
} malformed[] = {
    /* A null where the version allows none. */
    {0, "ffff 00000000 ffffffff 00000000 00000000 " FIXED_TAIL},
    {0, "0000 ffffffff ffffffff 00000000 00000000 " FIXED_TAIL},
    {0, "0000 00000000 ffffffff ffffffff 00000000 " FIXED_TAIL},
    {1, NULLS_HEAD "ffffffff " FIXED_TAIL},
    {2, "01 01 00 01 00 " FIXED_TAIL " 00"},
    /* A null element inside an array. */
    {1, NULLS_HEAD "00000001 0001 ffff " FIXED_TAIL},
    /* Lengths below -1. */
    {1, "fffe 00000000 ffffffff 00000000 00000000 " FIXED_TAIL},
    {1, "0000 fffffffe ffffffff 00000000 00000000 " FIXED_TAIL},
    {1, "0000 00000000 ffffffff fffffffe 00000000 " FIXED_TAIL},
    /* String and bytes lengths larger than what is left. */
    {0, "7fff 6869"},
    {0, "0000 7fffffff 01"},
    {2, "05 6869"},
    /* A known tag must fill exactly its size: short or long. */
    {2, TAGS_HEAD "01 01 02 0000"},
    {2, TAGS_HEAD "01 01 09 000000000000000500"},
    /* A tag size beyond the input, a count with fields missing, a huge count. */
    {2, TAGS_HEAD "01 07 05 0000"},
    {2, TAGS_HEAD "02 07 00"},
    {2, TAGS_HEAD "ffffffff0f"},
};

START_TEST(test_wire_malformed)
{
    for (size_t i = 0; i < sizeof malformed / sizeof malformed[0]; i++) {
        sk_arena a = {0};
        void *out;
        ck_assert_msg(decode_hex(&a, &wire_desc, malformed[i].v, malformed[i].v >= 2, malformed[i].hex, &out) == -1,
                      "case %zu decoded", i);
        sk_arena_free(&a);
    }
}
END_TEST

START_TEST(test_wire_lengths_beyond_input)
{
    sk_arena a = {0};
    /* Compact strings longer than 32767 bytes are malformed, as in Kafka. */
    static uint8_t big[0x8010];
    memset(big, 'a', sizeof big);
    big[0] = 0x81, big[1] = 0x80, big[2] = 0x02; /* 0x8001 - 1 = 32768 */
    wire_msg *m = sk_arena_alloc(&a, sizeof *m);
    sk_reader r;
    sk_reader_init(&r, big, sizeof big);
    ck_assert_int_eq(kf_decode(&wire_desc, 2, true, &r, &a, m), -1);
    big[0] = 0x80, big[1] = 0x80, big[2] = 0x02; /* 32767: fine, then the bytes field follows */
    sk_reader_init(&r, big, sizeof big);
    ck_assert_int_eq(kf_decode(&wire_desc, 2, true, &r, &a, m), -1);
    ck_assert_int_eq(m->s.len, 32767);
    sk_arena_free(&a);

    /* Array counts larger than the bytes left: rejected before allocating. */
    static const char *const bad[] = {"7fffffff", "00000005 0001 0001", "00010000 00000000"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sk_arena z = {0};
        count_msg cm;
        uint8_t buf[64];
        size_t n = unhex(bad[i], buf, sizeof buf);
        sk_reader_init(&r, buf, n);
        ck_assert_int_eq(kf_decode(&count_desc, 0, false, &r, &z, &cm), -1);
        ck_assert_uint_eq(z.total, 0);
    }
    static const char *const bad_compact[] = {"ffffffff0f", "8080808008 00", "06 0001 00 00"};
    for (size_t i = 0; i < sizeof bad_compact / sizeof bad_compact[0]; i++) {
        sk_arena z = {0};
        count_msg cm;
        uint8_t buf[64];
        size_t n = unhex(bad_compact[i], buf, sizeof buf);
        sk_reader_init(&r, buf, n);
        ck_assert_int_eq(kf_decode(&count_desc, 2, true, &r, &z, &cm), -1);
        ck_assert_uint_eq(z.total, 0);
    }
    /* Int32 arrays need 4 bytes per element. */
    sk_arena z = {0};
    wire_msg wm;
    uint8_t buf[64];
    size_t n = unhex("0000 00000000 ffffffff 00000003 00000001 00000002", buf, sizeof buf);
    sk_reader_init(&r, buf, n);
    ck_assert_int_eq(kf_decode(&wire_desc, 0, false, &r, &z, &wm), -1);
    sk_arena_free(&z);
}
END_TEST

/* ---- ApiVersions ---- */

START_TEST(test_api_versions_request)
{
    sk_arena a = {0};
    kf_api_versions_request m;
    kf_init(&kf_api_versions_request_desc, &m);
    m.client_software_name = kf_str_c("kcat");
    m.client_software_version = kf_str_c("1.7.1");
    for (int16_t v = 0; v <= 2; v++) {
        kf_api_versions_request *d = check_hex(&a, &kf_api_versions_request_desc, v, false, &m, "");
        assert_str(d->client_software_name, "");
    }
    for (int16_t v = 3; v <= 4; v++) {
        kf_api_versions_request *d =
            check_hex(&a, &kf_api_versions_request_desc, v, true, &m, "05 6b636174 06 312e372e31 00");
        assert_str(d->client_software_name, "kcat");
        assert_str(d->client_software_version, "1.7.1");
    }
    sk_arena_free(&a);
}
END_TEST

START_TEST(test_api_versions_response)
{
    sk_arena a = {0};
    kf_api_versions_response m;
    kf_init(&kf_api_versions_response_desc, &m);
    ck_assert_int_eq(m.finalized_features_epoch, -1);
    ck_assert_int_eq(m.api_keys.n, 0);
    kf_api_versions_response_api_version keys[] = {{3, 0, 13}, {18, 0, 4}};
    m.api_keys.items = keys;
    m.api_keys.n = 2;
    m.throttle_time_ms = 5;
    kf_api_versions_response *d =
        check_hex(&a, &kf_api_versions_response_desc, 0, false, &m, "0000 00000002 0003 0000 000d 0012 0000 0004");
    ck_assert_int_eq(d->throttle_time_ms, 0);
    ck_assert_int_eq(d->api_keys.items[1].api_key, 18);
    ck_assert_int_eq(d->api_keys.items[1].max_version, 4);
    for (int16_t v = 1; v <= 2; v++)
        check_hex(&a, &kf_api_versions_response_desc, v, false, &m,
                  "0000 00000002 0003 0000 000d 0012 0000 0004 00000005");
    for (int16_t v = 3; v <= 4; v++) {
        d = check_hex(&a, &kf_api_versions_response_desc, v, true, &m,
                      "0000 03 0003 0000 000d 00 0012 0000 0004 00 00000005 00");
        ck_assert_int_eq(d->finalized_features_epoch, -1);
        ck_assert_int_eq(d->supported_features.n, 0);
    }
    /* Every tagged field set. */
    kf_api_versions_response_supported_feature_key sf = {kf_str_c("f"), 0, 1};
    kf_api_versions_response_finalized_feature_key ff = {kf_str_c("f"), 1, 1};
    m.supported_features.items = &sf;
    m.supported_features.n = 1;
    m.finalized_features_epoch = 5;
    m.finalized_features.items = &ff;
    m.finalized_features.n = 1;
    m.zk_migration_ready = true;
    d = check_hex(&a, &kf_api_versions_response_desc, 3, true, &m,
                  "0000 03 0003 0000 000d 00 0012 0000 0004 00 00000005"
                  " 04 00 08 02 0266 0000 0001 00 01 08 0000000000000005"
                  " 02 08 02 0266 0001 0001 00 03 01 01");
    assert_str(d->supported_features.items[0].name, "f");
    ck_assert_int_eq(d->supported_features.items[0].max_version, 1);
    ck_assert_int_eq(d->finalized_features_epoch, 5);
    ck_assert_int_eq(d->finalized_features.items[0].min_version_level, 1);
    ck_assert(d->zk_migration_ready);
    /* v0-2 never carry them. */
    check_hex(&a, &kf_api_versions_response_desc, 2, false, &m, "0000 00000002 0003 0000 000d 0012 0000 0004 00000005");
    sk_arena_free(&a);
}
END_TEST

/* ---- Metadata ---- */

START_TEST(test_metadata_request)
{
    sk_arena a = {0};
    kf_metadata_request m;
    kf_init(&kf_metadata_request_desc, &m);
    ck_assert(m.allow_auto_topic_creation);
    kf_metadata_request_topic t;
    memcpy(t.topic_id.b, topic_uuid, 16);
    t.name = kf_str_c("foo");
    m.topics.items = &t;
    m.topics.n = 1;
    m.allow_auto_topic_creation = false;
    m.include_cluster_authorized_operations = true;
    m.include_topic_authorized_operations = true;
    for (int16_t v = 0; v <= 13; v++) {
        char hex[256];
        if (v <= 3)
            snprintf(hex, sizeof hex, "00000001 0003 666f6f");
        else if (v <= 7)
            snprintf(hex, sizeof hex, "00000001 0003 666f6f 00");
        else if (v == 8)
            snprintf(hex, sizeof hex, "00000001 0003 666f6f 00 01 01");
        else if (v == 9)
            snprintf(hex, sizeof hex, "02 04666f6f 00 00 01 01 00");
        else if (v == 10)
            snprintf(hex, sizeof hex, "02 " TOPIC_UUID_HEX " 04666f6f 00 00 01 01 00");
        else
            snprintf(hex, sizeof hex, "02 " TOPIC_UUID_HEX " 04666f6f 00 00 01 00");
        kf_metadata_request *d = check_hex(&a, &kf_metadata_request_desc, v, v >= 9, &m, hex);
        ck_assert_int_eq(d->topics.n, 1);
        assert_str(d->topics.items[0].name, "foo");
        ck_assert_int_eq(d->topics.items[0].topic_id.b[0], v >= 10 ? 1 : 0);
        ck_assert(d->allow_auto_topic_creation == (v < 4 ? true : false));
        ck_assert(d->include_cluster_authorized_operations == (v >= 8 && v <= 10));
        ck_assert(d->include_topic_authorized_operations == (v >= 8));
    }
    /* Null topics (all topics) from v1; v0 has no null and writes empty. */
    m.topics.items = NULL;
    m.topics.n = -1;
    kf_metadata_request *d = check_hex(&a, &kf_metadata_request_desc, 0, false, &m, "00000000");
    ck_assert_int_eq(d->topics.n, 0);
    d = check_hex(&a, &kf_metadata_request_desc, 1, false, &m, "ffffffff");
    ck_assert_int_eq(d->topics.n, -1);
    d = check_hex(&a, &kf_metadata_request_desc, 12, true, &m, "00 00 01 00");
    ck_assert_int_eq(d->topics.n, -1);
    void *out;
    ck_assert_int_eq(decode_hex(&a, &kf_metadata_request_desc, 0, false, "ffffffff", &out), -1);
    /* Topic names may be null from v10 (lookup by id). */
    t.name = kf_str_c(NULL);
    m.topics.items = &t;
    m.topics.n = 1;
    d = check_hex(&a, &kf_metadata_request_desc, 10, true, &m, "02 " TOPIC_UUID_HEX " 00 00 00 01 01 00");
    assert_str(d->topics.items[0].name, NULL);
    ck_assert_int_eq(decode_hex(&a, &kf_metadata_request_desc, 9, true, "02 00 00 00 01 01 00", &out), -1);
    sk_arena_free(&a);
}
END_TEST

static void w_str(sk_writer *w, const char *s, bool flex)
{
    size_t n = s ? strlen(s) : 0;
    if (flex)
        sk_write_uvarint(w, s ? (uint32_t)n + 1 : 0);
    else
        sk_write_i16(w, s ? (int16_t)n : -1);
    sk_write_raw(w, s, n);
}

static void w_count(sk_writer *w, int32_t n, bool flex)
{
    if (flex)
        sk_write_uvarint(w, (uint32_t)(n + 1));
    else
        sk_write_i32(w, n);
}

static void w_tags(sk_writer *w, bool flex)
{
    if (flex)
        sk_write_uvarint(w, 0);
}

/* The sample Metadata response at version v, written field by field from
 * MetadataResponse.json (independently of the schema tables). */
static void metadata_response_bytes(sk_writer *w, int v)
{
    bool flex = v >= 9;
    if (v >= 3)
        sk_write_i32(w, 7); /* throttle_time_ms */
    w_count(w, 2, flex);    /* brokers */
    sk_write_i32(w, 1);
    w_str(w, "h1", flex);
    sk_write_i32(w, 9092);
    if (v >= 1)
        w_str(w, NULL, flex); /* rack */
    w_tags(w, flex);
    sk_write_i32(w, 2);
    w_str(w, "h2", flex);
    sk_write_i32(w, 9093);
    if (v >= 1)
        w_str(w, "r2", flex);
    w_tags(w, flex);
    if (v >= 2)
        w_str(w, "cid", flex);
    if (v >= 1)
        sk_write_i32(w, 1); /* controller_id */
    w_count(w, 1, flex);    /* topics */
    sk_write_i16(w, 0);
    w_str(w, "t", flex);
    if (v >= 10)
        sk_write_raw(w, topic_uuid, 16);
    if (v >= 1)
        sk_write_i8(w, 0); /* is_internal */
    w_count(w, 1, flex);   /* partitions */
    sk_write_i16(w, 0);
    sk_write_i32(w, 0);
    sk_write_i32(w, 1);
    if (v >= 7)
        sk_write_i32(w, 3); /* leader_epoch */
    w_count(w, 2, flex);
    sk_write_i32(w, 1);
    sk_write_i32(w, 2);
    w_count(w, 1, flex);
    sk_write_i32(w, 1);
    if (v >= 5)
        w_count(w, 0, flex); /* offline_replicas */
    w_tags(w, flex);
    if (v >= 8)
        sk_write_i32(w, 0x0ff8); /* topic_authorized_operations */
    w_tags(w, flex);
    if (v >= 8 && v <= 10)
        sk_write_i32(w, 0x123); /* cluster_authorized_operations */
    if (v >= 13)
        sk_write_i16(w, 0); /* error_code */
    w_tags(w, flex);
}

START_TEST(test_metadata_response)
{
    sk_arena a = {0};
    kf_metadata_response m;
    kf_init(&kf_metadata_response_desc, &m);
    ck_assert_int_eq(m.controller_id, -1);
    ck_assert_int_eq(m.cluster_authorized_operations, INT32_MIN);
    assert_str(m.cluster_id, NULL);
    kf_metadata_response_broker brokers[2] = {
        {1, kf_str_c("h1"), 9092, kf_str_c(NULL)},
        {2, kf_str_c("h2"), 9093, kf_str_c("r2")},
    };
    int32_t replicas[] = {1, 2};
    kf_metadata_response_partition p;
    kf_init(&kf_metadata_response_partition_desc, &p);
    p.leader_id = 1;
    p.leader_epoch = 3;
    p.replica_nodes.items = replicas;
    p.replica_nodes.n = 2;
    p.isr_nodes.items = replicas;
    p.isr_nodes.n = 1;
    kf_metadata_response_topic t;
    kf_init(&kf_metadata_response_topic_desc, &t);
    t.name = kf_str_c("t");
    memcpy(t.topic_id.b, topic_uuid, 16);
    t.partitions.items = &p;
    t.partitions.n = 1;
    t.topic_authorized_operations = 0x0ff8;
    m.throttle_time_ms = 7;
    m.brokers.items = brokers;
    m.brokers.n = 2;
    m.cluster_id = kf_str_c("cid");
    m.controller_id = 1;
    m.topics.items = &t;
    m.topics.n = 1;
    m.cluster_authorized_operations = 0x123;
    for (int16_t v = 0; v <= 13; v++) {
        sk_writer w;
        sk_writer_init(&w, 0);
        metadata_response_bytes(&w, v);
        kf_metadata_response *d = check_bytes(&a, &kf_metadata_response_desc, v, v >= 9, &m, w.buf, w.len);
        sk_writer_free(&w);
        ck_assert_int_eq(d->throttle_time_ms, v >= 3 ? 7 : 0);
        ck_assert_int_eq(d->brokers.n, 2);
        assert_str(d->brokers.items[1].host, "h2");
        ck_assert_int_eq(d->brokers.items[1].port, 9093);
        assert_str(d->brokers.items[0].rack, NULL);
        assert_str(d->brokers.items[1].rack, v >= 1 ? "r2" : NULL);
        assert_str(d->cluster_id, v >= 2 ? "cid" : NULL);
        ck_assert_int_eq(d->controller_id, v >= 1 ? 1 : -1);
        kf_metadata_response_topic *dt = &d->topics.items[0];
        assert_str(dt->name, "t");
        ck_assert_int_eq(dt->topic_id.b[15], v >= 10 ? 16 : 0);
        ck_assert_int_eq(dt->topic_authorized_operations, v >= 8 ? 0x0ff8 : INT32_MIN);
        kf_metadata_response_partition *dp = &dt->partitions.items[0];
        ck_assert_int_eq(dp->leader_id, 1);
        ck_assert_int_eq(dp->leader_epoch, v >= 7 ? 3 : -1);
        ck_assert_int_eq(dp->replica_nodes.n, 2);
        ck_assert_int_eq(dp->replica_nodes.items[1], 2);
        ck_assert_int_eq(dp->isr_nodes.n, 1);
        ck_assert_int_eq(dp->offline_replicas.n, 0);
        ck_assert_int_eq(d->cluster_authorized_operations, v >= 8 && v <= 10 ? 0x123 : INT32_MIN);
    }
    /* Topic name null: allowed from v12, written as empty before. */
    t.name = kf_str_c(NULL);
    m.error_code = 35;
    sk_writer w;
    sk_writer_init(&w, 0);
    ck_assert_int_eq(kf_encode(&kf_metadata_response_desc, 12, true, &m, &w), 0);
    ck_assert_int_eq(kf_encode(&kf_metadata_response_desc, 11, true, &m, &w), 0);
    ck_assert_int_eq(kf_encode(&kf_metadata_response_desc, 13, true, &m, &w), 0);
    sk_reader r;
    sk_reader_init(&r, w.buf, w.len);
    kf_metadata_response d12, d11, d13;
    ck_assert_int_eq(kf_decode(&kf_metadata_response_desc, 12, true, &r, &a, &d12), 0);
    ck_assert_int_eq(kf_decode(&kf_metadata_response_desc, 11, true, &r, &a, &d11), 0);
    ck_assert_int_eq(kf_decode(&kf_metadata_response_desc, 13, true, &r, &a, &d13), 0);
    ck_assert_uint_eq(sk_reader_left(&r), 0);
    assert_str(d12.topics.items[0].name, NULL);
    assert_str(d11.topics.items[0].name, "");
    ck_assert_int_eq(d12.error_code, 0);
    ck_assert_int_eq(d13.error_code, 35);
    sk_writer_free(&w);
    sk_arena_free(&a);
}
END_TEST

START_TEST(test_unknown_tags_in_nested_structs)
{
    /* Metadata request v10 with unknown tags in the topic and at the top. */
    sk_arena a = {0};
    void *out;
    ck_assert_int_eq(decode_hex(&a, &kf_metadata_request_desc, 10, true,
                                "02 " TOPIC_UUID_HEX " 04666f6f 01 2a 02 abcd"
                                " 01 00 00 02 00 00 7f 03 010203",
                                &out),
                     0);
    kf_metadata_request *d = out;
    ck_assert_int_eq(d->topics.n, 1);
    assert_str(d->topics.items[0].name, "foo");
    ck_assert(d->allow_auto_topic_creation);
    ck_assert(!d->include_cluster_authorized_operations);
    sk_arena_free(&a);
}
END_TEST

/* ---- tables, init and headers ---- */

START_TEST(test_api_table)
{
    ck_assert_uint_ge(kf_napis, 2);
    for (size_t i = 1; i < kf_napis; i++)
        ck_assert_int_lt(kf_apis[i - 1].key, kf_apis[i].key);
    const kf_api *api = kf_api_find(KF_API_METADATA);
    ck_assert_ptr_nonnull(api);
    ck_assert_str_eq(api->name, "Metadata");
    ck_assert_int_eq(api->min_ver, 0);
    ck_assert_int_eq(api->max_ver, 13);
    ck_assert_int_eq(api->flex_min, 9);
    ck_assert_ptr_eq(api->request, &kf_metadata_request_desc);
    ck_assert(!kf_api_flexible(api, 8));
    ck_assert(kf_api_flexible(api, 9));
    api = kf_api_find(KF_API_API_VERSIONS);
    ck_assert_ptr_nonnull(api);
    ck_assert_int_eq(api->max_ver, 4);
    ck_assert_int_eq(api->flex_min, 3);
    ck_assert_ptr_eq(api->response, &kf_api_versions_response_desc);
    ck_assert_ptr_null(kf_api_find(-1));
    ck_assert_ptr_null(kf_api_find(9999));
    for (size_t i = 0; i < kf_napis; i++)
        ck_assert_ptr_eq(kf_api_find(kf_apis[i].key), &kf_apis[i]);
}
END_TEST

START_TEST(test_request_header_v1)
{
    sk_arena a = {0};
    uint8_t buf[64];
    size_t n = unhex("0003 0004 0000002a 0007 72646b61666b61 ffffffff", buf, sizeof buf);
    sk_reader r;
    sk_reader_init(&r, buf, n);
    kf_request_header h;
    ck_assert_int_eq(kf_request_header_decode(&r, &a, &h), 0);
    ck_assert_int_eq(h.api_key, 3);
    ck_assert_int_eq(h.api_version, 4);
    ck_assert_int_eq(h.correlation_id, 42);
    assert_str(h.client_id, "rdkafka");
    ck_assert_uint_eq(sk_reader_left(&r), 4); /* the body */

    /* Null client id; an unknown key is read as v1 and its body left alone. */
    n = unhex("2710 0005 ffffffff ffff 00", buf, sizeof buf);
    sk_reader_init(&r, buf, n);
    ck_assert_int_eq(kf_request_header_decode(&r, &a, &h), 0);
    ck_assert_int_eq(h.api_key, 10000);
    ck_assert_int_eq(h.correlation_id, -1);
    assert_str(h.client_id, NULL);
    ck_assert_uint_eq(sk_reader_left(&r), 1);

    /* Short headers and bad client id lengths. */
    static const char *const bad[] = {"",
                                      "0003",
                                      "0003 0004 000000",
                                      "0003 0004 0000002a",
                                      "0003 0004 0000002a 00",
                                      "0003 0004 0000002a 0002 61",
                                      "0003 0004 0000002a fffe 61"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        n = unhex(bad[i], buf, sizeof buf);
        sk_reader_init(&r, buf, n);
        ck_assert_int_eq(kf_request_header_decode(&r, &a, &h), -1);
        ck_assert_int_ne(r.err, 0);
    }
    sk_arena_free(&a);
}
END_TEST

START_TEST(test_request_header_v2)
{
    sk_arena a = {0};
    uint8_t buf[64];
    /* ApiVersions v3: client id keeps its int16 length, then tagged fields. */
    size_t n = unhex("0012 0003 00000001 0004 6b636174 00 05 6b636174", buf, sizeof buf);
    sk_reader r;
    sk_reader_init(&r, buf, n);
    kf_request_header h;
    ck_assert_int_eq(kf_request_header_decode(&r, &a, &h), 0);
    ck_assert_int_eq(h.api_key, 18);
    ck_assert_int_eq(h.api_version, 3);
    assert_str(h.client_id, "kcat");
    ck_assert_uint_eq(sk_reader_left(&r), 5);

    /* Unknown header tags are skipped. */
    n = unhex("0003 000c 00000002 ffff 02 00 01 61 05 00 00", buf, sizeof buf);
    sk_reader_init(&r, buf, n);
    ck_assert_int_eq(kf_request_header_decode(&r, &a, &h), 0);
    ck_assert_int_eq(h.api_version, 12);
    assert_str(h.client_id, NULL);
    ck_assert_uint_eq(sk_reader_left(&r), 1);

    /* Metadata v8 is not flexible: no tag section; a missing one in v9 is short. */
    n = unhex("0003 0008 00000002 0000 aa", buf, sizeof buf);
    sk_reader_init(&r, buf, n);
    ck_assert_int_eq(kf_request_header_decode(&r, &a, &h), 0);
    ck_assert_uint_eq(sk_reader_left(&r), 1);
    n = unhex("0003 0009 00000002 0000", buf, sizeof buf);
    sk_reader_init(&r, buf, n);
    ck_assert_int_eq(kf_request_header_decode(&r, &a, &h), -1);
    n = unhex("0003 0009 00000002 0000 01 00 05 00", buf, sizeof buf);
    sk_reader_init(&r, buf, n);
    ck_assert_int_eq(kf_request_header_decode(&r, &a, &h), -1);
    sk_arena_free(&a);
}
END_TEST

START_TEST(test_response_header)
{
    ck_assert_uint_eq(kf_response_header_size(KF_API_API_VERSIONS, 0), 4);
    ck_assert_uint_eq(kf_response_header_size(KF_API_API_VERSIONS, 3), 4);
    ck_assert_uint_eq(kf_response_header_size(KF_API_API_VERSIONS, 4), 4);
    ck_assert_uint_eq(kf_response_header_size(KF_API_METADATA, 8), 4);
    ck_assert_uint_eq(kf_response_header_size(KF_API_METADATA, 9), 5);
    ck_assert_uint_eq(kf_response_header_size(9999, 20), 4);
    sk_writer w;
    sk_writer_init(&w, 0);
    kf_response_header_encode(&w, KF_API_METADATA, 12, 0x01020304);
    kf_response_header_encode(&w, KF_API_API_VERSIONS, 3, -1);
    kf_response_header_encode(&w, KF_API_METADATA, 1, 7);
    static const uint8_t want[] = {1, 2, 3, 4, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 7};
    ck_assert_uint_eq(w.len, sizeof want);
    ck_assert_mem_eq(w.buf, want, sizeof want);
    sk_writer_free(&w);
}
END_TEST

/* ---- captured client requests (tests/data/requests) ---- */

/* Reads a captured frame (header and body), decodes both, checks the body is
 * consumed exactly and re-encodes to the same bytes. Returns the body struct. */
static void *decode_captured(sk_arena *a, const char *name, kf_request_header *h)
{
    char path[512];
    snprintf(path, sizeof path, "%s/requests/%s", SKIFF_TEST_DATA, name);
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    uint8_t *buf = sk_arena_alloc(a, 4096);
    size_t n = fread(buf, 1, 4096, f);
    fclose(f);
    ck_assert_uint_gt(n, 0);

    sk_reader r;
    sk_reader_init(&r, buf, n);
    ck_assert_int_eq(kf_request_header_decode(&r, a, h), 0);
    const kf_api *api = kf_api_find(h->api_key);
    ck_assert_ptr_nonnull(api);
    ck_assert(h->api_version >= api->min_ver && h->api_version <= api->max_ver);
    bool flex = kf_api_flexible(api, h->api_version);
    const uint8_t *body = r.pos;
    size_t body_len = sk_reader_left(&r);
    void *msg = sk_arena_alloc(a, api->request->size);
    ck_assert_int_eq(kf_decode(api->request, h->api_version, flex, &r, a, msg), 0);
    ck_assert_uint_eq(sk_reader_left(&r), 0);

    sk_writer w;
    sk_writer_init(&w, 0);
    ck_assert_int_eq(kf_encode(api->request, h->api_version, flex, msg, &w), 0);
    ck_assert_uint_eq(w.len, body_len);
    if (body_len)
        ck_assert_mem_eq(w.buf, body, body_len);
    sk_writer_free(&w);
    return msg;
}

START_TEST(test_captured_librdkafka)
{
    sk_arena a = {0};
    kf_request_header h;
    kf_api_versions_request *av = decode_captured(&a, "kcat_api_versions_v3.bin", &h);
    ck_assert_int_eq(h.api_key, KF_API_API_VERSIONS);
    ck_assert_int_eq(h.api_version, 3);
    ck_assert_int_eq(h.correlation_id, 1);
    assert_str(h.client_id, "rdkafka");
    assert_str(av->client_software_name, "librdkafka");
    assert_str(av->client_software_version, "2.0.2");

    /* kcat -L: first a brokers-only refresh (no topics), then all topics. */
    kf_metadata_request *md = decode_captured(&a, "kcat_metadata_v4_brokers.bin", &h);
    ck_assert_int_eq(h.api_key, KF_API_METADATA);
    ck_assert_int_eq(h.api_version, 4);
    ck_assert_int_eq(h.correlation_id, 2);
    assert_str(h.client_id, "rdkafka");
    ck_assert_int_eq(md->topics.n, 0);
    ck_assert(!md->allow_auto_topic_creation);
    md = decode_captured(&a, "kcat_metadata_v4_all.bin", &h);
    ck_assert_int_eq(h.correlation_id, 3);
    ck_assert_int_eq(md->topics.n, -1);
    ck_assert(md->allow_auto_topic_creation);

    /* confluent-kafka-python names itself; list_topics(topic="orders"). */
    av = decode_captured(&a, "confluent_kafka_api_versions_v3.bin", &h);
    assert_str(h.client_id, "skiff-ck");
    assert_str(av->client_software_name, "confluent-kafka-python");
    assert_str(av->client_software_version, "1.7.0-rdkafka-2.0.2");
    md = decode_captured(&a, "confluent_kafka_metadata_v4.bin", &h);
    ck_assert_int_eq(h.api_version, 4);
    assert_str(h.client_id, "skiff-ck");
    ck_assert_int_eq(md->topics.n, 1);
    assert_str(md->topics.items[0].name, "orders");
    ck_assert(md->allow_auto_topic_creation);
    sk_arena_free(&a);
}
END_TEST

START_TEST(test_captured_kafka_python)
{
    sk_arena a = {0};
    kf_request_header h;
    kf_api_versions_request *av = decode_captured(&a, "kafka_python_api_versions_v0.bin", &h);
    ck_assert_int_eq(h.api_key, KF_API_API_VERSIONS);
    ck_assert_int_eq(h.api_version, 0);
    ck_assert_int_eq(h.correlation_id, 1);
    assert_str(h.client_id, "skiff-test");
    assert_str(av->client_software_name, ""); /* absent before v3 */
    /* The version probe: Metadata v0 with no topics (v0: empty = all topics). */
    kf_metadata_request *md = decode_captured(&a, "kafka_python_metadata_v0.bin", &h);
    ck_assert_int_eq(h.api_key, KF_API_METADATA);
    ck_assert_int_eq(h.api_version, 0);
    ck_assert_int_eq(h.correlation_id, 2);
    assert_str(h.client_id, "skiff-test");
    ck_assert_int_eq(md->topics.n, 0);
    ck_assert(md->allow_auto_topic_creation); /* v0 default */
    sk_arena_free(&a);
}
END_TEST

START_TEST(test_captured_kafkajs)
{
    sk_arena a = {0};
    kf_request_header h;
    /* kafkajs 2.2.4 starts with ApiVersions v2 (empty body). */
    decode_captured(&a, "kafkajs_api_versions_v2.bin", &h);
    ck_assert_int_eq(h.api_key, KF_API_API_VERSIONS);
    ck_assert_int_eq(h.api_version, 2);
    ck_assert_int_eq(h.correlation_id, 0);
    assert_str(h.client_id, "skiff-capture");
    /* admin.fetchTopicMetadata({topics: ['orders']}): Metadata v6, no auto-creation. */
    kf_metadata_request *md = decode_captured(&a, "kafkajs_metadata_v6.bin", &h);
    ck_assert_int_eq(h.api_key, KF_API_METADATA);
    ck_assert_int_eq(h.api_version, 6);
    ck_assert_int_eq(h.correlation_id, 1);
    ck_assert_int_eq(md->topics.n, 1);
    assert_str(md->topics.items[0].name, "orders");
    ck_assert(!md->allow_auto_topic_creation);
    sk_arena_free(&a);
}
END_TEST

static Suite *codec_suite(void)
{
    Suite *s = suite_create("codec");
    TCase *tc = tcase_create("wire");
    tcase_add_test(tc, test_wire_plain);
    tcase_add_test(tc, test_wire_compact_and_tags);
    tcase_add_test(tc, test_wire_nulls);
    tcase_add_test(tc, test_wire_bool_and_trailing);
    tcase_add_test(tc, test_wire_tagged_fields);
    tcase_add_test(tc, test_wire_bytes_outside_memory);
    tcase_add_test(tc, test_wire_malformed);
    tcase_add_test(tc, test_wire_lengths_beyond_input);
    suite_add_tcase(s, tc);
    tc = tcase_create("messages");
    tcase_add_test(tc, test_api_versions_request);
    tcase_add_test(tc, test_api_versions_response);
    tcase_add_test(tc, test_metadata_request);
    tcase_add_test(tc, test_metadata_response);
    tcase_add_test(tc, test_unknown_tags_in_nested_structs);
    suite_add_tcase(s, tc);
    tc = tcase_create("headers");
    tcase_add_test(tc, test_api_table);
    tcase_add_test(tc, test_request_header_v1);
    tcase_add_test(tc, test_request_header_v2);
    tcase_add_test(tc, test_response_header);
    suite_add_tcase(s, tc);
    tc = tcase_create("captured");
    tcase_add_test(tc, test_captured_librdkafka);
    tcase_add_test(tc, test_captured_kafka_python);
    tcase_add_test(tc, test_captured_kafkajs);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return sk_unit_run(codec_suite());
}
