/*
 * The HTTP side of skiff ctl: one blocking HTTP/1.1 request per command
 * (Connection: close; the body is read to the end), and the printers of
 * answers: --json prints the server's body as is, otherwise a few lines
 * meant for people.
 */
#include "ctl_int.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

/* Largest answer read, bytes (a full capture ring is the biggest). */
#define CTL_ANSWER_MAX (256u << 20)

static int connect_to(const char *host, const char *port, int timeout_ms)
{
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, port, &hints, &res) != 0)
        return -1;
    int fd = -1;
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0)
            continue;
        struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    return fd;
}

static int send_all(int fd, const char *p, size_t len)
{
    while (len) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int ctl_http(const ctl_opts *o, const char *method, const char *path, const char *body, ctl_answer *out)
{
    memset(out, 0, sizeof *out);
    char host[256], port[16] = "80";
    const char *u = o->url;
    if (strncasecmp(u, "http://", 7)) {
        fprintf(stderr, "skiff ctl: --url must be http://host:port, not %s\n", u);
        return SK_CTL_USAGE;
    }
    u += 7;
    size_t hl;
    if (*u == '[') {
        hl = strcspn(u + 1, "]");
        snprintf(host, sizeof host, "%.*s", (int)hl, u + 1);
        u += hl + 2;
    } else {
        hl = strcspn(u, ":/");
        snprintf(host, sizeof host, "%.*s", (int)hl, u);
        u += hl;
    }
    if (*u == ':')
        snprintf(port, sizeof port, "%.*s", (int)strcspn(u + 1, "/"), u + 1);
    int fd = connect_to(host, port, o->io_timeout_ms);
    if (fd < 0) {
        fprintf(stderr, "skiff ctl: cannot reach skiff at %s: %s\n", o->url, strerror(errno ? errno : ECONNREFUSED));
        return SK_CTL_UNREACHABLE;
    }
    size_t blen = body ? strlen(body) : 0;
    char head[3072], auth[1024] = "";
    if (o->token && *o->token)
        snprintf(auth, sizeof auth, "Authorization: Bearer %s\r\n", o->token);
    int n = snprintf(head, sizeof head,
                     "%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\nAccept: application/json\r\n"
                     "Content-Type: application/json\r\n%sContent-Length: %zu\r\n\r\n",
                     method, path, host, auth, blen);
    int rc = SK_CTL_UNREACHABLE;
    char *buf = NULL;
    size_t len = 0, cap = 0;
    if (n < 0 || (size_t)n >= sizeof head || send_all(fd, head, (size_t)n) < 0 ||
        (blen && send_all(fd, body, blen) < 0))
        goto done;
    for (;;) {
        if (len + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 16384;
            char *nb = cap <= CTL_ANSWER_MAX ? realloc(buf, cap) : NULL;
            if (!nb)
                goto done;
            buf = nb;
        }
        ssize_t got = recv(fd, buf + len, cap - len - 1, 0);
        if (got < 0)
            goto done;
        if (got == 0)
            break;
        len += (size_t)got;
    }
    if (!buf)
        goto done;
    buf[len] = '\0';
    char *sep = strstr(buf, "\r\n\r\n");
    if (strncmp(buf, "HTTP/1.", 7) || !sep || sscanf(buf + 8, " %d", &out->status) != 1)
        goto done;
    out->body = strdup(sep + 4);
    out->json = cJSON_Parse(out->body);
    rc = out->body ? SK_CTL_OK : SK_CTL_UNREACHABLE;
done:
    if (rc == SK_CTL_UNREACHABLE && !out->status)
        fprintf(stderr, "skiff ctl: no HTTP answer from %s%s\n", o->url, path);
    free(buf);
    close(fd);
    return rc;
}

void ctl_answer_free(ctl_answer *a)
{
    free(a->body);
    cJSON_Delete(a->json);
    memset(a, 0, sizeof *a);
}

/* Prints a JSON value for people: objects as "key: value" lines. */
static void print_value(FILE *f, const cJSON *v, int indent)
{
    if (cJSON_IsObject(v)) {
        for (const cJSON *it = v->child; it; it = it->next) {
            fprintf(f, "%*s%s:", indent, "", it->string);
            if (cJSON_IsObject(it) && it->child) {
                fprintf(f, "\n");
                print_value(f, it, indent + 2);
            } else {
                char *s = cJSON_PrintUnformatted(it);
                fprintf(f, " %s\n", s && cJSON_IsString(it) ? it->valuestring : s ? s : "?");
                free(s);
            }
        }
    } else {
        char *s = cJSON_PrintUnformatted(v);
        fprintf(f, "%*s%s\n", indent, "", s ? s : "?");
        free(s);
    }
}

void ctl_print_human(const cJSON *j)
{
    print_value(stdout, j, 0);
}

int ctl_finish(const ctl_opts *o, ctl_answer *a, void (*human)(const cJSON *j))
{
    int rc;
    if (a->status >= 200 && a->status < 300) {
        size_t n = strlen(a->body);
        if (o->json || !a->json) {
            fputs(a->body, stdout);
            if (!n || a->body[n - 1] != '\n')
                fputc('\n', stdout);
        } else {
            (human ? human : ctl_print_human)(a->json);
        }
        rc = SK_CTL_OK;
    } else {
        const cJSON *err = cJSON_GetObjectItemCaseSensitive(a->json, "error");
        const cJSON *detail = cJSON_GetObjectItemCaseSensitive(a->json, "detail");
        if (o->json)
            printf("%s\n", a->body);
        fprintf(stderr, "skiff ctl: %s (HTTP %d): %s\n", cJSON_IsString(err) ? err->valuestring : "error", a->status,
                cJSON_IsString(detail) ? detail->valuestring : a->body);
        const cJSON *state = cJSON_GetObjectItemCaseSensitive(a->json, "state");
        if (state && !o->json) {
            fprintf(stderr, "state seen:\n");
            print_value(stderr, state, 2);
        }
        rc = a->status == 408 ? SK_CTL_TIMEOUT : SK_CTL_FAILED;
    }
    ctl_answer_free(a);
    return rc;
}
