/*
 * The SCRAM credential store: an array sorted by (user, type), held in
 * memory and rewritten whole, atomically, to `<data dir>/scram-credentials`
 * on every change. The file is text, one credential a line:
 *
 *   # skiff SCRAM credentials v1
 *   <mechanism> <base64 user> <iterations> <base64 salt> <base64 StoredKey> <base64 ServerKey>
 *
 * e.g. "SCRAM-SHA-256 YWxpY2U= 4096 c2FsdA== <44 chars> <44 chars>". The user
 * name is base64 so that any name (spaces, commas) fits in one field.
 */
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "skiff/fsutil.h"
#include "skiff/trace.h"
#include "skiff/scram.h"

#define STORE_FILE "scram-credentials"
#define STORE_HEADER "# skiff SCRAM credentials v1\n"
#define STORE_MAX_BYTES (64u << 20)

typedef struct entry {
    char *user;         /* the user name, owned */
    int type;           /* SK_SCRAM_TYPE_* (Kafka's ScramMechanism: 1 SHA-256, 2 SHA-512) */
    sk_scram_cred cred; /* salt, iterations, stored and server keys (never the password) */
} entry;

struct sk_scram_store {
    char *path;     /* the file, NULL for a memory-only store */
    entry *entries; /* sorted by user, then type */
    size_t n, cap;
};

static int entry_cmp(const char *user, int type, const entry *e)
{
    int c = strcmp(user, e->user);
    return c ? c : type - e->type;
}

/* Index of (user, type), or of where it would go with *found false. */
static size_t find(const sk_scram_store *s, const char *user, int type, bool *found)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = entry_cmp(user, type, &s->entries[mid]);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    *found = false;
    return lo;
}

const sk_scram_cred *sk_scram_store_get(const sk_scram_store *s, const char *user, int type)
{
    bool found;
    size_t i = find(s, user, type, &found);
    return found ? &s->entries[i].cred : NULL;
}

/* Inserts or replaces in memory only. */
static int put_mem(sk_scram_store *s, const char *user, int type, const sk_scram_cred *cred)
{
    bool found;
    size_t i = find(s, user, type, &found);
    if (found) {
        s->entries[i].cred = *cred;
        return 0;
    }
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 8;
        entry *grown = realloc(s->entries, cap * sizeof *grown);
        if (!grown)
            return -1;
        s->entries = grown;
        s->cap = cap;
    }
    char *dup = strdup(user);
    if (!dup)
        return -1;
    memmove(&s->entries[i + 1], &s->entries[i], (s->n - i) * sizeof *s->entries);
    s->entries[i] = (entry){.user = dup, .type = type, .cred = *cred};
    s->n++;
    return 0;
}

static int save(const sk_scram_store *s)
{
    if (!s->path)
        return 0;
    size_t cap = strlen(STORE_HEADER) + 1;
    for (size_t i = 0; i < s->n; i++)
        cap += 4 * (strlen(s->entries[i].user) / 3 + 1) + 4 * (SK_SCRAM_MAX_SALT / 3 + 1) +
               8 * (SK_SCRAM_MAX_KEY / 3 + 1) + 48;
    char *text = malloc(cap);
    if (!text) {
        sk_error("security", "cannot save %s: out of memory", s->path);
        return -1;
    }
    size_t len = (size_t)snprintf(text, cap, "%s", STORE_HEADER);
    for (size_t i = 0; i < s->n; i++) {
        const entry *e = &s->entries[i];
        size_t klen = sk_scram_key_len(e->type);
        len += (size_t)snprintf(text + len, cap - len, "%s ", sk_scram_type_name(e->type));
        len += sk_base64_encode((const uint8_t *)e->user, strlen(e->user), text + len);
        len += (size_t)snprintf(text + len, cap - len, " %d ", e->cred.iterations);
        len += sk_base64_encode(e->cred.salt, e->cred.salt_len, text + len);
        text[len++] = ' ';
        len += sk_base64_encode(e->cred.stored_key, klen, text + len);
        text[len++] = ' ';
        len += sk_base64_encode(e->cred.server_key, klen, text + len);
        text[len++] = '\n';
    }
    int rc = sk_file_write_atomic(s->path, text, len);
    if (rc < 0)
        sk_error("security", "cannot save %s: %s", s->path, strerror(errno));
    OPENSSL_cleanse(text, len);
    free(text);
    return rc;
}

/* Parses one line of the file into the store; -1 when malformed. */
static int load_line(sk_scram_store *s, char *line)
{
    char *f[6], *save_ptr = NULL;
    int n = 0;
    for (char *t = strtok_r(line, " ", &save_ptr); t && n < 6; t = strtok_r(NULL, " ", &save_ptr))
        f[n++] = t;
    if (n != 6 || strtok_r(NULL, " ", &save_ptr))
        return -1;
    int type = sk_scram_type_of(f[0]);
    size_t klen = sk_scram_key_len(type);
    char user[1024];
    sk_scram_cred cred = {0};
    char *end;
    long iters = strtol(f[2], &end, 10);
    int ulen = sk_base64_decode(f[1], strlen(f[1]), (uint8_t *)user, sizeof user - 1);
    int slen = sk_base64_decode(f[3], strlen(f[3]), cred.salt, sizeof cred.salt);
    if (!type || ulen <= 0 || memchr(user, '\0', (size_t)ulen) || *end || iters < 1 || iters > INT32_MAX || slen < 0 ||
        sk_base64_decode(f[4], strlen(f[4]), cred.stored_key, klen) != (int)klen ||
        sk_base64_decode(f[5], strlen(f[5]), cred.server_key, klen) != (int)klen)
        return -1;
    user[ulen] = '\0';
    cred.iterations = (int32_t)iters;
    cred.salt_len = (size_t)slen;
    return put_mem(s, user, type, &cred);
}

/* sk_file_each_line callback: one line of the file into the store. */
static int load_cb(void *arg, char *line, int lineno)
{
    sk_scram_store *s = arg;
    if (load_line(s, line) == 0)
        return 0;
    sk_error("security", "%s: malformed credential on line %d", s->path, lineno);
    return 1;
}

sk_scram_store *sk_scram_store_open(const char *dir)
{
    sk_scram_store *s = calloc(1, sizeof *s);
    if (!s || !dir)
        return s;
    int rc = sk_file_each_line(dir, STORE_FILE, STORE_MAX_BYTES, &s->path, load_cb, s, NULL);
    if (rc != 0) {
        if (rc < 0)
            sk_error("security", "cannot read %s/%s: %s", dir, STORE_FILE, strerror(errno));
        sk_scram_store_free(s);
        return NULL;
    }
    sk_info("security", "loaded %zu SCRAM credentials from %s", s->n, s->path);
    return s;
}

void sk_scram_store_free(sk_scram_store *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        free(s->entries[i].user);
    if (s->entries)
        OPENSSL_cleanse(s->entries, s->cap * sizeof *s->entries);
    free(s->entries);
    free(s->path);
    free(s);
}

int sk_scram_store_put(sk_scram_store *s, const char *user, int type, const sk_scram_cred *cred)
{
    bool found;
    size_t i = find(s, user, type, &found);
    sk_scram_cred old = found ? s->entries[i].cred : (sk_scram_cred){0};
    if (put_mem(s, user, type, cred) < 0) {
        sk_error("security", "out of memory storing a SCRAM credential");
        return -1;
    }
    if (save(s) == 0)
        return 0;
    if (found) {
        s->entries[i].cred = old;
    } else {
        sk_scram_store_delete(s, user, type); /* undo in memory; the file was not replaced */
    }
    return -1;
}

int sk_scram_store_delete(sk_scram_store *s, const char *user, int type)
{
    bool found;
    size_t i = find(s, user, type, &found);
    if (!found)
        return 1;
    entry gone = s->entries[i];
    memmove(&s->entries[i], &s->entries[i + 1], (s->n - i - 1) * sizeof *s->entries);
    s->n--;
    if (save(s) < 0) {
        put_mem(s, gone.user, gone.type, &gone.cred);
        free(gone.user);
        return -1;
    }
    free(gone.user);
    return 0;
}

void sk_scram_store_each(const sk_scram_store *s,
                         void (*fn)(const char *user, int type, const sk_scram_cred *cred, void *arg), void *arg)
{
    for (size_t i = 0; i < s->n; i++)
        fn(s->entries[i].user, s->entries[i].type, &s->entries[i].cred, arg);
}

/* One "SCRAM-SHA-256=[name=alice,password=alice-secret]" entry. */
static const char *bootstrap_one(sk_scram_store *s, const char *p, size_t len)
{
    const char *eq = memchr(p, '=', len);
    if (!eq || eq + 1 >= p + len || eq[1] != '[' || p[len - 1] != ']')
        return "expected MECHANISM=[name=NAME,password=PASSWORD]";
    char mech[32];
    snprintf(mech, sizeof mech, "%.*s", (int)(eq - p), p);
    int type = sk_scram_type_of(mech);
    if (!type)
        return "the mechanism must be SCRAM-SHA-256 or SCRAM-SHA-512";
    char name[256] = "", password[512] = "", salt_text[256] = "";
    int32_t iterations = SK_SCRAM_MIN_ITERATIONS;
    const char *q = eq + 2, *end = p + len - 1;
    while (q < end) {
        const char *comma = memchr(q, ',', (size_t)(end - q));
        const char *stop = comma ? comma : end;
        const char *e = memchr(q, '=', (size_t)(stop - q));
        if (!e)
            return "expected key=value inside [ ]";
        size_t klen = (size_t)(e - q), vlen = (size_t)(stop - e - 1);
        const char *v = e + 1;
        if (vlen >= 2 && v[0] == '"' && v[vlen - 1] == '"') { /* a quoted value, as kafka-storage's salt="N3E=" */
            v++;
            vlen -= 2;
        }
        char *dst = klen == 4 && !strncmp(q, "name", 4)       ? name
                    : klen == 8 && !strncmp(q, "password", 8) ? password
                    : klen == 4 && !strncmp(q, "salt", 4)     ? salt_text
                                                              : NULL;
        if (klen == 10 && !strncmp(q, "iterations", 10)) {
            char num[16];
            snprintf(num, sizeof num, "%.*s", (int)(vlen < 15 ? vlen : 15), v);
            iterations = (int32_t)atoi(num);
        } else if (!dst || vlen >= 256) {
            return "unknown key inside [ ] (name, password, salt, iterations) or a value too long";
        } else {
            snprintf(dst, 256, "%.*s", (int)vlen, v);
        }
        q = stop + 1;
    }
    if (!name[0] || !password[0])
        return "name and password are required";
    if (iterations < SK_SCRAM_MIN_ITERATIONS || iterations > SK_SCRAM_MAX_ITERATIONS)
        return "iterations must be from 4096 to 16384";
    sk_scram_cred cred = {.iterations = iterations};
    if (salt_text[0]) {
        int n = sk_base64_decode(salt_text, strlen(salt_text), cred.salt, sizeof cred.salt);
        if (n <= 0)
            return "salt must be base64";
        cred.salt_len = (size_t)n;
    } else {
        const sk_scram_cred *old = sk_scram_store_get(s, name, type);
        if (old && old->iterations == iterations) { /* same password: keep the stored salt */
            cred.salt_len = old->salt_len;
            memcpy(cred.salt, old->salt, old->salt_len);
        } else {
            cred.salt_len = 32;
            if (RAND_bytes(cred.salt, 32) != 1)
                return "no random bytes for a salt";
        }
    }
    uint8_t salted[SK_SCRAM_MAX_KEY];
    if (sk_scram_salted_password(type, password, strlen(password), cred.salt, cred.salt_len, iterations, salted) ||
        sk_scram_keys(type, salted, sk_scram_key_len(type), &cred))
        return "key derivation failed";
    OPENSSL_cleanse(salted, sizeof salted);
    OPENSSL_cleanse(password, sizeof password);
    const sk_scram_cred *old = sk_scram_store_get(s, name, type);
    if (old && old->iterations == cred.iterations && old->salt_len == cred.salt_len &&
        !memcmp(old->salt, cred.salt, cred.salt_len) && !memcmp(old->stored_key, cred.stored_key, SK_SCRAM_MAX_KEY))
        return NULL; /* unchanged: no rewrite */
    return sk_scram_store_put(s, name, type, &cred) == 0 ? NULL : "cannot save the credential";
}

const char *sk_scram_store_bootstrap(sk_scram_store *s, const char *spec)
{
    const char *p = spec;
    while (*p) {
        while (*p == ' ' || *p == ';')
            p++;
        if (!*p)
            break;
        size_t len = strcspn(p, ";");
        while (len > 0 && p[len - 1] == ' ')
            len--;
        const char *why = bootstrap_one(s, p, len);
        if (why)
            return why;
        p += strcspn(p, ";");
    }
    return NULL;
}
