/*
 * Internals of the log store shared by the src/log sources: the index files, the
 * segments, partitions and the store itself. Nothing here is part of the
 * public contract (include/skiff/logstore.h); the file layouts are in
 * docs/log-format.md.
 */
#ifndef SKIFF_LOG_INT_H
#define SKIFF_LOG_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "skiff/htab.h"
#include "skiff/logstore.h"

#define SK_OFFSET_INDEX_ENTRY 8 /* int32 relative offset, int32 position */
#define SK_TIME_INDEX_ENTRY 12  /* int64 timestamp, int32 relative offset */
#define SK_CLEAN_SHUTDOWN_FILE ".kafka_cleanshutdown"
#define SK_RECOVERY_POINT_FILE "recovery-point-offset-checkpoint"
#define SK_LOG_START_FILE "log-start-offset-checkpoint"
#define SK_CLEANER_OFFSET_FILE "cleaner-offset-checkpoint"
#define SK_CLEANED_SUFFIX ".cleaned"
#define SK_SWAP_SUFFIX ".swap"
#define SK_PARTITION_METADATA_FILE "partition.metadata"
#define SK_DELETED_SUFFIX ".deleted"
#define SK_DELETE_DIR_SUFFIX "-delete"
#define SK_TXN_INDEX_ENTRY 34 /* int16 version, int64 producer id, first, last, last stable offset */
#define SK_SNAPSHOT_SUFFIX ".snapshot"
#define SK_CHECKPOINT_INTERVAL_MS 60000 /* Kafka's log.flush.offset.checkpoint.interval.ms */
#define SK_FLUSH_CHECK_MS 1000          /* how often flush.ms is checked */

/* ---- Index files (index.c) ----
 * A fixed-size-entry file mapped into memory. While writable (the active
 * segment) the file is preallocated to its maximum size; trimming cuts it to
 * the entries written and maps it read-only. */
typedef struct sk_index {
    int fd;               /* -1 when closed or opened read-only (the map stays) */
    uint8_t *map;         /* mapping of the file; NULL when closed or empty */
    size_t map_len;       /* bytes mapped */
    uint32_t entry_size;  /* SK_OFFSET_INDEX_ENTRY or SK_TIME_INDEX_ENTRY */
    uint32_t entries;     /* valid entries */
    uint32_t max_entries; /* capacity (= entries once trimmed) */
    bool writable;        /* open for appends (the active segment), preallocated */
} sk_index;

void sk_index_init(sk_index *ix, uint32_t entry_size);
/* Opens `path`. Writable (max_bytes > 0): created if missing; entries =
 * existing length / entry size, or 0 when `fresh` (the file and its inode are
 * reused, old bytes ignored); preallocated to max_bytes (rounded down to whole
 * entries). Read-only (max_bytes == 0): ENOENT when missing. Returns 0 or -1
 * with errno. */
int sk_index_open(sk_index *ix, const char *path, int64_t max_bytes, bool fresh);
void sk_index_close(sk_index *ix);
/* Cuts the file to the valid entries and maps it read-only. 0 or -1. */
int sk_index_trim(sk_index *ix);
bool sk_index_full(const sk_index *ix);

/* Offset index: appends (offset, position); refuses (returns -1) when full or
 * not strictly after the last entry. */
int sk_offset_index_append(sk_index *ix, int64_t base, int64_t offset, int64_t position);
/* Position of the largest entry whose offset is <= `offset`; 0 when none. */
int64_t sk_offset_index_lookup(const sk_index *ix, int64_t base, int64_t offset);
/* Position of the last entry at or below `max_pos` whose (last) offset is
 * below `max_offset`: a batch boundary; 0 when none. */
int64_t sk_offset_index_floor_position(const sk_index *ix, int64_t base, int64_t max_pos, int64_t max_offset);
/* Offset and position of the last entry: `base` and 0 when empty. */
int64_t sk_offset_index_last_offset(const sk_index *ix, int64_t base);
int64_t sk_offset_index_last_position(const sk_index *ix);
/* Entries strictly increasing in offset and position, offsets below
 * `next_offset` (when >= 0), positions below `log_size`. */
bool sk_offset_index_sane(const sk_index *ix, int64_t base, int64_t next_offset, int64_t log_size);

/* Time index: appends (timestamp, offset) when the timestamp is larger than
 * the last entry's (Kafka's TimeIndex.maybeAppend). */
void sk_time_index_maybe_append(sk_index *ix, int64_t base, int64_t timestamp, int64_t offset);
/* Last entry, or (SK_NO_TIMESTAMP, base) when empty. */
void sk_time_index_last(const sk_index *ix, int64_t base, int64_t *timestamp, int64_t *offset);
/* Offset of the largest entry whose timestamp is <= `timestamp`; `base` when none. */
int64_t sk_time_index_lookup(const sk_index *ix, int64_t base, int64_t timestamp);
bool sk_time_index_sane(const sk_index *ix, int64_t base, int64_t next_offset);

/* ---- Segment files ---- */
struct sk_segment_file {
    int fd;          /* the open .log file */
    atomic_int refs; /* the segment's own plus one per reader slice or job (sk_segment_file_ref) */
};

/* ---- Segments (segment.c) ---- */
typedef struct sk_segment {
    /* Identity */
    int64_t base_offset; /* first offset the segment may hold; its files' name */
    char *prefix;        /* "<partition dir>/<20-digit base offset>" */
    /* State */
    sk_segment_file *file;           /* NULL until first use */
    int64_t size;                    /* valid bytes in the .log file */
    int64_t mtime_ms;                /* .log modification time (retention fallback) */
    int64_t next_offset;             /* last offset + 1, or -1 when not known yet */
    sk_index offset_index;           /* .index: offset -> file position, every index.interval.bytes */
    sk_index time_index;             /* .timeindex: max timestamp -> offset */
    bool indexes_loaded;             /* both indexes are open (loaded lazily, sk_segment_load_indexes) */
    bool active;                     /* the last segment: writable, preallocated indexes */
    int64_t max_timestamp;           /* largest batch max timestamp, SK_NO_TIMESTAMP if none */
    int64_t offset_of_max_timestamp; /* last offset of that batch */
    int64_t rolling_timestamp;       /* max timestamp of the first batch, -1 if none/unknown */
    int64_t created_ms;              /* clock at creation or load, for segment.ms without timestamps */
    int64_t bytes_since_index;       /* bytes appended since the last offset index entry */
    int64_t writeback_from;          /* .log bytes before this were handed to background writeback */
    /* Aborted transactions whose markers lie in this segment (.txnindex) */
    sk_aborted_txn *aborted;      /* in file order (marker offsets ascending) */
    size_t naborted, aborted_cap; /* entries in `aborted`, and its capacity */
    bool txn_index_loaded;        /* `aborted` holds the file's entries */
    int txn_fd;                   /* open for appends (then fsynced with the segment), else -1 */
} sk_segment;

/* A segment object for base offset `base` in `dir` (no file touched). */
sk_segment *sk_segment_new(const char *dir, int64_t base);
void sk_segment_free(sk_segment *seg);
/* A batch header read from a log file holds up: magic 2, a batch length at
 * least an empty batch's, and the whole batch within the `avail` bytes left
 * in the file. */
bool sk_log_batch_header_ok(const sk_batch *b, int64_t avail);
/* Creates the files of a new, empty active segment. 0 or -1. */
int sk_segment_create(sk_segment *seg, const sk_log_config *cfg, int64_t now_ms);
/* Opens the .log file if needed and records its size and mtime. 0 or -1. */
int sk_segment_open(sk_segment *seg);
/* Loads trusted indexes (after a clean shutdown or below the recovery
 * point), checking them; rebuilds them from the log when missing or insane.
 * `next_offset` is the segment's end (-1 unknown). 0 or -1. */
int sk_segment_load_indexes(sk_segment *seg, const sk_log_config *cfg, int64_t next_offset);
/* Sequential reader over a .log file: keeps a window [win_pos, win_pos +
 * win_len) of the file in `buf` (recovery and the cleaner). Zero-initialise
 * with fd set, win_pos -1 and min_read (0 = 1 MiB); free `buf` when done. */
typedef struct sk_log_scan {
    int fd;          /* the .log file, borrowed */
    uint8_t *buf;    /* the window's bytes (heap, the caller frees) */
    size_t cap;      /* bytes allocated in buf */
    int64_t win_pos; /* file position of buf[0], -1 before the first read */
    size_t win_len;  /* valid bytes in buf */
    size_t min_read; /* bytes read at least per refill */
} sk_log_scan;
/* Makes bytes [pos, pos + n) available and returns them, or NULL (I/O error
 * or the file ends first). Valid until the next call. */
const uint8_t *sk_log_scan_window(sk_log_scan *sc, int64_t pos, size_t n);

/* Scans the whole .log from the start: validates every batch (header, CRC,
 * offsets from `min_offset` on), truncates at the first bad byte, rebuilds
 * both indexes and sets next_offset and the timestamps. Returns the bytes
 * truncated (>= 0) or -1 on I/O error. */
int64_t sk_segment_recover(sk_segment *seg, const sk_log_config *cfg, int64_t min_offset);
/* Finds next_offset of a trusted active segment: scans batch headers from
 * the last index entry to the end. 0, or -1 when the tail is not whole
 * batches or a batch starts below the end of the one before it (the caller
 * recovers the segment then). */
int sk_segment_find_end(sk_segment *seg);
/* Reads the batch header at `pos` (pos + 61 <= size). 0, or -1 when the
 * header does not fit, is not magic 2, its batch runs past `size` or its
 * last offset + 1 is not an int64 (negative delta, overflow). */
int sk_segment_read_header(sk_segment *seg, int64_t pos, sk_batch *b);
/* Position of the first batch whose last offset is >= `offset`, with its
 * header in *b; -1 when there is none in this segment, -2 on I/O error. */
int64_t sk_segment_find(sk_segment *seg, int64_t offset, sk_batch *b);
/* Accounts one appended batch: max timestamp, index entries every
 * index_interval_bytes. */
void sk_segment_index_batch(sk_segment *seg, const sk_log_config *cfg, int64_t pos, int64_t last_offset,
                            int64_t max_timestamp, int64_t size);
/* Turns the active segment into a closed one: final time index entry, both
 * indexes trimmed and mapped read-only. */
void sk_segment_deactivate(sk_segment *seg);
/* Largest timestamp for retention: max timestamp, or the file's mtime when
 * no batch has one (Kafka's LogSegment.largestTimestamp). Needs the indexes
 * loaded. */
int64_t sk_segment_largest_timestamp(const sk_segment *seg);

/* ---- File names and I/O (log_files.c) ---- */
/* True when `s` ends with `suffix`. */
bool sk_has_suffix(const char *s, const char *suffix);
/* The offset of a file named "<20-digit offset><suffix>" (e.g. ".log",
 * ".snapshot"), or -1 when `name` is not such a name. */
int64_t sk_offset_file_name(const char *name, const char *suffix);
/* qsort comparator of int64_t offsets, ascending. */
int sk_offset_cmp(const void *a, const void *b);
/* The suffixes of a segment's files (.log first), then that of the producer
 * snapshot at its base offset: SK_SEGMENT_FILES + 1 entries. */
#define SK_SEGMENT_FILES 4
extern const char *const sk_segment_suffixes[SK_SEGMENT_FILES + 1];
/* "<dir>/<name>" on the heap (caller frees), NULL when out of memory. */
char *sk_path_join(const char *dir, const char *name);
/* "<dir>/<20-digit offset><suffix><tail>" into `out` (`n` bytes). */
void sk_offset_file_path(char *out, size_t n, const char *dir, int64_t offset, const char *suffix, const char *tail);
/* Path of one of the segment's files: suffix ".log", ".index", ... */
void sk_segment_path(const sk_segment *seg, const char *suffix, char *out, size_t n);
/* Writes all of `len` bytes at `off`. 0 or -1 (errno). */
int sk_pwrite_full(int fd, const void *buf, size_t len, int64_t off);
/* Reads exactly `len` bytes at `off`. 0, or -1 (errno; EIO for a short file). */
int sk_pread_full(int fd, void *buf, size_t len, int64_t off);

/* ---- Aborted-transaction index (txn_index.c) ----
 * Kafka's TransactionIndex: one 34-byte entry per aborted transaction whose
 * ABORT marker is in the segment, in marker order (docs/log-format.md). */

/* Reads the segment's .txnindex into memory once (a missing file is empty;
 * a partial trailing entry or an entry of another version ends it). 0 or -1. */
int sk_txn_index_load(sk_segment *seg);
/* Appends one entry to the file and the memory copy. 0 or -1 (errno). */
int sk_txn_index_append(sk_segment *seg, const sk_aborted_txn *t);
/* Drops the entries whose last offset is >= `offset` (Kafka's truncateTo).
 * 0 or -1. */
int sk_txn_index_truncate(sk_segment *seg, int64_t offset);
/* Frees the memory copy and closes the file. */
void sk_txn_index_close(sk_segment *seg);

/* ---- Producer state (producer_state.c) ----
 * Kafka's ProducerStateManager for one partition: per producer id the epoch,
 * the last batches (sequence ranges, for duplicates), the coordinator epoch
 * of the last marker and the first offset of its open transaction. The
 * producers with an open transaction form a list ordered by that offset:
 * its head gives the last stable offset. */
#define SK_PRODUCER_BATCHES 5 /* Kafka's ProducerStateEntry.NUM_BATCHES_TO_RETAIN */

typedef struct sk_producer_batch {
    int32_t first_seq, last_seq;       /* sequence range of the batch */
    int64_t first_offset, last_offset; /* offsets the batch was stored at */
    int64_t timestamp;                 /* the batch's max timestamp, ms */
} sk_producer_batch;

typedef struct sk_producer_entry {
    int64_t producer_id;                            /* the key */
    int16_t producer_epoch;                         /* -1 until known */
    int32_t coordinator_epoch;                      /* of the last marker, -1 none */
    int64_t last_timestamp;                         /* ms, -1 none */
    int64_t txn_first_offset;                       /* first offset of the open transaction, -1 none */
    sk_producer_batch batches[SK_PRODUCER_BATCHES]; /* oldest first */
    int nbatches;                                   /* valid entries in batches (0..SK_PRODUCER_BATCHES) */
    sk_hnode node;                                  /* in the table by producer id */
    struct sk_producer_entry *txn_prev, *txn_next;  /* open-transaction list links */
} sk_producer_entry;

typedef struct sk_producer_state {
    sk_htab table;                          /* sk_producer_entry by producer id; table.count entries */
    sk_producer_entry *txn_head, *txn_tail; /* open transactions, by first offset */
} sk_producer_state;

/* A transaction ended by a marker in an append. */
typedef struct sk_completed_txn {
    int64_t producer_id;               /* whose transaction */
    int64_t first_offset, last_offset; /* last = the marker's offset */
    bool aborted;                      /* an ABORT marker (else COMMIT) */
} sk_completed_txn;

/* The changes of one append, checked but not applied yet (Kafka's
 * ProducerAppendInfo, for every producer of the append). */
typedef struct sk_producer_staged {
    sk_producer_entry e;  /* the entry as it will be */
    int16_t stored_epoch; /* its epoch before the append (-1: new producer) */
} sk_producer_staged;

typedef struct sk_producer_append {
    sk_producer_staged *staged; /* one per producer of the append (heap, sk_producer_append_free) */
    size_t nstaged, staged_cap; /* used and allocated entries of staged */
    sk_completed_txn *done;     /* transactions the markers of the append end */
    size_t ndone, done_cap;     /* used and allocated entries of done */
} sk_producer_append;

void sk_producer_state_init(sk_producer_state *ps);
/* Frees every entry; the state is empty and reusable. */
void sk_producer_state_clear(sk_producer_state *ps);
const sk_producer_entry *sk_producer_state_find(const sk_producer_state *ps, int64_t producer_id);
/* The sequence of the last record of the entry's last batch, SK_NO_SEQUENCE if none. */
int32_t sk_producer_entry_last_seq(const sk_producer_entry *e);
/* First offset of the earliest open transaction, or -1 when none is open. */
int64_t sk_producer_state_first_unstable(const sk_producer_state *ps);
/* Forgets the producers without an open transaction whose newest batch
 * timestamp is `expiration_ms` or more before `now_ms` (Kafka's
 * ProducerStateManager.removeExpiredProducers). Returns how many. */
size_t sk_producer_state_expire(sk_producer_state *ps, int64_t now_ms, int64_t expiration_ms);

/* Checks batch `b` (whole, at `b->data`; producer id >= 0) that will get
 * offsets from `first_offset` on, with its max timestamp `max_timestamp`,
 * against the stored state and what `pa` staged before, and stages its
 * effect (Kafka 4.0 ProducerAppendInfo with transaction version 0/1):
 *  - DUPLICATE_SEQUENCE_NUMBER (clients only): the same epoch and sequence
 *    range as one of the producer's last five stored batches; *dup is that
 *    batch. The caller answers success with its offsets and writes nothing.
 *  - INVALID_PRODUCER_EPOCH: an epoch below the producer's (a marker's too);
 *  - OUT_OF_ORDER_SEQUENCE_NUMBER (clients only): a new epoch not starting at
 *    sequence 0, or a sequence that does not follow the last one (any
 *    sequence is accepted from a producer the partition does not know);
 *  - INVALID_TXN_STATE: a non-transactional batch while the producer's
 *    transaction is open;
 *  - TRANSACTION_COORDINATOR_FENCED: a marker from an older coordinator epoch;
 *  - INVALID_RECORD: a control batch whose marker cannot be read.
 * `replay` (rebuilding from the log) skips every check. Returns NONE, an
 * error above, or UNKNOWN_SERVER_ERROR when out of memory. */
int16_t sk_producer_append_batch(sk_producer_append *pa, const sk_producer_state *ps, const sk_batch *b,
                                 int64_t first_offset, int64_t max_timestamp, sk_append_origin origin, bool replay,
                                 sk_producer_batch *dup);
/* Applies what `pa` staged (after the write succeeded) and fills pa->done.
 * 0, or -1 when out of memory (some producers keep their old state). */
int sk_producer_append_commit(sk_producer_append *pa, sk_producer_state *ps);
/* Frees `pa` (committed or not). */
void sk_producer_append_free(sk_producer_append *pa);

/* Kafka's producer snapshot file (ProducerSnapshot version 1): int16
 * version, uint32 CRC-32C of everything after it, int32 count, then per
 * producer: int64 id, int16 epoch, int32 last sequence, int64 last offset,
 * int32 offset delta, int64 timestamp, int32 coordinator epoch, int64 first
 * offset of the open transaction. Only the last batch of each producer is
 * kept, as in Kafka. Heap buffer (caller frees), length in *len; NULL when
 * out of memory. */
uint8_t *sk_producer_snapshot_render(const sk_producer_state *ps, size_t *len);
/* Loads a snapshot into `ps` (cleared first). 0, or -1 when it is corrupt
 * (version, CRC, length). */
int sk_producer_snapshot_parse(sk_producer_state *ps, const uint8_t *buf, size_t len);

/* ---- Partitions (partition.c; the object and its segments in partition_segs.c) ---- */
/* What a partition knows of its topic id (partition.metadata, read by
 * sk_partition_read_topic_id). */
typedef enum sk_topic_id_state {
    SK_TOPIC_ID_UNREAD = 0, /* partition.metadata not read yet */
    SK_TOPIC_ID_NONE = 1,   /* no id: the file is missing or malformed */
    SK_TOPIC_ID_KNOWN = 2,  /* topic_id holds it */
} sk_topic_id_state;

struct sk_partition {
    /* Identity and configuration */
    sk_logstore *store;               /* the store that owns it */
    char *topic;                      /* topic name (owned) */
    int32_t index;                    /* partition number */
    char *dir;                        /* "<store dir>/<topic>-<index>" */
    uint8_t topic_id[16];             /* valid when topic_id_state is SK_TOPIC_ID_KNOWN */
    sk_topic_id_state topic_id_state; /* whether topic_id is known (partition.metadata) */
    sk_log_config cfg;                /* the topic's log settings (sk_partition_set_config) */
    int32_t leader_epoch;             /* written into each appended batch's partition leader epoch */
    /* State */
    bool loaded;                    /* segments listed and the active one open */
    sk_segment **segs;              /* sorted by base offset; the last is active */
    size_t nsegs, segs_cap;         /* segments in segs, and its capacity */
    int64_t log_start_offset;       /* first offset a client may read (retention, DeleteRecords) */
    int64_t log_end_offset;         /* offset the next appended record gets */
    int64_t recovery_point;         /* everything below is fsynced */
    bool log_start_checkpointed;    /* log_start_offset came from the checkpoint (not loaded yet) */
    int64_t unflushed_messages;     /* records appended since the last scheduled flush */
    int64_t first_unflushed_ms;     /* clock at the first of them, -1 if none */
    bool flush_running;             /* an fsync job is in flight */
    int64_t flush_pending_to;       /* flush requested while one runs, -1 if none */
    int64_t flush_running_to;       /* recovery point the running fsync job gives */
    sk_flush_waiter *flush_waiters; /* waiting for a scheduled fsync (sk_partition_await_flush) */
    bool dir_dirty;                 /* a segment file was created since the last flush */
    sk_append_listener listeners;   /* sentinel of the armed listeners */
    sk_producer_state producers;    /* idempotent and transactional producers (producer_state.c) */
    int64_t cleaner_offset;         /* first dirty offset (cleaner-offset-checkpoint), -1 unknown */
    bool cleaning;                  /* a cleaner pass over this log is in flight */
    bool uncleanable;    /* a pass failed reading it: skipped until restart (Kafka's uncleanable partitions) */
    int refs;            /* store table + in-flight jobs */
    atomic_bool deleted; /* removed from the store; queued jobs skip it (read by the sync worker) */
    sk_hnode node;       /* in the store's table by (topic, index) */
};

sk_partition *sk_partition_new(sk_logstore *s, const char *topic, int32_t index);
void sk_partition_unref(sk_partition *p);
/* Lists the segments and opens the active one (recovering from the recovery
 * point when `recover`). 0 or -1. Idempotent once loaded. */
int sk_partition_load(sk_partition *p, bool recover);
/* Checks a loaded partition's offset invariants (skiff/invariant.h; only in
 * debug and sanitizer builds): segments in base-offset order, the active
 * segment last and ending at the log end offset, log start offset within
 * [first base offset, log end offset], recovery point <= log end offset.
 * Called after every change of those: load, append, roll, retention,
 * DeleteRecords, a cleaner swap. */
void sk_partition_check(const sk_partition *p);
/* Creates the first segment of a brand-new partition (dir exists). 0 or -1. */
int sk_partition_init_empty(sk_partition *p);
/* Schedules an fsync of everything below `upto`. */
void sk_partition_flush_to(sk_partition *p, int64_t upto);
/* Fires and detaches every listener with `info` (NULL: partition gone). */
void sk_partition_fire_listeners(sk_partition *p, const sk_append_info *info);
/* Frees the segments (indexes unmapped, file references dropped). */
void sk_partition_free_segments(sk_partition *p);
/* Removes segs[0 .. n-1]: renamed *.deleted, unlinked after the delay. */
void sk_partition_delete_oldest(sk_partition *p, size_t n);
/* Retires segs[from .. from+n-1] (the array is left to the caller): their
 * files (and producer snapshots when `snapshots`) renamed *.deleted and
 * unlinked after file.delete.delay.ms, the segment objects freed; open
 * slices keep their file descriptors. */
void sk_partition_retire_segments(sk_partition *p, size_t from, size_t n, bool snapshots);
/* Appends `seg` to the segment array. 0, or -1 when out of memory. */
int sk_partition_push_segment(sk_partition *p, sk_segment *seg);
/* First offset after segment i: the next segment's base, or the log end. */
int64_t sk_partition_segment_end(const sk_partition *p, size_t i);
/* Loads segment i's indexes on first use. 0 or -1. */
int sk_partition_ensure_segment(sk_partition *p, size_t i);
/* Index of the segment holding `offset` (0 when below every segment). */
size_t sk_partition_find_segment(const sk_partition *p, int64_t offset);

/* ---- A partition's producer state on disk (producer_snapshot.c) ---- */
/* Commits `pa` into the partition's state and records its aborted
 * transactions in `seg` (the segment holding their markers) with the last
 * stable offset they leave behind. 0, or -1 (logged) on a failure. */
int sk_partition_apply_producers(sk_partition *p, sk_segment *seg, sk_producer_append *pa);
/* Producer state of a loaded partition: the newest
 * snapshot at or below the log end offset (newer ones are deleted), then
 * the batches after it, whose aborted transactions are written to their
 * segments' .txnindex again. 0 or -1. */
int sk_partition_load_producers(sk_partition *p);
/* Writes `<log end offset>.snapshot` (in the background when `later`, else
 * now without fsync: the caller syncs the file system) and deletes the
 * snapshots older than the segment before the active one. */
void sk_partition_snapshot_producers(sk_partition *p, bool later);

/* ---- Log cleaner (cleaner.c on the loop, cleaner_pass.c on its worker,
 *      cleaner_recover.c at load) ---- */

/* Key -> newest offset of one pass (Kafka's SkimpyOffsetMap): 128-bit key
 * hashes and offsets in an open-addressing table that grows up to the
 * dedupe buffer and fills to 90% of it. */
typedef struct sk_clean_map {
    struct map_slot *slots;        /* the table (heap), cap slots */
    size_t cap, count;             /* slots allocated (a power of two) and keys held */
    size_t max_slots, max_entries; /* the dedupe buffer's bound on cap, and 90% of it on count */
    int64_t latest;                /* last offset of the last batch indexed, -1 none */
} sk_clean_map;

void sk_clean_map_init(sk_clean_map *m, int64_t max_bytes);
void sk_clean_map_free(sk_clean_map *m);
/* True when `n` more keys fit. */
bool sk_clean_map_has_room(const sk_clean_map *m, size_t n);
/* Records `offset` as the newest of `key`. 0, or -1 when full / out of memory. */
int sk_clean_map_put(sk_clean_map *m, const uint8_t *key, size_t len, int64_t offset);
/* The newest offset of `key`, -1 when absent. */
int64_t sk_clean_map_get(const sk_clean_map *m, const uint8_t *key, size_t len);

/* One segment of a pass: immutable (never the active one). */
typedef struct sk_clean_seg {
    int64_t base, end;     /* offsets [base, end): end = the next segment's base */
    int64_t size;          /* bytes */
    int64_t mtime_ms;      /* .log modification time, ms (a group's last one goes to its cleaned segment) */
    sk_segment_file *file; /* reference held by the job */
} sk_clean_seg;

/* A producer the partition knows (Kafka's lastRecordsOfActiveProducers). */
typedef struct sk_clean_producer {
    int64_t producer_id;      /* the key */
    int64_t last_data_offset; /* last offset of its last data batch, -1 none */
    int16_t producer_epoch;   /* its current epoch */
} sk_clean_producer;

/* Job segments [first, first + count) cleaned into one segment. */
typedef struct sk_clean_group {
    size_t first, count; /* index in the job's segs of its first segment, and how many */
    int64_t size;        /* bytes of the cleaned segment */
    bool written;        /* its .cleaned files are complete and synced */
} sk_clean_group;

typedef struct sk_clean_stats {
    int64_t bytes_read, bytes_written, records_read, records_kept; /* of one pass, for its log line */
} sk_clean_stats;

typedef struct sk_clean_job {
    sk_partition *p;              /* reference held; only `deleted` is read on the worker */
    const atomic_bool *stop;      /* set when the store closes: the pass gives up */
    char *dir;                    /* copy of p->dir */
    sk_log_config cfg;            /* copy: segment.bytes, index settings */
    sk_clean_seg *segs;           /* the log's first segments, up to the first uncleanable one */
    size_t nsegs;                 /* entries in segs */
    int64_t first_dirty;          /* the dirty range is [first_dirty, upper_bound) */
    int64_t upper_bound;          /* segs[nsegs-1].end: the round's end (its last batch is kept) */
    sk_aborted_txn *aborted;      /* aborted transactions starting below that end, by first offset */
    size_t naborted;              /* entries in aborted */
    sk_clean_producer *producers; /* by producer id */
    size_t nproducers;            /* entries in producers */
    int64_t now_ms, delete_retention_ms, dedupe_buffer_bytes; /* clock when chosen (ms), delete.retention.ms,
                                                                 log.cleaner.dedupe.buffer.size (bytes) */
    size_t io_buffer_bytes, decompress_cap; /* log.cleaner.io.buffer.size, and the inflate bound of one batch */
    double io_max_bytes_per_second;         /* log.cleaner.io.max.bytes.per.second */
    double throttle_start;                  /* worker: monotonic seconds of the current measurement window */
    int64_t throttle_bytes;                 /* worker: bytes read and written in it */
    double dirty_ratio;                     /* when chosen, for the log line */
    int64_t started_ms;                     /* clock when the pass started, ms (for its log line) */
    /* Results (worker) */
    sk_clean_map map;               /* keys of the dirty range -> their newest offset */
    int64_t end_offset;             /* the pass cleaned below this; -1 when it failed */
    sk_clean_group *groups;         /* the cleaned segments to swap in */
    size_t ngroups, groups_written; /* entries in groups, and how many are written */
    bool failed;                    /* a segment could not be read or written */
    bool stopped;                   /* given up: store closing or partition deleted */
    sk_clean_stats stats;           /* what the pass read and kept */
} sk_clean_job;

/* Runs the pass (the worker's job function). */
void sk_clean_job_run(void *arg);
/* Unlinks the .cleaned files of the group based at `base`. */
void sk_clean_group_unlink(const char *dir, int64_t base);
/* Finishes swaps a crash interrupted, before the directory is listed
 * (Kafka's LogLoader): each `<base>.log.swap` replaces the segments whose
 * base offsets lie in its offset range, then every *.swap file loses its
 * suffix (their indexes are rebuilt). 0 or -1. */
int sk_cleaner_recover_swaps(sk_partition *p);
/* Starts the cleaner of `s` (periodic look every log.cleaner.backoff.ms). */
int sk_cleaner_start(sk_logstore *s, const sk_config *cfg);
/* Stops its timer and tells a pass in flight to give up at its next batch
 * (its unfinished .cleaned files are removed; the workers' drain waits). */
void sk_cleaner_stop(sk_logstore *s);
/* Frees it (after the workers drained). */
void sk_cleaner_free(sk_logstore *s);

/* ---- The store (logstore.c; its table and clock in store_table.c) ---- */
typedef struct sk_delete_batch sk_delete_batch;

struct sk_logstore {
    /* Configuration */
    char *dir;                      /* log.dirs (owned) */
    struct event_base *base;        /* the event loop its timers run on */
    sk_bg *bg;                      /* workers for fsyncs, deletes and cleaner passes */
    bool own_bg;                    /* bg was created by the store (freed with it) */
    int64_t (*now_ms)(void *arg);   /* the wall clock, ms (tests pass their own) */
    void *clock_arg;                /* argument of now_ms */
    sk_log_config defaults;         /* settings of logs without topic overrides (the broker's log.* keys) */
    int64_t retention_check_ms;     /* log.retention.check.interval.ms */
    int64_t producer_expiration_ms; /* producer.id.expiration.ms */
    int64_t producer_check_ms;      /* producer.id.expiration.check.interval.ms */
    bool recover_on_load;           /* the last stop was not clean */
    /* State */
    sk_htab partitions; /* by (topic, index); buckets reserved at open */
    struct event *retention_ev, *flush_ev, *checkpoint_ev, *producers_ev; /* periodic timers */
    bool checkpoint_running, checkpoint_again; /* a checkpoint job is in flight; another is due after it */
    sk_delete_batch *deletes;                  /* renamed segment files waiting for file.delete.delay.ms */
    sk_fsync_stats fsync;                      /* flush job latencies (sk_logstore_fsync_stats) */
    uint64_t writeback_jobs;                   /* writeback ranges handed to the worker (sk_segment_writeback_later) */
    struct sk_cleaner *cleaner;                /* the log cleaner (cleaner.c), NULL when disabled */
};

/* Adds `p` to the store's table (buckets reserved at open, so it cannot fail). */
void sk_logstore_insert(sk_logstore *s, sk_partition *p);
/* CLOCK_REALTIME in ms: the store's clock unless the options give one. */
int64_t sk_logstore_wall_clock_ms(void *arg);

/* ---- Background file jobs (file_jobs.c) ---- */
/* Writes `len` bytes of `data` to the file `name` in the partition's
 * directory atomically on the sync worker (sk_file_write_atomic_at); not at
 * all once the partition is deleted. Takes `data` (heap). */
void sk_partition_write_later(sk_partition *p, const char *name, char *data, size_t len);

/* Queues renamed files for unlinking after `delay_ms`, each with the file
 * reference (may be NULL) to drop once unlinked. Takes the arrays. */
/* Appended .log bytes after which the kernel is asked to start writing them
 * back (sk_segment_writeback_later), so that dirty pages never pile up until
 * the kernel's own flusher starts on gigabytes at once (docs/benchmarks.md,
 * issue 23). Starting writeback changes no durability promise: fsync and the
 * flush policies are unchanged. */
#define SK_WRITEBACK_CHUNK (4 << 20)

/* Hands the segment's .log bytes [writeback_from, size) to the writeback
 * worker, which starts their writeback (sync_file_range, no wait) off the
 * event loop, and moves writeback_from to size. */
void sk_segment_writeback_later(sk_logstore *s, sk_segment *seg);

void sk_logstore_delete_later(sk_logstore *s, char **paths, size_t npaths, sk_segment_file **files, size_t nfiles,
                              int64_t delay_ms);
/* Queues directory `tree` (a deleted partition's, heap: taken) for removal
 * after `delay_ms`, with file references to drop once it is gone (the
 * array is taken; may be NULL). */
void sk_logstore_delete_tree_later(sk_logstore *s, char *tree, sk_segment_file **files, size_t nfiles,
                                   int64_t delay_ms);
/* Hands every delete still waiting for its delay to the workers (close). */
void sk_logstore_deletes_now(sk_logstore *s);
/* Forgets the waiting deletes without unlinking (an unclean close). */
void sk_logstore_deletes_drop(sk_logstore *s);
/* Writes the three checkpoint files now, on the calling thread (close). */
void sk_logstore_checkpoint_now(sk_logstore *s);

/* ---- Checkpoints and metadata files (checkpoint.c) ---- */
typedef struct sk_checkpoint_entry {
    char *topic;       /* heap (sk_checkpoint_entries_free) */
    int32_t partition; /* partition number */
    int64_t offset;    /* the checkpointed offset */
} sk_checkpoint_entry;

/* Parses Kafka's offset checkpoint text ("0\n<n>\n<topic> <partition> <offset>\n"...).
 * Returns the number of entries (array in *out, free with
 * sk_checkpoint_entries_free), or -1 when malformed. */
int sk_checkpoint_parse(const char *text, size_t len, sk_checkpoint_entry **out);
void sk_checkpoint_entries_free(sk_checkpoint_entry *e, int n);
/* Reads a checkpoint file; a missing or malformed file gives 0 entries (and a
 * warning when malformed). */
int sk_checkpoint_read(const char *path, sk_checkpoint_entry **out);
/* Renders the store's checkpoints: `which` 0 = recovery points, 1 = log
 * start offsets, 2 = first dirty offsets of the cleaner. Heap string (caller frees), length in *len. */
char *sk_checkpoint_render(sk_logstore *s, int which, size_t *len);
/* Kafka's partition.metadata text for a topic id (heap, caller frees). */
char *sk_partition_metadata_render(const uint8_t id[16], size_t *len);
/* Parses partition.metadata; 0 and the id, or -1. */
int sk_partition_metadata_parse(const char *text, uint8_t id[16]);

/* ---- Client validation (validate.c) ---- */
/* Applies compression.type `codec` at `level` and cleanup.policy of `lc` to
 * batch `b` (parsed, whole; Kafka's LogValidator): another codec means check
 * (CRC first) and recompress into `rebuilt` (left empty when the batch is
 * kept as it came); a compacted topic's compressed batch is decompressed to
 * check every record has a key. An LZ4 frame Kafka cannot read is
 * UNKNOWN_SERVER_ERROR, or CORRUPT_MESSAGE when the CRC fails too. Returns
 * NONE or the batch's error code. */
int16_t sk_log_conform_compression(const sk_log_config *lc, int codec, int32_t level, const sk_batch *b,
                                   sk_writer *rebuilt);
/* After the batch at `batch` (`avail` bytes left) was refused with `err`
 * (INVALID_RECORD or INVALID_TIMESTAMP) under `lc` and `origin` at `now_ms`:
 * fills `out` with the records LogValidator rejects one by one and returns
 * the code they call for (any timestamp error: INVALID_TIMESTAMP). Leaves
 * `out` alone and returns `err` when the refusal was about the batch's
 * structure (no record is named then) or memory ran out. */
int16_t sk_log_name_record_errors(const sk_log_config *lc, sk_append_origin origin, const uint8_t *batch, size_t avail,
                                  int64_t now_ms, int16_t err, sk_record_errors *out);

#endif
