/*
 * Helpers shared by the admin API handlers (see admin.h).
 */
#include "admin.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void *sk_admin_array(sk_request *req, const kf_struct_desc *desc, int32_t n)
{
    if (n < 0)
        n = 0;
    char *p = sk_arena_alloc(&req->arena, (size_t)n * desc->size + 1);
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
