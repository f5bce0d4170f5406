/*
 * Compression codecs and the batch-level helpers (include/skiff/compress.h):
 * round trips per codec and size, the exact framing skiff writes, raw and
 * xerial snappy, truncation at many cut points, 1 GiB decompression bombs
 * (built here with streaming compressors) stopping at the cap without
 * growing the buffer past it, record batches captured from librdkafka and
 * kafka-python (tests/data/compressed/MANIFEST.txt), recompression from every
 * codec to every codec, and the compacted-topic key check.
 */
#include <check.h>
#include <lz4frame.h>
#include <snappy-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "skiff/compress.h"
#include "skiff/crc32c.h"
#include "skiff/errors.h"
#include "skiff/record.h"
#include "unit_run.h"

#define KIB ((size_t)1024)
#define MIB (KIB * KIB)
#define BOMB_SIZE ((uint64_t)1 << 30) /* 1 GiB of zeros */
#define BOMB_CAP (16 * MIB)
#define BASE_TS 1700000000000LL

static const int all_codecs[] = {SK_COMPRESSION_NONE, SK_COMPRESSION_GZIP, SK_COMPRESSION_SNAPPY, SK_COMPRESSION_LZ4,
                                 SK_COMPRESSION_ZSTD};
#define N_CODECS 5
static const int real_codecs[] = {SK_COMPRESSION_GZIP, SK_COMPRESSION_SNAPPY, SK_COMPRESSION_LZ4, SK_COMPRESSION_ZSTD};

/* Deterministic mixed data: runs of pseudo-random bytes and of repeated text. */
static uint8_t *mixed(size_t n, uint32_t seed)
{
    static const char text[] = "{\"user\":\"alice\",\"action\":\"click\",\"page\":\"/home\"} ";
    uint8_t *p = malloc(n ? n : 1);
    uint32_t x = seed | 1;
    size_t i = 0;
    ck_assert_ptr_nonnull(p);
    while (i < n) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        size_t run = 1 + x % 300;
        bool random = (x >> 9) % 3 == 0;
        for (size_t j = 0; j < run && i < n; j++, i++) {
            if (random) {
                x ^= x << 13, x ^= x >> 17, x ^= x << 5;
                p[i] = (uint8_t)x;
            } else {
                p[i] = (uint8_t)text[j % (sizeof text - 1)];
            }
        }
    }
    return p;
}

/* ---- Codec round trips and framing ---- */

START_TEST(test_round_trip)
{
    static const size_t sizes[] = {0, 1, 64 * KIB + 1, MIB};
    int codec = all_codecs[_i];
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        size_t n = sizes[s];
        uint8_t *in = mixed(n, (uint32_t)(n + 7));
        sk_writer c, d;
        sk_writer_init(&c, 0);
        sk_writer_init(&d, 0);
        sk_write_raw(&d, "pre", 3); /* output is appended */
        ck_assert_int_eq(sk_compress(codec, SK_COMPRESSION_LEVEL_DEFAULT, in, n, &c), SK_COMPRESS_OK);
        ck_assert_int_eq(sk_decompress(codec, c.buf, c.len, n, &d), SK_COMPRESS_OK);
        ck_assert_uint_eq(d.len, n + 3);
        ck_assert_mem_eq(d.buf, "pre", 3);
        if (n)
            ck_assert_mem_eq(d.buf + 3, in, n);
        if (n) { /* one byte less than needed: the cap status, nothing appended */
            ck_assert_int_eq(sk_decompress(codec, c.buf, c.len, n - 1, &d), SK_COMPRESS_TOO_LARGE);
            ck_assert_uint_eq(d.len, n + 3);
        }
        if (codec != SK_COMPRESSION_NONE && n == MIB)
            ck_assert_uint_lt(c.len, n); /* the mixed data does compress */
        sk_writer_free(&c);
        sk_writer_free(&d);
        free(in);
    }
}
END_TEST

START_TEST(test_levels)
{
    static const struct {
        int codec, level;
    } cases[] = {
        {SK_COMPRESSION_GZIP, 1},       {SK_COMPRESSION_GZIP, 9},  {SK_COMPRESSION_GZIP, -1},
        {SK_COMPRESSION_LZ4, 1},        {SK_COMPRESSION_LZ4, 3},   {SK_COMPRESSION_LZ4, 17},
        {SK_COMPRESSION_ZSTD, -131072}, {SK_COMPRESSION_ZSTD, -1}, {SK_COMPRESSION_ZSTD, 19},
        {SK_COMPRESSION_SNAPPY, 42},
    };
    size_t n = 64 * KIB + 1;
    uint8_t *in = mixed(n, 99);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sk_writer c, d;
        sk_writer_init(&c, 0);
        sk_writer_init(&d, 0);
        ck_assert_int_eq(sk_compress(cases[i].codec, cases[i].level, in, n, &c), SK_COMPRESS_OK);
        ck_assert_int_eq(sk_decompress(cases[i].codec, c.buf, c.len, n, &d), SK_COMPRESS_OK);
        ck_assert_uint_eq(d.len, n);
        ck_assert_mem_eq(d.buf, in, n);
        sk_writer_free(&c);
        sk_writer_free(&d);
    }
    free(in);
}
END_TEST

START_TEST(test_bad_arguments)
{
    sk_writer w;
    sk_writer_init(&w, 0);
    ck_assert_int_eq(sk_compress(5, SK_COMPRESSION_LEVEL_DEFAULT, "x", 1, &w), SK_COMPRESS_BAD_ARG);
    ck_assert_int_eq(sk_compress(-1, SK_COMPRESSION_LEVEL_DEFAULT, "x", 1, &w), SK_COMPRESS_BAD_ARG);
    ck_assert_int_eq(sk_compress(SK_COMPRESSION_GZIP, 0, "x", 1, &w), SK_COMPRESS_BAD_ARG);
    ck_assert_int_eq(sk_compress(SK_COMPRESSION_GZIP, 10, "x", 1, &w), SK_COMPRESS_BAD_ARG);
    ck_assert_int_eq(sk_compress(SK_COMPRESSION_LZ4, 18, "x", 1, &w), SK_COMPRESS_BAD_ARG);
    ck_assert_int_eq(sk_compress(SK_COMPRESSION_ZSTD, 23, "x", 1, &w), SK_COMPRESS_BAD_ARG);
    ck_assert_int_eq(sk_compress(SK_COMPRESSION_ZSTD, -131073, "x", 1, &w), SK_COMPRESS_BAD_ARG);
    ck_assert_int_eq(sk_decompress(7, "x", 1, 100, &w), SK_COMPRESS_BAD_ARG);
    ck_assert_uint_eq(w.len, 0);
    ck_assert(sk_compression_level_valid(SK_COMPRESSION_GZIP, -1));
    ck_assert(sk_compression_level_valid(SK_COMPRESSION_SNAPPY, 12345));
    ck_assert(sk_compression_level_valid(SK_COMPRESSION_NONE, SK_COMPRESSION_LEVEL_DEFAULT));
    ck_assert(!sk_compression_level_valid(SK_COMPRESSION_LZ4, 0));
    ck_assert(!sk_compression_level_valid(6, SK_COMPRESSION_LEVEL_DEFAULT));
    sk_writer_free(&w);
}
END_TEST

START_TEST(test_names_and_rules)
{
    ck_assert_str_eq(sk_compression_name(SK_COMPRESSION_NONE), "none");
    ck_assert_str_eq(sk_compression_name(SK_COMPRESSION_GZIP), "gzip");
    ck_assert_str_eq(sk_compression_name(SK_COMPRESSION_SNAPPY), "snappy");
    ck_assert_str_eq(sk_compression_name(SK_COMPRESSION_LZ4), "lz4");
    ck_assert_str_eq(sk_compression_name(SK_COMPRESSION_ZSTD), "zstd");
    ck_assert_str_eq(sk_compression_name(SK_COMPRESSION_PRODUCER), "producer");
    ck_assert_str_eq(sk_compression_name(5), "unknown");
    ck_assert_int_eq(sk_compression_parse("uncompressed"), SK_COMPRESSION_NONE);
    ck_assert_int_eq(sk_compression_parse("none"), SK_COMPRESSION_NONE);
    ck_assert_int_eq(sk_compression_parse("gzip"), SK_COMPRESSION_GZIP);
    ck_assert_int_eq(sk_compression_parse("snappy"), SK_COMPRESSION_SNAPPY);
    ck_assert_int_eq(sk_compression_parse("lz4"), SK_COMPRESSION_LZ4);
    ck_assert_int_eq(sk_compression_parse("zstd"), SK_COMPRESSION_ZSTD);
    ck_assert_int_eq(sk_compression_parse("producer"), SK_COMPRESSION_PRODUCER);
    ck_assert_int_eq(sk_compression_parse("GZIP"), -2);
    ck_assert_int_eq(sk_compression_parse("brotli"), -2);
    ck_assert_int_eq(sk_compression_parse(NULL), -2);

    ck_assert_uint_eq(sk_decompress_cap(1048588), 1048588 * (size_t)64);
    ck_assert_uint_eq(sk_decompress_cap(1000), 8 * MIB);
    ck_assert_uint_eq(sk_decompress_cap(0), 8 * MIB);
    ck_assert_uint_eq(sk_decompress_cap(100 * 1024 * 1024), 1024 * MIB);
    ck_assert_uint_eq(sk_decompress_cap(INT32_MAX), 1024 * MIB);

    ck_assert_int_eq(sk_compress_status_err(SK_COMPRESS_OK), SK_ERR_NONE);
    ck_assert_int_eq(sk_compress_status_err(SK_COMPRESS_CORRUPT), SK_ERR_CORRUPT_MESSAGE);
    ck_assert_int_eq(sk_compress_status_err(SK_COMPRESS_TOO_LARGE), SK_ERR_INVALID_RECORD);
    ck_assert_int_eq(sk_compress_status_err(SK_COMPRESS_BAD_ARG), SK_ERR_INVALID_RECORD);
    ck_assert_int_eq(sk_compress_status_err(SK_COMPRESS_NOMEM), SK_ERR_UNKNOWN_SERVER_ERROR);
    ck_assert_int_eq(SK_ZSTD_MIN_PRODUCE_VERSION, 7);
}
END_TEST

START_TEST(test_gzip_format)
{
    size_t n = 5000;
    uint8_t *in = mixed(n, 3);
    sk_writer c;
    sk_writer_init(&c, 0);
    ck_assert_int_eq(sk_compress(SK_COMPRESSION_GZIP, SK_COMPRESSION_LEVEL_DEFAULT, in, n, &c), 0);
    static const uint8_t head[] = {0x1f, 0x8b, 8, 0}; /* magic, deflate, no flags */
    ck_assert_mem_eq(c.buf, head, sizeof head);
    const uint8_t *t = c.buf + c.len - 8; /* trailer: CRC-32 and size, little-endian */
    uint32_t crc = (uint32_t)t[0] | (uint32_t)t[1] << 8 | (uint32_t)t[2] << 16 | (uint32_t)t[3] << 24;
    uint32_t isize = (uint32_t)t[4] | (uint32_t)t[5] << 8 | (uint32_t)t[6] << 16 | (uint32_t)t[7] << 24;
    ck_assert_uint_eq(crc, crc32(0, in, (uInt)n));
    ck_assert_uint_eq(isize, n);
    sk_writer_free(&c);
    free(in);
}
END_TEST

START_TEST(test_snappy_xerial_format)
{
    size_t n = 64 * KIB + 1;
    uint8_t *in = mixed(n, 4);
    sk_writer c;
    sk_writer_init(&c, 0);
    ck_assert_int_eq(sk_compress(SK_COMPRESSION_SNAPPY, SK_COMPRESSION_LEVEL_DEFAULT, in, n, &c), 0);
    static const uint8_t head[] = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0, 0, 0, 0, 1, 0, 0, 0, 1};
    ck_assert_uint_ge(c.len, sizeof head);
    ck_assert_mem_eq(c.buf, head, sizeof head);
    /* Blocks of 32 KiB of input: 32768, 32768, 1. */
    static const size_t expect[] = {32768, 32768, 1};
    size_t pos = sizeof head, out = 0;
    for (int b = 0; b < 3; b++) {
        ck_assert_uint_le(pos + 4, c.len);
        size_t clen = sk_be32(c.buf + pos), ulen;
        pos += 4;
        ck_assert_int_eq(snappy_uncompressed_length((const char *)c.buf + pos, clen, &ulen), SNAPPY_OK);
        ck_assert_uint_eq(ulen, expect[b]);
        char *blk = malloc(ulen);
        ck_assert_int_eq(snappy_uncompress((const char *)c.buf + pos, clen, blk, &ulen), SNAPPY_OK);
        ck_assert_mem_eq(blk, in + out, ulen);
        free(blk);
        pos += clen;
        out += ulen;
    }
    ck_assert_uint_eq(pos, c.len);
    /* Empty input: the header alone, which decodes to nothing. */
    sk_writer e, d;
    sk_writer_init(&e, 0);
    sk_writer_init(&d, 0);
    ck_assert_int_eq(sk_compress(SK_COMPRESSION_SNAPPY, 0, NULL, 0, &e), 0);
    ck_assert_uint_eq(e.len, sizeof head);
    ck_assert_int_eq(sk_decompress(SK_COMPRESSION_SNAPPY, e.buf, e.len, 10, &d), 0);
    ck_assert_uint_eq(d.len, 0);
    sk_writer_free(&e);
    sk_writer_free(&d);
    sk_writer_free(&c);
    free(in);
}
END_TEST

/* Raw snappy (librdkafka's framing) and hand-built xerial streams, including
 * two streams one after the other. */
START_TEST(test_snappy_raw_and_xerial_decode)
{
    size_t n = 100000;
    uint8_t *in = mixed(n, 5);
    size_t max = snappy_max_compressed_length(n), clen = max;
    char *raw = malloc(max);
    ck_assert_int_eq(snappy_compress((const char *)in, n, raw, &clen), SNAPPY_OK);
    sk_writer d;
    sk_writer_init(&d, 0);
    ck_assert_int_eq(sk_decompress(SK_COMPRESSION_SNAPPY, raw, clen, n, &d), SK_COMPRESS_OK);
    ck_assert_uint_eq(d.len, n);
    ck_assert_mem_eq(d.buf, in, n);
    /* The declared length alone decides the cap, before any allocation. */
    ck_assert_int_eq(sk_decompress(SK_COMPRESSION_SNAPPY, raw, clen, n - 1, &d), SK_COMPRESS_TOO_LARGE);
    ck_assert_uint_eq(d.len, n);

    /* xerial: header, blocks of 40000 + 60000, then a second stream (header
     * + one block of the whole input again). */
    static const uint8_t head[] = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0, 0, 0, 0, 1, 0, 0, 0, 1};
    sk_writer x;
    sk_writer_init(&x, 0);
    const size_t parts[][2] = {{0, 40000}, {40000, 60000}};
    sk_write_raw(&x, head, sizeof head);
    for (int i = 0; i < 2; i++) {
        size_t l = max;
        ck_assert_int_eq(snappy_compress((const char *)in + parts[i][0], parts[i][1], raw, &l), SNAPPY_OK);
        sk_write_u32(&x, (uint32_t)l);
        sk_write_raw(&x, raw, l);
    }
    sk_write_raw(&x, head, sizeof head);
    clen = max;
    ck_assert_int_eq(snappy_compress((const char *)in, n, raw, &clen), SNAPPY_OK);
    sk_write_u32(&x, (uint32_t)clen);
    sk_write_raw(&x, raw, clen);
    sk_writer_free(&d);
    sk_writer_init(&d, 0);
    ck_assert_int_eq(sk_decompress(SK_COMPRESSION_SNAPPY, x.buf, x.len, 2 * n, &d), SK_COMPRESS_OK);
    ck_assert_uint_eq(d.len, 2 * n);
    ck_assert_mem_eq(d.buf, in, n);
    ck_assert_mem_eq(d.buf + n, in, n);
    ck_assert_int_eq(sk_decompress(SK_COMPRESSION_SNAPPY, x.buf, x.len, 2 * n - 1, &d), SK_COMPRESS_TOO_LARGE);
    /* A zero-length block, a block longer than the input, a short header. */
    static const uint8_t zero_block[] = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0};
    static const uint8_t long_block[] = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0, 0, 0, 0,
                                         1,    0,   0,   0,   1,   0,   0,   0, 9, 1, 0};
    ck_assert_int_eq(sk_decompress(SK_COMPRESSION_SNAPPY, zero_block, sizeof zero_block, MIB, &d), SK_COMPRESS_CORRUPT);
    ck_assert_int_eq(sk_decompress(SK_COMPRESSION_SNAPPY, long_block, sizeof long_block, MIB, &d), SK_COMPRESS_CORRUPT);
    ck_assert_int_eq(sk_decompress(SK_COMPRESSION_SNAPPY, head, 12, MIB, &d), SK_COMPRESS_CORRUPT);
    ck_assert_uint_eq(d.len, 2 * n);
    sk_writer_free(&x);
    sk_writer_free(&d);
    free(raw);
    free(in);
}
END_TEST

START_TEST(test_lz4_format)
{
    size_t n = 64 * KIB + 1;
    uint8_t *in = mixed(n, 6);
    sk_writer c;
    sk_writer_init(&c, 0);
    ck_assert_int_eq(sk_compress(SK_COMPRESSION_LZ4, SK_COMPRESSION_LEVEL_DEFAULT, in, n, &c), 0);
    /* Kafka's Lz4BlockOutputStream: magic, FLG 0x60 (version 1, independent
     * blocks, no checksums, no content size), BD 0x40 (64 KiB blocks). */
    static const uint8_t head[] = {0x04, 0x22, 0x4d, 0x18, 0x60, 0x40};
    ck_assert_mem_eq(c.buf, head, sizeof head);
    static const uint8_t end_mark[] = {0, 0, 0, 0}; /* and no content checksum after it */
    ck_assert_mem_eq(c.buf + c.len - 4, end_mark, 4);
    LZ4F_dctx *dctx;
    LZ4F_frameInfo_t info;
    size_t consumed = c.len;
    ck_assert(!LZ4F_isError(LZ4F_createDecompressionContext(&dctx, LZ4F_VERSION)));
    ck_assert(!LZ4F_isError(LZ4F_getFrameInfo(dctx, &info, c.buf, &consumed)));
    ck_assert_int_eq(info.blockSizeID, LZ4F_max64KB);
    ck_assert_int_eq(info.blockMode, LZ4F_blockIndependent);
    ck_assert_int_eq(info.contentChecksumFlag, LZ4F_noContentChecksum);
    ck_assert_int_eq(info.blockChecksumFlag, LZ4F_noBlockChecksum);
    ck_assert_uint_eq(info.contentSize, 0);
    LZ4F_freeDecompressionContext(dctx);
    sk_writer_free(&c);
    free(in);
}
END_TEST

START_TEST(test_zstd_format)
{
    size_t n = 64 * KIB + 1;
    uint8_t *in = mixed(n, 7);
    sk_writer c;
    sk_writer_init(&c, 0);
    ck_assert_int_eq(sk_compress(SK_COMPRESSION_ZSTD, SK_COMPRESSION_LEVEL_DEFAULT, in, n, &c), 0);
    static const uint8_t magic[] = {0x28, 0xb5, 0x2f, 0xfd};
    ck_assert_mem_eq(c.buf, magic, 4);
    ck_assert_uint_eq(ZSTD_getFrameContentSize(c.buf, c.len), n);
    ck_assert_uint_eq(ZSTD_findFrameCompressedSize(c.buf, c.len), c.len);
    /* Two frames one after the other, and a frame without a content size
     * (what a streaming producer writes) with a skippable frame before it. */
    size_t first = c.len;
    ck_assert_int_eq(sk_compress(SK_COMPRESSION_ZSTD, 1, in, n, &c), 0);
    static const uint8_t skippable[] = {0x50, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 'a', 'b', 'c'};
    sk_write_raw(&c, skippable, sizeof skippable);
    ZSTD_CCtx *cctx = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 0);
    size_t bound = ZSTD_compressBound(n);
    uint8_t *p = sk_writer_reserve(&c, bound);
    size_t z = ZSTD_compress2(cctx, p, bound, in, n);
    ck_assert(!ZSTD_isError(z));
    c.len -= bound - z;
    ck_assert_uint_eq(ZSTD_getFrameContentSize(p, z), ZSTD_CONTENTSIZE_UNKNOWN);
    ZSTD_freeCCtx(cctx);
    sk_writer d;
    sk_writer_init(&d, 0);
    ck_assert_int_eq(sk_decompress(SK_COMPRESSION_ZSTD, c.buf, c.len, 3 * n, &d), SK_COMPRESS_OK);
    ck_assert_uint_eq(d.len, 3 * n);
    for (int i = 0; i < 3; i++)
        ck_assert_mem_eq(d.buf + i * n, in, n);
    ck_assert_uint_gt(c.len, first);

    /* Frames whose window the cap does not allow are refused before any
     * output: hand-made frames (no content size) with a 1 MiB window and
     * with a 1 GiB one, each holding one raw block "hello". */
    uint8_t frame[] = {0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x50, 0x29, 0x00, 0x00, 'h', 'e', 'l', 'l', 'o'};
    d.len = 0;
    ck_assert_int_eq(sk_decompress(SK_COMPRESSION_ZSTD, frame, sizeof frame, 100, &d), SK_COMPRESS_OK);
    ck_assert_uint_eq(d.len, 5);
    ck_assert_mem_eq(d.buf, "hello", 5);
    frame[5] = 20 << 3; /* window log 10 + 20 */
    ck_assert_int_eq(sk_decompress(SK_COMPRESSION_ZSTD, frame, sizeof frame, 100, &d), SK_COMPRESS_TOO_LARGE);
    ck_assert_uint_eq(d.len, 5);
    sk_writer_free(&d);
    sk_writer_free(&c);
    free(in);
}
END_TEST

/* ---- Truncation and garbage ---- */

/* The ends of the xerial blocks in `c` (a valid prefix ends there). */
static bool xerial_boundary(const uint8_t *c, size_t len, size_t cut)
{
    size_t pos = 16;
    if (cut == pos)
        return true;
    while (pos + 4 <= len) {
        pos += 4 + sk_be32(c + pos);
        if (cut == pos)
            return true;
    }
    return false;
}

START_TEST(test_truncated)
{
    /* 0..3: gzip, snappy (xerial), lz4, zstd; 4: raw snappy. */
    size_t n = 70000;
    uint8_t *in = mixed(n, 8);
    sk_writer c, d;
    sk_writer_init(&c, 0);
    sk_writer_init(&d, 0);
    int codec = _i < 4 ? real_codecs[_i] : SK_COMPRESSION_SNAPPY;
    if (_i < 4) {
        ck_assert_int_eq(sk_compress(codec, SK_COMPRESSION_LEVEL_DEFAULT, in, n, &c), 0);
    } else {
        size_t l = snappy_max_compressed_length(n);
        uint8_t *p = sk_writer_reserve(&c, l);
        ck_assert_int_eq(snappy_compress((const char *)in, n, (char *)p, &l), SNAPPY_OK);
        c.len = l;
    }
    bool xerial = _i == 1;
    sk_write_raw(&d, "keep", 4);
    int tried = 0;
    for (size_t cut = 0; cut < c.len; cut++) {
        if (cut > 80 && cut + 80 < c.len && cut % 37 != 0)
            continue;
        int st = sk_decompress(codec, c.buf, cut, 4 * n, &d);
        if (xerial && xerial_boundary(c.buf, c.len, cut)) {
            ck_assert_int_eq(st, SK_COMPRESS_OK); /* xerial cannot tell: the record walk will */
            ck_assert_mem_eq(d.buf + 4, in, d.len - 4);
            d.len = 4;
        } else {
            ck_assert_msg(st == SK_COMPRESS_CORRUPT, "codec %d cut %zu: status %d", codec, cut, st);
        }
        ck_assert_uint_eq(d.len, 4);
        tried++;
    }
    ck_assert_int_gt(tried, 160);
    ck_assert_int_eq(sk_decompress(codec, c.buf, c.len, 4 * n, &d), SK_COMPRESS_OK);
    sk_writer_free(&c);
    sk_writer_free(&d);
    free(in);
}
END_TEST

START_TEST(test_garbage)
{
    static const uint8_t junk[] = "this is not compressed at all, whatever the codec says it is";
    sk_writer d;
    sk_writer_init(&d, 0);
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(sk_decompress(real_codecs[i], junk, sizeof junk, MIB, &d), SK_COMPRESS_CORRUPT);
    /* A valid stream followed by junk. */
    for (int i = 0; i < 4; i++) {
        sk_writer c;
        sk_writer_init(&c, 0);
        ck_assert_int_eq(sk_compress(real_codecs[i], SK_COMPRESSION_LEVEL_DEFAULT, junk, sizeof junk, &c), 0);
        sk_write_raw(&c, "\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a", 10);
        ck_assert_int_eq(sk_decompress(real_codecs[i], c.buf, c.len, MIB, &d), SK_COMPRESS_CORRUPT);
        sk_writer_free(&c);
    }
    ck_assert_uint_eq(d.len, 0);
    sk_writer_free(&d);
}
END_TEST

/* ---- Bombs: 1 GiB of zeros, compressed here by streaming ---- */

static const uint8_t zeros[MIB];

/* Room for at least `n` more bytes of compressed output. */
static uint8_t *out_room(sk_writer *w, size_t n)
{
    uint8_t *p = sk_writer_reserve(w, n);
    ck_assert_ptr_nonnull(p);
    w->len -= n;
    return p;
}

static void bomb_gzip(sk_writer *w)
{
    z_stream zs = {0};
    ck_assert_int_eq(deflateInit2(&zs, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
    for (uint64_t done = 0; done < BOMB_SIZE; done += MIB) {
        int flush = done + MIB == BOMB_SIZE ? Z_FINISH : Z_NO_FLUSH;
        zs.next_in = (Bytef *)(uintptr_t)zeros;
        zs.avail_in = MIB;
        int rc;
        do {
            zs.next_out = out_room(w, 64 * KIB);
            zs.avail_out = 64 * KIB;
            rc = deflate(&zs, flush);
            w->len += 64 * KIB - zs.avail_out;
        } while (zs.avail_out == 0 || (flush == Z_FINISH && rc != Z_STREAM_END));
    }
    deflateEnd(&zs);
}

static void bomb_snappy(sk_writer *w)
{
    static const uint8_t head[] = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0, 0, 0, 0, 1, 0, 0, 0, 1};
    size_t blen = snappy_max_compressed_length(MIB);
    char *block = malloc(blen);
    /* xerial blocks may be any size: 1 MiB of zeros per block (snappy's best
     * ratio is about 21, so the whole stream is about 50 MB). */
    ck_assert_int_eq(snappy_compress((const char *)zeros, MIB, block, &blen), SNAPPY_OK);
    sk_write_raw(w, head, sizeof head);
    for (uint64_t done = 0; done < BOMB_SIZE; done += MIB) {
        sk_write_u32(w, (uint32_t)blen);
        sk_write_raw(w, block, blen);
    }
    ck_assert_int_eq(w->err, 0);
    free(block);
}

static void bomb_lz4(sk_writer *w)
{
    LZ4F_cctx *cctx;
    LZ4F_preferences_t prefs = {0};
    prefs.frameInfo.blockSizeID = LZ4F_max4MB;
    ck_assert(!LZ4F_isError(LZ4F_createCompressionContext(&cctx, LZ4F_VERSION)));
    size_t bound = LZ4F_compressBound(MIB, &prefs);
    uint8_t *p = out_room(w, bound);
    size_t r = LZ4F_compressBegin(cctx, p, bound, &prefs);
    ck_assert(!LZ4F_isError(r));
    w->len += r;
    for (uint64_t done = 0; done < BOMB_SIZE; done += MIB) {
        p = out_room(w, bound);
        r = LZ4F_compressUpdate(cctx, p, bound, zeros, MIB, NULL);
        ck_assert(!LZ4F_isError(r));
        w->len += r;
    }
    p = out_room(w, bound);
    r = LZ4F_compressEnd(cctx, p, bound, NULL);
    ck_assert(!LZ4F_isError(r));
    w->len += r;
    LZ4F_freeCompressionContext(cctx);
}

static void bomb_zstd(sk_writer *w)
{
    ZSTD_CCtx *cctx = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, 1);
    for (uint64_t done = 0; done < BOMB_SIZE; done += MIB) {
        ZSTD_EndDirective end = done + MIB == BOMB_SIZE ? ZSTD_e_end : ZSTD_e_continue;
        ZSTD_inBuffer in = {zeros, MIB, 0};
        size_t left;
        do {
            ZSTD_outBuffer out = {out_room(w, 64 * KIB), 64 * KIB, 0};
            left = ZSTD_compressStream2(cctx, &out, &in, end);
            ck_assert(!ZSTD_isError(left));
            w->len += out.pos;
        } while (in.pos < in.size || (end == ZSTD_e_end && left != 0));
    }
    ZSTD_freeCCtx(cctx);
}

static void (*const bombs[])(sk_writer *) = {bomb_gzip, bomb_snappy, bomb_lz4, bomb_zstd};

START_TEST(test_bomb)
{
    sk_writer c, d;
    sk_writer_init(&c, 0);
    bombs[_i](&c);
    sk_writer_init(&d, 100);
    sk_write_raw(&d, "0123456789", 10);
    int st = sk_decompress(real_codecs[_i], c.buf, c.len, BOMB_CAP, &d);
    ck_assert_int_eq(st, SK_COMPRESS_TOO_LARGE);
    ck_assert_uint_eq(d.len, 10);
    ck_assert_mem_eq(d.buf, "0123456789", 10);
    ck_assert_uint_le(d.cap, 10 + BOMB_CAP); /* the buffer never grew past the cap */
    sk_writer_free(&d);

    /* The same stream as a batch's records: the batch helpers map the cap to INVALID_RECORD. */
    sk_writer b;
    sk_writer_init(&b, 0);
    sk_record_spec r = {.key = "k", .key_len = 1, .value = "v", .value_len = 1, .timestamp = BASE_TS};
    sk_batch_spec spec = {
        .producer_id = -1, .producer_epoch = -1, .base_sequence = -1, .attributes = (int16_t)real_codecs[_i]};
    ck_assert_int_eq(sk_batch_build(&b, &spec, &r, 1), 0);
    b.len = SK_BATCH_HEADER_SIZE;
    sk_write_raw(&b, c.buf, c.len);
    sk_put_be32(b.buf + SK_BATCH_LENGTH, (uint32_t)(b.len - SK_BATCH_LOG_OVERHEAD));
    sk_put_be32(b.buf + SK_BATCH_CRC, sk_crc32c(0, b.buf + 21, b.len - 21));
    sk_batch h;
    ck_assert_int_eq(sk_batch_header_parse(&h, b.buf, b.len), 0);
    ck_assert_int_eq(sk_batch_check_records(&h, BOMB_CAP, false), SK_ERR_INVALID_RECORD);
    sk_writer_init(&d, 0);
    ck_assert_int_eq(sk_batch_recompress(&h, SK_COMPRESSION_NONE, 0, BOMB_CAP, false, &d), SK_ERR_INVALID_RECORD);
    ck_assert_uint_eq(d.len, 0);
    sk_writer_free(&d);
    sk_writer_free(&b);
    sk_writer_free(&c);
}
END_TEST

/* A raw snappy block claiming 1 GiB: refused from its length alone. */
START_TEST(test_bomb_snappy_raw_length)
{
    static const uint8_t claim[] = {0x80, 0x80, 0x80, 0x80, 0x04, 0x00, 0xfe, 0x01, 0x00};
    sk_writer d;
    sk_writer_init(&d, 0);
    ck_assert_int_eq(sk_decompress(SK_COMPRESSION_SNAPPY, claim, sizeof claim, BOMB_CAP, &d), SK_COMPRESS_TOO_LARGE);
    ck_assert_ptr_null(d.buf);
    sk_writer_free(&d);
}
END_TEST

/* ---- Record batches ---- */

static sk_batch parse(const uint8_t *b, size_t size)
{
    sk_batch h;
    ck_assert_int_eq(sk_batch_header_parse(&h, b, size), 0);
    ck_assert_uint_eq(h.size, size);
    return h;
}

/* Asserts that two batches (any codecs) hold the same records, field by field. */
static void assert_same_records(const sk_batch *a, const sk_batch *b)
{
    sk_batch_records ra, rb;
    sk_record x, y;
    int rx, ry, n = 0;
    ck_assert_int_eq(sk_batch_records_open(&ra, a, 64 * MIB), SK_ERR_NONE);
    ck_assert_int_eq(sk_batch_records_open(&rb, b, 64 * MIB), SK_ERR_NONE);
    while ((rx = sk_record_next(&ra.it, &x)) == 1) {
        ry = sk_record_next(&rb.it, &y);
        ck_assert_int_eq(ry, 1);
        ck_assert_int_eq(x.attributes, y.attributes);
        ck_assert_int_eq(x.timestamp, y.timestamp);
        ck_assert_int_eq(x.offset_delta, y.offset_delta);
        ck_assert_int_eq(x.offset_delta, n);
        ck_assert_int_eq(x.key_len, y.key_len);
        if (x.key_len > 0)
            ck_assert_mem_eq(x.key, y.key, (size_t)x.key_len);
        ck_assert_int_eq(x.value_len, y.value_len);
        if (x.value_len > 0)
            ck_assert_mem_eq(x.value, y.value, (size_t)x.value_len);
        ck_assert_int_eq(x.header_count, y.header_count);
        ck_assert_uint_eq(x.headers_len, y.headers_len);
        if (x.headers_len)
            ck_assert_mem_eq(x.headers, y.headers, x.headers_len);
        n++;
    }
    ck_assert_int_eq(rx, 0);
    ck_assert_int_eq(sk_record_next(&rb.it, &y), 0);
    ck_assert_int_eq(n, a->record_count);
    sk_batch_records_close(&ra);
    sk_batch_records_close(&rb);
}

/* The four records of tests/data/compressed/MANIFEST.txt, as a builder batch. */
static uint8_t *manifest_batch(size_t *size)
{
    static char big[2088];
    static const sk_record_header_spec h0[] = {{.key = "h1", .key_len = 2, .value = "v1", .value_len = 2}};
    static const sk_record_header_spec h3[] = {{.key = "h-a", .key_len = 3, .value = "A", .value_len = 1},
                                               {.key = "h-b", .key_len = 3, .value = "BB", .value_len = 2}};
    memcpy(big, "value-3:", 8);
    for (int i = 0; i < 80; i++)
        memcpy(big + 8 + 26 * i, "abcdefghijklmnopqrstuvwxyz", 26);
    sk_record_spec recs[4] = {
        {.key = "key-0",
         .key_len = 5,
         .value = "value-0",
         .value_len = 7,
         .timestamp = BASE_TS,
         .headers = h0,
         .header_count = 1},
        {.key = NULL, .value = "value-1", .value_len = 7, .timestamp = BASE_TS + 1},
        {.key = "key-2", .key_len = 5, .value = NULL, .timestamp = BASE_TS + 2},
        {.key = "key-3",
         .key_len = 5,
         .value = big,
         .value_len = sizeof big,
         .timestamp = BASE_TS + 3,
         .headers = h3,
         .header_count = 2},
    };
    sk_batch_spec spec = {.producer_id = -1, .producer_epoch = -1, .base_sequence = -1};
    sk_writer w;
    sk_writer_init(&w, 0);
    ck_assert_int_eq(sk_batch_build(&w, &spec, recs, 4), 0);
    return sk_writer_take(&w, size);
}

static const struct vector {
    const char *file;
    int codec;
} vectors[] = {
    {"librdkafka_gzip.bin", SK_COMPRESSION_GZIP},   {"librdkafka_snappy.bin", SK_COMPRESSION_SNAPPY},
    {"librdkafka_lz4.bin", SK_COMPRESSION_LZ4},     {"librdkafka_zstd.bin", SK_COMPRESSION_ZSTD},
    {"kafka_python_gzip.bin", SK_COMPRESSION_GZIP}, {"kafka_python_snappy.bin", SK_COMPRESSION_SNAPPY},
    {"kafka_python_lz4.bin", SK_COMPRESSION_LZ4},   {"kafka_python_zstd.bin", SK_COMPRESSION_ZSTD},
};
#define N_VECTORS (int)(sizeof vectors / sizeof vectors[0])

static uint8_t *load(const char *name, size_t *size)
{
    char path[512];
    snprintf(path, sizeof path, "%s/compressed/%s", SKIFF_TEST_DATA, name);
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    uint8_t *buf = malloc(64 * KIB);
    *size = fread(buf, 1, 64 * KIB, f);
    fclose(f);
    return buf;
}

static sk_batch_rules lenient_rules(void)
{
    sk_batch_rules r = {.max_message_bytes = 1048588,
                        .timestamp_type = SK_TIMESTAMP_CREATE_TIME,
                        .timestamp_before_max_ms = INT64_MAX,
                        .timestamp_after_max_ms = INT64_MAX,
                        .origin = SK_APPEND_CLIENT};
    return r;
}

START_TEST(test_client_vector)
{
    const struct vector *v = &vectors[_i];
    size_t size, msize;
    uint8_t *b = load(v->file, &size);
    uint8_t *m = manifest_batch(&msize);
    sk_batch_rules rules = lenient_rules();
    sk_batch h, mh = parse(m, msize);
    ck_assert_int_eq(sk_batch_validate(b, size, &rules, BASE_TS, &h), SK_ERR_NONE);
    ck_assert_uint_eq(h.size, size);
    ck_assert_int_eq(h.attributes & SK_BATCH_COMPRESSION_MASK, v->codec);
    ck_assert_int_eq(h.record_count, 4);
    ck_assert_int_eq(h.base_timestamp, BASE_TS);
    ck_assert_int_eq(h.max_timestamp, BASE_TS + 3);
    ck_assert_int_eq(h.producer_id, -1);

    /* The decompressed records are byte for byte what skiff's builder writes. */
    sk_writer d;
    sk_writer_init(&d, 0);
    ck_assert_int_eq(sk_batch_decompress_records(&h, MIB, &d), SK_ERR_NONE);
    ck_assert_uint_eq(d.len, msize - SK_BATCH_HEADER_SIZE);
    ck_assert_mem_eq(d.buf, m + SK_BATCH_HEADER_SIZE, d.len);
    /* Too small a cap. */
    ck_assert_int_eq(sk_batch_decompress_records(&h, d.len - 1, &d), SK_ERR_INVALID_RECORD);
    sk_writer_free(&d);

    /* Record by record, with the values of MANIFEST.txt. */
    sk_batch_records br;
    sk_record rec;
    ck_assert_int_eq(sk_batch_records_open(&br, &h, MIB), SK_ERR_NONE);
    ck_assert_int_eq(sk_record_next(&br.it, &rec), 1);
    ck_assert_int_eq(rec.key_len, 5);
    ck_assert_mem_eq(rec.key, "key-0", 5);
    ck_assert_int_eq(rec.value_len, 7);
    ck_assert_mem_eq(rec.value, "value-0", 7);
    ck_assert_int_eq(rec.header_count, 1);
    ck_assert_uint_eq(rec.headers_len, 6);
    ck_assert_mem_eq(rec.headers, "\x04h1\x04v1", 6);
    ck_assert_int_eq(sk_record_next(&br.it, &rec), 1);
    ck_assert_int_eq(rec.key_len, -1);
    ck_assert_int_eq(rec.timestamp, BASE_TS + 1);
    ck_assert_int_eq(sk_record_next(&br.it, &rec), 1);
    ck_assert_int_eq(rec.value_len, -1);
    ck_assert_ptr_null(rec.value);
    ck_assert_int_eq(sk_record_next(&br.it, &rec), 1);
    ck_assert_int_eq(rec.offset_delta, 3);
    ck_assert_int_eq(rec.value_len, 2088);
    ck_assert_mem_eq(rec.value, "value-3:abcdefghijklmnopqrstuvwxyzabc", 37);
    ck_assert_int_eq(rec.header_count, 2);
    ck_assert_int_eq(sk_record_next(&br.it, &rec), 0);
    sk_batch_records_close(&br);
    assert_same_records(&h, &mh);

    /* Record 1 has no key. */
    ck_assert_int_eq(sk_batch_check_records(&h, MIB, false), SK_ERR_NONE);
    ck_assert_int_eq(sk_batch_check_keys(&h, MIB), SK_ERR_INVALID_RECORD);
    free(m);
    free(b);
}
END_TEST

/* A builder batch of `n` records with varied keys, values and headers;
 * `null_key_at` >= 0 gives that record a null key. Compressed with `codec`
 * through sk_batch_recompress. */
static uint8_t *varied_batch(int n, int codec, int null_key_at, size_t *size)
{
    sk_record_spec *recs = calloc((size_t)n, sizeof *recs);
    char(*keys)[16] = calloc((size_t)n, 16);
    uint8_t *values = mixed((size_t)n * 300, 11);
    static const sk_record_header_spec hdrs[] = {
        {.key = "trace", .key_len = 5, .value = "abc", .value_len = 3},
        {.key = "nil", .key_len = 3, .value = NULL},
    };
    for (int i = 0; i < n; i++) {
        snprintf(keys[i], 16, "key-%d", i % 37);
        recs[i].key = i == null_key_at ? NULL : keys[i];
        recs[i].key_len = strlen(keys[i]);
        recs[i].value = i % 11 == 5 ? NULL : values + i * 300;
        recs[i].value_len = (size_t)(i * 7) % 300;
        recs[i].timestamp = BASE_TS + (i * 13) % 50;
        recs[i].headers = hdrs;
        recs[i].header_count = i % 3;
    }
    sk_batch_spec spec = {.base_offset = 0,
                          .partition_leader_epoch = 7,
                          .attributes = SK_BATCH_TRANSACTIONAL,
                          .producer_id = 4242,
                          .producer_epoch = 3,
                          .base_sequence = 100};
    sk_writer w;
    sk_writer_init(&w, 0);
    ck_assert_int_eq(sk_batch_build(&w, &spec, recs, n), 0);
    free(recs);
    free(keys);
    free(values);
    if (codec == SK_COMPRESSION_NONE)
        return sk_writer_take(&w, size);
    sk_writer out;
    sk_writer_init(&out, 0);
    sk_batch h = parse(w.buf, w.len);
    ck_assert_int_eq(sk_batch_recompress(&h, codec, SK_COMPRESSION_LEVEL_DEFAULT, MIB, false, &out), SK_ERR_NONE);
    sk_writer_free(&w);
    return sk_writer_take(&out, size);
}

/* Checks `nb` rebuilt from `src` with codec `target`: valid, same header but
 * for codec, length and CRC, same records. */
static void assert_rebuilt(const sk_batch *src, const uint8_t *nb, size_t nsize, int target)
{
    sk_batch_rules rules = lenient_rules();
    rules.origin = SK_APPEND_COORDINATOR; /* the varied batches are transactional with a base offset */
    sk_batch h;
    ck_assert_int_eq(sk_batch_validate(nb, nsize, &rules, BASE_TS, &h), SK_ERR_NONE);
    ck_assert(sk_batch_crc_valid(nb, nsize));
    ck_assert_int_eq(h.attributes & SK_BATCH_COMPRESSION_MASK, target);
    ck_assert_int_eq(h.attributes & ~SK_BATCH_COMPRESSION_MASK, src->attributes & ~SK_BATCH_COMPRESSION_MASK);
    ck_assert_mem_eq(nb, src->data, SK_BATCH_LENGTH);                                   /* base offset */
    ck_assert_mem_eq(nb + SK_BATCH_LEADER_EPOCH, src->data + SK_BATCH_LEADER_EPOCH, 5); /* epoch, magic */
    ck_assert_mem_eq(nb + SK_BATCH_LAST_OFFSET_DELTA, src->data + SK_BATCH_LAST_OFFSET_DELTA,
                     SK_BATCH_HEADER_SIZE - SK_BATCH_LAST_OFFSET_DELTA);
    assert_same_records(src, &h);
}

/* Every codec to every codec: from the client vectors and from builder batches. */
START_TEST(test_recompress_matrix)
{
    int target = all_codecs[_i];
    for (int v = 0; v < N_VECTORS + N_CODECS; v++) {
        size_t size;
        uint8_t *b =
            v < N_VECTORS ? load(vectors[v].file, &size) : varied_batch(120, all_codecs[v - N_VECTORS], -1, &size);
        sk_batch src = parse(b, size);
        sk_writer out;
        sk_writer_init(&out, 0);
        sk_write_raw(&out, "xyz", 3);
        ck_assert_int_eq(sk_batch_recompress(&src, target, SK_COMPRESSION_LEVEL_DEFAULT, MIB, false, &out),
                         SK_ERR_NONE);
        ck_assert_mem_eq(out.buf, "xyz", 3);
        assert_rebuilt(&src, out.buf + 3, out.len - 3, target);
        /* And on to the next codec, to check a rebuilt batch rebuilds. */
        int next = all_codecs[(_i + 1) % N_CODECS];
        sk_batch mid = parse(out.buf + 3, out.len - 3);
        sk_writer again;
        sk_writer_init(&again, 0);
        ck_assert_int_eq(sk_batch_recompress(&mid, next, SK_COMPRESSION_LEVEL_DEFAULT, MIB, false, &again),
                         SK_ERR_NONE);
        assert_rebuilt(&src, again.buf, again.len, next);
        sk_writer_free(&again);
        sk_writer_free(&out);
        free(b);
    }
}
END_TEST

/* Rebuilding to the same codec and level skiff would write is deterministic. */
START_TEST(test_recompress_stable)
{
    for (int c = 0; c < N_CODECS; c++) {
        size_t s1, s2;
        uint8_t *b1 = varied_batch(50, all_codecs[c], -1, &s1);
        uint8_t *b2 = varied_batch(50, all_codecs[c], -1, &s2);
        ck_assert_uint_eq(s1, s2);
        ck_assert_mem_eq(b1, b2, s1);
        free(b1);
        free(b2);
    }
}
END_TEST

START_TEST(test_keys)
{
    int codec = all_codecs[_i];
    size_t size;
    uint8_t *ok = varied_batch(60, codec, -1, &size);
    sk_batch h = parse(ok, size);
    ck_assert_int_eq(sk_batch_check_keys(&h, MIB), SK_ERR_NONE);
    sk_writer out;
    sk_writer_init(&out, 0);
    ck_assert_int_eq(sk_batch_recompress(&h, SK_COMPRESSION_ZSTD, 3, MIB, true, &out), SK_ERR_NONE);
    free(ok);
    uint8_t *bad = varied_batch(60, codec, 59, &size);
    h = parse(bad, size);
    ck_assert_int_eq(sk_batch_check_keys(&h, MIB), SK_ERR_INVALID_RECORD);
    ck_assert_int_eq(sk_batch_check_records(&h, MIB, false), SK_ERR_NONE);
    size_t before = out.len;
    ck_assert_int_eq(sk_batch_recompress(&h, SK_COMPRESSION_GZIP, 6, MIB, true, &out), SK_ERR_INVALID_RECORD);
    ck_assert_uint_eq(out.len, before);
    /* The uncompressed path agrees with batch.c's compacted-topic rule. */
    if (codec == SK_COMPRESSION_NONE) {
        sk_batch_rules rules = lenient_rules();
        sk_batch v;
        rules.origin = SK_APPEND_COORDINATOR;
        rules.compact = true;
        ck_assert_int_eq(sk_batch_validate(bad, size, &rules, BASE_TS, &v), SK_ERR_INVALID_RECORD);
    }
    sk_writer_free(&out);
    free(bad);
}
END_TEST

START_TEST(test_record_errors)
{
    /* KIP-467: the records LogValidator rejects one by one, in any codec. */
    int codec = all_codecs[_i];
    size_t size;
    uint8_t *bad = varied_batch(60, codec, 17, &size);
    sk_batch h = parse(bad, size);
    sk_batch_rules rules = lenient_rules();
    rules.compact = true;
    sk_record_error errs[4];
    ck_assert_int_eq(sk_batch_record_errors(&h, &rules, BASE_TS, MIB, NULL, 0), 1);
    ck_assert_int_eq(sk_batch_record_errors(&h, &rules, BASE_TS, MIB, errs, 4), 1);
    ck_assert_int_eq(errs[0].index, 17);
    ck_assert_int_eq(errs[0].code, SK_ERR_INVALID_RECORD);
    /* Timestamps: varied_batch stamps record i at BASE_TS + (13 i) % 50; a
     * window of 30 ms after BASE_TS + 49 leaves out those below BASE_TS + 19. */
    rules.timestamp_before_max_ms = 30;
    int32_t n = sk_batch_record_errors(&h, &rules, BASE_TS + 49, MIB, NULL, 0);
    int32_t want = 0;
    for (int i = 0; i < 60; i++)
        want += i == 17 || (13 * i) % 50 < 19;
    ck_assert_int_eq(n, want);
    ck_assert_int_eq(sk_batch_record_errors(&h, &rules, BASE_TS + 49, MIB, errs, 4), n);
    /* Records 0 (+0 ms), 1 (+13) and 4 (+52 % 50 = 2) come first. */
    ck_assert_int_eq(errs[0].index, 0);
    ck_assert_int_eq(errs[0].code, SK_ERR_INVALID_TIMESTAMP);
    ck_assert_int_eq(errs[0].timestamp, BASE_TS);
    ck_assert_int_eq(errs[1].index, 1);
    ck_assert_int_eq(errs[1].timestamp, BASE_TS + 13);
    ck_assert_int_eq(errs[2].index, 4);
    free(bad);
    /* A batch that cannot be read has none to name. */
    uint8_t junk[SK_BATCH_HEADER_SIZE + 4] = {0};
    sk_put_be32(junk + SK_BATCH_LENGTH, sizeof junk - SK_BATCH_LOG_OVERHEAD);
    junk[SK_BATCH_MAGIC] = 2;
    junk[SK_BATCH_ATTRIBUTES + 1] = (uint8_t)codec;
    sk_put_be32(junk + SK_BATCH_RECORD_COUNT, 3);
    h = parse(junk, sizeof junk);
    ck_assert_int_le(sk_batch_record_errors(&h, &rules, BASE_TS, MIB, errs, 4), 0);
}
END_TEST

/* Builds a batch with codec `codec` whose record area is `area` compressed
 * (no check that it walks), count as given. */
static uint8_t *batch_with_area(int codec, const uint8_t *area, size_t len, int32_t count, size_t *size)
{
    sk_writer w;
    sk_record_spec r = {.key = "k", .key_len = 1, .value = "v", .value_len = 1, .timestamp = BASE_TS};
    sk_batch_spec spec = {.producer_id = -1, .producer_epoch = -1, .base_sequence = -1, .attributes = (int16_t)codec};
    sk_writer_init(&w, 0);
    ck_assert_int_eq(sk_batch_build(&w, &spec, &r, 1), 0);
    w.len = SK_BATCH_HEADER_SIZE;
    ck_assert_int_eq(sk_compress(codec, SK_COMPRESSION_LEVEL_DEFAULT, area, len, &w), 0);
    sk_put_be32(w.buf + SK_BATCH_LENGTH, (uint32_t)(w.len - SK_BATCH_LOG_OVERHEAD));
    sk_put_be32(w.buf + SK_BATCH_RECORD_COUNT, (uint32_t)count);
    sk_put_be32(w.buf + SK_BATCH_LAST_OFFSET_DELTA, (uint32_t)(count - 1));
    sk_put_be32(w.buf + SK_BATCH_CRC, sk_crc32c(0, w.buf + 21, w.len - 21));
    return sk_writer_take(&w, size);
}

START_TEST(test_bad_records_inside)
{
    int codec = all_codecs[_i];
    size_t msize, size;
    uint8_t *m = manifest_batch(&msize);
    const uint8_t *area = m + SK_BATCH_HEADER_SIZE;
    size_t alen = msize - SK_BATCH_HEADER_SIZE;
    struct {
        size_t len;
        int32_t count;
        int16_t err;
    } cases[] = {
        {alen, 4, SK_ERR_NONE},
        {alen, 5, SK_ERR_INVALID_RECORD},     /* premature end */
        {alen, 3, SK_ERR_INVALID_RECORD},     /* bytes after the last record */
        {alen - 1, 4, SK_ERR_INVALID_RECORD}, /* last record cut */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t *b = batch_with_area(codec, area, cases[i].len, cases[i].count, &size);
        sk_batch h = parse(b, size);
        ck_assert_int_eq(sk_batch_check_records(&h, MIB, false), cases[i].err);
        sk_writer out;
        sk_writer_init(&out, 0);
        ck_assert_int_eq(sk_batch_recompress(&h, SK_COMPRESSION_LZ4, 9, MIB, false, &out), cases[i].err);
        if (cases[i].err != SK_ERR_NONE)
            ck_assert_uint_eq(out.len, 0);
        sk_writer_free(&out);
        free(b);
    }
    /* Offset deltas 0, 2, 2, 3: rejected (Kafka would renumber them). Record 0
     * is 24 bytes after its one-byte length; record 1's offset delta is its
     * fourth byte (zig-zag 1 = 2). */
    uint8_t *copy = malloc(alen);
    memcpy(copy, area, alen);
    size_t rec1 = 1 + (size_t)(area[0] >> 1);
    ck_assert_uint_eq(rec1, 25);
    ck_assert_int_eq(copy[rec1 + 3], 2);
    copy[rec1 + 3] = 4;
    uint8_t *b = batch_with_area(codec, copy, alen, 4, &size);
    sk_batch h = parse(b, size);
    ck_assert_int_eq(sk_batch_check_records(&h, MIB, false), SK_ERR_INVALID_RECORD);
    free(b);
    free(copy);
    free(m);
}
END_TEST

START_TEST(test_corrupt_stream_in_batch)
{
    int codec = real_codecs[_i];
    size_t size;
    uint8_t *b = varied_batch(40, codec, -1, &size);
    /* Overwrite the start of the stream (magic or header; fix the CRC). */
    memset(b + SK_BATCH_HEADER_SIZE, 0xff, 5);
    sk_put_be32(b + SK_BATCH_CRC, sk_crc32c(0, b + 21, size - 21));
    sk_batch h = parse(b, size);
    ck_assert_int_eq(sk_batch_check_records(&h, MIB, false), SK_ERR_CORRUPT_MESSAGE);
    /* Cut the area short: the stream itself is truncated. */
    size_t cut = SK_BATCH_HEADER_SIZE + 20;
    sk_put_be32(b + SK_BATCH_LENGTH, (uint32_t)(cut - SK_BATCH_LOG_OVERHEAD));
    h = parse(b, cut);
    ck_assert_int_eq(sk_batch_check_records(&h, MIB, false), SK_ERR_CORRUPT_MESSAGE);
    /* A codec id above 4. */
    b[SK_BATCH_ATTRIBUTES + 1] = (uint8_t)((b[SK_BATCH_ATTRIBUTES + 1] & ~7) | 6);
    h = parse(b, cut);
    ck_assert_int_eq(sk_batch_check_records(&h, MIB, false), SK_ERR_INVALID_RECORD);
    free(b);
}
END_TEST

START_TEST(test_needs_recompression)
{
    uint8_t hdr[SK_BATCH_HEADER_SIZE] = {0};
    sk_batch b;
    struct {
        int16_t attributes;
        int topic;
        bool expect;
    } cases[] = {
        {SK_COMPRESSION_GZIP, SK_COMPRESSION_PRODUCER, false},
        {SK_COMPRESSION_NONE, SK_COMPRESSION_PRODUCER, false},
        {SK_COMPRESSION_GZIP, SK_COMPRESSION_GZIP, false},
        {SK_COMPRESSION_GZIP, SK_COMPRESSION_ZSTD, true},
        {SK_COMPRESSION_LZ4, SK_COMPRESSION_NONE, true},
        {SK_COMPRESSION_NONE, SK_COMPRESSION_SNAPPY, true},
        {SK_BATCH_CONTROL | SK_COMPRESSION_NONE, SK_COMPRESSION_ZSTD, false},
        {SK_BATCH_CONTROL | SK_COMPRESSION_GZIP, SK_COMPRESSION_NONE, true},
        {SK_BATCH_TRANSACTIONAL | SK_COMPRESSION_NONE, SK_COMPRESSION_LZ4, true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sk_put_be16(hdr + SK_BATCH_ATTRIBUTES, (uint16_t)cases[i].attributes);
        ck_assert_int_eq(sk_batch_header_parse(&b, hdr, sizeof hdr), 0);
        ck_assert_msg(sk_batch_needs_recompression(&b, cases[i].topic) == cases[i].expect, "case %zu", i);
    }
}
END_TEST

START_TEST(test_uncompressed_batch_helpers)
{
    size_t msize;
    uint8_t *m = manifest_batch(&msize);
    sk_batch h = parse(m, msize);
    sk_writer d;
    sk_writer_init(&d, 0);
    ck_assert_int_eq(sk_batch_decompress_records(&h, MIB, &d), SK_ERR_NONE);
    ck_assert_uint_eq(d.len, msize - SK_BATCH_HEADER_SIZE);
    ck_assert_mem_eq(d.buf, m + SK_BATCH_HEADER_SIZE, d.len);
    ck_assert_int_eq(sk_batch_decompress_records(&h, 100, &d), SK_ERR_INVALID_RECORD);
    ck_assert_uint_eq(d.len, msize - SK_BATCH_HEADER_SIZE);
    /* none -> none is a copy with the same CRC. */
    sk_writer_free(&d);
    sk_writer_init(&d, 0);
    ck_assert_int_eq(sk_batch_recompress(&h, SK_COMPRESSION_NONE, 0, MIB, false, &d), SK_ERR_NONE);
    ck_assert_uint_eq(d.len, msize);
    ck_assert_mem_eq(d.buf, m, msize);
    /* A bad target or level is the broker's error. */
    ck_assert_int_eq(sk_batch_recompress(&h, 5, 0, MIB, false, &d), SK_ERR_UNKNOWN_SERVER_ERROR);
    ck_assert_int_eq(sk_batch_recompress(&h, SK_COMPRESSION_GZIP, 11, MIB, false, &d), SK_ERR_UNKNOWN_SERVER_ERROR);
    ck_assert_uint_eq(d.len, msize);
    /* Too short to be a batch. */
    h.size = 20;
    ck_assert_int_eq(sk_batch_check_records(&h, MIB, false), SK_ERR_CORRUPT_MESSAGE);
    sk_writer_free(&d);
    free(m);
}
END_TEST

static Suite *compress_suite(void)
{
    Suite *s = suite_create("compress");
    TCase *tc = tcase_create("codecs");
    tcase_add_loop_test(tc, test_round_trip, 0, N_CODECS);
    tcase_add_test(tc, test_levels);
    tcase_add_test(tc, test_bad_arguments);
    tcase_add_test(tc, test_names_and_rules);
    tcase_add_test(tc, test_gzip_format);
    tcase_add_test(tc, test_snappy_xerial_format);
    tcase_add_test(tc, test_snappy_raw_and_xerial_decode);
    tcase_add_test(tc, test_lz4_format);
    tcase_add_test(tc, test_zstd_format);
    tcase_add_loop_test(tc, test_truncated, 0, 5);
    tcase_add_test(tc, test_garbage);
    suite_add_tcase(s, tc);

    tc = tcase_create("bombs");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_bomb, 0, 4);
    tcase_add_test(tc, test_bomb_snappy_raw_length);
    suite_add_tcase(s, tc);

    tc = tcase_create("batches");
    tcase_add_loop_test(tc, test_client_vector, 0, N_VECTORS);
    tcase_add_loop_test(tc, test_recompress_matrix, 0, N_CODECS);
    tcase_add_test(tc, test_recompress_stable);
    tcase_add_loop_test(tc, test_keys, 0, N_CODECS);
    tcase_add_loop_test(tc, test_record_errors, 0, N_CODECS);
    tcase_add_loop_test(tc, test_bad_records_inside, 0, N_CODECS);
    tcase_add_loop_test(tc, test_corrupt_stream_in_batch, 0, 4);
    tcase_add_test(tc, test_needs_recompression);
    tcase_add_test(tc, test_uncompressed_batch_helpers);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return sk_unit_run(compress_suite());
}
