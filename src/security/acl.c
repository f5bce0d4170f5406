/*
 * ACL bindings, filters, the authorizer's decision (skiff/acl.h) and the
 * store's file, `<data dir>/acls`: text, one binding a line,
 *
 *   # skiff ACLs v1
 *   <resource type> <pattern type> <operation> <permission> <base64 name> <base64 principal> <base64 host>
 *
 * e.g. "TOPIC PREFIXED WRITE ALLOW b3JkZXJz VXNlcjphbGljZQ== Kg==", with
 * Kafka's enum names; strings in base64 so that any name fits in a field.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "skiff/acl.h"
#include "skiff/fsutil.h"
#include "skiff/trace.h"
#include "skiff/scram.h"

#define STORE_FILE "acls"
#define STORE_HEADER "# skiff ACLs v1\n"
#define STORE_MAX_BYTES (64u << 20)
#define FIELD_MAX 4096

struct sk_acl_store {
    char *path;   /* the file, NULL for a memory-only store */
    sk_acl *acls; /* in creation order; strings owned */
    size_t n, cap;
    char **super_users;  /* super.users principals ("User:alice"), owned */
    size_t nsuper;       /* entries of super_users */
    bool allow_everyone; /* allow.everyone.if.no.acl.found */
};

static const char *const resource_names[] = {"UNKNOWN",          "ANY", "TOPIC", "GROUP", "CLUSTER", "TRANSACTIONAL_ID",
                                             "DELEGATION_TOKEN", "USER"};
static const char *const pattern_names[] = {"UNKNOWN", "ANY", "MATCH", "LITERAL", "PREFIXED"};
static const char *const operation_names[] = {"UNKNOWN",
                                              "ANY",
                                              "ALL",
                                              "READ",
                                              "WRITE",
                                              "CREATE",
                                              "DELETE",
                                              "ALTER",
                                              "DESCRIBE",
                                              "CLUSTER_ACTION",
                                              "DESCRIBE_CONFIGS",
                                              "ALTER_CONFIGS",
                                              "IDEMPOTENT_WRITE",
                                              "CREATE_TOKENS",
                                              "DESCRIBE_TOKENS"};
static const char *const permission_names[] = {"UNKNOWN", "ANY", "DENY", "ALLOW"};

#define COUNT(a) ((int8_t)(sizeof(a) / sizeof(a)[0]))

int8_t sk_acl_code(int8_t code, int8_t max)
{
    return code < 0 || code > max ? 0 : code;
}

static const char *name_of(const char *const *names, int8_t count, int8_t code)
{
    return names[sk_acl_code(code, (int8_t)(count - 1))];
}

const char *sk_acl_resource_name(int8_t code)
{
    return name_of(resource_names, COUNT(resource_names), code);
}
const char *sk_acl_pattern_name(int8_t code)
{
    return name_of(pattern_names, COUNT(pattern_names), code);
}
const char *sk_acl_operation_name(int8_t code)
{
    return name_of(operation_names, COUNT(operation_names), code);
}
const char *sk_acl_permission_name(int8_t code)
{
    return name_of(permission_names, COUNT(permission_names), code);
}

/* The code of `name` in `names`, or -1. */
static int code_of(const char *const *names, int8_t count, const char *name)
{
    for (int8_t i = 1; i < count; i++)
        if (!strcmp(names[i], name))
            return i;
    return -1;
}

const char *sk_acl_validate(const sk_acl *b, char *buf, size_t len)
{
    const char *what = NULL, *value = NULL;
    if (b->resource_type == SK_RES_UNKNOWN || b->resource_type == SK_RES_ANY)
        what = "resourceType", value = sk_acl_resource_name(b->resource_type);
    else if (b->pattern_type != SK_PAT_LITERAL && b->pattern_type != SK_PAT_PREFIXED)
        what = "patternType", value = sk_acl_pattern_name(b->pattern_type);
    else if (b->operation == SK_OP_UNKNOWN || b->operation == SK_OP_ANY)
        what = "operation", value = sk_acl_operation_name(b->operation);
    else if (b->permission != SK_PERM_ALLOW && b->permission != SK_PERM_DENY)
        what = "permissionType", value = sk_acl_permission_name(b->permission);
    if (what) {
        snprintf(buf, len, "Invalid %s %s", what, value);
        return buf;
    }
    if (!b->name || !*b->name)
        return "Invalid empty resource name";
    if (b->resource_type == SK_RES_CLUSTER && strcmp(b->name, SK_ACL_CLUSTER_NAME))
        return "The only valid name for the CLUSTER resource is " SK_ACL_CLUSTER_NAME;
    if (!b->principal || !strchr(b->principal, ':')) {
        snprintf(buf, len,
                 "Could not parse principal from `%s` (no colon is present separating the principal type "
                 "from the principal name)",
                 b->principal ? b->principal : "");
        return buf;
    }
    if (!b->host || !*b->host)
        return "Invalid empty host";
    return NULL;
}

const char *sk_acl_validate_filter(const sk_acl *f)
{
    if (f->resource_type == SK_RES_UNKNOWN || f->pattern_type == SK_PAT_UNKNOWN)
        return "Unknown patternFilter.";
    if (f->operation == SK_OP_UNKNOWN || f->permission == SK_PERM_UNKNOWN)
        return "Unknown entryFilter.";
    return NULL;
}

static bool starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool sk_acl_filter_matches(const sk_acl *f, const sk_acl *b)
{
    if (f->resource_type != SK_RES_ANY && f->resource_type != b->resource_type)
        return false;
    if (f->pattern_type != SK_PAT_ANY && f->pattern_type != SK_PAT_MATCH && f->pattern_type != b->pattern_type)
        return false;
    if (f->name) {
        if (f->pattern_type == SK_PAT_ANY || f->pattern_type == b->pattern_type) {
            if (strcmp(f->name, b->name))
                return false;
        } else if (b->pattern_type == SK_PAT_LITERAL) {
            if (strcmp(f->name, b->name) && strcmp(b->name, "*"))
                return false;
        } else if (!starts_with(f->name, b->name)) {
            return false;
        }
    }
    return (!f->principal || !strcmp(f->principal, b->principal)) && (!f->host || !strcmp(f->host, b->host)) &&
           (f->operation == SK_OP_ANY || f->operation == b->operation) &&
           (f->permission == SK_PERM_ANY || f->permission == b->permission);
}

/* ---- The authorizer's decision ------------------------------------------ */

static bool applies_to_resource(const sk_acl *b, int8_t type, const char *name)
{
    if (b->resource_type != type)
        return false;
    if (b->pattern_type == SK_PAT_PREFIXED)
        return starts_with(name, b->name);
    return !strcmp(b->name, name) || !strcmp(b->name, "*");
}

/* True when an `permission` binding for `op` itself or ALL grants `wanted`;
 * ALLOW bindings also imply DESCRIBE and DESCRIBE_CONFIGS. */
static bool covers(const sk_acl *b, int8_t wanted)
{
    if (b->operation == SK_OP_ALL || b->operation == wanted)
        return true;
    if (b->permission != SK_PERM_ALLOW)
        return false;
    if (wanted == SK_OP_DESCRIBE)
        return b->operation == SK_OP_READ || b->operation == SK_OP_WRITE || b->operation == SK_OP_DELETE ||
               b->operation == SK_OP_ALTER;
    return wanted == SK_OP_DESCRIBE_CONFIGS && b->operation == SK_OP_ALTER_CONFIGS;
}

bool sk_acl_authorize(const sk_acl_store *s, const char *principal, const char *host, int8_t operation,
                      int8_t resource_type, const char *name)
{
    for (size_t i = 0; i < s->nsuper; i++)
        if (!strcmp(s->super_users[i], principal))
            return true;
    bool found = false, allowed = false;
    for (size_t i = 0; i < s->n; i++) {
        const sk_acl *b = &s->acls[i];
        if (!applies_to_resource(b, resource_type, name))
            continue;
        found = true;
        if ((strcmp(b->principal, principal) && strcmp(b->principal, "User:*")) ||
            (strcmp(b->host, host) && strcmp(b->host, "*")) || !covers(b, operation))
            continue;
        if (b->permission == SK_PERM_DENY)
            return false;
        allowed = true;
    }
    return allowed || (!found && s->allow_everyone);
}

static bool entry_applies(const sk_acl *b, const char *principal, const char *host, int8_t operation)
{
    return (!strcmp(b->principal, principal) || !strcmp(b->principal, "User:*")) &&
           (!strcmp(b->host, host) || !strcmp(b->host, "*")) &&
           (b->operation == SK_OP_ALL || b->operation == operation);
}

bool sk_acl_authorize_any(const sk_acl_store *s, const char *principal, const char *host, int8_t operation,
                          int8_t resource_type)
{
    for (size_t i = 0; i < s->nsuper; i++)
        if (!strcmp(s->super_users[i], principal))
            return true;
    bool any = false;
    for (size_t i = 0; i < s->n; i++) {
        const sk_acl *b = &s->acls[i];
        if (b->resource_type != resource_type)
            continue;
        any = true;
        if (b->permission != SK_PERM_ALLOW || !entry_applies(b, principal, host, operation))
            continue;
        bool denied = false;
        for (size_t k = 0; k < s->n && !denied; k++) {
            const sk_acl *d = &s->acls[k];
            denied = d->resource_type == resource_type && d->permission == SK_PERM_DENY &&
                     entry_applies(d, principal, host, operation) &&
                     ((d->pattern_type == SK_PAT_LITERAL && (!strcmp(d->name, "*") || !strcmp(d->name, b->name))) ||
                      (d->pattern_type == SK_PAT_PREFIXED && starts_with(b->name, d->name)));
        }
        if (!denied)
            return true;
    }
    return !any && s->allow_everyone;
}

/* ---- The store ---------------------------------------------------------- */

static void acl_free_strings(sk_acl *b)
{
    free((char *)b->name);
    free((char *)b->principal);
    free((char *)b->host);
}

static bool same(const sk_acl *a, const sk_acl *b)
{
    return a->resource_type == b->resource_type && a->pattern_type == b->pattern_type && a->operation == b->operation &&
           a->permission == b->permission && !strcmp(a->name, b->name) && !strcmp(a->principal, b->principal) &&
           !strcmp(a->host, b->host);
}

/* Appends a copy of `b` in memory; 0, or -1 when out of memory. */
static int push(sk_acl_store *s, const sk_acl *b)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        sk_acl *grown = realloc(s->acls, cap * sizeof *grown);
        if (!grown)
            return -1;
        s->acls = grown;
        s->cap = cap;
    }
    sk_acl c = *b;
    c.name = strdup(b->name);
    c.principal = strdup(b->principal);
    c.host = strdup(b->host);
    if (!c.name || !c.principal || !c.host) {
        acl_free_strings(&c);
        return -1;
    }
    s->acls[s->n++] = c;
    return 0;
}

static size_t put_b64(char *out, const char *s)
{
    size_t n = sk_base64_encode((const uint8_t *)s, strlen(s), out);
    out[n] = ' ';
    return n + 1;
}

/* Writes the bindings of `s` except those with keep[i] false (keep may be
 * NULL) to the file. 0 or -1 (logged). */
static int save(const sk_acl_store *s, const bool *keep)
{
    if (!s->path)
        return 0;
    size_t cap = sizeof STORE_HEADER;
    for (size_t i = 0; i < s->n; i++)
        cap += 80 + 4 * (strlen(s->acls[i].name) + strlen(s->acls[i].principal) + strlen(s->acls[i].host) + 9) / 3;
    char *text = malloc(cap);
    if (!text) {
        sk_error("acl", "cannot save ACLs: out of memory");
        return -1;
    }
    size_t len = (size_t)sprintf(text, "%s", STORE_HEADER);
    for (size_t i = 0; i < s->n; i++) {
        const sk_acl *b = &s->acls[i];
        if (keep && !keep[i])
            continue;
        len += (size_t)sprintf(text + len, "%s %s %s %s ", sk_acl_resource_name(b->resource_type),
                               sk_acl_pattern_name(b->pattern_type), sk_acl_operation_name(b->operation),
                               sk_acl_permission_name(b->permission));
        len += put_b64(text + len, b->name);
        len += put_b64(text + len, b->principal);
        len += put_b64(text + len, b->host);
        text[len - 1] = '\n';
    }
    int rc = sk_file_write_atomic(s->path, text, len);
    if (rc < 0)
        sk_error("acl", "cannot write %s: %s", s->path, strerror(errno));
    free(text);
    return rc;
}

/* Decodes base64 field `in` into `out` (FIELD_MAX bytes) as a string without
 * NULs; false when malformed. */
static bool get_b64(const char *in, char *out)
{
    int n = sk_base64_decode(in, strlen(in), (uint8_t *)out, FIELD_MAX - 1);
    if (n < 0 || memchr(out, '\0', (size_t)n))
        return false;
    out[n] = '\0';
    return true;
}

/* Parses one line into the store; NULL, or why it is malformed. */
static const char *load_line(sk_acl_store *s, char *line)
{
    char *f[7], *save_ptr = NULL;
    int n = 0;
    for (char *t = strtok_r(line, " ", &save_ptr); t && n < 7; t = strtok_r(NULL, " ", &save_ptr))
        f[n++] = t;
    if (n != 7 || strtok_r(NULL, " ", &save_ptr))
        return "not 7 fields";
    int rt = code_of(resource_names, COUNT(resource_names), f[0]);
    int pt = code_of(pattern_names, COUNT(pattern_names), f[1]);
    int op = code_of(operation_names, COUNT(operation_names), f[2]);
    int pm = code_of(permission_names, COUNT(permission_names), f[3]);
    static char name[FIELD_MAX], principal[FIELD_MAX], host[FIELD_MAX];
    if (rt < 0 || pt < 0 || op < 0 || pm < 0)
        return "unknown enum name";
    if (!get_b64(f[4], name) || !get_b64(f[5], principal) || !get_b64(f[6], host))
        return "bad base64";
    sk_acl b = {(int8_t)rt, (int8_t)pt, (int8_t)op, (int8_t)pm, name, principal, host};
    char buf[256];
    const char *why = sk_acl_validate(&b, buf, sizeof buf);
    if (why)
        return "invalid binding";
    return push(s, &b) < 0 ? "out of memory" : NULL;
}

/* sk_file_each_line callback: one line of the file into the store. */
static int load_cb(void *arg, char *line, int lineno)
{
    sk_acl_store *s = arg;
    const char *why = load_line(s, line);
    if (!why)
        return 0;
    sk_error("acl", "%s: malformed ACL on line %d (%s); fix or remove the file", s->path, lineno, why);
    return 1;
}

sk_acl_store *sk_acl_store_open(const char *dir)
{
    sk_acl_store *s = calloc(1, sizeof *s);
    if (!s || !dir)
        return s;
    int rc = sk_file_each_line(dir, STORE_FILE, STORE_MAX_BYTES, &s->path, load_cb, s, NULL);
    if (rc != 0) {
        if (rc < 0)
            sk_error("acl", "cannot read %s/%s: %s", dir, STORE_FILE, strerror(errno));
        sk_acl_store_free(s);
        return NULL;
    }
    sk_info("acl", "loaded %zu ACL bindings from %s", s->n, s->path);
    return s;
}

static void free_super(sk_acl_store *s)
{
    for (size_t i = 0; i < s->nsuper; i++)
        free(s->super_users[i]);
    free(s->super_users);
    s->super_users = NULL;
    s->nsuper = 0;
}

void sk_acl_store_free(sk_acl_store *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        acl_free_strings(&s->acls[i]);
    free(s->acls);
    free_super(s);
    free(s->path);
    free(s);
}

int sk_acl_store_configure(sk_acl_store *s, const char *super_users, bool allow_everyone)
{
    free_super(s);
    s->allow_everyone = allow_everyone;
    for (const char *p = super_users; p && *p;) {
        const char *end = strchr(p, ';');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        const char *q = p;
        while (len && (*q == ' ' || *q == '\t'))
            q++, len--;
        while (len && (q[len - 1] == ' ' || q[len - 1] == '\t'))
            len--;
        if (len) {
            char **grown = realloc(s->super_users, (s->nsuper + 1) * sizeof *grown);
            if (!grown || !(grown[s->nsuper] = strndup(q, len))) {
                if (grown)
                    s->super_users = grown;
                return -1;
            }
            s->super_users = grown;
            s->nsuper++;
        }
        p = end ? end + 1 : p + strlen(p);
    }
    return 0;
}

int sk_acl_store_add(sk_acl_store *s, const sk_acl *b, size_t n)
{
    size_t before = s->n;
    for (size_t i = 0; i < n; i++) {
        bool dup = false;
        for (size_t k = 0; k < s->n && !dup; k++)
            dup = same(&s->acls[k], &b[i]);
        if (!dup && push(s, &b[i]) < 0)
            goto undo;
    }
    if (s->n == before || save(s, NULL) == 0)
        return 0;
undo:
    while (s->n > before)
        acl_free_strings(&s->acls[--s->n]);
    return -1;
}

int sk_acl_store_delete(sk_acl_store *s, const sk_acl *f, void (*fn)(void *arg, const sk_acl *b), void *arg)
{
    bool *keep = malloc((s->n ? s->n : 1) * sizeof *keep);
    if (!keep)
        return -1;
    int removed = 0;
    for (size_t i = 0; i < s->n; i++) {
        keep[i] = !sk_acl_filter_matches(f, &s->acls[i]);
        removed += !keep[i];
    }
    if (removed && save(s, keep) < 0) {
        free(keep);
        return -1;
    }
    size_t w = 0;
    for (size_t i = 0; i < s->n; i++) {
        if (keep[i]) {
            s->acls[w++] = s->acls[i];
            continue;
        }
        if (fn)
            fn(arg, &s->acls[i]);
        acl_free_strings(&s->acls[i]);
    }
    s->n = w;
    free(keep);
    return removed;
}

void sk_acl_store_each(const sk_acl_store *s, const sk_acl *f, void (*fn)(void *arg, const sk_acl *b), void *arg)
{
    for (size_t i = 0; i < s->n; i++)
        if (sk_acl_filter_matches(f, &s->acls[i]))
            fn(arg, &s->acls[i]);
}

size_t sk_acl_store_count(const sk_acl_store *s)
{
    return s->n;
}
