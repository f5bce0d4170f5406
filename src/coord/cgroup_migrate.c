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
            if (known && p >= 0 && p < count && !ctps_has(out, id, p) && ctps_add(out, id, p) < 0)
                return -1;
        }
    }
    ctps_sort(out);
    return r->err ? -1 : 0;
}

/* A subscription's topics (sorted, unique) and rack. */
static int parse_subscription(const gprotocol *p, cmember *m)
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
    if (version >= 1) { /* owned partitions: the assignment says the same */
        int32_t nt = sk_read_i32(&r);
        for (int32_t t = 0; !r.err && t < nt; t++) {
            char *name;
            if (read_str(&r, &name) < 0)
                return -1;
            free(name);
            int32_t np = sk_read_i32(&r);
            if (r.err || np < 0 || (size_t)np > sk_reader_left(&r) / 4)
                return -1;
            sk_read_raw(&r, (size_t)np * 4);
        }
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
    if (!p || parse_subscription(p, m) < 0 || parse_assignment(gs, gm, &m->assigned) < 0)
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
    ctps_free(&m->assigned);
    cclassic_free(m->classic);
}

int16_t cgroup_upgrade(sk_groups *gs, ggroup *g, char *msg, size_t msglen)
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
            sk_warn("group", "Cannot upgrade the classic group %s to consumer group because the embedded consumer "
                    "protocol of member %s is malformed.", g->group_id, gm->member_id);
            snprintf(msg, msglen, "Cannot upgrade the classic group %s to consumer group because the embedded "
                     "consumer protocol is malformed.", g->group_id);
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
            crec_member(&b, gid, &members[i]);
        crec_group_epoch(&b, gid, epoch);
        for (int32_t i = 0; i < n; i++)
            crec_target_member(&b, gid, members[i].member_id, &members[i].assigned);
        crec_target_epoch(&b, gid, epoch);
        ctps none = {0};
        for (int32_t i = 0; i < n; i++)
            crec_current(&b, gid, members[i].member_id, epoch, epoch, CM_STABLE, &members[i].assigned, &none);
        sk_info("group", "group %s: upgraded from classic to consumer group at epoch %d with %d members", gid,
                epoch, n);
        err = sk_coord_write(gs, partition, &b); /* `g` may be freed and created again */
        sk_grecs_free(&b);
        ggroup *ng = err == SK_ERR_NONE ? sk_group_find(gs, gid, strlen(gid)) : NULL;
        for (int32_t i = 0; ng && ng->consumer && i < ng->consumer->nmembers; i++)
            cmember_touch(gs, ng->consumer->members[i]);
    }
    for (int32_t i = 0; i < n; i++)
        member_of_free(&members[i]);
    free(members);
    free(gid);
    return err;
}
