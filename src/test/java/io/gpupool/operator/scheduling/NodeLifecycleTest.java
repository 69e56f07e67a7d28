package io.gpupool.operator.scheduling;

import static io.gpupool.testing.PoolFixtures.gpuClass;
import static io.gpupool.testing.PoolFixtures.modelDeployment;
import static io.gpupool.testing.PoolFixtures.node;
import static io.gpupool.testing.PoolFixtures.organization;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.gpupool.api.v1alpha1.GpuClass;
import io.gpupool.api.v1alpha1.GpuNode;
import io.gpupool.api.v1alpha1.GpuPool;
import io.gpupool.api.v1alpha1.ModelDeployment;
import io.gpupool.api.v1alpha1.Organization;
import io.gpupool.api.v1alpha1.Placement;
import io.gpupool.core.admission.FairShareAdmission;
import io.gpupool.core.discovery.GpuNodes;
import io.gpupool.core.inventory.Workloads;
import io.gpupool.core.model.Assignment;
import io.gpupool.core.model.NodeKey;
import io.gpupool.core.model.WorkloadId;
import io.gpupool.core.serving.Admission;
import io.gpupool.testing.ManualClock;

/**
 * The scheduler over a pool whose nodes change state, on an injected clock: not ready for a while (kept), not ready
 * for too long (moved), withdrawn (moved, the old pods still booked and reported as stopping), and a deleted
 * ModelDeployment whose pods still stop.
 */
class NodeLifecycleTest {

    private static final String ORG = "org-a";

    private final ManualClock clock = new ManualClock(Instant.parse("2026-06-01T12:00:00Z"));
    private final Pool pool = new Pool();
    private final PoolScheduler scheduler = new PoolScheduler(new FairShareAdmission(), clock);

    /** The pool as the informers would see it, kept in memory. */
    static final class Pool implements PoolView {
        final Map<String, GpuNode> nodes = new HashMap<>();
        final List<ModelDeployment> mds = new ArrayList<>();
        final Map<WorkloadId, Map<NodeKey, Integer>> pods = new HashMap<>();

        @Override
        public List<GpuClass> gpuClasses() {
            return List.of(gpuClass("l4", 20000, "NVIDIA-L4"));
        }

        @Override
        public List<GpuNode> gpuNodes() {
            return List.copyOf(nodes.values());
        }

        @Override
        public List<Organization> organizations() {
            return List.of(organization(ORG));
        }

        @Override
        public Optional<GpuPool> pool() {
            GpuPool p = new GpuPool();
            p.setMetadata(new ObjectMetaBuilder().withName(GpuPool.DEFAULT_NAME).build());
            p.getSpec().heartbeatTimeoutSeconds = 60;
            return Optional.of(p);
        }

        @Override
        public Map<String, String> contributedClusters() {
            return Map.of();
        }

        @Override
        public List<ModelDeployment> modelDeployments() {
            return mds;
        }

        @Override
        public Map<WorkloadId, Map<NodeKey, Integer>> livePods() {
            return pods;
        }
    }

    /** A GpuNode of the pool's own cluster with one L4. */
    private GpuNode l4(String name) {
        var n = node("l4-01", ORG);
        n.getMetadata().setName(name);
        GpuNode g = new GpuNode();
        g.setMetadata(new ObjectMetaBuilder().withNamespace("gpupool-cluster-local").withName(name).build());
        g.setSpec(GpuNodes.specOf(n, "local").orElseThrow());
        pool.nodes.put(name, g);
        scheduler.observe(g, pool);
        return g;
    }

    private Admission schedule(ModelDeployment md) {
        return scheduler.schedule(Workloads.demand(md, ORG, List.of(), List.of()), pool);
    }

    private static NodeKey local(String node) {
        return new NodeKey("local", node);
    }

    @Test
    void aNodeNotReadyKeepsItsReplicaUntilTheHeartbeatTimeoutThenLosesIt() {
        l4("n1");
        ModelDeployment md = modelDeployment("team", "chat", 1, 1);
        pool.mds.add(md);
        assertThat(schedule(md).placements()).extracting(p -> p.node).containsExactly("n1");
        l4("n2");

        pool.nodes.get("n1").getSpec().nodeReady = false;
        scheduler.observe(pool.nodes.get("n1"), pool);
        clock.advance(Duration.ofSeconds(60));
        assertThat(schedule(md).placements()).as("not ready for 60 s of 60").extracting(p -> p.node)
                .containsExactly("n1");
        clock.advance(Duration.ofSeconds(2));
        scheduler.rebalance(pool); // the cycle the expiry timer asks for (PoolRebalancer.requestAt)
        assertThat(schedule(md).placements()).as("not ready past the timeout").extracting(p -> p.node)
                .containsExactly("n2");
        assertThat(scheduler.goneNodes()).containsExactly(local("n1"));

        // Ready again: it counts from scratch next time.
        pool.nodes.get("n1").getSpec().nodeReady = true;
        scheduler.observe(pool.nodes.get("n1"), pool);
        scheduler.rebalance(pool); // a GpuNode's spec changed
        assertThat(scheduler.goneNodes()).isEmpty();
    }

    @Test
    void aWithdrawnNodesReplicaMovesAtOnceAndItsPodStillHoldsTheGpu() {
        l4("n1");
        ModelDeployment md = modelDeployment("team", "chat", 1, 1);
        pool.mds.add(md);
        schedule(md);
        pool.pods.put(Workloads.id(md), Map.of(local("n1"), 1));
        l4("n2");

        pool.nodes.get("n1").getSpec().unschedulable = true;
        Instant cordoned = clock.instant();
        scheduler.observe(pool.nodes.get("n1"), pool);
        clock.advance(Duration.ofSeconds(5));
        scheduler.rebalance(pool); // a GpuNode's spec changed
        Admission admission = schedule(md);
        assertThat(admission.placements()).containsExactly(new Placement("local", "n2", "l4", 1));
        assertThat(admission.stopping()).containsExactly(new Assignment(local("n1"), "l4", 1));
        assertThat(scheduler.withdrawing()).containsOnlyKeys(local("n1"));
        assertThat(scheduler.withdrawing().get(local("n1")).since()).isEqualTo(cordoned);
        assertThat(scheduler.allocatedGpus()).containsEntry(local("n1"), 1).containsEntry(local("n2"), 1);

        pool.pods.put(Workloads.id(md), Map.of(local("n2"), 1));
        schedule(md);
        assertThat(scheduler.allocatedGpus()).doesNotContainKey(local("n1")).containsEntry(local("n2"), 1);
    }

    @Test
    void aDeletedModelDeploymentsGpusStayBookedUntilItsPodsAreGone() {
        l4("n1");
        ModelDeployment old = modelDeployment("team", "old", 1, 1);
        pool.mds.add(old);
        schedule(old);
        pool.pods.put(Workloads.id(old), Map.of(local("n1"), 1));

        pool.mds.remove(old);
        scheduler.release(Workloads.id(old), pool);
        ModelDeployment next = modelDeployment("team", "next", 1, 1);
        pool.mds.add(next);
        Admission waiting = schedule(next);
        assertThat(waiting.placements()).as("the only GPU is still held by a stopping pod").isEmpty();
        assertThat(waiting.pending()).isNotNull();
        assertThat(scheduler.allocatedGpus()).containsEntry(local("n1"), 1);

        pool.pods.remove(Workloads.id(old));
        scheduler.rebalance(pool); // what the pod's event asks for: the deleted ModelDeployment has no reconcile
        assertThat(schedule(next).placements()).containsExactly(new Placement("local", "n1", "l4", 1));
        assertThat(scheduler.workloads()).extracting(w -> w.id().name()).containsExactly("next");
    }
}
