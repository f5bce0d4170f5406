/* The fetch session cache (KIP-227); see fetch_session.h. */
#include "skiff/fetch_session.h"

#include <stdlib.h>
#include <string.h>

struct sk_fetch_sessions {
    sk_htab table;                         /* sessions by id; buckets reserved for every slot */
    sk_fetch_session *lru_head, *lru_tail; /* most recently used first; the tail is evicted */
    int32_t next_id;                       /* id of the next session (never 0) */
};

sk_fetch_sessions *sk_fetch_sessions_new(void)
{
    sk_fetch_sessions *c = calloc(1, sizeof *c);
    if (c && sk_htab_reserve(&c->table, SK_FETCH_SESSION_SLOTS) < 0) {
        free(c);
        return NULL;
    }
    if (c)
        c->next_id = 1;
    return c;
}

static void session_free(sk_fetch_session *s)
{
    for (int32_t i = 0; i < s->nparts; i++)
        free(s->parts[i].topic);
    free(s->parts);
    free(s);
}

void sk_fetch_sessions_free(sk_fetch_sessions *c)
{
    if (!c)
        return;
    while (c->lru_head)
        sk_fetch_session_close(c, c->lru_head->id);
    sk_htab_free(&c->table);
    free(c);
}

static sk_fetch_session *session_lookup(sk_fetch_sessions *c, int32_t id)
{
    for (sk_hnode *n = sk_htab_chain(&c->table, (uint32_t)id); n; n = n->next) {
        sk_fetch_session *s = SK_CONTAINER_OF(n, sk_fetch_session, node);
        if (s->id == id)
            return s;
    }
    return NULL;
}

static void lru_unlink(sk_fetch_sessions *c, sk_fetch_session *s)
{
    if (s->lru_prev)
        s->lru_prev->lru_next = s->lru_next;
    else
        c->lru_head = s->lru_next;
    if (s->lru_next)
        s->lru_next->lru_prev = s->lru_prev;
    else
        c->lru_tail = s->lru_prev;
    s->lru_prev = s->lru_next = NULL;
}

static void lru_push(sk_fetch_sessions *c, sk_fetch_session *s)
{
    s->lru_next = c->lru_head;
    if (c->lru_head)
        c->lru_head->lru_prev = s;
    else
        c->lru_tail = s;
    c->lru_head = s;
}

sk_fetch_session *sk_fetch_session_find(sk_fetch_sessions *c, int32_t id)
{
    sk_fetch_session *s = session_lookup(c, id);
    if (s) {
        lru_unlink(c, s);
        lru_push(c, s);
    }
    return s;
}

void sk_fetch_session_close(sk_fetch_sessions *c, int32_t id)
{
    sk_fetch_session *s = session_lookup(c, id);
    if (s) {
        sk_htab_remove(&c->table, &s->node);
        lru_unlink(c, s);
        session_free(s);
    }
}

sk_fetch_session *sk_fetch_session_create(sk_fetch_sessions *c)
{
    if (c->table.count >= SK_FETCH_SESSION_SLOTS && c->lru_tail)
        sk_fetch_session_close(c, c->lru_tail->id);
    sk_fetch_session *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    do { /* ids are positive and not in use */
        s->id = c->next_id;
        c->next_id = c->next_id == INT32_MAX ? 1 : c->next_id + 1;
    } while (session_lookup(c, s->id));
    s->epoch = 1;
    sk_htab_insert(&c->table, &s->node, (uint32_t)s->id); /* reserved for every slot */
    lru_push(c, s);
    return s;
}

static bool part_matches(const sk_fetch_part_state *p, const char *topic, const uint8_t topic_id[16], int32_t partition)
{
    if (p->partition != partition)
        return false;
    if (topic)
        return p->topic && !strcmp(p->topic, topic);
    return !memcmp(p->topic_id, topic_id, 16);
}

sk_fetch_part_state *sk_fetch_session_part(sk_fetch_session *s, const char *topic, const uint8_t topic_id[16],
                                           int32_t partition)
{
    for (int32_t i = 0; i < s->nparts; i++)
        if (part_matches(&s->parts[i], topic, topic_id, partition))
            return &s->parts[i];
    return NULL;
}

sk_fetch_part_state *sk_fetch_session_upsert(sk_fetch_session *s, const char *topic, const uint8_t topic_id[16],
                                             int32_t partition)
{
    sk_fetch_part_state *found = sk_fetch_session_part(s, topic, topic_id, partition);
    if (found)
        return found;
    if (s->nparts == s->cap) {
        int32_t cap = s->cap ? s->cap * 2 : 8;
        sk_fetch_part_state *a = realloc(s->parts, (size_t)cap * sizeof *a);
        if (!a)
            return NULL;
        s->parts = a;
        s->cap = cap;
    }
    sk_fetch_part_state *p = &s->parts[s->nparts];
    memset(p, 0, sizeof *p);
    if (topic && !(p->topic = strdup(topic)))
        return NULL;
    memcpy(p->topic_id, topic_id, 16);
    p->partition = partition;
    s->nparts++;
    return p;
}

void sk_fetch_session_forget(sk_fetch_session *s, const char *topic, const uint8_t topic_id[16], int32_t partition)
{
    for (int32_t i = 0; i < s->nparts; i++) {
        if (part_matches(&s->parts[i], topic, topic_id, partition)) {
            free(s->parts[i].topic);
            memmove(&s->parts[i], &s->parts[i + 1], (size_t)(s->nparts - i - 1) * sizeof *s->parts);
            s->nparts--;
            return;
        }
    }
}

void sk_fetch_session_rotate(sk_fetch_session *s)
{
    int32_t first = 0;
    while (first < s->nparts && !s->parts[first].sent_records)
        first++;
    if (first == s->nparts)
        return; /* nothing returned records: no copy, no allocation */
    sk_fetch_part_state *moved = malloc((size_t)(uint32_t)s->nparts * sizeof *moved);
    int32_t kept = first, nmoved = 0;
    for (int32_t i = first; i < s->nparts; i++) {
        bool move = s->parts[i].sent_records;
        s->parts[i].sent_records = false;
        if (move && moved)
            moved[nmoved++] = s->parts[i];
        else
            s->parts[kept++] = s->parts[i];
    }
    if (moved)
        memcpy(&s->parts[kept], moved, (size_t)nmoved * sizeof *moved);
    free(moved);
}
