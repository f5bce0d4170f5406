/*
 * The codec interface: one table row per Kafka compression id (name, level
 * range, compress and decompress functions), the public entry points of
 * include/skiff/compress.h that dispatch through it, and the bounded output
 * sink the codec files write through (compress_int.h).
 */
#include "skiff/compress.h"

#include <stdlib.h>
#include <string.h>

#include "compress_int.h"
#include "skiff/errors.h"

#define SINK_MIN_GROW 4096 /* first allocation of an empty writer, bytes */

/* ---- Output sink ---- */

void sk_sink_open(sk_sink *s, sk_writer *w, size_t cap)
{
    s->w = w;
    s->start = w->len;
    s->limit = cap > SIZE_MAX - w->len ? SIZE_MAX : w->len + cap;
}

/* Makes the writer's buffer hold at least `need` bytes (need <= limit),
 * doubling, but never allocating past the limit. */
static int sink_grow(sk_sink *s, size_t need)
{
    sk_writer *w = s->w;
    if (w->err)
        return SK_COMPRESS_NOMEM;
    if (w->buf && w->cap >= need)
        return SK_COMPRESS_OK;
    size_t cap = w->cap < SINK_MIN_GROW ? SINK_MIN_GROW : w->cap;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? SIZE_MAX : cap * 2;
    if (cap > s->limit)
        cap = s->limit;
    uint8_t *b = realloc(w->buf, cap);
    if (!b)
        return SK_COMPRESS_NOMEM;
    w->buf = b;
    w->cap = cap;
    return SK_COMPRESS_OK;
}

uint8_t *sk_sink_room(sk_sink *s, size_t *room)
{
    sk_writer *w = s->w;
    if (w->len >= s->limit) {
        *room = sizeof s->scratch;
        return s->scratch;
    }
    if ((!w->buf || w->cap == w->len) && sink_grow(s, w->len + 1) != SK_COMPRESS_OK)
        return NULL;
    size_t end = w->cap < s->limit ? w->cap : s->limit;
    *room = end - w->len;
    return w->buf + w->len;
}

int sk_sink_commit(sk_sink *s, size_t n)
{
    if (n == 0)
        return SK_COMPRESS_OK;
    if (s->w->len >= s->limit)
        return SK_COMPRESS_TOO_LARGE;
    s->w->len += n;
    return SK_COMPRESS_OK;
}

int sk_sink_alloc(sk_sink *s, size_t n, uint8_t **p)
{
    sk_writer *w = s->w;
    if (n > s->limit - w->len)
        return SK_COMPRESS_TOO_LARGE;
    int st = sink_grow(s, w->len + n);
    if (st != SK_COMPRESS_OK)
        return st;
    *p = w->buf + w->len;
    w->len += n;
    return SK_COMPRESS_OK;
}

void sk_sink_trim(sk_sink *s, size_t n)
{
    s->w->len -= n;
}

int sk_sink_close(sk_sink *s, int status)
{
    if (status != SK_COMPRESS_OK)
        s->w->len = s->start;
    return status;
}

/* ---- No compression: a bounded copy ---- */

static int none_copy(const uint8_t *in, size_t len, sk_sink *out)
{
    uint8_t *p;
    int st = sk_sink_alloc(out, len, &p);
    if (st == SK_COMPRESS_OK && len)
        memcpy(p, in, len);
    return st;
}

static int none_compress(const uint8_t *in, size_t len, int level, sk_sink *out)
{
    (void)level;
    return none_copy(in, len, out);
}

/* ---- The codec table ---- */

typedef struct sk_codec {
    const char *name;  /* Kafka's name (CompressionType.name) */
    int level_min;     /* levels accepted, inclusive; min > max: any */
    int level_max;     /* (level_min's bound above) */
    int level_default; /* compression.<codec>.level's default */
    /* Both return an SK_COMPRESS_* status; what the sink refused is added by
     * sk_sink_close. */
    int (*compress)(const uint8_t *in, size_t len, int level, sk_sink *out);
    int (*decompress)(const uint8_t *in, size_t len, sk_sink *out);
} sk_codec;

static const sk_codec codecs[SK_COMPRESSION_COUNT] = {
    [SK_COMPRESSION_NONE] = {"none", 1, 0, 0, none_compress, none_copy},
    [SK_COMPRESSION_GZIP] = {"gzip", SK_GZIP_LEVEL_MIN, SK_GZIP_LEVEL_MAX, SK_GZIP_LEVEL_DEFAULT, sk_gzip_compress,
                             sk_gzip_decompress},
    [SK_COMPRESSION_SNAPPY] = {"snappy", 1, 0, 0, sk_snappy_compress, sk_snappy_decompress},
    [SK_COMPRESSION_LZ4] = {"lz4", SK_LZ4_LEVEL_MIN, SK_LZ4_LEVEL_MAX, SK_LZ4_LEVEL_DEFAULT, sk_lz4_compress,
                            sk_lz4_decompress},
    [SK_COMPRESSION_ZSTD] = {"zstd", SK_ZSTD_LEVEL_MIN, SK_ZSTD_LEVEL_MAX, SK_ZSTD_LEVEL_DEFAULT, sk_zstd_compress,
                             sk_zstd_decompress},
};

static bool codec_known(int codec)
{
    return codec >= 0 && codec < SK_COMPRESSION_COUNT;
}

const char *sk_compression_name(int codec)
{
    if (codec == SK_COMPRESSION_PRODUCER)
        return "producer";
    return codec_known(codec) ? codecs[codec].name : "unknown";
}

int sk_compression_parse(const char *name)
{
    if (!name)
        return -2;
    if (strcmp(name, "uncompressed") == 0)
        return SK_COMPRESSION_NONE;
    if (strcmp(name, "producer") == 0)
        return SK_COMPRESSION_PRODUCER;
    for (int c = 0; c < SK_COMPRESSION_COUNT; c++)
        if (strcmp(name, codecs[c].name) == 0)
            return c;
    return -2;
}

bool sk_compression_level_valid(int codec, int level)
{
    if (!codec_known(codec))
        return false;
    const sk_codec *c = &codecs[codec];
    if (level == SK_COMPRESSION_LEVEL_DEFAULT || c->level_min > c->level_max)
        return true;
    if (codec == SK_COMPRESSION_GZIP && level == -1)
        return true;
    return level >= c->level_min && level <= c->level_max;
}

/* The level a codec is called with: the default resolved, gzip's -1 too. */
static int level_resolve(int codec, int level)
{
    if (level == SK_COMPRESSION_LEVEL_DEFAULT || (codec == SK_COMPRESSION_GZIP && level == -1))
        return codecs[codec].level_default;
    return level;
}

int sk_compress(int codec, int level, const void *in, size_t len, sk_writer *out)
{
    static const uint8_t empty[1];
    if (!sk_compression_level_valid(codec, level))
        return SK_COMPRESS_BAD_ARG;
    sk_sink s;
    sk_sink_open(&s, out, SIZE_MAX);
    int st = codecs[codec].compress(in ? in : empty, len, level_resolve(codec, level), &s);
    return sk_sink_close(&s, st);
}

int sk_decompress(int codec, const void *in, size_t len, size_t cap, sk_writer *out)
{
    static const uint8_t empty[1];
    if (!codec_known(codec))
        return SK_COMPRESS_BAD_ARG;
    sk_sink s;
    sk_sink_open(&s, out, cap);
    int st = codecs[codec].decompress(in ? in : empty, len, &s);
    return sk_sink_close(&s, st);
}

size_t sk_decompress_cap(int32_t max_message_bytes)
{
    if (max_message_bytes <= 0)
        return SK_DECOMPRESS_CAP_MIN;
    uint64_t cap = (uint64_t)max_message_bytes * SK_DECOMPRESS_CAP_RATIO;
    if (cap < SK_DECOMPRESS_CAP_MIN)
        return SK_DECOMPRESS_CAP_MIN;
    if (cap > SK_DECOMPRESS_CAP_MAX)
        return SK_DECOMPRESS_CAP_MAX;
    return (size_t)cap;
}

int16_t sk_compress_status_err(int status)
{
    switch (status) {
    case SK_COMPRESS_OK:
        return SK_ERR_NONE;
    case SK_COMPRESS_CORRUPT:
        return SK_ERR_CORRUPT_MESSAGE;
    case SK_COMPRESS_TOO_LARGE:
    case SK_COMPRESS_BAD_ARG:
        return SK_ERR_INVALID_RECORD;
    default:
        return SK_ERR_UNKNOWN_SERVER_ERROR;
    }
}
