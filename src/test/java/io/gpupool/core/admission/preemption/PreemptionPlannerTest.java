package io.gpupool.core.admission.preemption;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import io.gpupool.core.admission.CycleStart;
import io.gpupool.core.fairshare.CycleLedger;
import io.gpupool.core.fairshare.QuotaBook;
import io.gpupool.core.model.PoolSnapshot;
import io.gpupool.core.testing.Pool;

/** The planner on a loaded ledger: which node, which victims, and that planning changes nothing. */
class PreemptionPlannerTest {

    private static CycleLedger ledger(PoolSnapshot s) {
        return CycleLedger.load(QuotaBook.of(s), s, CycleStart::keepValid);
    }

    private static int workload(CycleLedger l, String name) {
        for (int i = 0; i < l.workloadCount(); i++) {
            if (l.workload(i).id().name().equals(name)) {
                return i;
            }
        }
        throw new AssertionError(name);
    }

    private static List<String> victims(Plan p) {
        List<String> out = new ArrayList<>();
        p.victims().forEach(v -> out.add(v.w().id().name()));
        return out;
    }

    @Test
    void reclaimTakesTheNewestBorrowedReplicasAndLeavesTheLedgerAsItWas() {
        // docs/fair-share.md §4: acme's 8-GPU node runs beta's old (2 × 2) and new (2 × 2); acme asks for 4 GPUs.
        CycleLedger l = ledger(Pool.plain().gpuClass("a100", 1).node("n1", "acme", "a100", 8).org("acme", 1)
                .org("beta", 1).workload("old", "beta", 2, 2).on("n1", "a100", 2).add()
                .workload("new", "beta", 2, 2).on("n1", "a100", 2).add()
                .workload("llm", "acme", 4, 1).add().snapshot());
        int beta = l.book().orgIndex("beta");
        int before = l.quotaUsed(beta, 0);

        Plan p = new PreemptionPlanner(l).plan(workload(l, "llm"), new boolean[] { true }, null);

        assertThat(p.node()).isZero();
        assertThat(victims(p)).containsExactly("new", "new");
        assertThat(p.evictedGpus()).isEqualTo(4);
        assertThat(l.quotaUsed(beta, 0)).as("planning only simulates removals").isEqualTo(before);
        assertThat(l.runningOrg(beta, 0)).isEqualTo(8);
        assertThat(l.soon(0)).isZero();
        assertThat(l.releasing().isEmpty()).isTrue();
    }

    @Test
    void gpusBeingReleasedBeatAnyEvictionAndAFailedDemandIsRemembered() {
        CycleLedger l = ledger(Pool.plain().gpuClass("a100", 1).node("n1", "acme", "a100", 4)
                .node("n2", "acme", "a100", 4).org("acme", 1).org("beta", 1)
                .workload("b", "beta", 4, 1).on("n1", "a100", 1).add()
                .workload("gone", "beta", 4, 0).draining("n2", "a100", 1).add()
                .workload("llm", "acme", 4, 1).add().snapshot());
        PreemptionPlanner planner = new PreemptionPlanner(l);
        Plan p = planner.plan(workload(l, "llm"), new boolean[] { true }, null);
        assertThat(p.node()).as("n2's GPUs are being released").isEqualTo(1);
        assertThat(p.victims()).isEmpty();

        CycleLedger full = ledger(Pool.plain().gpuClass("a100", 1).node("n1", "acme", "a100", 4).org("acme", 1)
                .workload("mine", "acme", 4, 1).on("n1", "a100", 1).add()
                .workload("llm", "acme", 4, 1).add().snapshot());
        PreemptionPlanner none = new PreemptionPlanner(full);
        assertThat(none.plan(workload(full, "llm"), new boolean[] { true }, null))
                .as("equal priority within an organization never preempts").isNull();
        assertThat(none.plan(workload(full, "llm"), new boolean[] { true }, null)).isNull();
    }
}
