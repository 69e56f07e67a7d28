package io.gpupool.operator.scheduling;

import static io.gpupool.testing.PoolFixtures.modelDeployment;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import io.gpupool.api.v1alpha1.ClassGpus;
import io.gpupool.api.v1alpha1.ModelDeployment;
import io.gpupool.api.v1alpha1.ModelDeploymentStatus;
import io.gpupool.api.v1alpha1.Placement;
import io.gpupool.core.admission.FairShareAdmission;
import io.gpupool.core.inventory.Workloads;
import io.gpupool.core.model.NodeKey;
import io.gpupool.operator.Leadership;

/**
 * The rebalancer at start-up: the pool's informers deliver their first lists one by one (a namespace listed already
 * asks for a cycle), and a cycle over caches still filling would rebuild the ledger from part of the pool and hand
 * out GPUs that replicas recorded in status still hold; and under leader election, a standby runs none until it leads.
 */
class PoolRebalancerTest {

    private final FixedPoolView view = new FixedPoolView(1); // dgx-0, 8 GPUs
    private final AtomicInteger cycles = new AtomicInteger();
    private PoolScheduler scheduler;
    private PoolRebalancer rebalancer;

    PoolRebalancerTest() {
        start(Leadership.sole());
    }

    /** A replica of the operator: its scheduler and rebalancer, counting its cycles. */
    private void start(Leadership leadership) {
        if (rebalancer != null) {
            rebalancer.stop();
        }
        scheduler = new PoolScheduler(new FairShareAdmission(), Clock.systemUTC(), leadership);
        rebalancer = new PoolRebalancer(scheduler, Clock.systemUTC());
        scheduler.onCycle((outcome, v) -> cycles.incrementAndGet());
        rebalancer.attach(view);
    }

    /** A ModelDeployment admitted before: its placement is in its status (dgx-0's 8 GPUs). */
    private void admittedEarlier() {
        ModelDeployment running = modelDeployment("lab", "running", 1, 8);
        running.setStatus(new ModelDeploymentStatus());
        running.getStatus().organization = "lab";
        running.getStatus().placements = List.of(new Placement("local", "dgx-0", "h100-80g", 1));
        view.modelDeployments.add(running);
    }

    @AfterEach
    void stop() {
        rebalancer.stop();
    }

    @Test
    void aRequestMadeWhileTheCachesFillWaitsForThemAndTheLedgerIsRebuiltFromThePoolAsListed() {
        view.synced = false;

        rebalancer.request();

        await().during(Duration.ofMillis(400)).atMost(Duration.ofSeconds(5)).until(() -> cycles.get() == 0);
        // The rest of the first lists arrive: a ModelDeployment admitted before the restart, its placement in status.
        admittedEarlier();
        view.synced = true;

        await().atMost(Duration.ofSeconds(5)).until(() -> cycles.get() == 1);
        assertThat(scheduler.allocatedGpus()).isEqualTo(Map.of(new NodeKey("local", "dgx-0"), 8));
    }

    /**
     * A cycle that evicts a replica hands its GPUs on in a later cycle, once its pods are gone. A victim with no pods
     * (never started, or already gone) has no pod event and no reconcile that would run that cycle (its new demand is
     * decided), and the preemptor's reconcile already had its answer: the rebalancer runs it.
     */
    @Test
    void thePreemptorGetsTheGpusOfAVictimWithoutPodsWithNoFurtherReconcile() {
        ClassGpus nominal = new ClassGpus();
        nominal.gpuClass = "h100-80g";
        nominal.gpus = 8;
        view.lab.getSpec().quota.nominal = List.of(nominal); // within its quota, lower priority may be preempted
        ModelDeployment low = withPriority("low", 0, "2026-06-01T12:00:00Z");
        assertThat(scheduler.schedule(view.demandOf(low), view).admittedReplicas()).isEqualTo(1);
        ModelDeployment high = withPriority("high", 100, "2026-06-01T12:00:01Z");

        scheduler.schedule(view.demandOf(high), view);

        await().atMost(Duration.ofSeconds(5)).until(() -> assignedReplicas(high) == 1);
        assertThat(assignedReplicas(low)).isZero();
    }

    private ModelDeployment withPriority(String name, int priority, String created) {
        ModelDeployment md = modelDeployment("lab", name, 1, 8);
        md.getSpec().priority = priority;
        md.getMetadata().setCreationTimestamp(created);
        view.modelDeployments.add(md);
        return md;
    }

    private int assignedReplicas(ModelDeployment md) {
        return scheduler.workloads().stream().filter(w -> w.id().equals(Workloads.id(md)))
                .mapToInt(w -> w.assignedReplicas()).sum();
    }

    @Test
    void aRequestWithTheCachesSyncedRunsACycle() {
        rebalancer.request();

        await().atMost(Duration.ofSeconds(5)).until(() -> cycles.get() == 1);
    }

    /**
     * A standby replica watches the pool but runs no cycle of its own: it would publish statuses and ledger checkpoints
     * from a scheduler that reconciles nothing, over the leader's. When it takes the lease it runs one at once, from
     * the placements the leader recorded, so its statuses take over whether or not a ModelDeployment reconciles.
     */
    @Test
    void aStandbyRunsNoCycleUntilItLeadsThenOneFromTheLeadersPlacements() {
        Leadership leadership = new Leadership(() -> true);
        start(leadership);
        assertThat(leadership.leading()).isFalse();
        // The pool changes while another replica leads: it admits a ModelDeployment and records its placement.
        rebalancer.request();
        admittedEarlier();
        rebalancer.request();
        await().during(Duration.ofMillis(400)).atMost(Duration.ofSeconds(5)).until(() -> cycles.get() == 0);
        assertThat(scheduler.allocatedGpus()).isEmpty();

        // The leader dies; this replica takes the lease.
        leadership.callbacks().onStartLeading();

        await().atMost(Duration.ofSeconds(5)).until(() -> cycles.get() == 1);
        assertThat(scheduler.allocatedGpus()).as("the placements as the leader recorded them")
                .isEqualTo(Map.of(new NodeKey("local", "dgx-0"), 8));
        leadership.callbacks().onStopLeading();
        assertThat(leadership.leading()).as("a replica that lost the lease").isFalse();
    }

    @Test
    void withoutLeaderElectionTheOnlyReplicaLeadsFromTheStart() {
        assertThat(Leadership.sole().leading()).isTrue();
        assertThat(new Leadership(() -> false).leading()).isTrue();
    }
}
