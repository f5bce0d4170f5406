/*
 * CRC-32C (Castagnoli) for record batch v2 checksums.
 *
 * Two implementations with one contract (include/skiff/crc32c.h):
 *  - slicing-by-8 over eight 256-entry tables built once at first use;
 *  - the SSE4.2 `crc32` instruction, 8 bytes per step, compiled with a target
 *    attribute so the rest of the tree needs no -msse4.2 and picked at run
 *    time with __builtin_cpu_supports.
 */
#include "skiff/crc32c.h"

#include <pthread.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <nmmintrin.h>
#define SK_CRC32C_X86 1
#endif

#define SK_CRC32C_POLY 0x82F63B78u /* Castagnoli, bit-reflected */

static uint32_t crc_table[8][256];
static pthread_once_t crc_table_once = PTHREAD_ONCE_INIT;

static void crc_table_build(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ SK_CRC32C_POLY : c >> 1;
        crc_table[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = crc_table[0][i];
        for (int t = 1; t < 8; t++) {
            c = crc_table[0][c & 0xff] ^ (c >> 8);
            crc_table[t][i] = c;
        }
    }
}

uint32_t sk_crc32c_sw(uint32_t crc, const void *data, size_t len)
{
    const uint8_t *p = data;
    uint32_t c = ~crc;

    pthread_once(&crc_table_once, crc_table_build);
    while (len > 0 && ((uintptr_t)p & 7) != 0) {
        c = crc_table[0][(c ^ *p++) & 0xff] ^ (c >> 8);
        len--;
    }
    while (len >= 8) {
        /* Little-endian load of 8 bytes, independent of host byte order. */
        uint32_t lo = c ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
        uint32_t hi = (uint32_t)p[4] | (uint32_t)p[5] << 8 | (uint32_t)p[6] << 16 | (uint32_t)p[7] << 24;
        c = crc_table[7][lo & 0xff] ^ crc_table[6][(lo >> 8) & 0xff] ^ crc_table[5][(lo >> 16) & 0xff] ^
            crc_table[4][lo >> 24] ^ crc_table[3][hi & 0xff] ^ crc_table[2][(hi >> 8) & 0xff] ^
            crc_table[1][(hi >> 16) & 0xff] ^ crc_table[0][hi >> 24];
        p += 8;
        len -= 8;
    }
    while (len-- > 0)
        c = crc_table[0][(c ^ *p++) & 0xff] ^ (c >> 8);
    return ~c;
}

#ifdef SK_CRC32C_X86
__attribute__((target("sse4.2"))) static uint32_t crc32c_sse42(uint32_t crc, const void *data, size_t len)
{
    const uint8_t *p = data;
    uint32_t c = ~crc;

    while (len > 0 && ((uintptr_t)p & 7) != 0) {
        c = _mm_crc32_u8(c, *p++);
        len--;
    }
#if defined(__x86_64__)
    uint64_t c64 = c;
    while (len >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        c64 = _mm_crc32_u64(c64, v);
        p += 8;
        len -= 8;
    }
    c = (uint32_t)c64;
#endif
    while (len >= 4) {
        uint32_t v;
        memcpy(&v, p, 4);
        c = _mm_crc32_u32(c, v);
        p += 4;
        len -= 4;
    }
    while (len-- > 0)
        c = _mm_crc32_u8(c, *p++);
    return ~c;
}
#endif

bool sk_crc32c_hw_available(void)
{
#ifdef SK_CRC32C_X86
    return __builtin_cpu_supports("sse4.2");
#else
    return false;
#endif
}

uint32_t sk_crc32c_hw(uint32_t crc, const void *data, size_t len)
{
#ifdef SK_CRC32C_X86
    if (sk_crc32c_hw_available())
        return crc32c_sse42(crc, data, len);
#endif
    return sk_crc32c_sw(crc, data, len);
}

typedef uint32_t (*crc_fn)(uint32_t, const void *, size_t);
static crc_fn crc_impl;
static pthread_once_t crc_impl_once = PTHREAD_ONCE_INIT;

static void crc_impl_pick(void)
{
    crc_impl = sk_crc32c_sw;
#ifdef SK_CRC32C_X86
    if (sk_crc32c_hw_available())
        crc_impl = crc32c_sse42;
#endif
}

uint32_t sk_crc32c(uint32_t crc, const void *data, size_t len)
{
    pthread_once(&crc_impl_once, crc_impl_pick);
    return crc_impl(crc, data, len);
}
