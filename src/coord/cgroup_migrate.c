/*
 * Classic members in consumer groups (KIP-848's online migration, Kafka's
 * group.consumer.migration.policy): the upgrade of a classic group that a
 * ConsumerGroupHeartbeat joins (GroupMetadataManager.convertToConsumerGroup
 * and ConsumerGroup.fromClassicGroup are the reference).
 *
 * The classic members become members of the consumer group at the group's
 * generation, Stable, owning what their last SyncGroup gave them, with that
 * as their target, and keep their JoinGroup protocols and session timeout
 * (ClassicMemberMetadata). As everywhere, the change is made by writing the
 * records (the classic group's tombstone, then the consumer group's) and
 * replaying them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cgroup_int.h"
#include "skiff/errors.h"
#include "skiff/trace.h"
#include "skiff/uuid.h"

void cclassic_free(cclassic *c)
{
    if (!c)
        return;
    for (int32_t i = 0; i < c->nprotocols; i++) {
        free(c->protocols[i].name);
        free(c->protocols[i].metadata);
    }
    free(c->protocols);
    free(c);
}

cclassic *cclassic_copy(const cclassic *c)
{
    if (!c)
        return NULL;
    cclassic *d = calloc(1, sizeof *d);
    if (!d || !(d->protocols = calloc((size_t)c->nprotocols + 1, sizeof *d->protocols))) {
        free(d);
        return NULL;
    }
    d->session_timeout_ms = c->session_timeout_ms;
    for (int32_t i = 0; i < c->nprotocols; i++) {
        gprotocol *q = &d->protocols[i];
        if (!(q->name = sk_coord_strdup(c->protocols[i].name)) ||
            !(q->metadata = malloc((size_t)c->protocols[i].metadata_len + 1))) {
            free(q->name);
            cclassic_free(d);
            return NULL;
        }
        d->nprotocols++;
        memcpy(q->metadata, c->protocols[i].metadata, (size_t)c->protocols[i].metadata_len);
        q->metadata_len = c->protocols[i].metadata_len;
    }
    return d;
}

static bool policy_allows(const sk_groups *gs, bool upgrade)
{
    const char *p = gs->cfg->group_consumer_migration_policy;
    return p && (!strcasecmp(p, "bidirectional") || !strcasecmp(p, upgrade ? "upgrade" : "downgrade"));
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* ---- the embedded consumer protocol (ConsumerProtocolSubscription and
 * ConsumerProtocolAssignment: int16 version, then non-flexible fields) ---- */

/* A string (int16 length, -1 null) as a heap copy; *out NULL for null.
 * -1 when malformed or out of memory. */
static int read_str(sk_reader *r, char **out)
{
    int16_t n = sk_read_i16(r);
    *out = NULL;
    if (r->err || n < -1)
        return -1;
    if (n < 0)
        return 0;
    const uint8_t *p = sk_read_raw(r, (size_t)n);
    return p && (*out = sk_coord_strndup((const char *)p, (size_t)n)) ? 0 : -1;
}

static int skip_bytes(sk_reader *r)
{
    int32_t n = sk_read_i32(r);
    if (r->err || n < -1)
        return -1;
    return n < 0 || sk_read_raw(r, (size_t)n) ? 0 : -1;
}

/* [topic string, partitions []int32] into `out` by topic id; topics that
 * do not exist are left out (as Kafka's toTopicPartitionMap). */
static int read_partitions(sk_groups *gs, sk_reader *r, ctps *out)
{
    int32_t nt = sk_read_i32(r);
    if (r->err || nt < 0 || (size_t)nt > sk_reader_left(r) / 6)
        return -1;
    for (int32_t t = 0; t < nt; t++) {
        char *name;
        if (read_str(r, &name) < 0 || !name) {
            free(name);
            return -1;
        }
        uint8_t id[16];
        int32_t count = 0;
        bool known = gs->topics.by_name && gs->topics.by_name(gs->topics.arg, name, id, &count);
        free(name);
        int32_t np = sk_read_i32(r);
        if (r->err || np < 0 || (size_t)np > sk_reader_left(r) / 4)
            return -1;
        for (int32_t i = 0; i < np; i++) {
            int32_t p = sk_read_i32(r);
            if (known && p >= 0 && p < count && !sk_ctps_has(out, id, p) && sk_ctps_add(out, id, p) < 0)
                return -1;
        }
    }
    sk_ctps_sort(out);
    return r->err ? -1 : 0;
}

/* A subscription's topics (sorted, unique), rack and, into `owned` when
 * given, its owned partitions (v1+). */
static int parse_subscription(sk_groups *gs, const gprotocol *p, cmember *m, ctps *owned)
{
    sk_reader r;
    sk_reader_init(&r, p->metadata, (size_t)p->metadata_len);
    int16_t version = sk_read_i16(&r);
    int32_t n = sk_read_i32(&r);
    if (r.err || version < 0 || n < 0 || (size_t)n > sk_reader_left(&r) / 2)
        return -1;
    if (!(m->topics = calloc((size_t)n + 1, sizeof *m->topics)))
        return -1;
    for (int32_t i = 0; i < n; i++) {
        char *t;
        if (read_str(&r, &t) < 0 || !t) {
            free(t);
            return -1;
        }
        m->topics[m->ntopics++] = t;
    }
    if (skip_bytes(&r) < 0)
        return -1;
    ctps scratch = {0};
    if (version >= 1) {
        int rc = read_partitions(gs, &r, owned ? owned : &scratch);
        sk_ctps_free(&scratch);
        if (rc < 0)
            return -1;
    }
    if (version >= 2)
        sk_read_i32(&r); /* generation id */
    if (version >= 3 && read_str(&r, &m->rack_id) < 0)
        return -1;
    if (r.err)
        return -1;
    qsort(m->topics, (size_t)m->ntopics, sizeof *m->topics, name_cmp);
    int32_t k = 0;
    for (int32_t i = 0; i < m->ntopics; i++) {
        if (k > 0 && !strcmp(m->topics[k - 1], m->topics[i]))
            free(m->topics[i]);
        else
            m->topics[k++] = m->topics[i];
    }
    m->ntopics = k;
    return 0;
}

/* A ConsumerProtocolAssignment; empty bytes (a member that joined and has
 * not been given an assignment yet) are no partitions. */
static int parse_assignment(sk_groups *gs, const gmember *gm, ctps *out)
{
    if (!gm->assignment || gm->assignment_len == 0)
        return 0;
    sk_reader r;
    sk_reader_init(&r, gm->assignment, (size_t)gm->assignment_len);
    int16_t version = sk_read_i16(&r);
    if (r.err || version < 0 || read_partitions(gs, &r, out) < 0)
        return -1;
    return 0;
}

/* ---- the upgrade ---- */

/* The consumer member a classic member becomes (ConsumerGroup.fromClassicGroup). */
static int member_of(sk_groups *gs, const ggroup *g, const gmember *gm, cmember *m)
{
    const gprotocol *p = sk_group_member_protocol(gm, g->protocol_name);
    memset(m, 0, sizeof *m);
    m->member_id = gm->member_id;
    m->instance_id = gm->group_instance_id;
    m->client_id = gm->client_id;
    m->client_host = gm->client_host;
    m->rebalance_timeout_ms = gm->rebalance_timeout_ms;
    m->member_epoch = m->previous_member_epoch = g->generation_id;
    m->state = CM_STABLE;
    if (!p || parse_subscription(gs, p, m, NULL) < 0 || parse_assignment(gs, gm, &m->assigned) < 0)
        return -1;
    cclassic c = {gm->session_timeout_ms, gm->protocols, gm->nprotocols};
    return (m->classic = cclassic_copy(&c)) ? 0 : -1;
}

static void member_of_free(cmember *m)
{
    for (int32_t i = 0; i < m->ntopics; i++)
        free(m->topics[i]);
    free(m->topics);
    free(m->rack_id);
    sk_ctps_free(&m->assigned);
    cclassic_free(m->classic);
}

int16_t sk_cgroup_upgrade(sk_groups *gs, ggroup *g, char *msg, size_t msglen)
{
    const char *why = NULL;
    if (!policy_allows(gs, true))
        why = "the online upgrade is disabled";
    else if (!sk_group_uses_consumer_protocol(g) || !g->protocol_name)
        why = "the group does not use the consumer embedded protocol";
    else if (g->nmembers > gs->cfg->group_max_size)
        why = "the group size exceeds the consumer group maximum size";
    if (why) {
        sk_info("group", "Cannot upgrade classic group %s to consumer group because %s.", g->group_id, why);
        snprintf(msg, msglen, "Group %s is not a consumer group.", g->group_id);
        return SK_ERR_GROUP_ID_NOT_FOUND;
    }
    cmember *members = calloc((size_t)g->nmembers + 1, sizeof *members);
    if (!members)
        return SK_ERR_UNKNOWN_SERVER_ERROR;
    int32_t n = 0;
    int16_t err = SK_ERR_NONE;
    for (const gmember *gm = g->members; gm; gm = gm->next) {
        if (member_of(gs, g, gm, &members[n++]) < 0) {
            sk_warn("group",
                    "Cannot upgrade the classic group %s to consumer group because the embedded consumer "
                    "protocol of member %s is malformed.",
                    g->group_id, gm->member_id);
            snprintf(msg, msglen,
                     "Cannot upgrade the classic group %s to consumer group because the embedded "
                     "consumer protocol is malformed.",
                     g->group_id);
            err = SK_ERR_GROUP_ID_NOT_FOUND;
            break;
        }
    }
    char *gid = sk_coord_strdup(g->group_id);
    if (err == SK_ERR_NONE && !gid)
        err = SK_ERR_UNKNOWN_SERVER_ERROR;
    if (err == SK_ERR_NONE) {
        /* A rebalance in progress: its members rejoin the consumer group. */
        for (gmember *gm = g->members; gm; gm = gm->next) {
            if (gm->join_waiter) {
                void *w = gm->join_waiter;
                gm->join_waiter = NULL;
                g->nawaiting_join--;
                sk_group_answer_join_error(gs, w, gm->member_id, SK_ERR_REBALANCE_IN_PROGRESS);
            }
            if (gm->sync_waiter) {
                void *w = gm->sync_waiter;
                gm->sync_waiter = NULL;
                sk_group_answer_sync_error(gs, w, SK_ERR_REBALANCE_IN_PROGRESS);
            }
        }
        int32_t epoch = g->generation_id;
        int32_t partition = g->partition;
        grecs b;
        sk_grecs_init(&b);
        sk_grecs_group_tombstone(&b, gid);
        for (int32_t i = 0; i < n; i++)
            sk_crec_member(&b, gid, &members[i]);
        sk_crec_group_epoch(&b, gid, epoch);
        for (int32_t i = 0; i < n; i++)
            sk_crec_target_member(&b, gid, members[i].member_id, &members[i].assigned);
        sk_crec_target_epoch(&b, gid, epoch);
        ctps none = {0};
        for (int32_t i = 0; i < n; i++)
            sk_crec_current(&b, gid, members[i].member_id, epoch, epoch, CM_STABLE, &members[i].assigned, &none);
        sk_info("group", "group %s: upgraded from classic to consumer group at epoch %d with %d members", gid, epoch,
                n);
        err = sk_coord_write(gs, partition, &b); /* `g` may be freed and created again */
        sk_grecs_free(&b);
        ggroup *ng = err == SK_ERR_NONE ? sk_group_find(gs, gid, strlen(gid)) : NULL;
        for (int32_t i = 0; ng && ng->consumer && i < ng->consumer->nmembers; i++)
            sk_cmember_touch(gs, ng->consumer->members[i]);
    }
    for (int32_t i = 0; i < n; i++)
        member_of_free(&members[i]);
    free(members);
    free(gid);
    return err;
}

/* ---- classic members' requests to a consumer group ---- */

/* validateConsumerGroupMember, then throwIfMemberDoesNotUseClassicProtocol. */
static cmember *classic_member(const cgroup *c, const char *member_id, kf_str instance, int16_t *err)
{
    cmember *m;
    *err = SK_ERR_NONE;
    if (instance.p) {
        char iid[256];
        snprintf(iid, sizeof iid, "%.*s", (int)instance.len, instance.p);
        m = sk_cmember_find_static(c, iid);
        if (m && strcmp(m->member_id, member_id))
            *err = SK_ERR_FENCED_INSTANCE_ID;
    } else {
        m = sk_cmember_find(c, member_id);
    }
    if (!*err && (!m || !m->classic))
        *err = SK_ERR_UNKNOWN_MEMBER_ID;
    return *err ? NULL : m;
}

static char *kf_dup(kf_str s)
{
    return sk_coord_strndup(s.p ? s.p : "", s.p ? (size_t)s.len : 0);
}

/* Whether a partition of m's target that it does not own yet is still
 * owned or being revoked by another member (ConsumerGroup.waitingOnUnreleasedPartition). */
static bool waiting_on_unreleased(const cgroup *c, const cmember *m)
{
    for (int32_t k = 0; k < m->target.n; k++) {
        const ctp *p = &m->target.v[k];
        if (sk_ctps_has(&m->assigned, p->id, p->partition))
            continue;
        for (int32_t i = 0; i < c->nmembers; i++)
            if (c->members[i] != m && (sk_ctps_has(&c->members[i]->assigned, p->id, p->partition) ||
                                       sk_ctps_has(&c->members[i]->revoking, p->id, p->partition)))
                return true;
    }
    return false;
}

int16_t sk_cgroup_classic_beat(sk_groups *gs, ggroup *g, const kf_heartbeat_request *rq)
{
    char *mid = kf_dup(rq->member_id);
    if (!mid)
        return SK_ERR_UNKNOWN_SERVER_ERROR;
    int16_t err;
    cmember *m = classic_member(g->consumer, mid, rq->group_instance_id, &err);
    free(mid);
    if (!m)
        return err;
    if (rq->generation_id != m->member_epoch)
        return SK_ERR_ILLEGAL_GENERATION;
    sk_cmember_touch(gs, m);
    /* It rejoins when the group moved on, it must revoke, or the partitions
     * it waits for are free. */
    if (m->member_epoch < g->consumer->group_epoch || m->state == CM_UNREVOKED_PARTITIONS ||
        (m->state == CM_UNRELEASED_PARTITIONS && !waiting_on_unreleased(g->consumer, m)))
        return SK_ERR_REBALANCE_IN_PROGRESS;
    return SK_ERR_NONE;
}

/* The version of a ConsumerProtocolSubscription (its first int16). */
static int16_t protocol_version(const gprotocol *p)
{
    if (!p || p->metadata_len < 2)
        return 0;
    int16_t v = (int16_t)((p->metadata[0] << 8) | p->metadata[1]);
    return v < 0 ? 0 : v;
}

/* Partitions `s` as a ConsumerProtocolAssignment of `version` (every
 * version has the same fields: partitions by topic name, user data). */
static int assignment_bytes(sk_groups *gs, const ctps *s, int16_t version, sk_writer *w)
{
    sk_write_i16(w, version);
    sk_write_i32(w, sk_ctps_topic_count(s));
    for (int32_t i = 0; i < s->n;) {
        const char *name = gs->topics.by_id ? gs->topics.by_id(gs->topics.arg, s->v[i].id) : NULL;
        int32_t k = i + 1;
        while (k < s->n && !sk_ctps_topic_starts(s, k))
            k++;
        name = name ? name : "";
        sk_write_i16(w, (int16_t)strlen(name));
        sk_write_raw(w, name, strlen(name));
        sk_write_i32(w, k - i);
        for (; i < k; i++)
            sk_write_i32(w, s->v[i].partition);
    }
    sk_write_i32(w, -1); /* no user data */
    return w->err ? -1 : 0;
}

void sk_cgroup_classic_sync(sk_groups *gs, ggroup *g, const kf_sync_group_request *rq, void *waiter)
{
    char *mid = kf_dup(rq->member_id);
    int16_t err = SK_ERR_UNKNOWN_SERVER_ERROR;
    cmember *m = mid ? classic_member(g->consumer, mid, rq->group_instance_id, &err) : NULL;
    free(mid);
    if (m && rq->generation_id != m->member_epoch) {
        err = SK_ERR_ILLEGAL_GENERATION;
        m = NULL;
    }
    if (m && ((rq->protocol_type.p && !kf_str_eq(rq->protocol_type, "consumer")) ||
              (rq->protocol_name.p && m->classic->nprotocols > 0 &&
               !kf_str_eq(rq->protocol_name, m->classic->protocols[0].name)))) {
        err = SK_ERR_INCONSISTENT_GROUP_PROTOCOL;
        m = NULL;
    }
    if (m && g->consumer->group_epoch > m->member_epoch && m->state != CM_UNREVOKED_PARTITIONS) {
        err = SK_ERR_REBALANCE_IN_PROGRESS; /* throwIfRebalanceInProgress */
        m = NULL;
    }
    sk_writer w;
    sk_writer_init(&w, 64);
    if (m && assignment_bytes(gs, &m->assigned, protocol_version(m->classic->protocols), &w) < 0)
        m = NULL;
    if (!m) {
        sk_writer_free(&w);
        sk_group_answer_sync_error(gs, waiter, err);
        return;
    }
    sk_cmember_touch(gs, m);
    kf_sync_group_response r;
    kf_init(&kf_sync_group_response_desc, &r);
    r.protocol_type = rq->protocol_type;
    r.protocol_name = rq->protocol_name;
    r.assignment.p = w.buf;
    r.assignment.len = (int32_t)w.len;
    gs->opts.sync_done(waiter, &r);
    sk_writer_free(&w);
}

void sk_cgroup_classic_leave(sk_groups *gs, ggroup *g, const kf_leave_group_request_member *members, int32_t n,
                             kf_leave_group_response_member *out)
{
    char *gid = sk_coord_strdup(g->group_id);
    for (int32_t i = 0; i < n; i++) {
        const kf_leave_group_request_member *rm = &members[i];
        out[i].member_id = rm->member_id;
        out[i].group_instance_id = rm->group_instance_id;
        out[i].error_code = SK_ERR_NONE;
        ggroup *cur = gid ? sk_group_find(gs, gid, strlen(gid)) : NULL; /* a downgrade may have replaced it */
        char *mid = kf_dup(rm->member_id);
        int16_t err = SK_ERR_UNKNOWN_MEMBER_ID;
        cmember *m = NULL;
        if (mid && cur && cur->consumer) {
            if (!mid[0] && rm->group_instance_id.p) { /* removal by instance id */
                char iid[256];
                snprintf(iid, sizeof iid, "%.*s", (int)rm->group_instance_id.len, rm->group_instance_id.p);
                m = sk_cmember_find_static(cur->consumer, iid);
                err = m && m->classic ? SK_ERR_NONE : SK_ERR_UNKNOWN_MEMBER_ID;
                if (err)
                    m = NULL;
            } else {
                m = classic_member(cur->consumer, mid, rm->group_instance_id, &err);
            }
        }
        if (m)
            err = sk_cmember_remove(gs, m, "left the group (LeaveGroup)");
        out[i].error_code = err;
        free(mid);
    }
    free(gid);
}

void sk_cgroup_classic_join_member(sk_groups *gs, ggroup *g, const sk_group_client *client, int16_t version,
                                   const kf_join_group_request *rq, void *waiter)
{
    cgroup *c = g->consumer;
    char *mid = kf_dup(rq->member_id);
    if (!mid) {
        sk_group_answer_join_error(gs, waiter, "", SK_ERR_UNKNOWN_SERVER_ERROR);
        return;
    }
    /* throwIfClassicProtocolIsNotSupported: the consumer protocol type,
     * and a protocol every classic member supports. */
    bool supported = kf_str_eq(rq->protocol_type, "consumer") && rq->protocols.n > 0;
    for (int32_t i = 0; supported && i < c->nmembers; i++) {
        const cmember *o = c->members[i];
        if (!o->classic || !strcmp(o->member_id, mid))
            continue;
        bool any = false;
        for (int32_t k = 0; k < rq->protocols.n && !any; k++)
            for (int32_t j = 0; j < o->classic->nprotocols && !any; j++)
                any = kf_str_eq(rq->protocols.items[k].name, o->classic->protocols[j].name);
        supported = any;
    }
    if (!supported) {
        sk_group_answer_join_error(gs, waiter, mid, SK_ERR_INCONSISTENT_GROUP_PROTOCOL);
        free(mid);
        return;
    }
    if (!mid[0]) { /* a new dynamic member: a member id, rejoin with it from v4 on */
        uint8_t id[16];
        char s[SK_UUID_STR_LEN + 1];
        sk_uuid_random(id);
        sk_uuid_to_string(id, s);
        free(mid);
        if (!(mid = sk_coord_strdup(s))) {
            sk_group_answer_join_error(gs, waiter, "", SK_ERR_UNKNOWN_SERVER_ERROR);
            return;
        }
        if (version >= 4 && !rq->group_instance_id.p) {
            sk_group_answer_join_error(gs, waiter, mid, SK_ERR_MEMBER_ID_REQUIRED);
            free(mid);
            return;
        }
    }
    const cmember *old = sk_cmember_find(c, mid);
    cmember sub = {0};
    ctps owned = {0};
    cclassic cl = {rq->session_timeout_ms, NULL, 0};
    gprotocol *ps = calloc((size_t)rq->protocols.n + 1, sizeof *ps);
    kf_str *names = NULL;
    kf_consumer_group_heartbeat_request_topic_partitions *tps = NULL;
    int32_t *parts = NULL;
    int16_t err = SK_ERR_UNKNOWN_SERVER_ERROR;
    char msg[320] = "";
    kf_consumer_group_heartbeat_request hr;
    kf_init(&kf_consumer_group_heartbeat_request_desc, &hr);
    int32_t t = -1, ntopic_ids;
    if (!ps)
        goto out;
    for (int32_t k = 0; k < rq->protocols.n; k++) {
        ps[k].metadata = (uint8_t *)rq->protocols.items[k].metadata.p;
        ps[k].metadata_len = rq->protocols.items[k].metadata.len;
        if (!(ps[k].name = kf_dup(rq->protocols.items[k].name)))
            goto out;
    }
    cl.protocols = ps;
    cl.nprotocols = rq->protocols.n;
    if (parse_subscription(gs, &ps[0], &sub, &owned) < 0) {
        err = SK_ERR_INCONSISTENT_GROUP_PROTOCOL;
        goto out;
    }
    /* The request as a heartbeat of the member at its epoch. */
    hr.group_id = kf_str_c(g->group_id);
    hr.member_id = kf_str_c(mid);
    hr.member_epoch = old ? old->member_epoch : 0;
    hr.instance_id = rq->group_instance_id;
    hr.rack_id = kf_str_c(sub.rack_id);
    hr.rebalance_timeout_ms = rq->rebalance_timeout_ms > 0 ? rq->rebalance_timeout_ms : rq->session_timeout_ms;
    names = calloc((size_t)sub.ntopics + 1, sizeof *names);
    ntopic_ids = sk_ctps_topic_count(&owned);
    tps = calloc((size_t)ntopic_ids + 1, sizeof *tps);
    parts = calloc((size_t)owned.n + 1, sizeof *parts);
    if (!names || !tps || !parts)
        goto out;
    for (int32_t i = 0; i < sub.ntopics; i++)
        names[i] = kf_str_c(sub.topics[i]);
    hr.subscribed_topic_names.items = names;
    hr.subscribed_topic_names.n = sub.ntopics;
    for (int32_t i = 0; i < owned.n; i++) {
        if (sk_ctps_topic_starts(&owned, i)) {
            t++;
            memcpy(tps[t].topic_id.b, owned.v[i].id, 16);
            tps[t].partitions.items = &parts[i];
        }
        parts[i] = owned.v[i].partition;
        tps[t].partitions.n++;
    }
    hr.topic_partitions.items = tps;
    hr.topic_partitions.n = t + 1;
    err = sk_cgroup_classic_heartbeat(gs, client, &hr, &cl, msg, sizeof msg);
out:
    for (int32_t k = 0; ps && k < rq->protocols.n; k++)
        free(ps[k].name);
    free(ps);
    free(names);
    free(tps);
    free(parts);
    sk_ctps_free(&owned);
    member_of_free(&sub);
    ggroup *ng = sk_group_find(gs, rq->group_id.p, (size_t)rq->group_id.len);
    const cmember *m = err == SK_ERR_NONE && ng && ng->consumer ? sk_cmember_find(ng->consumer, mid) : NULL;
    if (!m) {
        if (err == SK_ERR_NONE)
            err = SK_ERR_UNKNOWN_SERVER_ERROR;
        sk_debug("group", "group %.*s: JoinGroup of classic member %s: %s %s", (int)rq->group_id.len, rq->group_id.p,
                 mid, sk_err_name(err), msg);
        sk_group_answer_join_error(gs, waiter, mid, err);
        free(mid);
        return;
    }
    kf_join_group_response r;
    kf_init(&kf_join_group_response_desc, &r);
    r.member_id = kf_str_c(mid);
    r.generation_id = m->member_epoch;
    r.protocol_type = kf_str_c("consumer");
    r.protocol_name = kf_str_c(m->classic && m->classic->nprotocols > 0 ? m->classic->protocols[0].name : NULL);
    r.leader = kf_str_c("");
    sk_info("group", "consumer group %s: classic member %s joined at epoch %d", ng->group_id, mid, m->member_epoch);
    gs->opts.join_done(waiter, &r);
    free(mid);
}

/* ---- the downgrade ---- */

bool sk_cgroup_downgrade_allowed(const sk_groups *gs, const cgroup *c, const cmember *leaving)
{
    if (leaving->classic || c->nmembers <= 1)
        return false;
    for (int32_t i = 0; i < c->nmembers; i++)
        if (c->members[i] != leaving && !c->members[i]->classic)
            return false;
    const char *why = !policy_allows(gs, false)                   ? "the online downgrade is disabled"
                      : c->nmembers - 1 > gs->cfg->group_max_size ? "its group size is greater than classic group "
                                                                    "max size"
                                                                  : NULL;
    if (why)
        sk_info("group", "Cannot downgrade consumer group %s to classic group because %s.", c->g->group_id, why);
    return !why;
}

/* The classic member a consumer group's classic member becomes, linked
 * last into g; -1 when out of memory (what was filled in is linked, for
 * sk_group_members_clear to free). */
static int classic_member_add(ggroup *g, const cmember *cm)
{
    gmember *m = calloc(1, sizeof *m);
    if (!m)
        return -1;
    m->group = g;
    sk_coord_timer_init(&m->heartbeat, sk_group_member_session_expired);
    gmember **tail = &g->members;
    while (*tail)
        tail = &(*tail)->next;
    *tail = m;
    g->nmembers++;
    m->member_id = sk_coord_strdup(cm->member_id);
    m->group_instance_id = cm->instance_id ? sk_coord_strdup(cm->instance_id) : NULL;
    m->client_id = sk_coord_strdup(cm->client_id ? cm->client_id : "");
    m->client_host = sk_coord_strdup(cm->client_host ? cm->client_host : "");
    m->session_timeout_ms = cm->classic->session_timeout_ms;
    m->rebalance_timeout_ms = cm->rebalance_timeout_ms;
    cclassic *copy = cclassic_copy(cm->classic);
    if (copy) { /* the protocols move into the member */
        m->protocols = copy->protocols;
        m->nprotocols = copy->nprotocols;
        free(copy);
    }
    return m->member_id && (!cm->instance_id || m->group_instance_id) && m->client_id && m->client_host && copy ? 0
                                                                                                                : -1;
}

int16_t sk_cgroup_downgrade(sk_groups *gs, cgroup *c, cmember *leaving)
{
    ggroup *g = c->g;
    /* Kafka sets the classic state directly, then writes it: so here too. */
    int rc = 0;
    for (int32_t i = 0; i < c->nmembers && rc == 0; i++)
        if (c->members[i] != leaving)
            rc = classic_member_add(g, c->members[i]);
    if (rc == 0 && !g->protocol_type && !(g->protocol_type = sk_coord_strdup("consumer"))) /* sk_cgroup_of sets it */
        rc = -1;
    const char *selected = rc == 0 ? sk_group_select_protocol(g) : NULL;
    if (rc == 0 && (!selected || !(g->protocol_name = sk_coord_strdup(selected))))
        rc = -1;
    for (gmember *m = g->members; m && rc == 0; m = m->next) { /* each its target assignment */
        const cmember *cm = sk_cmember_find(c, m->member_id);
        sk_writer w;
        sk_writer_init(&w, 64);
        rc = assignment_bytes(gs, &cm->target, protocol_version(sk_group_member_protocol(m, g->protocol_name)), &w);
        if (rc == 0)
            rc = sk_group_member_set_assignment(m, w.buf, (int32_t)w.len);
        sk_writer_free(&w);
    }
    int16_t err = SK_ERR_UNKNOWN_SERVER_ERROR;
    if (rc == 0) {
        g->generation_id = c->group_epoch;
        g->leader = g->members;
        g->previous_state = g->state;
        g->state = SK_GROUP_STABLE;
        g->current_state_timestamp = sk_groups_now(gs);
        grecs b;
        sk_grecs_init(&b);
        for (int32_t i = 0; i < c->nmembers; i++) {
            sk_crec_current_tombstone(&b, g->group_id, c->members[i]->member_id);
            sk_crec_target_member_tombstone(&b, g->group_id, c->members[i]->member_id);
            sk_crec_member_tombstone(&b, g->group_id, c->members[i]->member_id);
        }
        sk_cgroup_tombstones(g, &b);
        sk_grecs_group_metadata(&b, g, false, NULL);
        sk_info("group",
                "group %s: downgraded from consumer to classic group at generation %d with %d members "
                "(member %s left)",
                g->group_id, g->generation_id, g->nmembers, leaving->member_id);
        err = sk_coord_write(gs, g->partition, &b); /* replaying the tombstones frees `c` */
        sk_grecs_free(&b);
    }
    if (err != SK_ERR_NONE) { /* nothing stored: the consumer group stays */
        sk_group_members_clear(gs, g);
        free(g->protocol_name);
        g->protocol_name = NULL;
        g->leader = NULL;
        g->generation_id = 0;
        g->state = g->previous_state = SK_GROUP_EMPTY;
        return err;
    }
    sk_group_compute_subscribed(g);
    for (gmember *m = g->members; m; m = m->next)
        sk_group_reschedule_heartbeat(gs, m, m->session_timeout_ms);
    char reason[300];
    snprintf(reason, sizeof reason, "Downgrade group %s from consumer to classic.", g->group_id);
    sk_group_maybe_rebalance(gs, g, reason);
    return SK_ERR_NONE;
}
