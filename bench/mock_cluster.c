/*
 * mock_cluster: runs librdkafka's built-in mock cluster (rdkafka_mock.h) as a
 * stand-alone broker process, the peer skiff is measured against in
 * bench/compare.py. It keeps everything in memory and listens on loopback
 * ports chosen by librdkafka (librdkafka 2.0.2 cannot be given a port).
 *
 *   mock_cluster [--brokers N] [--topic NAME:PARTITIONS]...
 *
 * Topics named with --topic are created before the bootstrap line is printed
 * (librdkafka 2.0.2's mock serves no CreateTopics; topics it auto-creates get
 * 4 partitions). Prints one line, the bootstrap servers ("127.0.0.1:PORT"),
 * on stdout once the cluster accepts connections, then runs until SIGTERM or
 * SIGINT. Exit status: 0 after a signal, 1 when the cluster cannot start,
 * 2 for bad arguments.
 */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(void)
{
    fprintf(stderr, "usage: mock_cluster [--brokers N] [--topic NAME:PARTITIONS]...\n");
}

/* Creates the topic described by "NAME:PARTITIONS"; 0 on success. */
static int create_topic(rd_kafka_mock_cluster_t *mc, const char *spec)
{
    const char *colon = strrchr(spec, ':');
    char *end = NULL;
    long partitions = colon ? strtol(colon + 1, &end, 10) : 0;
    if (!colon || colon == spec || *end || partitions < 1 || partitions > 100000) {
        fprintf(stderr, "mock_cluster: bad --topic %s (want NAME:PARTITIONS)\n", spec);
        return -1;
    }
    char name[512];
    snprintf(name, sizeof name, "%.*s", (int)(colon - spec), spec);
    rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(mc, name, (int)partitions, 1);
    if (err) {
        fprintf(stderr, "mock_cluster: topic %s: %s\n", name, rd_kafka_err2str(err));
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    int brokers = 1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--brokers") && i + 1 < argc) {
            brokers = atoi(argv[++i]);
        } else if (!strcmp(argv[i], "--topic") && i + 1 < argc) {
            i++;
        } else {
            usage();
            return 2;
        }
    }
    if (brokers < 1) {
        usage();
        return 2;
    }

    /* Block the stop signals before librdkafka starts its threads, so every
     * thread inherits the mask and only sigwait below sees them. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);

    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "4", errstr, sizeof errstr);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (!rk) {
        fprintf(stderr, "mock_cluster: %s\n", errstr);
        return 1;
    }
    rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, brokers);
    if (!mc) {
        fprintf(stderr, "mock_cluster: cannot create the mock cluster\n");
        rd_kafka_destroy(rk);
        return 1;
    }
    int rc = 0;
    for (int i = 1; i < argc && rc == 0; i++) {
        if (!strcmp(argv[i], "--topic"))
            rc = create_topic(mc, argv[++i]);
        else if (!strcmp(argv[i], "--brokers"))
            i++;
    }
    if (rc == 0) {
        printf("%s\n", rd_kafka_mock_cluster_bootstraps(mc));
        fflush(stdout);
        int sig = 0;
        sigwait(&stop, &sig);
    }
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(rk);
    return rc == 0 ? 0 : 2;
}
