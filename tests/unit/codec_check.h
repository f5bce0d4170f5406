/*
 * Helpers shared by the codec unit tests (test_codec.c, test_codec_apis.c):
 * hex input, and check_bytes/check_hex/roundtrip, which hold a message to
 * exact bytes, decode them back, re-encode them and reject every prefix.
 * Header-only (static inline) because each test is its own executable.
 */
#ifndef SKIFF_TEST_CODEC_CHECK_H
#define SKIFF_TEST_CODEC_CHECK_H

#include <check.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kf_msgs.h"
#include "skiff/proto.h"

/* A topic id used by the samples, and its hex. */
static const uint8_t topic_uuid[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
#define TOPIC_UUID_HEX "0102030405060708090a0b0c0d0e0f10"

/* Decodes hex digits (spaces ignored) into `out`; returns the byte count. */
static inline size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = 0;
    int half = -1;
    for (const char *p = hex; *p; p++) {
        if (*p == ' ')
            continue;
        int d = *p <= '9' ? *p - '0' : (*p | 0x20) - 'a' + 10;
        ck_assert(d >= 0 && d < 16);
        if (half < 0) {
            half = d;
        } else {
            ck_assert_uint_lt(n, cap);
            out[n++] = (uint8_t)(half << 4 | d);
            half = -1;
        }
    }
    ck_assert_int_lt(half, 0);
    return n;
}

/* Encodes `msg` and checks the bytes are exactly `want` and kf_size agrees;
 * decodes `want` into a struct from `arena` (returned), checks nothing is
 * left over and that re-encoding gives `want` again; checks that every strict
 * prefix of `want` fails to decode. */
static inline void *check_bytes(sk_arena *arena, const kf_struct_desc *d, int16_t v, bool flex, const void *msg,
                                const uint8_t *want, size_t n)
{
    sk_writer w;
    sk_writer_init(&w, 0);
    ck_assert_int_eq(kf_encode(d, v, flex, msg, &w), 0);
    size_t diff = 0;
    while (diff < w.len && diff < n && w.buf[diff] == want[diff])
        diff++;
    ck_assert_msg(w.len == n && diff == n, "%s v%d: encoded %zu bytes, want %zu, first difference at %zu", d->name, v,
                  w.len, n, diff);
    ck_assert_uint_eq(kf_size(d, v, flex, msg), n);
    sk_writer_free(&w);

    void *out = sk_arena_alloc(arena, d->size);
    sk_reader r;
    sk_reader_init(&r, want, n);
    ck_assert_msg(kf_decode(d, v, flex, &r, arena, out) == 0, "%s v%d: decode failed", d->name, v);
    ck_assert_int_eq(r.err, 0);
    ck_assert_uint_eq(sk_reader_left(&r), 0);
    sk_writer_init(&w, 0);
    ck_assert_int_eq(kf_encode(d, v, flex, out, &w), 0);
    ck_assert_msg(w.len == n && (n == 0 || !memcmp(w.buf, want, n)), "%s v%d: re-encode differs", d->name, v);
    sk_writer_free(&w);

    for (size_t cut = 0; cut < n; cut++) {
        sk_arena a = {0};
        void *tmp = sk_arena_alloc(&a, d->size);
        sk_reader_init(&r, want, cut);
        ck_assert_msg(kf_decode(d, v, flex, &r, &a, tmp) == -1, "%s v%d: prefix %zu decoded", d->name, v, cut);
        ck_assert_int_ne(r.err, 0);
        sk_arena_free(&a);
    }
    return out;
}

/* check_bytes with the expected bytes given as hex. */
static inline void *check_hex(sk_arena *arena, const kf_struct_desc *d, int16_t v, bool flex, const void *msg,
                              const char *hex)
{
    static uint8_t buf[4096];
    size_t n = unhex(hex, buf, sizeof buf);
    return check_bytes(arena, d, v, flex, msg, buf, n);
}

/* Decodes hex into a new struct; returns the kf_decode result. */
static inline int decode_hex(sk_arena *arena, const kf_struct_desc *d, int16_t v, bool flex, const char *hex,
                             void **out)
{
    static uint8_t buf[4096];
    size_t n = unhex(hex, buf, sizeof buf);
    *out = sk_arena_alloc(arena, d->size);
    sk_reader r;
    sk_reader_init(&r, buf, n);
    int rc = kf_decode(d, v, flex, &r, arena, *out);
    if (rc == 0 && sk_reader_left(&r) != 0)
        return 1; /* trailing bytes */
    return rc;
}

static inline void assert_str(kf_str s, const char *want)
{
    if (!want) {
        ck_assert_ptr_null(s.p);
        ck_assert_int_eq(s.len, -1);
    } else {
        ck_assert_msg(kf_str_eq(s, want), "got '%.*s', want '%s'", s.p ? (int)s.len : 4, s.p ? s.p : "null", want);
        ck_assert_int_eq(s.p[s.len], 0);
    }
}

/* Encodes `msg` and runs check_bytes on the result: decode, exact re-encode,
 * every prefix rejected. Returns the decoded struct. */
static inline void *roundtrip(sk_arena *arena, const kf_api *api, bool request, int16_t v, const void *msg)
{
    const kf_struct_desc *d = request ? api->request : api->response;
    bool flex = kf_api_flexible(api, v);
    sk_writer w;
    sk_writer_init(&w, 0);
    ck_assert_int_eq(kf_encode(d, v, flex, msg, &w), 0);
    uint8_t *copy = sk_arena_alloc(arena, w.len + 1);
    if (w.len)
        memcpy(copy, w.buf, w.len);
    size_t n = w.len;
    sk_writer_free(&w);
    return check_bytes(arena, d, v, flex, msg, copy, n);
}

#endif
