/*
 * Unit tests for src/core/buf.c: the exact wire bytes of every primitive
 * (big-endian integers, float64, zig-zag varints and varlongs, unsigned
 * varints up to 5 bytes, raw bytes such as UUIDs), what the readers do with
 * short, overlong and invalid input (sticky error, nothing read past the
 * end), and the writer's growth and hand-over. The length-prefixed forms
 * built on these (strings, bytes, arrays, tagged fields) are tested through
 * the codec in test_codec.c.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "skiff/buf.h"
#include "unit_run.h"

/* Asserts that the writer holds exactly the `n` bytes at `want`. */
static void assert_bytes(const sk_writer *w, const void *want, size_t n)
{
    ck_assert_int_eq(w->err, 0);
    ck_assert_uint_eq(w->len, n);
    ck_assert_mem_eq(w->buf, want, n);
}

START_TEST(test_fixed_width_integers)
{
    sk_writer w;
    sk_writer_init(&w, 0);
    sk_write_i8(&w, -1);
    sk_write_i8(&w, 127);
    sk_write_i16(&w, 0x1234);
    sk_write_i16(&w, -2);
    sk_write_i32(&w, 0x01020304);
    sk_write_i32(&w, INT32_MIN);
    sk_write_i64(&w, 0x0102030405060708);
    sk_write_i64(&w, -1);
    sk_write_u16(&w, 0xfffe);
    sk_write_u32(&w, 0xdeadbeef);
    static const uint8_t want[] = {
        0xff, 0x7f, 0x12, 0x34, 0xff, 0xfe, 0x01, 0x02, 0x03, 0x04, 0x80, 0x00, 0x00, 0x00, 0x01, 0x02, 0x03, 0x04,
        0x05, 0x06, 0x07, 0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe, 0xde, 0xad, 0xbe, 0xef,
    };
    assert_bytes(&w, want, sizeof want);

    sk_reader r;
    sk_reader_init(&r, want, sizeof want);
    ck_assert_int_eq(sk_read_i8(&r), -1);
    ck_assert_int_eq(sk_read_i8(&r), 127);
    ck_assert_int_eq(sk_read_i16(&r), 0x1234);
    ck_assert_int_eq(sk_read_i16(&r), -2);
    ck_assert_int_eq(sk_read_i32(&r), 0x01020304);
    ck_assert_int_eq(sk_read_i32(&r), INT32_MIN);
    ck_assert_int_eq(sk_read_i64(&r), 0x0102030405060708);
    ck_assert_int_eq(sk_read_i64(&r), -1);
    ck_assert_uint_eq(sk_read_u16(&r), 0xfffe);
    ck_assert_uint_eq(sk_read_u32(&r), 0xdeadbeef);
    ck_assert_int_eq(r.err, 0);
    ck_assert_uint_eq(sk_reader_left(&r), 0);
    sk_writer_free(&w);
}
END_TEST

START_TEST(test_float64)
{
    sk_writer w;
    sk_writer_init(&w, 0);
    sk_write_f64(&w, 1.5);
    sk_write_f64(&w, -0.0);
    static const uint8_t want[] = {0x3f, 0xf8, 0, 0, 0, 0, 0, 0, 0x80, 0, 0, 0, 0, 0, 0, 0};
    assert_bytes(&w, want, sizeof want);
    sk_reader r;
    sk_reader_init(&r, want, sizeof want);
    ck_assert(sk_read_f64(&r) == 1.5);
    double z = sk_read_f64(&r);
    ck_assert(z == 0.0);
    ck_assert_mem_eq(&z, &(double){-0.0}, sizeof z);
    ck_assert_int_eq(r.err, 0);
    sk_writer_free(&w);
}
END_TEST

/* One unsigned varint case: value and its exact encoding. */
static const struct {
    uint32_t v;
    uint8_t n;
    uint8_t b[5];
} uvarints[] = {
    {0, 1, {0x00}},
    {1, 1, {0x01}},
    {127, 1, {0x7f}},
    {128, 2, {0x80, 0x01}},
    {300, 2, {0xac, 0x02}},
    {16383, 2, {0xff, 0x7f}},
    {16384, 3, {0x80, 0x80, 0x01}},
    {2097151, 3, {0xff, 0xff, 0x7f}},
    {2097152, 4, {0x80, 0x80, 0x80, 0x01}},
    {268435455, 4, {0xff, 0xff, 0xff, 0x7f}},
    {268435456, 5, {0x80, 0x80, 0x80, 0x80, 0x01}},
    {0x7fffffff, 5, {0xff, 0xff, 0xff, 0xff, 0x07}},
    {UINT32_MAX, 5, {0xff, 0xff, 0xff, 0xff, 0x0f}},
};

START_TEST(test_uvarint)
{
    for (size_t i = 0; i < sizeof uvarints / sizeof uvarints[0]; i++) {
        sk_writer w;
        sk_writer_init(&w, 0);
        sk_write_uvarint(&w, uvarints[i].v);
        assert_bytes(&w, uvarints[i].b, uvarints[i].n);
        ck_assert_uint_eq(sk_uvarint_size(uvarints[i].v), uvarints[i].n);
        sk_reader r;
        sk_reader_init(&r, uvarints[i].b, uvarints[i].n);
        ck_assert_uint_eq(sk_read_uvarint(&r), uvarints[i].v);
        ck_assert_int_eq(r.err, 0);
        ck_assert_uint_eq(sk_reader_left(&r), 0);
        /* Every proper prefix is short. */
        for (size_t cut = 0; cut < uvarints[i].n; cut++) {
            sk_reader_init(&r, uvarints[i].b, cut);
            ck_assert_uint_eq(sk_read_uvarint(&r), 0);
            ck_assert_int_ne(r.err, 0);
        }
        sk_writer_free(&w);
    }
}
END_TEST

START_TEST(test_uvarint_invalid)
{
    sk_reader r;
    /* A sixth byte: more than 5 bytes is malformed even if the value is small. */
    static const uint8_t six[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x01};
    sk_reader_init(&r, six, sizeof six);
    ck_assert_uint_eq(sk_read_uvarint(&r), 0);
    ck_assert_int_ne(r.err, 0);
    ck_assert_uint_eq(sk_reader_left(&r), 0);

    /* Five bytes whose value needs more than 32 bits. */
    static const uint8_t big[] = {0xff, 0xff, 0xff, 0xff, 0x1f};
    sk_reader_init(&r, big, sizeof big);
    ck_assert_uint_eq(sk_read_uvarint(&r), 0);
    ck_assert_int_ne(r.err, 0);

    /* Overlong zero padding is accepted as Kafka's reader does: 0x80 0x00 is 0. */
    static const uint8_t overlong[] = {0x80, 0x00, 0x81, 0x80, 0x00};
    sk_reader_init(&r, overlong, sizeof overlong);
    ck_assert_uint_eq(sk_read_uvarint(&r), 0);
    ck_assert_uint_eq(sk_read_uvarint(&r), 1);
    ck_assert_int_eq(r.err, 0);

    /* Empty input. */
    sk_reader_init(&r, overlong, 0);
    ck_assert_uint_eq(sk_read_uvarint(&r), 0);
    ck_assert_int_ne(r.err, 0);
}
END_TEST

static const struct {
    int32_t v;
    uint8_t n;
    uint8_t b[5];
} varints[] = {
    {0, 1, {0x00}},
    {-1, 1, {0x01}},
    {1, 1, {0x02}},
    {-64, 1, {0x7f}},
    {63, 1, {0x7e}},
    {64, 2, {0x80, 0x01}},
    {-65, 2, {0x81, 0x01}},
    {150, 2, {0xac, 0x02}},
    {INT32_MAX, 5, {0xfe, 0xff, 0xff, 0xff, 0x0f}},
    {INT32_MIN, 5, {0xff, 0xff, 0xff, 0xff, 0x0f}},
};

START_TEST(test_varint)
{
    for (size_t i = 0; i < sizeof varints / sizeof varints[0]; i++) {
        sk_writer w;
        sk_writer_init(&w, 0);
        sk_write_varint(&w, varints[i].v);
        assert_bytes(&w, varints[i].b, varints[i].n);
        ck_assert_uint_eq(sk_varint_size(varints[i].v), varints[i].n);
        sk_reader r;
        sk_reader_init(&r, varints[i].b, varints[i].n);
        ck_assert_int_eq(sk_read_varint(&r), varints[i].v);
        ck_assert_int_eq(r.err, 0);
        ck_assert_uint_eq(sk_reader_left(&r), 0);
        sk_writer_free(&w);
    }
    static const uint8_t six[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    sk_reader r;
    sk_reader_init(&r, six, sizeof six);
    ck_assert_int_eq(sk_read_varint(&r), 0);
    ck_assert_int_ne(r.err, 0);
}
END_TEST

static const struct {
    int64_t v;
    uint8_t n;
    uint8_t b[10];
} varlongs[] = {
    {0, 1, {0x00}},
    {-1, 1, {0x01}},
    {1, 1, {0x02}},
    {-64, 1, {0x7f}},
    {64, 2, {0x80, 0x01}},
    {INT32_MAX, 5, {0xfe, 0xff, 0xff, 0xff, 0x0f}},
    {(int64_t)INT32_MAX + 1, 5, {0x80, 0x80, 0x80, 0x80, 0x10}},
    {INT64_MAX, 10, {0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}},
    {INT64_MIN, 10, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}},
};

START_TEST(test_varlong)
{
    for (size_t i = 0; i < sizeof varlongs / sizeof varlongs[0]; i++) {
        sk_writer w;
        sk_writer_init(&w, 0);
        sk_write_varlong(&w, varlongs[i].v);
        assert_bytes(&w, varlongs[i].b, varlongs[i].n);
        ck_assert_uint_eq(sk_varlong_size(varlongs[i].v), varlongs[i].n);
        sk_reader r;
        sk_reader_init(&r, varlongs[i].b, varlongs[i].n);
        ck_assert_int_eq(sk_read_varlong(&r), varlongs[i].v);
        ck_assert_int_eq(r.err, 0);
        ck_assert_uint_eq(sk_reader_left(&r), 0);
        sk_reader_init(&r, varlongs[i].b, varlongs[i].n - 1u);
        ck_assert_int_eq(sk_read_varlong(&r), 0);
        ck_assert_int_ne(r.err, 0);
        sk_writer_free(&w);
    }
    static const uint8_t eleven[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01};
    sk_reader r;
    sk_reader_init(&r, eleven, sizeof eleven);
    ck_assert_int_eq(sk_read_varlong(&r), 0);
    ck_assert_int_ne(r.err, 0);
}
END_TEST

START_TEST(test_raw_uuid)
{
    static const uint8_t uuid[16] = {0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad, 0x11, 0xd1,
                                     0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8};
    sk_writer w;
    sk_writer_init(&w, 4);
    sk_write_raw(&w, uuid, sizeof uuid);
    sk_write_raw(&w, NULL, 0);
    assert_bytes(&w, uuid, sizeof uuid);
    sk_reader r;
    sk_reader_init(&r, w.buf, w.len);
    const uint8_t *p = sk_read_raw(&r, 16);
    ck_assert_ptr_eq(p, w.buf);
    ck_assert_ptr_nonnull(sk_read_raw(&r, 0));
    ck_assert_ptr_null(sk_read_raw(&r, 1));
    ck_assert_int_ne(r.err, 0);
    sk_writer_free(&w);
}
END_TEST

/* Zero-length reads and writes on empty readers and writers are valid (no
 * arithmetic on NULL pointers: UBSan checks this). */
START_TEST(test_empty_buffers)
{
    sk_writer w;
    sk_writer_init(&w, 0);
    sk_write_raw(&w, NULL, 0);
    ck_assert_ptr_nonnull(sk_writer_reserve(&w, 0));
    ck_assert_int_eq(w.err, 0);
    ck_assert_uint_eq(w.len, 0);
    sk_writer_free(&w);

    sk_reader r;
    sk_reader_init(&r, NULL, 0);
    ck_assert_uint_eq(sk_reader_left(&r), 0);
    ck_assert_ptr_nonnull(sk_read_raw(&r, 0));
    ck_assert_int_eq(r.err, 0);
    ck_assert_int_eq(sk_read_i8(&r), 0);
    ck_assert_int_ne(r.err, 0);
}
END_TEST

START_TEST(test_reader_sticky_error)
{
    static const uint8_t b[] = {0x00, 0x01, 0x02};
    sk_reader r;
    sk_reader_init(&r, b, sizeof b);
    ck_assert_int_eq(sk_read_i32(&r), 0); /* short: 3 of 4 bytes */
    ck_assert_int_ne(r.err, 0);
    ck_assert_uint_eq(sk_reader_left(&r), 0);
    /* Later reads return zero and read nothing, even ones that would fit. */
    ck_assert_int_eq(sk_read_i8(&r), 0);
    ck_assert_int_eq(sk_read_i16(&r), 0);
    ck_assert_ptr_null(sk_read_raw(&r, 0));

    sk_reader_init(&r, b, sizeof b);
    ck_assert_int_eq(sk_read_i16(&r), 1);
    sk_reader_fail(&r);
    ck_assert_int_ne(r.err, 0);
    ck_assert_uint_eq(sk_reader_left(&r), 0);
    ck_assert_int_eq(sk_read_i8(&r), 0);
}
END_TEST

START_TEST(test_writer_growth_and_take)
{
    sk_writer w;
    sk_writer_init(&w, 0);
    ck_assert_ptr_null(w.buf);
    for (int i = 0; i < 10000; i++)
        sk_write_i8(&w, (int8_t)i);
    ck_assert_int_eq(w.err, 0);
    ck_assert_uint_eq(w.len, 10000);
    ck_assert_uint_ge(w.cap, 10000);
    for (int i = 0; i < 10000; i++)
        ck_assert_uint_eq(w.buf[i], (uint8_t)i);

    uint8_t *slot = sk_writer_reserve(&w, 4);
    ck_assert_ptr_nonnull(slot);
    sk_put_be32(slot, 0xa1b2c3d4);
    ck_assert_uint_eq(sk_be32(w.buf + 10000), 0xa1b2c3d4);

    size_t len;
    uint8_t *buf = sk_writer_take(&w, &len);
    ck_assert_uint_eq(len, 10004);
    ck_assert_ptr_null(w.buf);
    ck_assert_uint_eq(w.len, 0);
    free(buf);

    /* A request too large to allocate fails the writer; later writes do nothing. */
    ck_assert_ptr_null(sk_writer_reserve(&w, SIZE_MAX - 8));
    ck_assert_int_ne(w.err, 0);
    sk_write_i32(&w, 1);
    ck_assert_uint_eq(w.len, 0);
    sk_writer_free(&w);
}
END_TEST

START_TEST(test_be_helpers)
{
    uint8_t b[8];
    sk_put_be16(b, 0xbeef);
    ck_assert_uint_eq(b[0], 0xbe);
    ck_assert_uint_eq(sk_be16(b), 0xbeef);
    sk_put_be64(b, 0x0011223344556677ull);
    ck_assert_uint_eq(b[0], 0x00);
    ck_assert_uint_eq(b[7], 0x77);
    ck_assert_uint_eq(sk_be64(b), 0x0011223344556677ull);
}
END_TEST

static Suite *buf_suite(void)
{
    Suite *s = suite_create("buf");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_fixed_width_integers);
    tcase_add_test(tc, test_float64);
    tcase_add_test(tc, test_uvarint);
    tcase_add_test(tc, test_uvarint_invalid);
    tcase_add_test(tc, test_varint);
    tcase_add_test(tc, test_varlong);
    tcase_add_test(tc, test_raw_uuid);
    tcase_add_test(tc, test_empty_buffers);
    tcase_add_test(tc, test_reader_sticky_error);
    tcase_add_test(tc, test_writer_growth_and_take);
    tcase_add_test(tc, test_be_helpers);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return sk_unit_run(buf_suite());
}
