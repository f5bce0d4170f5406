/* Random UUIDs and their unpadded URL-safe base64 form (see skiff/uuid.h). */
#include "skiff/uuid.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int sk_uuid_random(uint8_t out[16])
{
    char s[SK_UUID_STR_LEN + 1];
    for (;;) {
        size_t got = 0;
        while (got < 16) {
            ssize_t n = getrandom(out + got, 16 - got, 0);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                return -1;
            got += (size_t)n;
        }
        out[6] = (uint8_t)((out[6] & 0x0f) | 0x40); /* version 4 */
        out[8] = (uint8_t)((out[8] & 0x3f) | 0x80); /* IETF variant */
        sk_uuid_to_string(out, s);
        if (!sk_uuid_is_zero(out) && s[0] != '-')
            return 0;
    }
}

void sk_uuid_to_string(const uint8_t id[16], char out[SK_UUID_STR_LEN + 1])
{
    size_t o = 0;
    for (size_t i = 0; i < 16; i += 3) {
        uint32_t v = (uint32_t)id[i] << 16;
        if (i + 1 < 16)
            v |= (uint32_t)id[i + 1] << 8;
        if (i + 2 < 16)
            v |= id[i + 2];
        out[o++] = b64url[(v >> 18) & 63];
        out[o++] = b64url[(v >> 12) & 63];
        if (i + 1 < 16)
            out[o++] = b64url[(v >> 6) & 63];
        if (i + 2 < 16)
            out[o++] = b64url[v & 63];
    }
    out[o] = '\0';
}

static int b64_value(char c)
{
    const char *p = c ? strchr(b64url, c) : NULL;
    return p ? (int)(p - b64url) : -1;
}

int sk_uuid_from_string(const char *s, uint8_t out[16])
{
    if (strlen(s) != SK_UUID_STR_LEN)
        return -1;
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < SK_UUID_STR_LEN; i++) {
        int v = b64_value(s[i]);
        if (v < 0)
            return -1;
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (uint8_t)(acc >> bits);
        }
    }
    /* 22 chars carry 132 bits: the last 4 must be zero in a canonical form. */
    return (o == 16 && (acc & ((1u << bits) - 1)) == 0) ? 0 : -1;
}

bool sk_uuid_is_zero(const uint8_t id[16])
{
    for (int i = 0; i < 16; i++)
        if (id[i])
            return false;
    return true;
}
