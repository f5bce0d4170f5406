/*
 * Topics = catalog entries + partition logs (see skiff/topics.h).
 */
#include "skiff/topics.h"

#include "skiff/errors.h"
#include "skiff/log.h"

/* Creates the logs of partitions [0, t->partitions) that do not exist yet. */
static int16_t ensure_logs(sk_broker *b, const sk_topic *t)
{
    for (int32_t i = 0; i < t->partitions; i++) {
        if (sk_logstore_find(b->logs, t->name, i))
            continue;
        sk_partition *p;
        int16_t err = sk_logstore_create_partition(b->logs, t->name, i, t->id, NULL, &p);
        if (err != SK_ERR_NONE && err != SK_ERR_TOPIC_ALREADY_EXISTS) {
            sk_error("topics", "cannot create the log of %s-%d: %s", t->name, i, sk_err_name(err));
            return err;
        }
    }
    return SK_ERR_NONE;
}

typedef struct open_ctx {
    sk_broker *b;
    int rc;
} open_ctx;

static void open_topic(sk_topic *t, void *arg)
{
    open_ctx *x = arg;
    if (ensure_logs(x->b, t) != SK_ERR_NONE)
        x->rc = -1;
}

int sk_topics_open(sk_broker *b)
{
    open_ctx x = {b, 0};
    sk_meta_foreach(b->meta, open_topic, &x);
    return x.rc;
}

int16_t sk_topics_create(sk_broker *b, const char *name, int32_t partitions, sk_topic **out)
{
    int16_t err = sk_meta_create_topic(b->meta, name, partitions, out);
    if (err != SK_ERR_NONE)
        return err;
    return ensure_logs(b, *out);
}

int16_t sk_topics_find_or_create(sk_broker *b, const char *name, size_t len, bool may_create,
                                 sk_topic **out)
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
