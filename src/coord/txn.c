/*
 * The transaction coordinator's state machine (Kafka 4.0's
 * TransactionCoordinator and TransactionMetadata, transaction versions 0
 * and 1): one entry per transactional id with its producer id and epoch,
 * timeout, state and partitions. Every transition is stored in
 * __transaction_state and, once stored, applied by replaying the record
 * (sk_txns_replay, the load path: txn_write); markers are written
 * synchronously to the partitions, so a transaction is normally complete
 * when EndTxn is answered, and CONCURRENT_TRANSACTIONS is only seen while
 * failed markers wait for a retry.
 *
 *                  InitProducerId: epoch + 1
 *                    +------+
 *                    v      |
 *   new id -----> Empty ----+
 *                  ^  |
 *   InitProducerId |  | AddPartitions / AddOffsets       AddPartitions (more)
 *   (epoch + 1)    |  v                                   +----+
 *                  |  +--------------------------------> Ongoing <--+
 *                  |  ^ AddPartitions / AddOffsets        |    |
 *                  |  |                     EndTxn commit |    | EndTxn abort, or the timeout or
 *                  |  |                                   v    v InitProducerId (epoch + 1 first)
 *                  |  |                     PrepareCommit      PrepareAbort
 *                  |  |                           | markers         | markers
 *                  |  |                           v                 v
 *                  +--+-------------------- CompleteCommit      CompleteAbort
 *                                           (CompleteAbort has the same exits)
 *
 * Transition table (target <- allowed sources: function):
 *   Empty          <- Empty, CompleteCommit, CompleteAbort : init_transactional
 *   Ongoing        <- Empty, Ongoing, CompleteCommit, CompleteAbort : add_partitions
 *   PrepareCommit  <- Ongoing : end_transaction
 *   PrepareAbort   <- Ongoing : end_transaction (from the client, or after
 *                    fence_and_abort bumped the epoch)
 *   CompleteCommit <- PrepareCommit : complete (after send_markers)
 *   CompleteAbort  <- PrepareAbort : complete
 * transit() refuses anything else (UNKNOWN_SERVER_ERROR, an ERROR "BUG:" line).
 * Timers (timeouts, marker retries, id expiration) are on the coordinators'
 * one facility, coord_timer.h, on the clock of sk_txns_opts.now_ms.
 *
 * State x API -> answer (same producer id and epoch; otherwise
 * INVALID_PRODUCER_ID_MAPPING for another id, PRODUCER_FENCED for another
 * epoch, except InitProducerId, which fences):
 *                   InitProducerId   AddPartitions    EndTxn commit   EndTxn abort
 *   (unknown id)    new id, Empty    INVALID_PID_MAP  INVALID_PID_MAP INVALID_PID_MAP
 *   Empty           epoch+1          -> Ongoing       INVALID_TXN     INVALID_TXN
 *   Ongoing         abort, CONCURRENT -> Ongoing      -> commit       -> abort
 *   PrepareCommit   CONCURRENT       CONCURRENT       CONCURRENT      INVALID_TXN
 *   PrepareAbort    CONCURRENT       CONCURRENT       INVALID_TXN     CONCURRENT
 *   CompleteCommit  epoch+1          -> Ongoing       NONE (retry)    INVALID_TXN
 *   CompleteAbort   epoch+1          -> Ongoing       INVALID_TXN     NONE (retry)
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coord_timer.h"
#include "skiff/errors.h"
#include "skiff/invariant.h"
#include "skiff/group.h"
#include "skiff/htab.h"
#include "skiff/trace.h"
#include "txn_int.h"

#define MARKER_RETRY_MS 1000
#define COORDINATOR_EPOCH 0 /* one node: the coordinator never moves */

typedef struct txn_meta txn_meta;

struct txn_meta {
    sk_txns *tc;                  /* its coordinator */
    char *id;                     /* transactional id */
    int64_t producer_id;          /* the current producer id */
    int64_t previous_producer_id; /* before the last id rotation, -1 */
    int16_t producer_epoch;       /* -1 until the first InitProducerId is stored */
    int16_t last_producer_epoch;  /* the epoch before the last bump, for retries; -1 */
    int32_t timeout_ms;           /* transaction.timeout.ms of the last InitProducerId */
    sk_txn_state state;           /* the stored state */
    txn_part *parts;              /* the transaction's partitions */
    int32_t nparts;               /* entries at parts */
    int64_t start_ms;             /* when the transaction began, -1 */
    int64_t update_ms;            /* last transition */
    bool fence_failed;            /* a fencing abort could not be stored: do not bump again */
    sk_coord_timer timer;         /* the transaction's timeout or the next marker retry */
    sk_hnode node;                /* in the table by transactional id */
};

struct sk_txns {
    /* Configuration */
    const sk_config *cfg;    /* broker configuration (borrowed) */
    sk_txn_store store;      /* copy of *opts.store */
    bool has_store;          /* store is set (tests may run without one) */
    sk_producer_ids *ids;    /* producer id blocks (borrowed) */
    int32_t num_partitions;  /* of __transaction_state */
    int64_t marker_retry_ms; /* wait before a failed marker is written again, ms */
    /* State */
    bool loading;              /* until sk_txns_loaded */
    sk_coord_timers timers;    /* every deadline, on the clock of sk_txns_opts.now_ms */
    sk_coord_timer expiration; /* next look for idle ids (transaction.cleanup.interval.ms) */
    sk_htab metas;             /* txn_meta by transactional id */
};

static const char *const state_names[SK_TXN_NSTATES] = {
    "Empty", "Ongoing", "PrepareCommit", "PrepareAbort", "CompleteCommit", "CompleteAbort", "Dead", "PrepareEpochFence",
};

#define BIT(s) (1u << (s))
/* Allowed source states of each stored target (TransactionState.validPreviousStates). */
static const unsigned valid_previous[SK_TXN_NSTATES] = {
    [SK_TXN_EMPTY] = BIT(SK_TXN_EMPTY) | BIT(SK_TXN_COMPLETE_COMMIT) | BIT(SK_TXN_COMPLETE_ABORT),
    [SK_TXN_ONGOING] =
        BIT(SK_TXN_ONGOING) | BIT(SK_TXN_EMPTY) | BIT(SK_TXN_COMPLETE_COMMIT) | BIT(SK_TXN_COMPLETE_ABORT),
    [SK_TXN_PREPARE_COMMIT] = BIT(SK_TXN_ONGOING),
    [SK_TXN_PREPARE_ABORT] = BIT(SK_TXN_ONGOING) | BIT(SK_TXN_PREPARE_EPOCH_FENCE),
    [SK_TXN_COMPLETE_COMMIT] = BIT(SK_TXN_PREPARE_COMMIT),
    [SK_TXN_COMPLETE_ABORT] = BIT(SK_TXN_PREPARE_ABORT),
    [SK_TXN_DEAD] = BIT(SK_TXN_EMPTY) | BIT(SK_TXN_COMPLETE_ABORT) | BIT(SK_TXN_COMPLETE_COMMIT),
    [SK_TXN_PREPARE_EPOCH_FENCE] = BIT(SK_TXN_ONGOING),
};

const char *sk_txn_state_name(sk_txn_state s)
{
    return (unsigned)s < SK_TXN_NSTATES ? state_names[s] : "Unknown";
}

int sk_txn_state_parse(const char *name)
{
    for (int i = 0; i < SK_TXN_NSTATES; i++)
        if (!strcmp(name, state_names[i]))
            return i;
    return -1;
}

int32_t sk_txn_partition_for(const char *transactional_id, int32_t partitions)
{
    return sk_group_partition_for(transactional_id, strlen(transactional_id), partitions);
}

static int64_t now(const sk_txns *tc)
{
    return sk_coord_timers_now(&tc->timers);
}

static bool epoch_exhausted(int16_t epoch)
{
    return epoch >= INT16_MAX - 1;
}

/* ---- The table ---- */

static uint64_t id_hash(const char *id)
{
    return sk_hash_bytes(id, strlen(id));
}

static txn_meta *meta_of(sk_hnode *n)
{
    return SK_CONTAINER_OF(n, txn_meta, node);
}

static txn_meta *meta_find(const sk_txns *tc, const char *id)
{
    uint64_t h = id_hash(id);
    for (sk_hnode *n = sk_htab_chain(&tc->metas, h); n; n = n->next)
        if (n->hash == h && !strcmp(meta_of(n)->id, id))
            return meta_of(n);
    return NULL;
}

static void parts_free(txn_part *parts, int32_t n)
{
    for (int32_t i = 0; i < n; i++)
        free(parts[i].topic);
    free(parts);
}

static void meta_free(txn_meta *m)
{
    sk_coord_timer_cancel(&m->tc->timers, &m->timer);
    parts_free(m->parts, m->nparts);
    free(m->id);
    free(m);
}

static void meta_timer_fired(void *owner, sk_coord_timer *t);

/* A new entry (Empty, epoch -1) for `id`, as Kafka creates it before the
 * first InitProducerId transition is stored. */
static txn_meta *meta_add(sk_txns *tc, const char *id, int64_t producer_id, int32_t timeout_ms)
{
    txn_meta *m = calloc(1, sizeof *m);
    if (!m || !(m->id = strdup(id)) || sk_htab_insert(&tc->metas, &m->node, id_hash(id)) < 0) {
        if (m)
            free(m->id);
        free(m);
        return NULL;
    }
    m->tc = tc;
    m->producer_id = producer_id;
    m->previous_producer_id = -1;
    m->producer_epoch = -1;
    m->last_producer_epoch = -1;
    m->timeout_ms = timeout_ms;
    m->state = SK_TXN_EMPTY;
    m->start_ms = -1;
    m->update_ms = now(tc);
    sk_coord_timer_init(&m->timer, meta_timer_fired);
    return m;
}

static bool has_part(const txn_meta *m, const char *topic, int32_t partition)
{
    for (int32_t i = 0; i < m->nparts; i++)
        if (m->parts[i].partition == partition && !strcmp(m->parts[i].topic, topic))
            return true;
    return false;
}

/* ---- Timers (the coordinators' one facility: coord_timer.h) ---- */

static void fire(txn_meta *m);

static void meta_timer_fired(void *owner, sk_coord_timer *t)
{
    (void)owner;
    fire(SK_CONTAINER_OF(t, txn_meta, timer));
}

static void disarm(txn_meta *m)
{
    sk_coord_timer_cancel(&m->tc->timers, &m->timer);
}

static void arm(txn_meta *m, int64_t deadline)
{
    sk_coord_timer_arm_at(&m->tc->timers, &m->timer, deadline);
}

static void expire_ids(sk_txns *tc);

static void expiration_fired(void *owner, sk_coord_timer *t)
{
    (void)t;
    expire_ids(owner);
}

/* Arms the next look for idle transactional ids. */
static void arm_expiration(sk_txns *tc)
{
    sk_coord_timer_arm(&tc->timers, &tc->expiration, tc->cfg->transaction_cleanup_interval_ms);
}

int sk_txns_run_timers(sk_txns *tc)
{
    return sk_coord_timers_run(&tc->timers);
}

/* ---- Transitions ---- */

/* Kafka's mapping of a failed __transaction_state append
 * (TransactionStateManager.appendTransactionToLog). */
static int16_t append_error(int16_t err)
{
    switch (err) {
    case SK_ERR_UNKNOWN_TOPIC_OR_PARTITION:
    case SK_ERR_NOT_ENOUGH_REPLICAS:
    case SK_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND:
    case SK_ERR_REQUEST_TIMED_OUT:
        return SK_ERR_COORDINATOR_NOT_AVAILABLE;
    case SK_ERR_NOT_LEADER_OR_FOLLOWER:
    case SK_ERR_KAFKA_STORAGE_ERROR:
        return SK_ERR_NOT_COORDINATOR;
    default:
        return SK_ERR_UNKNOWN_SERVER_ERROR;
    }
}

/* The runtime's write (Kafka's CoordinatorRuntime shape): m's record,
 * value `v` or a tombstone with `v` NULL, is appended to
 * __transaction_state and, once stored, applied by sk_txns_replay, the
 * code that loads the topic at start-up. Returns NONE, or the store's
 * error with nothing applied (UNKNOWN_SERVER_ERROR when the stored record
 * could not be applied: out of memory). A tombstone's replay frees `m`. */
static int16_t txn_write(txn_meta *m, const txn_value *v, int64_t at_ms)
{
    sk_txns *tc = m->tc;
    sk_writer key, value;
    sk_writer_init(&key, 64);
    sk_writer_init(&value, 128);
    int16_t err = SK_ERR_UNKNOWN_SERVER_ERROR;
    if (sk_txn_key_encode(&key, m->id) == 0 && (!v || sk_txn_value_encode(&value, v) == 0)) {
        err = tc->has_store ? tc->store.append(tc->store.arg, sk_txn_partition_for(m->id, tc->num_partitions), key.buf,
                                               key.len, v ? value.buf : NULL, v ? value.len : 0, at_ms)
                            : SK_ERR_NONE;
        if (err == SK_ERR_NONE && sk_txns_replay(tc, key.buf, key.len, v ? value.buf : NULL, v ? value.len : 0) < 0) {
            sk_error("txn", "%s: a record just written does not replay (out of memory?)", m->id);
            err = SK_ERR_UNKNOWN_SERVER_ERROR;
        }
    }
    sk_writer_free(&key);
    sk_writer_free(&value);
    return err;
}

/* Frees a target's parts unless they are m's own. */
static void target_drop(const txn_meta *m, txn_value *v)
{
    if (v->parts == m->parts) {
        v->parts = NULL;
        v->nparts = 0;
    }
    sk_txn_value_free(v);
}

/* Stores target `v` for `m` (its parts are the transaction's partitions:
 * m's own array, or a heap one), which the record's replay then applies;
 * `v` is used up either way. An illegal transition is refused. */
static int16_t transit(txn_meta *m, txn_value *v, const char *reason)
{
    if (!(valid_previous[v->state] & BIT(m->state))) {
        sk_error("txn", "BUG: %s: illegal transition %s -> %s refused (%s)", m->id, state_names[m->state],
                 state_names[v->state], reason);
        target_drop(m, v);
        return SK_ERR_UNKNOWN_SERVER_ERROR;
    }
    sk_txn_state from = m->state, to = (sk_txn_state)v->state;
    int16_t last_epoch = m->last_producer_epoch;
    bool own_parts = v->parts == m->parts;
    int16_t err = txn_write(m, v, v->update_ms);
    /* m's own parts were replaced (and freed) by the replay */
    if (own_parts) {
        v->parts = NULL;
        v->nparts = 0;
    }
    sk_txn_value_free(v);
    if (err != SK_ERR_NONE) {
        sk_warn("txn", "%s: cannot store %s -> %s: %s", m->id, state_names[from], state_names[to], sk_err_name(err));
        return append_error(err);
    }
    /* Not in the record (Kafka's lastProducerEpoch lives in memory): kept
     * across live transitions, -1 after a load. */
    m->last_producer_epoch = last_epoch;
    sk_info("txn", "%s: %s -> %s (producer %" PRId64 " epoch %d): %s", m->id, state_names[from], state_names[m->state],
            m->producer_id, m->producer_epoch, reason);
    SK_INVARIANT(m->state == to && meta_find(m->tc, m->id) == m, m->id);
    return SK_ERR_NONE;
}

/* The target value: `m` as it is, in state `state`, updated now. */
static txn_value target(const txn_meta *m, sk_txn_state state)
{
    return (txn_value){
        .producer_id = m->producer_id,
        .previous_producer_id = m->previous_producer_id,
        .next_producer_id = -1,
        .producer_epoch = m->producer_epoch,
        .timeout_ms = m->timeout_ms,
        .state = (int8_t)state,
        .update_ms = now(m->tc),
        .start_ms = m->start_ms,
    };
}

/* CompleteCommit/CompleteAbort once every marker is written. */
static void complete(txn_meta *m)
{
    bool commit = m->state == SK_TXN_PREPARE_COMMIT;
    txn_value v = target(m, commit ? SK_TXN_COMPLETE_COMMIT : SK_TXN_COMPLETE_ABORT);
    if (transit(m, &v, "all markers written") != SK_ERR_NONE) {
        arm(m, now(m->tc) + m->tc->marker_retry_ms);
        return;
    }
    m->fence_failed = false;
}

/* Writes the markers not written yet (Kafka's TransactionMarkerChannelManager
 * with WriteTxnMarkers as a call); completes the transaction when all are
 * written, else retries later. */
static void send_markers(txn_meta *m)
{
    sk_txns *tc = m->tc;
    bool commit = m->state == SK_TXN_PREPARE_COMMIT;
    bool pending = false;
    for (int32_t i = 0; i < m->nparts; i++) {
        txn_part *tp = &m->parts[i];
        if (tp->marked || !tc->has_store) {
            tp->marked = true;
            continue;
        }
        int16_t err = tc->store.write_marker(tc->store.arg, tp->topic, tp->partition, m->producer_id, m->producer_epoch,
                                             commit, now(tc));
        if (err == SK_ERR_NONE || err == SK_ERR_UNKNOWN_TOPIC_OR_PARTITION || !sk_err_retriable(err)) {
            if (err != SK_ERR_NONE)
                sk_warn("txn", "%s: dropping the %s marker of %s-%d: %s", m->id, commit ? "COMMIT" : "ABORT", tp->topic,
                        tp->partition, sk_err_name(err));
            tp->marked = true;
        } else {
            sk_warn("txn", "%s: cannot write the %s marker to %s-%d: %s; retrying", m->id, commit ? "COMMIT" : "ABORT",
                    tp->topic, tp->partition, sk_err_name(err));
            pending = true;
        }
    }
    if (pending)
        arm(m, now(tc) + tc->marker_retry_ms);
    else
        complete(m);
}

/* Kafka's endTransaction: `from_client` EndTxn, or an abort the
 * coordinator starts (timeout, fencing by InitProducerId). */
static int16_t end_transaction(txn_meta *m, int64_t producer_id, int16_t epoch, bool commit, bool from_client)
{
    if (m->producer_id != producer_id)
        return SK_ERR_INVALID_PRODUCER_ID_MAPPING;
    if (!((!from_client || epoch == m->producer_epoch) && epoch >= m->producer_epoch))
        return SK_ERR_PRODUCER_FENCED;
    switch (m->state) {
    case SK_TXN_ONGOING: {
        txn_value v = target(m, commit ? SK_TXN_PREPARE_COMMIT : SK_TXN_PREPARE_ABORT);
        v.parts = m->parts;
        v.nparts = m->nparts;
        for (int32_t i = 0; i < m->nparts; i++)
            m->parts[i].marked = false;
        /* The parts stay m's: transit() keeps them when they are the same array. */
        int16_t err = transit(m, &v, from_client ? (commit ? "EndTxn commit" : "EndTxn abort") : "aborting");
        if (err == SK_ERR_NONE) {
            disarm(m);
            send_markers(m);
        }
        return err;
    }
    case SK_TXN_COMPLETE_COMMIT:
        return commit ? SK_ERR_NONE : SK_ERR_INVALID_TXN_STATE;
    case SK_TXN_COMPLETE_ABORT:
        return commit ? SK_ERR_INVALID_TXN_STATE : SK_ERR_NONE;
    case SK_TXN_PREPARE_COMMIT:
        return commit ? SK_ERR_CONCURRENT_TRANSACTIONS : SK_ERR_INVALID_TXN_STATE;
    case SK_TXN_PREPARE_ABORT:
        return commit ? SK_ERR_INVALID_TXN_STATE : SK_ERR_CONCURRENT_TRANSACTIONS;
    case SK_TXN_EMPTY:
        return SK_ERR_INVALID_TXN_STATE;
    default:
        sk_error("txn", "%s: found in state %s", m->id, state_names[m->state]);
        return SK_ERR_UNKNOWN_SERVER_ERROR;
    }
}

/* Kafka's prepareFenceProducerEpoch + endTransaction(ABORT): the producer's
 * epoch goes up by one (not again after a fence that could not be stored)
 * and its open transaction is aborted under the new epoch, so the old
 * epoch's writes and requests are fenced. */
static int16_t fence_and_abort(txn_meta *m, const char *reason)
{
    sk_info("txn", "%s: fencing producer %" PRId64 " epoch %d: %s", m->id, m->producer_id, m->producer_epoch, reason);
    if (!m->fence_failed)
        m->producer_epoch++;
    m->last_producer_epoch = -1;
    int16_t err = end_transaction(m, m->producer_id, m->producer_epoch, false, false);
    m->fence_failed = err != SK_ERR_NONE;
    return err;
}

static void fire(txn_meta *m)
{
    disarm(m);
    switch (m->state) {
    case SK_TXN_ONGOING:
        fence_and_abort(m, "transaction timed out");
        break;
    case SK_TXN_PREPARE_COMMIT:
    case SK_TXN_PREPARE_ABORT:
        send_markers(m);
        break;
    default:
        break;
    }
}

/* Kafka's removeExpiredTransactionalIds: an id with nothing in flight
 * (Empty, CompleteCommit or CompleteAbort, no marker retry) whose last
 * change is transactional.id.expiration.ms old is forgotten once its
 * tombstone is stored; its next InitProducerId starts over with a new
 * producer id. */
static void expire_ids(sk_txns *tc)
{
    int64_t t = now(tc), cutoff = t - tc->cfg->transactional_id_expiration_ms;
    int expired = 0;
    size_t bucket;
    for (sk_hnode *n = sk_htab_next(&tc->metas, NULL, &bucket), *next; n; n = next) {
        next = sk_htab_next(&tc->metas, n, &bucket);
        txn_meta *m = meta_of(n);
        bool idle =
            (m->state == SK_TXN_EMPTY || m->state == SK_TXN_COMPLETE_COMMIT || m->state == SK_TXN_COMPLETE_ABORT) &&
            !sk_coord_timer_armed(&m->timer) && m->update_ms <= cutoff;
        if (!idle)
            continue;
        sk_info("txn", "%s: expiring (producer %" PRId64 ", idle since %" PRId64 " ms)", m->id, m->producer_id,
                t - m->update_ms);
        /* The tombstone's replay forgets the id. */
        int16_t err = txn_write(m, NULL, t);
        if (err != SK_ERR_NONE)
            sk_warn("txn", "%s: cannot store the expiration: %s", m->id, sk_err_name(err));
        else
            expired++;
    }
    if (expired)
        sk_info("txn", "expired %d transactional id%s", expired, expired == 1 ? "" : "s");
    arm_expiration(tc);
}

/* ---- Lifecycle and replay ---- */

sk_txns *sk_txns_open(const sk_config *cfg, const sk_txns_opts *opts)
{
    sk_txns *tc = calloc(1, sizeof *tc);
    if (!tc)
        return NULL;
    tc->cfg = cfg;
    if (sk_coord_timers_init(&tc->timers, opts->base, opts->now_ms, opts->clock_arg, tc) < 0) {
        free(tc);
        return NULL;
    }
    sk_coord_timer_init(&tc->expiration, expiration_fired);
    if (opts->store) {
        tc->store = *opts->store;
        tc->has_store = true;
    }
    tc->ids = opts->ids;
    tc->num_partitions = opts->num_partitions > 0 ? opts->num_partitions : cfg->transaction_state_log_num_partitions;
    tc->marker_retry_ms = opts->marker_retry_ms > 0 ? opts->marker_retry_ms : MARKER_RETRY_MS;
    tc->loading = true;
    return tc;
}

void sk_txns_close(sk_txns *tc)
{
    if (!tc)
        return;
    size_t bucket;
    for (sk_hnode *n = sk_htab_next(&tc->metas, NULL, &bucket), *next; n; n = next) {
        next = sk_htab_next(&tc->metas, n, &bucket);
        meta_free(meta_of(n));
    }
    sk_coord_timers_free(&tc->timers);
    sk_htab_free(&tc->metas);
    free(tc);
}

static void meta_remove(sk_txns *tc, txn_meta *m)
{
    sk_htab_remove(&tc->metas, &m->node);
    meta_free(m);
}

int sk_txns_replay(sk_txns *tc, const uint8_t *key, size_t key_len, const uint8_t *value, size_t value_len)
{
    char *id;
    if (sk_txn_key_decode(key, key_len, &id) < 0) {
        sk_warn("txn", "skipping a %s record with an unknown key", TXN_TOPIC);
        return -1;
    }
    txn_meta *m = meta_find(tc, id);
    if (!value) {
        if (m)
            meta_remove(tc, m);
        free(id);
        return 0;
    }
    txn_value v;
    if (sk_txn_value_decode(value, value_len, &v) < 0) {
        sk_warn("txn", "%s: skipping a malformed %s value", id, TXN_TOPIC);
        free(id);
        return -1;
    }
    if (!m && !(m = meta_add(tc, id, v.producer_id, v.timeout_ms))) {
        sk_txn_value_free(&v);
        free(id);
        return -1;
    }
    free(id);
    if (v.producer_id != m->producer_id)
        m->previous_producer_id = v.previous_producer_id >= 0 ? v.previous_producer_id : m->producer_id;
    m->producer_id = v.producer_id;
    m->producer_epoch = v.producer_epoch;
    m->last_producer_epoch = -1;
    m->timeout_ms = v.timeout_ms;
    m->state = (sk_txn_state)v.state;
    m->start_ms = v.start_ms;
    m->update_ms = v.update_ms;
    parts_free(m->parts, m->nparts);
    m->parts = v.parts;
    m->nparts = v.nparts;
    return 0;
}

/* The timeout of a replayed Ongoing transaction: its start and timeout are
 * untrusted bytes, so a sum below 0 (or overflowing down) is due now and
 * one overflowing up never comes. */
static int64_t replayed_deadline(const txn_meta *m)
{
    int64_t deadline;
    if (__builtin_add_overflow(m->start_ms, (int64_t)m->timeout_ms, &deadline))
        return m->start_ms < 0 ? 0 : INT64_MAX;
    return deadline < 0 ? 0 : deadline;
}

void sk_txns_loaded(sk_txns *tc)
{
    tc->loading = false;
    size_t n = 0;
    size_t bucket;
    for (sk_hnode *h = sk_htab_next(&tc->metas, NULL, &bucket); h; h = sk_htab_next(&tc->metas, h, &bucket)) {
        txn_meta *m = meta_of(h);
        n++;
        if (m->state == SK_TXN_ONGOING)
            arm(m, replayed_deadline(m));
        else if (m->state == SK_TXN_PREPARE_COMMIT || m->state == SK_TXN_PREPARE_ABORT)
            send_markers(m);
    }
    sk_info("txn", "loaded %zu transactional id%s", n, n == 1 ? "" : "s");
    arm_expiration(tc);
}

sk_producer_ids *sk_txns_producer_ids(sk_txns *tc)
{
    return tc->ids;
}

int16_t sk_txns_status(const sk_txns *tc)
{
    return tc->loading ? SK_ERR_COORDINATOR_LOAD_IN_PROGRESS : SK_ERR_NONE;
}

/* ---- Operations ---- */

/* Kafka's prepareInitProducerIdTransit for a transactional id that exists. */
static int16_t init_transactional(txn_meta *m, int32_t timeout_ms, int64_t producer_id, int16_t epoch)
{
    sk_txns *tc = m->tc;
    bool expected = producer_id >= 0;
    if (expected && !(m->producer_epoch == -1 || producer_id == m->producer_id ||
                      (producer_id == m->previous_producer_id && epoch_exhausted(epoch))))
        return SK_ERR_PRODUCER_FENCED;
    switch (m->state) {
    case SK_TXN_PREPARE_COMMIT:
    case SK_TXN_PREPARE_ABORT:
        return SK_ERR_CONCURRENT_TRANSACTIONS;
    case SK_TXN_ONGOING: {
        /* Abort the open transaction under a bumped epoch; the client
         * retries and then gets the next epoch. */
        int16_t err = fence_and_abort(m, "InitProducerId while a transaction is open");
        return err == SK_ERR_NONE ? SK_ERR_CONCURRENT_TRANSACTIONS : err;
    }
    case SK_TXN_EMPTY:
    case SK_TXN_COMPLETE_COMMIT:
    case SK_TXN_COMPLETE_ABORT:
        break;
    default:
        sk_error("txn", "%s: found in state %s", m->id, state_names[m->state]);
        return SK_ERR_UNKNOWN_SERVER_ERROR;
    }
    txn_value v = target(m, SK_TXN_EMPTY);
    v.timeout_ms = timeout_ms;
    v.start_ms = -1;
    int16_t last_epoch;
    if (epoch_exhausted(m->producer_epoch) && (!expected || epoch == m->producer_epoch)) {
        /* prepareProducerIdRotation: a new id at epoch 0. */
        if (sk_producer_ids_next(tc->ids, &v.producer_id) < 0)
            return SK_ERR_UNKNOWN_SERVER_ERROR;
        v.previous_producer_id = m->producer_id;
        v.producer_epoch = 0;
        last_epoch = expected ? m->producer_epoch : -1;
    } else if (!expected) {
        v.producer_epoch = (int16_t)(m->producer_epoch + 1);
        last_epoch = -1;
    } else if (m->producer_epoch == -1 || epoch == m->producer_epoch) {
        v.producer_epoch = (int16_t)(m->producer_epoch + 1);
        last_epoch = m->producer_epoch;
    } else if (epoch == m->last_producer_epoch) {
        /* A retry of a bump whose answer was lost: the same epoch again. */
        last_epoch = m->last_producer_epoch;
    } else {
        return SK_ERR_PRODUCER_FENCED;
    }
    int16_t err = transit(m, &v, "InitProducerId");
    if (err == SK_ERR_NONE)
        m->last_producer_epoch = last_epoch;
    return err;
}

int16_t sk_txn_init_producer_id(sk_txns *tc, const char *transactional_id, int32_t timeout_ms, int64_t producer_id,
                                int16_t producer_epoch, int64_t *out_id, int16_t *out_epoch)
{
    *out_id = -1;
    *out_epoch = 0;
    if (!transactional_id) {
        if (sk_producer_ids_next(tc->ids, out_id) < 0) {
            *out_id = -1;
            return SK_ERR_UNKNOWN_SERVER_ERROR;
        }
        return SK_ERR_NONE;
    }
    if (!*transactional_id)
        return SK_ERR_INVALID_REQUEST;
    if (timeout_ms <= 0 || timeout_ms > tc->cfg->transaction_max_timeout_ms)
        return SK_ERR_INVALID_TRANSACTION_TIMEOUT;
    if (tc->loading)
        return SK_ERR_COORDINATOR_LOAD_IN_PROGRESS;
    txn_meta *m = meta_find(tc, transactional_id);
    if (!m) {
        int64_t id;
        if (sk_producer_ids_next(tc->ids, &id) < 0)
            return SK_ERR_UNKNOWN_SERVER_ERROR;
        if (!(m = meta_add(tc, transactional_id, id, timeout_ms)))
            return SK_ERR_UNKNOWN_SERVER_ERROR;
    }
    int16_t err = init_transactional(m, timeout_ms, producer_id, producer_epoch);
    if (err == SK_ERR_NONE) {
        *out_id = m->producer_id;
        *out_epoch = m->producer_epoch;
    }
    return err;
}

/* The checks shared by the operations on an existing transaction. */
static int16_t find_checked(sk_txns *tc, const char *id, int64_t producer_id, int16_t epoch, int16_t fenced,
                            txn_meta **out)
{
    *out = NULL;
    if (!id || !*id)
        return SK_ERR_INVALID_REQUEST;
    if (tc->loading)
        return SK_ERR_COORDINATOR_LOAD_IN_PROGRESS;
    txn_meta *m = meta_find(tc, id);
    if (!m || m->producer_id != producer_id)
        return SK_ERR_INVALID_PRODUCER_ID_MAPPING;
    if (m->producer_epoch != epoch)
        return fenced;
    *out = m;
    return SK_ERR_NONE;
}

int16_t sk_txn_add_partitions(sk_txns *tc, const char *transactional_id, int64_t producer_id, int16_t producer_epoch,
                              const sk_txn_partition *parts, int32_t n)
{
    txn_meta *m;
    int16_t err = find_checked(tc, transactional_id, producer_id, producer_epoch, SK_ERR_PRODUCER_FENCED, &m);
    if (err != SK_ERR_NONE)
        return err;
    if (m->state == SK_TXN_PREPARE_COMMIT || m->state == SK_TXN_PREPARE_ABORT)
        return SK_ERR_CONCURRENT_TRANSACTIONS;
    int32_t added = 0;
    for (int32_t i = 0; i < n; i++)
        added += !has_part(m, parts[i].topic, parts[i].partition);
    if (m->state == SK_TXN_ONGOING && added == 0)
        return SK_ERR_NONE;
    txn_value v = target(m, SK_TXN_ONGOING);
    bool starts = m->state != SK_TXN_ONGOING;
    if (starts)
        v.start_ms = v.update_ms;
    /* m's partitions (none unless Ongoing), then the new ones once each. */
    v.parts = calloc((size_t)(m->nparts + n) + 1, sizeof *v.parts);
    if (!v.parts)
        return SK_ERR_UNKNOWN_SERVER_ERROR;
    for (int32_t i = 0; i < m->nparts + n; i++) {
        const char *topic = i < m->nparts ? m->parts[i].topic : parts[i - m->nparts].topic;
        int32_t partition = i < m->nparts ? m->parts[i].partition : parts[i - m->nparts].partition;
        bool dup = false;
        for (int32_t k = 0; k < v.nparts && !dup; k++)
            dup = v.parts[k].partition == partition && !strcmp(v.parts[k].topic, topic);
        if (dup)
            continue;
        v.parts[v.nparts].partition = partition;
        if (!(v.parts[v.nparts++].topic = strdup(topic))) {
            sk_txn_value_free(&v);
            return SK_ERR_UNKNOWN_SERVER_ERROR;
        }
    }
    err = transit(m, &v, starts ? "transaction begins" : "more partitions");
    if (err == SK_ERR_NONE && starts)
        arm(m, m->start_ms + m->timeout_ms);
    return err;
}

int16_t sk_txn_verify_partitions(sk_txns *tc, const char *transactional_id, int64_t producer_id, int16_t producer_epoch,
                                 const sk_txn_partition *parts, int32_t n, int16_t *errors)
{
    txn_meta *m;
    int16_t err = find_checked(tc, transactional_id, producer_id, producer_epoch, SK_ERR_PRODUCER_FENCED, &m);
    if (err != SK_ERR_NONE)
        return err;
    if (m->state == SK_TXN_PREPARE_COMMIT || m->state == SK_TXN_PREPARE_ABORT)
        return SK_ERR_CONCURRENT_TRANSACTIONS;
    for (int32_t i = 0; i < n; i++)
        errors[i] = has_part(m, parts[i].topic, parts[i].partition) ? SK_ERR_NONE : SK_ERR_TRANSACTION_ABORTABLE;
    return SK_ERR_NONE;
}

int16_t sk_txn_check_produce(sk_txns *tc, const char *transactional_id, int64_t producer_id, int16_t producer_epoch,
                             const char *topic, int32_t partition)
{
    if (!tc || !transactional_id)
        return SK_ERR_NONE;
    sk_txn_partition tp = {topic, partition};
    int16_t perr = SK_ERR_NONE;
    int16_t err = sk_txn_verify_partitions(tc, transactional_id, producer_id, producer_epoch, &tp, 1, &perr);
    if (err == SK_ERR_NONE)
        err = perr;
    /* AddPartitionsToTxnManager's translation for producers. */
    switch (err) {
    case SK_ERR_PRODUCER_FENCED:
        return SK_ERR_INVALID_PRODUCER_EPOCH;
    case SK_ERR_TRANSACTION_ABORTABLE:
        return SK_ERR_INVALID_TXN_STATE;
    case SK_ERR_CONCURRENT_TRANSACTIONS:
    case SK_ERR_COORDINATOR_LOAD_IN_PROGRESS:
    case SK_ERR_COORDINATOR_NOT_AVAILABLE:
    case SK_ERR_NOT_COORDINATOR:
        return SK_ERR_NOT_ENOUGH_REPLICAS;
    default:
        return err;
    }
}

int16_t sk_txn_end(sk_txns *tc, const char *transactional_id, int64_t producer_id, int16_t producer_epoch, bool commit)
{
    if (!transactional_id || !*transactional_id)
        return SK_ERR_INVALID_REQUEST;
    if (tc->loading)
        return SK_ERR_COORDINATOR_LOAD_IN_PROGRESS;
    txn_meta *m = meta_find(tc, transactional_id);
    if (!m)
        return SK_ERR_INVALID_PRODUCER_ID_MAPPING;
    return end_transaction(m, producer_id, producer_epoch, commit, true);
}

int16_t sk_txn_check_offset_commit(sk_txns *tc, const char *transactional_id, int64_t producer_id,
                                   int16_t producer_epoch, int32_t offsets_partition)
{
    txn_meta *m;
    int16_t err = find_checked(tc, transactional_id, producer_id, producer_epoch, SK_ERR_INVALID_PRODUCER_EPOCH, &m);
    if (err != SK_ERR_NONE)
        return err;
    if (m->state == SK_TXN_PREPARE_COMMIT || m->state == SK_TXN_PREPARE_ABORT)
        return SK_ERR_CONCURRENT_TRANSACTIONS;
    if (m->state != SK_TXN_ONGOING || !has_part(m, "__consumer_offsets", offsets_partition))
        return SK_ERR_INVALID_TXN_STATE;
    return SK_ERR_NONE;
}

/* ---- Introspection ---- */

static int fill_info(const txn_meta *m, sk_txn_info *out, sk_arena *arena, bool with_parts)
{
    memset(out, 0, sizeof *out);
    out->transactional_id = sk_arena_strndup(arena, m->id, strlen(m->id));
    if (!out->transactional_id)
        return -1;
    out->state = m->state;
    out->timeout_ms = m->timeout_ms;
    out->start_time_ms = m->start_ms;
    out->producer_id = m->producer_id;
    out->producer_epoch = m->producer_epoch;
    if (!with_parts || m->nparts == 0)
        return 0;
    out->partitions = sk_arena_alloc(arena, (size_t)m->nparts * sizeof *out->partitions);
    if (!out->partitions)
        return -1;
    /* Grouped by topic, in the order topics were added. */
    for (int32_t i = 0; i < m->nparts; i++) {
        bool seen = false;
        for (int32_t k = 0; k < i && !seen; k++)
            seen = !strcmp(m->parts[k].topic, m->parts[i].topic);
        if (seen)
            continue;
        const char *topic = sk_arena_strndup(arena, m->parts[i].topic, strlen(m->parts[i].topic));
        if (!topic)
            return -1;
        for (int32_t k = i; k < m->nparts; k++)
            if (!strcmp(m->parts[k].topic, m->parts[i].topic))
                out->partitions[out->npartitions++] = (sk_txn_partition){topic, m->parts[k].partition};
    }
    return 0;
}

int16_t sk_txn_describe(sk_txns *tc, const char *transactional_id, sk_txn_info *out, sk_arena *arena)
{
    memset(out, 0, sizeof *out);
    if (tc->loading)
        return SK_ERR_COORDINATOR_LOAD_IN_PROGRESS;
    if (!transactional_id || !*transactional_id)
        return SK_ERR_INVALID_REQUEST;
    const txn_meta *m = meta_find(tc, transactional_id);
    if (!m || m->state == SK_TXN_DEAD)
        return SK_ERR_TRANSACTIONAL_ID_NOT_FOUND;
    return fill_info(m, out, arena, true) < 0 ? SK_ERR_UNKNOWN_SERVER_ERROR : SK_ERR_NONE;
}

static bool list_match(const txn_meta *m, const sk_txn_state *states, int32_t nstates, const int64_t *ids, int32_t nids,
                       int64_t min_duration_ms, int64_t t)
{
    if (m->state == SK_TXN_DEAD)
        return false;
    bool ok = nids <= 0;
    for (int32_t i = 0; i < nids && !ok; i++)
        ok = ids[i] == m->producer_id;
    if (!ok)
        return false;
    ok = nstates < 0;
    for (int32_t i = 0; i < nstates && !ok; i++)
        ok = states[i] == m->state;
    if (!ok)
        return false;
    /* t - start > min, without overflow on a replayed start time */
    return min_duration_ms < 0 || m->start_ms < t - min_duration_ms;
}

int32_t sk_txns_list(sk_txns *tc, const sk_txn_state *states, int32_t nstates, const int64_t *producer_ids,
                     int32_t nids, int64_t min_duration_ms, sk_txn_info **out, sk_arena *arena)
{
    *out = NULL;
    int64_t t = now(tc);
    int32_t n = 0;
    if (tc->metas.count > 0 && !(*out = sk_arena_alloc(arena, tc->metas.count * sizeof **out)))
        return -1;
    size_t bucket;
    for (sk_hnode *h = sk_htab_next(&tc->metas, NULL, &bucket); h; h = sk_htab_next(&tc->metas, h, &bucket)) {
        const txn_meta *m = meta_of(h);
        if (list_match(m, states, nstates, producer_ids, nids, min_duration_ms, t) &&
            fill_info(m, &(*out)[n++], arena, false) < 0)
            return -1;
    }
    return n;
}
