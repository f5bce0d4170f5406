/*
 * Retention: whole segments deleted by retention.ms (by their largest
 * timestamp) and retention.bytes, never the active segment, the log start
 * offset advancing, files renamed *.deleted and unlinked after
 * file.delete.delay.ms, compact-only topics skipped (compact,delete kept); and the flush policy
 * (flush.messages, flush.ms) advancing the recovery point.
 */
#include "test_log_util.h"

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
    size_t bs;
} fixture;

/* Partition t-0 with one batch per segment: `nbatches` batches of 2 records
 * (batch i at T0 + 1000 i), so nbatches - 1 closed segments plus the active
 * one holding the last batch, unless `tweak` (which adjusts the config
 * first) changes segment.bytes. */
static void fx_init(fixture *f, int nbatches, void (*tweak)(sk_log_config *lc))
{
    memset(f, 0, sizeof *f);
    f->dir = test_tmpdir();
    f->base = event_base_new();
    f->clock.now = T0;
    test_config(&f->cfg);
    sk_logstore_opts opts = {.now_ms = test_clock_now, .clock_arg = &f->clock};
    f->store = sk_logstore_open(f->dir, f->base, &f->cfg, &opts);
    ck_assert_ptr_nonnull(f->store);
    f->bs = test_batch_size(2, 50);
    sk_log_config lc;
    sk_log_config_from_broker(&lc, &f->cfg);
    lc.segment_bytes = (int64_t)f->bs;
    if (tweak)
        tweak(&lc);
    ck_assert_int_eq(sk_logstore_create_partition(f->store, "t", 0, NULL, &lc, &f->p), SK_ERR_NONE);
    for (int i = 0; i < nbatches; i++)
        test_append(f->p, 2, 50, T0 + 1000 * i, (uint32_t)i);
    if (lc.segment_bytes == (int64_t)f->bs)
        ck_assert_uint_eq(sk_partition_segment_count(f->p), (size_t)nbatches);
}

static void fx_done(fixture *f)
{
    sk_logstore_close(f->store);
    event_base_free(f->base);
    test_rmtree(f->dir);
}

static void seg_path(const fixture *f, int64_t base, const char *suffix, char *out, size_t n)
{
    test_seg_path(out, n, f->dir, "t-0", base, suffix);
}

static void by_time(sk_log_config *lc)
{
    lc->retention_ms = 2500;
}

START_TEST(test_retention_by_time)
{
    fixture f;
    fx_init(&f, 5, by_time);
    /* Largest timestamps: T0+1, T0+1001, ..., T0+4001. At T0+4000 the
     * segments older than 2500 ms are the first two. */
    f.clock.now = T0 + 4000;
    ck_assert_int_eq(sk_logstore_run_retention(f.store), 2);
    ck_assert_int_eq(sk_partition_log_start_offset(f.p), 4);
    ck_assert_uint_eq(sk_partition_segment_count(f.p), 3);
    sk_bg_drain(sk_logstore_bg(f.store));
    char path[512];
    seg_path(&f, 0, ".log", path, sizeof path);
    ck_assert(!test_exists(path));
    seg_path(&f, 2, ".timeindex", path, sizeof path);
    ck_assert(!test_exists(path));
    seg_path(&f, 4, ".log", path, sizeof path);
    ck_assert(test_exists(path));
    ck_assert_int_eq(sk_logstore_run_retention(f.store), 0);
    sk_read_result r;
    ck_assert_int_eq(sk_partition_read(f.p, 3, 1, INT64_MAX, &r), SK_ERR_OFFSET_OUT_OF_RANGE);
    ck_assert_int_eq(sk_partition_read(f.p, 4, 1, INT64_MAX, &r), SK_ERR_NONE);
    ck_assert_int_eq(r.first_offset, 4);
    sk_log_slice_release(&r.slice);
    fx_done(&f);
}
END_TEST

static void zero_retention(sk_log_config *lc)
{
    lc->retention_ms = 0;
}

START_TEST(test_never_the_active_segment)
{
    fixture f;
    fx_init(&f, 3, zero_retention);
    f.clock.now = T0 + 86400000;
    ck_assert_int_eq(sk_partition_retention(f.p, f.clock.now), 2);
    ck_assert_uint_eq(sk_partition_segment_count(f.p), 1);
    ck_assert_int_eq(sk_partition_log_start_offset(f.p), 4);
    ck_assert_int_eq(sk_partition_log_end_offset(f.p), 6);
    ck_assert_int_eq(sk_partition_retention(f.p, f.clock.now), 0);
    /* The next append rolls (the active segment is full), then the old one can go. */
    test_append(f.p, 2, 50, T0, 9);
    ck_assert_int_eq(sk_partition_retention(f.p, f.clock.now), 1);
    ck_assert_int_eq(sk_partition_log_start_offset(f.p), 6);
    fx_done(&f);
}
END_TEST

static size_t size_limit;

static void by_size(sk_log_config *lc)
{
    lc->retention_ms = -1;
    lc->retention_bytes = (int64_t)size_limit;
}

START_TEST(test_retention_by_size)
{
    size_limit = test_batch_size(2, 50) * 5 / 2; /* 2.5 segments */
    fixture f;
    fx_init(&f, 5, by_size);
    ck_assert_int_eq(sk_partition_size_bytes(f.p), (int64_t)(5 * f.bs));
    /* 5 segments, 2.5 allowed: two go (a third would leave 2 < 2.5). */
    ck_assert_int_eq(sk_logstore_run_retention(f.store), 2);
    ck_assert_int_eq(sk_partition_size_bytes(f.p), (int64_t)(3 * f.bs));
    ck_assert_int_eq(sk_partition_log_start_offset(f.p), 4);
    ck_assert_int_eq(sk_logstore_run_retention(f.store), 0);
    fx_done(&f);
}
END_TEST

/* cleanup.policy=compact: the topic config turns retention off. */
static void compacted(sk_log_config *lc)
{
    lc->retention_ms = -1;
    lc->retention_bytes = -1;
    lc->compact = true;
}

/* cleanup.policy=compact,delete: retention applies as well. */
static void compacted_and_deleted(sk_log_config *lc)
{
    lc->retention_ms = 0;
    lc->retention_bytes = -1;
    lc->compact = true;
}

START_TEST(test_compacted_topics_skipped)
{
    fixture f;
    fx_init(&f, 4, compacted);
    f.clock.now = T0 + 86400000;
    ck_assert_int_eq(sk_logstore_run_retention(f.store), 0);
    ck_assert_uint_eq(sk_partition_segment_count(f.p), 4);
    ck_assert_int_eq(sk_partition_log_start_offset(f.p), 0);
    fx_done(&f);
}
END_TEST

START_TEST(test_compact_delete_keeps_retention)
{
    fixture f;
    fx_init(&f, 4, compacted_and_deleted);
    f.clock.now = T0 + 86400000;
    ck_assert_int_eq(sk_logstore_run_retention(f.store), 3);
    ck_assert_uint_eq(sk_partition_segment_count(f.p), 1);
    ck_assert_int_eq(sk_partition_log_start_offset(f.p), 6);
    fx_done(&f);
}
END_TEST

static void delayed_delete(sk_log_config *lc)
{
    lc->retention_ms = 0;
    lc->file_delete_delay_ms = 60000;
}

START_TEST(test_file_delete_delay)
{
    fixture f;
    fx_init(&f, 3, delayed_delete);
    sk_read_result r;
    ck_assert_int_eq(sk_partition_read(f.p, 0, 1, INT64_MAX, &r), SK_ERR_NONE);
    f.clock.now = T0 + 86400000;
    ck_assert_int_eq(sk_logstore_run_retention(f.store), 2);
    sk_bg_drain(sk_logstore_bg(f.store));
    char path[512], deleted[600];
    seg_path(&f, 0, ".log", path, sizeof path);
    snprintf(deleted, sizeof deleted, "%s.deleted", path);
    ck_assert(!test_exists(path));
    ck_assert(test_exists(deleted));
    seg_path(&f, 2, ".index.deleted", path, sizeof path);
    ck_assert(test_exists(path));
    /* A slice read before the deletion still reads the renamed file. */
    uint8_t *d = malloc((size_t)r.slice.length);
    ck_assert_int_eq(sk_log_slice_copy(&r.slice, d), 0);
    ck_assert(sk_batch_crc_valid(d, (size_t)r.slice.length));
    free(d);
    sk_log_slice_release(&r.slice);
    /* Closing the store does not wait for the delay: the files go now. */
    sk_logstore_close(f.store);
    ck_assert(!test_exists(deleted));
    ck_assert(!test_exists(path));
    event_base_free(f.base);
    test_rmtree(f.dir);
}
END_TEST

START_TEST(test_delete_timer_fires_through_loop)
{
    fixture f;
    fx_init(&f, 2, zero_retention);
    sk_log_config lc = *sk_partition_config(f.p);
    lc.file_delete_delay_ms = 1; /* a real 1 ms libevent timer */
    sk_partition_set_config(f.p, &lc);
    f.clock.now = T0 + 86400000;
    ck_assert_int_eq(sk_logstore_run_retention(f.store), 1);
    char deleted[512];
    seg_path(&f, 0, ".log.deleted", deleted, sizeof deleted);
    ck_assert(test_exists(deleted));
    while (test_exists(deleted)) {
        event_base_loop(f.base, EVLOOP_ONCE);
        sk_bg_drain(sk_logstore_bg(f.store));
    }
    fx_done(&f);
}
END_TEST

static void flush_every_3(sk_log_config *lc)
{
    lc->flush_messages = 3;
    lc->segment_bytes = 1 << 20;
}

START_TEST(test_flush_messages)
{
    fixture f;
    fx_init(&f, 1, flush_every_3); /* 2 records: no flush yet */
    sk_bg_drain(sk_logstore_bg(f.store));
    ck_assert_int_eq(sk_partition_recovery_point(f.p), 0);
    test_append(f.p, 2, 50, T0, 1); /* 4 records >= 3: flush */
    ck_assert_int_eq(sk_partition_recovery_point(f.p), 0);
    sk_bg_drain(sk_logstore_bg(f.store));
    ck_assert_int_eq(sk_partition_recovery_point(f.p), 4);
    test_append(f.p, 1, 50, T0, 2);
    sk_bg_drain(sk_logstore_bg(f.store));
    ck_assert_int_eq(sk_partition_recovery_point(f.p), 4);
    fx_done(&f);
}
END_TEST

static void flush_after_500ms(sk_log_config *lc)
{
    lc->flush_ms = 500;
    lc->segment_bytes = 1 << 20;
}

START_TEST(test_flush_ms)
{
    fixture f;
    fx_init(&f, 2, flush_after_500ms);
    sk_logstore_run_flush_check(f.store);
    sk_bg_drain(sk_logstore_bg(f.store));
    ck_assert_int_eq(sk_partition_recovery_point(f.p), 0);
    f.clock.now = T0 + 499;
    sk_logstore_run_flush_check(f.store);
    sk_bg_drain(sk_logstore_bg(f.store));
    ck_assert_int_eq(sk_partition_recovery_point(f.p), 0);
    f.clock.now = T0 + 500;
    sk_logstore_run_flush_check(f.store);
    sk_bg_drain(sk_logstore_bg(f.store));
    ck_assert_int_eq(sk_partition_recovery_point(f.p), 4);
    fx_done(&f);
}
END_TEST

START_TEST(test_retention_after_reopen)
{
    fixture f;
    fx_init(&f, 4, by_time);
    sk_logstore_close(f.store);
    sk_logstore_opts opts = {.now_ms = test_clock_now, .clock_arg = &f.clock};
    f.store = sk_logstore_open(f.dir, f.base, &f.cfg, &opts);
    sk_partition *p = sk_logstore_find(f.store, "t", 0);
    ck_assert_int_eq(sk_partition_ensure_loaded(p), SK_ERR_NONE);
    sk_log_config lc = *sk_partition_config(p);
    by_time(&lc);
    sk_partition_set_config(p, &lc);
    /* The closed segments' largest timestamps come from their time indexes. */
    f.clock.now = T0 + 3600;
    ck_assert_int_eq(sk_logstore_run_retention(f.store), 2);
    ck_assert_int_eq(sk_partition_log_start_offset(p), 4);
    fx_done(&f);
}
END_TEST

static Suite *retention_suite(void)
{
    Suite *s = suite_create("log_retention");
    TCase *tc = tcase_create("retention");
    tcase_add_test(tc, test_retention_by_time);
    tcase_add_test(tc, test_never_the_active_segment);
    tcase_add_test(tc, test_retention_by_size);
    tcase_add_test(tc, test_compacted_topics_skipped);
    tcase_add_test(tc, test_compact_delete_keeps_retention);
    tcase_add_test(tc, test_file_delete_delay);
    tcase_add_test(tc, test_delete_timer_fires_through_loop);
    tcase_add_test(tc, test_flush_messages);
    tcase_add_test(tc, test_flush_ms);
    tcase_add_test(tc, test_retention_after_reopen);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    sk_trace_threshold = SK_TRACE_WARN;
    return sk_unit_run(retention_suite());
}
