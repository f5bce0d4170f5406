/*
 * The one reader and writer of Kafka message bodies. It interprets the
 * kf_struct_desc tables that tools/kfgen generates from src/proto/schema, so
 * every API and version goes through the same few functions: decode_struct,
 * struct_size and encode_struct, each walking a struct's fields in wire order.
 *
 * Wire rules (Kafka's clients/src/main/resources/common/message/README.md):
 * - a field absent from a version is neither read nor written; decoding
 *   stores its default;
 * - non-flexible versions prefix strings with an int16 length and bytes,
 *   records and arrays with an int32 length, -1 meaning null;
 * - flexible versions use compact forms (unsigned varint of length + 1, 0
 *   meaning null) and end every struct with its tagged fields: an unsigned
 *   varint count, then per field its tag, its size and its value. Unknown
 *   tags are skipped; known tags are decoded from exactly `size` bytes;
 * - records are nullable bytes in every version;
 * - a nullable struct (KF_NULLABLE_STRUCT, held by pointer) starts with a
 *   marker: an int8, negative for null and else followed by the struct
 *   (written as -1 and 1); as a tagged field the marker is an unsigned varint,
 *   0 for null (Kafka's generator reads it as a signed int, so a value of
 *   2^31 or more is null too). The struct is allocated in the arena on decode.
 * A null where the version does not allow one is malformed on decode and is
 * written as empty on encode. Array counts and lengths larger than the bytes
 * left are rejected before anything is allocated, as Kafka does.
 */
#include "skiff/proto.h"

#include <string.h>

#include "kf_msgs.h"

static const uint8_t empty_bytes[1];

static bool present(const kf_field *f, int16_t v)
{
    return v >= f->ver_min && v <= f->ver_max;
}

static bool can_be_null(const kf_field *f, int16_t v)
{
    return f->type == KF_RECORDS || (v >= f->null_min && v <= f->null_max);
}

/* Arrays are declared by kfgen with kf_array's layout but their own type:
 * copy them through memcpy rather than casting the pointer. */
static kf_array load_array(const void *p)
{
    kf_array a;
    memcpy(&a, p, sizeof a);
    return a;
}

static void store_array(void *p, kf_array a)
{
    memcpy(p, &a, sizeof a);
}

static int64_t load_int(uint8_t type, const void *p)
{
    switch (type) {
    case KF_BOOL:
        return *(const bool *)p;
    case KF_INT8:
        return *(const int8_t *)p;
    case KF_INT16:
        return *(const int16_t *)p;
    case KF_INT32:
        return *(const int32_t *)p;
    case KF_UINT16:
        return *(const uint16_t *)p;
    case KF_UINT32:
        return *(const uint32_t *)p;
    default:
        return *(const int64_t *)p;
    }
}

static void store_int(uint8_t type, void *p, int64_t v)
{
    switch (type) {
    case KF_BOOL:
        *(bool *)p = v != 0;
        break;
    case KF_INT8:
        *(int8_t *)p = (int8_t)v;
        break;
    case KF_INT16:
        *(int16_t *)p = (int16_t)v;
        break;
    case KF_INT32:
        *(int32_t *)p = (int32_t)v;
        break;
    case KF_UINT16:
        *(uint16_t *)p = (uint16_t)v;
        break;
    case KF_UINT32:
        *(uint32_t *)p = (uint32_t)v;
        break;
    default:
        *(int64_t *)p = v;
        break;
    }
}

/* Size in memory of one array element. */
static size_t elem_size(uint8_t type, const kf_struct_desc *child)
{
    switch (type) {
    case KF_BOOL:
        return sizeof(bool);
    case KF_INT8:
        return 1;
    case KF_INT16:
    case KF_UINT16:
        return 2;
    case KF_INT32:
    case KF_UINT32:
        return 4;
    case KF_INT64:
    case KF_FLOAT64:
        return 8;
    case KF_UUID:
        return sizeof(kf_uuid);
    case KF_STRING:
        return sizeof(kf_str);
    case KF_STRUCT:
        return child->size;
    default:
        return sizeof(kf_bytes);
    }
}

/* Fewest wire bytes one value can take (at least 1), to bound array counts. */
static size_t min_wire_size(uint8_t type, bool flex)
{
    switch (type) {
    case KF_INT16:
    case KF_UINT16:
        return 2;
    case KF_INT32:
    case KF_UINT32:
        return 4;
    case KF_INT64:
    case KF_FLOAT64:
        return 8;
    case KF_UUID:
        return 16;
    case KF_STRING:
        return flex ? 1 : 2;
    case KF_BYTES:
    case KF_RECORDS:
        return flex ? 1 : 4;
    default:
        return 1;
    }
}

static void set_struct_defaults(const kf_struct_desc *d, void *out);

/* Stores the default of field `f` at `p`. */
static void set_default(const kf_field *f, void *p)
{
    switch (f->type) {
    case KF_STRING: {
        kf_str s = {f->def_null ? NULL : "", f->def_null ? -1 : 0};
        *(kf_str *)p = s;
        break;
    }
    case KF_BYTES:
    case KF_RECORDS: {
        kf_bytes b = {f->def_null ? NULL : empty_bytes, f->def_null ? -1 : 0, NULL};
        *(kf_bytes *)p = b;
        break;
    }
    case KF_ARRAY: {
        kf_array a = {NULL, f->def_null ? -1 : 0};
        store_array(p, a);
        break;
    }
    case KF_STRUCT:
        set_struct_defaults(f->child, p);
        break;
    case KF_NULLABLE_STRUCT:
        *(void **)p = NULL;
        break;
    case KF_UUID:
        memset(p, 0, sizeof(kf_uuid));
        break;
    case KF_FLOAT64:
        *(double *)p = (double)f->def;
        break;
    default:
        store_int(f->type, p, f->def);
        break;
    }
}

static void set_struct_defaults(const kf_struct_desc *d, void *out)
{
    for (uint16_t i = 0; i < d->nfields; i++)
        set_default(&d->fields[i], (char *)out + d->fields[i].offset);
}

/* ---- decoding ---- */

static int decode_struct(const kf_struct_desc *d, int16_t v, bool flex, sk_reader *r, sk_arena *arena, void *out);

/* Reads a length or count prefix: compact (unsigned varint of n + 1) when
 * flexible, else int16 or int32. Returns n, -1 for null, or -2 when malformed. */
static int64_t read_length(sk_reader *r, bool flex, bool i16)
{
    int64_t n;
    if (flex)
        n = (int64_t)sk_read_uvarint(r) - 1;
    else
        n = i16 ? sk_read_i16(r) : sk_read_i32(r);
    return r->err || n < -1 ? -2 : n;
}

static int fail(sk_reader *r)
{
    sk_reader_fail(r);
    return -1;
}

/* Decodes one value of `type` (not an array) into `p`. */
static int decode_value(uint8_t type, const kf_struct_desc *child, bool nullable, int16_t v, bool flex, sk_reader *r,
                        sk_arena *arena, void *p)
{
    switch (type) {
    case KF_BOOL:
        *(bool *)p = sk_read_i8(r) != 0;
        break;
    case KF_INT8:
        *(int8_t *)p = sk_read_i8(r);
        break;
    case KF_INT16:
        *(int16_t *)p = sk_read_i16(r);
        break;
    case KF_INT32:
        *(int32_t *)p = sk_read_i32(r);
        break;
    case KF_INT64:
        *(int64_t *)p = sk_read_i64(r);
        break;
    case KF_UINT16:
        *(uint16_t *)p = sk_read_u16(r);
        break;
    case KF_UINT32:
        *(uint32_t *)p = sk_read_u32(r);
        break;
    case KF_FLOAT64:
        *(double *)p = sk_read_f64(r);
        break;
    case KF_UUID: {
        const uint8_t *raw = sk_read_raw(r, sizeof(kf_uuid));
        if (raw)
            memcpy(p, raw, sizeof(kf_uuid));
        break;
    }
    case KF_STRING: {
        int64_t n = read_length(r, flex, true);
        kf_str s = {NULL, -1};
        if (n == -2 || (n == -1 && !nullable) || n > INT16_MAX || (n > 0 && (uint64_t)n > sk_reader_left(r)))
            return fail(r);
        if (n >= 0) {
            const uint8_t *raw = sk_read_raw(r, (size_t)n);
            s.p = sk_arena_strndup(arena, (const char *)raw, (size_t)n);
            if (!s.p)
                return fail(r);
            s.len = (int32_t)n;
        }
        *(kf_str *)p = s;
        break;
    }
    case KF_BYTES:
    case KF_RECORDS: {
        int64_t n = read_length(r, flex, false);
        kf_bytes b = {NULL, -1, NULL};
        if (n == -2 || (n == -1 && !nullable) || (n > 0 && (uint64_t)n > sk_reader_left(r)))
            return fail(r);
        if (n >= 0) {
            b.p = sk_read_raw(r, (size_t)n);
            b.len = (int32_t)n;
        }
        *(kf_bytes *)p = b;
        break;
    }
    case KF_STRUCT:
        return decode_struct(child, v, flex, r, arena, p);
    default:
        return fail(r);
    }
    return r->err ? -1 : 0;
}

static int decode_array(const kf_field *f, int16_t v, bool flex, sk_reader *r, sk_arena *arena, void *p)
{
    int64_t n = read_length(r, flex, false);
    kf_array a = {NULL, 0};
    if (n == -2 || (n == -1 && !can_be_null(f, v)))
        return fail(r);
    if (n > 0 && (uint64_t)n > sk_reader_left(r) / min_wire_size(f->elem, flex))
        return fail(r);
    if (n == -1) {
        a.n = -1;
    } else if (n > 0) {
        size_t es = elem_size(f->elem, f->child);
        a.items = sk_arena_alloc(arena, (size_t)n * es);
        if (!a.items)
            return fail(r);
        a.n = (int32_t)n;
        for (int32_t i = 0; i < a.n; i++)
            if (decode_value(f->elem, f->child, false, v, flex, r, arena, (char *)a.items + (size_t)i * es))
                return -1;
    }
    store_array(p, a);
    return 0;
}

/* A nullable struct: its marker (see the top of this file), then, unless
 * null, the struct in a new arena block whose address is stored at `p`. */
static int decode_nullable_struct(const kf_field *f, int16_t v, bool flex, sk_reader *r, sk_arena *arena, void *p)
{
    bool is_null = f->tag >= 0 ? (int32_t)sk_read_uvarint(r) <= 0 : sk_read_i8(r) < 0;
    void *child = NULL;
    if (r->err)
        return -1;
    if (!is_null) {
        child = sk_arena_alloc(arena, f->child->size);
        if (!child)
            return fail(r);
        if (decode_struct(f->child, v, flex, r, arena, child))
            return -1;
    }
    *(void **)p = child;
    return 0;
}

static int decode_field(const kf_field *f, int16_t v, bool flex, sk_reader *r, sk_arena *arena, void *p)
{
    if (f->type == KF_ARRAY)
        return decode_array(f, v, flex, r, arena, p);
    if (f->type == KF_NULLABLE_STRUCT)
        return decode_nullable_struct(f, v, flex, r, arena, p);
    return decode_value(f->type, f->child, can_be_null(f, v), v, flex, r, arena, p);
}

/* Reads the tagged-field section that ends a flexible struct. */
static int decode_tagged(const kf_struct_desc *d, int16_t v, sk_reader *r, sk_arena *arena, void *out)
{
    uint32_t count = sk_read_uvarint(r);
    for (uint32_t i = 0; i < count && !r->err; i++) {
        uint32_t tag = sk_read_uvarint(r);
        uint32_t size = sk_read_uvarint(r);
        const uint8_t *raw = sk_read_raw(r, size);
        if (!raw)
            return -1;
        for (uint16_t k = 0; k < d->nfields; k++) {
            const kf_field *f = &d->fields[k];
            if (f->tag < 0 || (uint32_t)f->tag != tag || !present(f, v))
                continue;
            sk_reader sub;
            sk_reader_init(&sub, raw, size);
            if (decode_field(f, v, true, &sub, arena, (char *)out + f->offset) || sk_reader_left(&sub) != 0)
                return fail(r);
        }
    }
    return r->err ? -1 : 0;
}

static int decode_struct(const kf_struct_desc *d, int16_t v, bool flex, sk_reader *r, sk_arena *arena, void *out)
{
    for (uint16_t i = 0; i < d->nfields; i++) {
        const kf_field *f = &d->fields[i];
        void *p = (char *)out + f->offset;
        if (f->tag >= 0 || !present(f, v))
            set_default(f, p);
        else if (decode_field(f, v, flex, r, arena, p))
            return -1;
    }
    return flex ? decode_tagged(d, v, r, arena, out) : 0;
}

int kf_decode(const kf_struct_desc *desc, int16_t version, bool flexible, sk_reader *r, sk_arena *arena, void *out)
{
    if (r->err)
        return -1;
    return decode_struct(desc, version, flexible, r, arena, out);
}

/* ---- sizing and encoding ---- */

/* The length a string, bytes or array value is written with: -1 only when
 * null is allowed, else empty. */
static int64_t wire_length(int64_t len, bool is_null, bool nullable)
{
    if (is_null)
        return nullable ? -1 : 0;
    return len;
}

static size_t length_size(int64_t n, bool flex, bool i16)
{
    if (flex)
        return sk_uvarint_size((uint32_t)(n + 1));
    return i16 ? 2 : 4;
}

static void write_length(sk_writer *w, int64_t n, bool flex, bool i16)
{
    if (flex)
        sk_write_uvarint(w, (uint32_t)(n + 1));
    else if (i16)
        sk_write_i16(w, (int16_t)n);
    else
        sk_write_i32(w, (int32_t)n);
}

/* Null bytes: a negative length, or no data in memory and none outside it. */
static bool bytes_null(const kf_bytes *b)
{
    return b->len < 0 || (!b->p && !b->ext);
}

static size_t struct_size(const kf_struct_desc *d, int16_t v, bool flex, const void *msg);
static void encode_struct(const kf_struct_desc *d, int16_t v, bool flex, const void *msg, sk_writer *w);

static size_t value_size(uint8_t type, const kf_struct_desc *child, bool nullable, int16_t v, bool flex, const void *p)
{
    switch (type) {
    case KF_STRING: {
        const kf_str *s = p;
        int64_t n = wire_length(s->len, !s->p || s->len < 0, nullable);
        return length_size(n, flex, true) + (size_t)(n > 0 ? n : 0);
    }
    case KF_BYTES:
    case KF_RECORDS: {
        const kf_bytes *b = p;
        int64_t n = wire_length(b->len, bytes_null(b), nullable);
        return length_size(n, flex, false) + (size_t)(n > 0 ? n : 0);
    }
    case KF_STRUCT:
        return struct_size(child, v, flex, p);
    default:
        return min_wire_size(type, flex);
    }
}

static void encode_value(uint8_t type, const kf_struct_desc *child, bool nullable, int16_t v, bool flex, const void *p,
                         sk_writer *w)
{
    switch (type) {
    case KF_BOOL:
        sk_write_i8(w, *(const bool *)p ? 1 : 0);
        break;
    case KF_INT8:
        sk_write_i8(w, *(const int8_t *)p);
        break;
    case KF_INT16:
        sk_write_i16(w, *(const int16_t *)p);
        break;
    case KF_INT32:
        sk_write_i32(w, *(const int32_t *)p);
        break;
    case KF_INT64:
        sk_write_i64(w, *(const int64_t *)p);
        break;
    case KF_UINT16:
        sk_write_u16(w, *(const uint16_t *)p);
        break;
    case KF_UINT32:
        sk_write_u32(w, *(const uint32_t *)p);
        break;
    case KF_FLOAT64:
        sk_write_f64(w, *(const double *)p);
        break;
    case KF_UUID:
        sk_write_raw(w, p, sizeof(kf_uuid));
        break;
    case KF_STRING: {
        const kf_str *s = p;
        int64_t n = wire_length(s->len, !s->p || s->len < 0, nullable);
        write_length(w, n, flex, true);
        if (n > 0)
            sk_write_raw(w, s->p, (size_t)n);
        break;
    }
    case KF_BYTES:
    case KF_RECORDS: {
        const kf_bytes *b = p;
        int64_t n = wire_length(b->len, bytes_null(b), nullable);
        write_length(w, n, flex, false);
        if (n > 0 && b->ext) {
            if (!w->splice || w->splice(w, b->ext, (size_t)n) < 0)
                w->err = 1;
        } else if (n > 0) {
            sk_write_raw(w, b->p, (size_t)n);
        }
        break;
    }
    case KF_STRUCT:
        encode_struct(child, v, flex, p, w);
        break;
    default:
        break;
    }
}

static size_t field_size(const kf_field *f, int16_t v, bool flex, const void *p)
{
    if (f->type == KF_NULLABLE_STRUCT) {
        const void *child = *(void *const *)p;
        return 1 + (child ? struct_size(f->child, v, flex, child) : 0);
    }
    if (f->type != KF_ARRAY)
        return value_size(f->type, f->child, can_be_null(f, v), v, flex, p);
    kf_array a = load_array(p);
    int64_t n = wire_length(a.n, a.n < 0, can_be_null(f, v));
    size_t total = length_size(n, flex, false);
    size_t es = elem_size(f->elem, f->child);
    for (int32_t i = 0; i < n; i++)
        total += value_size(f->elem, f->child, false, v, flex, (const char *)a.items + (size_t)i * es);
    return total;
}

static void encode_field(const kf_field *f, int16_t v, bool flex, const void *p, sk_writer *w)
{
    if (f->type == KF_NULLABLE_STRUCT) {
        const void *child = *(void *const *)p;
        if (f->tag >= 0)
            sk_write_uvarint(w, child ? 1 : 0);
        else
            sk_write_i8(w, child ? 1 : -1);
        if (child)
            encode_struct(f->child, v, flex, child, w);
        return;
    }
    if (f->type != KF_ARRAY) {
        encode_value(f->type, f->child, can_be_null(f, v), v, flex, p, w);
        return;
    }
    kf_array a = load_array(p);
    int64_t n = wire_length(a.n, a.n < 0, can_be_null(f, v));
    write_length(w, n, flex, false);
    size_t es = elem_size(f->elem, f->child);
    for (int32_t i = 0; i < n; i++)
        encode_value(f->elem, f->child, false, v, flex, (const char *)a.items + (size_t)i * es, w);
}

static bool struct_is_default(const kf_struct_desc *d, const void *msg);

/* True when the value at `p` equals the field's default (tagged fields are
 * written only when it does not). */
static bool is_default(const kf_field *f, const void *p)
{
    switch (f->type) {
    case KF_STRING: {
        const kf_str *s = p;
        return (!s->p || s->len < 0) ? f->def_null : !f->def_null && s->len == 0;
    }
    case KF_BYTES:
    case KF_RECORDS: {
        const kf_bytes *b = p;
        return bytes_null(b) ? f->def_null : !f->def_null && b->len == 0;
    }
    case KF_ARRAY: {
        kf_array a = load_array(p);
        return a.n < 0 ? f->def_null : !f->def_null && a.n == 0;
    }
    case KF_STRUCT:
        return struct_is_default(f->child, p);
    case KF_NULLABLE_STRUCT:
        return *(void *const *)p == NULL;
    case KF_UUID: {
        static const kf_uuid zero;
        return !memcmp(p, &zero, sizeof zero);
    }
    case KF_FLOAT64:
        return *(const double *)p == (double)f->def;
    default:
        return load_int(f->type, p) == f->def;
    }
}

static bool struct_is_default(const kf_struct_desc *d, const void *msg)
{
    for (uint16_t i = 0; i < d->nfields; i++)
        if (!is_default(&d->fields[i], (const char *)msg + d->fields[i].offset))
            return false;
    return true;
}

/* True when the tagged field `f` is written in version `v`. */
static bool tag_written(const kf_field *f, int16_t v, bool flex, const void *msg)
{
    return flex && f->tag >= 0 && present(f, v) && !is_default(f, (const char *)msg + f->offset);
}

static size_t struct_size(const kf_struct_desc *d, int16_t v, bool flex, const void *msg)
{
    size_t total = 0, ntags = 0;
    for (uint16_t i = 0; i < d->nfields; i++) {
        const kf_field *f = &d->fields[i];
        const void *p = (const char *)msg + f->offset;
        if (f->tag < 0 && present(f, v)) {
            total += field_size(f, v, flex, p);
        } else if (tag_written(f, v, flex, msg)) {
            size_t n = field_size(f, v, flex, p);
            total += sk_uvarint_size((uint32_t)f->tag) + sk_uvarint_size((uint32_t)n) + n;
            ntags++;
        }
    }
    if (flex)
        total += sk_uvarint_size((uint32_t)ntags);
    return total;
}

/* Tags are written in increasing order; kfgen makes schema order increasing. */
static void encode_struct(const kf_struct_desc *d, int16_t v, bool flex, const void *msg, sk_writer *w)
{
    uint32_t ntags = 0;
    for (uint16_t i = 0; i < d->nfields; i++) {
        const kf_field *f = &d->fields[i];
        if (f->tag < 0 && present(f, v))
            encode_field(f, v, flex, (const char *)msg + f->offset, w);
        else if (tag_written(f, v, flex, msg))
            ntags++;
    }
    if (!flex)
        return;
    sk_write_uvarint(w, ntags);
    for (uint16_t i = 0; i < d->nfields; i++) {
        const kf_field *f = &d->fields[i];
        if (!tag_written(f, v, flex, msg))
            continue;
        const void *p = (const char *)msg + f->offset;
        sk_write_uvarint(w, (uint32_t)f->tag);
        sk_write_uvarint(w, (uint32_t)field_size(f, v, flex, p));
        encode_field(f, v, flex, p, w);
    }
}

void kf_init(const kf_struct_desc *desc, void *msg)
{
    set_struct_defaults(desc, msg);
}

size_t kf_size(const kf_struct_desc *desc, int16_t version, bool flexible, const void *msg)
{
    return struct_size(desc, version, flexible, msg);
}

int kf_encode(const kf_struct_desc *desc, int16_t version, bool flexible, const void *msg, sk_writer *w)
{
    encode_struct(desc, version, flexible, msg, w);
    return w->err ? -1 : 0;
}

/* ---- Mirroring ---- */

/* The field of `desc` with the name and type of `like`, or NULL. */
static const kf_field *field_like(const kf_struct_desc *desc, const kf_field *like)
{
    for (uint16_t i = 0; i < desc->nfields; i++) {
        const kf_field *f = &desc->fields[i];
        if (f->type == like->type && f->elem == like->elem && !strcmp(f->name, like->name))
            return f;
    }
    return NULL;
}

/* For each field of `dd`, the field of `sd` it is mirrored from (NULL:
 * none), in `arena`; NULL when out of memory. */
static const kf_field **match_fields(const kf_struct_desc *dd, const kf_struct_desc *sd, sk_arena *arena)
{
    const kf_field **match = sk_arena_alloc(arena, (size_t)dd->nfields * sizeof *match);
    for (uint16_t i = 0; match && i < dd->nfields; i++)
        match[i] = dd->fields[i].type == KF_NULLABLE_STRUCT ? NULL : field_like(sd, &dd->fields[i]);
    return match;
}

/* Copies into `dst` (of `dd`, already initialised) the fields `match` pairs
 * with fields of `src`. */
static int mirror_struct(const kf_struct_desc *dd, const kf_field *const *match, void *dst, const void *src,
                         sk_arena *arena)
{
    for (uint16_t i = 0; i < dd->nfields; i++) {
        const kf_field *df = &dd->fields[i], *sf = match[i];
        if (!sf)
            continue;
        void *dp = (char *)dst + df->offset;
        const void *sp = (const char *)src + sf->offset;
        if (df->type == KF_STRUCT) {
            const kf_field **inner = match_fields(df->child, sf->child, arena);
            if (!inner || mirror_struct(df->child, inner, dp, sp, arena) < 0)
                return -1;
        } else if (df->type == KF_ARRAY && df->elem == KF_STRUCT) {
            if (kf_mirror_array(df->child, dp, sf->child, sp, arena) < 0)
                return -1;
        } else {
            memcpy(dp, sp, df->type == KF_ARRAY ? sizeof(kf_array) : elem_size(df->type, NULL));
        }
    }
    return 0;
}

int kf_mirror_array(const kf_struct_desc *dst_elem, void *dst_array, const kf_struct_desc *src_elem,
                    const void *src_array, sk_arena *arena)
{
    kf_array in = load_array(src_array);
    kf_array out = {NULL, in.n};
    const kf_field **match = NULL; /* matched once for every element */
    if (in.n > 0 && (!(out.items = sk_arena_alloc(arena, (size_t)in.n * dst_elem->size)) ||
                     !(match = match_fields(dst_elem, src_elem, arena))))
        return -1;
    for (int32_t i = 0; i < in.n; i++) {
        void *e = (char *)out.items + (size_t)i * dst_elem->size;
        kf_init(dst_elem, e);
        if (mirror_struct(dst_elem, match, e, (const char *)in.items + (size_t)i * src_elem->size, arena) < 0)
            return -1;
    }
    store_array(dst_array, out);
    return 0;
}

const kf_api *kf_api_find(int16_t key)
{
    size_t lo = 0, hi = kf_napis;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (kf_apis[mid].key == key)
            return &kf_apis[mid];
        if (kf_apis[mid].key < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}
