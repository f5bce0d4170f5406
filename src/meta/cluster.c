/*
 * Several brokers in one process: the broker list, their ports, and the
 * routing state of every partition a request has asked about (replicas,
 * leader, leader epoch and the offsets where each epoch began, ISR). See
 * skiff/cluster.h and docs/cluster.md. The controls that change the routing
 * state are in cluster_control.c.
 *
 * Replica assignment is Kafka's rack-unaware AdminUtils algorithm; Kafka
 * draws the start index and the replica shift at random, skiff derives them
 * from the topic name so that a restart assigns the same replicas.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster_int.h"
#include "skiff/api.h"
#include "skiff/clock.h"
#include "skiff/errors.h"
#include "skiff/group.h"
#include "skiff/trace.h"
#include "skiff/logstore.h"
#include "skiff/meta.h"

#define OFFSETS_TOPIC "__consumer_offsets"
#define TXN_TOPIC "__transaction_state"

/* ---- Configuration ------------------------------------------------------ */

/* Parses skiff.cluster.ports: one entry per broker, comma-separated, each
 * the port of every listener in `listeners` order separated by '/'. */
static int parse_ports(sk_cluster *c, const char *s, int32_t nlisteners)
{
    const char *p = s;
    for (int32_t i = 0; i < c->n; i++) {
        for (int32_t l = 0; l < nlisteners; l++) {
            char *end;
            long v = strtol(p, &end, 10);
            if (end == p || v < 0 || v > 65535)
                return -1;
            c->ports[i][l] = (int32_t)v;
            p = end;
            char want = l + 1 < nlisteners ? '/' : (i + 1 < c->n ? ',' : '\0');
            if (*p != want)
                return -1;
            if (*p)
                p++;
        }
    }
    return 0;
}

/* broker.rack: one rack for every broker, or one per broker, comma-separated. */
static int parse_racks(sk_cluster *c, const char *s)
{
    if (!s || !*s)
        return 0;
    int32_t count = 1;
    for (const char *p = s; *p; p++)
        count += *p == ',';
    if (count != 1 && count != c->n)
        return -1;
    const char *p = s;
    for (int32_t i = 0; i < c->n; i++) {
        size_t len = count == 1 ? strlen(s) : strcspn(p, ",");
        if (!(c->racks[i] = strndup(p, len)))
            return -1;
        if (count > 1)
            p += len + (p[len] == ',');
    }
    return 0;
}

int sk_cluster_open(sk_broker *b)
{
    const sk_config *cfg = b->config;
    sk_cluster *c = calloc(1, sizeof *c);
    if (!c) {
        sk_error("cluster", "out of memory");
        return -1;
    }
    b->cluster = c;
    c->n = cfg->cluster_brokers > 0 ? cfg->cluster_brokers : 1;
    c->base_id = cfg->node_id;
    if ((int64_t)c->base_id + c->n - 1 > INT32_MAX) {
        sk_error("cluster", "node.id %d + skiff.cluster.brokers %d exceeds the largest node id", c->base_id, c->n);
        return -1;
    }
    if (cfg->default_replication_factor > c->n) {
        sk_error("cluster", "default.replication.factor %d is more than the %d broker(s) of skiff.cluster.brokers",
                 cfg->default_replication_factor, c->n);
        return -1;
    }
    sk_listener_addr addrs[SK_LISTENERS_MAX];
    int nl = sk_listeners_parse(cfg->listeners, addrs, SK_LISTENERS_MAX, NULL);
    c->nlisteners = nl > 0 ? nl : 0;
    for (int32_t i = 0; i < c->n; i++)
        for (int32_t l = 0; l < c->nlisteners; l++)
            c->ports[i][l] = addrs[l].port ? addrs[l].port + i : 0;
    for (int32_t l = 0; l < c->nlisteners; l++)
        if (addrs[l].port && addrs[l].port + c->n - 1 > 65535) {
            sk_error("cluster", "listener %s: port %d + %d brokers exceeds 65535; set skiff.cluster.ports",
                     addrs[l].name, addrs[l].port, c->n);
            return -1;
        }
    if (cfg->cluster_ports && *cfg->cluster_ports && parse_ports(c, cfg->cluster_ports, c->nlisteners) < 0) {
        sk_error("cluster",
                 "skiff.cluster.ports '%s': want %d comma-separated entries (one per broker), each %d "
                 "port(s) separated by '/' (one per listener)",
                 cfg->cluster_ports, c->n, c->nlisteners);
        return -1;
    }
    if (parse_racks(c, cfg->broker_rack) < 0) {
        sk_error("cluster", "broker.rack '%s': want one rack, or %d comma-separated (one per broker)", cfg->broker_rack,
                 c->n);
        return -1;
    }
    if (c->n > 1)
        sk_info("cluster", "%d brokers: node ids %d..%d", c->n, c->base_id, c->base_id + c->n - 1);
    return 0;
}

static void topic_free(troute *t)
{
    for (int32_t i = 0; i < t->nparts; i++)
        free(t->parts[i].hist);
    free(t->parts);
    free(t->name);
    free(t);
}

void sk_cluster_close(sk_broker *b)
{
    sk_cluster *c = b->cluster;
    if (!c)
        return;
    size_t bucket = 0;
    sk_hnode *n = sk_htab_next(&c->topics, NULL, &bucket);
    while (n) {
        sk_hnode *next = sk_htab_next(&c->topics, n, &bucket);
        topic_free(SK_CONTAINER_OF(n, troute, node));
        n = next;
    }
    sk_htab_free(&c->topics);
    for (int32_t i = 0; i < c->n; i++)
        free(c->racks[i]);
    free(c->dir);
    free(c);
    b->cluster = NULL;
}

/* ---- Brokers ------------------------------------------------------------ */

int32_t sk_cluster_size(const sk_broker *b)
{
    return b->cluster ? b->cluster->n : 1;
}

int32_t sk_cluster_node_id(const sk_broker *b, int32_t index)
{
    return b->cluster ? b->cluster->base_id + index : b->config->node_id;
}

int32_t cluster_index(const sk_cluster *c, int32_t node_id)
{
    int64_t i = (int64_t)node_id - c->base_id;
    return i >= 0 && i < c->n ? (int32_t)i : -1;
}

bool sk_cluster_node_id_known(const sk_broker *b, int32_t node_id)
{
    return b->cluster ? cluster_index(b->cluster, node_id) >= 0 : node_id == b->config->node_id;
}

bool sk_cluster_node_up(const sk_broker *b, int32_t node_id)
{
    if (!b->cluster)
        return node_id == b->config->node_id;
    int32_t i = cluster_index(b->cluster, node_id);
    return i >= 0 && !(b->cluster->down & (1u << i));
}

const char *sk_cluster_rack(const sk_broker *b, int32_t node_id)
{
    int32_t i = b->cluster ? cluster_index(b->cluster, node_id) : -1;
    return i >= 0 ? b->cluster->racks[i] : NULL;
}

int32_t sk_cluster_controller(const sk_broker *b)
{
    int32_t n = sk_cluster_size(b);
    for (int32_t i = 0; i < n; i++)
        if (sk_cluster_node_up(b, sk_cluster_node_id(b, i)))
            return sk_cluster_node_id(b, i);
    return -1;
}

/* ---- Ports -------------------------------------------------------------- */

int32_t sk_cluster_listen_port(const sk_broker *b, int32_t index, int32_t listener, int32_t configured)
{
    const sk_cluster *c = b->cluster;
    if (!c || listener < 0 || listener >= c->nlisteners || index < 0 || index >= c->n)
        return configured;
    return c->ports[index][listener];
}

void sk_cluster_set_bound_port(sk_broker *b, int32_t index, int32_t listener, int32_t port)
{
    sk_cluster *c = b->cluster;
    if (c && listener >= 0 && listener < c->nlisteners && index >= 0 && index < c->n)
        c->bound[index][listener] = port;
}

int32_t sk_cluster_bound_port(const sk_broker *b, int32_t index, int32_t listener)
{
    const sk_cluster *c = b->cluster;
    if (!c || listener < 0 || listener >= c->nlisteners || index < 0 || index >= c->n)
        return 0;
    return c->bound[index][listener];
}

int32_t sk_cluster_advertised_port(const sk_broker *b, int32_t node_id, int32_t listener, int32_t advertised,
                                   bool from_advertised_listeners)
{
    const sk_cluster *c = b->cluster;
    int32_t i = c ? cluster_index(c, node_id) : -1;
    if (i <= 0 || listener < 0 || listener >= c->nlisteners)
        return advertised;
    if (from_advertised_listeners && c->ports[0][listener] != 0 && c->ports[i][listener] != 0)
        return advertised + c->ports[i][listener] - c->ports[0][listener];
    return c->bound[i][listener];
}

void sk_cluster_endpoint(const sk_request *req, int32_t node_id, kf_str *host, int32_t *port)
{
    const sk_cluster *c = req->broker->cluster;
    int32_t own = c ? cluster_index(c, req->node_id) : -1, other = c ? cluster_index(c, node_id) : -1;
    int32_t li = req->listener;
    *host = kf_str_c(req->advertised_host);
    *port = req->advertised_port;
    if (node_id == req->node_id || own < 0 || other < 0 || li < 0 || li >= c->nlisteners)
        return;
    /* The request's port is its own node's advertised port: other nodes'
     * advertised ports are offset from it as their configured ports are. */
    if (req->advertised_from_config && c->ports[own][li] != 0 && c->ports[other][li] != 0)
        *port = req->advertised_port + c->ports[other][li] - c->ports[own][li];
    else
        *port = c->bound[other][li];
}

/* ---- Assignment and routes ---------------------------------------------- */

void sk_cluster_assign(int32_t n, int32_t rf, int32_t partition, int32_t start, int32_t shift, int32_t *out)
{
    int32_t first = (int32_t)(((int64_t)partition + start) % n);
    out[0] = first;
    if (n < 2)
        return;
    int64_t next_shift = (int64_t)shift + partition / n;
    for (int32_t j = 0; j < rf - 1; j++)
        out[j + 1] = (int32_t)((first + 1 + (next_shift + j) % (n - 1)) % n);
}

/* Kafka's rack-alternated broker list: racks in name order, each rack's
 * brokers in id order, taken one per rack in turn. Returns the number of
 * racks. */
static int32_t rack_alternated(int32_t n, const char *const *racks, int32_t *out, int32_t *rack_of)
{
    int32_t nracks = 0, first[SK_CLUSTER_MAX_BROKERS];
    for (int32_t i = 0; i < n; i++) {
        int32_t r = 0;
        while (r < nracks && strcmp(racks[first[r]], racks[i]) != 0)
            r++;
        if (r == nracks)
            first[nracks++] = i;
    }
    /* Racks by name (insertion sort of at most 16). */
    for (int32_t a = 1; a < nracks; a++)
        for (int32_t k = a; k > 0 && strcmp(racks[first[k - 1]], racks[first[k]]) > 0; k--) {
            int32_t tmp = first[k];
            first[k] = first[k - 1];
            first[k - 1] = tmp;
        }
    int32_t next[SK_CLUSTER_MAX_BROKERS] = {0}, m = 0; /* next broker index to look at, per rack */
    for (int32_t r = 0; m < n; r = (r + 1) % nracks) {
        const char *name = racks[first[r]];
        while (next[r] < n && strcmp(racks[next[r]], name) != 0)
            next[r]++;
        if (next[r] < n) {
            out[m] = next[r]++;
            rack_of[m++] = r;
        }
    }
    return nracks;
}

void sk_cluster_assign_racks(int32_t n, const char *const *racks, int32_t rf, int32_t partition, int32_t start,
                             int32_t shift, int32_t *out)
{
    int32_t list[SK_CLUSTER_MAX_BROKERS] = {0}, rack_of[SK_CLUSTER_MAX_BROKERS] = {0};
    int32_t nracks = rack_alternated(n, racks, list, rack_of);
    int32_t first = (int32_t)(((int64_t)partition + start) % n);
    out[0] = list[first];
    if (n < 2)
        return;
    uint32_t used_racks = 1u << rack_of[first], used = 1u << first;
    int32_t nused_racks = 1, nused = 1;
    int64_t next_shift = ((int64_t)shift + partition / n) * nracks;
    for (int32_t j = 1, k = 0; j < rf; k++) {
        int32_t at = (int32_t)((first + 1 + (next_shift + k) % (n - 1)) % n);
        /* Kafka skips a broker in a rack that has a replica while another
         * rack has none, and a broker that has one while another has none. */
        bool rack_ok = !(used_racks & (1u << rack_of[at])) || nused_racks == nracks;
        bool broker_ok = !(used & (1u << at)) || nused == n;
        if (!rack_ok || !broker_ok)
            continue;
        out[j++] = list[at];
        nused_racks += !(used_racks & (1u << rack_of[at]));
        used_racks |= 1u << rack_of[at];
        used |= 1u << at;
        nused++;
    }
}

static troute *topic_find(const sk_cluster *c, const char *name, uint64_t h)
{
    for (sk_hnode *n = sk_htab_chain(&c->topics, h); n; n = n->next) {
        troute *t = SK_CONTAINER_OF(n, troute, node);
        if (n->hash == h && !strcmp(t->name, name))
            return t;
    }
    return NULL;
}

troute *cluster_topic_find(const sk_cluster *c, const char *name)
{
    return topic_find(c, name, sk_hash_bytes(name, strlen(name)));
}

troute *cluster_topic_get(sk_cluster *c, const char *name)
{
    uint64_t h = sk_hash_bytes(name, strlen(name));
    troute *t = topic_find(c, name, h);
    if (t)
        return t;
    t = calloc(1, sizeof *t);
    if (!t || !(t->name = strdup(name)) || sk_htab_insert(&c->topics, &t->node, h) < 0) {
        if (t)
            free(t->name);
        free(t);
        return NULL;
    }
    t->start = (int32_t)(h % (uint64_t)c->n);
    t->shift = (int32_t)((h >> 32) % (uint64_t)c->n);
    return t;
}

/* The first replica in assignment order that is up and in the ISR, or -1. */
int32_t cluster_elect(const sk_cluster *c, const proute *p)
{
    for (int32_t j = 0; j < p->nrep; j++)
        if (!(c->down & (1u << p->rep[j])) && (p->isr & (1u << p->rep[j])))
            return p->rep[j];
    return -1;
}

void cluster_assign_partition(sk_broker *b, const troute *t, int32_t index, proute *p)
{
    sk_cluster *c = b->cluster;
    int32_t rf = t->rf > 0 ? t->rf : b->config->default_replication_factor;
    if (rf > c->n)
        rf = c->n;
    int32_t rep[SK_CLUSTER_MAX_BROKERS];
    bool racks = true;
    for (int32_t i = 0; i < c->n; i++)
        racks = racks && c->racks[i];
    if (racks) /* every broker has broker.rack: Kafka's rack-aware assignment */
        sk_cluster_assign_racks(c->n, (const char *const *)c->racks, rf, index, t->start, t->shift, rep);
    else
        sk_cluster_assign(c->n, rf, index, t->start, t->shift, rep);
    p->nrep = (uint8_t)rf;
    p->isr = 0;
    for (int32_t j = 0; j < rf; j++) {
        p->rep[j] = (uint8_t)rep[j];
        if (!(c->down & (1u << rep[j])))
            p->isr |= (uint16_t)(1u << rep[j]);
    }
    if (!p->isr) /* every replica down: the ISR keeps the preferred one, as Kafka keeps the last */
        p->isr = (uint16_t)(1u << rep[0]);
    p->leader = (int8_t)cluster_elect(c, p);
}

/* Makes sure `t` holds routes for `partitions` partitions. */
static int topic_grow(sk_broker *b, troute *t, int32_t partitions)
{
    if (partitions <= t->nparts)
        return 0;
    proute *parts = realloc(t->parts, (size_t)partitions * sizeof *parts);
    if (!parts)
        return -1;
    t->parts = parts;
    for (int32_t i = t->nparts; i < partitions; i++) {
        memset(&parts[i], 0, sizeof parts[i]);
        cluster_assign_partition(b, t, i, &parts[i]);
        /* Led by another than its preferred replica (that one is down):
         * a state a restart, bringing every broker up, could not derive. */
        if (parts[i].leader != parts[i].rep[0])
            b->cluster->dirty = true;
    }
    t->nparts = partitions;
    cluster_flush(b);
    return 0;
}

proute *cluster_proute(sk_broker *b, const char *topic, int32_t partitions, int32_t partition, troute **tout)
{
    sk_cluster *c = b->cluster;
    troute *t = cluster_topic_get(c, topic);
    if (!t || partition < 0 || topic_grow(b, t, partitions > partition ? partitions : partition + 1) < 0)
        return NULL;
    if (tout)
        *tout = t;
    proute *p = &t->parts[partition];
    /* A timed leaderless spell (sk_cluster_leaderless) ends at the first
     * look after it: the first replica up in the ISR leads again. */
    if (p->leaderless_until && cluster_now_ms() >= p->leaderless_until) {
        p->leaderless_until = 0;
        int32_t leader = cluster_elect(c, p);
        if (p->leader < 0 && leader >= 0) {
            p->leader = (int8_t)leader;
            if (cluster_new_epoch(b, t->name, partition, p) < 0) {
                p->leader = -1; /* stays leaderless */
            } else {
                sk_info("cluster", "%s-%d: leader -1 -> %d, leader epoch %d", t->name, partition, c->base_id + leader,
                        p->epoch);
                cluster_flush(b);
            }
        }
    }
    return p;
}

int64_t cluster_now_ms(void)
{
    return sk_clock_mono_ms();
}

void cluster_fill_route(const sk_cluster *c, const proute *p, sk_route *out)
{
    out->leader = p->leader >= 0 ? c->base_id + p->leader : -1;
    out->leader_epoch = p->epoch;
    out->nreplicas = p->nrep;
    out->nisr = 0;
    for (int32_t j = 0; j < p->nrep; j++) {
        out->replicas[j] = c->base_id + p->rep[j];
        if (p->isr & (1u << p->rep[j]))
            out->isr[out->nisr++] = c->base_id + p->rep[j];
    }
}

static void single_route(const sk_broker *b, sk_route *out)
{
    int32_t id = b->cluster ? b->cluster->base_id : b->config->node_id;
    *out = (sk_route){.leader = id, .leader_epoch = 0, .nreplicas = 1, .nisr = 1};
    out->replicas[0] = out->isr[0] = id;
}

int sk_cluster_route(sk_broker *b, const char *topic, int32_t partitions, int32_t partition, sk_route *out)
{
    if (!b->cluster || b->cluster->n == 1) {
        single_route(b, out);
        return 0;
    }
    proute *p = cluster_proute(b, topic, partitions, partition, NULL);
    if (!p) {
        single_route(b, out);
        return -1;
    }
    cluster_fill_route(b->cluster, p, out);
    return 0;
}

void sk_cluster_topic_deleted(sk_broker *b, const char *topic)
{
    if (!b->cluster)
        return;
    troute *t = topic_find(b->cluster, topic, sk_hash_bytes(topic, strlen(topic)));
    if (!t)
        return;
    sk_htab_remove(&b->cluster->topics, &t->node);
    topic_free(t);
    b->cluster->dirty = true;
    cluster_flush(b);
}

int sk_cluster_route_lists(sk_request *req, const char *topic, int32_t partitions, int32_t partition,
                           sk_route_lists *out)
{
    sk_route *r = &out->route;
    sk_cluster_route(req->broker, topic, partitions, partition, r);
    int32_t *ids = sk_arena_alloc(&req->arena, (size_t)(2 * r->nreplicas + r->nisr) * sizeof *ids);
    if (!ids)
        return -1;
    memcpy(ids, r->replicas, (size_t)r->nreplicas * sizeof *ids);
    memcpy(ids + r->nreplicas, r->isr, (size_t)r->nisr * sizeof *ids);
    out->replicas = ids;
    out->isr = ids + r->nreplicas;
    out->offline = ids + r->nreplicas + r->nisr;
    out->noffline = 0;
    for (int32_t j = 0; j < r->nreplicas; j++)
        if (!sk_cluster_node_up(req->broker, r->replicas[j]))
            out->offline[out->noffline++] = r->replicas[j];
    return 0;
}

int32_t sk_cluster_brokers_up(const sk_broker *b, int32_t *ids)
{
    int32_t n = 0;
    for (int32_t i = 0; i < sk_cluster_size(b); i++)
        if (sk_cluster_node_up(b, sk_cluster_node_id(b, i)))
            ids[n++] = sk_cluster_node_id(b, i);
    return n;
}

int sk_cluster_set_replication_factor(sk_broker *b, const char *topic, int32_t rf)
{
    if (!b->cluster || b->cluster->n == 1)
        return 0;
    troute *t = cluster_topic_get(b->cluster, topic);
    if (!t)
        return -1;
    /* A new topic: routes left by an older one of the same name go. */
    for (int32_t i = 0; i < t->nparts; i++)
        free(t->parts[i].hist);
    free(t->parts);
    t->parts = NULL;
    t->nparts = 0;
    t->rf = rf;
    b->cluster->dirty = true;
    cluster_flush(b);
    return 0;
}

int sk_cluster_place(sk_broker *b, const char *topic, int32_t partitions, int32_t partition, const int32_t *ids,
                     int32_t n)
{
    sk_cluster *c = b->cluster;
    if (!c || c->n == 1)
        return 0;
    proute *p = cluster_proute(b, topic, partitions, partition, NULL);
    if (!p)
        return -1;
    p->nrep = 0;
    p->isr = 0;
    for (int32_t j = 0; j < n && j < SK_CLUSTER_MAX_BROKERS; j++) {
        int32_t i = cluster_index(c, ids[j]);
        if (i < 0)
            continue;
        p->rep[p->nrep++] = (uint8_t)i;
        if (!(c->down & (1u << i)))
            p->isr |= (uint16_t)(1u << i);
    }
    p->leader = (int8_t)cluster_elect(c, p);
    c->dirty = true;
    cluster_flush(b);
    return 0;
}

int16_t sk_cluster_check_leader(sk_request *req, const char *topic, int32_t partitions, int32_t partition,
                                int32_t current_leader_epoch, sk_route *route)
{
    sk_route r;
    if (!route)
        route = &r;
    sk_cluster_route(req->broker, topic, partitions, partition, route);
    if (current_leader_epoch != -1 && current_leader_epoch < route->leader_epoch)
        return SK_ERR_FENCED_LEADER_EPOCH;
    if (current_leader_epoch != -1 && current_leader_epoch > route->leader_epoch)
        return SK_ERR_UNKNOWN_LEADER_EPOCH;
    if (req->node_id == SK_NODE_LOCAL) /* the HTTP API: whichever broker leads */
        return route->leader >= 0 ? SK_ERR_NONE : SK_ERR_NOT_LEADER_OR_FOLLOWER;
    return route->leader == req->node_id ? SK_ERR_NONE : SK_ERR_NOT_LEADER_OR_FOLLOWER;
}

void sk_cluster_epoch_end(sk_broker *b, const char *topic, int32_t partitions, int32_t partition, int32_t epoch,
                          int64_t leo, int64_t log_start, int32_t *out_epoch, int64_t *out_offset)
{
    /* Epoch history: epoch 0 from the log start, then one entry per change. */
    const proute *p = NULL;
    if (b->cluster && b->cluster->n > 1)
        p = cluster_proute(b, topic, partitions, partition, NULL);
    int32_t latest = p ? p->epoch : 0;
    *out_epoch = -1;
    *out_offset = -1;
    if (epoch == -1 || epoch > latest)
        return;
    if (epoch == latest) {
        *out_epoch = epoch;
        *out_offset = leo;
        return;
    }
    /* The first entry newer than `epoch` ends it; the newest one at or
     * below it names it (Kafka's LeaderEpochFileCache.endOffsetFor). */
    int32_t floor_epoch = 0;
    int64_t higher_start = leo;
    bool below_all = true;
    int32_t nh = p ? p->nhist : 0;
    for (int32_t i = -1; i < nh; i++) {
        int32_t e = i < 0 ? 0 : p->hist[i].epoch;
        int64_t s = i < 0 ? log_start : p->hist[i].start;
        if (e <= epoch) {
            floor_epoch = e;
            below_all = false;
        } else {
            higher_start = s;
            break;
        }
    }
    *out_epoch = below_all ? epoch : floor_epoch;
    *out_offset = higher_start;
}

int32_t sk_cluster_epoch_at(sk_broker *b, const char *topic, int32_t partitions, int32_t partition, int64_t offset)
{
    const proute *p = NULL;
    if (b->cluster && b->cluster->n > 1)
        p = cluster_proute(b, topic, partitions, partition, NULL);
    int32_t epoch = 0;
    for (int32_t i = 0; p && i < p->nhist && p->hist[i].start <= offset; i++)
        epoch = p->hist[i].epoch;
    return epoch;
}

bool sk_route_has_replica(const sk_route *r, int32_t node_id)
{
    for (int32_t j = 0; j < r->nreplicas; j++)
        if (r->replicas[j] == node_id)
            return true;
    return false;
}

int32_t sk_cluster_preferred_read_replica(const sk_broker *b, const sk_route *r, kf_str rack)
{
    if (!*b->config->replica_selector_class || rack.len <= 0 || sk_cluster_size(b) == 1)
        return -1;
    const char *lr = sk_cluster_rack(b, r->leader);
    if (lr && strlen(lr) == (size_t)rack.len && !memcmp(lr, rack.p, (size_t)rack.len))
        return -1;
    for (int32_t j = 0; j < r->nisr; j++) {
        const char *ir = sk_cluster_rack(b, r->isr[j]);
        if (ir && strlen(ir) == (size_t)rack.len && !memcmp(ir, rack.p, (size_t)rack.len))
            return r->isr[j];
    }
    return -1;
}

/* ---- Coordinators ------------------------------------------------------- */

int32_t cluster_topic_partitions(sk_broker *b, const char *name)
{
    sk_topic *t = sk_meta_topic(b->meta, name, strlen(name));
    if (t)
        return t->partitions;
    if (!strcmp(name, OFFSETS_TOPIC))
        return b->config->offsets_topic_num_partitions;
    if (!strcmp(name, TXN_TOPIC))
        return b->config->transaction_state_log_num_partitions;
    return -1;
}

int32_t sk_cluster_coordinator(sk_broker *b, int key_type, const char *key, size_t len)
{
    const char *topic = key_type == SK_COORD_TXN ? TXN_TOPIC : OFFSETS_TOPIC;
    int32_t n = cluster_topic_partitions(b, topic);
    sk_route r;
    sk_cluster_route(b, topic, n, sk_group_partition_for(key ? key : "", key ? len : 0, n), &r);
    return r.leader;
}

/* Records that `p` got a new leader epoch starting at the log end offset,
 * and stamps that epoch on the partition's next batches. -1 when out of
 * memory or the log cannot be loaded (logged; the epoch stays). */
int cluster_new_epoch(sk_broker *b, const char *topic, int32_t partition, proute *p)
{
    sk_partition *log = b->logs ? sk_logstore_find(b->logs, topic, partition) : NULL;
    if (log && sk_partition_ensure_loaded(log) != SK_ERR_NONE)
        return -1;
    int64_t start = log ? sk_partition_log_end_offset(log) : 0;
    epoch_start *h = realloc(p->hist, ((size_t)p->nhist + 1) * sizeof *h);
    if (!h)
        return -1;
    p->hist = h;
    p->epoch++;
    h[p->nhist++] = (epoch_start){p->epoch, start};
    b->cluster->dirty = true;
    if (log)
        sk_partition_set_leader_epoch(log, p->epoch);
    return 0;
}
