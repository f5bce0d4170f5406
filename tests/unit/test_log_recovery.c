/*
 * Recovery after an unclean stop: a torn tail is truncated, a corrupt batch
 * in the middle truncates the log from there (and later segments go), a
 * missing or corrupt index is rebuilt identical, the clean-shutdown marker
 * skips the scan, segments below the recovery point are trusted, and
 * leftovers (*.deleted, *-delete dirs, *.tmp) are removed at start-up.
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
    sk_log_config lc;
} fixture;

/* The partitions found on disk get the test's topic config at open. */
static bool fx_topic_config(void *arg, const char *topic, sk_log_config *out)
{
    const fixture *f = arg;
    if (strcmp(topic, "t") != 0)
        return false;
    *out = f->lc;
    return true;
}

static void fx_open(fixture *f)
{
    sk_logstore_opts opts = {
        .now_ms = test_clock_now, .clock_arg = &f->clock, .topic_config = fx_topic_config, .topic_config_arg = f};
    f->store = sk_logstore_open(f->dir, f->base, &f->cfg, &opts);
    ck_assert_ptr_nonnull(f->store);
}

/* A store whose partition "t-0" has `nbatches` batches of 2 records (50-byte
 * values), `per_segment` batches per segment (0 = one segment), an index
 * entry for every batch but the first of each segment. */
static sk_partition *fx_init(fixture *f, int nbatches, int per_segment)
{
    memset(f, 0, sizeof *f);
    f->dir = test_tmpdir();
    f->base = event_base_new();
    f->clock.now = T0;
    test_config(&f->cfg);
    sk_log_config_from_broker(&f->lc, &f->cfg);
    f->lc.index_interval_bytes = 1;
    if (per_segment > 0)
        f->lc.segment_bytes = (int64_t)(per_segment * test_batch_size(2, 50));
    fx_open(f);
    sk_partition *p;
    ck_assert_int_eq(sk_logstore_create_partition(f->store, "t", 0, NULL, &f->lc, &p), SK_ERR_NONE);
    for (int i = 0; i < nbatches; i++)
        test_append(p, 2, 50, T0 + 10 * i, (uint32_t)i);
    return p;
}

/* Reopens (after the caller closed the store one way or the other) and
 * returns t-0, not loaded yet. */
static sk_partition *fx_reopen_lazy(fixture *f)
{
    fx_open(f);
    sk_partition *p = sk_logstore_find(f->store, "t", 0);
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(sk_partition_config(p)->index_interval_bytes, 1);
    return p;
}

/* Reopens and returns t-0, loaded (recovered after an unclean stop). */
static sk_partition *fx_reopen(fixture *f)
{
    sk_partition *p = fx_reopen_lazy(f);
    ck_assert_int_eq(sk_partition_ensure_loaded(p), SK_ERR_NONE);
    return p;
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

static void flip_byte(const char *path, int64_t pos)
{
    int fd = open(path, O_RDWR);
    uint8_t c;
    ck_assert_int_eq(pread(fd, &c, 1, pos), 1);
    c ^= 0x20;
    ck_assert_int_eq(pwrite(fd, &c, 1, pos), 1);
    close(fd);
}

static uint8_t *read_file(const char *path, size_t *len)
{
    int64_t n = test_file_size(path);
    ck_assert_int_ge(n, 0);
    uint8_t *buf = malloc((size_t)n + 1);
    int fd = open(path, O_RDONLY);
    ck_assert_int_eq(pread(fd, buf, (size_t)n, 0), n);
    close(fd);
    *len = (size_t)n;
    return buf;
}

START_TEST(test_truncated_tail)
{
    fixture f;
    size_t bs = test_batch_size(2, 50);
    fx_init(&f, 5, 0);
    sk_logstore_close_unclean(f.store);
    char path[512];
    seg_path(&f, 0, ".log", path, sizeof path);
    ck_assert_int_eq(truncate(path, (off_t)(5 * bs - 10)), 0);
    sk_partition *p = fx_reopen(&f);
    ck_assert_int_eq(sk_partition_log_end_offset(p), 8);
    ck_assert_int_eq(test_file_size(path), (int64_t)(4 * bs));
    sk_append_info info = test_append(p, 2, 50, T0, 77);
    ck_assert_int_eq(info.base_offset, 8);
    size_t n;
    int64_t end;
    free(test_read_all(p, 0, &n, &end));
    ck_assert_int_eq(end, 10);
    fx_done(&f);
}
END_TEST

START_TEST(test_torn_header_and_garbage)
{
    fixture f;
    size_t bs = test_batch_size(2, 50);
    fx_init(&f, 3, 0);
    sk_logstore_close_unclean(f.store);
    char path[512];
    seg_path(&f, 0, ".log", path, sizeof path);
    /* 30 bytes of zeros (a preallocated or torn tail). */
    int fd = open(path, O_WRONLY | O_APPEND);
    uint8_t zeros[30] = {0};
    ck_assert_int_eq(write(fd, zeros, sizeof zeros), 30);
    close(fd);
    sk_partition *p = fx_reopen(&f);
    ck_assert_int_eq(sk_partition_log_end_offset(p), 6);
    ck_assert_int_eq(test_file_size(path), (int64_t)(3 * bs));
    fx_done(&f);
}
END_TEST

START_TEST(test_corrupt_middle_truncates)
{
    fixture f;
    size_t bs = test_batch_size(2, 50);
    fx_init(&f, 5, 0);
    sk_logstore_close_unclean(f.store);
    char path[512];
    seg_path(&f, 0, ".log", path, sizeof path);
    flip_byte(path, (int64_t)(2 * bs + bs / 2)); /* inside batch 3's records */
    sk_partition *p = fx_reopen(&f);
    ck_assert_int_eq(sk_partition_log_end_offset(p), 4);
    ck_assert_int_eq(test_file_size(path), (int64_t)(2 * bs));
    /* The rebuilt index only points into what is left. */
    sk_read_result r;
    ck_assert_int_eq(sk_partition_read(p, 3, 1, INT64_MAX, &r), SK_ERR_NONE);
    ck_assert_int_eq(r.first_offset, 2);
    ck_assert_int_eq(r.slice.position, (int64_t)bs);
    sk_log_slice_release(&r.slice);
    fx_done(&f);
}
END_TEST

START_TEST(test_corrupt_segment_drops_later_ones)
{
    fixture f;
    size_t bs = test_batch_size(2, 50);
    fx_init(&f, 7, 3); /* segments 0, 6, 12 */
    ck_assert_uint_eq(sk_partition_segment_count(sk_logstore_find(f.store, "t", 0)), 3);
    sk_logstore_close_unclean(f.store); /* no checkpoint: recovery point 0 */
    char path[512];
    seg_path(&f, 6, ".log", path, sizeof path);
    flip_byte(path, (int64_t)(bs + 70));
    sk_partition *p = fx_reopen(&f);
    ck_assert_int_eq(sk_partition_log_end_offset(p), 8);
    ck_assert_uint_eq(sk_partition_segment_count(p), 2);
    seg_path(&f, 12, ".log", path, sizeof path);
    ck_assert(!test_exists(path));
    /* The truncated segment is active again and takes appends. */
    sk_append_info info = test_append(p, 2, 50, T0, 5);
    ck_assert_int_eq(info.base_offset, 8);
    seg_path(&f, 6, ".index", path, sizeof path);
    ck_assert_int_eq(test_file_size(path), f.lc.max_index_size_bytes);
    size_t n;
    int64_t end;
    free(test_read_all(p, 0, &n, &end));
    ck_assert_int_eq(end, 10);
    ck_assert_uint_eq(n, 5 * bs);
    fx_done(&f);
}
END_TEST

START_TEST(test_missing_index_rebuilt)
{
    fixture f;
    fx_init(&f, 7, 3);
    sk_logstore_close(f.store);
    char idx[512], tidx[512];
    seg_path(&f, 0, ".index", idx, sizeof idx);
    seg_path(&f, 0, ".timeindex", tidx, sizeof tidx);
    size_t ilen, tlen;
    uint8_t *iorig = read_file(idx, &ilen);
    uint8_t *torig = read_file(tidx, &tlen);
    ck_assert_uint_eq(ilen, 16);
    ck_assert_uint_eq(tlen, 24);
    unlink(idx);
    /* A corrupt time index (entries out of order) is rebuilt too. */
    int fd = open(tidx, O_WRONLY | O_TRUNC);
    ck_assert_int_eq(write(fd, torig + 12, 12), 12);
    ck_assert_int_eq(write(fd, torig, 12), 12);
    close(fd);

    sk_partition *p = fx_reopen(&f);
    for (int64_t off = 0; off < 14; off++) {
        sk_read_result r;
        ck_assert_int_eq(sk_partition_read(p, off, 1, INT64_MAX, &r), SK_ERR_NONE);
        ck_assert_int_eq(r.first_offset, off / 2 * 2);
        sk_log_slice_release(&r.slice);
    }
    size_t ilen2, tlen2;
    uint8_t *irebuilt = read_file(idx, &ilen2);
    uint8_t *trebuilt = read_file(tidx, &tlen2);
    ck_assert_uint_eq(ilen2, ilen);
    ck_assert_mem_eq(irebuilt, iorig, ilen);
    ck_assert_uint_eq(tlen2, tlen);
    ck_assert_mem_eq(trebuilt, torig, tlen);
    free(iorig);
    free(torig);
    free(irebuilt);
    free(trebuilt);
    fx_done(&f);
}
END_TEST

START_TEST(test_clean_marker_skips_scan)
{
    fixture f;
    size_t bs = test_batch_size(2, 50);
    fx_init(&f, 4, 0);
    sk_logstore_close(f.store);
    char path[512], marker[512];
    seg_path(&f, 0, ".log", path, sizeof path);
    snprintf(marker, sizeof marker, "%s/.kafka_cleanshutdown", f.dir);
    ck_assert(test_exists(marker));
    /* Corrupt the records of the first batch: after a clean stop nobody
     * checks, so the log end offset stays. */
    flip_byte(path, 70);
    sk_partition *p = fx_reopen(&f);
    ck_assert(!test_exists(marker));
    ck_assert_int_eq(sk_partition_log_end_offset(p), 8);
    ck_assert_int_eq(test_file_size(path), (int64_t)(4 * bs));
    /* Without the marker the same bytes are scanned and cut. */
    sk_logstore_close(f.store);
    ck_assert_int_eq(unlink(marker), 0);
    p = fx_reopen(&f);
    ck_assert_int_eq(sk_partition_log_end_offset(p), 0);
    ck_assert_int_eq(test_file_size(path), 0);
    fx_done(&f);
}
END_TEST

START_TEST(test_recovery_point_trusts_older_segments)
{
    fixture f;
    size_t bs = test_batch_size(2, 50);
    sk_partition *p = fx_init(&f, 8, 3);  /* segments 0, 6, 12 */
    sk_bg_drain(sk_logstore_bg(f.store)); /* the roll fsyncs complete: recovery point 12 */
    ck_assert_int_eq(sk_partition_recovery_point(p), 12);
    sk_logstore_checkpoint(f.store);
    sk_bg_drain(sk_logstore_bg(f.store));
    sk_logstore_close_unclean(f.store);
    char path[512];
    /* Damage below the recovery point is not looked at ... */
    seg_path(&f, 0, ".log", path, sizeof path);
    flip_byte(path, 70);
    /* ... the active segment is scanned. */
    seg_path(&f, 12, ".log", path, sizeof path);
    ck_assert_int_eq(truncate(path, (off_t)(2 * bs - 1)), 0);
    p = fx_reopen(&f);
    ck_assert_int_eq(sk_partition_log_end_offset(p), 14);
    ck_assert_uint_eq(sk_partition_segment_count(p), 3);
    seg_path(&f, 0, ".log", path, sizeof path);
    ck_assert_int_eq(test_file_size(path), (int64_t)(3 * bs));
    /* The recovered tail counts as flushed only after the next fsync. */
    ck_assert_int_eq(sk_partition_recovery_point(p), 12);
    sk_bg_drain(sk_logstore_bg(f.store));
    ck_assert_int_eq(sk_partition_recovery_point(p), 12);
    sk_partition_flush(p);
    sk_bg_drain(sk_logstore_bg(f.store));
    ck_assert_int_eq(sk_partition_recovery_point(p), 14);
    fx_done(&f);
}
END_TEST

START_TEST(test_unclean_preallocated_indexes)
{
    /* A crash leaves the active indexes preallocated with zeros; recovery
     * rebuilds them and later appends and lookups work. */
    fixture f;
    fx_init(&f, 6, 0);
    sk_logstore_close_unclean(f.store);
    char path[512];
    seg_path(&f, 0, ".index", path, sizeof path);
    ck_assert_int_eq(test_file_size(path), f.lc.max_index_size_bytes);
    sk_partition *p = fx_reopen(&f);
    ck_assert_int_eq(sk_partition_log_end_offset(p), 12);
    test_append(p, 2, 50, T0 + 100, 9);
    int64_t off, ts;
    ck_assert_int_eq(sk_partition_offset_for_timestamp(p, T0 + 41, &off, &ts), SK_ERR_NONE);
    ck_assert_int_eq(off, 9);
    ck_assert_int_eq(sk_partition_offset_for_timestamp(p, SK_LIST_OFFSETS_MAX_TIMESTAMP, &off, &ts), SK_ERR_NONE);
    ck_assert_int_eq(off, 13);
    ck_assert_int_eq(ts, T0 + 101);
    sk_logstore_close(f.store);
    ck_assert_int_eq(test_file_size(path), 6 * 8);
    p = fx_reopen(&f);
    ck_assert_int_eq(sk_partition_log_end_offset(p), 14);
    fx_done(&f);
}
END_TEST

START_TEST(test_startup_leftovers)
{
    fixture f;
    fx_init(&f, 1, 0);
    sk_logstore_close(f.store);
    char path[512];
    seg_path(&f, 5, ".log.deleted", path, sizeof path);
    FILE *fp = fopen(path, "w");
    fclose(fp);
    char deldir[512], tmp[512], stray[600];
    snprintf(deldir, sizeof deldir, "%s/t-1.0123456789abcdef0123456789abcdef-delete", f.dir);
    ck_assert_int_eq(mkdir(deldir, 0755), 0);
    snprintf(stray, sizeof stray, "%s/00000000000000000000.log", deldir);
    fp = fopen(stray, "w");
    fclose(fp);
    snprintf(tmp, sizeof tmp, "%s/recovery-point-offset-checkpoint.tmp", f.dir);
    fp = fopen(tmp, "w");
    fclose(fp);
    sk_partition *p = fx_reopen_lazy(&f);
    sk_bg_drain(sk_logstore_bg(f.store));
    ck_assert(!test_exists(deldir));
    ck_assert(!test_exists(tmp));
    /* The partition's own *.deleted files go when it is loaded. */
    ck_assert(test_exists(path));
    ck_assert_int_eq(sk_partition_ensure_loaded(p), SK_ERR_NONE);
    ck_assert_int_eq(sk_partition_log_end_offset(p), 2);
    sk_bg_drain(sk_logstore_bg(f.store));
    ck_assert(!test_exists(path));
    ck_assert_uint_eq(sk_logstore_count(f.store), 1);
    fx_done(&f);
}
END_TEST

START_TEST(test_malformed_checkpoint_means_full_recovery)
{
    fixture f;
    sk_partition *p = fx_init(&f, 7, 3);
    sk_bg_drain(sk_logstore_bg(f.store));
    int64_t low;
    ck_assert_int_eq(sk_partition_delete_records(p, 3, &low), SK_ERR_NONE);
    sk_bg_drain(sk_logstore_bg(f.store));
    sk_logstore_close_unclean(f.store);
    char path[512];
    snprintf(path, sizeof path, "%s/recovery-point-offset-checkpoint", f.dir);
    FILE *fp = fopen(path, "w");
    fputs("0\n5\nt 0 1\n", fp);
    fclose(fp);
    /* Damage in the first segment is found: the recovery point is 0. */
    seg_path(&f, 0, ".log", path, sizeof path);
    flip_byte(path, (int64_t)test_batch_size(2, 50) + 70);
    p = fx_reopen(&f);
    ck_assert_int_eq(sk_partition_log_end_offset(p), 2);
    ck_assert_uint_eq(sk_partition_segment_count(p), 1);
    /* The log start offset checkpoint (3) is above the end now: clamped. */
    ck_assert_int_eq(sk_partition_log_start_offset(p), 2);
    fx_done(&f);
}
END_TEST

/* Loading is explicit: a log that cannot be loaded is KAFKA_STORAGE_ERROR
 * (the answer a handler gives), and a later load can still succeed. */
START_TEST(test_load_failure_is_storage_error)
{
    fixture f;
    fx_init(&f, 2, 0);
    sk_logstore_close(f.store);
    sk_partition *p = fx_reopen_lazy(&f);
    char dir[512], away[512];
    snprintf(dir, sizeof dir, "%s/t-0", f.dir);
    snprintf(away, sizeof away, "%s/t-0.away", f.dir);
    ck_assert_int_eq(rename(dir, away), 0);
    ck_assert_int_eq(sk_partition_ensure_loaded(p), SK_ERR_KAFKA_STORAGE_ERROR);
    ck_assert_int_eq(rename(away, dir), 0);
    ck_assert_int_eq(sk_partition_ensure_loaded(p), SK_ERR_NONE);
    ck_assert_int_eq(sk_partition_log_end_offset(p), 4);
    ck_assert_int_eq(sk_partition_ensure_loaded(p), SK_ERR_NONE);
    fx_done(&f);
}
END_TEST

static Suite *recovery_suite(void)
{
    Suite *s = suite_create("log_recovery");
    TCase *tc = tcase_create("recovery");
    tcase_add_test(tc, test_truncated_tail);
    tcase_add_test(tc, test_torn_header_and_garbage);
    tcase_add_test(tc, test_corrupt_middle_truncates);
    tcase_add_test(tc, test_corrupt_segment_drops_later_ones);
    tcase_add_test(tc, test_missing_index_rebuilt);
    tcase_add_test(tc, test_clean_marker_skips_scan);
    tcase_add_test(tc, test_recovery_point_trusts_older_segments);
    tcase_add_test(tc, test_unclean_preallocated_indexes);
    tcase_add_test(tc, test_startup_leftovers);
    tcase_add_test(tc, test_malformed_checkpoint_means_full_recovery);
    tcase_add_test(tc, test_load_failure_is_storage_error);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    sk_trace_threshold = SK_TRACE_ERROR;
    return sk_unit_run(recovery_suite());
}
