package io.gpupool.sim;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import io.fabric8.kubernetes.client.utils.Serialization;
import io.gpupool.api.v1alpha1.GpuClass;
import io.gpupool.core.inventory.PoolInputs;
import io.gpupool.core.model.GpuClassDef;

/**
 * Replays a workload trace against the admission engines in virtual time and compares policies. See README.md,
 * section "Trace simulator".
 *
 * <pre>
 * TraceSimulator pool.csv workload.csv [--classes gpuclasses.yaml] [--policies fifo,static,fair,contribution,memory]
 *                [--max-waiting 2000] [--csv out.csv] [--svg out.svg]
 * </pre>
 */
public final class TraceSimulator {

    public static final int DEFAULT_MAX_WAITING = 2000;
    static final String USAGE = "usage: TraceSimulator pool.csv workload.csv [--classes gpuclasses.yaml] "
            + "[--policies fifo,static,fair,contribution,memory] [--max-waiting N] [--csv out.csv] [--svg out.svg]";

    /** What to run. */
    public record Options(Path pool, Path workloads, Path classes, List<Policy> policies, int maxWaiting, Path csv,
            Path svg) {

        public static Options of(Path pool, Path workloads) {
            return new Options(pool, workloads,
                    Path.of(System.getProperty("gpupool.sim.classes", "examples/01-gpuclasses.yaml")), List.of(Policy.values()),
                    DEFAULT_MAX_WAITING, null, null);
        }

        public Options withPolicies(String csv) {
            List<Policy> ps = new ArrayList<>();
            for (String p : csv.split(",")) {
                ps.add(Policy.parse(p));
            }
            return new Options(pool, workloads, classes, ps, maxWaiting, this.csv, svg);
        }

        public Options withClasses(Path c) {
            return new Options(pool, workloads, c, policies, maxWaiting, csv, svg);
        }

        public Options withOutputs(Path csvOut, Path svgOut) {
            return new Options(pool, workloads, classes, policies, maxWaiting, csvOut, svgOut);
        }

        public Options withMaxWaiting(int n) {
            return new Options(pool, workloads, classes, policies, n, csv, svg);
        }
    }

    private TraceSimulator() {
    }

    public static void main(String[] args) {
        try {
            Options o = parseArgs(args);
            long t0 = System.nanoTime();
            List<SimResult> results = run(o);
            System.out.print(table(results));
            String services = servicesTable(results);
            if (!services.isEmpty()) {
                System.out.print("\nAutoscaled services (request-rate columns):\n\n" + services);
            }
            System.out.printf(Locale.ROOT, "%n(%d policies in %.1f s)%n", results.size(), (System.nanoTime() - t0) / 1e9);
        } catch (TraceFormatException | IllegalArgumentException e) {
            System.err.println("simulate: " + e.getMessage());
            System.exit(2);
        }
    }

    static Options parseArgs(String[] args) {
        List<String> positional = new ArrayList<>();
        Map<String, String> opts = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (args[i].startsWith("--")) {
                if (i + 1 >= args.length) {
                    throw new IllegalArgumentException(args[i] + " needs a value\n" + USAGE);
                }
                opts.put(args[i], args[++i]);
            } else {
                positional.add(args[i]);
            }
        }
        if (positional.size() != 2) {
            throw new IllegalArgumentException(USAGE);
        }
        Options o = Options.of(Path.of(positional.get(0)), Path.of(positional.get(1)));
        for (Map.Entry<String, String> e : opts.entrySet()) {
            switch (e.getKey()) {
                case "--classes" -> o = o.withClasses(Path.of(e.getValue()));
                case "--policies" -> o = o.withPolicies(e.getValue());
                case "--csv" -> o = o.withOutputs(Path.of(e.getValue()), o.svg());
                case "--svg" -> o = o.withOutputs(o.csv(), Path.of(e.getValue()));
                case "--max-waiting" -> {
                    try {
                        o = o.withMaxWaiting(Integer.parseInt(e.getValue()));
                    } catch (NumberFormatException x) {
                        throw new IllegalArgumentException("--max-waiting: not an integer: " + e.getValue());
                    }
                }
                default -> throw new IllegalArgumentException("unknown option " + e.getKey() + "\n" + USAGE);
            }
        }
        return o;
    }

    /** GpuClasses from a multi-document YAML file of GpuClass objects. */
    static List<GpuClassDef> readClasses(Path yaml) {
        String text;
        try {
            text = Files.readString(yaml, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read GpuClasses " + yaml + ": " + e.getMessage());
        }
        List<GpuClass> classes = new ArrayList<>();
        for (String doc : text.split("(?m)^---\\s*$")) {
            if (doc.lines().allMatch(l -> l.isBlank() || l.strip().startsWith("#"))) {
                continue;
            }
            try {
                GpuClass c = Serialization.unmarshal(doc, GpuClass.class);
                if (c != null && "GpuClass".equals(c.getKind()) && c.getMetadata() != null) {
                    classes.add(c);
                }
            } catch (RuntimeException e) {
                throw new IllegalArgumentException("cannot parse GpuClasses " + yaml + ": " + e.getMessage());
            }
        }
        return PoolInputs.classes(classes);
    }

    /** Runs every policy of the options on the trace, one after the other (the workload CSV is streamed each time). */
    public static List<SimResult> run(Options o) {
        List<GpuClassDef> classes = o.classes() == null ? List.of() : readClasses(o.classes());
        List<Trace.NodeRow> pool = Trace.readPool(o.pool());
        SvgChart svg = o.svg() == null ? null : new SvgChart();
        List<SimResult> results = new ArrayList<>();
        try (BufferedWriter csv = o.csv() == null ? null : Files.newBufferedWriter(o.csv(), StandardCharsets.UTF_8)) {
            if (csv != null) {
                csv.write("policy,time_s,organization,gpus_in_use\n");
            }
            Simulation.Observer observer = new Simulation.Observer() {
                @Override
                public void interval(Policy policy, long from, long to, Map<String, Integer> inUse, int available) {
                    if (svg != null) {
                        svg.interval(policy, from, to, inUse, available);
                    }
                }

                private final Map<Policy, Map<String, Integer>> previous = new HashMap<>();

                @Override
                public void changed(Policy policy, long at, Map<String, Integer> inUse) {
                    if (csv == null) {
                        return;
                    }
                    Map<String, Integer> prev = previous.computeIfAbsent(policy, p -> new HashMap<>());
                    try {
                        for (String org : prev.keySet()) {
                            if (!inUse.containsKey(org)) {
                                csv.write(policy.key + "," + at + "," + org + ",0\n");
                            }
                        }
                        for (Map.Entry<String, Integer> e : inUse.entrySet()) {
                            if (!e.getValue().equals(prev.get(e.getKey()))) {
                                csv.write(policy.key + "," + at + "," + e.getKey() + "," + e.getValue() + "\n");
                            }
                        }
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                    prev.clear();
                    prev.putAll(inUse);
                }
            };
            for (Policy p : o.policies()) {
                results.add(new Simulation(p, classes, pool, o.workloads(), o.maxWaiting(), observer).run());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (svg != null) {
            try {
                Files.writeString(o.svg(), svg.render(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return results;
    }

    /** The comparison table, in Markdown. */
    public static String table(List<SimResult> results) {
        StringBuilder sb = new StringBuilder();
        sb.append("| policy | utilization | running | fairness (Jain, received / entitled) | worst org (fraction) "
                + "| equality (raw Jain) | delay p50 (s) | delay p99 (s) | preempted replicas | GPU-hours lost "
                + "| restarts / h | reclaims | reclaim p50 (s) | reclaim max (s) | finished | unfinished |\n");
        sb.append("| --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
                + "| ---: | ---: |\n");
        for (SimResult r : results) {
            sb.append(String.format(Locale.ROOT,
                    "| %s | %.1f %% | %.1f %% | %s | %s | %s | %s | %s | %d | %.1f | %.1f | %d | %s | %s | %d | %d |%n",
                    r.policy.label, 100 * r.utilization(), 100 * r.busy(), ratio(r.fairness()),
                    r.worstOrganization() == null ? "-" : r.worstOrganization() + " " + ratio(r.worstFraction()),
                    ratio(r.jain()), num(r.delayP50()), num(r.delayP99()), r.preemptedReplicas(), r.lostGpuHours(),
                    r.restartsPerHour(), r.reclaimCount(), num(r.reclaimP50()), num(r.reclaimMax()), r.finished(),
                    r.unfinished()));
        }
        return sb.toString();
    }

    private static String ratio(double v) {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.3f", v);
    }

    /** The autoscaled services' table (request-rate columns), in Markdown; empty when the trace has none. */
    public static String servicesTable(List<SimResult> results) {
        if (results.stream().allMatch(r -> r.services() == 0)) {
            return "";
        }
        StringBuilder sb = new StringBuilder();
        sb.append("| policy | services | GPU-hours held | GPU-hours at maxReplicas | requests served | refused | "
                + "latency p50 (ms) | latency p99 (ms) | replicas started |\n");
        sb.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
        for (SimResult r : results) {
            sb.append(String.format(Locale.ROOT, "| %s | %d | %.1f | %.1f | %d | %d | %s | %s | %d |%n",
                    r.policy.label, r.services(), r.serviceGpuHours(), r.serviceGpuHoursAtMax(), r.requests(),
                    r.refusedRequests(), num(r.requestLatencyP50()), num(r.requestLatencyP99()), r.coldStarts()));
        }
        return sb.toString();
    }

    private static String num(long v) {
        return v < 0 ? "-" : Long.toString(v);
    }
}
