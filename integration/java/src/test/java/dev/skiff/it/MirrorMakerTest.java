package dev.skiff.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.connect.mirror.MirrorMaker;
import org.junit.jupiter.api.Test;

/** MirrorMaker 2 (connect-mirror 4.3.1 in dedicated mode; Maven Central has
 * no 4.4.0 here) replicating a topic and a consumer group's offsets from
 * skiff to Apache Kafka 4.4.0: the path a team takes when it outgrows skiff.
 * Records, timestamps and headers arrive intact, and the group's committed
 * offset (at the end of the topic, which MM2 translates exactly; offsets in
 * between are translated conservatively, to an earlier offset sync) is
 * checkpointed and synced to the target group. */
class MirrorMakerTest {
    @Test
    void replicatesRecordsHeadersAndGroupOffsetsToKafka() throws Exception {
        try (Broker skiff = Broker.start(); KafkaOracle kafka = KafkaOracle.start()) {
            String topic = "mm-orders";
            Clients.createTopic(skiff, topic, 1, Map.of());
            try (KafkaProducer<String, String> p = Clients.producer(skiff, Map.of())) {
                for (int i = 0; i < 20; i++) {
                    RecordHeaders h = new RecordHeaders();
                    h.add("n", Integer.toString(i).getBytes(StandardCharsets.UTF_8));
                    p.send(new ProducerRecord<>(topic, 0, 1_700_000_000_000L + i, "k" + i, "v" + i, h));
                }
            }
            TopicPartition source = new TopicPartition(topic, 0);
            try (KafkaConsumer<String, String> c = Clients.consumer(skiff, Map.of("group.id", "mm-group"))) {
                c.assign(List.of(source));
                c.commitSync(Map.of(source, new OffsetAndMetadata(20)));
            }

            Map<String, String> conf = new HashMap<>();
            conf.put("clusters", "skiff, kafka");
            conf.put("skiff.bootstrap.servers", skiff.bootstrap);
            conf.put("kafka.bootstrap.servers", kafka.bootstrap);
            conf.put("skiff->kafka.enabled", "true");
            conf.put("kafka->skiff.enabled", "false");
            conf.put("skiff->kafka.topics", "mm-.*");
            conf.put("skiff->kafka.groups", "mm-group");
            for (String k : List.of("replication.factor", "offset-syncs.topic.replication.factor",
                    "checkpoints.topic.replication.factor", "heartbeats.topic.replication.factor",
                    "config.storage.replication.factor", "offset.storage.replication.factor",
                    "status.storage.replication.factor")) {
                conf.put(k, "1");
            }
            for (String k : List.of("emit.checkpoints.interval.seconds", "sync.group.offsets.interval.seconds",
                    "refresh.topics.interval.seconds", "refresh.groups.interval.seconds",
                    "emit.heartbeats.interval.seconds")) {
                conf.put(k, "1");
            }
            conf.put("sync.group.offsets.enabled", "true");
            conf.put("offset.lag.max", "0");
            MirrorMaker mm = new MirrorMaker(conf, List.of("kafka"));
            mm.start();
            try {
                Broker target = Broker.external(kafka.bootstrap);
                try (KafkaConsumer<String, String> c = Clients.consumer(target, Map.of())) {
                    TopicPartition mirrored = new TopicPartition("skiff." + topic, 0);
                    Clients.await("the mirrored topic", () -> c.listTopics().containsKey(mirrored.topic()),
                            () -> sleep(250));
                    c.assign(List.of(mirrored));
                    c.seekToBeginning(List.of(mirrored));
                    List<ConsumerRecord<String, String>> got = Clients.poll(c, 20);
                    assertEquals(20, got.size());
                    for (int i = 0; i < 20; i++) {
                        ConsumerRecord<String, String> r = got.get(i);
                        assertEquals("k" + i, r.key());
                        assertEquals("v" + i, r.value());
                        assertEquals(1_700_000_000_000L + i, r.timestamp());
                        assertArrayEquals(Integer.toString(i).getBytes(StandardCharsets.UTF_8),
                                r.headers().lastHeader("n").value());
                    }
                }
                try (Admin a = Clients.admin(target)) {
                    TopicPartition mirrored = new TopicPartition("skiff." + topic, 0);
                    OffsetAndMetadata[] seen = new OffsetAndMetadata[1];
                    Clients.await("the translated group offset", () -> {
                        try {
                            seen[0] = a.listConsumerGroupOffsets("mm-group").partitionsToOffsetAndMetadata().get()
                                    .get(mirrored);
                            return seen[0] != null && seen[0].offset() == 20;
                        } catch (Exception e) {
                            return false;
                        }
                    }, () -> sleep(250));
                }
            } finally {
                mm.stop();
            }
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
