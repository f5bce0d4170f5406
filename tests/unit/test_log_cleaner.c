/*
 * The log cleaner (src/log/cleaner.c, cleaner_pass.c): the newest record per
 * key survives at its offset, tombstones stay until delete.retention.ms past
 * the pass that first kept them, aborted transactions' data goes, markers
 * stay until their data is gone and their horizon passed, the active
 * segment, open transactions and min.compaction.lag.ms are respected,
 * compressed batches keep their codec, the dirtiest log is chosen first,
 * readers keep old segments, every offset and timestamp still resolves, and
 * crash leftovers (.cleaned, .swap) are recovered.
 */
#include "test_log_util.h"

#include "../../src/log/log_int.h"
#include "skiff/compress.h"
#include "skiff/errors.h"
#include "skiff/trace.h"
#include "unit_run.h"

typedef struct fixture {
    char *dir;
    struct event_base *base;
    sk_config cfg;
    test_clock clock;
    sk_logstore *store;
    sk_partition *p;
    sk_log_config lc;
} fixture;

static void cleaner_config(sk_config *c)
{
    test_config(c);
    c->log_cleaner_enable = false; /* passes are started by hand */
    c->log_cleaner_dedupe_buffer_size = 1 << 20;
    c->log_cleaner_io_buffer_size = 4096;
    c->log_cleaner_backoff_ms = 1;
    c->log_cleaner_min_cleanable_ratio = "0.5";
    c->log_cleaner_delete_retention_ms = 1000;
    c->log_cleaner_max_compaction_lag_ms = INT64_MAX;
}

static void fx_open(fixture *f)
{
    sk_logstore_opts opts = {.now_ms = test_clock_now, .clock_arg = &f->clock};
    f->store = sk_logstore_open(f->dir, f->base, &f->cfg, &opts);
    ck_assert_ptr_nonnull(f->store);
    f->p = sk_logstore_find(f->store, "c", 0);
    if (f->p)
        sk_partition_set_config(f->p, &f->lc);
}

static void fx_init(fixture *f)
{
    memset(f, 0, sizeof *f);
    f->dir = test_tmpdir();
    f->base = event_base_new();
    f->clock.now = T0;
    cleaner_config(&f->cfg);
    sk_log_config_from_broker(&f->lc, &f->cfg);
    f->lc.compact = true;
    f->lc.retention_ms = -1;
    f->lc.index_interval_bytes = 100;
    fx_open(f);
    ck_assert_int_eq(sk_logstore_create_partition(f->store, "c", 0, NULL, &f->lc, &f->p), SK_ERR_NONE);
}

static void fx_done(fixture *f)
{
    sk_logstore_close(f->store);
    event_base_free(f->base);
    test_rmtree(f->dir);
}

/* Appends one batch of `n` records (values NULL = tombstones) with
 * timestamp ts (default: the clock) under `spec`. Returns its base offset. */
static int64_t put_spec(fixture *f, const sk_batch_spec *spec, const char *const *keys, const char *const *values,
                        int n, int codec)
{
    sk_record_spec recs[64];
    for (int i = 0; i < n; i++)
        recs[i] = (sk_record_spec){.key = keys[i],
                                   .key_len = strlen(keys[i]),
                                   .value = values[i],
                                   .value_len = values[i] ? strlen(values[i]) : 0,
                                   .timestamp = f->clock.now};
    sk_writer w, z;
    sk_writer_init(&w, 0);
    sk_writer_init(&z, 0);
    ck_assert_int_eq(sk_batch_build(&w, spec, recs, n), 0);
    sk_writer *use = &w;
    if (codec != SK_COMPRESSION_NONE) {
        sk_batch b;
        sk_batch_header_parse(&b, w.buf, w.len);
        ck_assert_int_eq(sk_batch_recompress(&b, codec, SK_COMPRESSION_LEVEL_DEFAULT, 1 << 20, true, &z), 0);
        use = &z;
    }
    sk_append_info info;
    ck_assert_int_eq(sk_partition_append(f->p, use->buf, use->len, f->clock.now, &info), SK_ERR_NONE);
    sk_writer_free(&w);
    sk_writer_free(&z);
    return info.base_offset;
}

static int64_t put(fixture *f, const char *key, const char *value)
{
    sk_batch_spec spec = {.producer_id = -1, .producer_epoch = -1, .base_sequence = -1};
    return put_spec(f, &spec, &key, &value, 1, SK_COMPRESSION_NONE);
}

static int64_t put_txn(fixture *f, int64_t pid, int32_t seq, const char *key, const char *value)
{
    sk_batch_spec spec = {
        .producer_id = pid, .producer_epoch = 0, .base_sequence = seq, .attributes = SK_BATCH_TRANSACTIONAL};
    return put_spec(f, &spec, &key, &value, 1, SK_COMPRESSION_NONE);
}

static int64_t marker(fixture *f, int64_t pid, bool commit)
{
    sk_append_info info;
    ck_assert_int_eq(sk_partition_append_marker(f->p, pid, 0, 0, commit, f->clock.now, &info), SK_ERR_NONE);
    return info.base_offset;
}

static void roll(fixture *f)
{
    ck_assert_int_eq(sk_partition_roll(f->p), SK_ERR_NONE);
}

/* One pass, waited for. */
static void clean(fixture *f)
{
    ck_assert_int_eq(sk_logstore_clean_now(f->p), 1);
    sk_bg_drain(sk_logstore_bg(f->store));
}

typedef struct rec_out {
    int64_t offset;
    char key[32];
    char value[64];
    bool tombstone, control;
    int16_t attributes;     /* of its batch */
    int64_t base_timestamp; /* of its batch */
    int64_t timestamp;
    int32_t batch_records; /* of its batch */
} rec_out;

/* Every record from the log start offset on (a control batch is one
 * entry, key "ctl"; an empty batch one entry with batch_records 0), with
 * each batch's CRC, offsets increasing, and the reads' next offsets checked. */
static int read_all(sk_partition *p, rec_out *out, int max)
{
    int n = 0;
    ck_assert_int_eq(sk_partition_ensure_loaded(p), SK_ERR_NONE);
    int64_t off = sk_partition_log_start_offset(p), hwm = sk_partition_high_watermark(p);
    int64_t last_seen = -1;
    while (off < hwm) {
        sk_read_result r;
        ck_assert_int_eq(sk_partition_read(p, off, 1 << 20, hwm, &r), SK_ERR_NONE);
        ck_assert_int_gt(r.slice.length, 0);
        uint8_t *buf = malloc((size_t)r.slice.length);
        ck_assert_int_eq(sk_log_slice_copy(&r.slice, buf), 0);
        for (int64_t pos = 0; pos < r.slice.length;) {
            sk_batch b;
            ck_assert_int_eq(sk_batch_header_parse(&b, buf + pos, (size_t)(r.slice.length - pos)), 0);
            ck_assert(sk_batch_crc_valid(buf + pos, b.size));
            ck_assert_int_gt(b.base_offset, last_seen);
            last_seen = sk_batch_last_offset(&b);
            if (b.record_count == 0 || (b.attributes & SK_BATCH_CONTROL)) {
                ck_assert_int_lt(n, max);
                out[n++] = (rec_out){.offset = b.base_offset,
                                     .control = (b.attributes & SK_BATCH_CONTROL) != 0,
                                     .attributes = b.attributes,
                                     .base_timestamp = b.base_timestamp,
                                     .batch_records = b.record_count};
                snprintf(out[n - 1].key, sizeof out[n - 1].key, "%s", b.record_count ? "ctl" : "");
            } else {
                sk_batch_records br;
                ck_assert_int_eq(sk_batch_records_open(&br, &b, 1 << 20), SK_ERR_NONE);
                sk_record rec;
                while (sk_record_next(&br.it, &rec) == 1) {
                    ck_assert_int_lt(n, max);
                    rec_out *o = &out[n++];
                    *o = (rec_out){.offset = b.base_offset + rec.offset_delta,
                                   .tombstone = !rec.value,
                                   .attributes = b.attributes,
                                   .base_timestamp = b.base_timestamp,
                                   .timestamp = rec.timestamp,
                                   .batch_records = b.record_count};
                    snprintf(o->key, sizeof o->key, "%.*s", rec.key_len, (const char *)rec.key);
                    if (rec.value)
                        snprintf(o->value, sizeof o->value, "%.*s", rec.value_len, (const char *)rec.value);
                }
                sk_batch_records_close(&br);
            }
            pos += (int64_t)b.size;
        }
        off = r.next_offset;
        free(buf);
        sk_log_slice_release(&r.slice);
    }
    return n;
}

static void expect(const rec_out *r, int64_t offset, const char *key, const char *value)
{
    ck_assert_int_eq(r->offset, offset);
    ck_assert_str_eq(r->key, key);
    if (value) {
        ck_assert(!r->tombstone);
        ck_assert_str_eq(r->value, value);
    } else if (!r->control) {
        ck_assert(r->tombstone);
    }
}

START_TEST(test_newest_value_per_key)
{
    fixture f;
    fx_init(&f);
    put(&f, "a", "a1");
    put(&f, "b", "b1");
    put(&f, "a", "a2");
    put(&f, "c", "c1");
    put(&f, "b", "b2");
    roll(&f);
    put(&f, "a", "a3"); /* active segment: untouched, not in the map */
    clean(&f);
    rec_out r[16];
    int n = read_all(f.p, r, 16);
    ck_assert_int_eq(n, 4);
    expect(&r[0], 2, "a", "a2");
    expect(&r[1], 3, "c", "c1");
    expect(&r[2], 4, "b", "b2");
    expect(&r[3], 5, "a", "a3");
    sk_cleaner_stats st;
    sk_logstore_cleaner_stats(f.store, &st);
    ck_assert_int_eq(st.passes, 1);
    ck_assert_int_eq(st.records_read, 5);
    ck_assert_int_eq(st.records_removed, 2);
    ck_assert(!st.running);
    ck_assert(st.last_dirty_ratio == 1.0);
    ck_assert_int_ge(st.last_pass_ms, 0);
    ck_assert_int_gt(st.bytes_written, 0);
    ck_assert_int_gt(st.bytes_read, st.bytes_written);
    ck_assert_int_eq(sk_partition_log_start_offset(f.p), 0);
    ck_assert_int_eq(sk_partition_log_end_offset(f.p), 6);
    /* A read at a removed offset gets the next batch. */
    sk_read_result rr;
    ck_assert_int_eq(sk_partition_read(f.p, 0, 1 << 20, 6, &rr), SK_ERR_NONE);
    ck_assert_int_eq(rr.first_offset, 2);
    sk_log_slice_release(&rr.slice);
    /* Nothing dirty is left; the checkpoint remembers where the pass ended. */
    ck_assert_int_eq(sk_logstore_clean_now(f.p), 0);
    sk_logstore_checkpoint(f.store);
    sk_bg_drain(sk_logstore_bg(f.store));
    char path[512];
    snprintf(path, sizeof path, "%s/cleaner-offset-checkpoint", f.dir);
    FILE *fp = fopen(path, "r");
    ck_assert_ptr_nonnull(fp);
    char text[128] = {0};
    ck_assert_uint_gt(fread(text, 1, sizeof text - 1, fp), 0);
    fclose(fp);
    ck_assert_str_eq(text, "0\n1\nc 0 5\n");

    /* The next pass cleans the new dirty part against the clean one, and
     * the result survives a restart with the checkpoint. */
    put(&f, "b", "b3");
    roll(&f);
    clean(&f);
    n = read_all(f.p, r, 16);
    ck_assert_int_eq(n, 3);
    expect(&r[0], 3, "c", "c1");
    expect(&r[1], 5, "a", "a3");
    expect(&r[2], 6, "b", "b3");
    ck_assert_uint_eq(sk_partition_segment_count(f.p), 2); /* one group */
    sk_logstore_close(f.store);
    fx_open(&f);
    ck_assert_int_eq(f.p->cleaner_offset, 7);
    n = read_all(f.p, r, 16);
    ck_assert_int_eq(n, 3);
    expect(&r[2], 6, "b", "b3");
    fx_done(&f);
}
END_TEST

START_TEST(test_tombstones_kept_then_dropped)
{
    fixture f;
    fx_init(&f);
    put(&f, "a", "a1");
    put(&f, "b", "b1");
    put(&f, "a", NULL);
    roll(&f);
    put(&f, "x", "x1");
    clean(&f);
    rec_out r[16];
    int n = read_all(f.p, r, 16);
    ck_assert_int_eq(n, 3);
    expect(&r[0], 1, "b", "b1");
    expect(&r[1], 2, "a", NULL);
    /* The tombstone's batch got its delete horizon: now + delete.retention.ms;
     * the record keeps its timestamp. */
    ck_assert(r[1].attributes & SK_BATCH_DELETE_HORIZON);
    ck_assert_int_eq(r[1].base_timestamp, T0 + 1000);
    ck_assert_int_eq(r[1].timestamp, T0);
    ck_assert(!(r[0].attributes & SK_BATCH_DELETE_HORIZON));

    /* Before the horizon it stays; after it, it goes. */
    f.clock.now = T0 + 999;
    put(&f, "y", "y1");
    roll(&f);
    clean(&f);
    n = read_all(f.p, r, 16);
    ck_assert_int_eq(n, 4);
    expect(&r[1], 2, "a", NULL);
    f.clock.now = T0 + 1000;
    put(&f, "z", "z1");
    roll(&f);
    clean(&f);
    n = read_all(f.p, r, 16);
    ck_assert_int_eq(n, 4);
    expect(&r[0], 1, "b", "b1");
    expect(&r[1], 3, "x", "x1");
    expect(&r[2], 4, "y", "y1");
    expect(&r[3], 5, "z", "z1");
    fx_done(&f);
}
END_TEST

START_TEST(test_transactions)
{
    fixture f;
    fx_init(&f);
    put_txn(&f, 7, 0, "k1", "aborted");   /* 0 */
    marker(&f, 7, false);                 /* 1: ABORT */
    put_txn(&f, 7, 1, "k2", "committed"); /* 2 */
    marker(&f, 7, true);                  /* 3: COMMIT */
    put(&f, "k3", "plain");               /* 4 */
    roll(&f);
    put(&f, "f1", "x"); /* 5 */
    clean(&f);
    rec_out r[16];
    int n = read_all(f.p, r, 16);
    ck_assert_int_eq(n, 5);
    expect(&r[0], 1, "ctl", NULL); /* its transaction's data was still seen in this pass */
    expect(&r[1], 2, "k2", "committed");
    expect(&r[2], 3, "ctl", NULL);
    expect(&r[3], 4, "k3", "plain");
    ck_assert(!(r[0].attributes & SK_BATCH_DELETE_HORIZON));
    /* The cleaned segment's .txnindex keeps the abort. */
    ck_assert_int_eq(sk_txn_index_load(f.p->segs[0]), 0);
    ck_assert_uint_eq(f.p->segs[0]->naborted, 1);
    ck_assert_int_eq(f.p->segs[0]->aborted[0].first_offset, 0);
    ck_assert_int_eq(f.p->segs[0]->aborted[0].last_offset, 1);

    /* Next pass: no data left for the abort: the marker gets its horizon. */
    f.clock.now = T0 + 100;
    roll(&f);
    put(&f, "f2", "x");
    clean(&f);
    n = read_all(f.p, r, 16);
    ck_assert_int_eq(n, 6);
    expect(&r[0], 1, "ctl", NULL);
    ck_assert(r[0].attributes & SK_BATCH_DELETE_HORIZON);
    ck_assert_int_eq(r[0].base_timestamp, T0 + 1100);
    /* The COMMIT stays while its data does. */
    expect(&r[2], 3, "ctl", NULL);
    ck_assert(!(r[2].attributes & SK_BATCH_DELETE_HORIZON));

    /* Past the horizon the ABORT marker goes. */
    f.clock.now = T0 + 1100;
    roll(&f);
    put(&f, "f3", "x");
    clean(&f);
    n = read_all(f.p, r, 16);
    ck_assert_int_eq(n, 6);
    expect(&r[0], 2, "k2", "committed");
    expect(&r[1], 3, "ctl", NULL);
    expect(&r[2], 4, "k3", "plain");
    fx_done(&f);
}
END_TEST

/* An abort in one group does not touch the producer's next, committed
 * transaction in the next group (aborted transactions ended before a
 * group are not its concern: Kafka's collectAbortedTransactions). */
START_TEST(test_abort_then_commit_across_groups)
{
    fixture f;
    fx_init(&f);
    put_txn(&f, 7, 0, "k1", "aborted"); /* 0 */
    marker(&f, 7, false);               /* 1 */
    roll(&f);
    put_txn(&f, 7, 1, "k2", "committed"); /* 2 */
    marker(&f, 7, true);                  /* 3 */
    roll(&f);
    put(&f, "z", "z");                            /* 4 */
    f.lc.segment_bytes = f.p->segs[0]->size + 20; /* one segment per group */
    sk_partition_set_config(f.p, &f.lc);
    clean(&f);
    rec_out r[8];
    int n = read_all(f.p, r, 8);
    ck_assert_int_eq(n, 4);
    expect(&r[0], 1, "ctl", NULL);
    expect(&r[1], 2, "k2", "committed");
    expect(&r[2], 3, "ctl", NULL);
    expect(&r[3], 4, "z", "z");
    ck_assert_uint_eq(sk_partition_segment_count(f.p), 3);
    fx_done(&f);
}
END_TEST

/* The round's last batch stays (emptied) even when nothing of it is kept
 * (Kafka's upperBoundOffsetOfCleaningRound rule). */
START_TEST(test_last_batch_of_round_kept_empty)
{
    fixture f;
    fx_init(&f);
    put(&f, "a", "a");                 /* 0 */
    put_txn(&f, 9, 0, "y", "aborted"); /* 1: the round's last batch */
    roll(&f);
    marker(&f, 9, false);                /* 2: its ABORT, in the active segment */
    put_txn(&f, 9, 1, "w", "committed"); /* 3: producer 9's last data */
    marker(&f, 9, true);                 /* 4 */
    clean(&f);
    rec_out r[8];
    int n = read_all(f.p, r, 8);
    ck_assert_int_eq(n, 5);
    expect(&r[0], 0, "a", "a");
    ck_assert_int_eq(r[1].offset, 1);
    ck_assert_int_eq(r[1].batch_records, 0);
    ck_assert(r[1].attributes & SK_BATCH_TRANSACTIONAL);
    expect(&r[2], 2, "ctl", NULL);
    expect(&r[3], 3, "w", "committed");
    fx_done(&f);
}
END_TEST

START_TEST(test_last_batch_of_producer_kept_empty)
{
    fixture f;
    fx_init(&f);
    sk_batch_spec spec = {.producer_id = 5, .producer_epoch = 0, .base_sequence = 0};
    const char *k = "k", *v1 = "v1", *v2 = "v2";
    put_spec(&f, &spec, &k, &v1, 1, SK_COMPRESSION_NONE); /* 0: idempotent producer 5 */
    spec.base_sequence = 1;
    put_spec(&f, &spec, &k, &v1, 1, SK_COMPRESSION_NONE); /* 1: its last batch */
    put(&f, "k", "v2");                                   /* 2: overwrites both */
    roll(&f);
    put(&f, "f", "x");
    clean(&f);
    rec_out r[8];
    int n = read_all(f.p, r, 8);
    ck_assert_int_eq(n, 3);
    /* Batch 1 stays, empty: producer 5's sequence survives. */
    ck_assert_int_eq(r[0].offset, 1);
    ck_assert_int_eq(r[0].batch_records, 0);
    expect(&r[1], 2, "k", v2);
    /* Reloaded from the log alone (snapshots gone), producer 5 continues at
     * sequence 2 and a retry of sequence 1 is a duplicate. */
    sk_logstore_close_unclean(f.store);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -f %s/c-0/*.snapshot", f.dir);
    ck_assert_int_eq(system(cmd), 0);
    fx_open(&f);
    spec.base_sequence = 2;
    put_spec(&f, &spec, &k, &v1, 1, SK_COMPRESSION_NONE);
    fx_done(&f);
}
END_TEST

START_TEST(test_open_transaction_and_active_segment_not_cleaned)
{
    fixture f;
    fx_init(&f);
    put(&f, "a", "1");
    put(&f, "a", "2");
    ck_assert_int_eq(sk_logstore_clean_now(f.p), 0); /* only the active segment */
    roll(&f);
    put_txn(&f, 9, 0, "t", "open"); /* 2: an open transaction: LSO 2 */
    put(&f, "a", "3");
    roll(&f);
    put(&f, "z", "z");
    /* Only the first segment lies below the last stable offset. */
    clean(&f);
    rec_out r[8];
    int n = read_all(f.p, r, 8);
    ck_assert_int_eq(n, 4);
    expect(&r[0], 1, "a", "2");
    expect(&r[1], 2, "t", "open");
    expect(&r[2], 3, "a", "3");
    ck_assert_int_eq(sk_logstore_clean_now(f.p), 0);
    fx_done(&f);
}
END_TEST

START_TEST(test_min_compaction_lag)
{
    fixture f;
    fx_init(&f);
    f.lc.min_compaction_lag_ms = 10000;
    sk_partition_set_config(f.p, &f.lc);
    put(&f, "a", "1");
    put(&f, "a", "2");
    roll(&f);
    put(&f, "z", "z");
    f.clock.now = T0 + 9999;
    ck_assert_int_eq(sk_logstore_clean_now(f.p), 0);
    f.clock.now = T0 + 10000; /* Kafka: uncleanable while largest timestamp > now - lag */
    clean(&f);
    rec_out r[8];
    ck_assert_int_eq(read_all(f.p, r, 8), 2);
    expect(&r[0], 1, "a", "2");
    fx_done(&f);
}
END_TEST

/* A compacted log rolls by max.compaction.lag.ms when it is below segment.ms
 * (Kafka's LogConfig.maxSegmentMs). */
START_TEST(test_max_compaction_lag_rolls)
{
    fixture f;
    fx_init(&f);
    f.lc.max_compaction_lag_ms = 5000;
    sk_partition_set_config(f.p, &f.lc);
    put(&f, "a", "1");
    f.clock.now = T0 + 5000;
    put(&f, "a", "2");
    ck_assert_uint_eq(sk_partition_segment_count(f.p), 1);
    f.clock.now = T0 + 5001;
    put(&f, "a", "3");
    ck_assert_uint_eq(sk_partition_segment_count(f.p), 2);
    fx_done(&f);
}
END_TEST

/* Groups whose every record goes become empty segments (as in Kafka); reads,
 * timestamps and restarts (clean and unclean) step over them. */
START_TEST(test_empty_cleaned_segments)
{
    fixture f;
    fx_init(&f);
    for (int i = 0; i < 3; i++) {
        char v[8];
        snprintf(v, sizeof v, "%d", i);
        put(&f, "a", v);
        roll(&f);
    }
    put(&f, "z", "z");
    f.lc.segment_bytes = f.p->segs[0]->size + 10; /* one segment per group */
    sk_partition_set_config(f.p, &f.lc);
    clean(&f);
    ck_assert_uint_eq(sk_partition_segment_count(f.p), 4);
    ck_assert_int_eq(f.p->segs[0]->size, 0);
    ck_assert_int_eq(f.p->segs[1]->size, 0);
    for (int round = 0; round < 3; round++) {
        rec_out r[4];
        ck_assert_int_eq(read_all(f.p, r, 4), 2);
        expect(&r[0], 2, "a", "2");
        expect(&r[1], 3, "z", "z");
        int64_t off, ts;
        ck_assert_int_eq(sk_partition_offset_for_timestamp(f.p, T0, &off, &ts), SK_ERR_NONE);
        ck_assert_int_eq(off, 2);
        sk_read_result rr;
        ck_assert_int_eq(sk_partition_read(f.p, 0, 1 << 20, 4, &rr), SK_ERR_NONE);
        ck_assert_int_eq(rr.first_offset, 2);
        sk_log_slice_release(&rr.slice);
        if (round == 0)
            sk_logstore_close(f.store);
        else
            sk_logstore_close_unclean(f.store);
        fx_open(&f);
    }
    fx_done(&f);
}
END_TEST

START_TEST(test_compressed_batches_keep_codec)
{
    fixture f;
    fx_init(&f);
    static const int codecs[] = {SK_COMPRESSION_GZIP, SK_COMPRESSION_SNAPPY, SK_COMPRESSION_LZ4, SK_COMPRESSION_ZSTD};
    sk_batch_spec spec = {.producer_id = -1, .producer_epoch = -1, .base_sequence = -1};
    const char *keys[3] = {"a", "b", "c"}, *vals[3] = {"1", "2", "3"};
    for (int i = 0; i < 4; i++)
        put_spec(&f, &spec, keys, vals, 3, codecs[i]);
    put(&f, "a", "new");
    put(&f, "c", NULL);
    roll(&f);
    put(&f, "z", "z");
    clean(&f);
    rec_out r[16];
    int n = read_all(f.p, r, 16);
    /* Only the last compressed batch keeps a record: b at offset 10. */
    ck_assert_int_eq(n, 4);
    expect(&r[0], 10, "b", "2");
    ck_assert_int_eq(r[0].attributes & SK_BATCH_COMPRESSION_MASK, SK_COMPRESSION_ZSTD);
    ck_assert_int_eq(r[0].batch_records, 1);
    expect(&r[1], 12, "a", "new");
    expect(&r[2], 13, "c", NULL);
    fx_done(&f);
}
END_TEST

/* Many keys over many segments: every offset reads and every timestamp
 * lists to the first surviving record at or after it, before and after a
 * restart (indexes rebuilt or trusted). */
START_TEST(test_offsets_and_indexes_after_cleaning)
{
    fixture f;
    fx_init(&f);
    f.lc.segment_bytes = 4000;
    sk_partition_set_config(f.p, &f.lc);
    enum { N = 600, KEYS = 37 };
    for (int i = 0; i < N; i++) {
        char k[16], v[16];
        snprintf(k, sizeof k, "key%d", (i * 7) % KEYS);
        snprintf(v, sizeof v, "v%d", i);
        f.clock.now = T0 + i;
        ck_assert_int_eq(put(&f, k, v), i);
    }
    ck_assert_uint_gt(sk_partition_segment_count(f.p), 5);
    int64_t active = f.p->segs[f.p->nsegs - 1]->base_offset;
    int64_t newest[KEYS]; /* below the active segment */
    for (int i = 0; i < active; i++)
        newest[(i * 7) % KEYS] = i;
    clean(&f);
    bool survives[N];
    for (int i = 0; i < N; i++)
        survives[i] = i >= active || newest[(i * 7) % KEYS] == i;
    for (int round = 0; round < 2; round++) {
        rec_out r[N];
        int n = read_all(f.p, r, N), j = 0;
        for (int i = 0; i < N; i++)
            if (survives[i]) {
                char v[16];
                snprintf(v, sizeof v, "v%d", i);
                ck_assert_int_lt(j, n);
                ck_assert_int_eq(r[j].offset, i);
                ck_assert_str_eq(r[j].value, v);
                ck_assert_int_eq(r[j].timestamp, T0 + i);
                j++;
            }
        ck_assert_int_eq(j, n);
        for (int i = 0; i < N; i++) {
            int next = i;
            while (!survives[next])
                next++;
            sk_read_result rr;
            ck_assert_int_eq(sk_partition_read(f.p, i, 1, N, &rr), SK_ERR_NONE);
            ck_assert_int_eq(rr.first_offset, next);
            sk_log_slice_release(&rr.slice);
            int64_t off, ts;
            ck_assert_int_eq(sk_partition_offset_for_timestamp(f.p, T0 + i, &off, &ts), SK_ERR_NONE);
            ck_assert_int_eq(off, next);
            ck_assert_int_eq(ts, T0 + next);
        }
        sk_logstore_close(f.store);
        fx_open(&f);
    }
    fx_done(&f);
}
END_TEST

/* A slice read before the pass stays readable after the old segment is
 * swapped out and unlinked. */
START_TEST(test_reader_keeps_old_segment)
{
    fixture f;
    fx_init(&f);
    for (int i = 0; i < 20; i++)
        put(&f, "k", "v");
    roll(&f);
    put(&f, "z", "z");
    sk_read_result rr;
    ck_assert_int_eq(sk_partition_read(f.p, 0, 1 << 20, 21, &rr), SK_ERR_NONE);
    int64_t len = rr.slice.length;
    clean(&f);
    sk_bg_drain(sk_logstore_bg(f.store));
    char path[512];
    test_seg_path(path, sizeof path, f.dir, "c-0", 0, ".log.deleted");
    ck_assert(!test_exists(path)); /* unlinked (file.delete.delay.ms 0) */
    uint8_t *buf = malloc((size_t)len);
    ck_assert_int_eq(sk_log_slice_copy(&rr.slice, buf), 0);
    for (int64_t pos = 0; pos < len;) {
        sk_batch b;
        sk_batch_header_parse(&b, buf + pos, (size_t)(len - pos));
        ck_assert(sk_batch_crc_valid(buf + pos, b.size));
        pos += (int64_t)b.size;
    }
    free(buf);
    sk_log_slice_release(&rr.slice);
    rec_out r[4];
    ck_assert_int_eq(read_all(f.p, r, 4), 2);
    expect(&r[0], 19, "k", "v");
    fx_done(&f);
}
END_TEST

/* The dirtiest log is cleaned first; a log below min.cleanable.dirty.ratio
 * waits; max.compaction.lag.ms forces one. Driven by the periodic task. */
START_TEST(test_dirty_ratio_selection)
{
    fixture f;
    fx_init(&f);
    f.cfg.log_cleaner_enable = true;
    sk_logstore_close(f.store);
    fx_open(&f);
    sk_partition *q;
    ck_assert_int_eq(sk_logstore_create_partition(f.store, "d", 0, NULL, &f.lc, &q), SK_ERR_NONE);
    /* c-0: 10 records of one key, cleaned once, then a dirty segment of 2
     * records: ratio about 2/3; d-0: all dirty, ratio 1. */
    for (int i = 0; i < 10; i++)
        put(&f, "k", "v");
    roll(&f);
    put(&f, "z", "z");
    ck_assert_int_eq(sk_logstore_clean_now(f.p), 1);
    sk_bg_drain(sk_logstore_bg(f.store));
    sk_partition *c = f.p;
    f.p = q;
    for (int i = 0; i < 10; i++)
        put(&f, "k", "v");
    roll(&f);
    put(&f, "z", "z");
    f.p = c;
    put(&f, "k", "v2");
    roll(&f);
    put(&f, "y", "y");
    int64_t c_size = sk_partition_size_bytes(c), q_size = sk_partition_size_bytes(q);
    /* One tick: d-0 (ratio 1) goes first. */
    while (sk_partition_size_bytes(q) == q_size) {
        event_base_loop(f.base, EVLOOP_ONCE);
        sk_bg_drain(sk_logstore_bg(f.store));
    }
    ck_assert_int_eq(sk_partition_size_bytes(c), c_size);
    /* c-0's ratio passes 0.5 but not a topic's 0.99. */
    f.lc.min_cleanable_ratio = 0.99;
    sk_partition_set_config(c, &f.lc);
    for (int i = 0; i < 5; i++) {
        event_base_loop(f.base, EVLOOP_ONCE);
        sk_bg_drain(sk_logstore_bg(f.store));
    }
    ck_assert_int_eq(sk_partition_size_bytes(c), c_size);
    /* max.compaction.lag.ms forces it. */
    f.lc.max_compaction_lag_ms = 1;
    sk_partition_set_config(c, &f.lc);
    f.clock.now = T0 + 10;
    while (sk_partition_size_bytes(c) == c_size) {
        event_base_loop(f.base, EVLOOP_ONCE);
        sk_bg_drain(sk_logstore_bg(f.store));
    }
    fx_done(&f);
}
END_TEST

/* ---- Crash points ---- */

static void copy_file(const char *from, const char *to)
{
    FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(b);
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, a)) > 0)
        ck_assert_uint_eq(fwrite(buf, 1, n, b), n);
    fclose(a);
    fclose(b);
}

static const char *const seg_suffixes[] = {".log", ".index", ".timeindex", ".txnindex"};

/* Builds the log: segments [0..3], [4..7], active [8]; keys overwritten so
 * the clean result of the two closed segments is one segment holding
 * 5 (a), 6 (b), 7 (c). Saves the cleaned files aside (as <name>.saved) and
 * restores the uncleaned segments, then stages crash point `point`:
 *  0: .cleaned files left          -> the old log
 *  1: .log.swap only, rest .cleaned -> the cleaned log
 *  2: all .swap, old segments still there -> the cleaned log
 *  3: all .swap, old segments renamed .deleted -> the cleaned log
 *  4: .log final, indexes still .swap, old .deleted -> the cleaned log */
static void crash_at(int point)
{
    fixture f;
    fx_init(&f);
    const char *keys[] = {"a", "b", "c", "a", "a", "a", "b", "c"};
    for (int i = 0; i < 8; i++) {
        char v[8];
        snprintf(v, sizeof v, "v%d", i);
        put(&f, keys[i], v);
        if (i == 3 || i == 7)
            roll(&f);
    }
    put(&f, "z", "z");
    sk_logstore_close(f.store);
    char cmd[4000], pdir[300];
    snprintf(pdir, sizeof pdir, "%s/c-0", f.dir);
    snprintf(cmd, sizeof cmd, "cp -a %s %s.orig", pdir, pdir);
    ck_assert_int_eq(system(cmd), 0);
    fx_open(&f);
    clean(&f);
    ck_assert_uint_eq(sk_partition_segment_count(f.p), 2);
    sk_logstore_close(f.store);
    char from[700], to[720];
    for (int k = 0; k < 4; k++) {
        test_seg_path(from, sizeof from, f.dir, "c-0", 0, seg_suffixes[k]);
        snprintf(to, sizeof to, "%s.saved", from);
        if (test_exists(from))
            copy_file(from, to);
    }
    snprintf(cmd, sizeof cmd, "mkdir %s.new && mv %s/*.saved %s.new/ && rm -rf %s && mv %s.orig %s", pdir, pdir, pdir,
             pdir, pdir, pdir);
    ck_assert_int_eq(system(cmd), 0);
    for (int k = 0; k < 4; k++) {
        char name[64];
        snprintf(name, sizeof name, "%020d%s", 0, seg_suffixes[k]);
        snprintf(from, sizeof from, "%s.new/%s.saved", pdir, name);
        if (!test_exists(from))
            continue;
        const char *tail = point == 0             ? ".cleaned"
                           : point == 1 && k > 0  ? ".cleaned"
                           : point == 4 && k == 0 ? ""
                                                  : ".swap";
        if (point >= 3) {
            for (int64_t base = 0; base <= 4; base += 4) {
                char old[700], dead[720];
                test_seg_path(old, sizeof old, f.dir, "c-0", base, seg_suffixes[k]);
                snprintf(dead, sizeof dead, "%s.deleted", old);
                if (test_exists(old))
                    ck_assert_int_eq(rename(old, dead), 0);
            }
        }
        snprintf(to, sizeof to, "%s/%s%s", pdir, name, tail);
        copy_file(from, to);
    }
    /* Recovery runs as after a kill: no clean-shutdown marker. */
    snprintf(cmd, sizeof cmd, "rm -rf %s.new %s/.kafka_cleanshutdown", pdir, f.dir);
    ck_assert_int_eq(system(cmd), 0);
    fx_open(&f);
    rec_out r[16];
    int n = read_all(f.p, r, 16);
    if (point == 0) {
        ck_assert_int_eq(n, 9);
        for (int i = 0; i < 8; i++)
            ck_assert_int_eq(r[i].offset, i);
    } else {
        ck_assert_int_eq(n, 4);
        expect(&r[0], 5, "a", "v5");
        expect(&r[1], 6, "b", "v6");
        expect(&r[2], 7, "c", "v7");
        expect(&r[3], 8, "z", "z");
        ck_assert_uint_eq(sk_partition_segment_count(f.p), 2);
    }
    sk_logstore_close(f.store);
    /* No leftovers. */
    snprintf(cmd, sizeof cmd, "ls %s | grep -E 'cleaned|swap'", pdir);
    ck_assert_int_ne(system(cmd), 0);
    fx_open(&f);
    fx_done(&f);
}

START_TEST(test_crash_points)
{
    crash_at(_i);
}
END_TEST

/* Alternating appends, rolls, slices held across passes and passes: every
 * read stays consistent (run under ASan in CI). */
START_TEST(test_clean_while_reading)
{
    fixture f;
    fx_init(&f);
    unsigned seed = 12345;
    sk_read_result held[8];
    int nheld = 0;
    int64_t newest[10];
    for (int i = 0; i < 10; i++)
        newest[i] = -1;
    for (int step = 0; step < 400; step++) {
        unsigned r = (seed = seed * 1103515245u + 12345u) >> 16;
        char k[8], v[16];
        snprintf(k, sizeof k, "k%u", r % 10);
        snprintf(v, sizeof v, "s%d", step);
        newest[r % 10] = put(&f, k, v);
        if (r % 5 == 0)
            roll(&f);
        if (r % 7 == 0 && nheld < 8) {
            int64_t ls = sk_partition_log_start_offset(f.p);
            ck_assert_int_eq(sk_partition_read(f.p, ls, 1 << 16, sk_partition_high_watermark(f.p), &held[nheld]),
                             SK_ERR_NONE);
            nheld++;
        }
        if (r % 11 == 0 && sk_logstore_clean_now(f.p) == 1 && r % 2)
            sk_bg_drain(sk_logstore_bg(f.store));
        if (nheld == 8 || (r % 13 == 0 && nheld > 0)) {
            sk_read_result *h = &held[--nheld];
            uint8_t *buf = malloc((size_t)h->slice.length);
            ck_assert_int_eq(sk_log_slice_copy(&h->slice, buf), 0);
            sk_batch b;
            sk_batch_header_parse(&b, buf, (size_t)h->slice.length);
            ck_assert(sk_batch_crc_valid(buf, b.size));
            free(buf);
            sk_log_slice_release(&h->slice);
        }
    }
    while (nheld > 0)
        sk_log_slice_release(&held[--nheld].slice);
    sk_bg_drain(sk_logstore_bg(f.store));
    roll(&f);
    put(&f, "end", "end");
    clean(&f);
    rec_out out[64];
    int n = read_all(f.p, out, 64);
    ck_assert_int_eq(n, 11);
    for (int i = 0; i < 10; i++) {
        bool found = false;
        for (int j = 0; j < n; j++)
            found |= out[j].offset == newest[i];
        ck_assert(found);
    }
    fx_done(&f);
}
END_TEST

/* A corrupt batch fails the pass: nothing is swapped, and the periodic
 * cleaner leaves the log alone until restart (clean_now tries again). */
START_TEST(test_corrupt_segment_left_alone)
{
    fixture f;
    fx_init(&f);
    put(&f, "a", "1");
    put(&f, "a", "2");
    roll(&f);
    put(&f, "z", "z");
    char path[512];
    test_seg_path(path, sizeof path, f.dir, "c-0", 0, ".log");
    int fd = open(path, O_RDWR);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(pwrite(fd, "X", 1, 64), 1); /* inside the first batch's records */
    close(fd);
    int64_t size = sk_partition_size_bytes(f.p);
    clean(&f);
    ck_assert(f.p->uncleanable);
    ck_assert_int_eq(sk_partition_size_bytes(f.p), size);
    ck_assert_int_eq(f.p->cleaner_offset, -1);
    test_seg_path(path, sizeof path, f.dir, "c-0", 0, ".log.cleaned");
    ck_assert(!test_exists(path));
    clean(&f); /* by hand: tried again, fails again */
    ck_assert(f.p->uncleanable);
    fx_done(&f);
}
END_TEST

/* log.cleaner.io.max.bytes.per.second: a pass over about 240 KB of reads
 * (the log twice) at 100 KB/s cannot finish in under 1.5 s. (A lower bound
 * only: a busy machine makes it slower, never faster.) */
START_TEST(test_io_throttle)
{
    fixture f;
    fx_init(&f);
    f.cfg.log_cleaner_io_max_bytes_per_second = "100000";
    sk_logstore_close(f.store);
    fx_open(&f);
    char v[1024];
    memset(v, 'v', sizeof v - 1);
    v[sizeof v - 1] = '\0';
    for (int i = 0; i < 120; i++) {
        char k[16];
        snprintf(k, sizeof k, "k%d", i % 10);
        put(&f, k, v);
    }
    roll(&f);
    put(&f, "z", "z");
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    clean(&f);
    clock_gettime(CLOCK_MONOTONIC, &b);
    double secs = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    ck_assert_msg(secs >= 1.5, "pass took %.2f s", secs);
    rec_out r[16];
    ck_assert_int_eq(read_all(f.p, r, 16), 11);
    fx_done(&f);
}
END_TEST

/* Closing the store stops a pass in flight: nothing is swapped in, no
 * .cleaned file is left, and the log is as it was. (The throttle keeps the
 * pass running for seconds.) */
START_TEST(test_close_stops_a_pass)
{
    fixture f;
    fx_init(&f);
    f.cfg.log_cleaner_io_max_bytes_per_second = "100000";
    sk_logstore_close(f.store);
    fx_open(&f);
    char v[1024];
    memset(v, 'v', sizeof v - 1);
    v[sizeof v - 1] = '\0';
    for (int i = 0; i < 120; i++) {
        char k[16];
        snprintf(k, sizeof k, "k%d", i % 10);
        put(&f, k, v);
    }
    roll(&f);
    put(&f, "z", "z");
    ck_assert_int_eq(sk_logstore_clean_now(f.p), 1);
    sk_logstore_close(f.store);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "ls %s/c-0 | grep -E 'cleaned|swap'", f.dir);
    ck_assert_int_ne(system(cmd), 0);
    f.cfg.log_cleaner_io_max_bytes_per_second = NULL;
    fx_open(&f);
    rec_out r[128];
    ck_assert_int_eq(read_all(f.p, r, 128), 121);
    ck_assert_int_eq(f.p->cleaner_offset, -1);
    clean(&f);
    ck_assert_int_eq(read_all(f.p, r, 128), 11);
    fx_done(&f);
}
END_TEST

START_TEST(test_offset_map)
{
    sk_clean_map m;
    sk_clean_map_init(&m, 1 << 20);
    ck_assert_uint_eq(m.max_slots, 32768); /* the largest power of two whose slots fit */
    ck_assert_uint_eq(m.max_entries, 32768 / 10 * 9);
    char k[16];
    for (int i = 0; i < 20000; i++) {
        snprintf(k, sizeof k, "key-%d", i % 5000);
        ck_assert_int_eq(sk_clean_map_put(&m, (const uint8_t *)k, strlen(k), i), 0);
    }
    ck_assert_uint_eq(m.count, 5000);
    for (int i = 0; i < 5000; i++) {
        snprintf(k, sizeof k, "key-%d", i);
        ck_assert_int_eq(sk_clean_map_get(&m, (const uint8_t *)k, strlen(k)), 15000 + i);
    }
    ck_assert_int_eq(sk_clean_map_get(&m, (const uint8_t *)"nope", 4), -1);
    /* Bounded: the map refuses keys past 90% of the buffer. */
    int added = 0;
    for (int i = 0; i < 100000; i++) {
        snprintf(k, sizeof k, "new-%d", i);
        if (sk_clean_map_put(&m, (const uint8_t *)k, strlen(k), i) < 0)
            break;
        added++;
    }
    ck_assert_int_eq(added, (int)m.max_entries - 5000);
    ck_assert_uint_eq(m.count, m.max_entries);
    ck_assert_uint_le(m.cap * 24, 1 << 20);
    ck_assert(!sk_clean_map_has_room(&m, 1));
    sk_clean_map_free(&m);
}
END_TEST

/* A dedupe buffer too small for the dirty range: several passes. */
START_TEST(test_small_dedupe_buffer_several_passes)
{
    fixture f;
    fx_init(&f);
    f.cfg.log_cleaner_dedupe_buffer_size = 24 * 1024; /* 1024 slots: 921 keys */
    sk_logstore_close(f.store);
    fx_open(&f);
    enum { N = 3000 };
    for (int i = 0; i < N; i++) {
        char k[16];
        snprintf(k, sizeof k, "k%d", i % 1500);
        put(&f, k, "v");
        if (i % 500 == 499)
            roll(&f);
    }
    put(&f, "end", "end");
    int passes = 0;
    while (sk_logstore_clean_now(f.p) == 1) {
        sk_bg_drain(sk_logstore_bg(f.store));
        passes++;
        ck_assert_int_lt(passes, 20);
    }
    ck_assert_int_gt(passes, 1);
    rec_out *r = malloc(N * sizeof *r);
    int n = read_all(f.p, r, N);
    ck_assert_int_eq(n, 1501);
    for (int i = 0; i < 1500; i++)
        ck_assert_int_eq(r[i].offset, 1500 + i);
    free(r);
    fx_done(&f);
}
END_TEST

static Suite *cleaner_suite(void)
{
    Suite *s = suite_create("log_cleaner");
    TCase *tc = tcase_create("cleaner");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_offset_map);
    tcase_add_test(tc, test_newest_value_per_key);
    tcase_add_test(tc, test_tombstones_kept_then_dropped);
    tcase_add_test(tc, test_transactions);
    tcase_add_test(tc, test_abort_then_commit_across_groups);
    tcase_add_test(tc, test_last_batch_of_round_kept_empty);
    tcase_add_test(tc, test_last_batch_of_producer_kept_empty);
    tcase_add_test(tc, test_open_transaction_and_active_segment_not_cleaned);
    tcase_add_test(tc, test_min_compaction_lag);
    tcase_add_test(tc, test_max_compaction_lag_rolls);
    tcase_add_test(tc, test_empty_cleaned_segments);
    tcase_add_test(tc, test_compressed_batches_keep_codec);
    tcase_add_test(tc, test_offsets_and_indexes_after_cleaning);
    tcase_add_test(tc, test_reader_keeps_old_segment);
    tcase_add_test(tc, test_dirty_ratio_selection);
    tcase_add_loop_test(tc, test_crash_points, 0, 5);
    tcase_add_test(tc, test_clean_while_reading);
    tcase_add_test(tc, test_corrupt_segment_left_alone);
    tcase_add_test(tc, test_io_throttle);
    tcase_add_test(tc, test_close_stops_a_pass);
    tcase_add_test(tc, test_small_dedupe_buffer_several_passes);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return sk_unit_run(cleaner_suite());
}
