package io.gpupool.core.fairshare;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import io.gpupool.core.model.Assignment;
import io.gpupool.core.model.CycleResult;
import io.gpupool.core.model.NodeKey;
import io.gpupool.core.model.NodeState;
import io.gpupool.core.model.PoolNode;
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

    private static final Comparator<Workload> ARRIVAL = Comparator.comparingLong(Workload::arrival)
            .thenComparing(Workload::id);

    private QuotaAccounting() {
    }

    public static QuotaReport report(PoolSnapshot snapshot, CycleResult result) {
        QuotaBook book = QuotaBook.of(snapshot);
        int nc = book.classCount();
        int no = book.orgCount();
        Map<NodeKey, PoolNode> nodes = new HashMap<>();
        for (PoolNode n : snapshot.nodes()) {
            nodes.put(n.key(), n);
        }
        int[][] used = new int[no][nc];
        int[][] draining = new int[no][nc];
        int[][] fromCommons = new int[no][nc];
        int[][] pending = new int[no][nc];
        int[] pendingTotal = new int[no];
        int[] commonsLeft = new int[nc];
        for (int c = 0; c < nc; c++) {
            commonsLeft[c] = book.commons(c);
        }
        Map<NodeKey, Integer> heldOnNode = new HashMap<>();

        List<Workload> ordered = new ArrayList<>(snapshot.workloads());
        ordered.sort(ARRIVAL);
        for (Workload w : ordered) {
            int o = book.orgIndex(w.organization());
            int k = w.gpusPerReplica();
            List<Assignment> now = result.assignments().getOrDefault(w.id(), w.assigned());
            int[] running = new int[nc];
            int[] stopping = new int[nc];
            Map<NodeKey, Integer> nowOnNode = new HashMap<>();
            for (Assignment a : now) {
                nowOnNode.merge(a.node(), a.replicas(), Integer::sum);
                add(running, nodes.get(a.node()), a.replicas(), k, book, heldOnNode);
            }
            for (Assignment d : w.draining()) {
                add(stopping, nodes.get(d.node()), d.replicas(), k, book, heldOnNode);
            }
            for (Assignment a : w.assigned()) {
                int kept = nowOnNode.getOrDefault(a.node(), 0);
                int removed = a.replicas() - kept;
                nowOnNode.put(a.node(), Math.max(0, kept - a.replicas()));
                if (removed > 0) {
                    add(stopping, nodes.get(a.node()), removed, k, book, heldOnNode);
                }
            }
            for (int c = 0; c < nc; c++) {
                if (running[c] + stopping[c] == 0 || o < 0) {
                    continue;
                }
                if (w.shared()) {
                    int cr = Shares.commonsReplicas(running[c], k, commonsLeft[c]);
                    commonsLeft[c] -= cr * k;
                    fromCommons[o][c] += cr * k;
                }
                used[o][c] += (running[c] + stopping[c]) * k;
                draining[o][c] += stopping[c] * k;
            }
            int missing = w.desiredReplicas() - count(now);
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
                quotaUsed[o][c] = used[o][c] - draining[o][c] - fromCommons[o][c];
                borrowed[o][c] = Math.max(0, quotaUsed[o][c] - book.nominal(o, c));
            }
        }
        int[][] lent = new int[no][nc];
        List<ClassPool> pools = new ArrayList<>();
        int[] idle = idle(snapshot, book, heldOnNode);
        for (int c = 0; c < nc; c++) {
            int borrowedSum = 0;
            int usedSum = 0;
            int commonsUsed = 0;
            for (int o = 0; o < no; o++) {
                borrowedSum += borrowed[o][c];
                usedSum += used[o][c];
                commonsUsed += fromCommons[o][c];
            }
            attributeLending(book, c, quotaUsed, borrowedSum - Math.max(0, book.commons(c) - commonsUsed), lent);
            pools.add(new ClassPool(book.className(c), book.value(c), book.capacity(c), book.nominalSum(c),
                    book.commons(c), commonsUsed, usedSum, borrowedSum, idle[c]));
        }

        List<OrgAccount> orgs = new ArrayList<>();
        for (int o = 0; o < no; o++) {
            List<ClassAccount> classes = new ArrayList<>(nc);
            for (int c = 0; c < nc; c++) {
                classes.add(new ClassAccount(book.className(c), book.contributed(o, c), book.nominal(o, c), used[o][c],
                        borrowed[o][c], lent[o][c], pending[o][c], draining[o][c], fromCommons[o][c]));
            }
            orgs.add(new OrgAccount(book.orgName(o), book.weight(o), List.copyOf(classes),
                    Shares.weightedShare(book, o, quotaUsed[o]), pendingTotal[o]));
        }
        return new QuotaReport(List.copyOf(orgs), List.copyOf(pools));
    }

    private static void add(int[] perClass, PoolNode n, int replicas, int k, QuotaBook book,
            Map<NodeKey, Integer> heldOnNode) {
        if (n == null || n.state() == NodeState.GONE || n.gpuClass() == null || replicas <= 0) {
            return;
        }
        perClass[book.classIndex(n.gpuClass())] += replicas;
        heldOnNode.merge(n.key(), replicas * k, Integer::sum);
    }

    private static int count(List<Assignment> as) {
        int n = 0;
        for (Assignment a : as) {
            n += a.replicas();
        }
        return n;
    }

    private static int[] idle(PoolSnapshot snapshot, QuotaBook book, Map<NodeKey, Integer> heldOnNode) {
        int[] idle = new int[book.classCount()];
        for (PoolNode n : snapshot.nodes()) {
            if (n.state() == NodeState.SCHEDULABLE && n.gpuClass() != null) {
                idle[book.classIndex(n.gpuClass())] += Math.max(0, n.gpus() - heldOnNode.getOrDefault(n.key(), 0));
            }
        }
        return idle;
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
