/*
 * Keys and values of the internal topics' records (kf_record_type, from
 * src/proto/schema/record_*.kfs): an int16 version, then the struct read
 * and written by the one codec (codec.c) at that version. Keys are never
 * flexible and their version is the record type; values are flexible from
 * their record type's first flexible version.
 */
#include <string.h>

#include "kf_msgs.h"
#include "skiff/buf.h"
#include "skiff/proto.h"

const kf_record_type *kf_record_find(const char *topic, int16_t type)
{
    for (size_t i = 0; i < kf_nrecords; i++)
        if (kf_records[i].topic && !strcmp(kf_records[i].topic, topic) && type >= kf_records[i].type_min &&
            type <= kf_records[i].type_max)
            return &kf_records[i];
    return NULL;
}

int16_t kf_record_version(const uint8_t *p, size_t len)
{
    return p && len >= 2 ? (int16_t)sk_be16(p) : -1;
}

int kf_record_key_encode(const kf_record_type *rt, int16_t type, const void *key, sk_writer *w)
{
    sk_write_i16(w, type);
    return kf_encode(rt->key, type, false, key, w) < 0 || w->err ? -1 : 0;
}

int kf_record_value_encode(const kf_record_type *rt, int16_t version, const void *value, sk_writer *w)
{
    sk_write_i16(w, version);
    return kf_encode(rt->value, version, version >= rt->flex_min, value, w) < 0 || w->err ? -1 : 0;
}

int kf_record_key_decode(const kf_record_type *rt, const uint8_t *p, size_t len, sk_arena *arena, void *out)
{
    sk_reader r;
    sk_reader_init(&r, p, len);
    int16_t type = sk_read_i16(&r);
    memset(out, 0, rt->key->size);
    if (r.err || type < rt->type_min || type > rt->type_max || kf_decode(rt->key, type, false, &r, arena, out) < 0)
        return -1;
    return sk_reader_left(&r) == 0 ? 0 : -1;
}

int kf_record_value_decode(const kf_record_type *rt, const uint8_t *p, size_t len, sk_arena *arena, void *out,
                           int16_t *version)
{
    sk_reader r;
    sk_reader_init(&r, p, len);
    int16_t v = *version = sk_read_i16(&r);
    memset(out, 0, rt->value->size);
    if (r.err || v < rt->min_ver || v > rt->max_ver)
        return -1;
    return kf_decode(rt->value, v, v >= rt->flex_min, &r, arena, out);
}
