/*
 * Consumer-protocol groups (KIP-848) seen by the other group APIs:
 * ConsumerGroupDescribe, OffsetCommit/TxnOffsetCommit and OffsetFetch
 * member checks (ConsumerGroup.validateOffsetCommit / validateOffsetFetch),
 * DeleteGroups' records, and the classic protocol meeting a consumer group.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup_int.h"
#include "skiff/errors.h"
#include "skiff/trace.h"

/* ---- ConsumerGroupDescribe ---- */

static int fill_described(sk_groups *gs, const ctps *s, kf_consumer_group_describe_response_assignment *out,
                          sk_arena *arena)
{
    int32_t nt = sk_ctps_topic_count(s);
    kf_consumer_group_describe_response_topic_partitions *tp = sk_arena_alloc(arena, (size_t)nt * sizeof *tp + 1);
    int32_t *parts = sk_arena_alloc(arena, (size_t)s->n * sizeof *parts + 1);
    if (!tp || !parts)
        return -1;
    int32_t t = -1;
    for (int32_t i = 0; i < s->n; i++) {
        if (sk_ctps_topic_starts(s, i)) {
            t++;
            kf_init(&kf_consumer_group_describe_response_topic_partitions_desc, &tp[t]);
            memcpy(tp[t].topic_id.b, s->v[i].id, 16);
            const char *name = gs->topics.by_id ? gs->topics.by_id(gs->topics.arg, s->v[i].id) : NULL;
            char *copy = sk_arena_strndup(arena, name ? name : "", name ? strlen(name) : 0);
            if (!copy)
                return -1;
            tp[t].topic_name = kf_str_c(copy);
            tp[t].partitions.items = &parts[i];
        }
        parts[i] = s->v[i].partition;
        tp[t].partitions.n++;
    }
    out->topic_partitions.items = tp;
    out->topic_partitions.n = nt;
    return 0;
}

static kf_str arena_str(sk_arena *arena, const char *s, int *oom)
{
    if (!s)
        return kf_str_c(NULL);
    char *c = sk_arena_strndup(arena, s, strlen(s));
    if (!c)
        *oom = 1;
    return kf_str_c(c ? c : "");
}

int sk_cgroup_describe(sk_groups *gs, kf_str group_id, kf_consumer_group_describe_response_described_group *out,
                       sk_arena *arena)
{
    out->group_id = group_id;
    ggroup *g = sk_group_find_str(gs, group_id);
    cgroup *c = g ? g->consumer : NULL;
    if (!c) {
        char msg[300];
        snprintf(msg, sizeof msg, g ? "Group %.*s is not a consumer group." : "Group %.*s not found.",
                 group_id.len > 0 ? (int)group_id.len : 0, group_id.p ? group_id.p : "");
        char *copy = sk_arena_strndup(arena, msg, strlen(msg));
        if (!copy)
            return -1;
        out->error_code = SK_ERR_GROUP_ID_NOT_FOUND;
        out->error_message = kf_str_c(copy);
        out->group_state = kf_str_c("");
        out->assignor_name = kf_str_c("");
        return 0;
    }
    int oom = 0;
    out->group_state = kf_str_c(sk_cgroup_state_name(sk_cgroup_state_of(c)));
    out->group_epoch = c->group_epoch;
    out->assignment_epoch = c->assignment_epoch;
    out->assignor_name = arena_str(arena, sk_cgroup_assignor(c), &oom);
    kf_consumer_group_describe_response_member *ms = sk_arena_alloc(arena, (size_t)c->nmembers * sizeof *ms + 1);
    if (!ms)
        return -1;
    for (int32_t i = 0; i < c->nmembers; i++) {
        const cmember *m = c->members[i];
        kf_consumer_group_describe_response_member *o = &ms[i];
        kf_init(&kf_consumer_group_describe_response_member_desc, o);
        o->member_id = arena_str(arena, m->member_id, &oom);
        o->instance_id = arena_str(arena, m->instance_id, &oom);
        o->rack_id = arena_str(arena, m->rack_id, &oom);
        o->member_epoch = m->member_epoch;
        o->client_id = arena_str(arena, m->client_id ? m->client_id : "", &oom);
        o->client_host = arena_str(arena, m->client_host ? m->client_host : "", &oom);
        o->subscribed_topic_regex = arena_str(arena, m->regex ? m->regex : "", &oom); /* Kafka: "" when none */
        o->member_type = m->classic ? 0 : 1; /* classic or consumer protocol (KIP-1099) */
        kf_str *names = sk_arena_alloc(arena, (size_t)m->ntopics * sizeof *names + 1);
        if (!names)
            return -1;
        for (int32_t k = 0; k < m->ntopics; k++)
            names[k] = arena_str(arena, m->topics[k], &oom);
        o->subscribed_topic_names.items = names;
        o->subscribed_topic_names.n = m->ntopics;
        if (fill_described(gs, &m->assigned, &o->assignment, arena) < 0 ||
            fill_described(gs, &m->target, &o->target_assignment, arena) < 0)
            return -1;
    }
    out->members.items = ms;
    out->members.n = c->nmembers;
    return oom ? -1 : 0;
}

/* ---- offsets ---- */

int16_t sk_cgroup_validate_commit(const ggroup *g, const char *member_id, int32_t epoch, bool transactional)
{
    const cgroup *c = g->consumer;
    if (epoch < 0 && (c->nmembers == 0 || (transactional && !member_id[0])))
        return SK_ERR_NONE; /* the admin client, or a producer without the group's metadata */
    const cmember *m = sk_cmember_find(c, member_id);
    if (!m)
        return SK_ERR_UNKNOWN_MEMBER_ID;
    if (epoch != m->member_epoch)
        return transactional ? SK_ERR_ILLEGAL_GENERATION : SK_ERR_STALE_MEMBER_EPOCH;
    return SK_ERR_NONE;
}

int16_t sk_cgroup_validate_fetch(sk_groups *gs, kf_str group_id, kf_str member_id, int32_t member_epoch)
{
    ggroup *g = sk_group_find_str(gs, group_id);
    if (!g || !g->consumer || !member_id.p)
        return SK_ERR_NONE;
    const cmember *m = sk_cmember_find(g->consumer, member_id.p);
    if (!m)
        return SK_ERR_UNKNOWN_MEMBER_ID;
    return member_epoch != m->member_epoch ? SK_ERR_STALE_MEMBER_EPOCH : SK_ERR_NONE;
}

bool sk_cgroup_is_subscribed(const cgroup *c, const char *topic)
{
    for (int32_t i = 0; i < c->nmembers; i++) {
        const cmember *m = c->members[i];
        if (m->re && sk_cregex_match(m->re, topic, strlen(topic)))
            return true;
        for (int32_t k = 0; k < m->ntopics; k++)
            if (!strcmp(m->topics[k], topic))
                return true;
    }
    return false;
}

/* ---- deletion and the classic protocol ---- */

void sk_cgroup_tombstones(const ggroup *g, grecs *b)
{
    sk_crec_target_epoch_tombstone(b, g->group_id);
    sk_crec_partition_metadata_tombstone(b, g->group_id);
    sk_crec_group_tombstone(b, g->group_id);
}

int16_t sk_cgroup_classic_join(sk_groups *gs, ggroup *g)
{
    if (!g->consumer)
        return SK_ERR_NONE;
    if (g->consumer->nmembers > 0)
        return SK_ERR_INCONSISTENT_GROUP_PROTOCOL; /* no mixed groups (migration) yet */
    grecs b;
    sk_grecs_init(&b);
    sk_cgroup_tombstones(g, &b);
    int16_t err = sk_coord_write(gs, g->partition, &b);
    sk_grecs_free(&b);
    if (err == SK_ERR_NONE) {
        sk_info("group", "group %s: the empty consumer group becomes a classic group", g->group_id);
        free(g->protocol_type);
        g->protocol_type = NULL;
    }
    return err;
}
