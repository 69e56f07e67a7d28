package io.gpupool.bench.apiserver;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.gpupool.playground.OperatorProcess;
import io.gpupool.playground.PlaygroundApiServer;

/**
 * The real operator (the packaged application, {@link OperatorProcess}) with the JVM options and configuration the
 * benchmark was asked for, plus what the benchmark reads about it: CPU, RSS, heap, and when its log says it started.
 */
final class OperatorUnderTest implements AutoCloseable {

    private static final Pattern MANAGEMENT_PORT = Pattern.compile("Management interface listening on http://[^:]+:(\\d+)");
    private static final DateTimeFormatter LOG_TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss,SSS");

    final OperatorProcess process;
    /** Wall clock and monotonic clock just before the JVM was started. */
    final Instant startedAt;
    final long startedNanos;

    private OperatorUnderTest(OperatorProcess process, Instant startedAt, long startedNanos) {
        this.process = process;
        this.startedAt = startedAt;
        this.startedNanos = startedNanos;
    }

    static OperatorUnderTest start(PlaygroundApiServer server, Path workDir, String logName, List<String> jvmOptions,
            Map<String, String> env) throws IOException {
        Instant wall = Instant.now();
        long nanos = System.nanoTime();
        return new OperatorUnderTest(OperatorProcess.start(server, workDir, logName, jvmOptions, env), wall, nanos);
    }

    long pid() {
        return process.pid();
    }

    double cpuSeconds() {
        return ProcStats.cpuSeconds(pid());
    }

    void requireAlive() {
        if (!process.isAlive()) {
            throw new IllegalStateException("The operator process exited; see " + process.log);
        }
    }

    /**
     * Milliseconds from the JVM's start to the first log line containing all the given fragments, from the log's own
     * timestamps (Quarkus' default format, local time, ms resolution); empty if no such line.
     */
    Optional<Double> logLineAfterStartMillis(String... fragments) throws IOException {
        for (String line : Files.readAllLines(process.log)) {
            boolean all = true;
            for (String f : fragments) {
                all &= line.contains(f);
            }
            if (all && line.length() >= 23) {
                try {
                    Instant at = LocalDateTime.parse(line.substring(0, 23), LOG_TIME).atZone(ZoneId.systemDefault())
                            .toInstant();
                    return Optional.of((at.toEpochMilli() - startedAt.toEpochMilli()) * 1.0);
                } catch (DateTimeParseException e) {
                    // a continuation line; keep looking
                }
            }
        }
        return Optional.empty();
    }

    /** The operator's Prometheus metrics (management interface, port read from its log); empty if unreachable. */
    String metrics() {
        try {
            String port = null;
            for (String line : Files.readAllLines(process.log)) {
                Matcher m = MANAGEMENT_PORT.matcher(line);
                if (m.find()) {
                    port = m.group(1);
                }
            }
            if (port == null) {
                return "";
            }
            HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest
                    .newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).timeout(Duration.ofSeconds(30))
                    .build(), HttpResponse.BodyHandlers.ofString());
            return response.statusCode() == 200 ? response.body() : "";
        } catch (IOException e) {
            return "";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "";
        }
    }

    /** The sum of a metric's samples whose labels contain {@code labelFragment} (Prometheus text format); NaN if none. */
    static double metricSum(String metrics, String name, String labelFragment) {
        double sum = 0;
        boolean found = false;
        for (String line : metrics.split("\n")) {
            if (line.startsWith(name + "{") || line.startsWith(name + " ")) {
                String labels = line.contains("{") ? line.substring(line.indexOf('{'), line.indexOf('}') + 1) : "";
                if (labels.contains(labelFragment)) {
                    sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
                    found = true;
                }
            }
        }
        return found ? sum : Double.NaN;
    }

    /** The bytes of live objects a {@code GC.class_histogram} counts (its "Total" line); NaN if absent. */
    static double histogramTotalBytes(String histogram) {
        for (String line : histogram.split("\n")) {
            String[] f = line.trim().split("\\s+");
            if (f.length == 3 && f[0].equals("Total")) {
                return Double.parseDouble(f[2]);
            }
        }
        return Double.NaN;
    }

    /** Heap used / committed after a full GC (jcmd GC.run, then GC.heap_info), as jcmd prints it. */
    String heapAfterFullGc() {
        try {
            jcmd("GC.run");
            String info = jcmd("GC.heap_info");
            return info.lines().filter(l -> l.contains("total") || l.contains("used")).findFirst().orElse(info).trim();
        } catch (IOException | InterruptedException e) {
            return "jcmd failed: " + e.getMessage();
        }
    }

    /** Starts a JFR recording of the operator (profile settings: CPU samples every 10-20 ms, allocations, locks). */
    void startProfile() {
        try {
            jcmd("JFR.start name=bench settings=profile");
        } catch (IOException | InterruptedException e) {
            System.out.println("  (JFR.start failed: " + e.getMessage() + ")");
        }
    }

    /** Stops the recording {@link #startProfile} started and writes it to {@code to}. */
    void stopProfile(Path to) throws IOException, InterruptedException {
        jcmd("JFR.stop name=bench filename=" + to.toAbsolutePath());
    }

    /** A thread dump, for the report when the operator looks stuck or slow. */
    void threadDump(Path to) {
        try {
            Files.writeString(to, jcmd("Thread.print"));
        } catch (IOException | InterruptedException e) {
            System.out.println("  (thread dump failed: " + e.getMessage() + ")");
        }
    }

    String jcmd(String command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("jcmd", Long.toString(pid()), command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        p.waitFor(60, TimeUnit.SECONDS);
        return out;
    }

    @Override
    public void close() throws InterruptedException {
        process.close();
    }
}
