package dev.skiff.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.LongDeserializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.state.Stores;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Kafka Streams 4.4 with processing.guarantee=exactly_once_v2: a word count
 * with a repartition topic and a changelogged state store, run, stopped and
 * restarted (the store is restored from its changelog); the output read with
 * read_committed holds exactly the expected counts, and the changelog topic
 * was created compacted, as Streams asks. */
class StreamsTest {
    static Broker broker;

    @BeforeAll
    static void start() throws Exception {
        broker = Broker.start();
    }

    @AfterAll
    static void stop() throws Exception {
        broker.close();
    }

    private static KafkaStreams wordCount(String app, Path stateDir) {
        StreamsBuilder b = new StreamsBuilder();
        b.<String, String>stream("wc-in")
                .flatMapValues(line -> Arrays.asList(line.toLowerCase(Locale.ROOT).split(" ")))
                .groupBy((key, word) -> word)
                .count(Materialized.as(Stores.inMemoryKeyValueStore("counts")))
                .toStream()
                .to("wc-out", Produced.with(Serdes.String(), Serdes.Long()));
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, app);
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrap);
        p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        p.put(StreamsConfig.DEFAULT_KEY_SERDE_CLASS_CONFIG, Serdes.String().getClass());
        p.put(StreamsConfig.DEFAULT_VALUE_SERDE_CLASS_CONFIG, Serdes.String().getClass());
        p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 100);
        p.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
        p.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, 1);
        p.put(StreamsConfig.consumerPrefix("auto.offset.reset"), "earliest");
        // Streams' consumer does not leave the group on close: the restarted
        // instance waits for the old member's session to end (45 s by default).
        p.put(StreamsConfig.consumerPrefix("session.timeout.ms"), 6000);
        p.put(StreamsConfig.consumerPrefix("heartbeat.interval.ms"), 1000);
        KafkaStreams s = new KafkaStreams(b.build(), p);
        s.start();
        return s;
    }

    private static void send(String... lines) {
        try (KafkaProducer<String, String> p = Clients.producer(broker, Map.of())) {
            for (String l : lines) {
                p.send(new ProducerRecord<>("wc-in", null, l));
            }
        }
    }

    /** The latest count per word in wc-out once it equals `want` (60 s at most). */
    private static Map<String, Long> counts(KafkaConsumer<String, Long> c, Map<String, Long> latest, Map<String, Long> want) {
        try {
            Clients.await("word counts " + want, () -> latest.equals(want), () ->
                    c.poll(Duration.ofMillis(200)).forEach(r -> latest.put(r.key(), r.value())));
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "; latest counts " + latest, e);
        }
        return latest;
    }

    @Test
    void exactlyOnceWordCountSurvivesARestart() throws Exception {
        Clients.createTopic(broker, "wc-in", 2, Map.of());
        Clients.createTopic(broker, "wc-out", 2, Map.of());
        Path state = Files.createTempDirectory("skiff-streams-");
        String app = "skiff-wc";
        Properties cp = new Properties();
        cp.put("bootstrap.servers", broker.bootstrap);
        cp.put("group.id", "wc-reader");
        cp.put("isolation.level", "read_committed");
        cp.put("auto.offset.reset", "earliest");
        cp.put("key.deserializer", StringDeserializer.class.getName());
        cp.put("value.deserializer", LongDeserializer.class.getName());
        try (KafkaConsumer<String, Long> out = new KafkaConsumer<>(cp)) {
            out.subscribe(List.of("wc-out"));
            Map<String, Long> latest = new HashMap<>();
            send("the quick brown fox", "jumps over the lazy dog", "The end");
            try (KafkaStreams s = wordCount(app, state)) {
                assertEquals(Map.of("the", 3L, "quick", 1L, "brown", 1L, "fox", 1L, "jumps", 1L, "over", 1L,
                        "lazy", 1L, "dog", 1L, "end", 1L), counts(out, latest, Map.of("the", 3L, "quick", 1L,
                        "brown", 1L, "fox", 1L, "jumps", 1L, "over", 1L, "lazy", 1L, "dog", 1L, "end", 1L)));
                s.close(Duration.ofSeconds(30));
            }
            // Restarted with a fresh state dir: the in-memory store comes back from its changelog.
            send("the fox again", "again");
            try (KafkaStreams s = wordCount(app, Files.createTempDirectory("skiff-streams-"))) {
                Map<String, Long> want = new HashMap<>(latest);
                want.put("the", 4L);
                want.put("fox", 2L);
                want.put("again", 2L);
                assertEquals(want, counts(out, latest, want));
                s.close(Duration.ofSeconds(30));
            }
        }
        try (Admin a = Clients.admin(broker)) {
            ConfigResource changelog = new ConfigResource(ConfigResource.Type.TOPIC, app + "-counts-changelog");
            Config cfg = a.describeConfigs(List.of(changelog)).all().get().get(changelog);
            assertEquals("compact", cfg.get("cleanup.policy").value());
            assertEquals(true, a.listTopics().names().get().contains(app + "-counts-repartition"));
        }
    }
}
