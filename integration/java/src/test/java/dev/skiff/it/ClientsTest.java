package dev.skiff.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.function.BooleanSupplier;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * kafka-clients 4.4 (the producer, the consumer with the classic group
 * protocol, transactions, the AdminClient) against one skiff, with exact
 * expectations on contents, offsets, assignments and errors.
 */
class ClientsTest {
    static SkiffBroker broker;
    static Admin admin;

    @BeforeAll
    static void start() throws Exception {
        broker = new SkiffBroker();
        admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrap()));
    }

    @AfterAll
    static void stop() throws Exception {
        admin.close();
        broker.close();
    }

    static Properties producerProps(Map<String, Object> extra) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrap());
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.putAll(extra);
        return p;
    }

    static Properties consumerProps(String group, Map<String, Object> extra) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrap());
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        if (group != null)
            p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        p.putAll(extra);
        return p;
    }

    static void createTopic(String name, int partitions, Map<String, String> configs) throws Exception {
        admin.createTopics(List.of(new NewTopic(name, partitions, (short) 1).configs(configs))).all().get();
    }

    /** Reads partition `tp` from the start until `count` records came (or 30 s passed). */
    static List<ConsumerRecord<String, String>> readAll(TopicPartition tp, int count, Map<String, Object> extra) {
        List<ConsumerRecord<String, String>> out = new ArrayList<>();
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(consumerProps(null, extra))) {
            c.assign(List.of(tp));
            c.seekToBeginning(List.of(tp));
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (out.size() < count && System.nanoTime() < deadline)
                c.poll(Duration.ofMillis(200)).forEach(out::add);
            // Nothing beyond what is expected.
            c.poll(Duration.ofMillis(300)).forEach(out::add);
        }
        return out;
    }

    static void waitFor(BooleanSupplier cond, String what) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > deadline)
                throw new AssertionError("timed out waiting for " + what);
            Thread.sleep(20);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"none", "gzip", "snappy", "lz4", "zstd"})
    void idempotentProducerEveryCodecReadBackExactly(String codec) throws Exception {
        String topic = "java-codec-" + codec;
        createTopic(topic, 1, Map.of());
        try (KafkaProducer<String, String> p = new KafkaProducer<>(producerProps(Map.of(
                ProducerConfig.ACKS_CONFIG, "all", ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
                ProducerConfig.COMPRESSION_TYPE_CONFIG, codec, ProducerConfig.LINGER_MS_CONFIG, 5)))) {
            List<RecordMetadata> acks = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                ProducerRecord<String, String> r = new ProducerRecord<>(topic, 0, "k" + i, "value-" + i);
                r.headers().add("h", ("hv" + i).getBytes(StandardCharsets.UTF_8));
                acks.add(p.send(r).get());
            }
            for (int i = 0; i < 200; i++)
                assertEquals(i, acks.get(i).offset());
        }
        List<ConsumerRecord<String, String>> got = readAll(new TopicPartition(topic, 0), 200, Map.of());
        assertEquals(200, got.size());
        for (int i = 0; i < 200; i++) {
            ConsumerRecord<String, String> r = got.get(i);
            assertEquals(i, r.offset());
            assertEquals("k" + i, r.key());
            assertEquals("value-" + i, r.value());
            assertEquals("hv" + i, new String(r.headers().lastHeader("h").value(), StandardCharsets.UTF_8));
        }
    }

    @Test
    void offsetsForTimesAndListOffsets() throws Exception {
        String topic = "java-times";
        createTopic(topic, 1, Map.of());
        try (KafkaProducer<String, String> p = new KafkaProducer<>(producerProps(Map.of()))) {
            for (int i = 0; i < 5; i++)
                p.send(new ProducerRecord<>(topic, 0, 1_000_000L * (i + 1), "k", "v" + i)).get();
        }
        TopicPartition tp = new TopicPartition(topic, 0);
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(consumerProps(null, Map.of()))) {
            assertEquals(2, c.offsetsForTimes(Map.of(tp, 2_500_000L)).get(tp).offset());
            assertEquals(3_000_000L, c.offsetsForTimes(Map.of(tp, 2_500_000L)).get(tp).timestamp());
            assertEquals(null, c.offsetsForTimes(Map.of(tp, 9_000_000L)).get(tp));
            assertEquals(5L, c.endOffsets(List.of(tp)).get(tp));
            assertEquals(0L, c.beginningOffsets(List.of(tp)).get(tp));
        }
        assertEquals(4L, admin.listOffsets(Map.of(tp, OffsetSpec.maxTimestamp())).partitionResult(tp).get().offset());
    }

    @Test
    void groupOfTwoSharesThenOneTakesAll() throws Exception {
        String topic = "java-group";
        createTopic(topic, 4, Map.of());
        try (KafkaProducer<String, String> p = new KafkaProducer<>(producerProps(Map.of()))) {
            for (int i = 0; i < 40; i++)
                p.send(new ProducerRecord<>(topic, i % 4, null, "v" + i)).get();
        }
        Map<String, Object> conf = Map.of(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG,
                "org.apache.kafka.clients.consumer.RangeAssignor", ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, 10000,
                ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, 300);
        KafkaConsumer<String, String> a = new KafkaConsumer<>(consumerProps("jg", conf));
        KafkaConsumer<String, String> b = new KafkaConsumer<>(consumerProps("jg", conf));
        try {
            a.subscribe(List.of(topic));
            b.subscribe(List.of(topic));
            waitFor(() -> {
                a.poll(Duration.ofMillis(50));
                b.poll(Duration.ofMillis(50));
                return a.assignment().size() == 2 && b.assignment().size() == 2 && caughtUp(a) && caughtUp(b);
            }, "two members with two partitions each, each read to the end");
            Set<TopicPartition> all = new HashSet<>(a.assignment());
            all.addAll(b.assignment());
            assertEquals(4, all.size());
            a.commitSync();
            b.commitSync();
            Map<TopicPartition, OffsetAndMetadata> committed =
                    admin.listConsumerGroupOffsets("jg").partitionsToOffsetAndMetadata().get();
            for (int i = 0; i < 4; i++)
                assertEquals(10L, committed.get(new TopicPartition(topic, i)).offset());
            b.close();
            waitFor(() -> {
                a.poll(Duration.ofMillis(50));
                return a.assignment().size() == 4;
            }, "the remaining member to take all four partitions");
            assertEquals("Stable", admin.describeConsumerGroups(List.of("jg")).all().get().get("jg").groupState()
                    .toString());
        } finally {
            a.close();
        }
    }

    /** True when the consumer has read every assigned partition to its end (10 records each). */
    static boolean caughtUp(KafkaConsumer<String, String> c) {
        return c.assignment().stream().allMatch(tp -> c.position(tp) == 10);
    }

    @Test
    void transactionsCommitAbortAndFence() throws Exception {
        String topic = "java-txn";
        createTopic(topic, 1, Map.of());
        Map<String, Object> txn = Map.of(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "java-tx");
        KafkaProducer<String, String> p = new KafkaProducer<>(producerProps(txn));
        p.initTransactions();
        p.beginTransaction();
        for (int i = 0; i < 10; i++)
            p.send(new ProducerRecord<>(topic, 0, "k", "c" + i));
        p.commitTransaction();
        p.beginTransaction();
        for (int i = 0; i < 5; i++)
            p.send(new ProducerRecord<>(topic, 0, "k", "a" + i));
        p.flush();
        p.abortTransaction();
        p.beginTransaction();
        for (int i = 10; i < 13; i++)
            p.send(new ProducerRecord<>(topic, 0, "k", "c" + i));
        p.commitTransaction();

        // A second producer with the same transactional id fences the first.
        try (KafkaProducer<String, String> p2 = new KafkaProducer<>(producerProps(txn))) {
            p2.initTransactions();
            p.beginTransaction();
            ExecutionException e = assertThrows(ExecutionException.class,
                    () -> p.send(new ProducerRecord<>(topic, 0, "k", "fenced")).get());
            assertTrue(e.getCause() instanceof ProducerFencedException, e.getCause().toString());
        } finally {
            p.close(Duration.ZERO);
        }

        TopicPartition tp = new TopicPartition(topic, 0);
        List<ConsumerRecord<String, String>> committed =
                readAll(tp, 13, Map.of(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"));
        List<String> values = new ArrayList<>();
        committed.forEach(r -> values.add(r.value()));
        List<String> want = new ArrayList<>();
        for (int i = 0; i < 13; i++)
            want.add("c" + i);
        assertEquals(want, values);
        // Offsets: 10 records, a marker, 5 aborted, a marker, 3 records, a marker.
        assertEquals(17L, committed.get(10).offset());
        List<ConsumerRecord<String, String>> uncommitted = readAll(tp, 18, Map.of());
        assertEquals(18, uncommitted.size());
        assertEquals("a0", uncommitted.get(10).value());
        assertEquals(11L, uncommitted.get(10).offset());
    }

    @Test
    void adminTopicsConfigsPartitionsRecordsAndCluster() throws Exception {
        String topic = "java-admin";
        createTopic(topic, 2, Map.of("retention.ms", "3600000"));
        TopicDescription d = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic);
        assertEquals(2, d.partitions().size());
        assertEquals(1, d.partitions().get(0).leader().id());

        ConfigResource res = new ConfigResource(ConfigResource.Type.TOPIC, topic);
        ConfigEntry retention = admin.describeConfigs(List.of(res)).all().get().get(res).get("retention.ms");
        assertEquals("3600000", retention.value());
        assertEquals(ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG, retention.source());
        admin.incrementalAlterConfigs(Map.of(res, List.of(
                new AlterConfigOp(new ConfigEntry("cleanup.policy", "compact,delete"), AlterConfigOp.OpType.SET),
                new AlterConfigOp(new ConfigEntry("retention.ms", ""), AlterConfigOp.OpType.DELETE)))).all().get();
        Map<String, ConfigEntry> after = new HashMap<>();
        admin.describeConfigs(List.of(res)).all().get().get(res).entries().forEach(e -> after.put(e.name(), e));
        assertEquals("compact,delete", after.get("cleanup.policy").value());
        assertEquals("604800000", after.get("retention.ms").value());
        assertEquals(ConfigEntry.ConfigSource.DEFAULT_CONFIG, after.get("retention.ms").source());

        admin.createPartitions(Map.of(topic, NewPartitions.increaseTo(3))).all().get();
        assertEquals(3, admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).partitions().size());

        TopicPartition tp = new TopicPartition(topic, 1);
        try (KafkaProducer<String, String> p = new KafkaProducer<>(producerProps(Map.of()))) {
            for (int i = 0; i < 6; i++)
                p.send(new ProducerRecord<>(topic, 1, "k" + i, "v" + i)).get();
        }
        assertEquals(4L, admin.deleteRecords(Map.of(tp, RecordsToDelete.beforeOffset(4))).lowWatermarks().get(tp)
                .get().lowWatermark());
        assertEquals(4L, admin.listOffsets(Map.of(tp, OffsetSpec.earliest())).partitionResult(tp).get().offset());
        assertEquals(6L, admin.listOffsets(Map.of(tp, OffsetSpec.latest())).partitionResult(tp).get().offset());

        assertEquals(1, admin.describeCluster().nodes().get().size());
        assertEquals(1, admin.describeCluster().controller().get().id());

        admin.deleteTopics(List.of(topic)).all().get();
        ExecutionException e = assertThrows(ExecutionException.class,
                () -> admin.describeTopics(List.of(topic)).allTopicNames().get());
        assertTrue(e.getCause() instanceof UnknownTopicOrPartitionException, e.getCause().toString());
    }
}
