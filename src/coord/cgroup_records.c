/*
 * Consumer-group records of __consumer_offsets in Apache Kafka's formats,
 * and the one replay() that applies them: live writes (runtime.c) and
 * loading at start-up both come here. The formats are schema data
 * (src/proto/schema/record_consumer_group_*.kfs, key types 3-8, values
 * version 0, flexible) read and written by the one codec
 * (src/proto/record_codec.c); this file maps them to the group:
 *
 *   3 ConsumerGroupMetadata                 group epoch
 *   4 ConsumerGroupPartitionMetadata        subscribed topics (no racks)
 *   5 ConsumerGroupMemberMetadata           a member's subscription
 *   6 ConsumerGroupTargetAssignmentMetadata assignment epoch
 *   7 ConsumerGroupTargetAssignmentMember   a member's target
 *   8 ConsumerGroupCurrentMemberAssignment  a member's epochs, state,
 *                                           assigned and revoking partitions
 * Keys are the group id, and the member id for types 5, 7 and 8. A null
 * value is a tombstone.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup_int.h"
#include "skiff/trace.h"

/* Every consumer-group key is the group id, then for the per-member types
 * the member id: the member key's struct serves all six. */
typedef kf_consumer_group_member_metadata_key ckey;
_Static_assert(offsetof(kf_consumer_group_metadata_key, group_id) == offsetof(ckey, group_id),
               "consumer group keys share one layout");
/* The partitions of a target and of a current assignment: one layout. */
typedef kf_consumer_group_current_member_assignment_value_topic_partitions ctopic_parts;
_Static_assert(sizeof(kf_consumer_group_target_assignment_member_value_topic_partitions) == sizeof(ctopic_parts) &&
                   offsetof(kf_consumer_group_target_assignment_member_value_topic_partitions, partitions) ==
                       offsetof(ctopic_parts, partitions),
               "topic partitions share one layout");

/* ---- Writing ---- */

static void add(grecs *b, const kf_record_type *rt, const char *group_id, const char *member_id, const void *value)
{
    ckey key = {kf_str_c(group_id), kf_str_c(member_id)};
    sk_grecs_add(b, rt, rt->type_min, &key, 0, value);
}

/* A sorted set as [topicId, partitions]: the topics in `*out`, their
 * partitions in `*ids` (heap, freed by the caller). Returns the count of
 * topics, or -1 when out of memory. */
static int32_t tps_out(const ctps *s, ctopic_parts **out, int32_t **ids)
{
    int32_t ntopics = sk_ctps_topic_count(s);
    *out = calloc(ntopics > 0 ? (size_t)ntopics : 1, sizeof **out);
    *ids = calloc(s->n > 0 ? (size_t)s->n : 1, sizeof **ids);
    if (!*out || !*ids)
        return -1;
    int32_t t = -1;
    for (int32_t i = 0; i < s->n; i++) {
        if (sk_ctps_topic_starts(s, i)) {
            t++;
            memcpy((*out)[t].topic_id.b, s->v[i].id, 16);
            (*out)[t].partitions.items = *ids + i;
        }
        (*ids)[i] = s->v[i].partition;
        (*out)[t].partitions.n++;
    }
    return ntopics;
}

void sk_crec_group_epoch(grecs *b, const char *group_id, int32_t epoch)
{
    kf_consumer_group_metadata_value v = {.epoch = epoch};
    add(b, KF_RECORD_CONSUMER_GROUP_METADATA, group_id, NULL, &v);
}

void sk_crec_group_tombstone(grecs *b, const char *group_id)
{
    add(b, KF_RECORD_CONSUMER_GROUP_METADATA, group_id, NULL, NULL);
}

void sk_crec_partition_metadata(grecs *b, const char *group_id, const ctopic_meta *t, int32_t n)
{
    kf_consumer_group_partition_metadata_value v;
    kf_init(&kf_consumer_group_partition_metadata_value_desc, &v);
    kf_consumer_group_partition_metadata_value_topic_metadata *topics = calloc(n > 0 ? (size_t)n : 1, sizeof *topics);
    if (!topics) {
        b->err = 1;
        return;
    }
    for (int32_t i = 0; i < n; i++) {
        memcpy(topics[i].topic_id.b, t[i].id, 16);
        topics[i].topic_name = kf_str_c(t[i].name);
        topics[i].num_partitions = t[i].partitions; /* no rack information per partition */
    }
    v.topics.items = topics;
    v.topics.n = n;
    add(b, KF_RECORD_CONSUMER_GROUP_PARTITION_METADATA, group_id, NULL, &v);
    free(topics);
}

void sk_crec_partition_metadata_tombstone(grecs *b, const char *group_id)
{
    add(b, KF_RECORD_CONSUMER_GROUP_PARTITION_METADATA, group_id, NULL, NULL);
}

void sk_crec_member(grecs *b, const char *group_id, const cmember *m)
{
    kf_consumer_group_member_metadata_value v;
    kf_init(&kf_consumer_group_member_metadata_value_desc, &v);
    kf_str *topics = calloc(m->ntopics > 0 ? (size_t)m->ntopics : 1, sizeof *topics);
    if (!topics) {
        b->err = 1;
        return;
    }
    for (int32_t i = 0; i < m->ntopics; i++)
        topics[i] = kf_str_c(m->topics[i]);
    v.instance_id = kf_str_c(m->instance_id);
    v.rack_id = kf_str_c(m->rack_id);
    v.client_id = kf_str_c(m->client_id ? m->client_id : "");
    v.client_host = kf_str_c(m->client_host ? m->client_host : "");
    v.subscribed_topic_names.items = topics;
    v.subscribed_topic_names.n = m->ntopics;
    v.subscribed_topic_regex = kf_str_c(m->regex);
    v.rebalance_timeout_ms = m->rebalance_timeout_ms;
    v.server_assignor = kf_str_c(m->server_assignor);
    kf_consumer_group_member_metadata_value_classic_member_metadata classic;
    kf_consumer_group_member_metadata_value_classic_protocol *protocols = NULL;
    if (m->classic) {
        protocols = calloc((size_t)m->classic->nprotocols + 1, sizeof *protocols);
        if (!protocols) {
            free(topics);
            b->err = 1;
            return;
        }
        for (int32_t i = 0; i < m->classic->nprotocols; i++) {
            protocols[i].name = kf_str_c(m->classic->protocols[i].name);
            protocols[i].metadata.p = m->classic->protocols[i].metadata;
            protocols[i].metadata.len = m->classic->protocols[i].metadata_len;
        }
        classic.session_timeout_ms = m->classic->session_timeout_ms;
        classic.supported_protocols.items = protocols;
        classic.supported_protocols.n = m->classic->nprotocols;
        v.classic_member_metadata = &classic;
    }
    add(b, KF_RECORD_CONSUMER_GROUP_MEMBER_METADATA, group_id, m->member_id, &v);
    free(protocols);
    free(topics);
}

void sk_crec_member_tombstone(grecs *b, const char *group_id, const char *member_id)
{
    add(b, KF_RECORD_CONSUMER_GROUP_MEMBER_METADATA, group_id, member_id, NULL);
}

void sk_crec_target_epoch(grecs *b, const char *group_id, int32_t epoch)
{
    kf_consumer_group_target_assignment_metadata_value v = {.assignment_epoch = epoch};
    add(b, KF_RECORD_CONSUMER_GROUP_TARGET_ASSIGNMENT_METADATA, group_id, NULL, &v);
}

void sk_crec_target_epoch_tombstone(grecs *b, const char *group_id)
{
    add(b, KF_RECORD_CONSUMER_GROUP_TARGET_ASSIGNMENT_METADATA, group_id, NULL, NULL);
}

void sk_crec_target_member(grecs *b, const char *group_id, const char *member_id, const ctps *t)
{
    ctopic_parts *topics;
    int32_t *ids;
    int32_t n = tps_out(t, &topics, &ids);
    kf_consumer_group_target_assignment_member_value v;
    v.topic_partitions.items = (kf_consumer_group_target_assignment_member_value_topic_partitions *)topics;
    v.topic_partitions.n = n;
    if (n < 0)
        b->err = 1;
    else
        add(b, KF_RECORD_CONSUMER_GROUP_TARGET_ASSIGNMENT_MEMBER, group_id, member_id, &v);
    free(topics);
    free(ids);
}

void sk_crec_target_member_tombstone(grecs *b, const char *group_id, const char *member_id)
{
    add(b, KF_RECORD_CONSUMER_GROUP_TARGET_ASSIGNMENT_MEMBER, group_id, member_id, NULL);
}

void sk_crec_current(grecs *b, const char *group_id, const char *member_id, int32_t epoch, int32_t previous_epoch,
                     cmember_state state, const ctps *assigned, const ctps *revoking)
{
    kf_consumer_group_current_member_assignment_value v = {
        .member_epoch = epoch, .previous_member_epoch = previous_epoch, .state = (int8_t)state};
    int32_t *ids[2];
    v.assigned_partitions.n = tps_out(assigned, &v.assigned_partitions.items, &ids[0]);
    v.partitions_pending_revocation.n = tps_out(revoking, &v.partitions_pending_revocation.items, &ids[1]);
    if (v.assigned_partitions.n < 0 || v.partitions_pending_revocation.n < 0)
        b->err = 1;
    else
        add(b, KF_RECORD_CONSUMER_GROUP_CURRENT_MEMBER_ASSIGNMENT, group_id, member_id, &v);
    free(v.assigned_partitions.items);
    free(v.partitions_pending_revocation.items);
    free(ids[0]);
    free(ids[1]);
}

void sk_crec_current_tombstone(grecs *b, const char *group_id, const char *member_id)
{
    add(b, KF_RECORD_CONSUMER_GROUP_CURRENT_MEMBER_ASSIGNMENT, group_id, member_id, NULL);
}

/* ---- Replay ---- */

static int tps_in(const ctopic_parts *t, int32_t n, ctps *out)
{
    out->n = 0;
    for (int32_t i = 0; i < n; i++)
        for (int32_t k = 0; k < t[i].partitions.n; k++)
            if (sk_ctps_add(out, t[i].topic_id.b, t[i].partitions.items[k]) < 0)
                return -1;
    sk_ctps_sort(out);
    return 0;
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
    if (!m || !(m->member_id = sk_coord_strdup(member_id))) {
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
    sk_cregex_free(m->re);
    m->re = NULL;
    free(m->server_assignor);
    for (int32_t i = 0; i < m->ntopics; i++)
        free(m->topics[i]);
    free(m->topics);
    m->instance_id = m->rack_id = m->client_id = m->client_host = m->regex = m->server_assignor = NULL;
    m->topics = NULL;
    m->ntopics = 0;
    cclassic_free(m->classic);
    m->classic = NULL;
}

void sk_cmember_free(sk_groups *gs, cmember *m)
{
    sk_coord_timer_cancel(&gs->timers, &m->session);
    sk_coord_timer_cancel(&gs->timers, &m->rebalance);
    member_strings_free(m);
    sk_ctps_free(&m->assigned);
    sk_ctps_free(&m->revoking);
    sk_ctps_free(&m->target);
    free(m->member_id);
    free(m);
}

static void member_remove_at(sk_groups *gs, cgroup *c, int32_t i)
{
    sk_cmember_free(gs, c->members[i]);
    memmove(&c->members[i], &c->members[i + 1], (size_t)(c->nmembers - i - 1) * sizeof *c->members);
    c->nmembers--;
}

static int str_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A copy of a decoded string (null: NULL) in *out; false when out of memory. */
static bool dup_str(kf_str s, char **out)
{
    *out = s.p ? sk_coord_strndup(s.p, s.len > 0 ? (size_t)s.len : 0) : NULL;
    return !s.p || *out;
}

static int replay_member(sk_groups *gs, cgroup *c, const char *member_id,
                         const kf_consumer_group_member_metadata_value *v)
{
    cmember *m = sk_cmember_find(c, member_id);
    if (!m && !(m = member_add(gs, c, member_id)))
        return -1;
    member_strings_free(m);
    int32_t n = v->subscribed_topic_names.n;
    if (n > 0 && !(m->topics = calloc((size_t)n, sizeof *m->topics)))
        return -1;
    for (int32_t i = 0; i < n; i++)
        if ((m->topics[m->ntopics] = sk_coord_memdup(v->subscribed_topic_names.items[i])))
            m->ntopics++;
    if (m->ntopics > 1)
        qsort(m->topics, (size_t)m->ntopics, sizeof *m->topics, str_cmp);
    if (!dup_str(v->instance_id, &m->instance_id) || !dup_str(v->rack_id, &m->rack_id) ||
        !dup_str(v->client_id, &m->client_id) || !dup_str(v->client_host, &m->client_host) ||
        !dup_str(v->subscribed_topic_regex, &m->regex) || !dup_str(v->server_assignor, &m->server_assignor) ||
        m->ntopics < n)
        return -1;
    if (m->regex) {
        char err[200];
        if (!(m->re = sk_cregex_compile(m->regex, err, sizeof err)))
            sk_warn("group", "consumer group %s: member %s: regex '%s' ignored: %s", c->g->group_id, member_id,
                    m->regex, err);
    }
    m->rebalance_timeout_ms = v->rebalance_timeout_ms;
    const kf_consumer_group_member_metadata_value_classic_member_metadata *cm = v->classic_member_metadata;
    if (cm) {
        if (!(m->classic = calloc(1, sizeof *m->classic)) ||
            !(m->classic->protocols = calloc((size_t)cm->supported_protocols.n + 1, sizeof *m->classic->protocols)))
            return -1;
        m->classic->session_timeout_ms = cm->session_timeout_ms;
        for (int32_t i = 0; i < cm->supported_protocols.n; i++) {
            const kf_consumer_group_member_metadata_value_classic_protocol *p = &cm->supported_protocols.items[i];
            gprotocol *q = &m->classic->protocols[i];
            if (!(q->name = sk_coord_memdup(p->name)) || !(q->metadata = malloc((size_t)p->metadata.len + 1)))
                return -1;
            m->classic->nprotocols++;
            memcpy(q->metadata, p->metadata.p, (size_t)p->metadata.len);
            q->metadata_len = p->metadata.len;
        }
    }
    return 0;
}

/* The subscribed topics' metadata (NULL `v`: none, a tombstone). */
static int replay_partition_metadata(cgroup *c, const kf_consumer_group_partition_metadata_value *v)
{
    for (int32_t i = 0; i < c->ntopics; i++)
        free(c->topics[i].name);
    free(c->topics);
    c->topics = NULL;
    c->ntopics = 0;
    int32_t n = v ? v->topics.n : 0;
    if (n > 0 && !(c->topics = calloc((size_t)n, sizeof *c->topics)))
        return -1;
    for (int32_t i = 0; i < n; i++) {
        ctopic_meta *t = &c->topics[c->ntopics];
        if (!(t->name = sk_coord_memdup(v->topics.items[i].topic_name)))
            return -1;
        memcpy(t->id, v->topics.items[i].topic_id.b, 16);
        t->partitions = v->topics.items[i].num_partitions;
        c->ntopics++;
    }
    return 0;
}

static int replay_current(cmember *m, const kf_consumer_group_current_member_assignment_value *v)
{
    ctps assigned = {0}, revoking = {0};
    if (tps_in(v->assigned_partitions.items, v->assigned_partitions.n, &assigned) < 0 ||
        tps_in(v->partitions_pending_revocation.items, v->partitions_pending_revocation.n, &revoking) < 0 ||
        v->state < 0 || v->state > CM_UNKNOWN) {
        sk_ctps_free(&assigned);
        sk_ctps_free(&revoking);
        return -1;
    }
    sk_ctps_free(&m->assigned);
    sk_ctps_free(&m->revoking);
    m->assigned = assigned;
    m->revoking = revoking;
    m->member_epoch = v->member_epoch;
    m->previous_member_epoch = v->previous_member_epoch;
    m->state = (cmember_state)v->state;
    m->has_current = true;
    return 0;
}

/* The value of any consumer-group record type (the largest struct). */
typedef union cvalue {
    kf_consumer_group_metadata_value group;
    kf_consumer_group_partition_metadata_value partitions;
    kf_consumer_group_member_metadata_value member;
    kf_consumer_group_target_assignment_metadata_value target_epoch;
    kf_consumer_group_target_assignment_member_value target;
    kf_consumer_group_current_member_assignment_value current;
} cvalue;

int sk_cgroup_replay(sk_groups *gs, const kf_record_type *rt, int16_t type, const sk_group_record *rec)
{
    sk_arena arena = {0};
    ckey key;
    int rc = -1;
    if (kf_record_key_decode(rt, rec->key, rec->key_len, &arena, &key) < 0)
        goto out;
    bool per_member = type == CREC_MEMBER_METADATA || type == CREC_TARGET_MEMBER || type == CREC_CURRENT_ASSIGNMENT;
    const char *group_id = sk_grec_str(&arena, key.group_id);
    const char *member_id = per_member ? sk_grec_str(&arena, key.member_id) : NULL;
    if (!group_id || (per_member && !member_id))
        goto out;
    ggroup *g = sk_group_find(gs, group_id, strlen(group_id));
    if (!rec->value) { /* tombstones of what does not exist are no-ops */
        cgroup *c = g ? g->consumer : NULL;
        rc = 0;
        if (!c)
            goto out;
        cmember *m = member_id ? sk_cmember_find(c, member_id) : NULL;
        if (type == CREC_GROUP_METADATA) {
            c->has_metadata = false;
            if (c->nmembers == 0)
                sk_cgroup_free(gs, g);
        } else if (type == CREC_PARTITION_METADATA) {
            replay_partition_metadata(c, NULL);
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
    cvalue v;
    int16_t version;
    if (kf_record_value_decode(rt, rec->value, rec->value_len, &arena, &v, &version) < 0)
        goto out;
    if (!g && !(g = sk_group_create(gs, group_id, strlen(group_id))))
        goto out;
    cgroup *c = sk_cgroup_of(g, true);
    if (!c)
        goto out;
    cmember *m = member_id ? sk_cmember_find(c, member_id) : NULL;
    switch (type) {
    case CREC_GROUP_METADATA:
        c->group_epoch = v.group.epoch;
        c->has_metadata = true;
        rc = 0;
        break;
    case CREC_PARTITION_METADATA:
        rc = replay_partition_metadata(c, &v.partitions);
        break;
    case CREC_MEMBER_METADATA:
        rc = replay_member(gs, c, member_id, &v.member);
        break;
    case CREC_TARGET_METADATA:
        c->assignment_epoch = v.target_epoch.assignment_epoch;
        rc = 0;
        break;
    case CREC_TARGET_MEMBER:
        /* Kafka writes a member's metadata before its target */
        rc = m ? tps_in((const ctopic_parts *)v.target.topic_partitions.items, v.target.topic_partitions.n, &m->target)
               : -1;
        break;
    case CREC_CURRENT_ASSIGNMENT:
        rc = m ? replay_current(m, &v.current) : -1;
        break;
    default:
        break;
    }
out:
    sk_arena_free(&arena);
    return rc;
}
