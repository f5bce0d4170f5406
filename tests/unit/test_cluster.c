/*
 * The cluster fixture's routing state (skiff/cluster.h): Kafka's rack-unaware
 * replica assignment (AdminUtilsTest's expected table), coordinator
 * placement by Kafka's partitioning of the internal topics, leader moves
 * with their epochs and OffsetForLeaderEpoch answers, and a broker going
 * down and coming back as Kafka's controller handles it.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "skiff/broker.h"
#include "skiff/cluster.h"
#include "skiff/errors.h"
#include "skiff/group.h"
#include "skiff/meta.h"
#include "unit_run.h"

static char dir[64];
static sk_config cfg;
static sk_broker b;

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/skiff-test-cluster-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    memset(&cfg, 0, sizeof cfg);
    cfg.node_id = 1;
    cfg.cluster_brokers = 3;
    cfg.default_replication_factor = 3;
    cfg.offsets_topic_num_partitions = 6;
    cfg.transaction_state_log_num_partitions = 4;
    cfg.listeners = "PLAINTEXT://127.0.0.1:9092";
    cfg.broker_rack = "a,b,c";
    memset(&b, 0, sizeof b);
    b.config = &cfg;
    ck_assert_int_eq(sk_cluster_open(&b), 0);
    ck_assert_ptr_nonnull(b.meta = sk_meta_open(dir, 1));
}

static void teardown(void)
{
    sk_meta_close(b.meta);
    sk_cluster_close(&b);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}

START_TEST(test_assignment_is_kafkas)
{
    /* AdminUtilsTest.testReplicaAssignment: 5 brokers, 10 partitions,
     * replication factor 3, fixed start index 0. */
    static const int32_t want[10][3] = {{0, 1, 2}, {1, 2, 3}, {2, 3, 4}, {3, 4, 0}, {4, 0, 1},
                                        {0, 2, 3}, {1, 3, 4}, {2, 4, 0}, {3, 0, 1}, {4, 1, 2}};
    for (int32_t p = 0; p < 10; p++) {
        int32_t got[3];
        sk_cluster_assign(5, 3, p, 0, 0, got);
        ck_assert_mem_eq(got, want[p], sizeof got);
    }
    int32_t one[1];
    sk_cluster_assign(1, 1, 7, 0, 0, one);
    ck_assert_int_eq(one[0], 0);
}
END_TEST

START_TEST(test_rack_aware_assignment_is_kafkas)
{
    /* AdminUtilsTest.testGetRackAlternatedBrokerListAndAssignReplicasToBrokers:
     * brokers 0..5 in racks 1,3,3,2,2,1 (rack-alternated list 0,3,1,5,4,2),
     * 7 partitions, replication factor 3, start index and shift 0. */
    static const char *const racks[6] = {"rack1", "rack3", "rack3", "rack2", "rack2", "rack1"};
    static const int32_t want[7][3] = {{0, 3, 1}, {3, 1, 5}, {1, 5, 4}, {5, 4, 2}, {4, 2, 0}, {2, 0, 3}, {0, 4, 2}};
    for (int32_t p = 0; p < 7; p++) {
        int32_t got[3];
        sk_cluster_assign_racks(6, racks, 3, p, 0, 0, got);
        ck_assert_mem_eq(got, want[p], sizeof got);
    }
    /* Two racks of two, factor 3: a rack holds two replicas only once both
     * racks hold one. */
    static const char *const two[4] = {"a", "a", "b", "b"};
    for (int32_t p = 0; p < 8; p++) {
        int32_t got[3];
        sk_cluster_assign_racks(4, two, 3, p, 1, 2, got);
        ck_assert_str_ne(two[got[0]], two[got[1]]);
        ck_assert(got[2] != got[0] && got[2] != got[1]);
    }
}
END_TEST

START_TEST(test_brokers_ports_and_racks)
{
    ck_assert_int_eq(sk_cluster_size(&b), 3);
    ck_assert_int_eq(sk_cluster_node_id(&b, 2), 3);
    ck_assert_str_eq(sk_cluster_rack(&b, 2), "b");
    ck_assert_ptr_null(sk_cluster_rack(&b, 4));
    ck_assert_int_eq(sk_cluster_listen_port(&b, 2, 0, 9092), 9094);
    ck_assert_int_eq(sk_cluster_advertised_port(&b, 3, 0, 19092, true), 19094);
    ck_assert_int_eq(sk_cluster_controller(&b), 1);
    /* Every leader spreads: 6 partitions, 2 each; every replica in the ISR. */
    int led[4] = {0};
    for (int32_t p = 0; p < 6; p++) {
        sk_route r;
        ck_assert_int_eq(sk_cluster_route(&b, "t", 6, p, &r), 0);
        ck_assert_int_eq(r.nreplicas, 3);
        ck_assert_int_eq(r.nisr, 3);
        ck_assert_int_eq(r.leader, r.replicas[0]);
        ck_assert_int_eq(r.leader_epoch, 0);
        led[r.leader]++;
    }
    ck_assert_int_eq(led[1], 2);
    ck_assert_int_eq(led[2], 2);
    ck_assert_int_eq(led[3], 2);
}
END_TEST

START_TEST(test_coordinator_placement)
{
    /* Kafka: abs("foo".hashCode()) % 50 = 101574 % 50. */
    ck_assert_int_eq(sk_group_partition_for("foo", 3, 50), 24);
    int32_t p = sk_group_partition_for("grp", 3, 6);
    sk_route r;
    sk_cluster_route(&b, "__consumer_offsets", 6, p, &r);
    ck_assert_int_eq(sk_cluster_coordinator(&b, SK_COORD_GROUP, "grp", 3), r.leader);
    int32_t to = r.leader % 3 + 1;
    ck_assert_int_eq(sk_cluster_move_leader(&b, "__consumer_offsets", p, to, &r), SK_ERR_NONE);
    ck_assert_int_eq(sk_cluster_coordinator(&b, SK_COORD_GROUP, "grp", 3), to);
    /* Transactional ids use __transaction_state (4 partitions here). */
    int32_t tp = sk_group_partition_for("tx", 2, 4);
    sk_cluster_route(&b, "__transaction_state", 4, tp, &r);
    ck_assert_int_eq(sk_cluster_coordinator(&b, SK_COORD_TXN, "tx", 2), r.leader);
    /* Unknown partitions of an existing-by-config topic. */
    ck_assert_int_eq(sk_cluster_move_leader(&b, "__transaction_state", 4, 1, NULL), SK_ERR_UNKNOWN_TOPIC_OR_PARTITION);
    ck_assert_int_eq(sk_cluster_move_leader(&b, "nope", 0, 1, NULL), SK_ERR_UNKNOWN_TOPIC_OR_PARTITION);
}
END_TEST

START_TEST(test_epochs_and_offset_for_leader_epoch)
{
    sk_route r;
    sk_cluster_route(&b, "__consumer_offsets", 6, 0, &r);
    int32_t first = r.leader;
    /* Moves at log end offsets 0 (no log here) bump the epoch each time. */
    ck_assert_int_eq(sk_cluster_move_leader(&b, "__consumer_offsets", 0, -1, &r), SK_ERR_NONE);
    ck_assert_int_ne(r.leader, first);
    ck_assert_int_eq(r.leader_epoch, 1);
    ck_assert_int_eq(sk_cluster_move_leader(&b, "__consumer_offsets", 0, r.leader, &r), SK_ERR_NONE);
    ck_assert_int_eq(r.leader_epoch, 2);
    int32_t e;
    int64_t off;
    sk_cluster_epoch_end(&b, "__consumer_offsets", 6, 0, 2, 40, 0, &e, &off);
    ck_assert(e == 2 && off == 40);
    sk_cluster_epoch_end(&b, "__consumer_offsets", 6, 0, 3, 40, 0, &e, &off);
    ck_assert(e == -1 && off == -1);
    sk_cluster_epoch_end(&b, "__consumer_offsets", 6, 0, 0, 40, 0, &e, &off);
    ck_assert(e == 0 && off == 0); /* epoch 1 began at offset 0 */
    ck_assert_int_eq(sk_cluster_epoch_at(&b, "__consumer_offsets", 6, 0, 39), 2);
    /* A broker that is not a replica takes the leader's place in the list. */
    cfg.default_replication_factor = 1;
    sk_cluster_route(&b, "__transaction_state", 4, 0, &r);
    ck_assert_int_eq(r.nreplicas, 1);
    int32_t to = r.leader % 3 + 1;
    ck_assert_int_eq(sk_cluster_move_leader(&b, "__transaction_state", 0, to, &r), SK_ERR_NONE);
    ck_assert(r.nreplicas == 1 && r.replicas[0] == to && r.leader == to && r.nisr == 1 && r.isr[0] == to);
}
END_TEST

START_TEST(test_broker_down_and_up)
{
    sk_route before[6], r;
    for (int32_t p = 0; p < 6; p++)
        sk_cluster_route(&b, "t", 6, p, &before[p]);
    ck_assert_int_eq(sk_cluster_set_down(&b, 2, true, false), SK_ERR_NONE);
    ck_assert(!sk_cluster_node_up(&b, 2));
    for (int32_t p = 0; p < 6; p++) {
        sk_cluster_route(&b, "t", 6, p, &r);
        ck_assert_int_eq(r.nisr, 2);
        ck_assert_int_ne(r.leader, 2);
        if (before[p].leader == 2) {
            ck_assert_int_eq(r.leader, before[p].replicas[1]); /* the next replica in the ISR */
            ck_assert_int_eq(r.leader_epoch, 1);
        } else {
            ck_assert_int_eq(r.leader_epoch, 0);
        }
    }
    /* A partition first asked about now is assigned without the down broker in its ISR. */
    sk_cluster_route(&b, "late", 3, 0, &r);
    ck_assert_int_eq(r.nisr, 2);
    ck_assert_int_ne(r.leader, 2);
    ck_assert_int_eq(sk_cluster_set_down(&b, 1, true, true), SK_ERR_NONE);
    ck_assert_int_eq(sk_cluster_set_down(&b, 3, true, false), SK_ERR_INVALID_REQUEST); /* the last one up */
    ck_assert_int_eq(sk_cluster_controller(&b), 3);
    for (int32_t p = 0; p < 6; p++) {
        sk_cluster_route(&b, "t", 6, p, &r);
        ck_assert(r.leader == 3 || r.leader == -1);
    }
    ck_assert_int_eq(sk_cluster_set_down(&b, 1, false, false), SK_ERR_NONE);
    ck_assert_int_eq(sk_cluster_set_down(&b, 2, false, false), SK_ERR_NONE);
    for (int32_t p = 0; p < 6; p++) {
        sk_cluster_route(&b, "t", 6, p, &r);
        ck_assert_int_eq(r.nisr, 3);
        ck_assert_int_ge(r.leader, 1);
    }
    ck_assert_int_eq(sk_cluster_set_down(&b, 9, true, false), SK_ERR_BROKER_NOT_AVAILABLE);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cluster");
    TCase *tc = tcase_create("cluster");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_assignment_is_kafkas);
    tcase_add_test(tc, test_rack_aware_assignment_is_kafkas);
    tcase_add_test(tc, test_brokers_ports_and_racks);
    tcase_add_test(tc, test_coordinator_placement);
    tcase_add_test(tc, test_epochs_and_offset_for_leader_epoch);
    tcase_add_test(tc, test_broker_down_and_up);
    suite_add_tcase(s, tc);
    return sk_unit_run(s);
}
