package dev.skiff.it;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * One skiff process on an ephemeral loopback port with a fresh data
 * directory, as the Python harness starts it (its HTTP control plane on an
 * ephemeral port too): the binary comes from the system property skiff.bin,
 * the port from its "listening on HOST:PORT" line.
 * close() stops it with SIGTERM, expects exit status 0 and no sanitizer
 * report, and removes the data directory.
 */
final class SkiffBroker implements AutoCloseable {
    private static final Pattern LISTENING = Pattern.compile("listening on (\\S+):(\\d+)");
    private static final List<String> SANITIZER = List.of("runtime error", "AddressSanitizer", "LeakSanitizer");

    private final Path dataDir;
    private final Process proc;
    private final List<String> log = new ArrayList<>();
    private final String bootstrap;

    SkiffBroker(String... extraArgs) throws IOException, InterruptedException {
        dataDir = Files.createTempDirectory("skiff-java-");
        List<String> argv = new ArrayList<>(List.of(System.getProperty("skiff.bin", "../../build/skiff"),
                "--listeners", "PLAINTEXT://127.0.0.1:0", "--log.dirs", dataDir.toString(),
                "--skiff.http.listeners", "http://127.0.0.1:0"));
        argv.addAll(List.of(extraArgs));
        ProcessBuilder pb = new ProcessBuilder(argv).redirectErrorStream(true);
        pb.environment().keySet().removeIf(k -> k.startsWith("SKIFF_"));
        proc = pb.start();
        CompletableFuture<String> address = new CompletableFuture<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(
                    new InputStreamReader(proc.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    synchronized (log) {
                        log.add(line);
                    }
                    Matcher m = LISTENING.matcher(line);
                    if (m.find())
                        address.complete(m.group(1) + ":" + m.group(2));
                }
            } catch (IOException e) {
                address.completeExceptionally(e);
            }
            address.completeExceptionally(new IllegalStateException("skiff exited before listening: " + log()));
        }, "skiff-log");
        reader.setDaemon(true);
        reader.start();
        try {
            bootstrap = address.get(20, TimeUnit.SECONDS);
        } catch (Exception e) {
            proc.destroyForcibly();
            throw new IllegalStateException("skiff did not start: " + e + "\n" + log(), e);
        }
    }

    String bootstrap() {
        return bootstrap;
    }

    String log() {
        synchronized (log) {
            return String.join("\n", log);
        }
    }

    @Override
    public void close() throws Exception {
        try {
            proc.destroy(); // SIGTERM
            if (!proc.waitFor(15, TimeUnit.SECONDS)) {
                proc.destroyForcibly();
                throw new IllegalStateException("skiff did not stop within 15 s of SIGTERM\n" + log());
            }
            if (proc.exitValue() != 0)
                throw new IllegalStateException("skiff exited with status " + proc.exitValue() + "\n" + log());
            for (String marker : SANITIZER)
                if (log().contains(marker))
                    throw new IllegalStateException("sanitizer report in the skiff log:\n" + log());
        } finally {
            try (Stream<Path> files = Files.walk(dataDir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }
}
