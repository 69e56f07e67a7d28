package io.gpupool.apiserver;

import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.gpupool.api.v1alpha1.GpuClass;
import io.gpupool.api.v1alpha1.GpuNode;
import io.gpupool.api.v1alpha1.ModelDeployment;
import io.gpupool.api.v1alpha1.Organization;
import io.gpupool.testing.PoolFixtures;

/**
 * Which changes of the pool's inputs run an admission cycle. The operator writes the status of GpuNodes, GpuClasses
 * and Organizations after cycles; if those writes ran cycles again, a burst of applies would run a whole-pool cycle
 * per status write (measured: a quarter of the operator's CPU, hack/bench-apiserver.sh). Status-only changes must run
 * none, spec changes must run one. Cycles are counted as the operator's metrics count them (after each cycle).
 */
@ApiServerTier
class PoolInputEventsApiServerTest {

    private static final String NS = "events-team";
    private static final String ORG = "events-org";
    private static final KubernetesSerialization JSON = new KubernetesSerialization();
    private static final AtomicInteger CYCLES = new AtomicInteger();

    private static KubernetesClient client;
    private static TestPool pool;
    private static InProcessOperator operator;

    @BeforeAll
    static void startOperator(RealKubeApiServer.Server server) {
        server.applyCrds();
        client = server.admin();
        pool = new TestPool(client).member(NS, ORG).gpuClass("l4-24g", 20000, "NVIDIA-L4");
        operator = InProcessOperator.start(client);
        operator.scheduler().onCycle((outcome, view) -> CYCLES.incrementAndGet());
        pool.contribute("l4-01", ORG);
        // One that runs and one that waits (no H100 in this pool): capacity changes must wake waiting ones.
        ModelDeployment running = PoolFixtures.modelDeployment(NS, "fits", 1, 1);
        ModelDeployment waiting = PoolFixtures.modelDeployment(NS, "waits", 1, 1);
        waiting.getSpec().gpu.classes = java.util.List.of("h100-80g");
        client.resource(running).create();
        client.resource(waiting).create();
        await().atMost(TestPool.WAIT).until(() -> {
            ModelDeployment md = client.resources(ModelDeployment.class).inNamespace(NS).withName("waits").get();
            return md.getStatus() != null && md.getStatus().phase != null;
        });
    }

    @AfterAll
    static void stopOperator() {
        TestPool.tearDown(pool, operator);
    }

    @Test
    void statusWritesToPoolInputsRunNoCycleAndSpecChangesDo() {
        int settled = awaitNoCycles();

        // Status only, as the operator's own status writes are: a GpuNode's, a GpuClass's and an Organization's.
        statusPatch(client.resources(GpuNode.class).inNamespace(TestPool.HUB).withName("l4-01").get(),
                Map.of("allocated", 7));
        statusPatch(client.resources(GpuClass.class).withName("l4-24g").get(), Map.of("nodes", 42));
        statusPatch(client.resources(Organization.class).withName(ORG).get(), Map.of("namespaces", 42));
        // The status publisher may write them back (they are its figures), which is status only again.
        await().during(Duration.ofSeconds(5)).atMost(Duration.ofSeconds(20)).until(() -> CYCLES.get() == settled);

        // A spec change of a pool input does run a cycle.
        client.resources(GpuClass.class).withName("l4-24g").edit(c -> {
            c.getSpec().value = 2.0;
            return c;
        });
        await().atMost(TestPool.WAIT).until(() -> CYCLES.get() > settled);
    }

    /**
     * Issue #14 item 2: a GpuNode the pool does not believe (one claiming 1,024 GPUs on one machine, written by
     * whoever may write GpuNodes in the pool's own hub namespace) wakes no admission cycle, neither when it appears nor
     * when it "beats" or changes; it gets its reason all the same, written without a cycle.
     */
    @Test
    void aGpuNodeThePoolDoesNotBelieveRunsNoCycle() {
        GpuNode inflated = new GpuNode();
        inflated.setMetadata(new io.fabric8.kubernetes.api.model.ObjectMetaBuilder().withName("big-box")
                .withNamespace(TestPool.HUB).build());
        inflated.setSpec(io.gpupool.core.discovery.GpuNodes.specOf(PoolFixtures.node("a100-80g-01", ORG),
                io.gpupool.core.inventory.NodeTrust.LOCAL_CLUSTER, ORG).orElseThrow());
        inflated.getSpec().nodeName = "big-box";
        inflated.getSpec().gpu.count = 1024;
        int settled = awaitNoCycles();
        try {
            client.resource(inflated).create();
            await().atMost(TestPool.WAIT).until(() -> {
                GpuNode n = client.resources(GpuNode.class).inNamespace(TestPool.HUB).withName("big-box").get();
                return n.getStatus() != null && io.gpupool.core.status.Conditions.find(n.getStatus().conditions,
                        io.gpupool.core.status.Conditions.READY).map(c -> "ExceedsNodeCapacity".equals(c.getReason()))
                        .orElse(false);
            });
            for (int beat = 0; beat < 3; beat++) {
                statusPatch(client.resources(GpuNode.class).inNamespace(TestPool.HUB).withName("big-box").get(),
                        Map.of("lastHeartbeatTime", java.time.Instant.now().toString()));
            }
            client.resources(GpuNode.class).inNamespace(TestPool.HUB).withName("big-box").edit(n -> {
                n.getSpec().unschedulable = true;
                return n;
            });
            await().during(Duration.ofSeconds(5)).atMost(Duration.ofSeconds(20)).until(() -> CYCLES.get() == settled);
        } finally {
            client.resources(GpuNode.class).inNamespace(TestPool.HUB).withName("big-box").delete();
        }
    }

    /** Waits until no cycle has run for 3 s and returns the count. */
    private static int awaitNoCycles() {
        await().atMost(TestPool.WAIT).until(() -> quietFor(CYCLES.get()));
        return CYCLES.get();
    }

    private static boolean quietFor(int count) {
        try {
            await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(4)).until(() -> CYCLES.get() == count);
            return true;
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            return false;
        }
    }

    private static void statusPatch(io.fabric8.kubernetes.api.model.HasMetadata object, Map<String, Object> fields) {
        client.resource(object).subresource("status").patch(PatchContext.of(PatchType.JSON_MERGE),
                JSON.asJson(Map.of("status", fields)));
    }
}
