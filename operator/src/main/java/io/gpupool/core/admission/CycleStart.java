package io.gpupool.core.admission;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import io.gpupool.core.model.Assignment;
import io.gpupool.core.model.NodeKey;
import io.gpupool.core.model.PoolNode;
import io.gpupool.core.model.Workload;

/**
 * Where every cycle starts, whatever the engine: in {@link Workload#ARRIVAL_ORDER}, what each workload keeps of what
 * it runs.
 */
public final class CycleStart {

    private CycleStart() {
    }

    /**
     * Keeps the replicas that may stay where they are: on a node that still exists and is not being withdrawn, that
     * still suits the workload and still has room for them (a node that shrank loses its newest replicas first), no
     * more than desired. What is not kept is taken away: its pods stop and hold their GPUs meanwhile.
     *
     * @param free free GPUs per node; the kept replicas' GPUs are taken from it
     */
    public static List<Assignment> keepValid(Workload w, Map<NodeKey, PoolNode> nodes, Map<NodeKey, Integer> free) {
        int budget = w.frozen() ? Integer.MAX_VALUE : w.desiredReplicas();
        List<Assignment> kept = new ArrayList<>();
        for (Assignment a : w.assigned()) {
            PoolNode n = nodes.get(a.node());
            if (n == null || !n.state().keepsReplicas() || budget <= 0) {
                continue;
            }
            if (!w.frozen() && !NodeFit.matches(w, n)) {
                continue;
            }
            int room = free.get(n.key()) / w.gpusPerReplica();
            int keep = Math.min(Math.min(a.replicas(), room), budget);
            if (keep > 0) {
                kept.add(new Assignment(a.node(), n.gpuClass(), keep));
                free.merge(n.key(), -keep * w.gpusPerReplica(), Integer::sum);
                budget -= keep;
            }
        }
        return kept;
    }
}
