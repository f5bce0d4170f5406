/*
 * Record batch v2: header view, validation of untrusted batches, in-place
 * offset assignment and record iteration. The format and every error code
 * are described in include/skiff/record.h; Kafka's reference is
 * DefaultRecordBatch/DefaultRecord (layout) and LogValidator (checks).
 */
#include "skiff/record.h"

#include "skiff/crc32c.h"
#include "skiff/errors.h"

#define SK_BATCH_MAX_CODEC 4 /* zstd */

int sk_batch_header_parse(sk_batch *b, const uint8_t *p, size_t avail)
{
    if (avail < SK_BATCH_HEADER_SIZE)
        return -1;
    b->data = p;
    b->base_offset = (int64_t)sk_be64(p + SK_BATCH_BASE_OFFSET);
    b->batch_length = (int32_t)sk_be32(p + SK_BATCH_LENGTH);
    b->size = b->batch_length >= 0 ? (size_t)b->batch_length + SK_BATCH_LOG_OVERHEAD : 0;
    b->partition_leader_epoch = (int32_t)sk_be32(p + SK_BATCH_LEADER_EPOCH);
    b->magic = (int8_t)p[SK_BATCH_MAGIC];
    b->crc = sk_be32(p + SK_BATCH_CRC);
    b->attributes = (int16_t)sk_be16(p + SK_BATCH_ATTRIBUTES);
    b->last_offset_delta = (int32_t)sk_be32(p + SK_BATCH_LAST_OFFSET_DELTA);
    b->base_timestamp = (int64_t)sk_be64(p + SK_BATCH_BASE_TIMESTAMP);
    b->max_timestamp = (int64_t)sk_be64(p + SK_BATCH_MAX_TIMESTAMP);
    b->producer_id = (int64_t)sk_be64(p + SK_BATCH_PRODUCER_ID);
    b->producer_epoch = (int16_t)sk_be16(p + SK_BATCH_PRODUCER_EPOCH);
    b->base_sequence = (int32_t)sk_be32(p + SK_BATCH_BASE_SEQUENCE);
    b->record_count = (int32_t)sk_be32(p + SK_BATCH_RECORD_COUNT);
    b->records_max_timestamp = b->max_timestamp;
    return 0;
}

bool sk_batch_crc_valid(const uint8_t *batch, size_t size)
{
    if (size < SK_BATCH_HEADER_SIZE)
        return false;
    return sk_crc32c(0, batch + SK_BATCH_ATTRIBUTES, size - SK_BATCH_ATTRIBUTES) == sk_be32(batch + SK_BATCH_CRC);
}

/* ---- Records ---- */

void sk_record_iter_init(sk_record_iter *it, const sk_batch *b)
{
    sk_reader_init(&it->r, b->data + SK_BATCH_HEADER_SIZE, b->size - SK_BATCH_HEADER_SIZE);
    it->base_timestamp = b->base_timestamp;
    it->left = b->record_count;
}

/* Reads a varint length and that many bytes; a negative length is null
 * (Kafka's DefaultRecord reads any negative size as null). */
static const uint8_t *read_sized(sk_reader *r, int32_t *len)
{
    int32_t n = sk_read_varint(r);
    if (n < 0) {
        *len = -1;
        return NULL;
    }
    *len = n;
    return sk_read_raw(r, (size_t)n);
}

int sk_record_next(sk_record_iter *it, sk_record *rec)
{
    if (it->left <= 0)
        return (!it->r.err && sk_reader_left(&it->r) == 0) ? 0 : -1;
    int32_t len = sk_read_varint(&it->r);
    if (it->r.err || len < 0 || (size_t)len > sk_reader_left(&it->r))
        return -1;
    sk_reader body;
    sk_reader_init(&body, sk_read_raw(&it->r, (size_t)len), (size_t)len);

    rec->attributes = sk_read_i8(&body);
    int64_t delta = sk_read_varlong(&body);
    /* Java long arithmetic wraps; do the same without signed overflow. */
    rec->timestamp = (int64_t)((uint64_t)it->base_timestamp + (uint64_t)delta);
    rec->offset_delta = sk_read_varint(&body);
    rec->key = read_sized(&body, &rec->key_len);
    rec->value = read_sized(&body, &rec->value_len);
    rec->header_count = sk_read_varint(&body);
    if (body.err || rec->header_count < 0)
        return -1;
    rec->headers = body.pos;
    for (int32_t i = 0; i < rec->header_count && !body.err; i++) {
        int32_t klen = sk_read_varint(&body);
        if (klen < 0) /* "Invalid negative header key size" */
            return -1;
        sk_read_raw(&body, (size_t)klen);
        int32_t vlen;
        read_sized(&body, &vlen);
    }
    if (body.err || sk_reader_left(&body) != 0)
        return -1;
    rec->headers_len = (size_t)(body.pos - rec->headers);
    it->left--;
    return 1;
}

/* ---- Validation ---- */

/* Kafka's recordHasInvalidTimestamp: now - ts > before || ts - now > after,
 * computed without overflow. */
static bool timestamp_out_of_range(int64_t ts, int64_t now, const sk_batch_rules *r)
{
    int64_t behind; /* now - ts */
    if (__builtin_sub_overflow(now, ts, &behind))
        behind = ts < 0 ? INT64_MAX : INT64_MIN;
    if (behind > r->timestamp_before_max_ms)
        return true;
    return behind < 0 && (behind == INT64_MIN || -behind > r->timestamp_after_max_ms);
}

/* LogValidator.validateTimestamp for one timestamp of a batch. */
static bool timestamp_invalid(const sk_batch *b, int64_t ts, int64_t now, const sk_batch_rules *r)
{
    if (r->timestamp_type == SK_TIMESTAMP_CREATE_TIME && ts != SK_NO_TIMESTAMP)
        return timestamp_out_of_range(ts, now, r);
    /* "Producer should not set timestamp type to LogAppendTime." */
    return (b->attributes & SK_BATCH_TIMESTAMP_TYPE) != 0;
}

int16_t sk_record_check(const sk_batch *b, const sk_record *rec, const sk_batch_rules *rules, int64_t now_ms)
{
    if (rules->compact && rec->key_len < 0)
        return SK_ERR_INVALID_RECORD;
    return timestamp_invalid(b, rec->timestamp, now_ms, rules) ? SK_ERR_INVALID_TIMESTAMP : SK_ERR_NONE;
}

/* Walks every record of an uncompressed batch (LogValidator's per-record
 * checks plus the structural ones of DefaultRecord.readFrom). As Kafka's
 * processRecordErrors: any timestamp error makes the batch
 * INVALID_TIMESTAMP, else a key error INVALID_RECORD. */
static int16_t validate_records(sk_batch *b, const sk_batch_rules *r, int64_t now)
{
    sk_record_iter it;
    sk_record rec;
    bool bad_timestamp = false, bad_key = false;
    int64_t max_ts = SK_NO_TIMESTAMP;
    int32_t i = 0;
    int rc;

    sk_record_iter_init(&it, b);
    while ((rc = sk_record_next(&it, &rec)) == 1) {
        if (rec.offset_delta != i)
            return SK_ERR_INVALID_RECORD;
        int16_t err = sk_record_check(b, &rec, r, now);
        bad_key |= err == SK_ERR_INVALID_RECORD;
        bad_timestamp |= err == SK_ERR_INVALID_TIMESTAMP;
        if (rec.timestamp > max_ts)
            max_ts = rec.timestamp;
        i++;
    }
    if (rc < 0)
        return SK_ERR_INVALID_RECORD;
    if (bad_timestamp)
        return SK_ERR_INVALID_TIMESTAMP;
    if (bad_key)
        return SK_ERR_INVALID_RECORD;
    b->records_max_timestamp = max_ts;
    return SK_ERR_NONE;
}

int16_t sk_batch_validate(const uint8_t *p, size_t avail, const sk_batch_rules *rules, int64_t now_ms, sk_batch *out)
{
    if (avail <= SK_BATCH_MAGIC)
        return SK_ERR_CORRUPT_MESSAGE;
    /* Kafka 4.0 ProduceRequest.validateRecords: only magic 2 batches are
     * accepted (InvalidRecordException -> INVALID_RECORD). Checked before the
     * length because v0/v1 message sets have a shorter minimum size. */
    if ((int8_t)p[SK_BATCH_MAGIC] != SK_BATCH_MAGIC_V2)
        return SK_ERR_INVALID_RECORD;
    if (sk_batch_header_parse(out, p, avail) < 0)
        return SK_ERR_CORRUPT_MESSAGE;
    /* "Record size is less than the minimum record overhead", or a batch that
     * runs past the end of the request's records. */
    if (out->batch_length < SK_BATCH_HEADER_SIZE - SK_BATCH_LOG_OVERHEAD || out->size > avail)
        return SK_ERR_CORRUPT_MESSAGE;

    bool client = rules->origin == SK_APPEND_CLIENT;
    if (client && out->base_offset != 0)
        return SK_ERR_INVALID_RECORD;
    if (out->size > (size_t)rules->max_message_bytes)
        return SK_ERR_MESSAGE_TOO_LARGE;
    if (!sk_batch_crc_valid(p, out->size))
        return SK_ERR_CORRUPT_MESSAGE;
    if (out->last_offset_delta < 0 || out->record_count <= 0 ||
        (int64_t)out->record_count != (int64_t)out->last_offset_delta + 1)
        return SK_ERR_INVALID_RECORD;
    if (client && (out->attributes & SK_BATCH_CONTROL))
        return SK_ERR_INVALID_RECORD;
    if (client && out->producer_id >= 0 && out->base_sequence < 0)
        return SK_ERR_INVALID_RECORD;

    int codec = out->attributes & SK_BATCH_COMPRESSION_MASK;
    if (codec > SK_BATCH_MAX_CODEC)
        return SK_ERR_INVALID_RECORD;
    if (codec == 0)
        return validate_records(out, rules, now_ms);
    if (timestamp_invalid(out, out->base_timestamp, now_ms, rules) ||
        timestamp_invalid(out, out->max_timestamp, now_ms, rules))
        return SK_ERR_INVALID_TIMESTAMP;
    return SK_ERR_NONE;
}

void sk_batch_assign(uint8_t *batch, size_t size, int64_t base_offset, int32_t leader_epoch, sk_timestamp_type type,
                     int64_t max_timestamp)
{
    sk_put_be64(batch + SK_BATCH_BASE_OFFSET, (uint64_t)base_offset);
    sk_put_be32(batch + SK_BATCH_LEADER_EPOCH, (uint32_t)leader_epoch);
    uint16_t attributes = sk_be16(batch + SK_BATCH_ATTRIBUTES);
    uint16_t wanted = type == SK_TIMESTAMP_LOG_APPEND_TIME ? (uint16_t)(attributes | SK_BATCH_TIMESTAMP_TYPE)
                                                           : (uint16_t)(attributes & ~SK_BATCH_TIMESTAMP_TYPE);
    if (wanted == attributes && (int64_t)sk_be64(batch + SK_BATCH_MAX_TIMESTAMP) == max_timestamp)
        return;
    sk_put_be16(batch + SK_BATCH_ATTRIBUTES, wanted);
    sk_put_be64(batch + SK_BATCH_MAX_TIMESTAMP, (uint64_t)max_timestamp);
    sk_put_be32(batch + SK_BATCH_CRC, sk_crc32c(0, batch + SK_BATCH_ATTRIBUTES, size - SK_BATCH_ATTRIBUTES));
}

int sk_batch_txn_marker(const sk_batch *b, sk_txn_marker *out)
{
    if (!b->data || (b->attributes & SK_BATCH_COMPRESSION_MASK) != 0)
        return -1;
    sk_record_iter it;
    sk_record rec;
    sk_record_iter_init(&it, b);
    if (sk_record_next(&it, &rec) != 1 || rec.key_len < 4)
        return -1;
    out->type = (int16_t)sk_be16(rec.key + 2);
    if (out->type != SK_CONTROL_ABORT && out->type != SK_CONTROL_COMMIT)
        return 0;
    if (rec.value_len < 6)
        return -1;
    out->coordinator_epoch = (int32_t)sk_be32(rec.value + 2);
    out->timestamp = rec.timestamp;
    return 1;
}
