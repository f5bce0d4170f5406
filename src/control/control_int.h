/*
 * Internals shared by the files of src/control.
 */
#ifndef SKIFF_CONTROL_INT_H
#define SKIFF_CONTROL_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "skiff/control.h"

struct event;

/* One fault rule. Match fields: -1 / NULL = any. */
typedef struct sk_fault_rule {
    struct sk_fault_rule *next; /* next (newer) rule */
    uint64_t id;                /* 1, 2, ... in creation order */
    /* match */
    int16_t api_key;        /* Kafka API key */
    int16_t version;        /* request version, or -1 */
    char *client_id;        /* header client id, or NULL */
    char *topic;            /* a topic named in the request, or NULL */
    int32_t partition;      /* a partition named in the request (of `topic` if set), or -1 */
    char *group_id;         /* group id named in the request, or NULL */
    char *transactional_id; /* transactional id named in the request, or NULL */
    int32_t node_id;        /* the broker it came in on (skiff.cluster.brokers), or -1 */
    /* action */
    sk_fault_kind kind;       /* what the rule does to a matched request */
    int16_t error_code;       /* SK_FAULT_ERROR: Kafka error code */
    int level;                /* SK_FAULT_ERROR: -1 auto, else kf_error_place */
    int32_t delay_ms;         /* hold the response, ms (0 = none) */
    int32_t throttle_time_ms; /* set in the response, ms (-1 = leave) */
    /* trigger */
    int64_t after;       /* let this many matches pass first */
    int64_t times;       /* fire at most this often; 0 = no limit */
    double probability;  /* fire with this probability (1 = always) */
    uint64_t seed;       /* the seed given (for listing) */
    uint64_t rng;        /* xorshift64* state */
    int64_t deadline_ms; /* wall-clock ms after which it never fires; 0 = none */
    /* state */
    int64_t matched;    /* requests matched */
    int64_t fired;      /* times it acted */
    struct cJSON *spec; /* the rule as given (for listing) */
} sk_fault_rule;

/* A response held back by a delay rule. */
typedef struct sk_held_reply {
    struct sk_held_reply *prev, *next;      /* the list of held replies (sk_control.held) */
    struct sk_control *ctl;                 /* the control plane holding it (borrowed) */
    struct event *timer;                    /* fires after the delay and releases it (owned) */
    struct sk_reply *slot;                  /* the connection's response slot held back (borrowed) */
    void (*release)(struct sk_reply *slot); /* sends the slot's response */
} sk_held_reply;

struct sk_capture;

typedef struct sk_control {
    sk_broker *broker;          /* the broker controlled (borrowed) */
    sk_fault_rule *rules;       /* oldest first */
    uint64_t next_rule_id;      /* id of the last rule added; ids start at 1 */
    int nrules;                 /* rules in the list */
    sk_held_reply *held;        /* responses held back by delays */
    struct sk_capture *capture; /* capture ring (src/control/capture.c), NULL until configured */
    sk_stats stats;             /* request metrics */
} sk_control;

/* Finds the first rule that fires for `req` (counting matches); NULL if none. */
sk_fault_rule *sk_faults_fire(sk_control *ctl, const struct sk_request *req, int64_t now_ms);
void sk_faults_free_all(sk_control *ctl);
/* Capture hooks (capture.c). */
bool sk_capture_active(const sk_control *ctl);
/* Records a request; returns its entry id (0 when not captured). */
uint64_t sk_capture_begin(sk_control *ctl, const struct sk_request *req);
/* Completes entry `id` (if still in the ring) with `response` (NULL: none sent). */
void sk_capture_response(sk_control *ctl, uint64_t id, const struct sk_request *req, const void *response);
void sk_capture_free(sk_control *ctl);
/* Wall-clock time, ms. */
int64_t sk_control_now_ms(void);

#endif
