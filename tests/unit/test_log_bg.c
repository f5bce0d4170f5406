/*
 * Background workers (src/core/bg.c): jobs run on the worker threads in
 * submission order per queue, completions run on the loop thread (through
 * the event base or sk_bg_drain), completions may submit more work, and
 * freeing drains everything.
 */
#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include <event2/event.h>

#include "skiff/bg.h"
#include "unit_run.h"

enum { NJOBS = 200 };

typedef struct job_state {
    pthread_t loop_thread;
    int order[SK_BG_NQUEUES][NJOBS]; /* job ids in the order workers ran them */
    atomic_int ran[SK_BG_NQUEUES];
    int done;           /* completions (loop thread only) */
    int done_off_loop;  /* completions seen on another thread */
    int worker_on_loop; /* work seen on the loop thread */
} job_state;

typedef struct job {
    job_state *st;
    int queue;
    int id;
    sk_bg *resubmit; /* when set, the completion queues one more job */
} job;

static void job_work(void *arg)
{
    job *j = arg;
    if (pthread_equal(pthread_self(), j->st->loop_thread))
        j->st->worker_on_loop++;
    int slot = atomic_fetch_add(&j->st->ran[j->queue], 1);
    j->st->order[j->queue][slot] = j->id;
}

static void job_done(void *arg)
{
    job *j = arg;
    if (!pthread_equal(pthread_self(), j->st->loop_thread))
        j->st->done_off_loop++;
    j->st->done++;
    if (j->resubmit) {
        job *k = calloc(1, sizeof *k);
        *k = (job){.st = j->st, .queue = j->queue, .id = j->id + 1};
        ck_assert_int_eq(sk_bg_submit(j->resubmit, (sk_bg_queue)j->queue, job_work, job_done, k), 0);
    }
    free(j);
}

START_TEST(test_fifo_and_drain)
{
    struct event_base *base = event_base_new();
    sk_bg *bg = sk_bg_new(base);
    ck_assert_ptr_nonnull(bg);
    job_state *st = calloc(1, sizeof *st);
    st->loop_thread = pthread_self();
    for (int i = 0; i < NJOBS; i++)
        for (int q = 0; q < SK_BG_NQUEUES; q++) {
            job *j = calloc(1, sizeof *j);
            *j = (job){.st = st, .queue = q, .id = i};
            ck_assert_int_eq(sk_bg_submit(bg, (sk_bg_queue)q, job_work, job_done, j), 0);
        }
    ck_assert_uint_eq(sk_bg_pending(bg), (size_t)NJOBS * SK_BG_NQUEUES);
    sk_bg_drain(bg);
    ck_assert_uint_eq(sk_bg_pending(bg), 0);
    ck_assert_int_eq(st->done, NJOBS * SK_BG_NQUEUES);
    ck_assert_int_eq(st->done_off_loop, 0);
    ck_assert_int_eq(st->worker_on_loop, 0);
    for (int q = 0; q < SK_BG_NQUEUES; q++)
        for (int i = 0; i < NJOBS; i++)
            ck_assert_int_eq(st->order[q][i], i);
    sk_bg_free(bg);
    event_base_free(base);
    free(st);
}
END_TEST

START_TEST(test_completion_through_loop)
{
    struct event_base *base = event_base_new();
    sk_bg *bg = sk_bg_new(base);
    job_state *st = calloc(1, sizeof *st);
    st->loop_thread = pthread_self();
    job *j = calloc(1, sizeof *j);
    *j = (job){.st = st, .queue = SK_BG_SYNC, .id = 0};
    ck_assert_int_eq(sk_bg_submit(bg, SK_BG_SYNC, job_work, job_done, j), 0);
    /* The loop blocks until the worker's wake-up byte arrives. */
    while (st->done == 0)
        event_base_loop(base, EVLOOP_ONCE);
    ck_assert_int_eq(st->done, 1);
    ck_assert_uint_eq(sk_bg_pending(bg), 0);
    sk_bg_free(bg);
    event_base_free(base);
    free(st);
}
END_TEST

START_TEST(test_resubmit_while_draining_and_free)
{
    struct event_base *base = event_base_new();
    sk_bg *bg = sk_bg_new(base);
    job_state *st = calloc(1, sizeof *st);
    st->loop_thread = pthread_self();
    job *j = calloc(1, sizeof *j);
    *j = (job){.st = st, .queue = SK_BG_DELETE, .id = 0, .resubmit = bg};
    ck_assert_int_eq(sk_bg_submit(bg, SK_BG_DELETE, job_work, job_done, j), 0);
    /* sk_bg_free drains: the job queued by the completion runs too. */
    sk_bg_free(bg);
    ck_assert_int_eq(st->done, 2);
    ck_assert_int_eq(atomic_load(&st->ran[SK_BG_DELETE]), 2);
    ck_assert_int_eq(st->order[SK_BG_DELETE][1], 1);
    event_base_free(base);
    free(st);
}
END_TEST

static Suite *bg_suite(void)
{
    Suite *s = suite_create("log_bg");
    TCase *tc = tcase_create("bg");
    tcase_add_test(tc, test_fifo_and_drain);
    tcase_add_test(tc, test_completion_through_loop);
    tcase_add_test(tc, test_resubmit_while_draining_and_free);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return sk_unit_run(bg_suite());
}
