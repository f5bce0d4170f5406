/*
 * Unit tests for the configuration loader (src/config): defaults, the
 * precedence file < environment < flags, both flag forms, comments in the
 * JSON file, unknown keys, every class of bad value, --help/--version, the
 * listeners parser, and that config.example.json and docs/configuration.md
 * match the key table.
 */
#include <check.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "skiff/config.h"
#include "skiff/log.h"
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
static char *load_captured(int fd, sk_config *c, int argc, char **argv, char **envp,
                           sk_config_status *status)
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
    sk_log_threshold = SK_LOG_INFO;
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
    ck_assert_int_eq(sk_log_threshold, SK_LOG_INFO);
    sk_config_free(&c);
    ck_assert_ptr_null(c.listeners);
}
END_TEST

START_TEST(test_key_table_accessors)
{
    char *argv[] = {"skiff"};
    sk_config c;
    char buf[64];
    ck_assert_int_eq(load(&c, ARGC(argv), argv, NULL), SK_CONFIG_OK);
    ck_assert_str_eq(sk_config_key_name(0), "listeners");
    ck_assert_str_eq(sk_config_key_default(0), "PLAINTEXT://localhost:9092");
    ck_assert_ptr_null(sk_config_key_name(-1));
    ck_assert_int_eq(sk_config_format_value(&c, "log.flush.interval.messages", buf, sizeof buf),
                     19);
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
    ck_assert_int_eq(n, 47);
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
    ck_assert_str_eq(c.log_level, "error");
    ck_assert_int_eq(sk_log_threshold, SK_LOG_ERROR);
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
    write_temp("{\"num.partitions\": 3, \"node.id\": 3, \"log.dirs\": \"/f\", \"log.roll.ms\": 3}",
               path);
    char *envp[] = {"PATH=/usr/bin", "SKIFF_NUM_PARTITIONS=4", "SKIFF_NODE_ID=4",
                    "SKIFF_ADVERTISED_LISTENERS=PLAINTEXT://example.com:19092",
                    "SKIFF_LOG_MESSAGE_TIMESTAMP_TYPE=LogAppendTime", NULL};
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
    char *argv[] = {"skiff", "--node.id=7", "--num.partitions", "8", "--log.retention.bytes", "-1",
                    "--listeners", "PLAINTEXT://[::1]:0", "--advertised.listeners=",
                    "--auto.create.topics.enable=FALSE", "--log.level", "debug",
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
    ck_assert_int_eq(sk_log_threshold, SK_LOG_DEBUG);
    sk_config_free(&c);
}
END_TEST

START_TEST(test_unknown_keys_warn)
{
    char path[64];
    write_temp("{\"num.partitions\": 2, \"no.such.key\": 1, \"zookeeper.connect\": \"x\"}", path);
    char *envp[] = {"SKIFF_NO_SUCH=1", "SKIFF_NUM_PARTITIONS=6", "SKIFFY=1", NULL};
    char *argv[] = {"skiff", "--bogus", "value", "--also.bogus=1", "--node.id", "9",
                    "--config", path, "--bare.unknown"};
    sk_config c;
    sk_config_status st;
    char *logged = load_captured(STDERR_FILENO, &c, ARGC(argv), argv, envp, &st);
    ck_assert_int_eq(st, SK_CONFIG_OK);
    ck_assert_int_eq(c.warnings, 6);
    ck_assert_int_eq(c.num_partitions, 6);
    ck_assert_int_eq(c.node_id, 9);
    static const char *const warnings[] = {
        "unknown flag \"--bogus\" in the command line ignored",
        "unknown flag \"--also.bogus\" in the command line ignored",
        "unknown flag \"--bare.unknown\" in the command line ignored",
        "unknown key \"no.such.key\" in config file ",
        "unknown key \"zookeeper.connect\" in config file ",
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
        {"--log.flush.interval.messages", "9223372036854775808",
         "must be from 1 to 9223372036854775807"},
        {"--default.replication.factor", "3", "must be 1"},
        {"--auto.create.topics.enable", "yes", "must be true or false"},
        {"--log.message.timestamp.type", "AppendTime",
         "must be one of CreateTime, LogAppendTime"},
        {"--log.level", "verbose", "must be one of debug, info, warn, error"},
        {"--log.dirs", "", "must not be empty"},
        {"--listeners", "", "needs at least one NAME://host:port"},
        {"--listeners", "localhost:9092", "expected NAME://host:port"},
        {"--listeners", "SSL://:9093", "only PLAINTEXT listeners are supported"},
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
        snprintf(message, sizeof message, "%s: bad value \"%s\" from flag %s: %s",
                 bad[i][0] + 2, bad[i][1], bad[i][0], bad[i][2]);
        expect_error(ARGC(argv), argv, NULL, message);
    }
    char *argv[] = {"skiff", "--group.min.session.timeout.ms", "1800001"};
    expect_error(ARGC(argv), argv, NULL,
                 "group.min.session.timeout.ms (1800001) must not exceed "
                 "group.max.session.timeout.ms (1800000)");
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
    expect_error(ARGC(no_value_flag), no_value_flag, NULL,
                 "node.id: flag --node.id needs a value");
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
        {"", "invalid JSON: unexpected end of file"},
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
        {"{\"log.message.timestamp.type\": \"Now\"}",
         "must be one of CreateTime, LogAppendTime"},
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
    ck_assert_ptr_nonnull(
        strstr(out, "\n  --log.level debug|info|warn|error  [SKIFF_LOG_LEVEL]\n"));
    ck_assert_ptr_nonnull(strstr(out, "\n  --default.replication.factor INT 1..1  "
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

static void expect_listener(const sk_listener_addr *a, const char *name, const char *host,
                            int port)
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
        {"SSL://h:1", "only PLAINTEXT listeners are supported"},
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
        ck_assert_msg(cJSON_GetObjectItemCaseSensitive(root, name) != NULL,
                      "%s missing from config.example.json", name);
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
        snprintf(row, sizeof row, "\n| `%s` | `%s` |", sk_config_key_name(i),
                 *def ? def : "\"\"");
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
    tcase_add_test(tc, test_example_file);
    tcase_add_test(tc, test_docs_table);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return sk_unit_run(config_suite());
}
