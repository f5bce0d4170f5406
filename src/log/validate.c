/*
 * The client side of Kafka's LogValidator that reaches beyond one batch's
 * header and records (include/skiff/logstore.h, sk_partition_append_client):
 * the topic's compression.type and cleanup.policy applied to a batch, and the
 * records a refused batch is refused for (KIP-467 record_errors), named in
 * the same append that refused it.
 */
#include <stdlib.h>

#include "log_int.h"
#include "skiff/compress.h"
#include "skiff/errors.h"

int16_t sk_log_conform_compression(const sk_log_config *lc, int codec, int32_t level, const sk_batch *b,
                                   sk_writer *rebuilt)
{
    if ((b->attributes & SK_BATCH_COMPRESSION_MASK) == SK_COMPRESSION_LZ4 &&
        !sk_lz4_frame_kafka_readable(b->data + SK_BATCH_HEADER_SIZE, b->size - SK_BATCH_HEADER_SIZE))
        return sk_batch_crc_valid(b->data, b->size) ? SK_ERR_UNKNOWN_SERVER_ERROR : SK_ERR_CORRUPT_MESSAGE;
    size_t cap = sk_decompress_cap(lc->max_message_bytes);
    if (sk_batch_needs_recompression(b, codec)) {
        if (!sk_batch_crc_valid(b->data, b->size))
            return SK_ERR_CORRUPT_MESSAGE;
        return sk_batch_recompress(b, codec, level, cap, lc->compact, rebuilt);
    }
    if (lc->compact && (b->attributes & SK_BATCH_COMPRESSION_MASK) != SK_COMPRESSION_NONE)
        return sk_batch_check_keys(b, cap);
    return SK_ERR_NONE;
}

int16_t sk_log_name_record_errors(const sk_log_config *lc, sk_append_origin origin, const uint8_t *batch, size_t avail,
                                  int64_t now_ms, int16_t err, sk_record_errors *out)
{
    /* First the batch without the per-record rules: a refusal of its
     * structure names no record (Kafka's RecordValidationException carries
     * record errors only from validateRecord). */
    sk_batch_rules rules = sk_log_config_rules(lc, origin), structure = rules;
    structure.compact = false;
    structure.timestamp_before_max_ms = structure.timestamp_after_max_ms = INT64_MAX;
    size_t cap = sk_decompress_cap(lc->max_message_bytes);
    sk_batch b;
    if (sk_batch_validate(batch, avail, &structure, now_ms, &b) != SK_ERR_NONE ||
        sk_batch_check_records(&b, cap, false) != SK_ERR_NONE)
        return err;
    int32_t n = sk_batch_record_errors(&b, &rules, now_ms, cap, NULL, 0);
    sk_record_error *items = n > 0 ? malloc((size_t)n * sizeof *items) : NULL;
    if (!items || sk_batch_record_errors(&b, &rules, now_ms, cap, items, n) != n) {
        free(items);
        return err;
    }
    bool timestamps = false;
    for (int32_t i = 0; i < n; i++)
        timestamps |= items[i].code == SK_ERR_INVALID_TIMESTAMP;
    out->base_offset = b.base_offset;
    out->n = n;
    out->items = items;
    return timestamps ? SK_ERR_INVALID_TIMESTAMP : SK_ERR_INVALID_RECORD;
}

void sk_record_errors_free(sk_record_errors *e)
{
    free(e->items);
    e->items = NULL;
    e->n = 0;
}
