/*
 * Byte readers and writers in Kafka's wire encoding (big-endian integers,
 * zig-zag varints, unsigned varints).
 *
 * sk_reader has a sticky error flag: the first short or malformed read sets
 * `err`, every later read returns zero and reads nothing, and the caller
 * checks `err` once at the end. No read ever goes past `end`.
 *
 * sk_writer appends to a heap buffer that it grows as needed; an allocation
 * failure sets the sticky `err` and later writes do nothing.
 */
#ifndef SKIFF_BUF_H
#define SKIFF_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sk_reader {
    const uint8_t *pos; /* next byte to read */
    const uint8_t *end; /* one past the last readable byte */
    int err;            /* 0, or set once on the first failed read */
} sk_reader;

/* The readers the record walk calls several times per record are inline:
 * as calls they were half of the instructions per 100 B message produced
 * (docs/benchmarks.md, issue 23). */

/* Reads `len` bytes at `data`; the bytes are borrowed and must outlive the reader. */
static inline void sk_reader_init(sk_reader *r, const void *data, size_t len)
{
    /* An empty reader may be given NULL; point it at a real byte so that no
     * pointer arithmetic is ever done on NULL. */
    static const uint8_t no_data[1];
    r->pos = data ? (const uint8_t *)data : no_data;
    r->end = r->pos + len;
    r->err = 0;
}

/* Bytes left to read (0 once err is set). */
static inline size_t sk_reader_left(const sk_reader *r)
{
    return r->err ? 0 : (size_t)(r->end - r->pos);
}

/* Marks the reader failed (e.g. a value out of range found by the caller). */
static inline void sk_reader_fail(sk_reader *r)
{
    r->err = 1;
    r->pos = r->end;
}

/* Returns a pointer to the next `n` bytes inside the reader's buffer and skips
 * them, or NULL (and sets err) when fewer than `n` are left. */
static inline const uint8_t *sk_read_raw(sk_reader *r, size_t n)
{
    if (r->err || (size_t)(r->end - r->pos) < n) {
        sk_reader_fail(r);
        return NULL;
    }
    const uint8_t *p = r->pos;
    r->pos += n;
    return p;
}

static inline int8_t sk_read_i8(sk_reader *r)
{
    const uint8_t *p = sk_read_raw(r, 1);
    return p ? (int8_t)p[0] : 0;
}

/* A base-128 unsigned value of at most `max_bytes` bytes (the varints below). */
static inline uint64_t sk_read_uleb(sk_reader *r, int max_bytes)
{
    const uint8_t *p = r->pos;
    uint64_t v = 0;
    for (int i = 0; !r->err && i < max_bytes && p < r->end; i++, p++) {
        v |= (uint64_t)(*p & 0x7f) << (7 * i);
        if (!(*p & 0x80)) {
            r->pos = p + 1;
            return v;
        }
    }
    sk_reader_fail(r);
    return 0;
}

int16_t sk_read_i16(sk_reader *r);
int32_t sk_read_i32(sk_reader *r);
int64_t sk_read_i64(sk_reader *r);
uint16_t sk_read_u16(sk_reader *r);
uint32_t sk_read_u32(sk_reader *r);
double sk_read_f64(sk_reader *r);

/* Unsigned varint of at most 5 bytes (Kafka's ByteUtils.readUnsignedVarint). */
static inline uint32_t sk_read_uvarint(sk_reader *r)
{
    uint64_t v = sk_read_uleb(r, 5);
    if (v > UINT32_MAX) {
        sk_reader_fail(r);
        return 0;
    }
    return (uint32_t)v;
}

/* Zig-zag varint, 32 bits (at most 5 bytes). */
static inline int32_t sk_read_varint(sk_reader *r)
{
    uint32_t u = sk_read_uvarint(r);
    return (int32_t)((u >> 1) ^ (~(u & 1) + 1));
}

/* Zig-zag varlong, 64 bits (at most 10 bytes). */
static inline int64_t sk_read_varlong(sk_reader *r)
{
    uint64_t u = sk_read_uleb(r, 10);
    return (int64_t)((u >> 1) ^ (~(u & 1) + 1));
}

typedef struct sk_writer {
    uint8_t *buf; /* heap buffer owned by the writer; take it with sk_writer_take */
    size_t len;   /* bytes written */
    size_t cap;   /* bytes allocated */
    int err;      /* set once an allocation failed */
    /* Optional: called for `len` bytes held outside memory (kf_bytes.ext) at
     * the current position `w->len`; the hook records them (e.g. as a file
     * segment to send) without writing to `buf`. Returns 0 or -1. */
    int (*splice)(struct sk_writer *w, const void *ext, size_t len);
    void *splice_arg; /* for the hook */
} sk_writer;

/* Starts an empty writer with room for `hint` bytes (0 allowed). */
void sk_writer_init(sk_writer *w, size_t hint);
/* Frees the buffer. */
void sk_writer_free(sk_writer *w);
/* Hands the buffer to the caller (who frees it with free()) and resets the writer. */
uint8_t *sk_writer_take(sk_writer *w, size_t *len);
/* Reserves `n` bytes at the end and returns them for the caller to fill, or NULL. */
uint8_t *sk_writer_reserve(sk_writer *w, size_t n);

void sk_write_i8(sk_writer *w, int8_t v);
void sk_write_i16(sk_writer *w, int16_t v);
void sk_write_i32(sk_writer *w, int32_t v);
void sk_write_i64(sk_writer *w, int64_t v);
void sk_write_u16(sk_writer *w, uint16_t v);
void sk_write_u32(sk_writer *w, uint32_t v);
void sk_write_f64(sk_writer *w, double v);
void sk_write_uvarint(sk_writer *w, uint32_t v);
void sk_write_varint(sk_writer *w, int32_t v);
void sk_write_varlong(sk_writer *w, int64_t v);
void sk_write_raw(sk_writer *w, const void *data, size_t n);

/* Encoded sizes in bytes. */
size_t sk_uvarint_size(uint32_t v);
size_t sk_varint_size(int32_t v);
size_t sk_varlong_size(int64_t v);

/* Big-endian loads and stores on raw memory (no bounds: the caller checked). */
static inline uint16_t sk_be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}
static inline uint32_t sk_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline uint64_t sk_be64(const uint8_t *p)
{
    return (uint64_t)sk_be32(p) << 32 | sk_be32(p + 4);
}
static inline void sk_put_be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static inline void sk_put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}
static inline void sk_put_be64(uint8_t *p, uint64_t v)
{
    sk_put_be32(p, (uint32_t)(v >> 32));
    sk_put_be32(p + 4, (uint32_t)v);
}

#endif
