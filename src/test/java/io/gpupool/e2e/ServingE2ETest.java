package io.gpupool.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.function.Predicate;

import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.gpupool.api.v1alpha1.ApiGroup;
import io.gpupool.api.v1alpha1.GpuNode;
import io.gpupool.api.v1alpha1.GpuPool;
import io.gpupool.api.v1alpha1.GpuPoolSpec;
import io.gpupool.api.v1alpha1.ModelDeployment;
import io.gpupool.apiserver.InProcessOperator;
import io.gpupool.apiserver.RealKubeApiServer;
import io.gpupool.apiserver.TestPool;
import io.gpupool.core.status.Conditions;
import io.gpupool.testing.PoolFixtures;

/**
 * The operator on the real control plane: every replica it admits becomes a pod that the real kube-scheduler binds
 * to the node the operator chose (which checks the rendered node affinity, GPU requests and tolerations against the
 * real scheduler), Running and Ready through the real Deployment controller and the simulated kubelet; scale-up,
 * scale-down, preemption, a withdrawn node's handover and a dead node's replicas moving happen through real pod
 * creation and deletion; deleting a ModelDeployment removes its children through the real garbage collector. At
 * every pod event observed, no node has more GPUs requested by its bound pods than it has, and no pod is bound
 * elsewhere than chosen ({@link PodLedger}).
 */
@EndToEnd
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ServingE2ETest {

    private static final Duration WAIT = Duration.ofSeconds(90);
    private static final String CLASS = "e2e-a100";
    private static final String OWNER = "e2e-owner";
    private static final String OTHER = "e2e-other";
    private static final String BORROWER = "e2e-borrower";
    /** Three 4-GPU A100 servers: two of the owner's, one of the other contributor's. */
    private static final List<String> NODES = List.of("e2e-a100-1", "e2e-a100-2", "e2e-a100-3");

    private static RealKubeApiServer.Server server;
    private static KubernetesClient client;
    private static TestPool pool;
    private static InProcessOperator operator;
    private static PodLedger ledger;

    @BeforeAll
    static void poolOfThreeServers(RealKubeApiServer.Server s) {
        server = s;
        server.applyCrds();
        client = server.admin();
        // Short drain and heartbeat timeout (the schema's minimum), no commons reserve: the scenario's arithmetic.
        GpuPool gpuPool = new GpuPool();
        gpuPool.setMetadata(new ObjectMetaBuilder().withName("default").build());
        gpuPool.setSpec(new GpuPoolSpec());
        gpuPool.getSpec().fairShare.commonsReservePercent = 0;
        gpuPool.getSpec().preemption.drainGracePeriodSeconds = 5;
        gpuPool.getSpec().heartbeatTimeoutSeconds = 10;
        gpuPool.getSpec().withdrawalHandoverSeconds = 60;
        client.resource(gpuPool).createOr(r -> r.update());
        ledger = new PodLedger(client);
        pool = new TestPool(client).member(OWNER, OWNER).member(OTHER, OTHER).member(BORROWER, BORROWER)
                .gpuClass(CLASS, 80000, "NVIDIA-A100-SXM4-80GB");
        operator = InProcessOperator.start(client);
        pool.contribute(a100(NODES.get(0), OWNER)).contribute(a100(NODES.get(1), OWNER))
                .contribute(a100(NODES.get(2), OTHER));
    }

    @AfterAll
    static void tearDown() {
        try {
            TestPool.tearDown(pool, operator);
        } finally {
            if (ledger != null) {
                ledger.close();
            }
            client.resources(GpuPool.class).withName("default").delete();
        }
    }

    private static Node a100(String name, String organization) {
        return PoolFixtures.node("a100-80g-01", name, organization);
    }

    private static ModelDeployment apply(String ns, String name, int replicas) {
        ModelDeployment md = PoolFixtures.modelDeployment(ns, name, replicas, 1);
        md.getSpec().gpu.classes = List.of(CLASS);
        md.getSpec().model.maxContextLength = 4096;
        return client.resource(md).fieldManager("kubectl").forceConflicts().serverSideApply();
    }

    private static ModelDeployment get(String ns, String name) {
        return client.resources(ModelDeployment.class).inNamespace(ns).withName(name).get();
    }

    /** Waits until the ModelDeployment's status satisfies the predicate AND its pods run exactly as placed. */
    private static ModelDeployment awaitServedAsPlaced(String ns, String name, Predicate<ModelDeployment> status) {
        try {
            await().atMost(WAIT).pollInterval(Duration.ofMillis(300)).ignoreExceptions().until(() -> {
                ModelDeployment md = get(ns, name);
                return md != null && md.getStatus() != null && md.getStatus().replicas != null && status.test(md)
                        && ledger.differenceFromPlacements(md).isEmpty();
            });
        } catch (ConditionTimeoutException e) {
            ModelDeployment md = get(ns, name);
            throw new AssertionError("not served as placed within " + WAIT.toSeconds() + " s: "
                    + (md == null ? "gone" : ledger.differenceFromPlacements(md) + ", status " + (md.getStatus() == null
                            ? "none" : md.getStatus().phase + " " + md.getStatus().placements)), e);
        }
        assertSound();
        return get(ns, name);
    }

    private static void assertSound() {
        assertThat(ledger.violations()).as("over %d pod events", ledger.observations()).isEmpty();
    }

    private static void scale(String ns, String name, int replicas) {
        client.resources(ModelDeployment.class).inNamespace(ns).withName(name).edit(md -> {
            md.getSpec().replicas = replicas;
            return md;
        });
    }

    @Test
    @Order(1)
    void admittedReplicasAreBoundByTheRealSchedulerToTheChosenNodesAndScale() {
        ModelDeployment md = apply(BORROWER, "chat", 6);
        md = awaitServedAsPlaced(BORROWER, "chat", m -> m.getStatus().replicas.admitted == 6
                && m.getStatus().replicas.ready == 6 && "Running".equals(m.getStatus().phase));
        // Six pods, each bound by kube-scheduler (not by the kubelet or the test) where the operator placed it.
        assertThat(ledger.podsOf(BORROWER, "chat")).hasSize(6).allSatisfy(p -> {
            assertThat(p.getSpec().getNodeName()).isIn(NODES);
            assertThat(p.getStatus().getPodIP()).isNotBlank();
        });
        assertThat(client.v1().events().inNamespace(BORROWER).list().getItems())
                .anySatisfy(e -> assertThat(e.getReason()).isEqualTo("Scheduled"));

        scale(BORROWER, "chat", 2);
        awaitServedAsPlaced(BORROWER, "chat", m -> m.getStatus().replicas.admitted == 2 && m.getStatus().replicas.ready == 2);
        scale(BORROWER, "chat", 5);
        awaitServedAsPlaced(BORROWER, "chat", m -> m.getStatus().replicas.admitted == 5 && m.getStatus().replicas.ready == 5);
    }

    @Test
    @Order(2)
    void anOwnerReclaimsThroughRealEvictions() {
        // The borrower holds 5 of the 12 GPUs; the owner wants all 8 of its own.
        apply(OWNER, "own", 8);
        ModelDeployment own = awaitServedAsPlaced(OWNER, "own", m -> m.getStatus().replicas.admitted == 8
                && m.getStatus().replicas.ready == 8);
        assertThat(own.getStatus().placements).allSatisfy(p -> assertThat(p.node).isIn(NODES));
        // The borrower keeps what fits (12 - 8 = 4), marked Preempted; its evicted pods were deleted, not left over.
        ModelDeployment chat = awaitServedAsPlaced(BORROWER, "chat", m -> m.getStatus().replicas.admitted == 4
                && m.getStatus().replicas.ready == 4);
        assertThat(Conditions.find(chat.getStatus().conditions, Conditions.PREEMPTED)).isPresent();

        client.resources(ModelDeployment.class).inNamespace(OWNER).withName("own").delete();
        awaitServedAsPlaced(BORROWER, "chat", m -> m.getStatus().replicas.admitted == 5
                && m.getStatus().replicas.ready == 5);
        await().atMost(WAIT).until(() -> ledger.podsOf(OWNER, "own").isEmpty());
    }

    @Test
    @Order(3)
    void aWithdrawnNodesReplicasMoveAndItsPodsGoOnceTheirReplacementsAreReady() {
        String busiest = busiestNode(BORROWER, "chat");
        // The contributor cordons its node (kubectl cordon): the pool places nothing there any more.
        client.nodes().withName(busiest).edit(n -> {
            n.getSpec().setUnschedulable(true);
            return n;
        });
        ModelDeployment moved = awaitServedAsPlaced(BORROWER, "chat", m -> m.getStatus().replicas.ready == 5
                && m.getStatus().placements.stream().noneMatch(p -> busiest.equals(p.node)));
        assertThat(ledger.podsOf(BORROWER, "chat")).noneMatch(p -> busiest.equals(p.getSpec().getNodeName()));
        assertThat(moved.getStatus().replicas.ready).isEqualTo(5);
        client.nodes().withName(busiest).edit(n -> {
            n.getSpec().setUnschedulable(false);
            return n;
        });
    }

    @Test
    @Order(4)
    void aDeadNodesReplicasMoveAfterTheHeartbeatTimeout() {
        String dead = busiestNode(BORROWER, "chat");
        long t0 = System.nanoTime();
        server.kubelet().stopNode(dead);
        try {
            // kube-controller-manager marks it NotReady after its grace period; the pool moves its replicas after its
            // heartbeat timeout; the old pods stay Terminating on the dead node (nothing confirms them), the new ones
            // run elsewhere.
            await().atMost(WAIT).until(() -> "False".equals(nodeReady(dead)) || "Unknown".equals(nodeReady(dead)));
            await().atMost(WAIT).pollInterval(Duration.ofMillis(300)).ignoreExceptions().until(() -> {
                ModelDeployment md = get(BORROWER, "chat");
                return md.getStatus().placements.stream().noneMatch(p -> dead.equals(p.node))
                        && ledger.podsOf(BORROWER, "chat").stream().filter(p -> !dead.equals(p.getSpec().getNodeName()))
                                .filter(PodLedger::ready).count() == 5;
            });
            System.out.printf("[e2e] node %s stopped: its replicas run elsewhere after %d ms (node monitor grace %d s, "
                    + "heartbeat timeout 10 s)%n", dead, (System.nanoTime() - t0) / 1_000_000,
                    server.controlPlane().nodeMonitorGracePeriod().toSeconds());
            assertSound();
        } finally {
            server.kubelet().startNode(dead);
        }
        // Back: the kubelet confirms its stopped pods gone, and the pool serves as placed.
        awaitServedAsPlaced(BORROWER, "chat", m -> m.getStatus().replicas.ready == 5);
    }

    @Test
    @Order(5)
    void deletingAModelDeploymentRemovesItsChildrenThroughTheGarbageCollector() {
        client.resources(ModelDeployment.class).inNamespace(BORROWER).withName("chat").delete();
        await().atMost(WAIT).until(() -> get(BORROWER, "chat") == null);
        await().atMost(WAIT).until(() -> client.apps().deployments().inNamespace(BORROWER).list().getItems().isEmpty()
                && client.apps().replicaSets().inNamespace(BORROWER).list().getItems().isEmpty()
                && client.services().inNamespace(BORROWER).withName("chat").get() == null
                && client.pods().inNamespace(BORROWER).withLabel(ApiGroup.MODEL_DEPLOYMENT_LABEL, "chat").list()
                        .getItems().isEmpty());
        assertSound();
        assertThat(ledger.observations()).isPositive();
        // It was the pool's last ModelDeployment: once its pods are gone its GPUs are shown free again, without
        // waiting for another ModelDeployment or a node change to run the next cycle.
        await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> assertThat(NODES)
                .allSatisfy(node -> assertThat(allocated(node)).as("GpuNode %s status.allocated", node).isZero()));
    }

    private static Integer allocated(String node) {
        GpuNode n = pool.gpuNode(node);
        return n == null || n.getStatus() == null ? null : n.getStatus().allocated;
    }

    private static String nodeReady(String node) {
        return client.nodes().withName(node).get().getStatus().getConditions().stream()
                .filter(c -> "Ready".equals(c.getType())).map(c -> c.getStatus()).findFirst().orElse("?");
    }

    private static String busiestNode(String ns, String name) {
        return get(ns, name).getStatus().placements.stream().max(java.util.Comparator.comparingInt(p -> p.replicas))
                .orElseThrow().node;
    }
}
