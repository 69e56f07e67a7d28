package io.gpupool.core.admission;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.gpupool.core.model.Assignment;
import io.gpupool.core.model.CycleResult;
import io.gpupool.core.model.NodeKey;
import io.gpupool.core.model.PendingReason;
import io.gpupool.core.model.PoolNode;
import io.gpupool.core.model.PoolSnapshot;
import io.gpupool.core.model.Workload;
import io.gpupool.core.model.WorkloadId;

/**
 * The simplest engine: no quotas, oldest ModelDeployment first, a replica is admitted whenever a node has the GPUs.
 * It is the "FIFO" baseline of the trace simulator and what a pool without Organizations' quotas gets.
 */
public final class FirstComeAdmission implements AdmissionEngine {

    @Override
    public CycleResult cycle(PoolSnapshot snapshot) {
        List<PoolNode> nodes = new ArrayList<>(snapshot.nodes());
        nodes.sort(Comparator.comparing(PoolNode::key));
        Map<NodeKey, PoolNode> byKey = new HashMap<>();
        Map<NodeKey, Integer> free = new HashMap<>();
        for (PoolNode n : nodes) {
            byKey.put(n.key(), n);
            free.put(n.key(), n.gpus());
        }
        List<Workload> ordered = new ArrayList<>(snapshot.workloads());
        ordered.sort(Workload.ARRIVAL_ORDER);
        Placements.reserveDraining(ordered, free);

        Map<WorkloadId, List<Assignment>> assignments = new LinkedHashMap<>();
        for (Workload w : ordered) {
            assignments.put(w.id(), CycleStart.keepValid(w, byKey, free));
        }
        Map<WorkloadId, PendingReason> pending = new LinkedHashMap<>();
        for (Workload w : ordered) {
            List<Assignment> current = assignments.get(w.id());
            Workload placed = w.withAssigned(current);
            List<Assignment> grown = Placements.grow(placed, w.frozen() ? 0 : w.desiredReplicas() - placed.assignedReplicas(),
                    nodes, free);
            assignments.put(w.id(), grown);
            int missing = w.desiredReplicas() - Placements.count(grown);
            if (missing > 0 && !w.frozen()) {
                pending.put(w.id(), Explainer.pending(NodeFit.whyNoFit(w, nodes, free)));
            }
        }
        return new CycleResult(assignments, List.of(), pending);
    }
}
