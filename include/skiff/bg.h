/*
 * Background workers: blocking work (fsync, unlink, the log cleaner)
 * runs off the event loop, one thread per job queue, jobs of a queue in
 * submission order (the shape of Redis' bio.c).
 *
 * A job is two functions and an argument: `work(arg)` runs on the queue's
 * worker thread and must touch only what `arg` hands it; `done(arg)` then runs
 * on the event-loop thread (woken through a pipe watched by the event base)
 * and is where results are applied to loop-owned state and `arg` is freed.
 *
 * All functions except the job's `work` are called from the loop thread.
 */
#ifndef SKIFF_BG_H
#define SKIFF_BG_H

#include <stddef.h>

struct event_base;

typedef struct sk_bg sk_bg;

/* Job queues, one worker thread each. Add a queue here for a new kind of
 * long-running work so it never waits behind another kind. */
typedef enum sk_bg_queue {
    SK_BG_SYNC = 0,      /* fsync of segments, checkpoints and metadata files */
    SK_BG_DELETE = 1,    /* unlink of deleted segments and partition directories */
    SK_BG_CLEAN = 2,     /* log cleaner passes (compaction) */
    SK_BG_WRITEBACK = 3, /* starting writeback of appended segment bytes (sync_file_range) */
    SK_BG_NQUEUES
} sk_bg_queue;

typedef void (*sk_bg_fn)(void *arg);

/* Starts the worker threads; completions are delivered on `base`. Returns
 * NULL (and logs) when threads or the wake-up pipe cannot be created. */
sk_bg *sk_bg_new(struct event_base *base);

/* Queues `work(arg)` on queue `q`; `done(arg)` (may be NULL) runs on the loop
 * thread after `work` returns. Returns 0, or -1 when out of memory (nothing
 * was queued; the caller still owns `arg`). */
int sk_bg_submit(sk_bg *bg, sk_bg_queue q, sk_bg_fn work, sk_bg_fn done, void *arg);

/* Jobs submitted whose completion has not run yet. */
size_t sk_bg_pending(const sk_bg *bg);

/* Blocks until every submitted job, including jobs submitted by completions
 * while draining, has run and its completion has run on this (the loop)
 * thread. Used at shutdown and by tests that need a deterministic point. */
void sk_bg_drain(sk_bg *bg);

/* Drains, stops and joins the threads, and frees `bg` (NULL is a no-op). */
void sk_bg_free(sk_bg *bg);

#endif
