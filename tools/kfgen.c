/*
 * kfgen: the host tool that turns skiff's protocol schema files
 * (src/proto/schema/NN_<api>.kfs and record_<name>.kfs, language described
 * in src/proto/schema/README.md) into OUTDIR/kf_msgs.h and OUTDIR/kf_msgs.c:
 * one C struct per message and nested struct, one kf_struct_desc table per
 * struct, the KF_API_* key enum, the kf_apis[] table that src/proto/codec.c
 * interprets, and the kf_records[] table of the internal topics' record
 * types (keys and values of __consumer_offsets and __transaction_state).
 *
 * Usage: kfgen OUTDIR FILE.kfs...
 *
 * The schema is checked while it is read; any error is reported as
 * file:line: message and the tool exits with status 1, failing the build.
 * Plain C with no dependencies beyond libc.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAME_MAX_LEN 64
#define MAX_FIELDS 64
#define MAX_STRUCTS 64
#define MAX_APIS 128
#define MAX_LINES 4096
#define VMAX 32767

/* Field types, in the order and spelling of kf_type in include/skiff/proto.h. */
enum {
    T_BOOL,
    T_INT8,
    T_INT16,
    T_INT32,
    T_INT64,
    T_UINT16,
    T_UINT32,
    T_FLOAT64,
    T_UUID,
    T_STRING,
    T_BYTES,
    T_RECORDS,
    T_STRUCT,
    T_ARRAY,
    T_NSTRUCT,
    T_NTYPES
};

static const char *const type_names[T_NTYPES] = {
    "bool", "int8",   "int16", "int32",   "int64", "uint16", "uint32", "float64",
    "uuid", "string", "bytes", "records", NULL,    NULL,     NULL,
};
static const char *const type_enums[T_NTYPES] = {
    "KF_BOOL", "KF_INT8",   "KF_INT16", "KF_INT32",   "KF_INT64",  "KF_UINT16", "KF_UINT32",          "KF_FLOAT64",
    "KF_UUID", "KF_STRING", "KF_BYTES", "KF_RECORDS", "KF_STRUCT", "KF_ARRAY",  "KF_NULLABLE_STRUCT",
};
static const char *const type_ctypes[T_NTYPES] = {
    "bool",    "int8_t", "int16_t",  "int32_t",  "int64_t", "uint16_t", "uint32_t", "double",
    "kf_uuid", "kf_str", "kf_bytes", "kf_bytes", NULL,      NULL,       NULL,
};
/* Inclusive value ranges of the integer types, for checking defaults. */
static const long long type_min[T_NTYPES] = {0, INT8_MIN, INT16_MIN, INT32_MIN, LLONG_MIN, 0, 0};
static const long long type_max[T_NTYPES] = {1, INT8_MAX, INT16_MAX, INT32_MAX, LLONG_MAX, UINT16_MAX, UINT32_MAX};

typedef struct sdef sdef;

typedef struct field {
    char name[NAME_MAX_LEN];
    int type;       /* T_* */
    int elem;       /* element T_* of arrays */
    sdef *child;    /* struct of T_STRUCT and T_NSTRUCT fields and struct arrays */
    int vmin, vmax; /* versions the field exists in */
    int nmin, nmax; /* nullable versions; nmin > nmax when never null */
    int tag;        /* -1 when not tagged */
    long long def;  /* default of integer and bool fields */
    bool def_null;  /* default of string, bytes and array fields is null */
    int line;
} field;

struct sdef {
    char name[NAME_MAX_LEN]; /* schema name, e.g. "partition" ("" for the message itself) */
    field fields[MAX_FIELDS];
    int nfields;
    bool defined; /* fields were given (a later use may just name it) */
    bool emitted;
    int line;
};

typedef struct msg {
    sdef *structs[MAX_STRUCTS]; /* structs[0] is the message itself */
    int nstructs;
} msg;

typedef struct api {
    int key;                  /* API key; a record type's first key version */
    char name[NAME_MAX_LEN];  /* CamelCase, e.g. "ApiVersions" */
    char snake[NAME_MAX_LEN]; /* e.g. "api_versions" */
    int vmin, vmax, flex;     /* flex = VMAX when never flexible (a record: its value's) */
    msg req, resp;            /* a record: its key and its value */
    bool has_req, has_resp;
    bool record;              /* an internal-topic record type, not an API */
    int tmin, tmax;           /* a record's key versions (record types) */
    char topic[NAME_MAX_LEN]; /* a record's internal topic */
} api;

/* The two sections of a file: request/response, or key/value. */
static const char *section_name(const api *a, bool first)
{
    return a->record ? (first ? "key" : "value") : (first ? "request" : "response");
}

/* One significant line of a schema file, comments and blanks removed. */
typedef struct line {
    int no;     /* 1-based line number */
    int indent; /* leading spaces */
    char *tok[16];
    int ntok;
} line;

static const char *cur_file;
static api apis[MAX_APIS];
static int napis;

static void die(int lineno, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));

static void die(int lineno, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s:%d: ", cur_file ? cur_file : "kfgen", lineno);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n, size);
    if (!p) {
        fprintf(stderr, "kfgen: out of memory\n");
        exit(1);
    }
    return p;
}

static bool is_ident(const char *s)
{
    if (!islower((unsigned char)s[0]))
        return false;
    for (; *s; s++)
        if (!islower((unsigned char)*s) && !isdigit((unsigned char)*s) && *s != '_')
            return false;
    return true;
}

static void copy_name(char *dst, const char *src, int lineno)
{
    if (strlen(src) >= NAME_MAX_LEN)
        die(lineno, "name too long: %s", src);
    strcpy(dst, src);
}

/* Parses a decimal integer in [lo, hi]. */
static long long parse_int(const char *s, long long lo, long long hi, int lineno, const char *what)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end || errno || v < lo || v > hi)
        die(lineno, "bad %s '%s'", what, s);
    return v;
}

/* Parses a version range: "N+", "N-M" or "N". */
static void parse_range(const char *s, int *lo, int *hi, int lineno)
{
    char buf[32];
    size_t n = strlen(s);
    if (n == 0 || n >= sizeof buf)
        die(lineno, "bad version range '%s'", s);
    strcpy(buf, s);
    char *dash = strchr(buf, '-');
    if (buf[n - 1] == '+') {
        buf[n - 1] = 0;
        *lo = (int)parse_int(buf, 0, VMAX - 1, lineno, "version range");
        *hi = VMAX;
    } else if (dash) {
        *dash = 0;
        *lo = (int)parse_int(buf, 0, VMAX - 1, lineno, "version range");
        *hi = (int)parse_int(dash + 1, 0, VMAX - 1, lineno, "version range");
    } else {
        *lo = *hi = (int)parse_int(buf, 0, VMAX - 1, lineno, "version range");
    }
    if (*lo > *hi)
        die(lineno, "empty version range '%s'", s);
}

/* "ApiVersions" -> "api_versions". */
static void camel_to_snake(const char *in, char *out, int lineno)
{
    size_t o = 0;
    for (size_t i = 0; in[i]; i++) {
        if (!isalnum((unsigned char)in[i]))
            die(lineno, "bad API name '%s'", in);
        if (o + 3 >= NAME_MAX_LEN)
            die(lineno, "API name too long");
        if (isupper((unsigned char)in[i])) {
            if (i > 0)
                out[o++] = '_';
            out[o++] = (char)tolower((unsigned char)in[i]);
        } else {
            out[o++] = in[i];
        }
    }
    out[o] = 0;
    if (!isupper((unsigned char)in[0]))
        die(lineno, "API name '%s' must be CamelCase", in);
}

static int type_from_name(const char *s)
{
    for (int t = 0; t < T_STRUCT; t++)
        if (!strcmp(s, type_names[t]))
            return t;
    return -1;
}

static bool int_like(int t)
{
    return t <= T_UINT32;
}

static bool nullable_type(int t)
{
    return t == T_STRING || t == T_BYTES || t == T_RECORDS || t == T_ARRAY || t == T_STRUCT;
}

/* Finds or creates the struct `name` of message `m`. */
static sdef *struct_get(msg *m, const char *name, int lineno)
{
    for (int i = 1; i < m->nstructs; i++)
        if (!strcmp(m->structs[i]->name, name))
            return m->structs[i];
    if (m->nstructs == MAX_STRUCTS)
        die(lineno, "too many structs in one message");
    sdef *s = xcalloc(1, sizeof *s);
    copy_name(s->name, name, lineno);
    s->line = lineno;
    m->structs[m->nstructs++] = s;
    return s;
}

static bool same_fields(const sdef *a, const sdef *b)
{
    if (a->nfields != b->nfields)
        return false;
    for (int i = 0; i < a->nfields; i++) {
        const field *x = &a->fields[i], *y = &b->fields[i];
        if (strcmp(x->name, y->name) || x->type != y->type || x->elem != y->elem || x->child != y->child ||
            x->vmin != y->vmin || x->vmax != y->vmax || x->nmin != y->nmin || x->nmax != y->nmax || x->tag != y->tag ||
            x->def != y->def || x->def_null != y->def_null)
            return false;
    }
    return true;
}

/* Parses the modifiers after a field's version range. */
static void parse_modifiers(const api *a, const line *ln, int i, field *f)
{
    while (i < ln->ntok) {
        const char *kw = ln->tok[i];
        if (i + 1 >= ln->ntok)
            die(ln->no, "'%s' needs a value", kw);
        const char *v = ln->tok[i + 1];
        if (!strcmp(kw, "nullable")) {
            if (!nullable_type(f->type))
                die(ln->no, "field %s: type cannot be nullable", f->name);
            parse_range(v, &f->nmin, &f->nmax, ln->no);
        } else if (!strcmp(kw, "tag")) {
            f->tag = (int)parse_int(v, 0, INT32_MAX, ln->no, "tag");
            if (f->vmin < a->flex)
                die(ln->no, "field %s: tagged field in versions that are not flexible", f->name);
        } else if (!strcmp(kw, "default")) {
            if (!strcmp(v, "null")) {
                f->def_null = true;
            } else if (!strcmp(v, "\"\"")) {
                if (f->type != T_STRING && f->type != T_BYTES)
                    die(ln->no, "field %s: default \"\" needs a string or bytes field", f->name);
            } else if (f->type == T_BOOL) {
                if (strcmp(v, "true") && strcmp(v, "false"))
                    die(ln->no, "field %s: bool default must be true or false", f->name);
                f->def = !strcmp(v, "true");
            } else if (int_like(f->type) || f->type == T_FLOAT64) {
                long long lo = f->type == T_FLOAT64 ? LLONG_MIN : type_min[f->type];
                long long hi = f->type == T_FLOAT64 ? LLONG_MAX : type_max[f->type];
                f->def = parse_int(v, lo, hi, ln->no, "default");
            } else {
                die(ln->no, "field %s: bad default '%s'", f->name, v);
            }
        } else {
            die(ln->no, "unknown modifier '%s'", kw);
        }
        i += 2;
    }
    if (f->def_null && f->nmin > f->nmax)
        die(ln->no, "field %s: default null needs a nullable range", f->name);
}

static void parse_struct(api *a, msg *m, sdef *s, line *lines, int nlines, int *pi);

/* Parses the field on lines[*pi] into s, and the nested struct that follows it. */
static void parse_field(api *a, msg *m, sdef *s, line *lines, int nlines, int *pi)
{
    line *ln = &lines[*pi];
    if (ln->ntok < 3)
        die(ln->no, "a field needs a name, a type and a version range");
    if (s->nfields == MAX_FIELDS)
        die(ln->no, "too many fields in one struct");
    field *f = &s->fields[s->nfields];
    memset(f, 0, sizeof *f);
    f->line = ln->no;
    f->tag = -1;
    f->nmin = VMAX;
    f->nmax = -1;
    if (!is_ident(ln->tok[0]))
        die(ln->no, "bad field name '%s' (lower-case snake_case)", ln->tok[0]);
    copy_name(f->name, ln->tok[0], ln->no);
    for (int i = 0; i < s->nfields; i++)
        if (!strcmp(s->fields[i].name, f->name))
            die(ln->no, "duplicate field name '%s'", f->name);

    const char *ty = ln->tok[1];
    char sname[NAME_MAX_LEN] = "";
    if (!strncmp(ty, "[]", 2)) {
        f->type = T_ARRAY;
        f->elem = type_from_name(ty + 2);
        if (f->elem == T_RECORDS)
            die(ln->no, "arrays of records are not supported");
        if (f->elem < 0) {
            if (!is_ident(ty + 2))
                die(ln->no, "unknown type '%s'", ty);
            f->elem = T_STRUCT;
            copy_name(sname, ty + 2, ln->no);
        }
    } else if (ty[0] == '{') {
        size_t n = strlen(ty);
        if (n < 3 || ty[n - 1] != '}' || n - 2 >= NAME_MAX_LEN)
            die(ln->no, "bad struct type '%s'", ty);
        memcpy(sname, ty + 1, n - 2);
        sname[n - 2] = 0;
        if (!is_ident(sname) || type_from_name(sname) >= 0)
            die(ln->no, "bad struct name '%s'", sname);
        f->type = T_STRUCT;
    } else {
        f->type = type_from_name(ty);
        if (f->type < 0)
            die(ln->no, "unknown type '%s'", ty);
    }
    parse_range(ln->tok[2], &f->vmin, &f->vmax, ln->no);
    if (f->vmin > a->vmax)
        die(ln->no, "field %s: versions %s are outside the API's versions", f->name, ln->tok[2]);
    parse_modifiers(a, ln, 3, f);
    if (f->type == T_STRUCT && f->nmin <= f->nmax) {
        /* A nullable struct is a pointer in C (NULL = null, the default), so
         * it must be nullable in every version it exists in. */
        if (f->nmin > f->vmin || f->nmax < f->vmax)
            die(ln->no, "field %s: a nullable struct must be nullable in all its versions (%s)", f->name, ln->tok[2]);
        f->type = T_NSTRUCT;
        f->def_null = true;
    }
    for (int i = 0; f->tag >= 0 && i < s->nfields; i++) {
        if (s->fields[i].tag == f->tag)
            die(ln->no, "tag %d used twice in one struct", f->tag);
        if (s->fields[i].tag > f->tag)
            die(ln->no, "tag %d declared after tag %d: declare tags in increasing order", f->tag, s->fields[i].tag);
    }
    s->nfields++;

    int indent = ln->indent;
    (*pi)++;
    bool nested = *pi < nlines && lines[*pi].indent > indent;
    if (!sname[0]) {
        if (nested)
            die(lines[*pi].no, "unexpected indentation: field %s has no struct type", f->name);
        return;
    }
    sdef *child = struct_get(m, sname, ln->no);
    f->child = child;
    if (!nested) {
        if (!child->defined)
            die(ln->no, "struct %s has no fields", sname);
        return;
    }
    if (child->defined) {
        sdef *tmp = xcalloc(1, sizeof *tmp);
        copy_name(tmp->name, sname, ln->no);
        parse_struct(a, m, tmp, lines, nlines, pi);
        if (!same_fields(tmp, child))
            die(ln->no, "struct %s defined twice with different fields (first at line %d)", sname, child->line);
        free(tmp);
    } else {
        child->line = ln->no;
        child->defined = true;
        parse_struct(a, m, child, lines, nlines, pi);
    }
}

/* Parses the fields at the indentation of lines[*pi] into s. */
static void parse_struct(api *a, msg *m, sdef *s, line *lines, int nlines, int *pi)
{
    int indent = lines[*pi].indent;
    while (*pi < nlines && lines[*pi].indent >= indent) {
        if (lines[*pi].indent != indent)
            die(lines[*pi].no, "inconsistent indentation");
        parse_field(a, m, s, lines, nlines, pi);
    }
}

/* Splits the file into significant lines (tokens separated by spaces). */
static int read_lines(char *text, line *lines)
{
    int n = 0, no = 0;
    for (char *p = text; *p;) {
        char *nl = strchr(p, '\n');
        if (nl)
            *nl = 0;
        no++;
        char *hash = strchr(p, '#');
        if (hash)
            *hash = 0;
        int indent = 0;
        while (p[indent] == ' ')
            indent++;
        if (p[indent] == '\t')
            die(no, "tabs are not allowed; indent with spaces");
        line ln = {.no = no, .indent = indent};
        for (char *t = strtok(p + indent, " \t\r"); t; t = strtok(NULL, " \t\r")) {
            if (ln.ntok == 16)
                die(no, "too many words on one line");
            ln.tok[ln.ntok++] = t;
        }
        if (ln.ntok) {
            if (n == MAX_LINES)
                die(no, "file too long");
            lines[n++] = ln;
        }
        if (!nl)
            break;
        p = nl + 1;
    }
    return n;
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "kfgen: cannot open %s: %s\n", path, strerror(errno));
        exit(1);
    }
    size_t cap = 4096, len = 0;
    char *buf = xcalloc(1, cap);
    size_t got;
    while ((got = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += got;
        if (cap - len == 1) {
            cap *= 2;
            char *nb = realloc(buf, cap);
            if (!nb) {
                fprintf(stderr, "kfgen: out of memory\n");
                exit(1);
            }
            buf = nb;
        }
    }
    buf[len] = 0;
    fclose(f);
    return buf;
}

static void parse_flexible(api *a, const line *ln, const char *tok)
{
    if (!strcmp(tok, "none")) {
        a->flex = VMAX;
        return;
    }
    int hi;
    parse_range(tok, &a->flex, &hi, ln->no);
    if (hi != VMAX)
        die(ln->no, "flexible versions must be 'N+' or 'none'");
}

/* The file name must be NN_<snake name>.kfs with NN the key (APIs), or
 * record_<snake name>.kfs (records). */
static void check_file_name(const char *path, const api *a, int lineno)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    char want[NAME_MAX_LEN + 16];
    if (a->record)
        snprintf(want, sizeof want, "record_%s.kfs", a->snake);
    else
        snprintf(want, sizeof want, "%02d_%s.kfs", a->key, a->snake);
    if (strcmp(base, want))
        die(lineno, "file of %s %s must be named %s", a->record ? "record" : "API", a->name, want);
}

/* The first line of an API file: api KEY Name versions RANGE flexible N+|none. */
static void parse_api_line(api *a, const line *ln, const char *path)
{
    if (ln->ntok != 7 || strcmp(ln->tok[3], "versions") || strcmp(ln->tok[5], "flexible"))
        die(ln->no, "expected: api KEY Name versions RANGE flexible N+|none");
    a->key = (int)parse_int(ln->tok[1], 0, INT16_MAX, ln->no, "api key");
    copy_name(a->name, ln->tok[2], ln->no);
    camel_to_snake(a->name, a->snake, ln->no);
    parse_range(ln->tok[4], &a->vmin, &a->vmax, ln->no);
    parse_flexible(a, ln, ln->tok[6]);
    for (int i = 0; i < napis - 1; i++)
        if (!apis[i].record && apis[i].key == a->key)
            die(ln->no, "API key %d defined twice", a->key);
    check_file_name(path, a, ln->no);
}

/* The first line of a record file:
 * record Name topic TOPIC types RANGE versions RANGE flexible N+|none. */
static void parse_record_line(api *a, const line *ln, const char *path)
{
    if (ln->ntok != 10 || strcmp(ln->tok[2], "topic") || strcmp(ln->tok[4], "types") ||
        strcmp(ln->tok[6], "versions") || strcmp(ln->tok[8], "flexible"))
        die(ln->no, "expected: record Name topic TOPIC types RANGE versions RANGE flexible N+|none");
    a->record = true;
    copy_name(a->name, ln->tok[1], ln->no);
    camel_to_snake(a->name, a->snake, ln->no);
    copy_name(a->topic, ln->tok[3], ln->no);
    parse_range(ln->tok[5], &a->tmin, &a->tmax, ln->no);
    if (a->tmax == VMAX)
        die(ln->no, "record types must be a closed range");
    a->key = a->tmin;
    parse_range(ln->tok[7], &a->vmin, &a->vmax, ln->no);
    parse_flexible(a, ln, ln->tok[9]);
    for (int i = 0; i < napis - 1; i++)
        if (apis[i].record && !strcmp(apis[i].topic, a->topic) && apis[i].tmin <= a->tmax && a->tmin <= apis[i].tmax)
            die(ln->no, "record types %d-%d of %s overlap %s's", a->tmin, a->tmax, a->topic, apis[i].name);
    check_file_name(path, a, ln->no);
}

static void parse_file(const char *path)
{
    static line lines[MAX_LINES];
    cur_file = path;
    char *text = read_file(path);
    int n = read_lines(text, lines);
    if (n == 0 || lines[0].indent || (strcmp(lines[0].tok[0], "api") && strcmp(lines[0].tok[0], "record")))
        die(n ? lines[0].no : 1, "a schema file starts with an 'api' or a 'record' line");
    if (napis == MAX_APIS)
        die(lines[0].no, "too many APIs");
    api *a = &apis[napis++];
    if (!strcmp(lines[0].tok[0], "api"))
        parse_api_line(a, &lines[0], path);
    else
        parse_record_line(a, &lines[0], path);
    /* A record's key: never flexible, its versions are the record types. */
    api key_view = *a;
    key_view.vmin = a->tmin;
    key_view.vmax = a->tmax;
    key_view.flex = VMAX;

    int i = 1;
    while (i < n) {
        line *ln = &lines[i];
        const char *first = section_name(a, true), *second = section_name(a, false);
        if (ln->indent || ln->ntok != 1 || (strcmp(ln->tok[0], first) && strcmp(ln->tok[0], second)))
            die(ln->no, "expected '%s' or '%s'", first, second);
        bool req = !strcmp(ln->tok[0], first);
        bool *has = req ? &a->has_req : &a->has_resp;
        if (*has)
            die(ln->no, "%s given twice", ln->tok[0]);
        *has = true;
        msg *m = req ? &a->req : &a->resp;
        sdef *root = xcalloc(1, sizeof *root);
        root->defined = true;
        root->line = ln->no;
        m->structs[m->nstructs++] = root;
        i++;
        if (i < n && lines[i].indent > 0)
            parse_struct(a->record && req ? &key_view : a, m, root, lines, n, &i);
        if (i < n && lines[i].indent > 0)
            die(lines[i].no, "inconsistent indentation");
    }
    if (!a->has_req || !a->has_resp)
        die(1, "%s %s needs both a %s and a %s section", a->record ? "record" : "API", a->name, section_name(a, true),
            section_name(a, false));
    free(text);
    cur_file = NULL;
}

/* ---- output ---- */

static void upper(const char *in, char *out)
{
    size_t i = 0;
    for (; in[i]; i++)
        out[i] = (char)toupper((unsigned char)in[i]);
    out[i] = 0;
}

/* C name of a struct: kf_<api>_<request|response>[_<struct>]. */
static void c_name(const api *a, bool req, const sdef *s, char *out, size_t cap)
{
    snprintf(out, cap, "kf_%s_%s%s%s", a->snake, section_name(a, req), s->name[0] ? "_" : "", s->name);
}

static void emit_struct_decl(FILE *h, const api *a, bool req, sdef *s)
{
    if (s->emitted)
        return;
    s->emitted = true;
    for (int i = 0; i < s->nfields; i++)
        if (s->fields[i].child)
            emit_struct_decl(h, a, req, s->fields[i].child);
    char name[3 * NAME_MAX_LEN], cn[3 * NAME_MAX_LEN];
    c_name(a, req, s, name, sizeof name);
    fprintf(h, "struct %s {\n", name);
    if (s->nfields == 0)
        fprintf(h, "    char unused_; /* the message has no fields; C needs one member */\n");
    for (int i = 0; i < s->nfields; i++) {
        const field *f = &s->fields[i];
        const char *elem = NULL;
        if (f->child) {
            c_name(a, req, f->child, cn, sizeof cn);
            elem = cn;
        }
        if (f->type == T_ARRAY)
            fprintf(h, "    struct { %s *items; int32_t n; } %s;\n", f->elem == T_STRUCT ? elem : type_ctypes[f->elem],
                    f->name);
        else if (f->type == T_NSTRUCT)
            fprintf(h, "    %s *%s; /* NULL = null */\n", elem, f->name);
        else
            fprintf(h, "    %s %s;\n", f->type == T_STRUCT ? elem : type_ctypes[f->type], f->name);
    }
    fprintf(h, "};\n\n");
}

/* A version bound as C: KF_VMAX for "and every later version". */
static void fmt_version(char *out, size_t cap, int v)
{
    if (v == VMAX)
        snprintf(out, cap, "KF_VMAX");
    else
        snprintf(out, cap, "%d", v);
}

static void emit_desc(FILE *c, const api *a, bool req, sdef *s)
{
    if (s->emitted)
        return;
    s->emitted = true;
    for (int i = 0; i < s->nfields; i++)
        if (s->fields[i].child)
            emit_desc(c, a, req, s->fields[i].child);
    char name[3 * NAME_MAX_LEN], cn[3 * NAME_MAX_LEN];
    c_name(a, req, s, name, sizeof name);
    if (s->nfields) {
        fprintf(c, "static const kf_field %s_fields[] = {\n", name);
        for (int i = 0; i < s->nfields; i++) {
            const field *f = &s->fields[i];
            char child[3 * NAME_MAX_LEN + 8] = "NULL";
            if (f->child) {
                c_name(a, req, f->child, cn, sizeof cn);
                snprintf(child, sizeof child, "&%s_desc", cn);
            }
            char vmax[16], nmin[16], nmax[16], def[32];
            fmt_version(vmax, sizeof vmax, f->vmax);
            fmt_version(nmin, sizeof nmin, f->nmin);
            fmt_version(nmax, sizeof nmax, f->nmax);
            if (f->def == LLONG_MIN)
                snprintf(def, sizeof def, "INT64_MIN");
            else
                snprintf(def, sizeof def, "%lldLL", f->def);
            fprintf(c, "    {\"%s\", %s, %s, offsetof(%s, %s), %d, %s, %s, %s, %d, %s, %s, %s},\n", f->name,
                    type_enums[f->type], f->type == T_ARRAY ? type_enums[f->elem] : "0", name, f->name, f->vmin, vmax,
                    nmin, nmax, f->tag, def, f->def_null ? "true" : "false", child);
        }
        fprintf(c, "};\n");
    }
    fprintf(c, "const kf_struct_desc %s_desc = {\"%s\", sizeof(%s), %d, %s%s};\n\n", name, name, name, s->nfields,
            s->nfields ? name : "NULL", s->nfields ? "_fields" : "");
}

/* APIs by key, then records by topic and type. */
static int cmp_api(const void *x, const void *y)
{
    const api *a = x, *b = y;
    if (a->record != b->record)
        return a->record - b->record;
    int t = a->record ? strcmp(a->topic, b->topic) : 0;
    return t ? t : a->key - b->key;
}

/* Index of the first record type in the sorted apis[] (napis when none). */
static int first_record(void)
{
    int i = 0;
    while (i < napis && !apis[i].record)
        i++;
    return i;
}

static FILE *open_out(const char *dir, const char *name, char *path, size_t cap)
{
    snprintf(path, cap, "%s/%s.tmp", dir, name);
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "kfgen: cannot write %s: %s\n", path, strerror(errno));
        exit(1);
    }
    return f;
}

static void close_out(FILE *f, const char *dir, const char *name, const char *tmp)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (ferror(f) || fclose(f) || rename(tmp, path)) {
        fprintf(stderr, "kfgen: cannot write %s\n", path);
        exit(1);
    }
}

static const char banner[] = "/* Generated by tools/kfgen from src/proto/schema — DO NOT EDIT. */\n";

static void emit(const char *dir)
{
    char hpath[4096], cpath[4096], up[NAME_MAX_LEN];
    qsort(apis, (size_t)napis, sizeof apis[0], cmp_api);

    FILE *h = open_out(dir, "kf_msgs.h", hpath, sizeof hpath);
    fprintf(h, "%s#ifndef KF_MSGS_H\n#define KF_MSGS_H\n\n#include \"skiff/proto.h\"\n\n", banner);
    fprintf(h, "/* API keys. */\nenum {\n");
    for (int i = 0; i < napis; i++) {
        if (apis[i].record)
            continue;
        upper(apis[i].snake, up);
        fprintf(h, "    KF_API_%s = %d,\n", up, apis[i].key);
    }
    fprintf(h, "};\n\n");
    for (int i = 0; i < napis; i++) {
        for (int r = 0; r < 2; r++) {
            msg *m = r ? &apis[i].resp : &apis[i].req;
            char name[3 * NAME_MAX_LEN];
            for (int s = 0; s < m->nstructs; s++) {
                c_name(&apis[i], !r, m->structs[s], name, sizeof name);
                fprintf(h, "typedef struct %s %s;\n", name, name);
            }
        }
    }
    fprintf(h, "\n");
    for (int i = 0; i < napis; i++) {
        if (apis[i].record)
            fprintf(h, "/* record %s of %s: types %d-%d, value versions %d-%d */\n\n", apis[i].name, apis[i].topic,
                    apis[i].tmin, apis[i].tmax, apis[i].vmin, apis[i].vmax);
        else
            fprintf(h, "/* %d %s: versions %d-%d */\n\n", apis[i].key, apis[i].name, apis[i].vmin, apis[i].vmax);
        emit_struct_decl(h, &apis[i], true, apis[i].req.structs[0]);
        emit_struct_decl(h, &apis[i], false, apis[i].resp.structs[0]);
    }
    fprintf(h, "/* Descriptors of every message and nested struct (for kf_init and the codec). */\n");
    for (int i = 0; i < napis; i++) {
        for (int r = 0; r < 2; r++) {
            msg *m = r ? &apis[i].resp : &apis[i].req;
            char name[3 * NAME_MAX_LEN];
            for (int s = 0; s < m->nstructs; s++) {
                c_name(&apis[i], !r, m->structs[s], name, sizeof name);
                fprintf(h, "extern const kf_struct_desc %s_desc;\n", name);
            }
        }
    }
    fprintf(h, "\n/* Every API skiff serves, sorted by key. */\nextern const kf_api kf_apis[];\n"
               "extern const size_t kf_napis;\n");
    fprintf(h, "\n/* Record types of the internal topics, by topic and first type. */\n");
    for (int i = 0; i < napis; i++) {
        if (!apis[i].record)
            continue;
        upper(apis[i].snake, up);
        fprintf(h, "#define KF_RECORD_%s (&kf_records[%d])\n", up, i - first_record());
    }
    fprintf(h, "extern const kf_record_type kf_records[];\nextern const size_t kf_nrecords;\n\n#endif\n");
    close_out(h, dir, "kf_msgs.h", hpath);

    for (int i = 0; i < napis; i++)
        for (int r = 0; r < 2; r++) {
            msg *m = r ? &apis[i].resp : &apis[i].req;
            for (int s = 0; s < m->nstructs; s++)
                m->structs[s]->emitted = false;
        }
    FILE *c = open_out(dir, "kf_msgs.c", cpath, sizeof cpath);
    fprintf(c, "%s#include \"kf_msgs.h\"\n\n#include <stddef.h>\n#include <stdint.h>\n\n", banner);
    for (int i = 0; i < napis; i++) {
        emit_desc(c, &apis[i], true, apis[i].req.structs[0]);
        emit_desc(c, &apis[i], false, apis[i].resp.structs[0]);
    }
    fprintf(c, "const kf_api kf_apis[] = {\n");
    for (int i = 0; i < napis; i++)
        if (!apis[i].record)
            fprintf(c, "    {%d, \"%s\", %d, %d, %d, &kf_%s_request_desc, &kf_%s_response_desc},\n", apis[i].key,
                    apis[i].name, apis[i].vmin, apis[i].vmax, apis[i].flex, apis[i].snake, apis[i].snake);
    fprintf(c, "};\nconst size_t kf_napis = sizeof kf_apis / sizeof kf_apis[0];\n\n");
    fprintf(c, "const kf_record_type kf_records[] = {\n");
    for (int i = 0; i < napis; i++)
        if (apis[i].record)
            fprintf(c, "    {\"%s\", \"%s\", %d, %d, %d, %d, %d, &kf_%s_key_desc, &kf_%s_value_desc},\n", apis[i].name,
                    apis[i].topic, apis[i].tmin, apis[i].tmax, apis[i].vmin, apis[i].vmax, apis[i].flex, apis[i].snake,
                    apis[i].snake);
    if (first_record() == napis)
        fprintf(c, "    {NULL, NULL, 0, 0, 0, 0, 0, NULL, NULL},\n");
    fprintf(c, "};\nconst size_t kf_nrecords = %d;\n", napis - first_record());
    close_out(c, dir, "kf_msgs.c", cpath);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: kfgen OUTDIR FILE.kfs...\n");
        return 2;
    }
    for (int i = 2; i < argc; i++)
        parse_file(argv[i]);
    emit(argv[1]);
    return 0;
}
