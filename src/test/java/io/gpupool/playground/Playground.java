package io.gpupool.playground;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Stream;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.gpupool.api.v1alpha1.ApiGroup;
import io.gpupool.api.v1alpha1.ModelDeployment;
import io.gpupool.api.v1alpha1.Organization;

/**
 * The pool on one laptop: an API server, the real operator (the packaged Quarkus application, run as a process exactly
 * as in production, minus leader election), simulated GPU nodes from three organizations and a simulated kubelet, then
 * a scripted scenario. Run it with hack/playground.sh.
 */
public final class Playground {

    /** Nodes of the simulated contributed clusters: a lab DGX, a university A100 server and L4, home RTX cards. */
    static final Map<String, String> NODES = Map.of(
            "dgx-h100-01", "open-lab",
            "a100-80g-01", "uni-nlp",
            "l4-01", "uni-nlp",
            "rtx4090-home-01", "home-collective",
            "t4-01", "home-collective");

    /** Held so that JUL keeps the level: it forgets a logger nobody references. */
    private static final java.util.logging.Logger MOCK_SERVER_LOG = java.util.logging.Logger
            .getLogger("io.fabric8.mockwebserver");

    private final KubernetesClient client;
    private final PoolTable table;

    Playground(KubernetesClient client) {
        this.client = client;
        this.table = new PoolTable(client);
    }

    public static void main(String[] args) throws Exception {
        run(args);
        // The clients' event loops are not daemon threads; everything is closed by now.
        System.exit(0);
    }

    static void run(String[] args) throws Exception {
        MOCK_SERVER_LOG.setLevel(java.util.logging.Level.WARNING);
        boolean embedded = List.of(args).contains("--embedded");
        boolean exitAfterScenario = List.of(args).contains("--exit-after-scenario");
        Path workDir = Files.createDirectories(Path.of("target", "playground"));
        System.out.println("gpupool playground: starting an API server ...");
        Instant started = Instant.now();
        try (PlaygroundApiServer server = PlaygroundApiServer.start(workDir, embedded);
                KubernetesClient client = server.client()) {
            System.out.println("  API server: " + server.describe());
            Playground playground = new Playground(client);
            playground.installApi();
            try (OperatorProcess operator = OperatorProcess.start(server, workDir);
                    SimulatedKubelet kubelet = new SimulatedKubelet(client, 3000)) {
                System.out.println("  operator: the real gpupool operator, log in " + operator.log);
                System.out.println("  kubelet: SIMULATED - serving pods become Ready after a 3 s 'load'; no engine runs,"
                        + " no model is downloaded.");
                kubelet.start();
                CountDownLatch stop = new CountDownLatch(1);
                Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                    stop.countDown();
                    System.out.println("\nStopping the playground ...");
                }));
                playground.scenario();
                System.out.printf("%nPlayground ready in %d s. Try it yourself:%n", Duration.between(started, Instant.now()).toSeconds());
                System.out.println("  export KUBECONFIG=" + server.kubeconfig.toAbsolutePath());
                System.out.println("  kubectl get gpupool -A");
                System.out.println("  kubectl apply -f examples/10-modeldeployment-llama-8b.yaml   # or your own ModelDeployment");
                System.out.println("  kubectl get md -A -w");
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
                    stop.await(2, java.util.concurrent.TimeUnit.SECONDS);
                }
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

    void scenario() throws Exception {
        step("Organizations contribute GPU nodes",
                "open-lab brings a DGX H100 (8 GPUs), uni-nlp an A100 80GB server (4) and an L4, the home collective "
                        + "two RTX 4090s and a T4. Each Node is labelled gpupool.io/organization; the operator turns it "
                        + "into a GpuNode and counts it in its organization's quota.");
        for (var e : NODES.entrySet()) {
            contributeNode(e.getKey(), e.getValue());
        }
        settle();

        step("Members apply ModelDeployments",
                "uni-nlp serves Llama 3.1 8B (2 replicas), the home collective a quantized Qwen coder on llama.cpp, and "
                        + "open-lab a shared Llama 3.1 70B (fp8, 2 GPUs per replica) that every organization may call.");
        for (String file : List.of("10-modeldeployment-llama-8b.yaml", "11-modeldeployment-qwen-gguf.yaml",
                "12-modeldeployment-shared-70b.yaml")) {
            apply(Path.of("examples", file));
        }
        settle();

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
                "uni-nlp scales its own 24B model onto the A100s it contributed. Its replicas fit within its nominal "
                        + "quota, so borrowed replicas are evicted (gracefully, after the drain grace period) and go "
                        + "back to Pending with a Preempted condition.");
        ModelDeployment reclaim = Serialization.unmarshal(Serialization.asYaml(borrower), ModelDeployment.class);
        reclaim.getMetadata().setNamespace("uni-nlp");
        reclaim.getMetadata().setName("mistral-uni");
        reclaim.getMetadata().setResourceVersion(null);
        reclaim.getMetadata().setUid(null);
        reclaim.getSpec().replicas = 3;
        reclaim.getSpec().gpu.classes = List.of("a100-80g");
        reclaim.setStatus(null);
        client.resource(reclaim).createOr(r -> r.update());
        settle();

        step("A contributor withdraws a node",
                "The home collective takes one RTX 4090 box back (removes its gpupool.io/organization label). Its "
                        + "GpuNode leaves the pool, and the replicas that ran there are placed elsewhere or wait.");
        client.nodes().withName("rtx4090-home-01").edit(n -> {
            n.getMetadata().getLabels().remove(ApiGroup.ORGANIZATION_LABEL);
            return n;
        });
        settle();

        step("The shared model scales",
                "open-lab scales the shared Llama 70B to 2 replicas: community deployments draw on the commons first.");
        client.resources(ModelDeployment.class).inNamespace("open-lab").withName("llama-70b").edit(md -> {
            md.getSpec().replicas = 2;
            return md;
        });
        settle();
    }

    private void step(String title, String why) {
        System.out.println();
        System.out.println("== " + title);
        System.out.println(wrap(why));
    }

    /** Waits until the tables stop changing (the operator and the kubelet have caught up), then prints them. */
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

    private void contributeNode(String fixture, String organization) throws IOException {
        try (InputStream in = Playground.class.getResourceAsStream("/fixtures/nodes/" + fixture + ".yaml")) {
            Node node = Serialization.unmarshal(in, Node.class);
            node.getMetadata().getLabels().put(ApiGroup.ORGANIZATION_LABEL, organization);
            var status = node.getStatus();
            client.nodes().resource(node).createOr(r -> r.update());
            Node stored = client.nodes().withName(fixture).get();
            stored.setStatus(status);
            client.nodes().resource(stored).updateStatus();
        }
    }

    private void apply(Path file) throws IOException {
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
}
