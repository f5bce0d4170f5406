/*
 * gzip codec (Kafka compression id 1) through zlib. Writes one gzip member
 * (RFC 1952, windowBits 15 + 16, as Java's GZIPOutputStream); reads one or
 * more concatenated members (Java's GZIPInputStream reads them too) and
 * rejects anything else after the last member, which Java would ignore.
 */
#include <limits.h>

#define ZLIB_CONST /* next_in points at const input */
#include <zlib.h>

#include "compress_int.h"

#define GZIP_WINDOW_BITS (15 + 16) /* 32 KiB window, gzip wrapper */

/* zlib counts in uInt: feed at most this much per call. */
static uInt chunk(size_t n)
{
    return n > UINT_MAX ? UINT_MAX : (uInt)n;
}

/* Moves the next piece of input into the stream when it has none left. */
static void feed(z_stream *zs, const uint8_t **in, size_t *left)
{
    if (zs->avail_in == 0 && *left > 0) {
        zs->next_in = *in;
        zs->avail_in = chunk(*left);
        *in += zs->avail_in;
        *left -= zs->avail_in;
    }
}

int sk_gzip_compress(const uint8_t *in, size_t len, int level, sk_sink *out)
{
    z_stream zs = {0};
    if (deflateInit2(&zs, level, Z_DEFLATED, GZIP_WINDOW_BITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return SK_COMPRESS_NOMEM;
    int st = SK_COMPRESS_OK;
    int rc = Z_OK;
    while (rc != Z_STREAM_END) {
        feed(&zs, &in, &len);
        size_t room;
        uint8_t *p = sk_sink_room(out, &room);
        if (!p) {
            st = SK_COMPRESS_NOMEM;
            break;
        }
        zs.next_out = p;
        zs.avail_out = chunk(room);
        uInt before = zs.avail_out;
        rc = deflate(&zs, len == 0 ? Z_FINISH : Z_NO_FLUSH);
        if (rc == Z_STREAM_ERROR) {
            st = SK_COMPRESS_NOMEM;
            break;
        }
        sk_sink_commit(out, before - zs.avail_out);
    }
    deflateEnd(&zs);
    return st;
}

int sk_gzip_decompress(const uint8_t *in, size_t len, sk_sink *out)
{
    z_stream zs = {0};
    if (inflateInit2(&zs, GZIP_WINDOW_BITS) != Z_OK)
        return SK_COMPRESS_NOMEM;
    int st = SK_COMPRESS_OK;
    for (;;) {
        feed(&zs, &in, &len);
        size_t room;
        uint8_t *p = sk_sink_room(out, &room);
        if (!p) {
            st = SK_COMPRESS_NOMEM;
            break;
        }
        zs.next_out = p;
        zs.avail_out = chunk(room);
        uInt before = zs.avail_out;
        int rc = inflate(&zs, Z_NO_FLUSH);
        st = sk_sink_commit(out, before - zs.avail_out);
        if (st != SK_COMPRESS_OK)
            break;
        if (rc == Z_STREAM_END) {
            if (zs.avail_in == 0 && len == 0)
                break;         /* the last member ended with the input */
            inflateReset(&zs); /* another member follows */
            continue;
        }
        if (rc == Z_MEM_ERROR) {
            st = SK_COMPRESS_NOMEM;
            break;
        }
        /* Z_BUF_ERROR with room to write: the input ended mid-stream. */
        if (rc != Z_OK) {
            st = SK_COMPRESS_CORRUPT;
            break;
        }
    }
    inflateEnd(&zs);
    return st;
}
