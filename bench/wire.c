/*
 * wire: raw Metadata v0 and ApiVersions v0 exchanges for the benchmark tools
 * (see wire.h), over skiff's own wire_client.h and buf.h.
 */
#include "wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "skiff/buf.h"
#include "skiff/wire_client.h"

enum { API_METADATA = 3, API_API_VERSIONS = 18 };

int bench_wire_parse_bootstrap(const char *bootstrap, char *host, int host_len, int *port)
{
    size_t n = strcspn(bootstrap, ",");
    const char *colon = memrchr(bootstrap, ':', n);
    if (!colon)
        return -1;
    char *end = NULL;
    long p = strtol(colon + 1, &end, 10);
    if (end != bootstrap + n || p <= 0 || p > 65535)
        return -1;
    snprintf(host, (size_t)host_len, "%.*s", (int)(colon - bootstrap), bootstrap);
    *port = (int)p;
    return 0;
}

int bench_wire_connect(const char *host, int port)
{
    return sk_wire_connect(host, port, 2000);
}

/* One exchange with client id "skiff-bench" (sk_wire_call). */
static long call(int fd, int16_t key, int16_t version, const void *body, size_t body_len, int timeout_ms,
                 uint8_t **answer)
{
    return sk_wire_call(fd, key, version, "skiff-bench", body, body_len, timeout_ms, answer);
}

int bench_wire_metadata_v0(int fd, int timeout_ms)
{
    static const uint8_t all_topics[4] = {0, 0, 0, 0}; /* topics: empty array = all (v0) */
    uint8_t *answer = NULL;
    long len = call(fd, API_METADATA, 0, all_topics, sizeof all_topics, timeout_ms, &answer);
    if (len < 0)
        return -1;
    sk_reader r;
    sk_reader_init(&r, answer, (size_t)len);
    int32_t brokers = sk_read_i32(&r);
    for (int32_t i = 0; i < brokers && !r.err; i++) {
        sk_read_i32(&r);                            /* node_id */
        sk_read_raw(&r, (uint16_t)sk_read_i16(&r)); /* host */
        sk_read_i32(&r);                            /* port */
    }
    free(answer);
    return r.err || brokers < 0 ? -1 : brokers;
}

int bench_wire_api_versions(const char *host, int port, int timeout_ms, bench_api_ranges *out)
{
    for (size_t i = 0; i < sizeof out->max_version / sizeof out->max_version[0]; i++)
        out->max_version[i] = -1;
    int fd = bench_wire_connect(host, port);
    if (fd < 0)
        return -1;
    uint8_t *answer = NULL;
    long len = call(fd, API_API_VERSIONS, 0, NULL, 0, timeout_ms, &answer);
    close(fd);
    if (len < 0)
        return -1;
    sk_reader r;
    sk_reader_init(&r, answer, (size_t)len);
    int16_t error_code = sk_read_i16(&r);
    int32_t n = sk_read_i32(&r);
    for (int32_t i = 0; i < n && !r.err; i++) {
        int16_t key = sk_read_i16(&r);
        sk_read_i16(&r); /* min_version */
        int16_t max = sk_read_i16(&r);
        if (key >= 0 && key < 128)
            out->max_version[key] = max;
    }
    int bad = r.err || error_code != 0;
    free(answer);
    return bad ? -1 : 0;
}

bool bench_wire_serves(const bench_api_ranges *r, const int16_t *keys, int n)
{
    for (int i = 0; i < n; i++)
        if (keys[i] < 0 || keys[i] >= 128 || r->max_version[keys[i]] < 0)
            return false;
    return true;
}
