/*
 * Committed offsets of the group coordinator: OffsetCommit, OffsetFetch,
 * OffsetDelete and expiration (TxnOffsetCommit shares the commit path; its
 * pending offsets live in group_txn.c).
 * Kafka's rules (OffsetMetadataManager, ClassicGroup.validateOffsetCommit):
 *
 * - A commit with generation -1 and no member id comes from a consumer
 *   without group membership (or an admin client): it is accepted while
 *   the group is Empty and creates a "simple" group (no protocol type) if
 *   there is none. Any other commit must come from a current member of the
 *   current generation; in CompletingRebalance it is REBALANCE_IN_PROGRESS;
 *   in Stable or PreparingRebalance it also keeps the member's session.
 * - Metadata over 4096 bytes is OFFSET_METADATA_TOO_LARGE; null metadata is
 *   stored as "". v2-4 retention times set an expire timestamp.
 * - Expiration runs every 10 minutes: an Empty group's offsets expire
 *   offsets.retention.minutes after it became Empty; a simple group's, that
 *   long after each commit; a Stable consumer group's only for topics it no
 *   longer subscribes to. An Empty group left without offsets is deleted.
 * - Fetching from an unknown group answers -1 offsets, no error.
 */
#include <stdlib.h>
#include <string.h>

#include "cgroup_int.h"
#include "skiff/errors.h"
#include "skiff/trace.h"

/* ---- The store of one group ---- */

static gtopic *topic_find(const ggroup *g, const char *topic)
{
    for (int32_t i = 0; i < g->ntopics; i++)
        if (!strcmp(g->topics[i].name, topic))
            return &g->topics[i];
    return NULL;
}

/* Index of `partition` in t->parts, or where it would go (sorted). */
static int32_t part_index(const gtopic *t, int32_t partition)
{
    int32_t lo = 0, hi = t->n;
    while (lo < hi) {
        int32_t mid = lo + (hi - lo) / 2;
        if (t->parts[mid].partition < partition)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

goffset *sk_group_offset_find(const ggroup *g, const char *topic, int32_t partition)
{
    const gtopic *t = topic_find(g, topic);
    if (!t)
        return NULL;
    int32_t i = part_index(t, partition);
    return i < t->n && t->parts[i].partition == partition ? &t->parts[i] : NULL;
}

int sk_group_offset_put(ggroup *g, const char *topic, int32_t partition, int64_t offset, int32_t leader_epoch,
                        kf_str metadata, int64_t commit_timestamp, int64_t expire_timestamp, int64_t record_offset)
{
    char *md = sk_coord_memdup(metadata);
    if (!md)
        return -1;
    gtopic *t = topic_find(g, topic);
    if (!t) {
        if (g->ntopics == g->topics_cap) {
            int32_t cap = g->topics_cap ? 2 * g->topics_cap : 4;
            gtopic *nt = realloc(g->topics, (size_t)cap * sizeof *nt);
            if (!nt)
                goto fail;
            g->topics = nt;
            g->topics_cap = cap;
        }
        t = &g->topics[g->ntopics];
        memset(t, 0, sizeof *t);
        if (!(t->name = sk_coord_strdup(topic)))
            goto fail;
        g->ntopics++;
    }
    int32_t i = part_index(t, partition);
    if (i == t->n || t->parts[i].partition != partition) {
        if (t->n == t->cap) {
            int32_t cap = t->cap ? 2 * t->cap : 4;
            goffset *np = realloc(t->parts, (size_t)cap * sizeof *np);
            if (!np)
                goto fail;
            t->parts = np;
            t->cap = cap;
        }
        memmove(&t->parts[i + 1], &t->parts[i], (size_t)(t->n - i) * sizeof *t->parts);
        t->n++;
        t->parts[i].metadata = NULL;
    }
    goffset *o = &t->parts[i];
    free(o->metadata);
    *o = (goffset){partition,        offset,           leader_epoch, md, metadata.p ? metadata.len : 0,
                   commit_timestamp, expire_timestamp, record_offset};
    return 0;
fail:
    free(md);
    return -1;
}

void sk_group_offset_remove(sk_groups *gs, ggroup *g, const char *topic, int32_t partition)
{
    sk_group_txn_offsets_drop(gs, g->group_id, topic, partition);
    gtopic *t = topic_find(g, topic);
    if (!t)
        return;
    int32_t i = part_index(t, partition);
    if (i == t->n || t->parts[i].partition != partition)
        return;
    free(t->parts[i].metadata);
    memmove(&t->parts[i], &t->parts[i + 1], (size_t)(t->n - i - 1) * sizeof *t->parts);
    if (--t->n == 0) {
        free(t->parts);
        free(t->name);
        int32_t ti = (int32_t)(t - g->topics);
        memmove(&g->topics[ti], &g->topics[ti + 1], (size_t)(g->ntopics - ti - 1) * sizeof *g->topics);
        g->ntopics--;
    }
}

void sk_group_offsets_free(ggroup *g)
{
    for (int32_t i = 0; i < g->ntopics; i++) {
        for (int32_t j = 0; j < g->topics[i].n; j++)
            free(g->topics[i].parts[j].metadata);
        free(g->topics[i].parts);
        free(g->topics[i].name);
    }
    free(g->topics);
    g->topics = NULL;
    g->ntopics = g->topics_cap = 0;
}

/* ---- OffsetCommit and TxnOffsetCommit ---- */

/* ClassicGroup.validateOffsetCommit. Transactional commits come from
 * producers whose requests before v3 carry no member: they are accepted
 * without one, and in CompletingRebalance too. */
static int16_t validate_commit(const ggroup *g, const gcommit_req *c)
{
    const char *member_id = c->member_id.p ? c->member_id.p : "";
    bool transactional = c->producer_id >= 0;
    if (g->consumer)
        return sk_cgroup_validate_commit(g, member_id, c->generation, transactional);
    if (c->generation < 0 && g->state == SK_GROUP_EMPTY)
        return SK_ERR_NONE;
    if (c->generation >= 0 || member_id[0] || c->group_instance_id.p) {
        int16_t err = sk_group_validate_member(g, member_id, c->group_instance_id);
        if (err != SK_ERR_NONE)
            return err;
        if (c->generation != g->generation_id)
            return SK_ERR_ILLEGAL_GENERATION;
    } else if (!transactional && g->state != SK_GROUP_EMPTY) {
        return SK_ERR_UNKNOWN_MEMBER_ID;
    }
    return !transactional && g->state == SK_GROUP_COMPLETING_REBALANCE ? SK_ERR_REBALANCE_IN_PROGRESS : SK_ERR_NONE;
}

/* Steps `it` to the next partition of `c` (start: t = 0, p = -1) and fills
 * it; false at the end. */
static bool commit_next(const gcommit_req *c, gcommit *it)
{
    while (it->t < c->ntopics) {
        if (++it->p < c->topics[it->t].partitions.n) {
            const kf_offset_commit_request_partition *x = &c->topics[it->t].partitions.items[it->p];
            it->topic = c->topics[it->t].name.p;
            it->partition = x->partition_index;
            it->offset = x->committed_offset;
            it->leader_epoch = x->committed_leader_epoch;
            it->metadata = x->committed_metadata;
            it->error_code = &c->results[it->t].partitions.items[it->p].error_code;
            return true;
        }
        it->t++;
        it->p = -1;
    }
    return false;
}

/* Visits the partitions of a commit (each's answer is *it.error_code). */
#define FOR_EACH_ITEM(c, it) for (gcommit it = {.t = 0, .p = -1}; commit_next((c), &it);)

static void commit_fail_all(const gcommit_req *c, int16_t err)
{
    FOR_EACH_ITEM(c, it)
    {
        if (*it.error_code == SK_ERR_NONE)
            *it.error_code = err;
    }
}

/* The group a commit goes to: true with *out the group, or NULL for a
 * commit without a generation to a group that does not exist yet (its
 * replay creates it as a simple group, as OffsetMetadataManager.replay
 * does); false with the error set on every item. */
static bool commit_group(sk_groups *gs, const gcommit_req *c, ggroup **out)
{
    if (c->group_id.len <= 0) {
        commit_fail_all(c, SK_ERR_INVALID_GROUP_ID);
        return false;
    }
    ggroup *g = *out = sk_group_find_str(gs, c->group_id);
    if (!g) {
        if (c->generation >= 0) {
            commit_fail_all(c, c->unknown_group_error);
            return false;
        }
        return true;
    }
    int16_t err = validate_commit(g, c);
    if (err != SK_ERR_NONE) {
        commit_fail_all(c, err);
        return false;
    }
    return true;
}

void sk_group_commit(sk_groups *gs, const gcommit_req *c)
{
    bool any = false;
    FOR_EACH_ITEM(c, it)
    {
        any = any || *it.error_code == SK_ERR_NONE;
    }
    if (!any) /* Kafka does not reach the coordinator when no partition is left */
        return;
    ggroup *g;
    if (!commit_group(gs, c, &g))
        return;
    bool transactional = c->producer_id >= 0;
    const char *mid = c->member_id.p ? c->member_id.p : "";
    if (g && !transactional && (g->state == SK_GROUP_STABLE || g->state == SK_GROUP_PREPARING_REBALANCE)) {
        gmember *m = sk_group_member_find(g, mid);
        if (m)
            sk_group_reschedule_heartbeat(gs, m, m->session_timeout_ms);
    }
    /* The group id as a string of its own: the request's is not terminated
     * where a NUL inside it would cut it. */
    char *group_id = sk_coord_memdup(c->group_id);
    if (!group_id) {
        commit_fail_all(c, SK_ERR_UNKNOWN_SERVER_ERROR);
        return;
    }
    int64_t now = sk_groups_now(gs);
    grecs b;
    sk_grecs_init(&b);
    b.producer_id = c->producer_id;
    b.producer_epoch = c->producer_epoch;
    FOR_EACH_ITEM(c, it)
    {
        if (*it.error_code != SK_ERR_NONE)
            continue;
        if (it.metadata.len > OFFSET_METADATA_MAX_SIZE) {
            *it.error_code = SK_ERR_OFFSET_METADATA_TOO_LARGE;
            continue;
        }
        goffset o = {it.partition,
                     it.offset,
                     it.leader_epoch,
                     (char *)(it.metadata.p ? it.metadata.p : ""),
                     it.metadata.p ? it.metadata.len : 0,
                     now,
                     c->expire_timestamp,
                     -1};
        sk_grecs_offset_commit(&b, group_id, it.topic, it.partition, &o);
    }
    int32_t partition = sk_group_partition_for(group_id, strlen(group_id), gs->num_partitions);
    int16_t err = sk_coord_write(gs, partition, &b);
    sk_grecs_free(&b);
    if (err != SK_ERR_NONE) {
        commit_fail_all(c, err);
    } else {
        if (!g)
            sk_info("group", "group %s: created as a simple consumer group by a manual offset commit", group_id);
        sk_debug("group", "group %s: offsets committed by member '%s' generation %d%s", group_id, mid, c->generation,
                 transactional ? " in a transaction" : "");
    }
    free(group_id);
}

void sk_group_commit_offsets(sk_groups *gs, int16_t version, const kf_offset_commit_request *req,
                             kf_offset_commit_response *resp)
{
    gcommit_req c = {
        .group_id = req->group_id,
        .member_id = req->member_id,
        .group_instance_id = req->group_instance_id,
        .generation = req->generation_id_or_member_epoch,
        .unknown_group_error = version >= 9 ? SK_ERR_GROUP_ID_NOT_FOUND : SK_ERR_ILLEGAL_GENERATION,
        .producer_id = -1,
        .producer_epoch = -1,
        .expire_timestamp = req->retention_time_ms == -1 ? -1 : sk_groups_now(gs) + req->retention_time_ms,
        .topics = req->topics.items,
        .ntopics = req->topics.n,
        .results = resp->topics.items,
    };
    sk_group_commit(gs, &c);
}

/* ---- OffsetFetch ---- */

static void fill_partition(kf_offset_fetch_response_group_partition *out, int32_t partition, const goffset *o,
                           bool unstable, sk_arena *arena)
{
    out->partition_index = partition;
    out->error_code = unstable ? SK_ERR_UNSTABLE_OFFSET_COMMIT : SK_ERR_NONE;
    out->committed_offset = o && !unstable ? o->offset : -1;
    out->committed_leader_epoch = o && !unstable ? o->leader_epoch : -1;
    bool has = o && !unstable;
    out->metadata.p = sk_arena_strndup(arena, has ? o->metadata : "", has ? (size_t)o->metadata_len : 0);
    out->metadata.len = has ? o->metadata_len : 0;
}

int sk_group_fetch_offsets(sk_groups *gs, kf_str group_id, const kf_offset_fetch_request_group_topic *topics,
                           int32_t ntopics, bool require_stable, kf_offset_fetch_response_group *out, sk_arena *arena)
{
    ggroup *g = sk_group_find_str(gs, group_id);
    const char *gid = group_id.p ? group_id.p : "";
    out->group_id = group_id;
    out->error_code = SK_ERR_NONE;
    bool all = ntopics < 0;
    int32_t nt = all ? (g ? g->ntopics : 0) : ntopics;
    kf_offset_fetch_response_group_topic *rt = sk_arena_alloc(arena, (size_t)nt * sizeof *rt + 1);
    if (!rt)
        return -1;
    for (int32_t i = 0; i < nt; i++) {
        const gtopic *gt = all ? &g->topics[i] : NULL;
        const char *name = all ? gt->name : (topics[i].name.p ? topics[i].name.p : "");
        int32_t np = all ? gt->n : (topics[i].partition_indexes.n > 0 ? topics[i].partition_indexes.n : 0);
        rt[i].name = all ? kf_str_c(sk_arena_strndup(arena, name, strlen(name))) : topics[i].name;
        rt[i].partitions.items = sk_arena_alloc(arena, (size_t)np * sizeof *rt[i].partitions.items + 1);
        rt[i].partitions.n = np;
        if (!rt[i].partitions.items || !rt[i].name.p)
            return -1;
        for (int32_t j = 0; j < np; j++) {
            int32_t part = all ? gt->parts[j].partition : topics[i].partition_indexes.items[j];
            const goffset *o = all ? &gt->parts[j] : (g ? sk_group_offset_find(g, name, part) : NULL);
            bool unstable = require_stable && sk_group_txn_offset_pending(gs, gid, name, part);
            fill_partition(&rt[i].partitions.items[j], part, o, unstable, arena);
            if (!rt[i].partitions.items[j].metadata.p)
                return -1;
        }
    }
    out->topics.items = rt;
    out->topics.n = nt;
    return 0;
}

/* ---- OffsetDelete ---- */

int16_t sk_group_delete_offsets(sk_groups *gs, const kf_offset_delete_request *req, kf_offset_delete_response *resp)
{
    if (req->group_id.len <= 0)
        return SK_ERR_INVALID_GROUP_ID;
    ggroup *g = sk_group_find_str(gs, req->group_id);
    if (!g)
        return SK_ERR_GROUP_ID_NOT_FOUND;
    if (g->state != SK_GROUP_EMPTY && !sk_group_uses_consumer_protocol(g))
        return SK_ERR_NON_EMPTY_GROUP;
    grecs b;
    sk_grecs_init(&b);
    for (int32_t t = 0; t < req->topics.n; t++) {
        const char *topic = req->topics.items[t].name.p ? req->topics.items[t].name.p : "";
        bool subscribed = sk_group_is_subscribed(g, topic);
        for (int32_t p = 0; p < req->topics.items[t].partitions.n; p++) {
            kf_offset_delete_response_partition *rp = &resp->topics.items[t].partitions.items[p];
            int32_t part = req->topics.items[t].partitions.items[p].partition_index;
            if (rp->error_code != SK_ERR_NONE)
                continue;
            if (subscribed)
                rp->error_code = SK_ERR_GROUP_SUBSCRIBED_TO_TOPIC;
            else if (sk_group_offset_find(g, topic, part) || sk_group_txn_offset_pending(gs, g->group_id, topic, part))
                sk_grecs_offset_tombstone(&b, g->group_id, topic, part);
        }
    }
    int16_t err = sk_coord_write(gs, g->partition, &b);
    sk_grecs_free(&b);
    return err;
}

/* ---- Tombstones for a group's offsets, deleted topics ---- */

/* True when a pending offset of the same group partition precedes `o`. */
static bool pending_earlier(const sk_groups *gs, const gtxn_offset *o)
{
    for (const gtxn_offset *x = gs->txn_offsets; x != o; x = x->next)
        if (x->partition == o->partition && !strcmp(x->group_id, o->group_id) && !strcmp(x->topic, o->topic))
            return true;
    return false;
}

int32_t sk_group_offset_tombstones(const sk_groups *gs, const ggroup *g, const char *topic, grecs *b)
{
    int32_t committed = 0;
    for (int32_t t = 0; t < g->ntopics; t++) {
        if (topic && strcmp(g->topics[t].name, topic))
            continue;
        for (int32_t p = 0; p < g->topics[t].n; p++, committed++)
            sk_grecs_offset_tombstone(b, g->group_id, g->topics[t].name, g->topics[t].parts[p].partition);
    }
    for (const gtxn_offset *o = gs->txn_offsets; o; o = o->next)
        if (!strcmp(o->group_id, g->group_id) && (!topic || !strcmp(o->topic, topic)) &&
            !sk_group_offset_find(g, o->topic, o->partition) && !pending_earlier(gs, o))
            sk_grecs_offset_tombstone(b, g->group_id, o->topic, o->partition);
    return committed;
}

void sk_groups_topic_deleted(sk_groups *gs, const char *topic)
{
    for (ggroup *g = gs->first; g; g = g->next) {
        grecs b;
        sk_grecs_init(&b);
        sk_group_offset_tombstones(gs, g, topic, &b);
        int n = b.n;
        int16_t err = sk_coord_write(gs, g->partition, &b);
        sk_grecs_free(&b);
        if (err != SK_ERR_NONE)
            sk_warn("group", "group %s: cannot store the removal of the offsets of deleted topic %s: %s", g->group_id,
                    topic, sk_err_name(err));
        else if (n > 0)
            sk_info("group", "group %s: %d offsets of deleted topic %s removed", g->group_id, n, topic);
    }
}

/* ---- Expiration ---- */

/* Finds the group's expired offsets (OffsetMetadataManager.
 * cleanupExpiredOffsets) and adds a tombstone for each to `b`. True when
 * every offset expired. */
static bool expire_offsets(const sk_groups *gs, const ggroup *g, int64_t now, grecs *b)
{
    if (g->ntopics == 0)
        return true;
    int64_t retention_ms = (int64_t)gs->cfg->offsets_retention_minutes * 60000;
    bool since_empty = false;
    if (g->consumer) {
        /* ConsumerGroup.offsetExpirationCondition: from each commit, for
         * topics no member subscribes to (below) */
    } else if (g->protocol_type) {
        if (g->state == SK_GROUP_EMPTY)
            since_empty = true;
        else if (!(sk_group_uses_consumer_protocol(g) && g->subscribed_known && g->state == SK_GROUP_STABLE))
            return false;
    }
    bool all = true;
    for (int32_t t = g->ntopics - 1; t >= 0; t--) {
        const gtopic *gt = &g->topics[t];
        if (sk_group_is_subscribed(g, gt->name)) {
            all = false;
            continue;
        }
        for (int32_t p = gt->n - 1; p >= 0; p--) {
            const goffset *o = &gt->parts[p];
            int64_t base =
                since_empty && g->current_state_timestamp >= 0 ? g->current_state_timestamp : o->commit_timestamp;
            /* base <= now - retention: a replayed timestamp far in the past cannot overflow now - base. */
            bool expired = o->expire_timestamp >= 0 ? now >= o->expire_timestamp : base <= now - retention_ms;
            if (!expired || sk_group_txn_offset_pending(gs, g->group_id, gt->name, o->partition))
                all = false;
            else
                sk_grecs_offset_tombstone(b, g->group_id, gt->name, o->partition);
        }
    }
    return all;
}

void sk_groups_expiration_fire(void *owner, gtimer *t)
{
    sk_groups *gs = owner;
    int64_t now = sk_groups_now(gs);
    int tombstones = 0;
    for (ggroup *g = gs->first, *next; g; g = next) {
        next = g->next;
        grecs b;
        sk_grecs_init(&b);
        bool all = expire_offsets(gs, g, now, &b);
        bool delete = all && g->state == SK_GROUP_EMPTY && (!g->consumer || g->consumer->nmembers == 0) &&
                      !sk_group_txn_offset_pending(gs, g->group_id, NULL, -1);
        if (delete &&g->consumer)
            sk_cgroup_tombstones(g, &b);
        else if (delete)
            sk_grecs_group_tombstone(&b, g->group_id);
        int n = b.n;
        if (delete)
            sk_info("group", "group %s: offsets expired and no member left: deleting it", g->group_id);
        int16_t err = delete ? sk_group_write_deletion(gs, g, &b, "offsets expired and no member left")
                             : sk_coord_write(gs, g->partition, &b);
        if (err != SK_ERR_NONE)
            sk_warn("group", "group %s: cannot store expired offsets: %s", g->group_id, sk_err_name(err));
        tombstones += err == SK_ERR_NONE ? n : 0;
        sk_grecs_free(&b);
    }
    if (tombstones)
        sk_info("group", "offset expiration wrote %d tombstones", tombstones);
    sk_coord_timer_arm(&gs->timers, t, OFFSETS_RETENTION_CHECK_INTERVAL_MS);
}
