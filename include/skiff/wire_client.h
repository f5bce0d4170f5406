/*
 * wire_client: one raw Kafka request/response exchange over a blocking TCP
 * connection, without a client library. For the small clients skiff and its
 * tools carry: `skiff healthcheck` (ApiVersions) and the benchmark probes
 * (bench/wire.c). Requests use request header v1 (api key, api version,
 * correlation id, client id); the answers read have response header v0,
 * which is what every non-flexible version gets (Kafka protocol guide).
 */
#ifndef SKIFF_WIRE_CLIENT_H
#define SKIFF_WIRE_CLIENT_H

#include <stddef.h>
#include <stdint.h>

/* Connects to host:port (a name, an IPv4 address, or an IPv6 address
 * without brackets) with TCP_NODELAY, trying each address the name resolves
 * to, waiting at most timeout_ms for each. Returns the socket (blocking, the
 * caller closes it), or -1 with errno set (ECONNREFUSED while a broker
 * starts, ETIMEDOUT, EHOSTUNREACH when the name does not resolve). */
int sk_wire_connect(const char *host, int port, int timeout_ms);

/* Sends one request on `fd`: api `key` at `version`, client id `client_id`,
 * then `body` (body_len bytes, may be NULL when 0), framed by its 4-byte
 * size; then reads the answer, waiting at most timeout_ms in all. On
 * success *answer holds the answer's body after the correlation id
 * (malloc'd, the caller frees) and its length is returned; -1 on a socket
 * error, a timeout, an answer larger than 16 MiB or a wrong correlation id. */
long sk_wire_call(int fd, int16_t key, int16_t version, const char *client_id, const void *body, size_t body_len,
                  int timeout_ms, uint8_t **answer);

#endif
