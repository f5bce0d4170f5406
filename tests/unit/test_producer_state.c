/*
 * Producer state in the log (KIP-98): sequence checks of idempotent
 * producers (duplicates of the last five batches answered with their first
 * offsets, gaps and overlaps, epoch fencing, new epochs from sequence 0,
 * unknown producers, the INT32_MAX -> 0 wrap), transactions (last stable
 * offset, INVALID_TXN_STATE, markers, fenced markers), the .txnindex bytes
 * and the aborted-transaction lookup across segments, producer snapshots
 * (exact bytes, corruption), the state after a clean and an unclean
 * reopen, with the .txnindex rebuilt from the log, and the expiration of
 * idle producers (producer.id.expiration.ms).
 */
#include "test_log_util.h"

#include "../../src/log/log_int.h"
#include "skiff/crc32c.h"
#include "skiff/errors.h"
#include "unit_run.h"

typedef struct fixture {
    char *dir;
    struct event_base *base;
    sk_config cfg;
    test_clock clock;
    sk_logstore *store;
    sk_partition *p;
} fixture;

static void fx_open(fixture *f)
{
    sk_logstore_opts opts = {.now_ms = test_clock_now, .clock_arg = &f->clock};
    f->store = sk_logstore_open(f->dir, f->base, &f->cfg, &opts);
    ck_assert_ptr_nonnull(f->store);
    f->p = sk_logstore_find(f->store, "t", 0);
    if (!f->p)
        ck_assert_int_eq(sk_logstore_create_partition(f->store, "t", 0, NULL, NULL, &f->p), SK_ERR_NONE);
    ck_assert_int_eq(sk_partition_ensure_loaded(f->p), SK_ERR_NONE);
}

static void fx_init(fixture *f)
{
    memset(f, 0, sizeof *f);
    f->dir = test_tmpdir();
    f->base = event_base_new();
    f->clock.now = T0;
    test_config(&f->cfg);
    fx_open(f);
}

static void fx_done(fixture *f)
{
    sk_logstore_close(f->store);
    event_base_free(f->base);
    test_rmtree(f->dir);
}

/* Appends a batch of `n` records from producer `pid`; returns the error and
 * the append info in *info (may be NULL). */
static int16_t produce(fixture *f, int64_t pid, int16_t epoch, int32_t seq, int n, bool txn, sk_append_info *info)
{
    sk_record_spec recs[16];
    ck_assert_int_le(n, 16);
    for (int i = 0; i < n; i++)
        recs[i] =
            (sk_record_spec){.key = "k", .key_len = 1, .value = "value", .value_len = 5, .timestamp = f->clock.now + i};
    sk_batch_spec spec = {.producer_id = pid,
                          .producer_epoch = epoch,
                          .base_sequence = seq,
                          .attributes = txn ? SK_BATCH_TRANSACTIONAL : 0};
    sk_writer w;
    sk_writer_init(&w, 0);
    ck_assert_int_eq(sk_batch_build(&w, &spec, recs, n), 0);
    sk_append_info local;
    int16_t err = sk_partition_append(f->p, w.buf, w.len, f->clock.now, info ? info : &local);
    sk_writer_free(&w);
    return err;
}

/* Appends and checks the base offset (and that it was not a duplicate). */
static void produce_at(fixture *f, int64_t pid, int16_t epoch, int32_t seq, int n, bool txn, int64_t base)
{
    sk_append_info info;
    ck_assert_int_eq(produce(f, pid, epoch, seq, n, txn, &info), SK_ERR_NONE);
    ck_assert(!info.duplicate);
    ck_assert_int_eq(info.base_offset, base);
}

static void marker(fixture *f, int64_t pid, int16_t epoch, bool commit, int64_t offset)
{
    sk_append_info info;
    ck_assert_int_eq(sk_partition_append_marker(f->p, pid, epoch, 0, commit, f->clock.now, &info), SK_ERR_NONE);
    ck_assert_int_eq(info.base_offset, offset);
}

START_TEST(test_sequences)
{
    fixture f;
    fx_init(&f);
    produce_at(&f, 1000, 0, 0, 3, false, 0);
    produce_at(&f, 1000, 0, 3, 2, false, 3);

    /* Retries of stored batches: success with the first offsets, no write. */
    sk_append_info info;
    ck_assert_int_eq(produce(&f, 1000, 0, 0, 3, false, &info), SK_ERR_NONE);
    ck_assert(info.duplicate);
    ck_assert_int_eq(info.base_offset, 0);
    ck_assert_int_eq(info.last_offset, 2);
    ck_assert_int_eq(info.log_append_time, -1);
    ck_assert_int_eq(produce(&f, 1000, 0, 3, 2, false, &info), SK_ERR_NONE);
    ck_assert(info.duplicate);
    ck_assert_int_eq(info.base_offset, 3);
    ck_assert_int_eq(sk_partition_log_end_offset(f.p), 5);

    /* A gap, an overlap that is not an exact retry, a new epoch not at 0. */
    ck_assert_int_eq(produce(&f, 1000, 0, 6, 1, false, NULL), SK_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    ck_assert_int_eq(produce(&f, 1000, 0, 4, 1, false, NULL), SK_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    ck_assert_int_eq(produce(&f, 1000, 1, 3, 1, false, NULL), SK_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    produce_at(&f, 1000, 0, 5, 1, false, 5);
    /* A bumped epoch starts at 0; the old epoch is then fenced. */
    produce_at(&f, 1000, 1, 0, 1, false, 6);
    ck_assert_int_eq(produce(&f, 1000, 0, 6, 1, false, NULL), SK_ERR_INVALID_PRODUCER_EPOCH);
    /* The old epoch's batches are no longer duplicates either. */
    ck_assert_int_eq(produce(&f, 1000, 0, 5, 1, false, NULL), SK_ERR_INVALID_PRODUCER_EPOCH);
    produce_at(&f, 1000, 1, 1, 1, false, 7);

    /* A producer the partition does not know may start anywhere (KIP-360). */
    produce_at(&f, 2000, 4, 17, 2, false, 8);
    produce_at(&f, 2000, 4, 19, 1, false, 10);
    ck_assert_int_eq(sk_partition_log_end_offset(f.p), 11);
    fx_done(&f);
}
END_TEST

START_TEST(test_duplicate_window)
{
    fixture f;
    fx_init(&f);
    for (int i = 0; i < 7; i++)
        produce_at(&f, 5, 0, i, 1, false, i);
    /* The last five (sequences 2-6) are duplicates; older ones are out of order. */
    for (int i = 2; i < 7; i++) {
        sk_append_info info;
        ck_assert_int_eq(produce(&f, 5, 0, i, 1, false, &info), SK_ERR_NONE);
        ck_assert(info.duplicate);
        ck_assert_int_eq(info.base_offset, i);
    }
    ck_assert_int_eq(produce(&f, 5, 0, 1, 1, false, NULL), SK_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    ck_assert_int_eq(produce(&f, 5, 0, 0, 1, false, NULL), SK_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);

    /* Sequences wrap from INT32_MAX to 0. */
    produce_at(&f, 6, 0, INT32_MAX - 1, 2, false, 7);
    produce_at(&f, 6, 0, 0, 1, false, 9);
    sk_append_info info;
    ck_assert_int_eq(produce(&f, 6, 0, INT32_MAX - 1, 2, false, &info), SK_ERR_NONE);
    ck_assert(info.duplicate);
    ck_assert_int_eq(info.base_offset, 7);
    fx_done(&f);
}
END_TEST

/* The 34 bytes of a .txnindex entry. */
static void check_txn_entry(const uint8_t *e, int64_t pid, int64_t first, int64_t last, int64_t lso)
{
    ck_assert_int_eq(sk_be16(e), 0);
    ck_assert_int_eq((int64_t)sk_be64(e + 2), pid);
    ck_assert_int_eq((int64_t)sk_be64(e + 10), first);
    ck_assert_int_eq((int64_t)sk_be64(e + 18), last);
    ck_assert_int_eq((int64_t)sk_be64(e + 26), lso);
}

static uint8_t *read_file(const char *path, size_t *len)
{
    char *data = NULL;
    FILE *fp = fopen(path, "rb");
    ck_assert_ptr_nonnull(fp);
    fseek(fp, 0, SEEK_END);
    *len = (size_t)ftell(fp);
    fseek(fp, 0, SEEK_SET);
    data = malloc(*len + 1);
    ck_assert_uint_eq(fread(data, 1, *len, fp), *len);
    fclose(fp);
    return (uint8_t *)data;
}

START_TEST(test_transactions)
{
    fixture f;
    fx_init(&f);
    ck_assert_int_eq(sk_partition_last_stable_offset(f.p), 0);
    produce_at(&f, 7, 0, 0, 2, true, 0); /* producer 7 opens a transaction at 0 */
    ck_assert_int_eq(sk_partition_last_stable_offset(f.p), 0);
    produce_at(&f, 9, 0, 0, 2, false, 2); /* idempotent, outside transactions */
    produce_at(&f, 8, 0, 0, 1, true, 4);  /* producer 8 opens one at 4 */
    ck_assert_int_eq(sk_partition_last_stable_offset(f.p), 0);
    ck_assert_int_eq(sk_partition_high_watermark(f.p), 5);
    /* Inside its transaction producer 7 may only write transactionally. */
    ck_assert_int_eq(produce(&f, 7, 0, 2, 1, false, NULL), SK_ERR_INVALID_TXN_STATE);
    produce_at(&f, 7, 0, 2, 1, true, 5);

    marker(&f, 7, 0, true, 6);
    ck_assert_int_eq(sk_partition_last_stable_offset(f.p), 4);
    /* A marker of an older epoch is fenced. */
    ck_assert_int_eq(sk_partition_append_marker(f.p, 8, -1, 0, false, f.clock.now, NULL),
                     SK_ERR_INVALID_PRODUCER_EPOCH);
    marker(&f, 8, 0, false, 7);
    ck_assert_int_eq(sk_partition_last_stable_offset(f.p), 8);
    ck_assert_int_eq(sk_partition_high_watermark(f.p), 8);
    /* A marker with no transaction open changes nothing but the epoch. */
    marker(&f, 8, 1, false, 8);
    ck_assert_int_eq(sk_partition_last_stable_offset(f.p), 9);
    /* An older coordinator epoch is fenced. */
    ck_assert_int_eq(sk_partition_append_marker(f.p, 7, 0, 5, true, f.clock.now, NULL), SK_ERR_NONE);
    ck_assert_int_eq(sk_partition_append_marker(f.p, 7, 0, 4, true, f.clock.now, NULL),
                     SK_ERR_TRANSACTION_COORDINATOR_FENCED);

    /* One .txnindex entry: producer 8, first 4, marker 7, LSO 8. */
    char path[4096];
    test_seg_path(path, sizeof path, f.dir, "t-0", 0, ".txnindex");
    size_t len;
    uint8_t *bytes = read_file(path, &len);
    ck_assert_uint_eq(len, 34);
    check_txn_entry(bytes, 8, 4, 7, 8);
    free(bytes);

    sk_arena arena = {0};
    sk_aborted_txn *a;
    int32_t n;
    ck_assert_int_eq(sk_partition_aborted_txns(f.p, 0, 10, &arena, &a, &n), SK_ERR_NONE);
    ck_assert_int_eq(n, 1);
    ck_assert_int_eq(a[0].producer_id, 8);
    ck_assert_int_eq(a[0].first_offset, 4);
    ck_assert_int_eq(a[0].last_offset, 7);
    ck_assert_int_eq(a[0].last_stable_offset, 8);
    /* Fetches that end before it or start after it are not told. */
    ck_assert_int_eq(sk_partition_aborted_txns(f.p, 0, 4, &arena, &a, &n), SK_ERR_NONE);
    ck_assert_int_eq(n, 0);
    ck_assert_int_eq(sk_partition_aborted_txns(f.p, 8, 10, &arena, &a, &n), SK_ERR_NONE);
    ck_assert_int_eq(n, 0);

    sk_producer_info *pi;
    ck_assert_int_eq(sk_partition_producers(f.p, &arena, &pi, &n), SK_ERR_NONE);
    ck_assert_int_eq(n, 3);
    for (int32_t i = 0; i < n; i++) {
        if (pi[i].producer_id == 9) {
            ck_assert_int_eq(pi[i].producer_epoch, 0);
            ck_assert_int_eq(pi[i].last_sequence, 1);
            ck_assert_int_eq(pi[i].current_txn_start_offset, -1);
        } else if (pi[i].producer_id == 8) {
            ck_assert_int_eq(pi[i].producer_epoch, 1);
            ck_assert_int_eq(pi[i].last_sequence, -1);
            ck_assert_int_eq(pi[i].coordinator_epoch, 0);
        } else {
            ck_assert_int_eq(pi[i].producer_id, 7);
            ck_assert_int_eq(pi[i].coordinator_epoch, 5);
        }
    }
    sk_arena_free(&arena);
    fx_done(&f);
}
END_TEST

START_TEST(test_aborted_across_segments)
{
    fixture f;
    fx_init(&f);
    /* Segment 0: txn A (producer 1) aborted; segment 4: txn B (producer 2)
     * opened in segment 0, aborted in segment 4 while C (producer 3) is open. */
    produce_at(&f, 1, 0, 0, 1, true, 0);
    produce_at(&f, 2, 0, 0, 1, true, 1);
    marker(&f, 1, 0, false, 2); /* A: 0..2, LSO 1 (B still open) */
    produce_at(&f, 9, 0, 0, 1, false, 3);
    ck_assert_int_eq(sk_partition_roll(f.p), SK_ERR_NONE);
    produce_at(&f, 3, 0, 0, 1, true, 4);
    marker(&f, 2, 0, false, 5); /* B: 1..5, LSO 4 (C open) */
    marker(&f, 3, 0, false, 6); /* C: 4..6, LSO 7 */
    produce_at(&f, 9, 0, 1, 1, false, 7);

    sk_arena arena = {0};
    sk_aborted_txn *a;
    int32_t n;
    ck_assert_int_eq(sk_partition_aborted_txns(f.p, 0, 8, &arena, &a, &n), SK_ERR_NONE);
    ck_assert_int_eq(n, 3);
    ck_assert_int_eq(a[0].producer_id, 1);
    ck_assert_int_eq(a[0].last_stable_offset, 1);
    ck_assert_int_eq(a[1].producer_id, 2);
    ck_assert_int_eq(a[1].first_offset, 1);
    ck_assert_int_eq(a[1].last_stable_offset, 4);
    ck_assert_int_eq(a[2].producer_id, 3);
    ck_assert_int_eq(a[2].last_stable_offset, 7);
    /* A read of [0, 1) stops in segment 0: A's LSO reaches the bound. */
    ck_assert_int_eq(sk_partition_aborted_txns(f.p, 0, 1, &arena, &a, &n), SK_ERR_NONE);
    ck_assert_int_eq(n, 1);
    ck_assert_int_eq(a[0].producer_id, 1);
    /* From offset 3: B (still running at 3) and C; not A. */
    ck_assert_int_eq(sk_partition_aborted_txns(f.p, 3, 8, &arena, &a, &n), SK_ERR_NONE);
    ck_assert_int_eq(n, 2);
    ck_assert_int_eq(a[0].producer_id, 2);
    ck_assert_int_eq(a[1].producer_id, 3);
    sk_arena_free(&arena);

    char path[4096];
    test_seg_path(path, sizeof path, f.dir, "t-0", 0, ".txnindex");
    ck_assert_int_eq(test_file_size(path), 34);
    test_seg_path(path, sizeof path, f.dir, "t-0", 4, ".txnindex");
    ck_assert_int_eq(test_file_size(path), 68);
    /* The roll snapshotted the state at offset 4 (written in the background). */
    sk_bg_drain(sk_logstore_bg(f.store));
    test_seg_path(path, sizeof path, f.dir, "t-0", 4, ".snapshot");
    ck_assert(test_exists(path));
    fx_done(&f);
}
END_TEST

START_TEST(test_snapshot_bytes)
{
    sk_producer_state ps, back;
    sk_producer_state_init(&ps);
    sk_producer_state_init(&back);
    sk_producer_append pa = {0};
    uint8_t buf[256];
    sk_writer w;
    sk_writer_init(&w, 0);
    sk_record_spec recs[3] = {{.value = "a", .value_len = 1, .timestamp = 100},
                              {.value = "b", .value_len = 1, .timestamp = 105},
                              {.value = "c", .value_len = 1, .timestamp = 102}};
    sk_batch_spec spec = {
        .producer_id = 42, .producer_epoch = 3, .base_sequence = 10, .attributes = SK_BATCH_TRANSACTIONAL};
    ck_assert_int_eq(sk_batch_build(&w, &spec, recs, 3), 0);
    sk_batch b;
    ck_assert_int_eq(sk_batch_header_parse(&b, w.buf, w.len), 0);
    ck_assert_int_eq(sk_producer_append_batch(&pa, &ps, &b, 500, 105, SK_APPEND_CLIENT, false, NULL), SK_ERR_NONE);
    ck_assert_int_eq(sk_producer_append_commit(&pa, &ps), 0);
    sk_producer_append_free(&pa);
    sk_writer_free(&w);
    ck_assert_int_eq(sk_producer_state_first_unstable(&ps), 500);

    size_t len;
    uint8_t *snap = sk_producer_snapshot_render(&ps, &len);
    ck_assert_uint_eq(len, 10 + 46);
    memcpy(buf, snap, len);
    ck_assert_int_eq(sk_be16(buf), 1); /* version */
    ck_assert_uint_eq(sk_be32(buf + 2), sk_crc32c(0, buf + 6, len - 6));
    ck_assert_int_eq(sk_be32(buf + 6), 1);             /* entries */
    ck_assert_int_eq((int64_t)sk_be64(buf + 10), 42);  /* producer id */
    ck_assert_int_eq((int16_t)sk_be16(buf + 18), 3);   /* epoch */
    ck_assert_int_eq((int32_t)sk_be32(buf + 20), 12);  /* last sequence */
    ck_assert_int_eq((int64_t)sk_be64(buf + 24), 502); /* last offset */
    ck_assert_int_eq((int32_t)sk_be32(buf + 32), 2);   /* offset delta */
    ck_assert_int_eq((int64_t)sk_be64(buf + 36), 105); /* timestamp */
    ck_assert_int_eq((int32_t)sk_be32(buf + 44), -1);  /* coordinator epoch */
    ck_assert_int_eq((int64_t)sk_be64(buf + 48), 500); /* open transaction */

    ck_assert_int_eq(sk_producer_snapshot_parse(&back, snap, len), 0);
    const sk_producer_entry *e = sk_producer_state_find(&back, 42);
    ck_assert_ptr_nonnull(e);
    ck_assert_int_eq(e->nbatches, 1);
    ck_assert_int_eq(e->batches[0].first_seq, 10);
    ck_assert_int_eq(e->batches[0].last_seq, 12);
    ck_assert_int_eq(e->batches[0].first_offset, 500);
    ck_assert_int_eq(sk_producer_state_first_unstable(&back), 500);
    /* A flipped bit, a short file and another version are refused. */
    snap[30] ^= 1;
    ck_assert_int_eq(sk_producer_snapshot_parse(&back, snap, len), -1);
    snap[30] ^= 1;
    ck_assert_int_eq(sk_producer_snapshot_parse(&back, snap, len - 1), -1);
    snap[1] = 2;
    ck_assert_int_eq(sk_producer_snapshot_parse(&back, snap, len), -1);
    ck_assert_ptr_null(sk_producer_state_find(&back, 42));
    free(snap);
    sk_producer_state_clear(&ps);
    sk_producer_state_clear(&back);
}
END_TEST

/* A producer listed twice in a snapshot: the later entry wins, and the open
 * transaction list holds it once (found by fuzz_log_files). */
START_TEST(test_snapshot_duplicate_producer)
{
    uint8_t buf[10 + 2 * 46] = {0};
    sk_put_be16(buf, 1);
    sk_put_be32(buf + 6, 2);
    for (int i = 0; i < 2; i++) {
        uint8_t *e = buf + 10 + 46 * i;
        sk_put_be64(e, 42);                             /* producer id */
        sk_put_be64(e + 14, (uint64_t)(500 + 200 * i)); /* last offset */
        sk_put_be32(e + 34, UINT32_MAX);                /* coordinator epoch -1 */
        sk_put_be64(e + 38, (uint64_t)(500 + 200 * i)); /* open transaction */
    }
    sk_put_be32(buf + 2, sk_crc32c(0, buf + 6, sizeof buf - 6));
    sk_producer_state ps;
    sk_producer_state_init(&ps);
    ck_assert_int_eq(sk_producer_snapshot_parse(&ps, buf, sizeof buf), 0);
    ck_assert_uint_eq(ps.table.count, 1);
    ck_assert_int_eq(sk_producer_state_first_unstable(&ps), 700);
    ck_assert_ptr_eq(ps.txn_head, ps.txn_tail);
    ck_assert_ptr_null(ps.txn_head->txn_next);
    ck_assert_ptr_null(ps.txn_head->txn_prev);
    sk_producer_state_clear(&ps);
}
END_TEST

/* The state every reopen must give back (see fill_state). */
static void check_state(fixture *f)
{
    /* Producer 1's last batch is still a duplicate; it continues at 3. */
    sk_append_info info;
    ck_assert_int_eq(produce(f, 1, 0, 2, 1, false, &info), SK_ERR_NONE);
    ck_assert(info.duplicate);
    ck_assert_int_eq(info.base_offset, 2);
    ck_assert_int_eq(produce(f, 1, 0, 4, 1, false, NULL), SK_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    /* Producer 3's transaction is still open at 6. */
    ck_assert_int_eq(sk_partition_last_stable_offset(f->p), 6);
    ck_assert_int_eq(sk_partition_high_watermark(f->p), 7);
    sk_arena arena = {0};
    sk_aborted_txn *a;
    int32_t n;
    ck_assert_int_eq(sk_partition_aborted_txns(f->p, 0, 7, &arena, &a, &n), SK_ERR_NONE);
    ck_assert_int_eq(n, 1);
    ck_assert_int_eq(a[0].producer_id, 2);
    ck_assert_int_eq(a[0].first_offset, 3);
    ck_assert_int_eq(a[0].last_offset, 5);
    ck_assert_int_eq(a[0].last_stable_offset, 6);
    sk_arena_free(&arena);
    produce_at(f, 1, 0, 3, 1, false, 7);
    marker(f, 3, 0, true, 8);
    ck_assert_int_eq(sk_partition_last_stable_offset(f->p), 9);
}

/* 0-2 producer 1 (sequences 0-2), 3-4 producer 2's aborted transaction,
 * 6 producer 3's open one. */
static void fill_state(fixture *f)
{
    produce_at(f, 1, 0, 0, 2, false, 0);
    produce_at(f, 1, 0, 2, 1, false, 2);
    produce_at(f, 2, 0, 0, 2, true, 3);
    ck_assert_int_eq(sk_partition_append_marker(f->p, 2, 0, 0, false, f->clock.now, NULL), SK_ERR_NONE);
    produce_at(f, 3, 0, 0, 1, true, 6);
}

START_TEST(test_reopen_clean)
{
    fixture f;
    fx_init(&f);
    fill_state(&f);
    sk_logstore_close(f.store);
    char path[4096];
    test_seg_path(path, sizeof path, f.dir, "t-0", 7, ".snapshot");
    ck_assert(test_exists(path));
    fx_open(&f);
    check_state(&f);
    fx_done(&f);
}
END_TEST

START_TEST(test_reopen_unclean_rebuilds)
{
    fixture f;
    fx_init(&f);
    fill_state(&f);
    char txnindex[4096];
    test_seg_path(txnindex, sizeof txnindex, f.dir, "t-0", 0, ".txnindex");
    size_t len;
    uint8_t *before = read_file(txnindex, &len);
    ck_assert_uint_eq(len, 34);
    sk_logstore_close_unclean(f.store);
    /* No snapshot and no .txnindex: both come back from the batches. */
    unlink(txnindex);
    fx_open(&f);
    size_t len2;
    uint8_t *after = read_file(txnindex, &len2);
    ck_assert_uint_eq(len2, len);
    ck_assert_mem_eq(after, before, len);
    free(before);
    free(after);
    check_state(&f);
    fx_done(&f);
}
END_TEST

START_TEST(test_reopen_from_older_snapshot)
{
    fixture f;
    fx_init(&f);
    produce_at(&f, 2, 0, 0, 2, true, 0);
    ck_assert_int_eq(sk_partition_roll(f.p), SK_ERR_NONE); /* snapshot at 2, producer 2 open */
    sk_bg_drain(sk_logstore_bg(f.store));
    ck_assert_int_eq(sk_partition_append_marker(f.p, 2, 0, 0, false, f.clock.now, NULL), SK_ERR_NONE);
    produce_at(&f, 1, 0, 0, 1, false, 3);
    sk_logstore_close_unclean(f.store);
    /* A snapshot beyond the log end is stale and removed. */
    char stale[4096];
    test_seg_path(stale, sizeof stale, f.dir, "t-0", 99, ".snapshot");
    FILE *fp = fopen(stale, "w");
    fclose(fp);
    fx_open(&f);
    ck_assert_int_eq(sk_partition_last_stable_offset(f.p), 4);
    ck_assert(!test_exists(stale));
    sk_arena arena = {0};
    sk_aborted_txn *a;
    int32_t n;
    ck_assert_int_eq(sk_partition_aborted_txns(f.p, 0, 4, &arena, &a, &n), SK_ERR_NONE);
    ck_assert_int_eq(n, 1);
    ck_assert_int_eq(a[0].first_offset, 0);
    ck_assert_int_eq(a[0].last_offset, 2);
    sk_arena_free(&arena);
    sk_append_info info;
    ck_assert_int_eq(produce(&f, 1, 0, 0, 1, false, &info), SK_ERR_NONE);
    ck_assert(info.duplicate);
    fx_done(&f);
}
END_TEST

/* The producers the partition knows, as DescribeProducers lists them. */
static int32_t producer_count(fixture *f)
{
    sk_arena arena = {0};
    sk_producer_info *pi;
    int32_t n;
    ck_assert_int_eq(sk_partition_producers(f->p, &arena, &pi, &n), SK_ERR_NONE);
    sk_arena_free(&arena);
    return n;
}

START_TEST(test_expiration)
{
    fixture f;
    fx_init(&f);
    const int64_t day = 86400000;
    produce_at(&f, 1, 0, 0, 2, false, 0); /* idle from T0 (+1 for its second record) */
    produce_at(&f, 2, 0, 0, 1, true, 2);  /* a transaction left open */
    f.clock.now = T0 + day - 1;
    produce_at(&f, 3, 0, 0, 1, false, 3); /* active */
    ck_assert_uint_eq(sk_logstore_expire_producers(f.store), 0);
    /* A day after its newest batch timestamp, producer 1 is forgotten; the
     * open transaction keeps producer 2. */
    f.clock.now = T0 + day + 1;
    ck_assert_uint_eq(sk_logstore_expire_producers(f.store), 1);
    ck_assert_int_eq(producer_count(&f), 2);
    /* Forgotten, it is a new producer: its first batch again is written,
     * not answered as a duplicate. */
    produce_at(&f, 1, 0, 0, 2, false, 4);
    produce_at(&f, 1, 0, 2, 1, false, 6);
    /* Producer 2's transaction ends (the marker's timestamp counts). */
    marker(&f, 2, 0, false, 7);
    f.clock.now = T0 + 2 * day;
    ck_assert_uint_eq(sk_logstore_expire_producers(f.store), 1); /* 3 */
    f.clock.now = T0 + 2 * day + 2;
    ck_assert_uint_eq(sk_logstore_expire_producers(f.store), 2); /* 1 and 2 */
    ck_assert_int_eq(producer_count(&f), 0);
    /* One that expires while the partition is closed is gone when it loads. */
    produce_at(&f, 4, 0, 0, 1, false, 8);
    sk_logstore_close(f.store);
    f.clock.now = T0 + 3 * day + 1;
    fx_open(&f);
    ck_assert_int_eq(producer_count(&f), 1);
    sk_logstore_close(f.store);
    f.clock.now = T0 + 3 * day + 2;
    fx_open(&f);
    ck_assert_int_eq(producer_count(&f), 0);
    /* ... and may go on at any sequence. */
    produce_at(&f, 4, 0, 42, 1, false, 9);
    fx_done(&f);
}
END_TEST

static Suite *producer_state_suite(void)
{
    Suite *s = suite_create("producer_state");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_sequences);
    tcase_add_test(tc, test_duplicate_window);
    tcase_add_test(tc, test_transactions);
    tcase_add_test(tc, test_aborted_across_segments);
    tcase_add_test(tc, test_snapshot_bytes);
    tcase_add_test(tc, test_snapshot_duplicate_producer);
    tcase_add_test(tc, test_reopen_clean);
    tcase_add_test(tc, test_reopen_unclean_rebuilds);
    tcase_add_test(tc, test_reopen_from_older_snapshot);
    tcase_add_test(tc, test_expiration);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return sk_unit_run(producer_state_suite());
}
