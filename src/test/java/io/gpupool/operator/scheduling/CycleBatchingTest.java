package io.gpupool.operator.scheduling;

import static io.gpupool.testing.PoolFixtures.modelDeployment;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;

import io.gpupool.api.v1alpha1.ModelDeployment;
import io.gpupool.core.admission.FairShareAdmission;
import io.gpupool.core.inventory.Workloads;
import io.gpupool.core.model.NodeKey;
import io.gpupool.core.model.Workload;
import io.gpupool.core.serving.Admission;

/**
 * One cycle for a burst: a cycle decides every ModelDeployment the informer cache holds, and the reconciles that come
 * after it read their answer from the ledger instead of running cycles of their own; what a cycle cannot know without
 * one (a changed demand, pods still stopping) still runs one.
 */
class CycleBatchingTest {

    private final PoolScheduler scheduler = new PoolScheduler(new FairShareAdmission(), Clock.systemUTC());
    private final FixedPoolView view = new FixedPoolView(2); // 16 GPUs
    private final AtomicInteger cycles = new AtomicInteger();

    CycleBatchingTest() {
        scheduler.onCycle((outcome, v) -> cycles.incrementAndGet());
    }

    private List<ModelDeployment> inCache(int n) {
        List<ModelDeployment> mds = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            ModelDeployment md = modelDeployment("lab", String.format("md-%02d", i), 1, 1);
            md.getMetadata().setCreationTimestamp(String.format("2026-06-01T12:00:%02dZ", i));
            mds.add(md);
        }
        view.modelDeployments.addAll(mds);
        return mds;
    }

    private Admission reconcile(ModelDeployment md) {
        return scheduler.schedule(view.demandOf(md), view);
    }

    @Test
    void oneCycleDecidesEveryModelDeploymentOfTheCacheAndTheirReconcilesRunNone() {
        List<ModelDeployment> mds = inCache(20);

        Admission first = reconcile(mds.get(0));

        assertThat(cycles).hasValue(1);
        assertThat(first.admittedReplicas()).isEqualTo(1);
        int admitted = 0;
        for (ModelDeployment md : mds) {
            Admission a = reconcile(md);
            admitted += a.admittedReplicas();
            assertThat(a.admittedReplicas() == 1 || a.pending() != null).as("%s waits with a reason", md).isTrue();
        }
        assertThat(cycles).as("no reconcile after the first ran a cycle").hasValue(1);
        assertThat(admitted).isEqualTo(16);
        assertThat(scheduler.waiting()).hasSize(4);
    }

    @Test
    void aChangedDemandRunsACycle() {
        List<ModelDeployment> mds = inCache(3);
        reconcile(mds.get(0));
        assertThat(cycles).hasValue(1);

        ModelDeployment scaled = mds.get(1);
        scaled.getSpec().replicas = 3;
        scaled.getMetadata().setGeneration(2L);
        Admission a = reconcile(scaled);

        assertThat(cycles).hasValue(2);
        assertThat(a.admittedReplicas()).isEqualTo(3);
    }

    @Test
    void aWorkloadWhosePodsStillStopRunsACycleUntilTheyAreGone() {
        List<ModelDeployment> mds = inCache(1);
        ModelDeployment md = mds.get(0);
        reconcile(md);
        Workload demand = view.demandOf(md);
        NodeKey elsewhere = new NodeKey("local", scheduler.workloads().get(0).assigned().get(0).node().node()
                .equals("dgx-0") ? "dgx-1" : "dgx-0");
        // A pod of a replica that ran elsewhere before is still stopping: it holds its GPU.
        view.livePods.put(demand.id(), Map.of(elsewhere, 1));
        scheduler.rebalance(view);
        int before = cycles.get();

        reconcile(md);
        assertThat(cycles).as("draining replicas: the reconcile runs a cycle").hasValue(before + 1);

        view.livePods.clear();
        reconcile(md); // the pod is gone: this cycle frees its GPU
        assertThat(scheduler.allocatedGpus().get(elsewhere)).isNull();
        int after = cycles.get();
        reconcile(md);
        assertThat(cycles).as("nothing left to notice").hasValue(after);
    }

    @Test
    void modelDeploymentsBeingDeletedAreNotTakenFromTheCache() {
        List<ModelDeployment> mds = inCache(2);
        mds.get(1).getMetadata().setDeletionTimestamp("2026-06-01T12:10:00Z");

        reconcile(mds.get(0));

        assertThat(scheduler.workloads()).extracting(w -> w.id()).containsExactly(Workloads.id(mds.get(0)));
    }

    @Test
    void theThrottleWaitsNineCycleTimesAfterACycleAtMostAQuarterSecond() {
        AtomicLong now = new AtomicLong(1_000_000_000L);
        CycleThrottle throttle = new CycleThrottle(now::get);
        assertThat(throttle.nanosToWait()).as("no cycle yet").isZero();

        long start = now.get();
        now.addAndGet(TimeUnit.MILLISECONDS.toNanos(4)); // a 4 ms cycle
        throttle.ran(start);
        assertThat(throttle.nanosToWait()).isEqualTo(TimeUnit.MILLISECONDS.toNanos(36));
        now.addAndGet(TimeUnit.MILLISECONDS.toNanos(30));
        assertThat(throttle.nanosToWait()).isEqualTo(TimeUnit.MILLISECONDS.toNanos(6));
        now.addAndGet(TimeUnit.MILLISECONDS.toNanos(10));
        assertThat(throttle.nanosToWait()).as("idle long enough: at once").isZero();

        start = now.get();
        now.addAndGet(TimeUnit.MILLISECONDS.toNanos(100)); // a 100 ms cycle: 900 ms would be too long to wait
        throttle.ran(start);
        assertThat(throttle.nanosToWait()).isEqualTo(TimeUnit.MILLISECONDS.toNanos(CycleThrottle.MAX_WAIT_MILLIS));
    }
}
