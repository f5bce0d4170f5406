/*
 * libFuzzer target for the codecs and the batch-level helpers of
 * include/skiff/compress.h.
 *
 * The first byte picks what runs: bits 0-2 the codec id (5-7 are invalid ids
 * and must be refused), bit 7 the mode.
 *   mode 0: the rest is a compressed stream; decompress it with a 1 MiB cap.
 *           On success the output must fit the cap and survive a round trip
 *           through the same codec; on failure nothing may be appended.
 *   mode 1: the rest, after one byte giving the record count (1-16), is the
 *           record area of a batch with that codec; walk its records (keys
 *           required or not, bit 6), and rebuild it with the codec in bits
 *           3-5 (mod 5). A rebuilt batch must have a valid CRC and walk again.
 * Seeds: tests/data/compressed/fuzz_seeds (the captured record areas behind
 * a first byte; written by tests/data/compressed/capture.py).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "skiff/compress.h"
#include "skiff/crc32c.h"
#include "skiff/errors.h"
#include "skiff/record.h"

#define FUZZ_CAP ((size_t)1 << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
    if (!ok)
        abort();
}

static void stream_mode(int codec, const uint8_t *data, size_t size)
{
    sk_writer out;
    sk_writer_init(&out, 0);
    int st = sk_decompress(codec, data, size, FUZZ_CAP, &out);
    if (st != SK_COMPRESS_OK) {
        check(out.len == 0);
        check(st == SK_COMPRESS_CORRUPT || st == SK_COMPRESS_TOO_LARGE || st == SK_COMPRESS_BAD_ARG);
        check((st == SK_COMPRESS_BAD_ARG) == (codec >= SK_COMPRESSION_COUNT));
    } else {
        check(out.len <= FUZZ_CAP && out.cap <= FUZZ_CAP);
        sk_writer again, back;
        sk_writer_init(&again, 0);
        sk_writer_init(&back, 0);
        check(sk_compress(codec, SK_COMPRESSION_LEVEL_DEFAULT, out.buf, out.len, &again) == SK_COMPRESS_OK);
        check(sk_decompress(codec, again.buf, again.len, out.len, &back) == SK_COMPRESS_OK);
        check(back.len == out.len && (out.len == 0 || memcmp(back.buf, out.buf, out.len) == 0));
        sk_writer_free(&again);
        sk_writer_free(&back);
    }
    sk_writer_free(&out);
}

static void batch_mode(int codec, int target, bool require_keys, const uint8_t *data, size_t size)
{
    if (size < 1)
        return;
    int32_t count = 1 + data[0] % 16;
    data++, size--;

    sk_writer w;
    sk_writer_init(&w, SK_BATCH_HEADER_SIZE + size);
    sk_write_i64(&w, 0); /* base offset */
    sk_write_i32(&w, (int32_t)(SK_BATCH_HEADER_SIZE - SK_BATCH_LOG_OVERHEAD + size));
    sk_write_i32(&w, 0); /* partition leader epoch */
    sk_write_i8(&w, 2);  /* magic */
    sk_write_u32(&w, 0); /* CRC, below */
    sk_write_i16(&w, (int16_t)codec);
    sk_write_i32(&w, count - 1);
    sk_write_i64(&w, 1700000000000LL);
    sk_write_i64(&w, 1700000000000LL);
    sk_write_i64(&w, -1);
    sk_write_i16(&w, -1);
    sk_write_i32(&w, -1);
    sk_write_i32(&w, count);
    sk_write_raw(&w, data, size);
    check(!w.err);
    sk_put_be32(w.buf + SK_BATCH_CRC, sk_crc32c(0, w.buf + SK_BATCH_ATTRIBUTES, w.len - SK_BATCH_ATTRIBUTES));

    sk_batch b;
    check(sk_batch_header_parse(&b, w.buf, w.len) == 0 && b.size == w.len);
    int16_t err = sk_batch_check_records(&b, FUZZ_CAP, require_keys);
    sk_writer out;
    sk_writer_init(&out, 0);
    int16_t rebuilt = sk_batch_recompress(&b, target, SK_COMPRESSION_LEVEL_DEFAULT, FUZZ_CAP, require_keys, &out);
    check(rebuilt == err);
    if (rebuilt == SK_ERR_NONE) {
        sk_batch nb;
        check(sk_batch_header_parse(&nb, out.buf, out.len) == 0 && nb.size == out.len);
        check(sk_batch_crc_valid(out.buf, out.len));
        check((nb.attributes & SK_BATCH_COMPRESSION_MASK) == target);
        check(sk_batch_check_records(&nb, FUZZ_CAP, require_keys) == SK_ERR_NONE);
    } else {
        check(out.len == 0);
    }
    sk_writer_free(&out);
    sk_writer_free(&w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int codec = data[0] & 7;
    int target = ((data[0] >> 3) & 7) % SK_COMPRESSION_COUNT;
    bool require_keys = (data[0] & 0x40) != 0;
    if (data[0] & 0x80)
        batch_mode(codec, target, require_keys, data + 1, size - 1);
    else
        stream_mode(codec, data + 1, size - 1);
    return 0;
}
