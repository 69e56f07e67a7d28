package io.gpupool.core.status;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import io.gpupool.api.v1alpha1.ClassUsage;
import io.gpupool.core.model.Assignment;
import io.gpupool.core.model.CycleResult;
import io.gpupool.core.model.PoolNode;
import io.gpupool.core.model.PoolSnapshot;
import io.gpupool.core.model.Workload;
import io.gpupool.core.fairshare.ClassAccount;
import io.gpupool.core.fairshare.OrgAccount;
import io.gpupool.core.fairshare.QuotaAccounting;

/**
 * What a person wants to know about the pool after a cycle: per GpuClass its nodes, GPUs and allocation; per
 * organization what it contributes and uses. Printed by the playground, written into statuses by the operator.
 */
public record PoolReport(Map<String, ClassTotals> classes, Map<String, OrgTotals> organizations) {

    public record ClassTotals(int nodes, int gpus, int allocated) {
    }

    public record OrgTotals(List<ClassUsage> classes, double weightedShare) {

        /**
         * The weighted share as Kueue reports it (ClusterQueue status.fairSharing.weightedShare): × 1000, rounded;
         * Long.MAX_VALUE for a share too large to count (borrowing without nominal quota).
         */
        public long weightedSharePerMille() {
            return Math.round(weightedShare * 1000);
        }
    }

    public static PoolReport of(PoolSnapshot snapshot, CycleResult result) {
        Map<String, int[]> classes = new TreeMap<>();
        Map<io.gpupool.core.model.NodeKey, PoolNode> nodes = new HashMap<>();
        for (PoolNode n : snapshot.nodes()) {
            nodes.put(n.key(), n);
            if (n.gpuClass() == null) {
                continue;
            }
            int[] c = classes.computeIfAbsent(n.gpuClass(), k -> new int[3]);
            c[0]++;
            if (n.takesNewReplicas()) {
                c[1] += n.gpus();
            }
        }
        for (Workload w : snapshot.workloads()) {
            List<Assignment> assigned = result.assignments().getOrDefault(w.id(), w.assigned());
            for (Assignment a : assigned) {
                PoolNode n = nodes.get(a.node());
                if (n == null || n.gpuClass() == null) {
                    continue;
                }
                int gpus = a.replicas() * w.gpusPerReplica();
                classes.computeIfAbsent(n.gpuClass(), k -> new int[3])[2] += gpus;
            }
        }
        Map<String, ClassTotals> classTotals = new TreeMap<>();
        classes.forEach((k, v) -> classTotals.put(k, new ClassTotals(v[0], v[1], v[2])));
        // Quota figures come from the one accounting of the fair-share rules, whatever engine decided.
        Map<String, OrgTotals> orgTotals = new TreeMap<>();
        for (OrgAccount account : QuotaAccounting.report(snapshot, result).organizations()) {
            List<ClassUsage> usage = new ArrayList<>();
            for (ClassAccount c : account.classes()) {
                usage.add(new ClassUsage(c.gpuClass(), c.contributed(), c.nominal(), c.used(), c.borrowed(), c.lent(),
                        c.pending()));
            }
            double share = Double.isFinite(account.weightedShare()) ? account.weightedShare() : Double.MAX_VALUE;
            orgTotals.put(account.organization(), new OrgTotals(usage, share));
        }
        return new PoolReport(classTotals, orgTotals);
    }
}
