package dev.skiff.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.LongDeserializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.junit.jupiter.api.Test;

/**
 * Kafka Streams 4.4 with exactly_once_v2 against skiff: a word count with a
 * repartition topic (groupBy) and a state store with its changelog, run,
 * stopped and run again on more input; the output's last count per word is
 * exact, and Streams' internal topics are created as Streams asks.
 */
class StreamsTest {
    private static final String APP = "wordcount";

    @Test
    void exactlyOnceWordCountAcrossARestart() throws Exception {
        try (Broker broker = Broker.start();
             Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrap))) {
            admin.createTopics(List.of(new NewTopic("lines", 2, (short) 1), new NewTopic("counts", 2, (short) 1)))
                    .all().get();
            Path state = Files.createTempDirectory("skiff-streams-");

            produce(broker, "a b c", "b c", "c");
            runUntil(broker, state, Map.of("a", 1L, "b", 2L, "c", 3L));
            produce(broker, "a d", "d d");
            runUntil(broker, state, Map.of("a", 2L, "b", 2L, "c", 3L, "d", 3L));

            Set<String> internal = new TreeSet<>();
            for (String t : admin.listTopics().names().get())
                if (t.startsWith(APP + "-"))
                    internal.add(t);
            assertEquals(Set.of(APP + "-counts-store-changelog", APP + "-counts-store-repartition"), internal);
            ConfigResource changelog = new ConfigResource(ConfigResource.Type.TOPIC, APP + "-counts-store-changelog");
            assertEquals("compact",
                    admin.describeConfigs(List.of(changelog)).all().get().get(changelog).get("cleanup.policy").value());
        }
    }

    private static void produce(Broker broker, String... lines) throws Exception {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrap);
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
            for (String line : lines)
                producer.send(new ProducerRecord<>("lines", null, line)).get();
        }
    }

    /** Runs the word count until the output shows `want` as every word's
     * latest count (read_committed), then closes it. */
    private static void runUntil(Broker broker, Path state, Map<String, Long> want) throws Exception {
        StreamsBuilder b = new StreamsBuilder();
        b.stream("lines", Consumed.with(Serdes.String(), Serdes.String()))
                .flatMapValues(line -> List.of(line.split(" ")))
                .groupBy((k, word) -> word, Grouped.with(Serdes.String(), Serdes.String()))
                .count(Materialized.as("counts-store"))
                .toStream()
                .to("counts", Produced.with(Serdes.String(), Serdes.Long()));
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, APP);
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrap);
        p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        p.put(StreamsConfig.STATE_DIR_CONFIG, state.toString());
        p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 100);
        p.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, 1);
        p.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");
        try (KafkaStreams streams = new KafkaStreams(b.build(), p)) {
            streams.start();
            Map<String, Long> latest = new TreeMap<>();
            Properties c = new Properties();
            c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrap);
            c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
            c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
            c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
            c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, LongDeserializer.class.getName());
            try (KafkaConsumer<String, Long> consumer = new KafkaConsumer<>(c)) {
                List<TopicPartition> parts = List.of(new TopicPartition("counts", 0), new TopicPartition("counts", 1));
                consumer.assign(parts);
                consumer.seekToBeginning(parts);
                long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
                while (!latest.equals(new TreeMap<>(want)) && System.nanoTime() < deadline)
                    consumer.poll(Duration.ofMillis(200)).forEach(r -> latest.put(r.key(), r.value()));
            }
            assertEquals(new TreeMap<>(want), latest);
            assertEquals(KafkaStreams.State.RUNNING, streams.state());
        }
    }
}
