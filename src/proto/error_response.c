/*
 * Error responses built from the schema tables, for any API: the response a
 * broker sends when a request fails as a whole with one error code, without
 * running the handler (fault injection, src/control).
 *
 * The response echoes the request the way Kafka's handlers do: each
 * response struct array is paired with the request array it answers (same
 * field name, else the same struct name in the schema, e.g. Produce's
 * topic_data []topic and responses []topic, else the only arrays left at
 * that level when their elements share a key field), elements are created
 * one per request element, and scalar fields are copied by name (a
 * partition or topic key also from its other spellings: partition /
 * partition_index / index, topic / name). A request array of strings or
 * int32 (FindCoordinator's coordinator_keys, DescribeGroups' groups,
 * AddPartitionsToTxn v0-3's partitions) gives one element each, the value in
 * the element's first field of that type.
 *
 * The error goes into the fields named error_code (or *_error_code), where
 * Kafka puts it: KF_ERR_DEEPEST sets it in the innermost echoed elements that
 * have one (per partition), and at a level only when nothing below it got it
 * (so a request without partitions gets it at the top level);
 * KF_ERR_SHALLOWEST sets it at the outermost level that has one (request-level
 * errors such as NOT_COORDINATOR in OffsetFetch v8's group entry).
 */
#include <string.h>

#include "skiff/proto.h"

/* Fields that name the same key in requests and responses. */
static const char *const partition_names[] = {"partition_index", "partition", "index", NULL};
static const char *const topic_names[] = {"name", "topic", "topic_name", NULL};

static bool present(const kf_field *f, int16_t v)
{
    return v >= f->ver_min && v <= f->ver_max;
}

static bool in_list(const char *const *list, const char *name)
{
    for (; *list; list++)
        if (!strcmp(*list, name))
            return true;
    return false;
}

static bool same_key(const char *a, const char *b)
{
    return !strcmp(a, b) || (in_list(partition_names, a) && in_list(partition_names, b)) ||
           (in_list(topic_names, a) && in_list(topic_names, b));
}

static bool is_error_field(const kf_field *f)
{
    size_t n = strlen(f->name);
    return f->type == KF_INT16 && n >= 10 && !strcmp(f->name + n - 10, "error_code");
}

static bool is_scalar(uint8_t type)
{
    return type != KF_STRUCT && type != KF_ARRAY && type != KF_NULLABLE_STRUCT;
}

/* The struct name without its message prefix: "kf_produce_response_topic" -> "topic". */
static const char *struct_suffix(const kf_struct_desc *d)
{
    const char *p = strstr(d->name, "_request_");
    if (p)
        return p + 9;
    p = strstr(d->name, "_response_");
    return p ? p + 10 : d->name;
}

/* The source field whose value a scalar destination field takes, or NULL. */
static const kf_field *scalar_source(const kf_struct_desc *sd, const kf_field *df)
{
    const kf_field *alias = NULL;
    for (uint16_t i = 0; i < sd->nfields; i++) {
        const kf_field *sf = &sd->fields[i];
        if (sf->type != df->type || !is_scalar(sf->type))
            continue;
        if (!strcmp(sf->name, df->name))
            return sf;
        if (!alias && same_key(sf->name, df->name))
            alias = sf;
    }
    return alias;
}

/* True when the two element structs share a key field (topic, partition,
 * coordinator key, group, transactional id, config resource name). */
static bool share_key(const kf_struct_desc *a, const kf_struct_desc *b)
{
    for (uint16_t i = 0; i < a->nfields; i++) {
        const kf_field *f = &a->fields[i];
        if (is_scalar(f->type) &&
            (in_list(partition_names, f->name) || in_list(topic_names, f->name) || !strcmp(f->name, "key") ||
             !strcmp(f->name, "group_id") || !strcmp(f->name, "transactional_id") ||
             !strcmp(f->name, "resource_name")) &&
            scalar_source(b, f))
            return true;
    }
    return false;
}

static bool array_of_struct(const kf_field *f)
{
    return f->type == KF_ARRAY && f->elem == KF_STRUCT;
}

static bool array_of_key(const kf_field *f)
{
    return f->type == KF_ARRAY && (f->elem == KF_STRING || f->elem == KF_INT32);
}

/* Counts the arrays of `d` (present in v) that may pair, skipping `used`. */
static int count_arrays(const kf_struct_desc *d, int16_t v, const bool *used, bool struct_only)
{
    int n = 0;
    for (uint16_t i = 0; i < d->nfields; i++) {
        const kf_field *f = &d->fields[i];
        if (present(f, v) && !(used && used[i]) && (array_of_struct(f) || (!struct_only && array_of_key(f))))
            n++;
    }
    return n;
}

/* The request array a response struct array answers, or -1. */
static int pair_array(const kf_struct_desc *dd, const kf_field *df, const kf_struct_desc *sd, int16_t v,
                      const bool *used)
{
    for (uint16_t i = 0; i < sd->nfields; i++) {
        const kf_field *sf = &sd->fields[i];
        if (!used[i] && present(sf, v) && array_of_struct(sf) &&
            (!strcmp(sf->name, df->name) || !strcmp(struct_suffix(sf->child), struct_suffix(df->child))))
            return i;
    }
    if (count_arrays(dd, v, NULL, true) != 1 || count_arrays(sd, v, used, false) != 1)
        return -1;
    for (uint16_t i = 0; i < sd->nfields; i++) {
        const kf_field *sf = &sd->fields[i];
        if (used[i] || !present(sf, v))
            continue;
        if (array_of_struct(sf) && share_key(df->child, sf->child))
            return i;
        if (array_of_key(sf))
            for (uint16_t j = 0; j < df->child->nfields; j++)
                if (df->child->fields[j].type == sf->elem)
                    return i;
    }
    return -1;
}

typedef struct fill_ctx {
    int16_t version;      /* the request's api_version */
    int16_t error_code;   /* the code every element answers */
    kf_error_place place; /* where the code goes in the response */
    sk_arena *arena;      /* the response's allocations */
} fill_ctx;

static int fill_struct(const fill_ctx *x, const kf_struct_desc *dd, void *dst, const kf_struct_desc *sd,
                       const void *src, bool placed_above, bool *placed);

/* Fills the elements of response array `df` from request array `sf`. */
static int fill_array(const fill_ctx *x, const kf_field *df, void *dp, const kf_field *sf, const void *sp,
                      bool placed_above, bool *placed)
{
    kf_array in, out;
    memcpy(&in, sp, sizeof in);
    out.n = in.n < 0 ? 0 : in.n;
    out.items = NULL;
    const kf_struct_desc *de = df->child;
    if (out.n > 0 && !(out.items = sk_arena_alloc(x->arena, (size_t)out.n * de->size)))
        return -1;
    for (int32_t i = 0; i < out.n; i++) {
        void *e = (char *)out.items + (size_t)i * de->size;
        kf_init(de, e);
        bool got = false;
        if (sf->elem == KF_STRUCT) {
            if (fill_struct(x, de, e, sf->child, (const char *)in.items + (size_t)i * sf->child->size, placed_above,
                            &got) < 0)
                return -1;
        } else {
            for (uint16_t j = 0; j < de->nfields; j++) {
                const kf_field *f = &de->fields[j];
                if (f->type == sf->elem) {
                    size_t sz = f->type == KF_STRING ? sizeof(kf_str) : sizeof(int32_t);
                    memcpy((char *)e + f->offset, (const char *)in.items + (size_t)i * sz, sz);
                    break;
                }
            }
            if (fill_struct(x, de, e, NULL, NULL, placed_above, &got) < 0)
                return -1;
        }
        *placed = *placed || got;
    }
    memcpy(dp, &out, sizeof out);
    return 0;
}

/* Fills `dst` (initialised) from `src` (NULL: nothing to echo) and places the
 * error; *placed tells whether it was set here or below. */
static int fill_struct(const fill_ctx *x, const kf_struct_desc *dd, void *dst, const kf_struct_desc *sd,
                       const void *src, bool placed_above, bool *placed)
{
    const kf_field *err = NULL;
    for (uint16_t i = 0; i < dd->nfields; i++)
        if (!err && present(&dd->fields[i], x->version) && is_error_field(&dd->fields[i]))
            err = &dd->fields[i];
    if (err && x->place == KF_ERR_SHALLOWEST && !placed_above) {
        *(int16_t *)((char *)dst + err->offset) = x->error_code;
        *placed = placed_above = true;
    }
    bool used[256] = {false}, below = false;
    for (uint16_t i = 0; sd && i < dd->nfields; i++) {
        const kf_field *df = &dd->fields[i];
        if (!present(df, x->version) || is_error_field(df))
            continue;
        if (is_scalar(df->type)) {
            const kf_field *sf = scalar_source(sd, df);
            if (sf && present(sf, x->version))
                memcpy((char *)dst + df->offset, (const char *)src + sf->offset,
                       df->type == KF_STRING                            ? sizeof(kf_str)
                       : df->type == KF_BYTES || df->type == KF_RECORDS ? sizeof(kf_bytes)
                       : df->type == KF_UUID                            ? sizeof(kf_uuid)
                       : df->type == KF_INT64 || df->type == KF_FLOAT64 ? 8
                       : df->type == KF_INT32 || df->type == KF_UINT32  ? 4
                       : df->type == KF_INT16 || df->type == KF_UINT16  ? 2
                                                                        : 1);
        } else if (array_of_struct(df) && sd->nfields <= 256) {
            int s = pair_array(dd, df, sd, x->version, used);
            if (s < 0)
                continue;
            used[s] = true;
            if (fill_array(x, df, (char *)dst + df->offset, &sd->fields[s], (const char *)src + sd->fields[s].offset,
                           placed_above, &below) < 0)
                return -1;
        }
    }
    if (err && x->place == KF_ERR_DEEPEST && !below) {
        *(int16_t *)((char *)dst + err->offset) = x->error_code;
        below = true;
    }
    *placed = *placed || below;
    return 0;
}

void *kf_error_response(const kf_api *api, int16_t version, const void *request, int16_t error_code,
                        kf_error_place place, sk_arena *arena)
{
    void *resp = sk_arena_alloc(arena, api->response->size);
    if (!resp)
        return NULL;
    kf_init(api->response, resp);
    fill_ctx x = {version, error_code, place, arena};
    bool placed = false;
    if (fill_struct(&x, api->response, resp, request ? api->request : NULL, request, false, &placed) < 0)
        return NULL;
    return resp;
}

int kf_set_int_field(const kf_struct_desc *desc, int16_t version, void *msg, const char *name, int64_t value)
{
    for (uint16_t i = 0; i < desc->nfields; i++) {
        const kf_field *f = &desc->fields[i];
        if (!present(f, version) || strcmp(f->name, name))
            continue;
        char *p = (char *)msg + f->offset;
        switch (f->type) {
        case KF_INT16:
            *(int16_t *)p = (int16_t)value;
            return 0;
        case KF_INT32:
            *(int32_t *)p = (int32_t)value;
            return 0;
        case KF_INT64:
            *(int64_t *)p = value;
            return 0;
        default:
            return -1;
        }
    }
    return -1;
}

void kf_foreach_error(const kf_struct_desc *desc, int16_t version, const void *msg, void (*fn)(int16_t code, void *arg),
                      void *arg)
{
    for (uint16_t i = 0; i < desc->nfields; i++) {
        const kf_field *f = &desc->fields[i];
        if (!present(f, version))
            continue;
        const char *p = (const char *)msg + f->offset;
        if (is_error_field(f) && *(const int16_t *)p) {
            fn(*(const int16_t *)p, arg);
        } else if (f->type == KF_STRUCT) {
            kf_foreach_error(f->child, version, p, fn, arg);
        } else if (f->type == KF_NULLABLE_STRUCT && *(void *const *)p) {
            kf_foreach_error(f->child, version, *(void *const *)p, fn, arg);
        } else if (array_of_struct(f)) {
            kf_array a;
            memcpy(&a, p, sizeof a);
            for (int32_t k = 0; k < a.n; k++)
                kf_foreach_error(f->child, version, (const char *)a.items + (size_t)k * f->child->size, fn, arg);
        }
    }
}
