package dev.skiff.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.stream.Collectors;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialDeletion;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;
import org.apache.kafka.clients.admin.UserScramCredentialsDescription;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AccessControlEntryFilter;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclBindingFilter;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.errors.ClusterAuthorizationException;
import org.apache.kafka.common.errors.GroupAuthorizationException;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.errors.SslAuthenticationException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.errors.TransactionalIdAuthorizationException;
import org.apache.kafka.common.errors.UnacceptableCredentialException;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourcePatternFilter;
import org.apache.kafka.common.resource.ResourceType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * kafka-clients 4.4 over TLS and SASL with ACLs (docs/security.md): one skiff
 * with an SSL listener (no client certificate: User:ANONYMOUS), an SSL
 * listener that requires a client certificate (MTLS, the principal from the
 * certificate's subject) and a SASL_SSL listener (PLAIN and SCRAM-SHA-512),
 * StandardAuthorizer on. Certificates come from scripts/dev-certs.sh at test
 * time. Each test produces, consumes in a group, runs a transaction or uses
 * the admin API as a principal with exactly the ACLs it needs, and asserts
 * the records, offsets and the exception classes of the refusals.
 */
class SecurityTest {
    private static final String CLIENT_DN = "CN=client,OU=dev,O=skiff";
    static Broker broker;
    static Path certs;
    static Admin root;

    @BeforeAll
    static void start() throws Exception {
        // the listeners and users below are skiff's command line; another broker is not configured so
        assumeTrue(System.getProperty("kafka.bootstrap", "").isEmpty(), "needs a skiff started by the test");
        certs = Files.createTempDirectory("skiff-java-certs-");
        Process p = new ProcessBuilder("../../scripts/dev-certs.sh", certs.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.waitFor(), out);
        Files.writeString(certs.resolve("client.pem"),
                Files.readString(certs.resolve("client.key")) + Files.readString(certs.resolve("client.crt")));
        broker = Broker.start("--listeners", "SSL://127.0.0.1:0,MTLS://127.0.0.1:0,SASL_SSL://127.0.0.1:0",
                "--listener.security.protocol.map", "SSL:SSL,MTLS:SSL,SASL_SSL:SASL_SSL",
                "--ssl.keystore.type", "PEM", "--ssl.keystore.location", certs.resolve("server.pem").toString(),
                "--ssl.truststore.type", "PEM", "--ssl.truststore.location", certs.resolve("ca.pem").toString(),
                "--listener.name.mtls.ssl.client.auth", "required",
                "--sasl.enabled.mechanisms", "PLAIN,SCRAM-SHA-512",
                "--listener.name.sasl_ssl.plain.sasl.jaas.config",
                "org.apache.kafka.common.security.plain.PlainLoginModule required "
                        + "user_admin=\"admin-secret\" user_alice=\"alice-secret\";",
                "--skiff.scram.users", "SCRAM-SHA-512=[name=bob,password=bob-secret]",
                "--authorizer.class.name", "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
                "--super.users", "User:admin;User:" + CLIENT_DN);
        root = Clients.admin(broker, sasl("PLAIN", "admin", "admin-secret"));
    }

    @AfterAll
    static void stop() throws Exception {
        if (root != null) {
            root.close();
        }
        if (broker != null) {
            broker.close();
        }
    }

    /** Settings for the SSL listener named `listener`, with the client certificate when `withCert`. */
    private static Map<String, Object> ssl(String listener, boolean withCert) {
        Map<String, Object> c = new HashMap<>();
        c.put("bootstrap.servers", broker.listeners.get(listener));
        c.put("security.protocol", "SSL");
        c.put("ssl.truststore.type", "PEM");
        c.put("ssl.truststore.location", certs.resolve("ca.pem").toString());
        if (withCert) {
            c.put("ssl.keystore.type", "PEM");
            c.put("ssl.keystore.location", certs.resolve("client.pem").toString());
        }
        return c;
    }

    private static Map<String, Object> sasl(String mechanism, String user, String password) {
        Map<String, Object> c = ssl("SASL_SSL", false);
        c.put("security.protocol", "SASL_SSL");
        c.put("sasl.mechanism", mechanism);
        String module = mechanism.equals("PLAIN") ? "org.apache.kafka.common.security.plain.PlainLoginModule"
                : "org.apache.kafka.common.security.scram.ScramLoginModule";
        c.put("sasl.jaas.config", module + " required username=\"" + user + "\" password=\"" + password + "\";");
        return c;
    }

    private static Map<String, Object> with(Map<String, Object> base, Object... kv) {
        Map<String, Object> c = new HashMap<>(base);
        for (int i = 0; i < kv.length; i += 2) {
            c.put((String) kv[i], kv[i + 1]);
        }
        return c;
    }

    private static AclBinding allow(ResourceType type, String name, PatternType pattern, String principal,
                                    AclOperation op) {
        return new AclBinding(new ResourcePattern(type, name, pattern),
                new AccessControlEntry(principal, "*", op, AclPermissionType.ALLOW));
    }

    private static void grant(AclBinding... acls) throws Exception {
        root.createAcls(List.of(acls)).all().get();
    }

    private static void createTopic(String name) throws Exception {
        root.createTopics(List.of(new NewTopic(name, 1, (short) 1))).all().get();
    }

    /** The cause of the ExecutionException `f.get()` throws. */
    private static Throwable failure(Future<?> f) {
        return assertThrows(ExecutionException.class, f::get).getCause();
    }

    /** Produces `values` to partition 0 of `topic` and returns their offsets. */
    private static List<Long> produce(Map<String, Object> conf, String topic, List<String> values) throws Exception {
        try (KafkaProducer<String, String> p = Clients.producer(broker, conf)) {
            List<Future<RecordMetadata>> sent = values.stream()
                    .map(v -> p.send(new ProducerRecord<>(topic, 0, "k", v))).collect(Collectors.toList());
            p.flush();
            List<Long> offsets = new java.util.ArrayList<>();
            for (Future<RecordMetadata> f : sent) {
                offsets.add(f.get().offset());
            }
            return offsets;
        }
    }

    /** Consumes `n` values of partition 0 of `topic` in `group`, commits the offset after the last one, and
     * returns the values and the committed offset as the group reads it back. */
    private static Map.Entry<List<String>, Long> consumeInGroup(Map<String, Object> conf, String topic,
                                                                String group, int n) {
        try (KafkaConsumer<String, String> c = Clients.consumer(broker, with(conf, "group.id", group))) {
            c.subscribe(List.of(topic));
            List<ConsumerRecord<String, String>> got = Clients.poll(c, n);
            TopicPartition tp = new TopicPartition(topic, 0);
            if (!got.isEmpty()) {
                c.commitSync(Map.of(tp, new OffsetAndMetadata(got.get(got.size() - 1).offset() + 1)));
            }
            OffsetAndMetadata committed = c.committed(Set.of(tp)).get(tp);
            return Map.entry(got.stream().map(ConsumerRecord::value).collect(Collectors.toList()),
                    committed == null ? -1L : committed.offset());
        }
    }

    @Test
    void sslWithoutCertificateIsAnonymous() throws Exception {
        String topic = "anon-t";
        createTopic(topic);
        grant(allow(ResourceType.TOPIC, topic, PatternType.LITERAL, "User:ANONYMOUS", AclOperation.WRITE),
                allow(ResourceType.TOPIC, topic, PatternType.LITERAL, "User:ANONYMOUS", AclOperation.READ),
                allow(ResourceType.GROUP, "anon-g", PatternType.LITERAL, "User:ANONYMOUS", AclOperation.READ));
        Map<String, Object> conf = ssl("SSL", false);
        assertEquals(List.of(0L, 1L, 2L), produce(conf, topic, List.of("a", "b", "c")));
        assertEquals(Map.entry(List.of("a", "b", "c"), 3L), consumeInGroup(conf, topic, "anon-g", 3));

        try (Admin a = Clients.admin(broker, conf)) {
            assertInstanceOf(TopicAuthorizationException.class,
                    failure(a.createTopics(List.of(new NewTopic("anon-new", 1, (short) 1))).all()));
            assertEquals(Set.of(topic), a.listTopics().names().get());
        }
        try (KafkaConsumer<String, String> c = Clients.consumer(broker, with(conf, "group.id", "anon-other"))) {
            c.subscribe(List.of(topic));
            assertThrows(GroupAuthorizationException.class, () -> Clients.poll(c, 1));
        }
        try (KafkaProducer<String, String> p = Clients.producer(broker, with(conf, "max.block.ms", "10000"))) {
            assertInstanceOf(TopicAuthorizationException.class,
                    failure(p.send(new ProducerRecord<>("not-anon", 0, "k", "v"))));
        }
    }

    @Test
    void clientCertificateNamesThePrincipal() throws Exception {
        String topic = "mtls-t";
        Map<String, Object> conf = ssl("MTLS", true);
        try (Admin a = Clients.admin(broker, conf)) {
            // CREATE on the cluster: only the certificate's subject (a super user) has it
            a.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get();
        }
        try (KafkaProducer<String, String> p = Clients.producer(broker, with(conf, "transactional.id", "mtls-tx"))) {
            p.initTransactions();
            for (String v : List.of("c1", "a1", "c2")) {
                p.beginTransaction();
                p.send(new ProducerRecord<>(topic, 0, "k", v)).get();
                if (v.startsWith("a")) {
                    p.abortTransaction();
                } else {
                    p.commitTransaction();
                }
            }
        }
        // offsets: c1 0, commit marker 1, a1 2, abort marker 3, c2 4, commit marker 5
        assertEquals(Map.entry(List.of("c1", "c2"), 5L),
                consumeInGroup(with(conf, "isolation.level", "read_committed"), topic, "mtls-g", 2));

        try (Admin a = Clients.admin(broker, ssl("MTLS", false))) {
            assertInstanceOf(SslAuthenticationException.class, failure(a.listTopics().names()));
        }
    }

    @Test
    void saslScramSha512ReadRefusedThenGranted() throws Exception {
        String topic = "scram-t";
        createTopic(topic);
        grant(allow(ResourceType.TOPIC, topic, PatternType.LITERAL, "User:bob", AclOperation.WRITE),
                allow(ResourceType.GROUP, "scram-g", PatternType.LITERAL, "User:bob", AclOperation.READ));
        Map<String, Object> bob = sasl("SCRAM-SHA-512", "bob", "bob-secret");
        assertEquals(List.of(0L, 1L), produce(bob, topic, List.of("x", "y")));
        try (KafkaConsumer<String, String> c = Clients.consumer(broker, with(bob, "group.id", "scram-g"))) {
            c.subscribe(List.of(topic));
            TopicAuthorizationException e = assertThrows(TopicAuthorizationException.class, () -> Clients.poll(c, 1));
            assertEquals(Set.of(topic), e.unauthorizedTopics());
        }
        grant(allow(ResourceType.TOPIC, topic, PatternType.LITERAL, "User:bob", AclOperation.READ));
        assertEquals(Map.entry(List.of("x", "y"), 2L), consumeInGroup(bob, topic, "scram-g", 2));

        try (Admin a = Clients.admin(broker, sasl("SCRAM-SHA-512", "bob", "wrong"))) {
            assertInstanceOf(SaslAuthenticationException.class, failure(a.listTopics().names()));
        }
        try (Admin a = Clients.admin(broker, sasl("SCRAM-SHA-512", "nobody", "bob-secret"))) {
            assertInstanceOf(SaslAuthenticationException.class, failure(a.listTopics().names()));
        }
    }

    @Test
    void saslPlainTransactionWithAcls() throws Exception {
        String topic = "plain-t";
        createTopic(topic);
        String alice = "User:alice";
        grant(allow(ResourceType.TRANSACTIONAL_ID, "alice-tx", PatternType.LITERAL, alice, AclOperation.WRITE),
                allow(ResourceType.TOPIC, "plain-", PatternType.PREFIXED, alice, AclOperation.WRITE),
                allow(ResourceType.TOPIC, "plain-", PatternType.PREFIXED, alice, AclOperation.READ),
                allow(ResourceType.GROUP, "plain-g", PatternType.LITERAL, alice, AclOperation.READ));
        Map<String, Object> conf = sasl("PLAIN", "alice", "alice-secret");
        TopicPartition tp = new TopicPartition(topic, 0);
        try (KafkaProducer<String, String> p = Clients.producer(broker, with(conf, "transactional.id", "alice-tx"))) {
            p.initTransactions();
            p.beginTransaction();
            p.send(new ProducerRecord<>(topic, 0, "k", "t1"));
            p.send(new ProducerRecord<>(topic, 0, "k", "t2"));
            p.sendOffsetsToTransaction(Map.of(tp, new OffsetAndMetadata(1, "txn")), new ConsumerGroupMetadata("plain-g"));
            p.commitTransaction();
        }
        try (KafkaConsumer<String, String> c = Clients.consumer(broker, with(conf, "group.id", "plain-g",
                "isolation.level", "read_committed"))) {
            assertEquals(new OffsetAndMetadata(1, "txn"), c.committed(Set.of(tp)).get(tp));
            c.subscribe(List.of(topic));
            assertEquals(List.of("t2"), Clients.poll(c, 1).stream().map(ConsumerRecord::value)
                    .collect(Collectors.toList()));
        }
        try (KafkaProducer<String, String> p = Clients.producer(broker, with(conf, "transactional.id", "bob-tx",
                "max.block.ms", "10000"))) {
            assertThrows(TransactionalIdAuthorizationException.class, p::initTransactions);
        }
        try (Admin a = Clients.admin(broker, sasl("PLAIN", "alice", "not-alice"))) {
            assertInstanceOf(SaslAuthenticationException.class, failure(a.listTopics().names()));
        }
    }

    @Test
    void adminAclsAndScramCredentials() throws Exception {
        String dave = "User:dave";
        AclBinding topics = allow(ResourceType.TOPIC, "dave-", PatternType.PREFIXED, dave, AclOperation.DESCRIBE);
        AclBinding group = allow(ResourceType.GROUP, "dave-g", PatternType.LITERAL, dave, AclOperation.READ);
        root.createAcls(List.of(topics, group)).all().get();
        AclBindingFilter ofDave = new AclBindingFilter(ResourcePatternFilter.ANY,
                new AccessControlEntryFilter(dave, null, AclOperation.ANY, AclPermissionType.ANY));
        assertEquals(Set.of(topics, group), Set.copyOf(root.describeAcls(ofDave).values().get()));
        AclBindingFilter matching = new AclBindingFilter(
                new ResourcePatternFilter(ResourceType.TOPIC, "dave-x", PatternType.MATCH), AccessControlEntryFilter.ANY);
        assertEquals(List.of(topics), List.copyOf(root.describeAcls(matching).values().get()));
        createTopic("dave-x");
        createTopic("not-dave");

        root.alterUserScramCredentials(List.of(new UserScramCredentialUpsertion("dave",
                new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 8192), "dave-secret"))).all().get();
        UserScramCredentialsDescription d = root.describeUserScramCredentials(List.of("dave")).description("dave").get();
        assertEquals(List.of(new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 8192)), d.credentialInfos());
        Map<String, Object> asDave = sasl("SCRAM-SHA-512", "dave", "dave-secret");
        try (Admin a = Clients.admin(broker, asDave)) {
            // Metadata leaves out the topics dave may not describe
            assertEquals(Set.of("dave-x"), a.listTopics().names().get());
            assertInstanceOf(ClusterAuthorizationException.class, failure(a.createAcls(List.of(group)).all()));
            assertInstanceOf(ClusterAuthorizationException.class, failure(a.describeAcls(ofDave).values()));
            assertInstanceOf(ClusterAuthorizationException.class, failure(a.alterUserScramCredentials(List.of(
                    new UserScramCredentialDeletion("bob", ScramMechanism.SCRAM_SHA_512))).all()));
        }
        assertInstanceOf(UnacceptableCredentialException.class, failure(root.alterUserScramCredentials(List.of(
                new UserScramCredentialUpsertion("erin", new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 1000),
                        "erin-secret"))).all()));

        root.alterUserScramCredentials(List.of(new UserScramCredentialDeletion("dave", ScramMechanism.SCRAM_SHA_512)))
                .all().get();
        try (Admin a = Clients.admin(broker, asDave)) {
            assertInstanceOf(SaslAuthenticationException.class, failure(a.listTopics().names()));
        }
        root.deleteAcls(List.of(ofDave)).all().get();
        assertTrue(root.describeAcls(ofDave).values().get().isEmpty());
    }
}
