package io.gpupool.core.admission;

import static io.gpupool.core.testing.Invariants.count;
import static io.gpupool.core.testing.Pool.key;
import static io.gpupool.core.testing.Pool.quota;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.entry;

import java.util.List;

import org.junit.jupiter.api.Test;

import io.gpupool.core.fairshare.ClassAccount;
import io.gpupool.core.fairshare.QuotaAccounting;
import io.gpupool.core.fairshare.QuotaReport;
import io.gpupool.core.model.CycleResult;
import io.gpupool.core.model.Eviction;
import io.gpupool.core.model.NodeState;
import io.gpupool.core.model.PendingReason;
import io.gpupool.core.model.PoolPolicy;
import io.gpupool.core.model.PoolSnapshot;
import io.gpupool.core.model.Workload;
import io.gpupool.core.model.WorkloadId;
import io.gpupool.core.testing.Invariants;
import io.gpupool.core.testing.OperatorLoop;
import io.gpupool.core.testing.Pool;

class FairShareAdmissionTest {

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

    private static ClassAccount account(PoolSnapshot s, CycleResult r, String org, String cls) {
        return QuotaAccounting.report(s, r).organization(org).gpuClass(cls);
    }

    /** acme contributes one 8-GPU a100 node; no commons reserve. */
    private static Pool acmeNode() {
        return Pool.plain().gpuClass("a100", 1.0).node("n1", "acme", "a100", 8).org("acme", 1).org("beta", 1)
                .org("gamma", 1);
    }

    @Test
    void withinNominalQuotaIsAdmittedOnFreeGpus() {
        PoolSnapshot s = acmeNode().workload("llm", "acme", 2, 4).add().snapshot();
        CycleResult r = cycle(s);
        assertThat(replicas(r, "acme", "llm")).isEqualTo(4);
        assertThat(r.pending()).isEmpty();
        ClassAccount a = account(s, r, "acme", "a100");
        assertThat(a).isEqualTo(new ClassAccount("a100", 8, 8, 8, 0, 0, 0, 0, 0));
    }

    @Test
    void borrowsIdleGpusOfAnotherOrganization() {
        PoolSnapshot s = acmeNode().workload("chat", "beta", 2, 3).add().snapshot();
        CycleResult r = cycle(s);
        assertThat(replicas(r, "beta", "chat")).isEqualTo(3);
        QuotaReport report = QuotaAccounting.report(s, r);
        assertThat(report.organization("beta").gpuClass("a100")).isEqualTo(new ClassAccount("a100", 0, 0, 6, 6, 0, 0, 0, 0));
        assertThat(report.organization("acme").gpuClass("a100").lent()).isEqualTo(6);
        // Kueue's share: borrowed 6 of the 8 lendable GPUs, weight 1.
        assertThat(report.organization("beta").weightedShare()).isEqualTo(0.75);
        assertThat(report.organization("acme").weightedShare()).isZero();
    }

    @Test
    void borrowingStopsAtTheBorrowingLimit() {
        PoolSnapshot s = Pool.plain().gpuClass("a100", 1.0).node("n1", "acme", "a100", 8).org("acme", 1)
                .org(quota("beta", 1, "", "a100=4", "")).workload("chat", "beta", 2, 3).add().snapshot();
        CycleResult r = cycle(s);
        assertThat(replicas(r, "beta", "chat")).isEqualTo(2);
        PendingReason why = r.pending().get(id("beta", "chat"));
        assertThat(why.reason()).isEqualTo(PendingReason.QUOTA_EXCEEDED);
        assertThat(why.message()).contains("a100", "nominal 0", "used 4", "borrowing limit 4");
        assertThat(account(s, r, "beta", "a100").pending()).isEqualTo(2);
    }

    @Test
    void lendingLimitKeepsPartOfTheNominalQuotaIdle() {
        PoolSnapshot s = Pool.plain().gpuClass("a100", 1.0).node("n1", "acme", "a100", 8)
                .org(quota("acme", 1, "", "", "a100=2")).org("beta", 1).workload("chat", "beta", 2, 3).add()
                .snapshot();
        CycleResult r = cycle(s);
        assertThat(replicas(r, "beta", "chat")).isEqualTo(1);
        PendingReason why = r.pending().get(id("beta", "chat"));
        assertThat(why.reason()).isEqualTo(PendingReason.QUOTA_EXCEEDED);
        assertThat(why.message()).contains("a100", "nominal 0", "used 2", "borrowing limit none", "lending limits");
        assertThat(account(s, r, "acme", "a100").lent()).isEqualTo(2);
    }

    @Test
    void lowestWeightedShareBorrowsFirst() {
        // beta and gamma both want 8 GPUs of acme's 8 idle ones: they alternate, beta (older) first.
        PoolSnapshot s = acmeNode().workload("chat", "beta", 2, 4).add().workload("chat", "gamma", 2, 4).add()
                .snapshot();
        CycleResult r = cycle(s);
        assertThat(replicas(r, "beta", "chat")).isEqualTo(2);
        assertThat(replicas(r, "gamma", "chat")).isEqualTo(2);
        assertThat(new FirstComeAdmission().cycle(s).assignments().get(id("beta", "chat")).get(0).replicas())
                .isEqualTo(4);
    }

    @Test
    void weightScalesTheShare() {
        // gamma has weight 3: shares 2/8/3, 4/8/3 and 6/8/3 against beta's 2/8: gamma gets 3 replicas, beta 1.
        PoolSnapshot s = Pool.plain().gpuClass("a100", 1.0).node("n1", "acme", "a100", 8).org("acme", 1)
                .org("beta", 1).org("gamma", 3).workload("chat", "beta", 2, 4).add()
                .workload("chat", "gamma", 2, 4).add().snapshot();
        CycleResult r = cycle(s);
        assertThat(replicas(r, "gamma", "chat")).isEqualTo(3);
        assertThat(replicas(r, "beta", "chat")).isEqualTo(1);
        assertThat(QuotaAccounting.report(s, r).organization("gamma").weightedShare()).isEqualTo(0.75 / 3);
    }

    @Test
    void weightZeroOnlyBorrowsWhatNobodyElseWants() {
        Pool pool = Pool.plain().gpuClass("a100", 1.0).node("n1", "acme", "a100", 8).org("acme", 1).org("zed", 0)
                .org("beta", 1);
        PoolSnapshot s = pool.workload("batch", "zed", 2, 4).add().workload("chat", "beta", 2, 3).add().snapshot();
        CycleResult r = cycle(s);
        assertThat(replicas(r, "beta", "chat")).isEqualTo(3);
        assertThat(replicas(r, "zed", "batch")).isEqualTo(1);
        QuotaReport report = QuotaAccounting.report(s, r);
        assertThat(report.organization("zed").weightedShare()).isEqualTo(Double.POSITIVE_INFINITY);
        assertThat(report.organization("beta").weightedShare()).isEqualTo(0.75);
    }

    /** beta borrows all of acme's node with two workloads: "old" (arrival 10) and "new" (arrival 20). */
    private static Pool betaBorrowsEverything() {
        return acmeNode().workload("old", "beta", 2, 2).arrival(10).on("n1", "a100", 2).add()
                .workload("new", "beta", 2, 2).arrival(20).on("n1", "a100", 2).add();
    }

    @Test
    void reclaimEvictsNewestBorrowedReplicasAndAdmitsThePreemptorOnceTheyHaveStopped() {
        PoolSnapshot s1 = betaBorrowsEverything().workload("llm", "acme", 4, 1).arrival(30).add().snapshot();
        CycleResult r1 = cycle(s1);

        assertThat(r1.evictions()).hasSize(1);
        Eviction e = r1.evictions().get(0);
        assertThat(e.victim()).isEqualTo(id("beta", "new"));
        assertThat(e.node()).isEqualTo(key("n1"));
        assertThat(e.replicas()).isEqualTo(2);
        assertThat(e.preemptor()).isEqualTo(id("acme", "llm"));
        assertThat(e.reason()).startsWith("reclaimed by org acme for acme/llm: ").contains("beta", "a100");
        assertThat(replicas(r1, "beta", "new")).isZero();
        assertThat(replicas(r1, "beta", "old")).isEqualTo(2);
        // The GPUs are not handed over in the same cycle.
        assertThat(replicas(r1, "acme", "llm")).isZero();
        assertThat(r1.pending().get(id("acme", "llm")).reason()).isEqualTo(PendingReason.PREEMPTING);
        assertThat(r1.claims()).containsExactly(entry(id("acme", "llm"), List.of(Pool.on("n1", "a100", 1))));

        // The victim's pods still stop: nothing more is evicted, the preemptor still waits.
        PoolSnapshot s2 = OperatorLoop.apply(s1, r1, false);
        assertThat(s2.workloads().stream().filter(w -> w.id().equals(id("beta", "new"))).findFirst().orElseThrow()
                .draining()).hasSize(1);
        CycleResult r2 = cycle(s2);
        assertThat(r2.evictions()).isEmpty();
        assertThat(replicas(r2, "acme", "llm")).isZero();
        assertThat(r2.pending().get(id("acme", "llm")).reason()).isEqualTo(PendingReason.PREEMPTING);
        assertThat(r2.claims()).containsExactly(entry(id("acme", "llm"), List.of(Pool.on("n1", "a100", 1))));
        assertThat(account(s2, r2, "beta", "a100").used()).isEqualTo(8);
        assertThat(account(s2, r2, "beta", "a100").draining()).isEqualTo(4);

        // Pods gone: the preemptor runs; the victim waits for capacity.
        PoolSnapshot s3 = OperatorLoop.apply(s2, r2, true);
        CycleResult r3 = cycle(s3);
        assertThat(r3.evictions()).isEmpty();
        assertThat(replicas(r3, "acme", "llm")).isEqualTo(1);
        assertThat(r3.claims()).isEmpty();
        assertThat(r3.pending()).containsOnlyKeys(id("beta", "new"));
        assertThat(account(s3, r3, "beta", "a100").borrowed()).isEqualTo(4);
        assertThat(account(s3, r3, "acme", "a100").lent()).isEqualTo(4);
    }

    @Test
    void freedGpusGoToThePreemptorEvenIfAnotherReplicaComesFirst() {
        // o0 (4 GPUs on n1, n2) needs one 3-GPU node for w5: only o2's n0 has 3. o2 borrows one GPU.
        PoolSnapshot s = Pool.plain().gpuClass("c0", 1.0).node("n0", "o2", "c0", 3).node("n1", "o0", "c0", 2)
                .node("n2", "o0", "c0", 2).org("o0", 1).org("o2", 1)
                .workload("w0", "o0", 1, 1).on("n0", "c0", 1).add().workload("w1", "o0", 1, 1).on("n0", "c0", 1).add()
                .workload("w2", "o0", 1, 1).on("n2", "c0", 1).add()
                .workload("w3", "o2", 1, 1).priority(2).on("n0", "c0", 1).add()
                .workload("w4", "o2", 2, 1).priority(2).on("n1", "c0", 1).add()
                .workload("w5", "o0", 3, 1).priority(1).add()
                .workload("w6", "o2", 1, 1).priority(1).on("n2", "c0", 1).add().snapshot();
        java.util.Set<Object> seen = new java.util.HashSet<>();
        for (int step = 0; step < 10; step++) {
            CycleResult r = cycle(s);
            PoolSnapshot next = OperatorLoop.apply(s, r, true);
            if (r.evictions().isEmpty() && r.claims().isEmpty() && next.workloads().equals(s.workloads())) {
                break;
            }
            assertThat(seen.add(next.workloads())).as("state repeats").isTrue();
            s = next;
        }
        CycleResult r = cycle(s);
        assertThat(r.assignments().get(id("o0", "w5"))).containsExactly(Pool.on("n0", "c0", 1));
        assertThat(r.evictions()).isEmpty();
        QuotaReport report = QuotaAccounting.report(s, r);
        assertThat(report.organization("o0").gpuClass("c0").used()).isEqualTo(4);
        assertThat(report.organization("o2").gpuClass("c0").used()).isEqualTo(3);
    }

    @Test
    void aClaimLapsesWhenThePreemptorNoLongerNeedsIt() {
        PoolSnapshot s = acmeNode().workload("llm", "acme", 4, 0).add().snapshot();
        s = OperatorLoop.mapWorkloads(s, w -> new Workload(w.id(), w.organization(), w.gpusPerReplica(),
                w.minMemoryMiB(), w.allowedClasses(), w.desiredReplicas(), w.priority(), w.shared(), w.arrival(),
                w.frozen(), w.assigned(), w.draining(), List.of(Pool.on("n1", "a100", 1))));
        CycleResult r = cycle(s);
        assertThat(r.claims()).isEmpty();
        assertThat(replicas(r, "acme", "llm")).isZero();
    }

    @Test
    void reclaimTakesLowestPriorityBeforeNewest() {
        PoolSnapshot s = acmeNode().workload("old", "beta", 2, 2).arrival(10).priority(0).on("n1", "a100", 2).add()
                .workload("new", "beta", 2, 2).arrival(20).priority(5).on("n1", "a100", 2).add()
                .workload("llm", "acme", 2, 1).arrival(30).add().snapshot();
        CycleResult r = cycle(s);
        assertThat(r.evictions()).extracting(Eviction::victim).containsExactly(id("beta", "old"));
        assertThat(r.evictions().get(0).replicas()).isEqualTo(1);
    }

    @Test
    void reclaimEvictsFromTheOrganizationWithTheHighestShare() {
        // acme owns 24 GPUs; gamma borrows 8 (share 1/3), beta 16 (share 2/3): beta's replicas go.
        PoolSnapshot s = Pool.plain().gpuClass("a100", 1.0).node("n1", "acme", "a100", 8)
                .node("n2", "acme", "a100", 8).node("n3", "acme", "a100", 8).org("acme", 1).org("beta", 1)
                .org("gamma", 1).workload("g", "gamma", 2, 4).arrival(50).on("n1", "a100", 4).add()
                .workload("b", "beta", 2, 8).arrival(10).on("n2", "a100", 4).on("n3", "a100", 4).add()
                .workload("llm", "acme", 2, 1).arrival(60).add().snapshot();
        CycleResult r = cycle(s);
        assertThat(r.evictions()).extracting(Eviction::victim).containsExactly(id("beta", "b"));
        assertThat(r.evictions().get(0).node()).isEqualTo(key("n2"));
    }

    @Test
    void noReclaimWhenThePolicyForbidsIt() {
        PoolSnapshot s = betaBorrowsEverything().workload("llm", "acme", 4, 1).arrival(30).add().snapshot();
        s = new PoolSnapshot(s.classes(), s.nodes(), s.organizations(), s.workloads(), new PoolPolicy(true, 0, false));
        CycleResult r = cycle(s);
        assertThat(r.evictions()).isEmpty();
        assertThat(r.pending().get(id("acme", "llm")).reason()).isEqualTo(PendingReason.INSUFFICIENT_CAPACITY);
    }

    @Test
    void noReclaimWhenThePreemptorCanBorrowElsewhereNow() {
        // acme's a100 node is full of beta's replicas, but gamma's l4 node is idle: acme borrows there, nobody is
        // evicted.
        PoolSnapshot s = betaBorrowsEverything().gpuClass("l4", 0.5).node("n2", "gamma", "l4", 8)
                .workload("llm", "acme", 4, 1).classes("a100", "l4").arrival(30).add().snapshot();
        CycleResult r = cycle(s);
        assertThat(r.evictions()).isEmpty();
        assertThat(r.assignments().get(id("acme", "llm"))).containsExactly(Pool.on("n2", "l4", 1));
    }

    @Test
    void higherPriorityPreemptsLowerPriorityOfTheSameOrganization() {
        PoolSnapshot s = acmeNode().workload("batch", "acme", 2, 4).priority(0).on("n1", "a100", 4).add()
                .workload("chat", "acme", 2, 1).priority(10).add().snapshot();
        CycleResult r = cycle(s);
        assertThat(r.evictions()).hasSize(1);
        Eviction e = r.evictions().get(0);
        assertThat(e.victim()).isEqualTo(id("acme", "batch"));
        assertThat(e.replicas()).isEqualTo(1);
        assertThat(e.reason()).startsWith("preempted by acme/chat of the same organization acme");
        assertThat(r.pending().get(id("acme", "chat")).reason()).isEqualTo(PendingReason.PREEMPTING);

        // The evicted replica drains in the next snapshot; once its pod is gone, chat runs.
        PoolSnapshot s2 = OperatorLoop.apply(s, r, true);
        assertThat(replicas(cycle(s2), "acme", "chat")).isZero();
        assertThat(cycle(s2).evictions()).isEmpty();
        s2 = OperatorLoop.podsGone(s2);
        CycleResult r2 = cycle(s2);
        assertThat(replicas(r2, "acme", "chat")).isEqualTo(1);
        assertThat(replicas(r2, "acme", "batch")).isEqualTo(3);
        assertThat(r2.evictions()).isEmpty();
    }

    @Test
    void priorityDoesNotPreemptWhenTheReplicaFitsOtherwise() {
        PoolSnapshot s = Pool.plain().gpuClass("a100", 1.0).node("n1", "acme", "a100", 8)
                .node("n2", "acme", "a100", 8).org("acme", 1).workload("batch", "acme", 2, 4).priority(0)
                .on("n1", "a100", 4).add().workload("chat", "acme", 2, 1).priority(10).add().snapshot();
        CycleResult r = cycle(s);
        assertThat(r.evictions()).isEmpty();
        assertThat(r.assignments().get(id("acme", "chat"))).containsExactly(Pool.on("n2", "a100", 1));
    }

    @Test
    void equalPriorityNeverPreemptsWithinTheOrganization() {
        PoolSnapshot s = acmeNode().workload("batch", "acme", 2, 4).on("n1", "a100", 4).add()
                .workload("chat", "acme", 2, 1).add().snapshot();
        CycleResult r = cycle(s);
        assertThat(r.evictions()).isEmpty();
        assertThat(r.pending().get(id("acme", "chat")).reason()).isEqualTo(PendingReason.INSUFFICIENT_CAPACITY);
    }

    @Test
    void sharedModelsRunOnTheCommonsWithoutBorrowing() {
        // Reserve 50%: acme's 8 GPUs give it a nominal quota of 4; the other 4 are the commons.
        PoolSnapshot s = Pool.policy(new PoolPolicy(true, 50, true)).gpuClass("a100", 1.0)
                .node("n1", "acme", "a100", 8).org("acme", 1).org("beta", 1).workload("pub", "beta", 2, 2).shared()
                .add().workload("chat", "beta", 2, 1).add().snapshot();
        CycleResult r = cycle(s);
        assertThat(replicas(r, "beta", "pub")).isEqualTo(2);
        assertThat(replicas(r, "beta", "chat")).isEqualTo(1);
        QuotaReport report = QuotaAccounting.report(s, r);
        assertThat(report.organization("beta").gpuClass("a100"))
                .isEqualTo(new ClassAccount("a100", 0, 0, 6, 2, 0, 0, 0, 4));
        assertThat(report.organization("acme").gpuClass("a100"))
                .isEqualTo(new ClassAccount("a100", 8, 4, 0, 0, 2, 0, 0, 0));
        assertThat(report.gpuClass("a100").commons()).isEqualTo(4);
        assertThat(report.gpuClass("a100").commonsUsed()).isEqualTo(4);
        assertThat(report.organization("beta").weightedShare()).isEqualTo(2.0 / 8);
    }

    @Test
    void sharedModelsReclaimTheCommonsFromBorrowers() {
        // acme uses its nominal 4; gamma borrows the commons' 4; beta's shared model reclaims them.
        PoolSnapshot s = Pool.policy(new PoolPolicy(true, 50, true)).gpuClass("a100", 1.0)
                .node("n1", "acme", "a100", 8).org("acme", 1).org("beta", 1).org("gamma", 1)
                .workload("own", "acme", 2, 2).on("n1", "a100", 2).add().workload("g", "gamma", 2, 2)
                .on("n1", "a100", 2).add().workload("pub", "beta", 2, 1).shared().add().snapshot();
        CycleResult r = cycle(s);
        assertThat(r.evictions()).extracting(Eviction::victim).containsExactly(id("gamma", "g"));
        assertThat(r.evictions().get(0).reason()).startsWith("reclaimed by org beta for beta/pub: ")
                .contains("the commons");
        assertThat(r.pending().get(id("beta", "pub")).reason()).isEqualTo(PendingReason.PREEMPTING);
    }

    @Test
    void aContributorsNodeLeavingShrinksItsQuotaAndItsReplicasMove() {
        Pool pool = Pool.plain().gpuClass("a100", 1.0).node("n1", "acme", "a100", 8, Pool.MEMORY, NodeState.GONE)
                .node("n2", "beta", "a100", 8).org("acme", 1).org("beta", 1);
        PoolSnapshot s = pool.workload("llm", "acme", 2, 4).on("n1", "a100", 4).add().snapshot();
        CycleResult r = cycle(s);
        assertThat(r.assignments().get(id("acme", "llm"))).containsExactly(Pool.on("n2", "a100", 4));
        assertThat(account(s, r, "acme", "a100")).isEqualTo(new ClassAccount("a100", 0, 0, 8, 8, 0, 0, 0, 0));
        assertThat(account(s, r, "beta", "a100").lent()).isEqualTo(8);

        // beta now wants its nominal quota back: acme's moved replicas are borrowed and get reclaimed.
        PoolSnapshot s2 = OperatorLoop.apply(s, r, true);
        s2 = new PoolSnapshot(s2.classes(), s2.nodes(), s2.organizations(),
                append(s2.workloads(), Pool.plain().workload("chat", "beta", 2, 1).arrival(5000).add().snapshot()
                        .workloads().get(0)),
                s2.policy());
        CycleResult r2 = cycle(s2);
        assertThat(r2.evictions()).extracting(Eviction::victim).containsExactly(id("acme", "llm"));
    }

    @Test
    void aNodeNotReadyKeepsItsReplicasButNoLongerCountsAsContribution() {
        PoolSnapshot s = Pool.plain().gpuClass("a100", 1.0)
                .node("n1", "acme", "a100", 8, Pool.MEMORY, NodeState.NOT_READY).node("n2", "beta", "a100", 8)
                .org("acme", 1).org("beta", 1).workload("llm", "acme", 2, 4).on("n1", "a100", 4).add()
                .workload("more", "acme", 2, 1).add().snapshot();
        CycleResult r = cycle(s);
        assertThat(r.assignments().get(id("acme", "llm"))).containsExactly(Pool.on("n1", "a100", 4));
        assertThat(r.assignments().get(id("acme", "more"))).containsExactly(Pool.on("n2", "a100", 1));
        ClassAccount acme = account(s, r, "acme", "a100");
        assertThat(acme.contributed()).isZero();
        assertThat(acme.nominal()).isZero();
        assertThat(acme.used()).isEqualTo(10);
        assertThat(acme.borrowed()).isEqualTo(10);
    }

    @Test
    void aWithdrawnNodesReplicasArePlacedElsewhereWhileTheirPodsStillHoldItsGpus() {
        PoolSnapshot s = Pool.plain().gpuClass("a100", 1.0)
                .node("n1", "acme", "a100", 8, Pool.MEMORY, NodeState.WITHDRAWING).node("n2", "beta", "a100", 8)
                .node("n3", "beta", "a100", 2)
                .org("acme", 1).org("beta", 1)
                .workload("llm", "acme", 2, 3).on("n1", "a100", 3).add()
                .workload("more", "acme", 2, 1).add().snapshot();
        CycleResult r = cycle(s);
        // The three replicas move off n1 (n2 and n3 have room for five); n1 takes nothing new: its remaining GPUs are
        // not offered, and the six the moved replicas used stay held while their pods stop.
        assertThat(r.assignments().get(id("acme", "llm"))).extracting(a -> a.node().node())
                .doesNotContain("n1");
        assertThat(r.assignments().get(id("acme", "llm")).stream().mapToInt(a -> a.replicas()).sum()).isEqualTo(3);
        assertThat(r.assignments().get(id("acme", "more"))).extracting(a -> a.node().node()).doesNotContain("n1")
                .hasSize(1);
        assertThat(r.evictions()).isEmpty();
        ClassAccount acme = account(s, r, "acme", "a100");
        assertThat(acme.contributed()).as("a node being withdrawn is no longer contributed").isZero();
        assertThat(acme.used()).as("running, and stopping on n1").isEqualTo(14);
        assertThat(acme.draining()).isEqualTo(6);
    }

    @Test
    void staticModeIgnoresContributions() {
        PoolSnapshot s = Pool.policy(new PoolPolicy(false, 10, true)).gpuClass("a100", 1.0)
                .node("n1", "acme", "a100", 8).org(quota("acme", 1, "a100=2", "", "")).org(quota("beta", 1, "a100=4", "", ""))
                .workload("llm", "acme", 2, 2).add().snapshot();
        CycleResult r = cycle(s);
        QuotaReport report = QuotaAccounting.report(s, r);
        assertThat(report.organization("acme").gpuClass("a100"))
                .isEqualTo(new ClassAccount("a100", 8, 2, 4, 2, 0, 0, 0, 0));
        assertThat(report.organization("beta").gpuClass("a100").nominal()).isEqualTo(4);
        assertThat(report.gpuClass("a100").commons()).isEqualTo(2);
        // The commons' 2 idle GPUs are lent first, so beta's unused quota lends nothing.
        assertThat(report.organization("beta").gpuClass("a100").lent()).isZero();
    }

    @Test
    void contributionWeightedModeAddsContributionsLessTheReserve() {
        PoolSnapshot s = Pool.policy(PoolPolicy.DEFAULT).gpuClass("a100", 1.0).node("n1", "acme", "a100", 8)
                .node("n2", "beta", "a100", 4).node("n3", "gamma", "a100", 1)
                .org(quota("acme", 1, "a100=1", "", "")).org("beta", 1).org("gamma", 1).snapshot();
        QuotaReport report = QuotaAccounting.report(s, cycle(s));
        assertThat(report.organization("acme").gpuClass("a100").nominal()).isEqualTo(1 + 7);
        assertThat(report.organization("beta").gpuClass("a100").nominal()).isEqualTo(3);
        assertThat(report.organization("gamma").gpuClass("a100").nominal()).isZero();
        assertThat(report.gpuClass("a100").capacity()).isEqualTo(13);
        assertThat(report.gpuClass("a100").commons()).isEqualTo(2);
    }

    @Test
    void emptyPool() {
        PoolSnapshot s = Pool.plain().workload("llm", "acme", 1, 1).add().snapshot();
        CycleResult r = cycle(s);
        assertThat(r.assignments().get(id("acme", "llm"))).isEmpty();
        assertThat(r.pending().get(id("acme", "llm")).reason()).isEqualTo(PendingReason.NO_MATCHING_GPU);
        assertThat(r.evictions()).isEmpty();
        QuotaReport report = QuotaAccounting.report(s, r);
        assertThat(report.classes()).isEmpty();
        assertThat(report.organization("acme").pendingGpus()).isEqualTo(1);

        PoolSnapshot nothing = Pool.plain().snapshot();
        assertThat(cycle(nothing).assignments()).isEmpty();
    }

    @Test
    void scaledDownReplicasHoldTheirGpusUntilTheyStop() {
        PoolSnapshot s = acmeNode().workload("a", "acme", 2, 2).on("n1", "a100", 4).add()
                .workload("b", "beta", 2, 2).add().snapshot();
        CycleResult r = cycle(s);
        assertThat(replicas(r, "acme", "a")).isEqualTo(2);
        assertThat(replicas(r, "beta", "b")).isZero();
        PoolSnapshot s2 = OperatorLoop.apply(s, r, false);
        assertThat(account(s2, cycle(s2), "acme", "a100").draining()).isEqualTo(4);
        assertThat(replicas(cycle(s2), "beta", "b")).isZero();
        PoolSnapshot s3 = OperatorLoop.apply(s2, cycle(s2), true);
        assertThat(replicas(cycle(s3), "beta", "b")).isEqualTo(2);
    }

    @Test
    void drainingGpusAreNotGivenAway() {
        PoolSnapshot s = acmeNode().workload("gone", "beta", 2, 0).draining("n1", "a100", 3).add()
                .workload("b", "gamma", 2, 4).add().snapshot();
        CycleResult r = cycle(s);
        assertThat(replicas(r, "gamma", "b")).isEqualTo(1);
        assertThat(account(s, r, "beta", "a100").used()).isEqualTo(6);
        assertThat(account(s, r, "beta", "a100").draining()).isEqualTo(6);
    }

    @Test
    void frozenWorkloadsKeepTheirReplicasAndWaitForNothing() {
        PoolSnapshot s = acmeNode().workload("odd", "acme", 2, 5).frozen().on("n1", "a100", 2).add().snapshot();
        CycleResult r = cycle(s);
        assertThat(replicas(r, "acme", "odd")).isEqualTo(2);
        assertThat(r.pending()).isEmpty();
    }

    @Test
    void preferredClassFirstAndMemoryRespected() {
        PoolSnapshot s = Pool.plain().gpuClass("a100", 2.0).gpuClass("l4", 0.5).node("big", "acme", "a100", 8)
                .node("small", "acme", "l4", 4, 24576, NodeState.SCHEDULABLE).org("acme", 1)
                .workload("tiny", "acme", 1, 2).classes("l4", "a100").add().workload("huge", "acme", 1, 1)
                .memory(40000).add().snapshot();
        CycleResult r = cycle(s);
        assertThat(r.assignments().get(id("acme", "tiny"))).containsExactly(Pool.on("small", "l4", 2));
        assertThat(r.assignments().get(id("acme", "huge"))).containsExactly(Pool.on("big", "a100", 1));
    }

    @Test
    void quotaAccountingWorksForFirstComeResults() {
        PoolSnapshot s = acmeNode().workload("chat", "beta", 2, 3).add().workload("llm", "acme", 2, 2).add()
                .snapshot();
        CycleResult r = new FirstComeAdmission().cycle(s);
        QuotaReport report = QuotaAccounting.report(s, r);
        assertThat(report.organization("beta").gpuClass("a100")).isEqualTo(new ClassAccount("a100", 0, 0, 6, 6, 0, 0, 0, 0));
        assertThat(report.organization("acme").gpuClass("a100")).isEqualTo(new ClassAccount("a100", 8, 8, 2, 0, 6, 2, 0, 0));
        assertThat(report.organization("acme").pendingGpus()).isEqualTo(2);
        assertThat(report.gpuClass("a100").idle()).isZero();
    }

    @Test
    void classValueWeighsTheDominantShare() {
        // beta borrows 2 of 8 lendable h100 (value 4) and 4 of 8 lendable l4 (value 0.5): h100 dominates, 4 * 2/8 = 1.
        PoolSnapshot s = Pool.plain().gpuClass("h100", 4.0).gpuClass("l4", 0.5).node("h", "acme", "h100", 8)
                .node("l", "acme", "l4", 8).org("acme", 1).org("beta", 2).workload("x", "beta", 1, 2).classes("h100")
                .on("h", "h100", 2).add().workload("y", "beta", 1, 4).classes("l4").on("l", "l4", 4).add().snapshot();
        QuotaReport report = QuotaAccounting.report(s, cycle(s));
        assertThat(report.organization("beta").weightedShare()).isEqualTo(1.0 / 2);
    }

    private static List<Workload> append(List<Workload> list, Workload w) {
        List<Workload> out = new java.util.ArrayList<>(list);
        out.add(w);
        return out;
    }
}
