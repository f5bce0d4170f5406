/*
 * Bump allocator for request-scoped memory: chunks of at least 4 KiB, each
 * allocation rounded up to 16 bytes, everything freed at once.
 */
#include "skiff/arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_ALIGN 16
#define ARENA_MIN_CHUNK 4096

struct sk_arena_chunk {
    sk_arena_chunk *next;                       /* older chunk */
    size_t size;                                /* usable bytes in data */
    _Alignas(ARENA_ALIGN) unsigned char data[]; /* the allocations, `size` bytes */
};

void sk_arena_init(sk_arena *a)
{
    memset(a, 0, sizeof *a);
}

void *sk_arena_alloc(sk_arena *a, size_t n)
{
    if (n > SIZE_MAX - ARENA_MIN_CHUNK - sizeof(sk_arena_chunk))
        return NULL;
    size_t need = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    if (!a->head || a->head->size - a->used < need) {
        size_t size = need > ARENA_MIN_CHUNK ? need : ARENA_MIN_CHUNK;
        if (a->head && size < a->head->size * 2 && a->head->size < (1u << 20))
            size = a->head->size * 2 > need ? a->head->size * 2 : need;
        sk_arena_chunk *c = malloc(sizeof *c + size);
        if (!c)
            return NULL;
        c->next = a->head;
        c->size = size;
        a->head = c;
        a->used = 0;
    }
    void *p = a->head->data + a->used; /* for n == 0 possibly the chunk's end: a pointer to no bytes */
    a->used += need;
    a->total += need;
    memset(p, 0, n);
    return p;
}

char *sk_arena_strndup(sk_arena *a, const char *src, size_t n)
{
    char *s = sk_arena_alloc(a, n + 1);
    if (s && n)
        memcpy(s, src, n);
    return s;
}

void sk_arena_free(sk_arena *a)
{
    sk_arena_chunk *c = a->head;
    while (c) {
        sk_arena_chunk *next = c->next;
        free(c);
        c = next;
    }
    sk_arena_init(a);
}
