/*
 * The transaction coordinator (src/coord/txn*.c, producer_id.c) without a
 * broker: a fake store records the __transaction_state records and the
 * markers (and fails on demand), a fake clock drives the timers. Covers
 * producer id blocks, InitProducerId (idempotent, transactional, epoch
 * bumps, retries, fencing, id rotation at epoch exhaustion), the state x
 * API -> answer matrix of txn.c's header, the stored records (exact bytes,
 * replay, Kafka's flexible v1 values, tombstones), timeouts aborting with a
 * bumped epoch, marker retries, store failures, expiration of idle
 * transactional ids, verification, the
 * TxnOffsetCommit check, DescribeTransactions and ListTransactions.
 */
#include <check.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../src/coord/txn_int.h"
#include "skiff/errors.h"
#include "skiff/fsutil.h"
#include "skiff/group.h"
#include "skiff/txn.h"
#include "unit_run.h"

#define T0 1700000000000LL

typedef struct stored {
    int32_t partition;
    uint8_t key[256], value[1024];
    size_t key_len, value_len;
    bool tombstone;
} stored;

typedef struct marker {
    char topic[64];
    int32_t partition;
    int64_t producer_id;
    int16_t producer_epoch;
    bool commit;
} marker;

typedef struct fixture {
    char *dir;
    sk_config cfg;
    int64_t now;
    sk_producer_ids *ids;
    sk_txns *tc;
    stored recs[64];
    int nrecs;
    marker marks[64];
    int nmarks;
    int16_t append_error; /* the store answers this when set */
    int16_t marker_error; /* markers to `fail_topic` answer this when set */
    char fail_topic[64];
} fixture;

static int64_t clock_now(void *arg)
{
    return ((fixture *)arg)->now;
}

static int16_t fake_append(void *arg, int32_t partition, const uint8_t *key, size_t key_len, const uint8_t *value,
                           size_t value_len, int64_t now_ms)
{
    fixture *f = arg;
    ck_assert_int_eq(now_ms, f->now);
    if (f->append_error)
        return f->append_error;
    ck_assert_int_lt(f->nrecs, 64);
    stored *s = &f->recs[f->nrecs++];
    s->partition = partition;
    memcpy(s->key, key, key_len);
    s->key_len = key_len;
    s->tombstone = value == NULL;
    if (value)
        memcpy(s->value, value, value_len);
    s->value_len = value_len;
    return SK_ERR_NONE;
}

static int16_t fake_marker(void *arg, const char *topic, int32_t partition, int64_t producer_id, int16_t producer_epoch,
                           bool commit, int64_t now_ms)
{
    fixture *f = arg;
    (void)now_ms;
    if (f->marker_error && !strcmp(topic, f->fail_topic))
        return f->marker_error;
    ck_assert_int_lt(f->nmarks, 64);
    marker *m = &f->marks[f->nmarks++];
    snprintf(m->topic, sizeof m->topic, "%s", topic);
    m->partition = partition;
    m->producer_id = producer_id;
    m->producer_epoch = producer_epoch;
    m->commit = commit;
    return SK_ERR_NONE;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static sk_txns *fx_coordinator(fixture *f)
{
    sk_txn_store store = {fake_append, fake_marker, f};
    sk_txns_opts opts = {.now_ms = clock_now, .clock_arg = f, .store = &store, .ids = f->ids};
    sk_txns *tc = sk_txns_open(&f->cfg, &opts);
    ck_assert_ptr_nonnull(tc);
    return tc;
}

static void fx_init(fixture *f)
{
    memset(f, 0, sizeof *f);
    char tmpl[] = "/tmp/skiff-txn-test-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(tmpl));
    f->dir = strdup(tmpl);
    f->cfg.transaction_max_timeout_ms = 900000;
    f->cfg.transaction_state_log_num_partitions = 50;
    f->cfg.transactional_id_expiration_ms = 604800000;
    f->cfg.transaction_cleanup_interval_ms = 3600000;
    f->now = T0;
    f->ids = sk_producer_ids_open(f->dir);
    ck_assert_ptr_nonnull(f->ids);
    f->tc = fx_coordinator(f);
    ck_assert_int_eq(sk_txns_status(f->tc), SK_ERR_COORDINATOR_LOAD_IN_PROGRESS);
    sk_txns_loaded(f->tc);
}

static void fx_done(fixture *f)
{
    sk_txns_close(f->tc);
    sk_producer_ids_close(f->ids);
    nftw(f->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    free(f->dir);
}

static const sk_txn_partition P_A0 = {"a", 0}, P_A1 = {"a", 1}, P_B0 = {"b", 0};

/* The state of `id` (Dead when unknown). */
static sk_txn_state state_of(fixture *f, const char *id, int16_t *epoch)
{
    sk_arena arena = {0};
    sk_txn_info info;
    sk_txn_state s = SK_TXN_DEAD;
    if (sk_txn_describe(f->tc, id, &info, &arena) == SK_ERR_NONE) {
        s = info.state;
        if (epoch)
            *epoch = info.producer_epoch;
    }
    sk_arena_free(&arena);
    return s;
}

/* InitProducerId for `id` (no expected epoch); returns the producer id. */
static int64_t init(fixture *f, const char *id, int16_t expect_epoch)
{
    int64_t pid;
    int16_t epoch;
    ck_assert_int_eq(sk_txn_init_producer_id(f->tc, id, 60000, -1, -1, &pid, &epoch), SK_ERR_NONE);
    ck_assert_int_eq(epoch, expect_epoch);
    return pid;
}

static stored *last_record(fixture *f)
{
    ck_assert_int_gt(f->nrecs, 0);
    return &f->recs[f->nrecs - 1];
}

static void decode_last(fixture *f, txn_value *v)
{
    stored *s = last_record(f);
    ck_assert_int_eq(sk_txn_value_decode(s->value, s->value_len, v), 0);
}

START_TEST(test_producer_ids)
{
    char tmpl[] = "/tmp/skiff-pid-test-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(tmpl));
    char path[4096];
    snprintf(path, sizeof path, "%s/producer-id-block", tmpl);
    sk_producer_ids *ids = sk_producer_ids_open(tmpl);
    int64_t id;
    for (int64_t i = 0; i < 1001; i++) {
        ck_assert_int_eq(sk_producer_ids_next(ids, &id), 0);
        ck_assert_int_eq(id, i);
    }
    char *text = sk_file_read_all(path, 100, NULL);
    ck_assert_str_eq(text, "0\n2000\n");
    free(text);
    sk_producer_ids_close(ids);
    /* After a restart the rest of the block is skipped. */
    ids = sk_producer_ids_open(tmpl);
    ck_assert_int_eq(sk_producer_ids_next(ids, &id), 0);
    ck_assert_int_eq(id, 2000);
    sk_producer_ids_close(ids);
    text = sk_file_read_all(path, 100, NULL);
    ck_assert_str_eq(text, "0\n3000\n");
    free(text);
    ck_assert_int_eq(sk_file_write_atomic(path, "1\n5\n", 4), 0);
    ck_assert_ptr_null(sk_producer_ids_open(tmpl));
    ck_assert_int_eq(sk_file_write_atomic(path, "0\n-5\n", 5), 0);
    ck_assert_ptr_null(sk_producer_ids_open(tmpl));
    nftw(tmpl, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}
END_TEST

START_TEST(test_init_producer_id)
{
    fixture f;
    fx_init(&f);
    int64_t pid;
    int16_t epoch;
    /* Idempotent producers: a fresh id each time, epoch 0, nothing stored. */
    ck_assert_int_eq(sk_txn_init_producer_id(f.tc, NULL, 0, -1, -1, &pid, &epoch), SK_ERR_NONE);
    ck_assert_int_eq(pid, 0);
    ck_assert_int_eq(epoch, 0);
    ck_assert_int_eq(sk_txn_init_producer_id(f.tc, NULL, 0, 0, 0, &pid, &epoch), SK_ERR_NONE);
    ck_assert_int_eq(pid, 1);
    ck_assert_int_eq(f.nrecs, 0);

    ck_assert_int_eq(sk_txn_init_producer_id(f.tc, "", 1000, -1, -1, &pid, &epoch), SK_ERR_INVALID_REQUEST);
    ck_assert_int_eq(sk_txn_init_producer_id(f.tc, "t", 0, -1, -1, &pid, &epoch), SK_ERR_INVALID_TRANSACTION_TIMEOUT);
    ck_assert_int_eq(sk_txn_init_producer_id(f.tc, "t", 900001, -1, -1, &pid, &epoch),
                     SK_ERR_INVALID_TRANSACTION_TIMEOUT);

    int64_t t = init(&f, "t", 0);
    ck_assert_int_eq(t, 2);
    ck_assert_int_eq(f.nrecs, 1);
    ck_assert_int_eq(last_record(&f)->partition, sk_group_partition_for("t", 1, 50));
    ck_assert_int_eq(sk_txn_partition_for("t", 50), sk_group_partition_for("t", 1, 50));
    ck_assert_int_eq(init(&f, "t", 1), t);

    /* KIP-360: the producer names its id and epoch. */
    ck_assert_int_eq(sk_txn_init_producer_id(f.tc, "t", 60000, t, 1, &pid, &epoch), SK_ERR_NONE);
    ck_assert_int_eq(epoch, 2);
    /* The same request again (its answer was lost): the same epoch. */
    ck_assert_int_eq(sk_txn_init_producer_id(f.tc, "t", 60000, t, 1, &pid, &epoch), SK_ERR_NONE);
    ck_assert_int_eq(epoch, 2);
    ck_assert_int_eq(sk_txn_init_producer_id(f.tc, "t", 60000, t, 0, &pid, &epoch), SK_ERR_PRODUCER_FENCED);
    ck_assert_int_eq(sk_txn_init_producer_id(f.tc, "t", 60000, 99, 2, &pid, &epoch), SK_ERR_PRODUCER_FENCED);
    ck_assert_int_eq(pid, -1);
    /* A new producer without an expected epoch fences the others. */
    ck_assert_int_eq(init(&f, "t", 3), t);
    ck_assert_int_eq(sk_txn_init_producer_id(f.tc, "t", 60000, t, 2, &pid, &epoch), SK_ERR_PRODUCER_FENCED);
    fx_done(&f);
}
END_TEST

/* The stored bytes of a transition, against Kafka's formats. */
START_TEST(test_record_bytes)
{
    fixture f;
    fx_init(&f);
    f.now = T0 + 5;
    int64_t pid = init(&f, "tx", 0);
    static const uint8_t key[] = {0, 0, 0, 2, 't', 'x'};
    stored *s = last_record(&f);
    ck_assert_uint_eq(s->key_len, sizeof key);
    ck_assert_mem_eq(s->key, key, sizeof key);
    static const uint8_t empty[] = {
        0,    0,                                        /* version 0 */
        0,    0,    0,    0,    0,    0,    0,    0,    /* producer id 0 */
        0,    0,                                        /* epoch 0 */
        0,    0,    0xea, 0x60,                         /* timeout 60000 */
        0,                                              /* Empty */
        0xff, 0xff, 0xff, 0xff,                         /* partitions: null */
        0,    0,    0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x05, /* last update T0 + 5 */
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* start -1 */
    };
    ck_assert_uint_eq(s->value_len, sizeof empty);
    ck_assert_mem_eq(s->value, empty, sizeof empty);

    f.now = T0 + 6;
    sk_txn_partition parts[] = {P_A0, P_B0, P_A1};
    ck_assert_int_eq(sk_txn_add_partitions(f.tc, "tx", pid, 0, parts, 3), SK_ERR_NONE);
    static const uint8_t
        ongoing
            [] =
                {
                    0,   0, 0,    0,    0,    0,    0,    0,    0, 0, 0, 0,    0,    0,    0xea, 0x60, 1, /* Ongoing */
                    0,   0, 0,    2,                                                                      /* 2 topics */
                    0,   1, 'a',  0,    0,    0,    2,    0,    0, 0, 0, 0,    0,    0,    1,    0,    1,
                    'b', 0, 0,    0,    1,    0,    0,    0,    0, 0, 0, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x06,
                    0,   0, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x06, /* started now */
                };
    s = last_record(&f);
    ck_assert_uint_eq(s->value_len, sizeof ongoing);
    ck_assert_mem_eq(s->value, ongoing, sizeof ongoing);

    /* Kafka's flexible v1 value with tagged fields reads too. */
    static const uint8_t v1[] = {
        0, 1,   0, 0, 0, 0, 0, 0, 0, 7, 0, 3, 0, 0, 0x03, 0xe8, 1, 2, /* one topic (compact) */
        2, 'a', 2, 0, 0, 0, 4, 0,                                     /* "a", [4], no tags */
        0, 0,   0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0,    8,    2, 0,
        8, 0,   0, 0, 0, 0, 0, 0, 6, 2, 2, 0, 1, /* tags: previous id 6, client version 1 */
    };
    txn_value v;
    ck_assert_int_eq(sk_txn_value_decode(v1, sizeof v1, &v), 0);
    ck_assert_int_eq(v.producer_id, 7);
    ck_assert_int_eq(v.producer_epoch, 3);
    ck_assert_int_eq(v.timeout_ms, 1000);
    ck_assert_int_eq(v.state, SK_TXN_ONGOING);
    ck_assert_int_eq(v.nparts, 1);
    ck_assert_str_eq(v.parts[0].topic, "a");
    ck_assert_int_eq(v.parts[0].partition, 4);
    ck_assert_int_eq(v.update_ms, 9);
    ck_assert_int_eq(v.start_ms, 8);
    ck_assert_int_eq(v.previous_producer_id, 6);
    sk_txn_value_free(&v);
    /* Truncated, an unknown version, an unknown state. */
    ck_assert_int_eq(sk_txn_value_decode(v1, sizeof v1 - 1, &v), -1);
    uint8_t bad[sizeof ongoing];
    memcpy(bad, ongoing, sizeof bad);
    bad[1] = 2;
    ck_assert_int_eq(sk_txn_value_decode(bad, sizeof bad, &v), -1);
    bad[1] = 0;
    bad[16] = 8;
    ck_assert_int_eq(sk_txn_value_decode(bad, sizeof bad, &v), -1);
    char *id;
    ck_assert_int_eq(sk_txn_key_decode(key, sizeof key, &id), 0);
    ck_assert_str_eq(id, "tx");
    free(id);
    ck_assert_int_eq(sk_txn_key_decode(key, sizeof key - 1, &id), -1);
    fx_done(&f);
}
END_TEST

/* Puts transactional id "m" (producer id *pid, epoch 0) in `state`; the
 * Prepare states wait on a failing marker to topic "b". */
static void reach(fixture *f, sk_txn_state state, int64_t *pid)
{
    *pid = init(f, "m", 0);
    if (state == SK_TXN_EMPTY)
        return;
    sk_txn_partition parts[] = {P_A0, P_B0};
    ck_assert_int_eq(sk_txn_add_partitions(f->tc, "m", *pid, 0, parts, 2), SK_ERR_NONE);
    if (state == SK_TXN_ONGOING)
        return;
    bool commit = state == SK_TXN_PREPARE_COMMIT || state == SK_TXN_COMPLETE_COMMIT;
    if (state == SK_TXN_PREPARE_COMMIT || state == SK_TXN_PREPARE_ABORT) {
        f->marker_error = SK_ERR_KAFKA_STORAGE_ERROR;
        strcpy(f->fail_topic, "b");
    }
    ck_assert_int_eq(sk_txn_end(f->tc, "m", *pid, 0, commit), SK_ERR_NONE);
    ck_assert_int_eq(state_of(f, "m", NULL), state);
}

enum { API_INIT, API_ADD, API_COMMIT, API_ABORT, NAPIS };

static const struct {
    sk_txn_state state;
    int16_t answer[NAPIS];
    sk_txn_state after[NAPIS];
} matrix[] = {
    {SK_TXN_EMPTY,
     {SK_ERR_NONE, SK_ERR_NONE, SK_ERR_INVALID_TXN_STATE, SK_ERR_INVALID_TXN_STATE},
     {SK_TXN_EMPTY, SK_TXN_ONGOING, SK_TXN_EMPTY, SK_TXN_EMPTY}},
    {SK_TXN_ONGOING,
     {SK_ERR_CONCURRENT_TRANSACTIONS, SK_ERR_NONE, SK_ERR_NONE, SK_ERR_NONE},
     {SK_TXN_COMPLETE_ABORT, SK_TXN_ONGOING, SK_TXN_COMPLETE_COMMIT, SK_TXN_COMPLETE_ABORT}},
    {SK_TXN_PREPARE_COMMIT,
     {SK_ERR_CONCURRENT_TRANSACTIONS, SK_ERR_CONCURRENT_TRANSACTIONS, SK_ERR_CONCURRENT_TRANSACTIONS,
      SK_ERR_INVALID_TXN_STATE},
     {SK_TXN_PREPARE_COMMIT, SK_TXN_PREPARE_COMMIT, SK_TXN_PREPARE_COMMIT, SK_TXN_PREPARE_COMMIT}},
    {SK_TXN_PREPARE_ABORT,
     {SK_ERR_CONCURRENT_TRANSACTIONS, SK_ERR_CONCURRENT_TRANSACTIONS, SK_ERR_INVALID_TXN_STATE,
      SK_ERR_CONCURRENT_TRANSACTIONS},
     {SK_TXN_PREPARE_ABORT, SK_TXN_PREPARE_ABORT, SK_TXN_PREPARE_ABORT, SK_TXN_PREPARE_ABORT}},
    {SK_TXN_COMPLETE_COMMIT,
     {SK_ERR_NONE, SK_ERR_NONE, SK_ERR_NONE, SK_ERR_INVALID_TXN_STATE},
     {SK_TXN_EMPTY, SK_TXN_ONGOING, SK_TXN_COMPLETE_COMMIT, SK_TXN_COMPLETE_COMMIT}},
    {SK_TXN_COMPLETE_ABORT,
     {SK_ERR_NONE, SK_ERR_NONE, SK_ERR_INVALID_TXN_STATE, SK_ERR_NONE},
     {SK_TXN_EMPTY, SK_TXN_ONGOING, SK_TXN_COMPLETE_ABORT, SK_TXN_COMPLETE_ABORT}},
};

START_TEST(test_state_matrix)
{
    int row = _i / NAPIS, api = _i % NAPIS;
    fixture f;
    fx_init(&f);
    int64_t pid;
    reach(&f, matrix[row].state, &pid);
    int16_t err;
    int64_t id;
    int16_t epoch;
    switch (api) {
    case API_INIT:
        err = sk_txn_init_producer_id(f.tc, "m", 60000, -1, -1, &id, &epoch);
        break;
    case API_ADD:
        err = sk_txn_add_partitions(f.tc, "m", pid, 0, &P_A1, 1);
        break;
    default:
        err = sk_txn_end(f.tc, "m", pid, 0, api == API_COMMIT);
        break;
    }
    ck_assert_msg(err == matrix[row].answer[api], "%s x %d: %s, expected %s", sk_txn_state_name(matrix[row].state), api,
                  sk_err_name(err), sk_err_name(matrix[row].answer[api]));
    ck_assert_int_eq(state_of(&f, "m", NULL), matrix[row].after[api]);
    /* Another producer id or epoch is refused the same way in every state. */
    ck_assert_int_eq(sk_txn_add_partitions(f.tc, "m", pid + 100, 0, &P_A1, 1), SK_ERR_INVALID_PRODUCER_ID_MAPPING);
    ck_assert_int_eq(sk_txn_end(f.tc, "m", pid + 100, 0, true), SK_ERR_INVALID_PRODUCER_ID_MAPPING);
    ck_assert_int_eq(sk_txn_add_partitions(f.tc, "m", pid, 7, &P_A1, 1), SK_ERR_PRODUCER_FENCED);
    ck_assert_int_eq(sk_txn_end(f.tc, "nobody", pid, 0, true), SK_ERR_INVALID_PRODUCER_ID_MAPPING);
    ck_assert_int_eq(sk_txn_add_partitions(f.tc, "nobody", pid, 0, &P_A1, 1), SK_ERR_INVALID_PRODUCER_ID_MAPPING);
    fx_done(&f);
}
END_TEST

START_TEST(test_commit_cycle)
{
    fixture f;
    fx_init(&f);
    int64_t pid = init(&f, "c", 0);
    sk_txn_partition parts[] = {P_A0, P_A1};
    ck_assert_int_eq(sk_txn_add_partitions(f.tc, "c", pid, 0, parts, 2), SK_ERR_NONE);
    int before = f.nrecs;
    /* Partitions already in: no new record. */
    ck_assert_int_eq(sk_txn_add_partitions(f.tc, "c", pid, 0, &P_A1, 1), SK_ERR_NONE);
    ck_assert_int_eq(f.nrecs, before);
    ck_assert_int_eq(sk_txn_add_partitions(f.tc, "c", pid, 0, &P_B0, 1), SK_ERR_NONE);
    ck_assert_int_eq(f.nrecs, before + 1);
    ck_assert_int_eq(sk_txn_end(f.tc, "c", pid, 0, true), SK_ERR_NONE);
    ck_assert_int_eq(f.nmarks, 3);
    for (int i = 0; i < 3; i++) {
        ck_assert(f.marks[i].commit);
        ck_assert_int_eq(f.marks[i].producer_id, pid);
        ck_assert_int_eq(f.marks[i].producer_epoch, 0);
    }
    ck_assert_str_eq(f.marks[2].topic, "b");
    /* Records: Empty, Ongoing x2, PrepareCommit (with partitions), CompleteCommit (none). */
    ck_assert_int_eq(f.nrecs, 5);
    txn_value v;
    ck_assert_int_eq(sk_txn_value_decode(f.recs[3].value, f.recs[3].value_len, &v), 0);
    ck_assert_int_eq(v.state, SK_TXN_PREPARE_COMMIT);
    ck_assert_int_eq(v.nparts, 3);
    sk_txn_value_free(&v);
    decode_last(&f, &v);
    ck_assert_int_eq(v.state, SK_TXN_COMPLETE_COMMIT);
    ck_assert_int_eq(v.nparts, 0);
    ck_assert_int_eq(v.start_ms, T0);
    sk_txn_value_free(&v);
    /* The next transaction starts afresh; an idle commit is INVALID_TXN_STATE after Empty only. */
    ck_assert_int_eq(sk_txn_add_partitions(f.tc, "c", pid, 0, &P_B0, 1), SK_ERR_NONE);
    ck_assert_int_eq(sk_txn_end(f.tc, "c", pid, 0, false), SK_ERR_NONE);
    ck_assert_int_eq(f.nmarks, 4);
    ck_assert(!f.marks[3].commit);
    fx_done(&f);
}
END_TEST

START_TEST(test_timeout_fences)
{
    fixture f;
    fx_init(&f);
    int64_t pid;
    int16_t epoch;
    ck_assert_int_eq(sk_txn_init_producer_id(f.tc, "slow", 1000, -1, -1, &pid, &epoch), SK_ERR_NONE);
    f.now += 10;
    ck_assert_int_eq(sk_txn_add_partitions(f.tc, "slow", pid, 0, &P_A0, 1), SK_ERR_NONE);
    f.now += 500;
    ck_assert_int_eq(sk_txn_add_partitions(f.tc, "slow", pid, 0, &P_A1, 1), SK_ERR_NONE);
    f.now = T0 + 10 + 999;
    ck_assert_int_eq(sk_txns_run_timers(f.tc), 0);
    f.now = T0 + 10 + 1000;
    ck_assert_int_eq(sk_txns_run_timers(f.tc), 1);
    ck_assert_int_eq(state_of(&f, "slow", &epoch), SK_TXN_COMPLETE_ABORT);
    ck_assert_int_eq(epoch, 1);
    ck_assert_int_eq(f.nmarks, 2);
    ck_assert(!f.marks[0].commit);
    ck_assert_int_eq(f.marks[0].producer_epoch, 1);
    ck_assert_int_eq(sk_txns_run_timers(f.tc), 0);
    /* The old epoch is fenced everywhere. */
    ck_assert_int_eq(sk_txn_end(f.tc, "slow", pid, 0, true), SK_ERR_PRODUCER_FENCED);
    ck_assert_int_eq(sk_txn_add_partitions(f.tc, "slow", pid, 0, &P_A0, 1), SK_ERR_PRODUCER_FENCED);
    ck_assert_int_eq(sk_txn_init_producer_id(f.tc, "slow", 1000, pid, 0, &pid, &epoch), SK_ERR_PRODUCER_FENCED);
    ck_assert_int_eq(sk_txn_init_producer_id(f.tc, "slow", 1000, -1, -1, &pid, &epoch), SK_ERR_NONE);
    ck_assert_int_eq(epoch, 2);
    fx_done(&f);
}
END_TEST

START_TEST(test_init_aborts_open_transaction)
{
    fixture f;
    fx_init(&f);
    int64_t pid = init(&f, "z", 0), id;
    int16_t epoch;
    ck_assert_int_eq(sk_txn_add_partitions(f.tc, "z", pid, 0, &P_A0, 1), SK_ERR_NONE);
    ck_assert_int_eq(sk_txn_init_producer_id(f.tc, "z", 60000, -1, -1, &id, &epoch), SK_ERR_CONCURRENT_TRANSACTIONS);
    ck_assert_int_eq(state_of(&f, "z", &epoch), SK_TXN_COMPLETE_ABORT);
    ck_assert_int_eq(epoch, 1);
    ck_assert_int_eq(f.nmarks, 1);
    ck_assert_int_eq(f.marks[0].producer_epoch, 1);
    ck_assert(!f.marks[0].commit);
    ck_assert_int_eq(init(&f, "z", 2), pid);
    fx_done(&f);
}
END_TEST

START_TEST(test_marker_retry)
{
    fixture f;
    fx_init(&f);
    int64_t pid = init(&f, "r", 0);
    sk_txn_partition parts[] = {P_A0, P_B0};
    ck_assert_int_eq(sk_txn_add_partitions(f.tc, "r", pid, 0, parts, 2), SK_ERR_NONE);
    f.marker_error = SK_ERR_KAFKA_STORAGE_ERROR;
    strcpy(f.fail_topic, "b");
    ck_assert_int_eq(sk_txn_end(f.tc, "r", pid, 0, true), SK_ERR_NONE);
    ck_assert_int_eq(f.nmarks, 1);
    ck_assert_int_eq(state_of(&f, "r", NULL), SK_TXN_PREPARE_COMMIT);
    ck_assert_int_eq(sk_txn_end(f.tc, "r", pid, 0, true), SK_ERR_CONCURRENT_TRANSACTIONS);
    f.now += 999;
    ck_assert_int_eq(sk_txns_run_timers(f.tc), 0);
    f.now += 1;
    ck_assert_int_eq(sk_txns_run_timers(f.tc), 1);
    ck_assert_int_eq(f.nmarks, 1);
    f.marker_error = 0;
    f.now += 1000;
    ck_assert_int_eq(sk_txns_run_timers(f.tc), 1);
    ck_assert_int_eq(f.nmarks, 2); /* only the missing one */
    ck_assert_str_eq(f.marks[1].topic, "b");
    ck_assert_int_eq(state_of(&f, "r", NULL), SK_TXN_COMPLETE_COMMIT);
    /* A non-retriable marker error (the partition is gone) is given up. */
    ck_assert_int_eq(sk_txn_add_partitions(f.tc, "r", pid, 0, parts, 2), SK_ERR_NONE);
    f.marker_error = SK_ERR_UNKNOWN_TOPIC_OR_PARTITION;
    ck_assert_int_eq(sk_txn_end(f.tc, "r", pid, 0, false), SK_ERR_NONE);
    ck_assert_int_eq(state_of(&f, "r", NULL), SK_TXN_COMPLETE_ABORT);
    fx_done(&f);
}
END_TEST

START_TEST(test_store_failures)
{
    fixture f;
    fx_init(&f);
    int64_t pid = init(&f, "s", 0), id;
    int16_t epoch;
    f.append_error = SK_ERR_KAFKA_STORAGE_ERROR;
    ck_assert_int_eq(sk_txn_add_partitions(f.tc, "s", pid, 0, &P_A0, 1), SK_ERR_NOT_COORDINATOR);
    f.append_error = SK_ERR_UNKNOWN_TOPIC_OR_PARTITION;
    ck_assert_int_eq(sk_txn_init_producer_id(f.tc, "s", 60000, -1, -1, &id, &epoch), SK_ERR_COORDINATOR_NOT_AVAILABLE);
    f.append_error = SK_ERR_RECORD_LIST_TOO_LARGE;
    ck_assert_int_eq(sk_txn_add_partitions(f.tc, "s", pid, 0, &P_A0, 1), SK_ERR_UNKNOWN_SERVER_ERROR);
    ck_assert_int_eq(state_of(&f, "s", &epoch), SK_TXN_EMPTY);
    ck_assert_int_eq(epoch, 0);
    f.append_error = 0;
    ck_assert_int_eq(sk_txn_add_partitions(f.tc, "s", pid, 0, &P_A0, 1), SK_ERR_NONE);
    /* A fencing abort that cannot be stored keeps its bumped epoch once. */
    f.append_error = SK_ERR_KAFKA_STORAGE_ERROR;
    ck_assert_int_eq(sk_txn_init_producer_id(f.tc, "s", 60000, -1, -1, &id, &epoch), SK_ERR_NOT_COORDINATOR);
    ck_assert_int_eq(sk_txn_init_producer_id(f.tc, "s", 60000, -1, -1, &id, &epoch), SK_ERR_NOT_COORDINATOR);
    f.append_error = 0;
    ck_assert_int_eq(sk_txn_init_producer_id(f.tc, "s", 60000, -1, -1, &id, &epoch), SK_ERR_CONCURRENT_TRANSACTIONS);
    ck_assert_int_eq(state_of(&f, "s", &epoch), SK_TXN_COMPLETE_ABORT);
    ck_assert_int_eq(epoch, 1);
    fx_done(&f);
}
END_TEST

START_TEST(test_replay)
{
    fixture f;
    fx_init(&f);
    int64_t p1 = init(&f, "done", 0);
    ck_assert_int_eq(sk_txn_add_partitions(f.tc, "done", p1, 0, &P_A0, 1), SK_ERR_NONE);
    ck_assert_int_eq(sk_txn_end(f.tc, "done", p1, 0, true), SK_ERR_NONE);
    int64_t p2 = init(&f, "open", 0);
    ck_assert_int_eq(sk_txn_add_partitions(f.tc, "open", p2, 0, &P_A1, 1), SK_ERR_NONE);
    int64_t p3 = init(&f, "prep", 0);
    ck_assert_int_eq(sk_txn_add_partitions(f.tc, "prep", p3, 0, &P_B0, 1), SK_ERR_NONE);
    f.marker_error = SK_ERR_KAFKA_STORAGE_ERROR;
    strcpy(f.fail_topic, "b");
    ck_assert_int_eq(sk_txn_end(f.tc, "prep", p3, 0, false), SK_ERR_NONE);
    init(&f, "gone", 0);
    f.marker_error = 0;
    int nrecs = f.nrecs, nmarks = f.nmarks;
    static const uint8_t gone_key[] = {0, 0, 0, 4, 'g', 'o', 'n', 'e'};

    /* A new coordinator from the stored records, as at a restart. */
    sk_txns_close(f.tc);
    sk_producer_ids_close(f.ids);
    f.ids = sk_producer_ids_open(f.dir);
    f.tc = fx_coordinator(&f);
    for (int i = 0; i < nrecs; i++)
        ck_assert_int_eq(sk_txns_replay(f.tc, f.recs[i].key, f.recs[i].key_len, f.recs[i].value, f.recs[i].value_len),
                         0);
    ck_assert_int_eq(sk_txns_replay(f.tc, gone_key, sizeof gone_key, NULL, 0), 0);
    ck_assert_int_eq(sk_txns_replay(f.tc, gone_key, 3, f.recs[0].value, f.recs[0].value_len), -1);
    ck_assert_int_eq(sk_txns_replay(f.tc, gone_key, sizeof gone_key, f.recs[0].value, 5), -1);
    int64_t id;
    int16_t epoch;
    ck_assert_int_eq(sk_txn_end(f.tc, "open", p2, 0, true), SK_ERR_COORDINATOR_LOAD_IN_PROGRESS);
    ck_assert_int_eq(sk_txn_init_producer_id(f.tc, "open", 1000, -1, -1, &id, &epoch),
                     SK_ERR_COORDINATOR_LOAD_IN_PROGRESS);
    sk_txns_loaded(f.tc);
    /* The interrupted abort is finished: its marker again, then CompleteAbort. */
    ck_assert_int_eq(f.nmarks, nmarks + 1);
    ck_assert_str_eq(f.marks[nmarks].topic, "b");
    ck_assert_int_eq(state_of(&f, "prep", NULL), SK_TXN_COMPLETE_ABORT);
    ck_assert_int_eq(state_of(&f, "done", NULL), SK_TXN_COMPLETE_COMMIT);
    ck_assert_int_eq(state_of(&f, "gone", NULL), SK_TXN_DEAD);
    /* The open transaction can still be committed ... */
    ck_assert_int_eq(state_of(&f, "open", NULL), SK_TXN_ONGOING);
    ck_assert_int_eq(sk_txn_add_partitions(f.tc, "open", p2, 0, &P_A0, 1), SK_ERR_NONE);
    ck_assert_int_eq(sk_txn_end(f.tc, "open", p2, 0, true), SK_ERR_NONE);
    ck_assert_int_eq(f.nmarks, nmarks + 3);
    /* ... and ids keep counting from a new block. */
    ck_assert_int_eq(init(&f, "new", 0), 1000);
    fx_done(&f);
}
END_TEST

START_TEST(test_replay_timeout_and_rotation)
{
    fixture f;
    fx_init(&f);
    /* An Ongoing transaction whose timeout passed while stopped, and an id
     * whose epochs are exhausted. */
    txn_value v = {.producer_id = 42,
                   .producer_epoch = 3,
                   .timeout_ms = 1000,
                   .state = SK_TXN_ONGOING,
                   .update_ms = T0 - 5000,
                   .start_ms = T0 - 5000};
    txn_part part = {"a", 0, false};
    v.parts = &part;
    v.nparts = 1;
    sk_writer k, w;
    sk_writer_init(&k, 0);
    sk_writer_init(&w, 0);
    ck_assert_int_eq(sk_txn_key_encode(&k, "late"), 0);
    ck_assert_int_eq(sk_txn_value_encode(&w, &v), 0);
    sk_txns_close(f.tc);
    f.tc = fx_coordinator(&f);
    ck_assert_int_eq(sk_txns_replay(f.tc, k.buf, k.len, w.buf, w.len), 0);
    v = (txn_value){.producer_id = 43,
                    .producer_epoch = INT16_MAX - 1,
                    .timeout_ms = 1000,
                    .state = SK_TXN_COMPLETE_COMMIT,
                    .update_ms = T0,
                    .start_ms = T0};
    sk_writer_free(&k);
    sk_writer_free(&w);
    sk_writer_init(&k, 0);
    sk_writer_init(&w, 0);
    ck_assert_int_eq(sk_txn_key_encode(&k, "old"), 0);
    ck_assert_int_eq(sk_txn_value_encode(&w, &v), 0);
    ck_assert_int_eq(sk_txns_replay(f.tc, k.buf, k.len, w.buf, w.len), 0);
    sk_writer_free(&k);
    sk_writer_free(&w);
    sk_txns_loaded(f.tc);
    ck_assert_int_eq(sk_txns_run_timers(f.tc), 1);
    int16_t epoch;
    ck_assert_int_eq(state_of(&f, "late", &epoch), SK_TXN_COMPLETE_ABORT);
    ck_assert_int_eq(epoch, 4);
    ck_assert_int_eq(f.nmarks, 1);
    ck_assert_int_eq(f.marks[0].producer_id, 42);
    ck_assert_int_eq(f.marks[0].producer_epoch, 4);
    int64_t id;
    ck_assert_int_eq(sk_txn_init_producer_id(f.tc, "old", 1000, 43, INT16_MAX - 1, &id, &epoch), SK_ERR_NONE);
    ck_assert_int_eq(id, 0);
    ck_assert_int_eq(epoch, 0);
    /* A retry naming the old id at its last epoch gets the same answer. */
    ck_assert_int_eq(sk_txn_init_producer_id(f.tc, "old", 1000, 43, INT16_MAX - 1, &id, &epoch), SK_ERR_NONE);
    ck_assert_int_eq(id, 0);
    ck_assert_int_eq(epoch, 0);
    fx_done(&f);
}
END_TEST

/* The runtime: every transition is applied by replaying the record just
 * stored, so after each operation a coordinator rebuilt from the stored
 * records describes every id exactly as the live one does. */
static void describe_equal(fixture *f, sk_txns *rebuilt, const char *id)
{
    sk_arena a = {0};
    sk_txn_info live, loaded;
    ck_assert_int_eq(sk_txn_describe(f->tc, id, &live, &a), SK_ERR_NONE);
    ck_assert_int_eq(sk_txn_describe(rebuilt, id, &loaded, &a), SK_ERR_NONE);
    ck_assert_int_eq(live.state, loaded.state);
    ck_assert_int_eq(live.producer_id, loaded.producer_id);
    ck_assert_int_eq(live.producer_epoch, loaded.producer_epoch);
    ck_assert_int_eq(live.timeout_ms, loaded.timeout_ms);
    ck_assert_int_eq(live.start_time_ms, loaded.start_time_ms);
    ck_assert_int_eq(live.npartitions, loaded.npartitions);
    for (int32_t i = 0; i < live.npartitions; i++) {
        ck_assert_str_eq(live.partitions[i].topic, loaded.partitions[i].topic);
        ck_assert_int_eq(live.partitions[i].partition, loaded.partitions[i].partition);
    }
    sk_arena_free(&a);
}

static void check_rebuilt(fixture *f, const char *id)
{
    sk_txns_opts opts = {.now_ms = clock_now, .clock_arg = f, .ids = f->ids};
    sk_txns *rebuilt = sk_txns_open(&f->cfg, &opts);
    ck_assert_ptr_nonnull(rebuilt);
    for (int i = 0; i < f->nrecs; i++)
        ck_assert_int_eq(sk_txns_replay(rebuilt, f->recs[i].key, f->recs[i].key_len,
                                        f->recs[i].tombstone ? NULL : f->recs[i].value, f->recs[i].value_len),
                         0);
    sk_txns_loaded(rebuilt);
    describe_equal(f, rebuilt, id);
    sk_txns_close(rebuilt);
}

START_TEST(test_live_equals_replayed)
{
    fixture f;
    fx_init(&f);
    int64_t p = init(&f, "t", 0);
    check_rebuilt(&f, "t");
    f.now += 5;
    ck_assert_int_eq(sk_txn_add_partitions(f.tc, "t", p, 0, &P_A0, 1), SK_ERR_NONE);
    check_rebuilt(&f, "t");
    f.now += 5;
    ck_assert_int_eq(sk_txn_add_partitions(f.tc, "t", p, 0, &P_B0, 1), SK_ERR_NONE);
    check_rebuilt(&f, "t");
    /* A failed append applies nothing: still Ongoing with both partitions. */
    f.append_error = SK_ERR_NOT_ENOUGH_REPLICAS;
    ck_assert_int_eq(sk_txn_end(f.tc, "t", p, 0, true), SK_ERR_COORDINATOR_NOT_AVAILABLE);
    f.append_error = 0;
    ck_assert_int_eq(state_of(&f, "t", NULL), SK_TXN_ONGOING);
    check_rebuilt(&f, "t");
    ck_assert_int_eq(sk_txn_end(f.tc, "t", p, 0, true), SK_ERR_NONE);
    ck_assert_int_eq(state_of(&f, "t", NULL), SK_TXN_COMPLETE_COMMIT);
    check_rebuilt(&f, "t");
    /* The next transaction times out on the fake clock: aborted under a
     * bumped epoch, and the rebuilt coordinator agrees. */
    ck_assert_int_eq(sk_txn_add_partitions(f.tc, "t", p, 0, &P_A1, 1), SK_ERR_NONE);
    f.now += 59999;
    ck_assert_int_eq(sk_txns_run_timers(f.tc), 0);
    f.now += 1;
    ck_assert_int_eq(sk_txns_run_timers(f.tc), 1);
    int16_t epoch;
    ck_assert_int_eq(state_of(&f, "t", &epoch), SK_TXN_COMPLETE_ABORT);
    ck_assert_int_eq(epoch, 1);
    check_rebuilt(&f, "t");
    /* InitProducerId's retry epoch is kept live (not in the record). */
    int64_t id;
    ck_assert_int_eq(sk_txn_init_producer_id(f.tc, "t", 60000, p, 1, &id, &epoch), SK_ERR_NONE);
    ck_assert_int_eq(epoch, 2);
    ck_assert_int_eq(sk_txn_add_partitions(f.tc, "t", p, 2, &P_A0, 1), SK_ERR_NONE);
    ck_assert_int_eq(sk_txn_end(f.tc, "t", p, 2, false), SK_ERR_NONE);
    ck_assert_int_eq(sk_txn_init_producer_id(f.tc, "t", 60000, p, 1, &id, &epoch), SK_ERR_NONE);
    ck_assert_int_eq(epoch, 2);
    fx_done(&f);
}
END_TEST

START_TEST(test_expiration)
{
    fixture f;
    fx_init(&f);
    const int64_t hour = 3600000, day = 24 * hour;
    int64_t idle = init(&f, "idle", 0);
    int64_t done = init(&f, "done", 0);
    ck_assert_int_eq(sk_txn_add_partitions(f.tc, "done", done, 0, &P_A0, 1), SK_ERR_NONE);
    ck_assert_int_eq(sk_txn_end(f.tc, "done", done, 0, true), SK_ERR_NONE);
    int64_t open = init(&f, "open", 0);
    ck_assert_int_eq(sk_txn_add_partitions(f.tc, "open", open, 0, &P_A1, 1), SK_ERR_NONE);

    /* Six days on: the open transaction has been aborted by its timeout
     * (and so changed); nothing is idle for seven days yet. */
    f.now = T0 + 6 * day;
    ck_assert_int_eq(sk_txns_run_timers(f.tc), 2);
    ck_assert_int_eq(state_of(&f, "open", NULL), SK_TXN_COMPLETE_ABORT);
    ck_assert_int_eq(state_of(&f, "idle", NULL), SK_TXN_EMPTY);
    ck_assert_int_eq(state_of(&f, "done", NULL), SK_TXN_COMPLETE_COMMIT);

    /* A store failure keeps the ids until a later look succeeds. */
    f.now = T0 + 7 * day + 2 * hour;
    f.append_error = SK_ERR_NOT_ENOUGH_REPLICAS;
    ck_assert_int_eq(sk_txns_run_timers(f.tc), 1);
    ck_assert_int_eq(state_of(&f, "idle", NULL), SK_TXN_EMPTY);
    f.append_error = 0;
    ck_assert_int_eq(sk_txns_run_timers(f.tc), 0); /* the next look is an hour away */
    f.now += hour;
    int before = f.nrecs;
    ck_assert_int_eq(sk_txns_run_timers(f.tc), 1);
    ck_assert_int_eq(state_of(&f, "idle", NULL), SK_TXN_DEAD);
    ck_assert_int_eq(state_of(&f, "done", NULL), SK_TXN_DEAD);
    ck_assert_int_eq(state_of(&f, "open", NULL), SK_TXN_COMPLETE_ABORT);
    /* One tombstone each, keyed by the id. */
    ck_assert_int_eq(f.nrecs, before + 2);
    for (int i = before; i < f.nrecs; i++) {
        ck_assert(f.recs[i].tombstone);
        char *id;
        ck_assert_int_eq(sk_txn_key_decode(f.recs[i].key, f.recs[i].key_len, &id), 0);
        ck_assert(!strcmp(id, "idle") || !strcmp(id, "done"));
        free(id);
    }
    /* Its producer starts over: a new producer id, epoch 0. */
    int64_t again = init(&f, "idle", 0);
    ck_assert_int_ne(again, idle);
    ck_assert_int_ne(again, done);
    ck_assert_int_ne(again, open);
    fx_done(&f);
}
END_TEST

START_TEST(test_verify_and_offset_commit)
{
    fixture f;
    fx_init(&f);
    int64_t pid = init(&f, "v", 0);
    sk_txn_partition parts[] = {P_A0, P_A1};
    int16_t errs[2] = {-2, -2};
    ck_assert_int_eq(sk_txn_check_offset_commit(f.tc, "v", pid, 0, 3), SK_ERR_INVALID_TXN_STATE);
    ck_assert_int_eq(sk_txn_add_partitions(f.tc, "v", pid, 0, &P_A0, 1), SK_ERR_NONE);
    ck_assert_int_eq(sk_txn_verify_partitions(f.tc, "v", pid, 0, parts, 2, errs), SK_ERR_NONE);
    ck_assert_int_eq(errs[0], SK_ERR_NONE);
    ck_assert_int_eq(errs[1], SK_ERR_TRANSACTION_ABORTABLE);
    ck_assert_int_eq(sk_txn_verify_partitions(f.tc, "v", pid, 1, parts, 2, errs), SK_ERR_PRODUCER_FENCED);

    sk_txn_partition offsets = {"__consumer_offsets", 3};
    ck_assert_int_eq(sk_txn_check_offset_commit(f.tc, "v", pid, 0, 3), SK_ERR_INVALID_TXN_STATE);
    ck_assert_int_eq(sk_txn_add_partitions(f.tc, "v", pid, 0, &offsets, 1), SK_ERR_NONE);
    ck_assert_int_eq(sk_txn_check_offset_commit(f.tc, "v", pid, 0, 3), SK_ERR_NONE);
    ck_assert_int_eq(sk_txn_check_offset_commit(f.tc, "v", pid, 1, 3), SK_ERR_INVALID_PRODUCER_EPOCH);
    ck_assert_int_eq(sk_txn_check_offset_commit(f.tc, "v", pid + 1, 0, 3), SK_ERR_INVALID_PRODUCER_ID_MAPPING);
    ck_assert_int_eq(sk_txn_check_offset_commit(f.tc, "", pid, 0, 3), SK_ERR_INVALID_REQUEST);

    /* Produce of transactional batches (KIP-890 verification). */
    ck_assert_int_eq(sk_txn_check_produce(f.tc, NULL, pid, 0, "a", 1), SK_ERR_NONE);
    ck_assert_int_eq(sk_txn_check_produce(NULL, "v", pid, 0, "a", 1), SK_ERR_NONE);
    ck_assert_int_eq(sk_txn_check_produce(f.tc, "v", pid, 0, "a", 0), SK_ERR_NONE);
    ck_assert_int_eq(sk_txn_check_produce(f.tc, "v", pid, 0, "a", 1), SK_ERR_INVALID_TXN_STATE);
    ck_assert_int_eq(sk_txn_check_produce(f.tc, "v", pid, 1, "a", 0), SK_ERR_INVALID_PRODUCER_EPOCH);
    ck_assert_int_eq(sk_txn_check_produce(f.tc, "v", pid + 1, 0, "a", 0), SK_ERR_INVALID_PRODUCER_ID_MAPPING);
    f.marker_error = SK_ERR_KAFKA_STORAGE_ERROR;
    strcpy(f.fail_topic, "a");
    ck_assert_int_eq(sk_txn_end(f.tc, "v", pid, 0, true), SK_ERR_NONE);
    ck_assert_int_eq(sk_txn_check_produce(f.tc, "v", pid, 0, "a", 0), SK_ERR_NOT_ENOUGH_REPLICAS);
    fx_done(&f);
}
END_TEST

START_TEST(test_describe_and_list)
{
    fixture f;
    fx_init(&f);
    sk_arena arena = {0};
    sk_txn_info info;
    ck_assert_int_eq(sk_txn_describe(f.tc, "x", &info, &arena), SK_ERR_TRANSACTIONAL_ID_NOT_FOUND);
    ck_assert_int_eq(sk_txn_describe(f.tc, "", &info, &arena), SK_ERR_INVALID_REQUEST);
    int64_t p1 = init(&f, "one", 0);
    f.now += 100;
    sk_txn_partition parts[] = {P_A0, P_B0, P_A1};
    ck_assert_int_eq(sk_txn_add_partitions(f.tc, "one", p1, 0, parts, 3), SK_ERR_NONE);
    int64_t p2 = init(&f, "two", 0);
    ck_assert_int_eq(sk_txn_describe(f.tc, "one", &info, &arena), SK_ERR_NONE);
    ck_assert_str_eq(info.transactional_id, "one");
    ck_assert_int_eq(info.state, SK_TXN_ONGOING);
    ck_assert_str_eq(sk_txn_state_name(info.state), "Ongoing");
    ck_assert_int_eq(info.timeout_ms, 60000);
    ck_assert_int_eq(info.start_time_ms, T0 + 100);
    ck_assert_int_eq(info.producer_id, p1);
    ck_assert_int_eq(info.npartitions, 3);
    ck_assert_str_eq(info.partitions[0].topic, "a");
    ck_assert_int_eq(info.partitions[1].partition, 1);
    ck_assert_str_eq(info.partitions[2].topic, "b");

    sk_txn_info *list;
    ck_assert_int_eq(sk_txns_list(f.tc, NULL, -1, NULL, 0, -1, &list, &arena), 2);
    sk_txn_state ongoing = SK_TXN_ONGOING;
    ck_assert_int_eq(sk_txns_list(f.tc, &ongoing, 1, NULL, 0, -1, &list, &arena), 1);
    ck_assert_str_eq(list[0].transactional_id, "one");
    ck_assert_int_eq(sk_txns_list(f.tc, &ongoing, 0, NULL, 0, -1, &list, &arena), 0);
    ck_assert_int_eq(sk_txns_list(f.tc, NULL, -1, &p2, 1, -1, &list, &arena), 1);
    ck_assert_str_eq(list[0].transactional_id, "two");
    /* The duration filter keeps transactions running longer than it. */
    ck_assert_int_eq(sk_txns_list(f.tc, &ongoing, 1, NULL, 0, 0, &list, &arena), 0);
    f.now += 51;
    ck_assert_int_eq(sk_txns_list(f.tc, &ongoing, 1, NULL, 0, 50, &list, &arena), 1);
    ck_assert_int_eq(sk_txns_list(f.tc, &ongoing, 1, NULL, 0, 51, &list, &arena), 0);
    ck_assert_int_eq(sk_txn_state_parse("PrepareEpochFence"), SK_TXN_PREPARE_EPOCH_FENCE);
    ck_assert_int_eq(sk_txn_state_parse("ongoing"), -1);
    sk_arena_free(&arena);
    fx_done(&f);
}
END_TEST

static Suite *txn_suite(void)
{
    Suite *s = suite_create("txn");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_producer_ids);
    tcase_add_test(tc, test_init_producer_id);
    tcase_add_test(tc, test_record_bytes);
    tcase_add_loop_test(tc, test_state_matrix, 0, (int)(sizeof matrix / sizeof *matrix) * NAPIS);
    tcase_add_test(tc, test_commit_cycle);
    tcase_add_test(tc, test_timeout_fences);
    tcase_add_test(tc, test_init_aborts_open_transaction);
    tcase_add_test(tc, test_marker_retry);
    tcase_add_test(tc, test_store_failures);
    tcase_add_test(tc, test_replay);
    tcase_add_test(tc, test_replay_timeout_and_rotation);
    tcase_add_test(tc, test_live_equals_replayed);
    tcase_add_test(tc, test_expiration);
    tcase_add_test(tc, test_verify_and_offset_commit);
    tcase_add_test(tc, test_describe_and_list);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return sk_unit_run(txn_suite());
}
