/*
 * Kafka's small text files of the log directory:
 *  - offset checkpoints (recovery-point-offset-checkpoint,
 *    log-start-offset-checkpoint; Kafka's CheckpointFile with
 *    OffsetCheckpointFile's formatter): "0\n<count>\n" then one
 *    "<topic> <partition> <offset>\n" line per partition;
 *  - partition.metadata (PartitionMetadataFile): "version: 0\ntopic_id: <id>"
 *    with the topic id as 22 characters of base64url.
 * Both are read here from untrusted disk bytes, so every parse is bounded and
 * a malformed file is reported, not trusted. Writing goes through
 * sk_file_write_atomic (temp file, fsync, rename, directory fsync).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log_int.h"
#include "skiff/fsutil.h"
#include "skiff/trace.h"
#include "skiff/uuid.h"

#define CHECKPOINT_MAX_BYTES (64u << 20)

/* A cursor over text with a hard end. */
typedef struct text_cursor {
    const char *p, *end; /* next unread byte, and the end of the text */
} text_cursor;

/* Returns the next line (without '\n') and its length, or NULL at the end. */
static const char *next_line(text_cursor *c, size_t *len)
{
    if (c->p >= c->end)
        return NULL;
    const char *start = c->p;
    const char *nl = memchr(start, '\n', (size_t)(c->end - start));
    const char *stop = nl ? nl : c->end;
    *len = (size_t)(stop - start);
    c->p = nl ? nl + 1 : c->end;
    return start;
}

/* Parses a decimal integer of the whole span [s, s+n) into *v. */
static int parse_i64(const char *s, size_t n, int64_t *v)
{
    bool neg = n > 0 && s[0] == '-';
    size_t i = neg ? 1 : 0;
    uint64_t acc = 0;
    if (i == n || n - i > 19)
        return -1;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        acc = acc * 10 + (uint64_t)(s[i] - '0');
    }
    if (acc > (uint64_t)INT64_MAX)
        return -1;
    *v = neg ? -(int64_t)acc : (int64_t)acc;
    return 0;
}

void sk_checkpoint_entries_free(sk_checkpoint_entry *e, int n)
{
    for (int i = 0; i < n; i++)
        free(e[i].topic);
    free(e);
}

int sk_checkpoint_parse(const char *text, size_t len, sk_checkpoint_entry **out)
{
    text_cursor c = {text, text + len};
    const char *line;
    size_t n;
    int64_t version, count;
    *out = NULL;
    if (!(line = next_line(&c, &n)) || parse_i64(line, n, &version) < 0 || version != 0)
        return -1;
    /* Each entry takes at least 6 bytes ("t 0 0\n"), which bounds the count. */
    if (!(line = next_line(&c, &n)) || parse_i64(line, n, &count) < 0 || count < 0 || count > (int64_t)(len / 6) + 1)
        return -1;
    sk_checkpoint_entry *e = calloc((size_t)count + 1, sizeof *e);
    if (!e)
        return -1;
    int got = 0;
    for (; got < count; got++) {
        if (!(line = next_line(&c, &n)))
            goto bad;
        const char *sp1 = memchr(line, ' ', n);
        const char *sp2 = sp1 ? memchr(sp1 + 1, ' ', n - (size_t)(sp1 + 1 - line)) : NULL;
        int64_t part, off;
        if (!sp1 || !sp2 || sp1 == line || parse_i64(sp1 + 1, (size_t)(sp2 - sp1 - 1), &part) < 0 || part < 0 ||
            part > INT32_MAX || parse_i64(sp2 + 1, n - (size_t)(sp2 + 1 - line), &off) < 0)
            goto bad;
        e[got].topic = strndup(line, (size_t)(sp1 - line));
        if (!e[got].topic)
            goto bad;
        e[got].partition = (int32_t)part;
        e[got].offset = off;
    }
    while ((line = next_line(&c, &n)) != NULL)
        if (n != 0)
            goto bad;
    *out = e;
    return got;
bad:
    sk_checkpoint_entries_free(e, got);
    return -1;
}

int sk_checkpoint_read(const char *path, sk_checkpoint_entry **out)
{
    size_t len;
    *out = NULL;
    char *text = sk_file_read_all(path, CHECKPOINT_MAX_BYTES, &len);
    if (!text) {
        if (errno != ENOENT)
            sk_warn("log", "cannot read %s: %m", path);
        return 0;
    }
    int n = sk_checkpoint_parse(text, len, out);
    free(text);
    if (n < 0) {
        sk_warn("log", "%s is malformed; ignoring it", path);
        return 0;
    }
    return n;
}

typedef struct render_ctx {
    sk_writer w;   /* the entry lines rendered so far */
    int which;     /* 0 recovery points, 1 log start offsets, 2 cleaner offsets */
    int64_t count; /* entries rendered (the header's count) */
} render_ctx;

static void render_one(sk_partition *p, void *arg)
{
    render_ctx *r = arg;
    int64_t off;
    if (r->which == 2) {
        if (p->cleaner_offset < 0)
            return;
        off = p->cleaner_offset;
    } else if (r->which == 0) {
        off = p->recovery_point;
    } else if (p->loaded) {
        if (p->nsegs == 0 || p->log_start_offset <= p->segs[0]->base_offset)
            return;
        off = p->log_start_offset;
    } else if (p->log_start_checkpointed) {
        off = p->log_start_offset;
    } else {
        return;
    }
    char line[512];
    int n = snprintf(line, sizeof line, "%s %" PRId32 " %" PRId64 "\n", p->topic, p->index, off);
    if (n > 0 && (size_t)n < sizeof line) {
        sk_write_raw(&r->w, line, (size_t)n);
        r->count++;
    }
}

char *sk_checkpoint_render(sk_logstore *s, int which, size_t *len)
{
    render_ctx r = {.which = which};
    sk_writer_init(&r.w, 256);
    sk_logstore_foreach(s, render_one, &r);
    char head[64];
    int n = snprintf(head, sizeof head, "0\n%" PRId64 "\n", r.count);
    sk_writer out;
    sk_writer_init(&out, (size_t)n + r.w.len + 1);
    sk_write_raw(&out, head, (size_t)n);
    sk_write_raw(&out, r.w.buf, r.w.len);
    sk_writer_free(&r.w);
    if (out.err) {
        sk_writer_free(&out);
        return NULL;
    }
    return (char *)sk_writer_take(&out, len);
}

char *sk_partition_metadata_render(const uint8_t id[16], size_t *len)
{
    char sid[SK_UUID_STR_LEN + 1];
    sk_uuid_to_string(id, sid);
    size_t n = sizeof "version: 0\ntopic_id: " + SK_UUID_STR_LEN;
    char *text = malloc(n);
    if (!text)
        return NULL;
    int w = snprintf(text, n, "version: 0\ntopic_id: %s", sid);
    *len = (size_t)w;
    return text;
}

int sk_partition_metadata_parse(const char *text, uint8_t id[16])
{
    static const char prefix[] = "version: 0\ntopic_id: ";
    size_t plen = sizeof prefix - 1;
    if (strncmp(text, prefix, plen) != 0 || strlen(text + plen) < SK_UUID_STR_LEN)
        return -1;
    char sid[SK_UUID_STR_LEN + 1];
    memcpy(sid, text + plen, SK_UUID_STR_LEN);
    sid[SK_UUID_STR_LEN] = '\0';
    const char *rest = text + plen + SK_UUID_STR_LEN;
    if (strspn(rest, "\r\n") != strlen(rest))
        return -1;
    return sk_uuid_from_string(sid, id);
}
