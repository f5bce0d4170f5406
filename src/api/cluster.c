/*
 * Cluster and replica APIs of a one-node cluster, answered as a Kafka 4.0
 * broker answers them:
 * - DescribeCluster v0-1 (KIP-700, KIP-919): the brokers that are up (one,
 *   or skiff.cluster.brokers: skiff/cluster.h) with their racks, and the
 *   controller. An endpoint type other than brokers (1) is refused:
 *   controllers (2) with MISMATCHED_ENDPOINT_TYPE, unknown ones with
 *   UNSUPPORTED_ENDPOINT_TYPE (both INVALID_REQUEST at v0).
 * - DescribeLogDirs v0-4: the one log directory with the size of each
 *   partition (offset lag 0: every replica is the leader), and v4 the
 *   directory's total and usable bytes.
 * - OffsetForLeaderEpoch v0-4 (KIP-101, KIP-320): epoch 0 began at the log
 *   start offset and every leader change (skiff/cluster.h) began a new
 *   epoch at the log end offset of that moment. The current epoch ends at
 *   the log end offset, an earlier one where the next began, a later one is
 *   unknown (-1, -1), as Kafka's LeaderEpochFileCache answers. A consumer's
 *   request needs the leader (NOT_LEADER_OR_FOLLOWER elsewhere); a
 *   current_leader_epoch older than the partition's is FENCED_LEADER_EPOCH,
 *   newer UNKNOWN_LEADER_EPOCH.
 * - ElectLeaders v0-2 (KIP-183, KIP-460): preferred or unclean election of
 *   each partition (skiff/cluster.h sk_cluster_elect; with one broker every
 *   partition answers ELECTION_NOT_NEEDED); asked for all partitions
 *   (null), Kafka leaves out those that needed none, listing each topic.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include "admin.h"
#include "authorized_ops.h"
#include "kf_msgs.h"
#include "skiff/cluster.h"
#include "skiff/errors.h"
#include "skiff/trace.h"
#include "skiff/topics.h"

#define ENDPOINT_BROKER 1
#define ENDPOINT_CONTROLLER 2

/* ---- DescribeCluster ---------------------------------------------------- */

void sk_api_describe_cluster(sk_request *req)
{
    const kf_describe_cluster_request *body = req->body;
    kf_describe_cluster_response *resp = sk_request_response(req);
    int32_t up[SK_CLUSTER_MAX_BROKERS], nb = sk_cluster_brokers_up(req->broker, up);
    kf_describe_cluster_response_describe_cluster_broker *broker =
        sk_admin_array(req, &kf_describe_cluster_response_describe_cluster_broker_desc, nb);
    if (!resp || !broker) {
        sk_request_close(req, "out of memory");
        return;
    }
    bool v0 = req->hdr.api_version == 0;
    /* A broker answers as a broker endpoint, whatever type was asked for. */
    resp->endpoint_type = ENDPOINT_BROKER;
    if (body->endpoint_type != ENDPOINT_BROKER && body->endpoint_type != ENDPOINT_CONTROLLER) {
        resp->error_code = v0 ? SK_ERR_INVALID_REQUEST : SK_ERR_UNSUPPORTED_ENDPOINT_TYPE;
        resp->error_message = sk_admin_printf(req, "Unsupported endpoint type %d", body->endpoint_type);
    } else if (body->endpoint_type == ENDPOINT_CONTROLLER) {
        resp->error_code = v0 ? SK_ERR_INVALID_REQUEST : SK_ERR_MISMATCHED_ENDPOINT_TYPE;
        resp->error_message = kf_str_c("The request was sent to an endpoint of type BROKER, but we wanted an "
                                       "endpoint of type CONTROLLER");
    } else {
        for (int32_t i = 0; i < nb; i++) {
            broker[i].broker_id = up[i];
            sk_cluster_endpoint(req, up[i], &broker[i].host, &broker[i].port);
            broker[i].rack = kf_str_c(sk_cluster_rack(req->broker, up[i]));
        }
        resp->brokers.items = broker;
        resp->brokers.n = nb;
        resp->cluster_id = kf_str_c(sk_meta_cluster_id(req->broker->meta));
        resp->controller_id = sk_cluster_controller(req->broker);
        if (body->include_cluster_authorized_operations)
            resp->cluster_authorized_operations = SK_CLUSTER_OPERATIONS;
    }
    sk_request_respond(req, resp);
}

/* ---- DescribeLogDirs ---------------------------------------------------- */

/* Fills one topic's entry with the requested partitions (NULL = all) that
 * exist. */
static int describe_topic_dirs(sk_request *req, const sk_topic *t, const int32_t *want, int32_t nwant,
                               kf_describe_log_dirs_response_describe_log_dirs_topic *out)
{
    int32_t cap = want ? nwant : t->partitions;
    kf_describe_log_dirs_response_describe_log_dirs_partition *parts =
        sk_admin_array(req, &kf_describe_log_dirs_response_describe_log_dirs_partition_desc, cap);
    if (!parts)
        return -1;
    int32_t n = 0;
    for (int32_t i = 0; i < cap; i++) {
        sk_partition *p = sk_topics_partition(req->broker, t, want ? want[i] : i);
        if (!p || sk_partition_ensure_loaded(p) != SK_ERR_NONE) /* only logs that are online, as Kafka */
            continue;
        parts[n].partition_index = sk_partition_index(p);
        parts[n].partition_size = sk_partition_size_bytes(p);
        n++;
    }
    out->name = kf_str_c(t->name);
    out->partitions.items = parts;
    out->partitions.n = n;
    return 0;
}

typedef struct all_dirs {
    sk_request *req;                                               /* the DescribeLogDirs request (arena) */
    kf_describe_log_dirs_response_describe_log_dirs_topic *topics; /* one entry per topic with a log here */
    int32_t n;                                                     /* entries in topics */
    int rc;                                                        /* -1 when the arena ran out */
} all_dirs;

static void add_topic_dirs(sk_topic *t, void *arg)
{
    all_dirs *x = arg;
    if (describe_topic_dirs(x->req, t, NULL, 0, &x->topics[x->n]) < 0)
        x->rc = -1;
    else
        x->n++;
}

void sk_api_describe_log_dirs(sk_request *req)
{
    const kf_describe_log_dirs_request *body = req->body;
    kf_describe_log_dirs_response *resp = sk_request_response(req);
    kf_describe_log_dirs_response_describe_log_dirs_result *dir =
        sk_admin_array(req, &kf_describe_log_dirs_response_describe_log_dirs_result_desc, 1);
    sk_meta *meta = req->broker->meta;
    bool all = body->topics.n < 0;
    int32_t cap = all ? sk_meta_topic_count(meta) : body->topics.n;
    all_dirs x = {.req = req,
                  .topics = sk_admin_array(req, &kf_describe_log_dirs_response_describe_log_dirs_topic_desc, cap)};
    if (!resp || !dir || !x.topics) {
        sk_request_close(req, "out of memory");
        return;
    }
    if (all) {
        sk_meta_foreach(meta, add_topic_dirs, &x);
    } else {
        for (int32_t i = 0; i < body->topics.n && x.rc == 0; i++) {
            const kf_describe_log_dirs_request_describable_log_dir_topic *in = &body->topics.items[i];
            sk_topic *t = sk_meta_topic(meta, in->topic.p, (size_t)in->topic.len);
            if (t && describe_topic_dirs(req, t, in->partitions.items, in->partitions.n > 0 ? in->partitions.n : 0,
                                         &x.topics[x.n]) == 0)
                x.n++;
        }
    }
    if (x.rc < 0) {
        sk_request_close(req, "out of memory");
        return;
    }
    char path[PATH_MAX];
    dir->log_dir = sk_admin_str(req, realpath(sk_meta_dir(meta), path) ? path : sk_meta_dir(meta));
    dir->topics.items = x.topics;
    dir->topics.n = x.n;
    struct statvfs vfs;
    if (statvfs(sk_meta_dir(meta), &vfs) == 0) {
        dir->total_bytes = (int64_t)vfs.f_blocks * (int64_t)vfs.f_frsize;
        dir->usable_bytes = (int64_t)vfs.f_bavail * (int64_t)vfs.f_frsize;
    }
    resp->results.items = dir;
    resp->results.n = 1;
    sk_request_respond(req, resp);
}

/* ---- OffsetForLeaderEpoch ----------------------------------------------- */

static void epoch_end_offset(sk_request *req, const sk_topic *t, int32_t replica_id,
                             const kf_offset_for_leader_epoch_request_offset_for_leader_partition *in,
                             kf_offset_for_leader_epoch_response_epoch_end_offset *out)
{
    out->partition = in->partition;
    sk_partition *p = t ? sk_topics_partition(req->broker, t, in->partition) : NULL;
    if (!p) {
        out->error_code = SK_ERR_UNKNOWN_TOPIC_OR_PARTITION;
        return;
    }
    /* A consumer (replica id -1 or -2) needs the leader; a follower any replica. */
    int16_t err = sk_cluster_check_leader(req, t->name, t->partitions, in->partition, in->current_leader_epoch, NULL);
    if (err != SK_ERR_NONE && !(err == SK_ERR_NOT_LEADER_OR_FOLLOWER && replica_id >= 0)) {
        out->error_code = err;
        return;
    }
    out->error_code = sk_partition_ensure_loaded(p);
    if (out->error_code != SK_ERR_NONE)
        return;
    sk_cluster_epoch_end(req->broker, t->name, t->partitions, in->partition, in->leader_epoch,
                         sk_partition_log_end_offset(p), sk_partition_log_start_offset(p), &out->leader_epoch,
                         &out->end_offset);
}

void sk_api_offset_for_leader_epoch(sk_request *req)
{
    const kf_offset_for_leader_epoch_request *body = req->body;
    kf_offset_for_leader_epoch_response *resp = sk_request_response(req);
    int32_t n = body->topics.n > 0 ? body->topics.n : 0;
    kf_offset_for_leader_epoch_response_offset_for_leader_topic_result *topics =
        sk_admin_array(req, &kf_offset_for_leader_epoch_response_offset_for_leader_topic_result_desc, n);
    if (!resp || !topics) {
        sk_request_close(req, "out of memory");
        return;
    }
    for (int32_t i = 0; i < n; i++) {
        const kf_offset_for_leader_epoch_request_offset_for_leader_topic *in = &body->topics.items[i];
        int32_t np = in->partitions.n > 0 ? in->partitions.n : 0;
        kf_offset_for_leader_epoch_response_epoch_end_offset *parts =
            sk_admin_array(req, &kf_offset_for_leader_epoch_response_epoch_end_offset_desc, np);
        if (!parts) {
            sk_request_close(req, "out of memory");
            return;
        }
        sk_topic *t = sk_meta_topic(req->broker->meta, in->topic.p, (size_t)in->topic.len);
        for (int32_t j = 0; j < np; j++)
            epoch_end_offset(req, t, body->replica_id, &in->partitions.items[j], &parts[j]);
        topics[i].topic = in->topic;
        topics[i].partitions.items = parts;
        topics[i].partitions.n = np;
    }
    resp->topics.items = topics;
    resp->topics.n = n;
    sk_request_respond(req, resp);
}

/* ---- ElectLeaders ------------------------------------------------------- */

typedef struct elect_all {
    sk_request *req;                                            /* the ElectLeaders request (arena) */
    kf_elect_leaders_response_replica_election_result *results; /* one per topic */
    int32_t n;                                                  /* entries in results */
    bool unclean;                                               /* election_type UNCLEAN (1), else PREFERRED */
    int rc;                                                     /* -1 when the arena ran out */
} elect_all;

/* Elects one partition; fills its result. */
static void elect_one(sk_request *req, const sk_topic *t, int32_t id, bool unclean,
                      kf_elect_leaders_response_partition_result *out)
{
    out->partition_id = id;
    out->error_code = sk_cluster_elect(req->broker, t->name, t->partitions, id, unclean);
    if (out->error_code == SK_ERR_ELECTION_NOT_NEEDED)
        out->error_message = kf_str_c("Leader election not needed for topic partition.");
    else if (out->error_code != SK_ERR_NONE)
        out->error_message = sk_admin_printf(req, "Failed to elect leader for partition %s-%d under strategy %s",
                                             t->name, id, unclean ? "UNCLEAN" : "PREFERRED");
}

/* Every topic, with the partitions whose election was needed (one broker:
 * none). */
static void elect_topic(sk_topic *t, void *arg)
{
    elect_all *x = arg;
    kf_elect_leaders_response_replica_election_result *r = &x->results[x->n++];
    r->topic = kf_str_c(t->name);
    kf_elect_leaders_response_partition_result *parts =
        sk_admin_array(x->req, &kf_elect_leaders_response_partition_result_desc, t->partitions);
    if (!parts) {
        x->rc = -1;
        return;
    }
    int32_t n = 0;
    for (int32_t i = 0; i < t->partitions; i++) {
        elect_one(x->req, t, i, x->unclean, &parts[n]);
        if (parts[n].error_code != SK_ERR_ELECTION_NOT_NEEDED)
            n++;
    }
    r->partition_result.items = parts;
    r->partition_result.n = n;
}

void sk_api_elect_leaders(sk_request *req)
{
    const kf_elect_leaders_request *body = req->body;
    kf_elect_leaders_response *resp = sk_request_response(req);
    sk_meta *meta = req->broker->meta;
    bool all = body->topic_partitions.n < 0;
    int32_t n = all ? sk_meta_topic_count(meta) : body->topic_partitions.n;
    elect_all x = {.req = req,
                   .results = sk_admin_array(req, &kf_elect_leaders_response_replica_election_result_desc, n)};
    if (!resp || !x.results) {
        sk_request_close(req, "out of memory");
        return;
    }
    /* Election types: 0 preferred, 1 unclean (v1+; v0 is always preferred). */
    bool bad_type = body->election_type != 0 && body->election_type != 1;
    kf_str bad_msg = sk_admin_printf(req, "Unknown election type %d", body->election_type);
    if (bad_type)
        resp->error_code = SK_ERR_INVALID_REQUEST;
    x.unclean = body->election_type == 1;
    if (all && !bad_type) {
        sk_meta_foreach(meta, elect_topic, &x);
        if (x.rc < 0) {
            sk_request_close(req, "out of memory");
            return;
        }
    } else {
        for (int32_t i = 0; i < body->topic_partitions.n; i++) {
            const kf_elect_leaders_request_topic_partitions *in = &body->topic_partitions.items[i];
            int32_t np = in->partitions.n > 0 ? in->partitions.n : 0;
            kf_elect_leaders_response_partition_result *parts =
                sk_admin_array(req, &kf_elect_leaders_response_partition_result_desc, np);
            if (!parts) {
                sk_request_close(req, "out of memory");
                return;
            }
            sk_topic *t = sk_meta_topic(meta, in->topic.p, (size_t)in->topic.len);
            for (int32_t j = 0; j < np; j++) {
                int32_t id = in->partitions.items[j];
                parts[j].partition_id = id;
                if (bad_type) {
                    parts[j].error_code = SK_ERR_INVALID_REQUEST;
                    parts[j].error_message = bad_msg;
                } else if (!t) {
                    parts[j].error_code = SK_ERR_UNKNOWN_TOPIC_OR_PARTITION;
                    parts[j].error_message = sk_admin_printf(req, "No such topic as %s", in->topic.p);
                } else if (id < 0 || id >= t->partitions) {
                    parts[j].error_code = SK_ERR_UNKNOWN_TOPIC_OR_PARTITION;
                    parts[j].error_message = sk_admin_printf(req, "No such partition as %s-%d", in->topic.p, id);
                } else {
                    elect_one(req, t, id, x.unclean, &parts[j]);
                }
            }
            x.results[x.n].topic = in->topic;
            x.results[x.n].partition_result.items = parts;
            x.results[x.n].partition_result.n = np;
            x.n++;
        }
    }
    resp->replica_election_results.items = x.results;
    resp->replica_election_results.n = x.n;
    sk_request_respond(req, resp);
}
