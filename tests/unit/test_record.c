/*
 * Record batch v2: builder output byte for byte, header parsing, record
 * iteration, every validation error code, and in-place offset assignment
 * (which header bytes change, and when the CRC does).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "skiff/crc32c.h"
#include "skiff/errors.h"
#include "skiff/record.h"
#include "unit_run.h"

#define NOW 1700000000000LL

static sk_batch_rules rules(void)
{
    sk_batch_rules r = {
        .max_message_bytes = 1048588,
        .timestamp_type = SK_TIMESTAMP_CREATE_TIME,
        .timestamp_before_max_ms = INT64_MAX,
        .timestamp_after_max_ms = 3600000,
        .compact = false,
        .origin = SK_APPEND_CLIENT,
    };
    return r;
}

/* Builds one batch of `n` records "k<i>" -> "value-<i>", timestamps NOW + i. */
static uint8_t *build(int n, size_t *size)
{
    sk_writer w;
    sk_record_spec recs[16];
    char keys[16][16], vals[16][24];
    sk_batch_spec spec = {.producer_id = -1, .producer_epoch = -1, .base_sequence = -1};
    ck_assert_int_le(n, 16);
    for (int i = 0; i < n; i++) {
        snprintf(keys[i], sizeof keys[i], "k%d", i);
        snprintf(vals[i], sizeof vals[i], "value-%d", i);
        recs[i] = (sk_record_spec){.key = keys[i],
                                   .key_len = strlen(keys[i]),
                                   .value = vals[i],
                                   .value_len = strlen(vals[i]),
                                   .timestamp = NOW + i};
    }
    sk_writer_init(&w, 0);
    ck_assert_int_eq(sk_batch_build(&w, &spec, recs, n), 0);
    return sk_writer_take(&w, size);
}

static void fix_crc(uint8_t *b, size_t size)
{
    sk_put_be32(b + SK_BATCH_CRC, sk_crc32c(0, b + SK_BATCH_ATTRIBUTES, size - SK_BATCH_ATTRIBUTES));
}

static int16_t validate(const uint8_t *b, size_t size, const sk_batch_rules *r)
{
    sk_batch out;
    return sk_batch_validate(b, size, r, NOW, &out);
}

START_TEST(test_build_exact_bytes)
{
    static const uint8_t expected[] = {
        0,    0,    0,    0,    0,    0,    0,    0,    /* base offset */
        0,    0,    0,    0x3c,                         /* batch length 60 */
        0,    0,    0,    0,                            /* leader epoch */
        2,                                              /* magic */
        0xaa, 0xbb, 0xcc, 0xdd,                         /* CRC (checked separately) */
        0,    0,                                        /* attributes */
        0,    0,    0,    0,                            /* last offset delta */
        0,    0,    0,    0,    0,    0,    0x03, 0xe8, /* base timestamp 1000 */
        0,    0,    0,    0,    0,    0,    0x03, 0xe8, /* max timestamp 1000 */
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* producer id -1 */
        0xff, 0xff,                                     /* producer epoch -1 */
        0xff, 0xff, 0xff, 0xff,                         /* base sequence -1 */
        0,    0,    0,    1,                            /* record count */
        0x14,                                           /* record length 10 (zig-zag) */
        0,                                              /* attributes */
        0,                                              /* timestamp delta */
        0,                                              /* offset delta */
        0x02, 'k',                                      /* key length 1 */
        0x06, 'v',  'a',  'l',                          /* value length 3 */
        0,                                              /* header count */
    };
    sk_record_spec rec = {.key = "k", .key_len = 1, .value = "val", .value_len = 3, .timestamp = 1000};
    sk_batch_spec spec = {.producer_id = -1, .producer_epoch = -1, .base_sequence = -1};
    sk_writer w;
    sk_writer_init(&w, 0);
    ck_assert_int_eq(sk_batch_build(&w, &spec, &rec, 1), 0);
    ck_assert_uint_eq(w.len, sizeof expected);
    ck_assert_mem_eq(w.buf, expected, 17);
    ck_assert_mem_eq(w.buf + 21, expected + 21, sizeof expected - 21);
    ck_assert_uint_eq(sk_be32(w.buf + SK_BATCH_CRC), sk_crc32c(0, w.buf + 21, sizeof expected - 21));
    sk_writer_free(&w);
}
END_TEST

START_TEST(test_parse_and_iterate)
{
    size_t size;
    uint8_t *b = build(3, &size);
    sk_batch h;
    ck_assert_int_eq(sk_batch_header_parse(&h, b, size), 0);
    ck_assert_int_eq(sk_batch_header_parse(&h, b, 60), -1);
    ck_assert_uint_eq(h.size, size);
    ck_assert_int_eq(h.magic, 2);
    ck_assert_int_eq(h.record_count, 3);
    ck_assert_int_eq(h.last_offset_delta, 2);
    ck_assert_int_eq(sk_batch_last_offset(&h), 2);
    ck_assert_int_eq(h.base_timestamp, NOW);
    ck_assert_int_eq(h.max_timestamp, NOW + 2);
    ck_assert_int_eq(h.producer_id, -1);
    ck_assert(sk_batch_crc_valid(b, size));

    sk_record_iter it;
    sk_record rec;
    sk_record_iter_init(&it, &h);
    for (int i = 0; i < 3; i++) {
        char v[16];
        ck_assert_int_eq(sk_record_next(&it, &rec), 1);
        ck_assert_int_eq(rec.offset_delta, i);
        ck_assert_int_eq(rec.timestamp, NOW + i);
        snprintf(v, sizeof v, "value-%d", i);
        ck_assert_int_eq(rec.value_len, (int32_t)strlen(v));
        ck_assert_mem_eq(rec.value, v, strlen(v));
        ck_assert_int_eq(rec.header_count, 0);
    }
    ck_assert_int_eq(sk_record_next(&it, &rec), 0);
    free(b);
}
END_TEST

START_TEST(test_headers_and_nulls)
{
    sk_record_header_spec hdrs[2] = {
        {.key = "h1", .key_len = 2, .value = "x", .value_len = 1},
        {.key = "h2", .key_len = 2, .value = NULL},
    };
    sk_record_spec rec = {.key = NULL, .value = NULL, .timestamp = NOW, .headers = hdrs, .header_count = 2};
    sk_batch_spec spec = {.producer_id = -1, .producer_epoch = -1, .base_sequence = -1};
    sk_writer w;
    sk_writer_init(&w, 0);
    ck_assert_int_eq(sk_batch_build(&w, &spec, &rec, 1), 0);
    sk_batch_rules r = rules();
    sk_batch b;
    ck_assert_int_eq(sk_batch_validate(w.buf, w.len, &r, NOW, &b), SK_ERR_NONE);
    sk_record_iter it;
    sk_record out;
    sk_record_iter_init(&it, &b);
    ck_assert_int_eq(sk_record_next(&it, &out), 1);
    ck_assert_int_eq(out.key_len, -1);
    ck_assert_ptr_null(out.key);
    ck_assert_int_eq(out.value_len, -1);
    ck_assert_int_eq(out.header_count, 2);
    ck_assert_uint_eq(out.headers_len, 1 + 2 + 1 + 1 + 1 + 2 + 1);
    /* A compacted topic refuses the null key. */
    r.compact = true;
    ck_assert_int_eq(sk_batch_validate(w.buf, w.len, &r, NOW, &b), SK_ERR_INVALID_RECORD);
    sk_writer_free(&w);
}
END_TEST

START_TEST(test_validate_ok_and_multi)
{
    size_t size;
    uint8_t *b = build(5, &size);
    sk_batch_rules r = rules();
    sk_batch out;
    ck_assert_int_eq(sk_batch_validate(b, size, &r, NOW, &out), SK_ERR_NONE);
    ck_assert_int_eq(out.records_max_timestamp, NOW + 4);
    ck_assert_uint_eq(out.size, size);
    /* Extra bytes after the batch are the next batch's business. */
    uint8_t *two = malloc(size * 2);
    memcpy(two, b, size);
    memcpy(two + size, b, size);
    ck_assert_int_eq(sk_batch_validate(two, size * 2, &r, NOW, &out), SK_ERR_NONE);
    ck_assert_uint_eq(out.size, size);
    free(two);
    free(b);
}
END_TEST

START_TEST(test_validate_corrupt_message)
{
    size_t size;
    uint8_t *b = build(2, &size);
    sk_batch_rules r = rules();
    /* Too short to hold the magic byte. */
    ck_assert_int_eq(validate(b, 16, &r), SK_ERR_CORRUPT_MESSAGE);
    /* Truncated frame: the length runs past the bytes given. */
    ck_assert_int_eq(validate(b, size - 1, &r), SK_ERR_CORRUPT_MESSAGE);
    ck_assert_int_eq(validate(b, 40, &r), SK_ERR_CORRUPT_MESSAGE);
    /* A length below the v2 minimum. */
    sk_put_be32(b + SK_BATCH_LENGTH, 48);
    ck_assert_int_eq(validate(b, size, &r), SK_ERR_CORRUPT_MESSAGE);
    sk_put_be32(b + SK_BATCH_LENGTH, (uint32_t)(size - 12));
    ck_assert_int_eq(validate(b, size, &r), SK_ERR_NONE);
    /* One flipped bit in a value: CRC mismatch. */
    b[size - 3] ^= 0x01;
    ck_assert_int_eq(validate(b, size, &r), SK_ERR_CORRUPT_MESSAGE);
    b[size - 3] ^= 0x01;
    /* A flipped CRC byte. */
    b[SK_BATCH_CRC] ^= 0x80;
    ck_assert_int_eq(validate(b, size, &r), SK_ERR_CORRUPT_MESSAGE);
    free(b);
}
END_TEST

START_TEST(test_validate_magic)
{
    size_t size;
    uint8_t *b = build(1, &size);
    sk_batch_rules r = rules();
    b[SK_BATCH_MAGIC] = 1;
    ck_assert_int_eq(validate(b, size, &r), SK_ERR_INVALID_RECORD);
    b[SK_BATCH_MAGIC] = 0;
    ck_assert_int_eq(validate(b, 17, &r), SK_ERR_INVALID_RECORD);
    b[SK_BATCH_MAGIC] = 3;
    ck_assert_int_eq(validate(b, size, &r), SK_ERR_INVALID_RECORD);
    free(b);
}
END_TEST

START_TEST(test_validate_too_large)
{
    size_t size;
    uint8_t *b = build(3, &size);
    sk_batch_rules r = rules();
    r.max_message_bytes = (int32_t)size;
    ck_assert_int_eq(validate(b, size, &r), SK_ERR_NONE);
    r.max_message_bytes = (int32_t)size - 1;
    ck_assert_int_eq(validate(b, size, &r), SK_ERR_MESSAGE_TOO_LARGE);
    free(b);
}
END_TEST

START_TEST(test_validate_header_counts)
{
    size_t size;
    uint8_t *b = build(3, &size);
    sk_batch_rules r = rules();

    /* Base offset must be 0 from a client, any value from the broker. */
    sk_put_be64(b, 7);
    ck_assert_int_eq(validate(b, size, &r), SK_ERR_INVALID_RECORD);
    r.origin = SK_APPEND_COORDINATOR;
    ck_assert_int_eq(validate(b, size, &r), SK_ERR_NONE);
    r.origin = SK_APPEND_CLIENT;
    sk_put_be64(b, 0);

    /* Record count disagrees with the last offset delta. */
    sk_put_be32(b + SK_BATCH_RECORD_COUNT, 2);
    fix_crc(b, size);
    ck_assert_int_eq(validate(b, size, &r), SK_ERR_INVALID_RECORD);
    sk_put_be32(b + SK_BATCH_LAST_OFFSET_DELTA, 1);
    fix_crc(b, size);
    /* Count and delta agree now, but a third record is left over. */
    ck_assert_int_eq(validate(b, size, &r), SK_ERR_INVALID_RECORD);
    sk_put_be32(b + SK_BATCH_RECORD_COUNT, 0);
    sk_put_be32(b + SK_BATCH_LAST_OFFSET_DELTA, (uint32_t)-1);
    fix_crc(b, size);
    ck_assert_int_eq(validate(b, size, &r), SK_ERR_INVALID_RECORD);
    /* More records announced than present. */
    sk_put_be32(b + SK_BATCH_RECORD_COUNT, 4);
    sk_put_be32(b + SK_BATCH_LAST_OFFSET_DELTA, 3);
    fix_crc(b, size);
    ck_assert_int_eq(validate(b, size, &r), SK_ERR_INVALID_RECORD);
    free(b);
}
END_TEST

START_TEST(test_validate_control_and_sequence)
{
    size_t size;
    uint8_t *b = build(1, &size);
    sk_batch_rules r = rules();
    sk_put_be16(b + SK_BATCH_ATTRIBUTES, SK_BATCH_CONTROL);
    fix_crc(b, size);
    ck_assert_int_eq(validate(b, size, &r), SK_ERR_INVALID_RECORD);
    r.origin = SK_APPEND_COORDINATOR;
    ck_assert_int_eq(validate(b, size, &r), SK_ERR_NONE);
    r.origin = SK_APPEND_CLIENT;
    sk_put_be16(b + SK_BATCH_ATTRIBUTES, 0);
    sk_put_be64(b + SK_BATCH_PRODUCER_ID, 42); /* producer id, base sequence -1 */
    fix_crc(b, size);
    ck_assert_int_eq(validate(b, size, &r), SK_ERR_INVALID_RECORD);
    sk_put_be32(b + SK_BATCH_BASE_SEQUENCE, 0);
    fix_crc(b, size);
    ck_assert_int_eq(validate(b, size, &r), SK_ERR_NONE);
    free(b);
}
END_TEST

START_TEST(test_validate_record_structure)
{
    size_t size;
    uint8_t *b = build(2, &size);
    sk_batch_rules r = rules();
    /* Offset delta of the second record: 1 -> 5. Record 0 is
     * len(1) attr(1) tsdelta(1) offdelta(1) ... so find record 1's offset
     * delta by walking. */
    sk_batch h;
    sk_batch_header_parse(&h, b, size);
    sk_record_iter it;
    sk_record rec;
    sk_record_iter_init(&it, &h);
    ck_assert_int_eq(sk_record_next(&it, &rec), 1);
    size_t rec1 = (size_t)(it.r.pos - b);
    /* record 1: length varint (1 byte), attributes, ts delta varint (1 byte), offset delta */
    ck_assert_int_eq(b[rec1 + 3], 2); /* zig-zag 1 */
    b[rec1 + 3] = 10;                 /* zig-zag 5 */
    fix_crc(b, size);
    ck_assert_int_eq(validate(b, size, &r), SK_ERR_INVALID_RECORD);
    b[rec1 + 3] = 2;
    /* Record length larger than the bytes left in the batch. */
    b[rec1] = 0x7e;
    fix_crc(b, size);
    ck_assert_int_eq(validate(b, size, &r), SK_ERR_INVALID_RECORD);
    /* Record length one byte short: the body is not consumed exactly. */
    uint8_t len = b[SK_BATCH_HEADER_SIZE];
    b[rec1] = len;
    b[SK_BATCH_HEADER_SIZE] = (uint8_t)(len - 2);
    fix_crc(b, size);
    ck_assert_int_eq(validate(b, size, &r), SK_ERR_INVALID_RECORD);
    /* A varint that never ends (all continuation bits). */
    memset(b + SK_BATCH_HEADER_SIZE, 0xff, 6);
    fix_crc(b, size);
    ck_assert_int_eq(validate(b, size, &r), SK_ERR_INVALID_RECORD);
    free(b);
}
END_TEST

START_TEST(test_validate_negative_header_key)
{
    sk_record_header_spec hdr = {.key = "h", .key_len = 1, .value = "v", .value_len = 1};
    sk_record_spec rec = {
        .key = "k", .key_len = 1, .value = "v", .value_len = 1, .timestamp = NOW, .headers = &hdr, .header_count = 1};
    sk_batch_spec spec = {.producer_id = -1, .producer_epoch = -1, .base_sequence = -1};
    sk_writer w;
    sk_writer_init(&w, 0);
    ck_assert_int_eq(sk_batch_build(&w, &spec, &rec, 1), 0);
    sk_batch_rules r = rules();
    ck_assert_int_eq(validate(w.buf, w.len, &r), SK_ERR_NONE);
    /* Header key length is the byte after the header count, which is 5 bytes
     * before the end: count(1) klen(1) 'h' vlen(1) 'v'. */
    ck_assert_int_eq(w.buf[w.len - 4], 2);
    w.buf[w.len - 4] = 1; /* zig-zag -1 */
    fix_crc(w.buf, w.len);
    ck_assert_int_eq(validate(w.buf, w.len, &r), SK_ERR_INVALID_RECORD);
    sk_writer_free(&w);
}
END_TEST

START_TEST(test_validate_timestamps)
{
    size_t size;
    uint8_t *b = build(2, &size);
    sk_batch_rules r = rules();
    sk_batch out;
    /* Records at NOW, NOW+1: fine with after = 1 ms, not with after = 0. */
    r.timestamp_after_max_ms = 1;
    ck_assert_int_eq(sk_batch_validate(b, size, &r, NOW, &out), SK_ERR_NONE);
    r.timestamp_after_max_ms = 0;
    ck_assert_int_eq(sk_batch_validate(b, size, &r, NOW, &out), SK_ERR_INVALID_TIMESTAMP);
    r.timestamp_after_max_ms = 3600000;
    /* Too old: now is far ahead. */
    r.timestamp_before_max_ms = 1000;
    ck_assert_int_eq(sk_batch_validate(b, size, &r, NOW + 1000, &out), SK_ERR_NONE);
    ck_assert_int_eq(sk_batch_validate(b, size, &r, NOW + 1001, &out), SK_ERR_INVALID_TIMESTAMP);
    /* No overflow with extreme values. */
    r.timestamp_before_max_ms = INT64_MAX;
    ck_assert_int_eq(sk_batch_validate(b, size, &r, INT64_MAX, &out), SK_ERR_NONE);
    ck_assert_int_eq(sk_batch_validate(b, size, &r, INT64_MIN, &out), SK_ERR_INVALID_TIMESTAMP);
    /* LogAppendTime topics take any record timestamp ... */
    r.timestamp_type = SK_TIMESTAMP_LOG_APPEND_TIME;
    r.timestamp_before_max_ms = 0;
    ck_assert_int_eq(sk_batch_validate(b, size, &r, NOW + 100000000, &out), SK_ERR_NONE);
    /* ... but a producer may not claim LogAppendTime itself. */
    sk_put_be16(b + SK_BATCH_ATTRIBUTES, SK_BATCH_TIMESTAMP_TYPE);
    fix_crc(b, size);
    ck_assert_int_eq(sk_batch_validate(b, size, &r, NOW, &out), SK_ERR_INVALID_TIMESTAMP);
    /* LogValidator.validateRecord checks a record's key before its
     * timestamp: a keyless record in a compacted topic is INVALID_RECORD
     * whatever its timestamp ... */
    free(b);
    sk_record_spec recs[2] = {
        {.key = NULL, .value = "v", .value_len = 1, .timestamp = NOW + 7200000},
        {.key = "k", .key_len = 1, .value = "v", .value_len = 1, .timestamp = NOW},
    };
    sk_batch_spec spec = {.producer_id = -1, .producer_epoch = -1, .base_sequence = -1};
    sk_writer w;
    sk_writer_init(&w, 0);
    ck_assert_int_eq(sk_batch_build(&w, &spec, recs, 2), 0);
    r = rules();
    r.compact = true;
    ck_assert_int_eq(validate(w.buf, w.len, &r), SK_ERR_INVALID_RECORD);
    /* ... and a timestamp error in any record makes the batch INVALID_TIMESTAMP
     * (processRecordErrors). */
    recs[0].timestamp = NOW;
    recs[1].timestamp = NOW + 7200000;
    w.len = 0;
    ck_assert_int_eq(sk_batch_build(&w, &spec, recs, 2), 0);
    ck_assert_int_eq(validate(w.buf, w.len, &r), SK_ERR_INVALID_TIMESTAMP);
    sk_writer_free(&w);
}
END_TEST

START_TEST(test_validate_compressed_header_only)
{
    size_t size;
    uint8_t *b = build(2, &size);
    sk_batch_rules r = rules();
    /* Claim gzip: the record area is not walked, so garbage there passes. */
    sk_put_be16(b + SK_BATCH_ATTRIBUTES, 1);
    memset(b + SK_BATCH_HEADER_SIZE, 0xff, size - SK_BATCH_HEADER_SIZE);
    fix_crc(b, size);
    sk_batch out;
    ck_assert_int_eq(sk_batch_validate(b, size, &r, NOW, &out), SK_ERR_NONE);
    ck_assert_int_eq(out.records_max_timestamp, NOW + 1);
    /* Header timestamps are still checked. */
    r.timestamp_after_max_ms = 0;
    ck_assert_int_eq(sk_batch_validate(b, size, &r, NOW, &out), SK_ERR_INVALID_TIMESTAMP);
    r.timestamp_after_max_ms = 3600000;
    /* Still CRC-checked. */
    b[size - 1] ^= 1;
    ck_assert_int_eq(sk_batch_validate(b, size, &r, NOW, &out), SK_ERR_CORRUPT_MESSAGE);
    b[size - 1] ^= 1;
    /* Codec ids 5-7 do not exist. */
    sk_put_be16(b + SK_BATCH_ATTRIBUTES, 5);
    fix_crc(b, size);
    ck_assert_int_eq(sk_batch_validate(b, size, &r, NOW, &out), SK_ERR_INVALID_RECORD);
    free(b);
}
END_TEST

START_TEST(test_assign_create_time)
{
    size_t size;
    uint8_t *b = build(3, &size);
    uint8_t *orig = malloc(size);
    memcpy(orig, b, size);
    uint32_t crc = sk_be32(b + SK_BATCH_CRC);
    sk_batch_assign(b, size, 0x0102030405060708LL, 7, SK_TIMESTAMP_CREATE_TIME, NOW + 2);
    static const uint8_t hdr[] = {1, 2, 3, 4, 5, 6, 7, 8};
    ck_assert_mem_eq(b, hdr, 8);
    ck_assert_uint_eq(sk_be32(b + SK_BATCH_LEADER_EPOCH), 7);
    /* Everything from the length field on, except the epoch, is unchanged. */
    ck_assert_mem_eq(b + 8, orig + 8, 4);
    ck_assert_mem_eq(b + 16, orig + 16, size - 16);
    ck_assert_uint_eq(sk_be32(b + SK_BATCH_CRC), crc);
    ck_assert(sk_batch_crc_valid(b, size));
    /* A wrong header max timestamp is corrected, with a new CRC. */
    sk_batch_assign(b, size, 0, 0, SK_TIMESTAMP_CREATE_TIME, NOW + 1);
    ck_assert_int_eq((int64_t)sk_be64(b + SK_BATCH_MAX_TIMESTAMP), NOW + 1);
    ck_assert_uint_ne(sk_be32(b + SK_BATCH_CRC), crc);
    ck_assert(sk_batch_crc_valid(b, size));
    free(orig);
    free(b);
}
END_TEST

START_TEST(test_assign_log_append_time)
{
    size_t size;
    uint8_t *b = build(3, &size);
    uint8_t *orig = malloc(size);
    memcpy(orig, b, size);
    uint32_t crc = sk_be32(b + SK_BATCH_CRC);
    sk_batch_assign(b, size, 100, 0, SK_TIMESTAMP_LOG_APPEND_TIME, NOW + 5000);
    ck_assert_int_eq((int64_t)sk_be64(b), 100);
    ck_assert_uint_eq(sk_be16(b + SK_BATCH_ATTRIBUTES), SK_BATCH_TIMESTAMP_TYPE);
    ck_assert_int_eq((int64_t)sk_be64(b + SK_BATCH_MAX_TIMESTAMP), NOW + 5000);
    ck_assert_uint_ne(sk_be32(b + SK_BATCH_CRC), crc);
    ck_assert(sk_batch_crc_valid(b, size));
    /* Records and the rest of the header untouched. */
    ck_assert_mem_eq(b + SK_BATCH_LAST_OFFSET_DELTA, orig + SK_BATCH_LAST_OFFSET_DELTA,
                     SK_BATCH_MAX_TIMESTAMP - SK_BATCH_LAST_OFFSET_DELTA);
    ck_assert_mem_eq(b + SK_BATCH_PRODUCER_ID, orig + SK_BATCH_PRODUCER_ID, size - SK_BATCH_PRODUCER_ID);
    free(orig);
    free(b);
}
END_TEST

static Suite *record_suite(void)
{
    Suite *s = suite_create("record");
    TCase *tc = tcase_create("batch");
    tcase_add_test(tc, test_build_exact_bytes);
    tcase_add_test(tc, test_parse_and_iterate);
    tcase_add_test(tc, test_headers_and_nulls);
    tcase_add_test(tc, test_validate_ok_and_multi);
    tcase_add_test(tc, test_validate_corrupt_message);
    tcase_add_test(tc, test_validate_magic);
    tcase_add_test(tc, test_validate_too_large);
    tcase_add_test(tc, test_validate_header_counts);
    tcase_add_test(tc, test_validate_control_and_sequence);
    tcase_add_test(tc, test_validate_record_structure);
    tcase_add_test(tc, test_validate_negative_header_key);
    tcase_add_test(tc, test_validate_timestamps);
    tcase_add_test(tc, test_validate_compressed_header_only);
    tcase_add_test(tc, test_assign_create_time);
    tcase_add_test(tc, test_assign_log_append_time);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return sk_unit_run(record_suite());
}
