/* Unit tests of the fetch session cache (KIP-227). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "skiff/fetch_session.h"
#include "unit_run.h"

static const uint8_t zero_id[16];

START_TEST(test_create_find_close)
{
    sk_fetch_sessions *c = sk_fetch_sessions_new();
    sk_fetch_session *a = sk_fetch_session_create(c);
    sk_fetch_session *b = sk_fetch_session_create(c);
    ck_assert_int_gt(a->id, 0);
    ck_assert_int_ne(a->id, b->id);
    ck_assert_int_eq(a->epoch, 1);
    ck_assert_ptr_eq(sk_fetch_session_find(c, a->id), a);
    int32_t id = a->id;
    sk_fetch_session_close(c, id);
    ck_assert_ptr_null(sk_fetch_session_find(c, id));
    ck_assert_ptr_eq(sk_fetch_session_find(c, b->id), b);
    sk_fetch_session_close(c, 12345); /* unknown: no-op */
    sk_fetch_sessions_free(c);
}
END_TEST

START_TEST(test_upsert_forget)
{
    sk_fetch_sessions *c = sk_fetch_sessions_new();
    sk_fetch_session *s = sk_fetch_session_create(c);
    for (int i = 0; i < 20; i++) {
        sk_fetch_part_state *p = sk_fetch_session_upsert(s, "t", zero_id, i);
        ck_assert_ptr_nonnull(p);
        p->fetch_offset = i * 10;
    }
    ck_assert_int_eq(s->nparts, 20);
    sk_fetch_part_state *p = sk_fetch_session_upsert(s, "t", zero_id, 7);
    ck_assert_int_eq(p->fetch_offset, 70);
    ck_assert_int_eq(s->nparts, 20);
    sk_fetch_session_forget(s, "t", zero_id, 7);
    ck_assert_int_eq(s->nparts, 19);
    ck_assert_int_eq(s->parts[7].partition, 8);
    ck_assert_int_eq(s->parts[7].fetch_offset, 80);
    sk_fetch_session_forget(s, "other", zero_id, 1); /* absent: no-op */
    ck_assert_int_eq(s->nparts, 19);

    uint8_t id[16] = {1, 2, 3};
    sk_fetch_part_state *q = sk_fetch_session_upsert(s, NULL, id, 0);
    ck_assert_ptr_null(q->topic);
    ck_assert_ptr_eq(sk_fetch_session_upsert(s, NULL, id, 0), q);
    ck_assert_int_eq(s->nparts, 20);
    sk_fetch_session_forget(s, NULL, id, 0);
    ck_assert_int_eq(s->nparts, 19);
    sk_fetch_sessions_free(c);
}
END_TEST

START_TEST(test_part_and_rotate)
{
    sk_fetch_sessions *c = sk_fetch_sessions_new();
    sk_fetch_session *s = sk_fetch_session_create(c);
    for (int i = 0; i < 5; i++)
        sk_fetch_session_upsert(s, "t", zero_id, i)->fetch_offset = 100 + i;
    ck_assert_ptr_null(sk_fetch_session_part(s, "t", zero_id, 5));
    ck_assert_ptr_null(sk_fetch_session_part(s, "u", zero_id, 0));
    ck_assert_int_eq(s->nparts, 5);
    sk_fetch_session_part(s, "t", zero_id, 1)->sent_records = true;
    sk_fetch_session_part(s, "t", zero_id, 3)->sent_records = true;
    sk_fetch_session_rotate(s);
    static const int32_t order[] = {0, 2, 4, 1, 3};
    for (int i = 0; i < 5; i++) {
        ck_assert_int_eq(s->parts[i].partition, order[i]);
        ck_assert_int_eq(s->parts[i].fetch_offset, 100 + order[i]);
        ck_assert(!s->parts[i].sent_records);
        ck_assert_str_eq(s->parts[i].topic, "t");
    }
    sk_fetch_session_rotate(s); /* no flags: the order stays */
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(s->parts[i].partition, order[i]);
    sk_fetch_sessions_free(c);
}
END_TEST

START_TEST(test_eviction_lru)
{
    sk_fetch_sessions *c = sk_fetch_sessions_new();
    int32_t first = sk_fetch_session_create(c)->id;
    int32_t second = sk_fetch_session_create(c)->id;
    for (int i = 2; i < SK_FETCH_SESSION_SLOTS; i++)
        sk_fetch_session_create(c);
    ck_assert_ptr_nonnull(sk_fetch_session_find(c, first)); /* now most recently used */
    sk_fetch_session *extra = sk_fetch_session_create(c);   /* evicts the least recently used: second */
    ck_assert_ptr_nonnull(extra);
    ck_assert_ptr_null(sk_fetch_session_find(c, second));
    ck_assert_ptr_nonnull(sk_fetch_session_find(c, first));
    sk_fetch_sessions_free(c);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("fetch_session");
    TCase *tc = tcase_create("fetch_session");
    tcase_add_test(tc, test_create_find_close);
    tcase_add_test(tc, test_upsert_forget);
    tcase_add_test(tc, test_part_and_rotate);
    tcase_add_test(tc, test_eviction_lru);
    suite_add_tcase(s, tc);
    return sk_unit_run(s);
}
