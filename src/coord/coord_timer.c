/*
 * The coordinators' timer facility (coord_timer.h): one min-heap of
 * embedded deadlines per coordinator, on an injectable clock, behind one
 * libevent timer.
 */
#include "coord_timer.h"

#include <event2/event.h>
#include <stdlib.h>

#include "skiff/clock.h"
#include "skiff/trace.h"

int64_t sk_coord_timers_now(const sk_coord_timers *ts)
{
    return ts->now_ms ? ts->now_ms(ts->clock_arg) : sk_clock_wall_ms();
}

static int before(const sk_coord_timer *a, const sk_coord_timer *b)
{
    return a->deadline < b->deadline || (a->deadline == b->deadline && a->seq < b->seq);
}

static void heap_set(sk_coord_timers *ts, size_t i, sk_coord_timer *t)
{
    ts->heap[i] = t;
    t->slot = i;
}

static void heap_up(sk_coord_timers *ts, size_t i)
{
    sk_coord_timer *t = ts->heap[i];
    while (i > 0 && before(t, ts->heap[(i - 1) / 2])) {
        heap_set(ts, i, ts->heap[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
    heap_set(ts, i, t);
}

static void heap_down(sk_coord_timers *ts, size_t i)
{
    sk_coord_timer *t = ts->heap[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= ts->n)
            break;
        if (c + 1 < ts->n && before(ts->heap[c + 1], ts->heap[c]))
            c++;
        if (!before(ts->heap[c], t))
            break;
        heap_set(ts, i, ts->heap[c]);
        i = c;
    }
    heap_set(ts, i, t);
}

static void heap_remove(sk_coord_timers *ts, sk_coord_timer *t)
{
    size_t i = t->slot;
    sk_coord_timer *last = ts->heap[--ts->n];
    t->slot = SK_COORD_TIMER_IDLE;
    if (last != t) {
        heap_set(ts, i, last);
        heap_up(ts, i);
        heap_down(ts, last->slot);
    }
}

/* Re-arms the libevent timer at the earliest deadline. */
static void rearm(sk_coord_timers *ts)
{
    if (!ts->ev)
        return;
    if (ts->n == 0) {
        evtimer_del(ts->ev);
        return;
    }
    int64_t delay = ts->heap[0]->deadline - sk_coord_timers_now(ts);
    if (delay < 0)
        delay = 0;
    struct timeval tv = {(time_t)(delay / 1000), (suseconds_t)(delay % 1000) * 1000};
    evtimer_add(ts->ev, &tv);
}

static void on_event(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    sk_coord_timers_run(arg);
}

int sk_coord_timers_init(sk_coord_timers *ts, struct event_base *base, int64_t (*now_ms)(void *arg), void *clock_arg,
                         void *owner)
{
    *ts = (sk_coord_timers){.now_ms = now_ms, .clock_arg = clock_arg, .owner = owner};
    if (base && !(ts->ev = evtimer_new(base, on_event, ts)))
        return -1;
    return 0;
}

void sk_coord_timers_free(sk_coord_timers *ts)
{
    for (size_t i = 0; i < ts->n; i++)
        ts->heap[i]->slot = SK_COORD_TIMER_IDLE;
    if (ts->ev)
        event_free(ts->ev);
    free(ts->heap);
    ts->heap = NULL;
    ts->ev = NULL;
    ts->n = ts->cap = 0;
}

void sk_coord_timer_init(sk_coord_timer *t, void (*fn)(void *owner, sk_coord_timer *t))
{
    t->deadline = 0;
    t->slot = SK_COORD_TIMER_IDLE;
    t->seq = 0;
    t->fn = fn;
}

void sk_coord_timer_arm_at(sk_coord_timers *ts, sk_coord_timer *t, int64_t deadline)
{
    if (t->slot != SK_COORD_TIMER_IDLE)
        heap_remove(ts, t);
    if (ts->n == ts->cap) {
        size_t cap = ts->cap ? 2 * ts->cap : 64;
        sk_coord_timer **h = realloc(ts->heap, cap * sizeof *h);
        if (!h) {
            sk_error("coord", "out of memory arming a timer");
            return;
        }
        ts->heap = h;
        ts->cap = cap;
    }
    t->deadline = deadline;
    t->seq = ++ts->arm_seq;
    ts->heap[ts->n] = t;
    t->slot = ts->n++;
    heap_up(ts, t->slot);
    rearm(ts);
}

void sk_coord_timer_arm(sk_coord_timers *ts, sk_coord_timer *t, int64_t delay_ms)
{
    sk_coord_timer_arm_at(ts, t, sk_coord_timers_now(ts) + (delay_ms > 0 ? delay_ms : 0));
}

void sk_coord_timer_cancel(sk_coord_timers *ts, sk_coord_timer *t)
{
    if (t->slot == SK_COORD_TIMER_IDLE)
        return;
    heap_remove(ts, t);
    rearm(ts);
}

int sk_coord_timers_run(sk_coord_timers *ts)
{
    int64_t now = sk_coord_timers_now(ts);
    uint64_t armed_before = ts->arm_seq;
    int fired = 0;
    while (ts->n > 0 && ts->heap[0]->deadline <= now && ts->heap[0]->seq <= armed_before) {
        sk_coord_timer *t = ts->heap[0];
        heap_remove(ts, t);
        t->fn(ts->owner, t);
        fired++;
    }
    rearm(ts);
    return fired;
}

int64_t sk_coord_timers_next_deadline(const sk_coord_timers *ts)
{
    return ts->n ? ts->heap[0]->deadline : -1;
}
