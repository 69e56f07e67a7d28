package io.gpupool.operator.scheduling;

import static io.gpupool.testing.PoolFixtures.modelDeployment;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import io.gpupool.api.v1alpha1.ModelDeployment;
import io.gpupool.api.v1alpha1.Placement;
import io.gpupool.core.admission.FairShareAdmission;
import io.gpupool.core.inventory.Workloads;
import io.gpupool.core.model.WorkloadId;
import io.gpupool.core.serving.Admission;

/**
 * Many reconciles asking for GPUs at once, as a burst of applies makes them: the scheduler may serve several of them
 * with one cycle, but every caller must get the admission the ledger holds for it, and no GPU may be handed out twice.
 */
class ConcurrentSchedulingTest {

    private static final int NODES = 10;
    private static final int THREADS = 8;
    private static final int DEMANDS = 120;

    @Test
    void aBurstOfDemandsNeverDoubleBooksAndEveryCallerGetsItsOwnAnswer() throws Exception {
        PoolScheduler scheduler = new PoolScheduler(new FairShareAdmission(), Clock.systemUTC());
        Map<WorkloadId, Integer> requeued = new ConcurrentHashMap<>();
        scheduler.onRequeue(id -> requeued.merge(id, 1, Integer::sum));
        PoolView view = new FixedPoolView(NODES);

        CountDownLatch start = new CountDownLatch(1);
        ExecutorService reconcilers = Executors.newFixedThreadPool(THREADS);
        Map<WorkloadId, Future<Admission>> answers = new HashMap<>();
        for (int i = 0; i < DEMANDS; i++) {
            ModelDeployment md = modelDeployment("lab", String.format("md-%03d", i), 1, 1);
            md.getMetadata().setCreationTimestamp(String.format("2026-06-01T12:%02d:%02dZ", i / 60, i % 60));
            answers.put(Workloads.id(md), reconcilers.submit(() -> {
                start.await();
                return scheduler.schedule(Workloads.demand(md, "lab", List.of(), List.of()), view);
            }));
        }
        start.countDown();
        reconcilers.shutdown();
        assertThat(reconcilers.awaitTermination(60, TimeUnit.SECONDS)).isTrue();

        // No node holds more GPUs than it has, and every GPU of the pool is used: 80 of the 120 one-GPU demands.
        assertThat(scheduler.allocatedGpus().values()).allSatisfy(gpus -> assertThat(gpus).isLessThanOrEqualTo(8));
        assertThat(scheduler.allocatedGpus().values().stream().mapToInt(Integer::intValue).sum()).isEqualTo(NODES * 8);
        // Every caller's answer is what the ledger holds for it now, unless a later cycle changed it and asked for
        // another reconcile (a requeue).
        Map<WorkloadId, List<Placement>> ledger = new HashMap<>();
        scheduler.workloads().forEach(w -> ledger.put(w.id(), w.assigned().stream()
                .map(a -> new Placement(a.node().cluster(), a.node().node(), a.gpuClass(), a.replicas())).toList()));
        int admitted = 0;
        for (var e : answers.entrySet()) {
            Admission answer = e.getValue().get();
            admitted += answer.admittedReplicas();
            if (!requeued.containsKey(e.getKey())) {
                assertThat(answer.placements()).as("answer of %s", e.getKey()).isEqualTo(ledger.get(e.getKey()));
            }
            assertThat(answer.admittedReplicas() == 1 || answer.pending() != null).as("%s waits with a reason", e.getKey())
                    .isTrue();
        }
        assertThat(admitted).isEqualTo(NODES * 8);
    }

    /**
     * The pool's statuses and metrics show what the listeners were told last, so they must be told of every cycle once
     * and in the order the cycles ran, however the reconciles that ran them interleave. Told as each reconcile left
     * the scheduler's lock, an older cycle sometimes arrived after a newer one, and an Organization's status showed 2
     * GPUs used while 4 were (FairShareReconcileTest, in CI).
     */
    @Test
    void listenersAreToldOfEveryCycleOnceAndInOrder() throws Exception {
        PoolScheduler scheduler = new PoolScheduler(new FairShareAdmission(), Clock.systemUTC());
        List<Long> told = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
        scheduler.onCycle((outcome, v) -> told.add(outcome.sequence()));
        PoolView view = new FixedPoolView(NODES);

        CountDownLatch start = new CountDownLatch(1);
        ExecutorService reconcilers = Executors.newFixedThreadPool(THREADS);
        for (int i = 0; i < DEMANDS; i++) {
            String name = String.format("md-%03d", i);
            String created = String.format("2026-06-01T12:%02d:%02dZ", i / 60, i % 60);
            reconcilers.submit(() -> {
                start.await();
                // Demands that change between calls, so that each call runs a cycle of its own.
                for (int replicas = 1; replicas <= 3; replicas++) {
                    ModelDeployment md = modelDeployment("lab", name, replicas, 1);
                    md.getMetadata().setCreationTimestamp(created);
                    scheduler.schedule(Workloads.demand(md, "lab", List.of(), List.of()), view);
                }
                return null;
            });
        }
        start.countDown();
        reconcilers.shutdown();
        assertThat(reconcilers.awaitTermination(60, TimeUnit.SECONDS)).isTrue();

        assertThat(told).isNotEmpty();
        for (int i = 0; i < told.size(); i++) {
            assertThat(told.get(i)).as("cycle told %d-th of %d: %s", i + 1, told.size(), told).isEqualTo(i + 1L);
        }
    }
    /** A listener that fails neither keeps the others from hearing of that cycle nor stops the telling of later ones. */
    @Test
    void aFailingListenerStopsNeitherTheOthersNorLaterCycles() {
        PoolScheduler scheduler = new PoolScheduler(new FairShareAdmission(), Clock.systemUTC());
        List<Long> told = new java.util.ArrayList<>();
        scheduler.onCycle((outcome, v) -> {
            throw new IllegalStateException("a broken listener");
        });
        scheduler.onCycle((outcome, v) -> told.add(outcome.sequence()));
        PoolView view = new FixedPoolView(NODES);
        for (int i = 0; i < 3; i++) {
            ModelDeployment md = modelDeployment("lab", "md-" + i, 1, 1);
            md.getMetadata().setCreationTimestamp("2026-06-01T12:00:0" + i + "Z");
            scheduler.schedule(Workloads.demand(md, "lab", List.of(), List.of()), view);
        }
        assertThat(told).containsExactly(1L, 2L, 3L);
    }
}
