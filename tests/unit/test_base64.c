/* Unit tests of base64 (src/core/base64.c): RFC 4648 section 10's test
 * vectors, every byte value, and the inputs the decoder refuses. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "skiff/base64.h"
#include "unit_run.h"

START_TEST(test_rfc4648_vectors)
{
    static const char *const plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *const coded[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    char text[16];
    uint8_t out[16];
    for (int i = 0; i < 7; i++) {
        ck_assert_uint_eq(sk_base64_encode((const uint8_t *)plain[i], strlen(plain[i]), text), strlen(coded[i]));
        ck_assert_str_eq(text, coded[i]);
        char *s = sk_base64_encode_alloc((const uint8_t *)plain[i], strlen(plain[i]));
        ck_assert_str_eq(s, coded[i]);
        free(s);
        int n = sk_base64_decode(coded[i], strlen(coded[i]), out, sizeof out);
        ck_assert_int_eq(n, (int)strlen(plain[i]));
        ck_assert_mem_eq(out, plain[i], (size_t)n);
    }
}
END_TEST

START_TEST(test_every_byte)
{
    uint8_t all[256], back[256];
    for (int i = 0; i < 256; i++)
        all[i] = (uint8_t)i;
    char *s = sk_base64_encode_alloc(all, 256);
    ck_assert_uint_eq(strlen(s), 344);
    ck_assert_int_eq(sk_base64_decode(s, strlen(s), back, sizeof back), 256);
    ck_assert_mem_eq(all, back, 256);
    free(s);
}
END_TEST

START_TEST(test_refused)
{
    static const char *const bad[] = {"Zg=",  "Z===",     "Zg=a",     "=Zga", "Zm9v\n",
                                      "Zm9!", "Zg==Zg==", "Zm8=Zg==", "YW=j", "YWI"};
    uint8_t out[16];
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        ck_assert_msg(sk_base64_decode(bad[i], strlen(bad[i]), out, sizeof out) == -1, "%s", bad[i]);
    /* More bytes than the caller has room for. */
    ck_assert_int_eq(sk_base64_decode("YWJjYWJj", 8, out, 5), -1);
    ck_assert_int_eq(sk_base64_decode("YWJjYWJj", 8, out, 6), 6);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("base64");
    TCase *tc = tcase_create("base64");
    tcase_add_test(tc, test_rfc4648_vectors);
    tcase_add_test(tc, test_every_byte);
    tcase_add_test(tc, test_refused);
    suite_add_tcase(s, tc);
    return sk_unit_run(s);
}
