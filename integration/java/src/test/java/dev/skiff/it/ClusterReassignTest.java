package dev.skiff.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.stream.Collectors;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewPartitionReassignment;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.errors.InvalidReplicaAssignmentException;
import org.apache.kafka.common.errors.NoReassignmentInProgressException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Partition reassignment (KIP-455) through kafka-clients 4.4's Admin, the
 * client kafka-reassign-partitions.sh uses, against skiff serving three
 * brokers (docs/cluster.md): manual assignments at creation, a reassignment
 * that completes at once (the leader moves off a replica that leaves), an
 * empty list of reassignments in progress, and Kafka's errors. */
class ClusterReassignTest {
    static Broker broker;
    static Admin admin;

    @BeforeAll
    static void start() throws Exception {
        broker = Broker.start("--skiff.cluster.brokers", "3");
        assumeTrue(broker.skiff, "needs three brokers: skiff's cluster fixture, not -Dkafka.bootstrap");
        admin = Clients.admin(broker);
    }

    @AfterAll
    static void stop() throws Exception {
        if (admin != null) {
            admin.close();
        }
        broker.close();
    }

    private static TopicPartitionInfo partition(String topic, int index) throws Exception {
        TopicDescription d = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic);
        return d.partitions().get(index);
    }

    private static List<Integer> ids(List<Node> nodes) {
        return nodes.stream().map(Node::id).collect(Collectors.toList());
    }

    private static Throwable failure(Map<TopicPartition, Optional<NewPartitionReassignment>> change) {
        ExecutionException e = assertThrows(ExecutionException.class,
                () -> admin.alterPartitionReassignments(change).all().get());
        return e.getCause();
    }

    @Test
    void reassignmentCompletesAndIsListedNoMore() throws Exception {
        admin.createTopics(List.of(new NewTopic("moved", Map.of(0, List.of(1, 2), 1, List.of(3, 1)))))
                .all().get();
        TopicPartitionInfo p0 = partition("moved", 0);
        assertEquals(List.of(1, 2), ids(p0.replicas()));
        assertEquals(1, p0.leader().id());
        assertEquals(List.of(3, 1), ids(partition("moved", 1).replicas()));

        TopicPartition tp0 = new TopicPartition("moved", 0);
        admin.alterPartitionReassignments(Map.of(tp0, Optional.of(new NewPartitionReassignment(List.of(3, 2)))))
                .all().get();
        TopicPartitionInfo after = partition("moved", 0);
        assertEquals(List.of(3, 2), ids(after.replicas()));
        assertEquals(3, after.leader().id(), "the leader left: the first target replica leads");
        assertEquals(List.of(2, 3), ids(after.isr()).stream().sorted().collect(Collectors.toList()));
        assertTrue(admin.listPartitionReassignments().reassignments().get().isEmpty());

        // Cancelling with nothing in progress, an unknown broker, an unknown partition.
        assertInstanceOf(NoReassignmentInProgressException.class, failure(Map.of(tp0, Optional.empty())));
        assertInstanceOf(InvalidReplicaAssignmentException.class,
                failure(Map.of(tp0, Optional.of(new NewPartitionReassignment(List.of(1, 7))))));
        assertInstanceOf(UnknownTopicOrPartitionException.class,
                failure(Map.of(new TopicPartition("moved", 5), Optional.of(new NewPartitionReassignment(List.of(1))))));
    }
}
