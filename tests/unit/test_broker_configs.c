/* Unit tests of the dynamic broker configs: Kafka 4.4's key table, the
 * checks of DynamicBrokerConfig.validateConfigs with Kafka's messages, and
 * the JSON store (set, delete, iterate, save, reload, corrupt file). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "skiff/broker_configs.h"
#include "skiff/errors.h"
#include "unit_run.h"

static int16_t check1(const char *name, const char *value, bool per_broker, char *msg, size_t len)
{
    const char *names[] = {name}, *values[] = {value};
    return sk_dynamic_configs_check(names, values, 1, per_broker, msg, len);
}

START_TEST(test_table)
{
    const sk_dynamic_key *k = sk_dynamic_key_find("sasl.kerberos.min.time.before.relogin");
    ck_assert_ptr_nonnull(k);
    ck_assert(k->per_broker);
    ck_assert_int_eq(k->type, SK_CONFIG_TYPE_LONG);
    ck_assert_str_eq(k->default_value, "60000");
    k = sk_dynamic_key_find("log.cleaner.threads");
    ck_assert(!k->per_broker);
    ck_assert_int_eq(k->type, SK_CONFIG_TYPE_INT);
    ck_assert_ptr_null(sk_dynamic_key_find("ssl.keystore.password")->default_value); /* passwords: null */
    ck_assert_str_eq(sk_dynamic_key_find("ssl.enabled.protocols")->default_value, "TLSv1.2,TLSv1.3");
    /* A listener prefix resolves to the base key. */
    ck_assert_ptr_eq(sk_dynamic_key_find("listener.name.external.ssl.keystore.type"),
                     sk_dynamic_key_find("ssl.keystore.type"));
    ck_assert_ptr_null(sk_dynamic_key_find("num.partitions"));
    ck_assert_ptr_null(sk_dynamic_key_find("listener.name.x"));
    /* Alphabetical, ending with NULL. */
    int n = 0;
    for (; sk_dynamic_key_at(n + 1); n++)
        ck_assert_int_lt(strcmp(sk_dynamic_key_at(n)->name, sk_dynamic_key_at(n + 1)->name), 0);
    ck_assert_int_eq(n + 1, 110);
    ck_assert_ptr_null(sk_dynamic_key_at(-1));
}
END_TEST

START_TEST(test_checks)
{
    char msg[512];
    ck_assert_int_eq(check1("sasl.kerberos.min.time.before.relogin", "61000", true, msg, sizeof msg), SK_ERR_NONE);
    ck_assert_int_eq(check1("sasl.kerberos.min.time.before.relogin", "1", false, msg, sizeof msg),
                     SK_ERR_INVALID_REQUEST);
    ck_assert_str_eq(msg, "Cannot update these configs at default cluster level, broker id must be specified: "
                          "[sasl.kerberos.min.time.before.relogin]");
    ck_assert_int_eq(check1("listener.name.plaintext.ssl.keystore.type", "PKCS12", false, msg, sizeof msg),
                     SK_ERR_INVALID_REQUEST);
    ck_assert_int_eq(check1("listener.name.plaintext.max.connections", "10", false, msg, sizeof msg), SK_ERR_NONE);
    ck_assert_int_eq(check1("num.partitions", "3", true, msg, sizeof msg), SK_ERR_INVALID_REQUEST);
    ck_assert_str_eq(msg, "Cannot update these configs dynamically: [num.partitions]");
    ck_assert_int_eq(check1("custom.key", "x", false, msg, sizeof msg), SK_ERR_NONE);

    /* Types, as ConfigDef parses them (values trimmed). */
    ck_assert_int_eq(check1("log.retention.ms", " 1000 ", false, msg, sizeof msg), SK_ERR_NONE);
    ck_assert_int_eq(check1("log.retention.ms", "soon", false, msg, sizeof msg), SK_ERR_INVALID_REQUEST);
    ck_assert_str_eq(msg, "Invalid value soon for configuration log.retention.ms: Not a number of type LONG");
    ck_assert_int_eq(check1("log.cleaner.threads", "2147483648", false, msg, sizeof msg), SK_ERR_INVALID_REQUEST);
    ck_assert_str_eq(msg, "Invalid value 2147483648 for configuration log.cleaner.threads: Not a number of type INT");
    ck_assert_int_eq(check1("sasl.login.refresh.buffer.seconds", "40000", true, msg, sizeof msg),
                     SK_ERR_INVALID_REQUEST);
    ck_assert_str_eq(msg, "Invalid value 40000 for configuration sasl.login.refresh.buffer.seconds: "
                          "Not a number of type SHORT");
    ck_assert_int_eq(check1("log.cleaner.min.cleanable.ratio", "0.25", false, msg, sizeof msg), SK_ERR_NONE);
    ck_assert_int_eq(check1("log.cleaner.min.cleanable.ratio", "half", false, msg, sizeof msg), SK_ERR_INVALID_REQUEST);
    ck_assert_int_eq(check1("log.preallocate", "TRUE", false, msg, sizeof msg), SK_ERR_NONE);
    ck_assert_int_eq(check1("log.preallocate", "yes", false, msg, sizeof msg), SK_ERR_INVALID_REQUEST);
    ck_assert_str_eq(msg, "Invalid value yes for configuration log.preallocate: "
                          "Expected value to be either true or false");

    /* Kafka's order: non-dynamic keys first, listed together. */
    const char *names[] = {"log.retention.ms", "num.partitions", "node.id"};
    const char *values[] = {"x", "1", "1"};
    ck_assert_int_eq(sk_dynamic_configs_check(names, values, 3, false, msg, sizeof msg), SK_ERR_INVALID_REQUEST);
    ck_assert_str_eq(msg, "Cannot update these configs dynamically: [num.partitions, node.id]");
}
END_TEST

START_TEST(test_store)
{
    char dir[] = "/tmp/skiff-broker-configs-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    sk_broker_configs *c = sk_broker_configs_load(dir);
    ck_assert_ptr_nonnull(c);
    const char *value;
    ck_assert_ptr_null(sk_broker_configs_key_at(c, "1", 0, &value));
    ck_assert_int_eq(sk_broker_configs_set(c, "1", "log.cleaner.threads", "2"), 0);
    ck_assert_int_eq(sk_broker_configs_set(c, "1", "ssl.cipher.suites", "A,B"), 0);
    ck_assert_int_eq(sk_broker_configs_set(c, "", "log.cleaner.threads", "3"), 0);
    ck_assert_int_eq(sk_broker_configs_set(c, "1", "log.cleaner.threads", "4"), 0); /* replaces */
    ck_assert_int_eq(sk_broker_configs_set(c, "1", "never.set", NULL), 0);          /* deleting nothing */
    ck_assert_int_eq(sk_broker_configs_save(c, dir), 0);
    sk_broker_configs_free(c);

    c = sk_broker_configs_load(dir);
    ck_assert_str_eq(sk_broker_configs_get(c, "1", "log.cleaner.threads"), "4");
    ck_assert_str_eq(sk_broker_configs_get(c, "", "log.cleaner.threads"), "3");
    ck_assert_ptr_null(sk_broker_configs_get(c, "2", "log.cleaner.threads"));
    ck_assert_str_eq(sk_broker_configs_key_at(c, "1", 0, &value), "ssl.cipher.suites");
    ck_assert_str_eq(value, "A,B");
    ck_assert_str_eq(sk_broker_configs_key_at(c, "1", 1, &value), "log.cleaner.threads");
    ck_assert_ptr_null(sk_broker_configs_key_at(c, "1", 2, &value));
    ck_assert_int_eq(sk_broker_configs_set(c, "", "log.cleaner.threads", NULL), 0);
    ck_assert_ptr_null(sk_broker_configs_key_at(c, "", 0, &value));
    sk_broker_configs_clear(c, "1");
    ck_assert_ptr_null(sk_broker_configs_get(c, "1", "ssl.cipher.suites"));
    sk_broker_configs_free(c);

    /* A file that is not a JSON object cannot be loaded. */
    char path[256];
    snprintf(path, sizeof path, "%s/skiff-broker-configs.json", dir);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs("[1, 2", f);
    fclose(f);
    ck_assert_ptr_null(sk_broker_configs_load(dir));
    unlink(path);
    rmdir(dir);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("broker_configs");
    TCase *tc = tcase_create("broker_configs");
    tcase_add_test(tc, test_table);
    tcase_add_test(tc, test_checks);
    tcase_add_test(tc, test_store);
    suite_add_tcase(s, tc);
    return sk_unit_run(s);
}
