/*
 * Consumer-group records of __consumer_offsets in Apache Kafka's formats
 * (group-coordinator message schemas), and the one replay() that applies
 * them: live writes (runtime.c) and loading at start-up both come here.
 *
 * Keys (not flexible: int16 version = record type, int16-length strings):
 *   3 ConsumerGroupMetadata               groupId
 *   4 ConsumerGroupPartitionMetadata      groupId
 *   5 ConsumerGroupMemberMetadata         groupId, memberId
 *   6 ConsumerGroupTargetAssignmentMetadata groupId
 *   7 ConsumerGroupTargetAssignmentMember groupId, memberId
 *   8 ConsumerGroupCurrentMemberAssignment groupId, memberId
 * Values (version 0, flexible: compact lengths, tagged fields after each
 * struct, unknown tags skipped):
 *   3: epoch int32
 *   4: topics [topicId uuid, topicName string, numPartitions int32,
 *      partitionMetadata [partition int32, racks [string]]]
 *   5: instanceId string?, rackId string?, clientId string, clientHost
 *      string, subscribedTopicNames [string], subscribedTopicRegex string?,
 *      rebalanceTimeoutMs int32, serverAssignor string?
 *   6: assignmentEpoch int32
 *   7: topicPartitions [topicId uuid, partitions [int32]]
 *   8: memberEpoch int32, previousMemberEpoch int32, state int8,
 *      assignedPartitions [...], partitionsPendingRevocation [...] (as 7)
 * A null value is a tombstone.
 */
#include <stdlib.h>
#include <string.h>

#include "cgroup_int.h"
#include "skiff/trace.h"

/* ---- Writing ---- */

static void put_cstr(sk_writer *w, const char *s)
{
    if (!s) {
        sk_write_uvarint(w, 0);
        return;
    }
    size_t n = strlen(s);
    sk_write_uvarint(w, (uint32_t)n + 1);
    sk_write_raw(w, s, n);
}

static struct grec *key2(grecs *b, int16_t type, const char *group_id, const char *member_id)
{
    struct grec *r = grec_begin(b);
    if (r) {
        sk_write_i16(&b->w, type);
        grec_put_str(&b->w, group_id);
        if (member_id)
            grec_put_str(&b->w, member_id);
    }
    return r;
}

static void tombstone(grecs *b, int16_t type, const char *group_id, const char *member_id)
{
    struct grec *r = key2(b, type, group_id, member_id);
    if (r) {
        grec_value(b, r, true);
        grec_end(b, r);
    }
}

/* A flexible value: version 0, then the caller's fields. */
static struct grec *value_begin(grecs *b, int16_t type, const char *group_id, const char *member_id)
{
    struct grec *r = key2(b, type, group_id, member_id);
    if (r) {
        grec_value(b, r, false);
        sk_write_i16(&b->w, 0);
    }
    return r;
}

static void value_end(grecs *b, struct grec *r)
{
    sk_write_uvarint(&b->w, 0); /* no tagged fields */
    grec_end(b, r);
}

/* [topicId uuid, partitions [int32]] from a sorted set. */
static void put_tps(sk_writer *w, const ctps *s)
{
    int32_t ntopics = ctps_topic_count(s);
    sk_write_uvarint(w, (uint32_t)ntopics + 1);
    for (int32_t i = 0; i < s->n;) {
        int32_t j = i;
        while (j < s->n && !memcmp(s->v[j].id, s->v[i].id, 16))
            j++;
        sk_write_raw(w, s->v[i].id, 16);
        sk_write_uvarint(w, (uint32_t)(j - i) + 1);
        for (int32_t k = i; k < j; k++)
            sk_write_i32(w, s->v[k].partition);
        sk_write_uvarint(w, 0);
        i = j;
    }
}

void crec_group_epoch(grecs *b, const char *group_id, int32_t epoch)
{
    struct grec *r = value_begin(b, CREC_GROUP_METADATA, group_id, NULL);
    if (r) {
        sk_write_i32(&b->w, epoch);
        value_end(b, r);
    }
}

void crec_group_tombstone(grecs *b, const char *group_id)
{
    tombstone(b, CREC_GROUP_METADATA, group_id, NULL);
}

void crec_partition_metadata(grecs *b, const char *group_id, const ctopic_meta *t, int32_t n)
{
    struct grec *r = value_begin(b, CREC_PARTITION_METADATA, group_id, NULL);
    if (!r)
        return;
    sk_write_uvarint(&b->w, (uint32_t)n + 1);
    for (int32_t i = 0; i < n; i++) {
        sk_write_raw(&b->w, t[i].id, 16);
        put_cstr(&b->w, t[i].name);
        sk_write_i32(&b->w, t[i].partitions);
        sk_write_uvarint(&b->w, 1); /* no rack information per partition */
        sk_write_uvarint(&b->w, 0);
    }
    value_end(b, r);
}

void crec_partition_metadata_tombstone(grecs *b, const char *group_id)
{
    tombstone(b, CREC_PARTITION_METADATA, group_id, NULL);
}

void crec_member(grecs *b, const char *group_id, const cmember *m)
{
    struct grec *r = value_begin(b, CREC_MEMBER_METADATA, group_id, m->member_id);
    if (!r)
        return;
    put_cstr(&b->w, m->instance_id);
    put_cstr(&b->w, m->rack_id);
    put_cstr(&b->w, m->client_id ? m->client_id : "");
    put_cstr(&b->w, m->client_host ? m->client_host : "");
    sk_write_uvarint(&b->w, (uint32_t)m->ntopics + 1);
    for (int32_t i = 0; i < m->ntopics; i++)
        put_cstr(&b->w, m->topics[i]);
    put_cstr(&b->w, m->regex);
    sk_write_i32(&b->w, m->rebalance_timeout_ms);
    put_cstr(&b->w, m->server_assignor);
    value_end(b, r);
}

void crec_member_tombstone(grecs *b, const char *group_id, const char *member_id)
{
    tombstone(b, CREC_MEMBER_METADATA, group_id, member_id);
}

void crec_target_epoch(grecs *b, const char *group_id, int32_t epoch)
{
    struct grec *r = value_begin(b, CREC_TARGET_METADATA, group_id, NULL);
    if (r) {
        sk_write_i32(&b->w, epoch);
        value_end(b, r);
    }
}

void crec_target_epoch_tombstone(grecs *b, const char *group_id)
{
    tombstone(b, CREC_TARGET_METADATA, group_id, NULL);
}

void crec_target_member(grecs *b, const char *group_id, const char *member_id, const ctps *t)
{
    struct grec *r = value_begin(b, CREC_TARGET_MEMBER, group_id, member_id);
    if (r) {
        put_tps(&b->w, t);
        value_end(b, r);
    }
}

void crec_target_member_tombstone(grecs *b, const char *group_id, const char *member_id)
{
    tombstone(b, CREC_TARGET_MEMBER, group_id, member_id);
}

void crec_current(grecs *b, const char *group_id, const char *member_id, int32_t epoch, int32_t previous_epoch,
                  cmember_state state, const ctps *assigned, const ctps *revoking)
{
    struct grec *r = value_begin(b, CREC_CURRENT_ASSIGNMENT, group_id, member_id);
    if (!r)
        return;
    sk_write_i32(&b->w, epoch);
    sk_write_i32(&b->w, previous_epoch);
    sk_write_i8(&b->w, (int8_t)state);
    put_tps(&b->w, assigned);
    put_tps(&b->w, revoking);
    value_end(b, r);
}

void crec_current_tombstone(grecs *b, const char *group_id, const char *member_id)
{
    tombstone(b, CREC_CURRENT_ASSIGNMENT, group_id, member_id);
}

/* ---- Replay ---- */

static int get_tps(sk_reader *r, ctps *out)
{
    out->n = 0;
    int32_t nt = grec_get_count(r, true);
    for (int32_t i = 0; i < nt && !r->err; i++) {
        const uint8_t *id = sk_read_raw(r, 16);
        int32_t np = grec_get_count(r, true);
        for (int32_t k = 0; k < np && !r->err; k++) {
            int32_t p = sk_read_i32(r);
            if (!r->err && id && ctps_add(out, id, p) < 0)
                return -1;
        }
        grec_skip_tags(r, true);
    }
    ctps_sort(out);
    return r->err ? -1 : 0;
}

/* A member created by replay (MemberMetadata before anything else). */
static cmember *member_add(sk_groups *gs, cgroup *c, const char *member_id)
{
    (void)gs;
    if (c->nmembers == c->cap) {
        int32_t cap = c->cap ? c->cap * 2 : 4;
        cmember **v = realloc(c->members, (size_t)cap * sizeof *v);
        if (!v)
            return NULL;
        c->members = v;
        c->cap = cap;
    }
    cmember *m = calloc(1, sizeof *m);
    if (!m || !(m->member_id = gstrdup(member_id))) {
        free(m);
        return NULL;
    }
    m->group = c;
    m->rebalance_timeout_ms = -1;
    m->state = CM_STABLE;
    sk_coord_timer_init(&m->session, NULL);
    sk_coord_timer_init(&m->rebalance, NULL);
    c->members[c->nmembers++] = m;
    return m;
}

static void member_strings_free(cmember *m)
{
    free(m->instance_id);
    free(m->rack_id);
    free(m->client_id);
    free(m->client_host);
    free(m->regex);
    cregex_free(m->re);
    m->re = NULL;
    free(m->server_assignor);
    for (int32_t i = 0; i < m->ntopics; i++)
        free(m->topics[i]);
    free(m->topics);
    m->instance_id = m->rack_id = m->client_id = m->client_host = m->regex = m->server_assignor = NULL;
    m->topics = NULL;
    m->ntopics = 0;
}

void cmember_free(sk_groups *gs, cmember *m)
{
    sk_coord_timer_cancel(&gs->timers, &m->session);
    sk_coord_timer_cancel(&gs->timers, &m->rebalance);
    member_strings_free(m);
    ctps_free(&m->assigned);
    ctps_free(&m->revoking);
    ctps_free(&m->target);
    free(m->member_id);
    free(m);
}

static void member_remove_at(sk_groups *gs, cgroup *c, int32_t i)
{
    cmember_free(gs, c->members[i]);
    memmove(&c->members[i], &c->members[i + 1], (size_t)(c->nmembers - i - 1) * sizeof *c->members);
    c->nmembers--;
}

static int str_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int replay_member(sk_groups *gs, cgroup *c, const char *member_id, sk_reader *v)
{
    cmember *m = cmember_find(c, member_id);
    if (!m && !(m = member_add(gs, c, member_id)))
        return -1;
    member_strings_free(m);
    m->instance_id = grec_get_str(v, true);
    m->rack_id = grec_get_str(v, true);
    m->client_id = grec_get_str(v, true);
    m->client_host = grec_get_str(v, true);
    int32_t n = grec_get_count(v, true);
    if (!v->err && n > 0 && !(m->topics = calloc((size_t)n, sizeof *m->topics)))
        return -1;
    for (int32_t i = 0; i < n && !v->err; i++)
        if ((m->topics[m->ntopics] = grec_get_str(v, true)))
            m->ntopics++;
    if (m->ntopics > 1)
        qsort(m->topics, (size_t)m->ntopics, sizeof *m->topics, str_cmp);
    m->regex = grec_get_str(v, true);
    if (m->regex) {
        char err[200];
        if (!(m->re = cregex_compile(m->regex, err, sizeof err)))
            sk_warn("group", "consumer group %s: member %s: regex '%s' ignored: %s", c->g->group_id, member_id,
                    m->regex, err);
    }
    m->rebalance_timeout_ms = sk_read_i32(v);
    m->server_assignor = grec_get_str(v, true);
    return v->err ? -1 : 0;
}

static int replay_partition_metadata(cgroup *c, sk_reader *v)
{
    for (int32_t i = 0; i < c->ntopics; i++)
        free(c->topics[i].name);
    free(c->topics);
    c->topics = NULL;
    c->ntopics = 0;
    int32_t n = grec_get_count(v, true);
    if (v->err || (n > 0 && !(c->topics = calloc((size_t)n, sizeof *c->topics))))
        return -1;
    for (int32_t i = 0; i < n && !v->err; i++) {
        ctopic_meta *t = &c->topics[c->ntopics];
        const uint8_t *id = sk_read_raw(v, 16);
        t->name = grec_get_str(v, true);
        t->partitions = sk_read_i32(v);
        int32_t np = grec_get_count(v, true);
        for (int32_t k = 0; k < np && !v->err; k++) {
            sk_read_i32(v);
            int32_t nr = grec_get_count(v, true);
            for (int32_t j = 0; j < nr && !v->err; j++)
                free(grec_get_str(v, true));
            grec_skip_tags(v, true);
        }
        grec_skip_tags(v, true);
        if (v->err || !id || !t->name) {
            free(t->name);
            break;
        }
        memcpy(t->id, id, 16);
        c->ntopics++;
    }
    return v->err ? -1 : 0;
}

static int replay_current(cmember *m, sk_reader *v)
{
    int32_t epoch = sk_read_i32(v), previous = sk_read_i32(v);
    int8_t state = sk_read_i8(v);
    ctps assigned = {0}, revoking = {0};
    if (v->err || get_tps(v, &assigned) < 0 || get_tps(v, &revoking) < 0 || state < 0 || state > CM_UNKNOWN) {
        ctps_free(&assigned);
        ctps_free(&revoking);
        return -1;
    }
    ctps_free(&m->assigned);
    ctps_free(&m->revoking);
    m->assigned = assigned;
    m->revoking = revoking;
    m->member_epoch = epoch;
    m->previous_member_epoch = previous;
    m->state = (cmember_state)state;
    m->has_current = true;
    return 0;
}

int cgroup_replay(sk_groups *gs, int16_t type, sk_reader *key, const sk_group_record *rec)
{
    char *group_id = grec_get_str(key, false), *member_id = NULL;
    bool per_member = type == CREC_MEMBER_METADATA || type == CREC_TARGET_MEMBER || type == CREC_CURRENT_ASSIGNMENT;
    if (per_member)
        member_id = grec_get_str(key, false);
    int rc = -1;
    if (key->err || !group_id || (per_member && !member_id))
        goto out;
    ggroup *g = group_find(gs, group_id, strlen(group_id));
    if (!rec->value) { /* tombstones of what does not exist are no-ops */
        cgroup *c = g ? g->consumer : NULL;
        rc = 0;
        if (!c)
            goto out;
        cmember *m = member_id ? cmember_find(c, member_id) : NULL;
        if (type == CREC_GROUP_METADATA) {
            c->has_metadata = false;
            if (c->nmembers == 0)
                cgroup_free(gs, g);
        } else if (type == CREC_PARTITION_METADATA) {
            replay_partition_metadata(c, &(sk_reader){0});
        } else if (type == CREC_TARGET_METADATA) {
            c->assignment_epoch = 0;
        } else if (type == CREC_TARGET_MEMBER && m) {
            m->target.n = 0;
        } else if (type == CREC_CURRENT_ASSIGNMENT && m) {
            m->assigned.n = m->revoking.n = 0;
            m->member_epoch = m->previous_member_epoch = 0;
            m->state = CM_STABLE;
            m->has_current = false;
        } else if (type == CREC_MEMBER_METADATA && m) {
            for (int32_t i = 0; i < c->nmembers; i++)
                if (c->members[i] == m)
                    member_remove_at(gs, c, i);
        }
        goto out;
    }
    if (!g && !(g = group_create(gs, group_id, strlen(group_id))))
        goto out;
    cgroup *c = cgroup_of(g, true);
    if (!c)
        goto out;
    sk_reader v;
    sk_reader_init(&v, rec->value, rec->value_len);
    int16_t version = sk_read_i16(&v);
    if (v.err || version < 0)
        goto out;
    cmember *m = member_id ? cmember_find(c, member_id) : NULL;
    switch (type) {
    case CREC_GROUP_METADATA:
        c->group_epoch = sk_read_i32(&v);
        c->has_metadata = true;
        rc = v.err ? -1 : 0;
        break;
    case CREC_PARTITION_METADATA:
        rc = replay_partition_metadata(c, &v);
        break;
    case CREC_MEMBER_METADATA:
        rc = replay_member(gs, c, member_id, &v);
        break;
    case CREC_TARGET_METADATA:
        c->assignment_epoch = sk_read_i32(&v);
        rc = v.err ? -1 : 0;
        break;
    case CREC_TARGET_MEMBER:
        /* Kafka writes a member's metadata before its target */
        rc = m ? get_tps(&v, &m->target) : -1;
        break;
    case CREC_CURRENT_ASSIGNMENT:
        rc = m ? replay_current(m, &v) : -1;
        break;
    default:
        break;
    }
out:
    free(group_id);
    free(member_id);
    return rc;
}
