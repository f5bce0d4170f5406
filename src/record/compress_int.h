/*
 * Private interface between the codec dispatcher (compress.c) and the codec
 * files (gzip.c, snappy.c, lz4.c, zstd.c): one function pair per codec and
 * the bounded output sink every decoder writes through.
 *
 * The sink appends to an sk_writer and never lets it grow past a limit (the
 * writer's length at the start plus the cap). Decoders ask for room, write
 * into it, and commit what they wrote. Once the limit is reached the room
 * handed out is a small scratch area: anything committed there means the
 * output went past the cap (SK_COMPRESS_TOO_LARGE), which a decoder can only
 * learn by trying to produce one more byte.
 */
#ifndef SKIFF_COMPRESS_INT_H
#define SKIFF_COMPRESS_INT_H

#include <stddef.h>
#include <stdint.h>

#include "skiff/buf.h"
#include "skiff/compress.h"

typedef struct sk_sink {
    sk_writer *w;        /* output; bytes are appended at w->len */
    size_t start;        /* w->len when the sink was opened */
    size_t limit;        /* w->len never exceeds this: start + cap */
    uint8_t scratch[64]; /* room handed out at the limit, to detect overflow */
} sk_sink;

/* Opens a sink on `w` allowing `cap` more bytes (SIZE_MAX: no limit). */
void sk_sink_open(sk_sink *s, sk_writer *w, size_t cap);
/* Returns room for at least one byte and its size in *room, growing the
 * writer (at most to the limit) when it is full; NULL when out of memory.
 * At the limit the room is the scratch area. */
uint8_t *sk_sink_room(sk_sink *s, size_t *room);
/* Records `n` bytes written at the room last returned. Returns
 * SK_COMPRESS_OK, or SK_COMPRESS_TOO_LARGE when they were past the limit. */
int sk_sink_commit(sk_sink *s, size_t n);
/* Appends `n` bytes in one piece and returns them for the caller to fill, in
 * *p. Returns SK_COMPRESS_OK, SK_COMPRESS_TOO_LARGE (beyond the limit) or
 * SK_COMPRESS_NOMEM. */
int sk_sink_alloc(sk_sink *s, size_t n, uint8_t **p);
/* Gives back the last `n` bytes of the latest sk_sink_alloc (the part a
 * codec reserved but did not fill). */
void sk_sink_trim(sk_sink *s, size_t n);
/* Ends the sink: on failure (`status` != OK) the writer's length goes back to
 * where it was at sk_sink_open. Returns `status`. */
int sk_sink_close(sk_sink *s, int status);

/* One codec: compress appends to the sink (opened without a limit), and
 * decompress through it; both return an sk_compress_status. The level is
 * already checked and resolved (never SK_COMPRESSION_LEVEL_DEFAULT). */
int sk_gzip_compress(const uint8_t *in, size_t len, int level, sk_sink *out);
int sk_gzip_decompress(const uint8_t *in, size_t len, sk_sink *out);
int sk_snappy_compress(const uint8_t *in, size_t len, int level, sk_sink *out);
int sk_snappy_decompress(const uint8_t *in, size_t len, sk_sink *out);
int sk_lz4_compress(const uint8_t *in, size_t len, int level, sk_sink *out);
int sk_lz4_decompress(const uint8_t *in, size_t len, sk_sink *out);
int sk_zstd_compress(const uint8_t *in, size_t len, int level, sk_sink *out);
int sk_zstd_decompress(const uint8_t *in, size_t len, sk_sink *out);

#endif
