/*
 * Group APIs of the classic protocol: FindCoordinator v0-6, and the thin
 * handlers that hand JoinGroup, SyncGroup, Heartbeat, LeaveGroup,
 * DescribeGroups, ListGroups and DeleteGroups to the group coordinator
 * (src/coord/group.c), which owns every rule.
 *
 * FindCoordinator, as Kafka answers:
 * - This node coordinates every group (key type 0) and transactional id
 *   (key type 1): node id, and the host and port the client connected to
 *   (or advertised.listeners).
 * - Share-group keys (type 2, KIP-932) are INVALID_REQUEST: below v6 they do
 *   not exist, and skiff runs no share coordinator. Any other key type is
 *   INVALID_REQUEST too. An error answer carries node id -1, host "" and
 *   port -1.
 * - v1-3 carry an error message; Kafka sends the error's name ("NONE") when
 *   there is no error, and so do we.
 * - v4+ answer each of coordinator_keys in request order.
 */
#include <stdio.h>

#include "kf_msgs.h"
#include "skiff/api.h"
#include "skiff/errors.h"
#include "skiff/log.h"

/* FindCoordinator key types (CoordinatorType). */
enum { KEY_TYPE_GROUP = 0, KEY_TYPE_TRANSACTION = 1, KEY_TYPE_SHARE = 2 };

/* One coordinator answer: this node, or an error with Kafka's "no node". */
typedef struct coordinator_answer {
    int16_t error_code;
    const char *error_message;
    int32_t node_id;
    const char *host;
    int32_t port;
} coordinator_answer;

static coordinator_answer find_coordinator(const sk_request *req, int8_t key_type)
{
    coordinator_answer a = {SK_ERR_NONE, "NONE", req->broker->config->node_id, req->advertised_host,
                            req->advertised_port};
    if (key_type != KEY_TYPE_GROUP && key_type != KEY_TYPE_TRANSACTION) {
        a.error_code = SK_ERR_INVALID_REQUEST;
        a.error_message = key_type == KEY_TYPE_SHARE ? "Share groups are not supported"
                                                     : "Unknown coordinator type";
        a.node_id = -1;
        a.host = "";
        a.port = -1;
    }
    return a;
}

void sk_api_find_coordinator(sk_request *req)
{
    const kf_find_coordinator_request *body = req->body;
    kf_find_coordinator_response *resp = sk_request_response(req);
    kf_init(&kf_find_coordinator_response_desc, resp);

    if (req->hdr.api_version < 4) {
        coordinator_answer a = find_coordinator(req, body->key_type);
        resp->error_code = a.error_code;
        resp->error_message = kf_str_c(a.error_message);
        resp->node_id = a.node_id;
        resp->host = kf_str_c(a.host);
        resp->port = a.port;
        sk_debug("group", "FindCoordinator v%d key type %d '%s' from %s: %s", req->hdr.api_version,
                 body->key_type, body->key.p ? body->key.p : "", req->peer, sk_err_name(a.error_code));
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
        coordinator_answer a = find_coordinator(req, body->key_type);
        c[i].key = body->coordinator_keys.items[i];
        c[i].node_id = a.node_id;
        c[i].host = kf_str_c(a.host);
        c[i].port = a.port;
        c[i].error_code = a.error_code;
        c[i].error_message = a.error_code == SK_ERR_NONE ? kf_str_c(NULL) : kf_str_c(a.error_message);
    }
    resp->coordinators.items = c;
    resp->coordinators.n = n;
    sk_request_respond(req, resp);
}
