/*
 * wire: the few raw Kafka protocol exchanges the benchmark tools make without
 * a client library, over one blocking TCP connection: Metadata v0 (the
 * start-up probe: the broker is ready when it answers one) and ApiVersions v0
 * (which APIs a broker serves, so a test it cannot run is skipped up front
 * instead of timing out). Requests use request header v1; answers to both
 * v0 requests have response header v0 (Kafka protocol guide).
 */
#ifndef SKIFF_BENCH_WIRE_H
#define SKIFF_BENCH_WIRE_H

#include <stdbool.h>
#include <stdint.h>

/* Splits "host:port[,more]" (the first entry of a bootstrap list) into host
 * and port. Returns 0, or -1 when it has no port. */
int bench_wire_parse_bootstrap(const char *bootstrap, char *host, int host_len, int *port);

/* Connects to host:port (numeric IPv4 or a name) with TCP_NODELAY. Returns the
 * socket, or -1 with errno set (ECONNREFUSED while a broker starts). */
int bench_wire_connect(const char *host, int port);

/* Sends Metadata v0 for all topics on `fd` and reads the answer, waiting at
 * most timeout_ms. Returns the number of brokers in the answer (>= 1 for a
 * usable broker), or -1 on a socket error, timeout or malformed answer. */
int bench_wire_metadata_v0(int fd, int timeout_ms);

/* API keys a broker serves: max_version[key] is the highest version, -1 when
 * the key is not served. */
typedef struct bench_api_ranges {
    int16_t max_version[128];
} bench_api_ranges;

/* Asks host:port for ApiVersions v0 and fills `out`. Returns 0, or -1 when the
 * broker cannot be reached or answers with an error. */
int bench_wire_api_versions(const char *host, int port, int timeout_ms, bench_api_ranges *out);

/* True when every key of `keys` (n of them) is served. */
bool bench_wire_serves(const bench_api_ranges *r, const int16_t *keys, int n);

#endif
