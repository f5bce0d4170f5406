/*
 * Helpers shared by the admin API handlers (see admin.h).
 */
#include "admin.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "skiff/cluster.h"
#include "skiff/errors.h"

void *sk_admin_array(sk_request *req, const kf_struct_desc *desc, int32_t n)
{
    if (n < 0)
        n = 0;
    char *p = sk_arena_alloc(&req->arena, (size_t)n * desc->size);
    if (!p)
        return NULL;
    for (int32_t i = 0; i < n; i++)
        kf_init(desc, p + (size_t)i * desc->size);
    return p;
}

kf_str sk_admin_printf(sk_request *req, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    kf_str s = {NULL, -1};
    if (n < 0)
        return s;
    char *p = sk_arena_alloc(&req->arena, (size_t)n + 1);
    if (!p)
        return s;
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    s.p = p;
    s.len = n;
    return s;
}

kf_str sk_admin_str(sk_request *req, const char *s)
{
    kf_str r = {NULL, -1};
    char *p = s ? sk_arena_strndup(&req->arena, s, strlen(s)) : NULL;
    if (p) {
        r.p = p;
        r.len = (int32_t)strlen(p);
    }
    return r;
}

/* Indexes of `n` names sorted by name then position, to find duplicates
 * without a quadratic scan. */
typedef struct name_ref {
    const kf_str *name; /* the name in the request */
    int32_t index;      /* its position in the request array */
} name_ref;

static int cmp_name_ref(const void *a, const void *b)
{
    const name_ref *x = a, *y = b;
    int32_t lx = x->name->len < 0 ? -1 : x->name->len, ly = y->name->len < 0 ? -1 : y->name->len;
    int32_t m = lx < ly ? lx : ly;
    int c = m > 0 ? memcmp(x->name->p, y->name->p, (size_t)m) : 0;
    if (c == 0)
        c = (lx > ly) - (lx < ly);
    return c ? c : (x->index > y->index) - (x->index < y->index);
}

/* For each of `n` names (stride `stride` bytes apart, starting at `first`):
 * dup[i] = 1 when the name appears more than once, 2 when it is a later
 * occurrence of such a name (answered by the first). Null names are never
 * duplicates. Returns -1 when out of memory. */
int sk_admin_find_duplicates(sk_request *req, const void *first, size_t stride, int32_t n, uint8_t *dup)
{
    name_ref *refs = sk_arena_alloc(&req->arena, (size_t)n * sizeof *refs);
    if (!refs)
        return -1;
    for (int32_t i = 0; i < n; i++)
        refs[i] = (name_ref){(const kf_str *)((const char *)first + (size_t)i * stride), i};
    qsort(refs, (size_t)n, sizeof *refs, cmp_name_ref);
    for (int32_t i = 1; i < n; i++) {
        const kf_str *a = refs[i - 1].name, *b = refs[i].name;
        if (a->p && b->p && a->len == b->len && (a->len <= 0 || !memcmp(a->p, b->p, (size_t)a->len))) {
            if (!dup[refs[i - 1].index])
                dup[refs[i - 1].index] = 1;
            dup[refs[i].index] = 2;
        }
    }
    return 0;
}

static int cmp_int32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* Kafka's validateManualPartitionAssignment and the check after it: a
 * replica list of registered brokers (skiff/cluster.h; brokers that are down
 * are still registered), each once, `rf` long when rf > 0, and when
 * partition >= 0 with one broker up among them (that partition is named). Returns NONE or
 * INVALID_REPLICA_ASSIGNMENT with Kafka's reason in *msg. */
int16_t sk_admin_check_replicas(sk_request *req, const int32_t *ids, int32_t n, int32_t rf, int32_t partition,
                                kf_str *msg)
{
    sk_broker *b = req->broker;
    if (n <= 0) {
        *msg = kf_str_c("The manual partition assignment includes an empty replica list.");
        return SK_ERR_INVALID_REPLICA_ASSIGNMENT;
    }
    int32_t *sorted = sk_arena_alloc(&req->arena, (size_t)n * sizeof *sorted);
    if (!sorted)
        return SK_ERR_KAFKA_STORAGE_ERROR;
    memcpy(sorted, ids, (size_t)n * sizeof *sorted);
    qsort(sorted, (size_t)n, sizeof *sorted, cmp_int32);
    bool up = false;
    for (int32_t i = 0; i < n; i++) {
        if (!sk_cluster_node_id_known(b, sorted[i])) {
            *msg = sk_admin_printf(req,
                                   "The manual partition assignment includes broker %d, but no such broker "
                                   "is registered.",
                                   sorted[i]);
            return SK_ERR_INVALID_REPLICA_ASSIGNMENT;
        }
        if (i > 0 && sorted[i] == sorted[i - 1]) {
            *msg = sk_admin_printf(req, "The manual partition assignment includes the broker %d more than once.",
                                   sorted[i]);
            return SK_ERR_INVALID_REPLICA_ASSIGNMENT;
        }
        up = up || sk_cluster_node_up(b, sorted[i]);
    }
    if (rf > 0 && n != rf) {
        *msg = sk_admin_printf(req,
                               "The manual partition assignment includes a partition with %d replica(s), but "
                               "this is not consistent with previous partitions, which have %d replica(s).",
                               n, rf);
        return SK_ERR_INVALID_REPLICA_ASSIGNMENT;
    }
    if (!up && partition >= 0) {
        *msg = sk_admin_printf(req,
                               "All brokers specified in the manual partition assignment for partition %d are "
                               "fenced or in controlled shutdown.",
                               partition);
        return SK_ERR_INVALID_REPLICA_ASSIGNMENT;
    }
    return SK_ERR_NONE;
}
