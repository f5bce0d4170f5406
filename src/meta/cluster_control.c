/*
 * The cluster fixture's controls (skiff/cluster.h, the HTTP control plane's
 * /v1/cluster routes): move a partition's leader, shuffle every leader, take
 * a broker down and bring it back. Each leader change bumps the partition's
 * leader epoch, so clients notice it only through the protocol
 * (NOT_LEADER_OR_FOLLOWER, FENCED_LEADER_EPOCH, a new Metadata answer), as
 * after a Kafka controller's election.
 */
#include <stdlib.h>
#include <string.h>

#include "cluster_int.h"
#include "skiff/errors.h"
#include "skiff/trace.h"
#include "skiff/net.h"

/* Sets the leader (broker index, -1 = none) and opens a new epoch. */
static int set_leader(sk_broker *b, const troute *t, int32_t partition, proute *p, int32_t leader)
{
    int8_t old = p->leader;
    p->leader = (int8_t)leader;
    if (cluster_new_epoch(b, t->name, partition, p) < 0) {
        p->leader = old;
        return -1;
    }
    sk_cluster *c = b->cluster;
    sk_info("cluster", "%s-%d: leader %d -> %d, leader epoch %d", t->name, partition, old >= 0 ? c->base_id + old : -1,
            leader >= 0 ? c->base_id + leader : -1, p->epoch);
    return 0;
}

static bool is_up(const sk_cluster *c, int32_t i)
{
    return !(c->down & (1u << i));
}

static int32_t replica_slot(const proute *p, int32_t i)
{
    for (int32_t j = 0; j < p->nrep; j++)
        if (p->rep[j] == i)
            return j;
    return -1;
}

/* Makes broker `i` the leader; a broker that is not a replica takes the
 * current leader's place in the replica list (a reassignment). */
static int lead(sk_broker *b, const troute *t, int32_t partition, proute *p, int32_t i)
{
    if (replica_slot(p, i) < 0) {
        int32_t slot = p->leader >= 0 ? replica_slot(p, p->leader) : 0;
        p->isr &= (uint16_t) ~(1u << p->rep[slot]);
        p->adding &= (uint16_t) ~(1u << p->rep[slot]);
        p->removing &= (uint16_t) ~(1u << p->rep[slot]);
        p->rep[slot] = (uint8_t)i;
    }
    p->isr |= (uint16_t)(1u << i);
    return set_leader(b, t, partition, p, i);
}

/* The route a control acts on, or NULL with *err: UNKNOWN_TOPIC_OR_PARTITION,
 * BROKER_NOT_AVAILABLE (one broker), KAFKA_STORAGE_ERROR (memory). */
static proute *control_target(sk_broker *b, const char *topic, int32_t partition, troute **t, int16_t *err)
{
    int32_t n = cluster_topic_partitions(b, topic);
    proute *p = NULL;
    if (partition < 0 || partition >= n)
        *err = SK_ERR_UNKNOWN_TOPIC_OR_PARTITION;
    else if (!b->cluster || b->cluster->n < 2)
        *err = SK_ERR_BROKER_NOT_AVAILABLE;
    else if (!(p = cluster_proute(b, topic, n, partition, t)))
        *err = SK_ERR_KAFKA_STORAGE_ERROR;
    return p;
}

int16_t sk_cluster_move_leader(sk_broker *b, const char *topic, int32_t partition, int32_t node_id, sk_route *route)
{
    sk_cluster *c = b->cluster;
    troute *t;
    int16_t err;
    proute *p = control_target(b, topic, partition, &t, &err);
    if (!p)
        return err;
    int32_t target = -1;
    if (node_id >= 0) {
        target = cluster_index(c, node_id);
        if (target < 0 || !is_up(c, target))
            return SK_ERR_BROKER_NOT_AVAILABLE;
    } else {
        /* The next replica that is up, after the current leader. */
        int32_t from = p->leader >= 0 ? replica_slot(p, p->leader) : -1;
        for (int32_t k = 1; k <= p->nrep && target < 0; k++) {
            int32_t cand = p->rep[(from + k + p->nrep) % p->nrep];
            if (is_up(c, cand))
                target = cand;
        }
        if (target < 0)
            return SK_ERR_BROKER_NOT_AVAILABLE;
    }
    int rc = lead(b, t, partition, p, target);
    cluster_flush(b);
    if (rc < 0)
        return SK_ERR_KAFKA_STORAGE_ERROR;
    if (route)
        cluster_fill_route(c, p, route);
    return SK_ERR_NONE;
}

int16_t sk_cluster_leaderless(sk_broker *b, const char *topic, int32_t partition, int64_t ms, sk_route *route)
{
    troute *t;
    int16_t err;
    proute *p = control_target(b, topic, partition, &t, &err);
    if (!p)
        return err;
    int rc = p->leader >= 0 ? set_leader(b, t, partition, p, -1) : 0;
    cluster_flush(b);
    if (rc < 0)
        return SK_ERR_KAFKA_STORAGE_ERROR;
    p->leaderless_until = cluster_now_ms() + (ms > 0 ? ms : 1);
    if (route)
        cluster_fill_route(b->cluster, p, route);
    return SK_ERR_NONE;
}

int16_t sk_cluster_elect(sk_broker *b, const char *topic, int32_t partitions, int32_t partition, bool unclean)
{
    sk_cluster *c = b->cluster;
    if (!c || c->n < 2)
        return SK_ERR_ELECTION_NOT_NEEDED;
    troute *t;
    proute *p = cluster_proute(b, topic, partitions, partition, &t);
    if (!p)
        return SK_ERR_KAFKA_STORAGE_ERROR;
    int32_t to = -1;
    if (!unclean) {
        to = p->rep[0];
        if (p->leader == to)
            return SK_ERR_ELECTION_NOT_NEEDED;
        if (!is_up(c, to) || !(p->isr & (1u << to)))
            return SK_ERR_PREFERRED_LEADER_NOT_AVAILABLE;
    } else {
        if (p->leader >= 0)
            return SK_ERR_ELECTION_NOT_NEEDED;
        to = cluster_elect(c, p);
        for (int32_t j = 0; to < 0 && j < p->nrep; j++)
            if (is_up(c, p->rep[j]))
                to = p->rep[j];
        if (to < 0)
            return SK_ERR_ELIGIBLE_LEADERS_NOT_AVAILABLE;
    }
    int rc = lead(b, t, partition, p, to);
    cluster_flush(b);
    return rc == 0 ? SK_ERR_NONE : SK_ERR_KAFKA_STORAGE_ERROR;
}

/* A small xorshift generator: shuffles are reproducible from their seed. */
static uint32_t next_rand(uint32_t *s)
{
    uint32_t x = *s ? *s : 0x9e3779b9u;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *s = x;
}

int32_t sk_cluster_shuffle(sk_broker *b, uint32_t seed)
{
    sk_cluster *c = b->cluster;
    if (!c || c->n < 2)
        return 0;
    int32_t moved = 0;
    size_t bucket = 0;
    for (sk_hnode *n = sk_htab_next(&c->topics, NULL, &bucket); n; n = sk_htab_next(&c->topics, n, &bucket)) {
        troute *t = SK_CONTAINER_OF(n, troute, node);
        for (int32_t i = 0; i < t->nparts; i++) {
            proute *p = &t->parts[i];
            /* Another replica that is up; with none, another broker that is
             * up (the partition moves there). */
            int32_t cand[SK_CLUSTER_MAX_BROKERS], nc = 0;
            for (int32_t j = 0; j < p->nrep; j++)
                if (p->rep[j] != p->leader && is_up(c, p->rep[j]))
                    cand[nc++] = p->rep[j];
            for (int32_t j = 0; nc == 0 && j < c->n; j++)
                if (j != p->leader && is_up(c, j) && replica_slot(p, j) < 0)
                    cand[nc++] = j;
            if (nc > 0 && lead(b, t, i, p, cand[next_rand(&seed) % (uint32_t)nc]) == 0)
                moved++;
        }
    }
    cluster_flush(b);
    return moved;
}

int16_t sk_cluster_set_down(sk_broker *b, int32_t node_id, bool down, bool leaderless)
{
    sk_cluster *c = b->cluster;
    int32_t i = c ? cluster_index(c, node_id) : -1;
    if (i < 0)
        return SK_ERR_BROKER_NOT_AVAILABLE;
    uint32_t bit = 1u << i;
    if (down && (c->down | bit) == (1u << c->n) - 1)
        return SK_ERR_INVALID_REQUEST;
    if (down == !!(c->down & bit))
        return SK_ERR_NONE;
    if (down)
        c->down |= bit;
    else
        c->down &= ~bit;
    sk_info("cluster", "broker %d is %s", node_id, down ? "down" : "up");
    size_t bucket = 0;
    for (sk_hnode *n = sk_htab_next(&c->topics, NULL, &bucket); n; n = sk_htab_next(&c->topics, n, &bucket)) {
        troute *t = SK_CONTAINER_OF(n, troute, node);
        for (int32_t k = 0; k < t->nparts; k++) {
            proute *p = &t->parts[k];
            if (replica_slot(p, i) < 0)
                continue;
            if (down) {
                /* Kafka's controller: the broker leaves the ISR (but never
                 * empties it), its partitions elect the next replica in it. */
                if ((p->isr & (uint16_t)~bit) != 0)
                    p->isr &= (uint16_t)~bit;
                if (p->leader == i)
                    set_leader(b, t, k, p, leaderless ? -1 : cluster_elect(c, p));
            } else {
                p->isr |= (uint16_t)bit;
                if (p->leader < 0)
                    set_leader(b, t, k, p, i);
                if (p->adding & bit) /* a replica joining caught up at once */
                    cluster_complete_reassignment(b, t, k, p);
            }
        }
    }
    cluster_flush(b);
    if (down)
        sk_net_close_node(b, node_id);
    sk_net_node_listening(b, node_id, !down);
    return SK_ERR_NONE;
}

/* ---- Reassignment (KIP-455) --------------------------------------------- */

int cluster_complete_reassignment(sk_broker *b, const troute *t, int32_t partition, proute *p)
{
    sk_cluster *c = b->cluster;
    if (!p->adding && !p->removing)
        return 0;
    for (int32_t j = 0; j < p->nrep; j++)
        if (!(p->removing & (1u << p->rep[j])) && !(p->isr & (1u << p->rep[j])))
            return 0; /* a target replica has not joined yet */
    uint16_t removed = p->removing;
    int32_t n = 0;
    for (int32_t j = 0; j < p->nrep; j++)
        if (!(removed & (1u << p->rep[j])))
            p->rep[n++] = p->rep[j];
    p->nrep = (uint8_t)n;
    p->isr &= (uint16_t)~removed;
    p->adding = p->removing = 0;
    sk_info("cluster", "%s-%d: reassignment completed", t->name, partition);
    if (p->leader < 0 || (removed & (1u << p->leader)))
        return set_leader(b, t, partition, p, cluster_elect(c, p));
    return removed ? cluster_new_epoch(b, t->name, partition, p) : 0;
}

int16_t sk_cluster_reassign(sk_broker *b, const char *topic, int32_t partitions, int32_t partition, const int32_t *ids,
                            int32_t n)
{
    sk_cluster *c = b->cluster;
    if (!c || c->n < 2)
        return ids ? SK_ERR_NONE : SK_ERR_NO_REASSIGNMENT_IN_PROGRESS;
    troute *t;
    proute *p = cluster_proute(b, topic, partitions, partition, &t);
    if (!p)
        return SK_ERR_KAFKA_STORAGE_ERROR;
    if (!ids) {
        if (!p->adding && !p->removing)
            return SK_ERR_NO_REASSIGNMENT_IN_PROGRESS;
        /* Kafka's PartitionReassignmentRevert: the replicas without those
         * that were joining. */
        int32_t m = 0;
        for (int32_t j = 0; j < p->nrep; j++)
            if (!(p->adding & (1u << p->rep[j])))
                p->rep[m++] = p->rep[j];
        p->nrep = (uint8_t)m;
        p->isr &= (uint16_t)~p->adding;
        p->adding = p->removing = 0;
        int rc =
            p->leader >= 0 && replica_slot(p, p->leader) >= 0 ? 0 : set_leader(b, t, partition, p, cluster_elect(c, p));
        c->dirty = true;
        cluster_flush(b);
        return rc == 0 ? SK_ERR_NONE : SK_ERR_KAFKA_STORAGE_ERROR;
    }
    /* The original replicas (a reassignment in progress is replaced). */
    uint16_t orig = 0, target = 0;
    for (int32_t j = 0; j < p->nrep; j++)
        if (!(p->adding & (1u << p->rep[j])))
            orig |= (uint16_t)(1u << p->rep[j]);
    /* Kafka's PartitionReassignmentReplicas: the target, then the original
     * replicas leaving it. */
    uint8_t rep[SK_CLUSTER_MAX_BROKERS];
    int32_t m = 0;
    for (int32_t j = 0; j < n; j++) {
        int32_t i = cluster_index(c, ids[j]);
        if (i < 0)
            return SK_ERR_INVALID_REPLICA_ASSIGNMENT;
        rep[m++] = (uint8_t)i;
        target |= (uint16_t)(1u << i);
    }
    for (int32_t j = 0; j < p->nrep; j++)
        if ((orig & (1u << p->rep[j])) && !(target & (1u << p->rep[j])))
            rep[m++] = p->rep[j];
    memcpy(p->rep, rep, (size_t)m);
    p->nrep = (uint8_t)m;
    p->adding = (uint16_t)(target & ~orig);
    p->removing = (uint16_t)(orig & ~target);
    /* Replicas not in the target or the original drop out of the ISR;
     * joining replicas that are up catch up at once. */
    p->isr &= (uint16_t)(orig | target);
    for (int32_t j = 0; j < m; j++)
        if (is_up(c, rep[j]))
            p->isr |= (uint16_t)(1u << rep[j]);
    sk_info("cluster", "%s-%d: reassignment to %d replica(s) started", t->name, partition, n);
    int rc = cluster_complete_reassignment(b, t, partition, p);
    c->dirty = true;
    cluster_flush(b);
    return rc == 0 ? SK_ERR_NONE : SK_ERR_KAFKA_STORAGE_ERROR;
}

bool sk_cluster_reassignment(sk_broker *b, const char *topic, int32_t partition, int32_t *adding, int32_t *nadding,
                             int32_t *removing, int32_t *nremoving)
{
    sk_cluster *c = b->cluster;
    *nadding = *nremoving = 0;
    const troute *t = c && c->n > 1 ? cluster_topic_find(c, topic) : NULL;
    if (!t || partition < 0 || partition >= t->nparts)
        return false;
    const proute *p = &t->parts[partition];
    for (int32_t j = 0; j < p->nrep; j++) {
        if (p->adding & (1u << p->rep[j]))
            adding[(*nadding)++] = c->base_id + p->rep[j];
        if (p->removing & (1u << p->rep[j]))
            removing[(*nremoving)++] = c->base_id + p->rep[j];
    }
    return p->adding || p->removing;
}
