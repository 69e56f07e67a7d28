package io.gpupool.operator.scheduling;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.gpupool.api.v1alpha1.ModelDeployment;
import io.gpupool.api.v1alpha1.ModelDeploymentStatus;
import io.gpupool.api.v1alpha1.Placement;
import io.gpupool.core.model.Assignment;
import io.gpupool.core.model.CycleResult;
import io.gpupool.core.model.Eviction;
import io.gpupool.core.model.NodeKey;
import io.gpupool.core.model.PendingReason;
import io.gpupool.core.model.Workload;
import io.gpupool.core.model.WorkloadId;
import io.gpupool.testing.PoolFixtures;

/** What the scheduler keeps between cycles, fed by hand-made results. */
class AssignmentLedgerTest {

    private static final NodeKey N1 = new NodeKey("local", "n1");
    private static final WorkloadId CHAT = new WorkloadId("team", "chat");
    private final AssignmentLedger ledger = new AssignmentLedger();

    private static Workload demand(int replicas) {
        return new Workload(CHAT, "acme", 1, 0, List.of(), replicas, 0, false, 0, false, List.of(), List.of());
    }

    private static CycleResult result(List<Assignment> assigned, PendingReason pending, Eviction... evictions) {
        return new CycleResult(Map.of(CHAT, assigned), List.of(evictions),
                pending == null ? Map.of() : Map.of(CHAT, pending));
    }

    @Test
    void rebuiltFromStatusTheWorkloadsKeepWhatTheyHadFrozenUntilTheyReconcile() {
        ModelDeployment md = PoolFixtures.modelDeployment("team", "chat", 3, 2);
        md.setStatus(new ModelDeploymentStatus());
        md.getStatus().organization = "acme";
        md.getStatus().placements = List.of(new Placement("local", "n1", "l4", 2));
        ledger.rebuildOnce(() -> List.of(md));
        ledger.rebuildOnce(List::of); // once only

        Workload w = ledger.workloads().get(0);
        assertThat(w.frozen()).isTrue();
        assertThat(w.assigned()).containsExactly(new Assignment(N1, "l4", 2));
        assertThat(ledger.allocatedGpus()).containsEntry(N1, 4);
        ledger.record(demand(3));
        assertThat(ledger.workloads().get(0).frozen()).isFalse();
        assertThat(ledger.workloads().get(0).assigned()).as("the ledger keeps what it holds")
                .containsExactly(new Assignment(N1, "l4", 2));
    }

    @Test
    void aResultChangesTheAdmissionAndTakenAwayReplicasDrainWhileTheirPodsRun() {
        ledger.record(demand(2));
        List<Workload> seen = ledger.forCycle(Map.of(), Map.of(N1, "l4"));
        var changed = ledger.apply(seen, result(List.of(new Assignment(N1, "l4", 2)), null), Map.of(),
                Map.of(N1, "l4"));
        assertThat(changed).containsExactly(CHAT);
        assertThat(ledger.admissionOf(CHAT).placements()).containsExactly(new Placement("local", "n1", "l4", 2));

        // Preempted down to one replica while both pods still run: one drains, and the reason is kept.
        seen = ledger.forCycle(Map.of(CHAT, Map.of(N1, 2)), Map.of(N1, "l4"));
        changed = ledger.apply(seen, result(List.of(new Assignment(N1, "l4", 1)),
                new PendingReason(PendingReason.INSUFFICIENT_CAPACITY, "wait"),
                new Eviction(CHAT, N1, 1, new WorkloadId("other", "llm"), "reclaimed")), Map.of(CHAT, Map.of(N1, 2)),
                Map.of(N1, "l4"));
        assertThat(changed).containsExactly(CHAT);
        assertThat(ledger.admissionOf(CHAT).stopping()).containsExactly(new Assignment(N1, "l4", 1));
        assertThat(ledger.admissionOf(CHAT).preempted()).isEqualTo("reclaimed");
        assertThat(ledger.waiting()).containsExactly(CHAT);
        assertThat(ledger.allocatedGpus()).containsEntry(N1, 2);

        // Nothing changes: nobody is requeued.
        seen = ledger.forCycle(Map.of(CHAT, Map.of(N1, 2)), Map.of(N1, "l4"));
        assertThat(ledger.apply(seen, result(List.of(new Assignment(N1, "l4", 1)),
                new PendingReason(PendingReason.INSUFFICIENT_CAPACITY, "wait")), Map.of(CHAT, Map.of(N1, 2)),
                Map.of(N1, "l4"))).isEmpty();
    }

    @Test
    void aReleasedWorkloadStaysUntilItsLastPodIsGone() {
        ledger.record(demand(1));
        ledger.apply(ledger.forCycle(Map.of(), Map.of()), result(List.of(new Assignment(N1, "l4", 1)), null),
                Map.of(), Map.of());
        assertThat(ledger.release(CHAT)).isTrue();
        assertThat(ledger.release(CHAT)).isFalse();

        assertThat(ledger.forCycle(Map.of(CHAT, Map.of(N1, 1)), Map.of(N1, "l4"))).singleElement()
                .satisfies(w -> assertThat(w.draining()).containsExactly(new Assignment(N1, "l4", 1)));
        assertThat(ledger.forCycle(Map.of(), Map.of(N1, "l4"))).isEmpty();
        assertThat(ledger.workloads()).isEmpty();
    }


    @Test
    void replicasAreYoungUntilTheyRanTheMinimumRunTime() {
        long minute = 60_000;
        long minimumRun = 10 * minute;
        ledger.record(demand(3));
        List<Workload> seen = ledger.forCycle(Map.of(), Map.of(N1, "l4"), 0, minimumRun);
        ledger.apply(seen, result(List.of(new Assignment(N1, "l4", 2)), null), Map.of(), Map.of(N1, "l4"), 0);
        seen = ledger.forCycle(Map.of(CHAT, Map.of(N1, 2)), Map.of(N1, "l4"), 4 * minute, minimumRun);
        ledger.apply(seen, result(List.of(new Assignment(N1, "l4", 3)), null), Map.of(CHAT, Map.of(N1, 2)),
                Map.of(N1, "l4"), 4 * minute);

        assertThat(ledger.forCycle(Map.of(CHAT, Map.of(N1, 3)), Map.of(N1, "l4"), 9 * minute, minimumRun).get(0)
                .youngReplicas()).isEqualTo(3);
        assertThat(ledger.forCycle(Map.of(CHAT, Map.of(N1, 3)), Map.of(N1, "l4"), 10 * minute, minimumRun).get(0)
                .youngReplicas()).as("the first two ran 10 minutes").isEqualTo(1);
        assertThat(ledger.forCycle(Map.of(CHAT, Map.of(N1, 3)), Map.of(N1, "l4"), 14 * minute, minimumRun).get(0)
                .youngReplicas()).isZero();
        assertThat(ledger.forCycle(Map.of(CHAT, Map.of(N1, 3)), Map.of(N1, "l4"), 15 * minute, 0).get(0)
                .youngReplicas()).as("without memory no replica is young").isZero();
    }
}
