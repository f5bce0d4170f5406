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
 * - Each partition answers its high watermark, last stable offset (= high
 *   watermark until transactions exist), log start offset, preferred read
 *   replica -1, and aborted transactions (null for read_uncommitted, empty
 *   for read_committed). A fetch offset outside [log start offset, high
 *   watermark] is OFFSET_OUT_OF_RANGE; unknown topics are
 *   UNKNOWN_TOPIC_OR_PARTITION (by name, v<13) or UNKNOWN_TOPIC_ID (v13+).
 * - Long poll: with fewer than min_bytes and no partition error, the request
 *   parks: an append listener on every partition and one timer. An append
 *   re-reads; the timer (or shutdown) answers with what there is. No
 *   polling.
 * - Sessions (KIP-227): skiff declines to create fetch sessions (answers
 *   session id 0, which the protocol allows and clients handle by sending
 *   full fetches); a non-zero session id is FETCH_SESSION_ID_NOT_FOUND and
 *   session id 0 with an epoch other than -1 or 0 is
 *   INVALID_FETCH_SESSION_EPOCH.
 * - Record data is sent from the log files with sendfile (kf_bytes.ext).
 */
#include <event2/event.h>
#include <string.h>

#include "kf_msgs.h"
#include "skiff/api.h"
#include "skiff/errors.h"
#include "skiff/log.h"
#include "skiff/topics.h"

typedef struct fetch_op fetch_op;

/* One requested partition. */
typedef struct fetch_part {
    fetch_op *op;
    sk_partition *p;                       /* NULL when the partition answers an error */
    const kf_fetch_request_partition *in;
    kf_fetch_response_partition *out;
    sk_log_slice slice;                    /* the data read, referenced by out->records.ext */
    sk_append_listener listener;           /* armed while parked */
} fetch_part;

struct fetch_op {
    sk_request *req;
    kf_fetch_response *resp;
    fetch_part *parts;
    int32_t nparts;
    int32_t max_bytes, min_bytes;
    int8_t isolation_level;
    struct event *timer;                   /* while parked */
    fetch_op *prev, *next;                 /* parked list */
};

static fetch_op *parked;                   /* parked fetches, for shutdown */

static void release_slices(void *arg)
{
    fetch_op *op = arg;
    for (int32_t i = 0; i < op->nparts; i++)
        sk_log_slice_release(&op->parts[i].slice);
}

/* Reads every partition afresh; returns the record bytes read and sets
 * *error when a partition answers an error (which ends a long poll). */
static int64_t fetch_read(fetch_op *op, bool *error)
{
    int64_t total = 0;
    bool have_data = false;
    *error = false;
    for (int32_t i = 0; i < op->nparts; i++) {
        fetch_part *fp = &op->parts[i];
        kf_fetch_response_partition *out = fp->out;
        sk_log_slice_release(&fp->slice);
        out->records.ext = NULL;
        out->records.p = (const uint8_t *)"";
        out->records.len = 0;
        if (!fp->p) {
            *error = true;
            continue;
        }
        int64_t hw = sk_partition_high_watermark(fp->p);
        out->high_watermark = hw;
        out->last_stable_offset = hw;
        out->log_start_offset = sk_partition_log_start_offset(fp->p);
        int64_t limit = fp->in->partition_max_bytes;
        if (op->max_bytes - total < limit)
            limit = op->max_bytes - total;
        if (have_data && limit <= 0)
            continue;
        sk_read_result rr;
        int16_t err = sk_partition_read(fp->p, fp->in->fetch_offset, limit > 0 ? (int32_t)limit : 0,
                                        hw, &rr);
        out->error_code = err;
        if (err != SK_ERR_NONE) {
            *error = true;
            continue;
        }
        if (!rr.slice.file || rr.slice.length == 0) {
            sk_log_slice_release(&rr.slice);
            continue;
        }
        if (have_data && rr.slice.length > limit) {
            sk_log_slice_release(&rr.slice);
            continue;
        }
        fp->slice = rr.slice;
        out->records.ext = &fp->slice;
        out->records.len = (int32_t)rr.slice.length;
        total += rr.slice.length;
        have_data = true;
    }
    return total;
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
            parked = op->next;
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
    sk_request_respond(op->req, op->resp);
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
        fp->out->error_code = SK_ERR_UNKNOWN_TOPIC_OR_PARTITION;
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
    op->next = parked;
    if (parked)
        parked->prev = op;
    parked = op;
    return 0;
}

void sk_api_fetch_shutdown(sk_broker *b)
{
    (void)b;
    while (parked) {
        bool error;
        fetch_read(parked, &error);
        fetch_complete(parked);
    }
}

/* Resolves a requested topic; sets *err when it is unknown. */
static sk_topic *find_topic(sk_request *req, const kf_fetch_request_topic *rt, int16_t *err)
{
    sk_topic *t;
    if (req->hdr.api_version >= 13) {
        t = sk_meta_topic_by_id(req->broker->meta, rt->topic_id.b);
        *err = t ? SK_ERR_NONE : SK_ERR_UNKNOWN_TOPIC_ID;
    } else {
        t = rt->topic.p ? sk_meta_topic(req->broker->meta, rt->topic.p, (size_t)rt->topic.len) : NULL;
        *err = t ? SK_ERR_NONE : SK_ERR_UNKNOWN_TOPIC_OR_PARTITION;
    }
    return t;
}

/* Builds the response skeleton: one entry per requested partition. */
static int fetch_prepare(fetch_op *op, const kf_fetch_request *body)
{
    sk_request *req = op->req;
    int32_t ntopics = body->topics.n > 0 ? body->topics.n : 0;
    for (int32_t i = 0; i < ntopics; i++)
        op->nparts += body->topics.items[i].partitions.n > 0 ? body->topics.items[i].partitions.n : 0;
    kf_fetch_response_topic *topics = sk_arena_alloc(&req->arena, (size_t)ntopics * sizeof *topics + 1);
    op->parts = sk_arena_alloc(&req->arena, (size_t)op->nparts * sizeof *op->parts + 1);
    if (!topics || !op->parts)
        return -1;
    int32_t k = 0;
    for (int32_t i = 0; i < ntopics; i++) {
        const kf_fetch_request_topic *rt = &body->topics.items[i];
        kf_fetch_response_topic *out = &topics[i];
        int16_t terr;
        sk_topic *t = find_topic(req, rt, &terr);
        out->topic = rt->topic;
        out->topic_id = rt->topic_id;
        int32_t np = rt->partitions.n > 0 ? rt->partitions.n : 0;
        kf_fetch_response_partition *parts = sk_arena_alloc(&req->arena, (size_t)np * sizeof *parts + 1);
        if (!parts)
            return -1;
        out->partitions.items = parts;
        out->partitions.n = np;
        for (int32_t j = 0; j < np; j++, k++) {
            fetch_part *fp = &op->parts[k];
            kf_fetch_response_partition *po = &parts[j];
            fp->op = op;
            fp->in = &rt->partitions.items[j];
            fp->out = po;
            po->partition_index = fp->in->partition;
            po->high_watermark = -1;
            po->last_stable_offset = -1;
            po->log_start_offset = -1;
            po->preferred_read_replica = -1;
            po->diverging_epoch.epoch = -1;
            po->diverging_epoch.end_offset = -1;
            po->current_leader.leader_id = -1;
            po->current_leader.leader_epoch = -1;
            po->snapshot_id.end_offset = -1;
            po->snapshot_id.epoch = -1;
            po->aborted_transactions.n = op->isolation_level == 1 ? 0 : -1;
            po->error_code = terr;
            if (t) {
                fp->p = sk_topics_partition(req->broker, t, fp->in->partition);
                if (!fp->p)
                    po->error_code = SK_ERR_UNKNOWN_TOPIC_OR_PARTITION;
            }
        }
    }
    op->resp->responses.items = topics;
    op->resp->responses.n = ntopics;
    return 0;
}

void sk_api_fetch(sk_request *req)
{
    const kf_fetch_request *body = req->body;
    fetch_op *op = sk_arena_alloc(&req->arena, sizeof *op);
    kf_fetch_response *resp = sk_request_response(req);
    if (!op || !resp) {
        sk_request_close(req, "out of memory");
        return;
    }
    op->req = req;
    op->resp = resp;
    op->max_bytes = body->max_bytes;
    op->min_bytes = body->min_bytes;
    op->isolation_level = body->isolation_level;

    if (body->isolation_level != 0 && body->isolation_level != 1) {
        sk_request_close(req, "Fetch isolation_level must be 0 or 1");
        return;
    }
    if (body->session_id != 0) {
        resp->error_code = SK_ERR_FETCH_SESSION_ID_NOT_FOUND;
        sk_request_respond(req, resp);
        return;
    }
    if (body->session_epoch != -1 && body->session_epoch != 0) {
        resp->error_code = SK_ERR_INVALID_FETCH_SESSION_EPOCH;
        sk_request_respond(req, resp);
        return;
    }
    if (fetch_prepare(op, body) < 0) {
        sk_request_close(req, "out of memory");
        return;
    }
    bool error;
    int64_t bytes = fetch_read(op, &error);
    if (error || bytes >= op->min_bytes || body->max_wait_ms <= 0 || op->nparts == 0 ||
        req->broker->stopping || fetch_park(op, body->max_wait_ms) < 0)
        fetch_complete(op);
}
