/*
 * skiff: a Kafka-compatible broker. main loads the configuration, opens the
 * data directory, starts the listeners and runs the event loop until SIGTERM
 * or SIGINT, then shuts down gracefully: stop accepting, answer what is in
 * flight (bounded by skiff.shutdown.timeout.ms), close the stores, exit 0.
 *
 * Exit status: 0 after a clean stop or --help/--version, 1 when start-up
 * fails (e.g. a port in use), 2 for a bad configuration (also a TLS or SASL
 * setting that cannot be used, such as an unreadable keystore).
 *
 * A first argument that is not an option is a command: `skiff healthcheck`
 * (skiff/healthcheck.h), or any other program, which skiff runs in its
 * place. In the container image skiff is the entrypoint, and tools that
 * replace the command, as Testcontainers does with "sh -c ...", expect it
 * to run as given.
 */
#include <errno.h>
#include <event2/event.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "skiff/api.h"
#include "skiff/broker.h"
#include "skiff/cluster.h"
#include "skiff/config.h"
#include "skiff/control.h"
#include "skiff/ctl.h"
#include "skiff/fetch_session.h"
#include "skiff/group.h"
#include "skiff/group_configs.h"
#include "skiff/healthcheck.h"
#include "skiff/http.h"
#include "skiff/trace.h"
#include "skiff/logstore.h"
#include "skiff/meta.h"
#include "skiff/net.h"
#include "skiff/security.h"
#include "skiff/topics.h"
#include "skiff/txn.h"

extern char **environ;

static void on_drained(sk_broker *b)
{
    event_base_loopexit(b->base, NULL);
}

static void on_shutdown_timeout(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    sk_broker *b = arg;
    sk_warn("main", "shutdown timeout: closing %zu connections with answers still owed", sk_net_connection_count(b));
    event_base_loopexit(b->base, NULL);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    sk_broker *b = arg;
    if (b->stopping) {
        sk_warn("main", "second %s: stopping now", strsignal((int)sig));
        event_base_loopexit(b->base, NULL);
        return;
    }
    sk_info("main", "%s: shutting down", strsignal((int)sig));
    b->stopping = true;
    sk_net_stop_listening(b);
    sk_api_fetch_shutdown(b);
    int64_t ms = b->config->shutdown_timeout_ms;
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
    event_base_once(b->base, -1, EV_TIMEOUT, on_shutdown_timeout, b, &tv);
    sk_groups_unload(b->groups);
    sk_net_drain(b, on_drained);
}

/* Every loaded partition keeps its active segment and indexes open, and
 * every client a socket: raise the open-file limit to the hard limit. */
static void raise_file_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
            sk_warn("main", "cannot raise the open-file limit: %s", strerror(errno));
    }
}

/* Kafka's own readiness lines, which tools wait for in a broker's log:
 * Testcontainers for Java and Go wait for "Transitioning from RECOVERY to
 * RUNNING" (Kafka 4's BrokerServer), testcontainers-python for "Kafka
 * Server started" (KRaft) or "[KafkaServer id=N] started" (its default). */
static void log_kafka_ready(int32_t node_id)
{
    sk_info("main",
            "ready, in Kafka's words: [BrokerServer id=%d] Transitioning from RECOVERY to "
            "RUNNING; [KafkaServer id=%d] started; [KafkaRaftServer nodeId=%d] Kafka Server started",
            node_id, node_id, node_id);
}

/* The first directory of the log.dirs list. */
static void first_log_dir(const char *dirs, char *out, size_t len)
{
    size_t n = strcspn(dirs, ",");
    snprintf(out, len, "%.*s", (int)n, dirs);
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "ctl"))
        return sk_ctl_main(argc - 1, argv + 1);
    if (argc > 1 && argv[1][0] != '-') {
        if (!strcmp(argv[1], "healthcheck"))
            return sk_healthcheck_main(argc - 1, argv + 1, environ);
        execvp(argv[1], argv + 1);
        fprintf(stderr, "skiff: cannot run \"%s\": %s (settings are --KEY=VALUE; see --help)\n", argv[1],
                strerror(errno));
        return 127;
    }
    sk_config cfg;
    sk_config_status st = sk_config_load(&cfg, argc, argv, environ);
    if (st != SK_CONFIG_OK) {
        sk_config_free(&cfg);
        return st == SK_CONFIG_EXIT ? 0 : 2;
    }
    signal(SIGPIPE, SIG_IGN);
    raise_file_limit();

    int rc = 1;
    char dir[PATH_MAX];
    first_log_dir(cfg.log_dirs, dir, sizeof dir);
    sk_broker b = {.config = &cfg};
    /* Partitions found on disk are recovered with their topic's settings. */
    sk_logstore_opts log_opts = {.topic_config = sk_topics_log_config, .topic_config_arg = &b};
    struct event *sigterm = NULL, *sigint = NULL;
    if (!(b.base = event_base_new())) {
        sk_error("main", "cannot create the event loop");
        goto out;
    }
    if (sk_cluster_open(&b) < 0)
        goto out;
    if (!(b.meta = sk_meta_open_cluster(dir, cfg.node_id, cfg.cluster_id)) ||
        !(b.logs = sk_logstore_open(dir, b.base, &cfg, &log_opts)) || sk_topics_open(&b) < 0 ||
        sk_cluster_load(&b, dir) < 0 || sk_api_groups_start(&b) < 0 || !(b.txns = sk_txns_start(&b, dir)))
        goto out;
    if (!(b.security = sk_security_new(&cfg, dir))) {
        rc = 2; /* a TLS or SASL setting that cannot be used: a configuration error */
        goto out;
    }
    if (!(b.fetch_sessions = sk_fetch_sessions_new()) || sk_control_open(&b) < 0) {
        sk_error("main", "out of memory");
        goto out;
    }
    sigterm = evsignal_new(b.base, SIGTERM, on_signal, &b);
    sigint = evsignal_new(b.base, SIGINT, on_signal, &b);
    if (!sigterm || !sigint || evsignal_add(sigterm, NULL) < 0 || evsignal_add(sigint, NULL) < 0) {
        sk_error("main", "cannot install signal handlers");
        goto out;
    }
    if (sk_net_listen(&b) < 0 || sk_http_start(&b) < 0)
        goto out;
    sk_info("main", "skiff %s started: node id %d, log dir %s", SKIFF_VERSION, cfg.node_id, dir);
    log_kafka_ready(cfg.node_id);
    event_base_dispatch(b.base);
    rc = 0;
    sk_info("main", "stopped");
out:
    sk_net_stop_listening(&b);
    sk_http_stop(&b);
    if (b.base)
        sk_net_close_all(&b);
    sk_control_close(&b);
    if (sigterm)
        event_free(sigterm);
    if (sigint)
        event_free(sigint);
    sk_fetch_sessions_free(b.fetch_sessions);
    sk_security_free(b.security);
    sk_txns_stop(b.txns);
    sk_groups_close(b.groups);
    sk_group_configs_close(b.group_configs);
    if (b.logs)
        sk_logstore_close(b.logs);
    sk_meta_close(b.meta);
    sk_cluster_close(&b);
    if (b.base)
        event_base_free(b.base);
    sk_config_free(&cfg);
    return rc;
}
