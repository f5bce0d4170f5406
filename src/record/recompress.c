/*
 * Batch-level compression helpers (include/skiff/compress.h): decompress the
 * record area of a batch, iterate its records whatever the codec, check the
 * records the way Kafka's LogValidator does on its compressed path (record
 * count, offset deltas, keys of compacted topics), and rebuild a batch with
 * another codec, keeping every header field and the records byte for byte.
 *
 * A compressed batch is inflated into one buffer laid out as an uncompressed
 * batch (its own 61-byte header, compression bits cleared and length fitted,
 * then the records), so record.h's iterator walks it unchanged and, when the
 * target is "none", that buffer is already the rebuilt batch but for its CRC.
 */
#include "skiff/compress.h"

#include "skiff/crc32c.h"
#include "skiff/errors.h"

/* Largest batch length field: an int32. */
#define BATCH_LENGTH_MAX ((size_t)INT32_MAX)

static int batch_codec(const sk_batch *b)
{
    return b->attributes & SK_BATCH_COMPRESSION_MASK;
}

/* Writes the length, attributes and CRC of the batch at `h` (size bytes). */
static void finish_header(uint8_t *h, size_t size, int16_t attributes)
{
    sk_put_be32(h + SK_BATCH_LENGTH, (uint32_t)(size - SK_BATCH_LOG_OVERHEAD));
    sk_put_be16(h + SK_BATCH_ATTRIBUTES, (uint16_t)attributes);
    sk_put_be32(h + SK_BATCH_CRC, sk_crc32c(0, h + SK_BATCH_ATTRIBUTES, size - SK_BATCH_ATTRIBUTES));
}

int16_t sk_batch_decompress_records(const sk_batch *b, size_t cap, sk_writer *out)
{
    if (b->size < SK_BATCH_HEADER_SIZE)
        return SK_ERR_CORRUPT_MESSAGE;
    int st = sk_decompress(batch_codec(b), b->data + SK_BATCH_HEADER_SIZE, b->size - SK_BATCH_HEADER_SIZE, cap, out);
    return sk_compress_status_err(st);
}

int16_t sk_batch_records_open(sk_batch_records *br, const sk_batch *b, size_t cap)
{
    sk_writer_init(&br->inflated, 0);
    if (b->size < SK_BATCH_HEADER_SIZE)
        return SK_ERR_CORRUPT_MESSAGE;
    if (batch_codec(b) == SK_COMPRESSION_NONE) {
        br->batch = *b;
    } else {
        sk_write_raw(&br->inflated, b->data, SK_BATCH_HEADER_SIZE);
        int16_t err =
            br->inflated.err ? SK_ERR_UNKNOWN_SERVER_ERROR : sk_batch_decompress_records(b, cap, &br->inflated);
        if (err == SK_ERR_NONE && br->inflated.len - SK_BATCH_LOG_OVERHEAD > BATCH_LENGTH_MAX)
            err = SK_ERR_INVALID_RECORD; /* only with a cap above 2 GiB */
        if (err != SK_ERR_NONE) {
            sk_writer_free(&br->inflated);
            return err;
        }
        uint8_t *h = br->inflated.buf;
        finish_header(h, br->inflated.len, (int16_t)(b->attributes & ~SK_BATCH_COMPRESSION_MASK));
        sk_batch_header_parse(&br->batch, h, br->inflated.len);
    }
    sk_record_iter_init(&br->it, &br->batch);
    return SK_ERR_NONE;
}

void sk_batch_records_close(sk_batch_records *br)
{
    sk_writer_free(&br->inflated);
}

/* Walks the opened records: exactly record_count of them, well formed, with
 * offset deltas 0..n-1 and, if asked, keys. */
static int16_t walk(sk_batch_records *br, bool require_keys)
{
    sk_record rec;
    int32_t i = 0;
    bool missing_key = false;
    int rc;
    while ((rc = sk_record_next(&br->it, &rec)) == 1) {
        if (rec.offset_delta != i)
            return SK_ERR_INVALID_RECORD;
        if (require_keys && rec.key_len < 0)
            missing_key = true;
        i++;
    }
    if (rc < 0 || i != br->batch.record_count || missing_key)
        return SK_ERR_INVALID_RECORD;
    return SK_ERR_NONE;
}

int16_t sk_batch_check_records(const sk_batch *b, size_t cap, bool require_keys)
{
    sk_batch_records br;
    int16_t err = sk_batch_records_open(&br, b, cap);
    if (err != SK_ERR_NONE)
        return err;
    err = walk(&br, require_keys);
    sk_batch_records_close(&br);
    return err;
}

int32_t sk_batch_record_errors(const sk_batch *b, const sk_batch_rules *rules, int64_t now_ms, size_t cap,
                               sk_record_error *out, int32_t max)
{
    sk_batch_records br;
    if (sk_batch_records_open(&br, b, cap) != SK_ERR_NONE)
        return -1;
    sk_record rec;
    int32_t n = 0;
    for (int32_t i = 0; sk_record_next(&br.it, &rec) == 1; i++) {
        int16_t err = sk_record_check(&br.batch, &rec, rules, now_ms);
        if (err != SK_ERR_NONE && n++ < max)
            out[n - 1] = (sk_record_error){i, err, rec.timestamp};
    }
    sk_batch_records_close(&br);
    return n;
}

int16_t sk_batch_check_keys(const sk_batch *b, size_t cap)
{
    return sk_batch_check_records(b, cap, true);
}

bool sk_batch_needs_recompression(const sk_batch *b, int topic_codec)
{
    int codec = batch_codec(b);
    if (topic_codec == SK_COMPRESSION_PRODUCER || topic_codec == codec)
        return false;
    /* LogValidator: "Do not compress control records unless they are written compressed". */
    return !(codec == SK_COMPRESSION_NONE && (b->attributes & SK_BATCH_CONTROL));
}

int16_t sk_batch_recompress(const sk_batch *b, int target, int level, size_t cap, bool require_keys, sk_writer *out)
{
    /* A bad target or level is the broker's configuration, not the client's data. */
    if (!sk_compression_level_valid(target, level))
        return SK_ERR_UNKNOWN_SERVER_ERROR;
    sk_batch_records br;
    int16_t err = sk_batch_records_open(&br, b, cap);
    if (err != SK_ERR_NONE)
        return err;
    err = walk(&br, require_keys);
    if (err == SK_ERR_NONE) {
        size_t start = out->len;
        sk_write_raw(out, br.batch.data, SK_BATCH_HEADER_SIZE);
        int st = out->err ? SK_COMPRESS_NOMEM
                          : sk_compress(target, level, br.batch.data + SK_BATCH_HEADER_SIZE,
                                        br.batch.size - SK_BATCH_HEADER_SIZE, out);
        size_t size = out->len - start;
        if (st != SK_COMPRESS_OK) {
            err = SK_ERR_UNKNOWN_SERVER_ERROR;
        } else if (size - SK_BATCH_LOG_OVERHEAD > BATCH_LENGTH_MAX) {
            err = SK_ERR_MESSAGE_TOO_LARGE;
        } else {
            int16_t attributes = (int16_t)((b->attributes & ~SK_BATCH_COMPRESSION_MASK) | target);
            finish_header(out->buf + start, size, attributes);
        }
        if (err != SK_ERR_NONE)
            out->len = start;
    }
    sk_batch_records_close(&br);
    return err;
}
