package dev.skiff.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Transactions through kafka-clients 4.4: commit and abort seen by
 * read_committed and read_uncommitted consumers, offsets committed in a
 * transaction, and fencing by a second producer with the same id. */
class TransactionsTest {
    static Broker broker;

    @BeforeAll
    static void start() throws Exception {
        broker = Broker.start();
    }

    @AfterAll
    static void stop() throws Exception {
        broker.close();
    }

    private static List<String> values(String topic, String isolation, int n) {
        try (KafkaConsumer<String, String> c = Clients.consumer(broker, Map.of("isolation.level", isolation))) {
            TopicPartition tp = new TopicPartition(topic, 0);
            c.assign(List.of(tp));
            c.seekToBeginning(List.of(tp));
            return Clients.poll(c, n).stream().map(ConsumerRecord::value).collect(Collectors.toList());
        }
    }

    @Test
    void commitAbortAndOffsetsInATransaction() throws Exception {
        String topic = "java-txn";
        Clients.createTopic(broker, topic, 1, Map.of());
        try (KafkaProducer<String, String> p = Clients.producer(broker, Map.of("transactional.id", "java-tx-1"))) {
            p.initTransactions();
            p.beginTransaction();
            p.send(new ProducerRecord<>(topic, 0, "k", "c1"));
            p.send(new ProducerRecord<>(topic, 0, "k", "c2"));
            p.sendOffsetsToTransaction(Map.of(new TopicPartition(topic, 0), new OffsetAndMetadata(7, "meta")),
                    new org.apache.kafka.clients.consumer.ConsumerGroupMetadata("java-txn-group"));
            p.commitTransaction();
            p.beginTransaction();
            p.send(new ProducerRecord<>(topic, 0, "k", "a1"));
            p.flush();
            p.abortTransaction();
            p.beginTransaction();
            p.send(new ProducerRecord<>(topic, 0, "k", "c3"));
            p.commitTransaction();
        }
        assertEquals(List.of("c1", "c2", "c3"), values(topic, "read_committed", 3));
        assertEquals(List.of("c1", "c2", "a1", "c3"), values(topic, "read_uncommitted", 4));
        try (KafkaConsumer<String, String> c = Clients.consumer(broker, Map.of("group.id", "java-txn-group"))) {
            TopicPartition tp = new TopicPartition(topic, 0);
            OffsetAndMetadata om = c.committed(java.util.Set.of(tp)).get(tp);
            assertEquals(7, om.offset());
            assertEquals("meta", om.metadata());
        }
    }

    @Test
    void aSecondProducerFencesTheFirst() throws Exception {
        String topic = "java-fence";
        Clients.createTopic(broker, topic, 1, Map.of());
        try (KafkaProducer<String, String> first = Clients.producer(broker, Map.of("transactional.id", "java-tx-f"));
             KafkaProducer<String, String> second = Clients.producer(broker, Map.of("transactional.id", "java-tx-f"))) {
            first.initTransactions();
            first.beginTransaction();
            first.send(new ProducerRecord<>(topic, 0, "k", "old")).get();
            second.initTransactions();             // bumps the epoch, aborting first's transaction
            second.beginTransaction();
            second.send(new ProducerRecord<>(topic, 0, "k", "new"));
            second.commitTransaction();
            assertThrows(ProducerFencedException.class, first::commitTransaction);
        }
        assertEquals(List.of("new"), values(topic, "read_committed", 1));
    }
}
