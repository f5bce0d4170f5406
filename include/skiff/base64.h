/*
 * Base64 (RFC 4648, standard alphabet, padded), shared by SCRAM (RFC 5802
 * messages, the credential file) and the REST API (BINARY keys, values and
 * headers).
 */
#ifndef SKIFF_BASE64_H
#define SKIFF_BASE64_H

#include <stddef.h>
#include <stdint.h>

/* Encodes `len` bytes into `out`, which needs 4 * ceil(len / 3) + 1 bytes;
 * NUL-terminated. Returns the length written (without the NUL). */
size_t sk_base64_encode(const uint8_t *in, size_t len, char *out);
/* The same into a malloc'd string the caller frees; NULL when out of memory. */
char *sk_base64_encode_alloc(const uint8_t *in, size_t len);
/* Decodes `len` characters into `out` (at most `cap` bytes; 3 * len / 4
 * always suffices). Returns the number of bytes, or -1 when the text is not
 * padded base64 or decodes to more than `cap` bytes. */
int sk_base64_decode(const char *in, size_t len, uint8_t *out, size_t cap);

#endif
