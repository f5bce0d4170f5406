/*
 * Unit tests for the Produce, Fetch and ListOffsets schemas through the
 * codec: exact bytes at the lowest versions and the first flexible one
 * (written out from the Kafka 4.0 message JSON files), round trips at the
 * highest, tagged fields (KIP-951 leader hints, the KRaft replica state) and
 * version-dependent defaults; and a default message of every API and version
 * round-tripped. Helpers are in codec_check.h.
 */
#include "codec_check.h"
#include "kf_msgs.h"
#include "skiff/proto.h"
#include "unit_run.h"

static const uint8_t sample_records[] = {0xaa, 0xbb, 0xcc};

START_TEST(test_produce)
{
    sk_arena a = {0};
    const kf_api *api = kf_api_find(KF_API_PRODUCE);
    ck_assert_int_eq(api->min_ver, 0);
    ck_assert_int_eq(api->max_ver, 12);
    ck_assert_int_eq(api->flex_min, 9);

    kf_produce_request_partition p = {0, {sample_records, 3, NULL}};
    kf_produce_request_topic t = {kf_str_c("t"), {&p, 1}};
    kf_produce_request req;
    kf_init(&kf_produce_request_desc, &req);
    req.acks = -1;
    req.timeout_ms = 30000;
    req.topic_data.items = &t;
    req.topic_data.n = 1;
    check_hex(&a, &kf_produce_request_desc, 0, false, &req,
              "ffff 00007530 00000001 0001 74 00000001 00000000 00000003 aabbcc");
    kf_produce_request *d = check_hex(&a, &kf_produce_request_desc, 3, false, &req,
                                      "ffff ffff 00007530 00000001 0001 74 00000001 00000000 00000003 aabbcc");
    assert_str(d->transactional_id, NULL);
    ck_assert_int_eq(d->acks, -1);
    ck_assert_int_eq(d->topic_data.items[0].partition_data.items[0].records.len, 3);
    d = check_hex(&a, &kf_produce_request_desc, 9, true, &req,
                  "00 ffff 00007530 02 0274 02 00000000 04 aabbcc 00 00 00");
    ck_assert_mem_eq(d->topic_data.items[0].partition_data.items[0].records.p, sample_records, 3);
    req.transactional_id = kf_str_c("tx");
    p.records = (kf_bytes){NULL, -1, NULL};
    d = roundtrip(&a, api, true, 12, &req);
    assert_str(d->transactional_id, "tx");
    ck_assert_int_eq(d->topic_data.items[0].partition_data.items[0].records.len, -1);

    /* Response: KIP-951 tagged current_leader and node_endpoints from v10. */
    kf_produce_response_partition rp;
    kf_init(&kf_produce_response_partition_desc, &rp);
    ck_assert_int_eq(rp.log_append_time_ms, -1);
    ck_assert_int_eq(rp.current_leader.leader_id, -1);
    rp.error_code = 6;
    rp.base_offset = -1;
    rp.current_leader.leader_id = 2;
    rp.current_leader.leader_epoch = 5;
    kf_produce_response_topic rt = {kf_str_c("t"), {&rp, 1}};
    kf_produce_response_node_endpoint ne = {2, kf_str_c("h"), 9092, kf_str_c(NULL)};
    kf_produce_response resp;
    kf_init(&kf_produce_response_desc, &resp);
    resp.responses.items = &rt;
    resp.responses.n = 1;
    resp.node_endpoints.items = &ne;
    resp.node_endpoints.n = 1;
    check_hex(&a, &kf_produce_response_desc, 0, false, &resp,
              "00000001 0001 74 00000001 00000000 0006 ffffffffffffffff");
    kf_produce_response *dr =
        check_hex(&a, &kf_produce_response_desc, 10, true, &resp,
                  "02 0274 02 00000000 0006 ffffffffffffffff ffffffffffffffff ffffffffffffffff 01 00"
                  " 01 00 09 00000002 00000005 00  00  00000000  01 00 0d 02 00000002 0268 00002384 00 00");
    ck_assert_int_eq(dr->responses.items[0].partition_responses.items[0].current_leader.leader_epoch, 5);
    ck_assert_int_eq(dr->node_endpoints.n, 1);
    assert_str(dr->node_endpoints.items[0].host, "h");
    /* v9 has no tagged fields to write: defaults come back. */
    dr = check_hex(&a, &kf_produce_response_desc, 9, true, &resp,
                   "02 0274 02 00000000 0006 ffffffffffffffff ffffffffffffffff ffffffffffffffff 01 00"
                   " 00  00  00000000  00");
    ck_assert_int_eq(dr->responses.items[0].partition_responses.items[0].current_leader.leader_id, -1);
    ck_assert_int_eq(dr->node_endpoints.n, 0);
    kf_produce_response_record_error re = {3, kf_str_c("bad")};
    rp.record_errors.items = &re;
    rp.record_errors.n = 1;
    rp.error_message = kf_str_c("invalid record");
    dr = roundtrip(&a, api, false, 12, &resp);
    ck_assert_int_eq(dr->responses.items[0].partition_responses.items[0].record_errors.items[0].batch_index, 3);
    assert_str(dr->responses.items[0].partition_responses.items[0].error_message, "invalid record");
    dr = roundtrip(&a, api, false, 8, &resp);
    assert_str(dr->responses.items[0].partition_responses.items[0].record_errors.items[0].batch_index_error_message,
               "bad");
    sk_arena_free(&a);
}
END_TEST

START_TEST(test_fetch)
{
    sk_arena a = {0};
    const kf_api *api = kf_api_find(KF_API_FETCH);
    ck_assert_int_eq(api->min_ver, 4);
    ck_assert_int_eq(api->max_ver, 17);
    ck_assert_int_eq(api->flex_min, 12);

    kf_fetch_request_partition p;
    kf_init(&kf_fetch_request_partition_desc, &p);
    p.partition = 1;
    p.current_leader_epoch = 4;
    p.fetch_offset = 100;
    p.last_fetched_epoch = 3;
    p.log_start_offset = 0;
    p.partition_max_bytes = 1048576;
    p.replica_directory_id.b[0] = 0x55;
    kf_fetch_request_topic t;
    kf_init(&kf_fetch_request_topic_desc, &t);
    t.topic = kf_str_c("t");
    memcpy(t.topic_id.b, topic_uuid, 16);
    t.partitions.items = &p;
    t.partitions.n = 1;
    int32_t forgotten_parts[] = {7};
    kf_fetch_request_forgotten_topic ft = {kf_str_c("old"), {{0}}, {forgotten_parts, 1}};
    kf_fetch_request req;
    kf_init(&kf_fetch_request_desc, &req);
    ck_assert_int_eq(req.max_bytes, INT32_MAX);
    ck_assert_int_eq(req.replica_state.replica_epoch, -1);
    assert_str(req.rack_id, "");
    req.cluster_id = kf_str_c("cid");
    req.replica_state.replica_id = 1;
    req.max_wait_ms = 500;
    req.min_bytes = 1;
    req.isolation_level = 1;
    req.session_epoch = 0;
    req.topics.items = &t;
    req.topics.n = 1;
    req.forgotten_topics_data.items = &ft;
    req.forgotten_topics_data.n = 1;
    req.rack_id = kf_str_c("r1");

    /* v4 exactly: replica_id, max_wait, min_bytes, max_bytes, isolation, topics. */
    kf_fetch_request *d = check_hex(&a, &kf_fetch_request_desc, 4, false, &req,
                                    "ffffffff 000001f4 00000001 7fffffff 01 00000001 0001 74 00000001 00000001"
                                    " 0000000000000064 00100000");
    ck_assert_int_eq(d->topics.items[0].partitions.items[0].current_leader_epoch, -1);
    ck_assert_int_eq(d->session_epoch, -1);
    ck_assert_int_eq(d->forgotten_topics_data.n, 0);
    d = roundtrip(&a, api, true, 12, &req);
    assert_str(d->cluster_id, "cid");
    assert_str(d->topics.items[0].topic, "t");
    ck_assert_int_eq(d->topics.items[0].partitions.items[0].last_fetched_epoch, 3);
    ck_assert_int_eq(d->topics.items[0].partitions.items[0].replica_directory_id.b[0], 0);
    assert_str(d->forgotten_topics_data.items[0].topic, "old");
    assert_str(d->rack_id, "r1");
    ck_assert_int_eq(d->replica_state.replica_id, -1);
    d = roundtrip(&a, api, true, 17, &req);
    ck_assert_int_eq(d->replica_id, -1);
    ck_assert_int_eq(d->replica_state.replica_id, 1);
    ck_assert_int_eq(d->topics.items[0].topic.len, 0);
    ck_assert_int_eq(d->topics.items[0].topic_id.b[0], 1);
    ck_assert_int_eq(d->topics.items[0].partitions.items[0].replica_directory_id.b[0], 0x55);
    ck_assert_int_eq(d->forgotten_topics_data.items[0].partitions.items[0], 7);

    kf_fetch_response_aborted_transaction at = {42, 90};
    kf_fetch_response_partition rp;
    kf_init(&kf_fetch_response_partition_desc, &rp);
    ck_assert_int_eq(rp.snapshot_id.end_offset, -1);
    ck_assert_int_eq(rp.aborted_transactions.n, 0);
    rp.high_watermark = 120;
    rp.last_stable_offset = 110;
    rp.log_start_offset = 0;
    rp.current_leader.leader_id = 1;
    rp.current_leader.leader_epoch = 4;
    rp.aborted_transactions.items = &at;
    rp.aborted_transactions.n = 1;
    rp.records = (kf_bytes){sample_records, 3, NULL};
    kf_fetch_response_topic rt;
    kf_init(&kf_fetch_response_topic_desc, &rt);
    rt.topic = kf_str_c("t");
    memcpy(rt.topic_id.b, topic_uuid, 16);
    rt.partitions.items = &rp;
    rt.partitions.n = 1;
    kf_fetch_response resp;
    kf_init(&kf_fetch_response_desc, &resp);
    resp.session_id = 9;
    resp.responses.items = &rt;
    resp.responses.n = 1;
    kf_fetch_response *dr =
        check_hex(&a, &kf_fetch_response_desc, 4, false, &resp,
                  "00000000 00000001 0001 74 00000001 00000000 0000 0000000000000078 000000000000006e"
                  " 00000001 000000000000002a 000000000000005a 00000003 aabbcc");
    ck_assert_int_eq(dr->responses.items[0].partitions.items[0].log_start_offset, -1);
    ck_assert_int_eq(dr->session_id, 0);
    dr = roundtrip(&a, api, false, 12, &resp);
    ck_assert_int_eq(dr->session_id, 9);
    ck_assert_int_eq(dr->responses.items[0].partitions.items[0].current_leader.leader_epoch, 4);
    ck_assert_int_eq(dr->responses.items[0].partitions.items[0].diverging_epoch.epoch, -1);
    rp.aborted_transactions.items = NULL;
    rp.aborted_transactions.n = -1;
    kf_fetch_response_node_endpoint ne = {1, kf_str_c("h"), 9092, kf_str_c("rk")};
    resp.node_endpoints.items = &ne;
    resp.node_endpoints.n = 1;
    dr = roundtrip(&a, api, false, 17, &resp);
    ck_assert_int_eq(dr->responses.items[0].partitions.items[0].aborted_transactions.n, -1);
    assert_str(dr->node_endpoints.items[0].rack, "rk");
    ck_assert_int_eq(dr->responses.items[0].topic_id.b[15], 16);
    sk_arena_free(&a);
}
END_TEST

START_TEST(test_list_offsets)
{
    sk_arena a = {0};
    const kf_api *api = kf_api_find(KF_API_LIST_OFFSETS);
    ck_assert_int_eq(api->max_ver, 10);
    ck_assert_int_eq(api->flex_min, 6);
    ck_assert_int_eq(api->min_ver, 1); /* v0 is gone from Kafka 4 (KIP-896) */
    kf_list_offsets_request_partition p;
    kf_init(&kf_list_offsets_request_partition_desc, &p);
    p.timestamp = -1;
    kf_list_offsets_request_topic t = {kf_str_c("t"), {&p, 1}};
    kf_list_offsets_request req;
    kf_init(&kf_list_offsets_request_desc, &req);
    req.replica_id = -1;
    req.isolation_level = 1;
    req.topics.items = &t;
    req.topics.n = 1;
    req.timeout_ms = 1000;
    check_hex(&a, &kf_list_offsets_request_desc, 1, false, &req,
              "ffffffff 00000001 0001 74 00000001 00000000 ffffffffffffffff");
    check_hex(&a, &kf_list_offsets_request_desc, 2, false, &req,
              "ffffffff 01 00000001 0001 74 00000001 00000000 ffffffffffffffff");
    kf_list_offsets_request *d = check_hex(&a, &kf_list_offsets_request_desc, 6, true, &req,
                                           "ffffffff 01 02 0274 02 00000000 ffffffff ffffffffffffffff 00 00 00");
    ck_assert_int_eq(d->timeout_ms, 0);
    d = roundtrip(&a, api, true, 10, &req);
    ck_assert_int_eq(d->timeout_ms, 1000);

    kf_list_offsets_response_partition rp;
    kf_init(&kf_list_offsets_response_partition_desc, &rp);
    rp.timestamp = -1;
    rp.offset = 5;
    rp.leader_epoch = 0;
    kf_list_offsets_response_topic rt = {kf_str_c("t"), {&rp, 1}};
    kf_list_offsets_response resp;
    kf_init(&kf_list_offsets_response_desc, &resp);
    resp.topics.items = &rt;
    resp.topics.n = 1;
    kf_list_offsets_response *dr =
        check_hex(&a, &kf_list_offsets_response_desc, 1, false, &resp,
                  "00000001 0001 74 00000001 00000000 0000 ffffffffffffffff 0000000000000005");
    ck_assert_int_eq(dr->topics.items[0].partitions.items[0].offset, 5);
    dr = check_hex(&a, &kf_list_offsets_response_desc, 6, true, &resp,
                   "00000000 02 0274 02 00000000 0000 ffffffffffffffff 0000000000000005 00000000 00 00 00");
    dr = roundtrip(&a, api, false, 10, &resp);
    ck_assert_int_eq(dr->topics.items[0].partitions.items[0].leader_epoch, 0);
    sk_arena_free(&a);
}
END_TEST

/* Every API and version: a default message round-trips and its prefixes fail. */
START_TEST(test_every_version_defaults)
{
    for (size_t i = 0; i < kf_napis; i++) {
        const kf_api *api = &kf_apis[i];
        for (int16_t v = api->min_ver; v <= api->max_ver; v++) {
            for (int req = 0; req < 2; req++) {
                sk_arena a = {0};
                const kf_struct_desc *d = req ? api->request : api->response;
                void *msg = sk_arena_alloc(&a, d->size);
                kf_init(d, msg);
                roundtrip(&a, api, req, v, msg);
                sk_arena_free(&a);
            }
        }
    }
}
END_TEST

/* A response echoes its request: ListOffsets topics and partitions, the
 * fields of the same name and type copied (timestamp too), the others at
 * their defaults; arrays of scalars shared; a null array stays null. */
START_TEST(test_mirror_array)
{
    sk_arena a = {0};
    kf_list_offsets_request_partition rp[3] = {{0, 5, -2}, {7, -1, 1234}, {2, 0, -1}};
    kf_list_offsets_request_topic rt[2] = {{kf_str_c("a"), {rp, 2}}, {kf_str_c("bb"), {rp + 2, 1}}};
    kf_list_offsets_request rq;
    kf_init(&kf_list_offsets_request_desc, &rq);
    rq.topics.items = rt;
    rq.topics.n = 2;
    kf_list_offsets_response rs;
    kf_init(&kf_list_offsets_response_desc, &rs);
    ck_assert_int_eq(kf_mirror_array(&kf_list_offsets_response_topic_desc, &rs.topics,
                                     &kf_list_offsets_request_topic_desc, &rq.topics, &a),
                     0);
    ck_assert_int_eq(rs.topics.n, 2);
    ck_assert_ptr_eq(rs.topics.items[1].name.p, rt[1].name.p);
    ck_assert_int_eq(rs.topics.items[1].name.len, 2);
    ck_assert_int_eq(rs.topics.items[0].partitions.n, 2);
    ck_assert_int_eq(rs.topics.items[1].partitions.n, 1);
    const kf_list_offsets_response_partition *p = &rs.topics.items[0].partitions.items[1];
    ck_assert_int_eq(p->partition_index, 7);
    ck_assert_int_eq(p->timestamp, 1234);
    ck_assert_int_eq(p->error_code, 0);
    ck_assert_int_eq(p->offset, -1);       /* the schema default */
    ck_assert_int_eq(p->leader_epoch, -1); /* current_leader_epoch has another name */
    ck_assert_int_eq(rs.topics.items[1].partitions.items[0].partition_index, 2);

    kf_offset_fetch_request_topic ft = {kf_str_c("t"), {NULL, -1}};
    int32_t idx[2] = {3, 1};
    kf_offset_fetch_request_topic ft2 = {kf_str_c("u"), {idx, 2}};
    kf_offset_fetch_request_topic both[2] = {ft, ft2};
    struct {
        kf_offset_fetch_request_topic *items;
        int32_t n;
    } in = {both, 2}, none = {NULL, -1};
    kf_offset_fetch_request_group g;
    ck_assert_int_eq(kf_mirror_array(&kf_offset_fetch_request_group_topic_desc, &g.topics,
                                     &kf_offset_fetch_request_topic_desc, &in, &a),
                     0);
    ck_assert_int_eq(g.topics.n, 2);
    ck_assert_int_eq(g.topics.items[0].partition_indexes.n, -1);
    ck_assert_ptr_eq(g.topics.items[1].partition_indexes.items, idx);
    ck_assert_int_eq(g.topics.items[1].partition_indexes.n, 2);
    ck_assert_int_eq(kf_mirror_array(&kf_offset_fetch_request_group_topic_desc, &g.topics,
                                     &kf_offset_fetch_request_topic_desc, &none, &a),
                     0);
    ck_assert_int_eq(g.topics.n, -1);
    ck_assert_ptr_null(g.topics.items);
    sk_arena_free(&a);
}
END_TEST

static Suite *codec_apis_suite(void)
{
    Suite *s = suite_create("codec_apis");
    TCase *tc = tcase_create("apis");
    tcase_add_test(tc, test_produce);
    tcase_add_test(tc, test_fetch);
    tcase_add_test(tc, test_list_offsets);
    tcase_add_test(tc, test_every_version_defaults);
    tcase_add_test(tc, test_mirror_array);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return sk_unit_run(codec_apis_suite());
}
