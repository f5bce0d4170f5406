/*
 * Consumer-protocol groups (KIP-848, src/coord/cgroup*.c): the assignors'
 * balance and stickiness, the reconciliation state machine driven through
 * ConsumerGroupHeartbeat on a fake clock (revoke before assign: a partition
 * is never owned by two members), every error the heartbeat answers, static
 * membership, session and rebalance timeouts, offset commits and fetches
 * with member epochs, ListGroups' type, and the records replayed into a new
 * coordinator giving the same group.
 */
#include "kf_msgs.h"
#include "skiff/group.h"
#include "../../src/coord/cgroup_int.h"
#include "test_group.h"
#include "unit_run.h"

/* ---- fake topics: "t" (6 partitions, id 01..), "u" (3, id 02..) ---- */

static struct {
    const char *name;
    uint8_t id[16];
    int32_t partitions;
} topics[3] = {{"t", {1}, 6}, {"u", {2}, 3}, {"v", {3}, 0}};

static bool by_name(void *arg, const char *name, uint8_t id[16], int32_t *partitions)
{
    (void)arg;
    for (int i = 0; i < 3; i++)
        if (!strcmp(topics[i].name, name) && topics[i].partitions > 0) {
            memcpy(id, topics[i].id, 16);
            *partitions = topics[i].partitions;
            return true;
        }
    return false;
}

static const char *by_id(void *arg, const uint8_t id[16])
{
    (void)arg;
    for (int i = 0; i < 3; i++)
        if (!memcmp(topics[i].id, id, 16))
            return topics[i].name;
    return NULL;
}

static void each(void *arg, void (*fn)(void *ctx, const char *name), void *ctx)
{
    (void)arg;
    for (int i = 0; i < 3; i++)
        if (topics[i].partitions > 0)
            fn(ctx, topics[i].name);
}

static const sk_group_topics fake_topics = {by_name, by_id, each, NULL};

/* The bytes of the last SyncGroup assignment (binary, unlike waiter's). */
static uint8_t sync_bytes[128];
static int32_t sync_len;

static void on_sync_bytes(void *arg, const kf_sync_group_response *r)
{
    sync_len = r->assignment.len < (int32_t)sizeof sync_bytes ? r->assignment.len : 0;
    if (sync_len > 0)
        memcpy(sync_bytes, r->assignment.p, (size_t)sync_len);
    on_sync(arg, r);
}

static sk_groups *open_consumer_groups(void)
{
    sk_groups_opts o = {.now_ms = fake_clock,
                        .store = &test_store,
                        .join_done = on_join,
                        .sync_done = on_sync_bytes,
                        .topics = &fake_topics};
    return sk_groups_open(&cfg, &o);
}

static void cg_setup(void)
{
    setup();
    sk_groups_close(gs);
    cfg.group_consumer_heartbeat_interval_ms = 500;
    cfg.group_consumer_session_timeout_ms = 10000;
    topics[0].partitions = 6;
    topics[1].partitions = 3;
    topics[2].partitions = 0;
    gs = open_consumer_groups();
    ck_assert_ptr_nonnull(gs);
}

/* ---- heartbeats ---- */

typedef struct answer {
    int16_t error;
    char message[320];
    char member_id[64];
    int32_t epoch;
    int32_t interval;
    bool has_assignment;
    char assignment[128]; /* "t0 t1 u2" */
} answer;

static void tps_string(const ctps *s, char *out, size_t n);

typedef struct hbreq {
    const char *group, *member, *instance, *assignor;
    int32_t epoch;
    int32_t rebalance_timeout; /* 0 = -1 (unchanged) */
    const char *topics;        /* "t,u"; NULL = unchanged */
    const char *owned;         /* "t0 t1"; NULL = not sent */
    const char *regex;         /* SubscribedTopicRegex; NULL = not sent */
    bool v0;                   /* ConsumerGroupHeartbeat v0 (else v1) */
} hbreq;

static answer heartbeat_cg(hbreq q)
{
    static kf_str names[4];
    static kf_consumer_group_heartbeat_request_topic_partitions tps[2];
    static int32_t parts[2][16];
    kf_consumer_group_heartbeat_request rq;
    kf_init(&kf_consumer_group_heartbeat_request_desc, &rq);
    rq.group_id = kf_str_c(q.group ? q.group : "g");
    rq.member_id = kf_str_c(q.member ? q.member : "");
    rq.member_epoch = q.epoch;
    rq.instance_id = kf_str_c(q.instance);
    rq.server_assignor = kf_str_c(q.assignor);
    rq.rebalance_timeout_ms = q.rebalance_timeout ? q.rebalance_timeout : -1;
    rq.subscribed_topic_regex = kf_str_c(q.regex);
    if (q.topics) {
        int n = 0;
        for (const char *p = q.topics; *p; p++)
            if (*p != ',')
                names[n++] = (kf_str){p, 1};
        rq.subscribed_topic_names.items = names;
        rq.subscribed_topic_names.n = n;
    }
    if (q.owned) {
        memset(tps, 0, sizeof tps);
        tps[0].topic_id = (kf_uuid){{1}};
        tps[1].topic_id = (kf_uuid){{2}};
        tps[0].partitions.items = parts[0];
        tps[1].partitions.items = parts[1];
        for (const char *p = q.owned; *p; p++)
            if (*p == 't' || *p == 'u') {
                int k = *p == 't' ? 0 : 1;
                parts[k][tps[k].partitions.n++] = p[1] - '0';
            }
        rq.topic_partitions.items = tps;
        rq.topic_partitions.n = 2;
    }
    kf_consumer_group_heartbeat_response resp;
    kf_init(&kf_consumer_group_heartbeat_response_desc, &resp);
    sk_arena a = {0};
    ck_assert_int_eq(sk_cgroup_heartbeat(gs, &client, q.v0 ? 0 : 1, &rq, &resp, &a), 0);
    answer out = {0};
    out.error = resp.error_code;
    copy_str(out.message, sizeof out.message, resp.error_message);
    copy_str(out.member_id, sizeof out.member_id, resp.member_id);
    out.epoch = resp.member_epoch;
    out.interval = resp.heartbeat_interval_ms;
    if (resp.assignment) {
        out.has_assignment = true;
        ctps s = {0};
        for (int32_t i = 0; i < resp.assignment->topic_partitions.n; i++)
            for (int32_t k = 0; k < resp.assignment->topic_partitions.items[i].partitions.n; k++)
                sk_ctps_add(&s, resp.assignment->topic_partitions.items[i].topic_id.b,
                            resp.assignment->topic_partitions.items[i].partitions.items[k]);
        sk_ctps_sort(&s);
        tps_string(&s, out.assignment, sizeof out.assignment);
        sk_ctps_free(&s);
    }
    sk_arena_free(&a);
    return out;
}

/* A member joins "g" subscribed to `topics_` (epoch 0, full request). */
static answer join_cg(const char *member, const char *topics_)
{
    return heartbeat_cg(
        (hbreq){.member = member, .epoch = 0, .rebalance_timeout = 30000, .topics = topics_, .owned = ""});
}

static answer beat(const char *member, int32_t epoch, const char *owned)
{
    return heartbeat_cg((hbreq){.member = member, .epoch = epoch, .owned = owned});
}

static void tps_string(const ctps *s, char *out, size_t n)
{
    size_t at = 0;
    out[0] = 0;
    for (int32_t i = 0; i < s->n && at + 8 < n; i++)
        at += (size_t)snprintf(out + at, n - at, "%s%s%d", i ? " " : "", by_id(NULL, s->v[i].id), s->v[i].partition);
}

/* The coordinator's view of member `m` of "g". */
static cmember *member_of(const char *m)
{
    ggroup *g = sk_group_find(gs, "g", 1);
    ck_assert_ptr_nonnull(g);
    ck_assert_ptr_nonnull(g->consumer);
    return sk_cmember_find(g->consumer, m);
}

static cgroup *cg(void)
{
    ggroup *g = sk_group_find(gs, "g", 1);
    return g ? g->consumer : NULL;
}

/* No partition is owned (assigned or being revoked) by two members. */
static void assert_exclusive(void)
{
    cgroup *c = cg();
    for (int32_t i = 0; c && i < c->nmembers; i++)
        for (int32_t j = i + 1; j < c->nmembers; j++) {
            const cmember *a = c->members[i], *b = c->members[j];
            const ctps *as[2] = {&a->assigned, &a->revoking};
            for (int k = 0; k < 2; k++)
                for (int32_t x = 0; x < as[k]->n; x++) {
                    ck_assert(!sk_ctps_has(&b->assigned, as[k]->v[x].id, as[k]->v[x].partition));
                    ck_assert(!sk_ctps_has(&b->revoking, as[k]->v[x].id, as[k]->v[x].partition));
                }
        }
}

static const char *assigned_of(const char *m)
{
    static char buf[128];
    tps_string(&member_of(m)->assigned, buf, sizeof buf);
    return buf;
}

/* ---- assignors ---- */

static cassign_topic at[2] = {{{1}, 6}, {{2}, 3}};
static const int32_t sub_t[] = {0}, sub_tu[] = {0, 1};

static void run_assignor(const char *name, cassign_member *m, int32_t n)
{
    ck_assert_int_eq(sk_cassign_run(name, at, 2, m, n), 0);
}

static const char *target_str(const cassign_member *m)
{
    static char buf[4][128];
    static int k;
    k = (k + 1) % 4;
    tps_string(&m->target, buf[k], sizeof buf[k]);
    return buf[k];
}

START_TEST(test_uniform_balanced_and_sticky)
{
    cassign_member m[4] = {{"a", sub_t, 1, NULL, {0}}, {"b", sub_t, 1, NULL, {0}}, {"c", sub_t, 1, NULL, {0}}};
    run_assignor("uniform", m, 3);
    ck_assert_str_eq(target_str(&m[0]), "t0 t3");
    ck_assert_str_eq(target_str(&m[1]), "t1 t4");
    ck_assert_str_eq(target_str(&m[2]), "t2 t5");

    /* c leaves: a and b keep theirs and take one of c's each */
    ctps prev[4] = {{0}};
    for (int i = 0; i < 3; i++)
        sk_ctps_copy(&prev[i], &m[i].target);
    cassign_member two[2] = {{"a", sub_t, 1, &prev[0], {0}}, {"b", sub_t, 1, &prev[1], {0}}};
    run_assignor("uniform", two, 2);
    ck_assert_str_eq(target_str(&two[0]), "t0 t2 t3");
    ck_assert_str_eq(target_str(&two[1]), "t1 t4 t5");

    /* d joins: it gets one partition from each; a and b lose one only */
    sk_ctps_copy(&prev[0], &two[0].target);
    sk_ctps_copy(&prev[1], &two[1].target);
    cassign_member three[3] = {
        {"a", sub_t, 1, &prev[0], {0}}, {"b", sub_t, 1, &prev[1], {0}}, {"d", sub_t, 1, NULL, {0}}};
    run_assignor("uniform", three, 3);
    ck_assert_str_eq(target_str(&three[0]), "t0 t2");
    ck_assert_str_eq(target_str(&three[1]), "t1 t4");
    ck_assert_str_eq(target_str(&three[2]), "t3 t5");

    /* a topic added to everyone's subscription: still balanced (9 over 3) */
    sk_ctps_copy(&prev[0], &three[0].target);
    sk_ctps_copy(&prev[1], &three[1].target);
    sk_ctps_copy(&prev[2], &three[2].target);
    cassign_member more[3] = {
        {"a", sub_tu, 2, &prev[0], {0}}, {"b", sub_tu, 2, &prev[1], {0}}, {"d", sub_tu, 2, &prev[2], {0}}};
    run_assignor("uniform", more, 3);
    ck_assert_str_eq(target_str(&more[0]), "t0 t2 u0");
    ck_assert_str_eq(target_str(&more[1]), "t1 t4 u1");
    ck_assert_str_eq(target_str(&more[2]), "t3 t5 u2");
    for (int i = 0; i < 3; i++) {
        sk_ctps_free(&m[i].target);
        sk_ctps_free(&three[i].target);
        sk_ctps_free(&more[i].target);
        sk_ctps_free(&prev[i]);
    }
    sk_ctps_free(&two[0].target);
    sk_ctps_free(&two[1].target);
}
END_TEST

START_TEST(test_uniform_heterogeneous)
{
    /* a subscribes to t, b to t and u: u goes to b only, totals balanced */
    cassign_member m[2] = {{"a", sub_t, 1, NULL, {0}}, {"b", sub_tu, 2, NULL, {0}}};
    run_assignor("uniform", m, 2);
    ck_assert_str_eq(target_str(&m[0]), "t0 t2 t4 t5");
    ck_assert_str_eq(target_str(&m[1]), "t1 t3 u0 u1 u2");
    sk_ctps_free(&m[0].target);
    sk_ctps_free(&m[1].target);
    /* nobody subscribed: nothing assigned */
    cassign_member none[1] = {{"a", NULL, 0, NULL, {0}}};
    run_assignor("uniform", none, 1);
    ck_assert_int_eq(none[0].target.n, 0);
}
END_TEST

START_TEST(test_range_contiguous_then_sticky)
{
    cassign_member m[3] = {{"c", sub_tu, 2, NULL, {0}}, {"a", sub_tu, 2, NULL, {0}}, {"b", sub_tu, 2, NULL, {0}}};
    run_assignor("range", m, 3);
    /* member id order a, b, c: ranges of each topic */
    ck_assert_str_eq(target_str(&m[1]), "t0 t1 u0");
    ck_assert_str_eq(target_str(&m[2]), "t2 t3 u1");
    ck_assert_str_eq(target_str(&m[0]), "t4 t5 u2");
    /* b leaves: a and c keep theirs */
    ctps pa = {0}, pc = {0};
    sk_ctps_copy(&pa, &m[1].target);
    sk_ctps_copy(&pc, &m[0].target);
    cassign_member two[2] = {{"a", sub_tu, 2, &pa, {0}}, {"c", sub_tu, 2, &pc, {0}}};
    run_assignor("range", two, 2);
    ck_assert_str_eq(target_str(&two[0]), "t0 t1 t2 u0 u1");
    ck_assert_str_eq(target_str(&two[1]), "t3 t4 t5 u2");
    for (int i = 0; i < 3; i++)
        sk_ctps_free(&m[i].target);
    sk_ctps_free(&two[0].target);
    sk_ctps_free(&two[1].target);
    sk_ctps_free(&pa);
    sk_ctps_free(&pc);
}
END_TEST

/* ---- reconciliation ---- */

START_TEST(test_join_revoke_then_assign)
{
    answer a = join_cg("A", "t");
    ck_assert_int_eq(a.error, SK_ERR_NONE);
    ck_assert_str_eq(a.member_id, "A");
    ck_assert_int_eq(a.epoch, 1);
    ck_assert_int_eq(a.interval, 500);
    ck_assert(a.has_assignment);
    ck_assert_str_eq(a.assignment, "t0 t1 t2 t3 t4 t5");

    /* B joins: group epoch 2; its partitions are still A's (unreleased) */
    answer b = join_cg("B", "t");
    ck_assert_int_eq(b.error, SK_ERR_NONE);
    ck_assert_int_eq(b.epoch, 2);
    ck_assert_str_eq(b.assignment, "");
    ck_assert_int_eq(member_of("B")->state, CM_UNRELEASED_PARTITIONS);
    ck_assert_int_eq(cg()->group_epoch, 2);
    ck_assert_int_eq(cg()->assignment_epoch, 2);
    assert_exclusive();

    /* A must revoke first: it keeps epoch 1 and is told its kept half */
    a = beat("A", 1, "t0 t1 t2 t3 t4 t5");
    ck_assert_int_eq(a.epoch, 1);
    ck_assert_str_eq(a.assignment, "t0 t1 t2");
    ck_assert_int_eq(member_of("A")->state, CM_UNREVOKED_PARTITIONS);
    ck_assert_str_eq(sk_cgroup_state_name(sk_cgroup_state_of(cg())), "Reconciling");
    assert_exclusive();
    /* still owning them: nothing changes, no assignment sent */
    a = beat("A", 1, "t0 t1 t2 t3 t4 t5");
    ck_assert_int_eq(a.epoch, 1);
    ck_assert(!a.has_assignment);
    /* B waits for them meanwhile */
    b = beat("B", 2, "");
    ck_assert_int_eq(b.epoch, 2);
    ck_assert(!b.has_assignment);

    /* A acknowledges: epoch 2, stable; B then gets the released ones */
    a = beat("A", 1, "t0 t1 t2");
    ck_assert_int_eq(a.epoch, 2);
    ck_assert_int_eq(member_of("A")->state, CM_STABLE);
    b = beat("B", 2, "");
    ck_assert_int_eq(b.epoch, 2);
    ck_assert(b.has_assignment);
    ck_assert_str_eq(b.assignment, "t3 t4 t5");
    ck_assert_int_eq(member_of("B")->state, CM_STABLE);
    ck_assert_str_eq(sk_cgroup_state_name(sk_cgroup_state_of(cg())), "Stable");
    assert_exclusive();

    /* B leaves (-1): A gets everything back at epoch 3 */
    b = beat("B", CM_EPOCH_LEAVE, NULL);
    ck_assert_int_eq(b.error, SK_ERR_NONE);
    ck_assert_int_eq(b.epoch, -1);
    ck_assert_ptr_null(member_of("B"));
    a = beat("A", 2, "t0 t1 t2");
    ck_assert_int_eq(a.epoch, 3);
    ck_assert_str_eq(a.assignment, "t0 t1 t2 t3 t4 t5");
}
END_TEST

START_TEST(test_lost_answer_previous_epoch)
{
    join_cg("A", "t");
    join_cg("B", "t");
    beat("A", 1, "t0 t1 t2 t3 t4 t5");
    answer a = beat("A", 1, "t0 t1 t2");
    ck_assert_int_eq(a.epoch, 2);
    /* the answer was lost: A comes back with epoch 1 owning a subset */
    a = beat("A", 1, "t0 t1 t2");
    ck_assert_int_eq(a.error, SK_ERR_NONE);
    ck_assert_int_eq(a.epoch, 2);
    /* with a partition it does not have: fenced */
    a = beat("A", 1, "t0 t5");
    ck_assert_int_eq(a.error, SK_ERR_FENCED_MEMBER_EPOCH);
    ck_assert_int_eq(a.epoch, 0);
    ck_assert(!a.has_assignment);
    /* ahead of the coordinator: fenced */
    a = beat("A", 3, NULL);
    ck_assert_int_eq(a.error, SK_ERR_FENCED_MEMBER_EPOCH);
    ck_assert_str_eq(a.message, "The consumer group member has a greater member epoch (3) than the one known by the "
                                "group coordinator (2). The member must abandon all its partitions and rejoin.");
    /* epoch 0 rejoins (KAFKA-19233) and gets its assignment back */
    a = join_cg("A", "t");
    ck_assert_int_eq(a.error, SK_ERR_NONE);
    ck_assert_int_eq(a.epoch, 2);
    ck_assert_str_eq(a.assignment, "t0 t1 t2");
}
END_TEST

START_TEST(test_heartbeat_errors)
{
    answer r = heartbeat_cg(
        (hbreq){.group = "", .member = "A", .epoch = 0, .rebalance_timeout = 1, .topics = "t", .owned = ""});
    ck_assert_int_eq(r.error, SK_ERR_INVALID_REQUEST);
    ck_assert_str_eq(r.message, "GroupId can't be empty.");
    ck_assert_str_eq(r.member_id, "<null>");
    r = heartbeat_cg((hbreq){.member = "A", .epoch = 0, .topics = "t", .owned = ""});
    ck_assert_str_eq(r.message, "RebalanceTimeoutMs must be provided in first request.");
    r = heartbeat_cg((hbreq){.member = "A", .epoch = 0, .rebalance_timeout = 1, .topics = "t", .owned = "t0"});
    ck_assert_str_eq(r.message, "TopicPartitions must be empty when (re-)joining.");
    r = heartbeat_cg((hbreq){.member = "A", .epoch = 0, .rebalance_timeout = 1, .topics = "t"});
    ck_assert_str_eq(r.message, "TopicPartitions must be empty when (re-)joining.");
    r = heartbeat_cg((hbreq){.member = "A", .epoch = 0, .rebalance_timeout = 1, .owned = ""});
    ck_assert_str_eq(r.message,
                     "Either SubscribedTopicNames or SubscribedTopicRegex must be non-null when (re-)joining.");
    r = heartbeat_cg((hbreq){.member = "", .epoch = 0, .rebalance_timeout = 1, .topics = "t", .owned = ""});
    ck_assert_str_eq(r.message, "MemberId can't be empty.");
    r = heartbeat_cg((hbreq){.member = "A", .epoch = -3});
    ck_assert_str_eq(r.message, "MemberEpoch is invalid.");
    r = heartbeat_cg((hbreq){.member = "A", .epoch = -2});
    ck_assert_str_eq(r.message, "InstanceId can't be null.");
    r = heartbeat_cg((hbreq){.member = "A", .instance = "", .epoch = 1});
    ck_assert_str_eq(r.message, "InstanceId can't be empty.");
    r = heartbeat_cg(
        (hbreq){.member = "A", .epoch = 0, .rebalance_timeout = 1, .topics = "t", .owned = "", .assignor = "sticky"});
    ck_assert_int_eq(r.error, SK_ERR_UNSUPPORTED_ASSIGNOR);
    ck_assert_uint_eq(sk_groups_count(gs), 0);

    /* unknown group, unknown member */
    r = beat("A", 1, NULL);
    ck_assert_int_eq(r.error, SK_ERR_GROUP_ID_NOT_FOUND);
    join_cg("A", "t");
    r = beat("Z", 1, NULL);
    ck_assert_int_eq(r.error, SK_ERR_UNKNOWN_MEMBER_ID);
    ck_assert_str_eq(r.message, "Member Z is not a member of group g.");
    ck_assert_int_eq(r.interval, 0); /* Kafka: no interval in an error answer */
    r = beat("Z", CM_EPOCH_LEAVE, NULL);
    ck_assert_int_eq(r.error, SK_ERR_UNKNOWN_MEMBER_ID);

    /* v0: the coordinator names a member that joins without an id */
    r = heartbeat_cg((hbreq){.member = "", .epoch = 0, .rebalance_timeout = 1, .topics = "t", .owned = "", .v0 = true});
    ck_assert_int_eq(r.error, SK_ERR_NONE);
    ck_assert_uint_eq(strlen(r.member_id), 22);
    ck_assert_int_eq(r.epoch, 2);

    /* a classic group with members is not a consumer group */
    char m[64];
    stable_member("classic", m, sizeof m);
    r = heartbeat_cg(
        (hbreq){.group = "classic", .member = "A", .epoch = 0, .rebalance_timeout = 1, .topics = "t", .owned = ""});
    ck_assert_int_eq(r.error, SK_ERR_GROUP_ID_NOT_FOUND);
    /* and a classic JoinGroup meets a consumer group with members: it may
     * join (cgroup_migrate.c), but not with a malformed subscription */
    waiter w = {0}, w2 = {0};
    join(&w, 5, "g", "", NULL, "range", "m");
    ck_assert_int_eq(w.error_code, SK_ERR_MEMBER_ID_REQUIRED);
    join(&w2, 5, "g", w.member_id, NULL, "range", "m");
    ck_assert_int_eq(w2.error_code, SK_ERR_INCONSISTENT_GROUP_PROTOCOL);
}
END_TEST

START_TEST(test_static_members)
{
    answer a = heartbeat_cg(
        (hbreq){.member = "A1", .instance = "ia", .epoch = 0, .rebalance_timeout = 1, .topics = "t", .owned = ""});
    ck_assert_int_eq(a.epoch, 1);
    answer b = heartbeat_cg(
        (hbreq){.member = "B1", .instance = "ib", .epoch = 0, .rebalance_timeout = 1, .topics = "t", .owned = ""});
    ck_assert_int_eq(b.epoch, 2);
    beat("A1", 1, "t0 t1 t2 t3 t4 t5");
    heartbeat_cg((hbreq){.member = "A1", .instance = "ia", .epoch = 1, .owned = "t0 t1 t2"});
    b = heartbeat_cg((hbreq){.member = "B1", .instance = "ib", .epoch = 2, .owned = ""});
    ck_assert_str_eq(b.assignment, "t3 t4 t5");

    /* another process with the same instance id while B1 is active */
    answer x = heartbeat_cg(
        (hbreq){.member = "B2", .instance = "ib", .epoch = 0, .rebalance_timeout = 1, .topics = "t", .owned = ""});
    ck_assert_int_eq(x.error, SK_ERR_UNRELEASED_INSTANCE_ID);
    /* the instance id with another member id */
    x = heartbeat_cg((hbreq){.member = "B2", .instance = "ib", .epoch = 2, .owned = ""});
    ck_assert_int_eq(x.error, SK_ERR_FENCED_INSTANCE_ID);
    x = heartbeat_cg((hbreq){.member = "B1", .instance = "nobody", .epoch = 2});
    ck_assert_int_eq(x.error, SK_ERR_UNKNOWN_MEMBER_ID);

    /* B1 leaves for now (-2): its partitions stay its, the group epoch too */
    x = heartbeat_cg((hbreq){.member = "B1", .instance = "ib", .epoch = -2});
    ck_assert_int_eq(x.error, SK_ERR_NONE);
    ck_assert_int_eq(x.epoch, -2);
    ck_assert_int_eq(cg()->group_epoch, 2);
    ck_assert_str_eq(assigned_of("B1"), "t3 t4 t5");
    a = heartbeat_cg((hbreq){.member = "A1", .instance = "ia", .epoch = 2, .owned = "t0 t1 t2"});
    ck_assert(!a.has_assignment);

    /* it comes back as B2: same partitions, no new group epoch */
    x = heartbeat_cg(
        (hbreq){.member = "B2", .instance = "ib", .epoch = 0, .rebalance_timeout = 1, .topics = "t", .owned = ""});
    ck_assert_int_eq(x.error, SK_ERR_NONE);
    ck_assert_int_eq(x.epoch, 2);
    ck_assert_str_eq(x.assignment, "t3 t4 t5");
    ck_assert_ptr_null(member_of("B1"));
    ck_assert_int_eq(cg()->group_epoch, 2);
    assert_exclusive();
}
END_TEST

START_TEST(test_session_and_rebalance_timeouts)
{
    join_cg("A", "t");
    join_cg("B", "t"); /* A must revoke three, within its rebalance timeout (30 s) */
    beat("A", 1, "t0 t1 t2 t3 t4 t5");
    ck_assert_int_eq(member_of("A")->state, CM_UNREVOKED_PARTITIONS);
    /* A falls silent: its session (10 s from its last heartbeat) expires */
    advance(5000);
    beat("B", 2, "");
    advance(4999);
    settle();
    ck_assert_ptr_nonnull(member_of("A"));
    advance(2);
    settle();
    ck_assert_ptr_null(member_of("A"));
    ck_assert_int_eq(cg()->group_epoch, 3);
    answer b = beat("B", 2, "");
    ck_assert_int_eq(b.epoch, 3);
    ck_assert_str_eq(b.assignment, "t0 t1 t2 t3 t4 t5");

    /* rebalance timeout: C joins, B keeps heartbeating without revoking */
    heartbeat_cg((hbreq){.member = "C", .epoch = 0, .rebalance_timeout = 2000, .topics = "t", .owned = ""});
    heartbeat_cg((hbreq){.member = "B", .epoch = 3, .rebalance_timeout = 2000, .owned = "t0 t1 t2 t3 t4 t5"});
    ck_assert_int_eq(member_of("B")->state, CM_UNREVOKED_PARTITIONS);
    advance(1500);
    beat("B", 3, "t0 t1 t2 t3 t4 t5");
    beat("C", 4, "");
    advance(600);
    settle();
    ck_assert_ptr_null(member_of("B"));
    answer c = beat("C", 4, "");
    ck_assert_int_eq(c.epoch, 5);
    ck_assert_str_eq(c.assignment, "t0 t1 t2 t3 t4 t5");
}
END_TEST

START_TEST(test_regex_subscription)
{
    /* whole-name matches: "t|v" is t (and v once it exists), not u */
    answer a = heartbeat_cg((hbreq){.member = "A", .epoch = 0, .rebalance_timeout = 1, .regex = "t|v", .owned = ""});
    ck_assert_int_eq(a.error, SK_ERR_NONE);
    ck_assert_str_eq(a.assignment, ""); /* a regex new to the group: matched from the next heartbeat, as Kafka */
    a = beat("A", 1, "");
    ck_assert_int_eq(a.epoch, 2);
    ck_assert_str_eq(a.assignment, "t0 t1 t2 t3 t4 t5");
    topics[2].partitions = 2;
    a = beat("A", 2, "t0 t1 t2 t3 t4 t5");
    ck_assert_int_eq(a.epoch, 3);
    ck_assert_str_eq(a.assignment, "t0 t1 t2 t3 t4 t5 v0 v1");
    /* a member by name and one by regex share the group */
    answer b = join_cg("B", "u");
    ck_assert_str_eq(b.assignment, "u0 u1 u2");
    /* "" clears the regex (librdkafka sends it beside topic names) */
    a = heartbeat_cg(
        (hbreq){.member = "A", .epoch = 3, .topics = "v", .regex = "", .owned = "t0 t1 t2 t3 t4 t5 v0 v1"});
    ck_assert_int_eq(a.error, SK_ERR_NONE);
    ck_assert_ptr_null(member_of("A")->regex);
    ck_assert_int_eq(a.epoch, 3); /* t's partitions to revoke first */
    ck_assert_str_eq(a.assignment, "v0 v1");
    a = beat("A", 3, "v0 v1");
    ck_assert_int_eq(a.epoch, 5);

    answer r = heartbeat_cg((hbreq){.member = "C", .epoch = 0, .rebalance_timeout = 1, .regex = "t(", .owned = ""});
    ck_assert_int_eq(r.error, SK_ERR_INVALID_REGULAR_EXPRESSION);
    ck_assert_int_eq(strncmp(r.message, "SubscribedTopicRegex `t(` is not a valid regular expression: ", 61), 0);
    r = heartbeat_cg((hbreq){.member = "C", .epoch = 0, .rebalance_timeout = 1, .regex = "(t)\\1", .owned = ""});
    ck_assert_int_eq(r.error, SK_ERR_INVALID_REGULAR_EXPRESSION); /* RE2/J has no backreferences */
    ck_assert_ptr_null(member_of("C"));
}
END_TEST

START_TEST(test_topic_changes)
{
    answer a = join_cg("A", "t,u,v");
    ck_assert_str_eq(a.assignment, "t0 t1 t2 t3 t4 t5 u0 u1 u2");
    /* v is created: the next heartbeat sees it and bumps the group epoch */
    topics[2].partitions = 1;
    a = beat("A", 1, "t0 t1 t2 t3 t4 t5 u0 u1 u2");
    ck_assert_int_eq(a.epoch, 2);
    ck_assert_int_eq(member_of("A")->assigned.n, 10);
    /* u is deleted: its partitions go */
    topics[1].partitions = 0;
    a = beat("A", 2, NULL);
    ck_assert_int_eq(a.epoch, 2); /* must first give up u's partitions */
    ck_assert_str_eq(a.assignment, "t0 t1 t2 t3 t4 t5 v0");
    a = beat("A", 2, "t0 t1 t2 t3 t4 t5");
    ck_assert_int_eq(a.epoch, 3);
}
END_TEST

/* ---- offsets, ListGroups, DescribeGroups, replay ---- */

static int16_t commit_cg(const char *member, int32_t epoch)
{
    kf_offset_commit_request rq;
    kf_init(&kf_offset_commit_request_desc, &rq);
    rq.group_id = kf_str_c("g");
    rq.member_id = kf_str_c(member);
    rq.generation_id_or_member_epoch = epoch;
    kf_offset_commit_request_partition p;
    kf_init(&kf_offset_commit_request_partition_desc, &p);
    p.partition_index = 0;
    p.committed_offset = 42;
    kf_offset_commit_request_topic t;
    kf_init(&kf_offset_commit_request_topic_desc, &t);
    t.name = kf_str_c("t");
    t.partitions.items = &p;
    t.partitions.n = 1;
    rq.topics.items = &t;
    rq.topics.n = 1;
    kf_offset_commit_response_partition rp = {0};
    kf_offset_commit_response_topic rt = {0};
    rt.name = t.name;
    rt.partitions.items = &rp;
    rt.partitions.n = 1;
    kf_offset_commit_response resp;
    kf_init(&kf_offset_commit_response_desc, &resp);
    resp.topics.items = &rt;
    resp.topics.n = 1;
    sk_group_commit_offsets(gs, 9, &rq, &resp);
    return rp.error_code;
}

START_TEST(test_offsets_with_member_epochs)
{
    join_cg("A", "t");
    ck_assert_int_eq(commit_cg("A", 1), SK_ERR_NONE);
    ck_assert_int_eq(commit_cg("A", 0), SK_ERR_STALE_MEMBER_EPOCH);
    ck_assert_int_eq(commit_cg("A", 2), SK_ERR_STALE_MEMBER_EPOCH);
    ck_assert_int_eq(commit_cg("Z", 1), SK_ERR_UNKNOWN_MEMBER_ID);
    ck_assert_int_eq(commit_cg("", -1), SK_ERR_UNKNOWN_MEMBER_ID); /* admin commit to a non-empty group */
    ck_assert_int_eq(sk_cgroup_validate_fetch(gs, kf_str_c("g"), kf_str_c("A"), 1), SK_ERR_NONE);
    ck_assert_int_eq(sk_cgroup_validate_fetch(gs, kf_str_c("g"), kf_str_c("A"), 3), SK_ERR_STALE_MEMBER_EPOCH);
    ck_assert_int_eq(sk_cgroup_validate_fetch(gs, kf_str_c("g"), kf_str_c("Z"), 1), SK_ERR_UNKNOWN_MEMBER_ID);
    ck_assert_int_eq(sk_cgroup_validate_fetch(gs, kf_str_c("g"), kf_str_c(NULL), -1), SK_ERR_NONE);
    beat("A", CM_EPOCH_LEAVE, NULL);
    ck_assert_int_eq(commit_cg("", -1), SK_ERR_NONE); /* empty now */

    /* ListGroups: type consumer, its state; DescribeGroups: Dead, as Kafka v0-5 */
    sk_arena a = {0};
    kf_list_groups_response_group *l;
    kf_str consumer = kf_str_c("consumer"), classic = kf_str_c("classic");
    ck_assert_int_eq(sk_groups_list(gs, NULL, 0, &consumer, 1, &l, &a), 1);
    ck_assert_str_eq(l[0].group_type.p, "consumer");
    ck_assert_str_eq(l[0].protocol_type.p, "consumer");
    ck_assert_str_eq(l[0].group_state.p, "Empty");
    ck_assert_int_eq(sk_groups_list(gs, NULL, 0, &classic, 1, &l, &a), 0);
    kf_describe_groups_response_group d;
    kf_init(&kf_describe_groups_response_group_desc, &d);
    sk_group_describe(gs, kf_str_c("g"), &d, &a);
    ck_assert_str_eq(d.group_state.p, "Dead");
    ck_assert_int_eq(d.members.n, 0);
    /* OffsetDelete: refused while a member subscribes to the topic (here none) */
    kf_offset_delete_request od;
    kf_init(&kf_offset_delete_request_desc, &od);
    od.group_id = kf_str_c("g");
    kf_offset_delete_request_partition odp = {.partition_index = 0};
    kf_offset_delete_request_topic odt = {.name = kf_str_c("t"), .partitions = {&odp, 1}};
    od.topics.items = &odt;
    od.topics.n = 1;
    kf_offset_delete_response_partition odrp = {0};
    kf_offset_delete_response_topic odrt = {.name = kf_str_c("t"), .partitions = {&odrp, 1}};
    kf_offset_delete_response odr;
    kf_init(&kf_offset_delete_response_desc, &odr);
    odr.topics.items = &odrt;
    odr.topics.n = 1;
    join_cg("B", "t");
    ck_assert_int_eq(sk_group_delete_offsets(gs, &od, &odr), SK_ERR_NONE);
    ck_assert_int_eq(odrp.error_code, SK_ERR_GROUP_SUBSCRIBED_TO_TOPIC);
    beat("B", CM_EPOCH_LEAVE, NULL);
    odrp.error_code = 0;
    ck_assert_int_eq(sk_group_delete_offsets(gs, &od, &odr), SK_ERR_NONE);
    ck_assert_int_eq(odrp.error_code, SK_ERR_NONE);
    /* DeleteGroups of the empty consumer group */
    ck_assert_int_eq(sk_group_delete(gs, kf_str_c("g")), SK_ERR_NONE);
    ck_assert_uint_eq(sk_groups_count(gs), 0);
    sk_arena_free(&a);
}
END_TEST

START_TEST(test_offset_expiration)
{
    /* A consumer group with a member and no offsets outlives the expiration
     * checks (its classic state is Empty: only a group without members goes). */
    join_cg("A", "t");
    advance(600001); /* an expiration check with no offsets at all */
    beat("A", 1, "t0 t1 t2 t3 t4 t5");
    settle();
    ck_assert_ptr_nonnull(cg());
    ck_assert_int_eq(commit_cg("A", 1), SK_ERR_NONE); /* t-0, subscribed: never expires while subscribed */
    for (int i = 0; i < 2 * 7 * 24 * 6; i++) {        /* two weeks of 10-minute checks */
        advance(600000);
        beat("A", 1, "t0 t1 t2 t3 t4 t5");
        settle();
    }
    ck_assert_ptr_nonnull(cg());
    ck_assert_int_eq(cg()->nmembers, 1);
    ck_assert_int_eq(sk_cgroup_validate_fetch(gs, kf_str_c("g"), kf_str_c("A"), 1), SK_ERR_NONE);
    kf_offset_fetch_response_group o;
    sk_arena a = {0};
    kf_init(&kf_offset_fetch_response_group_desc, &o);
    ck_assert_int_eq(sk_group_fetch_offsets(gs, kf_str_c("g"), NULL, -1, false, &o, &a), 0);
    ck_assert_int_eq(o.topics.n, 1);
    /* A leaves: the offset, unsubscribed now, expires a week after its commit, then the group goes */
    beat("A", CM_EPOCH_LEAVE, NULL);
    advance(600000);
    settle();
    ck_assert_uint_eq(sk_groups_count(gs), 0);
    /* the deletion was stored with the consumer group's tombstones */
    ck_assert_int_eq(records[nrecords - 1].key[1], CREC_GROUP_METADATA);
    ck_assert_int_eq(records[nrecords - 1].value_len, -1);
    sk_arena_free(&a);
}
END_TEST

/* A new coordinator loads every record written so far. */
static void reload(void)
{
    sk_groups_close(gs);
    gs = open_consumer_groups();
    for (int i = 0; i < nrecords; i++) {
        sk_group_record r = {records[i].key, records[i].key_len, records[i].value_len >= 0 ? records[i].value : NULL,
                             records[i].value_len >= 0 ? (size_t)records[i].value_len : 0};
        ck_assert_int_eq(sk_groups_replay(gs, &r, records[i].offset, -1), 0);
    }
    sk_groups_loaded(gs);
}

START_TEST(test_replay_gives_the_same_group)
{
    join_cg("A", "t");
    heartbeat_cg((hbreq){.member = "B",
                         .instance = "ib",
                         .epoch = 0,
                         .rebalance_timeout = 1,
                         .topics = "t",
                         .owned = "",
                         .assignor = "range"});
    beat("A", 1, "t0 t1 t2 t3 t4 t5");
    ck_assert_int_eq(member_of("A")->state, CM_UNREVOKED_PARTITIONS);
    cgroup before = *cg();
    char a_assigned[128], b_target[128];
    snprintf(a_assigned, sizeof a_assigned, "%s", assigned_of("A"));
    tps_string(&member_of("B")->target, b_target, sizeof b_target);

    reload();
    ck_assert_int_eq(cg()->group_epoch, before.group_epoch);
    ck_assert_int_eq(cg()->assignment_epoch, before.assignment_epoch);
    ck_assert_int_eq(cg()->nmembers, 2);
    ck_assert_int_eq(cg()->ntopics, 1);
    ck_assert_str_eq(assigned_of("A"), a_assigned);
    ck_assert_int_eq(member_of("A")->state, CM_UNREVOKED_PARTITIONS);
    ck_assert_int_eq(member_of("A")->member_epoch, 1);
    ck_assert_uint_ne(member_of("A")->rebalance.slot, SK_COORD_TIMER_IDLE); /* its revocation deadline runs again */
    ck_assert_uint_eq(member_of("B")->rebalance.slot, SK_COORD_TIMER_IDLE);
    ck_assert_str_eq(member_of("B")->instance_id, "ib");
    ck_assert_str_eq(member_of("B")->server_assignor, "range");
    char t[128];
    tps_string(&member_of("B")->target, t, sizeof t);
    ck_assert_str_eq(t, b_target);
    /* reconciliation goes on where it was */
    answer a = beat("A", 1, a_assigned);
    ck_assert_int_eq(a.epoch, 2);
    /* sessions were armed at load */
    advance(10001);
    settle();
    ck_assert_ptr_null(cg() ? member_of("B") : NULL);
}
END_TEST

/* ---- classic members (the online upgrade, cgroup_migrate.c) ---- */

/* ConsumerProtocolSubscription v0 of topic "t", and ConsumerProtocolAssignment
 * v0 of partitions `p` of "t". */
static const uint8_t sub_v0[] = {0, 0, 0, 0, 0, 1, 0, 1, 't', 0xff, 0xff, 0xff, 0xff};

static int32_t assignment_v0(uint8_t *out, const int32_t *p, int32_t n)
{
    uint8_t head[] = {0, 0, 0, 0, 0, 1, 0, 1, 't', 0, 0, 0, (uint8_t)n};
    memcpy(out, head, sizeof head);
    int32_t len = (int32_t)sizeof head;
    for (int32_t i = 0; i < n; i++, len += 4) {
        uint8_t be[4] = {0, 0, 0, (uint8_t)p[i]};
        memcpy(out + len, be, 4);
    }
    memset(out + len, 0xff, 4); /* no user data */
    return len + 4;
}

static void classic_join(waiter *w, const char *member)
{
    kf_join_group_request rq = join_request("g", member, NULL, "range", "");
    protocols[0].metadata.p = sub_v0;
    protocols[0].metadata.len = (int32_t)sizeof sub_v0;
    sk_group_join(gs, &client, 3, &rq, w);
}

/* A classic group "g" at generation 1: A owns t0-t2, B t3-t5. */
static void classic_pair(char a[64], char b[64])
{
    waiter wa = {0}, wb = {0}, sa = {0}, sb = {0};
    classic_join(&wa, "");
    classic_join(&wb, "");
    settle();
    ck_assert_int_eq(wa.error_code, SK_ERR_NONE);
    ck_assert_int_eq(wb.generation_id, 1);
    snprintf(a, 64, "%s", !strcmp(wa.leader, wa.member_id) ? wa.member_id : wb.member_id);
    snprintf(b, 64, "%s", !strcmp(wa.leader, wa.member_id) ? wb.member_id : wa.member_id);
    static uint8_t pa[64], pb[64];
    static const int32_t first[] = {0, 1, 2}, second[] = {3, 4, 5};
    kf_sync_group_request rq = sync_request("g", 1, a);
    assignments[0].member_id = kf_str_c(a);
    assignments[0].assignment.p = pa;
    assignments[0].assignment.len = assignment_v0(pa, first, 3);
    assignments[1].member_id = kf_str_c(b);
    assignments[1].assignment.p = pb;
    assignments[1].assignment.len = assignment_v0(pb, second, 3);
    rq.assignments.items = assignments;
    rq.assignments.n = 2;
    sk_group_sync(gs, 3, &rq, &sa);
    kf_sync_group_request rb = sync_request("g", 1, b);
    sk_group_sync(gs, 3, &rb, &sb);
    ck_assert_int_eq(sa.error_code, SK_ERR_NONE);
    ck_assert_int_eq(sb.error_code, SK_ERR_NONE);
}

/* A classic member's JoinGroup (v3, subscription "t" v0) and SyncGroup;
 * the assignment's partitions of "t" go to `parts` ("0 1"). */
static int32_t classic_rejoin(const char *member, char *parts, size_t n)
{
    waiter wj = {0}, ws = {0};
    classic_join(&wj, member);
    ck_assert_int_eq(wj.calls, 1);
    ck_assert_int_eq(wj.error_code, SK_ERR_NONE);
    ck_assert_str_eq(wj.member_id, member);
    ck_assert_str_eq(wj.protocol_type, "consumer");
    ck_assert_str_eq(wj.protocol_name, "range");
    ck_assert_str_eq(wj.leader, "");
    kf_sync_group_request rq = sync_request("g", wj.generation_id, member);
    rq.protocol_type = kf_str_c("consumer");
    rq.protocol_name = kf_str_c("range");
    static uint8_t got[64];
    memset(got, 0, sizeof got);
    sk_group_sync(gs, 5, &rq, &ws);
    ck_assert_int_eq(ws.error_code, SK_ERR_NONE);
    /* ConsumerProtocolAssignment v0: version, [topic, [partition]], user data */
    const uint8_t *a = sync_bytes;
    ck_assert_int_ge(sync_len, 10);
    size_t pos = 0;
    parts[0] = 0;
    ck_assert_int_eq(a[0] | a[1], 0);
    int32_t nt = a[5];
    pos = 6;
    for (int32_t t = 0; t < nt; t++) {
        ck_assert_int_eq(a[pos + 1], 1);
        ck_assert_int_eq(a[pos + 2], 't');
        int32_t np = a[pos + 6];
        pos += 7;
        for (int32_t i = 0; i < np; i++, pos += 4)
            snprintf(parts + strlen(parts), n - strlen(parts), "%s%d", strlen(parts) ? " " : "", a[pos + 3]);
    }
    return wj.generation_id;
}

START_TEST(test_upgrade_keeps_classic_assignments)
{
    static char bidirectional[] = "bidirectional";
    cfg.group_consumer_migration_policy = bidirectional;
    char a[64], b[64];
    classic_pair(a, b);
    answer c = join_cg("C", "t");
    ck_assert_int_eq(c.error, SK_ERR_NONE);
    ck_assert_ptr_nonnull(cg());
    ck_assert_int_eq(sk_group_find(gs, "g", 1)->nmembers, 0); /* no classic group left */
    ck_assert_int_eq(cg()->nmembers, 3);
    ck_assert_int_eq(cg()->group_epoch, 2); /* the generation, then C's join */
    ck_assert_int_eq(cg()->assignment_epoch, 2);
    /* the classic members keep what they own, at the generation */
    ck_assert_str_eq(assigned_of(a), "t0 t1 t2");
    ck_assert_str_eq(assigned_of(b), "t3 t4 t5");
    ck_assert_int_eq(member_of(a)->member_epoch, 1);
    ck_assert_int_eq(member_of(a)->state, CM_STABLE);
    ck_assert_ptr_nonnull(member_of(a)->classic);
    ck_assert_int_eq(member_of(a)->classic->session_timeout_ms, 10000);
    ck_assert_str_eq(member_of(a)->classic->protocols[0].name, "range");
    ck_assert_ptr_null(member_of("C")->classic);
    /* C's partitions are still owned by the classic members: none yet */
    ck_assert_int_eq(c.epoch, 2);
    ck_assert_str_eq(c.assignment, "");
    char ta[128], tb[128];
    tps_string(&member_of(a)->target, ta, sizeof ta);
    tps_string(&member_of(b)->target, tb, sizeof tb);
    ck_assert_str_eq(ta, "t0 t1");
    ck_assert_str_eq(tb, "t3 t4");
    assert_exclusive();

    /* the classic members learn of the new epoch through Heartbeat and
     * rejoin: they give up what C gets, then C gets it */
    ck_assert_int_eq(heartbeat("g", 1, a, NULL), SK_ERR_REBALANCE_IN_PROGRESS);
    ck_assert_int_eq(heartbeat("g", 0, a, NULL), SK_ERR_ILLEGAL_GENERATION);
    ck_assert_int_eq(heartbeat("g", 1, "C", NULL), SK_ERR_UNKNOWN_MEMBER_ID);
    char parts[64];
    ck_assert_int_eq(classic_rejoin(a, parts, sizeof parts), 2);
    ck_assert_str_eq(parts, "0 1");
    ck_assert_int_eq(heartbeat("g", 2, a, NULL), SK_ERR_NONE);
    ck_assert_int_eq(classic_rejoin(b, parts, sizeof parts), 2);
    ck_assert_str_eq(parts, "3 4");
    c = beat("C", 2, "");
    ck_assert_str_eq(c.assignment, "t2 t5");
    assert_exclusive();
    ck_assert_int_eq(heartbeat("g", 2, b, NULL), SK_ERR_NONE);
    ck_assert_int_eq(sk_cgroup_state_of(cg()), CG_STABLE);

    /* the records give the same mixed group */
    reload();
    ck_assert_int_eq(sk_group_find(gs, "g", 1)->nmembers, 0);
    ck_assert_int_eq(cg()->nmembers, 3);
    ck_assert_str_eq(assigned_of(a), "t0 t1");
    ck_assert_int_eq(member_of(b)->classic->session_timeout_ms, 10000);
    ck_assert_int_eq(member_of(b)->classic->protocols[0].metadata_len, (int32_t)sizeof sub_v0);
    /* classic members' sessions are their JoinGroup's */
    advance(10001);
    settle();
    ck_assert_ptr_null(member_of(a));
    ck_assert_ptr_null(member_of(b));
}
END_TEST

/* A mixed group "g" at epoch 2: classic A (t0 t1), B (t3 t4), consumer C (t2 t5). */
static void mixed_group(char a[64], char b[64])
{
    char parts[64];
    classic_pair(a, b);
    ck_assert_int_eq(join_cg("C", "t").error, SK_ERR_NONE);
    ck_assert_int_eq(classic_rejoin(a, parts, sizeof parts), 2);
    ck_assert_int_eq(classic_rejoin(b, parts, sizeof parts), 2);
    ck_assert_str_eq(beat("C", 2, "").assignment, "t2 t5");
}

START_TEST(test_downgrade_when_the_last_consumer_member_leaves)
{
    static char bidirectional[] = "bidirectional", upgrade[] = "upgrade";
    cfg.group_consumer_migration_policy = bidirectional;
    char a[64], b[64];
    mixed_group(a, b);
    answer c = heartbeat_cg((hbreq){.member = "C", .epoch = -1});
    ck_assert_int_eq(c.error, SK_ERR_NONE);
    ggroup *g = sk_group_find(gs, "g", 1);
    ck_assert_ptr_null(g->consumer);
    ck_assert_int_eq(g->nmembers, 2);
    ck_assert_int_eq(g->state, SK_GROUP_PREPARING_REBALANCE);
    ck_assert_str_eq(g->protocol_type, "consumer");
    ck_assert_str_eq(g->protocol_name, "range");
    /* the classic members rejoin the classic group at the next generation */
    ck_assert_int_eq(heartbeat("g", 2, a, NULL), SK_ERR_REBALANCE_IN_PROGRESS);
    waiter wa = {0}, wb = {0};
    classic_join(&wa, a);
    classic_join(&wb, b);
    settle();
    ck_assert_int_eq(wa.error_code, SK_ERR_NONE);
    ck_assert_int_eq(wa.generation_id, 3);
    ck_assert_int_eq(wb.generation_id, 3);
    ck_assert_str_eq(wa.leader, a);
    ck_assert_int_eq(wa.nmembers, 2);
    /* the records give the classic group (its last state: the downgrade) */
    reload();
    g = sk_group_find(gs, "g", 1);
    ck_assert_ptr_null(g->consumer);
    ck_assert_int_eq(g->nmembers, 2);
    ck_assert_int_eq(g->generation_id, 2);

    /* policy upgrade: the consumer group stays, with its classic members */
    sk_groups_close(gs);
    gs = open_consumer_groups();
    nrecords = 0;
    cfg.group_consumer_migration_policy = upgrade;
    mixed_group(a, b);
    ck_assert_int_eq(heartbeat_cg((hbreq){.member = "C", .epoch = -1}).error, SK_ERR_NONE);
    ck_assert_ptr_nonnull(cg());
    ck_assert_int_eq(cg()->nmembers, 2);
    ck_assert_int_eq(cg()->group_epoch, 3);
    ck_assert_int_eq(heartbeat("g", 2, a, NULL), SK_ERR_REBALANCE_IN_PROGRESS);
    /* a classic LeaveGroup */
    kf_leave_group_request_member lm = {.member_id = kf_str_c(a)};
    kf_leave_group_response_member out = {0};
    ck_assert_int_eq(sk_group_leave(gs, kf_str_c("g"), &lm, 1, &out), SK_ERR_NONE);
    ck_assert_int_eq(out.error_code, SK_ERR_NONE);
    ck_assert_int_eq(cg()->nmembers, 1);
    ck_assert_int_eq(sk_group_leave(gs, kf_str_c("g"), &lm, 1, &out), SK_ERR_NONE);
    ck_assert_int_eq(out.error_code, SK_ERR_UNKNOWN_MEMBER_ID);
}
END_TEST

START_TEST(test_classic_member_errors)
{
    static char bidirectional[] = "bidirectional";
    cfg.group_consumer_migration_policy = bidirectional;
    char a[64], b[64];
    mixed_group(a, b);
    waiter w = {0};
    /* SyncGroup: the generation is the member epoch, the protocol its own */
    kf_sync_group_request rq = sync_request("g", 1, a);
    sk_group_sync(gs, 3, &rq, &w);
    ck_assert_int_eq(w.error_code, SK_ERR_ILLEGAL_GENERATION);
    rq = sync_request("g", 2, a);
    rq.protocol_type = kf_str_c("connect");
    sk_group_sync(gs, 5, &rq, &w);
    ck_assert_int_eq(w.error_code, SK_ERR_INCONSISTENT_GROUP_PROTOCOL);
    rq.protocol_type = kf_str_c("consumer");
    rq.protocol_name = kf_str_c("roundrobin");
    sk_group_sync(gs, 5, &rq, &w);
    ck_assert_int_eq(w.error_code, SK_ERR_INCONSISTENT_GROUP_PROTOCOL);
    rq = sync_request("g", 2, "C"); /* a consumer-protocol member */
    sk_group_sync(gs, 3, &rq, &w);
    ck_assert_int_eq(w.error_code, SK_ERR_UNKNOWN_MEMBER_ID);
    /* a new group epoch: the member must rejoin first */
    ck_assert_int_eq(join_cg("D", "t").error, SK_ERR_NONE);
    rq = sync_request("g", 2, a);
    sk_group_sync(gs, 3, &rq, &w);
    ck_assert_int_eq(w.error_code, SK_ERR_REBALANCE_IN_PROGRESS);
    ck_assert_int_eq(heartbeat("g", 2, a, NULL), SK_ERR_REBALANCE_IN_PROGRESS);
    /* JoinGroup: another protocol type, or no protocol the classic members have */
    waiter wj = {0};
    kf_join_group_request jr = join_request("g", a, NULL, "range", "");
    jr.protocol_type = kf_str_c("connect");
    sk_group_join(gs, &client, 5, &jr, &wj);
    ck_assert_int_eq(wj.error_code, SK_ERR_INCONSISTENT_GROUP_PROTOCOL);
    jr = join_request("g", "", NULL, "roundrobin", "");
    sk_group_join(gs, &client, 5, &jr, &wj);
    ck_assert_int_eq(wj.error_code, SK_ERR_INCONSISTENT_GROUP_PROTOCOL);
    /* a v4+ dynamic member without an id gets one first */
    classic_join(&wj, "");
    ck_assert_int_eq(wj.error_code, SK_ERR_NONE); /* v3: joins at once */
    ck_assert_uint_eq(strlen(wj.member_id), 22);
    ck_assert_ptr_nonnull(member_of(wj.member_id)->classic);
    /* unknown members */
    ck_assert_int_eq(heartbeat("g", 2, "nobody", NULL), SK_ERR_UNKNOWN_MEMBER_ID);
    ck_assert_int_eq(heartbeat("g", 2, a, "nobody"), SK_ERR_UNKNOWN_MEMBER_ID);
}
END_TEST

START_TEST(test_upgrade_refused)
{
    static char disabled[] = "disabled", downgrade[] = "DOWNGRADE", upgrade[] = "upgrade";
    char *policies[] = {disabled, downgrade};
    for (int i = 0; i < 2; i++) {
        cfg.group_consumer_migration_policy = policies[i];
        char a[64], b[64];
        classic_pair(a, b);
        answer c = join_cg("C", "t");
        ck_assert_int_eq(c.error, SK_ERR_GROUP_ID_NOT_FOUND);
        ck_assert_str_eq(c.message, "Group g is not a consumer group.");
        ck_assert_ptr_null(cg());
        ck_assert_int_eq(sk_group_find(gs, "g", 1)->nmembers, 2);
        ck_assert_int_eq(heartbeat("g", 1, a, NULL), SK_ERR_NONE);
        sk_groups_close(gs);
        gs = open_consumer_groups();
    }
    /* a classic group of another protocol type */
    cfg.group_consumer_migration_policy = upgrade;
    waiter w = {0};
    kf_join_group_request rq = join_request("g", "", NULL, "range", "x");
    rq.protocol_type = kf_str_c("connect");
    sk_group_join(gs, &client, 3, &rq, &w);
    settle();
    ck_assert_int_eq(w.error_code, SK_ERR_NONE);
    answer c = join_cg("C", "t");
    ck_assert_int_eq(c.error, SK_ERR_GROUP_ID_NOT_FOUND);
    ck_assert_str_eq(c.message, "Group g is not a consumer group.");
}
END_TEST

START_TEST(test_describe)
{
    join_cg("A", "t,u");
    sk_arena a = {0};
    kf_consumer_group_describe_response_described_group d;
    kf_init(&kf_consumer_group_describe_response_described_group_desc, &d);
    ck_assert_int_eq(sk_cgroup_describe(gs, kf_str_c("g"), &d, &a), 0);
    ck_assert_int_eq(d.error_code, SK_ERR_NONE);
    ck_assert_str_eq(d.group_state.p, "Stable");
    ck_assert_int_eq(d.group_epoch, 1);
    ck_assert_int_eq(d.assignment_epoch, 1);
    ck_assert_str_eq(d.assignor_name.p, "uniform");
    ck_assert_int_eq(d.members.n, 1);
    ck_assert_str_eq(d.members.items[0].member_id.p, "A");
    ck_assert_str_eq(d.members.items[0].client_id.p, "client");
    ck_assert_int_eq(d.members.items[0].member_epoch, 1);
    ck_assert_int_eq(d.members.items[0].member_type, 1);
    ck_assert_int_eq(d.members.items[0].subscribed_topic_names.n, 2);
    ck_assert_int_eq(d.members.items[0].assignment.topic_partitions.n, 2);
    ck_assert_str_eq(d.members.items[0].assignment.topic_partitions.items[1].topic_name.p, "u");
    ck_assert_int_eq(d.members.items[0].target_assignment.topic_partitions.items[0].partitions.n, 6);
    kf_init(&kf_consumer_group_describe_response_described_group_desc, &d);
    ck_assert_int_eq(sk_cgroup_describe(gs, kf_str_c("nope"), &d, &a), 0);
    ck_assert_int_eq(d.error_code, SK_ERR_GROUP_ID_NOT_FOUND);
    ck_assert_str_eq(d.error_message.p, "Group nope not found.");
    ck_assert_str_eq(d.group_state.p, "");
    /* the assignor most members ask for */
    heartbeat_cg(
        (hbreq){.member = "B", .epoch = 0, .rebalance_timeout = 1, .topics = "t", .owned = "", .assignor = "range"});
    ck_assert_str_eq(sk_cgroup_assignor(cg()), "range");
    heartbeat_cg(
        (hbreq){.member = "C", .epoch = 0, .rebalance_timeout = 1, .topics = "t", .owned = "", .assignor = "uniform"});
    heartbeat_cg(
        (hbreq){.member = "D", .epoch = 0, .rebalance_timeout = 1, .topics = "t", .owned = "", .assignor = "uniform"});
    ck_assert_str_eq(sk_cgroup_assignor(cg()), "uniform");
    sk_arena_free(&a);
}
END_TEST

static Suite *cgroup_suite(void)
{
    Suite *s = suite_create("cgroup");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, cg_setup, teardown);
    tcase_add_test(tc, test_uniform_balanced_and_sticky);
    tcase_add_test(tc, test_uniform_heterogeneous);
    tcase_add_test(tc, test_range_contiguous_then_sticky);
    tcase_add_test(tc, test_join_revoke_then_assign);
    tcase_add_test(tc, test_lost_answer_previous_epoch);
    tcase_add_test(tc, test_heartbeat_errors);
    tcase_add_test(tc, test_static_members);
    tcase_add_test(tc, test_session_and_rebalance_timeouts);
    tcase_add_test(tc, test_regex_subscription);
    tcase_add_test(tc, test_topic_changes);
    tcase_add_test(tc, test_offsets_with_member_epochs);
    tcase_add_test(tc, test_offset_expiration);
    tcase_add_test(tc, test_replay_gives_the_same_group);
    tcase_add_test(tc, test_describe);
    tcase_add_test(tc, test_upgrade_keeps_classic_assignments);
    tcase_add_test(tc, test_upgrade_refused);
    tcase_add_test(tc, test_downgrade_when_the_last_consumer_member_leaves);
    tcase_add_test(tc, test_classic_member_errors);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return sk_unit_run(cgroup_suite());
}
