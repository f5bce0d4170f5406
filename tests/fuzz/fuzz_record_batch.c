/*
 * libFuzzer target for record batches v2 (include/skiff/record.h and the
 * batch helpers of include/skiff/compress.h) and the producer-state checks
 * that read them (src/log/producer_state.c): the input is the records field
 * of a Produce partition, or the bytes of a .log file, behind one byte of
 * options.
 *
 * Options byte: bit 0 fixes every batch's CRC-32C before validation (so the
 * fuzzer gets past the CRC), bit 1 appends as the coordinator instead of a
 * client, bit 2 is a compacted topic (keys required), bit 3 a LogAppendTime
 * topic, bits 4-6 the codec (mod 5) batches are rebuilt with, bit 7 narrow
 * timestamp bounds (one hour around the clock) instead of unbounded ones.
 *
 * Two walks over the bytes:
 *  - as Produce appends them: sk_batch_validate each batch, then
 *    sk_batch_check_records, sk_batch_recompress (the rebuilt batch must
 *    have a valid CRC, validate again and hold the same records), the
 *    producer checks (live and replay) and sk_batch_assign (the CRC must
 *    stay valid); the first invalid batch ends the walk, after
 *    sk_batch_record_errors has named its culprit records (KIP-467);
 *  - as the coordinators replay a log (src/log/scan.c, src/coord/
 *    group_store.c): header parse only, no CRC, sk_batch_records_open and
 *    every record.
 * Decompression is capped at 256 KiB. The producer states must keep their
 * invariants, and survive a snapshot round trip.
 * Seeds: tests/data/fuzz/record_batch (real client batches of every codec,
 * and .log bytes written by a broker).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "skiff/compress.h"
#include "skiff/crc32c.h"
#include "skiff/errors.h"
#include "skiff/trace.h"
#include "skiff/record.h"

#define FUZZ_CAP ((size_t)256 << 10)
#define FUZZ_NOW 1700000000000LL
#define FUZZ_HOUR_MS 3600000LL

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    sk_trace_threshold = SK_TRACE_ERROR + 1; /* corrupt input is expected: stay quiet */
    return 0;
}

/* Both batches hold the same records, byte for byte. */
static void check_same_records(const sk_batch *a, const sk_batch *b)
{
    sk_batch_records ra, rb;
    fuzz_check(sk_batch_records_open(&ra, a, FUZZ_CAP) == SK_ERR_NONE);
    fuzz_check(sk_batch_records_open(&rb, b, FUZZ_CAP) == SK_ERR_NONE);
    sk_record x, y;
    int rx, ry;
    do {
        rx = sk_record_next(&ra.it, &x);
        ry = sk_record_next(&rb.it, &y);
        fuzz_check(rx == ry);
        if (rx == 1) {
            fuzz_check(x.attributes == y.attributes && x.timestamp == y.timestamp && x.offset_delta == y.offset_delta &&
                       x.key_len == y.key_len && x.value_len == y.value_len && x.header_count == y.header_count &&
                       x.headers_len == y.headers_len);
            fuzz_check(x.key_len <= 0 || !memcmp(x.key, y.key, (size_t)x.key_len));
            fuzz_check(x.value_len <= 0 || !memcmp(x.value, y.value, (size_t)x.value_len));
            fuzz_check(x.headers_len == 0 || !memcmp(x.headers, y.headers, x.headers_len));
        }
    } while (rx == 1);
    fuzz_check(rx == 0);
    sk_batch_records_close(&ra);
    sk_batch_records_close(&rb);
}

/* The checks of one batch sk_batch_validate accepted. */
static void check_valid_batch(const sk_batch *b, const sk_batch_rules *rules, int target)
{
    int codec = b->attributes & SK_BATCH_COMPRESSION_MASK;
    fuzz_check(codec < SK_COMPRESSION_COUNT && b->record_count > 0 &&
               (int64_t)b->record_count == (int64_t)b->last_offset_delta + 1);
    int16_t err = sk_batch_check_records(b, FUZZ_CAP, rules->compact);
    if (codec == SK_COMPRESSION_NONE) {
        fuzz_check(err == SK_ERR_NONE); /* validate walked the same records */
        fuzz_check(sk_batch_record_errors(b, rules, FUZZ_NOW, FUZZ_CAP, NULL, 0) == 0);
    }
    if (err != SK_ERR_NONE)
        return;

    sk_writer out;
    sk_writer_init(&out, 0);
    err = sk_batch_recompress(b, target, SK_COMPRESSION_LEVEL_DEFAULT, FUZZ_CAP, rules->compact, &out);
    fuzz_check(err == SK_ERR_NONE);
    sk_batch nb;
    fuzz_check(sk_batch_header_parse(&nb, out.buf, out.len) == 0 && nb.size == out.len);
    fuzz_check(sk_batch_crc_valid(out.buf, out.len));
    fuzz_check((nb.attributes & SK_BATCH_COMPRESSION_MASK) == target);
    fuzz_check(sk_batch_check_records(&nb, FUZZ_CAP, rules->compact) == SK_ERR_NONE);
    if (!(b->attributes & SK_BATCH_TIMESTAMP_TYPE)) {
        /* The rebuilt batch is one the coordinator may append as it is. */
        sk_batch_rules any = {
            .max_message_bytes = INT32_MAX,
            .timestamp_type = SK_TIMESTAMP_CREATE_TIME,
            .timestamp_before_max_ms = INT64_MAX,
            .timestamp_after_max_ms = INT64_MAX,
            .compact = rules->compact,
            .origin = SK_APPEND_COORDINATOR,
        };
        sk_batch vb;
        fuzz_check(sk_batch_validate(out.buf, out.len, &any, FUZZ_NOW, &vb) == SK_ERR_NONE);
    }
    check_same_records(b, &nb);
    sk_writer_free(&out);
}

/* Stages and commits the producer effect of `b` into `ps`, as an append
 * (checked) or as the rebuild of a loaded log (replay). */
static void producer_apply(sk_producer_state *ps, const sk_batch *b, int64_t first_offset, sk_append_origin origin,
                           bool replay)
{
    if (b->producer_id < 0)
        return;
    sk_producer_append pa = {0};
    sk_producer_batch dup;
    int16_t err = sk_producer_append_batch(&pa, ps, b, first_offset, b->max_timestamp, origin, replay, &dup);
    if (replay)
        fuzz_check(err == SK_ERR_NONE);
    if (err == SK_ERR_NONE)
        fuzz_check(sk_producer_append_commit(&pa, ps) == 0);
    sk_producer_append_free(&pa);
    fuzz_check_producers(ps);
}

/* The record errors named for a batch refused with `err` (KIP-467): in
 * record order, within the batch, each INVALID_RECORD or INVALID_TIMESTAMP;
 * an uncompressed batch refused for its records names at least one. */
static void check_record_errors(const uint8_t *p, size_t avail, const sk_batch_rules *rules, int16_t err)
{
    sk_batch b;
    if (sk_batch_header_parse(&b, p, avail) < 0 || b.size < SK_BATCH_HEADER_SIZE || b.size > avail)
        return;
    sk_record_error errs[8];
    int32_t n = sk_batch_record_errors(&b, rules, FUZZ_NOW, FUZZ_CAP, errs, 8);
    fuzz_check(n >= -1);
    for (int32_t i = 0; i < n && i < 8; i++) {
        fuzz_check(errs[i].index >= 0 && (i == 0 || errs[i].index > errs[i - 1].index));
        fuzz_check(errs[i].code == SK_ERR_INVALID_RECORD || errs[i].code == SK_ERR_INVALID_TIMESTAMP);
    }
    if (err == SK_ERR_INVALID_TIMESTAMP && (b.attributes & SK_BATCH_COMPRESSION_MASK) == SK_COMPRESSION_NONE)
        fuzz_check(n >= 1);
}

/* Walks the records as a Produce request's: validate, check, rebuild,
 * producer checks, offsets assigned in place. */
static void produce_walk(uint8_t *buf, size_t len, bool fix_crc, const sk_batch_rules *rules, int target,
                         sk_producer_state *live, sk_producer_state *replayed)
{
    int64_t next_offset = 0;
    for (size_t at = 0; at < len;) {
        sk_batch b;
        if (fix_crc && sk_batch_header_parse(&b, buf + at, len - at) == 0 && b.size >= SK_BATCH_HEADER_SIZE &&
            b.size <= len - at)
            sk_put_be32(buf + at + SK_BATCH_CRC,
                        sk_crc32c(0, buf + at + SK_BATCH_ATTRIBUTES, b.size - SK_BATCH_ATTRIBUTES));
        int16_t err = sk_batch_validate(buf + at, len - at, rules, FUZZ_NOW, &b);
        if (err == SK_ERR_INVALID_RECORD || err == SK_ERR_INVALID_TIMESTAMP)
            check_record_errors(buf + at, len - at, rules, err);
        if (err != SK_ERR_NONE)
            return;
        fuzz_check(b.data == buf + at && b.size >= SK_BATCH_HEADER_SIZE && b.size <= len - at);
        check_valid_batch(&b, rules, target);
        producer_apply(live, &b, next_offset, rules->origin, false);
        if (b.base_offset < INT64_MAX - b.last_offset_delta) /* what sk_segment_read_header lets through */
            producer_apply(replayed, &b, b.base_offset, rules->origin, true);
        sk_batch_assign(buf + at, b.size, next_offset, 7, rules->timestamp_type, b.records_max_timestamp);
        fuzz_check(sk_batch_crc_valid(buf + at, b.size));
        next_offset += b.record_count;
        at += b.size;
    }
}

/* Walks the bytes as the coordinators replay a partition: headers only,
 * no CRC, every record of every batch that opens. */
static void replay_walk(const uint8_t *buf, size_t len)
{
    for (size_t at = 0; at < len;) {
        sk_batch b;
        if (sk_batch_header_parse(&b, buf + at, len - at) < 0 || b.size < SK_BATCH_HEADER_SIZE || b.size > len - at)
            return;
        sk_batch_records br;
        if (sk_batch_records_open(&br, &b, FUZZ_CAP) == SK_ERR_NONE) {
            sk_record rec;
            while (sk_record_next(&br.it, &rec) == 1)
                fuzz_check(rec.key_len >= -1 && rec.value_len >= -1 && rec.header_count >= 0);
            sk_batch_records_close(&br);
        }
        at += b.size;
    }
}

/* A snapshot of `ps` loads back into an equal-sized state. */
static void snapshot_round_trip(const sk_producer_state *ps)
{
    size_t len, len2;
    uint8_t *snap = sk_producer_snapshot_render(ps, &len);
    fuzz_check(snap != NULL);
    sk_producer_state back;
    sk_producer_state_init(&back);
    fuzz_check(sk_producer_snapshot_parse(&back, snap, len) == 0);
    fuzz_check(back.table.count == ps->table.count);
    fuzz_check_producers(&back);
    uint8_t *again = sk_producer_snapshot_render(&back, &len2);
    fuzz_check(again != NULL && len2 == len);
    free(again);
    free(snap);
    sk_producer_state_clear(&back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t opts = data[0];
    sk_batch_rules rules = {
        .max_message_bytes = INT32_MAX,
        .timestamp_type = (opts & 0x08) ? SK_TIMESTAMP_LOG_APPEND_TIME : SK_TIMESTAMP_CREATE_TIME,
        .timestamp_before_max_ms = (opts & 0x80) ? FUZZ_HOUR_MS : INT64_MAX,
        .timestamp_after_max_ms = (opts & 0x80) ? FUZZ_HOUR_MS : INT64_MAX,
        .compact = (opts & 0x04) != 0,
        .origin = (opts & 0x02) ? SK_APPEND_COORDINATOR : SK_APPEND_CLIENT,
    };
    int target = ((opts >> 4) & 7) % SK_COMPRESSION_COUNT;
    size_t len = size - 1;
    uint8_t *buf = malloc(len ? len : 1);
    fuzz_check(buf != NULL);
    if (len)
        memcpy(buf, data + 1, len);

    replay_walk(data + 1, len);
    sk_producer_state live, replayed;
    sk_producer_state_init(&live);
    sk_producer_state_init(&replayed);
    produce_walk(buf, len, (opts & 0x01) != 0, &rules, target, &live, &replayed);
    snapshot_round_trip(&live);
    snapshot_round_trip(&replayed);
    sk_producer_state_clear(&live);
    sk_producer_state_clear(&replayed);
    free(buf);
    return 0;
}
