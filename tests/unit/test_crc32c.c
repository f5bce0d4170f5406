/*
 * CRC-32C: the standard check value on both the table-driven and the SSE4.2
 * path, chaining across calls, and agreement of the two paths on every
 * length and alignment of a pseudo-random buffer.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "skiff/crc32c.h"
#include "unit_run.h"

static const char check_input[] = "123456789";
#define CHECK_VALUE 0xE3069283u

START_TEST(test_sw_check_value)
{
    ck_assert_uint_eq(sk_crc32c_sw(0, check_input, 9), CHECK_VALUE);
}
END_TEST

START_TEST(test_hw_check_value)
{
    if (!sk_crc32c_hw_available())
        return; /* no SSE4.2 on this CPU: the sw test covers the fallback */
    ck_assert_uint_eq(sk_crc32c_hw(0, check_input, 9), CHECK_VALUE);
}
END_TEST

START_TEST(test_dispatch_check_value)
{
    ck_assert_uint_eq(sk_crc32c(0, check_input, 9), CHECK_VALUE);
}
END_TEST

START_TEST(test_empty_and_chaining)
{
    ck_assert_uint_eq(sk_crc32c(0, "", 0), 0);
    ck_assert_uint_eq(sk_crc32c_sw(0, "", 0), 0);
    uint32_t c = sk_crc32c(0, check_input, 4);
    ck_assert_uint_eq(sk_crc32c(c, check_input + 4, 5), CHECK_VALUE);
    c = sk_crc32c_sw(0, check_input, 1);
    ck_assert_uint_eq(sk_crc32c_sw(c, check_input + 1, 8), CHECK_VALUE);
}
END_TEST

/* RFC 3720 (iSCSI) B.4 test vectors: 32 bytes of zeros and of 0xff. */
START_TEST(test_rfc3720_vectors)
{
    uint8_t buf[32];
    memset(buf, 0, sizeof(buf));
    ck_assert_uint_eq(sk_crc32c_sw(0, buf, 32), 0x8A9136AAu);
    ck_assert_uint_eq(sk_crc32c(0, buf, 32), 0x8A9136AAu);
    memset(buf, 0xff, sizeof(buf));
    ck_assert_uint_eq(sk_crc32c_sw(0, buf, 32), 0x62A8AB43u);
    ck_assert_uint_eq(sk_crc32c(0, buf, 32), 0x62A8AB43u);
    for (int i = 0; i < 32; i++)
        buf[i] = (uint8_t)i;
    ck_assert_uint_eq(sk_crc32c_sw(0, buf, 32), 0x46DD794Eu);
    ck_assert_uint_eq(sk_crc32c(0, buf, 32), 0x46DD794Eu);
}
END_TEST

/* Both paths agree on every length and alignment, including the lengths
 * where the hardware path switches to three streams of 256 and of 8192
 * bytes (3 x 256 = 768, 3 x 8192 = 24576) and runs several rounds. */
START_TEST(test_paths_agree)
{
    enum { N = 2 * 3 * 8192 + 100 };
    uint8_t *buf = malloc(N + 8);
    uint32_t x = 12345;
    for (int i = 0; i < N + 8; i++) {
        x = x * 1103515245u + 12345u;
        buf[i] = (uint8_t)(x >> 16);
    }
    for (int off = 0; off < 8; off++)
        for (int len = 0; len <= N; len += (len < 64 ? 1 : len < 2048 ? 37 : 1021))
            ck_assert_uint_eq(sk_crc32c_hw(0, buf + off, (size_t)len), sk_crc32c_sw(0, buf + off, (size_t)len));
    static const int edges[] = {767, 768, 775, 1536, 24575, 24576, 24583, 49152, 49159, N};
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++)
        for (int off = 0; off < 8; off++)
            ck_assert_uint_eq(sk_crc32c_hw(0x1234567u, buf + off, (size_t)edges[i]),
                              sk_crc32c_sw(0x1234567u, buf + off, (size_t)edges[i]));
    free(buf);
}
END_TEST

static Suite *crc32c_suite(void)
{
    Suite *s = suite_create("crc32c");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_sw_check_value);
    tcase_add_test(tc, test_hw_check_value);
    tcase_add_test(tc, test_dispatch_check_value);
    tcase_add_test(tc, test_empty_and_chaining);
    tcase_add_test(tc, test_rfc3720_vectors);
    tcase_add_test(tc, test_paths_agree);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return sk_unit_run(crc32c_suite());
}
