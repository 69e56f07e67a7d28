package io.gpupool.bench.apiserver;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedMethod;
import jdk.jfr.consumer.RecordingFile;

/**
 * A text summary of a JFR recording of the operator (its CPU samples, {@code jdk.ExecutionSample}): the methods on CPU
 * (self), the methods under which the CPU went (total, each method counted once per sample), the CPU per area of
 * code (by package) and per thread. What a flame graph shows, as a table that fits in a report.
 */
final class ProfileSummary {

    /**
     * Areas of code, by package prefix, for the innermost frame of a sample outside the JDK (a HashMap lookup counts
     * for the code that made it); samples entirely in the JDK (GC and compiler threads are not sampled) are "JDK".
     */
    private static final List<String[]> AREAS = List.of(
            new String[] { "io.gpupool.core.admission", "admission engine (pure core)" },
            new String[] { "io.gpupool.core", "other pure core (inventory, render, status, ...)" },
            new String[] { "io.gpupool.operator.scheduling", "operator: scheduler, status publisher" },
            new String[] { "io.gpupool", "operator: reconcilers, view, rest" },
            new String[] { "io.javaoperatorsdk", "JOSDK" },
            new String[] { "io.fabric8.kubernetes.client.informers", "Fabric8 informers" },
            new String[] { "io.fabric8", "Fabric8 client and model" },
            new String[] { "com.fasterxml.jackson", "Jackson (JSON)" },
            new String[] { "io.vertx", "Vert.x / Netty (HTTP)" },
            new String[] { "io.netty", "Vert.x / Netty (HTTP)" },
            new String[] { "io.quarkus", "Quarkus" },
            new String[] { "io.micrometer", "Micrometer" });

    private ProfileSummary() {
    }

    /** {@code java -cp target/test-classes io.gpupool.bench.apiserver.ProfileSummary recording.jfr [top]} */
    public static void main(String[] args) throws IOException {
        System.out.print(summarize(Path.of(args[0]), args.length > 1 ? Integer.parseInt(args[1]) : 40));
    }

    static String summarize(Path recording, int top) throws IOException {
        Map<String, Integer> self = new HashMap<>();
        Map<String, Integer> total = new HashMap<>();
        Map<String, Integer> areas = new HashMap<>();
        Map<String, Integer> threads = new HashMap<>();
        int samples = 0;
        for (RecordedEvent e : RecordingFile.readAllEvents(recording)) {
            if (!e.getEventType().getName().equals("jdk.ExecutionSample") || e.getStackTrace() == null) {
                continue;
            }
            samples++;
            List<RecordedFrame> frames = e.getStackTrace().getFrames();
            if (!frames.isEmpty()) {
                self.merge(name(frames.get(0).getMethod()), 1, Integer::sum);
            }
            Set<String> seen = new HashSet<>();
            String area = null;
            for (RecordedFrame f : frames) {
                String m = name(f.getMethod());
                if (seen.add(m)) {
                    total.merge(m, 1, Integer::sum);
                }
                if (area == null && !m.startsWith("java.") && !m.startsWith("jdk.") && !m.startsWith("sun.")) {
                    area = area(m);
                    if (area == null) {
                        area = "other: " + m.substring(0, Math.max(0, m.lastIndexOf('.', m.lastIndexOf('.') - 1)));
                    }
                }
            }
            areas.merge(area == null ? "JDK only, or unknown" : area, 1, Integer::sum);
            var thread = e.getThread("sampledThread");
            threads.merge(thread == null ? "?" : threadGroup(thread.getJavaName()), 1, Integer::sum);
        }
        StringBuilder out = new StringBuilder();
        out.append(String.format(Locale.ROOT, "%d CPU samples (jdk.ExecutionSample) in %s%n", samples, recording));
        section(out, "CPU by area (innermost frame outside the JDK)", areas, samples, top);
        section(out, "CPU by thread", threads, samples, top);
        section(out, "Hot methods, self (on CPU)", self, samples, top);
        section(out, "Hot methods, total (on the stack)", total, samples, top);
        return out.toString();
    }

    private static void section(StringBuilder out, String title, Map<String, Integer> counts, int samples, int top) {
        out.append("\n").append(title).append(":\n");
        counts.entrySet().stream().sorted((a, b) -> b.getValue() - a.getValue()).limit(top)
                .forEach(en -> out.append(String.format(Locale.ROOT, "  %5.1f %%  %6d  %s%n",
                        100.0 * en.getValue() / Math.max(1, samples), en.getValue(), en.getKey())));
    }

    private static String name(RecordedMethod m) {
        return m == null ? "?" : m.getType().getName() + "." + m.getName();
    }

    private static String area(String method) {
        for (String[] a : AREAS) {
            if (method.startsWith(a[0])) {
                return a[1];
            }
        }
        return null;
    }

    /** Thread names without their numbers: pools count as one. */
    private static String threadGroup(String name) {
        return name == null ? "?" : name.replaceAll("[-#]?\\d+", "-N");
    }
}
