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
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.gpupool.api.v1alpha1.ApiKey;
import io.gpupool.api.v1alpha1.ApiKeyStatus;
import io.gpupool.api.v1alpha1.ModelDeployment;
import io.gpupool.api.v1alpha1.Organization;
import io.gpupool.api.v1alpha1.Placement;
import io.gpupool.api.v1alpha1.ServingWork;
import io.gpupool.core.gateway.ApiKeys;
import io.gpupool.core.gateway.dispatch.QueueLimits;
import io.gpupool.core.inventory.NodeTrust;
import io.gpupool.core.render.RemoteWorkRenderer;
import io.gpupool.core.render.ServingSettings;
import io.gpupool.gateway.Gateway;
import io.gpupool.gateway.GatewaySettings;
import io.gpupool.gateway.TunnelReplicas;
import io.gpupool.playground.PlaygroundApiServer;
import io.gpupool.testing.FakeEngine;
import io.gpupool.testing.OpenLoop;
import io.gpupool.testing.PoolFixtures;
import io.gpupool.testing.SimulatedReplicas;
import io.gpupool.tunnel.AgentIdentity;
import io.gpupool.tunnel.TunnelRegistry;
import io.gpupool.tunnel.TunnelServer;
import io.gpupool.tunnel.agent.ServingEndpoints;
import io.gpupool.tunnel.agent.TunnelClient;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;

/**
 * hack/bench-gateway.sh: the gateway's overhead, open-loop (a constant arrival rate, latency from the intended send
 * time, HdrHistogram). SIMULATED engines that answer at once stand for replicas; each scenario calls one at the same
 * rate three ways, side by side in one run: directly (the baseline), through one gateway (a replica reached by pod
 * IP), and through the gateway and an agent's tunnel (a replica of a contributed cluster: gateway, WebSocket tunnel,
 * agent, engine), so the differences are what the gateway and the tunnel add. Then: the highest rate one gateway
 * sustains with p99 under 50 ms on each path, and streaming's time to first chunk. Everything shares this machine's
 * cores (load generator, gateway, agent, engines, API server): the load average is printed with every figure.
 */
public final class GatewayBenchmark {

    /** A way to reach a benchmark engine: its name in the tables, the base URL of its OpenAI API, the model to ask. */
    record Path(String name, String url, String model) {
    }

    static final String NS = "bench-gw";
    static final String ORG = "bench-gw";
    static final String MODEL = "bench/echo";
    /** The model whose replica runs in a contributed cluster, reached through its agent's tunnel. */
    static final String REMOTE_MODEL = "bench/remote";
    static final String CLUSTER = "bench-lab";

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
            String key = keyAndModel(client, "echo", MODEL);
            keyAndModel(client, "remote", REMOTE_MODEL);
            FakeEngine engine = new SimulatedReplicas(client, vertx).start(NS, "echo", MODEL, Duration.ZERO).engine()
                    .forgetBodies().completionTokens(16);
            FakeEngine remoteEngine = new FakeEngine(vertx, SimulatedReplicas.nextLoopback(), REMOTE_MODEL,
                    Duration.ZERO).forgetBodies().completionTokens(16).start();
            GatewaySettings settings = new GatewaySettings("127.0.0.1", 0, 8L << 20,
                    new QueueLimits(100_000, Duration.ofSeconds(60)), NS, "bench-gateway", "bench/1",
                    Duration.ofSeconds(5), Duration.ofSeconds(5));
            // The tunnel's endpoint on the gateway, as the gateway role mounts it (any agent token is taken here: the
            // benchmark measures the data path, TunnelApiServerTest the authentication).
            TunnelRegistry tunnels = new TunnelRegistry((cluster, work) -> true);
            TunnelServer tunnelServer = new TunnelServer(vertx, (token, cluster) -> new AgentIdentity(cluster,
                    "system:serviceaccount:" + NodeTrust.hubNamespace(cluster) + ":gpupool-agent"), tunnels,
                    TunnelServer.Settings.defaults(() -> 1));
            TunnelClient agent = null;
            try (Gateway gateway = Gateway.start(vertx, client, settings, new SimpleMeterRegistry(), Clock.systemUTC(),
                    new TunnelReplicas(tunnels), List.of(tunnelServer::mount)); OpenLoop load = new OpenLoop(vertx)) {
                agent = remoteReplica(client, vertx, gateway, remoteEngine);
                awaitReplica(gateway, NS + "/echo");
                awaitReplica(gateway, NS + "/remote");
                List<Path> paths = List.of(
                        new Path("direct", "http://" + engine.host() + ":" + engine.port() + "/v1", MODEL),
                        new Path("gateway", gateway.url(), MODEL),
                        new Path("gateway+tunnel", gateway.url(), REMOTE_MODEL));
                System.out.printf("gpupool gateway benchmark (%s API server; %d s per run; load average at start %s)%n",
                        server.isReal ? "real" : "embedded", each.toSeconds(), loadAverage());
                StringBuilder md = new StringBuilder();
                md.append("| scenario | rate (req/s) | path | ok | p50 (ms) | p99 (ms) | p99.9 (ms) | max (ms) | load avg |\n");
                md.append("|---|---:|---|---:|---:|---:|---:|---:|---|\n");
                // Warm-up: JIT, connection pools.
                for (Path p : paths) {
                    load.run(URI.create(p.url() + "/chat/completions"), key, chat(p.model()), 500,
                            Duration.ofSeconds(5));
                }
                for (int rate : rates) {
                    for (Path p : paths) {
                        OpenLoop.Result r = load.run(URI.create(p.url() + "/chat/completions"), key, chat(p.model()),
                                rate, each);
                        row(md, "chat, non-streaming", rate, p.name(), r);
                    }
                }
                for (Path p : paths) {
                    OpenLoop.Result r = load.run(URI.create(p.url() + "/chat/completions"), key, stream(p.model()),
                            500, each);
                    row(md, "chat, streaming (16 chunks): time to first chunk", 500, p.name(), firstChunk(r));
                    row(md, "chat, streaming (16 chunks): whole answer", 500, p.name(), r);
                }
                for (Path p : paths) {
                    if ("direct".equals(p.name())) {
                        continue;
                    }
                    int best = 0;
                    for (int rate : sweep) {
                        OpenLoop.Result r = load.run(URI.create(p.url() + "/chat/completions"), key, chat(p.model()),
                                rate, each);
                        boolean ok = r.p(99) < 50 && r.errors() == 0 && r.ok() == (int) Math.round(rate * each.toSeconds());
                        row(md, "sweep (p99 < 50 ms?" + (ok ? " yes" : " no") + ")", rate, p.name(), r);
                        if (!ok) {
                            break;
                        }
                        best = rate;
                    }
                    md.append("\nHighest rate with p99 < 50 ms through ").append(p.name()).append(": **").append(best)
                            .append(" requests/s**\n");
                }
                System.out.println(md);
                Files.writeString(out.resolve("results.md"), md.toString());
                System.out.println("Written to " + out.resolve("results.md"));
            } finally {
                if (agent != null) {
                    agent.close();
                }
            }
        } finally {
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
        System.exit(0);
    }

    /**
     * The remote model's replica: the work the pool would have placed on cluster {@value #CLUSTER} (a ServingWork in
     * its hub namespace), and that cluster's agent, which dials the gateway's tunnel endpoint and serves the engine.
     */
    private static TunnelClient remoteReplica(KubernetesClient client, Vertx vertx, Gateway gateway, FakeEngine engine) {
        client.resource(new NamespaceBuilder().withNewMetadata().withName(NodeTrust.hubNamespace(CLUSTER)).endMetadata()
                .build()).createOr(r -> r.update());
        ServingWork work = RemoteWorkRenderer.render(client.resources(ModelDeployment.class).inNamespace(NS)
                .withName("remote").get(), ORG, CLUSTER, List.of(new Placement(CLUSTER, "node-1", "gpu", 1)),
                ServingSettings.DEFAULT);
        client.resource(work).createOr(r -> r.update());
        String workName = work.getMetadata().getName();
        ServingEndpoints endpoints = new ServingEndpoints() {
            @Override
            public Map<String, List<Endpoint>> ready() {
                return Map.of(workName, List.of(new Endpoint("remote-0", engine.host(), engine.port())));
            }

            @Override
            public void onChange(Runnable listener) {
            }
        };
        TunnelClient agent = new TunnelClient(vertx, TunnelClient.Settings.of(URI.create("http://127.0.0.1:"
                + gateway.port()), CLUSTER, () -> "bench-token", Optional.empty()), endpoints);
        agent.start();
        return agent;
    }

    private static void awaitReplica(Gateway gateway, String model) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!gateway.directory().snapshot().replicas().containsKey(model)) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the gateway never reached a replica of " + model);
            }
            Thread.sleep(100);
        }
    }

    static IntFunction<String> chat(String model) {
        return i -> "{\"model\":\"" + model + "\",\"messages\":[{\"role\":\"user\",\"content\":\"benchmark request "
                + i + "\"}]}";
    }

    static IntFunction<String> stream(String model) {
        return i -> "{\"model\":\"" + model + "\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":"
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
    private static String keyAndModel(KubernetesClient client, String name, String servedName) {
        client.resource(PoolFixtures.namespace(NS)).createOr(r -> r.update());
        client.resource(PoolFixtures.organization(ORG, NS)).createOr(r -> r.update());
        ModelDeployment md = PoolFixtures.modelDeployment(NS, name, 1, 1);
        md.getSpec().servedModelName = servedName;
        md.getSpec().maxInFlightPerReplica = 100_000;
        client.resource(md).createOr(r -> r.update());
        String value = ApiKeys.generate(new java.security.SecureRandom());
        ApiKey key = new ApiKey();
        key.setMetadata(new ObjectMetaBuilder().withNamespace(NS).withName("bench-" + name).build());
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
