/*
 * Group APIs of the classic protocol: FindCoordinator v0-6, and the thin
 * handlers that hand JoinGroup v0-9, SyncGroup v0-5, Heartbeat v0-4,
 * LeaveGroup v0-5, DescribeGroups v0-5, ListGroups v0-5 and DeleteGroups
 * v0-2 to the group coordinator (src/coord/group*.c, skiff/group.h), which
 * owns every rule. JoinGroup and SyncGroup are parked there and answered
 * through the callbacks below; responses on a connection still leave in
 * request order.
 *
 * Layout differences handled here: LeaveGroup v0-2 names one member and
 * carries its error at the top level; DescribeGroups v3+ reports the
 * authorized operations when asked (everything without an authorizer;
 * with one, src/api/authz_rules.c keeps those the caller may use); the
 * client host is shown as Kafka prints an address ("/127.0.0.1").
 *
 * FindCoordinator, as Kafka answers:
 * - A group (key type 0) or transactional id (key type 1) is coordinated by
 *   the leader of its partition of __consumer_offsets / __transaction_state
 *   (skiff/cluster.h; with one broker, this node): its node id, host and
 *   port as the client reaches it. While that partition has no leader the
 *   answer is COORDINATOR_NOT_AVAILABLE.
 * - Share-group keys (type 2, KIP-932) are INVALID_REQUEST: below v6 they do
 *   not exist, and skiff runs no share coordinator. Any other key type is
 *   INVALID_REQUEST too. An error answer carries node id -1, host "" and
 *   port -1.
 * - v1-3 carry an error message; Kafka sends the error's name ("NONE") when
 *   there is no error, and so do we.
 * - v4+ answer each of coordinator_keys in request order.
 */
#include <stdio.h>
#include <string.h>

#include "authorized_ops.h"
#include "kf_msgs.h"
#include "skiff/api.h"
#include "skiff/cluster.h"
#include "skiff/errors.h"
#include "skiff/group.h"
#include "skiff/group_configs.h"
#include "skiff/meta.h"
#include "skiff/trace.h"

/* FindCoordinator key types (CoordinatorType). */
enum { KEY_TYPE_GROUP = 0, KEY_TYPE_TRANSACTION = 1, KEY_TYPE_SHARE = 2 };

/* One coordinator answer: this node, or an error with Kafka's "no node". */
typedef struct coordinator_answer {
    int16_t error_code;        /* NONE or why there is no coordinator */
    const char *error_message; /* "NONE" with NONE (Kafka answers "" then) */
    int32_t node_id;           /* -1 with an error */
    kf_str host;               /* "" with an error */
    int32_t port;              /* -1 with an error */
} coordinator_answer;

static coordinator_answer find_coordinator(const sk_request *req, int8_t key_type, kf_str key)
{
    coordinator_answer a = {SK_ERR_NONE, "NONE", -1, kf_str_c(""), -1};
    if (key_type != KEY_TYPE_GROUP && key_type != KEY_TYPE_TRANSACTION) {
        a.error_code = SK_ERR_INVALID_REQUEST;
        a.error_message = key_type == KEY_TYPE_SHARE ? "Share groups are not supported" : SK_ERR_MSG_INVALID_REQUEST;
        return a;
    }
    int32_t node = sk_cluster_coordinator(req->broker, key_type == KEY_TYPE_GROUP ? SK_COORD_GROUP : SK_COORD_TXN,
                                          key.p, key.p ? (size_t)key.len : 0);
    if (node < 0) {
        a.error_code = SK_ERR_COORDINATOR_NOT_AVAILABLE;
        a.error_message = "The coordinator is not available.";
        return a;
    }
    a.node_id = node;
    sk_cluster_endpoint(req, node, &a.host, &a.port);
    return a;
}

void sk_api_find_coordinator(sk_request *req)
{
    const kf_find_coordinator_request *body = req->body;
    kf_find_coordinator_response *resp = sk_request_response(req);
    if (!resp) {
        sk_request_close(req, "out of memory");
        return;
    }

    if (req->hdr.api_version < 4) {
        coordinator_answer a = find_coordinator(req, body->key_type, body->key);
        resp->error_code = a.error_code;
        resp->error_message = kf_str_c(a.error_message);
        resp->node_id = a.node_id;
        resp->host = a.host;
        resp->port = a.port;
        sk_debug("group", "FindCoordinator v%d key type %d '%s' from %s: %s", req->hdr.api_version, body->key_type,
                 body->key.p ? body->key.p : "", req->peer, sk_err_name(a.error_code));
        sk_request_respond(req, resp);
        return;
    }

    int32_t n = body->coordinator_keys.n > 0 ? body->coordinator_keys.n : 0;
    kf_find_coordinator_response_coordinator *c = sk_arena_alloc(&req->arena, (size_t)n * sizeof *c + 1);
    if (!c) {
        sk_request_close(req, "out of memory");
        return;
    }
    for (int32_t i = 0; i < n; i++) {
        coordinator_answer a = find_coordinator(req, body->key_type, body->coordinator_keys.items[i]);
        c[i].key = body->coordinator_keys.items[i];
        c[i].node_id = a.node_id;
        c[i].host = a.host;
        c[i].port = a.port;
        c[i].error_code = a.error_code;
        c[i].error_message = kf_str_c(a.error_code == SK_ERR_NONE ? "" : a.error_message); /* Kafka: "" */
    }
    resp->coordinators.items = c;
    resp->coordinators.n = n;
    sk_request_respond(req, resp);
}

/* ---- Membership ---- */

/* Kafka answers a failed JoinGroup v7+ with a null protocol name
 * (JoinGroupResponse: ProtocolName nullable from v7). */
static void join_done(void *waiter, const kf_join_group_response *resp)
{
    sk_request *req = waiter;
    kf_join_group_response r = *resp;
    if (r.error_code != SK_ERR_NONE && req->hdr.api_version >= 7)
        r.protocol_name = kf_str_c(NULL);
    sk_request_respond(req, &r);
}

static void sync_done(void *waiter, const kf_sync_group_response *resp)
{
    sk_request_respond(waiter, resp);
}

int sk_api_groups_start(sk_broker *b)
{
    if (!(b->group_configs = sk_group_configs_open(sk_meta_dir(b->meta))))
        return -1;
    b->groups = sk_groups_start(b, join_done, sync_done);
    if (b->groups)
        sk_groups_set_configs(b->groups, b->group_configs);
    return b->groups ? 0 : -1;
}

void sk_api_client_host(const sk_request *req, char *out, size_t len)
{
    const char *p = req->peer, *end = strrchr(p, ':');
    if (*p == '[') {
        p++;
        end = strchr(p, ']');
    }
    int n = end ? (int)(end - p) : (int)strlen(p);
    snprintf(out, len, "/%.*s", n, p);
}

void sk_api_join_group(sk_request *req)
{
    char host[80];
    sk_api_client_host(req, host, sizeof host);
    sk_group_client c = {req->hdr.client_id.p ? req->hdr.client_id.p : "", host, NULL, NULL};
    sk_group_join(req->broker->groups, &c, req->hdr.api_version, req->body, req);
}

void sk_api_sync_group(sk_request *req)
{
    sk_group_sync(req->broker->groups, req->hdr.api_version, req->body, req);
}

void sk_api_heartbeat(sk_request *req)
{
    kf_heartbeat_response *resp = sk_request_response(req);
    if (!resp) {
        sk_request_close(req, "out of memory");
        return;
    }
    resp->error_code = sk_group_heartbeat(req->broker->groups, req->body);
    sk_request_respond(req, resp);
}

void sk_api_leave_group(sk_request *req)
{
    const kf_leave_group_request *body = req->body;
    kf_leave_group_response *resp = sk_request_response(req);
    if (!resp) {
        sk_request_close(req, "out of memory");
        return;
    }
    const kf_leave_group_request_member *members = body->members.items;
    int32_t n = body->members.n > 0 ? body->members.n : 0;
    kf_leave_group_request_member one;
    if (req->hdr.api_version <= 2) {
        kf_init(&kf_leave_group_request_member_desc, &one);
        one.member_id = body->member_id;
        members = &one;
        n = 1;
    }
    kf_leave_group_response_member *out = sk_arena_alloc(&req->arena, (size_t)n * sizeof *out + 1);
    if (!out) {
        sk_request_close(req, "out of memory");
        return;
    }
    resp->error_code = sk_group_leave(req->broker->groups, body->group_id, members, n, out);
    if (req->hdr.api_version <= 2) {
        if (resp->error_code == SK_ERR_NONE)
            resp->error_code = out[0].error_code;
    } else if (resp->error_code == SK_ERR_NONE) {
        resp->members.items = out;
        resp->members.n = n;
    }
    sk_request_respond(req, resp);
}

/* ---- Administration ---- */

void sk_api_describe_groups(sk_request *req)
{
    const kf_describe_groups_request *body = req->body;
    kf_describe_groups_response *resp = sk_request_response(req);
    if (!resp) {
        sk_request_close(req, "out of memory");
        return;
    }
    int32_t n = body->groups.n > 0 ? body->groups.n : 0;
    kf_describe_groups_response_group *out = sk_arena_alloc(&req->arena, (size_t)n * sizeof *out + 1);
    if (!out) {
        sk_request_close(req, "out of memory");
        return;
    }
    for (int32_t i = 0; i < n; i++) {
        kf_init(&kf_describe_groups_response_group_desc, &out[i]);
        if (!sk_api_coordinates(req, SK_COORD_GROUP, body->groups.items[i])) {
            out[i].group_id = body->groups.items[i];
            out[i].error_code = SK_ERR_NOT_COORDINATOR;
            continue;
        }
        if (sk_group_describe(req->broker->groups, body->groups.items[i], &out[i], &req->arena) < 0) {
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

void sk_api_list_groups(sk_request *req)
{
    const kf_list_groups_request *body = req->body;
    kf_list_groups_response *resp = sk_request_response(req);
    if (!resp) {
        sk_request_close(req, "out of memory");
        return;
    }
    kf_list_groups_response_group *groups;
    int32_t n = sk_groups_list(req->broker->groups, body->states_filter.items, body->states_filter.n,
                               body->types_filter.items, body->types_filter.n, &groups, &req->arena);
    if (n < 0) {
        sk_request_close(req, "out of memory");
        return;
    }
    /* Several brokers (skiff/cluster.h): each lists the groups it coordinates. */
    int32_t kept = 0;
    for (int32_t i = 0; i < n; i++)
        if (sk_api_coordinates(req, SK_COORD_GROUP, groups[i].group_id))
            groups[kept++] = groups[i];
    resp->groups.items = groups;
    resp->groups.n = kept;
    sk_request_respond(req, resp);
}

void sk_api_delete_groups(sk_request *req)
{
    const kf_delete_groups_request *body = req->body;
    kf_delete_groups_response *resp = sk_request_response(req);
    if (!resp) {
        sk_request_close(req, "out of memory");
        return;
    }
    int32_t n = body->groups_names.n > 0 ? body->groups_names.n : 0;
    kf_delete_groups_response_result *out = sk_arena_alloc(&req->arena, (size_t)n * sizeof *out + 1);
    if (!out) {
        sk_request_close(req, "out of memory");
        return;
    }
    int32_t m = 0;
    for (int32_t i = 0; i < n; i++) {
        kf_str id = body->groups_names.items[i];
        bool seen = false; /* Kafka answers each distinct group id once */
        for (int32_t j = 0; j < m && !seen; j++)
            seen = out[j].group_id.len == id.len && (id.len <= 0 || !memcmp(out[j].group_id.p, id.p, (size_t)id.len));
        if (seen)
            continue;
        out[m].group_id = id;
        out[m].error_code = sk_api_coordinates(req, SK_COORD_GROUP, id) ? sk_group_delete(req->broker->groups, id)
                                                                        : SK_ERR_NOT_COORDINATOR;
        m++;
    }
    resp->results.items = out;
    resp->results.n = m;
    sk_request_respond(req, resp);
}
