/*
 * libFuzzer target for the protocol decoder: the input is a request frame
 * as it follows the 4-byte size (request header, then body).
 *
 * It decodes the header with kf_request_header_decode, then decodes the body
 * (the bytes after the header, or the whole input when the header is bad)
 * as the request and as the response of every API and version skiff knows,
 * with kf_decode into an arena. Every message that decodes is re-encoded and
 * must be stable: kf_size equals the encoded length, and decoding the
 * encoding and encoding again gives the same bytes. Seeds: the captured
 * client requests in tests/data/requests.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kf_msgs.h"
#include "skiff/proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Encodes `msg`, checks kf_size, and returns the bytes (the caller frees). */
static uint8_t *encode_checked(const kf_struct_desc *d, int16_t v, bool flex, const void *msg, size_t *len)
{
    sk_writer w;
    sk_writer_init(&w, 0);
    if (kf_encode(d, v, flex, msg, &w) != 0)
        abort();
    if (kf_size(d, v, flex, msg) != w.len)
        abort();
    return sk_writer_take(&w, len);
}

/* Decodes `body` as `d` at version v; when it decodes, checks the round trip. */
static void check_message(const kf_struct_desc *d, int16_t v, bool flex, const uint8_t *body, size_t len)
{
    sk_arena arena = {0};
    sk_reader r;
    sk_reader_init(&r, body, len);
    void *msg = sk_arena_alloc(&arena, d->size);
    if (msg && kf_decode(d, v, flex, &r, &arena, msg) == 0) {
        size_t n1, n2;
        uint8_t *b1 = encode_checked(d, v, flex, msg, &n1);
        void *again = sk_arena_alloc(&arena, d->size);
        sk_reader_init(&r, b1, n1);
        if (!again || kf_decode(d, v, flex, &r, &arena, again) != 0 || sk_reader_left(&r) != 0)
            abort();
        uint8_t *b2 = encode_checked(d, v, flex, again, &n2);
        if (n1 != n2 || (n1 && memcmp(b1, b2, n1)))
            abort();
        free(b1);
        free(b2);
    }
    sk_arena_free(&arena);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sk_arena arena = {0};
    sk_reader r;
    sk_reader_init(&r, data, size);
    kf_request_header h;
    const uint8_t *body = data;
    size_t len = size;
    if (kf_request_header_decode(&r, &arena, &h) == 0) {
        body = r.pos;
        len = sk_reader_left(&r);
    }
    sk_arena_free(&arena);

    for (size_t i = 0; i < kf_napis; i++) {
        const kf_api *api = &kf_apis[i];
        for (int16_t v = api->min_ver; v <= api->max_ver; v++) {
            bool flex = kf_api_flexible(api, v);
            check_message(api->request, v, flex, body, len);
            check_message(api->response, v, flex, body, len);
        }
    }
    return 0;
}
