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
import io.gpupool.core.render.ServingRenderer;
import io.gpupool.core.render.ServingSettings;
import io.gpupool.gateway.Gateway;
import io.gpupool.gateway.GatewaySettings;
import io.gpupool.gateway.RemoteUpstreams;
import io.gpupool.gateway.TunnelReplicas;
import io.gpupool.cluster.SimulatedKubelet;
import io.gpupool.playground.EmbeddedKubelet;
import io.gpupool.playground.PlaygroundApiServer;
import io.gpupool.testing.FakeEngine;
import io.gpupool.testing.OpenLoop;
import io.gpupool.testing.PoolFixtures;
import io.gpupool.testing.EnginePodNetwork;
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
 * sustains with p99 under 50 ms on each path, streaming's time to first chunk, and fair queuing's figure: a quiet
 * organization's latency on a saturated shared model alone and under another organization's 10x flood (what
 * GatewayLoadApiServerTest asserts as shares, measured here as time). Everything shares this machine's cores (load
 * generator, gateway, agent, engines, API server): the load average is printed with every figure.
 *
 * <p>The pool's own replicas are pods of the Deployment the operator renders for them (ServingRenderer): on the cluster
 * harness the real Deployment controller and kube-scheduler make and bind them and the simulated kubelet runs them,
 * elsewhere the playground's embedded kubelet does; either way a SIMULATED engine answers at the pod's IP
 * ({@link EnginePodNetwork}). The contributed cluster's replica is an engine its agent's tunnel reaches directly (no
 * second cluster is run: the benchmark measures the data path).
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
    /** The GPU server the pool's own replicas run on. */
    static final String NODE = "bench-h100";
    /** The shared model of the fair-queuing figure: 8 slots of 200 ms, 40 requests a second. */
    static final String FAIR_MODEL = "bench/fair";
    static final int FAIR_SLOTS = 8;
    static final Duration FAIR_SERVICE_TIME = Duration.ofMillis(200);
    /** The quiet organization of the fair-queuing figure (weight 1; the benchmark's own organization weighs 2). */
    static final String QUIET = "bench-quiet";

    public static void main(String[] args) throws Exception {
        Duration each = Duration.ofSeconds(Integer.parseInt(option(args, "--seconds", "20")));
        List<Integer> rates = parseRates(option(args, "--rates", "500,1000"));
        List<Integer> sweep = parseRates(option(args, "--sweep", "1000,1500,2000,2500,3000,3500,4000,5000"));
        Duration fair = Duration.ofSeconds(Integer.parseInt(option(args, "--fair-seconds", "20")));
        java.nio.file.Path out = java.nio.file.Path.of("target", "bench-gateway");
        Files.createDirectories(out);
        Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(2));
        try (PlaygroundApiServer server = PlaygroundApiServer.start(out, !PlaygroundApiServer.realBinariesPresent())) {
            KubernetesClient client = server.client();
            installApi(client);
            member(client, NS, ORG, 2.0);
            member(client, QUIET, QUIET, 1.0);
            String key = key(client, NS);
            String quietKey = key(client, QUIET);
            model(client, "echo", MODEL, 100_000);
            model(client, "remote", REMOTE_MODEL, 100_000);
            model(client, "fair", FAIR_MODEL, FAIR_SLOTS);
            EnginePodNetwork network = new EnginePodNetwork(vertx, (pod, e) -> {
                e.forgetBodies().completionTokens(16);
                if (FAIR_MODEL.equals(EnginePodNetwork.servedName(pod))) {
                    e.serviceTime(FAIR_SERVICE_TIME).completionTokens(8);
                }
            });
            AutoCloseable kubelet = runPods(server, client, network);
            servingPod(client, "echo");
            servingPod(client, "fair");
            FakeEngine engine = awaitEngine(network, "echo");
            awaitEngine(network, "fair");
            FakeEngine remoteEngine = new FakeEngine(vertx, EnginePodNetwork.nextLoopback(), REMOTE_MODEL,
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
                System.out.printf("gpupool gateway benchmark (%s; %d s per run; load average at start %s)%n",
                        server.describe(), each.toSeconds(), loadAverage());
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
                fairQueuing(md, vertx, client, settings, load, key, quietKey, fair);
                System.out.println(md);
                Files.writeString(out.resolve("results.md"), md.toString());
                System.out.println("Written to " + out.resolve("results.md"));
            } finally {
                if (agent != null) {
                    agent.close();
                }
                kubelet.close();
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

    /** A member namespace and its organization, which lets its models be shared, with a quota weight. */
    private static void member(KubernetesClient client, String ns, String org, double weight) {
        client.resource(PoolFixtures.namespace(ns)).createOr(r -> r.update());
        Organization o = PoolFixtures.organization(org, ns);
        o.getSpec().allowSharedDeployments = true;
        o.getSpec().quota.weight = weight;
        client.resource(o).createOr(r -> r.update());
    }

    /** A shared model of the benchmark's organization. */
    private static void model(KubernetesClient client, String name, String servedName, int maxInFlight) {
        ModelDeployment md = PoolFixtures.modelDeployment(NS, name, 1, 1);
        md.getSpec().servedModelName = servedName;
        md.getSpec().maxInFlightPerReplica = maxInFlight;
        md.getSpec().shared = true;
        md.getSpec().model.maxContextLength = 4096;
        client.resource(md).createOr(r -> r.update());
    }

    /** A key of the namespace, its hash written as the operator would (no operator runs here). */
    private static String key(KubernetesClient client, String ns) {
        String value = ApiKeys.generate(new java.security.SecureRandom());
        ApiKey key = new ApiKey();
        key.setMetadata(new ObjectMetaBuilder().withNamespace(ns).withName("bench").build());
        key = client.resource(key).createOr(r -> r.update());
        key.setStatus(new ApiKeyStatus());
        key.getStatus().keyHash = ApiKeys.hash(value);
        client.resource(key).updateStatus();
        return value;
    }

    /**
     * Runs the pool's serving pods: on the cluster harness, the simulated kubelet under the real controllers and
     * scheduler, on a GPU server registered as its kubelet would; elsewhere (no controllers) the embedded kubelet.
     */
    private static AutoCloseable runPods(PlaygroundApiServer server, KubernetesClient client, EnginePodNetwork network)
            throws IOException {
        if (server.controlPlane().map(p -> p.runsControllers() && p.runsScheduler()).orElse(false)) {
            server.runKubelets(SimulatedKubelet.Settings.defaults().withLoadDelay(Duration.ZERO).withNetwork(network));
            SimulatedKubelet.registerNode(client, PoolFixtures.node("dgx-h100-01", NODE, ORG));
            return () -> {
            }; // the kubelet stops with the server
        }
        EmbeddedKubelet kubelet = new EmbeddedKubelet(client, 0, network);
        kubelet.start();
        return kubelet;
    }

    /** The Deployment the operator renders for one replica of the model on the benchmark's GPU server. */
    private static void servingPod(KubernetesClient client, String name) {
        ModelDeployment md = client.resources(ModelDeployment.class).inNamespace(NS).withName(name).get();
        client.resource(ServingRenderer.deployment(md, new Placement(NodeTrust.LOCAL_CLUSTER, NODE, "h100", 1),
                ServingSettings.DEFAULT)).createOr(r -> r.update());
    }

    private static FakeEngine awaitEngine(EnginePodNetwork network, String name) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (network.engines(NS, name).isEmpty()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("no serving pod of " + name + " ran");
            }
            Thread.sleep(100);
        }
        return network.engines(NS, name).get(0);
    }

    /**
     * Fair queuing as time: the quiet organization (weight 1) calls the saturated shared model at 10 requests a second,
     * alone and then while the benchmark's organization (weight 2) floods it with 10 times as many, more than the 40
     * a second it serves; through a gateway with the production queue limits. Its p99 under the flood is the figure;
     * GatewayLoadApiServerTest asserts the shares it follows from.
     */
    private static void fairQueuing(StringBuilder md, Vertx vertx, KubernetesClient client, GatewaySettings base,
            OpenLoop load, String floodKey, String quietKey, Duration each) throws Exception {
        GatewaySettings settings = new GatewaySettings(base.host(), 0, base.maxBodyBytes(), QueueLimits.DEFAULT,
                base.namespace(), base.name(), "bench/fair", base.reportInterval(), base.drain());
        try (Gateway gateway = Gateway.start(vertx, client, settings, new SimpleMeterRegistry(), Clock.systemUTC(),
                RemoteUpstreams.NONE, List.of())) {
            awaitReplica(gateway, NS + "/fair");
            URI url = URI.create(gateway.url() + "/chat/completions");
            load.run(url, quietKey, chat(FAIR_MODEL), 10, Duration.ofSeconds(3)); // warm-up
            OpenLoop.Result alone = load.run(url, quietKey, chat(FAIR_MODEL), 10, each);
            row(md, "fair queuing: quiet org alone on a model serving 40 req/s", 10, "gateway", alone);
            var flooder = java.util.concurrent.Executors.newSingleThreadExecutor();
            try {
                var flood = flooder.submit(() -> load.run(url, floodKey, chat(FAIR_MODEL), 100,
                        each.plusSeconds(4)));
                var model = gateway.dispatchers().of(NS + "/fair");
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (model.stats().waiting().getOrDefault(ORG, 0) < 50 && System.nanoTime() < deadline) {
                    Thread.sleep(20); // the flood saturates the model first
                }
                OpenLoop.Result flooded = load.run(url, quietKey, chat(FAIR_MODEL), 10, each);
                row(md, "fair queuing: quiet org under a 10x flood (weights 1:2)", 10, "gateway", flooded);
                row(md, "fair queuing: the flood (100 req/s) meanwhile", 100, "gateway", flood.get());
                md.append(String.format(Locale.ROOT, "%nQuiet organization's p99 under a 10x flood: **%.1f ms** "
                        + "(alone: %.1f ms; p50 %.1f ms, alone %.1f ms)%n", flooded.p(99), alone.p(99), flooded.p(50),
                        alone.p(50)));
            } finally {
                flooder.shutdownNow();
            }
        }
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
