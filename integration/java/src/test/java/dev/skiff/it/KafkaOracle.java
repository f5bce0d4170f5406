package dev.skiff.it;

import java.io.File;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.admin.Admin;

/**
 * Apache Kafka 4.4.0 from scripts/kafka-oracle.sh (a single-node KRaft
 * broker+controller, jars resolved with Maven on first use) on free loopback
 * ports below 32768; close() stops it.
 */
final class KafkaOracle implements AutoCloseable {
    final String bootstrap;
    private final Process process;
    private final Path log;

    private KafkaOracle(String bootstrap, Process process, Path log) {
        this.bootstrap = bootstrap;
        this.process = process;
        this.log = log;
    }

    private static int freePort(Random r) throws IOException {
        for (int i = 0; i < 200; i++) {
            int port = 20000 + r.nextInt(12000);
            try (ServerSocket s = new ServerSocket()) {
                s.bind(new InetSocketAddress("127.0.0.1", port));
                return port;
            } catch (IOException busy) {
                // try another
            }
        }
        throw new IOException("no free port below 32768");
    }

    static KafkaOracle start() throws Exception {
        Random r = new Random();
        int port = freePort(r), controller = freePort(r);
        while (controller == port) {
            controller = freePort(r);
        }
        Path dir = Files.createTempDirectory("kafka-oracle-");
        Path log = dir.resolve("kafka.log");
        File script = null;   // the repository's script, found upward from the working directory
        for (File d = new File(".").getCanonicalFile(); d != null && script == null; d = d.getParentFile()) {
            File f = new File(d, "scripts/kafka-oracle.sh");
            script = f.isFile() ? f : null;
        }
        if (script == null) {
            throw new IOException("scripts/kafka-oracle.sh not found above " + new File(".").getCanonicalPath());
        }
        Process p = new ProcessBuilder("bash", script.getPath(), "run", Integer.toString(port),
                Integer.toString(controller), dir.resolve("data").toString())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        KafkaOracle k = new KafkaOracle("127.0.0.1:" + port, p, log);
        Properties props = new Properties();
        props.put("bootstrap.servers", k.bootstrap);
        props.put("request.timeout.ms", "2000");
        props.put("default.api.timeout.ms", "2000");
        long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        while (System.nanoTime() < deadline) {
            if (!p.isAlive()) {
                throw new IOException("Kafka exited:\n" + Files.readString(log));
            }
            try (Admin a = Admin.create(props)) {
                if (a.describeCluster().nodes().get().size() == 1) {
                    return k;
                }
            } catch (Exception notYet) {
                Thread.sleep(250);
            }
        }
        k.close();
        throw new IOException("Kafka did not start within 120 s:\n" + Files.readString(log));
    }

    @Override
    public void close() throws Exception {
        process.destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly();
        }
    }
}
