package io.gpupool.core.admission;

import java.util.List;
import java.util.Map;

import io.gpupool.core.model.NodeKey;
import io.gpupool.core.model.PendingReason;
import io.gpupool.core.model.PoolNode;
import io.gpupool.core.model.Workload;

/** Which nodes can hold a replica of a workload, and which of them is best. Shared by every admission engine. */
public final class NodeFit {

    private NodeFit() {
    }

    /**
     * Whether the node may hold a replica of the workload, ignoring how busy it is: GPUs of a kind it may use, and an
     * owner who consents to what it does ({@link io.gpupool.core.model.Requirements}).
     */
    public static boolean matches(Workload w, PoolNode n) {
        return gpusMatch(w, n) && w.requirements().admits(n);
    }

    private static boolean gpusMatch(Workload w, PoolNode n) {
        return n.gpuClass() != null && w.allows(n.gpuClass()) && n.memoryMiB() >= w.minMemoryMiB()
                && n.gpus() >= w.gpusPerReplica();
    }

    /** Whether a replica fits on the node now: it matches, takes new replicas and has enough free GPUs. */
    public static boolean fitsNow(Workload w, PoolNode n, int freeGpus) {
        return n.takesNewReplicas() && matches(w, n) && freeGpus >= w.gpusPerReplica();
    }

    /**
     * The best node for one more replica: the most preferred class first, then a node the workload already uses
     * (fewer Deployments, shared model cache), then the tightest fit (keeps large holes for large replicas), then the
     * name, so that the choice is deterministic.
     *
     * @return the chosen node, or null when none fits
     */
    public static PoolNode best(Workload w, List<PoolNode> nodes, Map<NodeKey, Integer> free) {
        PoolNode best = null;
        int bestFree = 0;
        int bestClassRank = 0;
        boolean bestUsed = false;
        for (PoolNode n : nodes) {
            int f = free.getOrDefault(n.key(), 0);
            if (!fitsNow(w, n, f)) {
                continue;
            }
            int classRank = w.allowedClasses().isEmpty() ? 0 : w.allowedClasses().indexOf(n.gpuClass());
            boolean used = w.assigned().stream().anyMatch(a -> a.node().equals(n.key()));
            if (best == null || classRank < bestClassRank
                    || (classRank == bestClassRank && used && !bestUsed)
                    || (classRank == bestClassRank && used == bestUsed
                            && (f < bestFree || (f == bestFree && n.key().compareTo(best.key()) < 0)))) {
                best = n;
                bestFree = f;
                bestClassRank = classRank;
                bestUsed = used;
            }
        }
        return best;
    }

    /** Explains why a workload that needs more replicas gets none: nothing matches, or everything that does is busy. */
    public static PendingReason whyNoFit(Workload w, List<PoolNode> nodes, Map<NodeKey, Integer> free) {
        int matching = 0;
        int matchingGpus = 0;
        int freeMatchingGpus = 0;
        int unclassified = 0;
        int refused = 0;
        String refusal = null;
        for (PoolNode n : nodes) {
            if (n.gpuClass() == null) {
                unclassified++;
            }
            if (n.takesNewReplicas() && gpusMatch(w, n) && !w.requirements().admits(n)) {
                refused++;
                refusal = refusal == null ? w.requirements().refusal(n) : refusal;
            }
            if (n.takesNewReplicas() && matches(w, n)) {
                matching++;
                matchingGpus += n.gpus();
                freeMatchingGpus += free.getOrDefault(n.key(), 0);
            }
        }
        String need = w.gpusPerReplica() + " GPU(s) with at least " + w.minMemoryMiB() + " MiB each on one node"
                + (w.allowedClasses().isEmpty() ? "" : " of class " + String.join(" or ", w.allowedClasses()));
        if (matching == 0) {
            String hint = unclassified > 0
                    ? " (" + unclassified + " GPU node(s) match no GpuClass: create GpuClasses that cover them)"
                    : "";
            if (refused > 0) {
                hint += "; " + refused + " node(s) with such GPUs may not hold it: " + refusal + " (owners consent in "
                        + "GpuPool spec.localNodes for the pool's own cluster, in the contributor chart's policy for "
                        + "theirs; spec.hfTokenClusters lists the clusters a model's token may go to)";
            }
            return new PendingReason(PendingReason.NO_MATCHING_GPU,
                    "No schedulable GPU node in the pool has " + need + hint + ".");
        }
        return new PendingReason(PendingReason.INSUFFICIENT_CAPACITY,
                "Waiting for capacity: " + matching + " node(s) can hold a replica (" + need + ") but only "
                        + freeMatchingGpus + " of their " + matchingGpus + " GPUs are free, not enough on any one node.");
    }
}
