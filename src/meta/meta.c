/*
 * Cluster metadata: meta.properties (cluster id, node id) and the topic
 * catalog. The catalog is a JSON document rewritten atomically on every
 * change:
 *   {"version": 1, "topics": [{"name": "t", "topic_id": "<22 chars>", "partitions": 3}, ...]}
 * Topics are kept in creation order (an array) with a hash index by name.
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
#include "skiff/log.h"

#define CATALOG_FILE "skiff-topics.json"
#define META_FILE "meta.properties"
#define CATALOG_MAX_BYTES (64u << 20)
#define TOPIC_NAME_MAX 249

struct sk_meta {
    char *dir;                            /* log dir holding the files */
    int32_t node_id;                      /* this node */
    char cluster_id[SK_UUID_STR_LEN + 1]; /* from meta.properties */
    sk_topic **topics;                    /* creation order */
    int32_t ntopics, cap;
    sk_topic **buckets;                   /* hash index by name, chained */
    uint32_t nbuckets;                    /* power of two */
};

static uint32_t name_hash(const char *s, size_t len)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < len; i++)
        h = (h ^ (uint8_t)s[i]) * 16777619u;
    return h;
}

static int index_grow(sk_meta *m)
{
    uint32_t n = m->nbuckets ? m->nbuckets * 2 : 64;
    sk_topic **b = calloc(n, sizeof *b);
    if (!b)
        return -1;
    free(m->buckets);
    m->buckets = b;
    m->nbuckets = n;
    for (int32_t i = 0; i < m->ntopics; i++) {
        sk_topic *t = m->topics[i];
        uint32_t h = name_hash(t->name, strlen(t->name)) & (n - 1);
        t->next = b[h];
        b[h] = t;
    }
    return 0;
}

/* Adds `t` to the array and the index; takes ownership. */
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
    m->topics[m->ntopics++] = t;
    if ((uint32_t)m->ntopics > m->nbuckets / 2)
        return index_grow(m);
    uint32_t h = name_hash(t->name, strlen(t->name)) & (m->nbuckets - 1);
    t->next = m->buckets[h];
    m->buckets[h] = t;
    return 0;
}

static void topic_free(sk_topic *t)
{
    if (t) {
        free(t->name);
        free(t);
    }
}

sk_topic *sk_meta_topic(sk_meta *m, const char *name, size_t len)
{
    if (!m->nbuckets)
        return NULL;
    uint32_t h = name_hash(name, len) & (m->nbuckets - 1);
    for (sk_topic *t = m->buckets[h]; t; t = t->next)
        if (strlen(t->name) == len && !memcmp(t->name, name, len))
            return t;
    return NULL;
}

sk_topic *sk_meta_topic_by_id(sk_meta *m, const uint8_t id[16])
{
    for (int32_t i = 0; i < m->ntopics; i++)
        if (!memcmp(m->topics[i]->id, id, 16))
            return m->topics[i];
    return NULL;
}

int16_t sk_topic_name_check(const char *name, size_t len)
{
    if (len == 0 || len > TOPIC_NAME_MAX)
        return SK_ERR_INVALID_TOPIC_EXCEPTION;
    if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.'))
        return SK_ERR_INVALID_TOPIC_EXCEPTION;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-';
        if (!ok)
            return SK_ERR_INVALID_TOPIC_EXCEPTION;
    }
    return SK_ERR_NONE;
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

static int catalog_save(sk_meta *m)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(root, "topics");
    cJSON_AddNumberToObject(root, "version", 1);
    for (int32_t i = 0; i < m->ntopics; i++) {
        sk_topic *t = m->topics[i];
        char id[SK_UUID_STR_LEN + 1];
        sk_uuid_to_string(t->id, id);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", t->name);
        cJSON_AddStringToObject(o, "topic_id", id);
        cJSON_AddNumberToObject(o, "partitions", t->partitions);
        cJSON_AddItemToArray(arr, o);
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
        cJSON *name = cJSON_GetObjectItemCaseSensitive(o, "name");
        cJSON *id = cJSON_GetObjectItemCaseSensitive(o, "topic_id");
        cJSON *parts = cJSON_GetObjectItemCaseSensitive(o, "partitions");
        sk_topic *t = calloc(1, sizeof *t);
        if (!t || !cJSON_IsString(name) || !cJSON_IsString(id) || !cJSON_IsNumber(parts) ||
            sk_topic_name_check(name->valuestring, strlen(name->valuestring)) != SK_ERR_NONE ||
            sk_uuid_from_string(id->valuestring, t->id) < 0 || parts->valuedouble < 1 ||
            parts->valuedouble > INT32_MAX || !(t->name = strdup(name->valuestring))) {
            sk_error("meta", "%s is corrupt: bad topic entry", path);
            topic_free(t);
            rc = -1;
            break;
        }
        t->partitions = (int32_t)parts->valuedouble;
        t->internal = sk_topic_is_internal(t->name);
        if (topic_add(m, t) < 0) {
            topic_free(t);
            rc = -1;
            break;
        }
    }
    cJSON_Delete(root);
    return rc;
}

/* meta.properties, as Kafka writes it: key=value lines, '#' comments. */
static int properties_load(sk_meta *m)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", m->dir, META_FILE);
    char *text = sk_file_read_all(path, 1 << 16, NULL);
    if (!text) {
        if (errno != ENOENT) {
            sk_error("meta", "cannot read %s: %s", path, strerror(errno));
            return -1;
        }
        uint8_t id[16];
        if (sk_uuid_random(id) < 0)
            return -1;
        sk_uuid_to_string(id, m->cluster_id);
        char body[256];
        int n = snprintf(body, sizeof body, "#Written by skiff\nversion=1\ncluster.id=%s\nnode.id=%d\n",
                         m->cluster_id, m->node_id);
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
    return rc;
}

sk_meta *sk_meta_open(const char *dir, int32_t node_id)
{
    if (sk_mkdirs(dir) < 0) {
        sk_error("meta", "cannot create log dir %s: %s", dir, strerror(errno));
        return NULL;
    }
    sk_meta *m = calloc(1, sizeof *m);
    if (!m || !(m->dir = strdup(dir)) || index_grow(m) < 0) {
        sk_meta_close(m);
        return NULL;
    }
    m->node_id = node_id;
    if (properties_load(m) < 0 || catalog_load(m) < 0) {
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
    free(m->topics);
    free(m->buckets);
    free(m->dir);
    free(m);
}

const char *sk_meta_cluster_id(const sk_meta *m)
{
    return m->cluster_id;
}

int16_t sk_meta_create_topic(sk_meta *m, const char *name, int32_t partitions, sk_topic **out)
{
    size_t len = strlen(name);
    if (sk_topic_name_check(name, len) != SK_ERR_NONE)
        return SK_ERR_INVALID_TOPIC_EXCEPTION;
    if (sk_meta_topic(m, name, len))
        return SK_ERR_TOPIC_ALREADY_EXISTS;
    if (partitions < 1)
        return SK_ERR_INVALID_PARTITIONS;
    for (int32_t i = 0; i < m->ntopics; i++)
        if (names_collide(m->topics[i]->name, name))
            return SK_ERR_INVALID_TOPIC_EXCEPTION;
    sk_topic *t = calloc(1, sizeof *t);
    if (!t || !(t->name = strdup(name)) || sk_uuid_random(t->id) < 0) {
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
        /* Undo: the topic was appended last and indexed at its bucket head. */
        m->ntopics--;
        uint32_t h = name_hash(name, len) & (m->nbuckets - 1);
        sk_topic **pp = &m->buckets[h];
        while (*pp != t)
            pp = &(*pp)->next;
        *pp = t->next;
        topic_free(t);
        return SK_ERR_KAFKA_STORAGE_ERROR;
    }
    char id[SK_UUID_STR_LEN + 1];
    sk_uuid_to_string(t->id, id);
    sk_info("meta", "created topic %s with %d partitions, topic id %s", name, partitions, id);
    *out = t;
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
