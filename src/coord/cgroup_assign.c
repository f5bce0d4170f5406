/*
 * Server-side assignors of consumer-protocol groups (KIP-848), chosen by
 * the member's ServerAssignor: "uniform" (the default) and "range".
 *
 * Both are sticky and balanced, as Kafka's UniformAssignor and
 * RangeAssignor are:
 * - uniform: a member keeps the partitions of its previous target that it
 *   still subscribes to; free partitions go, topic by topic and partition
 *   by partition, to the subscribed member with the fewest; then a
 *   partition moves from a member to another subscribed one only while
 *   their counts differ by two or more. Members with the same subscription
 *   end with counts that differ by at most one.
 * - range: the same per topic (members that subscribe to the topic, in
 *   member id order). Without a previous assignment each member gets a
 *   contiguous range of each topic, the first (partitions % members)
 *   members one more, as the classic range assignor hands them out.
 *
 * Also the sorted topic-partition sets (ctps) every consumer-group file uses.
 */
#include <stdlib.h>
#include <string.h>

#include "cgroup_int.h"

/* ---- ctps ---- */

int sk_ctps_add(ctps *s, const uint8_t id[16], int32_t partition)
{
    if (s->n == s->cap) {
        int32_t cap = s->cap ? s->cap * 2 : 8;
        ctp *v = realloc(s->v, (size_t)cap * sizeof *v);
        if (!v)
            return -1;
        s->v = v;
        s->cap = cap;
    }
    memcpy(s->v[s->n].id, id, 16);
    s->v[s->n].partition = partition;
    s->n++;
    return 0;
}

static int ctp_cmp(const void *a, const void *b)
{
    const ctp *x = a, *y = b;
    int c = memcmp(x->id, y->id, 16);
    if (c)
        return c;
    return (x->partition > y->partition) - (x->partition < y->partition);
}

void sk_ctps_sort(ctps *s)
{
    if (s->n > 1)
        qsort(s->v, (size_t)s->n, sizeof *s->v, ctp_cmp);
}

bool sk_ctps_has(const ctps *s, const uint8_t id[16], int32_t partition)
{
    ctp k;
    memcpy(k.id, id, 16);
    k.partition = partition;
    return s->n > 0 && bsearch(&k, s->v, (size_t)s->n, sizeof k, ctp_cmp) != NULL;
}

int sk_ctps_copy(ctps *dst, const ctps *src)
{
    dst->n = 0;
    for (int32_t i = 0; i < src->n; i++)
        if (sk_ctps_add(dst, src->v[i].id, src->v[i].partition) < 0)
            return -1;
    return 0;
}

bool sk_ctps_equal(const ctps *a, const ctps *b)
{
    return a->n == b->n && (a->n == 0 || !memcmp(a->v, b->v, (size_t)a->n * sizeof *a->v));
}

bool sk_ctps_topic_starts(const ctps *s, int32_t i)
{
    return i == 0 || memcmp(s->v[i].id, s->v[i - 1].id, 16) != 0;
}

int32_t sk_ctps_topic_count(const ctps *s)
{
    int32_t n = 0;
    for (int32_t i = 0; i < s->n; i++)
        n += sk_ctps_topic_starts(s, i);
    return n;
}

void sk_ctps_free(ctps *s)
{
    free(s->v);
    memset(s, 0, sizeof *s);
}

/* ---- assignment ---- */

bool sk_cassign_known(const char *name)
{
    return !strcmp(name, "uniform") || !strcmp(name, "range");
}

static bool subscribes(const cassign_member *m, int32_t topic)
{
    for (int32_t i = 0; i < m->ntopics; i++)
        if (m->topics[i] == topic)
            return true;
    return false;
}

/* One run over the partitions of `topics` (indexes `which`, nwhich):
 * owner[k] is the member of partition k (-1 = none), count[] per member. */
typedef struct run {
    const cassign_topic *topics;
    const int32_t *which;
    int32_t nwhich;
    cassign_member *members;
    int32_t nmembers;
    int32_t *owner;
    int32_t *topic_of; /* topic index of partition k */
    int32_t *part_of;  /* partition number of partition k */
    int32_t nparts;
    int32_t *count;
} run;

static int run_init(run *r, const cassign_topic *topics, const int32_t *which, int32_t nwhich, cassign_member *members,
                    int32_t nmembers)
{
    memset(r, 0, sizeof *r);
    r->topics = topics;
    r->which = which;
    r->nwhich = nwhich;
    r->members = members;
    r->nmembers = nmembers;
    for (int32_t i = 0; i < nwhich; i++)
        r->nparts += topics[which[i]].partitions > 0 ? topics[which[i]].partitions : 0;
    size_t np = (size_t)r->nparts + 1;
    r->owner = malloc(np * sizeof *r->owner);
    r->topic_of = malloc(np * sizeof *r->topic_of);
    r->part_of = malloc(np * sizeof *r->part_of);
    r->count = calloc((size_t)nmembers + 1, sizeof *r->count);
    if (!r->owner || !r->topic_of || !r->part_of || !r->count)
        return -1;
    int32_t k = 0;
    for (int32_t i = 0; i < nwhich; i++)
        for (int32_t p = 0; p < topics[which[i]].partitions; p++, k++) {
            r->owner[k] = -1;
            r->topic_of[k] = which[i];
            r->part_of[k] = p;
        }
    return 0;
}

static void run_free(run *r)
{
    free(r->owner);
    free(r->topic_of);
    free(r->part_of);
    free(r->count);
}

/* The eligible member with the fewest partitions (first on ties), or -1. */
static int32_t least_loaded(const run *r, int32_t topic)
{
    int32_t best = -1;
    for (int32_t m = 0; m < r->nmembers; m++)
        if (subscribes(&r->members[m], topic) && (best < 0 || r->count[m] < r->count[best]))
            best = m;
    return best;
}

/* Sticky: members keep their previous partitions they still subscribe to. */
static void keep_previous(run *r)
{
    for (int32_t k = 0; k < r->nparts; k++) {
        const uint8_t *id = r->topics[r->topic_of[k]].id;
        for (int32_t m = 0; m < r->nmembers; m++) {
            const cassign_member *cm = &r->members[m];
            if (cm->previous && subscribes(cm, r->topic_of[k]) && sk_ctps_has(cm->previous, id, r->part_of[k])) {
                r->owner[k] = m;
                r->count[m]++;
                break;
            }
        }
    }
}

/* Free partitions to the least loaded subscriber, then moves while two
 * subscribers of a partition differ by two or more. */
static void fill_and_balance(run *r)
{
    for (int32_t k = 0; k < r->nparts; k++) {
        if (r->owner[k] >= 0)
            continue;
        int32_t m = least_loaded(r, r->topic_of[k]);
        if (m >= 0) {
            r->owner[k] = m;
            r->count[m]++;
        }
    }
    for (bool moved = true; moved;) {
        moved = false;
        /* Take from the most loaded first: scan partitions from the end, so
         * members keep their lowest partitions. */
        for (int32_t k = r->nparts - 1; k >= 0; k--) {
            int32_t o = r->owner[k];
            if (o < 0)
                continue;
            int32_t m = least_loaded(r, r->topic_of[k]);
            if (m >= 0 && r->count[o] - r->count[m] >= 2) {
                r->owner[k] = m;
                r->count[o]--;
                r->count[m]++;
                moved = true;
            }
        }
    }
}

static bool any_previous(const run *r)
{
    for (int32_t k = 0; k < r->nparts; k++)
        if (r->owner[k] >= 0)
            return true;
    return false;
}

/* Range without history: contiguous ranges in member id order. */
static void range_fresh(run *r, int32_t topic)
{
    int32_t *subs = malloc(((size_t)r->nmembers + 1) * sizeof *subs), n = 0;
    if (!subs)
        return; /* fill_and_balance still assigns every partition */
    for (int32_t m = 0; m < r->nmembers; m++)
        if (subscribes(&r->members[m], topic))
            subs[n++] = m;
    for (int32_t i = 1; i < n; i++) /* insertion sort by member id */
        for (int32_t j = i; j > 0 && strcmp(r->members[subs[j - 1]].member_id, r->members[subs[j]].member_id) > 0;
             j--) {
            int32_t t = subs[j];
            subs[j] = subs[j - 1];
            subs[j - 1] = t;
        }
    int32_t parts = r->topics[topic].partitions, k = 0;
    for (int32_t i = 0; i < n; i++) {
        int32_t quota = parts / n + (i < parts % n ? 1 : 0);
        for (int32_t q = 0; q < quota; q++, k++) {
            r->owner[k] = subs[i];
            r->count[subs[i]]++;
        }
    }
    free(subs);
}

static int run_collect(run *r)
{
    for (int32_t k = 0; k < r->nparts; k++)
        if (r->owner[k] >= 0 &&
            sk_ctps_add(&r->members[r->owner[k]].target, r->topics[r->topic_of[k]].id, r->part_of[k]) < 0)
            return -1;
    return 0;
}

int sk_cassign_run(const char *name, const cassign_topic *topics, int32_t ntopics, cassign_member *members,
                   int32_t nmembers)
{
    bool range = name && !strcmp(name, "range");
    for (int32_t m = 0; m < nmembers; m++)
        members[m].target.n = 0;
    int32_t *all = malloc(((size_t)ntopics + 1) * sizeof *all);
    if (!all)
        return -1;
    for (int32_t t = 0; t < ntopics; t++)
        all[t] = t;
    int rc = 0;
    /* uniform: one run over every topic; range: one run per topic */
    for (int32_t t = 0; rc == 0 && t < (range ? ntopics : 1); t++) {
        run r;
        if (run_init(&r, topics, range ? &all[t] : all, range ? 1 : ntopics, members, nmembers) < 0) {
            run_free(&r);
            rc = -1;
            break;
        }
        keep_previous(&r);
        if (range && !any_previous(&r))
            range_fresh(&r, t);
        fill_and_balance(&r);
        rc = run_collect(&r);
        run_free(&r);
    }
    free(all);
    for (int32_t m = 0; m < nmembers; m++)
        sk_ctps_sort(&members[m].target);
    return rc;
}
