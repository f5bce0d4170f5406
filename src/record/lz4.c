/*
 * lz4 codec (Kafka compression id 3): the LZ4 frame format through liblz4's
 * frame API.
 *
 * Kafka's Lz4BlockOutputStream writes frame version 1 with 64 KiB independent
 * blocks, no block checksum, no content size and no content checksum (its
 * FLG byte is 0x60, its BD byte 0x40); skiff writes the same flags so every
 * Kafka client reads what it writes. Level 9, Kafka's default, selects the
 * fast compressor as Kafka does; other levels go to liblz4 as they are
 * (1-2 fast, 3-17 LZ4 HC, which liblz4 caps at 12).
 *
 * Reading accepts any valid frame (checksums are verified when present),
 * frames one after another, and skippable frames. Produce is stricter:
 * sk_lz4_frame_kafka_readable() refuses the descriptors Kafka's
 * Lz4BlockInputStream cannot read.
 */
#include <lz4frame.h>

#include "compress_int.h"

#define KAFKA_LZ4_FAST_LEVEL 9 /* Kafka's default level: the fast compressor */

/* Frame descriptor bytes after the 4-byte magic number (LZ4 frame format). */
#define LZ4_FLG_RESERVED 0x03     /* bits 0-1: must be 0 */
#define LZ4_FLG_INDEPENDENT 0x20  /* bit 5: blocks are independent */
#define LZ4_FLG_VERSION_MASK 0xC0 /* bits 6-7: version, must be 01 */
#define LZ4_FLG_VERSION_1 0x40
#define LZ4_BD_RESERVED 0x8F /* bits 0-3 and 7: must be 0 */
#define LZ4_BD_SIZE_SHIFT 4  /* bits 4-6: block maximum size id, 4-7 */

bool sk_lz4_frame_kafka_readable(const uint8_t *frame, size_t len)
{
    if (len < 6)
        return true; /* too short for a descriptor: the decoder calls it corrupt */
    uint8_t flg = frame[4], bd = frame[5];
    int size_id = (bd >> LZ4_BD_SIZE_SHIFT) & 7;
    return (flg & LZ4_FLG_RESERVED) == 0 && (flg & LZ4_FLG_INDEPENDENT) &&
           (flg & LZ4_FLG_VERSION_MASK) == LZ4_FLG_VERSION_1 && (bd & LZ4_BD_RESERVED) == 0 && size_id >= 4;
}

int sk_lz4_compress(const uint8_t *in, size_t len, int level, sk_sink *out)
{
    LZ4F_preferences_t prefs = {0};
    prefs.frameInfo.blockSizeID = LZ4F_max64KB;
    prefs.frameInfo.blockMode = LZ4F_blockIndependent;
    prefs.frameInfo.contentChecksumFlag = LZ4F_noContentChecksum;
    prefs.frameInfo.blockChecksumFlag = LZ4F_noBlockChecksum;
    prefs.frameInfo.frameType = LZ4F_frame;
    prefs.frameInfo.contentSize = 0;
    prefs.compressionLevel = level == KAFKA_LZ4_FAST_LEVEL ? 0 : level;

    size_t bound = LZ4F_compressFrameBound(len, &prefs);
    uint8_t *p;
    int st = sk_sink_alloc(out, bound, &p);
    if (st != SK_COMPRESS_OK)
        return st;
    size_t n = LZ4F_compressFrame(p, bound, in, len, &prefs);
    if (LZ4F_isError(n))
        return SK_COMPRESS_NOMEM;
    sk_sink_trim(out, bound - n);
    return SK_COMPRESS_OK;
}

int sk_lz4_decompress(const uint8_t *in, size_t len, sk_sink *out)
{
    LZ4F_dctx *dctx;
    if (LZ4F_isError(LZ4F_createDecompressionContext(&dctx, LZ4F_VERSION)))
        return SK_COMPRESS_NOMEM;
    int st = SK_COMPRESS_OK;
    size_t pos = 0;
    for (;;) {
        size_t room;
        uint8_t *p = sk_sink_room(out, &room);
        if (!p) {
            st = SK_COMPRESS_NOMEM;
            break;
        }
        size_t src = len - pos;
        size_t hint = LZ4F_decompress(dctx, p, &room, in + pos, &src, NULL);
        if (LZ4F_isError(hint)) {
            st = SK_COMPRESS_CORRUPT; /* liblz4 names its codes only to static linking */
            break;
        }
        pos += src;
        st = sk_sink_commit(out, room);
        if (st != SK_COMPRESS_OK)
            break;
        /* 0: a frame ended and all its data was flushed; another may follow. */
        if (hint == 0 && pos == len)
            break;
        if (src == 0 && room == 0) {
            st = SK_COMPRESS_CORRUPT; /* no progress: the input ended mid-frame */
            break;
        }
    }
    LZ4F_freeDecompressionContext(dctx);
    return st;
}
