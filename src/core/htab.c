/* Intrusive chained hash table (skiff/htab.h). */
#include <stdlib.h>

#include "skiff/htab.h"

#define FNV_OFFSET 14695981039346656037ULL
#define FNV_PRIME 1099511628211ULL
#define FIRST_BUCKETS 16

uint64_t sk_hash_more(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * FNV_PRIME;
    return h;
}

uint64_t sk_hash_bytes(const void *p, size_t n)
{
    return sk_hash_more(FNV_OFFSET, p, n);
}

void sk_htab_init(sk_htab *t)
{
    *t = (sk_htab){0};
}

static sk_hnode **head_of(const sk_htab *t, uint64_t hash)
{
    return &t->buckets[hash & (t->nbuckets - 1)];
}

/* Moves every node into a bucket array of `n` heads. */
static int rehash(sk_htab *t, size_t n)
{
    sk_hnode **b = calloc(n, sizeof *b);
    if (!b)
        return -1;
    for (size_t i = 0; i < t->nbuckets; i++) {
        for (sk_hnode *node = t->buckets[i], *next; node; node = next) {
            next = node->next;
            node->next = b[node->hash & (n - 1)];
            b[node->hash & (n - 1)] = node;
        }
    }
    free(t->buckets);
    t->buckets = b;
    t->nbuckets = n;
    return 0;
}

int sk_htab_reserve(sk_htab *t, size_t n)
{
    size_t want = FIRST_BUCKETS;
    while (want < n)
        want *= 2;
    return want <= t->nbuckets ? 0 : rehash(t, want);
}

int sk_htab_insert(sk_htab *t, sk_hnode *n, uint64_t hash)
{
    if (t->nbuckets == 0) {
        if (rehash(t, FIRST_BUCKETS) < 0)
            return -1;
    } else if (t->count >= t->nbuckets) {
        rehash(t, t->nbuckets * 2);
    }
    sk_hnode **head = head_of(t, hash);
    n->hash = hash;
    n->next = *head;
    *head = n;
    t->count++;
    return 0;
}

void sk_htab_remove(sk_htab *t, sk_hnode *n)
{
    sk_hnode **pp = head_of(t, n->hash);
    while (*pp != n)
        pp = &(*pp)->next;
    *pp = n->next;
    t->count--;
}

sk_hnode *sk_htab_chain(const sk_htab *t, uint64_t hash)
{
    return t->nbuckets ? *head_of(t, hash) : NULL;
}

sk_hnode *sk_htab_next(const sk_htab *t, const sk_hnode *n, size_t *bucket)
{
    if (n) {
        if (n->next)
            return n->next;
        ++*bucket;
    } else {
        *bucket = 0;
    }
    for (; *bucket < t->nbuckets; ++*bucket)
        if (t->buckets[*bucket])
            return t->buckets[*bucket];
    return NULL;
}

void sk_htab_free(sk_htab *t)
{
    free(t->buckets);
    *t = (sk_htab){0};
}
