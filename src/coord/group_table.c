/*
 * The group coordinator's housekeeping: opening and closing, the table of
 * groups (hash by group id, plus creation order for listings), members and
 * pending member ids, state changes with their log line and the legal
 * transitions, the group invariants, the consumer-protocol subscription
 * parser, the __consumer_offsets partition rule, and store error mapping.
 *
 * Timers: every deadline (member sessions, join and sync phases, the
 * initial rebalance delay, offset expiration) is a gtimer embedded in its
 * owner, on the coordinators' one facility (coord_timer.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup_int.h"
#include "skiff/errors.h"
#include "skiff/invariant.h"
#include "skiff/trace.h"

/* ---- Small helpers ---- */

char *sk_coord_strndup(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

char *sk_coord_memdup(kf_str s)
{
    return sk_coord_strndup(s.p ? s.p : "", s.p && s.len > 0 ? (size_t)s.len : 0);
}

char *sk_coord_strdup(const char *s)
{
    return sk_coord_strndup(s, strlen(s));
}

int64_t sk_groups_now(const sk_groups *gs)
{
    return sk_coord_timers_now(&gs->timers);
}

const char *sk_group_state_name(sk_group_state s)
{
    switch (s) {
    case SK_GROUP_EMPTY:
        return "Empty";
    case SK_GROUP_PREPARING_REBALANCE:
        return "PreparingRebalance";
    case SK_GROUP_COMPLETING_REBALANCE:
        return "CompletingRebalance";
    case SK_GROUP_STABLE:
        return "Stable";
    case SK_GROUP_DEAD:
        return "Dead";
    }
    return "Unknown";
}

/* Java's String.hashCode of UTF-8 bytes: UTF-16 code units, invalid bytes
 * read as U+FFFD as Java's decoder does. */
static int32_t java_string_hash(const char *s, size_t len)
{
    const uint8_t *p = (const uint8_t *)s, *end = p + len;
    uint32_t h = 0;
    while (p < end) {
        uint32_t c = *p++;
        int more = c >= 0xf0 && c < 0xf5 ? 3 : c >= 0xe0 ? 2 : c >= 0xc2 && c < 0xe0 ? 1 : 0;
        if (c >= 0x80 && (more == 0 || c >= 0xf5)) {
            c = 0xfffd;
        } else if (more) {
            c &= 0x3fu >> more;
            int i = 0;
            for (; i < more && p < end && (*p & 0xc0) == 0x80; i++)
                c = c << 6 | (*p++ & 0x3f);
            if (i < more)
                c = 0xfffd;
        }
        if (c > 0xffff) {
            c -= 0x10000;
            h = 31 * h + (0xd800 + (c >> 10));
            h = 31 * h + (0xdc00 + (c & 0x3ff));
        } else {
            h = 31 * h + c;
        }
    }
    return (int32_t)h;
}

int32_t sk_group_partition_for(const char *group_id, size_t len, int32_t partitions)
{
    int32_t h = java_string_hash(group_id, len);
    int32_t a = h == INT32_MIN ? 0 : (h < 0 ? -h : h); /* Kafka's Utils.abs */
    return partitions > 0 ? a % partitions : 0;
}

int16_t sk_groups_append_error(int16_t err)
{
    switch (err) {
    case SK_ERR_UNKNOWN_TOPIC_OR_PARTITION:
    case SK_ERR_NOT_ENOUGH_REPLICAS:
    case SK_ERR_REQUEST_TIMED_OUT:
        return SK_ERR_COORDINATOR_NOT_AVAILABLE;
    case SK_ERR_NOT_LEADER_OR_FOLLOWER:
    case SK_ERR_KAFKA_STORAGE_ERROR:
        return SK_ERR_NOT_COORDINATOR;
    case SK_ERR_MESSAGE_TOO_LARGE:
    case SK_ERR_RECORD_LIST_TOO_LARGE:
    case SK_ERR_INVALID_FETCH_SIZE:
        return SK_ERR_UNKNOWN_SERVER_ERROR;
    default:
        return err;
    }
}

/* ---- Timers (the coordinators' one facility: coord_timer.h) ---- */

int sk_groups_run_timers(sk_groups *gs)
{
    return sk_coord_timers_run(&gs->timers);
}

int64_t sk_groups_next_deadline(const sk_groups *gs)
{
    return sk_coord_timers_next_deadline(&gs->timers);
}

/* ---- The table ---- */

ggroup *sk_group_find(sk_groups *gs, const char *id, size_t len)
{
    uint64_t h = sk_hash_bytes(id, len);
    for (sk_hnode *n = sk_htab_chain(&gs->index, h); n; n = n->next) {
        ggroup *g = SK_CONTAINER_OF(n, ggroup, node);
        if (n->hash == h && g->group_id_len == len && !memcmp(g->group_id, id, len))
            return g;
    }
    return NULL;
}

ggroup *sk_group_find_str(sk_groups *gs, kf_str id)
{
    return id.p ? sk_group_find(gs, id.p, (size_t)id.len) : NULL;
}

static void group_join_timer_fired(void *owner, gtimer *t);
static void group_sync_timer_fired(void *owner, gtimer *t);

ggroup *sk_group_create(sk_groups *gs, const char *id, size_t len)
{
    ggroup *g = calloc(1, sizeof *g);
    if (!g || !(g->group_id = sk_coord_strndup(id, len))) {
        free(g);
        return NULL;
    }
    g->group_id_len = len;
    g->partition = sk_group_partition_for(id, len, gs->num_partitions);
    g->state = g->previous_state = SK_GROUP_EMPTY;
    g->current_state_timestamp = -1;
    sk_coord_timer_init(&g->join_timer, group_join_timer_fired);
    sk_coord_timer_init(&g->sync_timer, group_sync_timer_fired);
    sk_htab_insert(&gs->index, &g->node, sk_hash_bytes(id, len)); /* reserved at open */
    g->prev = gs->last;
    if (gs->last)
        gs->last->next = g;
    else
        gs->first = g;
    gs->last = g;
    return g;
}

static void group_join_timer_fired(void *owner, gtimer *t)
{
    sk_groups *gs = owner;
    sk_group_join_timer_expired(gs, (ggroup *)((char *)t - offsetof(ggroup, join_timer)));
}

static void group_sync_timer_fired(void *owner, gtimer *t)
{
    sk_groups *gs = owner;
    sk_group_sync_timer_expired(gs, (ggroup *)((char *)t - offsetof(ggroup, sync_timer)));
}

void sk_group_members_clear(sk_groups *gs, ggroup *g)
{
    while (g->members)
        sk_group_member_remove(gs, g->members);
    while (g->pending)
        sk_group_pending_remove(gs, g->pending);
    sk_coord_timer_cancel(&gs->timers, &g->join_timer);
    sk_coord_timer_cancel(&gs->timers, &g->sync_timer);
}

void sk_group_destroy(sk_groups *gs, ggroup *g, const char *reason)
{
    if (!gs->closing && g->state != SK_GROUP_DEAD)
        sk_group_set_state(gs, g, SK_GROUP_DEAD, "%s", reason);
    sk_group_members_clear(gs, g);
    sk_group_txn_offsets_drop(gs, g->group_id, NULL, -1); /* every pending offset belongs to a group */
    sk_htab_remove(&gs->index, &g->node);
    if (g->prev)
        g->prev->next = g->next;
    else
        gs->first = g->next;
    if (g->next)
        g->next->prev = g->prev;
    else
        gs->last = g->prev;
    sk_group_offsets_free(g);
    sk_cgroup_free(gs, g);
    for (int32_t i = 0; i < g->nsubscribed; i++)
        free(g->subscribed[i]);
    free(g->subscribed);
    free(g->protocol_type);
    free(g->protocol_name);
    free(g->group_id);
    free(g);
}

/* Valid previous states of each state (ClassicGroupState). */
static bool transition_valid(sk_group_state from, sk_group_state to)
{
    switch (to) {
    case SK_GROUP_EMPTY:
        return from == SK_GROUP_PREPARING_REBALANCE;
    case SK_GROUP_PREPARING_REBALANCE:
        return from == SK_GROUP_STABLE || from == SK_GROUP_COMPLETING_REBALANCE || from == SK_GROUP_EMPTY;
    case SK_GROUP_COMPLETING_REBALANCE:
        return from == SK_GROUP_PREPARING_REBALANCE;
    case SK_GROUP_STABLE:
        return from == SK_GROUP_COMPLETING_REBALANCE;
    case SK_GROUP_DEAD:
        return true;
    }
    return false;
}

bool sk_group_can_transit(const ggroup *g, sk_group_state to)
{
    if (transition_valid(g->state, to))
        return true;
    sk_error("group", "BUG: group %s: illegal transition %s -> %s refused", g->group_id, sk_group_state_name(g->state),
             sk_group_state_name(to));
    return false;
}

bool sk_group_set_state(sk_groups *gs, ggroup *g, sk_group_state to, const char *fmt, ...)
{
    if (!sk_group_can_transit(g, to))
        return false;
    char reason[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    sk_info("group", "group %s: %s -> %s: %s", g->group_id, sk_group_state_name(g->state), sk_group_state_name(to),
            reason);
    g->previous_state = g->state;
    g->state = to;
    g->current_state_timestamp = sk_groups_now(gs);
    return true;
}

void sk_group_check(const ggroup *g)
{
    int32_t members = 0, awaiting = 0, pending = 0;
    bool leader_found = false;
    for (const gmember *m = g->members; m; m = m->next) {
        SK_INVARIANT(m->group == g, g->group_id);
        members++;
        awaiting += m->join_waiter != NULL;
        leader_found = leader_found || m == g->leader;
    }
    for (const gpending *p = g->pending; p; p = p->next)
        pending++;
    SK_INVARIANT(members == g->nmembers, g->group_id);
    SK_INVARIANT(awaiting == g->nawaiting_join, g->group_id);
    SK_INVARIANT(pending == g->npending, g->group_id);
    SK_INVARIANT(g->members ? leader_found : g->leader == NULL, g->group_id);
    SK_INVARIANT(g->state != SK_GROUP_DEAD, g->group_id);
    SK_INVARIANT(g->state != SK_GROUP_EMPTY || g->nmembers == 0, g->group_id);
}

sk_group_state sk_group_state_of(sk_groups *gs, const char *group_id)
{
    ggroup *g = sk_group_find(gs, group_id, strlen(group_id));
    return g ? g->state : SK_GROUP_DEAD;
}

int32_t sk_group_generation_of(sk_groups *gs, const char *group_id)
{
    ggroup *g = sk_group_find(gs, group_id, strlen(group_id));
    return g ? g->generation_id : -1;
}

size_t sk_groups_count(const sk_groups *gs)
{
    return gs->index.count;
}

/* ---- Members ---- */

gmember *sk_group_member_find(const ggroup *g, const char *member_id)
{
    for (gmember *m = g->members; m; m = m->next)
        if (!strcmp(m->member_id, member_id))
            return m;
    return NULL;
}

gmember *sk_group_member_find_static(const ggroup *g, const char *group_instance_id)
{
    for (gmember *m = g->members; m; m = m->next)
        if (m->group_instance_id && !strcmp(m->group_instance_id, group_instance_id))
            return m;
    return NULL;
}

gpending *sk_group_pending_find(const ggroup *g, const char *member_id)
{
    for (gpending *p = g->pending; p; p = p->next)
        if (!strcmp(p->member_id, member_id))
            return p;
    return NULL;
}

void sk_group_pending_remove(sk_groups *gs, gpending *p)
{
    ggroup *g = p->group;
    gpending **pp = &g->pending;
    while (*pp != p)
        pp = &(*pp)->next;
    *pp = p->next;
    g->npending--;
    sk_coord_timer_cancel(&gs->timers, &p->timer);
    free(p->member_id);
    free(p);
}

void sk_group_answer_join_error(sk_groups *gs, void *waiter, const char *member_id, int16_t err)
{
    kf_join_group_response r;
    kf_init(&kf_join_group_response_desc, &r);
    r.error_code = err;
    r.member_id = kf_str_c(member_id);
    gs->opts.join_done(waiter, &r);
}

void sk_group_answer_sync_error(sk_groups *gs, void *waiter, int16_t err)
{
    kf_sync_group_response r;
    kf_init(&kf_sync_group_response_desc, &r);
    r.error_code = err;
    gs->opts.sync_done(waiter, &r);
}

static void protocols_free(gmember *m)
{
    for (int32_t i = 0; i < m->nprotocols; i++) {
        free(m->protocols[i].name);
        free(m->protocols[i].metadata);
    }
    free(m->protocols);
    m->protocols = NULL;
    m->nprotocols = 0;
}

void sk_group_member_remove(sk_groups *gs, gmember *m)
{
    ggroup *g = m->group;
    int16_t err = gs->closing ? SK_ERR_NOT_COORDINATOR : SK_ERR_UNKNOWN_MEMBER_ID;
    if (m->join_waiter) {
        void *w = m->join_waiter;
        m->join_waiter = NULL;
        g->nawaiting_join--;
        sk_group_answer_join_error(gs, w, gs->closing ? m->member_id : "", err);
    }
    if (m->sync_waiter) {
        void *w = m->sync_waiter;
        m->sync_waiter = NULL;
        sk_group_answer_sync_error(gs, w, err);
    }
    gmember **pp = &g->members;
    while (*pp != m)
        pp = &(*pp)->next;
    *pp = m->next;
    g->nmembers--;
    if (g->leader == m)
        g->leader = g->members;
    sk_coord_timer_cancel(&gs->timers, &m->heartbeat);
    protocols_free(m);
    free(m->assignment);
    free(m->member_id);
    free(m->group_instance_id);
    free(m->client_id);
    free(m->client_host);
    free(m);
}

int sk_group_member_set_protocols(gmember *m, const kf_join_group_request_protocol *p, int32_t n)
{
    gprotocol *np = calloc(n > 0 ? (size_t)n : 1, sizeof *np);
    if (!np)
        return -1;
    for (int32_t i = 0; i < n; i++) {
        np[i].name = sk_coord_strndup(p[i].name.p ? p[i].name.p : "", p[i].name.p ? (size_t)p[i].name.len : 0);
        np[i].metadata_len = p[i].metadata.len > 0 ? p[i].metadata.len : 0;
        np[i].metadata = malloc(np[i].metadata_len ? (size_t)np[i].metadata_len : 1);
        if (!np[i].name || !np[i].metadata) {
            for (int32_t j = 0; j <= i; j++) {
                free(np[j].name);
                free(np[j].metadata);
            }
            free(np);
            return -1;
        }
        if (np[i].metadata_len)
            memcpy(np[i].metadata, p[i].metadata.p, (size_t)np[i].metadata_len);
    }
    protocols_free(m);
    m->protocols = np;
    m->nprotocols = n;
    return 0;
}

const gprotocol *sk_group_member_protocol(const gmember *m, const char *protocol)
{
    for (int32_t i = 0; protocol && i < m->nprotocols; i++)
        if (!strcmp(m->protocols[i].name, protocol))
            return &m->protocols[i];
    return NULL;
}

int sk_group_member_set_assignment(gmember *m, const uint8_t *p, int32_t len)
{
    uint8_t *a = NULL;
    if (len > 0) {
        if (!(a = malloc((size_t)len)))
            return -1;
        memcpy(a, p, (size_t)len);
    }
    free(m->assignment);
    m->assignment = a;
    m->assignment_len = len > 0 ? len : 0;
    return 0;
}

int32_t sk_group_rebalance_timeout(const ggroup *g)
{
    int32_t t = 0;
    for (const gmember *m = g->members; m; m = m->next)
        if (m->rebalance_timeout_ms > t)
            t = m->rebalance_timeout_ms;
    return t;
}

bool sk_group_uses_consumer_protocol(const ggroup *g)
{
    return g->protocol_type && !strcmp(g->protocol_type, "consumer");
}

/* Appends the topics of one ConsumerProtocolSubscription (any version
 * starts with: int16 version, array of int16-length topic names) to
 * g->subscribed, whose capacity is *cap. Returns 0 or -1 when malformed. */
static int add_subscription(ggroup *g, int32_t *cap, const uint8_t *p, int32_t len)
{
    sk_reader r;
    sk_reader_init(&r, p, (size_t)len);
    int16_t version = sk_read_i16(&r);
    int32_t n = sk_read_i32(&r);
    if (r.err || version < 0 || n < 0 || (size_t)n > sk_reader_left(&r) / 2)
        return -1;
    for (int32_t i = 0; i < n; i++) {
        int16_t tl = sk_read_i16(&r);
        const uint8_t *t = tl >= 0 ? sk_read_raw(&r, (size_t)tl) : NULL;
        if (!t)
            return -1;
        if (g->nsubscribed == *cap) {
            int32_t grown = *cap ? *cap * 2 : 16;
            char **a = realloc(g->subscribed, (size_t)grown * sizeof *a);
            if (!a)
                return -1;
            g->subscribed = a;
            *cap = grown;
        }
        if (!(g->subscribed[g->nsubscribed] = sk_coord_strndup((const char *)t, (size_t)tl)))
            return -1;
        g->nsubscribed++;
    }
    return 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorts g->subscribed and drops repeated names: members usually share
 * their topics, and lookups then take a binary search. */
static void sort_unique(ggroup *g)
{
    if (g->nsubscribed > 1)
        qsort(g->subscribed, (size_t)g->nsubscribed, sizeof *g->subscribed, cmp_names);
    int32_t k = 0;
    for (int32_t i = 0; i < g->nsubscribed; i++) {
        if (k > 0 && !strcmp(g->subscribed[k - 1], g->subscribed[i]))
            free(g->subscribed[i]);
        else
            g->subscribed[k++] = g->subscribed[i];
    }
    g->nsubscribed = k;
}

void sk_group_compute_subscribed(ggroup *g)
{
    for (int32_t i = 0; i < g->nsubscribed; i++)
        free(g->subscribed[i]);
    free(g->subscribed);
    g->subscribed = NULL;
    g->nsubscribed = 0;
    g->subscribed_known = false;
    if (!sk_group_uses_consumer_protocol(g))
        return;
    if (!g->members) {
        g->subscribed_known = true;
        return;
    }
    if (!g->protocol_name)
        return;
    int32_t cap = 0;
    for (const gmember *m = g->members; m; m = m->next) {
        const gprotocol *p = sk_group_member_protocol(m, g->protocol_name);
        if (!p || add_subscription(g, &cap, p->metadata, p->metadata_len) < 0) {
            sk_warn("group",
                    "group %s: cannot parse the consumer protocol subscription of member %s; "
                    "the subscribed topics are unknown",
                    g->group_id, m->member_id);
            return;
        }
    }
    sort_unique(g);
    g->subscribed_known = true;
}

bool sk_group_is_subscribed(const ggroup *g, const char *topic)
{
    if (g->consumer)
        return sk_cgroup_is_subscribed(g->consumer, topic);
    if (!g->subscribed_known)
        return sk_group_uses_consumer_protocol(g);
    return g->nsubscribed > 0 &&
           bsearch(&topic, g->subscribed, (size_t)g->nsubscribed, sizeof *g->subscribed, cmp_names) != NULL;
}

/* ---- Lifecycle ---- */

sk_groups *sk_groups_open(const sk_config *cfg, const sk_groups_opts *opts)
{
    sk_groups *gs = calloc(1, sizeof *gs);
    if (!gs)
        return NULL;
    gs->cfg = cfg;
    gs->opts = *opts;
    gs->num_partitions = opts->num_partitions > 0 ? opts->num_partitions : cfg->offsets_topic_num_partitions;
    if (opts->store) {
        gs->store = *opts->store;
        gs->has_store = true;
    }
    if (opts->topics)
        gs->topics = *opts->topics;
    if (sk_htab_reserve(&gs->index, 64) < 0 ||
        sk_coord_timers_init(&gs->timers, opts->base, opts->now_ms, opts->clock_arg, gs) < 0) {
        sk_htab_free(&gs->index);
        free(gs);
        return NULL;
    }
    sk_coord_timer_init(&gs->expiration, sk_groups_expiration_fire);
    sk_coord_timer_arm(&gs->timers, &gs->expiration, OFFSETS_RETENTION_CHECK_INTERVAL_MS);
    return gs;
}

void sk_groups_unload(sk_groups *gs)
{
    gs->closing = true;
    for (ggroup *g = gs->first; g; g = g->next) {
        for (gmember *m = g->members; m; m = m->next) {
            if (m->join_waiter) {
                void *w = m->join_waiter;
                m->join_waiter = NULL;
                g->nawaiting_join--;
                sk_group_answer_join_error(gs, w, m->member_id, SK_ERR_NOT_COORDINATOR);
            }
            if (m->sync_waiter) {
                void *w = m->sync_waiter;
                m->sync_waiter = NULL;
                sk_group_answer_sync_error(gs, w, SK_ERR_NOT_COORDINATOR);
            }
        }
    }
    sk_info("group", "coordinator unloading: parked JoinGroup and SyncGroup requests answered NOT_COORDINATOR");
}

void sk_groups_close(sk_groups *gs)
{
    if (!gs)
        return;
    gs->closing = true;
    while (gs->first)
        sk_group_destroy(gs, gs->first, "coordinator shutting down");
    sk_coord_timers_free(&gs->timers);
    sk_htab_free(&gs->index);
    free(gs);
}
