/*
 * The partition object and its segment array: creation and references, the
 * sorted segments with their lookups by offset and lazy index loading, and
 * the offset invariants (skiff/invariant.h). What the partition does with
 * them (load, append, read, flush) is in partition.c.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log_int.h"
#include "skiff/invariant.h"

/* ---- Lifecycle ---- */

sk_partition *sk_partition_new(sk_logstore *s, const char *topic, int32_t index)
{
    sk_partition *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    size_t n = strlen(s->dir) + strlen(topic) + 16;
    p->topic = strdup(topic);
    p->dir = malloc(n);
    if (!p->topic || !p->dir) {
        free(p->topic);
        free(p->dir);
        free(p);
        return NULL;
    }
    snprintf(p->dir, n, "%s/%s-%" PRId32, s->dir, topic, index);
    p->store = s;
    p->index = index;
    p->cfg = s->defaults;
    p->first_unflushed_ms = -1;
    p->flush_pending_to = -1;
    p->listeners.next = p->listeners.prev = &p->listeners;
    sk_producer_state_init(&p->producers);
    p->cleaner_offset = -1;
    p->refs = 1;
    return p;
}

void sk_partition_free_segments(sk_partition *p)
{
    for (size_t i = 0; i < p->nsegs; i++)
        sk_segment_free(p->segs[i]);
    free(p->segs);
    p->segs = NULL;
    p->nsegs = p->segs_cap = 0;
}

void sk_partition_unref(sk_partition *p)
{
    if (--p->refs > 0)
        return;
    sk_partition_free_segments(p);
    sk_producer_state_clear(&p->producers);
    free(p->topic);
    free(p->dir);
    free(p);
}

int sk_partition_push_segment(sk_partition *p, sk_segment *seg)
{
    if (p->nsegs == p->segs_cap) {
        size_t cap = p->segs_cap ? p->segs_cap * 2 : 4;
        sk_segment **a = realloc(p->segs, cap * sizeof *a);
        if (!a)
            return -1;
        p->segs = a;
        p->segs_cap = cap;
    }
    p->segs[p->nsegs++] = seg;
    return 0;
}

/* ---- Segments ---- */

/* First offset after segment i: the next segment's base, or the log end. */
int64_t sk_partition_segment_end(const sk_partition *p, size_t i)
{
    return i + 1 < p->nsegs ? p->segs[i + 1]->base_offset : p->segs[i]->next_offset;
}

void sk_partition_check(const sk_partition *p)
{
#ifdef SKIFF_CHECK_INVARIANTS
    SK_INVARIANT(p->nsegs > 0, p->dir);
    for (size_t i = 0; i < p->nsegs; i++) {
        const sk_segment *seg = p->segs[i];
        /* next_offset is -1 until a closed segment's indexes are loaded. */
        SK_INVARIANT(seg->next_offset < 0 || seg->base_offset <= seg->next_offset, seg->prefix);
        SK_INVARIANT(seg->active == (i + 1 == p->nsegs), seg->prefix);
        /* (A closed segment's next_offset may pass the next base offset in a
         * log trusted after a clean stop: its index is not checked against
         * its neighbour, as in Kafka.) */
        if (i + 1 < p->nsegs)
            SK_INVARIANT(seg->base_offset < p->segs[i + 1]->base_offset, seg->prefix);
    }
    /* The producer snapshot and the cleaner checkpoint are files a clean
     * stop trusts; what they claim beyond the log is clamped where it is
     * read (sk_partition_last_stable_offset), not an invariant. */
    SK_INVARIANT(p->log_end_offset == p->segs[p->nsegs - 1]->next_offset, p->dir);
    SK_INVARIANT(p->segs[0]->base_offset <= p->log_start_offset, p->dir);
    SK_INVARIANT(p->log_start_offset <= p->log_end_offset, p->dir);
    SK_INVARIANT(p->recovery_point <= p->log_end_offset, p->dir);
#else
    (void)p;
#endif
}

int sk_partition_ensure_segment(sk_partition *p, size_t i)
{
    sk_segment *seg = p->segs[i];
    if (seg->indexes_loaded)
        return 0;
    int64_t end = sk_partition_segment_end(p, i);
    if (sk_segment_load_indexes(seg, &p->cfg, end) < 0)
        return -1;
    if (seg->next_offset < 0)
        seg->next_offset = end;
    return 0;
}

/* The last segment with base <= offset. */
size_t sk_partition_find_segment(const sk_partition *p, int64_t offset)
{
    size_t lo = 0, hi = p->nsegs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (p->segs[mid]->base_offset <= offset)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo == 0 ? 0 : lo - 1;
}
