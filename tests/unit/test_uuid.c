/* Unit tests of UUIDs and their base64url form (Kafka's Uuid.toString). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "skiff/uuid.h"
#include "unit_run.h"

START_TEST(test_uuid_strings)
{
    uint8_t id[16], back[16];
    char s[SK_UUID_STR_LEN + 1];
    for (int i = 0; i < 100; i++) {
        ck_assert_int_eq(sk_uuid_random(id), 0);
        sk_uuid_to_string(id, s);
        ck_assert_uint_eq(strlen(s), 22);
        ck_assert(s[0] != '-');
        ck_assert_int_eq(sk_uuid_from_string(s, back), 0);
        ck_assert_mem_eq(id, back, 16);
    }
    memset(id, 0, 16);
    sk_uuid_to_string(id, s);
    ck_assert_str_eq(s, "AAAAAAAAAAAAAAAAAAAAAA");
    ck_assert(sk_uuid_is_zero(id));
    ck_assert_int_eq(sk_uuid_from_string("AAAAAAAAAAAAAAAAAAAAAB", back), -1); /* non-zero padding bits */
    ck_assert_int_eq(sk_uuid_from_string("AAAA", back), -1);
    ck_assert_int_eq(sk_uuid_from_string("AAAAAAAAAAAAAAAAAAAAA*", back), -1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("uuid");
    TCase *tc = tcase_create("uuid");
    tcase_add_test(tc, test_uuid_strings);
    suite_add_tcase(s, tc);
    return sk_unit_run(s);
}
