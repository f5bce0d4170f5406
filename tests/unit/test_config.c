/*
 * Unit tests for the configuration loader (src/config): defaults, the
 * precedence file < environment < flags, both flag forms, comments in the
 * JSON file, unknown keys, every class of bad value, --help/--version, the
 * listeners parser, and that config.example.json and docs/configuration.md
 * match the key table; Kafka's conventions: KAFKA_* variables, properties
 * files (Kafka 4.x's own server.properties), ignored KRaft keys, listener
 * names and controller listeners.
 */
#include <check.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "skiff/config.h"
#include "skiff/trace.h"
#include "unit_run.h"

#define ARGC(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* A temporary file holding `text`; its path goes into `path` (>= 64 bytes). */
static void write_temp(const char *text, char *path)
{
    strcpy(path, "/tmp/skiff-test-config-XXXXXX");
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    size_t len = strlen(text);
    ck_assert_int_eq(write(fd, text, len), (ssize_t)len);
    close(fd);
}

/* The source tree's root, from SKIFF_TEST_DATA (<root>/tests/data). */
static void source_path(const char *rel, char *out, size_t len)
{
    const char *data = SKIFF_TEST_DATA;
    const char *tail = strstr(data, "/tests/data");
    ck_assert_ptr_nonnull(tail);
    snprintf(out, len, "%.*s/%s", (int)(tail - data), data, rel);
}

/* Whole file as a heap string. */
static char *slurp(const char *path)
{
    FILE *fp = fopen(path, "rb");
    ck_assert_msg(fp != NULL, "cannot open %s", path);
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *text = malloc((size_t)n + 1);
    ck_assert_int_eq(fread(text, 1, (size_t)n, fp), (size_t)n);
    text[n] = '\0';
    fclose(fp);
    return text;
}

static sk_config_status load(sk_config *c, int argc, char **argv, char **envp)
{
    return sk_config_load(c, argc, argv, envp);
}

/* Loads with file descriptor `fd` (stdout or stderr) sent to a temporary
 * file; returns what was written there. */
static char *load_captured(int fd, sk_config *c, int argc, char **argv, char **envp, sk_config_status *status)
{
    char path[64];
    write_temp("", path);
    int saved = dup(fd);
    FILE *fp = fopen(path, "w");
    ck_assert_ptr_nonnull(fp);
    fflush(stdout);
    fflush(stderr);
    dup2(fileno(fp), fd);
    *status = load(c, argc, argv, envp);
    fflush(stdout);
    fflush(stderr);
    dup2(saved, fd);
    close(saved);
    fclose(fp);
    char *text = slurp(path);
    unlink(path);
    return text;
}

static void reset_log_level(void)
{
    sk_trace_threshold = SK_TRACE_INFO;
}

START_TEST(test_defaults)
{
    char *argv[] = {"skiff"};
    sk_config c;
    ck_assert_int_eq(load(&c, ARGC(argv), argv, NULL), SK_CONFIG_OK);
    ck_assert_str_eq(c.listeners, "PLAINTEXT://localhost:9092");
    ck_assert_str_eq(c.advertised_listeners, "");
    ck_assert_int_eq(c.socket_request_max_bytes, 104857600);
    ck_assert_int_eq(c.connection_output_max_bytes, 16777216);
    ck_assert_int_eq(c.node_id, 1);
    ck_assert_str_eq(c.log_dirs, "./data");
    ck_assert_str_eq(c.log_level, "info");
    ck_assert_int_eq(c.num_partitions, 1);
    ck_assert_int_eq(c.default_replication_factor, 1);
    ck_assert(c.auto_create_topics_enable);
    ck_assert_int_eq(c.message_max_bytes, 1048588);
    ck_assert_int_eq(c.log_segment_bytes, 1073741824);
    ck_assert_int_eq(c.log_roll_ms, 604800000);
    ck_assert_int_eq(c.log_retention_ms, 604800000);
    ck_assert_int_eq(c.log_retention_bytes, -1);
    ck_assert_int_eq(c.log_retention_check_interval_ms, 300000);
    ck_assert_int_eq(c.log_flush_interval_messages, INT64_MAX);
    ck_assert_int_eq(c.log_flush_interval_ms, -1);
    ck_assert_int_eq(c.log_index_interval_bytes, 4096);
    ck_assert_int_eq(c.log_index_size_max_bytes, 10485760);
    ck_assert_int_eq(c.file_delete_delay_ms, 60000);
    ck_assert_str_eq(c.log_message_timestamp_type, "CreateTime");
    ck_assert_int_eq(c.log_message_timestamp_before_max_ms, INT64_MAX);
    ck_assert_int_eq(c.log_message_timestamp_after_max_ms, 3600000);
    ck_assert_int_eq(c.group_initial_rebalance_delay_ms, 0);
    ck_assert_int_eq(c.group_min_session_timeout_ms, 6000);
    ck_assert_int_eq(c.group_max_session_timeout_ms, 1800000);
    ck_assert_int_eq(c.group_max_size, INT32_MAX);
    ck_assert_int_eq(c.offsets_topic_num_partitions, 1);
    ck_assert_int_eq(c.offsets_retention_minutes, 10080);
    ck_assert_int_eq(c.transaction_max_timeout_ms, 900000);
    ck_assert_int_eq(c.transactional_id_expiration_ms, 604800000);
    ck_assert_int_eq(c.transaction_state_log_num_partitions, 1);
    ck_assert_int_eq(c.shutdown_timeout_ms, 5000);
    ck_assert_int_eq(c.warnings, 0);
    ck_assert_int_eq(sk_trace_threshold, SK_TRACE_INFO);
    sk_config_free(&c);
    ck_assert_ptr_null(c.listeners);
}
END_TEST

START_TEST(test_key_table_accessors)
{
    char *argv[] = {"skiff"};
    sk_config c;
    char buf[128];
    ck_assert_int_eq(load(&c, ARGC(argv), argv, NULL), SK_CONFIG_OK);
    ck_assert_str_eq(sk_config_key_name(0), "listeners");
    ck_assert_str_eq(sk_config_key_default(0), "PLAINTEXT://localhost:9092");
    ck_assert_ptr_null(sk_config_key_name(-1));
    ck_assert_int_eq(sk_config_format_value(&c, "log.flush.interval.messages", buf, sizeof buf), 19);
    ck_assert_str_eq(buf, "9223372036854775807");
    ck_assert_int_eq(sk_config_format_value(&c, "auto.create.topics.enable", buf, sizeof buf), 4);
    ck_assert_str_eq(buf, "true");
    ck_assert_int_eq(sk_config_format_value(&c, "no.such.key", buf, sizeof buf), -1);
    int n = 0;
    while (sk_config_key_name(n)) {
        /* Every default is the value a default load holds. */
        ck_assert_int_ge(sk_config_format_value(&c, sk_config_key_name(n), buf, sizeof buf), 0);
        ck_assert_str_eq(buf, sk_config_key_default(n));
        n++;
    }
    ck_assert_int_eq(n, 62);
    ck_assert_ptr_null(sk_config_key_default(n));
    sk_config_free(&c);
}
END_TEST

START_TEST(test_file_overrides_defaults)
{
    char path[64];
    write_temp("{\n"
               "  // line comment\n"
               "  \"num.partitions\": 3,\n"
               "  /* block\n     comment */\n"
               "  \"listeners\": \"PLAINTEXT://127.0.0.1:0\", // a // inside a string stays\n"
               "  \"auto.create.topics.enable\": false,\n"
               "  \"log.segment.bytes\": \"2048\",\n"
               "  \"log.retention.bytes\": -1,\n"
               "  \"log.flush.interval.messages\": \"9223372036854775807\",\n"
               "  \"socket.request.max.bytes\": 1.0e3,\n"
               "  \"log.message.timestamp.type\": \"logappendtime\",\n"
               "  \"group.consumer.migration.policy\": \"UPGRADE\",\n"
               "  \"default.replication.factor\": \"1\",\n"
               "  \"log.level\": \"ERROR\",\n"
               "  \"log.dirs\": \"/tmp/from-file\"\n"
               "}\n",
               path);
    char *argv[] = {"skiff", "--config", path};
    sk_config c;
    ck_assert_int_eq(load(&c, ARGC(argv), argv, NULL), SK_CONFIG_OK);
    ck_assert_int_eq(c.num_partitions, 3);
    ck_assert_str_eq(c.listeners, "PLAINTEXT://127.0.0.1:0");
    ck_assert(!c.auto_create_topics_enable);
    ck_assert_int_eq(c.log_segment_bytes, 2048);
    ck_assert_int_eq(c.log_retention_bytes, -1);
    ck_assert_int_eq(c.log_flush_interval_messages, INT64_MAX);
    ck_assert_int_eq(c.socket_request_max_bytes, 1000);
    ck_assert_str_eq(c.log_message_timestamp_type, "LogAppendTime");
    ck_assert_str_eq(c.group_consumer_migration_policy, "upgrade");
    ck_assert_str_eq(c.log_level, "error");
    ck_assert_int_eq(sk_trace_threshold, SK_TRACE_ERROR);
    ck_assert_str_eq(c.log_dirs, "/tmp/from-file");
    ck_assert_int_eq(c.node_id, 1);
    ck_assert_int_eq(c.warnings, 0);
    sk_config_free(&c);
    unlink(path);
}
END_TEST

START_TEST(test_precedence)
{
    char path[64];
    write_temp("{\"num.partitions\": 3, \"node.id\": 3, \"log.dirs\": \"/f\", \"log.roll.ms\": 3}", path);
    char *envp[] = {"PATH=/usr/bin",
                    "SKIFF_NUM_PARTITIONS=4",
                    "SKIFF_NODE_ID=4",
                    "SKIFF_ADVERTISED_LISTENERS=PLAINTEXT://example.com:19092",
                    "SKIFF_LOG_MESSAGE_TIMESTAMP_TYPE=LogAppendTime",
                    NULL};
    char *argv_env[] = {"skiff", "-c", path};
    char *argv_flags[] = {"skiff", "--config=", "--node.id=5", "--log.dirs", "/flag", "-c", path};
    sk_config c;

    /* File over defaults, environment over file. */
    ck_assert_int_eq(load(&c, ARGC(argv_env), argv_env, envp), SK_CONFIG_OK);
    ck_assert_int_eq(c.num_partitions, 4);
    ck_assert_int_eq(c.node_id, 4);
    ck_assert_str_eq(c.log_dirs, "/f");
    ck_assert_int_eq(c.log_roll_ms, 3);
    ck_assert_str_eq(c.advertised_listeners, "PLAINTEXT://example.com:19092");
    ck_assert_str_eq(c.log_message_timestamp_type, "LogAppendTime");
    sk_config_free(&c);

    /* Flags over environment ("--config=" with no name is an error). */
    ck_assert_int_eq(load(&c, ARGC(argv_flags), argv_flags, envp), SK_CONFIG_ERROR);
    argv_flags[1] = "--log.retention.bytes=7";
    ck_assert_int_eq(load(&c, ARGC(argv_flags), argv_flags, envp), SK_CONFIG_OK);
    ck_assert_int_eq(c.num_partitions, 4);
    ck_assert_int_eq(c.node_id, 5);
    ck_assert_str_eq(c.log_dirs, "/flag");
    ck_assert_int_eq(c.log_retention_bytes, 7);
    ck_assert_int_eq(c.log_roll_ms, 3);
    ck_assert_int_eq(c.warnings, 0);
    sk_config_free(&c);
    unlink(path);
}
END_TEST

START_TEST(test_flag_forms)
{
    char *argv[] = {"skiff",
                    "--node.id=7",
                    "--num.partitions",
                    "8",
                    "--log.retention.bytes",
                    "-1",
                    "--listeners",
                    "PLAINTEXT://[::1]:0",
                    "--advertised.listeners=",
                    "--auto.create.topics.enable=FALSE",
                    "--log.level",
                    "debug",
                    "--log.dirs=a=b"};
    sk_config c;
    ck_assert_int_eq(load(&c, ARGC(argv), argv, NULL), SK_CONFIG_OK);
    ck_assert_int_eq(c.node_id, 7);
    ck_assert_int_eq(c.num_partitions, 8);
    ck_assert_int_eq(c.log_retention_bytes, -1);
    ck_assert_str_eq(c.listeners, "PLAINTEXT://[::1]:0");
    ck_assert_str_eq(c.advertised_listeners, "");
    ck_assert(!c.auto_create_topics_enable);
    ck_assert_str_eq(c.log_dirs, "a=b");
    ck_assert_int_eq(sk_trace_threshold, SK_TRACE_DEBUG);
    sk_config_free(&c);
}
END_TEST

START_TEST(test_unknown_keys_warn)
{
    char path[64];
    write_temp("{\"num.partitions\": 2, \"no.such.key\": 1, \"zookeeper.connect\": \"x\"}", path);
    char *envp[] = {"SKIFF_NO_SUCH=1", "SKIFF_NUM_PARTITIONS=6", "SKIFFY=1", NULL};
    char *argv[] = {"skiff", "--bogus",  "value", "--also.bogus=1", "--node.id",
                    "9",     "--config", path,    "--bare.unknown"};
    sk_config c;
    sk_config_status st;
    char *logged = load_captured(STDERR_FILENO, &c, ARGC(argv), argv, envp, &st);
    ck_assert_int_eq(st, SK_CONFIG_OK);
    ck_assert_int_eq(c.warnings, 5);
    ck_assert_str_eq(c.ignored, "zookeeper.connect (ZooKeeper)");
    ck_assert_int_eq(c.num_partitions, 6);
    ck_assert_int_eq(c.node_id, 9);
    static const char *const warnings[] = {
        "unknown flag \"--bogus\" in the command line ignored",
        "unknown flag \"--also.bogus\" in the command line ignored",
        "unknown flag \"--bare.unknown\" in the command line ignored",
        "unknown key \"no.such.key\" in config file ",
        "Kafka keys accepted and ignored (they mean nothing to one skiff node): "
        "zookeeper.connect (ZooKeeper)\n",
        "unknown variable \"SKIFF_NO_SUCH\" in the environment ignored",
    };
    for (size_t i = 0; i < sizeof warnings / sizeof warnings[0]; i++)
        ck_assert_msg(strstr(logged, warnings[i]) != NULL, "no warning %s", warnings[i]);
    ck_assert_ptr_null(strstr(logged, "SKIFFY"));
    free(logged);
    sk_config_free(&c);

    /* Only the first of several log.dirs is used: a warning, not an error. */
    char *argv_dirs[] = {"skiff", "--log.dirs", "/a,/b"};
    logged = load_captured(STDERR_FILENO, &c, ARGC(argv_dirs), argv_dirs, NULL, &st);
    ck_assert_int_eq(st, SK_CONFIG_OK);
    ck_assert_int_eq(c.warnings, 1);
    ck_assert_str_eq(c.log_dirs, "/a,/b");
    ck_assert_ptr_nonnull(strstr(logged, "log.dirs lists several directories; skiff uses only "
                                         "the first, \"/a\""));
    free(logged);
    sk_config_free(&c);
}
END_TEST

/* Loading must fail with SK_CONFIG_ERROR, log `message`, and leave `c` empty. */
static void expect_error(int argc, char **argv, char **envp, const char *message)
{
    sk_config c;
    sk_config_status st;
    char *logged = load_captured(STDERR_FILENO, &c, argc, argv, envp, &st);
    ck_assert_int_eq(st, SK_CONFIG_ERROR);
    ck_assert_msg(strstr(logged, message) != NULL, "expected \"%s\" in \"%s\"", message, logged);
    free(logged);
    ck_assert_ptr_null(c.listeners);
    ck_assert_ptr_null(c.log_dirs);
    ck_assert_int_eq(c.num_partitions, 0);
}

START_TEST(test_bad_flag_values)
{
    static const char *const bad[][3] = {
        /* flag, value, reason */
        {"--num.partitions", "abc", "not an integer"},
        {"--num.partitions", "12x", "not an integer"},
        {"--num.partitions", " 12", "not an integer"},
        {"--num.partitions", "", "not an integer"},
        {"--num.partitions", "0", "must be from 1 to 2147483647"},
        {"--num.partitions", "2147483648", "must be from 1 to 2147483647"},
        {"--log.segment.bytes", "13", "must be from 14 to 2147483647"},
        {"--log.retention.ms", "-2", "must be from -1 to 9223372036854775807"},
        {"--log.flush.interval.messages", "9223372036854775808", "must be from 1 to 9223372036854775807"},
        {"--default.replication.factor", "17", "must be from 1 to 16"},
        {"--auto.create.topics.enable", "yes", "must be true or false"},
        {"--log.message.timestamp.type", "AppendTime", "must be one of CreateTime, LogAppendTime"},
        {"--log.level", "verbose", "must be one of debug, info, warn, error"},
        {"--group.consumer.migration.policy", "both", "must be one of disabled, upgrade, downgrade, bidirectional"},
        {"--log.dirs", "", "must not be empty"},
        {"--listeners", "", "needs at least one NAME://host:port"},
        {"--listeners", "localhost:9092", "expected NAME://host:port"},
        {"--advertised.listeners", "PLAINTEXT://:9092",
         "an advertised host must be an address clients can reach, not empty or a wildcard"},
        {"--advertised.listeners", "PLAINTEXT://0.0.0.0:9092",
         "an advertised host must be an address clients can reach, not empty or a wildcard"},
        {"--advertised.listeners", "PLAINTEXT://[::]:9092",
         "an advertised host must be an address clients can reach, not empty or a wildcard"},
        {"--advertised.listeners", "PLAINTEXT://h:0", "an advertised port cannot be 0"},
        {"--log.cleaner.min.cleanable.ratio", "1.5", "must be a number from 0 to 1"},
        {"--log.cleaner.min.cleanable.ratio", "half", "must be a number from 0 to 1"},
        {"--log.cleaner.io.max.bytes.per.second", "0", "must be a number above 0"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *argv[] = {"skiff", (char *)bad[i][0], (char *)bad[i][1]};
        char message[256];
        snprintf(message, sizeof message, "%s: bad value \"%s\" from flag %s: %s", bad[i][0] + 2, bad[i][1], bad[i][0],
                 bad[i][2]);
        expect_error(ARGC(argv), argv, NULL, message);
    }
    char *argv[] = {"skiff", "--group.min.session.timeout.ms", "1800001"};
    expect_error(ARGC(argv), argv, NULL,
                 "group.min.session.timeout.ms (1800001) must not exceed "
                 "group.max.session.timeout.ms (1800000)");
    /* KIP-848's bounds (GroupCoordinatorConfig's checks). */
    char *below[] = {"skiff", "--group.consumer.min.session.timeout.ms", "20000"};
    expect_error(ARGC(below), below, NULL,
                 "group.consumer.session.timeout.ms (10000) must be within group.consumer.min.session.timeout.ms "
                 "(20000) and group.consumer.max.session.timeout.ms (60000): below its min");
    char *above[] = {"skiff", "--group.consumer.max.heartbeat.interval.ms", "400"};
    expect_error(ARGC(above), above, NULL,
                 "group.consumer.heartbeat.interval.ms (500) must be within group.consumer.min.heartbeat.interval.ms "
                 "(100) and group.consumer.max.heartbeat.interval.ms (400): above its max");
    char *crossed[] = {"skiff", "--group.consumer.heartbeat.interval.ms", "10000"};
    expect_error(ARGC(crossed), crossed, NULL,
                 "group.consumer.heartbeat.interval.ms (10000) must be less than group.consumer.session.timeout.ms "
                 "(10000)");
}
END_TEST

START_TEST(test_bad_arguments)
{
    char *stray[] = {"skiff", "stray"};
    char *single_dash[] = {"skiff", "-x"};
    char *double_dash[] = {"skiff", "--"};
    char *no_value_end[] = {"skiff", "--node.id"};
    char *no_value_flag[] = {"skiff", "--node.id", "--num.partitions=2"};
    char *no_config[] = {"skiff", "--config"};
    char *no_config_c[] = {"skiff", "-c", "--node.id=1"};
    char *missing_file[] = {"skiff", "-c", "/nonexistent/skiff.json"};
    expect_error(ARGC(stray), stray, NULL, "unexpected argument \"stray\"");
    expect_error(ARGC(single_dash), single_dash, NULL, "unexpected argument \"-x\"");
    expect_error(ARGC(double_dash), double_dash, NULL, "unexpected argument \"--\"");
    expect_error(ARGC(no_value_end), no_value_end, NULL, "node.id: flag --node.id needs a value");
    expect_error(ARGC(no_value_flag), no_value_flag, NULL, "node.id: flag --node.id needs a value");
    expect_error(ARGC(no_config), no_config, NULL, "--config needs a file name");
    expect_error(ARGC(no_config_c), no_config_c, NULL, "-c needs a file name");
    expect_error(ARGC(missing_file), missing_file, NULL,
                 "cannot open config file /nonexistent/skiff.json: No such file or directory");

    char *env_bad[] = {"SKIFF_NODE_ID=-1", NULL};
    char *env_range[] = {"SKIFF_LOG_INDEX_SIZE_MAX_BYTES=3", NULL};
    char *argv[] = {"skiff"};
    expect_error(ARGC(argv), argv, env_bad,
                 "node.id: bad value \"-1\" from environment SKIFF_NODE_ID: "
                 "must be from 0 to 2147483647");
    expect_error(ARGC(argv), argv, env_range,
                 "log.index.size.max.bytes: bad value \"3\" from environment "
                 "SKIFF_LOG_INDEX_SIZE_MAX_BYTES: must be from 4 to 2147483647");
}
END_TEST

START_TEST(test_bad_files)
{
    static const char *const bad[][2] = {
        /* file, message after "<key>: bad value " or "config file <path>: " */
        {"{", "invalid JSON: unexpected end of file"},
        {"{\"num.partitions\": 3", "invalid JSON: unexpected end of file"},
        {"{\"num.partitions\": 3} x", "invalid JSON near \"x\""},
        {"[1, 2]", "expected a JSON object of key: value pairs"},
        {"{\"num.partitions\": \"three\"}", "\"three\" from config file"},
        {"{\"num.partitions\": 1.5}", "1.5 from config file"},
        {"{\"log.flush.interval.messages\": 9223372036854775807}",
         "not an integer a JSON number holds exactly (up to 2^53)"},
        {"{\"num.partitions\": true}", "expected an integer or a string of digits"},
        {"{\"log.dirs\": 5}", "log.dirs: bad value 5 from config file"},
        {"{\"auto.create.topics.enable\": 1}", "expected true, false or a string"},
        {"{\"auto.create.topics.enable\": null}", "bad value null from"},
        {"{\"log.dirs\": [\"/a\"]}", "log.dirs: bad value [\"/a\"] from"},
        {"{\"log.message.timestamp.type\": \"Now\"}", "must be one of CreateTime, LogAppendTime"},
        {"{\"listeners\": \"PLAINTEXT://h:70000\"}", "port must be a number from 0 to 65535"},
        {"{\"group.max.size\": 0}", "group.max.size: bad value \"0\" from config file"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char path[64];
        write_temp(bad[i][0], path);
        char *argv[] = {"skiff", "--config", path};
        expect_error(ARGC(argv), argv, NULL, bad[i][1]);
        unlink(path);
    }
}
END_TEST

START_TEST(test_help_and_version)
{
    char *help[] = {"skiff", "--help"};
    char *help_short[] = {"skiff", "--node.id=2", "-h"};
    char *version[] = {"skiff", "--version"};
    char *version_short[] = {"skiff", "-V"};
    sk_config c;
    sk_config_status st;

    char *out = load_captured(STDOUT_FILENO, &c, ARGC(help), help, NULL, &st);
    ck_assert_int_eq(st, SK_CONFIG_EXIT);
    ck_assert_ptr_null(c.listeners);
    ck_assert_ptr_eq(strstr(out, "usage: skiff "), out);
    ck_assert_ptr_nonnull(strstr(out, "\n  --log.dirs STRING  [SKIFF_LOG_DIRS]\n"
                                      "      Data directory; of a comma-separated list only the "
                                      "first is used\n"
                                      "      default: \"./data\" (Kafka: /tmp/kafka-logs, "
                                      "via log.dir)\n"));
    ck_assert_ptr_nonnull(strstr(out, "\n  --log.level debug|info|warn|error  [SKIFF_LOG_LEVEL]\n"));
    ck_assert_ptr_nonnull(strstr(out, "\n  --default.replication.factor INT 1..16  "
                                      "[SKIFF_DEFAULT_REPLICATION_FACTOR]\n"));
    for (int i = 0; sk_config_key_name(i); i++) {
        char flag[128];
        snprintf(flag, sizeof flag, "\n  --%s ", sk_config_key_name(i));
        ck_assert_msg(strstr(out, flag) != NULL, "--help lacks %s", flag + 1);
    }
    free(out);

    out = load_captured(STDOUT_FILENO, &c, ARGC(help_short), help_short, NULL, &st);
    ck_assert_int_eq(st, SK_CONFIG_EXIT);
    ck_assert_ptr_eq(strstr(out, "usage: skiff "), out);
    free(out);

    out = load_captured(STDOUT_FILENO, &c, ARGC(version), version, NULL, &st);
    ck_assert_int_eq(st, SK_CONFIG_EXIT);
    ck_assert_str_eq(out, "skiff " SKIFF_VERSION "\n");
    free(out);

    out = load_captured(STDOUT_FILENO, &c, ARGC(version_short), version_short, NULL, &st);
    ck_assert_int_eq(st, SK_CONFIG_EXIT);
    ck_assert_str_eq(out, "skiff " SKIFF_VERSION "\n");
    free(out);
    sk_config_free(&c);
}
END_TEST

static void expect_listener(const sk_listener_addr *a, const char *name, const char *host, int port)
{
    ck_assert_str_eq(a->name, name);
    ck_assert_str_eq(a->host, host);
    ck_assert_int_eq(a->port, port);
}

START_TEST(test_listeners_valid)
{
    sk_listener_addr out[2];
    const char *why = "untouched";
    ck_assert_int_eq(sk_listeners_parse("PLAINTEXT://localhost:9092", out, 2, &why), 1);
    expect_listener(&out[0], "PLAINTEXT", "localhost", 9092);
    ck_assert_int_eq(sk_listeners_parse("plaintext://[::1]:0", out, 2, &why), 1);
    expect_listener(&out[0], "PLAINTEXT", "::1", 0);
    ck_assert_int_eq(sk_listeners_parse("PLAINTEXT://:9092", out, 2, &why), 1);
    expect_listener(&out[0], "PLAINTEXT", "", 9092);
    ck_assert_int_eq(sk_listeners_parse(" PLAINTEXT://10.0.0.1:65535 ", out, 2, &why), 1);
    expect_listener(&out[0], "PLAINTEXT", "10.0.0.1", 65535);
    ck_assert_int_eq(sk_listeners_parse("PLAINTEXT://[2001:db8::5]:19092", out, 2, &why), 1);
    expect_listener(&out[0], "PLAINTEXT", "2001:db8::5", 19092);
    ck_assert_int_eq(sk_listeners_parse("PLAINTEXT://broker-1.example_net:1", out, 2, &why), 1);
    expect_listener(&out[0], "PLAINTEXT", "broker-1.example_net", 1);
    /* Any name: Testcontainers' TC-0, apache/kafka's PLAINTEXT_HOST, SSL. */
    ck_assert_int_eq(sk_listeners_parse("tc-0://h:1,PLAINTEXT_HOST://:2", out, 2, &why), 2);
    expect_listener(&out[0], "TC-0", "h", 1);
    expect_listener(&out[1], "PLAINTEXT_HOST", "", 2);
    ck_assert_int_eq(sk_listeners_parse("SSL://h:1", out, 2, &why), 1);
    expect_listener(&out[0], "SSL", "h", 1);
    ck_assert_int_eq(sk_listeners_parse("", out, 2, &why), 0);
    ck_assert_int_eq(sk_listeners_parse("   ", out, 2, &why), 0);
    /* Counting only, like snprintf with a zero size. */
    ck_assert_int_eq(sk_listeners_parse("PLAINTEXT://h:1", NULL, 0, NULL), 1);
    ck_assert_str_eq(why, "untouched");
}
END_TEST

START_TEST(test_listeners_invalid)
{
    static const char *const bad[][2] = {
        {"localhost:9092", "expected NAME://host:port"},
        {"://h:1", "missing listener name before ://"},
        {"PLAIN TEXT://h:1", "bad character in listener name"},
        {"AVERYLONGLISTENERNAME://h:1", "listener name too long"},
        {"TC+0://h:1", "bad character in listener name"},
        {"PLAINTEXT://localhost", "missing ':port'"},
        {"PLAINTEXT://h:", "port must be a number from 0 to 65535"},
        {"PLAINTEXT://h:65536", "port must be a number from 0 to 65535"},
        {"PLAINTEXT://h:-1", "port must be a number from 0 to 65535"},
        {"PLAINTEXT://h:123456", "port must be a number from 0 to 65535"},
        {"PLAINTEXT://h:80x", "port must be a number from 0 to 65535"},
        {"PLAINTEXT://::1:9092", "an IPv6 address needs brackets, e.g. [::1]:9092"},
        {"PLAINTEXT://[::1:9092", "missing ']' after an IPv6 address"},
        {"PLAINTEXT://[::1]9092", "missing ':port'"},
        {"PLAINTEXT://[::g]:1", "not an IPv6 address inside [ ]"},
        {"PLAINTEXT://[10.0.0.1]:1", "not an IPv6 address inside [ ]"},
        {"PLAINTEXT://999.1.1.1:1", "not an IPv4 address"},
        {"PLAINTEXT://h/x:1", "bad character in host name"},
        {"PLAINTEXT://h:1,PLAINTEXT://h:2", "listener names must be unique"},
        {"PLAINTEXT://h:1,", "empty entry in the list"},
        {",PLAINTEXT://h:1", "empty entry in the list"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sk_listener_addr out[2];
        const char *why = NULL;
        ck_assert_msg(sk_listeners_parse(bad[i][0], out, 2, &why) == -1, "%s", bad[i][0]);
        ck_assert_ptr_nonnull(why);
        ck_assert_str_eq(why, bad[i][1]);
    }
}
END_TEST

/* ---- Kafka's conventions ------------------------------------------------ */

START_TEST(test_kafka_env_key)
{
    static const char *const map[][2] = {
        /* variable, key ("" = not a server property) */
        {"KAFKA_LOG_DIRS", "log.dirs"},
        {"KAFKA_ADVERTISED_LISTENERS", "advertised.listeners"},
        {"KAFKA_NUM_PARTITIONS", "num.partitions"},
        {"KAFKA_AUTO_CREATE_TOPICS_ENABLE", "auto.create.topics.enable"},
        {"KAFKA_LISTENER_NAME_SECURE_SCRAM___SHA___256_SASL_JAAS_CONFIG",
         "listener.name.secure.scram-sha-256.sasl.jaas.config"},
        {"KAFKA_A__B", "a_b"},
        {"KAFKA_A___B", "a-b"},
        {"KAFKA_A____B", "a-.b"},
        {"KAFKA_A_____B", "a-_b"},
        {"KAFKA_A______B", "a--b"},
        {"KAFKA_HEAP_OPTS", ""},
        {"KAFKA_OPTS", ""},
        {"KAFKA_LOG4J_ROOT_LOGLEVEL", ""},
        {"KAFKA_", ""},
        {"KAFKA", ""},
        {"SKIFF_LOG_DIRS", ""},
        {"kafka_log_dirs", ""},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        char key[128] = "untouched";
        int rc = sk_kafka_env_key(map[i][0], strlen(map[i][0]), key, sizeof key);
        ck_assert_msg(rc == (*map[i][1] ? 1 : 0), "%s: %d", map[i][0], rc);
        if (rc == 1)
            ck_assert_str_eq(key, map[i][1]);
    }
    char small[8];
    ck_assert_int_eq(sk_kafka_env_key("KAFKA_LOG_DIRS", 14, small, sizeof small), -1);
    /* Only `name_len` bytes are the name. */
    char key[32];
    ck_assert_int_eq(sk_kafka_env_key("KAFKA_NODE_ID=3", 13, key, sizeof key), 1);
    ck_assert_str_eq(key, "node.id");

    static const char *const levels[][2] = {
        {"TRACE", "debug"}, {"debug", "debug"}, {"Info", "info"},  {"WARN", "warn"}, {"ERROR", "error"},
        {"FATAL", "error"}, {"OFF", "error"},   {"WARNING", NULL}, {"", NULL},
    };
    for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++) {
        const char *got = sk_kafka_log4j_level(levels[i][0]);
        ck_assert_msg(levels[i][1] ? got && !strcmp(got, levels[i][1]) : !got, "%s", levels[i][0]);
    }

    char out[256];
    ck_assert_int_eq(
        sk_kafka_listeners_from_advertised("PLAINTEXT_HOST://localhost:9092,PLAINTEXT://broker:19092", out, sizeof out),
        0);
    ck_assert_str_eq(out, "PLAINTEXT_HOST://0.0.0.0:9092,PLAINTEXT://0.0.0.0:19092");
    ck_assert_int_eq(sk_kafka_listeners_from_advertised("PLAINTEXT://[::1]:9092", out, sizeof out), 0);
    ck_assert_str_eq(out, "PLAINTEXT://0.0.0.0:9092");
    ck_assert_int_eq(sk_kafka_listeners_from_advertised("localhost:9092", out, sizeof out), -1);
    ck_assert_int_eq(sk_kafka_listeners_from_advertised("PLAINTEXT://h:1", out, 10), -1);
}
END_TEST

START_TEST(test_ignored_reason)
{
    ck_assert_str_eq(sk_config_ignored_reason("process.roles"), "KRaft");
    ck_assert_str_eq(sk_config_ignored_reason("controller.quorum.voters"), "KRaft");
    ck_assert_str_eq(sk_config_ignored_reason("controller.quorum.bootstrap.servers"), "KRaft");
    ck_assert_str_eq(sk_config_ignored_reason("transaction.state.log.min.isr"), "one replica");
    ck_assert_str_eq(sk_config_ignored_reason("replica.lag.time.max.ms"), "one replica");
    ck_assert_str_eq(sk_config_ignored_reason("num.io.threads"), "JVM tuning");
    ck_assert_str_eq(sk_config_ignored_reason("zookeeper.connect"), "ZooKeeper");
    ck_assert_ptr_null(sk_config_ignored_reason("controller.quorum."));
    ck_assert_ptr_null(sk_config_ignored_reason("process.roles.x"));
    ck_assert_ptr_null(sk_config_ignored_reason("num.partitions"));
    ck_assert_ptr_null(sk_config_ignored_reason("log.retention.hours"));
}
END_TEST

/* The environment Testcontainers' Java KafkaContainer gives apache/kafka,
 * plus the advertised listeners its start script exports. */
START_TEST(test_testcontainers_env)
{
    char *envp[] = {
        "CLUSTER_ID=4L6g3nShT-eMCtK--X86sw",
        "KAFKA_LISTENERS=BROKER://0.0.0.0:9093,PLAINTEXT://0.0.0.0:9092,CONTROLLER://0.0.0.0:9094",
        "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP=BROKER:PLAINTEXT,PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "KAFKA_INTER_BROKER_LISTENER_NAME=BROKER",
        "KAFKA_PROCESS_ROLES=broker,controller",
        "KAFKA_CONTROLLER_LISTENER_NAMES=CONTROLLER",
        "KAFKA_NODE_ID=1",
        "KAFKA_CONTROLLER_QUORUM_VOTERS=1@localhost:9094",
        "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR=1",
        "KAFKA_OFFSETS_TOPIC_NUM_PARTITIONS=1",
        "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR=1",
        "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR=1",
        "KAFKA_LOG_FLUSH_INTERVAL_MESSAGES=9223372036854775807",
        "KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS=0",
        "KAFKA_ADVERTISED_LISTENERS=PLAINTEXT://localhost:32771,BROKER://0af1c2d3e4f5:9093",
        "PATH=/bin",
        NULL,
    };
    char *argv[] = {"skiff"};
    sk_config c;
    sk_config_status st;
    char *logged = load_captured(STDERR_FILENO, &c, ARGC(argv), argv, envp, &st);
    ck_assert_int_eq(st, SK_CONFIG_OK);
    ck_assert_int_eq(c.warnings, 0);
    ck_assert_str_eq(c.listeners, "BROKER://0.0.0.0:9093,PLAINTEXT://0.0.0.0:9092");
    ck_assert_str_eq(c.advertised_listeners, "PLAINTEXT://localhost:32771,BROKER://0af1c2d3e4f5:9093");
    ck_assert_str_eq(c.controller_listener_names, "CONTROLLER");
    ck_assert_int_eq(c.node_id, 1);
    ck_assert_int_eq(c.offsets_topic_num_partitions, 1);
    ck_assert_int_eq(c.log_flush_interval_messages, INT64_MAX);
    ck_assert_int_eq(c.group_initial_rebalance_delay_ms, 0);
    ck_assert_str_eq(c.cluster_id, "4L6g3nShT-eMCtK--X86sw");
    ck_assert_str_eq(c.ignored, "inter.broker.listener.name (KRaft), process.roles (KRaft), "
                                "controller.quorum.voters (KRaft), "
                                "offsets.topic.replication.factor (one replica), "
                                "transaction.state.log.replication.factor (one replica), "
                                "transaction.state.log.min.isr (one replica)");
    ck_assert_ptr_nonnull(strstr(logged, "listeners: CONTROLLER://0.0.0.0:9094 is a KRaft "
                                         "controller listener (controller.listener.names); "
                                         "skiff has no controller quorum and does not open it"));
    const char *line = strstr(logged, "Kafka keys accepted and ignored");
    ck_assert_ptr_nonnull(line);
    ck_assert_ptr_null(strstr(line + 1, "Kafka keys accepted and ignored"));
    free(logged);
    sk_config_free(&c);
}
END_TEST

START_TEST(test_kafka_env_precedence)
{
    char path[64];
    write_temp("{\"num.partitions\": 2, \"log.dirs\": \"/from/file\", \"node.id\": 4}", path);
    /* SKIFF_* wins over KAFKA_* whatever their order; KAFKA_* wins over the
     * file; flags win over both. */
    char *envp[] = {"SKIFF_NUM_PARTITIONS=5", "KAFKA_NUM_PARTITIONS=3", "KAFKA_LOG_DIRS=/from/kafka", "KAFKA_NODE_ID=7",
                    NULL};
    char *argv[] = {"skiff", "--config", path, "--node.id=8"};
    sk_config c;
    ck_assert_int_eq(load(&c, ARGC(argv), argv, envp), SK_CONFIG_OK);
    ck_assert_int_eq(c.num_partitions, 5);
    ck_assert_str_eq(c.log_dirs, "/from/kafka");
    ck_assert_int_eq(c.node_id, 8);
    ck_assert_ptr_null(c.cluster_id);
    sk_config_free(&c);

    /* Listeners derived from the advertised ones only when KAFKA_LISTENERS is
     * unset and the node is not a controller only; SKIFF_LISTENERS beats
     * the derived listeners too. */
    static const char *const derive[][3] = {
        /* two variables, the listeners loaded */
        {"KAFKA_ADVERTISED_LISTENERS=PLAINTEXT_HOST://localhost:9092,PLAINTEXT://broker:19092",
         "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP=PLAINTEXT:PLAINTEXT,PLAINTEXT_HOST:PLAINTEXT",
         "PLAINTEXT_HOST://0.0.0.0:9092,PLAINTEXT://0.0.0.0:19092"},
        {"KAFKA_ADVERTISED_LISTENERS=PLAINTEXT://localhost:9092", "KAFKA_LISTENERS=PLAINTEXT://127.0.0.1:9092",
         "PLAINTEXT://127.0.0.1:9092"},
        {"KAFKA_ADVERTISED_LISTENERS=PLAINTEXT://localhost:9092", "KAFKA_PROCESS_ROLES=controller",
         "PLAINTEXT://localhost:9092"},
        {"KAFKA_ADVERTISED_LISTENERS=PLAINTEXT://localhost:9092", "SKIFF_LISTENERS=PLAINTEXT://127.0.0.1:0",
         "PLAINTEXT://127.0.0.1:0"},
    };
    for (size_t i = 0; i < sizeof derive / sizeof derive[0]; i++) {
        char *env[] = {(char *)derive[i][0], (char *)derive[i][1], NULL};
        ck_assert_int_eq(load(&c, 1, argv, env), SK_CONFIG_OK);
        ck_assert_str_eq(c.listeners, derive[i][2]);
        sk_config_free(&c);
    }

    /* The log4j root level is skiff's log.level; SKIFF_LOG_LEVEL still wins. */
    char *log4j[] = {"KAFKA_LOG4J_ROOT_LOGLEVEL=WARN", NULL};
    ck_assert_int_eq(load(&c, 1, argv, log4j), SK_CONFIG_OK);
    ck_assert_str_eq(c.log_level, "warn");
    sk_config_free(&c);
    char *both[] = {"SKIFF_LOG_LEVEL=debug", "KAFKA_LOG4J_ROOT_LOGLEVEL=ERROR", NULL};
    ck_assert_int_eq(load(&c, 1, argv, both), SK_CONFIG_OK);
    ck_assert_str_eq(c.log_level, "debug");
    sk_config_free(&c);
    char *odd[] = {"KAFKA_LOG4J_ROOT_LOGLEVEL=LOUD", NULL};
    ck_assert_int_eq(load(&c, 1, argv, odd), SK_CONFIG_OK);
    ck_assert_str_eq(c.log_level, "info");
    ck_assert_int_eq(c.warnings, 1);
    sk_config_free(&c);

    /* A bad KAFKA_* value stops start-up, naming the variable. */
    char *bad[] = {"KAFKA_NUM_PARTITIONS=many", NULL};
    expect_error(1, argv, bad,
                 "num.partitions: bad value \"many\" from environment "
                 "KAFKA_NUM_PARTITIONS: not an integer");
    unlink(path);
}
END_TEST

typedef struct props_seen {
    char text[1024]; /* "line:key=value|" per entry */
    int stop_at;     /* entry number whose callback returns 7; 0 = never */
    int n;
} props_seen;

static int props_collect(const char *key, const char *value, int line, void *arg)
{
    props_seen *seen = arg;
    size_t used = strlen(seen->text);
    snprintf(seen->text + used, sizeof seen->text - used, "%d:%s=%s|", line, key, value);
    return ++seen->n == seen->stop_at ? 7 : 0;
}

START_TEST(test_properties_parse)
{
    const char *text = "# comment\n"
                       "  ! also a comment\n"
                       "\n"
                       "a=1\n"
                       "b = two words  \n"
                       "c:3\n"
                       "d 4\n"
                       "\t e\t=\t5\r\n"
                       "empty=\n"
                       "bare\n"
                       "cont=one, \\\n"
                       "     two\n"
                       "slashes=x\\\\\n"
                       "k\\=ey\\ x=v\\tw\\u0041\\u00e9\\q\n"
                       "url=PLAINTEXT://:9092\r"
                       "last=end";
    props_seen seen = {.text = ""};
    int bad_line = -1;
    ck_assert_int_eq(sk_properties_parse(text, props_collect, &seen, &bad_line), 0);
    ck_assert_int_eq(bad_line, 0);
    ck_assert_str_eq(seen.text, "4:a=1|5:b=two words  |6:c=3|7:d=4|8:e=5|9:empty=|10:bare=|"
                                "11:cont=one, two|13:slashes=x\\|"
                                "14:k=ey x=v\tw"
                                "A\xc3\xa9q|15:url=PLAINTEXT://:9092|16:last=end|");

    props_seen stop = {.text = "", .stop_at = 2};
    ck_assert_int_eq(sk_properties_parse("a=1\nb=2\nc=3\n", props_collect, &stop, &bad_line), 7);
    ck_assert_str_eq(stop.text, "1:a=1|2:b=2|");

    props_seen bad = {.text = ""};
    ck_assert_int_eq(sk_properties_parse("a=1\n\nb=\\u12G4\n", props_collect, &bad, &bad_line), -1);
    ck_assert_int_eq(bad_line, 3);
    ck_assert_str_eq(bad.text, "1:a=1|");
}
END_TEST

/* Kafka 4.x's own config/server.properties starts skiff: its client
 * listener opened, the controller's set aside, the rest ignored or used. */
START_TEST(test_kafka_server_properties)
{
    char path[256];
    snprintf(path, sizeof path, "%s/kafka/server.properties", SKIFF_TEST_DATA);
    char *argv[] = {"skiff", "--config", path};
    sk_config c;
    sk_config_status st;
    char *logged = load_captured(STDERR_FILENO, &c, ARGC(argv), argv, NULL, &st);
    ck_assert_int_eq(st, SK_CONFIG_OK);
    ck_assert_str_eq(c.listeners, "PLAINTEXT://:9092");
    ck_assert_str_eq(c.advertised_listeners, "PLAINTEXT://localhost:9092");
    ck_assert_str_eq(c.log_dirs, "/tmp/kraft-combined-logs");
    ck_assert_int_eq(c.node_id, 1);
    ck_assert_int_eq(c.num_partitions, 1);
    ck_assert_int_eq(c.socket_request_max_bytes, 104857600);
    ck_assert_int_eq(c.log_segment_bytes, 1073741824);
    ck_assert_int_eq(c.log_retention_check_interval_ms, 300000);
    ck_assert_int_eq(c.log_retention_ms, 168 * 3600000LL);
    ck_assert_int_eq(c.warnings, 0);
    ck_assert_msg(strstr(logged, "WARN") == NULL, "%s", logged);
    ck_assert_str_eq(c.ignored, "process.roles (KRaft), controller.quorum.bootstrap.servers (KRaft), "
                                "inter.broker.listener.name (KRaft), num.network.threads (JVM tuning), "
                                "num.io.threads (JVM tuning), socket.send.buffer.bytes (JVM tuning), "
                                "socket.receive.buffer.bytes (JVM tuning), "
                                "num.recovery.threads.per.data.dir (JVM tuning), "
                                "offsets.topic.replication.factor (one replica), "
                                "share.coordinator.state.topic.replication.factor (one replica), "
                                "share.coordinator.state.topic.min.isr (one replica), "
                                "transaction.state.log.replication.factor (one replica), "
                                "transaction.state.log.min.isr (one replica)");
    ck_assert_ptr_nonnull(strstr(logged, "listeners: CONTROLLER://:9093 is a KRaft controller "
                                         "listener"));
    free(logged);
    sk_config_free(&c);
}
END_TEST

/* A temporary file named with `suffix`, holding `text`. */
static void write_temp_suffix(const char *text, const char *suffix, char *path)
{
    snprintf(path, 64, "/tmp/skiff-test-config-XXXXXX%s", suffix);
    int fd = mkstemps(path, (int)strlen(suffix));
    ck_assert_int_ge(fd, 0);
    size_t len = strlen(text);
    ck_assert_int_eq(write(fd, text, len), (ssize_t)len);
    close(fd);
}

/* log.retention.minutes/hours and log.roll.hours: converted to ms; the ms
 * key beats its aliases and minutes beat hours, whatever the source. */
START_TEST(test_time_aliases)
{
    static const struct {
        const char *file, *env, *flag;
        int64_t retention_ms, roll_ms;
        const char *ignored;
    } cases[] = {
        {"log.retention.hours=2\n", NULL, NULL, 7200000, 604800000, NULL},
        {"log.retention.hours=2\nlog.retention.minutes=30\n", NULL, NULL, 1800000, 604800000, NULL},
        {"log.retention.minutes=30\nlog.retention.hours=2\n", NULL, NULL, 1800000, 604800000,
         "log.retention.hours (a finer alias is set)"},
        {"log.retention.ms=5000\n", "KAFKA_LOG_RETENTION_HOURS=1", NULL, 5000, 604800000,
         "log.retention.hours (the ms key is set)"},
        {"log.retention.hours=5\n", NULL, "--log.retention.ms=1", 1, 604800000, NULL},
        {"", NULL, "--log.retention.hours=-1", -1, 604800000, NULL},
        {"log.roll.hours=1\n", NULL, NULL, 604800000, 3600000, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[64];
        write_temp_suffix(cases[i].file, ".properties", path);
        char *envp[] = {(char *)cases[i].env, NULL};
        char *argv[] = {"skiff", "--config", path, (char *)cases[i].flag};
        sk_config c;
        ck_assert_int_eq(load(&c, cases[i].flag ? 4 : 3, argv, envp), SK_CONFIG_OK);
        ck_assert_msg(c.log_retention_ms == cases[i].retention_ms, "case %zu: %lld", i, (long long)c.log_retention_ms);
        ck_assert_int_eq(c.log_roll_ms, cases[i].roll_ms);
        ck_assert_int_eq(c.warnings, 0);
        if (cases[i].ignored)
            ck_assert_str_eq(c.ignored, cases[i].ignored);
        else
            ck_assert_ptr_null(c.ignored);
        sk_config_free(&c);
        unlink(path);
    }
    char *bad[] = {"skiff", "--log.retention.hours=x"};
    expect_error(ARGC(bad), bad, NULL,
                 "log.retention.hours: bad value \"x\" from flag "
                 "--log.retention.hours: must be an integer of at most "
                 "2562047788015");
    char *big[] = {"skiff", "--log.retention.minutes=153722867280913"};
    expect_error(ARGC(big), big, NULL, "must be an integer of at most 153722867280912");
    char *zero[] = {"skiff", "--log.roll.hours=0"};
    expect_error(ARGC(zero), zero, NULL,
                 "log.roll.ms: bad value \"0\" from flag "
                 "--log.roll.hours as log.roll.hours: must be from 1");
}
END_TEST

START_TEST(test_file_format)
{
    static const struct {
        const char *suffix, *text;
        int partitions; /* expected num.partitions; 0 = load fails */
        const char *error;
    } cases[] = {
        {"", "num.partitions=4\n", 4, NULL},
        {"", "  // a comment\n{\"num.partitions\": 5}", 5, NULL},
        {"", "", 1, NULL},
        {".properties", "num.partitions: 6", 6, NULL},
        {".properties", "{\"num.partitions\": 5}", 1, NULL},
        {".json", "num.partitions=4", 0, "invalid JSON near \"num.partitions=4\""},
        {".properties", "num.partitions=zero", 0, "num.partitions: bad value \"zero\" from config file "},
        {".properties", "a=1\nnum.partitions=\\u00", 0, " line 2: malformed \\uXXXX escape"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[64];
        write_temp_suffix(cases[i].text, cases[i].suffix, path);
        char *argv[] = {"skiff", "--config", path};
        if (cases[i].partitions) {
            sk_config c;
            ck_assert_int_eq(load(&c, ARGC(argv), argv, NULL), SK_CONFIG_OK);
            ck_assert_msg(c.num_partitions == cases[i].partitions, "case %zu: %d", i, c.num_partitions);
            sk_config_free(&c);
        } else {
            expect_error(ARGC(argv), argv, NULL, cases[i].error);
        }
        unlink(path);
    }
    /* SKIFF_CONFIG names the file when --config does not. */
    char path[64], other[64];
    write_temp_suffix("num.partitions=9\n", ".properties", path);
    write_temp_suffix("num.partitions=3\n", ".properties", other);
    char env[96];
    snprintf(env, sizeof env, "SKIFF_CONFIG=%s", path);
    char *envp[] = {env, NULL};
    char *argv[] = {"skiff", "--config", other};
    sk_config c;
    ck_assert_int_eq(load(&c, 1, argv, envp), SK_CONFIG_OK);
    ck_assert_int_eq(c.num_partitions, 9);
    ck_assert_int_eq(c.warnings, 0);
    sk_config_free(&c);
    ck_assert_int_eq(load(&c, ARGC(argv), argv, envp), SK_CONFIG_OK);
    ck_assert_int_eq(c.num_partitions, 3);
    sk_config_free(&c);
    unlink(path);
    unlink(other);
}
END_TEST

START_TEST(test_listener_protocols)
{
    static const char *const bad[][3] = {
        /* listeners, listener.security.protocol.map, message */
        {"BROKER://:9093", NULL,
         "listeners: listener BROKER has no security protocol in listener.security.protocol.map"},
        {"A://:1", "A:TLS",
         "listener.security.protocol.map: bad value \"A:TLS\": a protocol is "
         "not one of PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL"},
        {"A://:1", "A",
         "listener.security.protocol.map: bad value \"A\": expected NAME:PROTOCOL "
         "pairs, comma-separated"},
        {"CONTROLLER://:9093", "CONTROLLER:PLAINTEXT",
         "listeners: no listener left for clients once the controller listeners (CONTROLLER) "
         "are set aside"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char l[64], m[64];
        snprintf(l, sizeof l, "--listeners=%s", bad[i][0]);
        snprintf(m, sizeof m, "--listener.security.protocol.map=%s",
                 bad[i][1] ? bad[i][1] : "PLAINTEXT:PLAINTEXT,SSL:SSL");
        char *argv[] = {"skiff", l, m, "--controller.listener.names=CONTROLLER"};
        expect_error(ARGC(argv), argv, NULL, bad[i][2]);
    }
    /* Names and protocols match in any case; spaces around entries are fine. */
    char *argv[] = {"skiff", "--listeners=tc-0://:0, Plaintext://:0",
                    "--listener.security.protocol.map= TC-0 : plaintext , PLAINTEXT:PLAINTEXT",
                    "--controller.listener.names=CONTROLLER"};
    sk_config c;
    ck_assert_int_eq(load(&c, ARGC(argv), argv, NULL), SK_CONFIG_OK);
    ck_assert_str_eq(c.listeners, "tc-0://:0, Plaintext://:0");
    sk_config_free(&c);
}
END_TEST

/* Security keys (open-ended names) are kept aside for src/security: from
 * flags, files and apache/kafka's variables, the last source winning, with
 * no unknown-key warning. */
START_TEST(test_security_keys)
{
    char path[64] = "/tmp/skiff-test-XXXXXX";
    write_temp("{\"ssl.keystore.location\": \"/file.pem\", \"connections.max.reauth.ms\": 5000,\n"
               " \"listener.name.sasl_ssl.plain.sasl.jaas.config\": \"x required;\"}",
               path);
    char *argv[] = {"skiff", "--config", path, "--ssl.keystore.location=/flag.pem", "--sasl.enabled.mechanisms",
                    "PLAIN"};
    char *envp[] = {"KAFKA_SSL_CLIENT_AUTH=required", "KAFKA_SSL_KEYSTORE_LOCATION=/env.pem", NULL};
    sk_config c;
    ck_assert_int_eq(load(&c, ARGC(argv), argv, envp), SK_CONFIG_OK);
    ck_assert_int_eq(c.warnings, 0);
    ck_assert_str_eq(sk_config_security_get(&c, "ssl.keystore.location"), "/flag.pem");
    ck_assert_str_eq(sk_config_security_get(&c, "ssl.client.auth"), "required");
    ck_assert_str_eq(sk_config_security_get(&c, "sasl.enabled.mechanisms"), "PLAIN");
    ck_assert_str_eq(sk_config_security_get(&c, "connections.max.reauth.ms"), "5000");
    ck_assert_str_eq(sk_config_security_get(&c, "listener.name.sasl_ssl.plain.sasl.jaas.config"), "x required;");
    ck_assert_ptr_null(sk_config_security_get(&c, "ssl.keystore"));
    ck_assert_ptr_null(sk_config_security_get(&c, "ssl.truststore.location"));
    sk_config_free(&c);
    ck_assert(sk_config_is_security_key("ssl.cipher.suites"));
    ck_assert(sk_config_is_security_key("listener.name.a.ssl.keystore.location"));
    ck_assert(!sk_config_is_security_key("ssl."));
    ck_assert(!sk_config_is_security_key("listeners"));
    unlink(path);
}
END_TEST

/* config.example.json holds every key, at its default, and loads cleanly. */
START_TEST(test_example_file)
{
    char path[4096];
    source_path("config.example.json", path, sizeof path);
    char *argv[] = {"skiff", "--config", path};
    sk_config c, d;
    ck_assert_int_eq(load(&c, ARGC(argv), argv, NULL), SK_CONFIG_OK);
    ck_assert_int_eq(c.warnings, 0);
    ck_assert_int_eq(load(&d, 1, argv, NULL), SK_CONFIG_OK);

    char *text = slurp(path);
    cJSON_Minify(text);
    cJSON *root = cJSON_Parse(text);
    ck_assert_ptr_nonnull(root);
    int n = 0;
    for (const char *name; (name = sk_config_key_name(n)) != NULL; n++) {
        char a[64], b[64];
        ck_assert_msg(cJSON_GetObjectItemCaseSensitive(root, name) != NULL, "%s missing from config.example.json",
                      name);
        sk_config_format_value(&c, name, a, sizeof a);
        sk_config_format_value(&d, name, b, sizeof b);
        ck_assert_msg(strcmp(a, b) == 0, "%s: example has %s, default is %s", name, a, b);
    }
    ck_assert_int_eq(cJSON_GetArraySize(root), n);
    cJSON_Delete(root);
    free(text);
    sk_config_free(&c);
    sk_config_free(&d);
}
END_TEST

/* docs/configuration.md has a table row "| `key` | `default` |" per key. */
START_TEST(test_docs_table)
{
    char path[4096];
    source_path("docs/configuration.md", path, sizeof path);
    char *text = slurp(path);
    for (int i = 0; sk_config_key_name(i); i++) {
        char row[256];
        const char *def = sk_config_key_default(i);
        snprintf(row, sizeof row, "\n| `%s` | `%s` |", sk_config_key_name(i), *def ? def : "\"\"");
        ck_assert_msg(strstr(text, row) != NULL, "docs/configuration.md lacks the row %s", row + 1);
    }
    free(text);
}
END_TEST

static Suite *config_suite(void)
{
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("config");
    tcase_add_checked_fixture(tc, reset_log_level, reset_log_level);
    tcase_add_test(tc, test_defaults);
    tcase_add_test(tc, test_key_table_accessors);
    tcase_add_test(tc, test_file_overrides_defaults);
    tcase_add_test(tc, test_precedence);
    tcase_add_test(tc, test_flag_forms);
    tcase_add_test(tc, test_unknown_keys_warn);
    tcase_add_test(tc, test_bad_flag_values);
    tcase_add_test(tc, test_bad_arguments);
    tcase_add_test(tc, test_bad_files);
    tcase_add_test(tc, test_help_and_version);
    tcase_add_test(tc, test_listeners_valid);
    tcase_add_test(tc, test_listeners_invalid);
    tcase_add_test(tc, test_kafka_env_key);
    tcase_add_test(tc, test_ignored_reason);
    tcase_add_test(tc, test_testcontainers_env);
    tcase_add_test(tc, test_kafka_env_precedence);
    tcase_add_test(tc, test_properties_parse);
    tcase_add_test(tc, test_kafka_server_properties);
    tcase_add_test(tc, test_file_format);
    tcase_add_test(tc, test_listener_protocols);
    tcase_add_test(tc, test_security_keys);
    tcase_add_test(tc, test_time_aliases);
    tcase_add_test(tc, test_example_file);
    tcase_add_test(tc, test_docs_table);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return sk_unit_run(config_suite());
}
