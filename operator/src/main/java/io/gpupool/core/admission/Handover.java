package io.gpupool.core.admission;

import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;

import io.gpupool.core.model.NodeKey;

/**
 * Make-before-break when a contributor takes a node back. The engine moves replicas off a withdrawing node at once
 * (they stop counting as the workload's, so replacements are placed elsewhere), but stopping them before the
 * replacements serve would leave the model short of ready replicas for as long as a model takes to load. So replicas
 * that still run on withdrawing nodes keep serving while the workload has fewer ready replicas elsewhere than it asks
 * for, and at most until the node's handover deadline; then they stop, each draining its in-flight requests. Their
 * pods hold their GPUs meanwhile like any stopping replica, so nothing is booked twice, and they never grow: a node
 * being withdrawn gets no replica it does not already run.
 */
public final class Handover {

    private Handover() {
    }

    /**
     * @param desired         replicas the workload asks for
     * @param readyOnAssigned its ready replicas on the nodes it is assigned to now (not counting withdrawing nodes)
     * @param live            its pods that still exist, per node
     * @param deadlines       the nodes being withdrawn, each with the end of its handover
     * @param now             the current time
     * @return replicas to keep running per withdrawing node, only positive counts, in node order
     */
    public static Map<NodeKey, Integer> keep(int desired, int readyOnAssigned, Map<NodeKey, Integer> live,
            Map<NodeKey, Instant> deadlines, Instant now) {
        Map<NodeKey, Integer> keep = new TreeMap<>();
        int missing = desired - readyOnAssigned;
        for (Map.Entry<NodeKey, Integer> e : new TreeMap<>(live).entrySet()) {
            Instant deadline = deadlines.get(e.getKey());
            if (missing <= 0) {
                break;
            }
            if (deadline == null || !now.isBefore(deadline) || e.getValue() <= 0) {
                continue;
            }
            int n = Math.min(e.getValue(), missing);
            keep.put(e.getKey(), n);
            missing -= n;
        }
        return keep;
    }

    /** The earliest deadline among the nodes a workload keeps replicas on, or null: when to look again. */
    public static Instant nextDeadline(Map<NodeKey, Integer> kept, Map<NodeKey, Instant> deadlines) {
        Instant next = null;
        for (NodeKey node : kept.keySet()) {
            Instant d = deadlines.get(node);
            if (d != null && (next == null || d.isBefore(next))) {
                next = d;
            }
        }
        return next;
    }
}
