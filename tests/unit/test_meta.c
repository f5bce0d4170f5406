/* Unit tests of the cluster metadata: topic names, creation, persistence. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "skiff/errors.h"
#include "skiff/fsutil.h"
#include "skiff/meta.h"

static char dir[64];

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/skiff-test-meta-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}

static int16_t check(const char *name)
{
    return sk_topic_name_check(name, strlen(name));
}

START_TEST(test_topic_names)
{
    char long_name[251];
    memset(long_name, 'a', 250);
    long_name[250] = '\0';
    ck_assert_int_eq(check("orders"), SK_ERR_NONE);
    ck_assert_int_eq(check("a.b_c-D9"), SK_ERR_NONE);
    ck_assert_int_eq(check(""), SK_ERR_INVALID_TOPIC_EXCEPTION);
    ck_assert_int_eq(check("."), SK_ERR_INVALID_TOPIC_EXCEPTION);
    ck_assert_int_eq(check(".."), SK_ERR_INVALID_TOPIC_EXCEPTION);
    ck_assert_int_eq(check("..."), SK_ERR_NONE);
    ck_assert_int_eq(check("bad/name"), SK_ERR_INVALID_TOPIC_EXCEPTION);
    ck_assert_int_eq(check("sp ace"), SK_ERR_INVALID_TOPIC_EXCEPTION);
    ck_assert_int_eq(check(long_name), SK_ERR_INVALID_TOPIC_EXCEPTION);
    long_name[249] = '\0';
    ck_assert_int_eq(check(long_name), SK_ERR_NONE);
    ck_assert_int_eq(sk_topic_name_check("a\0b", 3), SK_ERR_INVALID_TOPIC_EXCEPTION);
    ck_assert(sk_topic_is_internal("__consumer_offsets"));
    ck_assert(sk_topic_is_internal("__transaction_state"));
    ck_assert(!sk_topic_is_internal("__other"));
}
END_TEST

START_TEST(test_create_and_reload)
{
    sk_meta *m = sk_meta_open(dir, 1);
    ck_assert_ptr_nonnull(m);
    char cluster[SK_UUID_STR_LEN + 1];
    snprintf(cluster, sizeof cluster, "%s", sk_meta_cluster_id(m));
    ck_assert_uint_eq(strlen(cluster), SK_UUID_STR_LEN);

    sk_topic *t = NULL, *u = NULL;
    ck_assert_int_eq(sk_meta_create_topic(m, "orders", 3, NULL, &t), SK_ERR_NONE);
    ck_assert_str_eq(t->name, "orders");
    ck_assert_int_eq(t->partitions, 3);
    ck_assert(!sk_uuid_is_zero(t->id));
    uint8_t id[16];
    memcpy(id, t->id, 16);
    ck_assert_int_eq(sk_meta_create_topic(m, "orders", 1, NULL, &u), SK_ERR_TOPIC_ALREADY_EXISTS);
    ck_assert_int_eq(sk_meta_create_topic(m, "or/ders", 1, NULL, &u), SK_ERR_INVALID_TOPIC_EXCEPTION);
    ck_assert_int_eq(sk_meta_create_topic(m, "zero", 0, NULL, &u), SK_ERR_INVALID_PARTITIONS);
    ck_assert_int_eq(sk_meta_create_topic(m, "a.b", 1, NULL, &u), SK_ERR_NONE);
    ck_assert_int_eq(sk_meta_create_topic(m, "a_b", 1, NULL, &u), SK_ERR_INVALID_TOPIC_EXCEPTION);
    ck_assert_int_eq(sk_meta_create_topic(m, "__consumer_offsets", 1, NULL, &u), SK_ERR_NONE);
    ck_assert(u->internal);
    ck_assert_int_eq(sk_meta_topic_count(m), 3);
    sk_meta_close(m);

    m = sk_meta_open(dir, 1);
    ck_assert_ptr_nonnull(m);
    ck_assert_str_eq(sk_meta_cluster_id(m), cluster);
    ck_assert_int_eq(sk_meta_topic_count(m), 3);
    t = sk_meta_topic(m, "orders", 6);
    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(t->partitions, 3);
    ck_assert_mem_eq(t->id, id, 16);
    ck_assert_ptr_eq(sk_meta_topic_by_id(m, id), t);
    ck_assert_ptr_null(sk_meta_topic(m, "order", 5));
    ck_assert(sk_meta_topic(m, "__consumer_offsets", 18)->internal);
    sk_meta_close(m);
}
END_TEST

START_TEST(test_many_topics_indexed)
{
    sk_meta *m = sk_meta_open(dir, 1);
    ck_assert_ptr_nonnull(m);
    char name[32];
    for (int i = 0; i < 300; i++) {
        sk_topic *t;
        snprintf(name, sizeof name, "t%d", i);
        ck_assert_int_eq(sk_meta_create_topic(m, name, 1 + i % 4, NULL, &t), SK_ERR_NONE);
    }
    for (int i = 0; i < 300; i++) {
        snprintf(name, sizeof name, "t%d", i);
        sk_topic *t = sk_meta_topic(m, name, strlen(name));
        ck_assert_ptr_nonnull(t);
        ck_assert_int_eq(t->partitions, 1 + i % 4);
    }
    sk_meta_close(m);
}
END_TEST

START_TEST(test_node_id_mismatch_and_corruption)
{
    sk_meta *m = sk_meta_open(dir, 1);
    ck_assert_ptr_nonnull(m);
    sk_meta_close(m);
    ck_assert_ptr_null(sk_meta_open(dir, 2));

    char path[128];
    snprintf(path, sizeof path, "%s/skiff-topics.json", dir);
    ck_assert_int_eq(sk_file_write_atomic(path, "{\"topics\": [{\"name\": 1}]}", 26), 0);
    ck_assert_ptr_null(sk_meta_open(dir, 1));
    ck_assert_int_eq(sk_file_write_atomic(path, "not json", 8), 0);
    ck_assert_ptr_null(sk_meta_open(dir, 1));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("meta");
    TCase *tc = tcase_create("meta");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_topic_names);
    tcase_add_test(tc, test_create_and_reload);
    tcase_add_test(tc, test_many_topics_indexed);
    tcase_add_test(tc, test_node_id_mismatch_and_corruption);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
