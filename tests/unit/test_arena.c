/* Unit tests of the request arena (skiff/arena.h). */
#include <check.h>
#include <stdint.h>
#include <string.h>

#include "skiff/arena.h"
#include "unit_run.h"

/* Zero bytes is a valid request: a non-NULL pointer, so a handler's empty
 * array needs no "+ 1"; fresh and full chunks alike. */
START_TEST(test_arena_zero_bytes)
{
    sk_arena a = {0};
    void *empty = sk_arena_alloc(&a, 0);
    ck_assert_ptr_nonnull(empty);
    /* Fill the first chunk exactly, then ask for zero bytes again. */
    size_t left = 4096;
    ck_assert_ptr_nonnull(sk_arena_alloc(&a, left));
    ck_assert_ptr_nonnull(sk_arena_alloc(&a, 0));
    sk_arena_free(&a);
    ck_assert_ptr_nonnull(sk_arena_alloc(&a, 0));
    sk_arena_free(&a);
}
END_TEST

START_TEST(test_arena_alignment_and_zeroing)
{
    sk_arena a = {0};
    for (size_t n = 1; n < 100; n += 7) {
        unsigned char *p = sk_arena_alloc(&a, n);
        ck_assert_ptr_nonnull(p);
        ck_assert_uint_eq((uintptr_t)p % 16, 0);
        for (size_t i = 0; i < n; i++)
            ck_assert_uint_eq(p[i], 0);
        memset(p, 0xff, n);
    }
    char *s = sk_arena_strndup(&a, "abc", 3);
    ck_assert_str_eq(s, "abc");
    ck_assert_str_eq(sk_arena_strndup(&a, NULL, 0), "");
    sk_arena_free(&a);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("arena");
    TCase *tc = tcase_create("arena");
    tcase_add_test(tc, test_arena_zero_bytes);
    tcase_add_test(tc, test_arena_alignment_and_zeroing);
    suite_add_tcase(s, tc);
    return sk_unit_run(s);
}
