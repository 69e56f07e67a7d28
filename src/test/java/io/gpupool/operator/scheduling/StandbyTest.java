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

import io.gpupool.api.v1alpha1.ModelDeployment;
import io.gpupool.api.v1alpha1.ModelDeploymentStatus;
import io.gpupool.api.v1alpha1.Placement;
import io.gpupool.core.admission.FairShareAdmission;
import io.gpupool.core.model.NodeKey;
import io.gpupool.operator.Leadership;

/**
 * A standby replica watches the pool but runs no cycle of its own: it would publish statuses and ledger checkpoints
 * from a scheduler that reconciles nothing, over the leader's. When it takes the lease it runs one at once, from the
 * placements the leader recorded, so its statuses take over whether or not a ModelDeployment reconciles.
 */
class StandbyTest {

    private final Leadership leadership = new Leadership(() -> true);
    private final PoolScheduler scheduler = new PoolScheduler(new FairShareAdmission(), Clock.systemUTC(), leadership);
    private final PoolRebalancer rebalancer = new PoolRebalancer(scheduler, Clock.systemUTC());
    private final FixedPoolView view = new FixedPoolView(1); // dgx-0, 8 GPUs
    private final AtomicInteger cycles = new AtomicInteger();

    StandbyTest() {
        scheduler.onCycle((outcome, v) -> cycles.incrementAndGet());
        rebalancer.attach(view);
    }

    @AfterEach
    void stop() {
        rebalancer.stop();
    }

    @Test
    void aStandbyRunsNoCycleUntilItLeadsThenOneFromTheLeadersPlacements() {
        assertThat(leadership.leading()).isFalse();
        // The pool changes while another replica leads: it admits a ModelDeployment and records its placement.
        rebalancer.request();
        await().during(Duration.ofMillis(400)).atMost(Duration.ofSeconds(5)).until(() -> cycles.get() == 0);
        ModelDeployment running = modelDeployment("lab", "running", 1, 8);
        running.setStatus(new ModelDeploymentStatus());
        running.getStatus().organization = "lab";
        running.getStatus().placements = List.of(new Placement("local", "dgx-0", "h100-80g", 1));
        view.modelDeployments.add(running);
        rebalancer.request();
        await().during(Duration.ofMillis(400)).atMost(Duration.ofSeconds(5)).until(() -> cycles.get() == 0);
        assertThat(scheduler.allocatedGpus()).isEmpty();

        // The leader dies; this replica takes the lease.
        leadership.callbacks().onStartLeading();

        await().atMost(Duration.ofSeconds(5)).until(() -> cycles.get() == 1);
        assertThat(scheduler.allocatedGpus()).as("the placements as the leader recorded them")
                .isEqualTo(Map.of(new NodeKey("local", "dgx-0"), 8));
    }

    @Test
    void withoutLeaderElectionTheOnlyReplicaLeadsFromTheStartAndALostLeaseStopsALeader() {
        assertThat(Leadership.sole().leading()).isTrue();
        assertThat(new Leadership(() -> false).leading()).isTrue();
        leadership.callbacks().onStartLeading();
        assertThat(leadership.leading()).isTrue();
        leadership.callbacks().onStopLeading();
        assertThat(leadership.leading()).isFalse();
    }
}
