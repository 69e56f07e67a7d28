package io.gpupool.core.admission;

import static io.gpupool.core.testing.Invariants.count;
import static io.gpupool.core.testing.Pool.key;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

import io.gpupool.core.model.CycleResult;
import io.gpupool.core.model.Eviction;
import io.gpupool.core.model.PendingReason;
import io.gpupool.core.model.PoolSnapshot;
import io.gpupool.core.model.WorkloadId;
import io.gpupool.core.testing.Invariants;
import io.gpupool.core.testing.OperatorLoop;
import io.gpupool.core.testing.Pool;

/**
 * Elastic replicas (an autoscaled ModelDeployment's replicas above minReplicas): admitted like borrowing, never
 * preempting, the first replicas preempted. The examples of docs/fair-share.md §4 "Elastic replicas", one test each.
 */
class ElasticReplicasTest {

    private final FairShareAdmission engine = new FairShareAdmission();

    private CycleResult cycle(PoolSnapshot s) {
        CycleResult r = engine.cycle(s);
        Invariants.all(s, r);
        return r;
    }

    private static WorkloadId id(String org, String name) {
        return new WorkloadId(org, name);
    }

    private static int replicas(CycleResult r, String org, String name) {
        return count(r.assignments().get(id(org, name)));
    }

    /** acme contributes one 8-GPU a100 node; no commons reserve. */
    private static Pool acmeNode() {
        return Pool.plain().gpuClass("a100", 1.0).node("n1", "acme", "a100", 8).org("acme", 1).org("beta", 1);
    }

    @Test
    void elasticReplicasTakeIdleGpusOfOthers() {
        // beta contributes nothing; its autoscaled chat asks for 4 replicas × 2 GPUs, minReplicas 1.
        PoolSnapshot s = acmeNode().workload("chat", "beta", 2, 4).elasticAbove(1).add().snapshot();
        CycleResult r = cycle(s);
        assertThat(replicas(r, "beta", "chat")).isEqualTo(4);
    }

    @Test
    void elasticReplicasArePreemptedBeforeOtherBorrowedReplicas() {
        // n1 is full: beta's chat (older; 3 replicas, minReplicas 1) and batch (newer, 1 replica), all borrowed.
        // acme asks for 1 replica × 2 GPUs within its quota. Without elastic replicas the newest borrowed replica
        // (batch) would go; chat's elastic replica goes first.
        PoolSnapshot s = acmeNode().workload("chat", "beta", 2, 3).arrival(10).elasticAbove(1).on("n1", "a100", 3).add()
                .workload("batch", "beta", 2, 1).arrival(20).on("n1", "a100", 1).add()
                .workload("llm", "acme", 2, 1).arrival(30).add().snapshot();
        CycleResult r = cycle(s);
        assertThat(r.evictions()).singleElement().satisfies(e -> {
            assertThat(e.victim()).isEqualTo(id("beta", "chat"));
            assertThat(e.node()).isEqualTo(key("n1"));
            assertThat(e.replicas()).isEqualTo(1);
        });
        assertThat(replicas(r, "beta", "batch")).isEqualTo(1);
        // Pods gone: acme's replica runs, chat waits for idle GPUs again.
        PoolSnapshot s2 = OperatorLoop.apply(OperatorLoop.apply(s, r, true), cycle(OperatorLoop.apply(s, r, true)),
                true);
        CycleResult r2 = cycle(s2);
        assertThat(replicas(r2, "acme", "llm")).isEqualTo(1);
        assertThat(replicas(r2, "beta", "chat")).isEqualTo(2);
    }

    @Test
    void elasticReplicasNeverPreemptEvenWithinTheirOwnersQuota() {
        // beta borrows all of acme's node. acme's autoscaled chat wants 2 replicas × 2 GPUs, minReplicas 1: both are
        // within acme's nominal quota, but only the guaranteed one reclaims; the elastic one waits for idle GPUs.
        PoolSnapshot s = acmeNode().workload("batch", "beta", 2, 4).arrival(10).on("n1", "a100", 4).add()
                .workload("chat", "acme", 2, 2).arrival(20).elasticAbove(1).add().snapshot();
        CycleResult r = cycle(s);
        assertThat(r.evictions()).extracting(Eviction::replicas).containsExactly(1);
        assertThat(r.claims().get(id("acme", "chat"))).singleElement()
                .satisfies(a -> assertThat(a.replicas()).isEqualTo(1));
        assertThat(r.pending().get(id("acme", "chat")).reason()).isEqualTo(PendingReason.PREEMPTING);
    }

    @Test
    void anOrganizationsGuaranteedReplicasTakeBackGpusFromItsOwnElasticOnes() {
        // acme's autoscaled chat fills acme's node with 4 replicas (minReplicas 1). acme's llm (same priority) needs 2
        // GPUs: equal priorities never preempt each other, but elastic replicas give their GPUs back.
        PoolSnapshot s = acmeNode().workload("chat", "acme", 2, 4).arrival(10).elasticAbove(1).on("n1", "a100", 4).add()
                .workload("llm", "acme", 2, 1).arrival(20).add().snapshot();
        CycleResult r = cycle(s);
        assertThat(r.evictions()).singleElement().satisfies(e -> {
            assertThat(e.victim()).isEqualTo(id("acme", "chat"));
            assertThat(e.replicas()).isEqualTo(1);
            assertThat(e.preemptor()).isEqualTo(id("acme", "llm"));
        });
        // Never below minReplicas: a second llm-like demand cannot take chat's guaranteed replica.
        PoolSnapshot full = acmeNode().workload("chat", "acme", 2, 4).arrival(10).elasticAbove(1).on("n1", "a100", 1)
                .add().workload("llm", "acme", 2, 3).arrival(20).on("n1", "a100", 3).add()
                .workload("late", "acme", 2, 1).arrival(30).add().snapshot();
        CycleResult r2 = cycle(full);
        assertThat(r2.evictions()).isEmpty();
        assertThat(r2.pending().get(id("acme", "late")).reason()).isNotEqualTo(PendingReason.PREEMPTING);
    }

    @Test
    void withoutElasticReplicasNothingChanges() {
        // The same pool as above with chat not autoscaled: equal priorities do not preempt each other.
        PoolSnapshot s = acmeNode().workload("chat", "acme", 2, 4).arrival(10).on("n1", "a100", 4).add()
                .workload("llm", "acme", 2, 1).arrival(20).add().snapshot();
        CycleResult r = cycle(s);
        assertThat(r.evictions()).isEmpty();
        assertThat(replicas(r, "acme", "llm")).isZero();
        assertThat(r.pending().get(id("acme", "llm")).reason()).isEqualTo(PendingReason.INSUFFICIENT_CAPACITY);
    }
}
