/*
 * The network front end: listeners that accept Kafka clients and
 * connections that frame requests (4-byte big-endian size), decode them,
 * dispatch them, and send responses strictly in request order, also when a
 * response is deferred (a parked long-poll Fetch or JoinGroup).
 *
 * Limits: a frame larger than socket.request.max.bytes, or with a negative
 * size, closes the connection with a log line. A slow reader is
 * back-pressured: while its unsent response bytes exceed
 * skiff.connection.output.max.bytes (or it has too many unanswered requests)
 * the connection stops reading requests; it resumes below half the bound.
 */
#ifndef SKIFF_NET_H
#define SKIFF_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "skiff/broker.h"
#include "skiff/config.h"

/* Most unanswered (parked or in-progress) requests per connection before its
 * reads pause. Kafka answers one request per connection at a time; this
 * allows pipelining while bounding memory. */
#define SK_CONN_MAX_INFLIGHT 256

/* Starts listening on every entry of config->listeners. Each bound address
 * is logged as "listening on HOST:PORT (NAME), protocol PROTOCOL" (with the real port when
 * the configured port is 0). Returns 0, or -1 (logged) when an address cannot
 * be bound; listeners already started stay in broker->listeners. */
int sk_net_listen(sk_broker *b);
/* Stops accepting new connections (frees every listener). */
void sk_net_stop_listening(sk_broker *b);
/* Begins a graceful close of every connection: no more requests are read,
 * responses already owed are sent, then each connection closes. `done` is
 * called (once) when the last connection has closed, possibly right away. */
void sk_net_drain(sk_broker *b, void (*done)(sk_broker *b));
/* Closes every remaining connection at once (end of shutdown). */
void sk_net_close_all(sk_broker *b);
/* Stops (true) or resumes (false) reading requests on every connection,
 * those accepted meanwhile included (a control-plane fault: the broker looks
 * hung; responses already owed still go out). */
void sk_net_pause_reads(sk_broker *b, bool paused);
/* Closes every connection of broker `node_id` at once (skiff/cluster.h: the
 * broker went down); responses owed on them are dropped. */
void sk_net_close_node(sk_broker *b, int32_t node_id);
/* Closes (false) or opens again on the same ports (true) the listening
 * sockets of broker `node_id`: connecting to a broker that is down is
 * refused, as to a stopped Kafka broker. Returns 0, or -1 (logged) when a
 * port cannot be bound again. */
int sk_net_node_listening(sk_broker *b, int32_t node_id, bool on);
/* Listener `i` (0 = the first) as bound: its name, configured host ("" =
 * all interfaces) and real port (the one chosen when configured as 0), in
 * *out. Returns false when there is no such listener. */
bool sk_net_listener_at(const sk_broker *b, int i, sk_listener_addr *out);
/* Number of open connections. */
size_t sk_net_connection_count(const sk_broker *b);

#endif
