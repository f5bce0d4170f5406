/*
 * Per-request bump allocator. Decoded request structs, their arrays and
 * strings live in one arena and are freed together with sk_arena_free.
 */
#ifndef SKIFF_ARENA_H
#define SKIFF_ARENA_H

#include <stddef.h>

typedef struct sk_arena_chunk sk_arena_chunk;

typedef struct sk_arena {
    sk_arena_chunk *head; /* newest chunk first; NULL when empty */
    size_t used;          /* bytes handed out from head */
    size_t total;         /* bytes handed out from all chunks, for limits */
} sk_arena;

/* An empty arena needs no allocation: `sk_arena a = {0};` works too. */
void sk_arena_init(sk_arena *a);
/* Returns `n` bytes aligned for any type, zero-filled, or NULL when out of
 * memory. Valid until sk_arena_free. `n` may be 0: the result is then a
 * non-NULL pointer to no bytes (NULL still means out of memory), so an empty
 * array needs no special case. */
void *sk_arena_alloc(sk_arena *a, size_t n);
/* Copies `n` bytes of `src` and appends a NUL byte; returns NULL when out of memory. */
char *sk_arena_strndup(sk_arena *a, const char *src, size_t n);
/* Frees every chunk; the arena is empty and reusable afterwards. */
void sk_arena_free(sk_arena *a);

#endif
