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
#include "skiff/cluster.h"
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
    if (!resp || kf_mirror_array(&kf_offset_commit_response_topic_desc, &resp->topics,
                                 &kf_offset_commit_request_topic_desc, &body->topics, &req->arena) < 0) {
        sk_request_close(req, "out of memory");
        return;
    }
    for (int32_t i = 0; i < resp->topics.n; i++) {
        kf_offset_commit_response_topic *t = &resp->topics.items[i];
        for (int32_t j = 0; j < t->partitions.n; j++)
            t->partitions.items[j].error_code = partition_error(req, t->name, t->partitions.items[j].partition_index);
    }
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
    kf_offset_fetch_request_group rg; /* the v8+ form of the request's topics (null: all) */
    kf_offset_fetch_response_group g;
    if (kf_mirror_array(&kf_offset_fetch_request_group_topic_desc, &rg.topics, &kf_offset_fetch_request_topic_desc,
                        &body->topics, &req->arena) < 0 ||
        fetch_group(req, body->group_id, rg.topics.items, rg.topics.n, body->require_stable, &g) < 0)
        return -1;
    if (kf_mirror_array(&kf_offset_fetch_response_topic_desc, &resp->topics, &kf_offset_fetch_response_group_topic_desc,
                        &g.topics, &req->arena) < 0)
        return -1;
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
        /* v9: a consumer group's member must be known, at its epoch (KIP-848) */
        int16_t member_err =
            !sk_api_coordinates(req, SK_COORD_GROUP, rg->group_id)
                ? SK_ERR_NOT_COORDINATOR
                : sk_cgroup_validate_fetch(req->broker->groups, rg->group_id, rg->member_id, rg->member_epoch);
        if (member_err != SK_ERR_NONE) {
            kf_init(&kf_offset_fetch_response_group_desc, &groups[i]);
            groups[i].group_id = rg->group_id;
            groups[i].error_code = member_err;
            continue;
        }
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
    if (!resp || kf_mirror_array(&kf_offset_delete_response_topic_desc, &resp->topics,
                                 &kf_offset_delete_request_topic_desc, &body->topics, &req->arena) < 0) {
        sk_request_close(req, "out of memory");
        return;
    }
    for (int32_t i = 0; i < resp->topics.n; i++) {
        kf_offset_delete_response_topic *t = &resp->topics.items[i];
        for (int32_t j = 0; j < t->partitions.n; j++)
            t->partitions.items[j].error_code = partition_error(req, t->name, t->partitions.items[j].partition_index);
    }
    resp->error_code = sk_group_delete_offsets(req->broker->groups, body, resp);
    if (resp->error_code != SK_ERR_NONE)
        resp->topics.n = 0;
    sk_request_respond(req, resp);
}
