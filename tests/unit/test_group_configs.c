/* Unit tests of the per-group configs (KIP-848): the checks against the
 * broker's bounds with Kafka's messages, AlterConfigs' replacement, the
 * store across a reload, and the effective values the heartbeat uses
 * (clamped when the broker's bounds moved after an override was stored). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "skiff/errors.h"
#include "skiff/group_configs.h"
#include "unit_run.h"

static sk_config broker(void)
{
    sk_config c = {0};
    c.group_consumer_session_timeout_ms = 10000;
    c.group_consumer_heartbeat_interval_ms = 500;
    c.group_consumer_min_session_timeout_ms = 1000;
    c.group_consumer_max_session_timeout_ms = 60000;
    c.group_consumer_min_heartbeat_interval_ms = 100;
    c.group_consumer_max_heartbeat_interval_ms = 15000;
    return c;
}

static int16_t set1(sk_group_configs *gc, const sk_config *cfg, const char *group, const char *name, const char *value,
                    char *msg, size_t len)
{
    sk_group_config_change ch = {name, value, value == NULL};
    return sk_group_configs_alter(gc, cfg, group, &ch, 1, false, false, msg, len);
}

START_TEST(test_alter_apply_reload)
{
    char dir[] = "/tmp/skiff-test-group-configs-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    sk_config cfg = broker();
    sk_group_configs *gc = sk_group_configs_open(dir);
    ck_assert_ptr_nonnull(gc);
    char msg[256];
    ck_assert_int_eq(sk_group_consumer_heartbeat_interval_ms(gc, &cfg, "g"), 500);
    ck_assert_int_eq(set1(gc, &cfg, "g", "consumer.heartbeat.interval.ms", "99", msg, sizeof msg),
                     SK_ERR_INVALID_CONFIG);
    ck_assert_str_eq(msg, "consumer.heartbeat.interval.ms must be in the range 100 to 15000 inclusive.");
    ck_assert_int_eq(set1(gc, &cfg, "g", "consumer.session.timeout.ms", "400", msg, sizeof msg), SK_ERR_INVALID_CONFIG);
    ck_assert_str_eq(msg, "consumer.session.timeout.ms must be in the range 1000 to 60000 inclusive.");
    /* The session must exceed the heartbeat, the broker's when not overridden. */
    ck_assert_int_eq(set1(gc, &cfg, "g", "consumer.heartbeat.interval.ms", "12000", msg, sizeof msg),
                     SK_ERR_INVALID_CONFIG);
    ck_assert_str_eq(msg, "consumer.session.timeout.ms must be greater than consumer.heartbeat.interval.ms");
    ck_assert_int_eq(set1(gc, &cfg, "g", "consumer.heartbeat.interval.ms", "2000", msg, sizeof msg), SK_ERR_NONE);
    ck_assert_int_eq(set1(gc, &cfg, "g", "consumer.session.timeout.ms", "1500", msg, sizeof msg),
                     SK_ERR_INVALID_CONFIG);
    ck_assert_int_eq(set1(gc, &cfg, "g", "consumer.session.timeout.ms", "20000", msg, sizeof msg), SK_ERR_NONE);
    ck_assert_int_eq(sk_group_consumer_heartbeat_interval_ms(gc, &cfg, "g"), 2000);
    ck_assert_int_eq(sk_group_consumer_session_timeout_ms(gc, &cfg, "g"), 20000);
    ck_assert_int_eq(sk_group_consumer_session_timeout_ms(gc, &cfg, "other"), 10000);
    ck_assert_int_eq(sk_group_consumer_session_timeout_ms(NULL, &cfg, "g"), 10000);
    /* Bounds lowered after the override was stored: clamped, as Kafka 4.4 does. */
    sk_config tight = cfg;
    tight.group_consumer_max_session_timeout_ms = 15000;
    ck_assert_int_eq(sk_group_consumer_session_timeout_ms(gc, &tight, "g"), 15000);
    sk_group_configs_close(gc);

    /* Reloaded from the store; AlterConfigs (replace) keeps only what it names. */
    gc = sk_group_configs_open(dir);
    ck_assert_ptr_nonnull(gc);
    ck_assert_str_eq(sk_group_configs_get(gc, "g", "consumer.heartbeat.interval.ms"), "2000");
    sk_group_config_change ch = {"share.isolation.level", "read_committed", false};
    ck_assert_int_eq(sk_group_configs_alter(gc, &cfg, "g", &ch, 1, true, true, msg, sizeof msg), SK_ERR_NONE);
    ck_assert_str_eq(sk_group_configs_get(gc, "g", "consumer.heartbeat.interval.ms"), "2000"); /* validate only */
    ck_assert_int_eq(sk_group_configs_alter(gc, &cfg, "g", &ch, 1, true, false, msg, sizeof msg), SK_ERR_NONE);
    ck_assert_ptr_null(sk_group_configs_get(gc, "g", "consumer.heartbeat.interval.ms"));
    ck_assert_str_eq(sk_group_configs_get(gc, "g", "share.isolation.level"), "read_committed");
    ck_assert_int_eq(set1(gc, &cfg, "g", "share.isolation.level", NULL, msg, sizeof msg), SK_ERR_NONE);
    ck_assert_ptr_null(sk_group_configs_get(gc, "g", "share.isolation.level"));
    sk_group_configs_close(gc);

    char path[256];
    snprintf(path, sizeof path, "%s/skiff-group-configs.json", dir);
    unlink(path);
    rmdir(dir);
}
END_TEST

START_TEST(test_table)
{
    int described = 0, n = 0;
    for (const sk_group_config_def *d; (d = sk_group_config_def_at(n)); n++)
        described += !d->internal;
    ck_assert_int_eq(described, 21); /* what Kafka 4.4.0 describes */
    ck_assert_int_eq(n, 27);
    ck_assert_str_eq(sk_group_config_def_at(0)->name, "consumer.session.timeout.ms");
    ck_assert_str_eq(sk_group_config_def_at(0)->broker_key, "group.consumer.session.timeout.ms");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("group_configs");
    TCase *tc = tcase_create("group_configs");
    tcase_add_test(tc, test_alter_apply_reload);
    tcase_add_test(tc, test_table);
    suite_add_tcase(s, tc);
    return sk_unit_run(s);
}
