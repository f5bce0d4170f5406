/*
 * Compression codecs of Kafka record batches (attribute bits 0-2 of a batch
 * v2, see record.h) and the batch-level helpers the broker needs when it has
 * to look inside a compressed batch: decompress the record area, rebuild a
 * batch with another codec, check that every record has a key.
 *
 * What skiff writes, per codec (the bytes Kafka's own writers produce, so any
 * Kafka client reads them):
 *   gzip    a gzip stream (RFC 1952; zlib with windowBits 15 + 16).
 *   snappy  xerial framing, as Kafka's SnappyOutputStream writes it: the
 *           16-byte header "\x82SNAPPY\0" + int32 version 1 + int32 compatible
 *           version 1, then blocks of int32 big-endian length + raw snappy, one
 *           block per 32 KiB of input.
 *   lz4     one LZ4 frame as Kafka's Lz4BlockOutputStream writes it: 64 KiB
 *           independent blocks, no block checksum, no content size, no
 *           content checksum.
 *   zstd    one zstd frame (content size recorded, no checksum).
 * What skiff reads: the above, plus raw snappy (librdkafka writes it),
 * concatenated gzip members, LZ4 and zstd frames (any flags, concatenated
 * frames, skippable frames), and concatenated xerial streams.
 *
 * Decompression is bounded: output beyond `cap` bytes stops the codec with
 * SK_COMPRESS_TOO_LARGE, and the output buffer never grows past the cap
 * (zstd may also reserve a window of up to max(cap, 8 MiB), untouched until
 * written). Malformed or truncated input gives SK_COMPRESS_CORRUPT. Neither
 * ever aborts or allocates without bound. sk_decompress_cap() gives the cap
 * the broker should use; docs/compression.md explains the rule.
 *
 * Output goes into an sk_writer (buf.h): codecs append to what is already
 * there and, on failure, leave the writer's length where it was.
 */
#ifndef SKIFF_COMPRESS_H
#define SKIFF_COMPRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "skiff/buf.h"
#include "skiff/record.h"

/* A batch's codec: the value of attribute bits 0-2 (Kafka's CompressionType ids). */
typedef enum sk_compression {
    SK_COMPRESSION_NONE = 0,
    SK_COMPRESSION_GZIP = 1,
    SK_COMPRESSION_SNAPPY = 2,
    SK_COMPRESSION_LZ4 = 3,
    SK_COMPRESSION_ZSTD = 4,
} sk_compression;

#define SK_COMPRESSION_COUNT 5 /* codecs 0..4; ids 5-7 are invalid */

/* A topic's compression.type "producer": keep each batch's own codec. Only a
 * topic setting, never a batch's codec. */
#define SK_COMPRESSION_PRODUCER (-1)

/* zstd needs Produce v7 (KIP-110): a Produce below v7 whose batch is zstd is
 * UNSUPPORTED_COMPRESSION_TYPE for that partition (ProduceRequest
 * .validateRecords, still in Kafka 4.4). Fetch has no such rule any more:
 * Kafka 4 serves zstd batches at every Fetch version (KAFKA-18269 removed the
 * check with down-conversion). */
#define SK_ZSTD_MIN_PRODUCE_VERSION 7

/* Compression levels: Kafka's compression.<codec>.level topic and producer
 * configs (KIP-390), with Kafka's ranges and defaults. Snappy has no level. */
#define SK_GZIP_LEVEL_MIN 1
#define SK_GZIP_LEVEL_MAX 9
#define SK_GZIP_LEVEL_DEFAULT 6 /* Kafka's -1, zlib's Z_DEFAULT_COMPRESSION, is 6 and accepted too */
#define SK_LZ4_LEVEL_MIN 1
#define SK_LZ4_LEVEL_MAX 17
#define SK_LZ4_LEVEL_DEFAULT 9 /* Kafka's fast compressor; other levels use LZ4 HC (3..17) */
#define SK_ZSTD_LEVEL_MIN (-131072)
#define SK_ZSTD_LEVEL_MAX 22
#define SK_ZSTD_LEVEL_DEFAULT 3
/* Pass as `level` to use the codec's default. */
#define SK_COMPRESSION_LEVEL_DEFAULT INT32_MIN

/* Codec results. Callers map them to Kafka codes with sk_compress_status_err. */
typedef enum sk_compress_status {
    SK_COMPRESS_OK = 0,
    SK_COMPRESS_CORRUPT = -1,   /* malformed or truncated compressed data */
    SK_COMPRESS_TOO_LARGE = -2, /* decompressed data would exceed the cap */
    SK_COMPRESS_NOMEM = -3,     /* an allocation failed below the cap */
    SK_COMPRESS_BAD_ARG = -4,   /* unknown codec id, or level out of range */
} sk_compress_status;

/* Kafka's name of a codec: "none", "gzip", "snappy", "lz4", "zstd", or
 * "producer" for SK_COMPRESSION_PRODUCER; "unknown" otherwise. Static storage. */
const char *sk_compression_name(int codec);

/* Parses a compression.type value: "uncompressed" (topic config) or "none"
 * (producer config) -> SK_COMPRESSION_NONE, "gzip", "snappy", "lz4", "zstd",
 * "producer" -> SK_COMPRESSION_PRODUCER. Exact, lower case, as Kafka.
 * Returns the value, or -2 when `name` is not one of them. */
int sk_compression_parse(const char *name);

/* True when `level` is valid for `codec` (Kafka's ranges above; gzip also
 * takes -1; snappy and none take any level; SK_COMPRESSION_LEVEL_DEFAULT
 * always). */
bool sk_compression_level_valid(int codec, int level);

/* Compresses `len` bytes at `in` with `codec` at `level` and appends the
 * result (the bytes Kafka writes, see above) to `out`. SK_COMPRESSION_NONE
 * copies. Returns SK_COMPRESS_OK, SK_COMPRESS_BAD_ARG (codec or level) or
 * SK_COMPRESS_NOMEM; on failure out->len is unchanged. */
int sk_compress(int codec, int level, const void *in, size_t len, sk_writer *out);

/* Decompresses `len` bytes at `in` written with `codec` and appends the
 * result to `out`, at most `cap` bytes of it. SK_COMPRESSION_NONE copies
 * (subject to the cap too). Returns SK_COMPRESS_OK, SK_COMPRESS_CORRUPT,
 * SK_COMPRESS_TOO_LARGE, SK_COMPRESS_NOMEM or SK_COMPRESS_BAD_ARG; on
 * failure out->len is unchanged. The buffer grows to at most the length it
 * had plus `cap` bytes. */
int sk_decompress(int codec, const void *in, size_t len, size_t cap, sk_writer *out);

/* False when the LZ4 frame starting at `frame` (`len` bytes, a batch's
 * record area) has a descriptor Kafka's Lz4BlockInputStream refuses with a
 * RuntimeException (FLG.validate/BD.validate): dependent blocks ("Dependent
 * block stream is unsupported", lz4js writes them), a version other than 1,
 * reserved bits set, or a block size id outside 4-7. Kafka answers such a
 * Produce with UNKNOWN_SERVER_ERROR. Input too short for a descriptor is left
 * to the decoder (true). */
bool sk_lz4_frame_kafka_readable(const uint8_t *frame, size_t len);

/* The recommended cap for a topic: 64 x max.message.bytes, at least 8 MiB and
 * at most 1 GiB (docs/compression.md). `max_message_bytes` <= 0 gives the
 * floor. */
#define SK_DECOMPRESS_CAP_RATIO 64
#define SK_DECOMPRESS_CAP_MIN ((size_t)8 << 20)
#define SK_DECOMPRESS_CAP_MAX ((size_t)1 << 30)
size_t sk_decompress_cap(int32_t max_message_bytes);

/* The Kafka error code for a codec status: CORRUPT -> CORRUPT_MESSAGE (the
 * bytes are not the stream their codec bits name), TOO_LARGE -> INVALID_RECORD
 * (records beyond what the topic accepts; retrying cannot help), BAD_ARG ->
 * INVALID_RECORD (codec ids 5-7, as batch.c), NOMEM -> UNKNOWN_SERVER_ERROR,
 * OK -> NONE. */
int16_t sk_compress_status_err(int status);

/* ---- Batch level. All take a batch parsed by sk_batch_header_parse or
 * sk_batch_validate whose `data`/`size` cover the whole batch (validate it
 * first: these functions do not check the CRC), and a decompression cap. They
 * return a Kafka error code: SK_ERR_NONE, the mapping above for codec
 * failures, or INVALID_RECORD when the records do not walk (see
 * sk_batch_records_open). ---- */

/* (a) Appends the batch's record area (the bytes after the 61-byte header),
 * decompressed when the batch is compressed, to `out`; at most `cap` bytes
 * (an uncompressed area larger than `cap` is INVALID_RECORD too). */
int16_t sk_batch_decompress_records(const sk_batch *b, size_t cap, sk_writer *out);

/* Records of a batch, compressed or not, ready for sk_record_next. */
typedef struct sk_batch_records {
    sk_batch batch;     /* the batch as a valid uncompressed batch: for a
                             compressed one, its header (compression bits
                             cleared, length and CRC recomputed) and the
                             decompressed records, in `inflated`; otherwise
                             the original, borrowed */
    sk_record_iter it;  /* pass &it to sk_record_next */
    sk_writer inflated; /* owns the decompressed copy (empty if uncompressed) */
} sk_batch_records;

/* Opens the records of `b` for iteration, decompressing them when needed.
 * Returns SK_ERR_NONE, or the codec's error (nothing to close then). The
 * record pointers stay valid until sk_batch_records_close; for uncompressed
 * batches they borrow b's bytes. */
int16_t sk_batch_records_open(sk_batch_records *br, const sk_batch *b, size_t cap);
/* Frees what sk_batch_records_open allocated. */
void sk_batch_records_close(sk_batch_records *br);

/* Walks every record of `b` (decompressing when needed) and checks what
 * Kafka's record reader and LogValidator check: exactly record_count
 * well-formed records, offset deltas 0..n-1 (skiff rejects other deltas, as
 * batch.c does for uncompressed batches; Kafka rewrites them), no bytes after
 * the last record; with `require_keys` (cleanup.policy=compact), every record
 * has a non-null key. Returns SK_ERR_NONE, INVALID_RECORD, or a codec error. */
int16_t sk_batch_check_records(const sk_batch *b, size_t cap, bool require_keys);

/* One record LogValidator rejects on its own (KIP-467: the Produce
 * response's record_errors). */
typedef struct sk_record_error {
    int32_t index;     /* in its batch, from 0 */
    int16_t code;      /* INVALID_RECORD (no key, compacted topic) or INVALID_TIMESTAMP */
    int64_t timestamp; /* the record's, ms */
} sk_record_error;

/* Finds the records of batch `b` (inflated up to `cap` bytes when
 * compressed) that sk_record_check rejects under `rules` at `now_ms`, for a
 * batch the append refused with INVALID_RECORD or INVALID_TIMESTAMP. Fills
 * out[0..max-1] in record order; returns how many there are in all (may
 * exceed `max`; 0 when the refusal was about the batch's structure), or -1
 * when the records cannot be read. */
int32_t sk_batch_record_errors(const sk_batch *b, const sk_batch_rules *rules, int64_t now_ms, size_t cap,
                               sk_record_error *out, int32_t max);

/* (c) The compacted-topic rule ("Compacted topic cannot accept message
 * without key"): sk_batch_check_records with require_keys. */
int16_t sk_batch_check_keys(const sk_batch *b, size_t cap);

/* True when Kafka would rewrite batch `b` for a topic whose compression.type
 * is `topic_codec` (a codec or SK_COMPRESSION_PRODUCER), LogValidator's rule:
 * "producer" keeps every batch as sent; a codec equal to the batch's keeps it
 * (the level is not compared); any other codec, "uncompressed" included,
 * rewrites it, except an uncompressed control batch, which is never
 * compressed. */
bool sk_batch_needs_recompression(const sk_batch *b, int topic_codec);

/* (b) Appends to `out` a copy of batch `b` whose records are compressed with
 * `target` at `level` (SK_COMPRESSION_NONE: stored uncompressed). The records
 * are first checked as sk_batch_check_records does (with `require_keys`) and
 * kept byte for byte; the header keeps every field (base offset, partition
 * leader epoch, the other attribute bits, offsets, timestamps, producer id,
 * epoch and sequence, record count) except the compression bits, the batch
 * length and the CRC-32C, which are recomputed. Offsets, LogAppendTime and
 * the leader epoch are still the caller's (sk_batch_assign), and so is the
 * max.message.bytes check of the result (Kafka checks the rebuilt size:
 * MESSAGE_TOO_LARGE). Returns SK_ERR_NONE, INVALID_RECORD, a codec error, or
 * UNKNOWN_SERVER_ERROR when out of memory; on failure out->len is unchanged.
 * `out` must not be the buffer that holds `b` (it may move as it grows). */
int16_t sk_batch_recompress(const sk_batch *b, int target, int level, size_t cap, bool require_keys, sk_writer *out);

#endif
