/*
 * The records the group coordinator keeps in __consumer_offsets, in Apache
 * Kafka's formats, and their replay. The formats are schema data
 * (src/proto/schema/record_*.kfs) read and written by the one codec
 * (src/proto/record_codec.c); this file maps them to the coordinator's
 * structures:
 *
 *   key type 0, 1  OffsetCommit (skiff writes key 1, value v3, or v1 with
 *                  the expire timestamp of a v2-4 retention time)
 *   key type 2     GroupMetadata (skiff writes value v3)
 *   key types 3-8  KIP-848 consumer group records (cgroup_records.c)
 *   other types    share-group and later records: skipped on replay
 *
 * A null value is a tombstone: the offset, or the group, is gone.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup_int.h"
#include "skiff/arena.h"
#include "skiff/compress.h"
#include "skiff/errors.h"
#include "skiff/trace.h"
#include "skiff/record.h"

enum {
    KEY_OFFSET_COMMIT = 1, /* written; 0 is read too */
    KEY_GROUP_METADATA = 2,
    VALUE_OFFSET_COMMIT = 3,
    VALUE_OFFSET_COMMIT_EXPIRE = 1,
    VALUE_GROUP_METADATA = 3,
};

#define OFFSETS_TOPIC "__consumer_offsets"

/* ---- Writing ---- */

void sk_grecs_init(grecs *b)
{
    memset(b, 0, sizeof *b);
    sk_writer_init(&b->w, 256);
    b->producer_id = -1;
    b->producer_epoch = -1;
}

void sk_grecs_free(grecs *b)
{
    sk_writer_free(&b->w);
    free(b->items);
    memset(b, 0, sizeof *b);
}

/* Starts a record: returns its slot with the key starting now, or NULL. */
static struct grec *grec_begin(grecs *b)
{
    if (b->n == b->cap) {
        int cap = b->cap ? 2 * b->cap : 8;
        struct grec *it = realloc(b->items, (size_t)cap * sizeof *it);
        if (!it) {
            b->err = 1;
            return NULL;
        }
        b->items = it;
        b->cap = cap;
    }
    struct grec *r = &b->items[b->n++];
    memset(r, 0, sizeof *r);
    r->key_off = b->w.len;
    return r;
}

void sk_grecs_add(grecs *b, const kf_record_type *rt, int16_t type, const void *key, int16_t version, const void *value)
{
    struct grec *r = grec_begin(b);
    if (!r)
        return;
    if (kf_record_key_encode(rt, type, key, &b->w) < 0)
        b->err = 1;
    r->key_len = b->w.len - r->key_off;
    r->value_off = b->w.len;
    r->tombstone = value == NULL;
    if (value && kf_record_value_encode(rt, version, value, &b->w) < 0)
        b->err = 1;
    r->value_len = b->w.len - r->value_off;
}

void sk_grecs_group_metadata(grecs *b, const ggroup *g, bool empty, const kf_bytes *assignments)
{
    kf_group_metadata_key key = {.group = kf_str_c(g->group_id)};
    kf_group_metadata_value v;
    kf_init(&kf_group_metadata_value_desc, &v);
    v.protocol_type = kf_str_c(empty || !g->protocol_type ? "" : g->protocol_type);
    v.generation = empty ? 0 : g->generation_id;
    v.protocol = kf_str_c(empty ? NULL : g->protocol_name);
    v.leader = kf_str_c(empty || !g->leader ? NULL : g->leader->member_id);
    v.current_state_timestamp = g->current_state_timestamp;
    kf_group_metadata_value_member_metadata *members = NULL;
    if (!empty && g->nmembers > 0 && !(members = calloc((size_t)g->nmembers, sizeof *members))) {
        b->err = 1;
        return;
    }
    int32_t i = 0;
    for (const gmember *m = empty ? NULL : g->members; m; m = m->next, i++) {
        const gprotocol *p = sk_group_member_protocol(m, g->protocol_name);
        kf_group_metadata_value_member_metadata *x = &members[i];
        x->member_id = kf_str_c(m->member_id);
        x->group_instance_id = kf_str_c(m->group_instance_id);
        x->client_id = kf_str_c(m->client_id);
        x->client_host = kf_str_c(m->client_host);
        x->rebalance_timeout = m->rebalance_timeout_ms;
        x->session_timeout = m->session_timeout_ms;
        x->subscription = (kf_bytes){p ? p->metadata : NULL, p ? p->metadata_len : 0, NULL};
        x->assignment = assignments
                            ? (kf_bytes){assignments[i].p, assignments[i].len > 0 ? assignments[i].len : 0, NULL}
                            : (kf_bytes){m->assignment, m->assignment_len, NULL};
    }
    v.members.items = members;
    v.members.n = i;
    sk_grecs_add(b, KF_RECORD_GROUP_METADATA, KEY_GROUP_METADATA, &key, VALUE_GROUP_METADATA, &v);
    free(members);
}

void sk_grecs_group_tombstone(grecs *b, const char *group_id)
{
    kf_group_metadata_key key = {.group = kf_str_c(group_id)};
    sk_grecs_add(b, KF_RECORD_GROUP_METADATA, KEY_GROUP_METADATA, &key, 0, NULL);
}

void sk_grecs_offset_commit(grecs *b, const char *group_id, const char *topic, int32_t partition, const goffset *o)
{
    kf_offset_commit_key key = {kf_str_c(group_id), kf_str_c(topic), partition};
    kf_offset_commit_value v = {.offset = o->offset,
                                .leader_epoch = o->leader_epoch,
                                .metadata = {o->metadata, o->metadata_len},
                                .commit_timestamp = o->commit_timestamp,
                                .expire_timestamp = o->expire_timestamp};
    sk_grecs_add(b, KF_RECORD_OFFSET_COMMIT, KEY_OFFSET_COMMIT, &key,
                 o->expire_timestamp >= 0 ? VALUE_OFFSET_COMMIT_EXPIRE : VALUE_OFFSET_COMMIT, &v);
}

void sk_grecs_offset_tombstone(grecs *b, const char *group_id, const char *topic, int32_t partition)
{
    kf_offset_commit_key key = {kf_str_c(group_id), kf_str_c(topic), partition};
    sk_grecs_add(b, KF_RECORD_OFFSET_COMMIT, KEY_OFFSET_COMMIT, &key, 0, NULL);
}

/* ---- Reading (replay) ---- */

/* A NUL-terminated copy of a decoded string in `arena` (null: NULL). */
char *sk_grec_str(sk_arena *arena, kf_str s)
{
    return s.p ? sk_arena_strndup(arena, s.p, s.len > 0 ? (size_t)s.len : 0) : NULL;
}

static int replay_offset(sk_groups *gs, const sk_group_record *rec, int64_t offset_in_log, int64_t producer_id)
{
    sk_arena arena = {0};
    kf_offset_commit_key key;
    kf_offset_commit_value v;
    int16_t version;
    int rc = -1;
    if (kf_record_key_decode(KF_RECORD_OFFSET_COMMIT, rec->key, rec->key_len, &arena, &key) < 0)
        goto out;
    char *group = sk_grec_str(&arena, key.group), *topic = sk_grec_str(&arena, key.topic);
    if (!group || !topic)
        goto out;
    ggroup *g = sk_group_find(gs, group, strlen(group));
    if (!rec->value) {
        if (g)
            sk_group_offset_remove(gs, g, topic, key.partition);
        rc = 0;
        goto out;
    }
    if (kf_record_value_decode(KF_RECORD_OFFSET_COMMIT, rec->value, rec->value_len, &arena, &v, &version) < 0 ||
        (!g && !(g = sk_group_create(gs, group, strlen(group)))))
        goto out;
    /* metadata: the bytes exactly (it may hold NULs) */
    if (producer_id >= 0)
        rc = sk_group_txn_offset_put(gs, g, producer_id, topic, key.partition, v.offset, v.leader_epoch, v.metadata,
                                     v.commit_timestamp, offset_in_log);
    else
        rc = sk_group_offset_put(g, topic, key.partition, v.offset, v.leader_epoch, v.metadata, v.commit_timestamp,
                                 v.expire_timestamp, offset_in_log);
out:
    sk_arena_free(&arena);
    return rc;
}

/* Adds the member `x` of a GroupMetadataValue (of `version`) to `g`. */
static int replay_member(ggroup *g, const kf_group_metadata_value_member_metadata *x, int16_t version)
{
    gmember *m = calloc(1, sizeof *m);
    if (!m)
        return -1;
    m->group = g;
    sk_coord_timer_init(&m->heartbeat, sk_group_member_session_expired);
    m->member_id = x->member_id.p ? sk_coord_strndup(x->member_id.p, (size_t)x->member_id.len) : NULL;
    m->group_instance_id =
        x->group_instance_id.p ? sk_coord_strndup(x->group_instance_id.p, (size_t)x->group_instance_id.len) : NULL;
    m->client_id = sk_coord_memdup(x->client_id);
    m->client_host = sk_coord_memdup(x->client_host);
    m->session_timeout_ms = x->session_timeout;
    m->rebalance_timeout_ms = version >= 1 ? x->rebalance_timeout : x->session_timeout;
    kf_join_group_request_protocol p = {.name = kf_str_c(g->protocol_name)};
    p.metadata.p = x->subscription.p;
    p.metadata.len = x->subscription.len > 0 ? x->subscription.len : 0;
    /* Link first: sk_group_member_remove frees whatever was filled in. */
    gmember **tail = &g->members;
    while (*tail)
        tail = &(*tail)->next;
    *tail = m;
    g->nmembers++;
    if (!m->member_id || (x->group_instance_id.p && !m->group_instance_id) || !m->client_id || !m->client_host ||
        sk_group_member_set_protocols(m, &p, g->protocol_name ? 1 : 0) < 0 ||
        sk_group_member_set_assignment(m, x->assignment.p, x->assignment.len) < 0)
        return -1;
    return 0;
}

/* The live half of replay_group: the group's own record applies what the
 * operation stored, each member's assignment (a leader's SyncGroup), and
 * a group completing its rebalance becomes Stable. */
static int replay_group_live(sk_groups *gs, ggroup *g, const kf_group_metadata_value *v, sk_arena *arena)
{
    for (int32_t i = 0; i < v->members.n; i++) {
        const kf_group_metadata_value_member_metadata *x = &v->members.items[i];
        const char *id = sk_grec_str(arena, x->member_id);
        gmember *m = id ? sk_group_member_find(g, id) : NULL;
        if (!m || sk_group_member_set_assignment(m, x->assignment.p, x->assignment.len) < 0)
            return -1;
    }
    if (v->members.n > 0 && g->state == SK_GROUP_COMPLETING_REBALANCE)
        sk_group_set_state(gs, g, SK_GROUP_STABLE, "the assignment of generation %d is stored", g->generation_id);
    return 0;
}

/* Removes the classic state of `g` (members, pending ids, generation,
 * protocol, deadlines): an Empty group. */
static void classic_reset(sk_groups *gs, ggroup *g)
{
    sk_group_members_clear(gs, g);
    free(g->protocol_type);
    free(g->protocol_name);
    g->protocol_type = g->protocol_name = NULL;
    g->generation_id = 0;
    g->state = g->previous_state = SK_GROUP_EMPTY;
    sk_group_compute_subscribed(g);
}

/* A GroupMetadataValue. Read from the log it rebuilds the group; written
 * by the group itself (gs->writing: runtime.c) it is a snapshot of the
 * group in memory, whose members' protocols, parked requests and timers
 * the record does not hold: it then only applies what the operation
 * stored (replay_group_live). */
static int replay_group(sk_groups *gs, const sk_group_record *rec)
{
    sk_arena arena = {0};
    kf_group_metadata_key key;
    kf_group_metadata_value v;
    int16_t version;
    int rc = -1;
    if (kf_record_key_decode(KF_RECORD_GROUP_METADATA, rec->key, rec->key_len, &arena, &key) < 0)
        goto out;
    char *group = sk_grec_str(&arena, key.group);
    if (!group)
        goto out;
    ggroup *g = sk_group_find(gs, group, strlen(group));
    if (!rec->value) {
        /* Offsets outlive the group (Kafka keeps them apart): a group with
         * committed offsets or a consumer part loses its classic part only
         * (the online upgrade writes this tombstone, cgroup_migrate.c). */
        if (g && (g->ntopics > 0 || g->consumer))
            classic_reset(gs, g);
        else if (g)
            sk_group_destroy(gs, g, "its tombstone is stored");
        rc = 0;
        goto out;
    }
    bool live = gs->writing && g;
    bool decoded =
        kf_record_value_decode(KF_RECORD_GROUP_METADATA, rec->value, rec->value_len, &arena, &v, &version) == 0;
    if (live) {
        rc = decoded ? replay_group_live(gs, g, &v, &arena) : -1;
        goto out;
    }
    if (!g && !(g = sk_group_create(gs, group, strlen(group))))
        goto out;
    while (g->members)
        sk_group_member_remove(gs, g->members);
    while (g->pending)
        sk_group_pending_remove(gs, g->pending);
    free(g->protocol_type);
    free(g->protocol_name);
    g->protocol_type = g->protocol_name = NULL;
    rc = decoded ? 0 : -1;
    if (decoded) {
        g->generation_id = v.generation;
        g->protocol_type = v.protocol_type.len > 0 ? sk_coord_memdup(v.protocol_type) : NULL;
        g->protocol_name = v.protocol.p ? sk_coord_memdup(v.protocol) : NULL;
        g->current_state_timestamp = v.current_state_timestamp;
        if ((v.protocol_type.len > 0 && !g->protocol_type) || (v.protocol.p && !g->protocol_name))
            rc = -1;
        for (int32_t i = 0; i < v.members.n && rc == 0; i++)
            rc = replay_member(g, &v.members.items[i], version);
    }
    if (rc < 0) {
        while (g->members)
            sk_group_member_remove(gs, g->members);
    }
    const char *leader = decoded ? sk_grec_str(&arena, v.leader) : NULL;
    g->leader = leader ? sk_group_member_find(g, leader) : NULL;
    if (!g->leader)
        g->leader = g->members;
    g->state = g->previous_state = g->members ? SK_GROUP_STABLE : SK_GROUP_EMPTY;
    sk_group_compute_subscribed(g);
out:
    sk_arena_free(&arena);
    return rc;
}

int sk_groups_replay(sk_groups *gs, const sk_group_record *rec, int64_t offset, int64_t producer_id)
{
    if (offset >= gs->next_record_offset && offset < INT64_MAX)
        gs->next_record_offset = offset + 1;
    int16_t type = kf_record_version(rec->key, rec->key_len);
    const kf_record_type *rt = kf_record_find(OFFSETS_TOPIC, type);
    int rc = 0;
    if (type < 0)
        rc = -1;
    else if (rt == KF_RECORD_OFFSET_COMMIT)
        rc = replay_offset(gs, rec, offset, producer_id);
    else if (rt == KF_RECORD_GROUP_METADATA)
        rc = replay_group(gs, rec);
    else if (rt)
        rc = sk_cgroup_replay(gs, rt, type, rec);
    if (rc < 0)
        sk_warn("group", "skipping a malformed __consumer_offsets record (key version %d, %zu key bytes, %s)", type,
                rec->key_len, rec->value ? "with a value" : "tombstone");
    return rc;
}

void sk_groups_replay_batch(sk_groups *gs, int32_t partition, const sk_batch *batch, size_t cap)
{
    if (batch->attributes & SK_BATCH_CONTROL) {
        sk_txn_marker mk;
        int m = sk_batch_txn_marker(batch, &mk);
        if (m < 0)
            sk_warn("group", "__consumer_offsets-%d: skipping the unreadable control batch at offset %lld", partition,
                    (long long)batch->base_offset);
        else if (m > 0)
            sk_groups_txn_marker(gs, partition, batch->producer_id, mk.type == SK_CONTROL_COMMIT);
        return;
    }
    int64_t producer_id = batch->attributes & SK_BATCH_TRANSACTIONAL ? batch->producer_id : -1;
    sk_batch_records br;
    int16_t err = sk_batch_records_open(&br, batch, cap);
    if (err != SK_ERR_NONE) {
        sk_warn("group", "__consumer_offsets-%d: skipping the batch at offset %lld: %s", partition,
                (long long)batch->base_offset, sk_err_name(err));
        return;
    }
    sk_record rec;
    while (sk_record_next(&br.it, &rec) == 1) {
        if (!rec.key)
            continue;
        sk_group_record gr = {rec.key, (size_t)rec.key_len, rec.value, rec.value ? (size_t)rec.value_len : 0};
        /* A corrupt log may hold any base offset: wrap as Java's long would. */
        int64_t offset = (int64_t)((uint64_t)batch->base_offset + (uint64_t)(int64_t)rec.offset_delta);
        sk_groups_replay(gs, &gr, offset, producer_id);
    }
    sk_batch_records_close(&br);
}

void sk_groups_loaded(sk_groups *gs)
{
    size_t members = 0;
    for (ggroup *g = gs->first; g; g = g->next) {
        for (gmember *m = g->members; m; m = m->next, members++)
            sk_group_reschedule_heartbeat(gs, m, m->session_timeout_ms);
        for (int32_t i = 0; g->consumer && i < g->consumer->nmembers; i++, members++)
            sk_cmember_loaded(gs, g->consumer->members[i]);
        if (g->nmembers > gs->cfg->group_max_size) {
            char reason[160];
            snprintf(reason, sizeof reason, "freshly-loaded group (size %d) is over capacity %d", g->nmembers,
                     gs->cfg->group_max_size);
            sk_group_maybe_rebalance(gs, g, reason);
        }
    }
    sk_info("group", "loaded %zu groups with %zu members from __consumer_offsets", gs->index.count, members);
}
