/*
 * The broker: the state every handler reaches, owned by the event-loop
 * thread. One instance per process, created by main and passed to handlers
 * through each request.
 */
#ifndef SKIFF_BROKER_H
#define SKIFF_BROKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "skiff/config.h"

struct event_base;
struct sk_meta;
struct sk_logstore;
struct sk_fetch_sessions;
struct sk_groups;
struct sk_txns;
struct sk_listener;
struct sk_conn;
struct sk_control;
struct sk_http;
struct sk_security;
struct sk_cluster;
struct sk_fetch_op;

typedef struct sk_broker {
    const sk_config *config;                  /* borrowed; outlives the broker */
    struct event_base *base;                  /* the one event loop */
    struct sk_meta *meta;                     /* cluster id, topics, topic ids */
    struct sk_logstore *logs;                 /* partition logs */
    struct sk_fetch_sessions *fetch_sessions; /* KIP-227 fetch session cache */
    struct sk_groups *groups;                 /* group coordinator (skiff/group.h) */
    struct sk_group_configs *group_configs;   /* per-group configs (skiff/group_configs.h) */
    struct sk_txns *txns;                     /* transaction coordinator and producer ids (skiff/txn.h) */
    struct sk_listener *listeners;            /* accepting sockets (list) */
    struct sk_control *control;               /* fault rules and request capture (skiff/control.h) */
    struct sk_http *http;                     /* the HTTP control plane (skiff/http.h), NULL when off */
    struct sk_security *security;             /* listeners' security settings, SCRAM credentials
                                     (skiff/security.h); NULL = every listener PLAINTEXT */
    struct sk_cluster *cluster;               /* brokers and partition routes (skiff/cluster.h) */
    /* state */
    struct sk_conn *conns;                /* open connections (list) */
    size_t nconns;                        /* number of open connections */
    struct sk_fetch_op *parked_fetches;   /* long-poll Fetches waiting for data (list, src/api/fetch.c);
                                           answered by sk_api_fetch_shutdown */
    uint64_t next_conn_id;                /* id of the next accepted connection, for logs */
    void (*drained)(struct sk_broker *b); /* called when the last connection closes while draining */
    bool stopping;                        /* shutdown started: no new connections */
    bool intercept;                       /* requests go through sk_control_on_request (rules or capture) */
    bool reads_paused;                    /* control plane: no connection reads requests */
    bool refusing;                        /* control plane: new connections are closed at once */
} sk_broker;

#endif
