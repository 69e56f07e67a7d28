package io.gpupool.core.fairshare;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

import io.gpupool.core.model.Assignment;
import io.gpupool.core.model.CycleResult;
import io.gpupool.core.model.NodeState;
import io.gpupool.core.model.PoolSnapshot;
import io.gpupool.core.model.Workload;

/**
 * Quota usage per organization and GpuClass after a cycle, for the Organization status, the Prometheus gauges, the
 * playground and the trace simulator. A pure function of the snapshot and the cycle's result; it works for the result
 * of any {@code AdmissionEngine}.
 *
 * <p>
 * A replica holds its GPUs while it runs and while it stops: "used" counts the result's assignments, the snapshot's
 * draining replicas and the replicas the result took away (evicted or scaled down), which the operator turns into
 * draining replicas; "draining" is the stopping part. Replicas on gone nodes hold nothing. Quotas count running
 * replicas only (as the engine does): the commons carries running shared ModelDeployments first, oldest first, whole
 * replicas at a time; everything else running counts against the organization's nominal quota, and beyond it is
 * borrowed.
 */
public final class QuotaAccounting {

    private QuotaAccounting() {
    }

    public static QuotaReport report(PoolSnapshot snapshot, CycleResult result) {
        QuotaBook book = QuotaBook.of(snapshot);
        // What the result assigns runs; what it took away stops, and holds its GPUs until its pods are gone.
        CycleLedger ledger = CycleLedger.load(book, snapshot,
                (Workload w) -> result.assignments().getOrDefault(w.id(), w.assigned()));
        int nc = book.classCount();
        int no = book.orgCount();
        int[][] pending = new int[no][nc];
        int[] pendingTotal = new int[no];
        for (int i = 0; i < ledger.workloadCount(); i++) {
            Workload w = ledger.workload(i);
            int o = ledger.orgOf(i);
            int k = w.gpusPerReplica();
            int missing = w.desiredReplicas() - count(result.assignments().getOrDefault(w.id(), w.assigned()));
            if (!w.frozen() && missing > 0 && o >= 0 && k > 0) {
                pendingTotal[o] += missing * k;
                for (int c = 0; c < nc; c++) {
                    if (w.allows(book.className(c))) {
                        pending[o][c] += missing * k;
                    }
                }
            }
        }
        int[][] quotaUsed = new int[no][nc];
        int[][] borrowed = new int[no][nc];
        for (int o = 0; o < no; o++) {
            for (int c = 0; c < nc; c++) {
                quotaUsed[o][c] = ledger.runningOrg(o, c);
                borrowed[o][c] = QuotaRules.borrowed(quotaUsed[o][c], book.nominal(o, c));
            }
        }
        int[][] lent = new int[no][nc];
        List<ClassPool> pools = new ArrayList<>();
        int[] idle = new int[nc];
        for (int n = 0; n < ledger.nodeCount(); n++) {
            if (ledger.node(n).state() == NodeState.SCHEDULABLE && ledger.classOf(n) >= 0) {
                idle[ledger.classOf(n)] += Math.max(0, ledger.free(n));
            }
        }
        for (int c = 0; c < nc; c++) {
            int borrowedSum = 0;
            int usedSum = 0;
            int commonsUsed = 0;
            for (int o = 0; o < no; o++) {
                borrowedSum += borrowed[o][c];
                usedSum += used(ledger, o, c);
                commonsUsed += ledger.commonsGpus(o, c);
            }
            attributeLending(book, c, quotaUsed, borrowedSum - Math.max(0, book.commons(c) - commonsUsed), lent);
            pools.add(new ClassPool(book.className(c), book.value(c), book.capacity(c), book.nominalSum(c),
                    book.commons(c), commonsUsed, usedSum, borrowedSum, idle[c]));
        }

        List<OrgAccount> orgs = new ArrayList<>();
        for (int o = 0; o < no; o++) {
            List<ClassAccount> classes = new ArrayList<>(nc);
            for (int c = 0; c < nc; c++) {
                classes.add(new ClassAccount(book.className(c), book.contributed(o, c), book.nominal(o, c),
                        used(ledger, o, c), borrowed[o][c], lent[o][c], pending[o][c], ledger.stoppingGpus(o, c),
                        ledger.commonsGpus(o, c)));
            }
            orgs.add(new OrgAccount(book.orgName(o), book.weight(o), List.copyOf(classes),
                    Shares.weightedShare(book, o, quotaUsed[o]), pendingTotal[o]));
        }
        return new QuotaReport(List.copyOf(orgs), List.copyOf(pools));
    }

    /** GPUs its replicas hold: running and stopping. */
    private static int used(CycleLedger ledger, int o, int c) {
        return ledger.runningGpus(o, c) + ledger.stoppingGpus(o, c);
    }

    private static int count(List<Assignment> as) {
        int n = 0;
        for (Assignment a : as) {
            n += a.replicas();
        }
        return n;
    }

    /**
     * Splits what borrowers take beyond the idle commons among the organizations that have unused nominal quota they
     * may lend, in proportion to it (largest remainder; ties go to the larger lender, then to the organization listed
     * first). Nobody lends more than it could.
     */
    static void attributeLending(QuotaBook book, int c, int[][] quotaUsed, int toAttribute, int[][] lent) {
        int no = book.orgCount();
        long[] lendable = new long[no];
        long total = 0;
        for (int o = 0; o < no; o++) {
            int unused = book.nominal(o, c) - quotaUsed[o][c];
            if (unused > 0) {
                int ll = book.lendingLimit(o, c);
                lendable[o] = ll == QuotaBook.UNLIMITED ? unused : Math.min(unused, ll);
                total += lendable[o];
            }
        }
        long lentTotal = Math.min(Math.max(0, toAttribute), total);
        if (lentTotal == 0) {
            return;
        }
        long given = 0;
        long[] remainder = new long[no];
        for (int o = 0; o < no; o++) {
            long share = lentTotal * lendable[o];
            lent[o][c] = (int) (share / total);
            remainder[o] = share % total;
            given += lent[o][c];
        }
        List<Integer> order = new ArrayList<>();
        for (int o = 0; o < no; o++) {
            if (lendable[o] > lent[o][c]) {
                order.add(o);
            }
        }
        order.sort(Comparator.<Integer>comparingLong(o -> -remainder[o]).thenComparingLong(o -> -lendable[o])
                .thenComparingInt(o -> o));
        for (int i = 0; given < lentTotal && i < order.size(); i++) {
            lent[order.get(i)][c]++;
            given++;
        }
    }
}
