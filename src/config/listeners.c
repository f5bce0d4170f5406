/*
 * Parser for Kafka's listener lists ("listeners", "advertised.listeners"):
 * comma-separated NAME://host:port entries, e.g.
 *   PLAINTEXT://localhost:9092, PLAINTEXT://[::1]:0, PLAINTEXT://:9092
 * The host is a name, an IPv4 address, an IPv6 address in brackets, or empty
 * (all interfaces). A name is letters, digits, '_' and '-' (Testcontainers
 * names its extra listeners TC-0, TC-1, ...); which security protocol it
 * uses is listener.security.protocol.map's business (kafka_compat.c). See
 * skiff/config.h for the contract.
 */
#include "skiff/config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static bool is_space(char ch)
{
    return ch == ' ' || ch == '\t';
}

/* Parses "host:port" or "[v6]:port" in [p, end) into `out`. */
static const char *parse_host_port(const char *p, const char *end, sk_listener_addr *out)
{
    const char *host = p, *host_end, *port;

    if (*p == '[') {
        host = p + 1;
        host_end = memchr(host, ']', (size_t)(end - host));
        if (!host_end)
            return "missing ']' after an IPv6 address";
        if (host_end + 1 == end || host_end[1] != ':')
            return "missing ':port'";
        port = host_end + 2;
    } else {
        host_end = NULL;
        for (const char *q = p; q < end; q++)
            if (*q == ':')
                host_end = q;
        if (!host_end)
            return "missing ':port'";
        port = host_end + 1;
    }

    size_t host_len = (size_t)(host_end - host);
    if (host_len >= sizeof out->host)
        return "host name too long";
    memcpy(out->host, host, host_len);
    out->host[host_len] = '\0';

    if (*p == '[') {
        struct in6_addr a6;
        if (inet_pton(AF_INET6, out->host, &a6) != 1)
            return "not an IPv6 address inside [ ]";
    } else if (host_len > 0) {
        bool numeric = true;
        for (size_t i = 0; i < host_len; i++) {
            unsigned char ch = (unsigned char)out->host[i];
            if (ch == ':')
                return "an IPv6 address needs brackets, e.g. [::1]:9092";
            if (!isalnum(ch) && ch != '-' && ch != '.' && ch != '_')
                return "bad character in host name";
            if (!isdigit(ch) && ch != '.')
                numeric = false;
        }
        struct in_addr a4;
        if (numeric && inet_pton(AF_INET, out->host, &a4) != 1)
            return "not an IPv4 address";
    }

    if (port == end || end - port > 5)
        return "port must be a number from 0 to 65535";
    int n = 0;
    for (const char *q = port; q < end; q++) {
        if (!isdigit((unsigned char)*q))
            return "port must be a number from 0 to 65535";
        n = n * 10 + (*q - '0');
    }
    if (n > 65535)
        return "port must be a number from 0 to 65535";
    out->port = n;
    return NULL;
}

/* Parses one NAME://host:port entry in [p, end). */
static const char *parse_entry(const char *p, const char *end, sk_listener_addr *out)
{
    const char *sep = NULL;
    for (const char *q = p; q + 3 <= end; q++) {
        if (q[0] == ':' && q[1] == '/' && q[2] == '/') {
            sep = q;
            break;
        }
    }
    if (!sep)
        return "expected NAME://host:port";
    size_t name_len = (size_t)(sep - p);
    if (name_len == 0)
        return "missing listener name before ://";
    if (name_len >= sizeof out->name)
        return "listener name too long";
    for (size_t i = 0; i < name_len; i++) {
        unsigned char ch = (unsigned char)p[i];
        if (!isalnum(ch) && ch != '_' && ch != '-')
            return "bad character in listener name";
        out->name[i] = (char)toupper(ch);
    }
    out->name[name_len] = '\0';
    return parse_host_port(sep + 3, end, out);
}

int sk_listeners_parse(const char *s, sk_listener_addr *out, int max, const char **why)
{
    char names[SK_LISTENERS_MAX][sizeof out->name];
    const char *err = NULL;
    int n = 0;

    while (is_space(*s))
        s++;
    if (*s == '\0')
        return 0;
    for (;;) {
        const char *end = strchr(s, ',');
        const char *next = end ? end + 1 : NULL;
        if (!end)
            end = s + strlen(s);
        while (end > s && is_space(end[-1]))
            end--;
        if (end == s) {
            err = "empty entry in the list";
            break;
        }
        if (n == SK_LISTENERS_MAX) {
            err = "too many listeners";
            break;
        }
        sk_listener_addr one;
        err = parse_entry(s, end, &one);
        if (err)
            break;
        for (int i = 0; i < n && !err; i++)
            if (strcmp(names[i], one.name) == 0)
                err = "listener names must be unique";
        if (err)
            break;
        memcpy(names[n], one.name, sizeof one.name);
        if (n < max)
            out[n] = one;
        n++;
        if (!next)
            return n;
        s = next;
        while (is_space(*s))
            s++;
    }
    if (why)
        *why = err;
    return -1;
}

const char *sk_http_listener_parse(const char *s, sk_listener_addr *out)
{
    memset(out, 0, sizeof *out);
    if (strncasecmp(s, "http://", 7) != 0)
        return "expected http://host:port";
    snprintf(out->name, sizeof out->name, "HTTP");
    const char *p = s + 7, *end = s + strlen(s);
    if (end > p && end[-1] == '/')
        end--;
    return parse_host_port(p, end, out);
}
