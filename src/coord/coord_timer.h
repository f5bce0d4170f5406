/*
 * The coordinators' one timer facility: deadlines on an injectable clock,
 * kept on a min-heap ordered by (deadline, arm order) and driven by one
 * libevent timer at the earliest deadline. The group coordinator (member
 * sessions, join and sync phases, the initial rebalance delay, offset
 * expiration, consumer-group session and rebalance timeouts) and the
 * transaction coordinator (transaction timeouts, marker retries, the
 * transactional id expiration) each own one; unit tests inject a fake
 * clock and run the due timers themselves (sk_groups_run_timers,
 * sk_txns_run_timers).
 *
 * A run fires only timers armed before it started, so a callback that
 * re-arms with no delay waits for the next run (the next loop turn)
 * instead of spinning inside this one.
 */
#ifndef SKIFF_COORD_TIMER_H
#define SKIFF_COORD_TIMER_H

#include <stddef.h>
#include <stdint.h>

struct event;
struct event_base;

#define SK_COORD_TIMER_IDLE SIZE_MAX

typedef struct sk_coord_timer sk_coord_timer;

/* A deadline, embedded in its owner (container_of finds the owner). */
struct sk_coord_timer {
    int64_t deadline;                           /* ms by the facility's clock */
    size_t slot;                                /* heap index, SK_COORD_TIMER_IDLE when not armed */
    uint64_t seq;                               /* arm order (sk_coord_timers.arm_seq) */
    void (*fn)(void *owner, sk_coord_timer *t); /* runs once when due (disarmed first); owner as
                                                 * given to sk_coord_timers_init */
};

/* The heap of one coordinator. */
typedef struct sk_coord_timers {
    /* configuration */
    int64_t (*now_ms)(void *arg); /* the clock, ms; NULL = the wall clock (skiff/clock.h) */
    void *clock_arg;              /* passed to now_ms */
    void *owner;                  /* passed to every timer's fn */
    /* state */
    sk_coord_timer **heap; /* armed timers, min-heap on (deadline, seq) */
    size_t n, cap;
    uint64_t arm_seq; /* arms so far: orders equal deadlines, bounds a run */
    struct event *ev; /* libevent timer at the earliest deadline; NULL without a base */
} sk_coord_timers;

/* Sets up `ts` (base may be NULL: timers then run only through
 * sk_coord_timers_run). Returns 0, or -1 when out of memory. */
int sk_coord_timers_init(sk_coord_timers *ts, struct event_base *base, int64_t (*now_ms)(void *arg), void *clock_arg,
                         void *owner);
/* Frees the heap and the libevent timer; armed timers are forgotten. */
void sk_coord_timers_free(sk_coord_timers *ts);
/* Now, ms, by the facility's clock. */
int64_t sk_coord_timers_now(const sk_coord_timers *ts);
/* Fires the due timers (those armed before the run started); returns how
 * many fired. */
int sk_coord_timers_run(sk_coord_timers *ts);
/* The earliest deadline, or -1 when nothing is armed. */
int64_t sk_coord_timers_next_deadline(const sk_coord_timers *ts);

void sk_coord_timer_init(sk_coord_timer *t, void (*fn)(void *owner, sk_coord_timer *t));
/* Arms (or re-arms) `t` to fire `delay_ms` from now (negative: now). */
void sk_coord_timer_arm(sk_coord_timers *ts, sk_coord_timer *t, int64_t delay_ms);
/* Arms (or re-arms) `t` to fire at `deadline` (ms by the clock). */
void sk_coord_timer_arm_at(sk_coord_timers *ts, sk_coord_timer *t, int64_t deadline);
void sk_coord_timer_cancel(sk_coord_timers *ts, sk_coord_timer *t);
static inline int sk_coord_timer_armed(const sk_coord_timer *t)
{
    return t->slot != SK_COORD_TIMER_IDLE;
}

#endif
