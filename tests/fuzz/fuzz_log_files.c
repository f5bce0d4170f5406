/*
 * libFuzzer target for the readers of untrusted log-directory files
 * (src/log): offset checkpoints, partition.metadata, producer snapshots,
 * .index, .timeindex and .txnindex files, and, through the public
 * sk_logstore_open, whole partition directories as recovery and a clean
 * start read them.
 *
 * Options byte: bits 0-2 the mode, bits 3-7 mode flags.
 *   0  checkpoint text (sk_checkpoint_parse);
 *   1  partition.metadata text (sk_partition_metadata_parse; a topic id that
 *      parses renders back to a text that parses to the same id);
 *   2  producer snapshot (sk_producer_snapshot_parse; flag 3 fixes the CRC):
 *      the state must keep its invariants and render back to the same size;
 *   3  offset index, 4 time index: u32 log size, u32 next offset (relative,
 *      0xffffffff unknown), then the file, opened read-only as a closed
 *      segment's; lookups on an index that passes the sanity check must
 *      answer inside the log;
 *   5  .txnindex of a segment (sk_txn_index_load, then truncate);
 *   6, 7  a partition directory, "fuzz-0" in a log directory: the rest is
 *      entries of u8 kind, u16 big-endian length, bytes. Kind bits 0-3:
 *      0 .log (8-byte base offset, then the bytes), 1 .index, 2 .timeindex,
 *      3 .txnindex (of the segment in kind bits 4-5; a segment without a
 *      .log has base offset 1000 x its number), 4 .snapshot (8-byte offset,
 *      then the bytes), 5 partition.metadata, 6 recovery-point checkpoint,
 *      7 log-start checkpoint. Flag 3 writes the clean-shutdown marker
 *      (trusted start) instead of recovering. The store is opened, every
 *      offset queried, the log read from its start to its end, its aborted
 *      transactions and offsets by timestamp looked up; then it is closed
 *      cleanly (flag 4) and opened again, or closed as by a crash. When the
 *      first open recovered every segment (no marker, no recovery-point
 *      checkpoint), every read must be whole v2 batches and the reopened
 *      log must keep its offsets; a trusted start reads what the files say
 *      (a read starts with a v2 batch header, nothing more).
 * Seeds: tests/data/fuzz/log_files (files of a broker's data dir).
 */
#include <event2/event.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz_util.h"
#include "skiff/arena.h"
#include "skiff/bg.h"
#include "skiff/config.h"
#include "skiff/crc32c.h"
#include "skiff/errors.h"
#include "skiff/fsutil.h"
#include "skiff/trace.h"
#include "skiff/logstore.h"

#define FUZZ_T0 1700000000000LL
#define FUZZ_TOPIC "fuzz"
#define FUZZ_SEGMENTS 4
#define FUZZ_MAX_READS 4096
#define SNAPSHOT_CRC_AT 2 /* producer_state.c: uint32 CRC after the int16 version */
#define SNAPSHOT_CRC_FROM 6

enum { MODE_CHECKPOINT, MODE_METADATA, MODE_SNAPSHOT, MODE_OFFSET_INDEX, MODE_TIME_INDEX, MODE_TXN_INDEX };
enum { F_LOG, F_INDEX, F_TIMEINDEX, F_TXNINDEX, F_SNAPSHOT, F_METADATA, F_RECOVERY_POINT, F_LOG_START };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static char *scratch; /* this process's directory */
static sk_config cfg;
static struct event_base *base;
static sk_bg *bg;

static int64_t fake_clock(void *arg)
{
    (void)arg;
    return FUZZ_T0;
}

static void remove_scratch(void)
{
    fuzz_rm_tree(scratch);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char *args[] = {"fuzz_log_files", NULL};
    fuzz_check(sk_config_load(&cfg, 1, args, NULL) == SK_CONFIG_OK);
    sk_trace_threshold = SK_TRACE_ERROR + 1; /* corrupt files are expected: stay quiet */
    scratch = fuzz_scratch_dir("skiff-fuzz-log");
    atexit(remove_scratch);
    base = event_base_new();
    bg = base ? sk_bg_new(base) : NULL;
    fuzz_check(bg != NULL);
    return 0;
}

static void write_file(const char *path, const uint8_t *p, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    fuzz_check(fd >= 0);
    fuzz_check(n == 0 || sk_pwrite_full(fd, p, n, 0) == 0);
    close(fd);
}

/* ---- Single files ---- */

static void fuzz_checkpoint(const uint8_t *p, size_t n)
{
    sk_checkpoint_entry *e;
    int got = sk_checkpoint_parse((const char *)p, n, &e);
    fuzz_check(got >= -1);
    for (int i = 0; i < got; i++)
        fuzz_check(e[i].topic && e[i].partition >= 0);
    if (got >= 0)
        sk_checkpoint_entries_free(e, got);
}

static void fuzz_metadata(const uint8_t *p, size_t n)
{
    char *text = malloc(n + 1); /* the reader (sk_file_read_all) NUL-terminates */
    fuzz_check(text != NULL);
    memcpy(text, p, n);
    text[n] = '\0';
    uint8_t id[16], again[16];
    if (sk_partition_metadata_parse(text, id) == 0) {
        size_t len;
        char *out = sk_partition_metadata_render(id, &len);
        fuzz_check(out && sk_partition_metadata_parse(out, again) == 0 && !memcmp(id, again, 16));
        free(out);
    }
    free(text);
}

static void fuzz_snapshot(const uint8_t *p, size_t n, bool fix_crc)
{
    uint8_t *buf = malloc(n ? n : 1);
    fuzz_check(buf != NULL);
    memcpy(buf, p, n);
    if (fix_crc && n >= SNAPSHOT_CRC_FROM)
        sk_put_be32(buf + SNAPSHOT_CRC_AT, sk_crc32c(0, buf + SNAPSHOT_CRC_FROM, n - SNAPSHOT_CRC_FROM));
    sk_producer_state ps;
    sk_producer_state_init(&ps);
    if (sk_producer_snapshot_parse(&ps, buf, n) == 0) {
        fuzz_check_producers(&ps);
        size_t len;
        uint8_t *out = sk_producer_snapshot_render(&ps, &len);
        fuzz_check(out != NULL);
        sk_producer_state back;
        sk_producer_state_init(&back);
        fuzz_check(sk_producer_snapshot_parse(&back, out, len) == 0 && back.table.count == ps.table.count);
        fuzz_check_producers(&back);
        sk_producer_state_clear(&back);
        free(out);
    } else {
        fuzz_check(ps.table.count == 0 && ps.txn_head == NULL);
    }
    sk_producer_state_clear(&ps);
    free(buf);
}

/* An index file as a closed segment (base offset 1000) loads it. */
static void fuzz_index(const uint8_t *p, size_t n, bool offsets)
{
    if (n < 8)
        return;
    const int64_t base_offset = 1000;
    int64_t log_size = sk_be32(p);
    uint32_t rel = sk_be32(p + 4);
    int64_t next = rel == UINT32_MAX ? -1 : base_offset + rel;
    char path[4096];
    snprintf(path, sizeof path, "%s/index", scratch);
    write_file(path, p + 8, n - 8);
    sk_index ix;
    sk_index_init(&ix, offsets ? SK_OFFSET_INDEX_ENTRY : SK_TIME_INDEX_ENTRY);
    fuzz_check(sk_index_open(&ix, path, 0, false) == 0);
    fuzz_check(ix.entries == (n - 8) / ix.entry_size && !ix.writable);
    if (offsets && sk_offset_index_sane(&ix, base_offset, next, log_size)) {
        for (int64_t o = base_offset - 1; o < base_offset + 64; o++) {
            int64_t pos = sk_offset_index_lookup(&ix, base_offset, o);
            fuzz_check(pos >= 0 && pos < (log_size > 0 ? log_size : 1));
            int64_t floor = sk_offset_index_floor_position(&ix, base_offset, pos, o);
            fuzz_check(floor >= 0 && floor <= pos);
        }
        fuzz_check(sk_offset_index_last_offset(&ix, base_offset) >= base_offset);
        fuzz_check(sk_offset_index_last_position(&ix) < (log_size > 0 ? log_size : 1));
    } else if (!offsets && sk_time_index_sane(&ix, base_offset, next)) {
        int64_t ts, off;
        sk_time_index_last(&ix, base_offset, &ts, &off);
        fuzz_check(off >= base_offset && (next < 0 || off < next || ix.entries == 0));
        for (int64_t t = -2; t < 64; t++) {
            int64_t target = t;
            if (ts != SK_NO_TIMESTAMP && __builtin_sub_overflow(ts, t, &target))
                target = t < 0 ? INT64_MAX : INT64_MIN;
            int64_t found = sk_time_index_lookup(&ix, base_offset, target);
            fuzz_check(found >= base_offset && (next < 0 || found < next || ix.entries == 0));
        }
    }
    sk_index_close(&ix);
    unlink(path);
}

static void fuzz_txn_index(const uint8_t *p, size_t n)
{
    sk_segment *seg = sk_segment_new(scratch, 0);
    fuzz_check(seg != NULL);
    char path[4096];
    sk_segment_path(seg, ".txnindex", path, sizeof path);
    write_file(path, p, n);
    fuzz_check(sk_txn_index_load(seg) == 0);
    fuzz_check(seg->naborted <= n / SK_TXN_INDEX_ENTRY);
    int64_t cut = seg->naborted ? seg->aborted[seg->naborted / 2].last_offset : 0;
    fuzz_check(sk_txn_index_truncate(seg, cut) == 0);
    for (size_t i = 0; i < seg->naborted; i++)
        fuzz_check(seg->aborted[i].last_offset < cut);
    sk_segment_free(seg);
    unlink(path);
}

/* ---- Whole partition directories ---- */

typedef struct part_files {
    int64_t bases[FUZZ_SEGMENTS];
    bool clean;          /* the clean-shutdown marker is written */
    bool recovery_point; /* a recovery-point checkpoint is written */
} part_files;

/* Writes the entries of `p` as files of `dir` (the partition) and `store`. */
static void write_partition(const char *store, const char *dir, const uint8_t *p, size_t n, part_files *pf)
{
    for (int i = 0; i < FUZZ_SEGMENTS; i++)
        pf->bases[i] = 1000 * i;
    /* First the .log files: they name the segments the other files follow. */
    for (int pass = 0; pass < 2; pass++) {
        sk_reader r;
        sk_reader_init(&r, p, n);
        while (sk_reader_left(&r) > 0) {
            uint8_t kind = (uint8_t)sk_read_i8(&r);
            uint16_t len = sk_read_u16(&r);
            const uint8_t *body = sk_read_raw(&r, len);
            if (r.err)
                break;
            int type = kind & 0x0f, seg = (kind >> 4) & 3;
            char path[4096];
            int64_t off;
            if ((type == F_LOG || type == F_SNAPSHOT) && len < 8)
                continue;
            switch (pass == 0 ? (type == F_LOG ? F_LOG : -1) : type) {
            case F_LOG:
                if (pass == 1)
                    break;
                off = (int64_t)sk_be64(body);
                pf->bases[seg] = off < 0 ? -(off + 1) : off;
                snprintf(path, sizeof path, "%s/%020" PRId64 ".log", dir, pf->bases[seg]);
                write_file(path, body + 8, len - 8u);
                break;
            case F_INDEX:
            case F_TIMEINDEX:
            case F_TXNINDEX:
                snprintf(path, sizeof path, "%s/%020" PRId64 "%s", dir, pf->bases[seg],
                         type == F_INDEX       ? ".index"
                         : type == F_TIMEINDEX ? ".timeindex"
                                               : ".txnindex");
                write_file(path, body, len);
                break;
            case F_SNAPSHOT:
                off = (int64_t)sk_be64(body);
                snprintf(path, sizeof path, "%s/%020" PRId64 ".snapshot", dir, off < 0 ? -(off + 1) : off);
                write_file(path, body + 8, len - 8u);
                break;
            case F_METADATA:
                snprintf(path, sizeof path, "%s/partition.metadata", dir);
                write_file(path, body, len);
                break;
            case F_RECOVERY_POINT:
            case F_LOG_START:
                pf->recovery_point |= type == F_RECOVERY_POINT;
                snprintf(path, sizeof path, "%s/%s", store,
                         type == F_RECOVERY_POINT ? "recovery-point-offset-checkpoint" : "log-start-offset-checkpoint");
                write_file(path, body, len);
                break;
            default:
                break;
            }
        }
    }
    if (pf->clean) {
        char path[4096];
        snprintf(path, sizeof path, "%s/.kafka_cleanshutdown", store);
        write_file(path, NULL, 0);
    }
}

/* The offsets of a loaded partition. */
typedef struct part_offsets {
    int64_t log_start, last_stable, high_watermark, log_end;
} part_offsets;

/* Queries and reads the partition; false when it could not be loaded.
 * `validated`: recovery rebuilt every index, so every read is whole batches
 * (a trusted index may point inside a batch, and reads then follow it, as
 * Kafka's do). */
static bool exercise(sk_partition *p, part_offsets *o, bool validated)
{
    if (sk_partition_ensure_loaded(p) != SK_ERR_NONE)
        return false;
    o->log_end = sk_partition_log_end_offset(p);
    o->log_start = sk_partition_log_start_offset(p);
    o->high_watermark = sk_partition_high_watermark(p);
    o->last_stable = sk_partition_last_stable_offset(p);
    fuzz_check(o->log_start <= o->last_stable && o->last_stable <= o->high_watermark &&
               o->high_watermark <= o->log_end);
    fuzz_check(sk_partition_segment_count(p) >= 1 && sk_partition_size_bytes(p) >= 0);

    int64_t offset = o->log_start;
    for (int reads = 0; offset < o->high_watermark && reads < FUZZ_MAX_READS; reads++) {
        sk_read_result rr;
        if (sk_partition_read(p, offset, 1 << 16, o->high_watermark, &rr) != 0 || rr.slice.length == 0) {
            sk_log_slice_release(&rr.slice);
            break;
        }
        uint8_t *buf = malloc((size_t)rr.slice.length);
        fuzz_check(buf && sk_log_slice_copy(&rr.slice, buf) == 0);
        int64_t at = 0;
        do { /* whole v2 batches, nothing else; the first one at least */
            sk_batch b;
            fuzz_check(sk_batch_header_parse(&b, buf + at, (size_t)(rr.slice.length - at)) == 0);
            fuzz_check(b.magic == SK_BATCH_MAGIC_V2 && b.size >= SK_BATCH_HEADER_SIZE &&
                       (int64_t)b.size <= rr.slice.length - at);
            at += (int64_t)b.size;
        } while (validated && at < rr.slice.length);
        free(buf);
        sk_log_slice_release(&rr.slice);
        if (rr.next_offset <= offset)
            break; /* out-of-order batches in a trusted log: nothing more to learn */
        offset = rr.next_offset;
    }

    sk_arena arena = {0};
    sk_aborted_txn *aborted;
    int32_t naborted;
    if (sk_partition_aborted_txns(p, o->log_start, o->high_watermark, &arena, &aborted, &naborted) == 0)
        fuzz_check(naborted >= 0);
    sk_producer_info *producers;
    int32_t nproducers;
    if (sk_partition_producers(p, &arena, &producers, &nproducers) == 0)
        fuzz_check(nproducers >= 0);
    sk_arena_free(&arena);
    static const int64_t stamps[] = {
        SK_LIST_OFFSETS_LATEST, SK_LIST_OFFSETS_EARLIEST, SK_LIST_OFFSETS_MAX_TIMESTAMP, 0, FUZZ_T0, INT64_MAX};
    for (size_t i = 0; i < sizeof stamps / sizeof *stamps; i++) {
        int64_t off, ts;
        sk_partition_offset_for_timestamp(p, stamps[i], &off, &ts);
    }
    fuzz_check_producers(&p->producers);
    return true;
}

static sk_logstore *open_store(const char *store)
{
    sk_logstore_opts opts = {.now_ms = fake_clock, .bg = bg};
    sk_logstore *s = sk_logstore_open(store, base, &cfg, &opts);
    fuzz_check(s != NULL);
    return s;
}

static void fuzz_partition(const uint8_t *p, size_t n, uint8_t flags)
{
    char store[4096], dir[4096];
    snprintf(store, sizeof store, "%s/store", scratch);
    snprintf(dir, sizeof dir, "%s/" FUZZ_TOPIC "-0", store);
    fuzz_rm_tree(store);
    fuzz_check(sk_mkdirs(dir) == 0);
    part_files pf = {.clean = (flags & 0x08) != 0};
    write_partition(store, dir, p, n, &pf);

    sk_logstore *s = open_store(store);
    sk_partition *part = sk_logstore_find(s, FUZZ_TOPIC, 0);
    fuzz_check(part != NULL);
    part_offsets first;
    bool validated = !pf.clean && !pf.recovery_point; /* every segment recovered */
    bool loaded = exercise(part, &first, validated);
    if (!(flags & 0x10)) {
        sk_logstore_close_unclean(s);
    } else {
        sk_logstore_close(s);
        /* A clean stop keeps every offset where it was. */
        s = open_store(store);
        part = sk_logstore_find(s, FUZZ_TOPIC, 0);
        fuzz_check(part != NULL);
        part_offsets again;
        /* Only a log recovery validated whole (every batch's CRC, offsets
         * increasing) must come back the same: a trusted start reads
         * whatever the files say. */
        if (loaded && validated) {
            fuzz_check(exercise(part, &again, true));
            fuzz_check(again.log_start == first.log_start && again.log_end == first.log_end &&
                       again.last_stable == first.last_stable);
        }
        sk_logstore_close_unclean(s);
    }
    fuzz_rm_tree(store);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    switch (data[0] & 7) {
    case MODE_CHECKPOINT:
        fuzz_checkpoint(p, n);
        break;
    case MODE_METADATA:
        fuzz_metadata(p, n);
        break;
    case MODE_SNAPSHOT:
        fuzz_snapshot(p, n, (data[0] & 0x08) != 0);
        break;
    case MODE_OFFSET_INDEX:
    case MODE_TIME_INDEX:
        fuzz_index(p, n, (data[0] & 7) == MODE_OFFSET_INDEX);
        break;
    case MODE_TXN_INDEX:
        fuzz_txn_index(p, n);
        break;
    default:
        fuzz_partition(p, n, data[0]);
        break;
    }
    return 0;
}
