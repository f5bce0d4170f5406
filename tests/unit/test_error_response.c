/*
 * Unit tests for kf_error_response (src/proto/error_response.c): the error
 * answer built from the schema tables lands where Kafka puts it (per
 * partition in Produce, Fetch, OffsetCommit, AddPartitionsToTxn; at the top
 * of Heartbeat and JoinGroup; per key in FindCoordinator v4), echoing the
 * request's topics, partitions and keys; kf_set_int_field; kf_to_json.
 */
#include <cjson/cJSON.h>
#include <string.h>

#include "kf_msgs.h"
#include "skiff/proto.h"
#include "unit_run.h"

START_TEST(test_produce_per_partition)
{
    sk_arena a = {0};
    kf_produce_request_partition p1[] = {{0, {NULL, -1, NULL}}, {3, {NULL, -1, NULL}}};
    kf_produce_request_partition p2[] = {{7, {NULL, -1, NULL}}};
    kf_produce_request_topic t[] = {{kf_str_c("a"), {p1, 2}}, {kf_str_c("b"), {p2, 1}}};
    kf_produce_request req;
    kf_init(&kf_produce_request_desc, &req);
    req.topic_data.items = t;
    req.topic_data.n = 2;
    const kf_api *api = kf_api_find(KF_API_PRODUCE);
    for (int16_t v = 3; v <= 12; v++) {
        kf_produce_response *r = kf_error_response(api, v, &req, 6, KF_ERR_DEEPEST, &a);
        ck_assert_ptr_nonnull(r);
        ck_assert_int_eq(r->responses.n, 2);
        ck_assert_str_eq(r->responses.items[0].name.p, "a");
        ck_assert_str_eq(r->responses.items[1].name.p, "b");
        ck_assert_int_eq(r->responses.items[0].partition_responses.n, 2);
        ck_assert_int_eq(r->responses.items[0].partition_responses.items[1].index, 3);
        ck_assert_int_eq(r->responses.items[0].partition_responses.items[1].error_code, 6);
        ck_assert_int_eq(r->responses.items[1].partition_responses.items[0].index, 7);
        ck_assert_int_eq(r->responses.items[1].partition_responses.items[0].error_code, 6);
        /* SHALLOWEST finds no level above the partitions: the same place. */
        r = kf_error_response(api, v, &req, 16, KF_ERR_SHALLOWEST, &a);
        ck_assert_int_eq(r->responses.items[0].partition_responses.items[0].error_code, 16);
    }
    sk_arena_free(&a);
}
END_TEST

START_TEST(test_fetch)
{
    sk_arena a = {0};
    kf_fetch_request_partition parts[2];
    kf_init(&kf_fetch_request_partition_desc, &parts[0]);
    kf_init(&kf_fetch_request_partition_desc, &parts[1]);
    parts[0].partition = 1;
    parts[1].partition = 2;
    kf_fetch_request_topic t;
    kf_init(&kf_fetch_request_topic_desc, &t);
    t.topic = kf_str_c("events");
    t.partitions.items = parts;
    t.partitions.n = 2;
    kf_fetch_request req;
    kf_init(&kf_fetch_request_desc, &req);
    req.session_id = 42;
    req.topics.items = &t;
    req.topics.n = 1;
    const kf_api *api = kf_api_find(KF_API_FETCH);
    kf_fetch_response *r = kf_error_response(api, 12, &req, 6, KF_ERR_DEEPEST, &a);
    ck_assert_int_eq(r->error_code, 0);
    ck_assert_int_eq(r->session_id, 42);
    ck_assert_int_eq(r->node_endpoints.n, 0); /* not paired with forgotten_topics_data */
    ck_assert_int_eq(r->responses.n, 1);
    ck_assert_str_eq(r->responses.items[0].topic.p, "events");
    ck_assert_int_eq(r->responses.items[0].partitions.n, 2);
    ck_assert_int_eq(r->responses.items[0].partitions.items[1].partition_index, 2);
    ck_assert_int_eq(r->responses.items[0].partitions.items[1].error_code, 6);
    /* A session error goes to the top level only. */
    r = kf_error_response(api, 12, &req, 70, KF_ERR_SHALLOWEST, &a);
    ck_assert_int_eq(r->error_code, 70);
    ck_assert_int_eq(r->responses.items[0].partitions.items[0].error_code, 0);
    /* Without partitions (an incremental fetch with nothing new) the top gets it. */
    req.topics.n = 0;
    r = kf_error_response(api, 12, &req, 6, KF_ERR_DEEPEST, &a);
    ck_assert_int_eq(r->error_code, 6);
    ck_assert_int_eq(r->responses.n, 0);
    sk_arena_free(&a);
}
END_TEST

START_TEST(test_top_level_apis)
{
    sk_arena a = {0};
    kf_heartbeat_request hb;
    kf_init(&kf_heartbeat_request_desc, &hb);
    hb.group_id = kf_str_c("g");
    kf_heartbeat_response *h = kf_error_response(kf_api_find(KF_API_HEARTBEAT), 4, &hb, 27, KF_ERR_DEEPEST, &a);
    ck_assert_int_eq(h->error_code, 27);

    kf_join_group_request_protocol proto;
    kf_init(&kf_join_group_request_protocol_desc, &proto);
    proto.name = kf_str_c("range");
    kf_join_group_request jg;
    kf_init(&kf_join_group_request_desc, &jg);
    jg.member_id = kf_str_c("m-1");
    jg.protocols.items = &proto;
    jg.protocols.n = 1;
    kf_join_group_response *j = kf_error_response(kf_api_find(KF_API_JOIN_GROUP), 9, &jg, 27, KF_ERR_DEEPEST, &a);
    ck_assert_int_eq(j->error_code, 27);
    ck_assert_int_eq(j->members.n, 0); /* protocols are not members */
    ck_assert_str_eq(j->member_id.p, "m-1");
    ck_assert_int_eq(kf_set_int_field(&kf_join_group_response_desc, 9, j, "throttle_time_ms", 250), 0);
    ck_assert_int_eq(j->throttle_time_ms, 250);
    ck_assert_int_eq(kf_set_int_field(&kf_join_group_response_desc, 0, j, "throttle_time_ms", 1), -1);
    sk_arena_free(&a);
}
END_TEST

START_TEST(test_keys_and_scalar_arrays)
{
    sk_arena a = {0};
    kf_str keys[] = {kf_str_c("g1"), kf_str_c("g2")};
    kf_find_coordinator_request fc;
    kf_init(&kf_find_coordinator_request_desc, &fc);
    fc.coordinator_keys.items = keys;
    fc.coordinator_keys.n = 2;
    kf_find_coordinator_response *f =
        kf_error_response(kf_api_find(KF_API_FIND_COORDINATOR), 4, &fc, 15, KF_ERR_SHALLOWEST, &a);
    ck_assert_int_eq(f->coordinators.n, 2);
    ck_assert_str_eq(f->coordinators.items[1].key.p, "g2");
    ck_assert_int_eq(f->coordinators.items[0].error_code, 15);
    ck_assert_int_eq(f->coordinators.items[1].error_code, 15);
    fc.key = kf_str_c("g1");
    f = kf_error_response(kf_api_find(KF_API_FIND_COORDINATOR), 3, &fc, 15, KF_ERR_SHALLOWEST, &a);
    ck_assert_int_eq(f->error_code, 15);

    int32_t parts[] = {4, 5};
    kf_add_partitions_to_txn_request_topic t = {kf_str_c("t"), {parts, 2}};
    kf_add_partitions_to_txn_request ap;
    kf_init(&kf_add_partitions_to_txn_request_desc, &ap);
    ap.v3_and_below_topics.items = &t;
    ap.v3_and_below_topics.n = 1;
    kf_add_partitions_to_txn_response *r =
        kf_error_response(kf_api_find(KF_API_ADD_PARTITIONS_TO_TXN), 3, &ap, 47, KF_ERR_DEEPEST, &a);
    ck_assert_int_eq(r->results_by_topic_v3_and_below.n, 1);
    ck_assert_str_eq(r->results_by_topic_v3_and_below.items[0].name.p, "t");
    ck_assert_int_eq(r->results_by_topic_v3_and_below.items[0].results_by_partition.n, 2);
    ck_assert_int_eq(r->results_by_topic_v3_and_below.items[0].results_by_partition.items[1].partition_index, 5);
    ck_assert_int_eq(r->results_by_topic_v3_and_below.items[0].results_by_partition.items[1].partition_error_code, 47);
    sk_arena_free(&a);
}
END_TEST

/* Config resources pair by resource_name: DescribeConfigs' resources
 * answered in results, IncrementalAlterConfigs' in responses (the ACL
 * authorizer refuses them one by one). */
START_TEST(test_config_resources)
{
    sk_arena a = {0};
    kf_describe_configs_request_describe_configs_resource res = {2, kf_str_c("t"), {NULL, -1}};
    kf_describe_configs_request dc;
    kf_init(&kf_describe_configs_request_desc, &dc);
    dc.resources.items = &res;
    dc.resources.n = 1;
    kf_describe_configs_response *d =
        kf_error_response(kf_api_find(KF_API_DESCRIBE_CONFIGS), 4, &dc, 29, KF_ERR_SHALLOWEST, &a);
    ck_assert_int_eq(d->results.n, 1);
    ck_assert_int_eq(d->results.items[0].error_code, 29);
    ck_assert_int_eq(d->results.items[0].resource_type, 2);
    ck_assert_str_eq(d->results.items[0].resource_name.p, "t");
    kf_incremental_alter_configs_request_alter_configs_resource ires;
    kf_init(&kf_incremental_alter_configs_request_alter_configs_resource_desc, &ires);
    ires.resource_type = 4;
    ires.resource_name = kf_str_c("1");
    kf_incremental_alter_configs_request ia;
    kf_init(&kf_incremental_alter_configs_request_desc, &ia);
    ia.resources.items = &ires;
    ia.resources.n = 1;
    kf_incremental_alter_configs_response *i =
        kf_error_response(kf_api_find(KF_API_INCREMENTAL_ALTER_CONFIGS), 1, &ia, 31, KF_ERR_SHALLOWEST, &a);
    ck_assert_int_eq(i->responses.n, 1);
    ck_assert_int_eq(i->responses.items[0].error_code, 31);
    ck_assert_str_eq(i->responses.items[0].resource_name.p, "1");
    sk_arena_free(&a);
}
END_TEST

START_TEST(test_every_api_encodes)
{
    /* Any API at any version: a default request gives an encodable answer. */
    sk_arena a = {0};
    for (size_t i = 0; i < kf_napis; i++) {
        const kf_api *api = &kf_apis[i];
        void *req = sk_arena_alloc(&a, api->request->size);
        kf_init(api->request, req);
        for (int16_t v = api->min_ver; v <= api->max_ver; v++) {
            void *resp = kf_error_response(api, v, req, 7, KF_ERR_DEEPEST, &a);
            ck_assert_ptr_nonnull(resp);
            sk_writer w;
            sk_writer_init(&w, 0);
            ck_assert_int_eq(kf_encode(api->response, v, kf_api_flexible(api, v), resp, &w), 0);
            ck_assert_uint_eq(w.len, kf_size(api->response, v, kf_api_flexible(api, v), resp));
            sk_writer_free(&w);
            cJSON *j = kf_to_json(api->response, v, resp);
            ck_assert_ptr_nonnull(j);
            cJSON_Delete(j);
        }
    }
    sk_arena_free(&a);
}
END_TEST

START_TEST(test_to_json)
{
    kf_produce_request_partition p = {2, {(const uint8_t *)"abc", 3, NULL}};
    kf_produce_request_topic t = {kf_str_c("a"), {&p, 1}};
    kf_produce_request req;
    kf_init(&kf_produce_request_desc, &req);
    req.acks = -1;
    req.timeout_ms = 1500;
    req.topic_data.items = &t;
    req.topic_data.n = 1;
    cJSON *j = kf_to_json(&kf_produce_request_desc, 9, &req);
    char *s = cJSON_PrintUnformatted(j);
    ck_assert_str_eq(s, "{\"transactional_id\":null,\"acks\":-1,\"timeout_ms\":1500,\"topic_data\":[{\"name\":\"a\","
                        "\"partition_data\":[{\"index\":2,\"records\":{\"size\":3}}]}]}");
    free(s);
    cJSON_Delete(j);
    j = kf_to_json(&kf_produce_request_desc, 0, &req); /* no transactional_id in v0 */
    ck_assert_ptr_null(cJSON_GetObjectItem(j, "transactional_id"));
    cJSON_Delete(j);
}
END_TEST

static Suite *error_response_suite(void)
{
    Suite *s = suite_create("error_response");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_produce_per_partition);
    tcase_add_test(tc, test_fetch);
    tcase_add_test(tc, test_top_level_apis);
    tcase_add_test(tc, test_keys_and_scalar_arrays);
    tcase_add_test(tc, test_config_resources);
    tcase_add_test(tc, test_every_api_encodes);
    tcase_add_test(tc, test_to_json);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return sk_unit_run(error_response_suite());
}
