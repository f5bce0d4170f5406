/*
 * Internals of the transaction coordinator shared by src/coord/txn*.c: the
 * partitions of a transaction and the __transaction_state record formats.
 *
 * Files: txn.c (state machine, operations, the write that stores then
 * replays, timers on coord_timer.h), txn_records.c (Kafka's
 * TransactionLogKey/TransactionLogValue), txn_store.c (the coordinator on
 * a running broker: topic, replay, markers), producer_id.c (id blocks).
 */
#ifndef SKIFF_TXN_INT_H
#define SKIFF_TXN_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "skiff/buf.h"
#include "skiff/txn.h"

#define TXN_TOPIC "__transaction_state"

/* One partition of a transaction. */
typedef struct txn_part {
    char *topic;       /* heap */
    int32_t partition; /* partition index */
    bool marked;       /* its marker is written (PrepareCommit/PrepareAbort) */
} txn_part;

/* A TransactionLogValue (Kafka's field names). */
typedef struct txn_value {
    int64_t producer_id;          /* ProducerId */
    int64_t previous_producer_id; /* v1 tag 0; -1 */
    int64_t next_producer_id;     /* v1 tag 1; -1 */
    int16_t producer_epoch;       /* ProducerEpoch */
    int32_t timeout_ms;           /* TransactionTimeoutMs */
    int8_t state;                 /* TransactionStatus (sk_txn_state) */
    txn_part *parts;              /* TransactionPartitions (heap; NULL when none) */
    int32_t nparts;               /* one entry per partition (grouped by topic on the wire) */
    int64_t update_ms;            /* TransactionLastUpdateTimestampMs */
    int64_t start_ms;             /* TransactionStartTimestampMs */
} txn_value;

/* Key (TransactionLogKey: int16 version 0, then the transactional id).
 * Returns 0, or -1 when the writer failed or the id is too long. */
int sk_txn_key_encode(sk_writer *w, const char *transactional_id);
/* Reads a key; *id is a heap copy. 0, or -1 when malformed or of another
 * version. */
int sk_txn_key_decode(const uint8_t *p, size_t len, char **id);

/* Value (TransactionLogValue) written as version 0: the partitions grouped
 * by topic, null for Empty, as Kafka does. Returns 0 or -1. */
int sk_txn_value_encode(sk_writer *w, const txn_value *v);
/* Reads a value of version 0 or 1 (flexible, KIP-890's tagged fields). The
 * parts are heap copies (sk_txn_value_free). 0, or -1 when malformed, of an
 * unknown version or state. */
int sk_txn_value_decode(const uint8_t *p, size_t len, txn_value *out);
void sk_txn_value_free(txn_value *v);

#endif
