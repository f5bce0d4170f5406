/*
 * Internals shared by the files of src/net: connections, their ordered
 * reply slots, and listeners.
 */
#ifndef SKIFF_NET_INT_H
#define SKIFF_NET_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/socket.h>

#include "skiff/broker.h"
#include "skiff/security.h"

struct bufferevent;
struct evconnlistener;
struct evbuffer;
struct event;

/* One answer owed to a client, in request order. A slot is created when a
 * request is read and completed when the handler responds (or says no
 * response); completed slots leave the head of the queue in order. */
typedef struct sk_reply {
    struct sk_reply *next; /* later request on the same connection */
    struct sk_conn *conn;  /* NULL once the connection has closed (the response is dropped) */
    struct evbuffer *out;  /* framed response (size prefix included); NULL for none */
    bool done;             /* the handler has answered */
    bool abandoned;        /* never answered (blackhole fault): freed with the connection */
} sk_reply;

typedef struct sk_conn {
    struct sk_conn *prev, *next; /* broker->conns list */
    sk_broker *broker;           /* the broker it serves */
    struct bufferevent *bev;     /* socket (closed on free); its output buffer sends responses */
    struct event *rev;           /* read readiness of the socket (plaintext; NULL over TLS, where
                                    the bufferevent reads and decrypts) */
    struct evbuffer *in;         /* bytes read, not yet framed */
    uint8_t *frame;              /* a large request read straight into place (NULL: none) */
    size_t frame_size;           /* its size, bytes (the 4-byte size prefix excluded) */
    size_t frame_filled;         /* bytes of it read so far */
    uint64_t id;                 /* for logs */
    char peer[64];               /* "host:port" of the client */
    char advertised_host[256];   /* host Metadata advertises to this client */
    int32_t advertised_port;     /* port Metadata advertises to this client */
    char listener[16];           /* name of the listener that accepted it */
    bool tls;                    /* bev is an OpenSSL bufferevent */
    bool tls_ready;              /* the TLS handshake has completed */
    bool seen_bytes;             /* a first frame size has been read (TLS-hello check) */
    sk_auth auth;                /* authentication state and principal (skiff/security.h) */
    bool advertised_from_config; /* advertised_port comes from advertised.listeners */
    int32_t node_id;             /* the broker the listener belongs to (skiff/cluster.h) */
    int32_t listener_index;      /* index of the listener in `listeners` */
    /* state */
    sk_reply *head, *tail; /* owed answers, oldest first */
    uint32_t inflight;     /* slots not yet answered */
    bool reading;          /* reads enabled (not back-pressured) */
    bool closing;          /* read no more; close once every owed answer is sent */
    bool free_scheduled;   /* sk_conn_free will run from the loop */
} sk_conn;

typedef struct sk_listener {
    struct sk_listener *next;     /* the broker's next listener */
    sk_broker *broker;            /* the broker accepted connections join */
    struct evconnlistener *evl;   /* owns the socket; NULL while its broker is down */
    struct sockaddr_storage addr; /* the bound address, to bind again */
    socklen_t addrlen;            /* bytes of addr */
    char name[16];                /* listener name, e.g. PLAINTEXT */
    char host[256];               /* host as configured ("" = all interfaces) */
    int port;                     /* bound port (the real one when configured as 0) */
    const sk_sec_listener *sec;   /* the listener name's security settings (borrowed from
                                   broker->security; NULL = PLAINTEXT) */
    int32_t node_id;              /* the broker it belongs to (skiff/cluster.h) */
    int32_t index;                /* its entry in `listeners` */
} sk_listener;

/* Takes an accepted socket `fd` of listener `l`. */
void sk_conn_accept(sk_broker *b, sk_listener *l, int fd, const struct sockaddr *peer, int peerlen);
/* Stops reading and closes once every owed answer has been sent. */
void sk_conn_close_after_flush(sk_conn *c);
/* Appends the completed slot's bytes to the socket in order (internal to the
 * request layer: called when a slot completes). */
void sk_conn_reply_done(sk_reply *slot);

#endif
