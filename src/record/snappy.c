/*
 * snappy codec (Kafka compression id 2) through the snappy library's C API.
 *
 * Two framings are in use. Kafka's Java clients and brokers write xerial's
 * SnappyOutputStream format:
 *   8 bytes  magic "\x82SNAPPY\0"
 *   int32    version (1), int32 compatible version (1), big-endian
 *   blocks   int32 big-endian compressed length + that many bytes of raw
 *            snappy, one per 32 KiB of input
 * librdkafka writes raw snappy (one block, no header), which xerial's reader
 * also accepts: an input that does not start with the magic is raw. skiff
 * writes the xerial form, as Kafka's broker does when it recompresses, and
 * reads both, including xerial streams concatenated one after the other.
 */
#include <snappy-c.h>
#include <string.h>

#include "compress_int.h"

#define XERIAL_MAGIC_LEN 8
#define XERIAL_HEADER_LEN 16 /* magic + version + compatible version */
#define XERIAL_VERSION 1
#define XERIAL_BLOCK_SIZE (32 * 1024) /* SnappyOutputStream's default block, bytes of input */

static const uint8_t xerial_magic[XERIAL_MAGIC_LEN] = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0};

static bool is_xerial_header(const uint8_t *p, size_t len)
{
    return len >= XERIAL_MAGIC_LEN && memcmp(p, xerial_magic, XERIAL_MAGIC_LEN) == 0;
}

/* Decodes one raw snappy block into the sink; the block's declared length is
 * checked against the cap before anything is allocated. */
static int raw_decompress(const uint8_t *in, size_t len, sk_sink *out)
{
    size_t n;
    if (snappy_uncompressed_length((const char *)in, len, &n) != SNAPPY_OK)
        return SK_COMPRESS_CORRUPT;
    uint8_t *p = NULL;
    int st = sk_sink_alloc(out, n, &p);
    if (st != SK_COMPRESS_OK)
        return st;
    size_t got = n;
    if (snappy_uncompress((const char *)in, len, (char *)p, &got) != SNAPPY_OK || got != n)
        return SK_COMPRESS_CORRUPT;
    return SK_COMPRESS_OK;
}

static int xerial_decompress(const uint8_t *in, size_t len, sk_sink *out)
{
    size_t pos = 0;
    while (pos < len) {
        if (is_xerial_header(in + pos, len - pos)) {
            /* The stream's header, or that of a stream appended to it. */
            if (len - pos < XERIAL_HEADER_LEN)
                return SK_COMPRESS_CORRUPT;
            pos += XERIAL_HEADER_LEN;
            continue;
        }
        if (len - pos < 4)
            return SK_COMPRESS_CORRUPT;
        uint32_t n = sk_be32(in + pos);
        pos += 4;
        if (n == 0 || n > len - pos)
            return SK_COMPRESS_CORRUPT;
        int st = raw_decompress(in + pos, n, out);
        if (st != SK_COMPRESS_OK)
            return st;
        pos += n;
    }
    return SK_COMPRESS_OK;
}

int sk_snappy_decompress(const uint8_t *in, size_t len, sk_sink *out)
{
    if (is_xerial_header(in, len))
        return xerial_decompress(in, len, out);
    return raw_decompress(in, len, out);
}

int sk_snappy_compress(const uint8_t *in, size_t len, int level, sk_sink *out)
{
    (void)level;
    uint8_t *p;
    int st = sk_sink_alloc(out, XERIAL_HEADER_LEN, &p);
    if (st != SK_COMPRESS_OK)
        return st;
    memcpy(p, xerial_magic, XERIAL_MAGIC_LEN);
    sk_put_be32(p + 8, XERIAL_VERSION);
    sk_put_be32(p + 12, XERIAL_VERSION);
    for (size_t pos = 0; pos < len;) {
        size_t n = len - pos < XERIAL_BLOCK_SIZE ? len - pos : XERIAL_BLOCK_SIZE;
        size_t max = snappy_max_compressed_length(n);
        st = sk_sink_alloc(out, 4 + max, &p);
        if (st != SK_COMPRESS_OK)
            return st;
        size_t got = max;
        if (snappy_compress((const char *)in + pos, n, (char *)p + 4, &got) != SNAPPY_OK)
            return SK_COMPRESS_NOMEM;
        sk_put_be32(p, (uint32_t)got);
        sk_sink_trim(out, max - got);
        pos += n;
    }
    return SK_COMPRESS_OK;
}
