/*
 * The segmented log store: one Kafka-format log per partition, the shared
 * base under produce, fetch, the coordinators' internal topics and the
 * cleaner. The on-disk layout is Kafka's byte for byte (docs/log-format.md),
 * so kafka-dump-log reads a skiff data dir:
 *
 *   <dir>/<topic>-<partition>/<20-digit base offset>.log        record batches v2
 *                             <20-digit base offset>.index      offset -> position
 *                             <20-digit base offset>.timeindex  timestamp -> offset
 *                             <20-digit base offset>.txnindex   aborted transactions
 *                             <20-digit offset>.snapshot        producer state at that offset
 *                             partition.metadata                topic id
 *   <dir>/recovery-point-offset-checkpoint, log-start-offset-checkpoint
 *   <dir>/.kafka_cleanshutdown                                  clean-stop marker
 *
 * Threading: everything here runs on the event-loop thread. fsync and file
 * deletion run on background workers (bg.h) and report back to the loop; a
 * partition's recovery point advances when its fsync completes.
 *
 * Offsets (Kafka's terms): log start offset <= last stable offset <= high
 * watermark <= log end offset. With one replica the high watermark is the
 * log end offset; the last stable offset is the first offset of the oldest
 * transaction still open on the partition, else the high watermark.
 *
 * Idempotent and transactional producers (KIP-98): every batch with a
 * producer id is checked against the partition's producer state (epoch,
 * sequence, open transaction) as it is appended; transaction markers
 * (control batches from the transaction coordinator) end transactions, and
 * aborted ones are recorded in the segment's .txnindex for read_committed
 * fetches. The state is snapshotted at each roll and at a clean shutdown,
 * and rebuilt from the newest snapshot plus the batches after it at load.
 */
#ifndef SKIFF_LOGSTORE_H
#define SKIFF_LOGSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "skiff/arena.h"
#include "skiff/bg.h"
#include "skiff/compress.h"
#include "skiff/config.h"
#include "skiff/record.h"

struct event_base;

/* ---- Per-topic log configuration ---- */

/* Kafka's topic-level log settings (broker keys log.* give the defaults). */
typedef struct sk_log_config {
    int64_t segment_bytes;            /* segment.bytes: roll when the next append would pass it (<= 2^31-1) */
    int64_t segment_ms;               /* segment.ms: roll when the active segment's first batch is this old */
    int64_t retention_ms;             /* retention.ms: delete segments older than this; -1 = forever */
    int64_t retention_bytes;          /* retention.bytes: delete oldest segments beyond this size; -1 = no limit */
    int64_t flush_messages;           /* flush.messages: fsync after this many unflushed records */
    int64_t flush_ms;                 /* flush.ms: fsync when unflushed data is this old; -1 = never by time */
    int32_t index_interval_bytes;     /* index.interval.bytes: bytes between offset index entries */
    int32_t max_index_size_bytes;     /* segment.index.bytes: preallocated size of each index file */
    int64_t file_delete_delay_ms;     /* file.delete.delay.ms: keep *.deleted files this long */
    int32_t max_message_bytes;        /* max.message.bytes: largest record batch */
    sk_timestamp_type timestamp_type; /* message.timestamp.type */
    int64_t timestamp_before_max_ms;  /* message.timestamp.before.max.ms */
    int64_t timestamp_after_max_ms;   /* message.timestamp.after.max.ms */
    bool compact;                     /* cleanup.policy has compact: keys required, the cleaner compacts it
                                        (retention applies too when it also has delete) */
    int64_t
        delete_retention_ms; /* delete.retention.ms: tombstones and markers outlive their first cleaning this long */
    int64_t min_compaction_lag_ms; /* min.compaction.lag.ms: newer segments are not cleaned */
    int64_t max_compaction_lag_ms; /* max.compaction.lag.ms: an older dirty batch forces a cleaning */
    double min_cleanable_ratio;    /* min.cleanable.dirty.ratio: dirty share that triggers a cleaning */
} sk_log_config;

/* The timestamp type a message.timestamp.type / log.message.timestamp.type
 * value names: "LogAppendTime" (exact case, as Kafka's TimestampType.forName;
 * both settings are validated against that spelling and stored in it),
 * anything else or NULL CreateTime. The one mapping of that setting. */
sk_timestamp_type sk_timestamp_type_from_name(const char *name);
/* Fills `lc` from the broker's log.* keys (Kafka's topic defaults). */
void sk_log_config_from_broker(sk_log_config *lc, const sk_config *cfg);
/* The rules batches appended by `origin` are validated against under `lc`. */
sk_batch_rules sk_log_config_rules(const sk_log_config *lc, sk_append_origin origin);

/* ---- The store ---- */

typedef struct sk_logstore sk_logstore;
typedef struct sk_partition sk_partition;

/* Options for sk_logstore_open; zero-initialise and set what you need. */
typedef struct sk_logstore_opts {
    int64_t (*now_ms)(void *arg); /* wall clock in ms; NULL = CLOCK_REALTIME. Tests inject one. */
    void *clock_arg;              /* passed to now_ms */
    sk_bg *bg;                    /* shared workers; NULL = the store creates (and frees) its own */
    /* Per-topic settings of the partitions found on disk, asked once per
     * partition at open before it is loaded or recovered: fill *out and
     * return true, or return false for the broker defaults. NULL = defaults
     * for all (change them later with sk_partition_set_config). */
    bool (*topic_config)(void *arg, const char *topic, sk_log_config *out);
    void *topic_config_arg; /* passed to topic_config */
} sk_logstore_opts;

/* Opens (creating if needed) the log directory `dir`: lists the partition
 * directories, reads the checkpoints, removes leftovers (*.deleted files,
 * *-delete directories, *.tmp files), then:
 *  - after a clean shutdown (.kafka_cleanshutdown present) trusts the files
 *    and loads each partition lazily, on first use;
 *  - otherwise recovers every partition now: from the recovery point on,
 *    every batch is CRC-checked, a torn or corrupt tail is truncated and the
 *    indexes of the scanned segments are rebuilt.
 * The marker is removed either way. Periodic tasks are armed on `base`
 * (required): retention every log.retention.check.interval.ms, flush.ms
 * checks every second (or log.flush.interval.ms when shorter), and the
 * checkpoint writer every 60 s. `opts` may be NULL. Returns NULL (and logs)
 * on failure. */
sk_logstore *sk_logstore_open(const char *dir, struct event_base *base, const sk_config *cfg,
                              const sk_logstore_opts *opts);

/* Clean shutdown: waits for background jobs, trims the active indexes,
 * flushes the log directory's file system with one syncfs (instead of an
 * fsync per file: thousands of partitions close in one call), writes both
 * checkpoints and the clean-shutdown marker, and frees the store and its
 * partitions. Append listeners fire with info NULL. Slices still held stay
 * readable. Blocks the calling (loop) thread: for shutdown only. */
void sk_logstore_close(sk_logstore *s);

/* Simulates a crash (kill -9) for tests: frees memory and closes files with no
 * flush, no trimming, no checkpoints and no marker. Background jobs already
 * queued finish first. */
void sk_logstore_close_unclean(sk_logstore *s);

/* The store's clock (opts.now_ms), ms. */
int64_t sk_logstore_now(const sk_logstore *s);

/* The store's workers (its own or opts.bg). */
sk_bg *sk_logstore_bg(const sk_logstore *s);

/* Calls `fn` for every partition (found on disk or created), in no
 * particular order. `fn` must not create or delete partitions. */
void sk_logstore_foreach(sk_logstore *s, void (*fn)(sk_partition *p, void *arg), void *arg);

/* Number of partitions. */
size_t sk_logstore_count(const sk_logstore *s);

/* Creates partition `index` of `topic` with its directory (and
 * partition.metadata when `topic_id` is not NULL; Kafka's
 * PartitionMetadataFile format, written and fsynced in the background).
 * `cfg` NULL = the broker defaults. On success or when the partition already
 * exists, *out is the partition. Returns NONE, TOPIC_ALREADY_EXISTS,
 * INVALID_TOPIC_EXCEPTION (empty, ".", "..", over 249 chars, or a character
 * outside [a-zA-Z0-9._-]), or KAFKA_STORAGE_ERROR. */
int16_t sk_logstore_create_partition(sk_logstore *s, const char *topic, int32_t index, const uint8_t topic_id[16],
                                     const sk_log_config *cfg, sk_partition **out);

/* The partition, or NULL. */
sk_partition *sk_logstore_find(sk_logstore *s, const char *topic, int32_t index);

/* Deletes a partition as Kafka does: its directory is renamed to
 * `<topic>-<index>.<uuid>-delete` now and removed in the background. Append
 * listeners are called with info NULL. `p` is invalid afterwards; slices
 * already read stay valid. Returns NONE or KAFKA_STORAGE_ERROR. */
int16_t sk_logstore_delete_partition(sk_logstore *s, sk_partition *p);

/* Latency of the partition fsyncs (flush jobs) so far: counts per bucket
 * (upper bounds SK_FSYNC_BUCKET_MS, ms; the last bucket is the rest), their
 * sum (ms) and count. For GET /metrics (Kafka's LogFlushRateAndTimeMs). */
#define SK_FSYNC_BUCKETS 12
#define SK_FSYNC_BUCKET_MS                             \
    {                                                  \
        0.5, 1, 2, 5, 10, 25, 50, 100, 250, 1000, 5000 \
    }
typedef struct sk_fsync_stats {
    uint64_t buckets[SK_FSYNC_BUCKETS]; /* fsyncs per latency bucket */
    double sum_ms;                      /* their total latency, ms */
    uint64_t count;                     /* fsyncs measured */
} sk_fsync_stats;
const sk_fsync_stats *sk_logstore_fsync_stats(const sk_logstore *s);

/* One retention pass over every partition (what the periodic task runs):
 * see sk_partition_retention. Returns the number of segments deleted. */
int sk_logstore_run_retention(sk_logstore *s);

/* One producer.id.expiration.check.interval.ms pass (what the periodic
 * task runs): every loaded partition forgets its producers with no open
 * transaction whose newest batch timestamp is producer.id.expiration.ms
 * old (Kafka's removeExpiredProducers; such a producer's next batch is
 * accepted with any sequence, as a new producer's). Partitions loaded
 * later do the same when they load. Returns how many were forgotten. */
size_t sk_logstore_expire_producers(sk_logstore *s);

/* One flush.ms pass (what the periodic task runs): schedules an fsync for
 * every partition whose oldest unflushed append is flush_ms old. */
void sk_logstore_run_flush_check(sk_logstore *s);

/* Writes both checkpoint files in the background (what the periodic task
 * runs; also run after delete_records). */
void sk_logstore_checkpoint(sk_logstore *s);

/* ---- Partitions ---- */

const char *sk_partition_topic(const sk_partition *p);
int32_t sk_partition_index(const sk_partition *p);
/* Copies the topic id into `out` and returns true when the partition has one
 * (given at creation, or in partition.metadata: read here the first time,
 * the one file read a partition that is not loaded may do; a malformed file
 * is logged and means no id). */
bool sk_partition_read_topic_id(sk_partition *p, uint8_t out[16]);

/* The partition's log settings (a copy is kept). */
const sk_log_config *sk_partition_config(const sk_partition *p);
/* Changes the settings live (AlterConfigs); applies from the next append,
 * roll, retention pass or cleaner look (cleanup.policy turns compaction on
 * and off without a restart). */
void sk_partition_set_config(sk_partition *p, const sk_log_config *cfg);
/* Partition leader epoch stamped on appended batches (0 until leadership
 * exists). */
void sk_partition_set_leader_epoch(sk_partition *p, int32_t epoch);

/* Loads the partition if it is not loaded yet: the store opens the logs it
 * finds on disk lazily, and after an unclean stop loading recovers them
 * (lists the segments, checks the tail, opens the active one). Callers load
 * a partition before they use the accessors below (handlers after their
 * leader check), so a failure is their answer; the append, read, scan,
 * retention and producer calls load on their own and answer the same.
 * Returns NONE, or KAFKA_STORAGE_ERROR (logged) when the log cannot be
 * loaded or was deleted. */
int16_t sk_partition_ensure_loaded(sk_partition *p);

/* Offsets of a loaded partition (sk_partition_ensure_loaded first: these
 * accessors do no I/O; debug builds abort when the partition is not loaded,
 * skiff/invariant.h). */
int64_t sk_partition_log_start_offset(sk_partition *p);
int64_t sk_partition_high_watermark(sk_partition *p);
int64_t sk_partition_log_end_offset(sk_partition *p);
/* Offset below which everything is known to be fsynced. */
int64_t sk_partition_recovery_point(sk_partition *p);
/* Segments and total bytes of a loaded log. */
size_t sk_partition_segment_count(sk_partition *p);
int64_t sk_partition_size_bytes(sk_partition *p);

/* What an append did. */
typedef struct sk_append_info {
    int64_t base_offset;      /* first offset assigned */
    int64_t last_offset;      /* last offset assigned */
    int64_t log_append_time;  /* ms, or -1 unless the topic uses LogAppendTime */
    int64_t log_start_offset; /* after the append */
    int64_t record_count;     /* records appended */
    int32_t batch_count;      /* batches appended */
    int64_t max_timestamp;    /* largest batch max timestamp appended */
    bool duplicate;           /* a retried batch already in the log (idempotent producer):
                                  nothing was written; base/last offset and max timestamp
                                  are those of the stored batch, log_append_time -1 */
} sk_append_info;

/* Appends `len` bytes of record batches (one or more, magic 2) from a client.
 * Every batch is validated first (sk_batch_validate with the partition's
 * rules); then offsets are assigned in place starting at the log end offset
 * (the buffer is rewritten: base offset, leader epoch, max timestamp and
 * LogAppendTime, CRC where needed), the segment rolls if needed, and the
 * bytes go to the active segment in one write. `now_ms` is the append time.
 * Returns NONE, a validation error (nothing is written, though headers of
 * earlier batches in `records` may have been rewritten), INVALID_RECORD for
 * an empty buffer, RECORD_LIST_TOO_LARGE when `len` exceeds segment.bytes,
 * or KAFKA_STORAGE_ERROR when the write fails (the segment is cut back).
 * Batches with a producer id then pass the producer checks (Kafka 4.0's
 * ProducerAppendInfo): INVALID_PRODUCER_EPOCH, OUT_OF_ORDER_SEQUENCE_NUMBER,
 * INVALID_TXN_STATE; a retry of one of the producer's last five batches is
 * answered NONE with that batch's offsets and out->duplicate set (Kafka's
 * DUPLICATE_SEQUENCE_NUMBER handling: nothing is written, no listener
 * fires). */
int16_t sk_partition_append(sk_partition *p, uint8_t *records, size_t len, int64_t now_ms, sk_append_info *out);

/* KIP-467: the records of one batch LogValidator refused one by one, for
 * the Produce response's record_errors. */
typedef struct sk_record_errors {
    int64_t base_offset;    /* base offset of their batch, as the client sent it */
    int32_t n;              /* records named (0: the refusal was about the batch's structure) */
    sk_record_error *items; /* n of them in record order; heap, sk_record_errors_free */
} sk_record_errors;

/* Frees what an append put in `e` and empties it. */
void sk_record_errors_free(sk_record_errors *e);

/* sk_partition_append for a Produce request's records, which hold exactly
 * one batch (ProduceRequest.validateRecords; anything else is
 * INVALID_RECORD): Kafka's LogValidator in one place. First the topic's
 * compression.type (`codec`: a codec or SK_COMPRESSION_PRODUCER, `level`)
 * and cleanup.policy: an LZ4 frame Kafka cannot read is UNKNOWN_SERVER_ERROR
 * (CORRUPT_MESSAGE when its CRC fails too); a batch of another codec is
 * checked (CRC first) and recompressed; a compacted topic's compressed batch
 * must have a key on every record. Then the append's validation. When the
 * batch is refused record by record (INVALID_RECORD: no key in a compacted
 * topic; INVALID_TIMESTAMP), `errors` (zeroed by the caller) gets those
 * records and the code is the one they call for (any timestamp error:
 * INVALID_TIMESTAMP); the caller frees it with sk_record_errors_free.
 * Returns what sk_partition_append returns. */
int16_t sk_partition_append_client(sk_partition *p, int codec, int32_t level, uint8_t *records, size_t len,
                                   int64_t now_ms, sk_append_info *out, sk_record_errors *errors);

/* The same for the broker's own writers (coordinators: control batches, any
 * base offset in the input); `origin` selects Kafka's client-only checks.
 * A transaction marker (control batch whose record key is an ABORT or
 * COMMIT control record) ends the producer's open transaction; an aborted
 * one is added to the active segment's .txnindex. Markers check the epoch
 * (INVALID_PRODUCER_EPOCH) and coordinator epoch
 * (TRANSACTION_COORDINATOR_FENCED); sequences are not checked. */
int16_t sk_partition_append_origin(sk_partition *p, sk_append_origin origin, uint8_t *records, size_t len,
                                   int64_t now_ms, sk_append_info *out);

/* ---- Append listeners (long-poll Fetch and other waiters) ----
 * A listener is owned by the caller (embed it in the waiter). It fires once,
 * on the next successful append to the partition, after the append is
 * complete, and is then detached; re-arm it from the callback to keep
 * listening. On partition deletion or store close it fires with info NULL.
 * A callback may add or remove any listener. */
typedef struct sk_append_listener sk_append_listener;
typedef void (*sk_append_fn)(sk_partition *p, const sk_append_info *info, void *arg);
struct sk_append_listener {
    sk_append_fn fn;                 /* called after each append (info NULL: partition gone) */
    void *arg;                       /* passed to fn */
    sk_append_listener *prev, *next; /* list links, owned by the partition */
};
/* Arms `l` (fn and arg set by the caller) on `p`; it must not be armed already. */
void sk_partition_listen(sk_partition *p, sk_append_listener *l);
/* Disarms `l` if it is armed (safe to call when it is not). */
void sk_partition_unlisten(sk_append_listener *l);

/* ---- Flush waiters (acknowledging only durable appends) ----
 * Kafka fsyncs inside the append when flush.messages is reached, so the
 * producer's answer follows the fsync. skiff fsyncs on a background thread;
 * a producer's answer waits on a flush waiter instead. A waiter is owned by
 * the caller; it fires once and is then detached. */
typedef struct sk_flush_waiter sk_flush_waiter;
typedef void (*sk_flush_fn)(sk_partition *p, bool durable, void *arg);
struct sk_flush_waiter {
    sk_flush_fn fn;        /* called once: durable false when the fsync failed or the partition went */
    void *arg;             /* passed to fn */
    int64_t offset;        /* wait until everything below this offset is fsynced */
    sk_flush_waiter *next; /* list link, owned by the partition */
};
/* Arms `w` (fn, arg, offset set) to fire when the fsync that the flush
 * policy has already scheduled makes everything below w->offset durable
 * (durable=true), or when that fsync fails (durable=false). Returns false
 * without arming when there is nothing to wait for: the offset is already
 * below the recovery point, or no scheduled fsync covers it (the flush
 * policy asked for none). */
bool sk_partition_await_flush(sk_partition *p, sk_flush_waiter *w);

/* ---- Reads ---- */

/* An open .log file shared by its segment and every slice read from it. The
 * fd stays open until the last reference goes, even after retention or a
 * partition delete removed the file. References may be dropped from any
 * thread. */
typedef struct sk_segment_file sk_segment_file;
int sk_segment_file_fd(const sk_segment_file *f);
sk_segment_file *sk_segment_file_ref(sk_segment_file *f);
void sk_segment_file_unref(sk_segment_file *f);

/* Whole batches in one segment file: bytes [position, position + length). */
typedef struct sk_log_slice {
    sk_segment_file *file; /* one reference owned by the holder; NULL when empty */
    int64_t position;      /* file offset of the first batch */
    int64_t length;        /* bytes */
} sk_log_slice;

/* Drops the slice's reference (NULL file is a no-op) and empties it. */
void sk_log_slice_release(sk_log_slice *s);
/* Copies the slice into `buf` (slice->length bytes). Returns 0 or -1 (errno). */
int sk_log_slice_copy(const sk_log_slice *s, void *buf);

/* Result of sk_partition_read. */
typedef struct sk_read_result {
    sk_log_slice slice;       /* the data; empty when nothing is readable */
    int64_t first_offset;     /* base offset of the first batch, -1 when empty */
    int64_t next_offset;      /* offset after the last batch returned (fetch_offset when empty) */
    int64_t high_watermark;   /* at the time of the read */
    int64_t log_start_offset; /* at the time of the read */
} sk_read_result;

/* Reads whole batches from `fetch_offset` on (the batch containing it
 * first), from one segment, stopping before `max_bytes` would be passed and
 * before any batch starting at or after `max_offset` (exclusive bound: the
 * high watermark, later the last stable offset). The first batch is always
 * returned whole even when larger than max_bytes (KIP-74). The lookup is a
 * binary search over segments, the sparse offset index, then a short scan of
 * batch headers. Returns NONE (possibly with an empty slice: fetch_offset at
 * the end) or OFFSET_OUT_OF_RANGE (below the log start offset or above the
 * log end offset), or KAFKA_STORAGE_ERROR. Release out->slice when done. */
int16_t sk_partition_read(sk_partition *p, int64_t fetch_offset, int32_t max_bytes, int64_t max_offset,
                          sk_read_result *out);

/* ---- Transactions and producers (KIP-98) ---- */

/* Appends a transaction marker for `producer_id` at `producer_epoch` (what
 * Kafka's WriteTxnMarkers does on the partition leader): a control batch
 * (transactional and control bits, base sequence -1) holding one record
 * whose key is the control type (int16 version 0, int16 type: 0 ABORT,
 * 1 COMMIT) and whose value is the end-transaction marker (int16 version
 * 0, int32 coordinator epoch), timestamp `now_ms`, appended with
 * SK_APPEND_COORDINATOR. Returns what sk_partition_append_origin returns. */
int16_t sk_partition_append_marker(sk_partition *p, int64_t producer_id, int16_t producer_epoch,
                                   int32_t coordinator_epoch, bool commit, int64_t now_ms, sk_append_info *out);

/* The last stable offset: the first offset of the oldest transaction still
 * open on the partition, else the high watermark; never below the log start
 * offset (Kafka's UnifiedLog.lastStableOffset). read_committed reads stop
 * here. Of a loaded partition, as the offsets above. */
int64_t sk_partition_last_stable_offset(sk_partition *p);

/* An aborted transaction (Kafka's AbortedTxn, one .txnindex entry). */
typedef struct sk_aborted_txn {
    int64_t producer_id;        /* whose transaction */
    int64_t first_offset;       /* its first data offset */
    int64_t last_offset;        /* the ABORT marker's offset */
    int64_t last_stable_offset; /* the partition's last stable offset once it ended */
} sk_aborted_txn;

/* The aborted transactions a read_committed fetch of [fetch_offset,
 * upper_bound) must be told about (Kafka's collectAbortedTransactions):
 * from the segment holding fetch_offset on, every entry with last offset >=
 * fetch_offset and first offset < upper_bound, stopping after the segment
 * whose entry's last stable offset reaches upper_bound. The array is
 * allocated in `arena` (*out NULL and *n 0 when none). Returns NONE or
 * KAFKA_STORAGE_ERROR (an index cannot be read; UNKNOWN_SERVER_ERROR when
 * out of memory). */
int16_t sk_partition_aborted_txns(sk_partition *p, int64_t fetch_offset, int64_t upper_bound, sk_arena *arena,
                                  sk_aborted_txn **out, int32_t *n);

/* One producer of the partition (DescribeProducers, KIP-664). */
typedef struct sk_producer_info {
    int64_t producer_id;              /* the producer */
    int16_t producer_epoch;           /* its current epoch */
    int32_t last_sequence;            /* -1 when no batch is remembered */
    int64_t last_timestamp;           /* ms, -1 none */
    int32_t coordinator_epoch;        /* of the last marker, -1 none */
    int64_t current_txn_start_offset; /* first offset of its open transaction, -1 none */
} sk_producer_info;

/* Every producer the partition knows, in `arena` (*out NULL when none).
 * Returns NONE, KAFKA_STORAGE_ERROR (the partition cannot be loaded) or
 * UNKNOWN_SERVER_ERROR (out of memory). */
int16_t sk_partition_producers(sk_partition *p, sk_arena *arena, sk_producer_info **out, int32_t *n);

/* Called for each record of a scan with its batch (header fields only:
 * producer id, attributes, offsets) and the record (pointers valid during
 * the call). */
typedef void (*sk_record_fn)(void *arg, const sk_batch *batch, const sk_record *rec);

/* Replays the partition (coordinators loading their internal topics): every
 * record of every data batch from the log start offset to the high
 * watermark, in offset order; control batches are skipped, compressed ones
 * inflated up to `cap` bytes (a batch that cannot be is skipped with a
 * warning). Loads the partition first. Returns 0, or -1 when it cannot be
 * loaded or read (logged). */
int sk_partition_scan_records(sk_partition *p, size_t cap, sk_record_fn fn, void *arg);
/* Called for each batch of a scan: its header parsed, its bytes valid during
 * the call (records not opened). */
typedef void (*sk_batch_fn)(void *arg, const sk_batch *batch);
/* The same walk batch by batch, control batches included (the group
 * coordinator replays transaction markers). Returns 0, or -1 on a read
 * error (logged). */
int sk_partition_scan_batches(sk_partition *p, sk_batch_fn fn, void *arg);

/* ListOffsets special timestamps (ListOffsetsRequest). */
#define SK_LIST_OFFSETS_LATEST (-1LL)         /* the high watermark */
#define SK_LIST_OFFSETS_EARLIEST (-2LL)       /* the log start offset */
#define SK_LIST_OFFSETS_MAX_TIMESTAMP (-3LL)  /* the record with the largest timestamp (KIP-734) */
#define SK_LIST_OFFSETS_EARLIEST_LOCAL (-4LL) /* = earliest: no tiered storage */

/* ListOffsets for one partition: for a timestamp >= 0 the first offset whose
 * record timestamp is >= `timestamp` (via the time index, then the batches),
 * with that record's timestamp in *found_ts; *offset = *found_ts = -1 when
 * no record is that new. Special values above give their offset with
 * *found_ts -1 (MAX_TIMESTAMP gives the timestamp found). Records of
 * compressed batches are not decompressed: their batch's base offset and max
 * timestamp stand for them. Returns NONE or KAFKA_STORAGE_ERROR. */
int16_t sk_partition_offset_for_timestamp(sk_partition *p, int64_t timestamp, int64_t *offset, int64_t *found_ts);

/* DeleteRecords: moves the log start offset up to `offset` (-1 = the high
 * watermark); whole segments below it are deleted at once. Lowering it is a
 * no-op. Returns NONE with the new log start offset in *low_watermark, or
 * OFFSET_OUT_OF_RANGE when `offset` is above the high watermark. */
int16_t sk_partition_delete_records(sk_partition *p, int64_t offset, int64_t *low_watermark);

/* Retention for one partition (a cleanup.policy without delete has
 * retention.ms and retention.bytes -1, so only the log start offset rule
 * applies, as in Kafka): deletes whole
 * segments, oldest first and never the active one, while the segment's
 * largest timestamp is more than retention.ms before `now_ms`, while the log
 * is larger than retention.bytes by at least the segment's size, and while
 * the segment lies wholly below the log start offset. The log start offset
 * moves to the next remaining segment. Deleted segments are renamed with a
 * `.deleted` suffix and unlinked in the background after file.delete.delay.ms.
 * Loads the partition first. Returns the number of segments deleted (0 when
 * the partition cannot be loaded: logged). */
int sk_partition_retention(sk_partition *p, int64_t now_ms);

/* Starts a log cleaner pass over `p` now (Kafka's LogCleaner, see
 * docs/cleaner.md), whatever its dirty ratio: for a "compact now" control
 * and tests. The pass runs on the SK_BG_CLEAN worker and swaps the cleaned
 * segments in on the loop when done. Returns 1 when a pass started, 0 when
 * there is nothing to do (not a compacted topic, no cleanable segment, a
 * pass already running, or the cleaner not started), -1 when it could not
 * start (logged). A log a failed pass left uncleanable is tried again. */
int sk_logstore_clean_now(sk_partition *p);

/* What the log cleaner has done since the store opened (for metrics; Kafka's
 * LogCleaner metrics and per-pass CleanerStats, summed). */
typedef struct sk_cleaner_stats {
    int64_t passes;          /* passes completed */
    int64_t bytes_read;      /* bytes read by the passes (map building and copying) */
    int64_t bytes_written;   /* bytes of the cleaned segments */
    int64_t records_read;    /* records the copying read */
    int64_t records_removed; /* records it dropped */
    int64_t last_pass_ms;    /* duration of the last pass, ms (-1 none) */
    double last_dirty_ratio; /* dirty ratio of the log the last pass cleaned */
    bool running;            /* a pass is in flight */
} sk_cleaner_stats;

/* Fills `out` (zeros, last_pass_ms -1, when the cleaner is not started). */
void sk_logstore_cleaner_stats(const sk_logstore *s, sk_cleaner_stats *out);

/* Rolls a new active segment now (if the active one is not empty). Returns
 * NONE or KAFKA_STORAGE_ERROR. */
int16_t sk_partition_roll(sk_partition *p);

/* Schedules an fsync of everything appended so far (the background worker
 * runs it; the recovery point advances when it completes). Nothing for a
 * partition that is not loaded (nothing was appended to it). */
void sk_partition_flush(sk_partition *p);

#endif
