package dev.skiff.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.Predicate;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.connect.mirror.MirrorMaker;
import org.junit.jupiter.api.Test;

/**
 * MirrorMaker 2 (connect-mirror, dedicated mode, in process) replicating a
 * topic and a consumer group's committed offsets from skiff to a target
 * cluster: the path a team takes when it outgrows skiff. The target is the
 * cluster named by the environment variable KAFKA_ORACLE_BOOTSTRAP
 * (scripts/test.sh runs Apache Kafka 4.4 there through
 * tests/conformance/oracle.py), else a second skiff.
 * Records, keys and headers arrive intact under MM2's default replication
 * policy ("skiff.<topic>"), and the group's offsets are translated.
 */
class MirrorMakerTest {
    private static final String TOPIC = "orders";
    private static final String GROUP = "billing";

    @Test
    void topicAndGroupOffsetsReplicateToTheTarget() throws Exception {
        String target = System.getenv().getOrDefault("KAFKA_ORACLE_BOOTSTRAP", "");
        try (Broker source = Broker.skiff();
             Broker second = target.isEmpty() ? Broker.skiff() : null) {
            String targetBootstrap = target.isEmpty() ? second.bootstrap : target;
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, source.bootstrap))) {
                admin.createTopics(List.of(new NewTopic(TOPIC, 2, (short) 1))).all().get();
            }
            produce(source.bootstrap, 40);
            commit(source.bootstrap, Map.of(new TopicPartition(TOPIC, 0), 20L, new TopicPartition(TOPIC, 1), 20L));

            MirrorMaker mm = new MirrorMaker(mm2Config(source.bootstrap, targetBootstrap));
            mm.start();
            try {
                List<ConsumerRecord<String, String>> got = readReplica(targetBootstrap, 40);
                assertEquals(40, got.size());
                for (ConsumerRecord<String, String> r : got) {
                    int i = Integer.parseInt(r.key().substring(1));
                    assertEquals(i % 2, r.partition());
                    assertEquals(i / 2, r.offset());
                    assertEquals("v" + i, r.value());
                    assertEquals("h" + i,
                            new String(r.headers().lastHeader("trace").value(), StandardCharsets.UTF_8));
                }
                // MM2 translates exactly at its offset syncs and only conservatively,
                // or not at all, before the newest one it has read (KAFKA-14666):
                // the group committed the end of each partition, which translates
                // exactly.
                Map<TopicPartition, Long> want = Map.of(new TopicPartition("skiff." + TOPIC, 0), 20L,
                        new TopicPartition("skiff." + TOPIC, 1), 20L);
                assertEquals(want, waitForTranslatedOffsets(targetBootstrap, want::equals));
            } finally {
                mm.stop();
            }
        }
    }

    private static Map<String, String> mm2Config(String source, String target) {
        Map<String, String> c = new HashMap<>();
        c.put("clusters", "skiff, target");
        c.put("skiff.bootstrap.servers", source);
        c.put("target.bootstrap.servers", target);
        c.put("skiff->target.enabled", "true");
        c.put("skiff->target.topics", TOPIC);
        c.put("skiff->target.groups", GROUP);
        c.put("target->skiff.enabled", "false");
        c.put("sync.group.offsets.enabled", "true");
        c.put("sync.group.offsets.interval.seconds", "1");
        c.put("emit.checkpoints.interval.seconds", "1");
        c.put("emit.heartbeats.interval.seconds", "1");
        c.put("refresh.topics.interval.seconds", "1");
        c.put("refresh.groups.interval.seconds", "1");
        c.put("offset.lag.max", "0");
        for (String key : List.of("replication.factor", "checkpoints.topic.replication.factor",
                "heartbeats.topic.replication.factor", "offset-syncs.topic.replication.factor",
                "offset.storage.replication.factor", "status.storage.replication.factor",
                "config.storage.replication.factor"))
            c.put(key, "1");
        return c;
    }

    private static void produce(String bootstrap, int n) throws Exception {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
            for (int i = 0; i < n; i++) {
                ProducerRecord<String, String> r = new ProducerRecord<>(TOPIC, i % 2, "k" + i, "v" + i);
                r.headers().add("trace", ("h" + i).getBytes(StandardCharsets.UTF_8));
                producer.send(r).get();
            }
        }
    }

    private static Properties consumerProps(String bootstrap, String group) {
        Properties c = new Properties();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        if (group != null)
            c.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        return c;
    }

    private static void commit(String bootstrap, Map<TopicPartition, Long> offsets) {
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(consumerProps(bootstrap, GROUP))) {
            Map<TopicPartition, OffsetAndMetadata> m = new HashMap<>();
            offsets.forEach((tp, off) -> m.put(tp, new OffsetAndMetadata(off)));
            c.commitSync(m);
        }
    }

    /** Reads the replica topic on the target until `n` records came (90 s at most). */
    private static List<ConsumerRecord<String, String>> readReplica(String bootstrap, int n) throws Exception {
        List<ConsumerRecord<String, String>> out = new ArrayList<>();
        List<TopicPartition> parts = List.of(new TopicPartition("skiff." + TOPIC, 0),
                new TopicPartition("skiff." + TOPIC, 1));
        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
            while (!admin.listTopics().names().get().contains("skiff." + TOPIC)) {
                if (System.nanoTime() > deadline)
                    throw new AssertionError("MirrorMaker 2 did not create skiff." + TOPIC + " on the target");
                Thread.sleep(100);
            }
        }
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(consumerProps(bootstrap, null))) {
            c.assign(parts);
            c.seekToBeginning(parts);
            while (out.size() < n && System.nanoTime() < deadline)
                c.poll(Duration.ofMillis(200)).forEach(out::add);
            c.poll(Duration.ofMillis(300)).forEach(out::add);
        }
        return out;
    }

    /** The group's committed offsets on the target once `done` holds for them (90 s at most). */
    private static Map<TopicPartition, Long> waitForTranslatedOffsets(String bootstrap,
            Predicate<Map<TopicPartition, Long>> done) throws Exception {
        Map<TopicPartition, Long> got = new HashMap<>();
        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
            while (!done.test(got) && System.nanoTime() < deadline) {
                got.clear();
                admin.listConsumerGroupOffsets(GROUP).partitionsToOffsetAndMetadata().get()
                        .forEach((tp, om) -> got.put(tp, om.offset()));
                Thread.sleep(200);
            }
        }
        return got;
    }
}
