/*
 * Producer ids and the transaction coordinator (KIP-98, KIP-360, KIP-664).
 * This node coordinates every transactional id. Kafka's rules are followed
 * observably (Apache Kafka 4.0 TransactionCoordinator and
 * TransactionMetadata, transaction versions 0 and 1: the epoch is bumped by
 * InitProducerId and by fencing, not by every transaction).
 *
 * The state machine lives in src/coord/txn.c, whose header comment has the
 * state diagram, the transition table and the state x API matrix.
 *
 * Durability: every transition is written to __transaction_state (key:
 * TransactionLogKey v0, value: TransactionLogValue v0; Kafka's formats,
 * src/coord/txn_records.c) through sk_txn_store.append before it is applied
 * and answered; at start the records are fed back through sk_txns_replay,
 * then sk_txns_loaded finishes what the stop interrupted (markers of
 * PrepareCommit/PrepareAbort transactions) and arms the timeouts. Markers
 * are real control batches written to each partition of the transaction
 * through sk_txn_store.write_marker (there is no second broker: Kafka's
 * WriteTxnMarkers is a function call here).
 *
 * Timers (transaction timeouts, marker retries) are libevent timers, one
 * per transactional id, plus one that looks for idle ids every
 * transaction.remove.expired.transaction.cleanup.interval.ms: an id with
 * nothing in flight, unchanged for transactional.id.expiration.ms, is
 * forgotten (a tombstone is stored). Without an event base (tests)
 * sk_txns_run_timers fires what is due by the injected clock. One thread
 * owns everything (no locks).
 */
#ifndef SKIFF_TXN_H
#define SKIFF_TXN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "skiff/arena.h"
#include "skiff/config.h"

struct event_base;
struct sk_broker;

/* ---- Producer ids ---- */

/* Hands out producer ids unique across restarts, as Kafka's controller
 * does: blocks of SK_PRODUCER_ID_BLOCK ids, each block reserved in the file
 * `<dir>/producer-id-block` (text "version\nnext block start\n", written
 * with sk_file_write_atomic) before any id of it is used. */
typedef struct sk_producer_ids sk_producer_ids;

#define SK_PRODUCER_ID_BLOCK 1000 /* Kafka's ProducerIdsBlock size */

/* Opens the allocator in `dir` (existing). Returns NULL (logged) when the
 * file is unreadable or malformed, or out of memory. */
sk_producer_ids *sk_producer_ids_open(const char *dir);
/* The next id in *out. Returns 0, or -1 (logged, errno set) when a new
 * block cannot be reserved. */
int sk_producer_ids_next(sk_producer_ids *ids, int64_t *out);
/* Frees it (NULL is a no-op). Unused ids of the block are lost, as in Kafka. */
void sk_producer_ids_close(sk_producer_ids *ids);

/* ---- The coordinator ---- */

typedef struct sk_txns sk_txns;

/* Transaction states, with Kafka's ids (the TransactionStatus byte of
 * __transaction_state values) and names (DescribeTransactions). */
typedef enum sk_txn_state {
    SK_TXN_EMPTY = 0,
    SK_TXN_ONGOING = 1,
    SK_TXN_PREPARE_COMMIT = 2,
    SK_TXN_PREPARE_ABORT = 3,
    SK_TXN_COMPLETE_COMMIT = 4,
    SK_TXN_COMPLETE_ABORT = 5,
    SK_TXN_DEAD = 6,
    SK_TXN_PREPARE_EPOCH_FENCE = 7,
} sk_txn_state;

#define SK_TXN_NSTATES 8

/* Kafka's name of a state ("PrepareCommit"); static storage. */
const char *sk_txn_state_name(sk_txn_state s);
/* The state named `name` (exact, as Kafka matches ListTransactions
 * filters), or -1. */
int sk_txn_state_parse(const char *name);

/* Where the coordinator writes. */
typedef struct sk_txn_store {
    /* Appends one __transaction_state record (value NULL: tombstone) to
     * partition `partition`, `now_ms` the append time. Returns NONE once
     * stored, or a Kafka error code. */
    int16_t (*append)(void *arg, int32_t partition, const uint8_t *key, size_t key_len, const uint8_t *value,
                      size_t value_len, int64_t now_ms);
    /* Writes a COMMIT or ABORT marker of `producer_id` at `producer_epoch`
     * to `topic`-`partition` (and applies what it means there, e.g. the
     * group coordinator's pending offsets). Returns NONE; a retriable
     * error (sk_err_retriable: the marker is retried later); or another
     * error, after which the coordinator gives up on that partition (e.g.
     * UNKNOWN_TOPIC_OR_PARTITION: the partition is gone, as Kafka drops
     * such markers). */
    int16_t (*write_marker)(void *arg, const char *topic, int32_t partition, int64_t producer_id,
                            int16_t producer_epoch, bool commit, int64_t now_ms);
    void *arg;
} sk_txn_store;

typedef struct sk_txns_opts {
    int64_t (*now_ms)(void *arg); /* wall clock, ms; NULL = CLOCK_REALTIME. Tests inject one. */
    void *clock_arg;              /* passed to now_ms */
    struct event_base *base;      /* loop for the timers; NULL = call sk_txns_run_timers */
    const sk_txn_store *store;    /* NULL = state in memory only, no markers */
    sk_producer_ids *ids;         /* required; borrowed */
    int32_t num_partitions;       /* partitions of __transaction_state; 0 = the config's */
    int64_t marker_retry_ms;      /* wait before retrying failed markers; 0 = 1000 */
} sk_txns_opts;

/* Creates the coordinator, loading (every operation answers
 * COORDINATOR_LOAD_IN_PROGRESS until sk_txns_loaded). `cfg` (borrowed,
 * outlives it) gives transaction.max.timeout.ms and
 * transaction.state.log.num.partitions. NULL when out of memory. */
sk_txns *sk_txns_open(const sk_config *cfg, const sk_txns_opts *opts);
/* Frees everything (NULL is a no-op). Open transactions stay as stored. */
void sk_txns_close(sk_txns *tc);

/* Applies one stored __transaction_state record (replay at start): the
 * newest value of a transactional id wins, a tombstone removes it.
 * Returns 0, or -1 when malformed (logged, skipped). */
int sk_txns_replay(sk_txns *tc, const uint8_t *key, size_t key_len, const uint8_t *value, size_t value_len);
/* Ends the load: completes PrepareCommit/PrepareAbort transactions (their
 * markers again, then CompleteCommit/CompleteAbort), arms the timeouts of
 * Ongoing ones (a timeout already passed aborts at the next timer run). */
void sk_txns_loaded(sk_txns *tc);

/* Fires what is due by the clock (timeouts: the transaction is aborted with
 * a bumped epoch, fencing the producer; marker retries). Returns how many
 * fired. The libevent timers call it; tests call it after moving the clock. */
int sk_txns_run_timers(sk_txns *tc);

/* The partition of __transaction_state holding `transactional_id`:
 * abs(Java String.hashCode) % partitions, as Kafka computes it. */
int32_t sk_txn_partition_for(const char *transactional_id, int32_t partitions);

/* ---- Operations (the handlers' side) ----
 * Errors are Kafka's, before any per-version mapping (the handlers turn
 * PRODUCER_FENCED into INVALID_PRODUCER_EPOCH for versions that predate
 * it). Every operation answers COORDINATOR_LOAD_IN_PROGRESS while loading,
 * and a store failure as Kafka does: NOT_COORDINATOR (KAFKA_STORAGE_ERROR),
 * COORDINATOR_NOT_AVAILABLE (missing partition), UNKNOWN_SERVER_ERROR. */

/* InitProducerId. `transactional_id` NULL: a fresh producer id at epoch 0
 * (idempotent producers; Kafka ignores any given id and epoch then). Else:
 * INVALID_REQUEST (empty id), INVALID_TRANSACTION_TIMEOUT (timeout <= 0
 * or above transaction.max.timeout.ms), PRODUCER_FENCED (the given
 * id/epoch is not the current one, nor a retry), CONCURRENT_TRANSACTIONS
 * (a transaction is completing; or an open one was just aborted with a
 * bumped epoch: retry), or NONE with the id and the next epoch (a new id
 * when the epoch is exhausted). `producer_id`/`producer_epoch` are -1 when
 * not given (v0-2). */
int16_t sk_txn_init_producer_id(sk_txns *tc, const char *transactional_id, int32_t timeout_ms, int64_t producer_id,
                                int16_t producer_epoch, int64_t *out_id, int16_t *out_epoch);

/* One partition of a transaction. */
typedef struct sk_txn_partition {
    const char *topic;
    int32_t partition;
} sk_txn_partition;

/* AddPartitionsToTxn (and AddOffsetsToTxn, whose partition is the group's
 * __consumer_offsets partition): INVALID_REQUEST (empty id),
 * INVALID_PRODUCER_ID_MAPPING (unknown id or another producer id),
 * PRODUCER_FENCED (another epoch), CONCURRENT_TRANSACTIONS (completing), or
 * NONE: the transaction is Ongoing with these partitions. */
int16_t sk_txn_add_partitions(sk_txns *tc, const char *transactional_id, int64_t producer_id, int16_t producer_epoch,
                              const sk_txn_partition *parts, int32_t n);
/* AddPartitionsToTxn v4 verify_only (KIP-890): per partition NONE when it
 * is in the transaction, else TRANSACTION_ABORTABLE, written to errors[i];
 * a transaction-level error (as above) is returned instead and errors[]
 * left alone. */
int16_t sk_txn_verify_partitions(sk_txns *tc, const char *transactional_id, int64_t producer_id, int16_t producer_epoch,
                                 const sk_txn_partition *parts, int32_t n, int16_t *errors);
/* Produce of a transactional batch to `topic`-`partition` (Kafka 3.6+'s
 * partition verification, KIP-890 part 1: a late or stray transactional
 * write must not open a transaction no marker will close). NONE when
 * `tc` or `transactional_id` is NULL or the transaction is Ongoing with
 * the partition; else as Kafka's AddPartitionsToTxnManager tells
 * producers: INVALID_TXN_STATE (partition not added), INVALID_PRODUCER_EPOCH
 * (fenced), INVALID_PRODUCER_ID_MAPPING, INVALID_REQUEST, or the retriable
 * NOT_ENOUGH_REPLICAS (completing or loading). */
int16_t sk_txn_check_produce(sk_txns *tc, const char *transactional_id, int64_t producer_id, int16_t producer_epoch,
                             const char *topic, int32_t partition);
/* EndTxn from the client: INVALID_REQUEST, INVALID_PRODUCER_ID_MAPPING,
 * PRODUCER_FENCED, CONCURRENT_TRANSACTIONS (the same outcome is being
 * completed), INVALID_TXN_STATE (nothing open, or the other outcome), or
 * NONE: PrepareCommit/PrepareAbort is stored, the markers written (failed
 * ones are retried on a timer) and, once all are, the transaction is
 * complete. A retry of a completed commit (abort) answers NONE. */
int16_t sk_txn_end(sk_txns *tc, const char *transactional_id, int64_t producer_id, int16_t producer_epoch, bool commit);
/* Whether TxnOffsetCommit may proceed for the group whose offsets live in
 * `offsets_partition` of __consumer_offsets: INVALID_PRODUCER_ID_MAPPING
 * (unknown id / other producer id), INVALID_PRODUCER_EPOCH (another epoch,
 * as the log check of Kafka's transactional offset commit answers),
 * CONCURRENT_TRANSACTIONS (completing), INVALID_TXN_STATE (not Ongoing
 * with that partition: AddOffsetsToTxn first), or NONE. */
int16_t sk_txn_check_offset_commit(sk_txns *tc, const char *transactional_id, int64_t producer_id,
                                   int16_t producer_epoch, int32_t offsets_partition);

/* One transactional id as DescribeTransactions and ListTransactions show it. */
typedef struct sk_txn_info {
    const char *transactional_id; /* in the arena */
    sk_txn_state state;
    int32_t timeout_ms;
    int64_t start_time_ms; /* -1 when no transaction ran */
    int64_t producer_id;
    int16_t producer_epoch;
    sk_txn_partition *partitions; /* in the arena, grouped by topic */
    int32_t npartitions;
} sk_txn_info;

/* Describes `transactional_id` into *out (strings and arrays in `arena`).
 * Returns NONE, COORDINATOR_LOAD_IN_PROGRESS, INVALID_REQUEST (empty id),
 * TRANSACTIONAL_ID_NOT_FOUND, or UNKNOWN_SERVER_ERROR (out of memory). */
int16_t sk_txn_describe(sk_txns *tc, const char *transactional_id, sk_txn_info *out, sk_arena *arena);
/* Lists the transactional ids whose state is one of `states`, whose
 * producer id is one of `producer_ids` (none: any), and, when
 * `min_duration_ms` >= 0, whose transaction has run longer than that
 * (ListTransactions v1; Kafka's duration filter: now - start > it).
 * `nstates` < 0 means no state filter (0: none matches, as when every
 * requested name was unknown). Partitions are not filled. Allocates *out
 * in `arena`; returns the count, or -1 when out of memory. */
int32_t sk_txns_list(sk_txns *tc, const sk_txn_state *states, int32_t nstates, const int64_t *producer_ids,
                     int32_t nids, int64_t min_duration_ms, sk_txn_info **out, sk_arena *arena);
/* COORDINATOR_LOAD_IN_PROGRESS while loading, else NONE (for list answers). */
int16_t sk_txns_status(const sk_txns *tc);

/* ---- On a running broker ---- */

/* The coordinator of a running broker (after the group coordinator, whose
 * pending transactional offsets its markers end): opens the producer id
 * allocator in the log dir, creates __transaction_state when missing
 * (transaction.state.log.num.partitions partitions, compacted; an existing
 * topic keeps its count), replays it and calls sk_txns_loaded. Markers go
 * to the partition logs (sk_partition_append_marker); on __consumer_offsets
 * partitions they also end the producer's pending offsets in the group
 * coordinator. Returns NULL on failure (logged). */
sk_txns *sk_txns_start(struct sk_broker *b, const char *log_dir);
/* Stops the broker's coordinator and its producer id allocator (NULL is a
 * no-op). */
void sk_txns_stop(sk_txns *tc);
/* The coordinator's producer id allocator (opts.ids). */
sk_producer_ids *sk_txns_producer_ids(sk_txns *tc);

#endif
