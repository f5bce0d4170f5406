package dev.skiff.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.DescribeClusterResult;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.GroupState;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.InvalidRequestException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The AdminClient surface skiff serves, through kafka-clients 4.4: topics,
 * partitions, records, offsets, topic and dynamic broker configs, cluster,
 * log dirs, consumer groups and their offsets, producers and transactions. */
class AdminTest {
    static Broker broker;
    static Admin admin;

    @BeforeAll
    static void start() throws Exception {
        broker = Broker.start();
        admin = Clients.admin(broker);
    }

    @AfterAll
    static void stop() throws Exception {
        admin.close();
        broker.close();
    }

    private static Throwable cause(Runnable r) {
        try {
            r.run();
            return null;
        } catch (RuntimeException e) {
            return e.getCause() instanceof ExecutionException ? e.getCause().getCause() : e.getCause();
        }
    }

    @Test
    void topicsPartitionsRecordsAndOffsets() throws Exception {
        String topic = "java-admin";
        Clients.createTopic(broker, topic, 2, Map.of("cleanup.policy", "compact,delete", "retention.ms", "3600000"));
        assertTrue(admin.listTopics().names().get().contains(topic));
        TopicDescription d = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic);
        assertEquals(2, d.partitions().size());
        admin.createPartitions(Map.of(topic, NewPartitions.increaseTo(3))).all().get();
        assertEquals(3, admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).partitions().size());
        try (KafkaProducer<String, String> p = Clients.producer(broker, Map.of())) {
            for (int i = 0; i < 10; i++) {
                p.send(new ProducerRecord<>(topic, 0, 5_000L + i, "k" + i, "v" + i));
            }
        }
        TopicPartition tp = new TopicPartition(topic, 0);
        admin.deleteRecords(Map.of(tp, RecordsToDelete.beforeOffset(4))).all().get();
        Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> earliest =
                admin.listOffsets(Map.of(tp, OffsetSpec.earliest())).all().get();
        assertEquals(4, earliest.get(tp).offset());
        assertEquals(10, admin.listOffsets(Map.of(tp, OffsetSpec.latest())).all().get().get(tp).offset());
        ListOffsetsResult.ListOffsetsResultInfo max = admin.listOffsets(Map.of(tp, OffsetSpec.maxTimestamp())).all().get().get(tp);
        assertEquals(9, max.offset());
        assertEquals(5_009L, max.timestamp());
        assertEquals(6, admin.listOffsets(Map.of(tp, OffsetSpec.forTimestamp(5_006L))).all().get().get(tp).offset());

        ConfigResource res = new ConfigResource(ConfigResource.Type.TOPIC, topic);
        Config cfg = admin.describeConfigs(List.of(res)).all().get().get(res);
        assertEquals("compact,delete", cfg.get("cleanup.policy").value());
        assertEquals(ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG, cfg.get("retention.ms").source());
        admin.incrementalAlterConfigs(Map.of(res, List.of(
                new AlterConfigOp(new ConfigEntry("retention.ms", "7200000"), AlterConfigOp.OpType.SET),
                new AlterConfigOp(new ConfigEntry("cleanup.policy", "compact"), AlterConfigOp.OpType.SUBTRACT))))
                .all().get();
        cfg = admin.describeConfigs(List.of(res)).all().get().get(res);
        assertEquals("7200000", cfg.get("retention.ms").value());
        assertEquals("delete", cfg.get("cleanup.policy").value());

        admin.deleteTopics(List.of(topic)).all().get();
        Throwable gone = cause(() -> {
            try {
                admin.describeTopics(List.of(topic)).allTopicNames().get();
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        assertTrue(gone instanceof UnknownTopicOrPartitionException, String.valueOf(gone));
    }

    @Test
    void dynamicBrokerConfigs() throws Exception {
        String id = admin.describeCluster().nodes().get().iterator().next().idString();
        ConfigResource node = new ConfigResource(ConfigResource.Type.BROKER, id);
        ConfigResource cluster = new ConfigResource(ConfigResource.Type.BROKER, "");
        String relogin = "sasl.kerberos.min.time.before.relogin";
        admin.incrementalAlterConfigs(Map.of(
                node, List.of(new AlterConfigOp(new ConfigEntry(relogin, "61000"), AlterConfigOp.OpType.SET),
                        new AlterConfigOp(new ConfigEntry("log.cleaner.threads", ""), AlterConfigOp.OpType.DELETE)),
                cluster, List.of(new AlterConfigOp(new ConfigEntry("log.cleaner.threads", "2"), AlterConfigOp.OpType.SET))))
                .all().get();
        Clients.await("the broker configs to show", () -> {
            try {
                Config c = admin.describeConfigs(List.of(node)).all().get().get(node);
                return c.get(relogin) != null && "61000".equals(c.get(relogin).value())
                        && "2".equals(c.get("log.cleaner.threads").value());
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        }, () -> { });
        Config c = admin.describeConfigs(List.of(node)).all().get().get(node);
        assertEquals(ConfigEntry.ConfigSource.DYNAMIC_BROKER_CONFIG, c.get(relogin).source());
        assertEquals(ConfigEntry.ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG, c.get("log.cleaner.threads").source());
        Throwable refused = cause(() -> {
            try {
                admin.incrementalAlterConfigs(Map.of(cluster, List.of(new AlterConfigOp(new ConfigEntry(relogin, "1"),
                        AlterConfigOp.OpType.SET)))).all().get();
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        assertTrue(refused instanceof InvalidRequestException, String.valueOf(refused));
    }

    @Test
    void clusterAndLogDirs() throws Exception {
        DescribeClusterResult c = admin.describeCluster();
        assertNotNull(c.clusterId().get());
        assertEquals(1, c.nodes().get().size());
        assertEquals(c.nodes().get().iterator().next().id(), c.controller().get().id());
        int id = c.nodes().get().iterator().next().id();
        assertEquals(1, admin.describeLogDirs(List.of(id)).allDescriptions().get().get(id).size());
    }

    @Test
    void consumerGroupsAndTheirOffsets() throws Exception {
        String topic = "java-admin-groups";
        Clients.createTopic(broker, topic, 1, Map.of());
        TopicPartition tp = new TopicPartition(topic, 0);
        try (KafkaConsumer<String, String> c = Clients.consumer(broker, Map.of("group.id", "java-admin-g"))) {
            c.subscribe(List.of(topic));
            Clients.await("assigned", () -> c.assignment().size() == 1, () -> c.poll(java.time.Duration.ofMillis(100)));
            c.commitSync(Map.of(tp, new OffsetAndMetadata(0, "m")));
            ConsumerGroupDescription g = admin.describeConsumerGroups(List.of("java-admin-g")).all().get().get("java-admin-g");
            assertEquals(GroupState.STABLE, g.groupState());
            assertEquals(1, g.members().size());
            assertEquals(Set.of(tp), g.members().iterator().next().assignment().topicPartitions());
        }
        Collection<String> ids = admin.listConsumerGroups().all().get().stream()
                .map(l -> l.groupId()).toList();
        assertTrue(ids.contains("java-admin-g"));
        assertEquals(0, admin.listConsumerGroupOffsets("java-admin-g").partitionsToOffsetAndMetadata().get().get(tp).offset());
        admin.alterConsumerGroupOffsets("java-admin-g", Map.of(tp, new OffsetAndMetadata(0))).all().get();
        admin.deleteConsumerGroupOffsets("java-admin-g", Set.of(tp)).all().get();
        assertEquals(Map.of(), admin.listConsumerGroupOffsets("java-admin-g").partitionsToOffsetAndMetadata().get()
                .entrySet().stream().filter(e -> e.getValue() != null)
                .collect(java.util.stream.Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue)));
        admin.deleteConsumerGroups(List.of("java-admin-g")).all().get();
    }

    @Test
    void producersAndTransactions() throws Exception {
        String topic = "java-admin-txn";
        Clients.createTopic(broker, topic, 1, Map.of());
        try (KafkaProducer<String, String> p = Clients.producer(broker, Map.of("transactional.id", "java-admin-tx"))) {
            p.initTransactions();
            p.beginTransaction();
            p.send(new ProducerRecord<>(topic, 0, "k", "v")).get();
            TopicPartition tp = new TopicPartition(topic, 0);
            assertEquals(1, admin.describeProducers(List.of(tp)).all().get().get(tp).activeProducers().size());
            assertEquals("Ongoing", admin.describeTransactions(List.of("java-admin-tx")).all().get()
                    .get("java-admin-tx").state().toString().replace("ONGOING", "Ongoing"));
            p.commitTransaction();
        }
        assertTrue(admin.listTransactions().all().get().stream()
                .anyMatch(l -> l.transactionalId().equals("java-admin-tx")));
    }
}
