/*
 * ConsumerGroupHeartbeat (KIP-848): the consumer group protocol, as Apache
 * Kafka 4's GroupMetadataManager.consumerGroupHeartbeat serves it.
 *
 * A heartbeat is an operation on the group: it checks the request, then
 * writes records and applies them through the one replay (runtime.c) in
 * three steps, each stored before the next reads the state:
 *  1. the member (MemberMetadata; a static member taking over its instance
 *     replaces the old member id) and, when a subscription or a subscribed
 *     topic changed, the subscribed topics (PartitionMetadata) and the
 *     group epoch bumped (ConsumerGroupMetadata);
 *  2. when the group epoch is ahead of the assignment epoch, a new target
 *     assignment computed by the assignor (TargetAssignmentMember for every
 *     member whose target changed, then TargetAssignmentMetadata);
 *  3. the member's reconciliation (CurrentMemberAssignment), Kafka's
 *     CurrentAssignmentBuilder: a member first gives up the partitions it
 *     must revoke (UNREVOKED_PARTITIONS, epoch unchanged); only then does it
 *     move to the assignment epoch and get its new partitions, those still
 *     owned by another member held back (UNRELEASED_PARTITIONS) until they
 *     are released. A partition is never owned by two members.
 *
 * Member states: STABLE -> UNREVOKED_PARTITIONS (target drops an owned
 * partition) -> STABLE / UNRELEASED_PARTITIONS (revocation acknowledged:
 * the owned partitions no longer include any revoked one) -> STABLE (the
 * held back partitions are free). Any other transition is refused.
 *
 * Fencing: a member epoch above the member's is FENCED_MEMBER_EPOCH, below
 * it too unless it is the previous epoch and the owned partitions are a
 * subset of the assigned ones (a lost answer). Epoch 0 rejoins (KAFKA-19233).
 * Leaving: epoch -1 removes the member (its partitions are free at once);
 * a static member's -2 keeps its assignment, with epoch -2, until it comes
 * back under a new member id (no reassignment) or its session expires.
 * Session timeout (group.consumer.session.timeout.ms) and rebalance
 * timeout (the member's, while it must revoke) remove the member.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup_int.h"
#include "skiff/errors.h"
#include "skiff/group_configs.h"
#include "skiff/trace.h"
#include "skiff/uuid.h"

#define DEFAULT_ASSIGNOR "uniform"

/* ---- group and members ---- */

cgroup_state sk_cgroup_state_of(const cgroup *c)
{
    if (c->nmembers == 0)
        return CG_EMPTY;
    if (c->group_epoch != c->assignment_epoch)
        return CG_ASSIGNING;
    for (int32_t i = 0; i < c->nmembers; i++) {
        const cmember *m = c->members[i];
        if (m->state != CM_STABLE || m->member_epoch != c->assignment_epoch)
            return CG_RECONCILING;
    }
    return CG_STABLE;
}

const char *sk_cgroup_state_name(cgroup_state s)
{
    static const char *const names[] = {"Empty", "Assigning", "Reconciling", "Stable", "Dead"};
    return s <= CG_DEAD ? names[s] : "Unknown";
}

cmember *sk_cmember_find(const cgroup *c, const char *member_id)
{
    for (int32_t i = 0; c && i < c->nmembers; i++)
        if (!strcmp(c->members[i]->member_id, member_id))
            return c->members[i];
    return NULL;
}

cmember *sk_cmember_find_static(const cgroup *c, const char *instance_id)
{
    for (int32_t i = 0; c && instance_id && i < c->nmembers; i++)
        if (c->members[i]->instance_id && !strcmp(c->members[i]->instance_id, instance_id))
            return c->members[i];
    return NULL;
}

cgroup *sk_cgroup_of(ggroup *g, bool create)
{
    if (g->consumer || !create)
        return g->consumer;
    cgroup *c = calloc(1, sizeof *c);
    if (c) {
        c->g = g;
        g->consumer = c;
        free(g->protocol_type);
        g->protocol_type = sk_coord_strdup("consumer");
    }
    return c;
}

void sk_cgroup_free(sk_groups *gs, ggroup *g)
{
    cgroup *c = g->consumer;
    if (!c)
        return;
    for (int32_t i = 0; i < c->nmembers; i++)
        sk_cmember_free(gs, c->members[i]);
    for (int32_t i = 0; i < c->ntopics; i++)
        free(c->topics[i].name);
    free(c->topics);
    free(c->members);
    free(c);
    g->consumer = NULL;
}

/* ---- one heartbeat ---- */

/* The request as the steps use it: C strings (NULL = not given). */
typedef struct hb {
    sk_groups *gs;
    const sk_group_client *client;
    const kf_consumer_group_heartbeat_request *req;
    char *group_id, *member_id, *instance_id, *rack_id, *assignor;
    char *regex;   /* NULL = unchanged, "" = none (cleared), else the pattern */
    void *re;      /* `regex` compiled, when a pattern */
    char **topics; /* subscribed names, sorted, unique; NULL = unchanged */
    int32_t ntopics;
    ctps owned; /* topic_partitions; valid when has_owned */
    bool has_owned;
    cclassic *classic; /* a classic member's JoinGroup (cgroup_migrate.c); NULL = a heartbeat */
    const char *error_message;
    char message[320]; /* room for a composed error_message */
} hb;

static char *dup_kf(kf_str s)
{
    return s.p ? sk_coord_strndup(s.p, (size_t)s.len) : NULL;
}

static int str_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void hb_free(hb *h)
{
    free(h->group_id);
    free(h->member_id);
    free(h->instance_id);
    free(h->rack_id);
    free(h->assignor);
    free(h->regex);
    sk_cregex_free(h->re);
    for (int32_t i = 0; i < h->ntopics; i++)
        free(h->topics[i]);
    free(h->topics);
    sk_ctps_free(&h->owned);
}

/* Copies the request; -1 when out of memory. */
static int hb_init(hb *h, sk_groups *gs, const sk_group_client *client, const kf_consumer_group_heartbeat_request *r)
{
    memset(h, 0, sizeof *h);
    h->gs = gs;
    h->client = client;
    h->req = r;
    h->group_id = dup_kf(r->group_id);
    h->member_id = dup_kf(r->member_id);
    h->instance_id = dup_kf(r->instance_id);
    h->rack_id = dup_kf(r->rack_id);
    h->assignor = dup_kf(r->server_assignor);
    h->regex = dup_kf(r->subscribed_topic_regex); /* librdkafka sends "" beside topic names */
    if (!h->group_id || !h->member_id)
        return -1;
    if (r->subscribed_topic_names.n >= 0) {
        h->topics = calloc((size_t)r->subscribed_topic_names.n + 1, sizeof *h->topics);
        if (!h->topics)
            return -1;
        for (int32_t i = 0; i < r->subscribed_topic_names.n; i++) {
            char *t = dup_kf(r->subscribed_topic_names.items[i]);
            if (!t)
                continue; /* a null name subscribes to nothing */
            h->topics[h->ntopics++] = t;
        }
        qsort(h->topics, (size_t)h->ntopics, sizeof *h->topics, str_cmp);
        int32_t n = 0;
        for (int32_t i = 0; i < h->ntopics; i++) {
            if (n > 0 && !strcmp(h->topics[n - 1], h->topics[i]))
                free(h->topics[i]);
            else
                h->topics[n++] = h->topics[i];
        }
        h->ntopics = n;
    }
    if (r->topic_partitions.n >= 0) {
        h->has_owned = true;
        for (int32_t i = 0; i < r->topic_partitions.n; i++) {
            const kf_consumer_group_heartbeat_request_topic_partitions *tp = &r->topic_partitions.items[i];
            for (int32_t k = 0; k < tp->partitions.n; k++)
                if (sk_ctps_add(&h->owned, tp->topic_id.b, tp->partitions.items[k]) < 0)
                    return -1;
        }
        sk_ctps_sort(&h->owned);
    }
    return 0;
}

/* Sets the answer's message from a format (Kafka's wording, with ids). */
static int16_t fail(hb *h, int16_t err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int16_t fail(hb *h, int16_t err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(h->message, sizeof h->message, fmt, ap);
    va_end(ap);
    h->error_message = h->message;
    return err;
}

static int16_t invalid(hb *h, const char *msg)
{
    h->error_message = msg;
    return SK_ERR_INVALID_REQUEST;
}

/* throwIfConsumerGroupHeartbeatRequestIsInvalid. */
static int16_t validate(hb *h, int16_t version)
{
    const kf_consumer_group_heartbeat_request *r = h->req;
    if (!h->group_id[0])
        return invalid(h, "GroupId can't be empty.");
    if (h->instance_id && !h->instance_id[0])
        return invalid(h, "InstanceId can't be empty.");
    if (h->rack_id && !h->rack_id[0])
        return invalid(h, "RackId can't be empty.");
    if (h->regex && h->regex[0]) {
        char err[200];
        if (!(h->re = sk_cregex_compile(h->regex, err, sizeof err))) {
            snprintf(h->message, sizeof h->message, "SubscribedTopicRegex `%s` is not a valid regular expression: %s.",
                     h->regex, err);
            h->error_message = h->message;
            return SK_ERR_INVALID_REGULAR_EXPRESSION;
        }
    }
    if (r->member_epoch > 0 || r->member_epoch == CM_EPOCH_LEAVE) {
        if (!h->member_id[0])
            return invalid(h, "MemberId can't be empty.");
    } else if (r->member_epoch == 0) {
        if (version >= 1 && !h->member_id[0])
            return invalid(h, "MemberId can't be empty.");
        if (r->rebalance_timeout_ms == -1)
            return invalid(h, "RebalanceTimeoutMs must be provided in first request.");
        if (!h->has_owned || h->owned.n > 0)
            return invalid(h, "TopicPartitions must be empty when (re-)joining.");
        if (!h->topics && !(h->regex && h->regex[0]))
            return invalid(h,
                           "Either SubscribedTopicNames or SubscribedTopicRegex must be non-null when (re-)joining.");
    } else if (r->member_epoch == CM_EPOCH_STATIC_LEAVE) {
        if (!h->member_id[0])
            return invalid(h, "MemberId can't be empty.");
        if (!h->instance_id)
            return invalid(h, "InstanceId can't be null.");
    } else {
        return invalid(h, "MemberEpoch is invalid.");
    }
    if (h->assignor && !sk_cassign_known(h->assignor))
        return fail(h, SK_ERR_UNSUPPORTED_ASSIGNOR,
                    "ServerAssignor %s is not supported. Supported assignors: "
                    "uniform, range.",
                    h->assignor);
    return SK_ERR_NONE;
}

/* isSubset: every owned partition is assigned (false without owned). */
static bool owned_subset(const hb *h, const ctps *assigned)
{
    if (!h->has_owned)
        return false;
    for (int32_t i = 0; i < h->owned.n; i++)
        if (!sk_ctps_has(assigned, h->owned.v[i].id, h->owned.v[i].partition))
            return false;
    return true;
}

/* throwIfConsumerGroupMemberEpochIsInvalid (epoch 0 rejoins: KAFKA-19233). */
static int16_t check_epoch(hb *h, const cmember *m)
{
    int32_t e = h->req->member_epoch;
    if (e == 0 || e == m->member_epoch)
        return SK_ERR_NONE;
    if (e < m->member_epoch && e == m->previous_member_epoch && owned_subset(h, &m->assigned))
        return SK_ERR_NONE;
    return fail(h, SK_ERR_FENCED_MEMBER_EPOCH,
                "The consumer group member has a %s member epoch (%d) than the one known by the group "
                "coordinator (%d). The member must abandon all its partitions and rejoin.",
                e > m->member_epoch ? "greater" : "smaller", e, m->member_epoch);
}

/* The epoch of the member that owns (or is revoking) a partition, -1 = free. */
static int32_t partition_epoch(const cgroup *c, const uint8_t id[16], int32_t p, const cmember *except)
{
    for (int32_t i = 0; i < c->nmembers; i++) {
        const cmember *m = c->members[i];
        if (m != except && (sk_ctps_has(&m->assigned, id, p) || sk_ctps_has(&m->revoking, id, p)))
            return m->member_epoch;
    }
    return -1;
}

/* ---- step 1: the member and the group epoch ---- */

static bool strs_equal(char *const *a, int32_t na, char *const *b, int32_t nb)
{
    if (na != nb)
        return false;
    for (int32_t i = 0; i < na; i++)
        if (strcmp(a[i], b[i]))
            return false;
    return true;
}

static bool str_eq(const char *a, const char *b)
{
    return a == b || (a && b && !strcmp(a, b));
}

/* A growing list of borrowed topic names. */
typedef struct names {
    const char **v;
    int32_t n, cap;
    bool err;
} names;

static void names_add(names *l, const char *name)
{
    if (l->n == l->cap) {
        int32_t cap = l->cap ? l->cap * 2 : 16;
        const char **v = realloc(l->v, (size_t)cap * sizeof *v);
        if (!v) {
            l->err = true;
            return;
        }
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = name;
}

/* Every existing topic a set of regexes matches (whole names) that the
 * sender may describe. */
typedef struct regex_scan {
    names *out;
    void *const *re;
    int32_t nre;
    const sk_group_client *client; /* its may_describe filters; NULL = none */
} regex_scan;

static void regex_one(void *ctx, const char *name)
{
    regex_scan *r = ctx;
    if (r->client && r->client->may_describe && !r->client->may_describe(r->client->arg, name))
        return;
    for (int32_t i = 0; i < r->nre; i++)
        if (sk_cregex_match(r->re[i], name, strlen(name))) {
            names_add(r->out, name);
            return;
        }
}

/* The subscribed topics of the group (every member's names and regex
 * matches, with `m` subscribed to `topics` and `re` instead), as they exist
 * now. The regexes resolve among the topics `client` (the heartbeat's
 * sender) may describe, as Kafka resolves them with the context of the
 * heartbeat that refreshes them; with no client (a member removed) among
 * the group's current topics only, as Kafka keeps its resolved regexes
 * then. Sorted by name; the names are borrowed until the caller's record
 * is written. */
static int subscribed_metadata(sk_groups *gs, const cgroup *c, const cmember *m, const sk_group_client *client,
                               char *const *topics, int32_t ntopics, void *re, ctopic_meta **out, int32_t *nout)
{
    names l = {0};
    void **res = calloc((size_t)(c ? c->nmembers : 0) + 1, sizeof *res);
    int32_t nre = 0;
    for (int32_t i = 0; c && i < c->nmembers; i++) {
        if (c->members[i] == m)
            continue;
        for (int32_t k = 0; k < c->members[i]->ntopics; k++)
            names_add(&l, c->members[i]->topics[k]);
        if (c->members[i]->re && res)
            res[nre++] = c->members[i]->re;
    }
    for (int32_t k = 0; k < ntopics; k++)
        names_add(&l, topics[k]);
    if (re && res)
        res[nre++] = re;
    regex_scan scan = {&l, res, nre, client};
    if (nre > 0 && client && gs->topics.each)
        gs->topics.each(gs->topics.arg, regex_one, &scan);
    for (int32_t t = 0; nre > 0 && !client && c && t < c->ntopics; t++)
        regex_one(&scan, c->topics[t].name);
    free(res);
    ctopic_meta *t = calloc((size_t)l.n + 1, sizeof *t);
    if (!t || l.err) {
        free(t);
        free(l.v);
        return -1;
    }
    if (l.n > 1)
        qsort(l.v, (size_t)l.n, sizeof *l.v, str_cmp);
    int32_t nt = 0;
    for (int32_t i = 0; i < l.n; i++) {
        if (i > 0 && !strcmp(l.v[i], l.v[i - 1]))
            continue;
        uint8_t id[16];
        int32_t parts;
        if (!gs->topics.by_name || !gs->topics.by_name(gs->topics.arg, l.v[i], id, &parts))
            continue;
        t[nt].name = (char *)l.v[i];
        memcpy(t[nt].id, id, 16);
        t[nt].partitions = parts;
        nt++;
    }
    free(l.v);
    *out = t;
    *nout = nt;
    return 0;
}

/* True when a member of `c` other than `m` subscribes to `regex`. */
static bool regex_in_group(const cgroup *c, const cmember *m, const char *regex)
{
    for (int32_t i = 0; c && i < c->nmembers; i++)
        if (c->members[i] != m && str_eq(c->members[i]->regex, regex))
            return true;
    return false;
}

static bool metadata_equal(const ctopic_meta *a, int32_t na, const ctopic_meta *b, int32_t nb)
{
    if (na != nb)
        return false;
    for (int32_t i = 0; i < na; i++)
        if (strcmp(a[i].name, b[i].name) || memcmp(a[i].id, b[i].id, 16) || a[i].partitions != b[i].partitions)
            return false;
    return true;
}

/* Writes the member as it will be, and the group epoch when the
 * subscriptions or the subscribed topics changed. `m` is the member before
 * (NULL when new). */
static int16_t step_member(hb *h, cgroup *c, const cmember *m)
{
    sk_groups *gs = h->gs;
    const kf_consumer_group_heartbeat_request *r = h->req;
    cmember u = {0};
    if (m)
        u = *m;
    u.member_id = h->member_id;
    if (h->instance_id)
        u.instance_id = h->instance_id;
    if (h->rack_id)
        u.rack_id = h->rack_id;
    if (r->rebalance_timeout_ms != -1)
        u.rebalance_timeout_ms = r->rebalance_timeout_ms;
    if (h->assignor)
        u.server_assignor = h->assignor;
    if (h->topics) {
        u.topics = h->topics;
        u.ntopics = h->ntopics;
    }
    if (h->regex) { /* "" clears it */
        u.regex = h->regex[0] ? h->regex : NULL;
        u.re = h->re;
    }
    if (h->classic)
        u.classic = h->classic;
    u.client_id = (char *)h->client->client_id;
    u.client_host = (char *)h->client->client_host;
    bool subscription_changed =
        !m || !strs_equal(m->topics, m->ntopics, u.topics, u.ntopics) || !str_eq(m->regex, u.regex);
    bool changed = subscription_changed || !str_eq(m->instance_id, u.instance_id) || !str_eq(m->rack_id, u.rack_id) ||
                   m->rebalance_timeout_ms != u.rebalance_timeout_ms ||
                   !str_eq(m->server_assignor, u.server_assignor) || !str_eq(m->client_id, u.client_id) ||
                   !str_eq(m->client_host, u.client_host) || h->classic;
    /* Kafka resolves a regular expression new to the group in the
     * background (GroupMetadataManager.maybeUpdateRegularExpressions): the
     * heartbeat that brings it gets the topics named literally, the
     * matching ones come from a later heartbeat. So here: a regex no other
     * member has is matched from the member's next heartbeat on. */
    void *re = u.re;
    if (u.regex && !str_eq(m ? m->regex : NULL, u.regex) && !regex_in_group(c, m, u.regex))
        re = NULL;
    ctopic_meta *meta = NULL;
    int32_t nmeta = 0;
    if (subscribed_metadata(gs, c, m, h->client, u.topics, u.ntopics, re, &meta, &nmeta) < 0)
        return SK_ERR_UNKNOWN_SERVER_ERROR;
    bool meta_changed = !metadata_equal(meta, nmeta, c->topics, c->ntopics);
    grecs b;
    sk_grecs_init(&b);
    if (changed)
        sk_crec_member(&b, h->group_id, &u);
    if (meta_changed)
        sk_crec_partition_metadata(&b, h->group_id, meta, nmeta);
    if (subscription_changed || meta_changed || !c->has_metadata) {
        sk_crec_group_epoch(&b, h->group_id, c->group_epoch + 1);
        sk_info("group", "consumer group %s: group epoch bumped to %d (member %s%s%s)", h->group_id, c->group_epoch + 1,
                h->member_id, m ? "" : " joins", meta_changed ? ", topics changed" : "");
    }
    int16_t err = sk_coord_write(gs, c->g->partition, &b);
    sk_grecs_free(&b);
    free(meta);
    return err;
}

/* ---- step 2: the target assignment ---- */

const char *sk_cgroup_assignor(const cgroup *c)
{
    const char *best = NULL;
    int32_t best_n = 0;
    for (int32_t i = 0; i < c->nmembers; i++) {
        const char *a = c->members[i]->server_assignor;
        if (!a)
            continue;
        int32_t n = 0;
        for (int32_t j = 0; j < c->nmembers; j++)
            n += c->members[j]->server_assignor && !strcmp(c->members[j]->server_assignor, a);
        if (n > best_n) {
            best = a;
            best_n = n;
        }
    }
    return best ? best : DEFAULT_ASSIGNOR;
}

static int16_t step_target(hb *h, cgroup *c)
{
    if (c->group_epoch <= c->assignment_epoch)
        return SK_ERR_NONE;
    cassign_topic *topics = calloc((size_t)c->ntopics + 1, sizeof *topics);
    cassign_member *members = calloc((size_t)c->nmembers + 1, sizeof *members);
    int32_t *idx = calloc((size_t)c->ntopics * (size_t)(c->nmembers + 1) + 1, sizeof *idx);
    int16_t err = SK_ERR_UNKNOWN_SERVER_ERROR;
    if (!topics || !members || !idx)
        goto out;
    for (int32_t t = 0; t < c->ntopics; t++) {
        memcpy(topics[t].id, c->topics[t].id, 16);
        topics[t].partitions = c->topics[t].partitions;
    }
    int32_t used = 0;
    for (int32_t i = 0; i < c->nmembers; i++) {
        const cmember *m = c->members[i];
        members[i].member_id = m->member_id;
        members[i].previous = &m->target;
        members[i].topics = &idx[used];
        for (int32_t t = 0; t < c->ntopics; t++) {
            bool sub = m->re && sk_cregex_match(m->re, c->topics[t].name, strlen(c->topics[t].name));
            for (int32_t k = 0; k < m->ntopics && !sub; k++)
                sub = !strcmp(m->topics[k], c->topics[t].name);
            if (sub) {
                idx[used++] = t;
                members[i].ntopics++;
            }
        }
    }
    if (sk_cassign_run(sk_cgroup_assignor(c), topics, c->ntopics, members, c->nmembers) < 0)
        goto out;
    grecs b;
    sk_grecs_init(&b);
    for (int32_t i = 0; i < c->nmembers; i++)
        if (!sk_ctps_equal(&members[i].target, &c->members[i]->target))
            sk_crec_target_member(&b, h->group_id, c->members[i]->member_id, &members[i].target);
    sk_crec_target_epoch(&b, h->group_id, c->group_epoch);
    err = sk_coord_write(h->gs, c->g->partition, &b);
    sk_grecs_free(&b);
    if (err == SK_ERR_NONE)
        sk_debug("group", "consumer group %s: target assignment at epoch %d by %s", h->group_id, c->assignment_epoch,
                 sk_cgroup_assignor(c));
out:
    for (int32_t i = 0; members && i < c->nmembers; i++)
        sk_ctps_free(&members[i].target);
    free(topics);
    free(members);
    free(idx);
    return err;
}

/* ---- step 3: reconciliation (CurrentAssignmentBuilder) ---- */

/* ownsRevokedPartitions: the member may still own one of `revoking`
 * (true when it did not say what it owns). */
static bool owns_any(const hb *h, const ctps *revoking)
{
    if (!h->has_owned)
        return true;
    for (int32_t i = 0; i < h->owned.n; i++)
        if (sk_ctps_has(revoking, h->owned.v[i].id, h->owned.v[i].partition))
            return true;
    return false;
}

typedef struct next_assignment {
    int32_t epoch, previous;
    cmember_state state;
    ctps assigned, revoking;
} next_assignment;

static int next_compute(const hb *h, const cgroup *c, const cmember *m, int32_t epoch, next_assignment *out)
{
    bool unreleased = false, pending = false;
    out->assigned.n = out->revoking.n = 0;
    for (int32_t i = 0; i < m->assigned.n; i++) {
        const ctp *p = &m->assigned.v[i];
        ctps *dst = sk_ctps_has(&m->target, p->id, p->partition) ? &out->assigned : &out->revoking;
        if (sk_ctps_add(dst, p->id, p->partition) < 0)
            return -1;
    }
    ctps add = {0};
    for (int32_t i = 0; i < m->target.n; i++) {
        const ctp *p = &m->target.v[i];
        if (sk_ctps_has(&m->assigned, p->id, p->partition))
            continue;
        if (partition_epoch(c, p->id, p->partition, NULL) != -1)
            unreleased = true;
        else if (sk_ctps_add(&add, p->id, p->partition) < 0) {
            sk_ctps_free(&add);
            return -1;
        }
    }
    pending = add.n > 0;
    out->previous = m->member_epoch;
    if (out->revoking.n > 0 && owns_any(h, &out->revoking)) {
        out->state = CM_UNREVOKED_PARTITIONS;
        out->epoch = epoch;
    } else {
        out->revoking.n = 0;
        for (int32_t i = 0; pending && i < add.n; i++)
            if (sk_ctps_add(&out->assigned, add.v[i].id, add.v[i].partition) < 0) {
                sk_ctps_free(&add);
                return -1;
            }
        sk_ctps_sort(&out->assigned);
        out->state = unreleased ? CM_UNRELEASED_PARTITIONS : CM_STABLE;
        out->epoch = c->assignment_epoch;
    }
    sk_ctps_free(&add);
    return 0;
}

/* The legal reconciliation moves (Kafka's MemberState transitions). */
static bool transition_legal(cmember_state from, cmember_state to)
{
    switch (from) {
    case CM_STABLE:
    case CM_UNRELEASED_PARTITIONS:
    case CM_UNKNOWN:
        return true;
    case CM_UNREVOKED_PARTITIONS:
        return to == CM_UNREVOKED_PARTITIONS || to == CM_STABLE || to == CM_UNRELEASED_PARTITIONS;
    }
    return false;
}

static void rebalance_expired(void *owner, gtimer *t);

static int16_t step_reconcile(hb *h, cgroup *c, cmember *m)
{
    int32_t target_epoch = c->assignment_epoch;
    if (m->state == CM_STABLE && m->member_epoch == target_epoch && m->has_current)
        return SK_ERR_NONE;
    next_assignment n = {0};
    int rc = 0;
    switch (m->state) {
    case CM_STABLE:
        rc = next_compute(h, c, m, m->has_current ? m->member_epoch : 0, &n);
        break;
    case CM_UNREVOKED_PARTITIONS:
        if (owns_any(h, &m->revoking))
            return SK_ERR_NONE;
        rc = next_compute(h, c, m, m->member_epoch + 1, &n);
        break;
    case CM_UNRELEASED_PARTITIONS:
        rc = next_compute(h, c, m, m->member_epoch, &n);
        break;
    case CM_UNKNOWN:
        if (!h->has_owned || h->owned.n > 0) {
            h->error_message = "The consumer group member is in a unknown state. The member must abandon all "
                               "its partitions and rejoin.";
            return SK_ERR_FENCED_MEMBER_EPOCH;
        }
        rc = next_compute(h, c, m, target_epoch, &n);
        break;
    }
    int16_t err = SK_ERR_NONE;
    if (rc < 0) {
        err = SK_ERR_UNKNOWN_SERVER_ERROR;
    } else if (!transition_legal(m->state, n.state)) {
        sk_error("group", "consumer group %s: BUG: member %s may not go from state %d to %d; refused", h->group_id,
                 m->member_id, m->state, n.state);
        err = SK_ERR_UNKNOWN_SERVER_ERROR;
    } else if (n.epoch != m->member_epoch || n.state != m->state || !sk_ctps_equal(&n.assigned, &m->assigned) ||
               !sk_ctps_equal(&n.revoking, &m->revoking) || !m->has_current) {
        grecs b;
        sk_grecs_init(&b);
        sk_crec_current(&b, h->group_id, m->member_id, n.epoch,
                        n.epoch != m->member_epoch ? n.previous : m->previous_member_epoch, n.state, &n.assigned,
                        &n.revoking);
        err = sk_coord_write(h->gs, c->g->partition, &b);
        sk_grecs_free(&b);
        if (err == SK_ERR_NONE) {
            if (m->state == CM_UNREVOKED_PARTITIONS) {
                if (m->rebalance.fn != rebalance_expired)
                    sk_coord_timer_init(&m->rebalance, rebalance_expired);
                sk_coord_timer_arm(&h->gs->timers, &m->rebalance,
                                   m->rebalance_timeout_ms > 0 ? m->rebalance_timeout_ms : 0);
            } else {
                sk_coord_timer_cancel(&h->gs->timers, &m->rebalance);
            }
        }
    }
    sk_ctps_free(&n.assigned);
    sk_ctps_free(&n.revoking);
    return err;
}

#ifndef NDEBUG
/* Debug builds: no partition is owned or being revoked by two members
 * (the protocol's invariant); a violation is logged as a bug. */
static void check_exclusive(const cgroup *c)
{
    for (int32_t i = 0; i < c->nmembers; i++)
        for (int32_t k = 0; k < c->members[i]->assigned.n; k++) {
            const ctp *p = &c->members[i]->assigned.v[k];
            for (int32_t j = 0; j < c->nmembers; j++)
                if (j != i && (sk_ctps_has(&c->members[j]->assigned, p->id, p->partition) ||
                               sk_ctps_has(&c->members[j]->revoking, p->id, p->partition)))
                    sk_error("group", "consumer group %s: BUG: partition %d owned by %s and %s", c->g->group_id,
                             p->partition, c->members[i]->member_id, c->members[j]->member_id);
        }
}
#endif

/* ---- removal (leave, session and rebalance timeouts) ---- */

/* Removes the member (its records tombstoned) and bumps the group epoch,
 * with the subscribed topics recomputed without it. */
static int16_t fence_member(sk_groups *gs, cgroup *c, cmember *m, const char *why)
{
    if (sk_cgroup_downgrade_allowed(gs, c, m)) /* the online downgrade (cgroup_migrate.c) */
        return sk_cgroup_downgrade(gs, c, m);
    const char *gid = c->g->group_id;
    char *mid = sk_coord_strdup(m->member_id);
    if (!mid)
        return SK_ERR_UNKNOWN_SERVER_ERROR;
    ctopic_meta *meta = NULL;
    int32_t nmeta = 0;
    if (subscribed_metadata(gs, c, m, NULL, NULL, 0, NULL, &meta, &nmeta) < 0) {
        free(mid);
        return SK_ERR_UNKNOWN_SERVER_ERROR;
    }
    grecs b;
    sk_grecs_init(&b);
    sk_crec_current_tombstone(&b, gid, mid);
    sk_crec_target_member_tombstone(&b, gid, mid);
    sk_crec_member_tombstone(&b, gid, mid);
    if (!metadata_equal(meta, nmeta, c->topics, c->ntopics))
        sk_crec_partition_metadata(&b, gid, meta, nmeta);
    sk_crec_group_epoch(&b, gid, c->group_epoch + 1);
    int32_t epoch = c->group_epoch + 1;
    int16_t err = sk_coord_write(gs, c->g->partition, &b);
    sk_grecs_free(&b);
    free(meta);
    if (err == SK_ERR_NONE)
        sk_info("group", "consumer group %s: member %s %s; group epoch bumped to %d", gid, mid, why, epoch);
    free(mid);
    return err;
}

static void session_expired(void *owner, gtimer *t)
{
    sk_groups *gs = owner;
    cmember *m = (cmember *)((char *)t - offsetof(cmember, session));
    int16_t err = fence_member(gs, m->group, m, "removed: session timeout expired");
    if (err != SK_ERR_NONE)
        sk_warn("group", "cannot remove an expired member: %s", sk_err_name(err));
}

static void rebalance_expired(void *owner, gtimer *t)
{
    sk_groups *gs = owner;
    cmember *m = (cmember *)((char *)t - offsetof(cmember, rebalance));
    int16_t err = fence_member(gs, m->group, m, "removed: it did not revoke its partitions in its rebalance timeout");
    if (err != SK_ERR_NONE)
        sk_warn("group", "cannot remove a member past its rebalance timeout: %s", sk_err_name(err));
}

void sk_groups_set_configs(sk_groups *gs, const sk_group_configs *gc)
{
    gs->group_configs = gc;
}

void sk_cmember_touch(sk_groups *gs, cmember *m)
{
    if (m->session.fn != session_expired)
        sk_coord_timer_init(&m->session, session_expired);
    const char *group = m->group->g->group_id;
    sk_coord_timer_arm(&gs->timers, &m->session,
                       m->classic ? m->classic->session_timeout_ms
                                  : sk_group_consumer_session_timeout_ms(gs->group_configs, gs->cfg, group));
}

void sk_cmember_loaded(sk_groups *gs, cmember *m)
{
    sk_cmember_touch(gs, m);
    if (m->state == CM_UNREVOKED_PARTITIONS) { /* its revocation deadline starts again, as Kafka's on load */
        sk_coord_timer_init(&m->rebalance, rebalance_expired);
        sk_coord_timer_arm(&gs->timers, &m->rebalance, m->rebalance_timeout_ms > 0 ? m->rebalance_timeout_ms : 0);
    }
}

/* consumerGroupLeave: -1 removes the member, -2 (static) keeps its
 * partitions with epoch -2 until it comes back or its session expires. */
static int16_t leave(hb *h, cgroup *c, kf_consumer_group_heartbeat_response *resp)
{
    int32_t e = h->req->member_epoch;
    cmember *m;
    if (!h->instance_id) {
        if (!(m = sk_cmember_find(c, h->member_id)))
            return fail(h, SK_ERR_UNKNOWN_MEMBER_ID, "Member %s is not a member of group %s.", h->member_id,
                        h->group_id);
    } else {
        if (!(m = sk_cmember_find_static(c, h->instance_id)))
            return fail(h, SK_ERR_UNKNOWN_MEMBER_ID, "Instance id %s is unknown.", h->instance_id);
        if (strcmp(m->member_id, h->member_id))
            return fail(h, SK_ERR_FENCED_INSTANCE_ID, "Static member %s with instance id %s was fenced by member %s.",
                        h->member_id, h->instance_id, m->member_id);
    }
    resp->member_epoch = e;
    if (e == CM_EPOCH_STATIC_LEAVE && h->instance_id) {
        grecs b;
        sk_grecs_init(&b);
        ctps none = {0};
        sk_crec_current(&b, h->group_id, m->member_id, CM_EPOCH_STATIC_LEAVE, m->previous_member_epoch, m->state,
                        &m->assigned, &none);
        int16_t err = sk_coord_write(h->gs, c->g->partition, &b);
        sk_grecs_free(&b);
        if (err == SK_ERR_NONE)
            sk_info("group", "consumer group %s: static member %s (instance %s) left for now", h->group_id,
                    h->member_id, h->instance_id);
        return err;
    }
    return fence_member(h->gs, c, m, "left the group");
}

/* ---- the static member of an instance id, and the member itself ---- */

/* A static member rejoining (epoch 0) takes over its instance when the old
 * member left with -2 (UNRELEASED_INSTANCE_ID otherwise): the old member's
 * records go, the new member id gets its subscription, target and
 * assignment, with epoch 0. */
static int16_t replace_static(hb *h, cgroup *c, cmember *old)
{
    if (old->member_epoch != CM_EPOCH_STATIC_LEAVE)
        return fail(h, SK_ERR_UNRELEASED_INSTANCE_ID,
                    "Static member %s with instance id %s cannot join the group "
                    "because the instance id is owned by %s member.",
                    h->member_id, h->instance_id, old->member_id);
    cmember u = *old;
    u.member_id = h->member_id;
    grecs b;
    sk_grecs_init(&b);
    sk_crec_current_tombstone(&b, h->group_id, old->member_id);
    sk_crec_target_member_tombstone(&b, h->group_id, old->member_id);
    sk_crec_member_tombstone(&b, h->group_id, old->member_id);
    sk_crec_member(&b, h->group_id, &u);
    sk_crec_target_member(&b, h->group_id, h->member_id, &old->target);
    sk_crec_current(&b, h->group_id, h->member_id, 0, 0, old->state, &old->assigned, &old->revoking);
    sk_info("group", "consumer group %s: static member with instance id %s rejoins as %s, replacing %s", h->group_id,
            h->instance_id, h->member_id, old->member_id);
    int16_t err = sk_coord_write(h->gs, c->g->partition, &b);
    sk_grecs_free(&b);
    return err;
}

/* The member the heartbeat is for, checked (NULL: new, *err NONE). */
static cmember *find_member(hb *h, cgroup *c, int16_t *err)
{
    bool join = h->req->member_epoch == 0;
    *err = SK_ERR_NONE;
    if (h->instance_id) {
        cmember *s = sk_cmember_find_static(c, h->instance_id);
        if (join) {
            if (s && strcmp(s->member_id, h->member_id) && (*err = replace_static(h, c, s)) == SK_ERR_NONE)
                return sk_cmember_find(c, h->member_id);
            return *err ? NULL : s ? s : sk_cmember_find(c, h->member_id);
        }
        if (!s) {
            *err = fail(h, SK_ERR_UNKNOWN_MEMBER_ID, "Instance id %s is unknown.", h->instance_id);
            return NULL;
        }
        if (strcmp(s->member_id, h->member_id)) {
            *err = fail(h, SK_ERR_FENCED_INSTANCE_ID, "Static member %s with instance id %s was fenced by member %s.",
                        h->member_id, h->instance_id, s->member_id);
            return NULL;
        }
        *err = check_epoch(h, s);
        return *err ? NULL : s;
    }
    cmember *m = sk_cmember_find(c, h->member_id);
    if (!m) {
        if (!join)
            *err =
                fail(h, SK_ERR_UNKNOWN_MEMBER_ID, "Member %s is not a member of group %s.", h->member_id, h->group_id);
        return NULL;
    }
    *err = check_epoch(h, m);
    return *err ? NULL : m;
}

/* The assignment of `m` in the answer's form (topic ids), in `arena`. */
static int fill_assignment(const cmember *m, kf_consumer_group_heartbeat_response *resp, sk_arena *arena)
{
    kf_consumer_group_heartbeat_response_assignment *a = sk_arena_alloc(arena, sizeof *a);
    if (!a)
        return -1;
    kf_init(&kf_consumer_group_heartbeat_response_assignment_desc, a);
    const ctps *s = &m->assigned;
    int32_t nt = sk_ctps_topic_count(s);
    kf_consumer_group_heartbeat_response_topic_partitions *tp = sk_arena_alloc(arena, (size_t)nt * sizeof *tp + 1);
    int32_t *parts = sk_arena_alloc(arena, (size_t)s->n * sizeof *parts + 1);
    if (!tp || !parts)
        return -1;
    int32_t t = -1;
    for (int32_t i = 0; i < s->n; i++) {
        if (sk_ctps_topic_starts(s, i)) {
            t++;
            memcpy(tp[t].topic_id.b, s->v[i].id, 16);
            tp[t].partitions.items = &parts[i];
            tp[t].partitions.n = 0;
        }
        parts[i] = s->v[i].partition;
        tp[t].partitions.n++;
    }
    a->topic_partitions.items = tp;
    a->topic_partitions.n = nt;
    resp->assignment = a;
    return 0;
}

static int16_t heartbeat(hb *h, ggroup *g, kf_consumer_group_heartbeat_response *resp, sk_arena *arena, int *oom)
{
    sk_groups *gs = h->gs;
    int32_t e = h->req->member_epoch;
    if (!g && e == 0 && !(g = sk_group_create(gs, h->group_id, strlen(h->group_id))))
        return SK_ERR_UNKNOWN_SERVER_ERROR;
    if (!g)
        return fail(h, SK_ERR_GROUP_ID_NOT_FOUND, "Consumer group %s not found.", h->group_id);
    if (!g->consumer && e == 0 && g->nmembers > 0) { /* the online upgrade (cgroup_migrate.c) */
        int16_t err = sk_cgroup_upgrade(gs, g, h->message, sizeof h->message);
        if (err != SK_ERR_NONE) {
            h->error_message = h->message[0] ? h->message : NULL;
            return err;
        }
        if (!(g = sk_group_find(gs, h->group_id, strlen(h->group_id))))
            return SK_ERR_UNKNOWN_SERVER_ERROR;
    }
    if (!g->consumer && (e != 0 || g->nmembers > 0 || g->state != SK_GROUP_EMPTY))
        return fail(h, SK_ERR_GROUP_ID_NOT_FOUND, "Group %s is not a consumer group.", h->group_id);
    cgroup *c = sk_cgroup_of(g, true);
    if (!c)
        return SK_ERR_UNKNOWN_SERVER_ERROR;
    if (e < 0)
        return leave(h, c, resp);
    int16_t err;
    cmember *m = find_member(h, c, &err);
    if (err != SK_ERR_NONE)
        return err;
    if (!m && c->nmembers >= gs->cfg->group_max_size)
        return fail(h, SK_ERR_GROUP_MAX_SIZE_REACHED,
                    "The consumer group has reached its maximum capacity of %d "
                    "members.",
                    gs->cfg->group_max_size);
    ctps before = {0};
    if (m && sk_ctps_copy(&before, &m->assigned) < 0)
        return SK_ERR_UNKNOWN_SERVER_ERROR;
    bool had_current = m && m->has_current;
    if ((err = step_member(h, c, m)) == SK_ERR_NONE && (m = sk_cmember_find(c, h->member_id)) &&
        (err = step_target(h, c)) == SK_ERR_NONE)
        err = step_reconcile(h, c, m);
#ifndef NDEBUG
    check_exclusive(c);
#endif
    if (err == SK_ERR_NONE && m) {
        sk_cmember_touch(gs, m);
        resp->member_epoch = m->member_epoch;
        resp->heartbeat_interval_ms = sk_group_consumer_heartbeat_interval_ms(gs->group_configs, gs->cfg, h->group_id);
        const kf_consumer_group_heartbeat_request *r = h->req;
        bool full = e == 0 || (r->rebalance_timeout_ms != -1 && h->topics && h->has_owned);
        if ((full || !had_current || !sk_ctps_equal(&before, &m->assigned)) && fill_assignment(m, resp, arena) < 0)
            *oom = 1;
    } else if (err == SK_ERR_NONE) {
        err = SK_ERR_UNKNOWN_SERVER_ERROR;
    }
    sk_ctps_free(&before);
    return err;
}

int16_t sk_cgroup_classic_heartbeat(sk_groups *gs, const sk_group_client *client,
                                    const kf_consumer_group_heartbeat_request *req, cclassic *classic, char *msg,
                                    size_t msglen)
{
    hb h;
    kf_consumer_group_heartbeat_response resp;
    kf_init(&kf_consumer_group_heartbeat_response_desc, &resp);
    sk_arena arena = {0};
    int oom = 0;
    int16_t err = SK_ERR_UNKNOWN_SERVER_ERROR;
    msg[0] = 0;
    if (hb_init(&h, gs, client, req) == 0) {
        h.classic = classic;
        err = heartbeat(&h, sk_group_find(gs, h.group_id, strlen(h.group_id)), &resp, &arena, &oom);
        if (h.error_message)
            snprintf(msg, msglen, "%s", h.error_message);
    }
    hb_free(&h);
    sk_arena_free(&arena);
    return err;
}

int16_t sk_cmember_remove(sk_groups *gs, cmember *m, const char *why)
{
    return fence_member(gs, m->group, m, why);
}

int sk_cgroup_heartbeat(sk_groups *gs, const sk_group_client *client, int16_t version,
                        const kf_consumer_group_heartbeat_request *req, kf_consumer_group_heartbeat_response *resp,
                        sk_arena *arena)
{
    hb h;
    int oom = 0;
    if (hb_init(&h, gs, client, req) < 0) {
        hb_free(&h);
        return -1;
    }
    if (version == 0 && req->member_epoch == 0 && !h.member_id[0]) { /* v0: the coordinator names it */
        uint8_t id[16];
        char s[SK_UUID_STR_LEN + 1];
        sk_uuid_random(id);
        sk_uuid_to_string(id, s);
        free(h.member_id);
        if (!(h.member_id = sk_coord_strdup(s))) {
            hb_free(&h);
            return -1;
        }
    }
    int16_t err = gs->closing ? SK_ERR_NOT_COORDINATOR : validate(&h, version); /* unloading: as Kafka */
    if (err == SK_ERR_NONE)
        err = heartbeat(&h, sk_group_find(gs, h.group_id, strlen(h.group_id)), resp, arena, &oom);
    if (err != SK_ERR_NONE) {
        resp->error_code = sk_groups_append_error(err);
        const char *msg = h.error_message ? h.error_message : sk_err_name(err);
        char *copy = sk_arena_strndup(arena, msg, strlen(msg)); /* h.message dies with h */
        if (!copy)
            oom = 1;
        resp->error_message = kf_str_c(copy);
        resp->member_epoch = 0;
        resp->assignment = NULL;
        sk_debug("group", "consumer group %s: heartbeat of member %s epoch %d: %s%s%s", h.group_id, h.member_id,
                 req->member_epoch, sk_err_name(err), h.error_message ? ": " : "",
                 h.error_message ? h.error_message : "");
    }
    if (!resp->error_code) {
        char *mid = sk_arena_strndup(arena, h.member_id, strlen(h.member_id));
        if (!mid)
            oom = 1;
        resp->member_id = kf_str_c(mid);
    }
    hb_free(&h);
    return oom ? -1 : 0;
}
