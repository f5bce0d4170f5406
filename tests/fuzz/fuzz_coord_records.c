/*
 * libFuzzer target for the replay decoders of the coordinators' internal
 * topics: __consumer_offsets keys and values (src/coord/group_records.c,
 * through sk_groups_replay) and __transaction_state keys and values
 * (src/coord/txn_records.c, through sk_txns_replay and directly).
 *
 * Options byte: bit 0 picks the framing of the rest, bit 1 runs the
 * coordinators' timers a day later once loaded.
 *   framing 0: records one after another, each a zigzag varint key length,
 *              the key, a zigzag varint value length (-1: tombstone), the
 *              value, as inside a record batch; a key of odd length is in
 *              a transactional batch of producer 7; key length -2 is
 *              instead a marker of producer 7 (next byte odd: COMMIT);
 *   framing 1: the bytes of a .log file of the topic, replayed as the
 *              stores do (sk_groups_replay_batch, src/log/scan.c): batch
 *              headers without CRC, markers ending transactions, records
 *              inflated with a 256 KiB cap, keyless records skipped.
 * Every record goes to both coordinators (each skips the other's keys).
 * Once loaded, every group is listed, described (DescribeGroups and, for
 * KIP-848 groups, ConsumerGroupDescribe) and its offsets fetched,
 * every transactional id listed (with and without a duration filter) and
 * described; each __transaction_state
 * value that decodes must re-encode stably (encode, decode, encode gives
 * the same bytes).
 * Seeds: tests/data/fuzz/coord_records (records and .log bytes written by
 * a broker's group and transaction coordinators, and KIP-848 consumer group
 * records: broker_consumer_group_records*).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/coord/txn_int.h"
#include "fuzz_util.h"
#include "skiff/arena.h"
#include "skiff/compress.h"
#include "skiff/config.h"
#include "skiff/group.h"
#include "skiff/trace.h"
#include "skiff/record.h"
#include "skiff/txn.h"

#define FUZZ_CAP ((size_t)256 << 10)
#define FUZZ_T0 1700000000000LL
#define FUZZ_DAY_MS 86400000LL

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static sk_config cfg;
static char *scratch; /* holds the producer id block file */
static sk_producer_ids *ids;
static int64_t now_ms;

static int64_t fake_clock(void *arg)
{
    (void)arg;
    return now_ms;
}

static void on_join(void *waiter, const kf_join_group_response *resp)
{
    (void)waiter;
    (void)resp;
}

static void on_sync(void *waiter, const kf_sync_group_response *resp)
{
    (void)waiter;
    (void)resp;
}

static void remove_scratch(void)
{
    sk_producer_ids_close(ids);
    fuzz_rm_tree(scratch);
    free(scratch);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char *args[] = {"fuzz_coord_records", NULL};
    fuzz_check(sk_config_load(&cfg, 1, args, NULL) == SK_CONFIG_OK);
    sk_trace_threshold = SK_TRACE_ERROR + 1; /* malformed records are expected: stay quiet */
    scratch = fuzz_scratch_dir("skiff-fuzz-coord");
    ids = sk_producer_ids_open(scratch);
    fuzz_check(ids != NULL);
    atexit(remove_scratch);
    return 0;
}

typedef struct coords {
    sk_groups *groups;
    sk_txns *txns;
} coords;

/* A __transaction_state value that decodes encodes back stably. */
static void check_txn_value(const uint8_t *value, size_t len)
{
    txn_value v, again;
    if (sk_txn_value_decode(value, len, &v) < 0)
        return;
    sk_writer w1, w2;
    sk_writer_init(&w1, 0);
    sk_writer_init(&w2, 0);
    fuzz_check(sk_txn_value_encode(&w1, &v) == 0);
    fuzz_check(sk_txn_value_decode(w1.buf, w1.len, &again) == 0);
    fuzz_check(again.producer_id == v.producer_id && again.producer_epoch == v.producer_epoch &&
               again.timeout_ms == v.timeout_ms && again.state == v.state && again.update_ms == v.update_ms &&
               again.start_ms == v.start_ms);
    fuzz_check(sk_txn_value_encode(&w2, &again) == 0);
    fuzz_check(w1.len == w2.len && !memcmp(w1.buf, w2.buf, w1.len));
    sk_txn_value_free(&again);
    sk_txn_value_free(&v);
    sk_writer_free(&w1);
    sk_writer_free(&w2);
}

/* The transaction coordinator's side of one record. */
static void replay_txn(coords *c, const uint8_t *key, int32_t key_len, const uint8_t *value, int32_t value_len)
{
    if (!key)
        return; /* the store skips keyless records */
    sk_txns_replay(c->txns, key, (size_t)key_len, value, value ? (size_t)value_len : 0);
    if (value)
        check_txn_value(value, (size_t)value_len);
}

/* Framing 0: varint-sized keys and values. */
static void replay_list(coords *c, const uint8_t *p, size_t len)
{
    sk_reader r;
    sk_reader_init(&r, p, len);
    while (sk_reader_left(&r) > 0) {
        int32_t klen = sk_read_varint(&r);
        if (klen == -2) { /* a marker of producer 7 on partition 0 */
            int8_t commit = sk_read_i8(&r);
            if (!r.err)
                sk_groups_txn_marker(c->groups, 0, 7, commit & 1);
            continue;
        }
        const uint8_t *key = klen >= 0 ? sk_read_raw(&r, (size_t)klen) : NULL;
        int32_t vlen = sk_read_varint(&r);
        const uint8_t *value = vlen >= 0 ? sk_read_raw(&r, (size_t)vlen) : NULL;
        if (r.err)
            return;
        if (key) {
            sk_group_record gr = {key, (size_t)klen, value, value ? (size_t)vlen : 0};
            sk_groups_replay(c->groups, &gr, (int64_t)(r.pos - p), (klen & 1) ? 7 : -1);
        }
        replay_txn(c, key, klen, value, vlen);
    }
}

/* Framing 1: the batches of a .log file, as the stores replay them. */
static void replay_log(coords *c, const uint8_t *p, size_t len)
{
    for (size_t at = 0; at < len;) {
        sk_batch b;
        if (sk_batch_header_parse(&b, p + at, len - at) < 0 || b.size < SK_BATCH_HEADER_SIZE || b.size > len - at)
            return;
        sk_groups_replay_batch(c->groups, 0, &b, FUZZ_CAP);
        sk_batch_records br;
        if (!(b.attributes & SK_BATCH_CONTROL) && sk_batch_records_open(&br, &b, FUZZ_CAP) == 0) {
            sk_record rec;
            while (sk_record_next(&br.it, &rec) == 1)
                replay_txn(c, rec.key, rec.key_len, rec.value, rec.value_len);
            sk_batch_records_close(&br);
        }
        at += b.size;
    }
}

/* Reads back everything the coordinators hold, as the admin APIs do. */
static void inspect(coords *c)
{
    sk_arena arena = {0};
    kf_list_groups_response_group *groups;
    int32_t n = sk_groups_list(c->groups, NULL, 0, NULL, 0, &groups, &arena);
    fuzz_check(n >= 0 && (size_t)n == sk_groups_count(c->groups));
    for (int32_t i = 0; i < n; i++) {
        kf_describe_groups_response_group d;
        kf_offset_fetch_response_group o;
        fuzz_check(sk_group_describe(c->groups, groups[i].group_id, &d, &arena) == 0);
        fuzz_check(d.members.n >= 0);
        fuzz_check(sk_group_fetch_offsets(c->groups, groups[i].group_id, NULL, 0, true, &o, &arena) == 0);
        kf_consumer_group_describe_response_described_group cd;
        kf_init(&kf_consumer_group_describe_response_described_group_desc, &cd);
        fuzz_check(sk_cgroup_describe(c->groups, groups[i].group_id, &cd, &arena) == 0);
        fuzz_check(cd.members.n >= 0);
    }
    sk_txn_info *txns;
    fuzz_check(sk_txns_list(c->txns, NULL, -1, NULL, 0, 0, &txns, &arena) >= 0); /* duration filter */
    n = sk_txns_list(c->txns, NULL, -1, NULL, 0, -1, &txns, &arena);
    fuzz_check(n >= 0);
    for (int32_t i = 0; i < n; i++) {
        sk_txn_info info;
        int16_t err = sk_txn_describe(c->txns, txns[i].transactional_id, &info, &arena);
        fuzz_check(err == 0 || txns[i].transactional_id[0] == '\0'); /* an empty id is INVALID_REQUEST */
    }
    sk_arena_free(&arena);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    now_ms = FUZZ_T0;
    sk_groups_opts gopts = {.now_ms = fake_clock, .join_done = on_join, .sync_done = on_sync};
    sk_txns_opts topts = {.now_ms = fake_clock, .ids = ids};
    coords c = {sk_groups_open(&cfg, &gopts), sk_txns_open(&cfg, &topts)};
    fuzz_check(c.groups && c.txns);

    if (data[0] & 0x01)
        replay_log(&c, data + 1, size - 1);
    else
        replay_list(&c, data + 1, size - 1);
    sk_groups_loaded(c.groups);
    sk_txns_loaded(c.txns);
    inspect(&c);
    if (data[0] & 0x02) {
        now_ms += FUZZ_DAY_MS;
        sk_groups_run_timers(c.groups);
        sk_txns_run_timers(c.txns);
        inspect(&c);
    }
    sk_groups_close(c.groups);
    sk_txns_close(c.txns);
    return 0;
}
