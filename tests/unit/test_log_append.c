/*
 * Partition append and read: offsets assigned in the stored bytes, append
 * errors leave nothing behind, LogAppendTime, roll by size, time and full
 * index, reads bounded by max bytes and an upper offset (KIP-74 first batch),
 * sparse index lookups, offsets by timestamp, listeners, DeleteRecords, a
 * reopen that returns the same offsets, bytes, checkpoints and metadata, and
 * the background writeback of every SK_WRITEBACK_CHUNK appended bytes.
 */
#include "test_log_util.h"

#include "../../src/log/log_int.h"

#include "skiff/crc32c.h"
#include "skiff/errors.h"
#include "skiff/uuid.h"
#include "unit_run.h"

typedef struct fixture {
    char *dir;
    struct event_base *base;
    sk_config cfg;
    test_clock clock;
    sk_logstore *store;
} fixture;

static void fx_open(fixture *f)
{
    sk_logstore_opts opts = {.now_ms = test_clock_now, .clock_arg = &f->clock};
    f->store = sk_logstore_open(f->dir, f->base, &f->cfg, &opts);
    ck_assert_ptr_nonnull(f->store);
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

static sk_partition *fx_create(fixture *f, const sk_log_config *lc)
{
    sk_partition *p;
    ck_assert_int_eq(sk_logstore_create_partition(f->store, "t", 0, NULL, lc, &p), SK_ERR_NONE);
    return p;
}

/* The broker defaults with overrides for small segments. */
static sk_log_config fx_config(const fixture *f)
{
    sk_log_config lc;
    sk_log_config_from_broker(&lc, &f->cfg);
    return lc;
}

START_TEST(test_append_assigns_offsets)
{
    fixture f;
    fx_init(&f);
    uint8_t id[16];
    sk_uuid_random(id);
    sk_partition *p;
    ck_assert_int_eq(sk_logstore_create_partition(f.store, "t", 0, id, NULL, &p), SK_ERR_NONE);
    sk_partition *again;
    ck_assert_int_eq(sk_logstore_create_partition(f.store, "t", 0, NULL, NULL, &again), SK_ERR_TOPIC_ALREADY_EXISTS);
    ck_assert_ptr_eq(again, p);
    ck_assert_ptr_eq(sk_logstore_find(f.store, "t", 0), p);
    ck_assert_ptr_null(sk_logstore_find(f.store, "t", 1));

    size_t size;
    uint8_t *b = test_batch(2, 10, T0, 1, &size);
    uint32_t crc = sk_be32(b + SK_BATCH_CRC);
    sk_append_info info;
    for (int i = 0; i < 3; i++) {
        uint8_t *copy = malloc(size);
        memcpy(copy, b, size);
        ck_assert_int_eq(sk_partition_append(p, copy, size, T0, &info), SK_ERR_NONE);
        ck_assert_int_eq(info.base_offset, 2 * i);
        ck_assert_int_eq(info.last_offset, 2 * i + 1);
        ck_assert_int_eq(info.record_count, 2);
        ck_assert_int_eq(info.batch_count, 1);
        ck_assert_int_eq(info.log_append_time, -1);
        ck_assert_int_eq(info.log_start_offset, 0);
        ck_assert_int_eq(info.max_timestamp, T0 + 1);
        free(copy);
    }
    ck_assert_int_eq(sk_partition_log_end_offset(p), 6);
    ck_assert_int_eq(sk_partition_high_watermark(p), 6);
    ck_assert_int_eq(sk_partition_log_start_offset(p), 0);

    /* The file holds the batches with only the base offset rewritten. */
    char path[512];
    test_seg_path(path, sizeof path, f.dir, "t-0", 0, ".log");
    ck_assert_int_eq(test_file_size(path), (int64_t)(3 * size));
    uint8_t *disk = malloc(3 * size);
    int fd = open(path, O_RDONLY);
    ck_assert_int_eq(pread(fd, disk, 3 * size, 0), (ssize_t)(3 * size));
    close(fd);
    for (int i = 0; i < 3; i++) {
        uint8_t *d = disk + i * size;
        ck_assert_int_eq((int64_t)sk_be64(d), 2 * i);
        ck_assert_mem_eq(d + 8, b + 8, size - 8);
        ck_assert_uint_eq(sk_be32(d + SK_BATCH_CRC), crc);
    }
    /* Several batches in one append: one write, consecutive offsets. */
    uint8_t *two = malloc(2 * size);
    memcpy(two, b, size);
    memcpy(two + size, b, size);
    ck_assert_int_eq(sk_partition_append(p, two, 2 * size, T0, &info), SK_ERR_NONE);
    ck_assert_int_eq(info.base_offset, 6);
    ck_assert_int_eq(info.last_offset, 9);
    ck_assert_int_eq(info.batch_count, 2);
    ck_assert_int_eq((int64_t)sk_be64(two + size), 8);
    free(two);
    free(disk);
    free(b);
    fx_done(&f);
}
END_TEST

START_TEST(test_append_errors_write_nothing)
{
    fixture f;
    fx_init(&f);
    sk_log_config lc = fx_config(&f);
    size_t size;
    uint8_t *b = test_batch(3, 100, T0, 1, &size);
    lc.segment_bytes = (int64_t)size - 1;
    lc.max_message_bytes = (int32_t)size;
    sk_partition *p = fx_create(&f, &lc);
    char path[512];
    test_seg_path(path, sizeof path, f.dir, "t-0", 0, ".log");

    ck_assert_int_eq(sk_partition_append(p, b, 0, T0, NULL), SK_ERR_INVALID_RECORD);
    ck_assert_int_eq(sk_partition_append(p, b, size, T0, NULL), SK_ERR_RECORD_LIST_TOO_LARGE);
    lc.segment_bytes = 1 << 20;
    lc.max_message_bytes = (int32_t)size - 1;
    sk_partition_set_config(p, &lc);
    ck_assert_int_eq(sk_partition_append(p, b, size, T0, NULL), SK_ERR_MESSAGE_TOO_LARGE);
    lc.max_message_bytes = 1 << 20;
    sk_partition_set_config(p, &lc);
    b[size - 1] ^= 0x55;
    ck_assert_int_eq(sk_partition_append(p, b, size, T0, NULL), SK_ERR_CORRUPT_MESSAGE);
    b[size - 1] ^= 0x55;
    ck_assert_int_eq(sk_partition_append(p, b, size - 5, T0, NULL), SK_ERR_CORRUPT_MESSAGE);
    /* A good batch followed by a bad one: neither is written. */
    uint8_t *two = malloc(2 * size);
    memcpy(two, b, size);
    memcpy(two + size, b, size);
    two[SK_BATCH_MAGIC + size] = 1;
    ck_assert_int_eq(sk_partition_append(p, two, 2 * size, T0, NULL), SK_ERR_INVALID_RECORD);
    ck_assert_int_eq(sk_partition_log_end_offset(p), 0);
    ck_assert_int_eq(test_file_size(path), 0);
    /* Timestamps too far ahead. */
    uint8_t *future = test_batch(1, 10, T0 + 3600001, 2, &size);
    ck_assert_int_eq(sk_partition_append(p, future, size, T0, NULL), SK_ERR_INVALID_TIMESTAMP);
    free(future);
    ck_assert_int_eq(sk_partition_log_end_offset(p), 0);
    ck_assert_int_eq(test_file_size(path), 0);
    free(two);
    free(b);
    fx_done(&f);
}
END_TEST

START_TEST(test_log_append_time_and_epoch)
{
    fixture f;
    fx_init(&f);
    sk_log_config lc = fx_config(&f);
    lc.timestamp_type = SK_TIMESTAMP_LOG_APPEND_TIME;
    sk_partition *p = fx_create(&f, &lc);
    sk_partition_set_leader_epoch(p, 5);
    size_t size;
    uint8_t *b = test_batch(2, 10, T0 - 86400000, 1, &size);
    uint32_t crc = sk_be32(b + SK_BATCH_CRC);
    sk_append_info info;
    ck_assert_int_eq(sk_partition_append(p, b, size, T0 + 7, &info), SK_ERR_NONE);
    ck_assert_int_eq(info.log_append_time, T0 + 7);
    ck_assert_int_eq(info.max_timestamp, T0 + 7);
    sk_read_result r;
    ck_assert_int_eq(sk_partition_read(p, 0, 1 << 20, INT64_MAX, &r), SK_ERR_NONE);
    ck_assert_int_eq(r.slice.length, (int64_t)size);
    uint8_t *d = malloc(size);
    ck_assert_int_eq(sk_log_slice_copy(&r.slice, d), 0);
    sk_log_slice_release(&r.slice);
    ck_assert_uint_eq(sk_be16(d + SK_BATCH_ATTRIBUTES), SK_BATCH_TIMESTAMP_TYPE);
    ck_assert_int_eq((int64_t)sk_be64(d + SK_BATCH_MAX_TIMESTAMP), T0 + 7);
    ck_assert_int_eq((int32_t)sk_be32(d + SK_BATCH_LEADER_EPOCH), 5);
    ck_assert_uint_ne(sk_be32(d + SK_BATCH_CRC), crc);
    ck_assert(sk_batch_crc_valid(d, size));
    free(d);
    free(b);
    fx_done(&f);
}
END_TEST

/* Builds one client batch of three one-byte records: `keyed` bit i gives
 * record i a key, `ts` their timestamps. */
static void client_batch(sk_writer *w, unsigned keyed, const int64_t ts[3])
{
    sk_record_spec recs[3];
    for (int i = 0; i < 3; i++)
        recs[i] = (sk_record_spec){
            .key = (keyed >> i) & 1 ? "k" : NULL, .key_len = 1, .value = "v", .value_len = 1, .timestamp = ts[i]};
    sk_batch_spec spec = {.producer_id = -1, .producer_epoch = -1, .base_sequence = SK_NO_SEQUENCE};
    w->len = 0;
    ck_assert_int_eq(sk_batch_build(w, &spec, recs, 3), 0);
}

/* Produce's validator (sk_partition_append_client): the records a batch is
 * refused for are named in the same append (KIP-467), on the compressed
 * path too, and compression.type rewrites what is stored. */
START_TEST(test_client_append_record_errors)
{
    fixture f;
    fx_init(&f);
    sk_log_config lc = fx_config(&f);
    lc.compact = true;
    lc.timestamp_after_max_ms = 1000;
    sk_partition *p = fx_create(&f, &lc);
    sk_writer w;
    sk_writer_init(&w, 256);
    sk_append_info info;
    sk_record_errors errs = {0};
    const int64_t now3[3] = {T0, T0, T0}, future[3] = {T0, T0 + 5000, T0};

    /* Records 0 and 2 have no key: INVALID_RECORD naming both, whether the
     * batch is kept (producer) or recompressed (gzip). */
    int codecs[2] = {SK_COMPRESSION_PRODUCER, SK_COMPRESSION_GZIP};
    for (int c = 0; c < 2; c++) {
        client_batch(&w, 0x2, now3);
        ck_assert_int_eq(
            sk_partition_append_client(p, codecs[c], SK_COMPRESSION_LEVEL_DEFAULT, w.buf, w.len, T0, &info, &errs),
            SK_ERR_INVALID_RECORD);
        ck_assert_int_eq(errs.n, 2);
        ck_assert_int_eq(errs.items[0].index, 0);
        ck_assert_int_eq(errs.items[0].code, SK_ERR_INVALID_RECORD);
        ck_assert_int_eq(errs.items[1].index, 2);
        sk_record_errors_free(&errs);
    }
    /* A timestamp error makes the code INVALID_TIMESTAMP; the key error of
     * another record is named too. */
    client_batch(&w, 0x6, future);
    ck_assert_int_eq(sk_partition_append_client(p, SK_COMPRESSION_PRODUCER, SK_COMPRESSION_LEVEL_DEFAULT, w.buf, w.len,
                                                T0, &info, &errs),
                     SK_ERR_INVALID_TIMESTAMP);
    ck_assert_int_eq(errs.n, 2);
    ck_assert_int_eq(errs.items[0].code, SK_ERR_INVALID_RECORD);
    ck_assert_int_eq(errs.items[1].index, 1);
    ck_assert_int_eq(errs.items[1].code, SK_ERR_INVALID_TIMESTAMP);
    ck_assert_int_eq(errs.items[1].timestamp, T0 + 5000);
    sk_record_errors_free(&errs);
    ck_assert_int_eq(sk_partition_log_end_offset(p), 0);

    /* A good batch under compression.type=gzip is stored gzip. */
    client_batch(&w, 0x7, now3);
    ck_assert_int_eq(sk_partition_append_client(p, SK_COMPRESSION_GZIP, SK_COMPRESSION_LEVEL_DEFAULT, w.buf, w.len, T0,
                                                &info, &errs),
                     SK_ERR_NONE);
    ck_assert_int_eq(errs.n, 0);
    ck_assert_int_eq(info.base_offset, 0);
    ck_assert_int_eq(info.last_offset, 2);
    sk_read_result rr;
    ck_assert_int_eq(sk_partition_read(p, 0, 1 << 20, INT64_MAX, &rr), SK_ERR_NONE);
    uint8_t *stored = malloc((size_t)rr.slice.length);
    ck_assert_int_eq(sk_log_slice_copy(&rr.slice, stored), 0);
    ck_assert_int_eq(sk_be16(stored + SK_BATCH_ATTRIBUTES) & SK_BATCH_COMPRESSION_MASK, SK_COMPRESSION_GZIP);
    free(stored);
    sk_log_slice_release(&rr.slice);
    sk_writer_free(&w);
    fx_done(&f);
}
END_TEST

START_TEST(test_coordinator_origin)
{
    fixture f;
    fx_init(&f);
    sk_partition *p = fx_create(&f, NULL);
    size_t size;
    uint8_t *b = test_batch(1, 10, T0, 1, &size);
    sk_put_be16(b + SK_BATCH_ATTRIBUTES, SK_BATCH_CONTROL | SK_BATCH_TRANSACTIONAL);
    sk_put_be64(b + SK_BATCH_BASE_OFFSET, 77);
    sk_put_be32(b + SK_BATCH_CRC, sk_crc32c(0, b + SK_BATCH_ATTRIBUTES, size - SK_BATCH_ATTRIBUTES));
    ck_assert_int_eq(sk_partition_append(p, b, size, T0, NULL), SK_ERR_INVALID_RECORD);
    sk_append_info info;
    ck_assert_int_eq(sk_partition_append_origin(p, SK_APPEND_COORDINATOR, b, size, T0, &info), SK_ERR_NONE);
    ck_assert_int_eq(info.base_offset, 0);
    ck_assert_int_eq((int64_t)sk_be64(b), 0);
    free(b);
    fx_done(&f);
}
END_TEST

START_TEST(test_read_bounds_kip74)
{
    fixture f;
    fx_init(&f);
    sk_partition *p = fx_create(&f, NULL);
    size_t bs = test_batch_size(2, 200);
    for (int i = 0; i < 5; i++)
        test_append(p, 2, 200, T0, (uint32_t)i);
    sk_read_result r;
    /* max_bytes 1: the first batch anyway. */
    ck_assert_int_eq(sk_partition_read(p, 0, 1, INT64_MAX, &r), SK_ERR_NONE);
    ck_assert_int_eq(r.slice.position, 0);
    ck_assert_int_eq(r.slice.length, (int64_t)bs);
    ck_assert_int_eq(r.first_offset, 0);
    ck_assert_int_eq(r.next_offset, 2);
    ck_assert_int_eq(r.high_watermark, 10);
    ck_assert_int_eq(r.log_start_offset, 0);
    sk_log_slice_release(&r.slice);
    ck_assert_ptr_null(r.slice.file);
    /* Whole batches only. */
    ck_assert_int_eq(sk_partition_read(p, 0, (int32_t)(2 * bs - 1), INT64_MAX, &r), SK_ERR_NONE);
    ck_assert_int_eq(r.slice.length, (int64_t)bs);
    sk_log_slice_release(&r.slice);
    ck_assert_int_eq(sk_partition_read(p, 0, (int32_t)(2 * bs), INT64_MAX, &r), SK_ERR_NONE);
    ck_assert_int_eq(r.slice.length, (int64_t)(2 * bs));
    ck_assert_int_eq(r.next_offset, 4);
    sk_log_slice_release(&r.slice);
    /* Upper offset bound: batches starting at or after 4 are left out. */
    ck_assert_int_eq(sk_partition_read(p, 0, 1 << 20, 4, &r), SK_ERR_NONE);
    ck_assert_int_eq(r.slice.length, (int64_t)(2 * bs));
    sk_log_slice_release(&r.slice);
    ck_assert_int_eq(sk_partition_read(p, 4, 1 << 20, 4, &r), SK_ERR_NONE);
    ck_assert_ptr_null(r.slice.file);
    ck_assert_int_eq(r.slice.length, 0);
    ck_assert_int_eq(r.next_offset, 4);
    /* An offset inside a batch returns that batch. */
    ck_assert_int_eq(sk_partition_read(p, 5, 1, INT64_MAX, &r), SK_ERR_NONE);
    ck_assert_int_eq(r.first_offset, 4);
    ck_assert_int_eq(r.slice.position, (int64_t)(2 * bs));
    sk_log_slice_release(&r.slice);
    /* At the end: empty; past the end or below the start: out of range. */
    ck_assert_int_eq(sk_partition_read(p, 10, 1 << 20, INT64_MAX, &r), SK_ERR_NONE);
    ck_assert_int_eq(r.slice.length, 0);
    ck_assert_int_eq(sk_partition_read(p, 11, 1 << 20, INT64_MAX, &r), SK_ERR_OFFSET_OUT_OF_RANGE);
    ck_assert_int_eq(sk_partition_read(p, -1, 1 << 20, INT64_MAX, &r), SK_ERR_OFFSET_OUT_OF_RANGE);
    fx_done(&f);
}
END_TEST

START_TEST(test_sparse_index_lookup)
{
    fixture f;
    fx_init(&f);
    sk_log_config lc = fx_config(&f);
    lc.index_interval_bytes = 300;
    sk_partition *p = fx_create(&f, &lc);
    size_t bs = test_batch_size(3, 100);
    for (int i = 0; i < 20; i++)
        test_append(p, 3, 100, T0 + i, (uint32_t)i);
    /* An entry roughly every other batch (each is ~ bs bytes > 300/2). */
    char path[512];
    test_seg_path(path, sizeof path, f.dir, "t-0", 0, ".index");
    ck_assert_int_eq(test_file_size(path), 10485760);
    for (int64_t off = 0; off < 60; off++) {
        sk_read_result r;
        ck_assert_int_eq(sk_partition_read(p, off, 1, INT64_MAX, &r), SK_ERR_NONE);
        ck_assert_int_eq(r.first_offset, off / 3 * 3);
        ck_assert_int_eq(r.slice.position, (int64_t)(off / 3 * bs));
        sk_log_slice_release(&r.slice);
    }
    /* Max bytes: the longest run of whole batches that fits (the index
     * jump and the header scan must agree), at least one batch. */
    static const int64_t maxes[] = {1, 2, 7, 20, 100};
    for (size_t m = 0; m < sizeof maxes / sizeof *maxes; m++) {
        for (int64_t delta = -1; delta <= 1; delta++) {
            int64_t max = maxes[m] * (int64_t)bs + delta;
            int64_t want = max / (int64_t)bs;
            want = want < 1 ? 1 : want > 20 ? 20 : want;
            for (int64_t from = 0; from < 60; from += 13) {
                sk_read_result r;
                int64_t left = 20 - from / 3;
                int64_t n = want < left ? want : left;
                ck_assert_int_eq(sk_partition_read(p, from, (int32_t)max, INT64_MAX, &r), SK_ERR_NONE);
                ck_assert_int_eq(r.slice.length, n * (int64_t)bs);
                ck_assert_int_eq(r.next_offset, (from / 3 + n) * 3);
                sk_log_slice_release(&r.slice);
                /* An upper offset bound inside the range stops before it. */
                int64_t bound = (from / 3 + 2) * 3 + 1;
                ck_assert_int_eq(sk_partition_read(p, from, (int32_t)max, bound, &r), SK_ERR_NONE);
                int64_t nb = n < 3 ? n : 3;
                ck_assert_int_eq(r.slice.length, nb * (int64_t)bs);
                sk_log_slice_release(&r.slice);
            }
        }
    }
    fx_done(&f);
}
END_TEST

START_TEST(test_roll_by_size)
{
    fixture f;
    fx_init(&f);
    sk_log_config lc = fx_config(&f);
    size_t bs = test_batch_size(2, 50);
    lc.segment_bytes = (int64_t)(3 * bs);
    lc.index_interval_bytes = 1;
    sk_partition *p = fx_create(&f, &lc);
    for (int i = 0; i < 7; i++)
        test_append(p, 2, 50, T0 + i, (uint32_t)i);
    ck_assert_uint_eq(sk_partition_segment_count(p), 3);
    char path[512];
    for (int64_t base = 0; base <= 12; base += 6) {
        test_seg_path(path, sizeof path, f.dir, "t-0", base, ".log");
        ck_assert_int_eq(test_file_size(path), base == 12 ? (int64_t)bs : (int64_t)(3 * bs));
    }
    /* Closed segments' indexes are trimmed: 2 offset entries (batches 2 and
     * 3 of 3) and their time entries. */
    test_seg_path(path, sizeof path, f.dir, "t-0", 0, ".index");
    ck_assert_int_eq(test_file_size(path), 16);
    test_seg_path(path, sizeof path, f.dir, "t-0", 0, ".timeindex");
    ck_assert_int_eq(test_file_size(path), 24);
    test_seg_path(path, sizeof path, f.dir, "t-0", 12, ".index");
    ck_assert_int_eq(test_file_size(path), 10485760);
    /* A read stays within one segment. */
    sk_read_result r;
    ck_assert_int_eq(sk_partition_read(p, 0, 1 << 20, INT64_MAX, &r), SK_ERR_NONE);
    ck_assert_int_eq(r.next_offset, 6);
    sk_log_slice_release(&r.slice);
    ck_assert_int_eq(sk_partition_read(p, 6, 1 << 20, INT64_MAX, &r), SK_ERR_NONE);
    ck_assert_int_eq(r.first_offset, 6);
    ck_assert_int_eq(r.slice.position, 0);
    ck_assert_int_eq(r.next_offset, 12);
    sk_log_slice_release(&r.slice);
    /* The roll scheduled an fsync of the old segments. */
    sk_bg_drain(sk_logstore_bg(f.store));
    ck_assert_int_eq(sk_partition_recovery_point(p), 12);
    size_t total;
    int64_t end;
    free(test_read_all(p, 0, &total, &end));
    ck_assert_int_eq(end, 14);
    ck_assert_uint_eq(total, 7 * bs);
    fx_done(&f);
}
END_TEST

START_TEST(test_roll_by_time)
{
    fixture f;
    fx_init(&f);
    sk_log_config lc = fx_config(&f);
    lc.segment_ms = 1000;
    sk_partition *p = fx_create(&f, &lc);
    test_append(p, 1, 10, T0, 1);
    size_t size;
    uint8_t *b = test_batch(1, 10, T0 + 500, 2, &size);
    ck_assert_int_eq(sk_partition_append(p, b, size, T0 + 1000, NULL), SK_ERR_NONE);
    free(b);
    ck_assert_uint_eq(sk_partition_segment_count(p), 1);
    /* Kafka measures by record timestamps when they exist: old records
     * appended long after do not roll (LogSegment.timeWaitedForRoll). */
    b = test_batch(1, 10, T0 + 900, 3, &size);
    ck_assert_int_eq(sk_partition_append(p, b, size, T0 + 50000, NULL), SK_ERR_NONE);
    free(b);
    ck_assert_uint_eq(sk_partition_segment_count(p), 1);
    b = test_batch(1, 10, T0 + 1001, 4, &size);
    ck_assert_int_eq(sk_partition_append(p, b, size, T0 + 50001, NULL), SK_ERR_NONE);
    free(b);
    ck_assert_uint_eq(sk_partition_segment_count(p), 2);
    char path[512];
    test_seg_path(path, sizeof path, f.dir, "t-0", 3, ".log");
    ck_assert(test_exists(path));
    /* An explicit roll of an empty active segment does nothing. */
    ck_assert_int_eq(sk_partition_roll(p), SK_ERR_NONE);
    ck_assert_int_eq(sk_partition_roll(p), SK_ERR_NONE);
    ck_assert_uint_eq(sk_partition_segment_count(p), 3);
    fx_done(&f);
}
END_TEST

START_TEST(test_roll_by_full_index)
{
    fixture f;
    fx_init(&f);
    sk_log_config lc = fx_config(&f);
    lc.index_interval_bytes = 1;
    lc.max_index_size_bytes = 24; /* 3 offset entries, 2 time entries */
    sk_partition *p = fx_create(&f, &lc);
    /* Same timestamps: one time index entry; offset entries for batches 2-4. */
    for (int i = 0; i < 4; i++)
        test_append(p, 1, 10, T0, (uint32_t)i);
    ck_assert_uint_eq(sk_partition_segment_count(p), 1);
    test_append(p, 1, 10, T0, 9);
    ck_assert_uint_eq(sk_partition_segment_count(p), 2);
    char path[512];
    test_seg_path(path, sizeof path, f.dir, "t-0", 4, ".log");
    ck_assert(test_exists(path));
    test_seg_path(path, sizeof path, f.dir, "t-0", 0, ".index");
    ck_assert_int_eq(test_file_size(path), 24);
    fx_done(&f);
}
END_TEST

START_TEST(test_offset_for_timestamp)
{
    fixture f;
    fx_init(&f);
    sk_log_config lc = fx_config(&f);
    lc.index_interval_bytes = 1;
    lc.segment_bytes = (int64_t)(2 * test_batch_size(2, 20));
    sk_partition *p = fx_create(&f, &lc);
    /* Batch i: offsets 2i, 2i+1 at T0 + 10i, T0 + 10i + 1. */
    for (int i = 0; i < 6; i++)
        test_append(p, 2, 20, T0 + 10 * i, (uint32_t)i);
    ck_assert_uint_eq(sk_partition_segment_count(p), 3);
    int64_t off, ts;
    ck_assert_int_eq(sk_partition_offset_for_timestamp(p, T0, &off, &ts), SK_ERR_NONE);
    ck_assert_int_eq(off, 0);
    ck_assert_int_eq(ts, T0);
    ck_assert_int_eq(sk_partition_offset_for_timestamp(p, T0 + 11, &off, &ts), SK_ERR_NONE);
    ck_assert_int_eq(off, 3);
    ck_assert_int_eq(ts, T0 + 11);
    ck_assert_int_eq(sk_partition_offset_for_timestamp(p, T0 + 15, &off, &ts), SK_ERR_NONE);
    ck_assert_int_eq(off, 4);
    ck_assert_int_eq(ts, T0 + 20);
    ck_assert_int_eq(sk_partition_offset_for_timestamp(p, T0 + 41, &off, &ts), SK_ERR_NONE);
    ck_assert_int_eq(off, 9);
    ck_assert_int_eq(sk_partition_offset_for_timestamp(p, T0 + 51, &off, &ts), SK_ERR_NONE);
    ck_assert_int_eq(off, 11);
    ck_assert_int_eq(ts, T0 + 51);
    ck_assert_int_eq(sk_partition_offset_for_timestamp(p, T0 + 52, &off, &ts), SK_ERR_NONE);
    ck_assert_int_eq(off, -1);
    ck_assert_int_eq(ts, -1);
    ck_assert_int_eq(sk_partition_offset_for_timestamp(p, SK_LIST_OFFSETS_LATEST, &off, &ts), SK_ERR_NONE);
    ck_assert_int_eq(off, 12);
    ck_assert_int_eq(ts, -1);
    ck_assert_int_eq(sk_partition_offset_for_timestamp(p, SK_LIST_OFFSETS_EARLIEST, &off, &ts), SK_ERR_NONE);
    ck_assert_int_eq(off, 0);
    ck_assert_int_eq(sk_partition_offset_for_timestamp(p, SK_LIST_OFFSETS_MAX_TIMESTAMP, &off, &ts), SK_ERR_NONE);
    ck_assert_int_eq(off, 11);
    ck_assert_int_eq(ts, T0 + 51);
    /* Out-of-order timestamps: the max is in the middle of a batch. */
    sk_record_spec recs[3] = {
        {.key = "k", .key_len = 1, .value = "a", .value_len = 1, .timestamp = T0 + 100},
        {.key = "k", .key_len = 1, .value = "b", .value_len = 1, .timestamp = T0 + 900},
        {.key = "k", .key_len = 1, .value = "c", .value_len = 1, .timestamp = T0 + 200},
    };
    sk_batch_spec spec = {.producer_id = -1, .producer_epoch = -1, .base_sequence = -1};
    sk_writer w;
    sk_writer_init(&w, 0);
    sk_batch_build(&w, &spec, recs, 3);
    ck_assert_int_eq(sk_partition_append(p, w.buf, w.len, T0, NULL), SK_ERR_NONE);
    sk_writer_free(&w);
    ck_assert_int_eq(sk_partition_offset_for_timestamp(p, SK_LIST_OFFSETS_MAX_TIMESTAMP, &off, &ts), SK_ERR_NONE);
    ck_assert_int_eq(off, 13);
    ck_assert_int_eq(ts, T0 + 900);
    ck_assert_int_eq(sk_partition_offset_for_timestamp(p, T0 + 150, &off, &ts), SK_ERR_NONE);
    ck_assert_int_eq(off, 13);
    /* Below the log start offset nothing is returned. */
    int64_t low;
    ck_assert_int_eq(sk_partition_delete_records(p, 5, &low), SK_ERR_NONE);
    ck_assert_int_eq(sk_partition_offset_for_timestamp(p, T0, &off, &ts), SK_ERR_NONE);
    ck_assert_int_eq(off, 5);
    ck_assert_int_eq(ts, T0 + 21);
    ck_assert_int_eq(sk_partition_offset_for_timestamp(p, SK_LIST_OFFSETS_EARLIEST, &off, &ts), SK_ERR_NONE);
    ck_assert_int_eq(off, 5);
    fx_done(&f);
}
END_TEST

typedef struct listen_state {
    int calls;
    int null_calls;
    int64_t last_offset;
    bool rearm;
    sk_append_listener *self;
} listen_state;

static void on_append(sk_partition *p, const sk_append_info *info, void *arg)
{
    listen_state *st = arg;
    if (!info) {
        st->null_calls++;
        return;
    }
    st->calls++;
    st->last_offset = info->last_offset;
    if (st->rearm)
        sk_partition_listen(p, st->self);
}

typedef struct flush_state {
    int calls;
    bool durable;
    int64_t recovery_point; /* the partition's, when the waiter fired */
} flush_state;

static void on_flushed(sk_partition *p, bool durable, void *arg)
{
    flush_state *st = arg;
    st->calls++;
    st->durable = durable;
    st->recovery_point = sk_partition_recovery_point(p);
}

START_TEST(test_await_flush)
{
    fixture f;
    fx_init(&f);
    sk_log_config lc = fx_config(&f);
    lc.flush_messages = 3;
    sk_partition *p = fx_create(&f, &lc);
    flush_state st = {0};
    sk_flush_waiter w = {.fn = on_flushed, .arg = &st};
    /* Below flush.messages no fsync is scheduled: nothing to wait for. */
    sk_append_info a = test_append(p, 2, 5, T0, 1);
    w.offset = a.last_offset + 1;
    ck_assert(!sk_partition_await_flush(p, &w));
    /* The append that reaches flush.messages schedules one: wait for it. */
    a = test_append(p, 1, 5, T0, 2);
    w.offset = a.last_offset + 1;
    ck_assert(sk_partition_await_flush(p, &w));
    ck_assert_int_eq(st.calls, 0);
    sk_bg_drain(sk_logstore_bg(f.store));
    ck_assert_int_eq(st.calls, 1);
    ck_assert(st.durable);
    ck_assert_int_eq(st.recovery_point, 3);
    /* Once durable, there is nothing left to wait for. */
    ck_assert(!sk_partition_await_flush(p, &w));
    fx_done(&f);
}
END_TEST

START_TEST(test_listeners)
{
    fixture f;
    fx_init(&f);
    sk_partition *p = fx_create(&f, NULL);
    listen_state once = {0}, always = {.rearm = true}, removed = {0};
    sk_append_listener l1 = {.fn = on_append, .arg = &once};
    sk_append_listener l2 = {.fn = on_append, .arg = &always};
    sk_append_listener l3 = {.fn = on_append, .arg = &removed};
    always.self = &l2;
    sk_partition_listen(p, &l1);
    sk_partition_listen(p, &l2);
    sk_partition_listen(p, &l3);
    sk_partition_unlisten(&l3);
    sk_partition_unlisten(&l3);
    /* A failed append fires nothing. */
    ck_assert_int_eq(sk_partition_append(p, (uint8_t *)"", 0, T0, NULL), SK_ERR_INVALID_RECORD);
    ck_assert_int_eq(once.calls + always.calls, 0);
    test_append(p, 2, 5, T0, 1);
    test_append(p, 1, 5, T0, 2);
    ck_assert_int_eq(once.calls, 1);
    ck_assert_int_eq(once.last_offset, 1);
    ck_assert_int_eq(always.calls, 2);
    ck_assert_int_eq(always.last_offset, 2);
    ck_assert_int_eq(removed.calls, 0);
    /* Deleting the partition tells the armed ones. */
    ck_assert_int_eq(sk_logstore_delete_partition(f.store, p), SK_ERR_NONE);
    ck_assert_int_eq(always.null_calls, 1);
    ck_assert_int_eq(once.null_calls, 0);
    ck_assert_ptr_null(sk_logstore_find(f.store, "t", 0));
    fx_done(&f);
}
END_TEST

START_TEST(test_delete_records)
{
    fixture f;
    fx_init(&f);
    sk_log_config lc = fx_config(&f);
    lc.segment_bytes = (int64_t)(3 * test_batch_size(2, 50));
    sk_partition *p = fx_create(&f, &lc);
    for (int i = 0; i < 7; i++)
        test_append(p, 2, 50, T0, (uint32_t)i);
    ck_assert_uint_eq(sk_partition_segment_count(p), 3);
    int64_t low;
    ck_assert_int_eq(sk_partition_delete_records(p, 15, &low), SK_ERR_OFFSET_OUT_OF_RANGE);
    ck_assert_int_eq(low, 0);
    ck_assert_int_eq(sk_partition_delete_records(p, -2, &low), SK_ERR_OFFSET_OUT_OF_RANGE);
    ck_assert_int_eq(sk_partition_delete_records(p, 7, &low), SK_ERR_NONE);
    ck_assert_int_eq(low, 7);
    ck_assert_int_eq(sk_partition_log_start_offset(p), 7);
    ck_assert_uint_eq(sk_partition_segment_count(p), 2);
    sk_bg_drain(sk_logstore_bg(f.store));
    char path[512];
    test_seg_path(path, sizeof path, f.dir, "t-0", 0, ".log");
    ck_assert(!test_exists(path));
    strcat(path, ".deleted");
    ck_assert(!test_exists(path));
    sk_read_result r;
    ck_assert_int_eq(sk_partition_read(p, 6, 1, INT64_MAX, &r), SK_ERR_OFFSET_OUT_OF_RANGE);
    ck_assert_int_eq(sk_partition_read(p, 7, 1, INT64_MAX, &r), SK_ERR_NONE);
    ck_assert_int_eq(r.first_offset, 6);
    ck_assert_int_eq(r.log_start_offset, 7);
    sk_log_slice_release(&r.slice);
    /* Lowering is a no-op; -1 means the high watermark. */
    ck_assert_int_eq(sk_partition_delete_records(p, 3, &low), SK_ERR_NONE);
    ck_assert_int_eq(low, 7);
    ck_assert_int_eq(sk_partition_delete_records(p, -1, &low), SK_ERR_NONE);
    ck_assert_int_eq(low, 14);
    ck_assert_uint_eq(sk_partition_segment_count(p), 1);
    ck_assert_int_eq(sk_partition_read(p, 14, 1, INT64_MAX, &r), SK_ERR_NONE);
    ck_assert_int_eq(r.slice.length, 0);
    test_append(p, 1, 5, T0, 99);
    ck_assert_int_eq(sk_partition_read(p, 14, 1, INT64_MAX, &r), SK_ERR_NONE);
    ck_assert_int_eq(r.first_offset, 14);
    sk_log_slice_release(&r.slice);
    fx_done(&f);
}
END_TEST

START_TEST(test_slice_outlives_deletion)
{
    fixture f;
    fx_init(&f);
    sk_partition *p = fx_create(&f, NULL);
    sk_append_info info = test_append(p, 3, 100, T0, 42);
    (void)info;
    sk_read_result r;
    ck_assert_int_eq(sk_partition_read(p, 0, 1 << 20, INT64_MAX, &r), SK_ERR_NONE);
    ck_assert_int_eq(sk_logstore_delete_partition(f.store, p), SK_ERR_NONE);
    sk_bg_drain(sk_logstore_bg(f.store));
    char path[512];
    snprintf(path, sizeof path, "%s/t-0", f.dir);
    ck_assert(!test_exists(path));
    uint8_t *d = malloc((size_t)r.slice.length);
    ck_assert_int_eq(sk_log_slice_copy(&r.slice, d), 0);
    ck_assert(sk_batch_crc_valid(d, (size_t)r.slice.length));
    free(d);
    sk_log_slice_release(&r.slice);
    /* The name can be reused at once. */
    p = fx_create(&f, NULL);
    ck_assert_int_eq(sk_partition_log_end_offset(p), 0);
    fx_done(&f);
}
END_TEST

static char *read_text(const char *path)
{
    FILE *fp = fopen(path, "r");
    ck_assert_ptr_nonnull(fp);
    char *buf = calloc(1, 4096);
    size_t n = fread(buf, 1, 4095, fp);
    buf[n] = '\0';
    fclose(fp);
    return buf;
}

/* Collects "topic-index" names of the partitions listed by sk_logstore_foreach. */
static void collect_name(sk_partition *p, void *arg)
{
    char *out = arg;
    char name[64];
    snprintf(name, sizeof name, "%s-%d;", sk_partition_topic(p), (int)sk_partition_index(p));
    strcat(out, name);
}

/* Every SK_WRITEBACK_CHUNK appended bytes of a segment go to the writeback
 * worker once, in order, without a gap or overlap; the bytes read back are
 * the ones appended, and a segment deleted while its range is queued is
 * freed only after the job (ASan checks the reference). */
START_TEST(test_background_writeback)
{
    fixture f;
    fx_init(&f);
    sk_log_config lc = fx_config(&f);
    sk_partition *p = fx_create(&f, &lc);
    size_t bs = test_batch_size(8, 65536);
    int64_t per_job = (SK_WRITEBACK_CHUNK + (int64_t)bs - 1) / (int64_t)bs; /* batches per range */
    int batches = (int)(2 * per_job + 1);
    for (int i = 0; i < batches; i++)
        test_append(p, 8, 65536, T0 + i, (uint32_t)i);
    sk_segment *seg = p->segs[p->nsegs - 1];
    ck_assert_uint_eq(f.store->writeback_jobs, 2);
    ck_assert_int_eq(seg->writeback_from, 2 * per_job * (int64_t)bs);
    ck_assert_int_eq(seg->size, batches * (int64_t)bs);
    sk_bg_drain(sk_logstore_bg(f.store));
    size_t total;
    int64_t end;
    free(test_read_all(p, 0, &total, &end));
    ck_assert_int_eq(end, 8 * batches);
    ck_assert_uint_eq(total, (size_t)batches * bs);
    /* A range still queued when its partition is deleted. */
    for (int i = 0; i < per_job; i++)
        test_append(p, 8, 65536, T0 + i, (uint32_t)i);
    ck_assert_uint_eq(f.store->writeback_jobs, 3);
    ck_assert_int_eq(sk_logstore_delete_partition(f.store, p), SK_ERR_NONE);
    sk_bg_drain(sk_logstore_bg(f.store));
    fx_done(&f);
}
END_TEST

START_TEST(test_reopen_same_state)
{
    fixture f;
    fx_init(&f);
    sk_log_config lc = fx_config(&f);
    lc.segment_bytes = (int64_t)(3 * test_batch_size(2, 50));
    lc.index_interval_bytes = 1;
    uint8_t id[16];
    sk_uuid_random(id);
    sk_partition *p;
    ck_assert_int_eq(sk_logstore_create_partition(f.store, "orders", 3, id, &lc, &p), SK_ERR_NONE);
    sk_partition *q = NULL;
    ck_assert_int_eq(sk_logstore_create_partition(f.store, "other.topic_x", 0, NULL, &lc, &q), SK_ERR_NONE);
    ck_assert_int_eq(sk_logstore_create_partition(f.store, "bad/name", 0, NULL, NULL, &q),
                     SK_ERR_INVALID_TOPIC_EXCEPTION);
    ck_assert_int_eq(sk_logstore_create_partition(f.store, "..", 0, NULL, NULL, &q), SK_ERR_INVALID_TOPIC_EXCEPTION);
    for (int i = 0; i < 8; i++)
        test_append(p, 2, 50, T0 + i, (uint32_t)i);
    int64_t low;
    ck_assert_int_eq(sk_partition_delete_records(p, 7, &low), SK_ERR_NONE);
    size_t n1;
    int64_t end1;
    uint8_t *before = test_read_all(p, 7, &n1, &end1);
    ck_assert_int_eq(end1, 16);
    ck_assert_uint_eq(sk_logstore_count(f.store), 2);
    sk_logstore_close(f.store);

    char path[512];
    snprintf(path, sizeof path, "%s/.kafka_cleanshutdown", f.dir);
    ck_assert(test_exists(path));
    char *text = read_text(path);
    ck_assert_str_eq(text, "{\"version\":0,\"brokerEpoch\":-1}");
    free(text);
    snprintf(path, sizeof path, "%s/recovery-point-offset-checkpoint", f.dir);
    text = read_text(path);
    ck_assert(strcmp(text, "0\n2\norders 3 16\nother.topic_x 0 0\n") == 0 ||
              strcmp(text, "0\n2\nother.topic_x 0 0\norders 3 16\n") == 0);
    free(text);
    snprintf(path, sizeof path, "%s/log-start-offset-checkpoint", f.dir);
    text = read_text(path);
    ck_assert_str_eq(text, "0\n1\norders 3 7\n");
    free(text);
    snprintf(path, sizeof path, "%s/orders-3/partition.metadata", f.dir);
    text = read_text(path);
    char sid[SK_UUID_STR_LEN + 1], want[64];
    sk_uuid_to_string(id, sid);
    snprintf(want, sizeof want, "version: 0\ntopic_id: %s", sid);
    ck_assert_str_eq(text, want);
    free(text);
    /* The active segment's indexes are trimmed at close. */
    test_seg_path(path, sizeof path, f.dir, "orders-3", 12, ".index");
    ck_assert_int_eq(test_file_size(path), 8);

    fx_open(&f);
    snprintf(path, sizeof path, "%s/.kafka_cleanshutdown", f.dir);
    ck_assert(!test_exists(path));
    ck_assert_uint_eq(sk_logstore_count(f.store), 2);
    char names[256] = "";
    sk_logstore_foreach(f.store, collect_name, names);
    ck_assert(strcmp(names, "orders-3;other.topic_x-0;") == 0 || strcmp(names, "other.topic_x-0;orders-3;") == 0);
    p = sk_logstore_find(f.store, "orders", 3);
    ck_assert_ptr_nonnull(p);
    uint8_t back[16];
    ck_assert(sk_partition_read_topic_id(p, back));
    ck_assert_mem_eq(back, id, 16);
    q = sk_logstore_find(f.store, "other.topic_x", 0);
    ck_assert_ptr_nonnull(q);
    ck_assert(!sk_partition_read_topic_id(q, back));
    ck_assert_int_eq(sk_partition_ensure_loaded(p), SK_ERR_NONE);
    ck_assert_int_eq(sk_partition_log_start_offset(p), 7);
    ck_assert_int_eq(sk_partition_log_end_offset(p), 16);
    ck_assert_int_eq(sk_partition_recovery_point(p), 16);
    size_t n2;
    int64_t end2;
    uint8_t *after = test_read_all(p, 7, &n2, &end2);
    ck_assert_int_eq(end2, 16);
    ck_assert_uint_eq(n1, n2);
    ck_assert_mem_eq(before, after, n1);
    /* Appends continue where they stopped; the active index is writable again. */
    sk_append_info info = test_append(p, 2, 50, T0 + 9, 9);
    ck_assert_int_eq(info.base_offset, 16);
    ck_assert_int_eq(info.log_start_offset, 7);
    int64_t off, ts;
    ck_assert_int_eq(sk_partition_offset_for_timestamp(p, T0 + 5, &off, &ts), SK_ERR_NONE);
    ck_assert_int_eq(off, 9);
    free(before);
    free(after);
    fx_done(&f);
}
END_TEST

static Suite *append_suite(void)
{
    Suite *s = suite_create("log_append");
    TCase *tc = tcase_create("append");
    tcase_add_test(tc, test_append_assigns_offsets);
    tcase_add_test(tc, test_background_writeback);
    tcase_add_test(tc, test_append_errors_write_nothing);
    tcase_add_test(tc, test_log_append_time_and_epoch);
    tcase_add_test(tc, test_coordinator_origin);
    tcase_add_test(tc, test_read_bounds_kip74);
    tcase_add_test(tc, test_sparse_index_lookup);
    tcase_add_test(tc, test_roll_by_size);
    tcase_add_test(tc, test_roll_by_time);
    tcase_add_test(tc, test_roll_by_full_index);
    tcase_add_test(tc, test_offset_for_timestamp);
    tcase_add_test(tc, test_listeners);
    tcase_add_test(tc, test_await_flush);
    tcase_add_test(tc, test_delete_records);
    tcase_add_test(tc, test_slice_outlives_deletion);
    tcase_add_test(tc, test_reopen_same_state);
    tcase_add_test(tc, test_client_append_record_errors);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return sk_unit_run(append_suite());
}
