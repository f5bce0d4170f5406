/*
 * Random operation sequences against one partition (the shape of Redpanda's
 * storage opfuzz): appends, rolls, clean close + reopen, crashes with a torn
 * or garbage tail, reads, DeleteRecords, retention and flushes, from fixed
 * seeds, with two idempotent producers that also write transactions and
 * their markers. After every step: log start <= last stable offset <= high
 * watermark = log end, recovery point <= log end, every loaded index sane
 * (monotonic, inside its segment), the last stable offset and the aborted
 * transactions (.txnindex) equal to what the model says; reads and periodic
 * full scans check every batch's CRC, offset contiguity and each record's
 * value against a model of what was appended.
 */
#include "test_log_util.h"

#include "../../src/log/log_int.h"
#include "skiff/errors.h"
#include "skiff/trace.h"
#include "unit_run.h"

enum { REC_PLAIN, REC_IDEMPOTENT, REC_TXN, REC_COMMIT, REC_ABORT };

typedef struct model_rec {
    uint32_t seed; /* the batch's seed */
    int32_t index; /* the record's index in its batch */
    int kind;      /* REC_*: plain, producer data (outside or in a transaction), marker */
    int64_t pid;   /* producer (1 or 2) of the producer kinds */
} model_rec;

#define NPRODUCERS 3 /* producer ids 1 and 2 */

/* What the model says about producers at the log end. */
typedef struct model_state {
    int64_t open[NPRODUCERS];     /* first offset of the open transaction, -1 */
    int32_t next_seq[NPRODUCERS]; /* next sequence */
    sk_aborted_txn aborted[4096]; /* every aborted transaction, in marker order */
    int naborted;
} model_state;

typedef struct fuzz {
    uint64_t rng;
    char *dir;
    struct event_base *base;
    sk_config cfg;
    sk_log_config lc;
    test_clock clock;
    sk_logstore *store;
    sk_partition *p;
    model_rec *model; /* by offset, [0, log end) */
    size_t model_cap;
    uint32_t next_seed;
    int crashes, reopens, rolls, appends, reads;
} fuzz;

static uint32_t rnd(fuzz *f, uint32_t n)
{
    f->rng ^= f->rng << 13;
    f->rng ^= f->rng >> 7;
    f->rng ^= f->rng << 17;
    return n ? (uint32_t)(f->rng % n) : 0;
}

static bool fuzz_topic_config(void *arg, const char *topic, sk_log_config *out)
{
    (void)topic;
    *out = ((fuzz *)arg)->lc;
    return true;
}

static void fuzz_open(fuzz *f)
{
    sk_logstore_opts opts = {
        .now_ms = test_clock_now, .clock_arg = &f->clock, .topic_config = fuzz_topic_config, .topic_config_arg = f};
    f->store = sk_logstore_open(f->dir, f->base, &f->cfg, &opts);
    ck_assert_ptr_nonnull(f->store);
    f->p = sk_logstore_find(f->store, "fz", 0);
    ck_assert_ptr_nonnull(f->p);
    ck_assert_int_eq(sk_partition_ensure_loaded(f->p), SK_ERR_NONE);
}

static void model_set(fuzz *f, int64_t off, uint32_t seed, int32_t index, int kind, int64_t pid)
{
    if ((size_t)off >= f->model_cap) {
        f->model_cap = f->model_cap ? f->model_cap * 2 : 1024;
        f->model = realloc(f->model, f->model_cap * sizeof *f->model);
    }
    f->model[off] = (model_rec){seed, index, kind, pid};
}

/* Replays the model up to the log end (Kafka's rules, as the log must). */
static void model_scan(fuzz *f, model_state *st)
{
    int64_t leo = sk_partition_log_end_offset(f->p);
    memset(st, 0, sizeof *st);
    for (int i = 0; i < NPRODUCERS; i++)
        st->open[i] = -1;
    for (int64_t off = 0; off < leo; off++) {
        const model_rec *m = &f->model[off];
        if (m->kind == REC_IDEMPOTENT || m->kind == REC_TXN) {
            st->next_seq[m->pid]++;
            if (m->kind == REC_TXN && st->open[m->pid] < 0)
                st->open[m->pid] = off;
        } else if ((m->kind == REC_COMMIT || m->kind == REC_ABORT) && st->open[m->pid] >= 0) {
            int64_t first = st->open[m->pid];
            st->open[m->pid] = -1;
            if (m->kind == REC_ABORT) {
                int64_t lso = off + 1;
                for (int i = 1; i < NPRODUCERS; i++)
                    if (st->open[i] >= 0 && st->open[i] < lso)
                        lso = st->open[i];
                ck_assert_int_lt(st->naborted, 4096);
                st->aborted[st->naborted++] = (sk_aborted_txn){m->pid, first, off, lso};
            }
        }
    }
}

/* Checks one batch read back: CRC, and every record's value against the model. */
static void check_batch(fuzz *f, const uint8_t *data, size_t size)
{
    sk_batch b;
    ck_assert_int_eq(sk_batch_header_parse(&b, data, size), 0);
    ck_assert_uint_eq(b.size, size);
    ck_assert(sk_batch_crc_valid(data, size));
    if (b.attributes & SK_BATCH_CONTROL) {
        int kind = f->model[b.base_offset].kind;
        ck_assert(kind == REC_COMMIT || kind == REC_ABORT);
        ck_assert_int_eq(b.producer_id, f->model[b.base_offset].pid);
        return;
    }
    sk_record_iter it;
    sk_record rec;
    sk_record_iter_init(&it, &b);
    int n = 0;
    while (sk_record_next(&it, &rec) == 1) {
        int64_t off = b.base_offset + rec.offset_delta;
        ck_assert_int_lt(off, sk_partition_log_end_offset(f->p));
        char want[32];
        int w = snprintf(want, sizeof want, "v%u-%d", f->model[off].seed, f->model[off].index);
        ck_assert_int_ge(rec.value_len, w);
        ck_assert_mem_eq(rec.value, want, (size_t)w);
        n++;
    }
    ck_assert_int_eq(n, b.record_count);
}

static void check_invariants(fuzz *f)
{
    sk_partition *p = f->p;
    int64_t ls = sk_partition_log_start_offset(p);
    int64_t hwm = sk_partition_high_watermark(p);
    int64_t leo = sk_partition_log_end_offset(p);
    ck_assert_int_le(0, ls);
    ck_assert_int_le(ls, hwm);
    ck_assert_int_eq(hwm, leo);
    ck_assert_int_le(sk_partition_recovery_point(p), leo);
    ck_assert_uint_ge(p->nsegs, 1);

    /* Transactions: the last stable offset and the aborted ones. */
    model_state st;
    model_scan(f, &st);
    int64_t lso = leo;
    for (int i = 1; i < NPRODUCERS; i++)
        if (st.open[i] >= 0 && st.open[i] < lso)
            lso = st.open[i];
    ck_assert_int_eq(sk_partition_last_stable_offset(p), lso > ls ? lso : ls);
    sk_arena arena = {0};
    sk_aborted_txn *a;
    int32_t n;
    ck_assert_int_eq(sk_partition_aborted_txns(p, ls, leo + 1, &arena, &a, &n), SK_ERR_NONE);
    int k = 0;
    for (int i = 0; i < st.naborted; i++) {
        if (st.aborted[i].last_offset < ls)
            continue;
        ck_assert_int_lt(k, n);
        ck_assert_int_eq(a[k].producer_id, st.aborted[i].producer_id);
        ck_assert_int_eq(a[k].first_offset, st.aborted[i].first_offset);
        ck_assert_int_eq(a[k].last_offset, st.aborted[i].last_offset);
        ck_assert_int_eq(a[k].last_stable_offset, st.aborted[i].last_stable_offset);
        k++;
    }
    ck_assert_int_eq(k, n);
    sk_arena_free(&arena);
    for (size_t i = 0; i < p->nsegs; i++) {
        sk_segment *seg = p->segs[i];
        int64_t end = i + 1 < p->nsegs ? p->segs[i + 1]->base_offset : leo;
        ck_assert_int_le(seg->base_offset, end);
        if (i + 1 == p->nsegs)
            ck_assert(seg->active);
        if (!seg->indexes_loaded)
            continue;
        ck_assert(sk_offset_index_sane(&seg->offset_index, seg->base_offset, end, seg->size));
        ck_assert(sk_time_index_sane(&seg->time_index, seg->base_offset, end));
    }
}

static void full_scan(fuzz *f)
{
    size_t n;
    int64_t end;
    int64_t ls = sk_partition_log_start_offset(f->p);
    uint8_t *all = test_read_all(f->p, ls, &n, &end);
    ck_assert_int_eq(end, sk_partition_log_end_offset(f->p));
    for (size_t pos = 0; pos < n;) {
        sk_batch b;
        sk_batch_header_parse(&b, all + pos, n - pos);
        check_batch(f, all + pos, b.size);
        pos += b.size;
    }
    free(all);
}

static void op_append(fuzz *f)
{
    sk_writer w;
    sk_writer_init(&w, 0);
    int nb = 1 + (int)rnd(f, 3);
    int64_t off = sk_partition_log_end_offset(f->p);
    uint32_t seeds[3];
    int counts[3];
    for (int i = 0; i < nb; i++) {
        seeds[i] = f->next_seed++;
        counts[i] = 1 + (int)rnd(f, 5);
        test_batch_into(&w, counts[i], rnd(f, 300), f->clock.now - rnd(f, 50), seeds[i]);
    }
    sk_append_info info;
    ck_assert_int_eq(sk_partition_append(f->p, w.buf, w.len, f->clock.now, &info), SK_ERR_NONE);
    ck_assert_int_eq(info.base_offset, off);
    for (int i = 0; i < nb; i++)
        for (int r = 0; r < counts[i]; r++)
            model_set(f, off++, seeds[i], r, REC_PLAIN, -1);
    ck_assert_int_eq(info.last_offset, off - 1);
    sk_writer_free(&w);
    f->appends++;
}

/* A batch of producer 1 or 2: a transactional one (opening a transaction
 * or in it), an idempotent one outside transactions, sometimes the retry of
 * the previous batch (a duplicate) or a non-transactional batch inside a
 * transaction (refused). */
static void op_producer(fuzz *f)
{
    model_state st;
    model_scan(f, &st);
    int64_t pid = 1 + rnd(f, 2);
    bool txn = st.open[pid] >= 0 || rnd(f, 2);
    bool misfit = st.open[pid] >= 0 && rnd(f, 8) == 0;
    int n = 1 + (int)rnd(f, 4);
    uint32_t seed = f->next_seed++;
    sk_record_spec recs[4];
    char vals[4][32];
    for (int i = 0; i < n; i++) {
        int len = snprintf(vals[i], sizeof vals[i], "v%u-%d", seed, i);
        recs[i] = (sk_record_spec){
            .key = "k", .key_len = 1, .value = vals[i], .value_len = (size_t)len, .timestamp = f->clock.now};
    }
    sk_batch_spec spec = {.producer_id = pid,
                          .producer_epoch = 0,
                          .base_sequence = st.next_seq[pid],
                          .attributes = txn && !misfit ? SK_BATCH_TRANSACTIONAL : 0};
    sk_writer w;
    sk_writer_init(&w, 0);
    ck_assert_int_eq(sk_batch_build(&w, &spec, recs, n), 0);
    uint8_t *copy = malloc(w.len);
    memcpy(copy, w.buf, w.len);
    int64_t off = sk_partition_log_end_offset(f->p);
    sk_append_info info;
    int16_t err = sk_partition_append(f->p, w.buf, w.len, f->clock.now, &info);
    if (misfit) {
        ck_assert_int_eq(err, SK_ERR_INVALID_TXN_STATE);
    } else {
        ck_assert_int_eq(err, SK_ERR_NONE);
        ck_assert_int_eq(info.base_offset, off);
        for (int i = 0; i < n; i++)
            model_set(f, off + i, seed, i, txn ? REC_TXN : REC_IDEMPOTENT, pid);
        if (rnd(f, 4) == 0) {
            ck_assert_int_eq(sk_partition_append(f->p, copy, w.len, f->clock.now, &info), SK_ERR_NONE);
            ck_assert(info.duplicate);
            ck_assert_int_eq(info.base_offset, off);
        }
    }
    ck_assert_int_eq(sk_partition_log_end_offset(f->p), misfit ? off : off + n);
    free(copy);
    sk_writer_free(&w);
    f->appends++;
}

/* A COMMIT or ABORT marker of producer 1 or 2 (with or without a transaction). */
static void op_marker(fuzz *f)
{
    int64_t pid = 1 + rnd(f, 2);
    bool commit = rnd(f, 2);
    int64_t off = sk_partition_log_end_offset(f->p);
    sk_append_info info;
    ck_assert_int_eq(sk_partition_append_marker(f->p, pid, 0, 0, commit, f->clock.now, &info), SK_ERR_NONE);
    ck_assert_int_eq(info.base_offset, off);
    model_set(f, off, 0, 0, commit ? REC_COMMIT : REC_ABORT, pid);
}

static void op_read(fuzz *f)
{
    int64_t ls = sk_partition_log_start_offset(f->p);
    int64_t leo = sk_partition_log_end_offset(f->p);
    int64_t at = ls + rnd(f, (uint32_t)(leo - ls + 1));
    sk_read_result r;
    int32_t max_bytes = (int32_t)rnd(f, 4000);
    ck_assert_int_eq(sk_partition_read(f->p, at, max_bytes, leo, &r), SK_ERR_NONE);
    if (at == leo) {
        ck_assert_int_eq(r.slice.length, 0);
        return;
    }
    ck_assert_int_gt(r.slice.length, 0);
    uint8_t *buf = malloc((size_t)r.slice.length);
    ck_assert_int_eq(sk_log_slice_copy(&r.slice, buf), 0);
    int64_t expect = r.first_offset;
    int nbatches = 0;
    for (int64_t pos = 0; pos < r.slice.length;) {
        sk_batch b;
        sk_batch_header_parse(&b, buf + pos, (size_t)(r.slice.length - pos));
        ck_assert_int_eq(b.base_offset, expect);
        if (nbatches == 0)
            ck_assert_int_le(b.base_offset, at);
        check_batch(f, buf + pos, b.size);
        expect = sk_batch_last_offset(&b) + 1;
        pos += (int64_t)b.size;
        nbatches++;
    }
    ck_assert_int_gt(expect, at);
    ck_assert_int_eq(expect, r.next_offset);
    /* KIP-74: beyond the first batch, the limit holds. */
    if (nbatches > 1)
        ck_assert_int_le(r.slice.length, max_bytes);
    free(buf);
    sk_log_slice_release(&r.slice);
    f->reads++;
}

static void op_crash(fuzz *f)
{
    sk_segment *act = f->p->segs[f->p->nsegs - 1];
    char path[4096];
    sk_segment_path(act, ".log", path, sizeof path);
    int64_t size = act->size;
    sk_logstore_close_unclean(f->store);
    switch (rnd(f, 3)) {
    case 0: /* torn tail */
        ck_assert_int_eq(truncate(path, (off_t)rnd(f, (uint32_t)size + 1)), 0);
        break;
    case 1: { /* garbage appended */
        uint8_t junk[100];
        for (size_t i = 0; i < sizeof junk; i++)
            junk[i] = (uint8_t)rnd(f, 256);
        size_t n = 1 + rnd(f, sizeof junk);
        int fd = open(path, O_WRONLY | O_APPEND);
        ck_assert_int_eq(write(fd, junk, n), (ssize_t)n);
        close(fd);
        break;
    }
    default: /* nothing lost */
        break;
    }
    fuzz_open(f);
    f->crashes++;
}

static void fuzz_run(uint64_t seed, int steps)
{
    fuzz f;
    memset(&f, 0, sizeof f);
    f.rng = seed * 0x9E3779B97F4A7C15ULL + 1;
    f.dir = test_tmpdir();
    f.base = event_base_new();
    f.clock.now = T0;
    test_config(&f.cfg);
    sk_log_config_from_broker(&f.lc, &f.cfg);
    f.lc.segment_bytes = 6000; /* above the largest append (3 batches of 5 x 300 bytes) */
    f.lc.index_interval_bytes = 200;
    f.lc.max_index_size_bytes = 64; /* 8 offset entries, 5 time entries */
    f.lc.retention_ms = -1;
    sk_logstore_opts opts = {.now_ms = test_clock_now, .clock_arg = &f.clock};
    f.store = sk_logstore_open(f.dir, f.base, &f.cfg, &opts);
    ck_assert_int_eq(sk_logstore_create_partition(f.store, "fz", 0, NULL, &f.lc, &f.p), SK_ERR_NONE);

    for (int step = 0; step < steps; step++) {
        f.clock.now += rnd(&f, 100);
        uint32_t op = rnd(&f, 100);
        if (op < 30) {
            op_append(&f);
        } else if (op < 43) {
            op_producer(&f);
        } else if (op < 50) {
            op_marker(&f);
        } else if (op < 56) {
            ck_assert_int_eq(sk_partition_roll(f.p), SK_ERR_NONE);
            f.rolls++;
        } else if (op < 60) {
            sk_logstore_close(f.store);
            fuzz_open(&f);
            f.reopens++;
        } else if (op < 64) {
            op_crash(&f);
            /* Whatever survived is a prefix of what was appended. */
            full_scan(&f);
        } else if (op < 80) {
            op_read(&f);
        } else if (op < 83) {
            int64_t ls = sk_partition_log_start_offset(f.p);
            int64_t leo = sk_partition_log_end_offset(f.p);
            int64_t low;
            int64_t to = ls + rnd(&f, (uint32_t)(leo - ls + 1) / 4 + 1);
            ck_assert_int_eq(sk_partition_delete_records(f.p, to, &low), SK_ERR_NONE);
            ck_assert_int_eq(low, to > ls ? to : ls);
        } else if (op < 86) {
            sk_log_config lc = *sk_partition_config(f.p);
            lc.retention_bytes = 12000 + rnd(&f, 40000);
            sk_partition_set_config(f.p, &lc);
            sk_partition_retention(f.p, f.clock.now);
            ck_assert_int_le(sk_partition_size_bytes(f.p), lc.retention_bytes + (int64_t)f.p->segs[0]->size);
            lc.retention_bytes = -1;
            sk_partition_set_config(f.p, &lc);
        } else if (op < 93) {
            sk_partition_flush(f.p);
            sk_bg_drain(sk_logstore_bg(f.store));
            ck_assert_int_eq(sk_partition_recovery_point(f.p), sk_partition_log_end_offset(f.p));
        } else {
            sk_bg_drain(sk_logstore_bg(f.store));
        }
        check_invariants(&f);
        if (step % 50 == 49)
            full_scan(&f);
    }
    full_scan(&f);
    ck_assert_int_gt(f.crashes, 0);
    ck_assert_int_gt(f.reopens, 0);
    ck_assert_int_gt(f.reads, 0);
    sk_logstore_close(f.store);
    event_base_free(f.base);
    free(f.model);
    test_rmtree(f.dir);
}

START_TEST(test_opfuzz)
{
    fuzz_run((uint64_t)_i + 1, 600);
}
END_TEST

static Suite *opfuzz_suite(void)
{
    Suite *s = suite_create("log_opfuzz");
    TCase *tc = tcase_create("opfuzz");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_opfuzz, 0, 4);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    sk_trace_threshold = SK_TRACE_ERROR;
    return sk_unit_run(opfuzz_suite());
}
