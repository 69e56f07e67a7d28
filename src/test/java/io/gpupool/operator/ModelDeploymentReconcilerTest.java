package io.gpupool.operator;

import static io.gpupool.testing.PoolFixtures.gpuClass;
import static io.gpupool.testing.PoolFixtures.modelDeployment;
import static io.gpupool.testing.PoolFixtures.namespace;
import static io.gpupool.testing.PoolFixtures.node;
import static io.gpupool.testing.PoolFixtures.organization;
import static io.gpupool.testing.PoolFixtures.servingPod;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import jakarta.inject.Inject;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentStatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.gpupool.api.v1alpha1.ApiGroup;
import io.gpupool.api.v1alpha1.GpuNode;
import io.gpupool.api.v1alpha1.ModelDeployment;
import io.gpupool.api.v1alpha1.Placement;
import io.gpupool.core.status.Conditions;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;

/**
 * The operator against the Fabric8 mock server (CRUD mode): apply → workload, Service and status; scale; waiting for
 * capacity; cleanup; invalid specs; organization spoofing. The mock server has no controllers: tests play the
 * Deployment controller by writing Deployment status themselves.
 */
@QuarkusTest
@WithKubernetesTestServer
class ModelDeploymentReconcilerTest {

    private static final Duration WAIT = Duration.ofSeconds(20);

    @Inject
    KubernetesClient client;

    @Inject
    io.micrometer.core.instrument.MeterRegistry registry;

    private static int run;
    private String ns;

    @BeforeEach
    void pool() {
        // Every test gets its own namespace and organization; nodes and classes are shared and created once.
        run++;
        ns = "team-" + run;
        String org = "org-" + run;
        client.resource(organization(org, ns)).createOr(r -> r.update());
        client.resource(namespace(ns)).createOr(r -> r.update());
        if (client.resources(io.gpupool.api.v1alpha1.GpuClass.class).withName("l4-24g").get() == null) {
            client.resource(gpuClass("l4-24g", 20000, "NVIDIA-L4*")).create();
            client.resource(gpuClass("a100-80g", 80000, "NVIDIA-A100-SXM4-80GB")).create();
            client.resource(gpuClass("rtx-24g", 20000, "*RTX-4090*")).create();
        }
    }

    private ModelDeployment awaitStatus(String name, java.util.function.Predicate<ModelDeployment> ok) {
        await().atMost(WAIT).until(() -> {
            ModelDeployment md = client.resources(ModelDeployment.class).inNamespace(ns).withName(name).get();
            return md != null && md.getStatus() != null && ok.test(md);
        });
        return client.resources(ModelDeployment.class).inNamespace(ns).withName(name).get();
    }

    private Condition condition(ModelDeployment md, String type) {
        return Conditions.find(md.getStatus().conditions, type).orElseThrow();
    }

    private List<Deployment> deployments(String md) {
        return client.apps().deployments().inNamespace(ns).withLabel(ApiGroup.MODEL_DEPLOYMENT_LABEL, md).list()
                .getItems();
    }

    /** Contributes a copy of a fixture Node under a name of this test's own, so that tests never share a node. */
    private String contribute(String fixture, String org) {
        var node = node(fixture, org);
        String name = fixture + "-" + run;
        node.getMetadata().setName(name);
        client.resource(node).createOr(r -> r.update());
        await().atMost(WAIT).until(() -> client.resources(GpuNode.class).inNamespace("gpupool-cluster-local")
                .withName(name).get() != null);
        return name;
    }

    @Test
    void appliedModelIsPlacedServedAndReportsItsEndpoint() {
        String a100 = contribute("a100-80g-01", "org-" + run);
        long start = System.nanoTime();
        client.resource(modelDeployment(ns, "llama", 2, 1)).create();

        await().atMost(WAIT).until(() -> deployments("llama").size() == 1);
        long applyToWorkloadMillis = (System.nanoTime() - start) / 1_000_000;
        System.out.println("apply-to-workload: " + applyToWorkloadMillis + " ms");

        Deployment d = deployments("llama").get(0);
        assertThat(d.getSpec().getReplicas()).isEqualTo(2);
        assertThat(d.getMetadata().getOwnerReferences()).singleElement()
                .satisfies(o -> assertThat(o.getKind()).isEqualTo("ModelDeployment"));
        var pod = d.getSpec().getTemplate().getSpec();
        assertThat(pod.getAffinity().getNodeAffinity().getRequiredDuringSchedulingIgnoredDuringExecution()
                .getNodeSelectorTerms().get(0).getMatchFields().get(0).getValues()).containsExactly(a100);
        assertThat(pod.getContainers().get(0).getResources().getLimits().get("nvidia.com/gpu").getAmount()).isEqualTo("1");
        Service svc = client.services().inNamespace(ns).withName("llama").get();
        assertThat(svc).isNotNull();
        assertThat(svc.getSpec().getSelector()).containsEntry(ApiGroup.MODEL_DEPLOYMENT_LABEL, "llama");
        // Its pods admit only the gateway: the pods labelled as the gateway in the gateway's namespace.
        await().atMost(WAIT).until(() -> client.network().v1().networkPolicies().inNamespace(ns).withName("llama")
                .get() != null);
        var policy = client.network().v1().networkPolicies().inNamespace(ns).withName("llama").get();
        assertThat(policy.getSpec().getPodSelector().getMatchLabels()).containsEntry(ApiGroup.MODEL_DEPLOYMENT_LABEL,
                "llama");
        assertThat(d.getSpec().getTemplate().getMetadata().getLabels())
                .containsAllEntriesOf(policy.getSpec().getPodSelector().getMatchLabels());
        assertThat(policy.getSpec().getIngress()).singleElement().satisfies(rule -> assertThat(rule.getFrom())
                .singleElement().satisfies(peer -> {
                    assertThat(peer.getPodSelector().getMatchLabels())
                            .containsExactly(Map.entry("app.kubernetes.io/component", "gateway"));
                    assertThat(peer.getNamespaceSelector().getMatchLabels())
                            .containsExactly(Map.entry("kubernetes.io/metadata.name", "gpupool-system"));
                }));
        assertThat(policy.getMetadata().getOwnerReferences()).singleElement()
                .satisfies(o -> assertThat(o.getKind()).isEqualTo("ModelDeployment"));

        ModelDeployment md = awaitStatus("llama", m -> "Admitted".equals(m.getStatus().phase));
        assertThat(md.getStatus().placements).containsExactly(new Placement("local", a100, "a100-80g", 2));
        assertThat(md.getStatus().replicas.admitted).isEqualTo(2);
        assertThat(md.getStatus().organization).isEqualTo("org-" + run);
        assertThat(md.getStatus().endpoint).isEqualTo("http://llama." + ns + ".svc:8000/v1");
        assertThat(condition(md, Conditions.ADMITTED).getStatus()).isEqualTo("True");

        // Play the Deployment controller: the pods become ready.
        d.setStatus(new DeploymentStatusBuilder().withReplicas(2).withReadyReplicas(2).build());
        client.resource(d).updateStatus();
        md = awaitStatus("llama", m -> "Running".equals(m.getStatus().phase));
        assertThat(md.getStatus().replicas.ready).isEqualTo(2);
        assertThat(condition(md, Conditions.READY).getStatus()).isEqualTo("True");
        assertThat(md.getStatus().observedGeneration).isEqualTo(md.getMetadata().getGeneration());

        GpuNode gpuNode = client.resources(GpuNode.class).inNamespace("gpupool-cluster-local").withName(a100).get();
        await().atMost(WAIT).until(() -> {
            GpuNode n = client.resources(GpuNode.class).inNamespace("gpupool-cluster-local").withName(a100).get();
            return n.getStatus() != null && Integer.valueOf(2).equals(n.getStatus().allocated);
        });
        assertThat(gpuNode.getSpec().gpu.count).isEqualTo(4);

        // The same facts as Prometheus gauges.
        await().atMost(WAIT).untilAsserted(() -> {
            assertThat(registry.get("gpupool_gpus").tags("class", "a100-80g", "state", "allocated").gauge().value())
                    .isGreaterThanOrEqualTo(2);
            assertThat(registry.get("gpupool_gpus").tags("class", "a100-80g", "state", "schedulable").gauge().value())
                    .isEqualTo(4);
            assertThat(registry.get("gpupool_organization_used_gpus").tags("organization", "org-" + run, "class",
                    "a100-80g").gauge().value()).isEqualTo(2);
        });
    }

    @Test
    void aCordonedNodeHandsItsReplicasOverAndKeepsItsGpusBookedUntilTheyStop() {
        String org = "org-" + run;
        String first = contribute("l4-01", org);
        var md = modelDeployment(ns, "moving", 1, 1);
        md.getSpec().gpu.classes = List.of("l4-24g", "rtx-24g");
        client.resource(md).create();
        await().atMost(WAIT).until(() -> deployments("moving").size() == 1);
        Deployment old = deployments("moving").get(0);
        assertThat(old.getMetadata().getAnnotations()).containsEntry("gpupool.io/node", first);
        // Play the kubelet and the Deployment controller: the replica runs and is ready.
        client.resource(servingPod(old, "moving-old-0", true)).create();
        old.setStatus(new DeploymentStatusBuilder().withReplicas(1).withReadyReplicas(1).build());
        client.resource(old).updateStatus();
        awaitStatus("moving", m -> "Running".equals(m.getStatus().phase));
        contribute("rtx4090-home-01", org);

        // The owner cordons the node to take it back: the replica is placed elsewhere at once, and the old one keeps
        // serving until the new one is ready.
        client.nodes().withName(first).edit(n -> {
            n.getSpec().setUnschedulable(true);
            return n;
        });
        ModelDeployment moving = awaitStatus("moving", m -> !m.getStatus().handover.isEmpty());
        assertThat(moving.getStatus().handover).containsExactly(new Placement("local", first, "l4-24g", 1));
        assertThat(moving.getStatus().placements).singleElement().satisfies(p -> assertThat(p.node).isNotEqualTo(first));
        assertThat(moving.getStatus().replicas.ready).isEqualTo(1);
        await().atMost(WAIT).until(() -> deployments("moving").size() == 2);
        assertThat(client.apps().deployments().inNamespace(ns).withName(old.getMetadata().getName()).get()
                .getSpec().getReplicas()).isEqualTo(1);
        await().atMost(WAIT).untilAsserted(() -> assertThat(Conditions.find(client.resources(GpuNode.class)
                .inNamespace("gpupool-cluster-local").withName(first).get().getStatus().conditions, Conditions.READY)
                .orElseThrow().getReason()).isEqualTo("Withdrawing"));

        // The replacement is ready: the old replica stops (its Deployment goes); its pod still holds the GPU.
        Deployment replacement = deployments("moving").stream()
                .filter(d -> !d.getMetadata().getName().equals(old.getMetadata().getName())).findFirst().orElseThrow();
        replacement.setStatus(new DeploymentStatusBuilder().withReplicas(1).withReadyReplicas(1).build());
        client.resource(replacement).updateStatus();
        await().atMost(WAIT).until(() -> deployments("moving").size() == 1
                && deployments("moving").get(0).getMetadata().getName().equals(replacement.getMetadata().getName()));
        awaitStatus("moving", m -> m.getStatus().handover.isEmpty() && "Running".equals(m.getStatus().phase));
        await().during(Duration.ofSeconds(2)).atMost(WAIT).until(() -> allocated(first) == 1);

        // The pod is gone: the GPU is free, and the cordoned node offers nothing.
        client.pods().inNamespace(ns).withName("moving-old-0").delete();
        await().atMost(WAIT).until(() -> allocated(first) == 0);
        assertThat(client.resources(GpuNode.class).inNamespace("gpupool-cluster-local").withName(first).get()
                .getStatus().allocatable).isZero();
    }

    private int allocated(String node) {
        GpuNode n = client.resources(GpuNode.class).inNamespace("gpupool-cluster-local").withName(node).get();
        return n.getStatus() == null || n.getStatus().allocated == null ? -1 : n.getStatus().allocated;
    }

    @Test
    void scaleUpAndDownFollowsTheSpec() {
        contribute("rtx4090-home-01", "org-" + run);
        var md = modelDeployment(ns, "scaled", 1, 1);
        md.getSpec().gpu.classes = List.of("rtx-24g");
        client.resource(md).create();
        awaitStatus("scaled", m -> m.getStatus().replicas != null && m.getStatus().replicas.admitted == 1);

        client.resources(ModelDeployment.class).inNamespace(ns).withName("scaled").edit(m -> {
            m.getSpec().replicas = 2;
            return m;
        });
        awaitStatus("scaled", m -> m.getStatus().replicas.admitted == 2);
        await().atMost(WAIT).until(() -> deployments("scaled").stream().mapToInt(d -> d.getSpec().getReplicas()).sum() == 2);

        client.resources(ModelDeployment.class).inNamespace(ns).withName("scaled").edit(m -> {
            // More than all RTX cards the tests contribute: the rest waits, with a reason. (It may borrow RTX
            // GPUs other tests' organizations contributed: the mock server is shared by the test classes.)
            m.getSpec().replicas = 40;
            return m;
        });
        ModelDeployment waiting = awaitStatus("scaled", m -> m.getStatus().replicas.desired == 40
                && !"Admitted".equals(condition(m, Conditions.ADMITTED).getReason()));
        assertThat(waiting.getStatus().replicas.admitted).isBetween(2, 39);
        assertThat(condition(waiting, Conditions.ADMITTED).getReason()).isIn("InsufficientCapacity", "QuotaExceeded");

        client.resources(ModelDeployment.class).inNamespace(ns).withName("scaled").edit(m -> {
            m.getSpec().replicas = 1;
            return m;
        });
        awaitStatus("scaled", m -> m.getStatus().replicas.admitted == 1 && m.getStatus().replicas.desired == 1);
        await().atMost(WAIT).until(() -> deployments("scaled").stream().mapToInt(d -> d.getSpec().getReplicas()).sum() == 1);
    }

    @Test
    void waitsWithAReasonUntilANodeAppearsThenRuns() {
        var md = modelDeployment(ns, "big", 1, 8);
        md.getSpec().model.parametersBillions = 70.0;
        client.resource(md).create();
        ModelDeployment pending = awaitStatus("big", m -> "Pending".equals(m.getStatus().phase));
        Condition admitted = condition(pending, Conditions.ADMITTED);
        assertThat(admitted.getStatus()).isEqualTo("False");
        assertThat(admitted.getReason()).isEqualTo("NoMatchingGpu");
        assertThat(admitted.getMessage()).contains("8 GPU(s)");
        assertThat(deployments("big")).isEmpty();

        client.resource(gpuClass("h100-80g", 80000, "NVIDIA-H100-*")).createOr(r -> r.update());
        String dgx = contribute("dgx-h100-01", "org-" + run);
        ModelDeployment placed = awaitStatus("big", m -> m.getStatus().replicas.admitted == 1);
        assertThat(placed.getStatus().placements).extracting(p -> p.node).containsExactly(dgx);
        await().atMost(WAIT).until(() -> deployments("big").size() == 1);
    }

    @Test
    void deletingFreesTheGpusForTheNextInLine() {
        String l4 = contribute("l4-01", "org-" + run);
        var first = modelDeployment(ns, "first", 1, 1);
        first.getSpec().gpu.classes = List.of("l4-24g");
        first.getSpec().model.maxContextLength = 2048;
        client.resource(first).create();
        awaitStatus("first", m -> m.getStatus().replicas != null && m.getStatus().replicas.admitted == 1);
        var second = modelDeployment(ns, "second", 1, 1);
        second.getSpec().gpu.classes = List.of("l4-24g");
        second.getSpec().model.maxContextLength = 2048;
        client.resource(second).create();
        awaitStatus("second", m -> "InsufficientCapacity".equals(condition(m, Conditions.ADMITTED).getReason()));

        client.resources(ModelDeployment.class).inNamespace(ns).withName("first").delete();
        ModelDeployment admitted = awaitStatus("second", m -> m.getStatus().replicas.admitted == 1);
        assertThat(admitted.getStatus().placements).extracting(p -> p.node).containsExactly(l4);
    }

    @Test
    void aWithdrawnNodeLeavesThePoolAndItsReplicasMove() {
        String a10 = contribute("a10-01", "org-" + run);
        client.resource(gpuClass("a10-24g", 20000, "NVIDIA-A10")).createOr(r -> r.update());
        var md = modelDeployment(ns, "mover", 1, 1);
        md.getSpec().gpu.classes = List.of("a10-24g", "rtx-24g");
        md.getSpec().model.maxContextLength = 2048;
        client.resource(md).create();
        awaitStatus("mover", m -> m.getStatus().placements.stream().anyMatch(p -> p.node.equals(a10)));

        // The contributor takes the node back: its GpuNode goes, and the replica is placed on the next best class.
        String rtx = contribute("rtx4090-home-01", "org-" + run);
        client.nodes().withName(a10).edit(n -> {
            n.getMetadata().getLabels().remove(ApiGroup.ORGANIZATION_LABEL);
            return n;
        });
        await().atMost(WAIT).until(() -> client.resources(GpuNode.class).inNamespace("gpupool-cluster-local")
                .withName(a10).get() == null);
        ModelDeployment moved = awaitStatus("mover",
                m -> m.getStatus().placements.stream().anyMatch(p -> p.node.equals(rtx)));
        assertThat(moved.getStatus().placements).extracting(p -> p.node).containsExactly(rtx);
        await().atMost(WAIT).until(() -> deployments("mover").stream()
                .allMatch(d -> rtx.equals(d.getMetadata().getAnnotations().get("gpupool.io/node"))));
    }

    @Test
    void invalidSpecsAreReportedNotRetried() {
        Map<String, java.util.function.Consumer<ModelDeployment>> mutations = Map.of(
                "unknown-engine", m -> m.getSpec().engine = "tgi",
                "zero-gpus", m -> m.getSpec().gpu.count = 0,
                "s3-source", m -> m.getSpec().model.source = "s3://bucket/model",
                "remote-code", m -> m.getSpec().engineArgs = List.of("--trust-remote-code"),
                // The spellings the engines also accept, and what the API server refuses in the rendered container.
                "remote-code-underscores", m -> m.getSpec().engineArgs = List.of("--trust_remote_code"),
                "empty-value-from", m -> m.getSpec().env = List.of(new io.fabric8.kubernetes.api.model.EnvVarBuilder()
                        .withName("A").withNewValueFrom().endValueFrom().build()),
                "preload", m -> m.getSpec().env = List.of(new io.fabric8.kubernetes.api.model.EnvVar("LD_PRELOAD",
                        "/models/hf/evil.so", null)));
        mutations.forEach((name, mutate) -> {
            ModelDeployment md = modelDeployment(ns, name, 1, 1);
            mutate.accept(md);
            client.resource(md).create();
        });
        Map<String, String> expected = Map.of("unknown-engine", "unknown engine 'tgi'", "zero-gpus",
                "spec.gpu.count must be at least 1", "s3-source", "scheme 's3' is not supported yet",
                "remote-code", "allowRemoteCode is false", "remote-code-underscores", "allowRemoteCode is false",
                "empty-value-from", "must name exactly one source", "preload", "must not set LD_PRELOAD");
        expected.forEach((name, message) -> {
            ModelDeployment md = awaitStatus(name, m -> "Failed".equals(m.getStatus().phase));
            Condition admitted = condition(md, Conditions.ADMITTED);
            assertThat(admitted.getReason()).isEqualTo(Conditions.INVALID_SPEC);
            assertThat(admitted.getMessage()).contains(message);
            assertThat(deployments(name)).isEmpty();
            assertThat(md.getStatus().placements).as("GPUs booked for %s", name).isEmpty();
        });
        await().atMost(WAIT).untilAsserted(() -> assertThat(client.v1().events().inNamespace(ns).list().getItems())
                .filteredOn(e -> Conditions.INVALID_SPEC.equals(e.getReason()))
                .extracting(e -> e.getInvolvedObject().getName())
                .containsExactlyInAnyOrderElementsOf(expected.keySet()));
    }

    @Test
    void aReplicaLargerThanAnyNodeWaitsWithNoMatchingGpu() {
        contribute("l4-01", "org-" + run);
        var md = modelDeployment(ns, "huge", 1, 1);
        md.getSpec().model.parametersBillions = 405.0;
        client.resource(md).create();
        ModelDeployment pending = awaitStatus("huge", m -> "Pending".equals(m.getStatus().phase));
        assertThat(condition(pending, Conditions.ADMITTED).getReason()).isEqualTo("NoMatchingGpu");
        assertThat(pending.getStatus().estimatedMemoryMiB).isGreaterThan(80_000L);
    }

    @Test
    void namespaceWithoutOrganizationGetsAClearCondition() {
        client.resource(namespace("orphans")).createOr(r -> r.update());
        client.resource(modelDeployment("orphans", "lost", 1, 1)).create();
        await().atMost(WAIT).until(() -> {
            ModelDeployment md = client.resources(ModelDeployment.class).inNamespace("orphans").withName("lost").get();
            return md.getStatus() != null && md.getStatus().conditions.stream()
                    .anyMatch(c -> "NoOrganization".equals(c.getReason()) && c.getMessage().contains("orphans"));
        });
    }

    @Test
    void podsThatOnlyLookLikeServingPodsBookNoGpus() {
        // Another organization's tenant creates a decoy ModelDeployment and, in its own namespace, pods that carry the
        // serving labels and name this test's node; they are no Deployment's, and bound nowhere.
        String a100 = contribute("a100-80g-01", "org-" + run);
        String mallory = "mallory-" + run;
        client.resource(organization(mallory, mallory)).createOr(r -> r.update());
        client.resource(namespace(mallory)).createOr(r -> r.update());
        client.resource(modelDeployment(mallory, "decoy", 0, 1)).create();
        for (int i = 0; i < 4; i++) {
            client.resource(new io.fabric8.kubernetes.api.model.PodBuilder().withNewMetadata().withName("decoy-" + i)
                    .withNamespace(mallory)
                    .addToLabels(ApiGroup.MANAGED_BY_LABEL, ApiGroup.MANAGED_BY)
                    .addToLabels("app.kubernetes.io/component", "model-server")
                    .addToLabels(ApiGroup.MODEL_DEPLOYMENT_LABEL, "decoy")
                    .addToAnnotations("gpupool.io/node", a100).endMetadata()
                    .withNewSpec().addNewContainer().withName("c").withImage("busybox").endContainer().endSpec()
                    .withNewStatus().withPhase("Running").endStatus().build()).create();
        }
        // The pods wake the decoy, whose cycle sees them; then this organization's model is placed: the node's
        // books hold its replicas and nothing for the decoy.
        client.resource(modelDeployment(ns, "victim", 2, 1)).create();
        ModelDeployment victim = awaitStatus("victim", m -> "Admitted".equals(m.getStatus().phase));
        int onA100 = victim.getStatus().placements.stream().filter(p -> a100.equals(p.node)).mapToInt(p -> p.replicas)
                .sum();
        await().atMost(WAIT).until(() -> allocated(a100) == onA100);
        client.pods().inNamespace(mallory).delete();
    }

    @Test
    void sharingTakesThePoolsConsent() {
        contribute("t4-01", "org-" + run);
        var md = modelDeployment(ns, "community", 1, 1);
        md.getSpec().shared = true;
        client.resource(md).create();
        ModelDeployment privateOne = awaitStatus("community", m -> Conditions.find(m.getStatus().conditions,
                io.gpupool.core.inventory.Sharing.CONDITION).isPresent());
        Condition shared = condition(privateOne, io.gpupool.core.inventory.Sharing.CONDITION);
        assertThat(shared.getStatus()).isEqualTo("False");
        assertThat(shared.getReason()).isEqualTo("SharingNotAllowed");
        assertThat(shared.getMessage()).contains("allowSharedDeployments").contains("org-" + run);
        assertThat(sharedInTheLedger("community")).isFalse();

        // A pool admin consents for the organization.
        client.resources(io.gpupool.api.v1alpha1.Organization.class).withName("org-" + run).edit(o -> {
            o.getSpec().allowSharedDeployments = true;
            return o;
        });
        awaitStatus("community", m -> Conditions.isTrue(m.getStatus().conditions,
                io.gpupool.core.inventory.Sharing.CONDITION));
        await().atMost(WAIT).until(() -> sharedInTheLedger("community"));
    }

    @Inject
    io.gpupool.operator.scheduling.PoolScheduler scheduler;

    private boolean sharedInTheLedger(String name) {
        return scheduler.workloads().stream().filter(w -> w.id().equals(new io.gpupool.core.model.WorkloadId(ns, name)))
                .findFirst().orElseThrow().shared();
    }

    @Test
    void aNamespaceLabelJoinsNoOrganization() {
        // A tenant who may label its namespace names an organization it does not belong to: nothing follows.
        client.resource(new io.fabric8.kubernetes.api.model.NamespaceBuilder().withNewMetadata()
                .withName("squatters-" + run).addToLabels(ApiGroup.ORGANIZATION_LABEL, "org-" + run).endMetadata()
                .build()).createOr(r -> r.update());
        client.resource(modelDeployment("squatters-" + run, "free-ride", 1, 1)).create();
        await().atMost(WAIT).until(() -> {
            ModelDeployment md = client.resources(ModelDeployment.class).inNamespace("squatters-" + run)
                    .withName("free-ride").get();
            return md.getStatus() != null && md.getStatus().conditions.stream()
                    .anyMatch(c -> "NoOrganization".equals(c.getReason()) && c.getMessage().contains("no Organization"));
        });
        assertThat(client.resources(ModelDeployment.class).inNamespace("squatters-" + run).withName("free-ride").get()
                .getStatus().organization).isNull();
    }

    @Test
    void aNamespaceListedByTwoOrganizationsBelongsToNeitherUntilOneDropsIt() {
        contribute("t4-01", "org-" + run);
        client.resource(modelDeployment(ns, "contested", 1, 1)).create();
        awaitStatus("contested", m -> "Admitted".equals(m.getStatus().phase));

        // Another organization lists the namespace too: it belongs to neither, and both organizations say why.
        String rival = "rival-" + run;
        client.resource(organization(rival, ns)).createOr(r -> r.update());
        ModelDeployment orphaned = awaitStatus("contested", m -> Conditions.find(m.getStatus().conditions,
                Conditions.ADMITTED).map(c -> "NoOrganization".equals(c.getReason())).orElse(false));
        assertThat(condition(orphaned, Conditions.ADMITTED).getMessage()).contains("org-" + run).contains(rival);
        await().atMost(WAIT).until(() -> java.util.stream.Stream.of("org-" + run, rival).allMatch(o -> {
            var org = client.resources(io.gpupool.api.v1alpha1.Organization.class).withName(o).get();
            return org.getStatus() != null && Conditions.find(org.getStatus().conditions,
                    io.gpupool.operator.scheduling.PoolStatusPublisher.NAMESPACES_CONTESTED)
                    .map(c -> c.getMessage().contains(ns)).orElse(false);
        }));
        // What runs is not touched while the admins settle it (the workflow does not run for it).
        assertThat(deployments("contested")).hasSize(1);

        client.resources(io.gpupool.api.v1alpha1.Organization.class).withName(rival).edit(o -> {
            o.getSpec().namespaces.remove(ns);
            return o;
        });
        ModelDeployment back = awaitStatus("contested", m -> "Admitted".equals(m.getStatus().phase));
        assertThat(back.getStatus().organization).isEqualTo("org-" + run);
        await().atMost(WAIT).until(() -> {
            var org = client.resources(io.gpupool.api.v1alpha1.Organization.class).withName("org-" + run).get();
            return Conditions.find(org.getStatus().conditions,
                    io.gpupool.operator.scheduling.PoolStatusPublisher.NAMESPACES_CONTESTED).isEmpty();
        });
        client.resources(io.gpupool.api.v1alpha1.Organization.class).withName(rival).delete();
    }

    @Test
    void organizationComesFromTheNamespaceNotFromTheObject() {
        contribute("t4-01", "org-" + run);
        var md = modelDeployment(ns, "spoof", 0, 1);
        md.getMetadata().setLabels(Map.of(ApiGroup.ORGANIZATION_LABEL, "someone-else"));
        md.getMetadata().setAnnotations(Map.of(ApiGroup.ORGANIZATION_LABEL, "someone-else"));
        client.resource(md).create();
        ModelDeployment done = awaitStatus("spoof", m -> m.getStatus().organization != null);
        assertThat(done.getStatus().organization).isEqualTo("org-" + run);
    }
}
