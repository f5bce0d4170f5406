/*
 * Bounds-checked readers and growable writers for Kafka's wire encoding.
 * See include/skiff/buf.h for the contract (sticky errors, ownership).
 */
#include "skiff/buf.h"

#include <stdlib.h>
#include <string.h>

int16_t sk_read_i16(sk_reader *r)
{
    const uint8_t *p = sk_read_raw(r, 2);
    return p ? (int16_t)sk_be16(p) : 0;
}

uint16_t sk_read_u16(sk_reader *r)
{
    const uint8_t *p = sk_read_raw(r, 2);
    return p ? sk_be16(p) : 0;
}

int32_t sk_read_i32(sk_reader *r)
{
    const uint8_t *p = sk_read_raw(r, 4);
    return p ? (int32_t)sk_be32(p) : 0;
}

uint32_t sk_read_u32(sk_reader *r)
{
    const uint8_t *p = sk_read_raw(r, 4);
    return p ? sk_be32(p) : 0;
}

int64_t sk_read_i64(sk_reader *r)
{
    const uint8_t *p = sk_read_raw(r, 8);
    return p ? (int64_t)sk_be64(p) : 0;
}

double sk_read_f64(sk_reader *r)
{
    const uint8_t *p = sk_read_raw(r, 8);
    double d = 0;
    if (p) {
        uint64_t bits = sk_be64(p);
        memcpy(&d, &bits, sizeof d);
    }
    return d;
}

void sk_writer_init(sk_writer *w, size_t hint)
{
    w->buf = hint ? malloc(hint) : NULL;
    w->len = 0;
    w->cap = w->buf ? hint : 0;
    w->err = hint && !w->buf;
    w->splice = NULL;
    w->splice_arg = NULL;
}

void sk_writer_free(sk_writer *w)
{
    free(w->buf);
    w->buf = NULL;
    w->len = w->cap = 0;
}

uint8_t *sk_writer_take(sk_writer *w, size_t *len)
{
    uint8_t *b = w->buf;
    *len = w->len;
    w->buf = NULL;
    w->len = w->cap = 0;
    return b;
}

uint8_t *sk_writer_reserve(sk_writer *w, size_t n)
{
    if (w->err)
        return NULL;
    if (!w->buf || w->cap - w->len < n) {
        size_t cap = w->cap ? w->cap : 64;
        while (cap - w->len < n) {
            if (cap > SIZE_MAX / 2) {
                w->err = 1;
                return NULL;
            }
            cap *= 2;
        }
        uint8_t *b = realloc(w->buf, cap);
        if (!b) {
            w->err = 1;
            return NULL;
        }
        w->buf = b;
        w->cap = cap;
    }
    uint8_t *p = w->buf + w->len;
    w->len += n;
    return p;
}

void sk_write_raw(sk_writer *w, const void *data, size_t n)
{
    uint8_t *p = sk_writer_reserve(w, n);
    if (p && n)
        memcpy(p, data, n);
}

void sk_write_i8(sk_writer *w, int8_t v)
{
    uint8_t *p = sk_writer_reserve(w, 1);
    if (p)
        p[0] = (uint8_t)v;
}

void sk_write_i16(sk_writer *w, int16_t v)
{
    uint8_t *p = sk_writer_reserve(w, 2);
    if (p)
        sk_put_be16(p, (uint16_t)v);
}

void sk_write_u16(sk_writer *w, uint16_t v)
{
    uint8_t *p = sk_writer_reserve(w, 2);
    if (p)
        sk_put_be16(p, v);
}

void sk_write_i32(sk_writer *w, int32_t v)
{
    uint8_t *p = sk_writer_reserve(w, 4);
    if (p)
        sk_put_be32(p, (uint32_t)v);
}

void sk_write_u32(sk_writer *w, uint32_t v)
{
    uint8_t *p = sk_writer_reserve(w, 4);
    if (p)
        sk_put_be32(p, v);
}

void sk_write_i64(sk_writer *w, int64_t v)
{
    uint8_t *p = sk_writer_reserve(w, 8);
    if (p)
        sk_put_be64(p, (uint64_t)v);
}

void sk_write_f64(sk_writer *w, double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    uint8_t *p = sk_writer_reserve(w, 8);
    if (p)
        sk_put_be64(p, bits);
}

static void write_uleb(sk_writer *w, uint64_t v)
{
    uint8_t tmp[10];
    size_t n = 0;
    while (v >= 0x80) {
        tmp[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    tmp[n++] = (uint8_t)v;
    sk_write_raw(w, tmp, n);
}

void sk_write_uvarint(sk_writer *w, uint32_t v)
{
    write_uleb(w, v);
}

void sk_write_varint(sk_writer *w, int32_t v)
{
    write_uleb(w, ((uint32_t)v << 1) ^ (uint32_t)(v >> 31));
}

void sk_write_varlong(sk_writer *w, int64_t v)
{
    write_uleb(w, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

static size_t uleb_size(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

size_t sk_uvarint_size(uint32_t v)
{
    return uleb_size(v);
}

size_t sk_varint_size(int32_t v)
{
    return uleb_size(((uint32_t)v << 1) ^ (uint32_t)(v >> 31));
}

size_t sk_varlong_size(int64_t v)
{
    return uleb_size(((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}
