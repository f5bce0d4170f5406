package dev.skiff.it;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.BooleanSupplier;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/** Client factories and waits shared by the tests (string keys and values). */
final class Clients {
    private Clients() {
    }

    static Admin admin(Broker b) {
        return admin(b, Map.of());
    }

    /** An admin client; `extra` adds or overrides settings (bootstrap.servers, security). */
    static Admin admin(Broker b, Map<String, Object> extra) {
        Properties p = new Properties();
        p.put("bootstrap.servers", b.bootstrap);
        p.put("default.api.timeout.ms", "30000");
        p.putAll(extra);
        return Admin.create(p);
    }

    static KafkaProducer<String, String> producer(Broker b, Map<String, Object> extra) {
        Properties p = new Properties();
        p.put("bootstrap.servers", b.bootstrap);
        p.put("key.serializer", StringSerializer.class.getName());
        p.put("value.serializer", StringSerializer.class.getName());
        p.put("linger.ms", "5");
        p.putAll(extra);
        return new KafkaProducer<>(p);
    }

    static KafkaConsumer<String, String> consumer(Broker b, Map<String, Object> extra) {
        Properties p = new Properties();
        p.put("bootstrap.servers", b.bootstrap);
        p.put("key.deserializer", StringDeserializer.class.getName());
        p.put("value.deserializer", StringDeserializer.class.getName());
        p.put("auto.offset.reset", "earliest");
        p.put("enable.auto.commit", "false");
        p.putAll(extra);
        return new KafkaConsumer<>(p);
    }

    static void createTopic(Broker b, String name, int partitions, Map<String, String> configs) throws Exception {
        try (Admin a = admin(b)) {
            a.createTopics(List.of(new NewTopic(name, partitions, (short) 1).configs(configs))).all().get();
        }
    }

    /** Polls until `n` records arrived (or 30 s passed) and returns them. */
    static List<ConsumerRecord<String, String>> poll(KafkaConsumer<String, String> c, int n) {
        List<ConsumerRecord<String, String>> out = new ArrayList<>();
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (out.size() < n && System.nanoTime() < deadline) {
            c.poll(Duration.ofMillis(200)).forEach(out::add);
        }
        return out;
    }

    /** Waits up to 120 s for `cond`, running `step` between checks (MirrorMaker 2 checkpoints can take over 60 s on a loaded machine). */
    static void await(String what, BooleanSupplier cond, Runnable step) {
        long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            step.run();
        }
    }
}
