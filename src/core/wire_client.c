/*
 * wire_client: a raw request/response exchange on a blocking socket (see
 * skiff/wire_client.h). Encoding and decoding use buf.h's readers and
 * writers; framing is a 4-byte big-endian size before every message.
 */
#include "skiff/wire_client.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "skiff/buf.h"
#include "skiff/clock.h"

enum { MAX_ANSWER = 16 << 20, CORRELATION_ID = 0x5b1f };

/* Connects `fd` to `ai` within timeout_ms; 0, or -1 with errno set. */
static int connect_within(int fd, const struct addrinfo *ai, int timeout_ms)
{
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
        return -1;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        if (errno != EINPROGRESS)
            return -1;
        struct pollfd pfd = {.fd = fd, .events = POLLOUT};
        int n = poll(&pfd, 1, timeout_ms);
        if (n <= 0) {
            errno = n == 0 ? ETIMEDOUT : errno;
            return -1;
        }
        int err = 0;
        socklen_t len = sizeof err;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
            return -1;
        if (err) {
            errno = err;
            return -1;
        }
    }
    return fcntl(fd, F_SETFL, flags);
}

int sk_wire_connect(const char *host, int port, int timeout_ms)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    char service[16];
    snprintf(service, sizeof service, "%d", port);
    if (getaddrinfo(host, service, &hints, &res) != 0 || !res) {
        errno = EHOSTUNREACH;
        return -1;
    }
    int fd = -1, saved = ECONNREFUSED;
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd >= 0 && connect_within(fd, ai, timeout_ms) != 0) {
            saved = errno;
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd < 0) {
        errno = saved;
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

/* Reads exactly len bytes before the deadline; 0 or -1. */
static int read_full(int fd, uint8_t *p, size_t len, int64_t deadline)
{
    while (len > 0) {
        int64_t left = deadline - sk_clock_mono_ms();
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

long sk_wire_call(int fd, int16_t key, int16_t version, const char *client_id, const void *body, size_t body_len,
                  int timeout_ms, uint8_t **answer)
{
    size_t id_len = strlen(client_id);
    sk_writer w;
    sk_writer_init(&w, 64 + id_len + body_len);
    sk_write_i32(&w, 0);
    sk_write_i16(&w, key);
    sk_write_i16(&w, version);
    sk_write_i32(&w, CORRELATION_ID);
    sk_write_i16(&w, (int16_t)id_len);
    sk_write_raw(&w, client_id, id_len);
    if (body_len)
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

    int64_t deadline = sk_clock_mono_ms() + timeout_ms;
    uint8_t head[8];
    if (read_full(fd, head, sizeof head, deadline) != 0)
        return -1;
    uint32_t size = sk_be32(head);
    if (size < 4 || size > MAX_ANSWER || (int32_t)sk_be32(head + 4) != CORRELATION_ID)
        return -1;
    uint8_t *p = malloc(size - 4 + 1);
    if (!p || read_full(fd, p, size - 4, deadline) != 0) {
        free(p);
        return -1;
    }
    *answer = p;
    return (long)(size - 4);
}
