/*
 * The store's table of partitions by (topic, index), and its clock and
 * background workers: what every part of the log store reaches through the
 * store (logstore.c opens, fills and closes it).
 */
#include <string.h>

#include "log_int.h"
#include "skiff/clock.h"

/* ---- Clock and workers ---- */

int64_t sk_logstore_wall_clock_ms(void *arg)
{
    (void)arg;
    return sk_clock_wall_ms();
}

int64_t sk_logstore_now(const sk_logstore *s)
{
    return s->now_ms(s->clock_arg);
}

sk_bg *sk_logstore_bg(const sk_logstore *s)
{
    return s->bg;
}

/* ---- Partition table ---- */

static uint64_t partition_hash(const char *topic, int32_t index)
{
    return sk_hash_more(sk_hash_bytes(topic, strlen(topic)), &index, sizeof index);
}

void sk_logstore_insert(sk_logstore *s, sk_partition *p)
{
    sk_htab_insert(&s->partitions, &p->node, partition_hash(p->topic, p->index)); /* reserved at open */
}

sk_partition *sk_logstore_find(sk_logstore *s, const char *topic, int32_t index)
{
    uint64_t h = partition_hash(topic, index);
    for (sk_hnode *n = sk_htab_chain(&s->partitions, h); n; n = n->next) {
        sk_partition *p = SK_CONTAINER_OF(n, sk_partition, node);
        if (n->hash == h && p->index == index && strcmp(p->topic, topic) == 0)
            return p;
    }
    return NULL;
}

void sk_logstore_foreach(sk_logstore *s, void (*fn)(sk_partition *p, void *arg), void *arg)
{
    size_t bucket;
    for (sk_hnode *n = sk_htab_next(&s->partitions, NULL, &bucket), *next; n; n = next) {
        next = sk_htab_next(&s->partitions, n, &bucket);
        fn(SK_CONTAINER_OF(n, sk_partition, node), arg);
    }
}

size_t sk_logstore_count(const sk_logstore *s)
{
    return s->partitions.count;
}
