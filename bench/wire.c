/*
 * wire: raw Metadata v0 and ApiVersions v0 exchanges for the benchmark tools
 * (see wire.h). Encoding and decoding use skiff's own buf.h readers and
 * writers; framing is a 4-byte big-endian size before every message.
 */
#include "wire.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "skiff/buf.h"

enum { API_METADATA = 3, API_API_VERSIONS = 18, MAX_ANSWER = 16 << 20 };

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
    struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM};
    struct addrinfo *ai = NULL;
    char service[16];
    snprintf(service, sizeof service, "%d", port);
    if (getaddrinfo(host, service, &hints, &ai) != 0 || !ai) {
        errno = EHOSTUNREACH;
        return -1;
    }
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        int saved = errno;
        close(fd);
        fd = -1;
        errno = saved;
    }
    freeaddrinfo(ai);
    if (fd >= 0) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    return fd;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads exactly len bytes before the deadline; 0 or -1. */
static int read_full(int fd, uint8_t *p, size_t len, int64_t deadline)
{
    while (len > 0) {
        int64_t left = deadline - now_ms();
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
            return -1;
        ssize_t n = read(fd, p, len);
        if (n <= 0) {
            if (n < 0 && errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Sends a request (header v1, client id "skiff-bench") with `body` and reads
 * the answer's body after its correlation id into *answer (malloc'd, the
 * caller frees). Returns the answer's length or -1. */
static long call(int fd, int16_t key, int16_t version, const void *body, size_t body_len, int timeout_ms,
                 uint8_t **answer)
{
    static const char client_id[] = "skiff-bench";
    const int32_t correlation_id = 0x5b1f;
    sk_writer w;
    sk_writer_init(&w, 64 + body_len);
    sk_write_i32(&w, 0);
    sk_write_i16(&w, key);
    sk_write_i16(&w, version);
    sk_write_i32(&w, correlation_id);
    sk_write_i16(&w, (int16_t)(sizeof client_id - 1));
    sk_write_raw(&w, client_id, sizeof client_id - 1);
    sk_write_raw(&w, body, body_len);
    if (w.err) {
        sk_writer_free(&w);
        return -1;
    }
    sk_put_be32(w.buf, (uint32_t)(w.len - 4));
    ssize_t sent = send(fd, w.buf, w.len, MSG_NOSIGNAL);
    bool ok = sent == (ssize_t)w.len;
    sk_writer_free(&w);
    if (!ok)
        return -1;

    int64_t deadline = now_ms() + timeout_ms;
    uint8_t head[8];
    if (read_full(fd, head, sizeof head, deadline) != 0)
        return -1;
    uint32_t size = sk_be32(head);
    if (size < 4 || size > MAX_ANSWER || (int32_t)sk_be32(head + 4) != correlation_id)
        return -1;
    uint8_t *p = malloc(size - 4 + 1);
    if (!p || read_full(fd, p, size - 4, deadline) != 0) {
        free(p);
        return -1;
    }
    *answer = p;
    return (long)(size - 4);
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
        sk_read_i32(&r);                               /* node_id */
        sk_read_raw(&r, (uint16_t)sk_read_i16(&r));   /* host */
        sk_read_i32(&r);                               /* port */
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
