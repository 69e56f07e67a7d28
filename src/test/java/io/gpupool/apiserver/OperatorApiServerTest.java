package io.gpupool.apiserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.stream.Collectors;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyIngressRule;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.gpupool.api.v1alpha1.ApiGroup;
import io.gpupool.api.v1alpha1.GpuPool;
import io.gpupool.api.v1alpha1.GpuPoolSpec;
import io.gpupool.api.v1alpha1.ModelDeployment;
import io.gpupool.api.v1alpha1.Placement;
import io.gpupool.core.render.ServingAccess;
import io.gpupool.core.status.Conditions;
import io.gpupool.operator.modeldeployment.ModelDeploymentReconciler;
import io.gpupool.testing.PoolFixtures;

/**
 * The operator, configured as in production (server-side apply on), against a real API server: apply → serving
 * workload (Deployments + Service with owner references) → status (Admitted with placements, Running once the
 * Deployments report ready pods, as the real controllers and the simulated kubelet make them) → delete (the finalizer
 * is removed, the GPUs go to the next in line, the garbage collector removes the children), and a restart in the
 * middle that must neither duplicate nor lose anything; the namespace's one NetworkPolicy of serving pods.
 */
@ApiServerTier
class OperatorApiServerTest {

    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final String NS = "op-team";
    private static final String ORG = "op-org";

    private static KubernetesClient client;
    private static TestPool pool;
    private static InProcessOperator operator;

    @BeforeAll
    static void startOperator(RealKubeApiServer.Server server) {
        server.applyCrds();
        client = server.admin();
        pool = new TestPool(client).member(NS, ORG)
                .gpuClass("a100-80g", 80000, "NVIDIA-A100-SXM4-80GB")
                .gpuClass("h100-80g", 80000, "NVIDIA-H100-*");
        operator = InProcessOperator.start(client);
        pool.contribute("a100-80g-01", ORG).contribute("dgx-h100-01", ORG);
    }

    @AfterAll
    static void stopOperator() {
        TestPool.tearDown(pool, operator);
    }

    /** What a user's `kubectl apply --server-side` does: the spec is owned by the user's field manager. */
    static ModelDeployment apply(String name, int replicas, int gpus, String gpuClass) {
        ModelDeployment md = PoolFixtures.modelDeployment(NS, name, replicas, gpus);
        md.getSpec().gpu.classes = List.of(gpuClass);
        md.getSpec().model.maxContextLength = 4096;
        return client.resource(md).fieldManager("kubectl").forceConflicts().serverSideApply();
    }

    static ModelDeployment get(String name) {
        return client.resources(ModelDeployment.class).inNamespace(NS).withName(name).get();
    }

    static ModelDeployment awaitStatus(String name, Predicate<ModelDeployment> ok) {
        // ignoreExceptions: a status on its way may lack parts the predicate reads.
        try {
            await().atMost(WAIT).ignoreExceptions().until(() -> {
                ModelDeployment md = get(name);
                return md != null && md.getStatus() != null && ok.test(md);
            });
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            throw new AssertionError("status of " + name + " not as awaited: " + io.fabric8.kubernetes.client.utils
                    .Serialization.asYaml(get(name).getStatus()), e);
        }
        return get(name);
    }

    static Condition condition(ModelDeployment md, String type) {
        return Conditions.find(md.getStatus().conditions, type).orElseThrow();
    }

    static List<Deployment> deployments(String md) {
        return client.apps().deployments().inNamespace(NS).withLabel(ApiGroup.MODEL_DEPLOYMENT_LABEL, md).list()
                .getItems();
    }

    static void assertOwnedBy(HasMetadata child, ModelDeployment md) {
        assertThat(child.getMetadata().getOwnerReferences()).as(child.getKind() + " " + child.getMetadata().getName())
                .singleElement().satisfies(o -> {
                    assertThat(o.getApiVersion()).isEqualTo("gpupool.io/v1alpha1");
                    assertThat(o.getKind()).isEqualTo("ModelDeployment");
                    assertThat(o.getName()).isEqualTo(md.getMetadata().getName());
                    assertThat(o.getUid()).isEqualTo(md.getMetadata().getUid());
                });
    }

    static int allocated(String node) {
        var n = client.resources(io.gpupool.api.v1alpha1.GpuNode.class).inNamespace(TestPool.HUB).withName(node).get();
        return n.getStatus() == null || n.getStatus().allocated == null ? -1 : n.getStatus().allocated;
    }

    @Test
    void applyToServingWorkloadToStatusToCleanup() {
        apply("llama", 2, 1, "a100-80g");

        await().atMost(WAIT).until(() -> deployments("llama").size() == 1
                && client.services().inNamespace(NS).withName("llama").get() != null);
        ModelDeployment md = get("llama");
        md = awaitStatus("llama", m -> "Admitted".equals(m.getStatus().phase) && m.getStatus().replicas.admitted == 2);
        await().atMost(WAIT).until(() -> deployments("llama").get(0).getSpec().getReplicas() == 2);
        // Everything it has is in its namespace, owned by it: no finalizer (one write, watch event and reconcile less).
        assertThat(md.getMetadata().getFinalizers()).isNullOrEmpty();
        Deployment d = deployments("llama").get(0);
        assertOwnedBy(d, md);
        assertThat(d.getSpec().getReplicas()).isEqualTo(2);
        assertThat(d.getSpec().getTemplate().getSpec().getAffinity().getNodeAffinity()
                .getRequiredDuringSchedulingIgnoredDuringExecution().getNodeSelectorTerms().get(0).getMatchFields()
                .get(0).getValues()).containsExactly("a100-80g-01");
        Service svc = client.services().inNamespace(NS).withName("llama").get();
        assertOwnedBy(svc, md);
        assertThat(svc.getSpec().getClusterIP()).isNotBlank(); // a real API server allocates it

        // Admitted, or already Running: the real controllers may have made the pods ready since the first wait.
        md = awaitStatus("llama", m -> "Admitted".equals(m.getStatus().phase) || "Running".equals(m.getStatus().phase));
        assertThat(md.getStatus().placements).containsExactly(new Placement("local", "a100-80g-01", "a100-80g", 2));
        assertThat(md.getStatus().replicas.admitted).isEqualTo(2);
        assertThat(md.getStatus().organization).isEqualTo(ORG);
        assertThat(condition(md, Conditions.ADMITTED).getStatus()).isEqualTo("True");
        assertFieldOwnership(md);

        // The real Deployment controller makes the pods, kube-scheduler binds them, the kubelet runs them: Running.
        md = awaitStatus("llama", m -> "Running".equals(m.getStatus().phase));
        assertThat(md.getStatus().replicas.ready).isEqualTo(2);
        // The user applies again, without --force-conflicts: nothing of theirs is owned by anyone else.
        ModelDeployment again = PoolFixtures.modelDeployment(NS, "llama", 2, 1);
        again.getSpec().gpu.classes = List.of("a100-80g");
        again.getSpec().model.maxContextLength = 4096;
        again.getSpec().engineArgs = List.of("--enable-prefix-caching");
        client.resource(again).fieldManager("kubectl").serverSideApply();
        // Ready again once the new pod template has rolled out (a status of generation 2 can still say Running with
        // Ready False while the new pod starts: seen once in a full run under load).
        md = awaitStatus("llama", m -> m.getStatus().observedGeneration == 2L && "Running".equals(m.getStatus().phase)
                && "True".equals(condition(m, Conditions.READY).getStatus()));
        await().atMost(WAIT).until(() -> deployments("llama").get(0).getSpec().getTemplate().getSpec().getContainers()
                .get(0).getArgs().contains("--enable-prefix-caching"));
        assertThat(md.getStatus().observedGeneration).isEqualTo(md.getMetadata().getGeneration());
        assertFieldOwnership(md);
        await().atMost(WAIT).until(() -> allocated("a100-80g-01") == 2);

        // A second model that needs 3 of the node's 4 GPUs waits ...
        apply("waiter", 1, 3, "a100-80g");
        ModelDeployment waiting = awaitStatus("waiter",
                m -> "InsufficientCapacity".equals(condition(m, Conditions.ADMITTED).getReason()));
        assertThat(waiting.getStatus().replicas.admitted).isZero();
        assertThat(deployments("waiter")).isEmpty();

        // ... until the first is deleted: it goes at once, the operator sees it go and hands the GPUs on.
        String uid = md.getMetadata().getUid();
        client.resources(ModelDeployment.class).inNamespace(NS).withName("llama").delete();
        await().atMost(WAIT).until(() -> get("llama") == null);
        ModelDeployment admitted = awaitStatus("waiter", m -> m.getStatus().replicas.admitted == 1);
        assertThat(admitted.getStatus().placements).containsExactly(new Placement("local", "a100-80g-01", "a100-80g", 1));
        await().atMost(WAIT).until(() -> allocated("a100-80g-01") == 3);
        // The garbage collector deletes the children, because of exactly these owner references to the gone object.
        await().atMost(WAIT).until(() -> deployments("llama").isEmpty()
                && client.services().inNamespace(NS).withName("llama").get() == null
                && client.pods().inNamespace(NS).withLabel(ApiGroup.MODEL_DEPLOYMENT_LABEL, "llama").list().getItems()
                        .isEmpty());
        assertThat(uid).isNotBlank();
        client.resources(ModelDeployment.class).inNamespace(NS).withName("waiter").delete();
        await().atMost(WAIT).until(() -> get("waiter") == null);
    }

    @Test
    void restartInTheMiddleNeitherDuplicatesNorLosesAnything(RealKubeApiServer.Server server) {
        // dgx-h100-01 has 8 GPUs: fill them exactly.
        apply("r-two-by-two", 2, 2, "h100-80g");
        apply("r-one-by-four", 1, 4, "h100-80g");
        ModelDeployment a = awaitStatus("r-two-by-two", m -> m.getStatus().replicas != null && m.getStatus().replicas.admitted == 2);
        ModelDeployment b = awaitStatus("r-one-by-four", m -> m.getStatus().replicas != null && m.getStatus().replicas.admitted == 1);
        await().atMost(WAIT).until(() -> deployments("r-two-by-two").size() == 1 && deployments("r-one-by-four").size() == 1);
        await().atMost(WAIT).until(() -> allocated("dgx-h100-01") == 8);
        Map<String, String> before = deploymentVersions("r-two-by-two", "r-one-by-four");
        List<Placement> placementsA = a.getStatus().placements;
        List<Placement> placementsB = b.getStatus().placements;

        operator.close();
        // While no operator runs: a newcomer arrives (and the controllers go on: the pods become ready).
        apply("r-newcomer", 1, 1, "h100-80g");

        operator = InProcessOperator.start(client);
        // The ledger is rebuilt from status.placements: the node is full, the newcomer waits (no double booking) ...
        ModelDeployment newcomer = awaitStatus("r-newcomer",
                m -> "InsufficientCapacity".equals(condition(m, Conditions.ADMITTED).getReason()));
        assertThat(newcomer.getStatus().placements).isEmpty();
        // ... the others keep their placements, and reconcile to the same Deployments (the same objects, unchanged).
        a = awaitStatus("r-two-by-two", m -> "Running".equals(m.getStatus().phase));
        b = get("r-one-by-four");
        assertThat(a.getStatus().placements).isEqualTo(placementsA);
        assertThat(b.getStatus().placements).isEqualTo(placementsB);
        await().during(Duration.ofSeconds(3)).atMost(WAIT).until(() -> allocated("dgx-h100-01") == 8);
        assertThat(deploymentVersions("r-two-by-two", "r-one-by-four")).isEqualTo(before);
        assertThat(deployments("r-newcomer")).isEmpty();
        assertThat(operator.reconciles().failures()).isZero();

        // Life goes on with the new operator: deleting one hands its GPUs to the newcomer.
        client.resources(ModelDeployment.class).inNamespace(NS).withName("r-one-by-four").delete();
        await().atMost(WAIT).until(() -> get("r-one-by-four") == null);
        newcomer = awaitStatus("r-newcomer", m -> m.getStatus().replicas.admitted == 1);
        assertThat(newcomer.getStatus().placements).extracting(p -> p.node).containsExactly("dgx-h100-01");
        await().atMost(WAIT).until(() -> allocated("dgx-h100-01") == 5);
    }

    /**
     * Serving children are matched by the hash annotation of their rendering and their replica count: a Deployment
     * scaled by hand, or a child whose annotation is gone, is written again (a replacement that keeps what others
     * added, and the Service's allocated cluster IP); the ModelDeployment's own reconciles leave them alone.
     */
    @Test
    void aServingChildChangedByHandIsWrittenAgain() {
        apply("drift", 1, 1, "a100-80g");
        await().atMost(WAIT).until(() -> deployments("drift").size() == 1
                && client.services().inNamespace(NS).withName("drift").get() != null);
        Deployment d = deployments("drift").get(0);
        Service svc = client.services().inNamespace(NS).withName("drift").get();
        String hash = d.getMetadata().getAnnotations().get("gpupool.io/desired-hash");
        assertThat(hash).hasSize(64);
        String clusterIp = svc.getSpec().getClusterIP();

        // By hand, as kubectl edit does: read, change, write; again when the Deployment controller wrote in between (409).
        await().atMost(WAIT).ignoreExceptions().until(() -> client.apps().deployments().inNamespace(NS)
                .withName(d.getMetadata().getName()).edit(x -> {
                    x.getSpec().setReplicas(3);
                    x.getMetadata().getAnnotations().put("example.org/added-by-someone", "kept");
                    return x;
                }) != null);
        await().atMost(WAIT).ignoreExceptions().until(() -> client.services().inNamespace(NS).withName("drift")
                .edit(x -> {
                    x.getMetadata().getAnnotations().remove("gpupool.io/desired-hash");
                    return x;
                }) != null);

        await().atMost(WAIT).until(() -> deployments("drift").get(0).getSpec().getReplicas() == 1);
        Deployment repaired = deployments("drift").get(0);
        assertThat(repaired.getMetadata().getAnnotations()).containsEntry("gpupool.io/desired-hash", hash)
                .containsEntry("example.org/added-by-someone", "kept");
        await().atMost(WAIT).until(() -> client.services().inNamespace(NS).withName("drift").get().getMetadata()
                .getAnnotations().containsKey("gpupool.io/desired-hash"));
        assertThat(client.services().inNamespace(NS).withName("drift").get().getSpec().getClusterIP())
                .isEqualTo(clusterIp);
        client.resources(ModelDeployment.class).inNamespace(NS).withName("drift").delete();
        await().atMost(WAIT).until(() -> get("drift") == null);
    }

    /**
     * Serving pods admit only the gateway through ONE NetworkPolicy per namespace, shared by its ModelDeployments: it
     * selects the pods of every one of them, belongs to none (no owner: deleting one ModelDeployment must not open its
     * neighbours' pods), follows the pool's servingAccess, is written again when edited or deleted by hand, and stays
     * with the namespace when the last ModelDeployment goes.
     */
    @Test
    void theNamespacesServingPodsShareOneNetworkPolicy() {
        apply("np-a", 1, 1, "a100-80g");
        apply("np-b", 1, 1, "a100-80g");
        await().atMost(WAIT).until(() -> deployments("np-a").size() == 1 && deployments("np-b").size() == 1
                && policy() != null);
        NetworkPolicy policy = policy();
        assertThat(policy.getMetadata().getOwnerReferences()).isNullOrEmpty();
        assertThat(client.network().networkPolicies().inNamespace(NS).list().getItems()).singleElement();
        for (String md : List.of("np-a", "np-b")) {
            assertThat(deployments(md).get(0).getSpec().getTemplate().getMetadata().getLabels())
                    .containsAllEntriesOf(policy.getSpec().getPodSelector().getMatchLabels());
        }
        assertThat(policy.getSpec().getPolicyTypes()).containsExactly("Ingress");
        assertThat(policy.getSpec().getIngress()).singleElement().satisfies(rule -> assertThat(rule.getFrom())
                .singleElement().satisfies(peer -> {
                    assertThat(peer.getPodSelector().getMatchLabels()).containsEntry("app.kubernetes.io/component",
                            "gateway");
                    assertThat(peer.getNamespaceSelector().getMatchLabels()).containsKey("kubernetes.io/metadata.name");
                }));
        var onlyTheGateway = policy.getSpec();

        // Opened by hand to every pod of the cluster: closed again.
        client.network().networkPolicies().inNamespace(NS).withName(ServingAccess.POLICY_NAME).edit(p -> {
            p.getSpec().getIngress().add(new NetworkPolicyIngressRule());
            return p;
        });
        await().atMost(WAIT).until(() -> onlyTheGateway.equals(policy().getSpec()));
        // Deleted by hand: written again.
        client.network().networkPolicies().inNamespace(NS).withName(ServingAccess.POLICY_NAME).delete();
        await().atMost(WAIT).until(() -> policy() != null && onlyTheGateway.equals(policy().getSpec()));

        // The pool admits the namespace's own pods too, then no more.
        GpuPool gpuPool = new GpuPool();
        gpuPool.getMetadata().setName(GpuPool.DEFAULT_NAME);
        gpuPool.setSpec(new GpuPoolSpec());
        gpuPool.getSpec().servingAccess.allowSameNamespace = true;
        try {
            client.resource(gpuPool).serverSideApply();
            await().atMost(WAIT).until(() -> policy().getSpec().getIngress().size() == 2);
            gpuPool.getSpec().servingAccess.allowSameNamespace = false;
            client.resource(gpuPool).serverSideApply();
            await().atMost(WAIT).until(() -> onlyTheGateway.equals(policy().getSpec()));
        } finally {
            client.resources(GpuPool.class).withName(GpuPool.DEFAULT_NAME).delete();
        }

        // One ModelDeployment gone: the other's pods keep their policy; both gone: it stays with the namespace.
        client.resources(ModelDeployment.class).inNamespace(NS).withName("np-a").delete();
        await().atMost(WAIT).until(() -> get("np-a") == null && deployments("np-a").isEmpty());
        assertThat(policy()).isNotNull();
        client.resources(ModelDeployment.class).inNamespace(NS).withName("np-b").delete();
        await().atMost(WAIT).until(() -> get("np-b") == null && deployments("np-b").isEmpty());
        assertThat(policy()).isNotNull();
    }

    static NetworkPolicy policy() {
        return client.network().networkPolicies().inNamespace(NS).withName(ServingAccess.POLICY_NAME).get();
    }

    /**
     * Name → what the operator writes of the Deployments of the given ModelDeployments (uid, generation, labels,
     * annotations): the status, which the Deployment controller keeps writing, is left out.
     */
    static Map<String, String> deploymentVersions(String... names) {
        Map<String, String> out = new java.util.TreeMap<>();
        for (String n : names) {
            deployments(n).forEach(d -> out.put(d.getMetadata().getName(), d.getMetadata().getUid() + " gen "
                    + d.getMetadata().getGeneration() + " " + d.getMetadata().getLabels() + " "
                    + d.getMetadata().getAnnotations()));
        }
        return out;
    }

    /**
     * Spec and status have one owner each: the user's field manager keeps the whole spec (so their next
     * `kubectl apply --server-side` never conflicts with the operator), and the status is applied under its own
     * manager (1.20 does not tell /status applies apart in managedFields). The controller's own manager owns nothing
     * here: it applies a finalizer only to ModelDeployments that write outside their namespace (RemoteClusterTest).
     */
    static void assertFieldOwnership(ModelDeployment md) {
        Map<String, List<String>> topLevelFieldsByManager = md.getMetadata().getManagedFields().stream()
                .collect(Collectors.toMap(m -> m.getManager() + "/" + m.getOperation(),
                        m -> m.getFieldsV1().getAdditionalProperties().keySet().stream().sorted().toList()));
        assertThat(topLevelFieldsByManager).containsOnly(
                Map.entry("kubectl/Apply", List.of("f:spec")),
                Map.entry(ModelDeploymentReconciler.STATUS_FIELD_MANAGER + "/Apply", List.of("f:status")));
    }

    /**
     * A ModelDeployment an older operator gave its finalizer (every one had it) is reconciled as any other, and when
     * deleted the operator releases its GPUs and takes the finalizer off: nothing is left Terminating after an upgrade.
     * (The node's allocated figure then follows when its pod has gone, with the next cycle: not asserted here, since in
     * a pool with no other ModelDeployment that cycle is the periodic one.)
     */
    @Test
    void aModelDeploymentWithTheFinalizerOfAnOlderOperatorStillGoes() {
        ModelDeployment md = PoolFixtures.modelDeployment(NS, "older", 1, 1);
        md.getSpec().gpu.classes = List.of("h100-80g");
        md.getSpec().model.maxContextLength = 4096;
        md.getMetadata().setFinalizers(List.of("modeldeployments.gpupool.io/finalizer"));
        client.resource(md).create();
        awaitStatus("older", m -> m.getStatus().replicas != null && m.getStatus().replicas.admitted == 1);
        await().atMost(WAIT).until(() -> deployments("older").size() == 1);
        assertThat(get("older").getMetadata().getFinalizers()).containsExactly("modeldeployments.gpupool.io/finalizer");
        assertThat(operator.scheduler().workloads()).extracting(w -> w.id().name()).contains("older");

        client.resources(ModelDeployment.class).inNamespace(NS).withName("older").delete();
        await().atMost(WAIT).until(() -> get("older") == null);
        // Released: nothing assigned or wanted any more (it stays in the ledger only while its pod drains).
        assertThat(operator.scheduler().workloads()).filteredOn(w -> w.id().name().equals("older"))
                .allSatisfy(w -> assertThat(w.desiredReplicas() + w.assigned().size()).isZero());
        await().atMost(WAIT).until(() -> deployments("older").isEmpty());
    }
}
