/* Unit tests of the topic config table: parsing with Kafka's rules and
 * messages, canonical values, defaults, broker synonyms and sources, the
 * log settings and compression derived from a topic's configs. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "skiff/compress.h"
#include "skiff/errors.h"
#include "skiff/meta.h"
#include "skiff/topic_config.h"
#include "unit_run.h"

/* Parses `value` for config `name`; returns the canonical text or the error
 * message (static buffer). */
static const char *parse(const char *name, const char *value, int *rc)
{
    static char out[512];
    char canon[256];
    int id = sk_topic_config_find(name, strlen(name));
    ck_assert_int_ge(id, 0);
    *rc = sk_topic_config_parse((sk_topic_config_id)id, value, canon, sizeof canon, out, sizeof out);
    if (*rc == 0)
        snprintf(out, sizeof out, "%s", canon);
    return out;
}

static void ok(const char *name, const char *value, const char *canon)
{
    int rc;
    const char *got = parse(name, value, &rc);
    ck_assert_msg(rc == 0, "%s=%s: %s", name, value, got);
    ck_assert_str_eq(got, canon);
}

static void bad(const char *name, const char *value, const char *msg)
{
    int rc;
    const char *got = parse(name, value, &rc);
    ck_assert_msg(rc == -1, "%s=%s accepted as %s", name, value, got);
    ck_assert_str_eq(got, msg);
}

static void broker_config(sk_config *c, int argc, char **argv)
{
    ck_assert_int_eq(sk_config_load(c, argc, argv, NULL), SK_CONFIG_OK);
}

START_TEST(test_table)
{
    ck_assert_int_eq(SK_TC_COUNT, 37);
    for (int i = 0; i < SK_TC_COUNT; i++) {
        const sk_topic_config_def *d = sk_topic_config_def_get((sk_topic_config_id)i);
        ck_assert_ptr_nonnull(d->name);
        ck_assert_ptr_nonnull(d->doc);
        ck_assert_int_eq(sk_topic_config_find(d->name, strlen(d->name)), i);
        if (i > 0)
            ck_assert_int_lt(strcmp(sk_topic_config_def_get((sk_topic_config_id)(i - 1))->name, d->name), 0);
        /* Every default is a valid value of its own config, in canonical form. */
        char canon[256], msg[256];
        ck_assert_msg(
            sk_topic_config_parse((sk_topic_config_id)i, d->default_value, canon, sizeof canon, msg, sizeof msg) == 0,
            "%s: %s", d->name, msg);
        ck_assert_str_eq(canon, d->default_value);
    }
    ck_assert_int_eq(sk_topic_config_find("retention.ms", 12), SK_TC_RETENTION_MS);
    ck_assert_int_eq(sk_topic_config_find("message.format.version", 22), -1);
    ck_assert_int_eq(sk_topic_config_find("message.downconversion.enable", 29), -1);
    ck_assert_int_eq(sk_topic_config_def_get(SK_TC_SEGMENT_BYTES)->type, SK_CONFIG_TYPE_INT);
    ck_assert_int_eq(sk_topic_config_def_get(SK_TC_CLEANUP_POLICY)->type, SK_CONFIG_TYPE_LIST);
    ck_assert_int_eq(sk_topic_config_def_get(SK_TC_MIN_CLEANABLE_DIRTY_RATIO)->type, SK_CONFIG_TYPE_DOUBLE);
    ck_assert_str_eq(sk_topic_config_def_get(SK_TC_MESSAGE_TIMESTAMP_AFTER_MAX_MS)->default_value, "3600000");
}
END_TEST

START_TEST(test_parse_numbers)
{
    ok("retention.ms", " 1000 ", "1000");
    ok("retention.ms", "+42", "42");
    ok("retention.ms", "-1", "-1");
    ok("retention.ms", "0100", "100");
    ok("retention.bytes", "-5", "-5");
    ok("retention.ms", "9223372036854775807", "9223372036854775807");
    bad("retention.ms", "abc", "Invalid value abc for configuration retention.ms: Not a number of type LONG");
    bad("retention.ms", "", "Invalid value  for configuration retention.ms: Not a number of type LONG");
    bad("retention.ms", "1.5", "Invalid value 1.5 for configuration retention.ms: Not a number of type LONG");
    bad("retention.ms", "9223372036854775808",
        "Invalid value 9223372036854775808 for configuration retention.ms: Not a number of type LONG");
    bad("retention.ms", "-2", "Invalid value -2 for configuration retention.ms: Value must be at least -1");
    bad("segment.bytes", "1000", "Invalid value 1000 for configuration segment.bytes: Value must be at least 1048576");
    ok("segment.bytes", "1048576", "1048576");
    bad("segment.bytes", "2147483648",
        "Invalid value 2147483648 for configuration segment.bytes: Not a number of type INT");
    bad("segment.ms", "0", "Invalid value 0 for configuration segment.ms: Value must be at least 1");
    bad("min.insync.replicas", "0", "Invalid value 0 for configuration min.insync.replicas: Value must be at least 1");
    ok("compression.gzip.level", "-1", "-1");
    ok("compression.gzip.level", "9", "9");
    bad("compression.gzip.level", "0",
        "Invalid value 0 for configuration compression.gzip.level: Value must be between 1 and 9 or equal to -1");
    bad("compression.lz4.level", "18",
        "Invalid value 18 for configuration compression.lz4.level: Value must be no more than 17");
    ok("compression.zstd.level", "-131072", "-131072");
    bad("compression.zstd.level", "23",
        "Invalid value 23 for configuration compression.zstd.level: Value must be no more than 22");
    ok("min.cleanable.dirty.ratio", ".50", "0.5");
    ok("min.cleanable.dirty.ratio", "1", "1.0");
    ok("min.cleanable.dirty.ratio", "1e-4", "1.0E-4");
    ok("min.cleanable.dirty.ratio", "0.001", "0.001");
    bad("min.cleanable.dirty.ratio", "1.5",
        "Invalid value 1.5 for configuration min.cleanable.dirty.ratio: Value must be no more than 1");
    bad("min.cleanable.dirty.ratio", "-0.1",
        "Invalid value -0.1 for configuration min.cleanable.dirty.ratio: Value must be at least 0");
    bad("min.cleanable.dirty.ratio", "x",
        "Invalid value x for configuration min.cleanable.dirty.ratio: Not a number of type DOUBLE");
}
END_TEST

START_TEST(test_parse_strings_and_lists)
{
    ok("preallocate", " TRUE", "true");
    ok("preallocate", "False", "false");
    bad("preallocate", "yes",
        "Invalid value yes for configuration preallocate: Expected value to be either true or false");
    ok("message.timestamp.type", " LogAppendTime ", "LogAppendTime");
    bad("message.timestamp.type", "logappendtime",
        "Invalid value logappendtime for configuration message.timestamp.type: String must be one of: CreateTime, "
        "LogAppendTime");
    ok("compression.type", "zstd", "zstd");
    bad("compression.type", "none",
        "Invalid value none for configuration compression.type: String must be one of: uncompressed, zstd, lz4, "
        "snappy, gzip, producer");
    ok("cleanup.policy", "compact", "compact");
    ok("cleanup.policy", " compact , delete ", "compact,delete");
    ok("cleanup.policy", "", "");
    bad("cleanup.policy", "compact,",
        "Invalid value  for configuration cleanup.policy: String must be one of: compact, delete");
    bad("cleanup.policy", "compact,remove",
        "Invalid value remove for configuration cleanup.policy: String must be one of: compact, delete");
    ok("leader.replication.throttled.replicas", "*", "*");
    ok("leader.replication.throttled.replicas", "0:1, 1:1", "0:1,1:1");
    ok("follower.replication.throttled.replicas", "", "");
    bad("leader.replication.throttled.replicas", "0:1,x",
        "Invalid value [0:1, x] for configuration leader.replication.throttled.replicas: "
        "leader.replication.throttled.replicas must be the literal '*' or a list of replicas in the following "
        "format: [partitionId]:[brokerId],[partitionId]:[brokerId],...");
}
END_TEST

START_TEST(test_configs_set_and_check)
{
    sk_topic_configs c = {0};
    char msg[256];
    sk_config broker;
    char *argv[] = {"skiff", NULL};
    broker_config(&broker, 1, argv);
    ck_assert_int_eq(sk_topic_configs_set(&c, "retention.ms", " 5000", msg, sizeof msg), SK_ERR_NONE);
    ck_assert_str_eq(c.value[SK_TC_RETENTION_MS], "5000");
    ck_assert_int_eq(sk_topic_configs_set(&c, "retention.mss", "1", msg, sizeof msg), SK_ERR_INVALID_CONFIG);
    ck_assert_str_eq(msg, "Unknown topic config name: retention.mss");
    ck_assert_int_eq(sk_topic_configs_set(&c, "retention.ms", "x", msg, sizeof msg), SK_ERR_INVALID_CONFIG);
    ck_assert_str_eq(c.value[SK_TC_RETENTION_MS], "5000");
    ck_assert_int_eq(sk_topic_configs_check(&c, &broker, msg, sizeof msg), SK_ERR_NONE);

    ck_assert_int_eq(sk_topic_configs_set(&c, "min.compaction.lag.ms", "100", msg, sizeof msg), SK_ERR_NONE);
    ck_assert_int_eq(sk_topic_configs_set(&c, "max.compaction.lag.ms", "10", msg, sizeof msg), SK_ERR_NONE);
    ck_assert_int_eq(sk_topic_configs_check(&c, &broker, msg, sizeof msg), SK_ERR_INVALID_CONFIG);
    ck_assert_str_eq(msg, "conflict topic config setting min.compaction.lag.ms (100) > max.compaction.lag.ms (10)");
    ck_assert_int_eq(sk_topic_configs_set(&c, "max.compaction.lag.ms", NULL, msg, sizeof msg), SK_ERR_NONE);
    ck_assert_ptr_null(c.value[SK_TC_MAX_COMPACTION_LAG_MS]);
    ck_assert_int_eq(sk_topic_configs_check(&c, &broker, msg, sizeof msg), SK_ERR_NONE);

    ck_assert_int_eq(sk_topic_configs_set(&c, "remote.storage.enable", "true", msg, sizeof msg), SK_ERR_NONE);
    ck_assert_int_eq(sk_topic_configs_check(&c, &broker, msg, sizeof msg), SK_ERR_INVALID_CONFIG);
    ck_assert_str_eq(msg, "Tiered Storage functionality is disabled in the broker. Topic cannot be configured "
                          "with remote log storage.");

    sk_topic_configs d = {0};
    ck_assert_int_eq(sk_topic_configs_copy(&d, &c), 0);
    ck_assert_str_eq(d.value[SK_TC_RETENTION_MS], "5000");
    ck_assert_ptr_ne(d.value[SK_TC_RETENTION_MS], c.value[SK_TC_RETENTION_MS]);
    sk_topic_configs_free(&c);
    ck_assert_ptr_null(c.value[SK_TC_RETENTION_MS]);
    sk_topic_configs_free(&d);
    sk_config_free(&broker);
}
END_TEST

START_TEST(test_values_sources_synonyms)
{
    sk_config broker;
    char *argv[] = {"skiff", "--log.retention.ms", "1000", NULL};
    broker_config(&broker, 3, argv);
    sk_topic_configs c = {0};
    char scratch[64], msg[128];
    sk_config_source src;
    sk_config_synonym syn[SK_CONFIG_SYNONYMS_MAX];

    /* Kafka's default; its fallback synonym (log.roll.hours) is listed only
     * beside a broker value (Kafka 4.4). */
    ck_assert_str_eq(sk_topic_config_value(&c, &broker, SK_TC_SEGMENT_MS, scratch, sizeof scratch, &src), "604800000");
    ck_assert_int_eq(src, SK_CONFIG_SOURCE_DEFAULT_CONFIG);
    ck_assert_int_eq(sk_topic_config_synonyms(&c, &broker, SK_TC_SEGMENT_MS, scratch, sizeof scratch, syn), 0);
    ck_assert_int_eq(sk_topic_config_synonyms(&c, &broker, SK_TC_SEGMENT_BYTES, scratch, sizeof scratch, syn), 1);
    ck_assert_str_eq(syn[0].name, "log.segment.bytes");
    ck_assert_int_eq(syn[0].source, SK_CONFIG_SOURCE_DEFAULT_CONFIG);

    /* A broker key that was set. */
    ck_assert_str_eq(sk_topic_config_value(&c, &broker, SK_TC_RETENTION_MS, scratch, sizeof scratch, &src), "1000");
    ck_assert_int_eq(src, SK_CONFIG_SOURCE_STATIC_BROKER_CONFIG);
    ck_assert_int_eq(sk_topic_config_synonyms(&c, &broker, SK_TC_RETENTION_MS, scratch, sizeof scratch, syn), 2);
    ck_assert_str_eq(syn[0].name, "log.retention.ms");
    ck_assert_str_eq(syn[0].value, "1000");
    ck_assert_int_eq(syn[0].source, SK_CONFIG_SOURCE_STATIC_BROKER_CONFIG);
    ck_assert_str_eq(syn[1].name, "log.retention.hours");
    ck_assert_int_eq(syn[1].source, SK_CONFIG_SOURCE_DEFAULT_CONFIG);

    /* A topic override comes first. */
    ck_assert_int_eq(sk_topic_configs_set(&c, "retention.ms", "20", msg, sizeof msg), SK_ERR_NONE);
    ck_assert_str_eq(sk_topic_config_value(&c, &broker, SK_TC_RETENTION_MS, scratch, sizeof scratch, &src), "20");
    ck_assert_int_eq(src, SK_CONFIG_SOURCE_DYNAMIC_TOPIC_CONFIG);
    ck_assert_int_eq(sk_topic_config_synonyms(&c, &broker, SK_TC_RETENTION_MS, scratch, sizeof scratch, syn), 3);
    ck_assert_str_eq(syn[0].name, "retention.ms");
    ck_assert_str_eq(syn[0].value, "20");
    ck_assert_int_eq(syn[0].source, SK_CONFIG_SOURCE_DYNAMIC_TOPIC_CONFIG);
    ck_assert_str_eq(syn[1].name, "log.retention.ms");

    /* No synonym at all. */
    ck_assert_int_eq(sk_topic_config_synonyms(&c, &broker, SK_TC_REMOTE_STORAGE_ENABLE, scratch, sizeof scratch, syn),
                     0);
    ck_assert(sk_config_key_is_set(&broker, "log.retention.ms", scratch, sizeof scratch));
    ck_assert(!sk_config_key_is_set(&broker, "log.segment.bytes", scratch, sizeof scratch));
    ck_assert(!sk_config_key_is_set(&broker, "no.such.key", scratch, sizeof scratch));
    sk_topic_configs_free(&c);
    sk_config_free(&broker);
}
END_TEST

START_TEST(test_log_config_and_compression)
{
    sk_config broker;
    char *argv[] = {"skiff", "--log.segment.bytes", "4096", NULL};
    broker_config(&broker, 3, argv);
    sk_topic_configs c = {0};
    char msg[128];
    sk_log_config lc;
    sk_topic_log_config(NULL, &broker, &lc);
    ck_assert_int_eq(lc.segment_bytes, 4096);
    ck_assert_int_eq(lc.retention_ms, 604800000);
    ck_assert(!lc.compact);

    ck_assert_int_eq(sk_topic_configs_set(&c, "segment.bytes", "2097152", msg, sizeof msg), SK_ERR_NONE);
    ck_assert_int_eq(sk_topic_configs_set(&c, "retention.bytes", "1000000", msg, sizeof msg), SK_ERR_NONE);
    ck_assert_int_eq(sk_topic_configs_set(&c, "max.message.bytes", "512", msg, sizeof msg), SK_ERR_NONE);
    /* Kafka's ValidString.in and TimestampType.forName are case-sensitive. */
    ck_assert_int_eq(sk_topic_configs_set(&c, "message.timestamp.type", "logappendtime", msg, sizeof msg),
                     SK_ERR_INVALID_CONFIG);
    ck_assert_int_eq(sk_timestamp_type_from_name("LogAppendTime"), SK_TIMESTAMP_LOG_APPEND_TIME);
    ck_assert_int_eq(sk_timestamp_type_from_name("logappendtime"), SK_TIMESTAMP_CREATE_TIME);
    ck_assert_int_eq(sk_timestamp_type_from_name("CreateTime"), SK_TIMESTAMP_CREATE_TIME);
    ck_assert_int_eq(sk_timestamp_type_from_name(NULL), SK_TIMESTAMP_CREATE_TIME);
    ck_assert_int_eq(sk_topic_configs_set(&c, "message.timestamp.type", "LogAppendTime", msg, sizeof msg), SK_ERR_NONE);
    ck_assert_int_eq(sk_topic_configs_set(&c, "flush.messages", "1", msg, sizeof msg), SK_ERR_NONE);
    ck_assert_int_eq(sk_topic_configs_set(&c, "segment.index.bytes", "1024", msg, sizeof msg), SK_ERR_NONE);
    sk_topic_log_config(&c, &broker, &lc);
    ck_assert_int_eq(lc.segment_bytes, 2097152);
    ck_assert_int_eq(lc.retention_bytes, 1000000);
    ck_assert_int_eq(lc.max_message_bytes, 512);
    ck_assert_int_eq(lc.timestamp_type, SK_TIMESTAMP_LOG_APPEND_TIME);
    ck_assert_int_eq(lc.flush_messages, 1);
    ck_assert_int_eq(lc.max_index_size_bytes, 1024);

    ck_assert_int_eq(sk_topic_configs_set(&c, "cleanup.policy", "compact", msg, sizeof msg), SK_ERR_NONE);
    sk_topic_log_config(&c, &broker, &lc);
    ck_assert(lc.compact);
    ck_assert_int_eq(lc.retention_ms, -1);
    ck_assert_int_eq(lc.retention_bytes, -1);
    ck_assert_int_eq(sk_topic_configs_set(&c, "cleanup.policy", "delete,compact", msg, sizeof msg), SK_ERR_NONE);
    sk_topic_log_config(&c, &broker, &lc);
    ck_assert(lc.compact);
    ck_assert_int_eq(lc.retention_bytes, 1000000);

    int32_t level;
    ck_assert_int_eq(sk_topic_config_compression(NULL, &level), SK_COMPRESSION_PRODUCER);
    ck_assert_int_eq(level, SK_COMPRESSION_LEVEL_DEFAULT);
    ck_assert_int_eq(sk_topic_configs_set(&c, "compression.type", "gzip", msg, sizeof msg), SK_ERR_NONE);
    ck_assert_int_eq(sk_topic_config_compression(&c, &level), SK_COMPRESSION_GZIP);
    ck_assert_int_eq(level, SK_COMPRESSION_LEVEL_DEFAULT);
    ck_assert_int_eq(sk_topic_configs_set(&c, "compression.gzip.level", "3", msg, sizeof msg), SK_ERR_NONE);
    ck_assert_int_eq(sk_topic_config_compression(&c, &level), SK_COMPRESSION_GZIP);
    ck_assert_int_eq(level, 3);
    ck_assert_int_eq(sk_topic_configs_set(&c, "compression.type", "uncompressed", msg, sizeof msg), SK_ERR_NONE);
    ck_assert_int_eq(sk_topic_config_compression(&c, &level), SK_COMPRESSION_NONE);
    ck_assert_int_eq(level, SK_COMPRESSION_LEVEL_DEFAULT);
    sk_topic_configs_free(&c);
    sk_config_free(&broker);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("topic_config");
    TCase *tc = tcase_create("topic_config");
    tcase_add_test(tc, test_table);
    tcase_add_test(tc, test_parse_numbers);
    tcase_add_test(tc, test_parse_strings_and_lists);
    tcase_add_test(tc, test_configs_set_and_check);
    tcase_add_test(tc, test_values_sources_synonyms);
    tcase_add_test(tc, test_log_config_and_compression);
    suite_add_tcase(s, tc);
    return sk_unit_run(s);
}
