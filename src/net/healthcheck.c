/*
 * `skiff healthcheck` (see skiff/healthcheck.h): one ApiVersions v0 exchange
 * with the broker that the same settings describe.
 */
#include "skiff/healthcheck.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "skiff/buf.h"
#include "skiff/config.h"
#include "skiff/trace.h"
#include "skiff/wire_client.h"

enum { API_VERSIONS = 18, TIMEOUT_MS = 3000 };

/* Asks host:port for ApiVersions v0; 0 when it answers with error code 0,
 * else -1 with a reason in `why`. */
static int probe(const char *host, int port, char *why, size_t len)
{
    int fd = sk_wire_connect(host, port, TIMEOUT_MS);
    if (fd < 0) {
        snprintf(why, len, "cannot connect: %s", strerror(errno));
        return -1;
    }
    uint8_t *answer = NULL;
    long n = sk_wire_call(fd, API_VERSIONS, 0, "skiff-healthcheck", NULL, 0, TIMEOUT_MS, &answer);
    close(fd);
    if (n < 0) {
        snprintf(why, len, "no ApiVersions answer within %d ms", TIMEOUT_MS);
        return -1;
    }
    sk_reader r;
    sk_reader_init(&r, answer, (size_t)n);
    int16_t error_code = sk_read_i16(&r);
    int32_t apis = sk_read_i32(&r);
    free(answer);
    if (r.err || error_code != 0 || apis <= 0) {
        snprintf(why, len, "ApiVersions answered error code %d with %d APIs", error_code, apis);
        return -1;
    }
    return 0;
}

int sk_healthcheck_main(int argc, char **argv, char **envp)
{
    /* Only errors: the broker already logged what its settings mean. */
    sk_trace_threshold = SK_TRACE_ERROR;
    sk_config c;
    sk_config_status st = sk_config_load(&c, argc, argv, envp);
    if (st != SK_CONFIG_OK) {
        sk_config_free(&c);
        return st == SK_CONFIG_EXIT ? 0 : 2;
    }
    /* The first listener without TLS: ApiVersions is answered before SASL
     * authentication too. */
    sk_listener_addr all[SK_LISTENERS_MAX], addr = {.port = 0};
    int rc = 1, n = sk_listeners_parse(c.listeners, all, SK_LISTENERS_MAX, NULL);
    char why[160], proto[32];
    for (int i = 0; i < n && i < SK_LISTENERS_MAX && !addr.port; i++)
        if (sk_config_listener_protocol(&c, all[i].name, proto, sizeof proto) == 0 && !strcasestr(proto, "SSL"))
            addr = all[i];
    if (addr.port == 0) {
        printf("unhealthy: no PLAINTEXT or SASL_PLAINTEXT listener with a fixed port in \"%s\"\n", c.listeners);
    } else {
        const char *host = addr.host;
        if (!*host || !strcmp(host, "0.0.0.0"))
            host = "127.0.0.1";
        else if (!strcmp(host, "::"))
            host = "::1";
        rc = probe(host, addr.port, why, sizeof why) == 0 ? 0 : 1;
        printf("%s: %s:%d %s\n", rc == 0 ? "healthy" : "unhealthy", host, addr.port,
               rc == 0 ? "answered ApiVersions" : why);
    }
    sk_config_free(&c);
    return rc;
}
