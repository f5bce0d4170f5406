/*
 * The HTTP control plane: an embedded HTTP/1.1 server (libevent's evhttp) on
 * the broker's event loop, on its own listener (skiff.http.listeners,
 * default http://localhost:9644; empty turns it off). JSON in and out;
 * errors are {"error": "<kind>", "detail": "<message>"} with the matching
 * status (the /v3 REST API and the console's endpoints use Confluent's
 * {"error_code", "message"}: docs/rest.md, docs/console.md); JSON request
 * bodies over SK_HTTP_BODY_MAX bytes are refused (413), produce bodies
 * over 8 MiB too;
 * unknown JSON fields are refused (400) naming the field; with
 * skiff.http.token set, every request but /healthz, /readyz and the
 * console's files (/, /console/...) must carry
 * "Authorization: Bearer TOKEN" (else 401). Long waits are
 * parked on the loop, never blocking it. The endpoints are listed in
 * docs/openapi.json (also served at GET /openapi.json).
 */
#ifndef SKIFF_HTTP_H
#define SKIFF_HTTP_H

#include <stdbool.h>
#include <stdint.h>

#include "skiff/broker.h"

/* Largest request body accepted, bytes. */
#define SK_HTTP_BODY_MAX (64 * 1024)
/* Longest wait a client may ask for, ms. */
#define SK_HTTP_WAIT_MAX_MS (10 * 60 * 1000)

/* Starts the HTTP server on every address of skiff.http.listeners and logs
 * "http control plane at http://HOST:PORT" for each. Returns 0 (also when the
 * key is empty: no server), or -1 (logged) when an address cannot be bound;
 * a bind failure of the default address only warns (another skiff may hold
 * it) and returns 0. */
int sk_http_start(sk_broker *b);
/* Answers every parked wait with 503, closes the server. NULL-safe. */
void sk_http_stop(sk_broker *b);

#endif
