/*
 * libFuzzer target for the HTTP API's own decoders of untrusted text
 * (src/http/rest_kafka.c): base64 (record keys, values and header values
 * of a produce body) and RFC 3339 timestamps. Decoding must stay within
 * len*3/4 bytes; what decodes must encode back to the same text (one
 * spelling per byte string, padding bits aside), and any bytes must
 * survive an encode-decode round trip.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/http/rest_int.h"
#include "skiff/api.h"
#include "skiff/base64.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    uint8_t *out = malloc(size * 3 / 4 + 1);
    if (!text || !out)
        abort();
    memcpy(text, data, size);
    text[size] = '\0';
    int n = sk_base64_decode(text, size, out, size * 3 / 4 + 1);
    if (n > (int)(size * 3 / 4))
        abort();
    char *enc = sk_base64_encode_alloc(data, size);
    uint8_t *back = malloc(size + 3);
    if (!enc || !back || sk_base64_decode(enc, strlen(enc), back, size + 3) != (int)size || memcmp(back, data, size))
        abort();
    int64_t ms;
    if (sk_rest_parse_time(text, &ms)) {
        char iso[64];
        sk_rest_iso_time(ms, iso, sizeof iso);
        int64_t again;
        if (!sk_rest_parse_time(iso, &again) || again != ms)
            abort();
    }
    free(enc);
    free(back);
    free(text);
    free(out);
    return 0;
}
