/*
 * Log cleaner throughput against the disk's own sequential bandwidth.
 *
 * Writes --bytes of 1 KiB records (--record-size) in 16 KiB batches
 * (--batch-size) to a compacted partition whose keys repeat: --distinct
 * percent of the record count are distinct keys, each written about
 * 100/distinct times in a shuffled order. segment.bytes is 64 MiB (--segment),
 * the last batch sits alone in the active segment. Then one cleaner pass
 * (sk_logstore_clean_now, waited for) compacts everything; the time gives
 * MB/s of log read, with bytes read (map building reads the dirty range once,
 * copying reads it again) and written. The baseline, in the same run on the
 * same disk: the log's .log files read sequentially twice before the pass,
 * and as many bytes as the pass wrote written and fsynced after it, with 1 MiB
 * reads and writes; the
 * pass's time against the baseline's is the ratio printed. The process's
 * peak RSS growth during the pass (VmHWM: the key map and buffers) is printed
 * against log.cleaner.dedupe.buffer.size. Produce: 16 KiB batches appended to
 * another partition on the loop thread while the pass runs, then for the
 * same time without it. --io-rate sets log.cleaner.io.max.bytes.per.second.
 *
 *   clean_bench [--dir DIR] [--bytes N] [--record-size N] [--batch-size N]
 *               [--distinct PCT] [--segment N] [--dedupe N] [--io-rate BYTES_PER_S] [--cold 1]
 *
 * Reads are page-cache reads when the data fits in memory (as on the
 * machine in docs/benchmarks.md): the figure is then the cleaner's CPU cost.
 * --cold evicts the log's files from the page cache (posix_fadvise
 * POSIX_FADV_DONTNEED, after a sync) before the baseline's reads and again
 * before the pass, so both read from the disk.
 */
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "skiff/config.h"
#include "skiff/trace.h"
#include "skiff/logstore.h"
#include "skiff/record.h"

typedef struct opts {
    const char *dir;
    int64_t bytes, segment, dedupe;
    const char *io_rate; /* log.cleaner.io.max.bytes.per.second, NULL = none */
    size_t record_size, batch_size;
    int distinct;
    bool cold; /* evict the log from the page cache before the pass and the baseline */
} opts;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int64_t parse_size(const char *s)
{
    char *end;
    double v = strtod(s, &end);
    int64_t mul = *end == 'K' || *end == 'k'   ? 1 << 10
                  : *end == 'M' || *end == 'm' ? 1 << 20
                  : *end == 'G' || *end == 'g' ? 1 << 30
                                               : 1;
    return v > 0 ? (int64_t)(v * (double)mul) : -1;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int64_t vm_hwm_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    int64_t v = -1;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "VmHWM:", 6) == 0)
            v = strtoll(line + 6, NULL, 10);
    if (f)
        fclose(f);
    return v;
}

/* One batch of records with keys from `keys` (k = next key index each). */
static uint8_t *build_batch(const opts *o, uint64_t *rng, int64_t nkeys, size_t *size)
{
    size_t n = o->batch_size / o->record_size;
    sk_record_spec *recs = calloc(n, sizeof *recs);
    char(*keys)[24] = calloc(n, sizeof *keys);
    char *value = malloc(o->record_size);
    memset(value, 'v', o->record_size);
    for (size_t i = 0; i < n; i++) {
        *rng = *rng * 6364136223846793005ULL + 1442695040888963407ULL;
        int len = snprintf(keys[i], sizeof keys[i], "key-%" PRId64, (int64_t)((*rng >> 33) % (uint64_t)nkeys));
        recs[i] = (sk_record_spec){.key = keys[i],
                                   .key_len = (size_t)len,
                                   .value = value,
                                   .value_len = o->record_size - 40,
                                   .timestamp = 1700000000000LL};
    }
    sk_batch_spec spec = {.producer_id = -1, .producer_epoch = -1, .base_sequence = -1};
    sk_writer w;
    sk_writer_init(&w, o->batch_size + 4096);
    sk_batch_build(&w, &spec, recs, (int32_t)n);
    free(recs);
    free(keys);
    free(value);
    return sk_writer_take(&w, size);
}

/* Calls fn(fd, arg) with every .log file of `pdir` open for reading. */
static void each_log(const char *pdir, void (*fn)(int fd, void *arg), void *arg)
{
    char path[8400];
    DIR *d = opendir(pdir);
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL) {
        size_t n = strlen(de->d_name);
        if (n < 4 || strcmp(de->d_name + n - 4, ".log") != 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", pdir, de->d_name);
        int fd = open(path, O_RDONLY);
        if (fd >= 0) {
            fn(fd, arg);
            close(fd);
        }
    }
    if (d)
        closedir(d);
}

static void read_all(int fd, void *buf)
{
    while (read(fd, buf, 1 << 20) > 0) {
    }
}

static void evict(int fd, void *unused)
{
    (void)unused;
    posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
}

/* Drops the .log files of `pdir` from the page cache (--cold). */
static void evict_logs(const char *pdir)
{
    sync();
    each_log(pdir, evict, NULL);
}

/* Reads every .log of `pdir` twice, as the pass reads its dirty range (run
 * before the pass, while the .log files are still the input). Returns
 * seconds. */
static double baseline_read(const char *pdir)
{
    uint8_t *buf = malloc(1 << 20);
    double t0 = now_s();
    for (int round = 0; round < 2; round++)
        each_log(pdir, read_all, buf);
    free(buf);
    return now_s() - t0;
}

/* Writes and fsyncs `out_bytes` in 1 MiB writes, as the pass writes its
 * output. Returns seconds. */
static double baseline_write(const char *pdir, int64_t out_bytes)
{
    char path[8400];
    size_t chunk = 1 << 20;
    uint8_t *buf = malloc(chunk);
    memset(buf, 'b', chunk);
    sync(); /* the produce runs' writeback is not the baseline's */
    double t0 = now_s();
    snprintf(path, sizeof path, "%s/baseline.out", pdir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    for (int64_t left = out_bytes; fd >= 0 && left > 0;) {
        size_t n = left < (int64_t)chunk ? (size_t)left : chunk;
        if (write(fd, buf, n) != (ssize_t)n)
            break;
        left -= (int64_t)n;
    }
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    unlink(path);
    free(buf);
    return now_s() - t0;
}

/* Appends 16 KiB batches to `p` for as long as the pass on `s` runs (its
 * completion is taken from `base`, polled every 4 MiB), or, with `s` NULL,
 * for `secs` seconds; returns MB/s. */
static double append_mbps(sk_partition *p, const opts *o, uint64_t *rng, sk_logstore *s, struct event_base *base,
                          double secs_alone)
{
    size_t size;
    uint8_t *b = build_batch(o, rng, 1000, &size);
    uint8_t *copy = malloc(size);
    int64_t bytes = 0;
    double t0 = now_s();
    sk_cleaner_stats st = {.running = s != NULL};
    while (s ? st.running : now_s() - t0 < secs_alone) {
        memcpy(copy, b, size);
        sk_append_info info;
        if (sk_partition_append(p, copy, size, 1700000000000LL, &info) != 0)
            break;
        bytes += (int64_t)size;
        if (s && bytes % (4 << 20) < (int64_t)size) {
            event_base_loop(base, EVLOOP_NONBLOCK);
            sk_logstore_cleaner_stats(s, &st);
        }
    }
    double secs = now_s() - t0;
    free(copy);
    free(b);
    return bytes / 1e6 / secs;
}

int main(int argc, char **argv)
{
    opts o = {.bytes = 1LL << 30,
              .segment = 64LL << 20,
              .dedupe = 128LL << 20,
              .record_size = 1024,
              .batch_size = 16384,
              .distinct = 10};
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *a = argv[i], *v = argv[i + 1];
        if (!strcmp(a, "--dir"))
            o.dir = v;
        else if (!strcmp(a, "--bytes"))
            o.bytes = parse_size(v);
        else if (!strcmp(a, "--record-size"))
            o.record_size = (size_t)parse_size(v);
        else if (!strcmp(a, "--batch-size"))
            o.batch_size = (size_t)parse_size(v);
        else if (!strcmp(a, "--distinct"))
            o.distinct = atoi(v);
        else if (!strcmp(a, "--segment"))
            o.segment = parse_size(v);
        else if (!strcmp(a, "--dedupe"))
            o.dedupe = parse_size(v);
        else if (!strcmp(a, "--io-rate"))
            o.io_rate = v;
        else if (!strcmp(a, "--cold"))
            o.cold = atoi(v) != 0;
        else {
            fprintf(stderr,
                    "usage: %s [--dir DIR] [--bytes N] [--record-size N] [--batch-size N] "
                    "[--distinct PCT] [--segment N] [--dedupe N] [--io-rate BYTES_PER_S] [--cold 1]\n",
                    argv[0]);
            return 2;
        }
    }
    char tmpl[] = "/tmp/skiff-clean-bench-XXXXXX";
    const char *dir = o.dir ? o.dir : mkdtemp(tmpl);
    sk_config cfg;
    char *cfg_argv[] = {argv[0], NULL}, *cfg_envp[] = {NULL};
    if (!dir || sk_config_load(&cfg, 1, cfg_argv, cfg_envp) != SK_CONFIG_OK)
        return 1;
    cfg.log_cleaner_enable = false;
    cfg.log_cleaner_dedupe_buffer_size = o.dedupe;
    if (o.io_rate)
        cfg.log_cleaner_io_max_bytes_per_second = (char *)o.io_rate;
    sk_trace_threshold = SK_TRACE_WARN;
    struct event_base *base = event_base_new();
    sk_logstore *s = sk_logstore_open(dir, base, &cfg, NULL);
    sk_log_config lc;
    sk_log_config_from_broker(&lc, &cfg);
    lc.compact = true;
    lc.retention_ms = -1;
    lc.segment_bytes = o.segment;
    sk_partition *p;
    if (!s || sk_logstore_create_partition(s, "bench", 0, NULL, &lc, &p) != 0)
        return 1;
    int64_t records = o.bytes / (int64_t)o.record_size;
    int64_t nkeys = records * o.distinct / 100;
    uint64_t rng = 42;
    int64_t written = 0;
    while (written < o.bytes) {
        size_t size;
        uint8_t *b = build_batch(&o, &rng, nkeys > 0 ? nkeys : 1, &size);
        sk_append_info info;
        if (sk_partition_append(p, b, size, 1700000000000LL, &info) != 0)
            return 1;
        written += (int64_t)size;
        free(b);
    }
    sk_partition_roll(p);
    int64_t log_bytes = sk_partition_size_bytes(p);
    sk_bg_drain(sk_logstore_bg(s));
    sync();

    /* Produce throughput to another partition on the loop thread while the
     * pass runs on the cleaner's thread, then for as long without it. */
    sk_log_config plain;
    sk_log_config_from_broker(&plain, &cfg);
    plain.file_delete_delay_ms = 0;
    sk_partition *other;
    if (sk_logstore_create_partition(s, "other", 0, NULL, &plain, &other) != 0)
        return 1;
    char pdir[4200];
    snprintf(pdir, sizeof pdir, "%s/bench-0", dir);
    if (o.cold)
        evict_logs(pdir);
    double read_secs = baseline_read(pdir);
    if (o.cold)
        evict_logs(pdir);
    int64_t hwm0 = vm_hwm_kib();
    double t0 = now_s();
    if (sk_logstore_clean_now(p) != 1)
        return 1;
    double during = append_mbps(other, &o, &rng, s, base, 0);
    sk_bg_drain(sk_logstore_bg(s));
    double secs = now_s() - t0;
    int64_t hwm1 = vm_hwm_kib();
    /* The same time of produce without the pass (the same page-cache and
     * writeback conditions). */
    sk_logstore_delete_partition(s, other);
    sync();
    if (sk_logstore_create_partition(s, "other2", 0, NULL, &plain, &other) != 0)
        return 1;
    double alone = append_mbps(other, &o, &rng, NULL, NULL, secs);
    sk_cleaner_stats st;
    sk_logstore_cleaner_stats(s, &st);

    double write_secs = baseline_write(pdir, st.bytes_written), base_secs = read_secs + write_secs;
    printf("log %.1f MB (%" PRId64 " records, %" PRId64 " distinct keys), cleaned in %.2f s\n", log_bytes / 1e6,
           records, nkeys, secs);
    printf("pass: read %.1f MB, wrote %.1f MB, removed %" PRId64 " records: %.1f MB/s of log\n", st.bytes_read / 1e6,
           st.bytes_written / 1e6, st.records_removed, log_bytes / 1e6 / secs);
    printf("baseline (read the log twice %.2f s, write and fsync the output %.2f s): %.2f s; "
           "pass / baseline speed %.0f%%\n",
           read_secs, write_secs, base_secs, 100.0 * base_secs / secs);
    printf("produce to another partition: %.0f MB/s alone, %.0f MB/s while the pass runs (%.0f%%)\n", alone, during,
           100.0 * during / alone);
    printf("peak RSS growth during the pass %.1f MiB; dedupe buffer %.1f MiB\n", (hwm1 - hwm0) / 1024.0,
           o.dedupe / 1048576.0);
    sk_logstore_close(s);
    event_base_free(base);
    if (!o.dir)
        nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}
