/*
 * Shared fixture of the group coordinator tests (test_group.c,
 * test_group_offsets.c): a coordinator on a fake clock with a store that
 * keeps copies of every record it is given (or fails on demand), waiters
 * that copy the JoinGroup / SyncGroup answers they receive, and builders
 * for the requests the tests send.
 */
#ifndef SKIFF_TEST_GROUP_H
#define SKIFF_TEST_GROUP_H

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kf_msgs.h"
#include "skiff/arena.h"
#include "skiff/errors.h"
#include "skiff/group.h"
#include "skiff/trace.h"

#define UNUSED __attribute__((unused))

/* A parked request's answer, copied. */
typedef struct waiter {
    int calls;
    int16_t error_code;
    char member_id[64];
    int32_t generation_id;
    char protocol_type[32]; /* "<null>" for null */
    char protocol_name[32]; /* "<null>" for null */
    char leader[64];
    int skip_assignment;
    int32_t nmembers;
    char members[8][64];
    char member_meta[8][32];
    char assignment[64];
} waiter;

/* A record the store was given, or a transaction marker (marker: 1 ABORT,
 * 2 COMMIT) the test wrote to the same log. */
typedef struct stored {
    int32_t partition;
    int64_t offset;      /* in the partition's log (one counter for all) */
    int64_t producer_id; /* of its batch when transactional, else -1 */
    int marker;
    uint8_t key[256];
    size_t key_len;
    uint8_t value[1024];
    long value_len; /* -1 for a tombstone */
} stored;

static UNUSED sk_config cfg;
static UNUSED sk_groups *gs;
static UNUSED int64_t now_ms;
static UNUSED stored records[256];
static UNUSED int nrecords;
static UNUSED int64_t next_offset; /* the store's log end offset */
static UNUSED int16_t store_fails; /* error the store returns, 0 = store */
static UNUSED int test_over;       /* teardown: parked waiters (on a finished test's stack) are gone */
static UNUSED const sk_group_client client = {"client", "/127.0.0.1", NULL, NULL};

static inline void copy_str(char *dst, size_t n, kf_str s)
{
    snprintf(dst, n, "%.*s", s.p ? (int)s.len : 6, s.p ? s.p : "<null>");
}

static inline int64_t fake_clock(void *arg)
{
    (void)arg;
    return now_ms;
}

static inline void advance(int64_t ms)
{
    now_ms += ms;
}

/* Fires timers until none is due (timers re-armed with no delay wait for
 * the next run, as they wait for the next loop turn in the broker). */
static inline int settle(void)
{
    int n = 0, k;
    while ((k = sk_groups_run_timers(gs)) > 0)
        n += k;
    return n;
}

static inline void on_join(void *arg, const kf_join_group_response *r)
{
    waiter *w = arg;
    if (test_over)
        return;
    w->calls++;
    w->error_code = r->error_code;
    copy_str(w->member_id, sizeof w->member_id, r->member_id);
    w->generation_id = r->generation_id;
    copy_str(w->protocol_type, sizeof w->protocol_type, r->protocol_type);
    copy_str(w->protocol_name, sizeof w->protocol_name, r->protocol_name);
    copy_str(w->leader, sizeof w->leader, r->leader);
    w->skip_assignment = r->skip_assignment;
    w->nmembers = r->members.n;
    for (int32_t i = 0; i < r->members.n && i < 8; i++) {
        copy_str(w->members[i], sizeof w->members[i], r->members.items[i].member_id);
        snprintf(w->member_meta[i], sizeof w->member_meta[i], "%.*s", (int)r->members.items[i].metadata.len,
                 (const char *)r->members.items[i].metadata.p);
    }
}

static inline void on_sync(void *arg, const kf_sync_group_response *r)
{
    waiter *w = arg;
    if (test_over)
        return;
    w->calls++;
    w->error_code = r->error_code;
    copy_str(w->protocol_type, sizeof w->protocol_type, r->protocol_type);
    copy_str(w->protocol_name, sizeof w->protocol_name, r->protocol_name);
    snprintf(w->assignment, sizeof w->assignment, "%.*s", (int)r->assignment.len,
             r->assignment.p ? (const char *)r->assignment.p : "");
}

static inline int16_t store_append(void *arg, const sk_group_batch *b, int64_t *base_offset)
{
    (void)arg;
    if (store_fails)
        return store_fails;
    *base_offset = next_offset;
    for (int i = 0; i < b->n; i++) {
        ck_assert_int_lt(nrecords, 256);
        stored *s = &records[nrecords++];
        memset(s, 0, sizeof *s);
        s->partition = b->partition;
        s->offset = next_offset++;
        s->producer_id = b->producer_id;
        ck_assert_uint_le(b->records[i].key_len, sizeof s->key);
        memcpy(s->key, b->records[i].key, b->records[i].key_len);
        s->key_len = b->records[i].key_len;
        s->value_len = b->records[i].value ? (long)b->records[i].value_len : -1;
        if (b->records[i].value) {
            ck_assert_uint_le(b->records[i].value_len, sizeof s->value);
            memcpy(s->value, b->records[i].value, b->records[i].value_len);
        }
    }
    return SK_ERR_NONE;
}

/* Writes a transaction marker to the log and tells the coordinator, as the
 * transaction coordinator does. */
static inline void store_marker(int32_t partition, int64_t producer_id, bool commit)
{
    ck_assert_int_lt(nrecords, 256);
    stored *s = &records[nrecords++];
    memset(s, 0, sizeof *s);
    s->partition = partition;
    s->offset = next_offset++;
    s->producer_id = producer_id;
    s->marker = commit ? 2 : 1;
    sk_groups_txn_marker(gs, partition, producer_id, commit);
}

static UNUSED const sk_group_store test_store = {store_append, NULL};

static inline sk_groups *open_groups(void)
{
    sk_groups_opts o = {.now_ms = fake_clock, .store = &test_store, .join_done = on_join, .sync_done = on_sync};
    return sk_groups_open(&cfg, &o);
}

static inline void setup(void)
{
    memset(&cfg, 0, sizeof cfg);
    cfg.group_initial_rebalance_delay_ms = 0;
    cfg.group_min_session_timeout_ms = 6000;
    cfg.group_max_session_timeout_ms = 1800000;
    cfg.group_max_size = INT32_MAX;
    cfg.offsets_topic_num_partitions = 50;
    cfg.offsets_retention_minutes = 10080;
    now_ms = 1700000000000;
    nrecords = 0;
    next_offset = 0;
    store_fails = 0;
    test_over = 0;
    sk_trace_threshold = SK_TRACE_ERROR;
    gs = open_groups();
    ck_assert_ptr_nonnull(gs);
}

static inline void teardown(void)
{
    test_over = 1;
    sk_groups_close(gs);
    gs = NULL;
}

/* ---- Request builders ---- */

static UNUSED kf_join_group_request_protocol protocols[4];

static inline kf_join_group_request join_request(const char *group, const char *member, const char *instance,
                                                 const char *protocol, const char *meta)
{
    kf_join_group_request rq;
    kf_init(&kf_join_group_request_desc, &rq);
    rq.group_id = kf_str_c(group);
    rq.session_timeout_ms = 10000;
    rq.rebalance_timeout_ms = 30000;
    rq.member_id = kf_str_c(member);
    rq.group_instance_id = kf_str_c(instance);
    rq.protocol_type = kf_str_c("consumer");
    protocols[0].name = kf_str_c(protocol);
    protocols[0].metadata.p = (const uint8_t *)meta;
    protocols[0].metadata.len = (int32_t)strlen(meta);
    rq.protocols.items = protocols;
    rq.protocols.n = 1;
    return rq;
}

static inline void join(waiter *w, int16_t version, const char *group, const char *member, const char *instance,
                        const char *protocol, const char *meta)
{
    kf_join_group_request rq = join_request(group, member, instance, protocol, meta);
    sk_group_join(gs, &client, version, &rq, w);
}

static inline void join_timeouts(waiter *w, int16_t version, const char *group, const char *member, int32_t session,
                                 int32_t rebalance)
{
    kf_join_group_request rq = join_request(group, member, NULL, "range", "m");
    rq.session_timeout_ms = session;
    rq.rebalance_timeout_ms = rebalance;
    sk_group_join(gs, &client, version, &rq, w);
}

/* Joins with protocols `names` (each with its name as metadata). */
static inline void join_protocols(waiter *w, int16_t version, const char *group, const char *member, const char **names,
                                  int n)
{
    kf_join_group_request rq = join_request(group, member, NULL, names[0], names[0]);
    for (int i = 0; i < n; i++) {
        protocols[i].name = kf_str_c(names[i]);
        protocols[i].metadata.p = (const uint8_t *)names[i];
        protocols[i].metadata.len = (int32_t)strlen(names[i]);
    }
    rq.protocols.n = n;
    sk_group_join(gs, &client, version, &rq, w);
}

static inline kf_sync_group_request sync_request(const char *group, int32_t generation, const char *member)
{
    kf_sync_group_request rq;
    kf_init(&kf_sync_group_request_desc, &rq);
    rq.group_id = kf_str_c(group);
    rq.generation_id = generation;
    rq.member_id = kf_str_c(member);
    return rq;
}

static UNUSED kf_sync_group_request_assignment assignments[2];

/* SyncGroup with up to two assignments (m1 -> a1, m2 -> a2; NULL = none). */
static inline void sync_assign(waiter *w, int16_t version, const char *group, int32_t generation, const char *member,
                               const char *m1, const char *a1, const char *m2, const char *a2)
{
    kf_sync_group_request rq = sync_request(group, generation, member);
    int n = 0;
    const char *ms[2] = {m1, m2}, *as[2] = {a1, a2};
    for (int i = 0; i < 2; i++) {
        if (!ms[i])
            continue;
        assignments[n].member_id = kf_str_c(ms[i]);
        assignments[n].assignment.p = (const uint8_t *)as[i];
        assignments[n].assignment.len = (int32_t)strlen(as[i]);
        n++;
    }
    rq.assignments.items = assignments;
    rq.assignments.n = n;
    sk_group_sync(gs, version, &rq, w);
}

static inline void sync_assign_instance(waiter *w, const char *group, int32_t generation, const char *member,
                                        const char *instance)
{
    kf_sync_group_request rq = sync_request(group, generation, member);
    rq.group_instance_id = kf_str_c(instance);
    sk_group_sync(gs, 3, &rq, w);
}

static inline int16_t heartbeat(const char *group, int32_t generation, const char *member, const char *instance)
{
    kf_heartbeat_request rq;
    kf_init(&kf_heartbeat_request_desc, &rq);
    rq.group_id = kf_str_c(group);
    rq.generation_id = generation;
    rq.member_id = kf_str_c(member);
    rq.group_instance_id = kf_str_c(instance);
    return sk_group_heartbeat(gs, &rq);
}

/* A one-member group in Stable at generation 1 with timeouts (ms); the
 * member id goes to `out`. */
static inline void stable_member_timeouts(const char *group, char *out, size_t len, int32_t session, int32_t rebalance)
{
    waiter w = {0}, s = {0};
    join_timeouts(&w, 3, group, "", session, rebalance);
    settle();
    ck_assert_int_eq(w.error_code, SK_ERR_NONE);
    snprintf(out, len, "%s", w.member_id);
    sync_assign(&s, 3, group, w.generation_id, out, out, "pa", NULL, NULL);
    ck_assert_int_eq(s.error_code, SK_ERR_NONE);
}

static inline void stable_member(const char *group, char *out, size_t len)
{
    stable_member_timeouts(group, out, len, 10000, 30000);
}

/* Two members in Stable at generation 2 (a is the leader). */
static inline void stable_pair(const char *group, char a[64], char b[64])
{
    stable_member(group, a, 64);
    waiter wb = {0}, wa = {0}, sa = {0}, sb = {0};
    join(&wb, 3, group, "", NULL, "range", "mb");
    join(&wa, 3, group, a, NULL, "range", "ma");
    ck_assert_int_eq(wa.generation_id, 2);
    snprintf(b, 64, "%s", wb.member_id);
    sync_assign(&sb, 3, group, 2, b, NULL, NULL, NULL, NULL);
    sync_assign(&sa, 3, group, 2, a, a, "pa", b, "pb");
    ck_assert_int_eq(sb.error_code, SK_ERR_NONE);
}

static UNUSED kf_offset_commit_request_partition commit_parts[4];
static UNUSED kf_offset_commit_request_topic commit_topics[1];
static UNUSED kf_offset_commit_response_partition commit_resp_parts[4];
static UNUSED kf_offset_commit_response_topic commit_resp_topics[1];

/* An OffsetCommit of one topic's partitions 0..n-1 at offsets base+i, the
 * response preset to NONE. */
static inline void commit_request(kf_offset_commit_request *rq, kf_offset_commit_response *resp, const char *group,
                                  int32_t generation, const char *member, const char *topic, int n, int64_t base)
{
    kf_init(&kf_offset_commit_request_desc, rq);
    kf_init(&kf_offset_commit_response_desc, resp);
    rq->group_id = kf_str_c(group);
    rq->generation_id_or_member_epoch = generation;
    rq->member_id = kf_str_c(member);
    commit_topics[0].name = kf_str_c(topic);
    commit_resp_topics[0].name = kf_str_c(topic);
    for (int i = 0; i < n; i++) {
        kf_init(&kf_offset_commit_request_partition_desc, &commit_parts[i]);
        commit_parts[i].partition_index = i;
        commit_parts[i].committed_offset = base + i;
        commit_parts[i].committed_metadata = kf_str_c("md");
        commit_resp_parts[i].partition_index = i;
        commit_resp_parts[i].error_code = SK_ERR_NONE;
    }
    commit_topics[0].partitions.items = commit_parts;
    commit_topics[0].partitions.n = n;
    commit_resp_topics[0].partitions.items = commit_resp_parts;
    commit_resp_topics[0].partitions.n = n;
    rq->topics.items = commit_topics;
    rq->topics.n = 1;
    resp->topics.items = commit_resp_topics;
    resp->topics.n = 1;
}

/* Commits one partition; returns its error. */
static inline int16_t commit_one(int16_t version, const char *group, int32_t generation, const char *member,
                                 const char *topic, int32_t partition, int64_t offset)
{
    kf_offset_commit_request rq;
    kf_offset_commit_response resp;
    commit_request(&rq, &resp, group, generation, member, topic, 1, offset);
    commit_parts[0].partition_index = partition;
    commit_resp_parts[0].partition_index = partition;
    sk_group_commit_offsets(gs, version, &rq, &resp);
    return commit_resp_parts[0].error_code;
}

/* OffsetFetch of one partition (all with topic NULL), arrays in `a`. */
static inline kf_offset_fetch_response_group fetch(const char *group, const char *topic, int32_t partition, bool stable,
                                                   sk_arena *a)
{
    static kf_offset_fetch_request_group_topic t;
    static int32_t part;
    part = partition;
    t.name = kf_str_c(topic);
    t.partition_indexes.items = &part;
    t.partition_indexes.n = 1;
    kf_offset_fetch_response_group out;
    ck_assert_int_eq(sk_group_fetch_offsets(gs, kf_str_c(group), topic ? &t : NULL, topic ? 1 : -1, stable, &out, a),
                     0);
    return out;
}

/* The committed offset of one partition (-1 when none). */
static inline int64_t committed(const char *group, const char *topic, int32_t partition)
{
    sk_arena a = {0};
    kf_offset_fetch_response_group out = fetch(group, topic, partition, false, &a);
    ck_assert_int_eq(out.topics.n, 1);
    ck_assert_int_eq(out.topics.items[0].partitions.n, 1);
    int64_t o = out.topics.items[0].partitions.items[0].committed_offset;
    sk_arena_free(&a);
    return o;
}

/* Replays every stored record into a fresh coordinator, which replaces gs. */
static inline void restart(void)
{
    test_over = 1;
    sk_groups_close(gs);
    test_over = 0;
    gs = open_groups();
    for (int i = 0; i < nrecords; i++) {
        const stored *x = &records[i];
        if (x->marker) {
            sk_groups_txn_marker(gs, x->partition, x->producer_id, x->marker == 2);
            continue;
        }
        sk_group_record r = {x->key, x->key_len, x->value_len < 0 ? NULL : x->value,
                             x->value_len < 0 ? 0 : (size_t)x->value_len};
        ck_assert_int_eq(sk_groups_replay(gs, &r, x->offset, x->producer_id), 0);
    }
    sk_groups_loaded(gs);
}

#endif
