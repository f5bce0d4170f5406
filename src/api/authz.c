/*
 * Authorization of requests: the principal and host of the connection
 * asked of the ACL store (src/api/authz.h).
 */
#include <stdlib.h>
#include <string.h>

#include "authz.h"
#include "skiff/security.h"

struct sk_acl_store *sk_authz_store(const sk_request *req)
{
    const sk_security *s = req->broker ? req->broker->security : NULL;
    return s ? s->acls : NULL;
}

const char *sk_authz_principal(const sk_request *req)
{
    return req->auth && req->auth->principal[0] ? req->auth->principal : "User:ANONYMOUS";
}

void sk_authz_host(const sk_request *req, char *host, size_t len)
{
    const char *p = req->peer, *end;
    if (p[0] == '[') {
        p++;
        end = strchr(p, ']');
    } else {
        end = strrchr(p, ':');
    }
    size_t n = end ? (size_t)(end - p) : strlen(p);
    if (n >= len)
        n = len - 1;
    memcpy(host, p, n);
    host[n] = '\0';
}

bool sk_authz_c(sk_request *req, int8_t op, int8_t type, const char *name)
{
    const struct sk_acl_store *s = sk_authz_store(req);
    if (!s)
        return true;
    char host[64];
    sk_authz_host(req, host, sizeof host);
    return sk_acl_authorize(s, sk_authz_principal(req), host, op, type, name);
}

bool sk_authz(sk_request *req, int8_t op, int8_t type, kf_str name)
{
    if (!sk_authz_store(req))
        return true;
    size_t n = name.len > 0 ? (size_t)name.len : 0;
    char small[256];
    char *copy = n < sizeof small ? small : malloc(n + 1);
    if (!copy)
        return false;
    if (n)
        memcpy(copy, name.p, n);
    copy[n] = '\0';
    bool ok = sk_authz_c(req, op, type, copy);
    if (copy != small)
        free(copy);
    return ok;
}

int32_t sk_authz_ops(sk_request *req, int8_t type, kf_str name, int32_t supported)
{
    if (!sk_authz_store(req))
        return supported;
    int32_t ops = 0;
    for (int8_t op = SK_OP_READ; op <= SK_OP_DESCRIBE_TOKENS; op++)
        if ((supported & (1 << op)) && sk_authz(req, op, type, name))
            ops |= 1 << op;
    return ops;
}
