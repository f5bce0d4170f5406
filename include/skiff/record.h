/*
 * Kafka record batches, format v2 (magic 2): a read-only view of the header,
 * validation of untrusted batches before they are stored, in-place offset
 * assignment, record iteration for uncompressed batches, and a small builder.
 *
 * Batch layout (Kafka's DefaultRecordBatch; all integers big-endian):
 *
 *   OFFSET SIZE DESCRIPTION
 *        0    8 base offset (first offset of the batch)
 *        8    4 batch length: bytes after this field (whole batch = length + 12)
 *       12    4 partition leader epoch
 *       16    1 magic (2)
 *       17    4 CRC-32C of the bytes from offset 21 to the end of the batch
 *       21    2 attributes: bits 0-2 compression (0 none, 1 gzip, 2 snappy,
 *               3 lz4, 4 zstd), bit 3 timestamp type (1 = LogAppendTime),
 *               bit 4 transactional, bit 5 control, bit 6 delete horizon set
 *       23    4 last offset delta
 *       27    8 base timestamp (ms; the delete horizon when bit 6 is set)
 *       35    8 max timestamp (ms)
 *       43    8 producer id (-1 = none)
 *       51    2 producer epoch
 *       53    4 base sequence
 *       57    4 record count
 *       61    * records (compressed as a whole when bits 0-2 are not 0)
 *
 * Record layout (inside the record area, uncompressed):
 *   varint length (of what follows), int8 attributes, varlong timestamp delta,
 *   varint offset delta, varint key length (-1 = null), key, varint value
 *   length (-1 = null), value, varint header count, then per header: varint
 *   key length, key (UTF-8, not null), varint value length (-1 = null), value.
 *
 * Base offset and partition leader epoch are outside the CRC, so the broker
 * rewrites them without recomputing it; changing the attributes or the max
 * timestamp (LogAppendTime) needs a new CRC.
 */
#ifndef SKIFF_RECORD_H
#define SKIFF_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "skiff/buf.h"

/* The batch format skiff reads and writes (magic byte 2; v0/v1 message sets
 * are refused). */
#define SK_BATCH_MAGIC_V2 2

/* Byte offsets of the batch header fields (see the table above). */
enum {
    SK_BATCH_BASE_OFFSET = 0,
    SK_BATCH_LENGTH = 8,
    SK_BATCH_LEADER_EPOCH = 12,
    SK_BATCH_MAGIC = 16,
    SK_BATCH_CRC = 17,
    SK_BATCH_ATTRIBUTES = 21,
    SK_BATCH_LAST_OFFSET_DELTA = 23,
    SK_BATCH_BASE_TIMESTAMP = 27,
    SK_BATCH_MAX_TIMESTAMP = 35,
    SK_BATCH_PRODUCER_ID = 43,
    SK_BATCH_PRODUCER_EPOCH = 51,
    SK_BATCH_BASE_SEQUENCE = 53,
    SK_BATCH_RECORD_COUNT = 57,
    SK_BATCH_HEADER_SIZE = 61,  /* smallest possible batch (no records) */
    SK_BATCH_LOG_OVERHEAD = 12, /* base offset + length: bytes not counted by the length field */
};

/* Attribute bits. */
#define SK_BATCH_COMPRESSION_MASK 0x07
#define SK_BATCH_TIMESTAMP_TYPE 0x08 /* set: LogAppendTime */
#define SK_BATCH_TRANSACTIONAL 0x10
#define SK_BATCH_CONTROL 0x20
#define SK_BATCH_DELETE_HORIZON 0x40

#define SK_NO_TIMESTAMP (-1LL) /* Kafka's RecordBatch.NO_TIMESTAMP */
#define SK_NO_SEQUENCE (-1)    /* Kafka's RecordBatch.NO_SEQUENCE: base sequence of a batch without one */

/* Timestamp type of a topic (message.timestamp.type) or a batch (attribute bit 3). */
typedef enum sk_timestamp_type {
    SK_TIMESTAMP_CREATE_TIME = 0,
    SK_TIMESTAMP_LOG_APPEND_TIME = 1,
} sk_timestamp_type;

/* A decoded batch header plus where the batch lies. Borrowed: `data` points
 * into the caller's buffer. */
typedef struct sk_batch {
    const uint8_t *data;            /* first byte of the batch (its base offset) */
    size_t size;                    /* whole batch in bytes: batch_length + 12 */
    int64_t base_offset;            /* offset of the first record (0 from a client) */
    int32_t batch_length;           /* bytes after the length field: size - 12 */
    int32_t partition_leader_epoch; /* the leader's epoch when it was appended, -1 unknown */
    int8_t magic;                   /* record format version: 2 */
    uint32_t crc;                   /* CRC-32C of the bytes from the attributes on */
    int16_t attributes;             /* SK_BATCH_* bits: compression, timestamp type, transactional, control */
    int32_t last_offset_delta;      /* last record's offset - base_offset */
    int64_t base_timestamp;         /* ms */
    int64_t max_timestamp;          /* ms, as stored in the header */
    int64_t producer_id;            /* -1 = none (not idempotent) */
    int16_t producer_epoch;         /* -1 = none */
    int32_t base_sequence;          /* first record's sequence, SK_NO_SEQUENCE = none */
    int32_t record_count;           /* records in the batch (last_offset_delta + 1 when valid) */
    /* Filled by sk_batch_validate only: */
    int64_t records_max_timestamp; /* max of the record timestamps (uncompressed
                                      batches), else the header's max timestamp */
} sk_batch;

/* Decodes the 61-byte header at `p` into `b` (no validation beyond reading).
 * Returns 0, or -1 when fewer than SK_BATCH_HEADER_SIZE bytes are available. */
int sk_batch_header_parse(sk_batch *b, const uint8_t *p, size_t avail);

/* Last offset of a parsed batch: base_offset + last_offset_delta. */
static inline int64_t sk_batch_last_offset(const sk_batch *b)
{
    return b->base_offset + b->last_offset_delta;
}

/* True when the stored CRC matches the bytes (needs the whole batch). */
bool sk_batch_crc_valid(const uint8_t *batch, size_t size);

/* Who appends: clients get Kafka's extra client checks (base offset 0, no
 * control batches, a base sequence with a producer id), LogValidator's
 * AppendOrigin.CLIENT; the broker's own writers (coordinators) skip them. */
typedef enum sk_append_origin {
    SK_APPEND_CLIENT = 0,
    SK_APPEND_COORDINATOR = 1,
} sk_append_origin;

/* The topic rules a batch is checked against (from sk_log_config). */
typedef struct sk_batch_rules {
    int32_t max_message_bytes;        /* largest batch in bytes (max.message.bytes) */
    sk_timestamp_type timestamp_type; /* message.timestamp.type */
    int64_t timestamp_before_max_ms;  /* message.timestamp.before.max.ms */
    int64_t timestamp_after_max_ms;   /* message.timestamp.after.max.ms */
    bool compact;                     /* cleanup.policy=compact: every record needs a key */
    sk_append_origin origin;          /* who appends: selects the client-only checks */
} sk_batch_rules;

/* Validates the batch that starts at `p` (with `avail` bytes left in the
 * request's records) the way Kafka does before an append, and fills `out`.
 * Checks, in Kafka's order, with Kafka's codes:
 *  - fewer than 17 bytes, a length below the v2 minimum, or a batch longer
 *    than the bytes left: CORRUPT_MESSAGE;
 *  - magic other than 2: INVALID_RECORD (Kafka 4.0 ProduceRequest.validateRecords:
 *    "Produce requests with version >= 3 are only allowed to contain record
 *    batches with magic version 2", an InvalidRecordException);
 *  - base offset not 0 from a client: INVALID_RECORD (UnifiedLog.analyzeAndValidateRecords);
 *  - batch size above max_message_bytes: MESSAGE_TOO_LARGE;
 *  - CRC mismatch: CORRUPT_MESSAGE;
 *  - record count <= 0 or not last offset delta + 1, control batch or producer
 *    id without base sequence from a client: INVALID_RECORD (LogValidator.validateBatch);
 *  - unknown compression codec (5-7): INVALID_RECORD (Kafka throws an
 *    IllegalArgumentException that surfaces as UNKNOWN_SERVER_ERROR; we give
 *    the client a code it can act on);
 *  - uncompressed batches: every record is walked (bounded varints, record
 *    length consistent, offset deltas 0..n-1, header keys not null, no bytes
 *    after the last record): INVALID_RECORD; a record without key in a
 *    compacted topic: INVALID_RECORD; a record timestamp outside
 *    [now - before_max, now + after_max] under CreateTime, or a batch that
 *    claims LogAppendTime on a CreateTime topic: INVALID_TIMESTAMP
 *    (LogValidator.validateTimestamp; a timestamp error wins over a key error
 *    as in processRecordErrors);
 *  - compressed batches: header and CRC only (no decompression here); the
 *    timestamp bounds are checked on the header's base and max timestamps.
 * Returns SK_ERR_NONE (0) or the error code. */
int16_t sk_batch_validate(const uint8_t *p, size_t avail, const sk_batch_rules *rules, int64_t now_ms, sk_batch *out);

/* Assigns offsets in place (LogValidator.assignOffsetsNonCompressed): writes
 * the base offset and the partition leader epoch, and sets the timestamp type
 * bit and the max timestamp to `type` and `max_timestamp`; the CRC is
 * recomputed only when the attributes or the max timestamp changed. The batch
 * must have been validated (size covers it). */
void sk_batch_assign(uint8_t *batch, size_t size, int64_t base_offset, int32_t leader_epoch, sk_timestamp_type type,
                     int64_t max_timestamp);

/* One record of an uncompressed batch. Pointers borrow the batch bytes. */
typedef struct sk_record {
    int8_t attributes;      /* record attributes: unused by Kafka, 0 */
    int64_t timestamp;      /* absolute: base timestamp + delta (ms) */
    int32_t offset_delta;   /* offset - the batch's base offset */
    const uint8_t *key;     /* NULL when the key is null */
    int32_t key_len;        /* -1 when null */
    const uint8_t *value;   /* NULL when the value is null (a tombstone) */
    int32_t value_len;      /* -1 when null */
    int32_t header_count;   /* headers in `headers` */
    const uint8_t *headers; /* the encoded headers (header_count of them) */
    size_t headers_len;     /* bytes of `headers` */
} sk_record;

/* Walks the records of an uncompressed batch. */
typedef struct sk_record_iter {
    sk_reader r;            /* over the record area */
    int64_t base_timestamp; /* the batch's, ms: records carry deltas from it */
    int32_t left;           /* records still to read per the header count */
} sk_record_iter;

/* Starts iterating the records of batch `b` (parsed, whole, uncompressed). */
void sk_record_iter_init(sk_record_iter *it, const sk_batch *b);
/* Reads the next record into `rec`. Returns 1 for a record, 0 at the end
 * (all records read and no bytes left), -1 when the bytes are malformed
 * (bad varint, length outside the batch, negative header key length, or
 * bytes left over after the last record). */
int sk_record_next(sk_record_iter *it, sk_record *rec);

/* LogValidator.validateRecord for one record of batch `b` under `rules`
 * at `now_ms`: a record without key in a compacted topic is INVALID_RECORD
 * (checked first); under CreateTime a timestamp (other than -1) outside
 * [now - before_max, now + after_max], or a batch claiming LogAppendTime, is
 * INVALID_TIMESTAMP; otherwise NONE. */
int16_t sk_record_check(const sk_batch *b, const sk_record *rec, const sk_batch_rules *rules, int64_t now_ms);

/* Control record types (Kafka's ControlRecordType). */
#define SK_CONTROL_ABORT 0
#define SK_CONTROL_COMMIT 1

/* The end-transaction marker of a control batch (Kafka's
 * EndTransactionMarker, written by WriteTxnMarkers). */
typedef struct sk_txn_marker {
    int16_t type;              /* SK_CONTROL_ABORT or SK_CONTROL_COMMIT */
    int32_t coordinator_epoch; /* epoch of the transaction coordinator that wrote it */
    int64_t timestamp;         /* ms */
} sk_txn_marker;

/* Reads the marker of control batch `b` (parsed, whole): record key int16
 * version + int16 type, value int16 version + int32 coordinator epoch.
 * Returns 1 for a marker, 0 for another kind of control record, -1 when
 * malformed or compressed. */
int sk_batch_txn_marker(const sk_batch *b, sk_txn_marker *out);

/* ---- Builder (uncompressed batches; used by tests, benchmarks and the
 * broker's own writers such as control records) ---- */

/* One header of a record to build. */
typedef struct sk_record_header_spec {
    const char *key;   /* not NULL */
    size_t key_len;    /* bytes */
    const void *value; /* NULL = null value */
    size_t value_len;  /* bytes (ignored for a null value) */
} sk_record_header_spec;

/* One record to build. */
typedef struct sk_record_spec {
    const void *key;                      /* NULL = null key */
    size_t key_len;                       /* bytes (ignored for a null key) */
    const void *value;                    /* NULL = null value */
    size_t value_len;                     /* bytes (ignored for a null value) */
    int64_t timestamp;                    /* absolute ms */
    const sk_record_header_spec *headers; /* header_count of them; NULL when none */
    int32_t header_count;                 /* entries in headers */
} sk_record_spec;

/* Batch header fields to build with. Zero-initialise, then set what matters;
 * producer_id 0 is a real id, so set it to -1 for "none". */
typedef struct sk_batch_spec {
    int64_t base_offset;            /* written as given (the log assigns its own on append) */
    int32_t partition_leader_epoch; /* written as given */
    int16_t attributes;             /* timestamp type, transactional, control bits;
                                 compression bits are written as given (the
                                 records stay uncompressed: tests only) */
    int64_t producer_id;            /* -1 = none */
    int16_t producer_epoch;         /* -1 with no producer */
    int32_t base_sequence;          /* the first record's sequence, SK_NO_SEQUENCE = none */
} sk_batch_spec;

/* Appends one batch holding `n` records (n >= 1) to `w`: base timestamp =
 * the first record's timestamp, max timestamp = the largest, offset deltas
 * 0..n-1, CRC computed. Returns 0, or -1 when the writer failed. */
int sk_batch_build(sk_writer *w, const sk_batch_spec *spec, const sk_record_spec *records, int32_t n);

#endif
