/*
 * The consumer group protocol's APIs (KIP-848): ConsumerGroupHeartbeat
 * v0-1 and ConsumerGroupDescribe v0-1, thin handlers over the coordinator
 * (src/coord/cgroup*.c, skiff/group.h), which owns every rule. Both answer
 * at once (nothing is parked). DescribeGroups-style authorized operations
 * are "everything" (no authorizer), with Kafka 4.4's bits for consumer groups.
 * A heartbeat's regular expression resolves only to topics its principal
 * may DESCRIBE (the coordinator asks through sk_group_client.may_describe).
 */
#include <stdio.h>
#include <string.h>

#include "authorized_ops.h"
#include "authz.h"
#include "kf_msgs.h"
#include "skiff/api.h"
#include "skiff/cluster.h"
#include "skiff/errors.h"
#include "skiff/group.h"

/* sk_group_client.may_describe: the request's principal may DESCRIBE the topic. */
static bool may_describe(void *arg, const char *name)
{
    return sk_authz_c(arg, SK_OP_DESCRIBE, SK_RES_TOPIC, name);
}

void sk_api_consumer_group_heartbeat(sk_request *req)
{
    kf_consumer_group_heartbeat_response *resp = sk_request_response(req);
    if (!resp) {
        sk_request_close(req, "out of memory");
        return;
    }
    char host[80];
    sk_api_client_host(req, host, sizeof host);
    sk_group_client c = {req->hdr.client_id.p ? req->hdr.client_id.p : "", host,
                         sk_authz_store(req) ? may_describe : NULL, req};
    if (sk_cgroup_heartbeat(req->broker->groups, &c, req->hdr.api_version, req->body, resp, &req->arena) < 0) {
        sk_request_close(req, "out of memory");
        return;
    }
    sk_request_respond(req, resp);
}

void sk_api_consumer_group_describe(sk_request *req)
{
    const kf_consumer_group_describe_request *body = req->body;
    kf_consumer_group_describe_response *resp = sk_request_response(req);
    if (!resp) {
        sk_request_close(req, "out of memory");
        return;
    }
    int32_t n = body->group_ids.n > 0 ? body->group_ids.n : 0;
    kf_consumer_group_describe_response_described_group *out = sk_arena_alloc(&req->arena, (size_t)n * sizeof *out + 1);
    if (!out) {
        sk_request_close(req, "out of memory");
        return;
    }
    for (int32_t i = 0; i < n; i++) {
        kf_init(&kf_consumer_group_describe_response_described_group_desc, &out[i]);
        if (!sk_api_coordinates(req, SK_COORD_GROUP, body->group_ids.items[i])) {
            out[i].group_id = body->group_ids.items[i];
            out[i].error_code = SK_ERR_NOT_COORDINATOR;
            continue;
        }
        if (sk_cgroup_describe(req->broker->groups, body->group_ids.items[i], &out[i], &req->arena) < 0) {
            sk_request_close(req, "out of memory");
            return;
        }
        if (body->include_authorized_operations && out[i].error_code == SK_ERR_NONE)
            out[i].authorized_operations = SK_GROUP_OPERATIONS;
    }
    resp->groups.items = out;
    resp->groups.n = n;
    sk_request_respond(req, resp);
}
