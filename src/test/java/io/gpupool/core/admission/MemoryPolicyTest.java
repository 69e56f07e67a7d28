package io.gpupool.core.admission;

import static io.gpupool.core.testing.Invariants.count;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.junit.jupiter.api.Test;

import io.gpupool.core.model.CycleResult;
import io.gpupool.core.model.OrgQuota;
import io.gpupool.core.model.PoolPolicy;
import io.gpupool.core.model.PoolSnapshot;
import io.gpupool.core.model.WorkloadId;
import io.gpupool.core.testing.Pool;

/** Fairness with memory (docs/fair-share.md §11): the borrowing order weighs history; young replicas stay. */
class MemoryPolicyTest {

    private static final PoolPolicy MEMORY = new PoolPolicy(true, 0, true, 1.0);

    private static PoolSnapshot borrowers(PoolPolicy policy, double betaHistory) {
        PoolSnapshot s = Pool.policy(policy).gpuClass("a100", 1).node("n1", "acme", "a100", 8).org("acme", 1)
                .org("beta", 1).org("gamma", 1)
                .workload("chat", "beta", 2, 4).add()
                .workload("chat", "gamma", 2, 4).add().snapshot();
        List<OrgQuota> orgs = s.organizations().stream()
                .map(o -> o.name().equals("beta") ? o.withDecayedNetUsage(betaHistory) : o).toList();
        return new PoolSnapshot(s.classes(), s.nodes(), orgs, s.workloads(), s.policy());
    }

    @Test
    void anOrganizationThatBorrowedHeavilyBorrowsAfterOneThatDidNot() {
        CycleResult r = new FairShareAdmission().cycle(borrowers(MEMORY, 4.0));
        assertThat(count(r.assignments().get(new WorkloadId("gamma", "chat")))).isEqualTo(3);
        assertThat(count(r.assignments().get(new WorkloadId("beta", "chat")))).isEqualTo(1);

        // Without memory, or with no history, they alternate.
        CycleResult plain = new FairShareAdmission().cycle(borrowers(new PoolPolicy(true, 0, true), 4.0));
        assertThat(count(plain.assignments().get(new WorkloadId("beta", "chat")))).isEqualTo(2);
        CycleResult noHistory = new FairShareAdmission().cycle(borrowers(MEMORY, 0));
        assertThat(count(noHistory.assignments().get(new WorkloadId("beta", "chat")))).isEqualTo(2);
    }

    @Test
    void anOrganizationThatGaveMoreThanItTookBorrowsFirst() {
        CycleResult r = new FairShareAdmission().cycle(borrowers(MEMORY, -4.0));
        assertThat(count(r.assignments().get(new WorkloadId("beta", "chat")))).isEqualTo(3);
    }

    @Test
    void replicasYoungerThanTheMinimumRunAreNotReclaimed() {
        // beta borrows all of acme's node; acme asks for it back. beta's replicas just started: they stay.
        Pool pool = Pool.policy(MEMORY).gpuClass("a100", 1).node("n1", "acme", "a100", 8).org("acme", 1)
                .org("beta", 1).workload("chat", "beta", 2, 4).on("n1", "a100", 4).add()
                .workload("llm", "acme", 4, 1).add();
        PoolSnapshot s = pool.snapshot();
        PoolSnapshot young = s.withWorkloads(s.workloads().stream()
                .map(w -> w.id().namespace().equals("beta") ? w.withYoungReplicas(4) : w).toList());
        assertThat(new FairShareAdmission().cycle(young).evictions()).isEmpty();
        PoolSnapshot oneYoung = s.withWorkloads(s.workloads().stream()
                .map(w -> w.id().namespace().equals("beta") ? w.withYoungReplicas(1) : w).toList());
        CycleResult r = new FairShareAdmission().cycle(oneYoung);
        assertThat(r.evictions()).singleElement().satisfies(e -> assertThat(e.replicas()).isEqualTo(2));
        assertThat(new FairShareAdmission().cycle(s).evictions()).singleElement()
                .satisfies(e -> assertThat(e.replicas()).isEqualTo(2));
    }
}
