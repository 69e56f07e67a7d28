package io.gpupool.bench.gateway;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.gpupool.api.v1alpha1.ApiGroup;
import io.gpupool.api.v1alpha1.ApiKey;
import io.gpupool.api.v1alpha1.ApiKeyStatus;
import io.gpupool.api.v1alpha1.ModelDeployment;
import io.gpupool.api.v1alpha1.Organization;
import io.gpupool.core.gateway.ApiKeys;
import io.gpupool.core.gateway.dispatch.QueueLimits;
import io.gpupool.gateway.Gateway;
import io.gpupool.gateway.GatewaySettings;
import io.gpupool.gateway.RemoteUpstreams;
import io.gpupool.playground.PlaygroundApiServer;
import io.gpupool.testing.FakeEngine;
import io.gpupool.testing.OpenLoop;
import io.gpupool.testing.PoolFixtures;
import io.gpupool.testing.SimulatedReplicas;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;

/**
 * hack/bench-gateway.sh: the gateway's overhead, open-loop (a constant arrival rate, latency from the intended send
 * time, HdrHistogram). A SIMULATED engine that answers at once stands for a replica; each scenario calls it directly
 * and through one gateway at the same rate, so the difference is what the gateway adds. Then: the highest rate one
 * gateway sustains with p99 under 50 ms, and streaming's time to first chunk. Everything shares this machine's cores
 * (load generator, gateway, engines, API server): the load average is printed with the figures.
 *
 * <p>Other paths to a replica (the agent's tunnel) plug in as {@link Path}s: {@link #PATHS} lists them; a path is a
 * name and the base URL of the same engine reached that way.
 */
public final class GatewayBenchmark {

    /** A way to reach the benchmark's engine: its name in the tables and the base URL of its OpenAI API. */
    public interface Path {
        String name();

        /** Sets the path up (the engine and the gateway are running) and returns its base URL (…/v1). */
        String start(Setup setup) throws Exception;
    }

    /** What a path may use: the engine, the gateway, the API server, the model's served name. */
    public record Setup(FakeEngine engine, Gateway gateway, KubernetesClient client, Vertx vertx, String model,
            String key) {
    }

    /** The paths measured; the tunnel adds itself here (the through-tunnel scenario of issue 12). */
    public static final List<Path> PATHS = new ArrayList<>(List.of(
            path("direct", s -> "http://" + s.engine().host() + ":" + s.engine().port() + "/v1"),
            path("gateway", s -> s.gateway().url())));

    static final String NS = "bench-gw";
    static final String ORG = "bench-gw";
    static final String MODEL = "bench/echo";

    public static void main(String[] args) throws Exception {
        Duration each = Duration.ofSeconds(Integer.parseInt(option(args, "--seconds", "20")));
        List<Integer> rates = parseRates(option(args, "--rates", "500,1000"));
        List<Integer> sweep = parseRates(option(args, "--sweep", "1000,1500,2000,2500,3000,3500,4000,5000"));
        java.nio.file.Path out = java.nio.file.Path.of("target", "bench-gateway");
        Files.createDirectories(out);
        Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(2));
        try (PlaygroundApiServer server = PlaygroundApiServer.start(out, !PlaygroundApiServer.realBinariesPresent())) {
            KubernetesClient client = server.client();
            installApi(client);
            String key = keyAndModel(client);
            FakeEngine engine = new SimulatedReplicas(client, vertx).start(NS, "echo", MODEL, Duration.ZERO).engine()
                    .forgetBodies().completionTokens(16);
            GatewaySettings settings = new GatewaySettings("127.0.0.1", 0, 8L << 20,
                    new QueueLimits(100_000, Duration.ofSeconds(60)), NS, "bench-gateway", "bench/1",
                    Duration.ofSeconds(5), Duration.ofSeconds(5));
            try (Gateway gateway = Gateway.start(vertx, client, settings, new SimpleMeterRegistry(), Clock.systemUTC(),
                    RemoteUpstreams.NONE, List.of()); OpenLoop load = new OpenLoop(vertx)) {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (!gateway.directory().snapshot().replicas().containsKey(NS + "/echo")) {
                    if (System.nanoTime() > deadline) {
                        throw new IllegalStateException("the gateway never saw the engine's pod");
                    }
                    Thread.sleep(100);
                }
                Setup setup = new Setup(engine, gateway, client, vertx, MODEL, key);
                Map<String, String> urls = new LinkedHashMap<>();
                for (Path p : PATHS) {
                    urls.put(p.name(), p.start(setup));
                }
                System.out.printf("gpupool gateway benchmark (%s API server; %d s per run; load average at start %s)%n",
                        server.isReal ? "real" : "embedded", each.toSeconds(), loadAverage());
                StringBuilder md = new StringBuilder();
                md.append("| scenario | rate (req/s) | path | ok | p50 (ms) | p99 (ms) | p99.9 (ms) | max (ms) | load avg |\n");
                md.append("|---|---:|---|---:|---:|---:|---:|---:|---|\n");
                // Warm-up: JIT, connection pools.
                for (String url : urls.values()) {
                    load.run(URI.create(url + "/chat/completions"), key, GatewayBenchmark::chat, 500,
                            Duration.ofSeconds(5));
                }
                for (int rate : rates) {
                    for (var u : urls.entrySet()) {
                        OpenLoop.Result r = load.run(URI.create(u.getValue() + "/chat/completions"), key,
                                GatewayBenchmark::chat, rate, each);
                        row(md, "chat, non-streaming", rate, u.getKey(), r);
                    }
                }
                for (var u : urls.entrySet()) {
                    OpenLoop.Result r = load.run(URI.create(u.getValue() + "/chat/completions"), key,
                            GatewayBenchmark::stream, 500, each);
                    row(md, "chat, streaming (16 chunks): time to first chunk", 500, u.getKey(), firstChunk(r));
                    row(md, "chat, streaming (16 chunks): whole answer", 500, u.getKey(), r);
                }
                for (String name : urls.keySet()) {
                    if ("direct".equals(name)) {
                        continue;
                    }
                    int best = 0;
                    for (int rate : sweep) {
                        OpenLoop.Result r = load.run(URI.create(urls.get(name) + "/chat/completions"), key,
                                GatewayBenchmark::chat, rate, each);
                        boolean ok = r.p(99) < 50 && r.errors() == 0 && r.ok() == (int) Math.round(rate * each.toSeconds());
                        row(md, "sweep (p99 < 50 ms?" + (ok ? " yes" : " no") + ")", rate, name, r);
                        if (!ok) {
                            break;
                        }
                        best = rate;
                    }
                    md.append("\nHighest rate with p99 < 50 ms through ").append(name).append(": **").append(best)
                            .append(" requests/s**\n");
                }
                System.out.println(md);
                Files.writeString(out.resolve("results.md"), md.toString());
                System.out.println("Written to " + out.resolve("results.md"));
            }
        } finally {
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
        System.exit(0);
    }

    static Path path(String name, java.util.function.Function<Setup, String> url) {
        return new Path() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public String start(Setup setup) {
                return url.apply(setup);
            }
        };
    }

    static String chat(int i) {
        return "{\"model\":\"" + MODEL + "\",\"messages\":[{\"role\":\"user\",\"content\":\"benchmark request " + i
                + "\"}]}";
    }

    static String stream(int i) {
        return "{\"model\":\"" + MODEL + "\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":"
                + "\"benchmark stream " + i + "\"}]}";
    }

    private static OpenLoop.Result firstChunk(OpenLoop.Result r) {
        return new OpenLoop.Result(r.firstChunk(), r.firstChunk(), r.statuses(), r.errors(), r.seconds());
    }

    private static void row(StringBuilder md, String scenario, int rate, String path, OpenLoop.Result r) {
        String line = String.format(Locale.ROOT, "| %s | %d | %s | %d/%d | %.2f | %.2f | %.2f | %.2f | %s |%n",
                scenario, rate, path, r.ok(), r.statuses().values().stream().mapToInt(Integer::intValue).sum()
                        + r.errors(), r.p(50), r.p(99), r.p(99.9), r.latency().getMaxValue() / 1000.0, loadAverage());
        System.out.print(line);
        md.append(line);
    }

    static String loadAverage() {
        try {
            String[] f = Files.readString(java.nio.file.Path.of("/proc/loadavg")).split(" ");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException e) {
            return "?";
        }
    }

    private static void installApi(KubernetesClient client) throws IOException {
        try (var files = Files.list(java.nio.file.Path.of("crds"))) {
            for (java.nio.file.Path crd : files.sorted().toList()) {
                client.resource(Serialization.unmarshal(Files.readString(crd), CustomResourceDefinition.class))
                        .createOr(r -> r.update());
            }
        }
    }

    /** A member namespace and organization, a model, and a key whose hash is written as the operator would. */
    private static String keyAndModel(KubernetesClient client) throws InterruptedException {
        client.resource(new NamespaceBuilder().withNewMetadata().withName(NS)
                .addToLabels(ApiGroup.ORGANIZATION_LABEL, ORG).endMetadata().build()).createOr(r -> r.update());
        client.resource(PoolFixtures.organization(ORG)).createOr(r -> r.update());
        ModelDeployment md = PoolFixtures.modelDeployment(NS, "echo", 1, 1);
        md.getSpec().servedModelName = MODEL;
        md.getSpec().maxInFlightPerReplica = 100_000;
        client.resource(md).createOr(r -> r.update());
        String value = ApiKeys.generate(new java.security.SecureRandom());
        ApiKey key = new ApiKey();
        key.setMetadata(new ObjectMetaBuilder().withNamespace(NS).withName("bench").build());
        key = client.resource(key).createOr(r -> r.update());
        key.setStatus(new ApiKeyStatus());
        key.getStatus().keyHash = ApiKeys.hash(value);
        client.resource(key).updateStatus();
        return value;
    }

    private static String option(String[] args, String name, String fallback) {
        for (int i = 0; i < args.length - 1; i++) {
            if (name.equals(args[i])) {
                return args[i + 1];
            }
        }
        return fallback;
    }

    private static List<Integer> parseRates(String s) {
        List<Integer> out = new ArrayList<>();
        for (String r : s.split(",")) {
            if (!r.isBlank()) {
                out.add(Integer.parseInt(r.trim()));
            }
        }
        return out;
    }
}
