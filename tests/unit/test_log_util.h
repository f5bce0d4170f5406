/*
 * Helpers shared by the log store tests (tests/unit/test_log_*.c): a
 * temporary directory removed afterwards, a broker config with Kafka's log
 * defaults, an injectable clock, and record batch builders.
 */
#ifndef SKIFF_TEST_LOG_UTIL_H
#define SKIFF_TEST_LOG_UTIL_H

#include <check.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

#include "skiff/logstore.h"
#include "skiff/record.h"

#define T0 1700000000000LL /* the tests' "now" */

/* A clock the test moves by hand. */
typedef struct test_clock {
    int64_t now;
} test_clock;

static inline int64_t test_clock_now(void *arg)
{
    return ((test_clock *)arg)->now;
}

/* Kafka's log defaults (the values of config.h's keys a broker starts with). */
static inline void test_config(sk_config *c)
{
    memset(c, 0, sizeof *c);
    c->message_max_bytes = 1048588;
    c->log_segment_bytes = 1073741824;
    c->log_roll_ms = 604800000;
    c->log_retention_ms = 604800000;
    c->log_retention_bytes = -1;
    c->log_retention_check_interval_ms = 300000;
    c->log_flush_interval_messages = INT64_MAX;
    c->log_flush_interval_ms = -1;
    c->log_index_interval_bytes = 4096;
    c->log_index_size_max_bytes = 10485760;
    c->file_delete_delay_ms = 0;
    c->log_message_timestamp_type = "CreateTime";
    c->log_message_timestamp_before_max_ms = INT64_MAX;
    c->log_message_timestamp_after_max_ms = 3600000;
    c->producer_id_expiration_ms = 86400000;
    c->producer_id_expiration_check_interval_ms = 600000;
}

static inline char *test_tmpdir(void)
{
    char tmpl[] = "/tmp/skiff-log-test-XXXXXX";
    char *d = mkdtemp(tmpl);
    ck_assert_ptr_nonnull(d);
    return strdup(d);
}

static inline int test_rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static inline void test_rmtree(char *dir)
{
    nftw(dir, test_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(dir);
}

/* Appends to `w` one batch of `n` records, record i with value "v<seed>-<i>"
 * padded to `value_len` bytes (at least the text) and timestamp ts + i. */
static inline void test_batch_into(sk_writer *w, int n, size_t value_len, int64_t ts, uint32_t seed)
{
    sk_record_spec recs[64];
    char *vals[64];
    sk_batch_spec spec = {.producer_id = -1, .producer_epoch = -1, .base_sequence = -1};
    ck_assert_int_le(n, 64);
    for (int i = 0; i < n; i++) {
        char head[32];
        int h = snprintf(head, sizeof head, "v%u-%d", seed, i);
        size_t len = value_len > (size_t)h ? value_len : (size_t)h;
        vals[i] = malloc(len);
        memset(vals[i], 'x', len);
        memcpy(vals[i], head, (size_t)h);
        recs[i] = (sk_record_spec){.key = "key", .key_len = 3, .value = vals[i], .value_len = len, .timestamp = ts + i};
    }
    ck_assert_int_eq(sk_batch_build(w, &spec, recs, n), 0);
    for (int i = 0; i < n; i++)
        free(vals[i]);
}

/* One batch in a fresh heap buffer (caller frees); size in *size. */
static inline uint8_t *test_batch(int n, size_t value_len, int64_t ts, uint32_t seed, size_t *size)
{
    sk_writer w;
    sk_writer_init(&w, 0);
    test_batch_into(&w, n, value_len, ts, seed);
    return sk_writer_take(&w, size);
}

/* Appends one batch and checks it succeeded; returns the append info. */
static inline sk_append_info test_append(sk_partition *p, int n, size_t value_len, int64_t ts, uint32_t seed)
{
    size_t size;
    sk_append_info info;
    uint8_t *b = test_batch(n, value_len, ts, seed, &size);
    ck_assert_int_eq(sk_partition_append(p, b, size, ts, &info), 0);
    free(b);
    return info;
}

/* Size of one test batch of these dimensions. */
static inline size_t test_batch_size(int n, size_t value_len)
{
    size_t size;
    free(test_batch(n, value_len, T0, 0, &size));
    return size;
}

static inline int64_t test_file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (int64_t)st.st_size : -1;
}

static inline int test_exists(const char *path)
{
    return access(path, F_OK) == 0;
}

/* "<dir>/<topic>-<index>/<20-digit base><suffix>" */
static inline void test_seg_path(char *out, size_t n, const char *dir, const char *tp, int64_t base, const char *suffix)
{
    snprintf(out, n, "%s/%s/%020lld%s", dir, tp, (long long)base, suffix);
}

/* Reads the whole readable log of `p` from `from` into a heap buffer by
 * repeated reads; checks every batch's CRC and offset contiguity. Returns the
 * buffer (caller frees) and its size, and the offset reached in *end. */
static inline uint8_t *test_read_all(sk_partition *p, int64_t from, size_t *size, int64_t *end)
{
    sk_writer w;
    sk_writer_init(&w, 0);
    int64_t off = from;
    int64_t hwm = sk_partition_high_watermark(p);
    while (off < hwm) {
        sk_read_result r;
        ck_assert_int_eq(sk_partition_read(p, off, 1 << 20, hwm, &r), 0);
        ck_assert_int_gt(r.slice.length, 0);
        uint8_t *dst = sk_writer_reserve(&w, (size_t)r.slice.length);
        ck_assert_int_eq(sk_log_slice_copy(&r.slice, dst), 0);
        for (int64_t pos = 0; pos < r.slice.length;) {
            sk_batch b;
            ck_assert_int_eq(sk_batch_header_parse(&b, dst + pos, (size_t)(r.slice.length - pos)), 0);
            ck_assert_uint_le(b.size, (size_t)(r.slice.length - pos));
            ck_assert(sk_batch_crc_valid(dst + pos, b.size));
            if (pos == 0)
                ck_assert_int_le(b.base_offset, off);
            else
                ck_assert_int_eq(b.base_offset, off);
            off = sk_batch_last_offset(&b) + 1;
            pos += (int64_t)b.size;
        }
        ck_assert_int_eq(off, r.next_offset);
        off = r.next_offset;
        sk_log_slice_release(&r.slice);
    }
    *end = off;
    return sk_writer_take(&w, size);
}

#endif
