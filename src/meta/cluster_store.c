/*
 * The cluster fixture's routing state on disk (skiff/cluster.h): each
 * partition's replicas, leader and leader epoch with the offsets where its
 * epochs began, and CreateTopics' replication factor, in the data directory
 * as cluster-routes.json, written atomically after every change and read at
 * start. Which brokers are down is not kept: a restart brings every broker
 * up, so every replica is in the ISR again. Epochs never go backwards: a
 * partition saved without a leader elects one in a new epoch, as Kafka's
 * controller would once its broker is back.
 *
 * {"version":1,"topics":[{"name":"t","rf":3,"partitions":[
 *   {"leader":2,"epoch":3,"replicas":[2,3,1],"epochs":[[1,0],[2,17],[3,40]]}]}]}
 * (a partition being reassigned also has "adding" and "removing" node ids;
 * every broker being up after a restart, its reassignment completes).
 * Node ids, not broker indexes, so that a restart with other node ids or
 * fewer brokers is seen: a partition whose replicas are no longer all
 * brokers is assigned afresh (keeping its epochs, in a new one).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cluster_int.h"
#include "skiff/fsutil.h"
#include "skiff/meta.h"
#include "skiff/trace.h"

#define ROUTES_FILE "cluster-routes.json"
#define ROUTES_MAX_BYTES (64u << 20)

/* ---- Saving ------------------------------------------------------------- */

static cJSON *partition_json(const sk_cluster *c, const proute *p)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *reps = cJSON_AddArrayToObject(o, "replicas"), *hist = cJSON_AddArrayToObject(o, "epochs");
    cJSON_AddNumberToObject(o, "leader", p->leader >= 0 ? c->base_id + p->leader : -1);
    cJSON_AddNumberToObject(o, "epoch", p->epoch);
    for (int32_t j = 0; j < p->nrep; j++)
        cJSON_AddItemToArray(reps, cJSON_CreateNumber(c->base_id + p->rep[j]));
    if (p->adding || p->removing) {
        cJSON *adding = cJSON_AddArrayToObject(o, "adding"), *removing = cJSON_AddArrayToObject(o, "removing");
        for (int32_t j = 0; j < p->nrep; j++)
            if ((p->adding | p->removing) & (1u << p->rep[j]))
                cJSON_AddItemToArray(p->adding & (1u << p->rep[j]) ? adding : removing,
                                     cJSON_CreateNumber(c->base_id + p->rep[j]));
    }
    for (int32_t i = 0; i < p->nhist; i++) {
        cJSON *e = cJSON_CreateArray();
        cJSON_AddItemToArray(e, cJSON_CreateNumber(p->hist[i].epoch));
        cJSON_AddItemToArray(e, cJSON_CreateNumber((double)p->hist[i].start));
        cJSON_AddItemToArray(hist, e);
    }
    return o;
}

void cluster_flush(sk_broker *b)
{
    sk_cluster *c = b->cluster;
    if (!c || !c->dirty || !c->dir)
        return;
    cJSON *root = cJSON_CreateObject();
    cJSON_AddNumberToObject(root, "version", 1);
    cJSON *arr = cJSON_AddArrayToObject(root, "topics");
    size_t bucket = 0;
    for (sk_hnode *n = sk_htab_next(&c->topics, NULL, &bucket); n; n = sk_htab_next(&c->topics, n, &bucket)) {
        const troute *t = SK_CONTAINER_OF(n, troute, node);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", t->name);
        cJSON_AddNumberToObject(o, "rf", t->rf);
        cJSON *parts = cJSON_AddArrayToObject(o, "partitions");
        for (int32_t i = 0; i < t->nparts; i++)
            cJSON_AddItemToArray(parts, partition_json(c, &t->parts[i]));
        cJSON_AddItemToArray(arr, o);
    }
    char *text = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", c->dir, ROUTES_FILE);
    if (!text || sk_file_write_atomic(path, text, strlen(text)) < 0)
        sk_error("cluster", "cannot write %s: %s (routing state kept in memory only)", path,
                 text ? strerror(errno) : "out of memory");
    else
        c->dirty = false;
    free(text);
}

/* ---- Loading ------------------------------------------------------------ */

static bool json_int(const cJSON *v, int64_t lo, int64_t hi, int64_t *out)
{
    if (!cJSON_IsNumber(v) || v->valuedouble < (double)lo || v->valuedouble > (double)hi ||
        v->valuedouble != (double)(int64_t)v->valuedouble)
        return false;
    *out = (int64_t)v->valuedouble;
    return true;
}

/* The replica list of a saved partition as broker indexes; false when it
 * names a node that is not one of the brokers, or one twice. */
static bool load_replicas(const sk_cluster *c, const cJSON *reps, proute *p)
{
    int32_t n = cJSON_GetArraySize(reps);
    if (!cJSON_IsArray(reps) || n < 1 || n > c->n)
        return false;
    uint32_t seen = 0;
    for (int32_t j = 0; j < n; j++) {
        int64_t id;
        if (!json_int(cJSON_GetArrayItem(reps, j), INT32_MIN, INT32_MAX, &id))
            return false;
        int32_t i = cluster_index(c, (int32_t)id);
        if (i < 0 || (seen & (1u << i)))
            return false;
        seen |= 1u << i;
        p->rep[j] = (uint8_t)i;
    }
    p->nrep = (uint8_t)n;
    p->isr = (uint16_t)seen;
    return true;
}

/* A reassignment's node ids ("adding", "removing") as a mask of replicas;
 * false when one is not a replica. */
static bool load_mask(const sk_cluster *c, const cJSON *ids, const proute *p, uint16_t *mask)
{
    *mask = 0;
    for (const cJSON *v = cJSON_IsArray(ids) ? ids->child : NULL; v; v = v->next) {
        int64_t id;
        if (!json_int(v, INT32_MIN, INT32_MAX, &id))
            return false;
        int32_t i = cluster_index(c, (int32_t)id);
        if (i < 0 || !(p->isr & (1u << i)))
            return false;
        *mask |= (uint16_t)(1u << i);
    }
    return true;
}

/* The epoch history: ascending epochs, each at most `epoch`, with
 * non-decreasing start offsets. */
static int load_history(const cJSON *hist, proute *p)
{
    int32_t n = cJSON_IsArray(hist) ? cJSON_GetArraySize(hist) : 0;
    if (n == 0)
        return 0;
    if (!(p->hist = calloc((size_t)n, sizeof *p->hist)))
        return -1;
    for (int32_t i = 0; i < n; i++) {
        const cJSON *e = cJSON_GetArrayItem(hist, i);
        int64_t epoch, start;
        if (!cJSON_IsArray(e) || !json_int(cJSON_GetArrayItem(e, 0), 1, p->epoch, &epoch) ||
            !json_int(cJSON_GetArrayItem(e, 1), 0, INT64_MAX / 2, &start) ||
            (p->nhist > 0 && (epoch <= p->hist[p->nhist - 1].epoch || start < p->hist[p->nhist - 1].start)))
            return 1;
        p->hist[p->nhist++] = (epoch_start){(int32_t)epoch, start};
    }
    return 0;
}

/* One saved partition into `p` (partition `index` of `t`); 0, 1 when the
 * entry is malformed, -1 when out of memory. */
static int load_partition(sk_broker *b, troute *t, int32_t index, const cJSON *o, proute *p)
{
    sk_cluster *c = b->cluster;
    int64_t leader, epoch;
    if (!cJSON_IsObject(o) || !json_int(cJSON_GetObjectItemCaseSensitive(o, "leader"), INT32_MIN, INT32_MAX, &leader) ||
        !json_int(cJSON_GetObjectItemCaseSensitive(o, "epoch"), 0, INT32_MAX - 1, &epoch))
        return 1;
    p->epoch = (int32_t)epoch;
    int rc = load_history(cJSON_GetObjectItemCaseSensitive(o, "epochs"), p);
    if (rc != 0)
        return rc;
    bool fits = load_replicas(c, cJSON_GetObjectItemCaseSensitive(o, "replicas"), p);
    if (!fits) {
        /* Saved with other brokers: assigned afresh among these. */
        cluster_assign_partition(b, t, index, p);
        sk_warn("cluster", "%s-%d: saved replicas are not among these brokers; assigned afresh", t->name, index);
    }
    if (fits &&
        (!load_mask(c, cJSON_GetObjectItemCaseSensitive(o, "adding"), p, &p->adding) ||
         !load_mask(c, cJSON_GetObjectItemCaseSensitive(o, "removing"), p, &p->removing) || (p->adding & p->removing)))
        return 1;
    int32_t li = leader >= 0 ? cluster_index(c, (int32_t)leader) : -1;
    p->leader = (int8_t)(li >= 0 && (p->isr & (1u << li)) ? li : -1);
    if (p->leader < 0 || !fits) {
        /* No leader to keep: elect one in a new epoch (epochs never go back). */
        p->leader = (int8_t)cluster_elect(c, p);
        if (cluster_new_epoch(b, t->name, index, p) < 0)
            return -1;
        sk_info("cluster", "%s-%d: saved without a leader; leader %d, leader epoch %d", t->name, index,
                c->base_id + p->leader, p->epoch);
    }
    /* Every broker is up again: a reassignment waiting for one completes. */
    return cluster_complete_reassignment(b, t, index, p);
}

static int load_topic(sk_broker *b, const cJSON *o)
{
    sk_cluster *c = b->cluster;
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(o, "name");
    const cJSON *parts = cJSON_GetObjectItemCaseSensitive(o, "partitions");
    int64_t rf;
    if (!cJSON_IsString(name) || !cJSON_IsArray(parts) ||
        !json_int(cJSON_GetObjectItemCaseSensitive(o, "rf"), 0, SK_CLUSTER_MAX_BROKERS, &rf))
        return 1;
    /* Routes of a topic deleted since are not kept. */
    int32_t have = cluster_topic_partitions(b, name->valuestring);
    if (have < 0)
        return 0;
    troute *t = cluster_topic_get(c, name->valuestring);
    if (!t)
        return -1;
    t->rf = rf > c->n ? c->n : (int32_t)rf;
    int32_t n = cJSON_GetArraySize(parts);
    if (n > have)
        n = have;
    if (n == 0)
        return 0;
    if (!(t->parts = calloc((size_t)n, sizeof *t->parts)))
        return -1;
    for (int32_t i = 0; i < n; i++) {
        int rc = load_partition(b, t, i, cJSON_GetArrayItem(parts, i), &t->parts[i]);
        t->nparts = i + 1;
        if (rc != 0)
            return rc;
    }
    return 0;
}

int sk_cluster_load(sk_broker *b, const char *dir)
{
    sk_cluster *c = b->cluster;
    if (!c || c->n < 2)
        return 0;
    if (!(c->dir = strdup(dir))) {
        sk_error("cluster", "out of memory");
        return -1;
    }
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, ROUTES_FILE);
    size_t len;
    char *text = sk_file_read_all(path, ROUTES_MAX_BYTES, &len);
    if (!text) {
        if (errno == ENOENT)
            return 0;
        sk_error("cluster", "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    cJSON *root = cJSON_ParseWithLength(text, len);
    free(text);
    const cJSON *topics = root ? cJSON_GetObjectItemCaseSensitive(root, "topics") : NULL;
    int64_t version;
    int rc =
        cJSON_IsArray(topics) && json_int(cJSON_GetObjectItemCaseSensitive(root, "version"), 1, 1, &version) ? 0 : 1;
    int32_t ntopics = 0;
    for (const cJSON *o = topics ? topics->child : NULL; rc == 0 && o; o = o->next, ntopics++)
        rc = load_topic(b, o);
    cJSON_Delete(root);
    if (rc != 0) {
        sk_error("cluster", "%s: %s; move it away to start with the default routes", path,
                 rc < 0 ? "out of memory" : "malformed");
        return -1;
    }
    sk_info("cluster", "routes of %d topic(s) loaded from %s", ntopics, path);
    cluster_flush(b); /* elections made while loading */
    return 0;
}
