/*
 * The records the group coordinator keeps in __consumer_offsets, in Apache
 * Kafka's formats (group-coordinator message schemas), and their replay.
 * Each key and value starts with its int16 version; versions 0-3 use
 * int16-length strings, int32-length bytes and arrays, version 4 values are
 * flexible (compact lengths, tagged fields after each struct).
 *
 * Keys:
 *   v0, v1  offset commit   group string, topic string, partition int32
 *   v2      group metadata  group string
 *   v3-8    KIP-848 consumer group records (cgroup_records.c)
 *   v9+     share-group and other records: skipped on replay
 *
 * OffsetCommitValue (written as v3; v1 when a v2-4 OffsetCommit gave a
 * retention time):
 *   offset int64, leaderEpoch int32 (v3+), metadata string,
 *   commitTimestamp int64, expireTimestamp int64 (v1 only)
 *
 * GroupMetadataValue (written as v3):
 *   protocolType string, generation int32, protocol string (nullable),
 *   leader string (nullable), currentStateTimestamp int64 (v2+),
 *   members array of: memberId string, groupInstanceId string (nullable,
 *   v3+), clientId string, clientHost string, rebalanceTimeout int32 (v1+),
 *   sessionTimeout int32, subscription bytes, assignment bytes
 *
 * A null value is a tombstone: the offset, or the group, is gone.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup_int.h"
#include "skiff/compress.h"
#include "skiff/errors.h"
#include "skiff/trace.h"
#include "skiff/record.h"

enum {
    KEY_OFFSET_COMMIT = 1,   /* written; 0 is read too */
    KEY_GROUP_METADATA = 2,
    VALUE_OFFSET_COMMIT = 3,
    VALUE_OFFSET_COMMIT_EXPIRE = 1,
    VALUE_GROUP_METADATA = 3,
};

/* ---- Writing ---- */

void grecs_init(grecs *b)
{
    memset(b, 0, sizeof *b);
    sk_writer_init(&b->w, 256);
    b->producer_id = -1;
    b->producer_epoch = -1;
}

void grecs_free(grecs *b)
{
    sk_writer_free(&b->w);
    free(b->items);
    memset(b, 0, sizeof *b);
}

/* An int16-length string of `n` bytes of `s` (NULL: null). */
void grec_put_strn(sk_writer *w, const char *s, size_t n)
{
    if (!s) {
        sk_write_i16(w, -1);
        return;
    }
    sk_write_i16(w, (int16_t)(n > INT16_MAX ? INT16_MAX : n));
    sk_write_raw(w, s, n > INT16_MAX ? INT16_MAX : n);
}

void grec_put_str(sk_writer *w, const char *s)
{
    grec_put_strn(w, s, s ? strlen(s) : 0);
}

static void put_bytes(sk_writer *w, const uint8_t *p, int32_t n)
{
    sk_write_i32(w, n);
    if (n > 0)
        sk_write_raw(w, p, (size_t)n);
}

/* Starts a record: returns its slot with the key starting now, or NULL. */
struct grec *grec_begin(grecs *b)
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

/* Ends the key and starts the value (or marks a tombstone). */
void grec_value(grecs *b, struct grec *r, bool tombstone)
{
    r->key_len = b->w.len - r->key_off;
    r->value_off = b->w.len;
    r->tombstone = tombstone;
}

void grec_end(grecs *b, struct grec *r)
{
    r->value_len = b->w.len - r->value_off;
}

static struct grec *group_key(grecs *b, const char *group_id)
{
    struct grec *r = grec_begin(b);
    if (r) {
        sk_write_i16(&b->w, KEY_GROUP_METADATA);
        grec_put_str(&b->w, group_id);
    }
    return r;
}

void grecs_group_metadata(grecs *b, const ggroup *g, bool empty, const kf_bytes *assignments)
{
    struct grec *r = group_key(b, g->group_id);
    if (!r)
        return;
    grec_value(b, r, false);
    sk_writer *w = &b->w;
    sk_write_i16(w, VALUE_GROUP_METADATA);
    grec_put_str(w, empty || !g->protocol_type ? "" : g->protocol_type);
    sk_write_i32(w, empty ? 0 : g->generation_id);
    grec_put_str(w, empty ? NULL : g->protocol_name);
    grec_put_str(w, empty || !g->leader ? NULL : g->leader->member_id);
    sk_write_i64(w, g->current_state_timestamp);
    sk_write_i32(w, empty ? 0 : g->nmembers);
    int32_t i = 0;
    for (const gmember *m = empty ? NULL : g->members; m; m = m->next, i++) {
        const gprotocol *p = member_protocol(m, g->protocol_name);
        grec_put_str(w, m->member_id);
        grec_put_str(w, m->group_instance_id);
        grec_put_str(w, m->client_id);
        grec_put_str(w, m->client_host);
        sk_write_i32(w, m->rebalance_timeout_ms);
        sk_write_i32(w, m->session_timeout_ms);
        put_bytes(w, p ? p->metadata : NULL, p ? p->metadata_len : 0);
        if (assignments)
            put_bytes(w, assignments[i].p, assignments[i].len > 0 ? assignments[i].len : 0);
        else
            put_bytes(w, m->assignment, m->assignment_len);
    }
    grec_end(b, r);
}

void grecs_group_tombstone(grecs *b, const char *group_id)
{
    struct grec *r = group_key(b, group_id);
    if (r) {
        grec_value(b, r, true);
        grec_end(b, r);
    }
}

static struct grec *offset_key(grecs *b, const char *group_id, const char *topic, int32_t partition)
{
    struct grec *r = grec_begin(b);
    if (r) {
        sk_write_i16(&b->w, KEY_OFFSET_COMMIT);
        grec_put_str(&b->w, group_id);
        grec_put_str(&b->w, topic);
        sk_write_i32(&b->w, partition);
    }
    return r;
}

void grecs_offset_commit(grecs *b, const char *group_id, const char *topic, int32_t partition, const goffset *o)
{
    struct grec *r = offset_key(b, group_id, topic, partition);
    if (!r)
        return;
    grec_value(b, r, false);
    sk_writer *w = &b->w;
    if (o->expire_timestamp >= 0) {
        sk_write_i16(w, VALUE_OFFSET_COMMIT_EXPIRE);
        sk_write_i64(w, o->offset);
        grec_put_strn(w, o->metadata, (size_t)o->metadata_len);
        sk_write_i64(w, o->commit_timestamp);
        sk_write_i64(w, o->expire_timestamp);
    } else {
        sk_write_i16(w, VALUE_OFFSET_COMMIT);
        sk_write_i64(w, o->offset);
        sk_write_i32(w, o->leader_epoch);
        grec_put_strn(w, o->metadata, (size_t)o->metadata_len);
        sk_write_i64(w, o->commit_timestamp);
    }
    grec_end(b, r);
}

void grecs_offset_tombstone(grecs *b, const char *group_id, const char *topic, int32_t partition)
{
    struct grec *r = offset_key(b, group_id, topic, partition);
    if (r) {
        grec_value(b, r, true);
        grec_end(b, r);
    }
}

/* ---- Reading (replay) ---- */

/* A string or bytes field: `len` -1 for null. Flexible versions use
 * compact lengths (unsigned varint, length + 1, 0 = null). */
const uint8_t *grec_get_field(sk_reader *r, bool flex, bool bytes, int32_t *len)
{
    int64_t n;
    if (flex)
        n = (int64_t)sk_read_uvarint(r) - 1;
    else
        n = bytes ? sk_read_i32(r) : sk_read_i16(r);
    if (r->err || n < -1) {
        sk_reader_fail(r);
        *len = -1;
        return NULL;
    }
    *len = (int32_t)n;
    return n < 0 ? NULL : sk_read_raw(r, (size_t)n);
}

/* A heap copy of a string field; NULL for null (or on error, with r->err). */
char *grec_get_str(sk_reader *r, bool flex)
{
    int32_t len;
    const uint8_t *p = grec_get_field(r, flex, false, &len);
    if (!p)
        return NULL;
    char *s = gstrndup((const char *)p, (size_t)len);
    if (!s)
        sk_reader_fail(r);
    return s;
}

int32_t grec_get_count(sk_reader *r, bool flex)
{
    int64_t n = flex ? (int64_t)sk_read_uvarint(r) - 1 : sk_read_i32(r);
    if (r->err || n < 0 || (uint64_t)n > sk_reader_left(r)) {
        sk_reader_fail(r);
        return 0;
    }
    return (int32_t)n;
}

/* Skips the tagged fields that end a flexible struct. */
void grec_skip_tags(sk_reader *r, bool flex)
{
    if (!flex)
        return;
    uint32_t n = sk_read_uvarint(r);
    for (uint32_t i = 0; i < n && !r->err; i++) {
        sk_read_uvarint(r);
        sk_read_raw(r, sk_read_uvarint(r));
    }
}

static int replay_offset(sk_groups *gs, sk_reader *key, const sk_group_record *rec, int64_t offset_in_log,
                         int64_t producer_id)
{
    char *group = grec_get_str(key, false), *topic = grec_get_str(key, false);
    int32_t partition = sk_read_i32(key);
    int rc = -1;
    if (key->err || !group || !topic)
        goto out;
    ggroup *g = group_find(gs, group, strlen(group));
    if (!rec->value) {
        if (g)
            offset_remove(gs, g, topic, partition);
        rc = 0;
        goto out;
    }
    sk_reader r;
    sk_reader_init(&r, rec->value, rec->value_len);
    int16_t v = sk_read_i16(&r);
    bool flex = v >= 4;
    int64_t offset = sk_read_i64(&r);
    int32_t epoch = v >= 3 ? sk_read_i32(&r) : -1;
    kf_str metadata; /* bytes exactly: metadata may hold NULs */
    metadata.p = (const char *)grec_get_field(&r, flex, false, &metadata.len);
    int64_t commit_ts = sk_read_i64(&r);
    int64_t expire_ts = v == 1 ? sk_read_i64(&r) : -1;
    grec_skip_tags(&r, flex);
    if (r.err || v < 0 || v > 4 || (!g && !(g = group_create(gs, group, strlen(group)))))
        rc = -1;
    else if (producer_id >= 0)
        rc = txn_offset_put(gs, g, producer_id, topic, partition, offset, epoch, metadata, commit_ts, offset_in_log);
    else
        rc = offset_put(g, topic, partition, offset, epoch, metadata, commit_ts, expire_ts, offset_in_log);
out:
    free(group);
    free(topic);
    return rc;
}

/* Reads one member of a GroupMetadataValue into a new member of `g`. */
static int replay_member(ggroup *g, sk_reader *r, int16_t v, bool flex)
{
    gmember *m = calloc(1, sizeof *m);
    if (!m)
        return -1;
    m->group = g;
    sk_coord_timer_init(&m->heartbeat, member_session_expired);
    m->member_id = grec_get_str(r, flex);
    m->group_instance_id = v >= 3 ? grec_get_str(r, flex) : NULL;
    m->client_id = grec_get_str(r, flex);
    m->client_host = grec_get_str(r, flex);
    m->rebalance_timeout_ms = v >= 1 ? sk_read_i32(r) : -1;
    m->session_timeout_ms = sk_read_i32(r);
    if (m->rebalance_timeout_ms < 0)
        m->rebalance_timeout_ms = m->session_timeout_ms;
    int32_t sub_len, asg_len;
    const uint8_t *sub = grec_get_field(r, flex, true, &sub_len);
    const uint8_t *asg = grec_get_field(r, flex, true, &asg_len);
    grec_skip_tags(r, flex);
    kf_join_group_request_protocol p = {.name = kf_str_c(g->protocol_name)};
    p.metadata.p = sub;
    p.metadata.len = sub_len > 0 ? sub_len : 0;
    /* Link first: member_remove frees whatever was filled in. */
    gmember **tail = &g->members;
    while (*tail)
        tail = &(*tail)->next;
    *tail = m;
    g->nmembers++;
    if (r->err || !m->member_id || !m->client_id || !m->client_host ||
        member_set_protocols(m, &p, g->protocol_name ? 1 : 0) < 0 || member_set_assignment(m, asg, asg_len) < 0)
        return -1;
    return 0;
}

/* Applies one member of the group's own record to its live member of the
 * same id: what the record adds to what the operation already holds in
 * memory is the assignment (a leader's SyncGroup). */
static int apply_member(ggroup *g, sk_reader *r, int16_t v, bool flex)
{
    char *member_id = grec_get_str(r, flex);
    for (int i = v >= 3 ? 3 : 2; i > 0; i--) /* group instance id, client id, client host */
        free(grec_get_str(r, flex));
    if (v >= 1)
        sk_read_i32(r);
    sk_read_i32(r);
    int32_t sub_len, asg_len;
    grec_get_field(r, flex, true, &sub_len);
    const uint8_t *asg = grec_get_field(r, flex, true, &asg_len);
    grec_skip_tags(r, flex);
    gmember *m = member_id && !r->err ? member_find(g, member_id) : NULL;
    free(member_id);
    return m && member_set_assignment(m, asg, asg_len) == 0 ? 0 : -1;
}

/* The live half of replay_group: `r` is past the value's version. */
static int replay_group_live(sk_groups *gs, ggroup *g, sk_reader *r, int16_t v, bool flex)
{
    free(grec_get_str(r, flex)); /* protocol type, protocol name, leader: the group's own */
    sk_read_i32(r);              /* generation */
    free(grec_get_str(r, flex));
    free(grec_get_str(r, flex));
    if (v >= 2)
        sk_read_i64(r);
    int32_t n = grec_get_count(r, flex);
    int rc = v < 0 || v > 4 ? -1 : 0;
    for (int32_t i = 0; i < n && rc == 0 && !r->err; i++)
        rc = apply_member(g, r, v, flex);
    grec_skip_tags(r, flex);
    if (rc < 0 || r->err)
        return -1;
    if (n > 0 && g->state == SK_GROUP_COMPLETING_REBALANCE)
        group_set_state(gs, g, SK_GROUP_STABLE, "the assignment of generation %d is stored", g->generation_id);
    return 0;
}

/* A GroupMetadataValue. Read from the log it rebuilds the group; written
 * by the group itself (gs->writing: runtime.c) it is a snapshot of the
 * group in memory, whose members, parked requests and timers the record
 * does not hold: it then applies the members' assignments, and a group
 * completing its rebalance becomes Stable. */
static int replay_group(sk_groups *gs, sk_reader *key, const sk_group_record *rec)
{
    char *group = grec_get_str(key, false);
    if (key->err || !group) {
        free(group);
        return -1;
    }
    ggroup *g = group_find(gs, group, strlen(group));
    if (!rec->value) {
        if (g)
            group_destroy(gs, g, "its tombstone is stored");
        free(group);
        return 0;
    }
    bool live = gs->writing && g;
    if (!g && !(g = group_create(gs, group, strlen(group)))) {
        free(group);
        return -1;
    }
    free(group);
    sk_reader r;
    sk_reader_init(&r, rec->value, rec->value_len);
    int16_t v = sk_read_i16(&r);
    bool flex = v >= 4;
    if (live)
        return replay_group_live(gs, g, &r, v, flex);
    while (g->members)
        member_remove(gs, g->members);
    while (g->pending)
        pending_remove(gs, g->pending);
    char *type = grec_get_str(&r, flex);
    g->generation_id = sk_read_i32(&r);
    free(g->protocol_type);
    free(g->protocol_name);
    g->protocol_type = type && type[0] ? type : NULL;
    if (!g->protocol_type)
        free(type);
    g->protocol_name = grec_get_str(&r, flex);
    char *leader = grec_get_str(&r, flex);
    g->current_state_timestamp = v >= 2 ? sk_read_i64(&r) : -1;
    int32_t n = grec_get_count(&r, flex);
    int rc = v < 0 || v > 4 ? -1 : 0;
    for (int32_t i = 0; i < n && rc == 0 && !r.err; i++)
        rc = replay_member(g, &r, v, flex);
    grec_skip_tags(&r, flex);
    if (r.err)
        rc = -1;
    if (rc < 0) {
        while (g->members)
            member_remove(gs, g->members);
    }
    g->leader = leader ? member_find(g, leader) : NULL;
    if (!g->leader)
        g->leader = g->members;
    free(leader);
    g->state = g->previous_state = g->members ? SK_GROUP_STABLE : SK_GROUP_EMPTY;
    group_compute_subscribed(g);
    return rc;
}

int sk_groups_replay(sk_groups *gs, const sk_group_record *rec, int64_t offset, int64_t producer_id)
{
    if (offset >= gs->next_record_offset && offset < INT64_MAX)
        gs->next_record_offset = offset + 1;
    sk_reader key;
    sk_reader_init(&key, rec->key, rec->key_len);
    int16_t version = sk_read_i16(&key);
    int rc = 0;
    if (key.err)
        rc = -1;
    else if (version == 0 || version == 1)
        rc = replay_offset(gs, &key, rec, offset, producer_id);
    else if (version == KEY_GROUP_METADATA)
        rc = replay_group(gs, &key, rec);
    else if (version >= CREC_GROUP_METADATA && version <= CREC_CURRENT_ASSIGNMENT)
        rc = cgroup_replay(gs, version, &key, rec);
    if (rc < 0)
        sk_warn("group", "skipping a malformed __consumer_offsets record (key version %d, %zu key bytes, %s)",
                version, rec->key_len, rec->value ? "with a value" : "tombstone");
    return rc;
}

void sk_groups_replay_batch(sk_groups *gs, int32_t partition, const sk_batch *batch, size_t cap)
{
    if (batch->attributes & SK_BATCH_CONTROL) {
        sk_txn_marker mk;
        int m = sk_batch_txn_marker(batch, &mk);
        if (m < 0)
            sk_warn("group", "__consumer_offsets-%d: skipping the unreadable control batch at offset %lld",
                    partition, (long long)batch->base_offset);
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
            group_reschedule_heartbeat(gs, m, m->session_timeout_ms);
        for (int32_t i = 0; g->consumer && i < g->consumer->nmembers; i++, members++)
            cmember_loaded(gs, g->consumer->members[i]);
        if (g->nmembers > gs->cfg->group_max_size) {
            char reason[160];
            snprintf(reason, sizeof reason, "freshly-loaded group (size %d) is over capacity %d", g->nmembers,
                     gs->cfg->group_max_size);
            group_maybe_rebalance(gs, g, reason);
        }
    }
    sk_info("group", "loaded %zu groups with %zu members from __consumer_offsets", gs->index.count, members);
}
