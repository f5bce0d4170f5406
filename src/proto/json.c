/*
 * Kafka messages as JSON, from the schema tables (kf_to_json): for request
 * capture and anything else that shows a decoded message to a person or a
 * test. Every field present in the version is written under its schema
 * name; int64 values beyond 2^53 lose precision (JSON numbers); bytes and
 * records are given as their size only ({"size": N}, or null); UUIDs as
 * Kafka writes them (base64url, 22 characters).
 */
#include <cjson/cJSON.h>
#include <string.h>

#include "skiff/proto.h"
#include "skiff/uuid.h"

static cJSON *value_json(uint8_t type, const kf_struct_desc *child, int16_t version, const void *p);

static cJSON *struct_json(const kf_struct_desc *d, int16_t version, const void *msg)
{
    cJSON *o = cJSON_CreateObject();
    for (uint16_t i = 0; o && i < d->nfields; i++) {
        const kf_field *f = &d->fields[i];
        if (version < f->ver_min || version > f->ver_max)
            continue;
        const char *p = (const char *)msg + f->offset;
        cJSON *v;
        if (f->type == KF_ARRAY) {
            kf_array a;
            memcpy(&a, p, sizeof a);
            if (a.n < 0) {
                v = cJSON_CreateNull();
            } else {
                v = cJSON_CreateArray();
                size_t esz = f->elem == KF_STRUCT                          ? f->child->size
                             : f->elem == KF_STRING                        ? sizeof(kf_str)
                             : f->elem == KF_INT64                         ? 8
                             : f->elem == KF_INT32 || f->elem == KF_UINT32 ? 4
                             : f->elem == KF_INT16 || f->elem == KF_UINT16 ? 2
                             : f->elem == KF_UUID                          ? sizeof(kf_uuid)
                             : f->elem == KF_BYTES                         ? sizeof(kf_bytes)
                                                                           : 1;
                for (int32_t k = 0; v && k < a.n; k++)
                    cJSON_AddItemToArray(
                        v, value_json(f->elem, f->child, version, (const char *)a.items + (size_t)k * esz));
            }
        } else if (f->type == KF_NULLABLE_STRUCT) {
            const void *s = *(const void *const *)p;
            v = s ? struct_json(f->child, version, s) : cJSON_CreateNull();
        } else {
            v = value_json(f->type, f->child, version, p);
        }
        cJSON_AddItemToObject(o, f->name, v);
    }
    return o;
}

static cJSON *value_json(uint8_t type, const kf_struct_desc *child, int16_t version, const void *p)
{
    switch (type) {
    case KF_BOOL:
        return cJSON_CreateBool(*(const bool *)p);
    case KF_INT8:
        return cJSON_CreateNumber(*(const int8_t *)p);
    case KF_INT16:
        return cJSON_CreateNumber(*(const int16_t *)p);
    case KF_INT32:
        return cJSON_CreateNumber(*(const int32_t *)p);
    case KF_INT64:
        return cJSON_CreateNumber((double)*(const int64_t *)p);
    case KF_UINT16:
        return cJSON_CreateNumber(*(const uint16_t *)p);
    case KF_UINT32:
        return cJSON_CreateNumber(*(const uint32_t *)p);
    case KF_FLOAT64:
        return cJSON_CreateNumber(*(const double *)p);
    case KF_UUID: {
        char s[SK_UUID_STR_LEN + 1];
        sk_uuid_to_string(((const kf_uuid *)p)->b, s);
        return cJSON_CreateString(s);
    }
    case KF_STRING: {
        const kf_str *s = p;
        return s->p ? cJSON_CreateString(s->p) : cJSON_CreateNull();
    }
    case KF_BYTES:
    case KF_RECORDS: {
        const kf_bytes *b = p;
        if (b->len < 0)
            return cJSON_CreateNull();
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "size", b->len);
        return o;
    }
    case KF_STRUCT:
        return struct_json(child, version, p);
    default:
        return cJSON_CreateNull();
    }
}

cJSON *kf_to_json(const kf_struct_desc *desc, int16_t version, const void *msg)
{
    return struct_json(desc, version, msg);
}
