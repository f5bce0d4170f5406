/*
 * Kafka protocol messages: value types, schema descriptors and the one
 * table-driven codec that reads and writes every API message and version.
 *
 * Each API is described once in src/proto/schema/NN_<api>.kfs (our own schema
 * language, written from the public protocol facts). tools/kfgen turns those
 * files into build/gen/kf_msgs.{h,c}: a C struct per message and nested
 * struct, a kf_struct_desc table per struct, and the kf_apis[] table. The
 * codec below interprets the tables, so adding an API or a version is a
 * schema edit plus a handler. Handlers never branch on the version for
 * layout: absent fields are decoded as their defaults and not written.
 *
 * Wire rules implemented here (Kafka's message README): a version >= the
 * API's first flexible version uses compact strings/bytes/arrays (unsigned
 * varint length + 1, 0 = null) and ends every struct with tagged fields
 * (unsigned varint count, then tag, size, value); unknown tags are skipped.
 */
#ifndef SKIFF_PROTO_H
#define SKIFF_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "skiff/arena.h"
#include "skiff/buf.h"

/* A string: `p` is NUL-terminated (decoded strings are copied into the
 * request arena), `len` is its length in bytes, or -1 with p == NULL for null. */
typedef struct kf_str {
    const char *p; /* NUL-terminated, or NULL for null */
    int32_t len;   /* bytes, -1 for null */
} kf_str;

/* Bytes or records: a borrowed slice (for decoded requests, of the request
 * frame), `len` -1 with p == NULL for null. In responses, `ext` may instead
 * name `len` bytes held outside memory (a log file slice): the encoder then
 * writes the length and hands `ext` to the writer's splice hook (see
 * sk_writer) instead of copying; `p` is ignored. Decoding leaves ext NULL. */
typedef struct kf_bytes {
    const uint8_t *p; /* borrowed bytes, or NULL for null (or with ext) */
    int32_t len;      /* bytes, -1 for null */
    const void *ext;  /* a log slice sent in place of p (responses), or NULL */
} kf_bytes;

/* A UUID (topic id), 16 bytes as on the wire. All zero is Kafka's "zero UUID". */
typedef struct kf_uuid {
    uint8_t b[16]; /* big-endian, as on the wire */
} kf_uuid;

/* An array of `n` elements of the field's element type at `items`; n == -1
 * (items == NULL) is null. The generator declares typed versions with the same
 * layout (`struct { T *items; int32_t n; }`). */
typedef struct kf_array {
    void *items; /* the elements, NULL for null */
    int32_t n;   /* element count, -1 for null */
} kf_array;

/* Field types. */
typedef enum kf_type {
    KF_BOOL,
    KF_INT8,
    KF_INT16,
    KF_INT32,
    KF_INT64,
    KF_UINT16,
    KF_UINT32,
    KF_FLOAT64,
    KF_UUID,
    KF_STRING,
    KF_BYTES,
    KF_RECORDS,
    KF_STRUCT,          /* a nested struct held inline */
    KF_ARRAY,           /* elements of `elem` type; structs when elem == KF_STRUCT */
    KF_NULLABLE_STRUCT, /* a pointer to a nested struct, NULL = null; nullable in every
                         * version the field exists in (kfgen checks the schema) */
} kf_type;

#define KF_VMAX INT16_MAX /* "and every later version" in version ranges */

typedef struct kf_struct_desc kf_struct_desc;

/* One field of a struct, in wire order. Version ranges are inclusive; an empty
 * nullable range is min > max. */
typedef struct kf_field {
    const char *name;            /* Kafka's field name in snake_case */
    uint8_t type;                /* kf_type */
    uint8_t elem;                /* element kf_type for KF_ARRAY */
    uint16_t offset;             /* offsetof the value in the C struct */
    int16_t ver_min, ver_max;    /* versions the field exists in */
    int16_t null_min, null_max;  /* versions the field may be null in */
    int32_t tag;                 /* tag number, or -1 when not a tagged field */
    int64_t def;                 /* default of integer and bool fields */
    bool def_null;               /* default of string/bytes/array fields is null (else empty) */
    const kf_struct_desc *child; /* struct of KF_STRUCT/KF_NULLABLE_STRUCT fields and struct arrays */
} kf_field;

struct kf_struct_desc {
    const char *name;       /* C struct name, for logs */
    uint32_t size;          /* sizeof the C struct */
    uint16_t nfields;       /* entries in fields */
    const kf_field *fields; /* in wire order */
};

/* One API: the only source of the ranges ApiVersions advertises. */
typedef struct kf_api {
    int16_t key;                    /* api_key */
    const char *name;               /* e.g. "Metadata" */
    int16_t min_ver, max_ver;       /* versions served end to end */
    int16_t flex_min;               /* first flexible version, KF_VMAX if none */
    const kf_struct_desc *request;  /* the request body's layout */
    const kf_struct_desc *response; /* the response body's layout */
} kf_api;

/* One record type of an internal topic (__consumer_offsets,
 * __transaction_state), described by a src/proto/schema/record_*.kfs file:
 * a key and a value, each prefixed on the wire by its int16 version as
 * Kafka's MessageUtil writes them. The key's version is the record type
 * (keys are never flexible); the value's version is its own. */
typedef struct kf_record_type {
    const char *name;           /* e.g. "OffsetCommit" (Kafka's OffsetCommitKey/Value) */
    const char *topic;          /* the internal topic */
    int16_t type_min, type_max; /* key versions (record types) */
    int16_t min_ver, max_ver;   /* value versions read and written */
    int16_t flex_min;           /* first flexible value version, KF_VMAX if none */
    const kf_struct_desc *key;
    const kf_struct_desc *value;
} kf_record_type;

/* The record type of `topic` whose keys have version `type`, or NULL
 * (src/proto/record_codec.c). */
const kf_record_type *kf_record_find(const char *topic, int16_t type);
/* The int16 version that starts a key or value, or -1 when shorter than 2 bytes. */
int16_t kf_record_version(const uint8_t *p, size_t len);
/* Appends a key of record type `type` (its int16 type, then `key`, a
 * struct of rt->key). Returns 0, or -1 when the writer failed. */
int kf_record_key_encode(const kf_record_type *rt, int16_t type, const void *key, sk_writer *w);
/* Appends a value at `version` (its int16 version, then `value`, a struct
 * of rt->value, flexible from rt->flex_min). Returns 0 or -1. */
int kf_record_value_encode(const kf_record_type *rt, int16_t version, const void *value, sk_writer *w);
/* Decodes a key of `len` bytes into `out` (a struct of rt->key; strings in
 * `arena`). -1 when its type is not rt's, the bytes are malformed, or bytes
 * are left over. */
int kf_record_key_decode(const kf_record_type *rt, const uint8_t *p, size_t len, sk_arena *arena, void *out);
/* Decodes a value into `out` (a struct of rt->value; strings and arrays in
 * `arena`, bytes pointing into `p`), *version its version. -1 when the
 * version is outside rt's or the bytes are malformed; bytes after the
 * value (a later version's fields) are ignored, as Kafka's readers do. */
int kf_record_value_decode(const kf_record_type *rt, const uint8_t *p, size_t len, sk_arena *arena, void *out,
                           int16_t *version);

/* Decodes a message body of `version` into `out` (a zeroed struct of
 * desc->size bytes). Strings are copied into `arena`, arrays and non-null
 * nullable structs allocated there;
 * bytes and records point into the reader's buffer. An array count larger
 * than the bytes left is rejected before anything is allocated. Returns 0, or
 * -1 when the bytes are short or malformed (r->err is then set). Trailing
 * bytes after the body are left in the reader for the caller to judge. */
int kf_decode(const kf_struct_desc *desc, int16_t version, bool flexible, sk_reader *r, sk_arena *arena, void *out);

/* Exact encoded size in bytes of `msg` at `version`. */
size_t kf_size(const kf_struct_desc *desc, int16_t version, bool flexible, const void *msg);

/* Appends `msg` encoded at `version` to `w`. Fields absent from the version are
 * skipped; tagged fields are written only when they differ from their default.
 * A null value in a version where the field is not nullable is written as
 * empty. Returns 0, or -1 when the writer failed (out of memory). */
int kf_encode(const kf_struct_desc *desc, int16_t version, bool flexible, const void *msg, sk_writer *w);

/* Sets every field of `msg` (a struct of desc->size bytes) to its schema
 * default: integers and bools to `default`, strings, bytes and arrays to
 * empty or null per def_null, nested structs likewise, nullable structs to
 * NULL (kf_init allocates nothing). Handlers call it on a
 * response before filling in what they know. */
void kf_init(const kf_struct_desc *desc, void *msg);

/* Makes the struct array at `dst_array` (a generated array of `dst_elem`
 * structs) echo the one at `src_array` (of `src_elem` structs), as responses
 * echo their request's topics and partitions: the same count (a null array
 * stays null), each element set to its defaults (kf_init) and then given
 * every field its source element has under the same name and type, nested
 * struct arrays mirrored alike. Elements are allocated in `arena`; strings,
 * bytes and arrays of scalars are shared with the source, not copied. A
 * response field that shares a request field's name but not its meaning (a
 * ListOffsets timestamp) must be set afterwards. Returns 0, or -1 when out
 * of memory. */
int kf_mirror_array(const kf_struct_desc *dst_elem, void *dst_array, const kf_struct_desc *src_elem,
                    const void *src_array, sk_arena *arena);

/* Where kf_error_response puts the error code. */
typedef enum kf_error_place {
    KF_ERR_DEEPEST,    /* per partition (innermost echoed elements), else the level above */
    KF_ERR_SHALLOWEST, /* the outermost level that has an error code (request-level errors) */
} kf_error_place;

/* Builds, in `arena`, the response of `api` at `version` that answers
 * `request` (its decoded request struct, or NULL) with `error_code`, from the
 * schema tables alone (src/proto/error_response.c): the request's topics,
 * partitions and keys echoed, every other field at its default, the error in
 * the error_code fields `place` selects. NULL when out of memory. */
void *kf_error_response(const kf_api *api, int16_t version, const void *request, int16_t error_code,
                        kf_error_place place, sk_arena *arena);

/* Calls fn(code, arg) for every non-zero error code of `msg` (a struct of
 * `desc` at `version`): the int16 fields named error_code or *_error_code,
 * nested structs and struct arrays included. */
void kf_foreach_error(const kf_struct_desc *desc, int16_t version, const void *msg, void (*fn)(int16_t code, void *arg),
                      void *arg);

/* Sets the int16/int32/int64 field `name` of `msg` (a struct of `desc`) when
 * it exists in `version` (e.g. throttle_time_ms). Returns 0, or -1 when there
 * is no such integer field in that version. */
int kf_set_int_field(const kf_struct_desc *desc, int16_t version, void *msg, const char *name, int64_t value);

struct cJSON;
/* `msg` (a struct of `desc` at `version`) as a JSON object (src/proto/json.c):
 * every field present in the version under its schema name; bytes and
 * records as {"size": N}; UUIDs in Kafka's base64 text. The caller frees it
 * with cJSON_Delete; NULL when out of memory. */
struct cJSON *kf_to_json(const kf_struct_desc *desc, int16_t version, const void *msg);

/* The API table entry for `key`, or NULL when skiff does not serve that key. */
const kf_api *kf_api_find(int16_t key);
/* True when `version` of the API uses flexible encoding. */
static inline bool kf_api_flexible(const kf_api *api, int16_t version)
{
    return version >= api->flex_min;
}

/* kf_str helpers. */
static inline kf_str kf_str_c(const char *s)
{
    kf_str r = {s, s ? (int32_t)__builtin_strlen(s) : -1};
    return r;
}
static inline bool kf_str_eq(kf_str a, const char *s)
{
    return a.p && s && (size_t)a.len == __builtin_strlen(s) && !__builtin_memcmp(a.p, s, (size_t)a.len);
}

/* The request header (v0: key, version, correlation id; v1 adds client id, a
 * nullable int16-length string even in flexible headers; v2 adds tagged
 * fields, skipped). */
typedef struct kf_request_header {
    int16_t api_key;        /* which API (kf_api.key) */
    int16_t api_version;    /* the version the body is encoded in */
    int32_t correlation_id; /* echoed in the response header */
    kf_str client_id;       /* copied into the arena; null for v0 headers */
} kf_request_header;

/* Decodes the request header at the start of a frame. The header version
 * follows the API: v2 for flexible versions of known APIs, v1 otherwise
 * (unknown keys are read as v1, which is enough to answer or to log).
 * Returns 0 or -1 (short/malformed header). */
int kf_request_header_decode(sk_reader *r, sk_arena *arena, kf_request_header *h);

/* Response header size in bytes for `api` at `version`: 4 (correlation id),
 * plus 1 (empty tagged fields) for flexible versions except ApiVersions,
 * whose response header is always v0. */
size_t kf_response_header_size(int16_t api_key, int16_t version);
/* Writes the response header (see kf_response_header_size). */
void kf_response_header_encode(sk_writer *w, int16_t api_key, int16_t version, int32_t correlation_id);

#endif
