/*
 * Fetch v4-17: read whole record batches from partition logs, long-polling
 * until min_bytes are there or max_wait_ms has passed.
 *
 * Behaviour, as Kafka answers:
 * - Bytes (KIP-74): each partition gives at most partition_max_bytes and the
 *   response at most max_bytes, except that the first batch of the first
 *   partition with data is returned whole even when it is larger, so a
 *   consumer always makes progress. Later partitions whose next batch does
 *   not fit give no records.
 * - Each partition answers its high watermark, last stable offset (the
 *   first offset of its oldest open transaction, else the high watermark),
 *   log start offset, preferred read replica -1, and aborted transactions:
 *   null for read_uncommitted; for read_committed, which reads only below
 *   the last stable offset, those of the .txnindex files that overlap the
 *   records returned (KIP-98), so the consumer drops their records. A fetch
 *   offset outside [log start offset, high watermark] is
 *   OFFSET_OUT_OF_RANGE; unknown topics are
 *   UNKNOWN_TOPIC_OR_PARTITION (by name, v<13) or UNKNOWN_TOPIC_ID (v13+).
 * - Long poll: with fewer than min_bytes and no partition error, the request
 *   parks: an append listener on every partition and one timer. An append
 *   re-reads; the timer (or shutdown) answers with what there is. No
 *   polling.
 * - Several brokers (skiff/cluster.h): a partition this broker does not
 *   lead is NOT_LEADER_OR_FOLLOWER with the leader named (KIP-951), except
 *   for consumers fetching v11+, which any replica serves (KIP-392); a
 *   current_leader_epoch older than the partition's is FENCED_LEADER_EPOCH,
 *   newer UNKNOWN_LEADER_EPOCH. With replica.selector.class set, the leader
 *   sends a consumer whose rack_id matches another replica's rack there:
 *   preferred_read_replica, no records, at once.
 * - Sessions (KIP-227, v7+; fetch_session.h): a full fetch may open a
 *   session, which starts with every partition of that fetch at its fetch
 *   offset; incremental fetches then send only changed partitions and get
 *   back only partitions with records, an error, or a changed high
 *   watermark, last stable offset or log start offset. They read the
 *   session's partitions in order, and a partition that returned records
 *   moves to the end of that order (fairness under max_bytes, as Kafka). An
 *   unknown session, or one another broker holds, is
 *   FETCH_SESSION_ID_NOT_FOUND, a wrong epoch INVALID_FETCH_SESSION_EPOCH.
 *   A session keeps each partition's current_leader_epoch as last sent, so
 *   partitions a continuation omits are still checked against it.
 * - Every version serves batches as stored, zstd ones below v10 too: Kafka 4
 *   dropped KIP-110's refusal together with down-conversion (KAFKA-18269).
 * - Record data is sent from the log files with sendfile (kf_bytes.ext).
 */
#include <event2/event.h>
#include <string.h>

#include "skiff/fetch_session.h"
#include "kf_msgs.h"
#include "skiff/api.h"
#include "skiff/cluster.h"
#include "skiff/compress.h"
#include "skiff/errors.h"
#include "skiff/trace.h"
#include "skiff/topics.h"

typedef struct sk_fetch_op fetch_op;

/* One partition to read (from the request, or from the session). */
typedef struct fetch_part {
    fetch_op *op;                   /* the fetch it belongs to */
    kf_str topic;                   /* name ("" when only the id is known) */
    kf_uuid topic_id;               /* zero when the client used names */
    int32_t partition;              /* partition index */
    int64_t fetch_offset;           /* first offset asked for */
    int32_t max_bytes;              /* partition_max_bytes */
    int32_t current_leader_epoch;   /* from the request (v9+), -1 = none or from the session */
    int32_t leader, leader_epoch;   /* the partition's leader when this broker is not it (KIP-951) */
    int32_t preferred_read_replica; /* KIP-392: the replica to fetch from instead (no records read), or -1 */
    sk_partition *p;                /* NULL when the partition answers an error */
    int16_t error_code;             /* the partition's answer */
    int64_t high_watermark, last_stable_offset, log_start_offset; /* read when answered */
    sk_log_slice slice;                                           /* the data read */
    int64_t read_end;                                             /* offset after the data read */
    sk_append_listener listener;                                  /* armed while parked */
} fetch_part;

struct sk_fetch_op {
    sk_request *req;              /* the Fetch request (owns the arena) */
    fetch_part *parts;            /* in response order (arena) */
    int32_t nparts;               /* entries in parts */
    int32_t max_bytes, min_bytes; /* the request's response size bounds, bytes */
    int8_t isolation_level;       /* SK_READ_UNCOMMITTED or SK_READ_COMMITTED */
    int32_t session_id;           /* 0: no session */
    bool incremental;             /* answer only partitions with news */
    struct event *timer;          /* while parked */
    fetch_op *prev, *next;        /* parked list (broker->parked_fetches) */
};

static void release_slices(void *arg)
{
    fetch_op *op = arg;
    for (int32_t i = 0; i < op->nparts; i++)
        sk_log_slice_release(&op->parts[i].slice);
}

/* Reads every partition afresh; returns the record bytes read and sets
 * *error when a partition answers an error or names a preferred read
 * replica (either ends a long poll, as Kafka's hasPreferredReadReplica). */
static int64_t fetch_read(fetch_op *op, bool *error)
{
    int64_t total = 0;
    bool have_data = false;
    *error = false;
    for (int32_t i = 0; i < op->nparts; i++) {
        fetch_part *fp = &op->parts[i];
        sk_log_slice_release(&fp->slice);
        if (!fp->p) {
            *error = true;
            continue;
        }
        int64_t hw = sk_partition_high_watermark(fp->p);
        fp->high_watermark = hw;
        fp->last_stable_offset = sk_partition_last_stable_offset(fp->p);
        fp->log_start_offset = sk_partition_log_start_offset(fp->p);
        if (fp->preferred_read_replica >= 0) { /* no records: the client goes to that replica */
            fp->error_code = SK_ERR_NONE;
            *error = true;
            continue;
        }
        int64_t limit = fp->max_bytes;
        if (op->max_bytes - total < limit)
            limit = op->max_bytes - total;
        fp->error_code = SK_ERR_NONE;
        if (have_data && limit <= 0)
            continue;
        sk_read_result rr;
        fp->error_code = sk_partition_read(fp->p, fp->fetch_offset, limit > 0 ? (int32_t)limit : 0,
                                           op->isolation_level == SK_READ_COMMITTED ? fp->last_stable_offset : hw, &rr);
        if (fp->error_code != SK_ERR_NONE) {
            *error = true;
            continue;
        }
        if (!rr.slice.file || rr.slice.length == 0 || (have_data && rr.slice.length > limit)) {
            sk_log_slice_release(&rr.slice);
            continue;
        }
        fp->slice = rr.slice;
        fp->read_end = rr.next_offset;
        total += rr.slice.length;
        have_data = true;
    }
    return total;
}

/* True when an incremental response must carry the partition; records the
 * answer in the session. */
static bool session_news(fetch_op *op, sk_fetch_session *s, const fetch_part *fp)
{
    bool by_id = op->req->hdr.api_version >= 13;
    sk_fetch_part_state *st =
        s ? sk_fetch_session_part(s, by_id ? NULL : fp->topic.p, fp->topic_id.b, fp->partition) : NULL;
    if (!st)
        return true;
    st->sent_records = op->incremental && fp->slice.length > 0;
    bool news = !op->incremental || !st->answered || fp->slice.length > 0 || fp->error_code != SK_ERR_NONE ||
                st->high_watermark != fp->high_watermark || st->last_stable_offset != fp->last_stable_offset ||
                st->log_start_offset != fp->log_start_offset;
    st->answered = true;
    st->high_watermark = fp->high_watermark;
    st->last_stable_offset = fp->last_stable_offset;
    st->log_start_offset = fp->log_start_offset;
    st->error_code = fp->error_code;
    return news;
}

static bool same_topic(const fetch_part *a, const fetch_part *b)
{
    return a->topic.len == b->topic.len && !memcmp(a->topic.p, b->topic.p, (size_t)a->topic.len) &&
           !memcmp(a->topic_id.b, b->topic_id.b, 16);
}

/* read_committed: the aborted transactions overlapping the records read. */
static int fill_aborted(const fetch_op *op, const fetch_part *fp, kf_fetch_response_partition *po)
{
    po->aborted_transactions.n = 0;
    if (!fp->slice.file || fp->slice.length == 0)
        return 0;
    sk_aborted_txn *a;
    int32_t n;
    sk_arena *arena = &op->req->arena;
    if (sk_partition_aborted_txns(fp->p, fp->fetch_offset, fp->read_end, arena, &a, &n) != SK_ERR_NONE)
        return -1;
    kf_fetch_response_aborted_transaction *out = sk_arena_alloc(arena, (size_t)n * sizeof *out);
    if (!out)
        return -1;
    for (int32_t i = 0; i < n; i++) {
        out[i].producer_id = a[i].producer_id;
        out[i].first_offset = a[i].first_offset;
    }
    po->aborted_transactions.items = out;
    po->aborted_transactions.n = n;
    return 0;
}

static void fill_partition(const fetch_op *op, const fetch_part *fp, kf_fetch_response_partition *po)
{
    po->partition_index = fp->partition;
    po->error_code = fp->error_code;
    /* As Kafka: a partition that failed (unknown, or a read error such as
     * OFFSET_OUT_OF_RANGE) reports no offsets; an unknown one an empty list
     * of aborted transactions (KafkaApis), a read error a null one. */
    bool ok = fp->p && fp->error_code == SK_ERR_NONE;
    po->high_watermark = ok ? fp->high_watermark : -1;
    po->last_stable_offset = ok ? fp->last_stable_offset : -1;
    po->log_start_offset = ok ? fp->log_start_offset : -1;
    po->preferred_read_replica = fp->preferred_read_replica;
    po->diverging_epoch.epoch = -1;
    po->diverging_epoch.end_offset = -1;
    po->current_leader.leader_id = -1;
    po->current_leader.leader_epoch = -1;
    /* KIP-951: the leader a client should turn to. */
    if ((fp->error_code == SK_ERR_NOT_LEADER_OR_FOLLOWER || fp->error_code == SK_ERR_FENCED_LEADER_EPOCH) &&
        fp->leader >= 0) {
        po->current_leader.leader_id = fp->leader;
        po->current_leader.leader_epoch = fp->leader_epoch;
    }
    po->snapshot_id.end_offset = -1;
    po->snapshot_id.epoch = -1;
    po->aborted_transactions.n = op->isolation_level == SK_READ_COMMITTED || !fp->p ? 0 : -1;
    po->records.p = (const uint8_t *)"";
    po->records.len = (int32_t)fp->slice.length;
    po->records.ext = fp->slice.file ? &fp->slice : NULL;
}

/* node_endpoints (v16+, KIP-951): every leader a current_leader names. */
static int fill_endpoints(const fetch_op *op, kf_fetch_response *resp)
{
    int32_t ids[SK_CLUSTER_MAX_BROKERS], n = 0;
    for (int32_t i = 0; i < op->nparts; i++) {
        const fetch_part *fp = &op->parts[i];
        if ((fp->error_code != SK_ERR_NOT_LEADER_OR_FOLLOWER && fp->error_code != SK_ERR_FENCED_LEADER_EPOCH) ||
            fp->leader < 0)
            continue;
        bool seen = false;
        for (int32_t j = 0; j < n; j++)
            seen |= ids[j] == fp->leader;
        if (!seen && n < SK_CLUSTER_MAX_BROKERS)
            ids[n++] = fp->leader;
    }
    if (n == 0)
        return 0;
    kf_fetch_response_node_endpoint *e = sk_arena_alloc(&op->req->arena, (size_t)n * sizeof *e);
    if (!e)
        return -1;
    for (int32_t i = 0; i < n; i++) {
        e[i].node_id = ids[i];
        sk_cluster_endpoint(op->req, ids[i], &e[i].host, &e[i].port);
        e[i].rack = kf_str_c(sk_cluster_rack(op->req->broker, ids[i]));
    }
    resp->node_endpoints.items = e;
    resp->node_endpoints.n = n;
    return 0;
}

/* Builds the response from the parts read (grouped by topic, in order). */
static kf_fetch_response *fetch_response(fetch_op *op)
{
    sk_request *req = op->req;
    kf_fetch_response *resp = sk_request_response(req);
    kf_fetch_response_topic *topics = sk_arena_alloc(&req->arena, (size_t)op->nparts * sizeof *topics);
    kf_fetch_response_partition *parts = sk_arena_alloc(&req->arena, (size_t)op->nparts * sizeof *parts);
    if (!resp || !topics || !parts)
        return NULL;
    sk_fetch_session *s = op->session_id ? sk_fetch_session_find(req->broker->fetch_sessions, op->session_id) : NULL;
    int32_t nt = 0, np = 0;
    const fetch_part *last = NULL;
    for (int32_t i = 0; i < op->nparts; i++) {
        const fetch_part *fp = &op->parts[i];
        if (!session_news(op, s, fp))
            continue;
        if (!last || !same_topic(last, fp)) {
            topics[nt].topic = fp->topic;
            topics[nt].topic_id = fp->topic_id;
            topics[nt].partitions.items = &parts[np];
            nt++;
        }
        last = fp;
        fill_partition(op, fp, &parts[np]);
        if (op->isolation_level == SK_READ_COMMITTED && fill_aborted(op, fp, &parts[np]) < 0)
            return NULL;
        np++;
        topics[nt - 1].partitions.n++;
    }
    if (s && op->incremental)
        sk_fetch_session_rotate(s);
    if (fill_endpoints(op, resp) < 0)
        return NULL;
    resp->responses.items = topics;
    resp->responses.n = nt;
    resp->session_id = op->session_id;
    return resp;
}

static void fetch_unpark(fetch_op *op)
{
    for (int32_t i = 0; i < op->nparts; i++)
        sk_partition_unlisten(&op->parts[i].listener);
    if (op->timer) {
        event_free(op->timer);
        op->timer = NULL;
        if (op->prev)
            op->prev->next = op->next;
        else
            op->req->broker->parked_fetches = op->next;
        if (op->next)
            op->next->prev = op->prev;
    }
}

static void fetch_complete(fetch_op *op)
{
    fetch_unpark(op);
    if (sk_request_on_free(op->req, release_slices, op) < 0) {
        release_slices(op);
        sk_request_close(op->req, "out of memory");
        return;
    }
    kf_fetch_response *resp = fetch_response(op);
    if (!resp) {
        sk_request_close(op->req, "out of memory");
        return;
    }
    sk_request_respond(op->req, resp);
}

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    fetch_op *op = arg;
    bool error;
    fetch_read(op, &error);
    fetch_complete(op);
}

static void on_append(sk_partition *p, const sk_append_info *info, void *arg)
{
    (void)p;
    fetch_part *fp = arg;
    fetch_op *op = fp->op;
    if (!info) { /* the partition was deleted */
        fp->p = NULL;
        fp->error_code = SK_ERR_UNKNOWN_TOPIC_OR_PARTITION;
    }
    bool error;
    int64_t bytes = fetch_read(op, &error);
    if (error || bytes >= op->min_bytes) {
        fetch_complete(op);
        return;
    }
    release_slices(op);
    sk_partition_listen(fp->p, &fp->listener);
}

/* Parks the fetch until an append or max_wait_ms; returns -1 when it cannot. */
static int fetch_park(fetch_op *op, int32_t max_wait_ms)
{
    op->timer = evtimer_new(op->req->broker->base, on_timeout, op);
    struct timeval tv = {max_wait_ms / 1000, (max_wait_ms % 1000) * 1000};
    if (!op->timer || evtimer_add(op->timer, &tv) < 0) {
        if (op->timer)
            event_free(op->timer);
        op->timer = NULL;
        return -1;
    }
    release_slices(op);
    for (int32_t i = 0; i < op->nparts; i++) {
        fetch_part *fp = &op->parts[i];
        fp->listener.fn = on_append;
        fp->listener.arg = fp;
        sk_partition_listen(fp->p, &fp->listener);
    }
    sk_broker *b = op->req->broker;
    op->next = b->parked_fetches;
    if (op->next)
        op->next->prev = op;
    b->parked_fetches = op;
    return 0;
}

void sk_api_fetch_shutdown(sk_broker *b)
{
    while (b->parked_fetches) {
        bool error;
        fetch_read(b->parked_fetches, &error);
        fetch_complete(b->parked_fetches);
    }
}

/* Resolves a part's topic and partition log, or sets its error. */
static void resolve(fetch_op *op, fetch_part *fp)
{
    sk_broker *b = op->req->broker;
    sk_topic *t;
    fp->preferred_read_replica = -1;
    if (op->req->hdr.api_version >= 13) {
        t = sk_meta_topic_by_id(b->meta, fp->topic_id.b);
        fp->error_code = SK_ERR_UNKNOWN_TOPIC_ID;
    } else {
        t = sk_meta_topic(b->meta, fp->topic.p, (size_t)fp->topic.len);
        fp->error_code = SK_ERR_UNKNOWN_TOPIC_OR_PARTITION;
    }
    if (!t)
        return;
    fp->p = sk_topics_partition(b, t, fp->partition);
    fp->error_code = fp->p ? SK_ERR_NONE : SK_ERR_UNKNOWN_TOPIC_OR_PARTITION;
    if (!fp->p)
        return;
    sk_route r;
    fp->error_code =
        sk_cluster_check_leader(op->req, t->name, t->partitions, fp->partition, fp->current_leader_epoch, &r);
    fp->leader = r.leader;
    fp->leader_epoch = r.leader_epoch;
    /* KIP-392: a consumer fetching v11+ (it sends client metadata) may read
     * from any replica; the leader may send it to one in its rack. */
    const kf_fetch_request *body = op->req->body;
    bool consumer_v11 = op->req->hdr.api_version >= 11 && body->replica_id < 0 && body->replica_state.replica_id < 0;
    if (fp->error_code == SK_ERR_NOT_LEADER_OR_FOLLOWER && consumer_v11 && sk_route_has_replica(&r, op->req->node_id))
        fp->error_code = SK_ERR_NONE;
    if (fp->error_code == SK_ERR_NONE && consumer_v11 && r.leader == op->req->node_id)
        fp->preferred_read_replica = sk_cluster_preferred_read_replica(b, &r, body->rack_id);
    if (fp->error_code == SK_ERR_NONE)
        fp->error_code = sk_partition_ensure_loaded(fp->p);
    if (fp->error_code != SK_ERR_NONE)
        fp->p = NULL;
}

/* Parts from the request itself (full fetches). */
static int parts_from_request(fetch_op *op, const kf_fetch_request *body)
{
    for (int32_t i = 0; i < body->topics.n; i++)
        op->nparts += body->topics.items[i].partitions.n > 0 ? body->topics.items[i].partitions.n : 0;
    op->parts = sk_arena_alloc(&op->req->arena, (size_t)op->nparts * sizeof *op->parts);
    if (!op->parts)
        return -1;
    int32_t k = 0;
    for (int32_t i = 0; i < body->topics.n; i++) {
        const kf_fetch_request_topic *rt = &body->topics.items[i];
        for (int32_t j = 0; j < rt->partitions.n; j++, k++) {
            fetch_part *fp = &op->parts[k];
            fp->topic = rt->topic.p ? rt->topic : kf_str_c("");
            fp->topic_id = rt->topic_id;
            fp->partition = rt->partitions.items[j].partition;
            fp->fetch_offset = rt->partitions.items[j].fetch_offset;
            fp->max_bytes = rt->partitions.items[j].partition_max_bytes;
            fp->current_leader_epoch = rt->partitions.items[j].current_leader_epoch;
        }
    }
    return 0;
}

/* Records the fetch offset and max bytes of every partition the request
 * lists in session `s`, adding the partitions it does not hold yet. */
static int session_update(const fetch_op *op, const kf_fetch_request *body, sk_fetch_session *s)
{
    bool by_id = op->req->hdr.api_version >= 13;
    for (int32_t i = 0; i < body->topics.n; i++) {
        const kf_fetch_request_topic *rt = &body->topics.items[i];
        for (int32_t j = 0; j < rt->partitions.n; j++) {
            const kf_fetch_request_partition *rp = &rt->partitions.items[j];
            sk_fetch_part_state *st =
                sk_fetch_session_upsert(s, by_id ? NULL : rt->topic.p, rt->topic_id.b, rp->partition);
            if (!st)
                return -1;
            st->fetch_offset = rp->fetch_offset;
            st->partition_max_bytes = rp->partition_max_bytes;
            st->current_leader_epoch = rp->current_leader_epoch;
        }
    }
    return 0;
}

/* Applies an incremental request to session `s`, then takes every
 * partition of the session as the parts to read. */
static int parts_from_session(fetch_op *op, const kf_fetch_request *body, sk_fetch_session *s)
{
    bool by_id = op->req->hdr.api_version >= 13;
    if (session_update(op, body, s) < 0)
        return -1;
    for (int32_t i = 0; i < body->forgotten_topics_data.n; i++) {
        const kf_fetch_request_forgotten_topic *ft = &body->forgotten_topics_data.items[i];
        for (int32_t j = 0; j < ft->partitions.n; j++)
            sk_fetch_session_forget(s, by_id ? NULL : ft->topic.p, ft->topic_id.b, ft->partitions.items[j]);
    }
    op->nparts = s->nparts;
    op->parts = sk_arena_alloc(&op->req->arena, (size_t)op->nparts * sizeof *op->parts);
    if (!op->parts)
        return -1;
    for (int32_t i = 0; i < s->nparts; i++) {
        const sk_fetch_part_state *st = &s->parts[i];
        fetch_part *fp = &op->parts[i];
        const char *name = st->topic ? st->topic : "";
        fp->topic.p = sk_arena_strndup(&op->req->arena, name, strlen(name));
        fp->topic.len = (int32_t)strlen(name);
        memcpy(fp->topic_id.b, st->topic_id, 16);
        fp->partition = st->partition;
        fp->fetch_offset = st->fetch_offset;
        fp->max_bytes = st->partition_max_bytes;
        fp->current_leader_epoch = st->current_leader_epoch;
        if (!fp->topic.p)
            return -1;
    }
    return 0;
}

/* Picks the parts per the session fields; returns a top-level error code. */
static int16_t fetch_session_start(fetch_op *op, const kf_fetch_request *body, int *rc)
{
    sk_fetch_sessions *cache = op->req->broker->fetch_sessions;
    *rc = 0;
    /* Another broker's session is unknown here (each Kafka broker has its
     * own session cache). */
    sk_fetch_session *s = body->session_id != 0 ? sk_fetch_session_find(cache, body->session_id) : NULL;
    if (s && s->node_id != op->req->node_id)
        s = NULL;
    if (body->session_epoch == -1 || body->session_epoch == 0) {
        if (s)
            sk_fetch_session_close(cache, s->id);
        *rc = parts_from_request(op, body);
        if (body->session_epoch == 0 && *rc == 0) {
            /* The session starts with every partition of the request at its
             * fetch offset: the next incremental fetch lists only changes. */
            s = sk_fetch_session_create(cache);
            if (s)
                s->node_id = op->req->node_id;
            if (s && session_update(op, body, s) < 0) {
                sk_fetch_session_close(cache, s->id);
                s = NULL;
            }
            op->session_id = s ? s->id : 0; /* 0: declined, the client keeps full fetches */
        }
        return SK_ERR_NONE;
    }
    if (body->session_id == 0)
        return SK_ERR_INVALID_FETCH_SESSION_EPOCH;
    if (!s)
        return SK_ERR_FETCH_SESSION_ID_NOT_FOUND;
    if (body->session_epoch != s->epoch)
        return SK_ERR_INVALID_FETCH_SESSION_EPOCH;
    s->epoch = s->epoch == INT32_MAX ? 1 : s->epoch + 1;
    op->session_id = s->id;
    op->incremental = true;
    *rc = parts_from_session(op, body, s);
    return SK_ERR_NONE;
}

void sk_api_fetch(sk_request *req)
{
    const kf_fetch_request *body = req->body;
    fetch_op *op = sk_arena_alloc(&req->arena, sizeof *op);
    if (!op) {
        sk_request_close(req, "out of memory");
        return;
    }
    op->req = req;
    op->max_bytes = body->max_bytes;
    op->min_bytes = body->min_bytes;
    op->isolation_level = body->isolation_level;
    if (body->isolation_level != SK_READ_UNCOMMITTED && body->isolation_level != SK_READ_COMMITTED) {
        sk_request_close(req, "Fetch isolation_level must be 0 or 1");
        return;
    }
    int rc;
    int16_t err = fetch_session_start(op, body, &rc);
    if (rc < 0) {
        sk_request_close(req, "out of memory");
        return;
    }
    if (err != SK_ERR_NONE) {
        kf_fetch_response *resp = sk_request_response(req);
        if (!resp) {
            sk_request_close(req, "out of memory");
            return;
        }
        resp->error_code = err;
        sk_request_respond(req, resp);
        return;
    }
    for (int32_t i = 0; i < op->nparts; i++) {
        op->parts[i].op = op;
        resolve(op, &op->parts[i]);
    }
    bool error;
    int64_t bytes = fetch_read(op, &error);
    if (error || bytes >= op->min_bytes || body->max_wait_ms <= 0 || op->nparts == 0 || req->broker->stopping ||
        fetch_park(op, body->max_wait_ms) < 0)
        fetch_complete(op);
}
