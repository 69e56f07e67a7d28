package io.gpupool.core.admission;

import java.util.List;
import java.util.Map;

import io.gpupool.core.model.NodeKey;
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

    /** Why a workload that needs more replicas gets none: nothing matches, or everything that does is busy. */
    public static Reasons.Waiting whyNoFit(Workload w, List<PoolNode> nodes, Map<NodeKey, Integer> free) {
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
        Reasons.Need need = new Reasons.Need(w.gpusPerReplica(), w.minMemoryMiB(), w.allowedClasses());
        return matching == 0 ? new Reasons.NoMatchingGpu(need, unclassified, refused, refusal)
                : new Reasons.InsufficientCapacity(need, matching, freeMatchingGpus, matchingGpus);
    }
}
