/*
 * Request and response headers (Kafka's RequestHeader.json and
 * ResponseHeader.json). Request header v1: api_key, api_version,
 * correlation_id, client_id (a nullable string with an int16 length, in every
 * header version); v2 adds tagged fields, which are skipped. Response header
 * v0 is the correlation id; v1 adds (empty) tagged fields. A flexible version
 * of a known API uses the v2/v1 headers, except that ApiVersions responses
 * always use v0 so that any client can read them.
 */
#include "skiff/proto.h"

/* A struct with no fields: decoding it in flexible mode reads and skips a
 * tagged-field section. */
static const kf_struct_desc tagged_only = {"kf_header_tags", 0, 0, NULL};

enum { API_VERSIONS_KEY = 18 };

int kf_request_header_decode(sk_reader *r, sk_arena *arena, kf_request_header *h)
{
    h->api_key = sk_read_i16(r);
    h->api_version = sk_read_i16(r);
    h->correlation_id = sk_read_i32(r);
    h->client_id.p = NULL;
    h->client_id.len = -1;
    int16_t len = sk_read_i16(r);
    if (r->err || len < -1) {
        sk_reader_fail(r);
        return -1;
    }
    if (len >= 0) {
        const uint8_t *raw = sk_read_raw(r, (size_t)len);
        if (!raw)
            return -1;
        h->client_id.p = sk_arena_strndup(arena, (const char *)raw, (size_t)len);
        if (!h->client_id.p) {
            sk_reader_fail(r);
            return -1;
        }
        h->client_id.len = len;
    }
    const kf_api *api = kf_api_find(h->api_key);
    if (api && kf_api_flexible(api, h->api_version))
        return kf_decode(&tagged_only, h->api_version, true, r, arena, NULL);
    return 0;
}

/* True when the response header has a tagged-field section (v1). */
static bool response_header_flexible(int16_t api_key, int16_t version)
{
    const kf_api *api = kf_api_find(api_key);
    return api && api_key != API_VERSIONS_KEY && kf_api_flexible(api, version);
}

size_t kf_response_header_size(int16_t api_key, int16_t version)
{
    return response_header_flexible(api_key, version) ? 5 : 4;
}

void kf_response_header_encode(sk_writer *w, int16_t api_key, int16_t version, int32_t correlation_id)
{
    sk_write_i32(w, correlation_id);
    if (response_header_flexible(api_key, version))
        sk_write_uvarint(w, 0);
}
