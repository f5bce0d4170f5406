/*
 * Builds uncompressed record batches v2 from record specs: the layout of
 * include/skiff/record.h with lengths, deltas, max timestamp and CRC filled
 * in. Used by tests, benchmarks and the broker's own writers.
 */
#include "skiff/record.h"

#include "skiff/crc32c.h"

/* Size of a record's body: everything after its length varint. */
static size_t record_body_size(const sk_record_spec *r, int64_t base_ts, int32_t delta)
{
    size_t n = 1 + sk_varlong_size(r->timestamp - base_ts) + sk_varint_size(delta);
    n += r->key ? sk_varint_size((int32_t)r->key_len) + r->key_len : sk_varint_size(-1);
    n += r->value ? sk_varint_size((int32_t)r->value_len) + r->value_len : sk_varint_size(-1);
    n += sk_varint_size(r->header_count);
    for (int32_t i = 0; i < r->header_count; i++) {
        const sk_record_header_spec *h = &r->headers[i];
        n += sk_varint_size((int32_t)h->key_len) + h->key_len;
        n += h->value ? sk_varint_size((int32_t)h->value_len) + h->value_len : sk_varint_size(-1);
    }
    return n;
}

static void write_sized(sk_writer *w, const void *p, size_t len)
{
    if (!p) {
        sk_write_varint(w, -1);
        return;
    }
    sk_write_varint(w, (int32_t)len);
    sk_write_raw(w, p, len);
}

int sk_batch_build(sk_writer *w, const sk_batch_spec *spec, const sk_record_spec *records, int32_t n)
{
    if (n < 1)
        return -1;
    size_t start = w->len;
    int64_t base_ts = records[0].timestamp;
    int64_t max_ts = records[0].timestamp;
    for (int32_t i = 1; i < n; i++)
        if (records[i].timestamp > max_ts)
            max_ts = records[i].timestamp;

    sk_write_i64(w, spec->base_offset);
    sk_write_i32(w, 0); /* batch length, filled below */
    sk_write_i32(w, spec->partition_leader_epoch);
    sk_write_i8(w, 2);
    sk_write_u32(w, 0); /* CRC, filled below */
    sk_write_i16(w, spec->attributes);
    sk_write_i32(w, n - 1);
    sk_write_i64(w, base_ts);
    sk_write_i64(w, max_ts);
    sk_write_i64(w, spec->producer_id);
    sk_write_i16(w, spec->producer_epoch);
    sk_write_i32(w, spec->base_sequence);
    sk_write_i32(w, n);
    for (int32_t i = 0; i < n; i++) {
        const sk_record_spec *r = &records[i];
        sk_write_varint(w, (int32_t)record_body_size(r, base_ts, i));
        sk_write_i8(w, 0);
        sk_write_varlong(w, r->timestamp - base_ts);
        sk_write_varint(w, i);
        write_sized(w, r->key, r->key_len);
        write_sized(w, r->value, r->value_len);
        sk_write_varint(w, r->header_count);
        for (int32_t h = 0; h < r->header_count; h++) {
            sk_write_varint(w, (int32_t)r->headers[h].key_len);
            sk_write_raw(w, r->headers[h].key, r->headers[h].key_len);
            write_sized(w, r->headers[h].value, r->headers[h].value_len);
        }
    }
    if (w->err)
        return -1;
    uint8_t *b = w->buf + start;
    size_t size = w->len - start;
    sk_put_be32(b + SK_BATCH_LENGTH, (uint32_t)(size - SK_BATCH_LOG_OVERHEAD));
    sk_put_be32(b + SK_BATCH_CRC, sk_crc32c(0, b + SK_BATCH_ATTRIBUTES, size - SK_BATCH_ATTRIBUTES));
    return 0;
}
