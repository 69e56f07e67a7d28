package io.gpupool.core.fairshare;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import io.gpupool.core.model.PoolSnapshot;
import io.gpupool.core.testing.Pool;

/** The ledger of one cycle: what runs, what stops and still holds its GPUs, and "what if this replica were gone". */
class CycleLedgerTest {

    /** acme owns one 8-GPU a100 node; beta borrows 6 of it (3 replicas × 2), one of them being taken away. */
    private static PoolSnapshot pool() {
        return Pool.plain().gpuClass("a100", 1).node("n1", "acme", "a100", 8).org("acme", 1).org("beta", 1)
                .workload("chat", "beta", 2, 2).on("n1", "a100", 3).add()
                .workload("old", "beta", 1, 0).draining("n1", "a100", 1).add()
                .snapshot();
    }

    private static CycleLedger keepDesired(PoolSnapshot s) {
        // Keeps no more than desired, like the cycle's rule: beta/chat keeps 2 of its 3 replicas.
        return CycleLedger.load(QuotaBook.of(s), s, (w, nodes, free) -> w.assigned().isEmpty() ? List.of()
                : List.of(new io.gpupool.core.model.Assignment(w.assigned().get(0).node(), "a100",
                        Math.min(w.desiredReplicas(), w.assigned().get(0).replicas()))));
    }

    private static int workload(CycleLedger l, String name) {
        for (int i = 0; i < l.workloadCount(); i++) {
            if (l.workload(i).id().name().equals(name)) {
                return i;
            }
        }
        throw new AssertionError(name);
    }

    @Test
    void replicasTakenAwayAndDrainingOnesHoldTheirGpusButNotQuota() {
        CycleLedger l = keepDesired(pool());
        QuotaBook book = l.book();
        int beta = book.orgIndex("beta");
        int a100 = book.classIndex("a100");
        assertThat(l.running(workload(l, "chat"))).isEqualTo(2);
        assertThat(l.quotaUsed(beta, a100)).as("the 2 kept replicas count").isEqualTo(4);
        assertThat(l.stoppingGpus(beta, a100)).as("the replica taken away and the draining one").isEqualTo(3);
        assertThat(l.free(0)).as("8 - 4 running - 3 stopping").isEqualTo(1);
        assertThat(l.soon(0)).isEqualTo(3);
        assertThat(l.held(a100)).isEqualTo(7);
        assertThat(l.releasing().get(0)).isTrue();
    }

    @Test
    void simulatedRemovalChangesTheQuotaSideAndItsUndoPutsEverythingBack() {
        CycleLedger l = keepDesired(pool());
        int beta = l.book().orgIndex("beta");
        int chat = workload(l, "chat");
        List<Object> before = state(l, beta);

        CycleLedger.Undo undo = l.simulateRemoval(l.slotsOf(chat).get(0));
        assertThat(l.quotaUsed(beta, 0)).isEqualTo(2);
        assertThat(l.runningOrg(beta, 0)).isEqualTo(2);
        assertThat(l.running(chat)).isEqualTo(1);
        assertThat(l.free(0)).as("its GPUs stay held while it stops").isEqualTo(1);
        assertThat(l.soon(0)).isEqualTo(5);
        assertThat(l.orgShare(beta)).isEqualTo(2 / 8.0);

        undo.undo();
        assertThat(state(l, beta)).isEqualTo(before);
        assertThat(l.orgShare(beta)).isEqualTo(4 / 8.0);
    }

    @Test
    void aClaimBooksFreeGpusFirstThenThoseBeingReleased() {
        CycleLedger l = keepDesired(Pool.plain().gpuClass("a100", 1).node("n1", "acme", "a100", 8).org("acme", 1)
                .org("beta", 1).workload("chat", "beta", 2, 3).on("n1", "a100", 3).add()
                .workload("llm", "acme", 4, 1).add().snapshot());
        int acme = l.book().orgIndex("acme");
        l.remove(l.slotsOf(workload(l, "chat")).get(0));
        assertThat(l.free(0)).isEqualTo(2);
        assertThat(l.soon(0)).isEqualTo(2);
        l.reserveFor(workload(l, "llm"), 0, false);
        assertThat(l.free(0)).isZero();
        assertThat(l.soon(0)).isZero();
        assertThat(l.releasing().get(0)).as("nothing left for anyone else to claim").isFalse();
        assertThat(l.quotaUsed(acme, 0)).isEqualTo(4);
    }

    private static List<Object> state(CycleLedger l, int o) {
        List<Object> s = new ArrayList<>();
        for (int i = 0; i < l.workloadCount(); i++) {
            s.add(l.running(i));
            l.slotsOf(i).forEach(slot -> s.add(slot.count()));
        }
        s.add(l.quotaUsed(o, 0));
        s.add(l.runningOrg(o, 0));
        s.add(l.runningGpus(o, 0));
        s.add(l.stoppingGpus(o, 0));
        s.add(l.free(0));
        s.add(l.soon(0));
        s.add(l.held(0));
        s.add(l.reservedSum(0));
        s.add(l.releasing().get(0));
        return s;
    }
}
