/*
 * Listeners: one accepting socket per address of each `listeners` entry
 * (a name such as localhost may resolve to both 127.0.0.1 and ::1; an empty
 * host binds every interface). A configured port 0 binds a free port, which
 * every address of that entry then shares.
 */
#include <errno.h>
#include <event2/listener.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net_int.h"
#include "skiff/cluster.h"
#include "skiff/config.h"
#include "skiff/trace.h"
#include "skiff/net.h"

#define LISTEN_BACKLOG 1024

static void accept_cb(struct evconnlistener *evl, evutil_socket_t fd, struct sockaddr *peer, int peerlen, void *arg)
{
    (void)evl;
    sk_listener *l = arg;
    sk_broker *b = l->broker;
    if (b->stopping || b->refusing) {
        evutil_closesocket(fd);
        return;
    }
    sk_conn_accept(b, l, fd, peer, peerlen);
}

static void accept_error_cb(struct evconnlistener *evl, void *arg)
{
    (void)evl;
    sk_listener *l = arg;
    sk_warn("net", "accept on %s:%d failed: %s", l->host, l->port,
            evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
}

/* Binds one address; returns the listening socket or -1. */
static int bind_one(const struct sockaddr *sa, socklen_t len)
{
    int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (sa->sa_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (bind(fd, sa, len) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

static int bound_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
        return -1;
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

/* Starts every socket of one listeners entry (index `li`) for broker
 * `node` (skiff/cluster.h: its port follows from the entry's). */
static int listen_entry(sk_broker *b, const sk_listener_addr *a, int32_t node, int32_t li)
{
    int32_t node_id = sk_cluster_node_id(b, node);
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_ADDRCONFIG;
    char port[16];
    snprintf(port, sizeof port, "%d", sk_cluster_listen_port(b, node, li, a->port));
    int gai = getaddrinfo(a->host[0] ? a->host : NULL, port, &hints, &res);
    if (gai) {
        sk_error("net", "cannot resolve listener host '%s': %s", a->host, gai_strerror(gai));
        return -1;
    }
    int port_used = sk_cluster_listen_port(b, node, li, a->port), started = 0;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        if (port_used) {
            if (ai->ai_family == AF_INET6)
                ((struct sockaddr_in6 *)ai->ai_addr)->sin6_port = htons((uint16_t)port_used);
            else
                ((struct sockaddr_in *)ai->ai_addr)->sin_port = htons((uint16_t)port_used);
        }
        char host[128];
        getnameinfo(ai->ai_addr, ai->ai_addrlen, host, sizeof host, NULL, 0, NI_NUMERICHOST);
        int fd = bind_one(ai->ai_addr, ai->ai_addrlen);
        if (fd < 0) {
            sk_error("net", "cannot bind %s:%d (listeners entry %s://%s:%d): %s", host, port_used, a->name, a->host,
                     a->port, strerror(errno));
            freeaddrinfo(res);
            return -1;
        }
        port_used = bound_port(fd);
        sk_listener *l = calloc(1, sizeof *l);
        if (!l) {
            close(fd);
            freeaddrinfo(res);
            return -1;
        }
        l->broker = b;
        snprintf(l->name, sizeof l->name, "%s", a->name);
        snprintf(l->host, sizeof l->host, "%s", a->host);
        l->port = port_used;
        l->sec = sk_security_listener(b->security, a->name);
        l->node_id = node_id;
        l->addrlen = sizeof l->addr;
        if (getsockname(fd, (struct sockaddr *)&l->addr, &l->addrlen) < 0)
            l->addrlen = 0;
        l->index = li;
        sk_cluster_set_bound_port(b, node, li, port_used);
        l->evl =
            evconnlistener_new(b->base, accept_cb, l, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, LISTEN_BACKLOG, fd);
        if (!l->evl) {
            sk_error("net", "cannot listen on %s:%d: %s", host, port_used, strerror(errno));
            close(fd);
            free(l);
            freeaddrinfo(res);
            return -1;
        }
        evconnlistener_set_error_cb(l->evl, accept_error_cb);
        l->next = b->listeners;
        b->listeners = l;
        started++;
        if (sk_cluster_size(b) > 1)
            sk_info("net", "listening on %s%s%s:%d (%s, node %d), protocol %s", strchr(host, ':') ? "[" : "", host,
                    strchr(host, ':') ? "]" : "", port_used, a->name, node_id,
                    sk_sec_protocol_name(l->sec ? l->sec->protocol : SK_SEC_PLAINTEXT));
        else
            sk_info("net", "listening on %s%s%s:%d (%s), protocol %s", strchr(host, ':') ? "[" : "", host,
                    strchr(host, ':') ? "]" : "", port_used, a->name,
                    sk_sec_protocol_name(l->sec ? l->sec->protocol : SK_SEC_PLAINTEXT));
    }
    freeaddrinfo(res);
    return started ? 0 : -1;
}

int sk_net_listen(sk_broker *b)
{
    sk_listener_addr addrs[SK_LISTENERS_MAX];
    const char *why = "no entries";
    int n = sk_listeners_parse(b->config->listeners, addrs, SK_LISTENERS_MAX, &why);
    if (n <= 0) {
        sk_error("net", "listeners '%s' unusable: %s", b->config->listeners, why);
        return -1;
    }
    for (int32_t node = 0; node < sk_cluster_size(b); node++)
        for (int i = 0; i < n; i++)
            if (listen_entry(b, &addrs[i], node, i) < 0)
                return -1;
    return 0;
}

void sk_net_stop_listening(sk_broker *b)
{
    while (b->listeners) {
        sk_listener *l = b->listeners;
        b->listeners = l->next;
        if (l->evl)
            evconnlistener_free(l->evl);
        free(l);
    }
}

int sk_net_node_listening(sk_broker *b, int32_t node_id, bool on)
{
    int rc = 0;
    for (sk_listener *l = b->listeners; l; l = l->next) {
        if (l->node_id != node_id || !!l->evl == on)
            continue;
        if (!on) {
            evconnlistener_free(l->evl);
            l->evl = NULL;
            continue;
        }
        int fd = l->addrlen ? bind_one((const struct sockaddr *)&l->addr, l->addrlen) : -1;
        if (fd >= 0)
            l->evl = evconnlistener_new(b->base, accept_cb, l, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE,
                                        LISTEN_BACKLOG, fd);
        if (!l->evl) {
            sk_error("net", "node %d: cannot listen on %s:%d again: %s", node_id, l->host, l->port, strerror(errno));
            if (fd >= 0)
                close(fd);
            rc = -1;
            continue;
        }
        evconnlistener_set_error_cb(l->evl, accept_error_cb);
    }
    return rc;
}

bool sk_net_listener_at(const sk_broker *b, int i, sk_listener_addr *out)
{
    const sk_listener *l = b->listeners;
    while (l && i-- > 0)
        l = l->next;
    if (!l)
        return false;
    snprintf(out->name, sizeof out->name, "%s", l->name);
    snprintf(out->host, sizeof out->host, "%s", l->host);
    out->port = l->port;
    return true;
}
