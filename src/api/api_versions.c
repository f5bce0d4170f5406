/*
 * ApiVersions v0-4 (KIP-35, KIP-511): the API keys and version ranges skiff
 * serves end to end, i.e. every API in the handler table with its schema's
 * range.
 *
 * Behaviour, as Kafka answers:
 * - An unknown request version gets UNSUPPORTED_VERSION in a v0 body (and
 *   the always-v0 response header), still listing every key, so the client
 *   can pick a version it shares and retry.
 * - v3+ lists the feature group.version (supported 0-1, finalized at 1,
 *   features epoch 0): Kafka 4 serves the consumer group protocol at 1.
 * - v3+: client_software_name and client_software_version must match
 *   [a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?, else INVALID_REQUEST.
 */
#include <stdbool.h>

#include "kf_msgs.h"
#include "skiff/api.h"
#include "skiff/errors.h"
#include "skiff/trace.h"

static bool software_field_valid(kf_str s)
{
    if (!s.p || s.len < 1)
        return false;
    for (int32_t i = 0; i < s.len; i++) {
        char c = s.p[i];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        bool inner = i > 0 && i < s.len - 1 && (c == '-' || c == '.');
        if (!alnum && !inner)
            return false;
    }
    return true;
}

void sk_api_versions(sk_request *req)
{
    kf_api_versions_response *resp = sk_request_response(req);
    const kf_api_versions_request *body = req->body;
    int16_t version = req->hdr.api_version;
    if (!resp) {
        sk_request_close(req, "out of memory");
        return;
    }
    if (version < req->api->min_ver || version > req->api->max_ver) {
        sk_info("api", "conn %llu from %s: ApiVersions v%d unsupported, answering UNSUPPORTED_VERSION as v0",
                (unsigned long long)req->conn_id, req->peer, version);
        req->hdr.api_version = 0;
        resp->error_code = SK_ERR_UNSUPPORTED_VERSION;
    } else if (version >= 3 && (!software_field_valid(body->client_software_name) ||
                                !software_field_valid(body->client_software_version))) {
        resp->error_code = SK_ERR_INVALID_REQUEST;
    }

    int32_t n = 0;
    for (size_t i = 0; i < kf_napis; i++)
        n += sk_api_handler_find(kf_apis[i].key) != NULL;
    kf_api_versions_response_api_version *keys = sk_arena_alloc(&req->arena, (size_t)n * sizeof *keys);
    if (!keys) {
        sk_request_close(req, "out of memory");
        return;
    }
    n = 0;
    for (size_t i = 0; i < kf_napis; i++) {
        if (!sk_api_handler_find(kf_apis[i].key))
            continue;
        keys[n].api_key = kf_apis[i].key;
        keys[n].min_version = kf_apis[i].min_ver;
        keys[n].max_version = kf_apis[i].max_ver;
        n++;
    }
    resp->api_keys.items = keys;
    resp->api_keys.n = n;
    /* KIP-584 features (v3+, tagged): group.version 1 is what enables the
     * consumer group protocol (KIP-848) in Kafka 4; skiff serves it always. */
    static kf_api_versions_response_supported_feature_key supported = {{"group.version", 13}, 0, 1};
    static kf_api_versions_response_finalized_feature_key finalized = {{"group.version", 13}, 1, 1};
    resp->supported_features.items = &supported;
    resp->supported_features.n = 1;
    resp->finalized_features.items = &finalized;
    resp->finalized_features.n = 1;
    resp->finalized_features_epoch = 0;
    if (req->hdr.client_id.p && version >= 3 && body)
        sk_debug("api", "conn %llu: client %s is %s %s", (unsigned long long)req->conn_id, req->hdr.client_id.p,
                 body->client_software_name.p ? body->client_software_name.p : "-",
                 body->client_software_version.p ? body->client_software_version.p : "-");
    sk_request_respond(req, resp);
}
