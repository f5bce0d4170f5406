/*
 * An intrusive chained hash table: the one index behind the broker's maps by
 * name or id (topics, partitions, groups, transactional ids, producer ids,
 * fetch sessions). An entry embeds an sk_hnode; the table stores node
 * pointers and each node's full hash, so it grows without knowing the keys,
 * and a lookup compares the stored hash before the key. Lookups walk a chain:
 *
 *     for (sk_hnode *n = sk_htab_chain(&t, h); n; n = n->next)
 *         if (n->hash == h && key_equals(SK_CONTAINER_OF(n, entry, node), key))
 *             return SK_CONTAINER_OF(n, entry, node);
 *
 * The table owns only its bucket array; entries belong to the caller.
 */
#ifndef SKIFF_HTAB_H
#define SKIFF_HTAB_H

#include <stddef.h>
#include <stdint.h>

/* The entry of type `type` whose member `member` is at `ptr`. */
#define SK_CONTAINER_OF(ptr, type, member) ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

/* Embedded in every entry; set by sk_htab_insert. */
typedef struct sk_hnode {
    struct sk_hnode *next; /* the next node of the same chain */
    uint64_t hash;         /* the entry's full hash */
} sk_hnode;

typedef struct sk_htab {
    sk_hnode **buckets; /* nbuckets chain heads; NULL before the first insert */
    size_t nbuckets;    /* 0 or a power of two */
    size_t count;       /* nodes linked */
} sk_htab;

/* 64-bit FNV-1a of `n` bytes at `p`; sk_hash_more continues a hash `h` with
 * more bytes (for keys of several parts). */
uint64_t sk_hash_bytes(const void *p, size_t n);
uint64_t sk_hash_more(uint64_t h, const void *p, size_t n);

/* An empty table (no allocation; `sk_htab t = {0};` works too). */
void sk_htab_init(sk_htab *t);

/* Makes the bucket array at least `n` heads (rounded up to a power of two),
 * so that inserts cannot fail from then on. Returns 0, or -1 when out of
 * memory (the table is unchanged). */
int sk_htab_reserve(sk_htab *t, size_t n);

/* Links `n` under `hash`. The bucket array doubles when the table holds as
 * many nodes as buckets; when that allocation fails the chains just get
 * longer. Returns 0, or -1 (nothing linked) only when the table has no
 * bucket array yet and one cannot be allocated. */
int sk_htab_insert(sk_htab *t, sk_hnode *n, uint64_t hash);

/* Unlinks `n`, which must be linked in `t`. n->next is left as it was, so an
 * iteration that fetched the next node first may go on. */
void sk_htab_remove(sk_htab *t, sk_hnode *n);

/* The head of the chain `hash` falls in, or NULL. */
sk_hnode *sk_htab_chain(const sk_htab *t, uint64_t hash);

/* Iterates over every node in bucket order: `*bucket` is the cursor, start
 * with n == NULL. Returns the node after `n`, or NULL at the end. Fetch the
 * next node before removing `n`. */
sk_hnode *sk_htab_next(const sk_htab *t, const sk_hnode *n, size_t *bucket);

/* Frees the bucket array (not the entries); the table is empty after. */
void sk_htab_free(sk_htab *t);

#endif
