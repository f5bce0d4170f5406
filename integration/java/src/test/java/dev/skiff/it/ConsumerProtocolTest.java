package dev.skiff.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.GroupListing;
import org.apache.kafka.clients.admin.ListGroupsOptions;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.GroupState;
import org.apache.kafka.common.GroupType;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** kafka-clients 4.4 with group.protocol=consumer (KIP-848): the broker
 * assigns (uniform), members reconcile incrementally without ever owning a
 * partition twice, commits carry member epochs, a static member that closes
 * comes back to its partitions, and the Admin client lists and describes the
 * group as a consumer group (ListGroups v5, ConsumerGroupDescribe). */
class ConsumerProtocolTest {
    static Broker broker;

    @BeforeAll
    static void start() throws Exception {
        broker = Broker.start("--group.consumer.session.timeout.ms", "3000",
                "--group.consumer.heartbeat.interval.ms", "300");
    }

    @AfterAll
    static void stop() throws Exception {
        broker.close();
    }

    /** A member whose `owned` follows its rebalance listener. */
    static final class Member implements ConsumerRebalanceListener {
        final KafkaConsumer<String, String> consumer;
        final Set<Integer> owned = new HashSet<>();
        final Set<Integer> revoked = new HashSet<>();
        final List<ConsumerRecord<String, String>> records = new ArrayList<>();

        Member(String group, String topic, Map<String, Object> extra) {
            Map<String, Object> conf = new java.util.HashMap<>(Map.of("group.id", group, "group.protocol", "consumer"));
            conf.putAll(extra);
            consumer = Clients.consumer(broker, conf);
            consumer.subscribe(List.of(topic), this);
        }

        void poll() {
            consumer.poll(Duration.ofMillis(50)).forEach(records::add);
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> parts) {
            parts.forEach(tp -> owned.add(tp.partition()));
        }

        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> parts) {
            parts.forEach(tp -> {
                owned.remove(tp.partition());
                revoked.add(tp.partition());
            });
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> parts) {
            onPartitionsRevoked(parts);
        }
    }

    static boolean balanced(List<Member> members, int each, int partitions) {
        Set<Integer> all = new HashSet<>();
        for (Member m : members) {
            if (m.owned.size() != each) {
                return false;
            }
            all.addAll(m.owned);
        }
        return all.size() == partitions;
    }

    static void pollAll(List<Member> members) {
        Set<Integer> seen = new HashSet<>();
        for (Member m : members) {
            m.poll();
        }
        for (Member m : members) {
            for (int p : m.owned) {
                assertTrue(seen.add(p), "partition " + p + " owned twice");
            }
        }
    }

    @Test
    void threeMembersThenOneLeaves() throws Exception {
        Clients.createTopic(broker, "cp-three", 6, Map.of());
        List<Member> members = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            members.add(new Member("cp-three", "cp-three", Map.of()));
        }
        try {
            Clients.await("three members, two partitions each", () -> balanced(members, 2, 6), () -> pollAll(members));
            members.forEach(m -> m.revoked.clear());
            Member gone = members.remove(2);
            gone.consumer.close();
            Clients.await("two members, three partitions each", () -> balanced(members, 3, 6), () -> pollAll(members));
            for (Member m : members) {
                assertTrue(m.revoked.isEmpty(), "a survivor gave up " + m.revoked);
            }
        } finally {
            members.forEach(m -> m.consumer.close());
        }
    }

    @Test
    void commitsCarryTheMemberEpochAndResume() throws Exception {
        Clients.createTopic(broker, "cp-commit", 1, Map.of());
        try (KafkaProducer<String, String> p = Clients.producer(broker, Map.of())) {
            for (int i = 0; i < 10; i++) {
                p.send(new ProducerRecord<>("cp-commit", 0, null, "v" + i));
            }
        }
        TopicPartition tp = new TopicPartition("cp-commit", 0);
        Member m = new Member("cp-commit", "cp-commit", Map.of());
        try {
            Clients.await("five records", () -> m.records.size() >= 5, m::poll);
            m.consumer.commitSync(Map.of(tp, new OffsetAndMetadata(5)));
            assertEquals(5, m.consumer.committed(Set.of(tp)).get(tp).offset());
        } finally {
            m.consumer.close();
        }
        Member again = new Member("cp-commit", "cp-commit", Map.of());
        try {
            Clients.await("the rest", () -> again.records.size() >= 5, again::poll);
            assertEquals("v5", again.records.get(0).value());
            assertEquals(5, again.records.get(0).offset());
        } finally {
            again.consumer.close();
        }
    }

    @Test
    void staticMemberComesBackToItsPartitions() throws Exception {
        Clients.createTopic(broker, "cp-static", 4, Map.of());
        List<Member> members = new ArrayList<>();
        members.add(new Member("cp-static", "cp-static", Map.of("group.instance.id", "a")));
        members.add(new Member("cp-static", "cp-static", Map.of("group.instance.id", "b")));
        try {
            Clients.await("two static members, two partitions each", () -> balanced(members, 2, 4),
                    () -> pollAll(members));
            members.forEach(m -> m.revoked.clear());
            Set<Integer> bs = new HashSet<>(members.get(1).owned);
            members.remove(1).consumer.close();
            members.add(new Member("cp-static", "cp-static", Map.of("group.instance.id", "b")));
            Clients.await("b is back", () -> balanced(members, 2, 4), () -> pollAll(members));
            assertEquals(bs, members.get(1).owned);
            assertTrue(members.get(0).revoked.isEmpty());
        } finally {
            members.forEach(m -> m.consumer.close());
        }
    }

    @Test
    void adminListsAndDescribesTheConsumerGroup() throws Exception {
        Clients.createTopic(broker, "cp-admin", 4, Map.of());
        List<Member> members = List.of(new Member("cp-admin", "cp-admin", Map.of()),
                new Member("cp-admin", "cp-admin", Map.of()));
        try (Admin admin = Clients.admin(broker)) {
            Clients.await("two members, two partitions each", () -> balanced(members, 2, 4), () -> pollAll(members));
            Collection<GroupListing> listed = admin.listGroups(ListGroupsOptions.forConsumerGroups()
                    .withTypes(Set.of(GroupType.CONSUMER))).all().get();
            assertTrue(listed.stream().anyMatch(g -> g.groupId().equals("cp-admin")
                    && g.type().equals(java.util.Optional.of(GroupType.CONSUMER))), listed.toString());
            ConsumerGroupDescription d = admin.describeConsumerGroups(List.of("cp-admin")).all().get().get("cp-admin");
            assertEquals(GroupType.CONSUMER, d.type());
            assertEquals(GroupState.STABLE, d.groupState());
            assertEquals("uniform", d.partitionAssignor());
            assertEquals(2, d.members().size());
            Set<Integer> all = new HashSet<>();
            for (MemberDescription md : d.members()) {
                md.assignment().topicPartitions().forEach(tp -> all.add(tp.partition()));
                assertEquals(md.assignment(), md.targetAssignment().orElseThrow());
            }
            assertEquals(Set.of(0, 1, 2, 3), all);
        } finally {
            members.forEach(m -> m.consumer.close());
        }
    }
}
