/*
 * Unit tests of src/security/acl.c against Kafka's documented semantics
 * (AclAuthorizer / StandardAuthorizer, ResourcePatternFilter,
 * AccessControlEntryFilter, AclControlManager.validateNewAcl): literal,
 * wildcard and prefixed resources, wildcard principals and hosts, DENY
 * precedence, implied DESCRIBE and DESCRIBE_CONFIGS, super users,
 * allow.everyone.if.no.acl.found, filters with ANY and MATCH, validation,
 * and the store's file across a reopen, including a corrupted file.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "skiff/acl.h"
#include "unit_run.h"

static sk_acl allow(int8_t type, int8_t pat, const char *name, const char *principal, int8_t op)
{
    return (sk_acl){type, pat, op, SK_PERM_ALLOW, name, principal, "*"};
}

static bool can(const sk_acl_store *s, const char *who, int8_t op, int8_t type, const char *name)
{
    return sk_acl_authorize(s, who, "127.0.0.1", op, type, name);
}

START_TEST(test_literal_prefixed_wildcard)
{
    sk_acl_store *s = sk_acl_store_open(NULL);
    sk_acl b[] = {
        allow(SK_RES_TOPIC, SK_PAT_LITERAL, "orders", "User:alice", SK_OP_WRITE),
        allow(SK_RES_TOPIC, SK_PAT_PREFIXED, "logs-", "User:bob", SK_OP_READ),
        allow(SK_RES_TOPIC, SK_PAT_LITERAL, "*", "User:carol", SK_OP_ALL),
        allow(SK_RES_GROUP, SK_PAT_LITERAL, "g1", "User:*", SK_OP_READ),
    };
    ck_assert_int_eq(sk_acl_store_add(s, b, 4), 0);
    ck_assert(can(s, "User:alice", SK_OP_WRITE, SK_RES_TOPIC, "orders"));
    ck_assert(can(s, "User:alice", SK_OP_DESCRIBE, SK_RES_TOPIC, "orders")); /* implied by WRITE */
    ck_assert(!can(s, "User:alice", SK_OP_READ, SK_RES_TOPIC, "orders"));
    ck_assert(!can(s, "User:alice", SK_OP_WRITE, SK_RES_TOPIC, "orders2"));
    ck_assert(can(s, "User:bob", SK_OP_READ, SK_RES_TOPIC, "logs-a"));
    ck_assert(can(s, "User:bob", SK_OP_READ, SK_RES_TOPIC, "logs-"));
    ck_assert(!can(s, "User:bob", SK_OP_READ, SK_RES_TOPIC, "logs"));
    ck_assert(can(s, "User:carol", SK_OP_DELETE, SK_RES_TOPIC, "anything"));
    ck_assert(!can(s, "User:carol", SK_OP_READ, SK_RES_GROUP, "anything"));
    ck_assert(can(s, "User:dave", SK_OP_READ, SK_RES_GROUP, "g1"));
    ck_assert(can(s, "User:dave", SK_OP_DESCRIBE, SK_RES_GROUP, "g1"));
    ck_assert(!can(s, "User:dave", SK_OP_DELETE, SK_RES_GROUP, "g1"));
    ck_assert(!can(s, "User:dave", SK_OP_READ, SK_RES_GROUP, "g2"));
    /* the same binding twice is kept once */
    ck_assert_int_eq(sk_acl_store_add(s, b, 1), 0);
    ck_assert_uint_eq(sk_acl_store_count(s), 4);
    sk_acl_store_free(s);
}
END_TEST

START_TEST(test_deny_implied_host_super_everyone)
{
    sk_acl_store *s = sk_acl_store_open(NULL);
    sk_acl b[] = {
        allow(SK_RES_TOPIC, SK_PAT_PREFIXED, "t", "User:alice", SK_OP_ALL),
        {SK_RES_TOPIC, SK_PAT_LITERAL, SK_OP_READ, SK_PERM_DENY, "t1", "User:alice", "*"},
        {SK_RES_TOPIC, SK_PAT_LITERAL, SK_OP_WRITE, SK_PERM_ALLOW, "h", "User:bob", "10.0.0.1"},
        allow(SK_RES_TOPIC, SK_PAT_LITERAL, "cfg", "User:bob", SK_OP_ALTER_CONFIGS),
        allow(SK_RES_TOPIC, SK_PAT_LITERAL, "rd", "User:bob", SK_OP_READ),
        {SK_RES_TOPIC, SK_PAT_LITERAL, SK_OP_DESCRIBE, SK_PERM_DENY, "rd", "User:*", "*"},
    };
    ck_assert_int_eq(sk_acl_store_add(s, b, 6), 0);
    /* DENY wins over ALLOW ALL, for its operation only */
    ck_assert(!can(s, "User:alice", SK_OP_READ, SK_RES_TOPIC, "t1"));
    ck_assert(can(s, "User:alice", SK_OP_WRITE, SK_RES_TOPIC, "t1"));
    ck_assert(can(s, "User:alice", SK_OP_DESCRIBE, SK_RES_TOPIC, "t1"));
    /* hosts */
    ck_assert(sk_acl_authorize(s, "User:bob", "10.0.0.1", SK_OP_WRITE, SK_RES_TOPIC, "h"));
    ck_assert(!sk_acl_authorize(s, "User:bob", "10.0.0.2", SK_OP_WRITE, SK_RES_TOPIC, "h"));
    /* ALTER_CONFIGS implies DESCRIBE_CONFIGS, not DESCRIBE */
    ck_assert(can(s, "User:bob", SK_OP_DESCRIBE_CONFIGS, SK_RES_TOPIC, "cfg"));
    ck_assert(!can(s, "User:bob", SK_OP_DESCRIBE, SK_RES_TOPIC, "cfg"));
    /* a DENY DESCRIBE beats the DESCRIBE that READ implies */
    ck_assert(can(s, "User:bob", SK_OP_READ, SK_RES_TOPIC, "rd"));
    ck_assert(!can(s, "User:bob", SK_OP_DESCRIBE, SK_RES_TOPIC, "rd"));
    /* no binding on the resource: allow.everyone.if.no.acl.found decides;
     * bindings for others on it: refused */
    ck_assert(!can(s, "User:zed", SK_OP_READ, SK_RES_TOPIC, "free"));
    ck_assert_int_eq(sk_acl_store_configure(s, " User:root ;User:ops", true), 0);
    ck_assert(can(s, "User:zed", SK_OP_READ, SK_RES_TOPIC, "free"));
    ck_assert(!can(s, "User:zed", SK_OP_READ, SK_RES_TOPIC, "t1"));
    ck_assert(can(s, "User:root", SK_OP_READ, SK_RES_TOPIC, "t1"));
    ck_assert(can(s, "User:ops", SK_OP_ALTER, SK_RES_CLUSTER, "kafka-cluster"));
    ck_assert(!can(s, "User:roo", SK_OP_READ, SK_RES_TOPIC, "t1"));
    sk_acl_store_free(s);
}
END_TEST

START_TEST(test_filters)
{
    sk_acl lit = allow(SK_RES_TOPIC, SK_PAT_LITERAL, "foo", "User:a", SK_OP_READ);
    sk_acl star = allow(SK_RES_TOPIC, SK_PAT_LITERAL, "*", "User:a", SK_OP_READ);
    sk_acl pre = allow(SK_RES_TOPIC, SK_PAT_PREFIXED, "fo", "User:a", SK_OP_READ);
    sk_acl f = {SK_RES_ANY, SK_PAT_ANY, SK_OP_ANY, SK_PERM_ANY, NULL, NULL, NULL};
    ck_assert(sk_acl_filter_matches(&f, &lit) && sk_acl_filter_matches(&f, &pre));
    f.name = "foo"; /* ANY: exact names of any pattern type */
    ck_assert(sk_acl_filter_matches(&f, &lit) && !sk_acl_filter_matches(&f, &pre) && !sk_acl_filter_matches(&f, &star));
    f.pattern_type = SK_PAT_MATCH; /* MATCH: what applies to resource "foo" */
    ck_assert(sk_acl_filter_matches(&f, &lit) && sk_acl_filter_matches(&f, &pre) && sk_acl_filter_matches(&f, &star));
    f.name = "fo";
    ck_assert(!sk_acl_filter_matches(&f, &lit) && sk_acl_filter_matches(&f, &pre));
    f.pattern_type = SK_PAT_PREFIXED;
    ck_assert(!sk_acl_filter_matches(&f, &lit) && sk_acl_filter_matches(&f, &pre));
    f.name = "foo";
    ck_assert(!sk_acl_filter_matches(&f, &pre));
    f = (sk_acl){SK_RES_GROUP, SK_PAT_ANY, SK_OP_ANY, SK_PERM_ANY, NULL, NULL, NULL};
    ck_assert(!sk_acl_filter_matches(&f, &lit));
    f = (sk_acl){SK_RES_ANY, SK_PAT_ANY, SK_OP_WRITE, SK_PERM_ANY, NULL, NULL, NULL};
    ck_assert(!sk_acl_filter_matches(&f, &lit));
    f = (sk_acl){SK_RES_ANY, SK_PAT_ANY, SK_OP_ANY, SK_PERM_DENY, NULL, NULL, NULL};
    ck_assert(!sk_acl_filter_matches(&f, &lit));
    f = (sk_acl){SK_RES_ANY, SK_PAT_ANY, SK_OP_ANY, SK_PERM_ANY, NULL, "User:b", NULL};
    ck_assert(!sk_acl_filter_matches(&f, &lit));
    f.principal = "User:a", f.host = "*";
    ck_assert(sk_acl_filter_matches(&f, &lit));
    f.pattern_type = SK_PAT_UNKNOWN;
    ck_assert_str_eq(sk_acl_validate_filter(&f), "Unknown patternFilter.");
    f.pattern_type = SK_PAT_ANY, f.operation = SK_OP_UNKNOWN;
    ck_assert_str_eq(sk_acl_validate_filter(&f), "Unknown entryFilter.");
}
END_TEST

START_TEST(test_validate)
{
    char buf[256];
    sk_acl b = allow(SK_RES_TOPIC, SK_PAT_LITERAL, "t", "User:a", SK_OP_READ);
    ck_assert_ptr_null(sk_acl_validate(&b, buf, sizeof buf));
    b.pattern_type = SK_PAT_MATCH;
    ck_assert_str_eq(sk_acl_validate(&b, buf, sizeof buf), "Invalid patternType MATCH");
    b.pattern_type = SK_PAT_ANY;
    ck_assert_str_eq(sk_acl_validate(&b, buf, sizeof buf), "Invalid patternType ANY");
    b.pattern_type = SK_PAT_PREFIXED, b.resource_type = SK_RES_ANY;
    ck_assert_str_eq(sk_acl_validate(&b, buf, sizeof buf), "Invalid resourceType ANY");
    b.resource_type = SK_RES_TOPIC, b.operation = SK_OP_ANY;
    ck_assert_str_eq(sk_acl_validate(&b, buf, sizeof buf), "Invalid operation ANY");
    b.operation = SK_OP_READ, b.permission = SK_PERM_ANY;
    ck_assert_str_eq(sk_acl_validate(&b, buf, sizeof buf), "Invalid permissionType ANY");
    b.permission = SK_PERM_DENY, b.principal = "alice";
    ck_assert_ptr_nonnull(strstr(sk_acl_validate(&b, buf, sizeof buf), "Could not parse principal from `alice`"));
    b.principal = "User:a", b.name = "";
    ck_assert_str_eq(sk_acl_validate(&b, buf, sizeof buf), "Invalid empty resource name");
    b.resource_type = SK_RES_CLUSTER, b.name = "c";
    ck_assert_str_eq(sk_acl_validate(&b, buf, sizeof buf),
                     "The only valid name for the CLUSTER resource is kafka-cluster");
    ck_assert_int_eq(sk_acl_code(9, SK_PERM_ALLOW), SK_PERM_UNKNOWN);
    ck_assert_int_eq(sk_acl_code(-1, SK_RES_USER), SK_RES_UNKNOWN);
}
END_TEST

static void count_cb(void *arg, const sk_acl *b)
{
    (void)b;
    (*(int *)arg)++;
}

START_TEST(test_store_file)
{
    char dir[] = "/tmp/skiff-acl-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    sk_acl_store *s = sk_acl_store_open(dir);
    ck_assert_ptr_nonnull(s);
    sk_acl b[] = {
        allow(SK_RES_TOPIC, SK_PAT_PREFIXED, "a b", "User:x y", SK_OP_WRITE),
        {SK_RES_TRANSACTIONAL_ID, SK_PAT_LITERAL, SK_OP_WRITE, SK_PERM_DENY, "tx", "User:*", "::1"},
        allow(SK_RES_GROUP, SK_PAT_LITERAL, "g", "User:x y", SK_OP_READ),
    };
    ck_assert_int_eq(sk_acl_store_add(s, b, 3), 0);
    int removed = 0;
    sk_acl f = {SK_RES_GROUP, SK_PAT_ANY, SK_OP_ANY, SK_PERM_ANY, NULL, NULL, NULL};
    ck_assert_int_eq(sk_acl_store_delete(s, &f, count_cb, &removed), 1);
    ck_assert_int_eq(removed, 1);
    sk_acl_store_free(s);
    s = sk_acl_store_open(dir);
    ck_assert_ptr_nonnull(s);
    ck_assert_uint_eq(sk_acl_store_count(s), 2);
    ck_assert(can(s, "User:x y", SK_OP_WRITE, SK_RES_TOPIC, "a bc"));
    ck_assert(!sk_acl_authorize(s, "User:q", "::1", SK_OP_WRITE, SK_RES_TRANSACTIONAL_ID, "tx"));
    sk_acl_store_free(s);
    char path[128];
    snprintf(path, sizeof path, "%s/acls", dir);
    FILE *fp = fopen(path, "a");
    fputs("TOPIC LITERAL READ ALLOW !!! VXNlcjph Kg==\n", fp);
    fclose(fp);
    ck_assert_ptr_null(sk_acl_store_open(dir));
    fp = fopen(path, "w");
    fputs("TOPIC MATCH READ ALLOW dA== VXNlcjph Kg==\n", fp); /* a pattern type no binding has */
    fclose(fp);
    ck_assert_ptr_null(sk_acl_store_open(dir));
    unlink(path);
    rmdir(dir);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("acl");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_literal_prefixed_wildcard);
    tcase_add_test(tc, test_deny_implied_host_super_everyone);
    tcase_add_test(tc, test_filters);
    tcase_add_test(tc, test_validate);
    tcase_add_test(tc, test_store_file);
    suite_add_tcase(s, tc);
    return sk_unit_run(s);
}
