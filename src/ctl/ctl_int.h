/*
 * Internals of skiff ctl: options, the HTTP call and the answer printers.
 */
#ifndef SKIFF_CTL_INT_H
#define SKIFF_CTL_INT_H

#include <stdbool.h>

#include "skiff/ctl.h"

struct cJSON;

typedef struct ctl_opts {
    const char *url;   /* http://host:port of the control plane */
    bool json;         /* print the server's JSON as is */
    int io_timeout_ms; /* socket timeout, ms (waits add their own timeout) */
    const char *token; /* bearer token, or NULL */
} ctl_opts;

typedef struct ctl_answer {
    int status;         /* HTTP status, 0 when none */
    char *body;         /* the body (heap) */
    struct cJSON *json; /* the body parsed, or NULL */
} ctl_answer;

/* Sends one request (`body` may be NULL) and reads the answer. Returns
 * SK_CTL_OK with *out filled, or SK_CTL_UNREACHABLE / SK_CTL_USAGE after
 * printing why. */
int ctl_http(const ctl_opts *o, const char *method, const char *path, const char *body, ctl_answer *out);
void ctl_answer_free(ctl_answer *a);
/* Prints the answer (2xx: with `human`, or as generic lines when NULL, or
 * as JSON with --json; else the error to stderr, with the state a wait saw)
 * and frees it. Returns the exit status: OK, TIMEOUT (408) or FAILED. */
int ctl_finish(const ctl_opts *o, ctl_answer *a, void (*human)(const struct cJSON *j));
/* Generic human printer: objects as "key: value" lines. */
void ctl_print_human(const struct cJSON *j);

#endif
