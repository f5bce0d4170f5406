package dev.skiff.it;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The broker a test class talks to: a skiff started from SKIFF_BIN (default
 * build/skiff) on an ephemeral loopback port with a fresh data directory, or,
 * when the system property kafka.bootstrap is set, that broker (for example the
 * Apache Kafka oracle of scripts/kafka-oracle.sh). close() stops a skiff it
 * started with SIGTERM and fails if it did not exit with status 0.
 */
final class Broker implements AutoCloseable {
    private static final Pattern LISTENING = Pattern.compile("listening on (\\S+):(\\d+) \\(([^,)\\s]+)");
    private static final Pattern STARTED = Pattern.compile("\\[main\\] skiff \\S+ started");

    final String bootstrap;
    final boolean skiff;
    /** host:port of each listener by name, in the order skiff logged them (empty for an external broker). */
    final Map<String, String> listeners = new LinkedHashMap<>();
    private final Process process;
    private final List<String> log = new ArrayList<>();

    private Broker(String bootstrap, Process process) {
        this.bootstrap = bootstrap;
        this.process = process;
        this.skiff = process != null;
    }

    /** A broker someone else runs (nothing to stop). */
    static Broker external(String bootstrap) {
        return new Broker(bootstrap, null);
    }

    static Broker start(String... extraArgs) throws IOException, InterruptedException {
        String given = System.getProperty("kafka.bootstrap", "");
        if (!given.isEmpty()) {
            return new Broker(given, null);
        }
        String bin = System.getenv().getOrDefault("SKIFF_BIN", "../../build/skiff");
        Path data = Files.createTempDirectory("skiff-java-");
        List<String> argv = new ArrayList<>(List.of(bin, "--listeners", "PLAINTEXT://127.0.0.1:0",
                "--log.dirs", data.toString(), "--node.id", "1",
                // the HTTP control plane on an ephemeral port: several skiffs run at once
                "--skiff.http.listeners", "http://127.0.0.1:0"));
        argv.addAll(List.of(extraArgs));
        ProcessBuilder pb = new ProcessBuilder(argv).redirectErrorStream(true);
        pb.environment().keySet().removeIf(k -> k.startsWith("SKIFF_"));
        Process p = pb.start();
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        Map<String, String> endpoints = new LinkedHashMap<>();
        boolean started = false;
        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        String line;
        List<String> seen = new ArrayList<>();
        while (!started && System.nanoTime() < deadline && (line = out.readLine()) != null) {
            seen.add(line);
            Matcher m = LISTENING.matcher(line);
            if (m.find()) {
                endpoints.putIfAbsent(m.group(3), m.group(1) + ":" + m.group(2)); // node 1's, with several brokers
            }
            started = STARTED.matcher(line).find();
        }
        if (!started || endpoints.isEmpty()) {
            p.destroyForcibly();
            throw new IOException("skiff did not start:\n" + String.join("\n", seen));
        }
        Broker b = new Broker(endpoints.values().iterator().next(), p);
        b.listeners.putAll(endpoints);
        b.log.addAll(seen);
        Broker running = b;
        Thread drain = new Thread(() -> {
            try {
                String l;
                while ((l = out.readLine()) != null) {
                    synchronized (running.log) {
                        running.log.add(l);
                    }
                }
            } catch (IOException ignored) {
                // the process ended
            }
        });
        drain.setDaemon(true);
        drain.start();
        return b;
    }

    String logText() {
        synchronized (log) {
            return String.join("\n", log);
        }
    }

    @Override
    public void close() throws Exception {
        if (process == null) {
            return;
        }
        process.destroy();
        if (!process.waitFor(15, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("skiff did not stop within 15 s:\n" + logText());
        }
        if (process.exitValue() != 0) {
            throw new AssertionError("skiff exited with " + process.exitValue() + ":\n" + logText());
        }
    }
}
