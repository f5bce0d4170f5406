/*
 * Offset APIs: OffsetCommit v2-9, OffsetFetch v1-9 and OffsetDelete v0,
 * thin handlers over the group coordinator (src/coord/group_offsets.c).
 *
 * Behaviour, as Kafka answers:
 * - OffsetCommit and OffsetDelete: a partition of a topic that does not
 *   exist, or beyond its partition count, is UNKNOWN_TOPIC_OR_PARTITION;
 *   the coordinator handles the rest. Kafka 4 no longer serves OffsetCommit
 *   v0-1 and OffsetFetch v0 (KIP-896): neither does skiff.
 * - OffsetFetch v1-7 carry one group at the top level (v2+ with a
 *   top-level error code; a null topic list means every partition with a
 *   committed offset); v8+ carry several groups, each answered in turn.
 *   Partitions without a committed offset answer offset -1, metadata "".
 * - OffsetDelete answers a group-level error with no topics.
 */
#include <string.h>

#include "kf_msgs.h"
#include "skiff/api.h"
#include "skiff/errors.h"
#include "skiff/group.h"
#include "skiff/meta.h"

/* NONE when partition `p` of topic `name` exists, else UNKNOWN_TOPIC_OR_PARTITION. */
static int16_t partition_error(sk_request *req, kf_str name, int32_t p)
{
    sk_topic *t = name.p ? sk_meta_topic(req->broker->meta, name.p, (size_t)name.len) : NULL;
    return t && p >= 0 && p < t->partitions ? SK_ERR_NONE : SK_ERR_UNKNOWN_TOPIC_OR_PARTITION;
}

void sk_api_offset_commit(sk_request *req)
{
    const kf_offset_commit_request *body = req->body;
    kf_offset_commit_response *resp = sk_request_response(req);
    if (!resp) {
        sk_request_close(req, "out of memory");
        return;
    }
    int32_t nt = body->topics.n > 0 ? body->topics.n : 0;
    kf_offset_commit_response_topic *topics = sk_arena_alloc(&req->arena, (size_t)nt * sizeof *topics + 1);
    if (!topics) {
        sk_request_close(req, "out of memory");
        return;
    }
    for (int32_t i = 0; i < nt; i++) {
        const kf_offset_commit_request_topic *rt = &body->topics.items[i];
        int32_t np = rt->partitions.n > 0 ? rt->partitions.n : 0;
        topics[i].name = rt->name;
        topics[i].partitions.items = sk_arena_alloc(&req->arena, (size_t)np * sizeof *topics[i].partitions.items + 1);
        topics[i].partitions.n = np;
        if (!topics[i].partitions.items) {
            sk_request_close(req, "out of memory");
            return;
        }
        for (int32_t j = 0; j < np; j++) {
            int32_t p = rt->partitions.items[j].partition_index;
            topics[i].partitions.items[j].partition_index = p;
            topics[i].partitions.items[j].error_code = partition_error(req, rt->name, p);
        }
    }
    resp->topics.items = topics;
    resp->topics.n = nt;
    sk_group_commit_offsets(req->broker->groups, req->hdr.api_version, body, resp);
    sk_request_respond(req, resp);
}

/* Fetches one group into `out`; `topics` NULL (n < 0) means all. */
static int fetch_group(sk_request *req, kf_str group_id, const kf_offset_fetch_request_group_topic *topics, int32_t n,
                       bool require_stable, kf_offset_fetch_response_group *out)
{
    kf_init(&kf_offset_fetch_response_group_desc, out);
    return sk_group_fetch_offsets(req->broker->groups, group_id, n < 0 ? NULL : topics, n, require_stable, out,
                                  &req->arena);
}

/* OffsetFetch v1-7: one group at the top level. */
static int fetch_single(sk_request *req, const kf_offset_fetch_request *body, kf_offset_fetch_response *resp)
{
    int32_t n = body->topics.n;
    kf_offset_fetch_request_group_topic *topics = NULL;
    if (n > 0) {
        if (!(topics = sk_arena_alloc(&req->arena, (size_t)n * sizeof *topics)))
            return -1;
        for (int32_t i = 0; i < n; i++) {
            topics[i].name = body->topics.items[i].name;
            topics[i].partition_indexes.items = body->topics.items[i].partition_indexes.items;
            topics[i].partition_indexes.n = body->topics.items[i].partition_indexes.n;
        }
    }
    kf_offset_fetch_response_group g;
    if (fetch_group(req, body->group_id, topics, n, body->require_stable, &g) < 0)
        return -1;
    kf_offset_fetch_response_topic *rt = sk_arena_alloc(&req->arena, (size_t)g.topics.n * sizeof *rt + 1);
    if (!rt)
        return -1;
    for (int32_t i = 0; i < g.topics.n; i++) {
        const kf_offset_fetch_response_group_topic *gt = &g.topics.items[i];
        rt[i].name = gt->name;
        size_t np = (size_t)gt->partitions.n;
        rt[i].partitions.items = sk_arena_alloc(&req->arena, np * sizeof *rt[i].partitions.items + 1);
        rt[i].partitions.n = gt->partitions.n;
        if (!rt[i].partitions.items)
            return -1;
        for (int32_t j = 0; j < gt->partitions.n; j++) {
            const kf_offset_fetch_response_group_partition *gp = &gt->partitions.items[j];
            kf_offset_fetch_response_partition *p = &rt[i].partitions.items[j];
            p->partition_index = gp->partition_index;
            p->committed_offset = gp->committed_offset;
            p->committed_leader_epoch = gp->committed_leader_epoch;
            p->metadata = gp->metadata;
            p->error_code = gp->error_code;
        }
    }
    resp->topics.items = rt;
    resp->topics.n = g.topics.n;
    resp->error_code = g.error_code;
    return 0;
}

void sk_api_offset_fetch(sk_request *req)
{
    const kf_offset_fetch_request *body = req->body;
    kf_offset_fetch_response *resp = sk_request_response(req);
    if (!resp) {
        sk_request_close(req, "out of memory");
        return;
    }
    if (req->hdr.api_version < 8) {
        if (fetch_single(req, body, resp) < 0) {
            sk_request_close(req, "out of memory");
            return;
        }
        sk_request_respond(req, resp);
        return;
    }
    int32_t n = body->groups.n > 0 ? body->groups.n : 0;
    kf_offset_fetch_response_group *groups = sk_arena_alloc(&req->arena, (size_t)n * sizeof *groups + 1);
    if (!groups) {
        sk_request_close(req, "out of memory");
        return;
    }
    for (int32_t i = 0; i < n; i++) {
        const kf_offset_fetch_request_group *rg = &body->groups.items[i];
        if (fetch_group(req, rg->group_id, rg->topics.items, rg->topics.n, body->require_stable, &groups[i]) < 0) {
            sk_request_close(req, "out of memory");
            return;
        }
    }
    resp->groups.items = groups;
    resp->groups.n = n;
    sk_request_respond(req, resp);
}

void sk_api_offset_delete(sk_request *req)
{
    const kf_offset_delete_request *body = req->body;
    kf_offset_delete_response *resp = sk_request_response(req);
    if (!resp) {
        sk_request_close(req, "out of memory");
        return;
    }
    int32_t nt = body->topics.n > 0 ? body->topics.n : 0;
    kf_offset_delete_response_topic *topics = sk_arena_alloc(&req->arena, (size_t)nt * sizeof *topics + 1);
    if (!topics) {
        sk_request_close(req, "out of memory");
        return;
    }
    for (int32_t i = 0; i < nt; i++) {
        const kf_offset_delete_request_topic *rt = &body->topics.items[i];
        int32_t np = rt->partitions.n > 0 ? rt->partitions.n : 0;
        topics[i].name = rt->name;
        topics[i].partitions.items = sk_arena_alloc(&req->arena, (size_t)np * sizeof *topics[i].partitions.items + 1);
        topics[i].partitions.n = np;
        if (!topics[i].partitions.items) {
            sk_request_close(req, "out of memory");
            return;
        }
        for (int32_t j = 0; j < np; j++) {
            int32_t p = rt->partitions.items[j].partition_index;
            topics[i].partitions.items[j].partition_index = p;
            topics[i].partitions.items[j].error_code = partition_error(req, rt->name, p);
        }
    }
    resp->topics.items = topics;
    resp->topics.n = nt;
    resp->error_code = sk_group_delete_offsets(req->broker->groups, body, resp);
    if (resp->error_code != SK_ERR_NONE)
        resp->topics.n = 0;
    sk_request_respond(req, resp);
}
