/*
 * Topics = catalog entries + partition logs (see skiff/topics.h). The
 * catalog always changes first (and durably); the logs follow. What a crash
 * can leave behind, sk_topics_open repairs: missing logs of catalog topics
 * are created, logs of deleted topics are deleted.
 */
#include "skiff/topics.h"

#include <stdlib.h>
#include <string.h>

#include "skiff/cluster.h"
#include "skiff/errors.h"
#include "skiff/group.h"
#include "skiff/trace.h"

/* Creates the logs of partitions [0, t->partitions) that do not exist yet. */
static int16_t ensure_logs(sk_broker *b, const sk_topic *t)
{
    for (int32_t i = 0; i < t->partitions; i++) {
        if (sk_logstore_find(b->logs, t->name, i))
            continue;
        sk_partition *p;
        int16_t err = sk_logstore_create_partition(b->logs, t->name, i, t->id, &t->log_config, &p);
        if (err != SK_ERR_NONE && err != SK_ERR_TOPIC_ALREADY_EXISTS) {
            sk_error("topics", "cannot create the log of %s-%d: %s", t->name, i, sk_err_name(err));
            return err;
        }
    }
    return SK_ERR_NONE;
}

void sk_topics_configure(sk_broker *b, sk_topic *t)
{
    sk_topic_log_config(&t->configs, b->config, &t->log_config);
    t->compression = sk_topic_config_compression(&t->configs, &t->compression_level);
    for (int32_t i = 0; i < t->partitions; i++) {
        sk_partition *p = sk_logstore_find(b->logs, t->name, i);
        if (p)
            sk_partition_set_config(p, &t->log_config);
    }
}

bool sk_topics_log_config(void *arg, const char *topic, sk_log_config *out)
{
    sk_broker *b = arg;
    sk_topic *t = sk_meta_topic(b->meta, topic, strlen(topic));
    if (!t)
        return false;
    sk_topic_log_config(&t->configs, b->config, out);
    return true;
}

/* ---- Start-up ----------------------------------------------------------- */

typedef struct pending {
    sk_broker *b;       /* the broker starting up (borrowed) */
    uint8_t (*ids)[16]; /* deletions handled */
    int n, cap;         /* entries of ids, slots allocated */
} pending;

/* Deletes what is left of a topic deleted before a crash: logs named like
 * it, unless they belong to a topic of the same name created since. */
static void finish_deletion(const char *name, const uint8_t id[16], int32_t partitions, void *arg)
{
    pending *x = arg;
    sk_topic *now = sk_meta_topic(x->b->meta, name, strlen(name));
    for (int32_t i = 0; i < partitions; i++) {
        sk_partition *p = sk_logstore_find(x->b->logs, name, i);
        if (!p)
            continue;
        uint8_t pid[16];
        bool has_id = sk_partition_read_topic_id(p, pid);
        bool stray = has_id ? memcmp(pid, id, 16) == 0 : !now;
        if (stray) {
            sk_info("topics", "deleting the log of %s-%d left by a deleted topic", name, i);
            sk_logstore_delete_partition(x->b->logs, p);
        }
    }
    if (x->n == x->cap) {
        int cap = x->cap ? x->cap * 2 : 8;
        uint8_t(*ids)[16] = realloc(x->ids, (size_t)cap * sizeof *ids);
        if (!ids)
            return;
        x->ids = ids;
        x->cap = cap;
    }
    memcpy(x->ids[x->n++], id, 16);
}

typedef struct open_ctx {
    sk_broker *b; /* the broker starting up (borrowed) */
    int rc;       /* 0, or -1 once a topic's logs could not be opened or loaded */
} open_ctx;

/* Loads the logs of partitions [0, t->partitions): the first error. */
static int16_t load_logs(sk_broker *b, const sk_topic *t)
{
    for (int32_t i = 0; i < t->partitions; i++) {
        sk_partition *p = sk_logstore_find(b->logs, t->name, i);
        int16_t err = p ? sk_partition_ensure_loaded(p) : SK_ERR_KAFKA_STORAGE_ERROR;
        if (err != SK_ERR_NONE)
            return err;
    }
    return SK_ERR_NONE;
}

static void open_topic(sk_topic *t, void *arg)
{
    open_ctx *x = arg;
    sk_topics_configure(x->b, t);
    if (ensure_logs(x->b, t) != SK_ERR_NONE)
        x->rc = -1;
    /* The coordinators replay the internal topics next: their logs are
     * loaded now, so one that cannot be stops start-up instead of reading
     * as empty. */
    else if (t->internal && load_logs(x->b, t) != SK_ERR_NONE)
        x->rc = -1;
}

int sk_topics_open(sk_broker *b)
{
    pending del = {.b = b};
    sk_meta_foreach_deletion(b->meta, finish_deletion, &del);
    for (int i = 0; i < del.n; i++)
        sk_meta_deletion_done(b->meta, del.ids[i], i == del.n - 1);
    free(del.ids);
    open_ctx x = {b, 0};
    sk_meta_foreach(b->meta, open_topic, &x);
    return x.rc;
}

/* ---- Changes ------------------------------------------------------------ */

int16_t sk_topics_create_with_configs(sk_broker *b, const char *name, int32_t partitions,
                                      const sk_topic_configs *configs, sk_topic **out)
{
    int16_t err = sk_meta_create_topic(b->meta, name, partitions, configs, out);
    if (err != SK_ERR_NONE)
        return err;
    sk_topics_configure(b, *out);
    return ensure_logs(b, *out);
}

int16_t sk_topics_create(sk_broker *b, const char *name, int32_t partitions, sk_topic **out)
{
    return sk_topics_create_with_configs(b, name, partitions, NULL, out);
}

int16_t sk_topics_find_or_create(sk_broker *b, const char *name, size_t len, bool may_create, sk_topic **out)
{
    *out = sk_meta_topic(b->meta, name, len);
    if (*out)
        return SK_ERR_NONE;
    if (sk_topic_name_check(name, len) != SK_ERR_NONE)
        return SK_ERR_INVALID_TOPIC_EXCEPTION;
    if (!may_create || !b->config->auto_create_topics_enable || sk_topic_is_internal(name))
        return SK_ERR_UNKNOWN_TOPIC_OR_PARTITION;
    int16_t err = sk_topics_create(b, name, b->config->num_partitions, out);
    if (err == SK_ERR_NONE)
        sk_info("topics", "auto-created topic %s with %d partitions", name, b->config->num_partitions);
    return err;
}

sk_partition *sk_topics_partition(sk_broker *b, const sk_topic *t, int32_t index)
{
    if (index < 0 || index >= t->partitions)
        return NULL;
    return sk_logstore_find(b->logs, t->name, index);
}

int16_t sk_topics_delete(sk_broker *b, sk_topic *t)
{
    char *name = strdup(t->name);
    uint8_t id[16];
    memcpy(id, t->id, 16);
    int32_t partitions = t->partitions;
    if (!name)
        return SK_ERR_KAFKA_STORAGE_ERROR;
    int16_t err = sk_meta_delete_topic(b->meta, t);
    if (err != SK_ERR_NONE) {
        free(name);
        return err;
    }
    if (b->groups)
        sk_groups_topic_deleted(b->groups, name);
    sk_cluster_topic_deleted(b, name);
    bool all = true;
    for (int32_t i = 0; i < partitions; i++) {
        sk_partition *p = sk_logstore_find(b->logs, name, i);
        if (p && sk_logstore_delete_partition(b->logs, p) != SK_ERR_NONE) {
            sk_error("topics", "cannot delete the log of %s-%d; retried at the next start", name, i);
            all = false;
        }
    }
    if (all)
        sk_meta_deletion_done(b->meta, id, false);
    free(name);
    return SK_ERR_NONE;
}

int16_t sk_topics_add_partitions(sk_broker *b, sk_topic *t, int32_t count)
{
    int16_t err = sk_meta_set_partitions(b->meta, t, count);
    if (err != SK_ERR_NONE)
        return err;
    return ensure_logs(b, t);
}

int16_t sk_topics_set_configs(sk_broker *b, sk_topic *t, const sk_topic_configs *configs)
{
    int16_t err = sk_meta_set_configs(b->meta, t, configs);
    if (err == SK_ERR_NONE)
        sk_topics_configure(b, t);
    return err;
}

sk_topic *sk_topics_internal(sk_broker *b, const char *name, int32_t partitions, const char *segment_bytes)
{
    sk_topic *t = sk_meta_topic(b->meta, name, strlen(name));
    if (t)
        return t;
    sk_topic_configs configs;
    memset(&configs, 0, sizeof configs);
    char msg[128];
    int16_t err = sk_topic_configs_set(&configs, "cleanup.policy", "compact", msg, sizeof msg);
    if (err == SK_ERR_NONE && segment_bytes)
        err = sk_topic_configs_set(&configs, "segment.bytes", segment_bytes, msg, sizeof msg);
    if (err == SK_ERR_NONE)
        err = sk_topics_create_with_configs(b, name, partitions, &configs, &t);
    sk_topic_configs_free(&configs);
    if (err != SK_ERR_NONE) {
        sk_error("topics", "cannot create %s: %s", name, sk_err_name(err));
        return NULL;
    }
    sk_info("topics", "created %s with %d partitions", name, t->partitions);
    return t;
}
