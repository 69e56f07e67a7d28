package io.gpupool.bench.apiserver;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.AtomicLongArray;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.gpupool.operator.CertificateAuthentication;
import io.gpupool.playground.PlaygroundApiServer;

/**
 * Benchmarks of the whole operator against the playground's REAL kube-apiserver + etcd: the packaged operator runs in
 * its own JVM exactly as in the playground, objects are written by this JVM as users and contributors would, and every
 * time is taken on this side from watches. Not a test (Surefire never runs it): run it with hack/bench-apiserver.sh.
 *
 * <p>Scenarios (all by default, in this order):
 * <ul>
 * <li>{@code admission}: Kueue's scheduler baseline shape (15,000 one-pod workloads, 5 cohorts × 6 queues): 15,000
 * one-replica ModelDeployments from 30 organizations in 5 groups, applied as fast as the writers go; wall time from
 * the first apply to the last admission and the time-to-admission distribution.</li>
 * <li>{@code latency}: 1,000 ModelDeployments applied at a steady rate; create → Deployment in the API server.</li>
 * <li>{@code rss}: the operator's live heap and RSS as 10,000 ModelDeployments (and their GpuNodes, Deployments,
 * Services) are admitted and cached, after each quarter.</li>
 * <li>{@code startup}: operator JVM start → JOSDK's start line → first ModelDeployment status written.</li>
 * </ul>
 * Every scenario gets a fresh API server and a fresh operator. Counts scale with {@code --scale}.
 */
public final class ApiServerBenchmark {

    static final List<String> SCENARIOS = List.of("floor", "admission", "kueue", "latency", "rss", "startup");
    private static final Path OUT = Path.of("target", "bench-apiserver");

    private double scale = 1.0;
    private int writers = 8;
    private int replicasPerMd = 1;
    private double capacity = 1.0;
    private double latencyRate = 5;
    private int startupMds = 30;
    private Duration timeout = Duration.ofMinutes(90);
    private final List<String> operatorJvm = new ArrayList<>();
    /** The chart's memory limit for this run (null: values.yaml's). */
    private String operatorMemory;
    private final Map<String, String> operatorEnv = new LinkedHashMap<>();
    private final List<String> scenarios = new ArrayList<>();
    private String label = "results";
    private boolean kueueDelete;
    private boolean profile;
    private boolean apiServerProfile;
    /** Run the operator on its JVM's defaults instead of the chart's JVM settings. */
    private boolean jvmDefaults;

    private final Figures figures = new Figures();
    /** The floor measured earlier in this run, if any. */
    private FloorResult floorResult;
    private final LoadSampler load = new LoadSampler();

    public static void main(String[] args) throws Exception {
        int status;
        try {
            ApiServerBenchmark bench = parse(args);
            status = bench.run();
        } catch (IllegalArgumentException | IllegalStateException e) {
            System.err.println("bench-apiserver: " + e.getMessage());
            status = 2;
        }
        // Informers' and clients' event loops are not daemon threads; everything is closed by now.
        System.exit(status);
    }

    static ApiServerBenchmark parse(String[] args) {
        ApiServerBenchmark b = new ApiServerBenchmark();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "--scale" -> b.scale = positive(a, Double.parseDouble(value(args, ++i, a)));
                case "--writers" -> b.writers = (int) positive(a, Integer.parseInt(value(args, ++i, a)));
                case "--replicas-per-md" -> b.replicasPerMd = (int) positive(a, Integer.parseInt(value(args, ++i, a)));
                case "--capacity" -> b.capacity = positive(a, Double.parseDouble(value(args, ++i, a)));
                case "--latency-rate" -> b.latencyRate = positive(a, Double.parseDouble(value(args, ++i, a)));
                case "--startup-mds" -> b.startupMds = (int) positive(a, Integer.parseInt(value(args, ++i, a)));
                case "--timeout-min" -> b.timeout = Duration.ofMinutes((long) positive(a, Long.parseLong(value(args, ++i, a))));
                case "--operator-jvm" -> b.operatorJvm.addAll(Arrays.asList(value(args, ++i, a).trim().split("\\s+")));
                case "--operator-memory" -> b.operatorMemory = value(args, ++i, a);
                case "--operator-env" -> {
                    String kv = value(args, ++i, a);
                    int eq = kv.indexOf('=');
                    if (eq < 1) {
                        throw new IllegalArgumentException("--operator-env wants KEY=VALUE, got '" + kv + "'");
                    }
                    b.operatorEnv.put(kv.substring(0, eq), kv.substring(eq + 1));
                }
                case "--label" -> b.label = value(args, ++i, a);
                case "--operator-profile" -> b.profile = true;
                case "--apiserver-profile" -> b.apiServerProfile = true;
                case "--jvm-defaults" -> b.jvmDefaults = true;
                case "--kueue-finish" -> {
                    String how = value(args, ++i, a);
                    if (!how.equals("scale") && !how.equals("delete")) {
                        throw new IllegalArgumentException("--kueue-finish wants scale or delete, got '" + how + "'");
                    }
                    b.kueueDelete = how.equals("delete");
                }
                case "-h", "--help" -> throw new IllegalArgumentException(usage());
                default -> {
                    if (!SCENARIOS.contains(a)) {
                        throw new IllegalArgumentException("unknown argument '" + a + "'\n" + usage());
                    }
                    b.scenarios.add(a);
                }
            }
        }
        b.operatorJvm.removeIf(String::isBlank);
        if (!b.jvmDefaults) {
            try {
                // The chart's settings first: options given on the command line come after them and win.
                b.operatorJvm.addAll(0, ChartJvm.options(b.operatorMemory));
                ChartJvm.environment().forEach(b.operatorEnv::putIfAbsent);
            } catch (java.io.IOException e) {
                throw new IllegalStateException("cannot read " + ChartJvm.VALUES + ": " + e.getMessage(), e);
            }
        }
        if (b.scenarios.isEmpty()) {
            b.scenarios.addAll(SCENARIOS);
        }
        return b;
    }

    static String usage() {
        return """
                usage: hack/bench-apiserver.sh [options] [floor] [admission] [kueue] [latency] [rss] [startup]
                  --scale F              multiply every count (default 1: 15,000 / 1,000 / 10,000 ModelDeployments)
                  --kueue-finish HOW     kueue: a finished workload is scaled to 0 (scale, default) or deleted (delete)
                  --replicas-per-md R    admission: replicas per ModelDeployment (default 1: 15,000 MDs)
                  --capacity F           admission: GPUs contributed per organization / GPUs it asks for (default 1.0)
                  --writers N            parallel writers of this JVM (default 8)
                  --latency-rate R       latency: ModelDeployments applied per second (default 5)
                  --startup-mds N        startup: ModelDeployments waiting before the operator starts (default 30)
                  --timeout-min M        give up on a scenario after M minutes (default 90)
                  --operator-jvm "OPTS"  JVM options of the operator process, after the chart's (values.yaml jvm.options,
                                         its memory limit as -XX:MaxRAM; MALLOC_ARENA_MAX=2 as in the chart)
                  --operator-memory Q    the chart's memory limit the operator is given (default: values.yaml's
                                         resources.limits.memory), as a pool of that size sets it (values.yaml's curve)
                  --jvm-defaults         run the operator on the JVM's defaults instead of the chart's settings
                  --operator-env K=V     environment of the operator (any Quarkus key, e.g.
                                         QUARKUS_OPERATOR_SDK_CONCURRENT_RECONCILIATION_THREADS=8); repeatable
                  --operator-profile     record the operator with JFR during each measurement: <scenario>/operator.jfr
                                         and the hot methods in <scenario>/operator-profile.txt
                  --apiserver-profile    CPU profiles of kube-apiserver during each measurement (pprof, 30 s pieces):
                                         <scenario>/apiserver-cpu-*.pprof, summary <scenario>/apiserver-profile.txt
                  --label NAME           results go to target/bench-apiserver/NAME.{csv,json,md} (default results)""";
    }

    private static String value(String[] args, int i, String option) {
        if (i >= args.length) {
            throw new IllegalArgumentException(option + " needs a value");
        }
        return args[i];
    }

    private static double positive(String option, double v) {
        if (!(v > 0)) {
            throw new IllegalArgumentException(option + " must be positive");
        }
        return v;
    }

    int run() throws Exception {
        requireRealApiServer();
        Files.createDirectories(OUT);
        figures.setting("started", Instant.now().toString());
        figures.setting("scale", scale);
        figures.setting("scenarios", scenarios);
        figures.setting("writers", writers);
        figures.setting("operatorJvmOptions", operatorJvm.isEmpty() ? "(none: JVM defaults)" : String.join(" ", operatorJvm));
        figures.setting("operatorEnv", operatorEnv);
        figures.setting("machine", Runtime.getRuntime().availableProcessors() + " processors, loadavg at start "
                + ProcStats.loadavg());
        System.out.printf("gpupool API-server benchmarks: %s, scale %s, operator JVM options %s, operator env %s%n",
                scenarios, scale, operatorJvm.isEmpty() ? "(JVM defaults)" : operatorJvm, operatorEnv);
        System.out.println("  load average at start: " + ProcStats.loadavg() + " (" + Runtime.getRuntime()
                .availableProcessors() + " processors, shared)");
        int failures = 0;
        for (String s : scenarios) {
            try {
                switch (s) {
                    case "floor" -> floor();
                    case "admission" -> admission();
                    case "kueue" -> kueueLike();
                    case "latency" -> latency();
                    case "rss" -> rss();
                    case "startup" -> startup();
                    default -> throw new IllegalStateException(s);
                }
            } catch (ScenarioFailed e) {
                failures++;
                System.out.println("  " + s + " FAILED: " + e.getMessage());
            }
        }
        load.close();
        Path csv = OUT.resolve(label + ".csv");
        Path json = OUT.resolve(label + ".json");
        figures.write(csv, json);
        Files.writeString(OUT.resolve(label + ".md"), figures.table());
        System.out.println();
        System.out.print(figures.table());
        System.out.println("\nWritten: " + csv + ", " + json + ", " + OUT.resolve(label + ".md"));
        return failures == 0 ? 0 : 1;
    }

    static void requireRealApiServer() {
        Path dir = PlaygroundApiServer.realBinaryDir();
        List<String> missing = new ArrayList<>();
        for (String b : List.of("kube-apiserver", "etcd", "kubectl")) {
            if (!Files.isExecutable(dir.resolve(b))) {
                missing.add(b);
            }
        }
        if (!missing.isEmpty()) {
            throw new IllegalStateException("these benchmarks run against the REAL kube-apiserver " + PlaygroundApiServer.VERSION
                    + " + etcd, but " + String.join(", ", missing) + " " + (missing.size() == 1 ? "is" : "are")
                    + " missing in " + dir + ". Provision them once with `sudo bash hack/provision-kube-apiserver.sh` "
                    + "(see hack/README-apiserver.md) and run again.");
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Scenarios

    /** Kueue's shape: everything applied at once, wall time and time-to-admission distribution. */
    private void admission() throws Exception {
        flood("admission", admissionShape());
    }

    private PoolShape admissionShape() {
        int mds = (int) Math.max(1, Math.round(15_000 * scale / replicasPerMd));
        return new PoolShape(5, 6, mds, replicasPerMd, capacity, 8);
    }

    /**
     * The floor under {@code admission}: the same pool and the same objects the operator ends with for each
     * ModelDeployment (the ModelDeployment, its status, its Deployment and Service; {@link FloorWrites}), written by
     * the same writers as fast as the API server takes them, with no operator. Admission figures are also given as
     * ratios to it.
     */
    private void floor() throws Exception {
        PoolShape shape = admissionShape();
        System.out.printf("%n== floor: %s, no operator%n", shape.describe());
        try (Env env = Env.start("floor", load)) {
            BenchPool pool = new BenchPool(env.client, shape);
            pool.installPolicy();
            pool.contributeNodes(writers);
            FloorWrites floorWrites = new FloorWrites(env.client, pool, shape);
            int n = shape.modelDeployments();
            Usage usage0 = Usage.of(null);
            Map<String, Double> writes0 = ApiServerWrites.snapshot(env.client);
            ApiServerProfile api = startProfiles(null, env);
            LoadSampler.Window window = load.window();
            long t0 = System.nanoTime();
            // The admission scenario's own watches run here too: they are part of the measurement, not of the operator.
            try (WatchClock clock = new WatchClock(env.client)) {
                Parallel.forEach(n, writers, floorWrites::write);
            }
            long wall = System.nanoTime() - t0;
            window.end();
            Usage usage = Usage.of(null).minus(usage0);
            stopProfiles(null, env, api);
            Map<String, Double> writes = ApiServerWrites.minus(ApiServerWrites.snapshot(env.client), writes0);
            figures.add("floor", "ModelDeployments written with status, Deployment, Service", n, "", window,
                    writers + " writers, no operator");
            figures.add("floor", "wall: first create -> last write returned", seconds(wall), "s", window,
                    String.format(Locale.ROOT, "%.0f ModelDeployments/s", n / seconds(wall)));
            figures.add("floor", "CPU used: kube-apiserver", usage.apiServer(), "s", window, "");
            figures.add("floor", "CPU used: etcd", usage.etcd(), "s", window, "");
            double perMd = reportWrites("floor", writes, n, env, window);
            floorResult = new FloorResult(n, seconds(wall), usage.apiServer(), usage.etcd(), perMd);
        }
    }

    /**
     * Kueue's scheduler baseline with completions ({@link KueueLikeRun}): workloads of three size classes arrive over
     * time, run for their runtime once admitted and finish; total wall time and time to admission per class.
     */
    private void kueueLike() throws Exception {
        PoolShape shape = KueueLikeRun.POOL;
        System.out.printf("%n== kueue: %s%n", KueueLikeRun.describe(scale));
        try (Env env = Env.start("kueue", load)) {
            BenchPool pool = new BenchPool(env.client, shape);
            pool.installPolicy();
            try (OperatorUnderTest op = env.operator("operator.log", operatorJvm, operatorEnv);
                    KueueLikeRun run = new KueueLikeRun(env.client, scale, kueueDelete, writers)) {
                pool.contributeNodes(writers);
                pool.awaitCapacityCounted(timeout);
                Usage usage0 = Usage.of(op);
                Map<String, Double> writes0 = ApiServerWrites.snapshot(env.client);
                ApiServerProfile api = startProfiles(op, env);
                LoadSampler.Window window = load.window();
                long t0 = System.nanoTime();
                run.createAll();
                long created = System.nanoTime();
                System.out.printf("  created %d workloads in %.1f s; waiting for them to finish%n", run.size(),
                        seconds(created - t0));
                boolean done = run.awaitFinished(t0 + timeout.toNanos(), () -> {
                    long[] rss = ProcStats.rssMiB(op.pid()).orElse(new long[] { -1, -1 });
                    System.out.printf(Locale.ROOT, "  %5.0f s: %d of %d finished; operator CPU %.0f s, RSS %d MiB; load %s%n",
                            seconds(System.nanoTime() - t0), run.size() - run.remaining(), run.size(),
                            op.cpuSeconds(), rss[0], ProcStats.loadavg());
                    op.requireAlive();
                });
                window.end();
                Usage usage = Usage.of(op).minus(usage0);
                stopProfiles(op, env, api);
                List<KueueLikeRun.Tracked> all = run.tracked();
                long first = all.stream().mapToLong(w -> w.createdNanos).filter(x -> x != 0).min().orElse(t0);
                long lastFinished = all.stream().mapToLong(w -> w.finishedNanos).max().orElse(t0);
                long lastAdmitted = all.stream().mapToLong(w -> w.firstAdmittedNanos).max().orElse(t0);
                String note = done ? "Kueue's baseline: 351 s" : "TIMED OUT: " + run.remaining() + " unfinished";
                figures.add("kueue", "workloads (ModelDeployments) created", run.size(), "", window,
                        String.format(Locale.ROOT, "in %.1f s, %s", seconds(created - t0),
                                kueueDelete ? "finished by delete" : "finished by scaling to 0"));
                figures.add("kueue", "wall: first create -> last finished", seconds(lastFinished - first), "s", window,
                        note);
                figures.add("kueue", "wall: first create -> last admitted", seconds(lastAdmitted - first), "s", window,
                        "");
                Map<String, String> kueueMeans = Map.of("small", "215", "medium", "77", "large", "6.7");
                for (KueueLikeRun.WorkloadClass c : KueueLikeRun.BASELINE) {
                    List<Long> waits = all.stream().filter(w -> w.type == c && w.firstAdmittedNanos != 0)
                            .map(w -> w.firstAdmittedNanos - w.createdNanos).toList();
                    Distribution d = Distribution.ofNanos(waits);
                    String what = "time to admission, " + c.name();
                    figures.add("kueue", what + " mean", d.mean() / 1000, "s", window,
                            d.count() + " admitted; Kueue's baseline mean " + kueueMeans.get(c.name()) + " s");
                    figures.add("kueue", what + " p50", d.percentile(50) / 1000, "s", window, "");
                    figures.add("kueue", what + " p90", d.percentile(90) / 1000, "s", window, "");
                    figures.add("kueue", what + " p99", d.percentile(99) / 1000, "s", window, "");
                }
                figures.add("kueue", "preemptions seen (admission lost before the runtime was over)",
                        run.preemptions(), "", window, "");
                double gpuSeconds = all.stream().mapToLong(w -> w.gpuNanos).sum() / 1e9;
                figures.add("kueue", "GPUs in use, mean over the wall time", 100 * gpuSeconds
                        / (shape.totalGpus() * seconds(Math.max(1, lastFinished - first))), "%", window,
                        "admitted (seen) -> finished");
                usage.report(figures, "kueue", window, run.size());
                reportWrites("kueue", ApiServerWrites.minus(ApiServerWrites.snapshot(env.client), writes0), run.size(),
                        env, window);
                reportCounts("kueue", op, env, window);
                if (!done) {
                    op.threadDump(env.dir.resolve("operator-threads.txt"));
                    throw new ScenarioFailed(note + " after " + timeout.toMinutes() + " min");
                }
            }
        }
    }

    /** What the floor measured, for the ratios of the admission scenario of the same run. */
    record FloorResult(int mds, double wallSeconds, double apiServerCpu, double etcdCpu, double writesPerMd) {
    }

    /** Admission figures as multiples of the floor of the same run (same pool, same number of ModelDeployments). */
    private void reportRatios(String scenario, int mds, double wallSeconds, Usage usage, double writesPerMd,
            LoadSampler.Window window) {
        FloorResult f = floorResult;
        if (f == null || f.mds() != mds) {
            return;
        }
        figures.add(scenario, "ratio to floor: wall (all admitted, Deployments exist)", wallSeconds / f.wallSeconds(),
                "x", window, String.format(Locale.ROOT, "floor %.1f s", f.wallSeconds()));
        figures.add(scenario, "ratio to floor: kube-apiserver CPU", usage.apiServer() / f.apiServerCpu(), "x", window,
                String.format(Locale.ROOT, "floor %.1f s", f.apiServerCpu()));
        figures.add(scenario, "ratio to floor: kube-apiserver + etcd + operator CPU",
                (usage.apiServer() + usage.etcd() + usage.operator()) / (f.apiServerCpu() + f.etcdCpu()), "x", window,
                String.format(Locale.ROOT, "floor %.1f s (no operator)", f.apiServerCpu() + f.etcdCpu()));
        figures.add(scenario, "ratio to floor: API writes", writesPerMd / f.writesPerMd(), "x", window,
                String.format(Locale.ROOT, "floor %.2f per ModelDeployment", f.writesPerMd()));
    }

    /**
     * The operator's memory as the pool grows to 10,000 admitted ModelDeployments (and everything that comes with
     * them), measured after each quarter: the curve the chart's memory settings follow.
     */
    private void rss() throws Exception {
        int mds = (int) Math.max(1, Math.round(10_000 * scale));
        PoolShape shape = new PoolShape(5, 6, mds, 1, 1.0, 8);
        System.out.printf("%n== rss: %s, measured after every quarter%n", shape.describe());
        try (Env env = Env.start("rss", load)) {
            BenchPool pool = new BenchPool(env.client, shape);
            pool.installPolicy();
            try (OperatorUnderTest op = env.operator("operator.log", operatorJvm, operatorEnv);
                    WatchClock clock = new WatchClock(env.client)) {
                pool.contributeNodes(writers);
                pool.awaitCapacityCounted(timeout);
                LoadSampler.Window window = load.window();
                double[] first = null;
                int firstCount = 0;
                int created = 0;
                for (int step = 1; step <= 4; step++) {
                    int upTo = (int) Math.round(mds * step / 4.0);
                    pool.createModelDeployments(created, upTo, writers, i -> {
                    });
                    created = upTo;
                    long t0 = System.nanoTime();
                    if (!clock.admitted.awaitCount(upTo, t0 + timeout.toNanos(), () -> progress(clock, mds, op, t0))) {
                        throw new ScenarioFailed(clock.admitted.count() + " of " + upTo + " admitted");
                    }
                    double[] m = memory("rss", upTo + " admitted: ", op, env.dir.resolve(
                            "operator-heap-histogram-" + upTo + ".txt"), window);
                    if (first == null) {
                        first = m;
                        firstCount = upTo;
                    } else if (step == 4) {
                        double per1000 = 1000.0 / (upTo - firstCount);
                        figures.add("rss", "growth per 1,000 ModelDeployments: live heap", (m[0] - first[0]) * per1000,
                                "MiB", window, "from " + firstCount + " to " + upTo);
                        figures.add("rss", "growth per 1,000 ModelDeployments: VmRSS after a full GC",
                                (m[1] - first[1]) * per1000, "MiB", window, "");
                    }
                }
                window.end();
                nativeMemory(op, env);
                ProcStats.rssMiB(op.pid()).ifPresent(m -> figures.add("rss", "operator VmHWM (peak RSS) over the run",
                        m[1], "MiB", window, operatorJvm.isEmpty() ? "JVM defaults" : String.join(" ", operatorJvm)));
            }
        }
    }

    /**
     * Live heap (a heap histogram counts live objects after a full GC), RSS and peak RSS now.
     *
     * @return live heap MiB, VmRSS MiB after the full GC
     */
    private double[] memory(String scenario, String prefix, OperatorUnderTest op, Path histogram,
            LoadSampler.Window window) throws IOException, InterruptedException {
        String classes = op.jcmd("GC.class_histogram");
        Files.writeString(histogram, classes);
        double live = OperatorUnderTest.histogramTotalBytes(classes) / 1024.0 / 1024.0;
        long[] rss = ProcStats.rssMiB(op.pid()).orElse(new long[] { -1, -1 });
        figures.add(scenario, prefix + "live heap (histogram after full GC)", live, "MiB", window, "");
        figures.add(scenario, prefix + "VmRSS after a full GC", rss[0], "MiB", window, "");
        figures.add(scenario, prefix + "VmHWM (peak RSS so far)", rss[1], "MiB", window, "");
        return new double[] { live, rss[0] };
    }

    /** Native memory by JVM area, when the operator runs with -XX:NativeMemoryTracking=summary. */
    private static void nativeMemory(OperatorUnderTest op, Env env) {
        try {
            Files.writeString(env.dir.resolve("operator-native-memory.txt"), op.jcmd("VM.native_memory summary"));
        } catch (IOException | InterruptedException e) {
            System.out.println("  (native memory summary failed: " + e.getMessage() + ")");
        }
    }

    /** Applies every ModelDeployment of the shape as fast as the writers go and waits until the admittable ones are. */
    private void flood(String scenario, PoolShape shape) throws Exception {
        System.out.printf("%n== %s: %s%n", scenario, shape.describe());
        try (Env env = Env.start(scenario, load)) {
            BenchPool pool = new BenchPool(env.client, shape);
            pool.installPolicy();
            try (OperatorUnderTest op = env.operator("operator.log", operatorJvm, operatorEnv)) {
                LoadSampler.Window setup = load.window();
                pool.contributeNodes(writers);
                pool.awaitCapacityCounted(timeout);
                figures.add(scenario, "setup: " + shape.totalNodes() + " GPU Nodes contributed and counted",
                        seconds(System.nanoTime() - op.startedNanos), "s", setup.end(), "from operator JVM start");
                try (WatchClock clock = new WatchClock(env.client)) {
                    int n = shape.modelDeployments();
                    int expected = admittable(shape);
                    AtomicLongArray sent = new AtomicLongArray(n);
                    Usage usage0 = Usage.of(op);
                    Map<String, Double> writes0 = ApiServerWrites.snapshot(env.client);
                    ApiServerProfile api = startProfiles(op, env);
                    LoadSampler.Window window = load.window();
                    long t0 = System.nanoTime();
                    pool.createModelDeployments(0, n, writers, i -> sent.set(i, System.nanoTime()));
                    long applied = System.nanoTime();
                    System.out.printf("  applied %d ModelDeployments in %.1f s (%.0f/s); waiting for %d admissions%n", n,
                            seconds(applied - t0), n / seconds(applied - t0), expected);
                    boolean done = clock.admitted.awaitCount(expected, t0 + timeout.toNanos(),
                            () -> progress(clock, n, op, t0));
                    window.end();
                    Usage usage = Usage.of(op).minus(usage0);
                    stopProfiles(op, env, api);
                    if (!done) {
                        op.threadDump(env.dir.resolve("operator-threads.txt"));
                    }
                    long last = clock.admitted.at.values().stream().mapToLong(Long::longValue).max().orElse(t0);
                    String note = done ? "" : "TIMED OUT: " + clock.admitted.count() + " of " + expected + " admitted";
                    figures.add(scenario, "ModelDeployments (replicas) applied", n + " (" + shape.totalReplicas() + ")",
                            "", window, expected == n ? "all fit" : expected + " fit");
                    figures.add(scenario, "apply: all creates returned", seconds(applied - t0), "s", window,
                            String.format(Locale.ROOT, "%.0f creates/s, %d writers", n / seconds(applied - t0), writers));
                    figures.add(scenario, "wall: first apply -> all admitted", seconds(last - t0), "s", window, note);
                    long lastServed = Math.max(last, clock.deploymentExists.at.values().stream()
                            .mapToLong(Long::longValue).max().orElse(t0));
                    Distribution admission = latencies(sent, clock.admitted, shape);
                    addDistribution(scenario, "create -> Admitted (watch)", admission, window);
                    addDistribution(scenario, "create -> Deployment exists (watch)",
                            latencies(sent, clock.deploymentExists, shape), window);
                    usage.report(figures, scenario, window, n);
                    double writesPerMd = reportWrites(scenario,
                            ApiServerWrites.minus(ApiServerWrites.snapshot(env.client), writes0), n, env, window);
                    reportCounts(scenario, op, env, window);
                    reportRatios(scenario, n, seconds(lastServed - t0), usage, writesPerMd, window);
                    reportMemory(scenario, op, env, window);
                    if (!done) {
                        throw new ScenarioFailed(note + " after " + timeout.toMinutes() + " min; thread dump in "
                                + env.dir.resolve("operator-threads.txt"));
                    }
                }
            }
        }
    }

    /** 1,000 ModelDeployments at a steady rate; each one's create -> its Deployment in the API server. */
    private void latency() throws Exception {
        int n = (int) Math.max(1, Math.round(1_000 * scale));
        PoolShape shape = new PoolShape(5, 6, n, 1, 1.0, 8);
        System.out.printf("%n== latency: %s, applied at %.0f/s%n", shape.describe(), latencyRate);
        try (Env env = Env.start("latency", load)) {
            BenchPool pool = new BenchPool(env.client, shape);
            pool.installPolicy();
            try (OperatorUnderTest op = env.operator("operator.log", operatorJvm, operatorEnv)) {
                pool.contributeNodes(writers);
                pool.awaitCapacityCounted(timeout);
                try (WatchClock clock = new WatchClock(env.client)) {
                    AtomicLongArray sent = new AtomicLongArray(n);
                    Usage usage0 = Usage.of(op);
                    Map<String, Double> writes0 = ApiServerWrites.snapshot(env.client);
                    ApiServerProfile api = startProfiles(op, env);
                    LoadSampler.Window window = load.window();
                    long t0 = System.nanoTime();
                    AtomicReference<RuntimeException> failure = new AtomicReference<>();
                    ExecutorService writersPool = Executors.newFixedThreadPool(writers);
                    for (int i = 0; i < n && failure.get() == null; i++) {
                        long due = t0 + (long) (i * 1e9 / latencyRate);
                        long wait = due - System.nanoTime();
                        if (wait > 0) {
                            TimeUnit.NANOSECONDS.sleep(wait); // pacing the writer, not waiting for the operator
                        }
                        int index = i;
                        writersPool.execute(() -> {
                            try {
                                sent.set(index, System.nanoTime());
                                env.client.resource(pool.modelDeployment(index)).create();
                            } catch (RuntimeException e) {
                                failure.compareAndSet(null, e);
                            }
                        });
                    }
                    writersPool.shutdown();
                    writersPool.awaitTermination(1, TimeUnit.HOURS);
                    if (failure.get() != null) {
                        throw failure.get();
                    }
                    boolean done = clock.deploymentExists.awaitCount(n, t0 + timeout.toNanos(),
                            () -> progress(clock, n, op, t0));
                    window.end();
                    Usage usage = Usage.of(op).minus(usage0);
                    stopProfiles(op, env, api);
                    figures.add("latency", "ModelDeployments applied", n, "", window,
                            String.format(Locale.ROOT, "%.0f/s over %.0f s", latencyRate, n / latencyRate));
                    addDistribution("latency", "create -> Deployment exists (watch)",
                            latencies(sent, clock.deploymentExists, shape), window);
                    addDistribution("latency", "create -> Admitted (watch)", latencies(sent, clock.admitted, shape),
                            window);
                    // The reconcile that decides and renders writes the Deployment first and the status last: the gap
                    // is the rest of that one reconcile (a ModelDeployment in the pool's own cluster has no finalizer,
                    // so its first reconcile is its only one).
                    addDistribution("latency", "create -> status written (watch)",
                            latencies(sent, clock.statusWritten, shape), window);
                    addDistribution("latency", "Deployment exists -> status written (watch)",
                            between(clock.deploymentExists, clock.statusWritten), window);
                    usage.report(figures, "latency", window, n);
                    reportWrites("latency", ApiServerWrites.minus(ApiServerWrites.snapshot(env.client), writes0), n, env,
                            window);
                    reportCounts("latency", op, env, window);
                    if (!done) {
                        throw new ScenarioFailed(clock.deploymentExists.count() + " of " + n + " Deployments after "
                                + timeout.toMinutes() + " min");
                    }
                }
            }
        }
    }

    /** From the operator JVM's start to its first ModelDeployment status, with ModelDeployments already waiting. */
    private void startup() throws Exception {
        PoolShape shape = new PoolShape(5, 6, startupMds, 1, 1.0, 8);
        System.out.printf("%n== startup: %s, all applied before the operator starts%n", shape.describe());
        try (Env env = Env.start("startup", load)) {
            BenchPool pool = new BenchPool(env.client, shape);
            pool.installPolicy();
            pool.contributeNodes(writers);
            pool.createModelDeployments(0, startupMds, writers, i -> {
            });
            try (WatchClock clock = new WatchClock(env.client)) {
                LoadSampler.Window window = load.window();
                try (OperatorUnderTest op = env.operator("operator.log", operatorJvm, operatorEnv)) {
                    boolean done = clock.admitted.awaitCount(startupMds, System.nanoTime() + timeout.toNanos(),
                            () -> progress(clock, startupMds, op, op.startedNanos));
                    window.end();
                    String flags = operatorJvm.isEmpty() ? "JVM defaults" : String.join(" ", operatorJvm);
                    op.logLineAfterStartMillis("started in").ifPresent(ms -> figures.add("startup",
                            "JVM start -> Quarkus 'started in' log line", ms / 1000, "s", window, flags));
                    op.logLineAfterStartMillis("Operator SDK", "starting").ifPresent(ms -> figures.add("startup",
                            "JVM start -> JOSDK 'Operator SDK ... starting' log line", ms / 1000, "s", window, ""));
                    op.logLineAfterStartMillis("'" + "modeldeployment" + "' controller started").ifPresent(ms -> figures
                            .add("startup", "JVM start -> 'modeldeployment' controller started (log)", ms / 1000, "s",
                                    window, ""));
                    figures.add("startup", "JVM start -> first ModelDeployment status written (watch)",
                            seconds(first(clock.statusWritten.at.values()) - op.startedNanos), "s", window,
                            startupMds + " ModelDeployments waiting, " + shape.totalNodes() + " GPU Nodes");
                    figures.add("startup", "JVM start -> first ModelDeployment admitted (watch)",
                            seconds(first(clock.admitted.at.values()) - op.startedNanos), "s", window, "");
                    figures.add("startup", "JVM start -> all " + startupMds + " admitted (watch)",
                            done ? seconds(last(clock.admitted.at.values()) - op.startedNanos) : Double.NaN, "s", window,
                            done ? "" : "TIMED OUT");
                    reportMemory("startup", op, env, window);
                    if (!done) {
                        throw new ScenarioFailed(clock.admitted.count() + " of " + startupMds + " admitted");
                    }
                }
            }
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Helpers

    /**
     * How many ModelDeployments can be admitted at once: per group (GpuClass), whole ModelDeployments on its GPUs
     * (replicas take 1 GPU each and may spread over nodes).
     */
    static int admittable(PoolShape shape) {
        int total = 0;
        for (int g = 0; g < shape.groups(); g++) {
            int mdsInGroup = 0;
            for (int md = 0; md < shape.modelDeployments(); md++) {
                if (shape.orgOf(md) / shape.orgsPerGroup() == g) {
                    mdsInGroup++;
                }
            }
            total += Math.min(mdsInGroup, shape.gpusOfGroup(g) / shape.replicasPerMd());
        }
        return total;
    }

    private static Distribution latencies(AtomicLongArray sent, WatchClock.Milestone reached, PoolShape shape) {
        List<Long> out = new ArrayList<>();
        for (int i = 0; i < sent.length(); i++) {
            Long at = reached.at.get(shape.namespace(shape.orgOf(i)) + "/" + shape.mdName(i));
            if (at != null && sent.get(i) != 0) {
                out.add(at - sent.get(i));
            }
        }
        return Distribution.ofNanos(out);
    }

    /** Per object that reached both: the time from the first milestone to the second. */
    private static Distribution between(WatchClock.Milestone from, WatchClock.Milestone to) {
        List<Long> out = new ArrayList<>();
        from.at.forEach((key, start) -> {
            Long end = to.at.get(key);
            if (end != null) {
                out.add(end - start);
            }
        });
        return Distribution.ofNanos(out);
    }

    private void addDistribution(String scenario, String what, Distribution d, LoadSampler.Window window) {
        String note = d.count() + " samples";
        figures.add(scenario, what + " p50", d.percentile(50) / 1000, "s", window, note);
        figures.add(scenario, what + " p90", d.percentile(90) / 1000, "s", window, "");
        figures.add(scenario, what + " p99", d.percentile(99) / 1000, "s", window, "");
        figures.add(scenario, what + " max", d.max() / 1000, "s", window, "");
    }

    /**
     * Write requests the API server served during the measurement (all clients: this benchmark's creates included),
     * per ModelDeployment, with the breakdown per verb and resource in the scenario's directory.
     */
    private double reportWrites(String scenario, Map<String, Double> writes, int mds, Env env,
            LoadSampler.Window window) throws IOException {
        StringBuilder out = new StringBuilder();
        writes.forEach((k, v) -> out.append(String.format(Locale.ROOT, "%10.0f  %s%n", v, k)));
        Files.writeString(env.dir.resolve("apiserver-writes.txt"), out);
        double total = writes.values().stream().mapToDouble(Double::doubleValue).sum();
        String top = writes.entrySet().stream().sorted((a, b) -> Double.compare(b.getValue(), a.getValue())).limit(6)
                .map(e -> String.format(Locale.ROOT, "%s %.2f", e.getKey(), e.getValue() / mds))
                .reduce((a, b) -> a + "; " + b).orElse("");
        figures.add(scenario, "API writes per ModelDeployment (all clients)", total / mds, "", window, top);
        return total / mds;
    }

    /** Admission cycles since the operator started, from its metrics (all of them kept in the scenario's dir). */
    private void reportCounts(String scenario, OperatorUnderTest op, Env env, LoadSampler.Window window)
            throws IOException {
        String metrics = op.metrics();
        Files.writeString(env.dir.resolve("operator-metrics.txt"), metrics);
        figures.add(scenario, "operator: admission cycles run",
                OperatorUnderTest.metricSum(metrics, "gpupool_admission_cycles_total", ""), "", window,
                "since start, setup included");
    }

    private void reportMemory(String scenario, OperatorUnderTest op, Env env, LoadSampler.Window window) {
        ProcStats.rssMiB(op.pid()).ifPresent(m -> {
            figures.add(scenario, "operator VmRSS", m[0], "MiB", window, "");
            figures.add(scenario, "operator VmHWM (peak RSS)", m[1], "MiB", window, "");
        });
        String heap = op.heapAfterFullGc();
        ProcStats.rssMiB(op.pid()).ifPresent(m -> figures.add(scenario, "operator VmRSS after a full GC", m[0], "MiB",
                window, heap.replace(',', ';')));
        // What the live heap is made of, to size the operator and to see where memory goes.
        try {
            Files.writeString(env.dir.resolve("operator-heap-histogram.txt"), op.jcmd("GC.class_histogram"));
        } catch (IOException | InterruptedException e) {
            System.out.println("  (heap histogram failed: " + e.getMessage() + ")");
        }
    }

    /** Starts the profiles asked for: the operator's JFR recording, kube-apiserver's CPU profiles. */
    private ApiServerProfile startProfiles(OperatorUnderTest op, Env env) {
        if (profile && op != null) {
            op.startProfile();
        }
        return apiServerProfile ? ApiServerProfile.start(env.dir, env.server) : null;
    }

    /** Writes the recordings of the measurement and their summaries next to the scenario's other files. */
    private void stopProfiles(OperatorUnderTest op, Env env, ApiServerProfile api) {
        try {
            if (profile && op != null) {
                Path jfr = env.dir.resolve("operator.jfr");
                op.stopProfile(jfr);
                Path summary = env.dir.resolve("operator-profile.txt");
                Files.writeString(summary, ProfileSummary.summarize(jfr, 40));
                System.out.println("  operator profile: " + summary + " (recording " + jfr + ")");
            }
            if (api != null) {
                Path summary = api.stopAndSummarize();
                System.out.println("  kube-apiserver profile: " + (summary == null ? "none taken" : summary));
            }
        } catch (IOException | InterruptedException e) {
            System.out.println("  (profile failed: " + e.getMessage() + ")");
        }
    }

    private static void progress(WatchClock clock, int n, OperatorUnderTest op, long t0) {
        long[] rss = ProcStats.rssMiB(op.pid()).orElse(new long[] { -1, -1 });
        System.out.printf(Locale.ROOT,
                "  %5.0f s: status written %d, admitted %d, Deployments %d of %d; operator CPU %.0f s, RSS %d MiB; load %s%n",
                seconds(System.nanoTime() - t0), clock.statusWritten.count(), clock.admitted.count(),
                clock.deploymentExists.count(), n, op.cpuSeconds(), rss[0], ProcStats.loadavg());
        op.requireAlive();
    }

    private static long first(Collection<Long> nanos) {
        return nanos.stream().mapToLong(Long::longValue).min().orElse(Long.MIN_VALUE);
    }

    private static long last(Collection<Long> nanos) {
        return nanos.stream().mapToLong(Long::longValue).max().orElse(Long.MIN_VALUE);
    }

    static double seconds(long nanos) {
        return nanos / 1e9;
    }

    /** A scenario that ran but did not finish: its figures are kept, the run goes on and exits non-zero. */
    static final class ScenarioFailed extends Exception {
        ScenarioFailed(String message) {
            super(message);
        }
    }

    /** CPU seconds of the operator, kube-apiserver and etcd over a measurement. */
    record Usage(double operator, double apiServer, double etcd) {
        /** @param op the operator, or null when none runs (the floor) */
        static Usage of(OperatorUnderTest op) {
            return new Usage(op == null ? 0 : op.cpuSeconds(),
                    ProcStats.cpuSeconds(ProcStats.descendant("kube-apiserver")),
                    ProcStats.cpuSeconds(ProcStats.descendant("etcd")));
        }

        Usage minus(Usage before) {
            return new Usage(operator - before.operator, apiServer - before.apiServer, etcd - before.etcd);
        }

        void report(Figures figures, String scenario, LoadSampler.Window window, int mds) {
            figures.add(scenario, "CPU used: operator", operator, "s", window, "user+sys, /proc/<pid>/stat");
            figures.add(scenario, "CPU used: operator per ModelDeployment", operator * 1000 / mds, "ms", window, "");
            figures.add(scenario, "CPU used: kube-apiserver", apiServer, "s", window, "");
            figures.add(scenario, "CPU used: etcd", etcd, "s", window, "");
        }
    }

    /** A fresh real API server with the CRDs installed and a client of this JVM, for one scenario. */
    static final class Env implements AutoCloseable {
        final Path dir;
        final PlaygroundApiServer server;
        final KubernetesClient client;

        private Env(Path dir, PlaygroundApiServer server, KubernetesClient client) {
            this.dir = dir;
            this.server = server;
            this.client = client;
        }

        static Env start(String scenario, LoadSampler load) throws IOException {
            Path dir = Files.createDirectories(OUT.resolve(scenario));
            long t0 = System.nanoTime();
            PlaygroundApiServer server = ClusterSizedApiServer.start(dir, OUT.resolve("kubeapitest"));
            Config config = Config.fromKubeconfig(Files.readString(server.kubeconfig));
            // Under load a write can take seconds; the default 10 s would turn a slow server into a failed benchmark.
            config.setRequestTimeout(120_000);
            // kube-api-test's kubeconfig authenticates with a client certificate: without this the client re-reads
            // it on every request after the first minute (see CertificateAuthentication).
            CertificateAuthentication.withoutTokenRefresh(config);
            KubernetesClient client = new KubernetesClientBuilder().withConfig(config).build();
            BenchPool.installCrds(client);
            System.out.printf("  %s started with CRDs in %.1f s (kubeconfig %s)%n", server.describe(),
                    seconds(System.nanoTime() - t0), server.kubeconfig);
            return new Env(dir, server, client);
        }

        OperatorUnderTest operator(String log, List<String> jvm, Map<String, String> env) throws IOException {
            OperatorUnderTest op = OperatorUnderTest.start(server, dir, log, jvm, env);
            System.out.println("  operator: pid " + op.pid() + ", log " + op.process.log);
            return op;
        }

        @Override
        public void close() {
            client.close();
            server.close();
        }
    }
}
