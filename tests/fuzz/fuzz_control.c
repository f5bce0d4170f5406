/*
 * libFuzzer target for the control plane's untrusted inputs: JSON bodies
 * and the decoded Kafka requests that fault rules look into.
 *
 * The first byte picks the mode:
 * - even: the rest is a JSON body, given (parsed with cJSON) to the fault
 *   rule parser and the capture settings parser; a rule that parses is
 *   listed, fetched and removed, and must leave exactly one rule behind.
 * - odd: the rest is a Kafka request frame (header, body) decoded as skiff
 *   does; when it decodes, a rule naming a topic, partition, group and
 *   transactional id is matched against it (walking the request by its
 *   schema), the error response of the API is built from the request
 *   (kf_error_response, both placements) and must encode to exactly
 *   kf_size bytes, and the request and response are turned into JSON and
 *   their error codes walked.
 * Seeds: tests/data/fuzz/control/ (JSON bodies) and the captured client
 * requests (prefixed by the mode byte by the script that made them).
 */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/control/control_int.h"
#include "kf_msgs.h"
#include "skiff/api.h"
#include "skiff/control.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void count(int16_t code, void *arg)
{
    (void)code;
    (*(int *)arg)++;
}

static void fuzz_json(sk_broker *b, const uint8_t *data, size_t size)
{
    cJSON *spec = cJSON_ParseWithLength((const char *)data, size);
    if (!spec)
        return;
    char detail[256];
    cJSON *rule = sk_faults_add(b, spec, detail, sizeof detail);
    if (rule) {
        cJSON *id = cJSON_GetObjectItemCaseSensitive(rule, "id");
        if (!cJSON_IsNumber(id))
            abort();
        cJSON *list = sk_faults_list(b);
        if (cJSON_GetArraySize(list) != 1)
            abort();
        cJSON_Delete(list);
        cJSON *again = sk_faults_get(b, (uint64_t)id->valuedouble);
        if (!again || !sk_faults_remove(b, (uint64_t)id->valuedouble))
            abort();
        cJSON_Delete(again);
        cJSON_Delete(rule);
    } else if (!detail[0]) {
        abort(); /* a refusal always says why */
    }
    if (!sk_capture_configure(b, spec, detail, sizeof detail))
        sk_capture_stop(b);
    cJSON_Delete(spec);
}

static void check_error_response(const kf_api *api, int16_t v, const void *body, kf_error_place place, sk_arena *arena)
{
    void *resp = kf_error_response(api, v, body, 6, place, arena);
    if (!resp)
        abort();
    bool flex = kf_api_flexible(api, v);
    sk_writer w;
    sk_writer_init(&w, 0);
    if (kf_encode(api->response, v, flex, resp, &w) != 0 || w.len != kf_size(api->response, v, flex, resp))
        abort();
    sk_writer_free(&w);
    cJSON_Delete(kf_to_json(api->response, v, resp));
    int n = 0;
    kf_foreach_error(api->response, v, resp, count, &n);
}

static void fuzz_request(sk_broker *b, const uint8_t *data, size_t size)
{
    sk_request req;
    memset(&req, 0, sizeof req);
    sk_arena_init(&req.arena);
    req.broker = b;
    sk_reader r;
    sk_reader_init(&r, data, size);
    if (kf_request_header_decode(&r, &req.arena, &req.hdr) < 0 || !(req.api = kf_api_find(req.hdr.api_key)))
        goto out;
    int16_t v = req.hdr.api_version;
    if (v < req.api->min_ver || v > req.api->max_ver)
        goto out;
    req.body = sk_arena_alloc(&req.arena, req.api->request->size);
    if (!req.body || kf_decode(req.api->request, v, kf_api_flexible(req.api, v), &r, &req.arena, req.body) < 0)
        goto out;
    cJSON *spec = cJSON_CreateObject();
    cJSON_AddNumberToObject(spec, "api", req.hdr.api_key);
    cJSON_AddStringToObject(spec, "topic", "t");
    cJSON_AddNumberToObject(spec, "partition", 0);
    cJSON_AddStringToObject(spec, "group_id", "g");
    cJSON_AddStringToObject(spec, "transactional_id", "x");
    cJSON_AddNumberToObject(spec, "error", 6);
    char detail[256];
    cJSON *rule = sk_faults_add(b, spec, detail, sizeof detail);
    if (!rule)
        abort();
    sk_faults_fire(b->control, &req, 0);
    sk_faults_clear(b);
    cJSON_Delete(rule);
    cJSON_Delete(spec);
    check_error_response(req.api, v, req.body, KF_ERR_DEEPEST, &req.arena);
    check_error_response(req.api, v, req.body, KF_ERR_SHALLOWEST, &req.arena);
    cJSON_Delete(kf_to_json(req.api->request, v, req.body));
out:
    sk_arena_free(&req.arena);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static sk_broker b;
    if (!b.control && sk_control_open(&b) < 0)
        abort();
    if (size < 1)
        return 0;
    if (data[0] % 2 == 0)
        fuzz_json(&b, data + 1, size - 1);
    else
        fuzz_request(&b, data + 1, size - 1);
    return 0;
}
