/*
 * zstd codec (Kafka compression id 4) through libzstd.
 *
 * Writes one frame with the content size recorded. Reads with streaming
 * decompression, because producers writing through a stream (Java's
 * zstd-jni) do not record the content size; concatenated and skippable
 * frames are accepted. The decoder's window is limited to what the cap
 * could use (at least 8 MiB, which every standard level up to 19 fits in
 * without a content size, and at most 128 MiB, libzstd's default limit),
 * so a frame cannot make it reserve more.
 */
#include <zstd.h>
#include <zstd_errors.h>

#include "compress_int.h"

#define ZSTD_WINDOW_LOG_FLOOR 23 /* 8 MiB */
#define ZSTD_WINDOW_LOG_CEIL 27  /* 128 MiB, ZSTD_WINDOWLOG_LIMIT_DEFAULT */

int sk_zstd_compress(const uint8_t *in, size_t len, int level, sk_sink *out)
{
    ZSTD_CCtx *cctx = ZSTD_createCCtx();
    if (!cctx)
        return SK_COMPRESS_NOMEM;
    size_t bound = ZSTD_compressBound(len);
    uint8_t *p;
    int st = sk_sink_alloc(out, bound, &p);
    if (st == SK_COMPRESS_OK) {
        size_t n = ZSTD_compressCCtx(cctx, p, bound, in, len, level);
        if (ZSTD_isError(n))
            st = SK_COMPRESS_NOMEM;
        else
            sk_sink_trim(out, bound - n);
    }
    ZSTD_freeCCtx(cctx);
    return st;
}

/* The largest window the decoder may allocate for `cap` bytes of output. */
static int window_log_max(size_t cap)
{
    int log = ZSTD_WINDOW_LOG_FLOOR;
    while (log < ZSTD_WINDOW_LOG_CEIL && ((size_t)1 << log) < cap)
        log++;
    return log;
}

int sk_zstd_decompress(const uint8_t *in, size_t len, sk_sink *out)
{
    ZSTD_DCtx *dctx = ZSTD_createDCtx();
    if (!dctx)
        return SK_COMPRESS_NOMEM;
    ZSTD_DCtx_setParameter(dctx, ZSTD_d_windowLogMax, window_log_max(out->limit - out->start));
    ZSTD_inBuffer src = {in, len, 0};
    int st = SK_COMPRESS_OK;
    for (;;) {
        size_t room;
        uint8_t *p = sk_sink_room(out, &room);
        if (!p) {
            st = SK_COMPRESS_NOMEM;
            break;
        }
        ZSTD_outBuffer dst = {p, room, 0};
        size_t consumed = src.pos;
        size_t hint = ZSTD_decompressStream(dctx, &dst, &src);
        if (ZSTD_isError(hint)) {
            ZSTD_ErrorCode code = ZSTD_getErrorCode(hint);
            st = code == ZSTD_error_memory_allocation               ? SK_COMPRESS_NOMEM
                 : code == ZSTD_error_frameParameter_windowTooLarge ? SK_COMPRESS_TOO_LARGE
                                                                    : SK_COMPRESS_CORRUPT;
            break;
        }
        st = sk_sink_commit(out, dst.pos);
        if (st != SK_COMPRESS_OK)
            break;
        /* 0: a frame ended and all its data was flushed; another may follow. */
        if (hint == 0 && src.pos == src.size)
            break;
        if (src.pos == consumed && dst.pos == 0) {
            st = SK_COMPRESS_CORRUPT; /* no progress: the input ended mid-frame */
            break;
        }
    }
    ZSTD_freeDCtx(dctx);
    return st;
}
