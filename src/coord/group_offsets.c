/*
 * Committed offsets of the group coordinator: OffsetCommit, OffsetFetch,
 * OffsetDelete, expiration, and the pending offsets of transactions.
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

#include "group_int.h"
#include "skiff/errors.h"
#include "skiff/log.h"

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

goffset *offset_find(const ggroup *g, const char *topic, int32_t partition)
{
    const gtopic *t = topic_find(g, topic);
    if (!t)
        return NULL;
    int32_t i = part_index(t, partition);
    return i < t->n && t->parts[i].partition == partition ? &t->parts[i] : NULL;
}

int offset_put(ggroup *g, const char *topic, int32_t partition, int64_t offset, int32_t leader_epoch,
               const char *metadata, int64_t commit_timestamp, int64_t expire_timestamp)
{
    char *md = gstrdup(metadata ? metadata : "");
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
        if (!(t->name = gstrdup(topic)))
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
    *o = (goffset){partition, offset, leader_epoch, md, commit_timestamp, expire_timestamp};
    return 0;
fail:
    free(md);
    return -1;
}

void offset_remove(ggroup *g, const char *topic, int32_t partition)
{
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

void offsets_free(ggroup *g)
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

/* ---- OffsetCommit ---- */

/* ClassicGroup.validateOffsetCommit for a plain (not transactional) commit. */
static int16_t validate_commit(const ggroup *g, const char *member_id, kf_str group_instance_id, int32_t generation)
{
    if (generation < 0 && g->state == SK_GROUP_EMPTY)
        return SK_ERR_NONE;
    if (generation >= 0 || member_id[0] || group_instance_id.p) {
        int16_t err = group_validate_member(g, member_id, group_instance_id);
        if (err != SK_ERR_NONE)
            return err;
        if (generation != g->generation_id)
            return SK_ERR_ILLEGAL_GENERATION;
    } else if (g->state != SK_GROUP_EMPTY) {
        return SK_ERR_UNKNOWN_MEMBER_ID;
    }
    return g->state == SK_GROUP_COMPLETING_REBALANCE ? SK_ERR_REBALANCE_IN_PROGRESS : SK_ERR_NONE;
}

/* Steps (*t, *p) to the next partition of a commit whose answer is still
 * NONE; start from t = 0, p = -1. False at the end. */
static bool next_open(const kf_offset_commit_request *req, const kf_offset_commit_response *resp, int32_t *t,
                      int32_t *p)
{
    while (*t < req->topics.n) {
        if (++*p < req->topics.items[*t].partitions.n) {
            if (resp->topics.items[*t].partitions.items[*p].error_code == SK_ERR_NONE)
                return true;
        } else {
            (*t)++;
            *p = -1;
        }
    }
    return false;
}

static void commit_fail_all(const kf_offset_commit_request *req, kf_offset_commit_response *resp, int16_t err)
{
    for (int32_t t = 0, p = -1; next_open(req, resp, &t, &p);)
        resp->topics.items[t].partitions.items[p].error_code = err;
}

void sk_group_commit_offsets(sk_groups *gs, int16_t version, const kf_offset_commit_request *req,
                             kf_offset_commit_response *resp)
{
    int32_t t0 = 0, p0 = -1;
    if (!next_open(req, resp, &t0, &p0))
        return;
    const char *gid = req->group_id.p ? req->group_id.p : "";
    const char *mid = req->member_id.p ? req->member_id.p : "";
    int32_t generation = req->generation_id_or_member_epoch;
    ggroup *g = group_find_str(gs, req->group_id);
    if (!req->group_id.p) {
        commit_fail_all(req, resp, SK_ERR_INVALID_GROUP_ID);
        return;
    }
    if (!g) {
        if (generation >= 0) {
            commit_fail_all(req, resp, version >= 9 ? SK_ERR_GROUP_ID_NOT_FOUND : SK_ERR_ILLEGAL_GENERATION);
            return;
        }
        if (!(g = group_create(gs, gid, (size_t)req->group_id.len))) {
            commit_fail_all(req, resp, SK_ERR_UNKNOWN_SERVER_ERROR);
            return;
        }
        sk_info("group", "group %s: created as a simple consumer group by a manual offset commit", gid);
    }
    int16_t err = validate_commit(g, mid, req->group_instance_id, generation);
    if (err != SK_ERR_NONE) {
        commit_fail_all(req, resp, err);
        return;
    }
    if (g->state == SK_GROUP_STABLE || g->state == SK_GROUP_PREPARING_REBALANCE) {
        gmember *m = member_find(g, mid);
        if (m)
            group_reschedule_heartbeat(gs, m, m->session_timeout_ms);
    }
    int64_t now = group_now(gs);
    int64_t expire = req->retention_time_ms == -1 ? -1 : now + req->retention_time_ms;
    grecs b;
    grecs_init(&b);
    for (int32_t t = 0, p = -1; next_open(req, resp, &t, &p);) {
        const kf_offset_commit_request_partition *rq = &req->topics.items[t].partitions.items[p];
        if (rq->committed_metadata.len > OFFSET_METADATA_MAX_SIZE) {
            resp->topics.items[t].partitions.items[p].error_code = SK_ERR_OFFSET_METADATA_TOO_LARGE;
            continue;
        }
        goffset o = {rq->partition_index, rq->committed_offset, rq->committed_leader_epoch,
                     (char *)(rq->committed_metadata.p ? rq->committed_metadata.p : ""),
                     rq->commit_timestamp == -1 ? now : rq->commit_timestamp, expire};
        grecs_offset_commit(&b, g->group_id, req->topics.items[t].name.p, rq->partition_index, &o);
    }
    err = grecs_append(gs, g, &b);
    grecs_free(&b);
    if (err != SK_ERR_NONE) {
        sk_warn("group", "group %s: cannot store committed offsets: %s", g->group_id, sk_err_name(err));
        commit_fail_all(req, resp, groups_append_error(err));
        return;
    }
    for (int32_t t = 0, p = -1; next_open(req, resp, &t, &p);) {
        const kf_offset_commit_request_partition *rq = &req->topics.items[t].partitions.items[p];
        if (offset_put(g, req->topics.items[t].name.p, rq->partition_index, rq->committed_offset,
                       rq->committed_leader_epoch, rq->committed_metadata.p,
                       rq->commit_timestamp == -1 ? now : rq->commit_timestamp, expire) < 0)
            resp->topics.items[t].partitions.items[p].error_code = SK_ERR_UNKNOWN_SERVER_ERROR;
    }
    sk_debug("group", "group %s: offsets committed by member '%s' generation %d", g->group_id, mid, generation);
}

/* ---- OffsetFetch ---- */

static void fill_partition(kf_offset_fetch_response_group_partition *out, int32_t partition, const goffset *o,
                           bool unstable, sk_arena *arena)
{
    out->partition_index = partition;
    out->error_code = unstable ? SK_ERR_UNSTABLE_OFFSET_COMMIT : SK_ERR_NONE;
    out->committed_offset = o && !unstable ? o->offset : -1;
    out->committed_leader_epoch = o && !unstable ? o->leader_epoch : -1;
    const char *md = o && !unstable ? o->metadata : "";
    out->metadata = kf_str_c(sk_arena_strndup(arena, md, strlen(md)));
}

int sk_group_fetch_offsets(sk_groups *gs, kf_str group_id, const kf_offset_fetch_request_group_topic *topics,
                           int32_t ntopics, bool require_stable, kf_offset_fetch_response_group *out,
                           sk_arena *arena)
{
    ggroup *g = group_find_str(gs, group_id);
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
            const goffset *o = all ? &gt->parts[j] : (g ? offset_find(g, name, part) : NULL);
            bool unstable = require_stable && txn_offset_pending(gs, gid, name, part);
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
    ggroup *g = group_find_str(gs, req->group_id);
    if (!g)
        return SK_ERR_GROUP_ID_NOT_FOUND;
    if (g->state != SK_GROUP_EMPTY && !group_uses_consumer_protocol(g))
        return SK_ERR_NON_EMPTY_GROUP;
    grecs b;
    grecs_init(&b);
    for (int32_t t = 0; t < req->topics.n; t++) {
        const char *topic = req->topics.items[t].name.p ? req->topics.items[t].name.p : "";
        bool subscribed = group_is_subscribed(g, topic);
        for (int32_t p = 0; p < req->topics.items[t].partitions.n; p++) {
            kf_offset_delete_response_partition *rp = &resp->topics.items[t].partitions.items[p];
            int32_t part = req->topics.items[t].partitions.items[p].partition_index;
            if (rp->error_code != SK_ERR_NONE)
                continue;
            if (subscribed)
                rp->error_code = SK_ERR_GROUP_SUBSCRIBED_TO_TOPIC;
            else if (offset_find(g, topic, part) || txn_offset_pending(gs, g->group_id, topic, part))
                grecs_offset_tombstone(&b, g->group_id, topic, part);
        }
    }
    int16_t err = grecs_append(gs, g, &b);
    grecs_free(&b);
    if (err != SK_ERR_NONE)
        return groups_append_error(err);
    for (int32_t t = 0; t < req->topics.n; t++) {
        const char *topic = req->topics.items[t].name.p ? req->topics.items[t].name.p : "";
        for (int32_t p = 0; p < req->topics.items[t].partitions.n; p++)
            if (resp->topics.items[t].partitions.items[p].error_code == SK_ERR_NONE)
                offset_remove(g, topic, req->topics.items[t].partitions.items[p].partition_index);
    }
    return SK_ERR_NONE;
}

/* ---- Expiration ---- */

/* Finds the group's expired offsets (OffsetMetadataManager.
 * cleanupExpiredOffsets) and adds a tombstone for each to `b`, or, with `b`
 * NULL, removes them. True when every offset expired. */
static bool expire_offsets(const sk_groups *gs, ggroup *g, int64_t now, grecs *b)
{
    if (g->ntopics == 0)
        return true;
    int64_t retention_ms = (int64_t)gs->cfg->offsets_retention_minutes * 60000;
    bool since_empty = false;
    if (g->protocol_type) {
        if (g->state == SK_GROUP_EMPTY)
            since_empty = true;
        else if (!(group_uses_consumer_protocol(g) && g->subscribed_known && g->state == SK_GROUP_STABLE))
            return false;
    }
    bool all = true;
    /* Backwards: removing an offset (or an emptied topic) moves only later entries. */
    for (int32_t t = g->ntopics - 1; t >= 0; t--) {
        const gtopic *gt = &g->topics[t];
        if (group_is_subscribed(g, gt->name)) {
            all = false;
            continue;
        }
        for (int32_t p = gt->n - 1; p >= 0; p--) {
            const goffset *o = &gt->parts[p];
            int64_t base = since_empty && g->current_state_timestamp >= 0 ? g->current_state_timestamp
                                                                           : o->commit_timestamp;
            /* base <= now - retention: a replayed timestamp far in the past cannot overflow now - base. */
            bool expired = o->expire_timestamp >= 0 ? now >= o->expire_timestamp : base <= now - retention_ms;
            if (!expired || txn_offset_pending(gs, g->group_id, gt->name, o->partition))
                all = false;
            else if (b)
                grecs_offset_tombstone(b, g->group_id, gt->name, o->partition);
            else
                offset_remove(g, gt->name, o->partition);
        }
    }
    return all;
}

static bool txn_pending_for_group(const sk_groups *gs, const char *group_id)
{
    for (const gtxn_offset *o = gs->txn_offsets; o; o = o->next)
        if (!strcmp(o->group_id, group_id))
            return true;
    return false;
}

void groups_expiration_fire(sk_groups *gs, gtimer *t)
{
    int64_t now = group_now(gs);
    int tombstones = 0;
    for (ggroup *g = gs->first, *next; g; g = next) {
        next = g->next;
        grecs b;
        grecs_init(&b);
        bool all = expire_offsets(gs, g, now, &b);
        bool delete = all && g->state == SK_GROUP_EMPTY && !txn_pending_for_group(gs, g->group_id);
        if (delete)
            grecs_group_tombstone(&b, g->group_id);
        int n = b.n;
        int16_t err = grecs_append(gs, g, &b);
        if (err != SK_ERR_NONE)
            sk_warn("group", "group %s: cannot store expired offsets: %s", g->group_id, sk_err_name(err));
        else if (delete)
            group_destroy(gs, g, "offsets expired and no member left");
        else
            expire_offsets(gs, g, now, NULL);
        tombstones += err == SK_ERR_NONE ? n : 0;
        grecs_free(&b);
    }
    if (tombstones)
        sk_info("group", "offset expiration wrote %d tombstones", tombstones);
    gtimer_arm(gs, t, OFFSETS_RETENTION_CHECK_INTERVAL_MS);
}

/* ---- Transactional offsets ---- */

bool txn_offset_pending(const sk_groups *gs, const char *group_id, const char *topic, int32_t partition)
{
    for (const gtxn_offset *o = gs->txn_offsets; o; o = o->next)
        if (o->partition == partition && !strcmp(o->group_id, group_id) && !strcmp(o->topic, topic))
            return true;
    return false;
}

static void txn_offset_free(gtxn_offset *o)
{
    free(o->group_id);
    free(o->topic);
    free(o->metadata);
    free(o);
}

void txn_offsets_drop_group(sk_groups *gs, const char *group_id)
{
    for (gtxn_offset **pp = &gs->txn_offsets; *pp;) {
        gtxn_offset *o = *pp;
        if (!strcmp(o->group_id, group_id)) {
            *pp = o->next;
            txn_offset_free(o);
        } else {
            pp = &o->next;
        }
    }
}

int16_t sk_group_txn_offset_add(sk_groups *gs, int64_t producer_id, kf_str group_id, kf_str topic, int32_t partition,
                                int64_t offset, int32_t leader_epoch, kf_str metadata)
{
    if (group_id.len <= 0)
        return SK_ERR_INVALID_GROUP_ID;
    if (metadata.len > OFFSET_METADATA_MAX_SIZE)
        return SK_ERR_OFFSET_METADATA_TOO_LARGE;
    if (!group_find_str(gs, group_id) && !group_create(gs, group_id.p, (size_t)group_id.len))
        return SK_ERR_UNKNOWN_SERVER_ERROR;
    gtxn_offset *o = NULL;
    for (gtxn_offset *x = gs->txn_offsets; x && !o; x = x->next)
        if (x->producer_id == producer_id && x->partition == partition && kf_str_eq(group_id, x->group_id) &&
            kf_str_eq(topic, x->topic))
            o = x;
    char *md = gstrdup(metadata.p ? metadata.p : "");
    if (!md)
        return SK_ERR_UNKNOWN_SERVER_ERROR;
    if (!o) {
        o = calloc(1, sizeof *o);
        if (!o || !(o->group_id = gstrdup(group_id.p)) || !(o->topic = gstrdup(topic.p ? topic.p : ""))) {
            if (o)
                txn_offset_free(o);
            free(md);
            return SK_ERR_UNKNOWN_SERVER_ERROR;
        }
        o->producer_id = producer_id;
        o->partition = partition;
        o->next = gs->txn_offsets;
        gs->txn_offsets = o;
    }
    free(o->metadata);
    o->metadata = md;
    o->offset = offset;
    o->leader_epoch = leader_epoch;
    o->commit_timestamp = group_now(gs);
    return SK_ERR_NONE;
}

int16_t sk_group_txn_offsets_end(sk_groups *gs, int64_t producer_id, bool commit)
{
    int16_t result = SK_ERR_NONE;
    while (commit) {
        /* One group at a time: its offsets go to its partition in one batch. */
        const gtxn_offset *first = NULL;
        for (const gtxn_offset *o = gs->txn_offsets; o && !first; o = o->next)
            if (o->producer_id == producer_id)
                first = o;
        if (!first)
            break;
        ggroup *g = group_find(gs, first->group_id, strlen(first->group_id));
        if (!g && !(g = group_create(gs, first->group_id, strlen(first->group_id))))
            return SK_ERR_UNKNOWN_SERVER_ERROR;
        grecs b;
        grecs_init(&b);
        for (const gtxn_offset *o = first; o; o = o->next) {
            if (o->producer_id != producer_id || strcmp(o->group_id, g->group_id))
                continue;
            goffset go = {o->partition, o->offset, o->leader_epoch, o->metadata, o->commit_timestamp, -1};
            grecs_offset_commit(&b, g->group_id, o->topic, o->partition, &go);
        }
        int16_t err = grecs_append(gs, g, &b);
        grecs_free(&b);
        if (err != SK_ERR_NONE)
            result = groups_append_error(err);
        for (gtxn_offset **pp = &gs->txn_offsets; *pp;) {
            gtxn_offset *o = *pp;
            if (o->producer_id == producer_id && !strcmp(o->group_id, g->group_id)) {
                if (err == SK_ERR_NONE)
                    offset_put(g, o->topic, o->partition, o->offset, o->leader_epoch, o->metadata,
                               o->commit_timestamp, -1);
                *pp = o->next;
                txn_offset_free(o);
            } else {
                pp = &o->next;
            }
        }
    }
    for (gtxn_offset **pp = &gs->txn_offsets; *pp;) {
        gtxn_offset *o = *pp;
        if (o->producer_id == producer_id) {
            *pp = o->next;
            txn_offset_free(o);
        } else {
            pp = &o->next;
        }
    }
    return result;
}
