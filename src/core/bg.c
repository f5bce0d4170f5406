/*
 * Background worker threads with a completion queue back to the event loop.
 *
 * Each queue has a FIFO of jobs and one thread. A finished job moves to the
 * shared done list; the first one after the list was emptied writes a byte to
 * a pipe whose read end is an event on the loop's base, and the loop callback
 * runs every completion. sk_bg_drain runs completions inline instead, waiting
 * on a condition variable, so shutdown and tests need no event loop turn.
 */
#include "skiff/bg.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include <event2/event.h>

#include "skiff/trace.h"

typedef struct bg_job {
    sk_bg_fn work;       /* runs on the worker thread */
    sk_bg_fn done;       /* runs on the loop thread; may be NULL */
    void *arg;           /* argument of both */
    struct bg_job *next; /* next job in its queue or on the done list */
} bg_job;

typedef struct bg_worker {
    sk_bg *bg;           /* the pool it belongs to */
    pthread_t thread;    /* its thread (one per queue) */
    pthread_cond_t wake; /* signalled when a job is queued or on stop */
    bg_job *head, *tail; /* jobs waiting for this worker (under bg->lock) */
    bool started;        /* the thread was created (joined at free) */
} bg_worker;

struct sk_bg {
    /* Shared with the workers, under `lock`. */
    pthread_mutex_t lock;
    pthread_cond_t finished;          /* signalled when a job lands on the done list */
    bg_job *done_head, *done_tail;    /* finished jobs whose done callbacks are due */
    bool notified;                    /* a wake-up byte is in the pipe */
    bool stop;                        /* workers exit once their queue is empty */
    bg_worker workers[SK_BG_NQUEUES]; /* one per job queue (SK_BG_SYNC, SK_BG_DELETE, ...) */
    /* Loop thread only. */
    int pipe_fd[2];   /* [0] read end watched by `ev`, [1] written by workers */
    struct event *ev; /* reads pipe_fd[0] and runs the done callbacks */
    size_t pending;   /* submitted jobs whose completion has not run */
};

static void *worker_main(void *p)
{
    bg_worker *w = p;
    sk_bg *bg = w->bg;

    pthread_mutex_lock(&bg->lock);
    for (;;) {
        while (!w->head && !bg->stop)
            pthread_cond_wait(&w->wake, &bg->lock);
        bg_job *job = w->head;
        if (!job)
            break; /* stopping and nothing left */
        w->head = job->next;
        if (!w->head)
            w->tail = NULL;
        pthread_mutex_unlock(&bg->lock);

        job->work(job->arg);

        pthread_mutex_lock(&bg->lock);
        job->next = NULL;
        if (bg->done_tail)
            bg->done_tail->next = job;
        else
            bg->done_head = job;
        bg->done_tail = job;
        if (!bg->notified) {
            bg->notified = true;
            char b = 1;
            /* A full pipe already holds a wake-up; nothing else can fail here. */
            while (write(bg->pipe_fd[1], &b, 1) < 0 && errno == EINTR)
                ;
        }
        pthread_cond_broadcast(&bg->finished);
    }
    pthread_mutex_unlock(&bg->lock);
    return NULL;
}

/* Runs the completions of `list` on the loop thread. */
static void run_done(sk_bg *bg, bg_job *list)
{
    while (list) {
        bg_job *next = list->next;
        if (list->done)
            list->done(list->arg);
        bg->pending--;
        free(list);
        list = next;
    }
}

static bg_job *take_done(sk_bg *bg)
{
    bg_job *list = bg->done_head;
    bg->done_head = bg->done_tail = NULL;
    bg->notified = false;
    return list;
}

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
    sk_bg *bg = arg;
    char buf[64];
    (void)what;
    while (read(fd, buf, sizeof buf) > 0)
        ;
    pthread_mutex_lock(&bg->lock);
    bg_job *list = take_done(bg);
    pthread_mutex_unlock(&bg->lock);
    run_done(bg, list);
}

sk_bg *sk_bg_new(struct event_base *base)
{
    sk_bg *bg = calloc(1, sizeof *bg);
    if (!bg)
        return NULL;
    bg->pipe_fd[0] = bg->pipe_fd[1] = -1;
    pthread_mutex_init(&bg->lock, NULL);
    pthread_cond_init(&bg->finished, NULL);
    for (int q = 0; q < SK_BG_NQUEUES; q++)
        pthread_cond_init(&bg->workers[q].wake, NULL);
    if (pipe2(bg->pipe_fd, O_NONBLOCK | O_CLOEXEC) < 0) {
        sk_error("bg", "pipe: %m");
        goto fail;
    }
    bg->ev = event_new(base, bg->pipe_fd[0], EV_READ | EV_PERSIST, on_wake, bg);
    if (!bg->ev || event_add(bg->ev, NULL) < 0) {
        sk_error("bg", "cannot watch the completion pipe");
        goto fail;
    }
    for (int q = 0; q < SK_BG_NQUEUES; q++) {
        bg_worker *w = &bg->workers[q];
        w->bg = bg;
        int rc = pthread_create(&w->thread, NULL, worker_main, w);
        if (rc != 0) {
            sk_error("bg", "pthread_create: error %d", rc);
            goto fail;
        }
        w->started = true;
    }
    return bg;
fail:
    sk_bg_free(bg);
    return NULL;
}

int sk_bg_submit(sk_bg *bg, sk_bg_queue q, sk_bg_fn work, sk_bg_fn done, void *arg)
{
    bg_job *job = malloc(sizeof *job);
    if (!job)
        return -1;
    *job = (bg_job){.work = work, .done = done, .arg = arg};
    bg_worker *w = &bg->workers[q];
    pthread_mutex_lock(&bg->lock);
    if (w->tail)
        w->tail->next = job;
    else
        w->head = job;
    w->tail = job;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&bg->lock);
    bg->pending++;
    return 0;
}

size_t sk_bg_pending(const sk_bg *bg)
{
    return bg->pending;
}

void sk_bg_drain(sk_bg *bg)
{
    while (bg->pending > 0) {
        pthread_mutex_lock(&bg->lock);
        while (!bg->done_head)
            pthread_cond_wait(&bg->finished, &bg->lock);
        bg_job *list = take_done(bg);
        pthread_mutex_unlock(&bg->lock);
        run_done(bg, list);
    }
}

void sk_bg_free(sk_bg *bg)
{
    if (!bg)
        return;
    sk_bg_drain(bg);
    pthread_mutex_lock(&bg->lock);
    bg->stop = true;
    for (int q = 0; q < SK_BG_NQUEUES; q++)
        if (bg->workers[q].started)
            pthread_cond_signal(&bg->workers[q].wake);
    pthread_mutex_unlock(&bg->lock);
    for (int q = 0; q < SK_BG_NQUEUES; q++) {
        if (bg->workers[q].started)
            pthread_join(bg->workers[q].thread, NULL);
        pthread_cond_destroy(&bg->workers[q].wake);
    }
    if (bg->ev)
        event_free(bg->ev);
    for (int i = 0; i < 2; i++)
        if (bg->pipe_fd[i] >= 0)
            close(bg->pipe_fd[i]);
    pthread_cond_destroy(&bg->finished);
    pthread_mutex_destroy(&bg->lock);
    free(bg);
}
