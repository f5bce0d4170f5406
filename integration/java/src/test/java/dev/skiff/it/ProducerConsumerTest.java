package dev.skiff.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Future;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** kafka-clients 4.4 producer and consumer: every codec and acks setting,
 * idempotence, seek by time, subscribe with commits, every classic assignor,
 * static membership. Contents, offsets and assignments are checked exactly. */
class ProducerConsumerTest {
    static Broker broker;

    @BeforeAll
    static void start() throws Exception {
        broker = Broker.start();
    }

    @AfterAll
    static void stop() throws Exception {
        broker.close();
    }

    @ParameterizedTest
    @CsvSource({"none,all", "gzip,all", "snappy,1", "lz4,all", "zstd,all", "zstd,0", "none,1", "lz4,0"})
    void producesAndConsumesEveryCodec(String codec, String acks) throws Exception {
        String topic = "java-" + codec + "-" + acks;
        Clients.createTopic(broker, topic, 1, Map.of());
        int n = 200;
        List<Future<RecordMetadata>> sent = new ArrayList<>();
        try (KafkaProducer<String, String> p = Clients.producer(broker, Map.of("compression.type", codec,
                "acks", acks, "enable.idempotence", "false"))) {
            for (int i = 0; i < n; i++) {
                RecordHeaders h = new RecordHeaders();
                h.add("i", Integer.toString(i).getBytes(StandardCharsets.UTF_8));
                sent.add(p.send(new ProducerRecord<>(topic, 0, 1_700_000_000_000L + i, i % 7 == 0 ? null : "k" + i,
                        ("value-" + i + "-").repeat(1 + i % 20), h)));
            }
            p.flush();
        }
        if (!acks.equals("0")) {
            for (int i = 0; i < n; i++) {
                assertEquals(i, sent.get(i).get().offset());
            }
        }
        try (KafkaConsumer<String, String> c = Clients.consumer(broker, Map.of())) {
            TopicPartition tp = new TopicPartition(topic, 0);
            c.assign(List.of(tp));
            c.seekToBeginning(List.of(tp));
            List<ConsumerRecord<String, String>> got = Clients.poll(c, n);
            assertEquals(n, got.size());
            for (int i = 0; i < n; i++) {
                ConsumerRecord<String, String> r = got.get(i);
                assertEquals(i, r.offset());
                assertEquals(1_700_000_000_000L + i, r.timestamp());
                assertEquals(i % 7 == 0 ? null : "k" + i, r.key());
                assertEquals(("value-" + i + "-").repeat(1 + i % 20), r.value());
                assertArrayEquals(Integer.toString(i).getBytes(StandardCharsets.UTF_8), r.headers().lastHeader("i").value());
            }
        }
    }

    @Test
    void idempotentProducerAndSeekByTime() throws Exception {
        String topic = "java-idempotent";
        Clients.createTopic(broker, topic, 2, Map.of());
        try (KafkaProducer<String, String> p = Clients.producer(broker, Map.of("enable.idempotence", "true",
                "acks", "all", "max.in.flight.requests.per.connection", "5"))) {
            for (int i = 0; i < 100; i++) {
                p.send(new ProducerRecord<>(topic, i % 2, 1_000_000L + 10L * i, "k" + i, "v" + i));
            }
            p.flush();
        }
        try (KafkaConsumer<String, String> c = Clients.consumer(broker, Map.of())) {
            TopicPartition p0 = new TopicPartition(topic, 0), p1 = new TopicPartition(topic, 1);
            assertEquals(Map.of(p0, 50L, p1, 50L), c.endOffsets(List.of(p0, p1)));
            Map<TopicPartition, OffsetAndTimestamp> at = c.offsetsForTimes(Map.of(p0, 1_000_000L + 205, p1, 9_999_999L));
            assertEquals(11, at.get(p0).offset());            // record i=22: the first at or after ts 205
            assertEquals(1_000_000L + 220, at.get(p0).timestamp());
            assertNull(at.get(p1));
            c.assign(List.of(p0));
            c.seek(p0, at.get(p0).offset());
            assertEquals("v22", Clients.poll(c, 1).get(0).value());
        }
    }

    @Test
    void subscribeAndCommit() throws Exception {
        String topic = "java-subscribe";
        Clients.createTopic(broker, topic, 3, Map.of());
        try (KafkaProducer<String, String> p = Clients.producer(broker, Map.of())) {
            for (int i = 0; i < 30; i++) {
                p.send(new ProducerRecord<>(topic, i % 3, "k" + i, "v" + i));
            }
        }
        try (KafkaConsumer<String, String> c = Clients.consumer(broker, Map.of("group.id", "java-g1"))) {
            c.subscribe(List.of(topic));
            List<ConsumerRecord<String, String>> got = Clients.poll(c, 30);
            assertEquals(30, got.size());
            c.commitSync();
            Set<TopicPartition> tps = c.assignment();
            assertEquals(3, tps.size());
            Map<TopicPartition, OffsetAndMetadata> committed = c.committed(tps);
            for (TopicPartition tp : tps) {
                assertEquals(10, committed.get(tp).offset());
            }
        }
    }

    @ParameterizedTest
    @CsvSource({"org.apache.kafka.clients.consumer.RangeAssignor",
                "org.apache.kafka.clients.consumer.RoundRobinAssignor",
                "org.apache.kafka.clients.consumer.StickyAssignor",
                "org.apache.kafka.clients.consumer.CooperativeStickyAssignor"})
    void twoMembersShareThePartitions(String assignor) throws Exception {
        String topic = "java-assign-" + assignor.substring(assignor.lastIndexOf('.') + 1);
        Clients.createTopic(broker, topic, 4, Map.of());
        Map<String, Object> conf = Map.of("group.id", topic, "partition.assignment.strategy", assignor);
        try (KafkaConsumer<String, String> a = Clients.consumer(broker, conf);
             KafkaConsumer<String, String> b = Clients.consumer(broker, conf)) {
            a.subscribe(List.of(topic));
            b.subscribe(List.of(topic));
            Clients.await("both members assigned", () -> a.assignment().size() == 2 && b.assignment().size() == 2,
                    () -> {
                        a.poll(java.time.Duration.ofMillis(100));
                        b.poll(java.time.Duration.ofMillis(100));
                    });
            Set<TopicPartition> all = new HashSet<>(a.assignment());
            all.addAll(b.assignment());
            assertEquals(4, all.size());
        }
    }

    @Test
    void staticMemberKeepsItsAssignmentAcrossARestart() throws Exception {
        String topic = "java-static";
        Clients.createTopic(broker, topic, 2, Map.of());
        Map<String, Object> conf = Map.of("group.id", "java-static-g", "group.instance.id", "instance-1",
                "session.timeout.ms", "30000");
        Set<TopicPartition> first;
        try (KafkaConsumer<String, String> c = Clients.consumer(broker, conf)) {
            c.subscribe(List.of(topic));
            Clients.await("assigned", () -> c.assignment().size() == 2, () -> c.poll(java.time.Duration.ofMillis(100)));
            first = Set.copyOf(c.assignment());
        }
        try (KafkaConsumer<String, String> c = Clients.consumer(broker, conf)) {
            c.subscribe(List.of(topic));
            Clients.await("assigned again", () -> c.assignment().size() == 2, () -> c.poll(java.time.Duration.ofMillis(100)));
            assertEquals(first, c.assignment());
        }
    }
}
