/* Unit tests of the cluster metadata and the topics built on it: topic
 * names and Kafka's messages, creation, persistence of partitions, configs
 * and pending deletions, and (with a real log store) topic creation,
 * growth, reconfiguration and deletion, including the deletion a crash
 * interrupted. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <sys/stat.h>

#include "skiff/compress.h"
#include "skiff/errors.h"
#include "skiff/fsutil.h"
#include "skiff/meta.h"
#include "skiff/topics.h"
#include "unit_run.h"

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

/* A new directory takes a given cluster id (apache/kafka's CLUSTER_ID),
 * a random one when the given one is malformed; a formatted one keeps its own. */
START_TEST(test_given_cluster_id)
{
    char other[256];
    snprintf(other, sizeof other, "%s/other", dir);
    sk_meta *m = sk_meta_open_cluster(other, 1, "test-cluster");
    ck_assert_ptr_nonnull(m);
    ck_assert_uint_eq(strlen(sk_meta_cluster_id(m)), SK_UUID_STR_LEN);
    ck_assert_str_ne(sk_meta_cluster_id(m), "test-cluster");
    sk_meta_close(m);
    /* Unused trailing bits set: Kafka takes it, and so does skiff, as given. */
    snprintf(other, sizeof other, "%s/lenient", dir);
    m = sk_meta_open_cluster(other, 1, "MkU3OEVBNTcwNTJENDM2Qk");
    ck_assert_ptr_nonnull(m);
    ck_assert_str_eq(sk_meta_cluster_id(m), "MkU3OEVBNTcwNTJENDM2Qk");
    sk_meta_close(m);
    m = sk_meta_open_cluster(dir, 1, "4L6g3nShT-eMCtK--X86sw");
    ck_assert_ptr_nonnull(m);
    ck_assert_str_eq(sk_meta_cluster_id(m), "4L6g3nShT-eMCtK--X86sw");
    sk_meta_close(m);
    m = sk_meta_open_cluster(dir, 1, "5L6g3nShT-eMCtK--X86sw");
    ck_assert_ptr_nonnull(m);
    ck_assert_str_eq(sk_meta_cluster_id(m), "4L6g3nShT-eMCtK--X86sw");
    sk_meta_close(m);
    m = sk_meta_open(dir, 1);
    ck_assert_ptr_nonnull(m);
    ck_assert_str_eq(sk_meta_cluster_id(m), "4L6g3nShT-eMCtK--X86sw");
    sk_meta_close(m);
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

static bool exists(const char *name)
{
    char path[256];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return stat(path, &st) == 0;
}

/* sk_meta_foreach_deletion callbacks: count the pending deletions. */
static void count_ab(const char *name, const uint8_t id[16], int32_t partitions, void *arg)
{
    (void)id;
    ck_assert_str_eq(name, "a.b");
    ck_assert_int_eq(partitions, 1);
    (*(int *)arg)++;
}

static void count_any(const char *name, const uint8_t id[16], int32_t partitions, void *arg)
{
    (void)name;
    (void)id;
    (void)partitions;
    (*(int *)arg)++;
}

START_TEST(test_name_messages)
{
    char msg[512];
    ck_assert_int_eq(sk_topic_name_check_msg("", 0, msg, sizeof msg), SK_ERR_INVALID_TOPIC_EXCEPTION);
    ck_assert_str_eq(msg, "Topic name is invalid: the empty string is not allowed");
    ck_assert_int_eq(sk_topic_name_check_msg("..", 2, msg, sizeof msg), SK_ERR_INVALID_TOPIC_EXCEPTION);
    ck_assert_str_eq(msg, "Topic name is invalid: '..' is not allowed");
    ck_assert_int_eq(sk_topic_name_check_msg("a b", 3, msg, sizeof msg), SK_ERR_INVALID_TOPIC_EXCEPTION);
    ck_assert_str_eq(msg, "Topic name is invalid: 'a b' contains one or more characters other than ASCII "
                          "alphanumerics, '.', '_' and '-'");
    char long_name[251];
    memset(long_name, 'z', 250);
    long_name[250] = '\0';
    ck_assert_int_eq(sk_topic_name_check_msg(long_name, 250, msg, sizeof msg), SK_ERR_INVALID_TOPIC_EXCEPTION);
    ck_assert(strstr(msg, "is longer than the max allowed length 249") != NULL);
}
END_TEST

START_TEST(test_configs_partitions_and_deletions_persist)
{
    sk_meta *m = sk_meta_open(dir, 1);
    ck_assert_ptr_nonnull(m);
    sk_topic_configs c = {0};
    char msg[256];
    ck_assert_int_eq(sk_topic_configs_set(&c, "retention.ms", "1000", msg, sizeof msg), SK_ERR_NONE);
    ck_assert_int_eq(sk_topic_configs_set(&c, "cleanup.policy", "compact, delete", msg, sizeof msg), SK_ERR_NONE);
    sk_topic *t, *u;
    ck_assert_int_eq(sk_meta_create_topic(m, "conf", 2, &c, &t), SK_ERR_NONE);
    ck_assert_str_eq(t->configs.value[SK_TC_RETENTION_MS], "1000");
    ck_assert_ptr_ne(t->configs.value[SK_TC_RETENTION_MS], c.value[SK_TC_RETENTION_MS]);
    ck_assert_int_eq(sk_meta_create_topic(m, "a.b", 1, NULL, &u), SK_ERR_NONE);
    ck_assert_ptr_eq(sk_meta_topic_colliding(m, "a_b"), u);
    ck_assert_ptr_null(sk_meta_topic_colliding(m, "a.b"));
    ck_assert_ptr_null(sk_meta_topic_colliding(m, "ab"));

    ck_assert_int_eq(sk_meta_set_partitions(m, t, 2), SK_ERR_INVALID_PARTITIONS);
    ck_assert_int_eq(sk_meta_set_partitions(m, t, 1), SK_ERR_INVALID_PARTITIONS);
    ck_assert_int_eq(sk_meta_set_partitions(m, t, 5), SK_ERR_NONE);
    sk_topic_configs_free(&c);
    ck_assert_int_eq(sk_topic_configs_set(&c, "segment.ms", "60000", msg, sizeof msg), SK_ERR_NONE);
    ck_assert_int_eq(sk_meta_set_configs(m, t, &c), SK_ERR_NONE);
    ck_assert_ptr_null(t->configs.value[SK_TC_RETENTION_MS]);
    sk_topic_configs_free(&c);

    uint8_t gone_id[16];
    memcpy(gone_id, u->id, 16);
    ck_assert_int_eq(sk_meta_delete_topic(m, u), SK_ERR_NONE);
    ck_assert_ptr_null(sk_meta_topic(m, "a.b", 3));
    ck_assert_ptr_null(sk_meta_topic_by_id(m, gone_id));
    ck_assert_int_eq(sk_meta_topic_count(m), 1);
    ck_assert_int_eq(sk_meta_create_topic(m, "a_b", 1, NULL, &u), SK_ERR_NONE);
    sk_meta_close(m);

    /* Reload: partitions, configs and the pending deletion survive. */
    m = sk_meta_open(dir, 1);
    ck_assert_ptr_nonnull(m);
    t = sk_meta_topic(m, "conf", 4);
    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(t->partitions, 5);
    ck_assert_str_eq(t->configs.value[SK_TC_SEGMENT_MS], "60000");
    ck_assert_ptr_null(t->configs.value[SK_TC_CLEANUP_POLICY]);
    ck_assert_ptr_nonnull(sk_meta_topic(m, "a_b", 3));
    ck_assert_ptr_null(sk_meta_topic(m, "a.b", 3));
    int n = 0;
    sk_meta_foreach_deletion(m, count_ab, &n);
    ck_assert_int_eq(n, 1);
    sk_meta_deletion_done(m, gone_id, true);
    sk_meta_close(m);
    m = sk_meta_open(dir, 1);
    n = 0;
    sk_meta_foreach_deletion(m, count_ab, &n);
    ck_assert_int_eq(n, 0);
    sk_meta_close(m);
}
END_TEST

START_TEST(test_bad_configs_in_catalog_are_dropped)
{
    char path[128];
    snprintf(path, sizeof path, "%s/skiff-topics.json", dir);
    const char *text = "{\"version\":1,\"topics\":[{\"name\":\"t\",\"topic_id\":\"AAAAAAAAAAAAAAAAAAAAAQ\","
                       "\"partitions\":1,\"configs\":{\"retention.ms\":\"5\",\"message.format.version\":\"3.0\","
                       "\"segment.ms\":\"zero\"}}]}";
    ck_assert_int_eq(sk_file_write_atomic(path, text, strlen(text)), 0);
    sk_meta *m = sk_meta_open(dir, 1);
    ck_assert_ptr_nonnull(m);
    sk_topic *t = sk_meta_topic(m, "t", 1);
    ck_assert_ptr_nonnull(t);
    ck_assert_str_eq(t->configs.value[SK_TC_RETENTION_MS], "5");
    ck_assert_ptr_null(t->configs.value[SK_TC_SEGMENT_MS]);
    sk_meta_close(m);
}
END_TEST

/* A broker over `dir` with a real log store. */
typedef struct test_broker {
    sk_config cfg;
    sk_broker b;
} test_broker;

static void broker_open(test_broker *tb)
{
    char flag[96];
    snprintf(flag, sizeof flag, "--log.dirs=%s", dir);
    char *argv[] = {"skiff", flag, "--log.level=warn", NULL};
    ck_assert_int_eq(sk_config_load(&tb->cfg, 3, argv, NULL), SK_CONFIG_OK);
    memset(&tb->b, 0, sizeof tb->b);
    tb->b.config = &tb->cfg;
    tb->b.base = event_base_new();
    ck_assert_ptr_nonnull(tb->b.base);
    tb->b.meta = sk_meta_open(dir, 1);
    ck_assert_ptr_nonnull(tb->b.meta);
    sk_logstore_opts opts = {.topic_config = sk_topics_log_config, .topic_config_arg = &tb->b};
    tb->b.logs = sk_logstore_open(dir, tb->b.base, &tb->cfg, &opts);
    ck_assert_ptr_nonnull(tb->b.logs);
    ck_assert_int_eq(sk_topics_open(&tb->b), 0);
}

static void broker_close(test_broker *tb)
{
    sk_logstore_close(tb->b.logs);
    sk_meta_close(tb->b.meta);
    event_base_free(tb->b.base);
    sk_config_free(&tb->cfg);
}

START_TEST(test_topics_create_grow_configure_delete)
{
    test_broker tb;
    broker_open(&tb);
    sk_broker *b = &tb.b;
    sk_topic_configs c = {0};
    char msg[128];
    ck_assert_int_eq(sk_topic_configs_set(&c, "segment.bytes", "2097152", msg, sizeof msg), SK_ERR_NONE);
    ck_assert_int_eq(sk_topic_configs_set(&c, "compression.type", "lz4", msg, sizeof msg), SK_ERR_NONE);
    sk_topic *t;
    ck_assert_int_eq(sk_topics_create_with_configs(b, "orders", 2, &c, &t), SK_ERR_NONE);
    sk_topic_configs_free(&c);
    ck_assert(exists("orders-0") && exists("orders-1") && !exists("orders-2"));
    ck_assert_int_eq(sk_partition_config(sk_topics_partition(b, t, 1))->segment_bytes, 2097152);
    int32_t level;
    ck_assert_int_eq(sk_topic_compression(t, &level), SK_COMPRESSION_LZ4);

    /* Growth: new partitions get the topic's settings. */
    ck_assert_int_eq(sk_topics_add_partitions(b, t, 2), SK_ERR_INVALID_PARTITIONS);
    ck_assert_int_eq(sk_topics_add_partitions(b, t, 4), SK_ERR_NONE);
    ck_assert(exists("orders-3"));
    ck_assert_int_eq(sk_partition_config(sk_topics_partition(b, t, 3))->segment_bytes, 2097152);
    ck_assert_ptr_null(sk_topics_partition(b, t, 4));

    /* Live reconfiguration reaches every partition. */
    ck_assert_int_eq(sk_topic_configs_set(&c, "retention.ms", "1234", msg, sizeof msg), SK_ERR_NONE);
    ck_assert_int_eq(sk_topic_configs_set(&c, "cleanup.policy", "compact", msg, sizeof msg), SK_ERR_NONE);
    ck_assert_int_eq(sk_topics_set_configs(b, t, &c), SK_ERR_NONE);
    sk_topic_configs_free(&c);
    for (int32_t i = 0; i < 4; i++) {
        const sk_log_config *lc = sk_partition_config(sk_topics_partition(b, t, i));
        ck_assert_int_eq(lc->segment_bytes, 1073741824);
        ck_assert(lc->compact);
        ck_assert_int_eq(lc->retention_ms, -1);
    }
    ck_assert_int_eq(sk_topic_compression(t, &level), SK_COMPRESSION_PRODUCER);

    sk_topic *gone;
    ck_assert_int_eq(sk_topics_create(b, "gone", 3, &gone), SK_ERR_NONE);
    ck_assert_int_eq(sk_topics_delete(b, gone), SK_ERR_NONE);
    ck_assert_ptr_null(sk_meta_topic(b->meta, "gone", 4));
    ck_assert(!exists("gone-0") && !exists("gone-2"));
    ck_assert_ptr_null(sk_logstore_find(b->logs, "gone", 0));
    broker_close(&tb);

    /* A restart keeps the topic, its partitions and its settings. */
    broker_open(&tb);
    t = sk_meta_topic(tb.b.meta, "orders", 6);
    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(t->partitions, 4);
    ck_assert(sk_partition_config(sk_topics_partition(&tb.b, t, 2))->compact);
    ck_assert_int_eq(sk_partition_config(sk_topics_partition(&tb.b, t, 2))->retention_ms, -1);
    ck_assert_ptr_null(sk_meta_topic(tb.b.meta, "gone", 4));
    broker_close(&tb);
}
END_TEST

START_TEST(test_interrupted_deletion_is_finished_at_start)
{
    test_broker tb;
    broker_open(&tb);
    sk_topic *t;
    ck_assert_int_eq(sk_topics_create(&tb.b, "half", 2, &t), SK_ERR_NONE);
    ck_assert_int_eq(sk_topics_create(&tb.b, "stay", 1, &t), SK_ERR_NONE);
    /* The catalog forgets the topic, then the broker "crashes" before the
     * logs are renamed. */
    ck_assert_int_eq(sk_meta_delete_topic(tb.b.meta, sk_meta_topic(tb.b.meta, "half", 4)), SK_ERR_NONE);
    ck_assert(exists("half-0") && exists("half-1"));
    broker_close(&tb);

    broker_open(&tb);
    ck_assert_ptr_null(sk_logstore_find(tb.b.logs, "half", 0));
    ck_assert_ptr_null(sk_logstore_find(tb.b.logs, "half", 1));
    ck_assert(!exists("half-0") && !exists("half-1"));
    ck_assert(exists("stay-0"));
    int n = 0;
    sk_meta_foreach_deletion(tb.b.meta, count_any, &n);
    ck_assert_int_eq(n, 0);
    broker_close(&tb);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("meta");
    TCase *tc = tcase_create("meta");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_topic_names);
    tcase_add_test(tc, test_given_cluster_id);
    tcase_add_test(tc, test_create_and_reload);
    tcase_add_test(tc, test_many_topics_indexed);
    tcase_add_test(tc, test_node_id_mismatch_and_corruption);
    tcase_add_test(tc, test_name_messages);
    tcase_add_test(tc, test_configs_partitions_and_deletions_persist);
    tcase_add_test(tc, test_bad_configs_in_catalog_are_dropped);
    tcase_add_test(tc, test_topics_create_grow_configure_delete);
    tcase_add_test(tc, test_interrupted_deletion_is_finished_at_start);
    suite_add_tcase(s, tc);
    return sk_unit_run(s);
}
