/*
 * Cluster metadata: meta.properties (cluster id, node id) and the topic
 * catalog. The catalog is a JSON document rewritten atomically on every
 * change:
 *   {"version": 1,
 *    "topics": [{"name": "t", "topic_id": "<22 chars>", "partitions": 3,
 *                "configs": {"retention.ms": "1000"}}, ...],
 *    "deleted": [{"name": "old", "topic_id": "<22 chars>", "partitions": 1}]}
 * "configs" (dynamic topic configs, canonical text) and "deleted" (pending
 * deletions, see meta.h) are omitted when empty.
 * Topics are kept in creation order (an array) with a hash index by name.
 * Every mutation changes memory first, writes the catalog, and undoes the
 * memory change when the write fails, so memory and disk always agree.
 */
#include "skiff/meta.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "skiff/errors.h"
#include "skiff/fsutil.h"
#include "skiff/trace.h"

#define CATALOG_FILE "skiff-topics.json"
#define META_FILE "meta.properties"
#define CATALOG_MAX_BYTES (64u << 20)
#define TOPIC_NAME_MAX 249

/* A topic deleted from the catalog whose logs may still exist. */
typedef struct deletion {
    char *name;         /* topic name (heap) */
    uint8_t id[16];     /* its topic id */
    int32_t partitions; /* partition count when deleted */
} deletion;

struct sk_meta {
    char *dir;                            /* log dir holding the files */
    int32_t node_id;                      /* this node */
    char cluster_id[SK_UUID_STR_LEN + 1]; /* from meta.properties */
    sk_topic **topics;                    /* creation order */
    int32_t ntopics, cap;                 /* entries of topics, slots allocated */
    sk_htab index;                        /* topics by name */
    deletion *deletions;                  /* pending deletions */
    int32_t ndeletions, deletions_cap;    /* entries of deletions, slots allocated */
};

/* Adds `t` to the array and the index; takes ownership on success. */
static int topic_add(sk_meta *m, sk_topic *t)
{
    if (m->ntopics == m->cap) {
        int32_t cap = m->cap ? m->cap * 2 : 16;
        sk_topic **a = realloc(m->topics, (size_t)cap * sizeof *a);
        if (!a)
            return -1;
        m->topics = a;
        m->cap = cap;
    }
    if (sk_htab_insert(&m->index, &t->node, sk_hash_bytes(t->name, strlen(t->name))) < 0)
        return -1;
    m->topics[m->ntopics++] = t;
    return 0;
}

/* Takes `t` out of the array (keeping the order) and the index. */
static void topic_unlink(sk_meta *m, sk_topic *t)
{
    sk_htab_remove(&m->index, &t->node);
    int32_t i = 0;
    while (m->topics[i] != t)
        i++;
    memmove(&m->topics[i], &m->topics[i + 1], (size_t)(m->ntopics - i - 1) * sizeof *m->topics);
    m->ntopics--;
}

static void topic_free(sk_topic *t)
{
    if (t) {
        sk_topic_configs_free(&t->configs);
        free(t->name);
        free(t);
    }
}

sk_topic *sk_meta_topic(sk_meta *m, const char *name, size_t len)
{
    uint64_t h = sk_hash_bytes(name, len);
    for (sk_hnode *n = sk_htab_chain(&m->index, h); n; n = n->next) {
        sk_topic *t = SK_CONTAINER_OF(n, sk_topic, node);
        if (n->hash == h && strlen(t->name) == len && !memcmp(t->name, name, len))
            return t;
    }
    return NULL;
}

sk_topic *sk_meta_topic_by_id(sk_meta *m, const uint8_t id[16])
{
    for (int32_t i = 0; i < m->ntopics; i++)
        if (!memcmp(m->topics[i]->id, id, 16))
            return m->topics[i];
    return NULL;
}

int16_t sk_topic_name_check_msg(const char *name, size_t len, char *msg, size_t msg_len)
{
    const char *why = NULL;
    if (len == 0)
        why = "the empty string is not allowed";
    else if (len == 1 && name[0] == '.')
        why = "'.' is not allowed";
    else if (len == 2 && name[0] == '.' && name[1] == '.')
        why = "'..' is not allowed";
    if (why) {
        snprintf(msg, msg_len, "Topic name is invalid: %s", why);
        return SK_ERR_INVALID_TOPIC_EXCEPTION;
    }
    if (len > TOPIC_NAME_MAX) {
        snprintf(msg, msg_len, "Topic name is invalid: the length of '%.*s' is longer than the max allowed length %d",
                 (int)len, name, TOPIC_NAME_MAX);
        return SK_ERR_INVALID_TOPIC_EXCEPTION;
    }
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
                  c == '-';
        if (!ok) {
            snprintf(msg, msg_len,
                     "Topic name is invalid: '%.*s' contains one or more characters other than ASCII "
                     "alphanumerics, '.', '_' and '-'",
                     (int)len, name);
            return SK_ERR_INVALID_TOPIC_EXCEPTION;
        }
    }
    return SK_ERR_NONE;
}

int16_t sk_topic_name_check(const char *name, size_t len)
{
    char msg[1];
    return sk_topic_name_check_msg(name, len, msg, 0);
}

bool sk_topic_is_internal(const char *name)
{
    return !strcmp(name, "__consumer_offsets") || !strcmp(name, "__transaction_state");
}

/* Kafka treats '.' and '_' as the same character when checking collisions
 * (metric names would clash). */
static bool names_collide(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        char x = *a == '.' ? '_' : *a;
        char y = *b == '.' ? '_' : *b;
        if (x != y)
            return false;
    }
    return *a == *b;
}

sk_topic *sk_meta_topic_colliding(sk_meta *m, const char *name)
{
    if (!strpbrk(name, "._"))
        return NULL;
    for (int32_t i = 0; i < m->ntopics; i++)
        if (strcmp(m->topics[i]->name, name) != 0 && names_collide(m->topics[i]->name, name))
            return m->topics[i];
    return NULL;
}

/* ---- The catalog file --------------------------------------------------- */

static cJSON *topic_json(const char *name, const uint8_t id[16], int32_t partitions)
{
    char text[SK_UUID_STR_LEN + 1];
    sk_uuid_to_string(id, text);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", name);
    cJSON_AddStringToObject(o, "topic_id", text);
    cJSON_AddNumberToObject(o, "partitions", partitions);
    return o;
}

static int catalog_save(sk_meta *m)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddNumberToObject(root, "version", 1);
    cJSON *arr = cJSON_AddArrayToObject(root, "topics");
    for (int32_t i = 0; i < m->ntopics; i++) {
        sk_topic *t = m->topics[i];
        cJSON *o = topic_json(t->name, t->id, t->partitions);
        cJSON *configs = NULL;
        for (int c = 0; c < SK_TC_COUNT; c++) {
            if (!t->configs.value[c])
                continue;
            if (!configs)
                configs = cJSON_AddObjectToObject(o, "configs");
            cJSON_AddStringToObject(configs, sk_topic_config_def_get((sk_topic_config_id)c)->name, t->configs.value[c]);
        }
        cJSON_AddItemToArray(arr, o);
    }
    if (m->ndeletions > 0) {
        cJSON *del = cJSON_AddArrayToObject(root, "deleted");
        for (int32_t i = 0; i < m->ndeletions; i++)
            cJSON_AddItemToArray(del, topic_json(m->deletions[i].name, m->deletions[i].id, m->deletions[i].partitions));
    }
    char *text = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    if (!text)
        return -1;
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", m->dir, CATALOG_FILE);
    int rc = sk_file_write_atomic(path, text, strlen(text));
    if (rc < 0)
        sk_error("meta", "cannot write %s: %s", path, strerror(errno));
    free(text);
    return rc;
}

/* Reads name, topic_id and partitions of a catalog entry; -1 if malformed. */
static int entry_read(cJSON *o, const char **name, uint8_t id[16], int32_t *partitions)
{
    cJSON *n = cJSON_GetObjectItemCaseSensitive(o, "name");
    cJSON *i = cJSON_GetObjectItemCaseSensitive(o, "topic_id");
    cJSON *p = cJSON_GetObjectItemCaseSensitive(o, "partitions");
    if (!cJSON_IsString(n) || !cJSON_IsString(i) || !cJSON_IsNumber(p) ||
        sk_topic_name_check(n->valuestring, strlen(n->valuestring)) != SK_ERR_NONE ||
        sk_uuid_from_string(i->valuestring, id) < 0 || p->valuedouble < 1 || p->valuedouble > INT32_MAX)
        return -1;
    *name = n->valuestring;
    *partitions = (int32_t)p->valuedouble;
    return 0;
}

/* Loads the "configs" object of a topic entry; invalid entries are dropped
 * with a warning (a config a later version removed, say). */
static void configs_load(sk_topic *t, cJSON *o, const char *path)
{
    cJSON *configs = cJSON_GetObjectItemCaseSensitive(o, "configs");
    cJSON *c;
    cJSON_ArrayForEach(c, configs)
    {
        char msg[512];
        if (!cJSON_IsString(c)) {
            sk_warn("meta", "%s: topic %s: config %s is not a string; ignored", path, t->name, c->string);
            continue;
        }
        if (sk_topic_configs_set(&t->configs, c->string, c->valuestring, msg, sizeof msg) != SK_ERR_NONE)
            sk_warn("meta", "%s: topic %s: %s; ignored", path, t->name, msg);
    }
}

static int deletion_add(sk_meta *m, const char *name, const uint8_t id[16], int32_t partitions)
{
    if (m->ndeletions == m->deletions_cap) {
        int32_t cap = m->deletions_cap ? m->deletions_cap * 2 : 4;
        deletion *d = realloc(m->deletions, (size_t)cap * sizeof *d);
        if (!d)
            return -1;
        m->deletions = d;
        m->deletions_cap = cap;
    }
    deletion *d = &m->deletions[m->ndeletions];
    if (!(d->name = strdup(name)))
        return -1;
    memcpy(d->id, id, 16);
    d->partitions = partitions;
    m->ndeletions++;
    return 0;
}

static int catalog_load(sk_meta *m)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", m->dir, CATALOG_FILE);
    char *text = sk_file_read_all(path, CATALOG_MAX_BYTES, NULL);
    if (!text) {
        if (errno == ENOENT)
            return 0;
        sk_error("meta", "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    cJSON *root = cJSON_Parse(text);
    free(text);
    cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, "topics");
    if (!cJSON_IsArray(arr)) {
        sk_error("meta", "%s is corrupt: no topics array", path);
        cJSON_Delete(root);
        return -1;
    }
    int rc = 0;
    cJSON *o;
    cJSON_ArrayForEach(o, arr)
    {
        const char *name;
        sk_topic *t = calloc(1, sizeof *t);
        if (!t || entry_read(o, &name, t->id, &t->partitions) < 0 || sk_meta_topic(m, name, strlen(name)) ||
            !(t->name = strdup(name))) {
            sk_error("meta", "%s is corrupt: bad topic entry", path);
            topic_free(t);
            rc = -1;
            break;
        }
        t->internal = sk_topic_is_internal(t->name);
        configs_load(t, o, path);
        if (topic_add(m, t) < 0) {
            topic_free(t);
            rc = -1;
            break;
        }
    }
    cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(root, "deleted"))
    {
        const char *name;
        uint8_t id[16];
        int32_t partitions;
        if (rc == 0 && (entry_read(o, &name, id, &partitions) < 0 || deletion_add(m, name, id, partitions) < 0)) {
            sk_error("meta", "%s is corrupt: bad deleted topic entry", path);
            rc = -1;
        }
    }
    cJSON_Delete(root);
    return rc;
}

/* ---- meta.properties ---------------------------------------------------- */

/* meta.properties, as Kafka writes it: key=value lines, '#' comments. A new
 * directory gets `cluster_id`, or a random id when it is NULL or not a Kafka
 * UUID (testcontainers-go's examples give "test-cluster"); an existing one
 * keeps its own. */
static int properties_load(sk_meta *m, const char *cluster_id)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", m->dir, META_FILE);
    char *text = sk_file_read_all(path, 1 << 16, NULL);
    if (!text) {
        if (errno != ENOENT) {
            sk_error("meta", "cannot read %s: %s", path, strerror(errno));
            return -1;
        }
        /* Kafka decodes a given id leniently (java.util.Base64: unused
         * trailing bits may be set, as in the widely copied
         * MkU3OEVBNTcwNTJENDM2Qk) and keeps the text as given. */
        static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                     "0123456789-_";
        if (cluster_id && (strlen(cluster_id) != SK_UUID_STR_LEN || strspn(cluster_id, b64url) != SK_UUID_STR_LEN)) {
            sk_warn("meta",
                    "cluster id \"%s\" is not a Kafka UUID (22 characters of URL-safe "
                    "base64); a random one is used",
                    cluster_id);
            cluster_id = NULL;
        }
        uint8_t id[16];
        if (cluster_id) {
            memcpy(m->cluster_id, cluster_id, SK_UUID_STR_LEN + 1);
        } else {
            if (sk_uuid_random(id) < 0)
                return -1;
            sk_uuid_to_string(id, m->cluster_id);
        }
        char body[256];
        int n = snprintf(body, sizeof body, "#Written by skiff\nversion=1\ncluster.id=%s\nnode.id=%d\n", m->cluster_id,
                         m->node_id);
        if (sk_file_write_atomic(path, body, (size_t)n) < 0) {
            sk_error("meta", "cannot write %s: %s", path, strerror(errno));
            return -1;
        }
        sk_info("meta", "formatted %s with cluster id %s", m->dir, m->cluster_id);
        return 0;
    }
    int rc = 0;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *eq = strchr(line, '=');
        if (line[0] == '#' || !eq)
            continue;
        *eq = '\0';
        const char *val = eq + 1;
        if (!strcmp(line, "cluster.id")) {
            snprintf(m->cluster_id, sizeof m->cluster_id, "%s", val);
        } else if (!strcmp(line, "node.id") && atoi(val) != m->node_id) {
            sk_error("meta", "%s has node.id=%s but the configured node.id is %d", path, val, m->node_id);
            rc = -1;
        }
    }
    free(text);
    if (!rc && !m->cluster_id[0]) {
        sk_error("meta", "%s has no cluster.id", path);
        rc = -1;
    }
    if (!rc && cluster_id && strcmp(cluster_id, m->cluster_id) != 0)
        sk_warn("meta", "%s was formatted with cluster id %s; the requested %s is not used", path, m->cluster_id,
                cluster_id);
    return rc;
}

/* ---- Open and close ----------------------------------------------------- */

sk_meta *sk_meta_open(const char *dir, int32_t node_id)
{
    return sk_meta_open_cluster(dir, node_id, NULL);
}

sk_meta *sk_meta_open_cluster(const char *dir, int32_t node_id, const char *cluster_id)
{
    if (sk_mkdirs(dir) < 0) {
        sk_error("meta", "cannot create log dir %s: %s", dir, strerror(errno));
        return NULL;
    }
    sk_meta *m = calloc(1, sizeof *m);
    if (!m || !(m->dir = strdup(dir))) {
        sk_meta_close(m);
        return NULL;
    }
    m->node_id = node_id;
    if (properties_load(m, cluster_id) < 0 || catalog_load(m) < 0) {
        sk_meta_close(m);
        return NULL;
    }
    sk_info("meta", "cluster id %s, node id %d, %d topics", m->cluster_id, node_id, m->ntopics);
    return m;
}

void sk_meta_close(sk_meta *m)
{
    if (!m)
        return;
    for (int32_t i = 0; i < m->ntopics; i++)
        topic_free(m->topics[i]);
    for (int32_t i = 0; i < m->ndeletions; i++)
        free(m->deletions[i].name);
    free(m->deletions);
    free(m->topics);
    sk_htab_free(&m->index);
    free(m->dir);
    free(m);
}

const char *sk_meta_cluster_id(const sk_meta *m)
{
    return m->cluster_id;
}

const char *sk_meta_dir(const sk_meta *m)
{
    return m->dir;
}

/* ---- Changes ------------------------------------------------------------ */

int16_t sk_meta_create_topic(sk_meta *m, const char *name, int32_t partitions, const sk_topic_configs *configs,
                             sk_topic **out)
{
    size_t len = strlen(name);
    if (sk_topic_name_check(name, len) != SK_ERR_NONE)
        return SK_ERR_INVALID_TOPIC_EXCEPTION;
    if (sk_meta_topic(m, name, len))
        return SK_ERR_TOPIC_ALREADY_EXISTS;
    if (partitions < 1)
        return SK_ERR_INVALID_PARTITIONS;
    if (sk_meta_topic_colliding(m, name))
        return SK_ERR_INVALID_TOPIC_EXCEPTION;
    sk_topic *t = calloc(1, sizeof *t);
    if (!t || !(t->name = strdup(name)) || sk_uuid_random(t->id) < 0 ||
        sk_topic_configs_copy(&t->configs, configs) < 0) {
        topic_free(t);
        return SK_ERR_KAFKA_STORAGE_ERROR;
    }
    t->partitions = partitions;
    t->internal = sk_topic_is_internal(name);
    if (topic_add(m, t) < 0) {
        topic_free(t);
        return SK_ERR_KAFKA_STORAGE_ERROR;
    }
    if (catalog_save(m) < 0) {
        topic_unlink(m, t);
        topic_free(t);
        return SK_ERR_KAFKA_STORAGE_ERROR;
    }
    char id[SK_UUID_STR_LEN + 1];
    sk_uuid_to_string(t->id, id);
    sk_info("meta", "created topic %s with %d partitions, topic id %s", name, partitions, id);
    *out = t;
    return SK_ERR_NONE;
}

int16_t sk_meta_delete_topic(sk_meta *m, sk_topic *t)
{
    if (deletion_add(m, t->name, t->id, t->partitions) < 0)
        return SK_ERR_KAFKA_STORAGE_ERROR;
    int32_t at = 0;
    while (m->topics[at] != t)
        at++;
    topic_unlink(m, t);
    if (catalog_save(m) < 0) {
        /* Undo: put the topic back where it was. */
        m->ndeletions--;
        free(m->deletions[m->ndeletions].name);
        topic_add(m, t); /* cannot fail: the array and index had room for it */
        memmove(&m->topics[at + 1], &m->topics[at], (size_t)(m->ntopics - 1 - at) * sizeof *m->topics);
        m->topics[at] = t;
        return SK_ERR_KAFKA_STORAGE_ERROR;
    }
    char id[SK_UUID_STR_LEN + 1];
    sk_uuid_to_string(t->id, id);
    sk_info("meta", "deleted topic %s (topic id %s)", t->name, id);
    topic_free(t);
    return SK_ERR_NONE;
}

void sk_meta_foreach_deletion(sk_meta *m,
                              void (*fn)(const char *name, const uint8_t id[16], int32_t partitions, void *arg),
                              void *arg)
{
    for (int32_t i = 0; i < m->ndeletions; i++)
        fn(m->deletions[i].name, m->deletions[i].id, m->deletions[i].partitions, arg);
}

void sk_meta_deletion_done(sk_meta *m, const uint8_t id[16], bool persist)
{
    for (int32_t i = 0; i < m->ndeletions; i++) {
        if (memcmp(m->deletions[i].id, id, 16) != 0)
            continue;
        free(m->deletions[i].name);
        m->deletions[i] = m->deletions[--m->ndeletions];
        if (persist)
            catalog_save(m); /* on failure the next start redoes the (finished) deletion: harmless */
        return;
    }
}

int16_t sk_meta_set_partitions(sk_meta *m, sk_topic *t, int32_t partitions)
{
    if (partitions <= t->partitions)
        return SK_ERR_INVALID_PARTITIONS;
    int32_t old = t->partitions;
    t->partitions = partitions;
    if (catalog_save(m) < 0) {
        t->partitions = old;
        return SK_ERR_KAFKA_STORAGE_ERROR;
    }
    sk_info("meta", "topic %s: %d -> %d partitions", t->name, old, partitions);
    return SK_ERR_NONE;
}

int16_t sk_meta_set_configs(sk_meta *m, sk_topic *t, const sk_topic_configs *configs)
{
    sk_topic_configs old = t->configs, copy = {0};
    if (sk_topic_configs_copy(&copy, configs) < 0)
        return SK_ERR_KAFKA_STORAGE_ERROR;
    t->configs = copy;
    if (catalog_save(m) < 0) {
        t->configs = old;
        sk_topic_configs_free(&copy);
        return SK_ERR_KAFKA_STORAGE_ERROR;
    }
    sk_topic_configs_free(&old);
    sk_info("meta", "topic %s: configs updated", t->name);
    return SK_ERR_NONE;
}

void sk_meta_foreach(sk_meta *m, void (*fn)(sk_topic *t, void *arg), void *arg)
{
    for (int32_t i = 0; i < m->ntopics; i++)
        fn(m->topics[i], arg);
}

int32_t sk_meta_topic_count(const sk_meta *m)
{
    return m->ntopics;
}
