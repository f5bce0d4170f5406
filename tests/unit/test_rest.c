/* Unit tests of the HTTP API's helpers (src/http/rest_kafka.c): RFC 3339
 * times and the Kafka error mapping (base64: test_base64.c). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/http/rest_int.h"
#include "skiff/api.h"
#include "skiff/errors.h"
#include "unit_run.h"

START_TEST(test_times)
{
    char out[40];
    sk_rest_iso_time(0, out, sizeof out);
    ck_assert_str_eq(out, "1970-01-01T00:00:00.000Z");
    sk_rest_iso_time(1767323045678, out, sizeof out);
    ck_assert_str_eq(out, "2026-01-02T03:04:05.678Z");
    sk_rest_iso_time(-1, out, sizeof out);
    ck_assert_str_eq(out, "1969-12-31T23:59:59.999Z");
    int64_t ms;
    ck_assert(sk_rest_parse_time("2026-01-02T03:04:05.678Z", &ms) && ms == 1767323045678);
    ck_assert(sk_rest_parse_time("2026-01-02T03:04:05Z", &ms) && ms == 1767323045000);
    ck_assert(sk_rest_parse_time("2026-01-02T03:04:05.6+00:00", &ms) && ms == 1767323045600);
    ck_assert(sk_rest_parse_time("2026-01-02T03:04:05.123456Z", &ms) && ms == 1767323045123);
    ck_assert(!sk_rest_parse_time("2026-01-02T03:04:05+01:00", &ms));
    ck_assert(!sk_rest_parse_time("2026-01-02T03:04:05.Z", &ms));
    ck_assert(!sk_rest_parse_time("2026-01-02", &ms));
    ck_assert(!sk_rest_parse_time("", &ms));
}
END_TEST

START_TEST(test_error_mapping)
{
    int code;
    ck_assert_int_eq(sk_rest_status_of(SK_ERR_UNKNOWN_TOPIC_OR_PARTITION, &code), 404);
    ck_assert_int_eq(code, 40403);
    ck_assert_int_eq(sk_rest_status_of(SK_ERR_MESSAGE_TOO_LARGE, &code), 413);
    ck_assert_int_eq(code, 41301);
    ck_assert_int_eq(sk_rest_status_of(SK_ERR_INVALID_RECORD, &code), 400);
    ck_assert_int_eq(code, 40002);
    ck_assert_int_eq(sk_rest_status_of(SK_ERR_NOT_LEADER_OR_FOLLOWER, &code), 500);
    ck_assert_int_eq(code, 50003);
    ck_assert_int_eq(sk_rest_status_of(SK_ERR_KAFKA_STORAGE_ERROR, &code), 500);
    ck_assert_int_eq(code, 50003);
    ck_assert_int_eq(sk_rest_status_of(SK_ERR_UNKNOWN_SERVER_ERROR, &code), 500);
    ck_assert_int_eq(code, 50002);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("rest");
    TCase *tc = tcase_create("rest");
    tcase_add_test(tc, test_times);
    tcase_add_test(tc, test_error_mapping);
    suite_add_tcase(s, tc);
    return sk_unit_run(s);
}
