package io.gpupool.core.fairshare;

import static io.gpupool.core.testing.Pool.quota;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.gpupool.core.model.Assignment;
import io.gpupool.core.model.CycleResult;
import io.gpupool.core.model.PoolPolicy;
import io.gpupool.core.model.PoolSnapshot;
import io.gpupool.core.model.Workload;
import io.gpupool.core.model.WorkloadId;
import io.gpupool.core.testing.Pool;

class QuotaAccountingTest {

    /** The result that keeps every workload as it is. */
    private static CycleResult unchanged(PoolSnapshot s) {
        Map<WorkloadId, List<Assignment>> a = new LinkedHashMap<>();
        for (Workload w : s.workloads()) {
            a.put(w.id(), w.assigned());
        }
        return new CycleResult(a, List.of(), Map.of());
    }

    @Test
    void lendingIsSplitInProportionToWhatEachCouldLend() {
        // acme could lend 6, beta 3 (lending limit), gamma borrows 5: 5 * 6/9 = 3.33, 5 * 3/9 = 1.67 -> 3 and 2.
        PoolSnapshot s = Pool.plain().gpuClass("a100", 1).node("n1", "acme", "a100", 6).node("n2", "beta", "a100", 6)
                .org("acme", 1).org(quota("beta", 1, "", "", "a100=3")).org("gamma", 1)
                .workload("g", "gamma", 1, 5).on("n1", "a100", 5).add().snapshot();
        QuotaReport r = QuotaAccounting.report(s, unchanged(s));
        assertThat(r.organization("acme").gpuClass("a100").lent()).isEqualTo(3);
        assertThat(r.organization("beta").gpuClass("a100").lent()).isEqualTo(2);
        assertThat(r.organization("gamma").gpuClass("a100").borrowed()).isEqualTo(5);
        assertThat(r.gpuClass("a100").borrowed()).isEqualTo(5);
        assertThat(r.gpuClass("a100").idle()).isEqualTo(7);
    }

    @Test
    void theIdleCommonsIsLentFirst() {
        PoolSnapshot s = Pool.policy(new PoolPolicy(true, 50, true)).gpuClass("a100", 1).node("n1", "acme", "a100", 8)
                .org("acme", 1).org("beta", 1).workload("b", "beta", 1, 5).on("n1", "a100", 5).add().snapshot();
        QuotaReport r = QuotaAccounting.report(s, unchanged(s));
        assertThat(r.gpuClass("a100").commons()).isEqualTo(4);
        assertThat(r.organization("acme").gpuClass("a100").lent()).isEqualTo(1);
    }

    @Test
    void replicasTakenAwayStillHoldTheirGpusAsDraining() {
        PoolSnapshot s = Pool.plain().gpuClass("a100", 1).node("n1", "acme", "a100", 8).org("acme", 1)
                .workload("a", "acme", 2, 1).on("n1", "a100", 3).draining("n1", "a100", 1).add().snapshot();
        // The result keeps one replica: two go away, one was already stopping.
        CycleResult r = new CycleResult(Map.of(new WorkloadId("acme", "a"), List.of(Pool.on("n1", "a100", 1))),
                List.of(), Map.of());
        ClassAccount a = QuotaAccounting.report(s, r).organization("acme").gpuClass("a100");
        assertThat(a.used()).isEqualTo(8);
        assertThat(a.draining()).isEqualTo(6);
        assertThat(a.borrowed()).isZero();
    }

    @Test
    void theCommonsCarriesWholeSharedReplicasOldestFirst() {
        // Commons 3 (a node of nobody's): the older shared model's two 1-GPU replicas take 2; the newer one's 2-GPU
        // replica would not fit in the 1 left (whole replicas only) and waits.
        PoolSnapshot s = Pool.plain().gpuClass("a100", 1).node("n1", null, "a100", 3).org("alpha", 1).org("beta", 1)
                .workload("old", "alpha", 1, 2).shared().arrival(1).on("n1", "a100", 2).add()
                .workload("new", "beta", 2, 1).shared().arrival(2).add().snapshot();
        CycleResult r = new CycleResult(Map.of(new WorkloadId("alpha", "old"), List.of(Pool.on("n1", "a100", 2)),
                new WorkloadId("beta", "new"), List.of()), List.of(), Map.of());
        QuotaReport report = QuotaAccounting.report(s, r);
        assertThat(report.gpuClass("a100").commons()).isEqualTo(3);
        assertThat(report.organization("alpha").gpuClass("a100").fromCommons()).isEqualTo(2);
        assertThat(report.organization("alpha").gpuClass("a100").borrowed()).isZero();
        assertThat(report.organization("beta").gpuClass("a100").pending()).isEqualTo(2);
        assertThat(report.organization("beta").pendingGpus()).isEqualTo(2);
    }

    @Test
    void contributorShareRoundsDown() {
        assertThat(QuotaBook.contributorShare(8, 10)).isEqualTo(7);
        assertThat(QuotaBook.contributorShare(4, 10)).isEqualTo(3);
        assertThat(QuotaBook.contributorShare(1, 10)).isZero();
        assertThat(QuotaBook.contributorShare(10, 0)).isEqualTo(10);
        assertThat(QuotaBook.contributorShare(10, 100)).isZero();
    }

    @Test
    void weightedShareFollowsKueue() {
        assertThat(Shares.weighted(0, 0)).isZero();
        assertThat(Shares.weighted(0.5, 0)).isEqualTo(Double.POSITIVE_INFINITY);
        assertThat(Shares.weighted(0.5, 2)).isEqualTo(0.25);
        assertThat(Shares.lessThanOrEqualToFinalShare(0.25, 0.25)).isTrue();
        assertThat(Shares.lessThanOrEqualToFinalShare(0.3, 0.25)).isFalse();
    }
}
