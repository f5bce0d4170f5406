/*
 * Log store throughput against the disk's own sequential bandwidth.
 *
 * Writes --bytes of record batches (--record-size records in --batch-size
 * batches, uncompressed, built once; whole batches only, so the default 1 GiB
 * stays inside one 1 GiB segment) through sk_partition_append with the
 * broker's default log settings, then reads them back with sk_partition_read
 * (1 MiB max bytes, slices copied out with pread). The baseline does the same
 * I/O to a plain file with the same fsync behaviour: one write(2) per batch,
 * an fsync every segment.bytes and at the end (the store fsyncs a segment when
 * it rolls and everything at close), and 1 MiB preads back. Prints MB/s
 * (10^6 bytes) and the store/baseline ratio.
 *
 *   log_bench [--dir DIR] [--bytes N] [--record-size N] [--batch-size N] [--runs N]
 *   log_bench --partitions N [--dir DIR]
 *
 * The second form measures start-up instead: N partitions with one record
 * each; the time to open after a clean shutdown (lazy loading), to load them
 * all on first use, to open after a crash (every partition recovered) and to
 * close cleanly (one syncfs).
 *
 * Each of --runs rounds (default 3) runs the baseline then the store; the
 * medians are printed, which tames a shared machine's noise. DIR (new or
 * empty) defaults to a new directory under /tmp, removed afterwards. Reads
 * run right after the writes, so both read figures are page-cache reads.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "skiff/config.h"
#include "skiff/errors.h"
#include "skiff/trace.h"
#include "skiff/logstore.h"
#include "skiff/record.h"

typedef struct bench_opts {
    const char *dir;
    int64_t bytes;
    size_t record_size;
    size_t batch_size;
    int runs;
    int partitions; /* > 0: the start-up measurement */
} bench_opts;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double mbps(int64_t bytes, double secs)
{
    return secs > 0 ? (double)bytes / 1e6 / secs : 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int64_t parse_size(const char *s)
{
    char *end;
    double v = strtod(s, &end);
    switch (*end) {
    case 'k':
    case 'K':
        v *= 1024;
        break;
    case 'm':
    case 'M':
        v *= 1024 * 1024;
        break;
    case 'g':
    case 'G':
        v *= 1024.0 * 1024 * 1024;
        break;
    default:
        break;
    }
    return (int64_t)v;
}

static int parse_args(int argc, char **argv, bench_opts *o)
{
    *o = (bench_opts){.bytes = 1LL << 30, .record_size = 1024, .batch_size = 16384, .runs = 3};
    for (int i = 1; i < argc; i += 2) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) {
            fprintf(stderr, "%s needs a value\n", a);
            return -1;
        }
        if (strcmp(a, "--dir") == 0)
            o->dir = v;
        else if (strcmp(a, "--bytes") == 0)
            o->bytes = parse_size(v);
        else if (strcmp(a, "--record-size") == 0)
            o->record_size = (size_t)parse_size(v);
        else if (strcmp(a, "--batch-size") == 0)
            o->batch_size = (size_t)parse_size(v);
        else if (strcmp(a, "--runs") == 0)
            o->runs = atoi(v);
        else if (strcmp(a, "--partitions") == 0)
            o->partitions = atoi(v);
        else {
            fprintf(stderr,
                    "usage: %s [--dir DIR] [--bytes N] [--record-size N] [--batch-size N] [--runs N]\n"
                    "       %s --partitions N [--dir DIR]\n",
                    argv[0], argv[0]);
            return -1;
        }
    }
    if (o->record_size < 16 || o->batch_size < o->record_size || o->bytes <= 0 || o->runs < 1 || o->runs > 99) {
        fprintf(stderr, "need record-size >= 16, batch-size >= record-size, bytes > 0, 1 <= runs <= 99\n");
        return -1;
    }
    return 0;
}

/* One batch of batch_size / record_size records whose key + value make
 * record_size bytes. */
static uint8_t *build_batch(const bench_opts *o, int64_t ts, size_t *size)
{
    int32_t n = (int32_t)(o->batch_size / o->record_size);
    size_t value_len = o->record_size - 8;
    uint8_t *value = malloc(value_len);
    for (size_t i = 0; i < value_len; i++)
        value[i] = (uint8_t)(i * 131 + 7);
    sk_record_spec *recs = calloc((size_t)n, sizeof *recs);
    for (int32_t i = 0; i < n; i++)
        recs[i] =
            (sk_record_spec){.key = "benchkey", .key_len = 8, .value = value, .value_len = value_len, .timestamp = ts};
    sk_batch_spec spec = {.producer_id = -1, .producer_epoch = -1, .base_sequence = -1};
    sk_writer w;
    sk_writer_init(&w, o->batch_size + 4096);
    sk_batch_build(&w, &spec, recs, n);
    free(recs);
    free(value);
    return sk_writer_take(&w, size);
}

static void print_machine(const char *dir)
{
    struct utsname u;
    char model[256] = "unknown";
    FILE *fp = fopen("/proc/cpuinfo", "r");
    char line[512];
    while (fp && fgets(line, sizeof line, fp)) {
        if (strncmp(line, "model name", 10) == 0) {
            char *c = strchr(line, ':');
            if (c) {
                snprintf(model, sizeof model, "%s", c + 2);
                model[strcspn(model, "\n")] = '\0';
            }
            break;
        }
    }
    if (fp)
        fclose(fp);
    uname(&u);
    printf("machine: %s, %ld CPUs, %s %s\n", model, sysconf(_SC_NPROCESSORS_ONLN), u.sysname, u.release);
    printf("dir:     %s\n", dir);
}

typedef struct result {
    double append_s; /* appends only (page cache) */
    double write_s;  /* appends + final fsync */
    double read_s;
    int64_t bytes;
} result;

static int write_full(int fd, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* The disk's own sequential bandwidth with the store's write pattern. */
static int run_baseline(const bench_opts *o, const char *dir, const uint8_t *batch, size_t bsize, int64_t segment_bytes,
                        result *r)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/baseline.bin", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    double t0 = now_s();
    int64_t written = 0, since_sync = 0;
    while (written + (int64_t)bsize <= o->bytes) {
        if (since_sync + (int64_t)bsize > segment_bytes) {
            fsync(fd);
            since_sync = 0;
        }
        if (write_full(fd, batch, bsize) < 0)
            return -1;
        written += (int64_t)bsize;
        since_sync += (int64_t)bsize;
    }
    r->append_s = now_s() - t0;
    fsync(fd);
    r->write_s = now_s() - t0;
    r->bytes = written;

    enum { CHUNK = 1 << 20 };
    uint8_t *buf = malloc(CHUNK);
    t0 = now_s();
    for (int64_t pos = 0; pos < written; pos += CHUNK) {
        size_t n = written - pos < CHUNK ? (size_t)(written - pos) : CHUNK;
        if (pread(fd, buf, n, pos) != (ssize_t)n)
            return -1;
    }
    r->read_s = now_s() - t0;
    free(buf);
    close(fd);
    unlink(path);
    return 0;
}

static int run_store(const bench_opts *o, const char *dir, const sk_config *cfg, const uint8_t *batch, size_t bsize,
                     result *r)
{
    char sdir[4096];
    snprintf(sdir, sizeof sdir, "%s/store", dir);
    struct event_base *base = event_base_new();
    sk_logstore *s = sk_logstore_open(sdir, base, cfg, NULL);
    sk_partition *p;
    if (!s || sk_logstore_create_partition(s, "bench", 0, NULL, NULL, &p) != 0)
        return -1;
    uint8_t *buf = malloc(bsize);
    int64_t now = sk_logstore_now(s);
    double t0 = now_s();
    int64_t written = 0;
    while (written + (int64_t)bsize <= o->bytes) {
        /* The append rewrites the header in place: give it a fresh copy, as
         * a request frame would be. */
        memcpy(buf, batch, bsize);
        int16_t err = sk_partition_append(p, buf, bsize, now, NULL);
        if (err != 0) {
            fprintf(stderr, "append failed: error %d\n", err);
            return -1;
        }
        written += (int64_t)bsize;
    }
    r->append_s = now_s() - t0;
    sk_logstore_close(s); /* fsync of everything, checkpoints, marker */
    r->write_s = now_s() - t0;
    r->bytes = written;
    free(buf);

    s = sk_logstore_open(sdir, base, cfg, NULL);
    p = s ? sk_logstore_find(s, "bench", 0) : NULL;
    if (!p || sk_partition_ensure_loaded(p) != SK_ERR_NONE)
        return -1;
    enum { MAX_BYTES = 1 << 20 };
    uint8_t *out = malloc(MAX_BYTES + bsize);
    int64_t off = 0, got = 0, hwm = sk_partition_high_watermark(p);
    t0 = now_s();
    while (off < hwm) {
        sk_read_result rr;
        if (sk_partition_read(p, off, MAX_BYTES, hwm, &rr) != 0 || rr.slice.length == 0 ||
            sk_log_slice_copy(&rr.slice, out) < 0)
            return -1;
        got += rr.slice.length;
        off = rr.next_offset;
        sk_log_slice_release(&rr.slice);
    }
    r->read_s = now_s() - t0;
    free(out);
    sk_logstore_close(s);
    event_base_free(base);
    nftw(sdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return got == written ? 0 : -1;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median MB/s of one measure over the runs. */
static double median_mbps(const result *r, int n, size_t field)
{
    double v[99];
    for (int i = 0; i < n; i++)
        v[i] = mbps(r[i].bytes, *(const double *)((const char *)&r[i] + field));
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void print_row(const char *name, const result *base, const result *store, int n, size_t field)
{
    double a = median_mbps(base, n, field), b = median_mbps(store, n, field);
    printf("%-34s %9.0f MB/s %7.0f MB/s %7.2fx\n", name, a, b, b / a);
}

/* Partition i is topic "t<i / 10>", index i % 10. */
/* Partition i of the store, loaded (its first use after an open). NULL
 * when it cannot be. */
static sk_partition *nth_partition(sk_logstore *s, int i)
{
    char topic[32];
    snprintf(topic, sizeof topic, "t%d", i / 10);
    sk_partition *p = sk_logstore_find(s, topic, i % 10);
    return p && sk_partition_ensure_loaded(p) == SK_ERR_NONE ? p : NULL;
}

static int run_startup(const bench_opts *o, const char *dir, const sk_config *cfg)
{
    char sdir[4096];
    snprintf(sdir, sizeof sdir, "%s/store", dir);
    struct event_base *base = event_base_new();
    sk_logstore *s = sk_logstore_open(sdir, base, cfg, NULL);
    if (!s)
        return -1;
    size_t bsize;
    bench_opts one = *o;
    one.record_size = one.batch_size = 64;
    uint8_t *batch = build_batch(&one, sk_logstore_now(s), &bsize);
    double t0 = now_s();
    for (int i = 0; i < o->partitions; i++) {
        char topic[32];
        sk_partition *p;
        snprintf(topic, sizeof topic, "t%d", i / 10);
        uint8_t *copy = malloc(bsize);
        memcpy(copy, batch, bsize);
        if (sk_logstore_create_partition(s, topic, i % 10, NULL, NULL, &p) != 0 ||
            sk_partition_append(p, copy, bsize, sk_logstore_now(s), NULL) != 0)
            return -1;
        free(copy);
    }
    double create_s = now_s() - t0;
    t0 = now_s();
    sk_logstore_close(s);
    double close_s = now_s() - t0;

    t0 = now_s();
    s = sk_logstore_open(sdir, base, cfg, NULL);
    double open_clean_s = now_s() - t0;
    t0 = now_s();
    int64_t total = 0;
    for (int i = 0; s && i < o->partitions; i++) {
        sk_partition *p = nth_partition(s, i);
        if (!p)
            return -1;
        total += sk_partition_log_end_offset(p);
    }
    double touch_s = now_s() - t0;
    if (!s || total != o->partitions)
        return -1;
    sk_logstore_close_unclean(s);

    t0 = now_s();
    s = sk_logstore_open(sdir, base, cfg, NULL);
    double open_crash_s = now_s() - t0;
    sk_partition *last = s ? nth_partition(s, o->partitions - 1) : NULL;
    if (!last || sk_partition_log_end_offset(last) != 1)
        return -1;
    t0 = now_s();
    sk_logstore_close(s);
    double close2_s = now_s() - t0;

    printf("%d partitions, one record each\n", o->partitions);
    printf("  create + append:                    %8.3f s\n", create_s);
    printf("  clean close (syncfs, checkpoints):  %8.3f s\n", close_s);
    printf("  open after a clean shutdown:        %8.3f s\n", open_clean_s);
    printf("  first use of every partition:       %8.3f s\n", touch_s);
    printf("  open after a crash (recover all):   %8.3f s\n", open_crash_s);
    printf("  clean close after recovery:         %8.3f s\n", close2_s);
    free(batch);
    event_base_free(base);
    nftw(sdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}

int main(int argc, char **argv)
{
    bench_opts o;
    if (parse_args(argc, argv, &o) < 0)
        return 2;
    char *cfg_argv[] = {argv[0], NULL};
    char *cfg_envp[] = {NULL};
    sk_config cfg;
    if (sk_config_load(&cfg, 1, cfg_argv, cfg_envp) != SK_CONFIG_OK)
        return 2;
    sk_trace_threshold = SK_TRACE_WARN;

    char tmpl[] = "/tmp/skiff-log-bench-XXXXXX";
    const char *dir = o.dir;
    if (!dir && !(dir = mkdtemp(tmpl))) {
        perror("mkdtemp");
        return 1;
    }
    print_machine(dir);
    if (o.partitions > 0) {
        int rc = run_startup(&o, dir, &cfg);
        if (rc < 0)
            fprintf(stderr, "benchmark failed\n");
        sk_config_free(&cfg);
        if (!o.dir)
            nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
        return rc < 0;
    }
    size_t bsize;
    uint8_t *batch = build_batch(&o, (int64_t)time(NULL) * 1000, &bsize);
    printf("data:    %" PRId64 " MiB in %zu-byte batches of %zu records of %zu bytes, segment.bytes %" PRId64
           ", flush by roll and close\n\n",
           o.bytes >> 20, bsize, o.batch_size / o.record_size, o.record_size, cfg.log_segment_bytes);

    result base_r[99], store_r[99];
    for (int i = 0; i < o.runs; i++) {
        if (run_baseline(&o, dir, batch, bsize, cfg.log_segment_bytes, &base_r[i]) < 0 ||
            run_store(&o, dir, &cfg, batch, bsize, &store_r[i]) < 0) {
            fprintf(stderr, "benchmark failed: %s\n", strerror(errno));
            return 1;
        }
    }
    printf("median of %d runs                  %12s %12s %8s\n", o.runs, "plain file", "log store", "ratio");
    print_row("write (page cache, no final fsync)", base_r, store_r, o.runs, offsetof(result, append_s));
    print_row("write + fsync (durable)", base_r, store_r, o.runs, offsetof(result, write_s));
    print_row("read 1 MiB chunks (page cache)", base_r, store_r, o.runs, offsetof(result, read_s));

    free(batch);
    sk_config_free(&cfg);
    if (!o.dir)
        nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}
