package io.gpupool.apiserver;

import static io.gpupool.apiserver.RawObjects.JSON;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.BiConsumer;
import java.util.stream.Collectors;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.node.ObjectNode;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.gpupool.api.v1alpha1.ApiGroup;
import io.gpupool.api.v1alpha1.ModelDeployment;
import io.gpupool.core.status.Conditions;
import io.gpupool.core.validation.ModelDeploymentValidator;

/**
 * Bad input at scale: 1,000 ModelDeployments, each a valid one broken by 1-3 random mutations (seeded: wrong types,
 * missing and unknown fields, huge and negative numbers, long and non-ASCII strings, unsupported model sources,
 * invalid names), sent as raw JSON so that wrong types reach the server, while the operator runs and a few valid
 * ModelDeployments are applied alongside. Each one must be refused by the server with 422, or, once stored, be
 * reported by the operator as InvalidSpec, or (when the mutation happened to be harmless) pass the operator's validator
 * and be admitted or wait for capacity. The operator must not fail reconciles, must not retry in a loop (reconciles
 * are counted per object, and nothing may change during a quiet period), and must keep serving the valid ones.
 */
@ApiServerTier
class BadInputAtScaleApiServerTest {

    private static final long SEED = 20261125L;
    private static final int COUNT = 1000;
    private static final String NS = "fuzz-team";
    private static final String ORG = "fuzz-org";
    private static final Set<String> VALID_WAIT_REASONS = Set.of("Admitted", "InsufficientCapacity", "NoMatchingGpu",
            "QuotaExceeded");

    private static KubernetesClient client;
    private static TestPool pool;
    private static InProcessOperator operator;

    @BeforeAll
    static void start(RealKubeApiServer.Server server) {
        server.applyCrds();
        client = server.admin();
        pool = new TestPool(client).member(NS, ORG)
                .gpuClass("fuzz-a10", 20000, "NVIDIA-A10")
                .gpuClass("fuzz-control", 80000, "NVIDIA-A100-SXM4-80GB");
        operator = InProcessOperator.start(client);
        pool.contribute("a10-01", ORG).contribute("a100-80g-01", ORG);
    }

    @AfterAll
    static void stop() {
        TestPool.tearDown(pool, operator);
    }

    record Mutation(String name, BiConsumer<ObjectNode, Random> apply) {
    }

    static Mutation m(String name, BiConsumer<ObjectNode, Random> apply) {
        return new Mutation(name, apply);
    }

    static BiConsumer<ObjectNode, Random> set(String path, Object value) {
        return (o, r) -> RawObjects.set(o, path, JSON.valueToTree(value));
    }

    static BiConsumer<ObjectNode, Random> remove(String path) {
        return (o, r) -> RawObjects.remove(o, path);
    }

    static String repeat(String s, int n) {
        return s.repeat(n);
    }

    static final List<Mutation> MUTATIONS = List.of(
            // wrong types
            m("replicas string", set("spec.replicas", "3")),
            m("replicas bool", set("spec.replicas", true)),
            m("replicas fraction", set("spec.replicas", 1.5)),
            m("replicas list", set("spec.replicas", List.of(1))),
            m("gpu.count string", set("spec.gpu.count", "one")),
            m("gpu string", set("spec.gpu", "a10")),
            m("model string", set("spec.model", "hf://meta-llama/Llama-3.1-8B-Instruct")),
            m("engineArgs string", set("spec.engineArgs", "--enable-prefix-caching")),
            m("env object", set("spec.env", Map.of("A", "b"))),
            m("shared string", set("spec.shared", "true")),
            m("priority fraction", set("spec.priority", 0.5)),
            m("parametersBillions string", set("spec.model.parametersBillions", "8B")),
            m("spec list", set("spec", List.of("x"))),
            m("classes item number", set("spec.gpu.classes", List.of(7))),
            // missing fields
            m("no spec.model", remove("spec.model")),
            m("no spec.model.source", remove("spec.model.source")),
            m("no spec", remove("spec")),
            m("no parametersBillions", remove("spec.model.parametersBillions")),
            m("no replicas", remove("spec.replicas")),
            m("no gpu.count", remove("spec.gpu.count")),
            // unknown fields
            m("unknown spec field", set("spec.modelName", "llama")),
            m("unknown model field", set("spec.model.quantization", "awq")),
            m("unknown gpu field", set("spec.gpu.type", "a100")),
            m("unknown top-level field", (o, r) -> o.putObject("extra").put("x", 1)),
            // huge and negative numbers
            m("replicas 2^31", set("spec.replicas", 2147483648L)),
            m("replicas -1", set("spec.replicas", -1)),
            m("replicas 0", set("spec.replicas", 0)),
            m("gpu.count max long", set("spec.gpu.count", Long.MAX_VALUE)),
            m("gpu.count negative", set("spec.gpu.count", -5)),
            m("minMemoryMiB 2^53", set("spec.gpu.minMemoryMiB", 9007199254740992L)),
            m("minMemoryMiB 1", set("spec.gpu.minMemoryMiB", 1)),
            m("priority 10^15", set("spec.priority", 1_000_000_000_000_000L)),
            m("priority -10^6", set("spec.priority", -1_000_000)),
            m("maxContextLength -1", set("spec.model.maxContextLength", -1)),
            m("maxContextLength 2^40", set("spec.model.maxContextLength", 1L << 40)),
            m("parametersBillions 1e308", set("spec.model.parametersBillions", 1e308)),
            m("parametersBillions -0.5", set("spec.model.parametersBillions", -0.5)),
            m("parametersBillions 0", set("spec.model.parametersBillions", 0)),
            m("parametersBillions 10000", set("spec.model.parametersBillions", 10000)),
            m("architecture huge", set("spec.model.architecture", Map.of("layers", 1L << 40, "kvHeads", 8, "headDim", 128))),
            // long strings
            m("source 600 chars", set("spec.model.source", "hf://org/" + repeat("x", 600))),
            m("source 400 chars", set("spec.model.source", "hf://org/" + repeat("x", 400))),
            m("engineArg 2000 chars", set("spec.engineArgs", List.of("--x=" + repeat("y", 2000)))),
            m("100 engineArgs", set("spec.engineArgs", java.util.Collections.nCopies(100, "--x"))),
            m("revision 300 chars", set("spec.model.revision", repeat("r", 300))),
            m("servedModelName 200 chars", set("spec.model.servedModelName", repeat("s", 200))),
            m("file 300 chars", set("spec.model.file", repeat("f", 296) + ".gguf")),
            // non-ASCII
            m("non-ASCII source", set("spec.model.source", "hf://Mistral/模型-ünïcødé")),
            m("non-ASCII revision", set("spec.model.revision", "main-ü")),
            m("non-ASCII engineArg", set("spec.engineArgs", List.of("--tokenizer-mode=ünicode-🦙"))),
            m("non-ASCII servedModelName", set("spec.model.servedModelName", "モデル")),
            m("non-ASCII env name", set("spec.env", List.of(Map.of("name", "ÜBER", "value", "x")))),
            m("non-ASCII env value", set("spec.env", List.of(Map.of("name", "GREETING", "value", "grüß dich 🦙")))),
            m("env value and valueFrom", set("spec.env", List.of(Map.of("name", "TOKEN", "value", "x", "valueFrom",
                    Map.of("secretKeyRef", Map.of("name", "s", "key", "k")))))),
            m("env name starts with digit", set("spec.env", List.of(Map.of("name", "1ST", "value", "x")))),
            // unsupported model sources
            m("s3 source", set("spec.model.source", "s3://bucket/models/llama")),
            m("pvc source", set("spec.model.source", "pvc://models/llama-8b")),
            m("https source", set("spec.model.source", "https://huggingface.co/meta-llama/Llama-3.1-8B")),
            m("hf source without name", set("spec.model.source", "hf://meta-llama")),
            m("upper-case scheme", set("spec.model.source", "HF://meta-llama/Llama")),
            m("not a url", set("spec.model.source", "not a url")),
            // invalid names
            m("name upper case", (o, r) -> RawObjects.at(o, "metadata").put("name", "Llama-" + r.nextInt(1_000_000))),
            m("name with dot", (o, r) -> RawObjects.at(o, "metadata").put("name", "llama.v" + r.nextInt(1_000_000))),
            m("name starts with digit", (o, r) -> RawObjects.at(o, "metadata").put("name", r.nextInt(1_000_000) + "-llama")),
            m("name 60 chars", (o, r) -> RawObjects.at(o, "metadata").put("name", "n" + r.nextInt(1_000_000) + "-" + repeat("a", 50))),
            m("name 254 chars", (o, r) -> RawObjects.at(o, "metadata").put("name", "n" + repeat("a", 253))),
            m("name non-ASCII", (o, r) -> RawObjects.at(o, "metadata").put("name", "модель-" + r.nextInt(1_000_000))),
            // semantics the schema cannot see
            m("engine tgi", set("spec.engine", "tgi")),
            m("dtype fp64", set("spec.model.dtype", "fp64")),
            m("llamacpp without file", set("spec.engine", "llamacpp")),
            m("trust-remote-code", set("spec.engineArgs", List.of("--trust-remote-code"))),
            m("reserved engine arg", set("spec.engineArgs", List.of("--port=9999"))),
            m("env HF_TOKEN", set("spec.env", List.of(Map.of("name", "HF_TOKEN", "value", "hf_x")))),
            m("env GPUPOOL_", set("spec.env", List.of(Map.of("name", "GPUPOOL_ENGINE", "value", "x")))),
            m("empty secret name", set("spec.hfTokenSecretRef", Map.of("name", ""))),
            m("unknown gpu class", set("spec.gpu.classes", List.of("no-such-class"))),
            m("bad gpu class name", set("spec.gpu.classes", List.of("Not_A_Class"))));

    static ObjectNode base(String name) {
        ObjectNode md = RawObjects.modelDeployment(NS, name);
        RawObjects.at(md, "spec.gpu").set("classes", RawObjects.array("fuzz-a10"));
        return md;
    }

    static ObjectNode control(String name) {
        ObjectNode md = RawObjects.modelDeployment(NS, name);
        RawObjects.at(md, "spec.gpu").set("classes", RawObjects.array("fuzz-control"));
        return md;
    }

    @Test
    void everyBadModelDeploymentIsRefusedOrReportedAndNothingLoops() throws Exception {
        long t0 = System.nanoTime();
        Random random = new Random(SEED);
        Map<String, List<String>> stored = new TreeMap<>();
        Map<String, Integer> refusedBy = new TreeMap<>();
        List<String> unexpected = new ArrayList<>();
        List<String> controls = new ArrayList<>();
        // Build all objects first (deterministic), then send them from a few threads, as many clients would.
        List<ObjectNode> objects = new ArrayList<>();
        List<List<String>> mutationsOf = new ArrayList<>();
        for (int i = 0; i < COUNT; i++) {
            if (i % 400 == 0) { // three of them: the node of their class has 4 GPUs, one stays for the late one
                String name = "control-" + controls.size();
                objects.add(control(name));
                mutationsOf.add(List.of());
                controls.add(name);
            }
            ObjectNode md = base("fuzz-" + i);
            List<String> applied = new ArrayList<>();
            int mutations = 1 + random.nextInt(3);
            for (int k = 0; k < mutations; k++) {
                Mutation mutation = MUTATIONS.get(random.nextInt(MUTATIONS.size()));
                if (md.get("spec") != null && !md.get("spec").isObject() && mutation.name().startsWith("no ")) {
                    continue;
                }
                try {
                    mutation.apply().accept(md, random);
                    applied.add(mutation.name());
                } catch (RuntimeException cannotApply) {
                    // e.g. a path under a field an earlier mutation turned into a string: skip it
                }
            }
            objects.add(md);
            mutationsOf.add(applied);
        }
        java.util.concurrent.ExecutorService senders = java.util.concurrent.Executors.newFixedThreadPool(4);
        try {
            List<java.util.concurrent.Future<String>> results = new ArrayList<>();
            for (ObjectNode md : objects) {
                results.add(senders.submit(() -> {
                    try {
                        return RawObjects.create(client, md).getMetadata().getName();
                    } catch (KubernetesClientException e) {
                        return e.getCode() == 422 ? null : "HTTP " + e.getCode() + ": " + e.getMessage();
                    }
                }));
            }
            for (int i = 0; i < objects.size(); i++) {
                String result = results.get(i).get();
                List<String> applied = mutationsOf.get(i);
                if (result == null) {
                    applied.forEach(a -> refusedBy.merge(a, 1, Integer::sum));
                } else if (result.startsWith("HTTP ")) {
                    unexpected.add(applied + " -> " + result);
                } else if (!controls.contains(result)) {
                    stored.put(result, applied);
                }
            }
        } finally {
            senders.shutdownNow();
        }
        long sent = System.nanoTime();
        assertThat(unexpected).as("answers other than 201 or 422").isEmpty();
        System.out.printf("[bad-input] %d sent in %d ms: %d refused with 422, %d stored%n", COUNT,
                (sent - t0) / 1_000_000, COUNT - stored.size(), stored.size());

        // The operator reports every stored one, once.
        await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofSeconds(1)).until(() -> unreported(stored.keySet()).isEmpty());
        long settled = System.nanoTime();

        Map<String, Integer> outcomes = new TreeMap<>();
        List<String> wrong = new ArrayList<>();
        for (ModelDeployment md : client.resources(ModelDeployment.class).inNamespace(NS).list().getItems()) {
            String name = md.getMetadata().getName();
            if (!stored.containsKey(name)) {
                continue;
            }
            String reason = Conditions.find(md.getStatus().conditions, Conditions.ADMITTED).map(c -> c.getReason()).orElse("none");
            String ready = Conditions.find(md.getStatus().conditions, Conditions.READY).map(c -> c.getReason()).orElse("none");
            List<String> problems = ModelDeploymentValidator.validate(name, md.getSpec());
            outcomes.merge(reason, 1, Integer::sum);
            if (Conditions.INVALID_SPEC.equals(reason)) {
                if (problems.isEmpty() || !"Failed".equals(md.getStatus().phase) || !deployments(name).isEmpty()) {
                    wrong.add(name + " " + stored.get(name) + ": InvalidSpec but validator says " + problems);
                }
            } else if (!problems.isEmpty() || !VALID_WAIT_REASONS.contains(reason) || "ReconcileError".equals(ready)) {
                wrong.add(name + " " + stored.get(name) + ": " + reason + "/" + ready + ", validator: " + problems
                        + ", conditions: " + md.getStatus().conditions);
            }
        }
        System.out.printf("[bad-input] reported within %d ms of the last write: %s%n", (settled - sent) / 1_000_000, outcomes);
        System.out.printf("[bad-input] refused mutations: %s%n", refusedBy);
        assertThat(wrong).as("stored ModelDeployments reported wrongly").isEmpty();
        assertThat(outcomes.getOrDefault(Conditions.INVALID_SPEC, 0)).as("InvalidSpec reports").isGreaterThan(100);

        // The valid ones applied alongside are served.
        for (String name : controls) {
            ModelDeployment md = client.resources(ModelDeployment.class).inNamespace(NS).withName(name).get();
            assertThat(md.getStatus().replicas.admitted).as(name).isEqualTo(1);
            assertThat(deployments(name)).as(name).hasSize(1);
            assertThat(client.services().inNamespace(NS).withName(name).get()).as(name).isNotNull();
        }

        // No retry loop: over a quiet period nothing is written (neither the ModelDeployments nor the pool objects
        // whose status the operator keeps) and (almost) nothing reconciled.
        Map<String, String> versions = versions();
        int reconcilesBefore = operator.reconciles().total();
        await().pollDelay(Duration.ofSeconds(8)).atMost(Duration.ofSeconds(9)).until(() -> true);
        assertThat(versions()).as("resourceVersions after a quiet period").isEqualTo(versions);
        int quietReconciles = operator.reconciles().total() - reconcilesBefore;
        var perObject = operator.reconciles().snapshot();
        int max = perObject.values().stream().mapToInt(Integer::intValue).max().orElse(0);
        System.out.printf("[bad-input] reconciles: %d in total for %d objects, at most %d for one (%s), %d in the quiet "
                + "period%n", operator.reconciles().total(), perObject.size(), max, perObject.entrySet().stream()
                        .sorted(Map.Entry.<io.javaoperatorsdk.operator.processing.event.ResourceID, Integer>comparingByValue()
                                .reversed()).limit(3).map(e -> e.getKey().getName() + "=" + e.getValue()).toList(),
                quietReconciles);
        assertThat(quietReconciles).as("reconciles during the quiet period").isLessThanOrEqualTo(2);
        assertThat(max).as("reconciles of one object").isLessThanOrEqualTo(25);
        assertThat(operator.reconciles().failures()).as("failed reconciles").isZero();

        // The operator is alive: a ModelDeployment applied now is served.
        RawObjects.create(client, control("control-late"));
        try {
            await().atMost(Duration.ofSeconds(30)).until(() -> deployments("control-late").size() == 1);
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            throw new AssertionError("control-late was not served: " + client.resources(ModelDeployment.class)
                    .inNamespace(NS).withName("control-late").get().getStatus().conditions, e);
        }
        System.out.printf("[bad-input] total %d ms%n", (System.nanoTime() - t0) / 1_000_000);
    }

    private static Set<String> unreported(Set<String> names) {
        Map<String, ModelDeployment> live = client.resources(ModelDeployment.class).inNamespace(NS).list().getItems()
                .stream().collect(Collectors.toMap(m -> m.getMetadata().getName(), m -> m));
        return names.stream().filter(n -> {
            ModelDeployment md = live.get(n);
            return md == null || md.getStatus() == null || md.getStatus().observedGeneration == null
                    || !md.getStatus().observedGeneration.equals(md.getMetadata().getGeneration());
        }).collect(Collectors.toSet());
    }

    private static Map<String, String> versions() {
        Map<String, String> out = new LinkedHashMap<>();
        client.resources(ModelDeployment.class).inNamespace(NS).list().getItems()
                .forEach(m -> out.put(m.getMetadata().getName(), m.getMetadata().getResourceVersion()));
        for (Class<? extends io.fabric8.kubernetes.client.CustomResource<?, ?>> kind : List.of(
                io.gpupool.api.v1alpha1.GpuNode.class, io.gpupool.api.v1alpha1.GpuClass.class,
                io.gpupool.api.v1alpha1.Organization.class)) {
            client.resources(kind).inAnyNamespace().list().getItems().forEach(o -> out.put(
                    o.getKind() + "/" + o.getMetadata().getName(), o.getMetadata().getResourceVersion()));
        }
        return out;
    }

    private static List<io.fabric8.kubernetes.api.model.apps.Deployment> deployments(String md) {
        return client.apps().deployments().inNamespace(NS).withLabel(ApiGroup.MODEL_DEPLOYMENT_LABEL, md).list().getItems();
    }

}
