package io.gpupool.playground;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.gpupool.agent.ContributorAgent;
import io.gpupool.api.v1alpha1.ApiGroup;
import io.gpupool.api.v1alpha1.ContributedCluster;
import io.gpupool.api.v1alpha1.GpuNode;
import io.gpupool.api.v1alpha1.ModelDeployment;
import io.gpupool.api.v1alpha1.Organization;
import io.gpupool.api.v1alpha1.Placement;
import io.gpupool.api.v1alpha1.ServingWork;
import io.gpupool.cluster.ControlPlane;
import io.gpupool.cluster.SimulatedKubelet;
import io.gpupool.core.inventory.NodeTrust;
import io.gpupool.core.status.Conditions;
import io.gpupool.operator.cluster.ContributedClusterReconciler;
import io.gpupool.operator.node.LocalNodeReconciler;
import io.gpupool.testing.EnginePodNetwork;
import io.gpupool.testing.PoolFixtures;

/**
 * The pool on one laptop: an API server, the real operator (the packaged Quarkus application, run as a process exactly
 * as in production, minus leader election), GPU nodes of the pool's own cluster contributed by label, a simulated
 * contributed cluster (its own API server and kubelet) that joins through the real agent (the same application in the
 * agent role, its own process), simulated kubelets, then a scripted scenario. Run it with hack/playground.sh.
 */
public final class Playground implements AutoCloseable {

    /** GPU Nodes of the pool's own cluster, contributed by label: a lab DGX, a university A100 server and an L4. */
    static final Map<String, String> LOCAL_NODES = Map.of(
            "dgx-h100-01", "open-lab",
            "a100-80g-01", "uni-nlp",
            "l4-01", "uni-nlp");

    /** The simulated contributed cluster and the organization that contributes it. */
    static final String HOME_LAB = "home-lab";
    static final String HOME_COLLECTIVE = "home-collective";
    /** home-lab's machines: node name to fixture (two identical RTX 4090 boxes and a T4). */
    static final Map<String, String> HOME_LAB_NODES = orderedMap(
            "rtx4090-home-01", "rtx4090-home-01",
            "rtx4090-home-02", "rtx4090-home-01",
            "t4-01", "t4-01");

    /** How long a simulated serving pod takes to "load its model" before it is ready. */
    static final long LOAD_DELAY_MILLIS = 3000;
    /** How long a stopping simulated serving pod drains before it is gone. */
    static final long DRAIN_MILLIS = EmbeddedKubelet.DRAIN_MILLIS;
    /** How long a SIMULATED engine takes to answer (a small model's generation, roughly). */
    static final Duration ENGINE_SERVICE_TIME = Duration.ofMillis(150);

    private final PlaygroundApiServer server;
    private final KubernetesClient client;
    private final Path workDir;
    private final Path jar;
    private final PoolTable table;
    /** Everything started, closed in reverse order. */
    private final Deque<AutoCloseable> running = new ArrayDeque<>();
    private ContributorCluster homeLab;
    private GatewayProcess gateway;
    private PlaygroundGateway calls;

    /**
     * @param server  the pool's API server (closed with the playground)
     * @param workDir where kubeconfigs and logs go
     * @param jar     the packaged application, run as the operator and as the agent
     */
    Playground(PlaygroundApiServer server, Path workDir, Path jar) throws IOException {
        running.push(server);
        this.server = server;
        this.client = server.client();
        running.push(client);
        this.workDir = workDir;
        this.jar = jar;
        this.table = new PoolTable(client);
    }

    public static void main(String[] args) throws Exception {
        Thread main = Thread.currentThread();
        CountDownLatch stop = new CountDownLatch(1);
        AtomicBoolean finished = new AtomicBoolean();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            if (finished.get()) {
                return; // the scenario ended (--exit-after-scenario) and everything is closed
            }
            // Ctrl-C: stop the main thread where it is; it stops every process it started on its way out. The JVM
            // exits when this hook returns, so wait for it.
            stop.countDown();
            System.out.println("\nStopping the playground ...");
            main.interrupt();
            try {
                main.join(60_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "playground-stop"));
        int exitCode = 0;
        try {
            run(args, stop);
        } catch (Exception e) {
            if (stop.getCount() == 0) {
                return; // stopped by Ctrl-C while busy: everything is closed already
            }
            e.printStackTrace();
            exitCode = 1;
        }
        if (stop.getCount() > 0) {
            // The clients' event loops are not daemon threads; everything is closed by now.
            finished.set(true);
            System.exit(exitCode);
        }
    }

    static void run(String[] args, CountDownLatch stop) throws Exception {
        boolean real = !List.of(args).contains("--embedded") && PlaygroundApiServer.realBinariesPresent();
        boolean exitAfterScenario = List.of(args).contains("--exit-after-scenario");
        Path workDir = Files.createDirectories(Path.of("target", "playground"));
        Path jar = PackagedApplication.require(real);
        System.out.println("gpupool playground: starting an API server ...");
        Instant started = Instant.now();
        try (Playground playground = new Playground(PlaygroundApiServer.start(workDir, !real), workDir, jar)) {
            System.out.println("  API server: " + playground.server.describe());
            playground.installApi();
            playground.startServices();
            playground.scenario();
            System.out.printf("%nPlayground ready in %d s. Try it yourself:%n", Duration.between(started, Instant.now()).toSeconds());
            System.out.println("  export KUBECONFIG=" + playground.server.kubeconfig.toAbsolutePath());
            System.out.println("  kubectl get gpupool-all -A");
            System.out.println("  kubectl get gpunodes -A                # the nodes of both clusters");
            System.out.println("  kubectl get servingwork -A             # what the pool asked home-lab's agent to run");
            System.out.println("  kubectl apply -f examples/10-modeldeployment-llama-8b.yaml   # or your own ModelDeployment");
            System.out.println("  kubectl get md -A -w");
            if (playground.calls != null) {
                playground.calls.printTryIt();
            }
            if (exitAfterScenario) {
                return;
            }
            System.out.println("Ctrl-C stops everything. The table below refreshes when the pool changes.");
            String last = "";
            while (stop.getCount() > 0) {
                String now = playground.table.render();
                if (!now.equals(last)) {
                    System.out.println(now);
                    last = now;
                }
                stop.await(2, TimeUnit.SECONDS);
            }
        }
    }

    void installApi() throws IOException {
        try (Stream<Path> crds = Files.list(Path.of("crds"))) {
            for (Path crd : crds.sorted().toList()) {
                client.resource(Serialization.unmarshal(Files.readString(crd), CustomResourceDefinition.class))
                        .createOr(r -> r.update());
            }
        }
        for (String file : List.of("00-gpupool.yaml", "01-gpuclasses.yaml", "02-organizations.yaml",
                "03-namespaces.yaml")) {
            apply(Path.of("examples", file));
        }
    }

    /**
     * Starts what runs beside the API server: the stand-ins for Kubernetes controllers the playground has none of
     * (token controller, kubelets), the operator, and the contributed cluster home-lab with its machines (not yet
     * approved, so not yet in the pool).
     */
    void startServices() throws IOException {
        var plane = server.controlPlane().filter(c -> c.runsControllers() && c.runsScheduler());
        if (plane.isPresent()) {
            System.out.println("  token controller: REAL (kube-controller-manager's) - ServiceAccount-token Secrets get "
                    + "a token it signs");
        } else {
            SimulatedTokenController tokens = new SimulatedTokenController(client, server.isReal);
            tokens.start();
            running.push(tokens);
            System.out.println("  token controller: " + tokens.describe());
        }
        client.resource(new io.fabric8.kubernetes.api.model.NamespaceBuilder().withNewMetadata()
                .withName(GatewayProcess.NAMESPACE).endMetadata().build()).createOr(r -> r.update());
        gateway = GatewayProcess.start(jar, server, workDir);
        running.push(gateway);
        System.out.println("  gateway: the real gpupool gateway (GPUPOOL_ROLE=gateway) at " + gateway.url() + ", log in "
                + gateway.log);
        OperatorProcess operator = OperatorProcess.start(server, workDir, jar, "operator.log", List.of(),
                Map.of("GPUPOOL_GATEWAY_URL", gateway.url(), "GPUPOOL_GATEWAY_NAMESPACE", GatewayProcess.NAMESPACE));
        running.push(operator);
        System.out.println("  operator: the real gpupool operator, log in " + operator.log);
        io.vertx.core.Vertx engines = io.vertx.core.Vertx.vertx();
        running.push(() -> engines.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS));
        EnginePodNetwork network = EnginePodNetwork.answeringIn(engines, ENGINE_SERVICE_TIME);
        if (plane.isPresent()) {
            server.runKubelets(SimulatedKubelet.Settings.defaults().withLoadDelay(Duration.ofMillis(LOAD_DELAY_MILLIS))
                    .withDrain(Duration.ofMillis(DRAIN_MILLIS)).withNetwork(network));
            System.out.printf("  controllers: REAL - Deployment, ReplicaSet, garbage collector, node lifecycle "
                    + "(kube-controller-manager) and kube-scheduler, which binds every serving pod to its node%n");
            System.out.printf("  kubelets: SIMULATED (the only simulated part of the pool's cluster) - bound pods run "
                    + "for show: Ready after a %d s 'load', drain for %d s when they stop; no model is downloaded: "
                    + "each serving pod runs a SIMULATED OpenAI engine on its own loopback address (its pod IP).%n",
                    LOAD_DELAY_MILLIS / 1000, DRAIN_MILLIS / 1000);
        } else {
            EmbeddedKubelet kubelet = new EmbeddedKubelet(client, LOAD_DELAY_MILLIS, network);
            kubelet.start();
            running.push(kubelet);
            System.out.printf("  kubelets and Deployment controller: SIMULATED - serving pods become Ready after a %d s "
                    + "'load' and drain for %d s when they stop; no model is downloaded: each serving pod runs a "
                    + "SIMULATED OpenAI engine on its own loopback address (its pod IP).%n",
                    LOAD_DELAY_MILLIS / 1000, DRAIN_MILLIS / 1000);
        }
        homeLab = ContributorCluster.start(HOME_LAB, HOME_COLLECTIVE, workDir.resolve(HOME_LAB),
                ContributorChart.defaults(), LOAD_DELAY_MILLIS, network);
        running.push(homeLab);
        HOME_LAB_NODES.forEach((node, fixture) -> homeLab.addContributedNode(fixture, node));
        System.out.println("  contributed " + homeLab.describe() + " (SIMULATED: no controllers there; each serving "
                + "pod runs a SIMULATED OpenAI engine; " + (tunnels() ? "its agent opens a tunnel to the gateway at "
                        + gateway.base() + ")" : "no tunnel: the embedded API server cannot review the agent's token)"));
    }

    void scenario() throws Exception {
        step("Organizations contribute GPU nodes of the pool's own cluster",
                "open-lab brings a DGX H100 (8 GPUs), uni-nlp an A100 80GB server (4) and an L4. Each Node is labelled "
                        + "gpupool.io/organization; the operator turns it into a GpuNode of cluster 'local' and counts "
                        + "it in its organization's quota.");
        LOCAL_NODES.forEach(this::contributeLocalNode);
        awaitOrFail(() -> client.resources(GpuNode.class)
                .inNamespace(LocalNodeReconciler.hubNamespace(LocalNodeReconciler.LOCAL_CLUSTER)).list().getItems()
                .size() == LOCAL_NODES.size(), Duration.ofSeconds(120),
                "The operator did not turn the labelled Nodes into GpuNodes: see " + workDir.resolve("operator.log"));
        settle();

        step("The home collective contributes its own cluster",
                "It runs Kubernetes at home (cluster " + HOME_LAB + ", simulated: its own embedded API server and "
                        + "kubelet) with two RTX 4090 boxes (2 GPUs each) and a T4, labelled "
                        + homeLab.chart.nodeSelectorString() + " (the contributor chart's default selector). The pool "
                        + "admin approves it with a ContributedCluster; the operator creates its hub namespace, a "
                        + "ServiceAccount that can reach only that namespace, and a kubeconfig Secret. The home "
                        + "collective runs the real agent with that kubeconfig: it connects out to the pool and "
                        + "registers each contributed machine as a GpuNode, with a heartbeat.");
        AgentProcess agent = approveAndStartAgent();
        ContributedCluster approved = client.resources(ContributedCluster.class).withName(HOME_LAB).get();
        System.out.println(wrap("approved: " + Conditions.find(approved.getStatus().conditions, Conditions.READY)
                .map(c -> c.getReason() + ": " + c.getMessage()).orElse("-")));
        Secret kubeconfig = client.secrets().inNamespace(approved.getStatus().namespace)
                .withName(ContributedClusterReconciler.KUBECONFIG_SECRET).get();
        System.out.println(wrap("token: the kubeconfig's token was requested from the API server (TokenRequest) and "
                + "expires at " + kubeconfig.getMetadata().getAnnotations().get("gpupool.io/token-expires-at")
                + "; the agent renews its own before then."));
        System.out.println(wrap("agent: the real gpupool agent (GPUPOOL_ROLE=agent, the contributor chart's defaults), "
                + "log in " + agent.log + "; its pool kubeconfig is the one from that Secret, saved to "
                + hubKubeconfig() + "."));
        awaitOrFail(() -> registeredNodes(HOME_LAB) == HOME_LAB_NODES.size(), Duration.ofSeconds(120),
                "The agent did not register " + HOME_LAB + "'s nodes at the pool: see " + agent.log);
        settle();

        step("Members apply ModelDeployments",
                "uni-nlp serves Llama 3.1 8B (2 replicas), the home collective a quantized Qwen coder on llama.cpp, and "
                        + "open-lab a shared Llama 3.1 70B (fp8, 2 GPUs per replica) that every organization may call. "
                        + "The Qwen coder wants an RTX 4090: those are in " + HOME_LAB + ", so the pool writes a "
                        + "ServingWork into its hub namespace; the agent runs it as a Deployment in its own cluster and "
                        + "reports readiness back.");
        for (String file : List.of("10-modeldeployment-llama-8b.yaml", "11-modeldeployment-qwen-gguf.yaml",
                "12-modeldeployment-shared-70b.yaml")) {
            apply(Path.of("examples", file));
        }
        settle();
        printContributedWork();

        step("The home collective borrows idle A100s",
                "It asks for 3 replicas of a model that needs 80 GB cards; it contributes none, so it borrows "
                        + "uni-nlp's idle A100s and open-lab's H100s.");
        ModelDeployment borrower = Serialization.unmarshal(Files.readString(Path.of("examples",
                "10-modeldeployment-llama-8b.yaml")), ModelDeployment.class);
        borrower.getMetadata().setNamespace("home-collective");
        borrower.getMetadata().setName("mistral-borrowed");
        borrower.getSpec().model.source = "hf://mistralai/Mistral-Small-24B-Instruct-2501";
        borrower.getSpec().model.parametersBillions = 24.0;
        borrower.getSpec().replicas = 3;
        borrower.getSpec().gpu.classes = List.of("a100-80g", "h100-80g");
        borrower.getSpec().hfTokenSecretRef = null;
        client.resource(borrower).createOr(r -> r.update());
        settle();

        step("uni-nlp reclaims its A100s",
                "uni-nlp serves its own 24B model (2 replicas) on the two A100s its Llama 8B leaves free, which the "
                        + "home collective borrowed. They are within uni-nlp's nominal quota, so the borrowed replicas "
                        + "are evicted (gracefully, after the drain grace period) and placed elsewhere or wait, with a "
                        + "Preempted condition until they are whole again.");
        ModelDeployment reclaim = Serialization.unmarshal(Serialization.asYaml(borrower), ModelDeployment.class);
        reclaim.getMetadata().setNamespace("uni-nlp");
        reclaim.getMetadata().setName("mistral-uni");
        reclaim.getMetadata().setResourceVersion(null);
        reclaim.getMetadata().setUid(null);
        reclaim.getSpec().replicas = 2;
        reclaim.getSpec().gpu.classes = List.of("a100-80g");
        reclaim.setStatus(null);
        client.resource(reclaim).createOr(r -> r.update());
        settle();

        withdrawANode();

        step("The shared model scales",
                "open-lab scales the shared Llama 70B to 2 replicas: community deployments draw on the commons first.");
        client.resources(ModelDeployment.class).inNamespace("open-lab").withName("llama-70b").edit(md -> {
            md.getSpec().replicas = 2;
            return md;
        });
        settle();

        step("Members call models through the pool's gateway",
                "One URL and one key per member: uni-nlp and the home collective create ApiKeys (the operator writes "
                        + "each value once into a Secret and keeps only its hash). With the official OpenAI Java "
                        + "client they list the models they may call, chat, stream, and call open-lab's shared 70B; "
                        + "the home collective calls its Qwen coder, which runs in " + HOME_LAB + " behind its NAT, "
                        + "through the tunnel its agent opened out to the gateway; "
                        + "a private model of another organization is refused. The replies come from SIMULATED "
                        + "engines; the tokens are counted per organization into Organization status.usage.");
        calls = new PlaygroundGateway(client, gateway.url(), tunnels());
        calls.demonstrate();

        step("A model that follows its load: scale from zero",
                "uni-nlp applies an autoscaled copy of its Llama 8B with minReplicas 0: it holds no GPU until called. "
                        + "The first request is held by the gateway, which writes its report at once; the operator, "
                        + "woken by that write, admits a replica and creates its Deployment; the gateway releases the "
                        + "request when the replica is ready. The operator's part and the pod start plus SIMULATED "
                        + "model load (" + LOAD_DELAY_MILLIS + " ms here) are timed separately.");
        calls.scaleFromZero(GatewayProcess.NAMESPACE);
    }

    /**
     * The pool admin approves home-lab (examples/20-contributedcluster.yaml, for the home collective), the operator
     * issues its kubeconfig, and the contributor starts the agent with it, read from the Secret as a contributor would.
     */
    AgentProcess approveAndStartAgent() throws IOException {
        ContributedCluster cc = Serialization.unmarshal(Files.readString(Path.of("examples",
                "20-contributedcluster.yaml")), ContributedCluster.class);
        cc.getSpec().organization = HOME_COLLECTIVE;
        cc.getSpec().displayName = "The home collective's home lab (2 boxes with 2x RTX 4090, a T4)";
        client.resource(cc).createOr(r -> r.update());
        ContributedCluster ready = client.resources(ContributedCluster.class).withName(HOME_LAB)
                .waitUntilCondition(c -> c != null && c.getStatus() != null && c.getStatus().kubeconfigSecret != null
                        && Conditions.isTrue(c.getStatus().conditions, Conditions.READY), 90, TimeUnit.SECONDS);
        Secret issued = client.secrets().inNamespace(ready.getStatus().namespace).withName(ready.getStatus().kubeconfigSecret)
                .get();
        Files.writeString(hubKubeconfig(), new String(Base64.getDecoder().decode(
                issued.getData().get(ContributedClusterReconciler.KUBECONFIG_KEY)), StandardCharsets.UTF_8));
        AgentProcess agent = AgentProcess.start(jar, homeLab.kubeconfig(),
                homeLab.chart.agentEnvironment(HOME_COLLECTIVE, HOME_LAB, hubKubeconfig(), tunnels() ? gateway.base()
                        : null),
                workDir.resolve("agent-" + HOME_LAB + ".log"));
        running.push(agent);
        return agent;
    }

    /**
     * Whether home-lab's agent opens its tunnel to the gateway: the gateway checks an agent's token with a TokenReview,
     * which only a real API server answers (the embedded one cannot tell a token from another).
     */
    boolean tunnels() {
        return server.isReal;
    }

    ContributorCluster homeLab() {
        return homeLab;
    }

    KubernetesClient client() {
        return client;
    }

    private Path hubKubeconfig() {
        return workDir.resolve(HOME_LAB).resolve("hub.kubeconfig");
    }

    /** GpuNodes of a cluster that its agent has registered and reported a heartbeat for. */
    int registeredNodes(String cluster) {
        return (int) client.resources(GpuNode.class).inNamespace(NodeTrust.hubNamespace(cluster)).list().getItems()
                .stream().filter(n -> n.getStatus() != null && n.getStatus().lastHeartbeatTime != null).count();
    }

    /** The other side of the link: what the pool asked home-lab to run, and what runs in home-lab's own API server. */
    private void printContributedWork() {
        for (ServingWork w : client.resources(ServingWork.class).inNamespace(NodeTrust.hubNamespace(HOME_LAB)).list()
                .getItems()) {
            String applied = w.getStatus() == null ? "not reported yet"
                    : Conditions.find(w.getStatus().conditions, ContributorAgent.APPLIED).map(c -> c.getReason())
                            .orElse("-") + ", " + Objects.requireNonNullElse(w.getStatus().readyReplicas, 0) + " ready";
            System.out.printf("   pool: ServingWork %s/%s, %d replica(s): %s%n", w.getMetadata().getNamespace(),
                    w.getMetadata().getName(), w.getSpec().replicas, applied);
        }
        for (Deployment d : homeLab.servingDeployments()) {
            Integer ready = d.getStatus() == null ? null : d.getStatus().getReadyReplicas();
            System.out.printf("   %s: Deployment %s/%s (run by the agent), %d/%d ready%n", HOME_LAB,
                    d.getMetadata().getNamespace(), d.getMetadata().getName(), ready == null ? 0 : ready,
                    d.getSpec().getReplicas());
        }
    }

    /**
     * home-lab takes back the machine that runs the most replicas, the way a contributor does: in its own cluster it
     * removes the contribution label. What the pool then does (the GpuNode goes, or stays cordoned while it drains;
     * the replicas move) is read back from the API, not assumed.
     */
    private void withdrawANode() throws Exception {
        String node = busiestNode(HOME_LAB).orElse(HOME_LAB_NODES.keySet().iterator().next());
        Map<String, List<Placement>> before = placementsOn(HOME_LAB, node);
        step("A contributor withdraws a node",
                "The home collective takes the RTX box " + node + " back: in its own cluster it removes the label "
                        + homeLab.chart.nodeSelectorString() + ". Its agent tells the pool, which places no new "
                        + "replicas there, and its replicas are placed elsewhere.");
        homeLab.withdraw(node);
        boolean moved = await(() -> placementsOn(HOME_LAB, node).isEmpty(), Duration.ofSeconds(90));
        settle();
        GpuNode gone = client.resources(GpuNode.class).inNamespace(NodeTrust.hubNamespace(HOME_LAB)).withName(node).get();
        System.out.println(gone == null ? wrap("What the pool did: GpuNode " + HOME_LAB + "/" + node + " is gone.")
                : wrap("What the pool did: GpuNode " + HOME_LAB + "/" + node + " is still listed, unschedulable="
                        + gone.getSpec().unschedulable + ", Ready: " + (gone.getStatus() == null ? "-"
                                : Conditions.find(gone.getStatus().conditions, Conditions.READY)
                                        .map(c -> c.getReason() + " (" + c.getMessage() + ")").orElse("-"))));
        printContributedWork();
        if (before.isEmpty()) {
            System.out.println("   No replicas ran there.");
        }
        for (var e : before.entrySet()) {
            String[] ref = e.getKey().split("/");
            ModelDeployment md = client.resources(ModelDeployment.class).inNamespace(ref[0]).withName(ref[1]).get();
            var s = md == null ? null : md.getStatus();
            String now = s == null || s.placements == null || s.placements.isEmpty() ? "no placement"
                    : s.placements.stream().map(p -> p.cluster + "/" + p.node + "x" + p.replicas)
                            .collect(Collectors.joining(","));
            String ready = s == null || s.replicas == null ? "-" : s.replicas.ready + "/" + s.replicas.desired;
            String waiting = s == null ? "" : Conditions.find(s.conditions, Conditions.ADMITTED)
                    .filter(c -> !"Admitted".equals(c.getReason())).map(c -> ", waiting: " + c.getReason()).orElse("");
            System.out.println(wrap(e.getKey() + ": was " + e.getValue().stream()
                    .map(p -> p.cluster + "/" + p.node + "x" + p.replicas).collect(Collectors.joining(","))
                    + ", now " + now + ", ready " + ready + waiting
                    + (moved ? "" : " (still placed on " + node + " after 90 s)")));
        }
    }

    /** The node of a cluster with the most replicas placed on it, per the ModelDeployments' status. */
    private java.util.Optional<String> busiestNode(String cluster) {
        Map<String, Integer> replicas = new LinkedHashMap<>();
        for (ModelDeployment md : client.resources(ModelDeployment.class).inAnyNamespace().list().getItems()) {
            if (md.getStatus() != null && md.getStatus().placements != null) {
                md.getStatus().placements.stream().filter(p -> cluster.equals(p.cluster))
                        .forEach(p -> replicas.merge(p.node, p.replicas, Integer::sum));
            }
        }
        return replicas.entrySet().stream().max(Map.Entry.comparingByValue()).map(Map.Entry::getKey);
    }

    /** Placements on one node, by ModelDeployment (namespace/name). */
    private Map<String, List<Placement>> placementsOn(String cluster, String node) {
        Map<String, List<Placement>> out = new LinkedHashMap<>();
        for (ModelDeployment md : client.resources(ModelDeployment.class).inAnyNamespace().list().getItems()) {
            if (md.getStatus() == null || md.getStatus().placements == null) {
                continue;
            }
            List<Placement> here = md.getStatus().placements.stream()
                    .filter(p -> cluster.equals(p.cluster) && node.equals(p.node) && p.replicas > 0).toList();
            if (!here.isEmpty()) {
                out.put(md.getMetadata().getNamespace() + "/" + md.getMetadata().getName(), here);
            }
        }
        return out;
    }

    private void step(String title, String why) {
        System.out.println();
        System.out.println("== " + title);
        System.out.println(wrap(why));
    }

    /** Waits until the tables stop changing (the operator, the agent and the kubelets have caught up), then prints them. */
    private void settle() throws InterruptedException {
        String last = null;
        int stable = 0;
        Instant deadline = Instant.now().plusSeconds(40);
        while (Instant.now().isBefore(deadline) && stable < 3) {
            Thread.sleep(1500);
            String now = table.render();
            stable = now.equals(last) ? stable + 1 : 0;
            last = now;
        }
        System.out.println(last);
    }

    /** Polls until the condition holds or the time is up; says which. */
    private static boolean await(BooleanSupplier condition, Duration atMost) throws InterruptedException {
        Instant deadline = Instant.now().plus(atMost);
        while (!condition.getAsBoolean()) {
            if (Instant.now().isAfter(deadline)) {
                return false;
            }
            Thread.sleep(500);
        }
        return true;
    }

    private static void awaitOrFail(BooleanSupplier condition, Duration atMost, String failure)
            throws InterruptedException {
        if (!await(condition, atMost)) {
            throw new IllegalStateException(failure);
        }
    }

    private void contributeLocalNode(String fixture, String organization) {
        SimulatedKubelet.registerNode(client, PoolFixtures.node(fixture, organization));
    }

    void apply(Path file) throws IOException {
        Object parsed = Serialization.unmarshal(Files.readString(file));
        List<?> objects = parsed instanceof List<?> l ? l : List.of(parsed);
        for (Object o : objects) {
            HasMetadata h = (HasMetadata) o;
            if ("ModelDeployment".equals(h.getKind())) {
                h = Serialization.unmarshal(Serialization.asYaml(h), ModelDeployment.class);
                ((ModelDeployment) h).getSpec().hfTokenSecretRef = null; // no gated models in the playground
            } else if ("Organization".equals(h.getKind())) {
                h = Serialization.unmarshal(Serialization.asYaml(h), Organization.class);
            }
            final HasMetadata obj = h;
            client.resource(obj).createOr(r -> r.update());
        }
    }

    /** Stops everything it started, newest first (the agent and the operator before the API servers they use). */
    @Override
    public void close() {
        // Ctrl-C interrupts the main thread; closing must still wait for the processes to stop.
        boolean interrupted = Thread.interrupted();
        while (!running.isEmpty()) {
            try {
                running.pop().close();
            } catch (Exception e) {
                System.out.println("  (while stopping: " + e + ")");
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    static String wrap(String text) {
        StringBuilder out = new StringBuilder("   ");
        int col = 3;
        for (String word : text.split(" ")) {
            if (col + word.length() > 116) {
                out.append("\n   ");
                col = 3;
            }
            out.append(word).append(' ');
            col += word.length() + 1;
        }
        return out.toString().stripTrailing();
    }

    static String fmt(String format, Object... args) {
        return String.format(Locale.ROOT, format, args);
    }

    static List<String> lines(String s) {
        return new ArrayList<>(List.of(s.split("\n")));
    }

    private static Map<String, String> orderedMap(String... keysAndValues) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            m.put(keysAndValues[i], keysAndValues[i + 1]);
        }
        return java.util.Collections.unmodifiableMap(m);
    }
}
