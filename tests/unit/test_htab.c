/* Unit tests of the intrusive hash table and FNV-1a hashing (skiff/htab.h). */
#include <check.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "skiff/htab.h"
#include "unit_run.h"

typedef struct entry {
    int key;
    sk_hnode node;
    bool seen;
} entry;

/* A deliberately weak hash: 7 keys share each value, so chains are long. */
static uint64_t weak_hash(int key)
{
    return (uint64_t)(key / 7);
}

static entry *find(const sk_htab *t, int key)
{
    uint64_t h = weak_hash(key);
    for (sk_hnode *n = sk_htab_chain(t, h); n; n = n->next) {
        entry *e = SK_CONTAINER_OF(n, entry, node);
        if (n->hash == h && e->key == key)
            return e;
    }
    return NULL;
}

START_TEST(test_fnv1a_vectors)
{
    /* Published FNV-1a 64 test vectors. */
    ck_assert_uint_eq(sk_hash_bytes("", 0), 0xcbf29ce484222325ULL);
    ck_assert_uint_eq(sk_hash_bytes("a", 1), 0xaf63dc4c8601ec8cULL);
    ck_assert_uint_eq(sk_hash_bytes("foobar", 6), 0x85944171f73967e8ULL);
    ck_assert_uint_eq(sk_hash_more(sk_hash_bytes("foo", 3), "bar", 3), sk_hash_bytes("foobar", 6));
}
END_TEST

START_TEST(test_insert_find_remove)
{
    enum { N = 1000 };
    entry *es = calloc(N, sizeof *es);
    sk_htab t;
    sk_htab_init(&t);
    ck_assert_ptr_null(sk_htab_chain(&t, 5));
    for (int i = 0; i < N; i++) {
        es[i].key = i;
        ck_assert_int_eq(sk_htab_insert(&t, &es[i].node, weak_hash(i)), 0);
    }
    ck_assert_uint_eq(t.count, N);
    ck_assert_uint_ge(t.nbuckets, N);
    ck_assert_uint_eq(t.nbuckets & (t.nbuckets - 1), 0);
    for (int i = 0; i < N; i++)
        ck_assert_ptr_eq(find(&t, i), &es[i]);
    ck_assert_ptr_null(find(&t, N));
    for (int i = 0; i < N; i += 2)
        sk_htab_remove(&t, &es[i].node);
    ck_assert_uint_eq(t.count, N / 2);
    for (int i = 0; i < N; i++)
        ck_assert_ptr_eq(find(&t, i), i % 2 ? &es[i] : NULL);
    sk_htab_free(&t);
    ck_assert_uint_eq(t.nbuckets, 0);
    ck_assert_ptr_null(sk_htab_chain(&t, 5));
    free(es);
}
END_TEST

/* Every node is visited once, also when each is removed as it is visited. */
START_TEST(test_iteration)
{
    enum { N = 300 };
    entry *es = calloc(N, sizeof *es);
    sk_htab t = {0};
    size_t bucket = 99;
    ck_assert_ptr_null(sk_htab_next(&t, NULL, &bucket));
    for (int i = 0; i < N; i++) {
        es[i].key = i;
        sk_htab_insert(&t, &es[i].node, weak_hash(i) * 31);
    }
    int visits = 0;
    for (sk_hnode *n = sk_htab_next(&t, NULL, &bucket); n; n = sk_htab_next(&t, n, &bucket)) {
        entry *e = SK_CONTAINER_OF(n, entry, node);
        ck_assert(!e->seen);
        e->seen = true;
        visits++;
    }
    ck_assert_int_eq(visits, N);
    visits = 0;
    for (sk_hnode *n = sk_htab_next(&t, NULL, &bucket), *next; n; n = next) {
        next = sk_htab_next(&t, n, &bucket);
        SK_CONTAINER_OF(n, entry, node)->seen = false;
        sk_htab_remove(&t, n);
        visits++;
    }
    ck_assert_int_eq(visits, N);
    ck_assert_uint_eq(t.count, 0);
    for (int i = 0; i < N; i++)
        ck_assert(!es[i].seen);
    ck_assert_ptr_null(sk_htab_next(&t, NULL, &bucket));
    sk_htab_free(&t);
    free(es);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("htab");
    TCase *tc = tcase_create("htab");
    tcase_add_test(tc, test_fnv1a_vectors);
    tcase_add_test(tc, test_insert_find_remove);
    tcase_add_test(tc, test_iteration);
    suite_add_tcase(s, tc);
    return sk_unit_run(s);
}
