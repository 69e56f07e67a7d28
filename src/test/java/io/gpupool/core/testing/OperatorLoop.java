package io.gpupool.core.testing;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

import io.gpupool.core.model.Assignment;
import io.gpupool.core.model.CycleResult;
import io.gpupool.core.model.NodeKey;
import io.gpupool.core.model.NodeState;
import io.gpupool.core.model.PoolNode;
import io.gpupool.core.model.PoolSnapshot;
import io.gpupool.core.model.Workload;

/**
 * Does what the operator does with a cycle's result: the new assignments become the workloads' assignments, the
 * replicas taken away (evicted or scaled down) on nodes that still exist become draining until their pods are gone,
 * and the claims go to the workloads' {@code claimed}.
 */
public final class OperatorLoop {

    private OperatorLoop() {
    }

    /**
     * The next snapshot after applying a result.
     *
     * @param podsGone whether the pods that were draining in {@code s} are gone now (their GPUs are free)
     */
    public static PoolSnapshot apply(PoolSnapshot s, CycleResult r, boolean podsGone) {
        Map<NodeKey, PoolNode> nodes = new HashMap<>();
        for (PoolNode n : s.nodes()) {
            nodes.put(n.key(), n);
        }
        List<Workload> next = new ArrayList<>();
        for (Workload w : s.workloads()) {
            List<Assignment> now = r.assignments().getOrDefault(w.id(), w.assigned());
            Map<NodeKey, Integer> nowByNode = new HashMap<>();
            for (Assignment a : now) {
                nowByNode.merge(a.node(), a.replicas(), Integer::sum);
            }
            Map<NodeKey, Assignment> draining = new LinkedHashMap<>();
            if (!podsGone) {
                for (Assignment d : w.draining()) {
                    draining.merge(d.node(), d, OperatorLoop::sum);
                }
            }
            for (Assignment a : w.assigned()) {
                int stay = nowByNode.getOrDefault(a.node(), 0);
                int removed = a.replicas() - stay;
                nowByNode.put(a.node(), Math.max(0, stay - a.replicas()));
                PoolNode n = nodes.get(a.node());
                if (removed > 0 && n != null && n.state() != NodeState.GONE) {
                    draining.merge(a.node(), new Assignment(a.node(), a.gpuClass(), removed), OperatorLoop::sum);
                }
            }
            next.add(new Workload(w.id(), w.organization(), w.gpusPerReplica(), w.minMemoryMiB(), w.allowedClasses(),
                    w.desiredReplicas(), w.priority(), w.shared(), w.arrival(), w.frozen(), List.copyOf(now),
                    List.copyOf(draining.values()), r.claims().getOrDefault(w.id(), List.of()), w.guaranteedReplicas()));
        }
        return s.withWorkloads(next);
    }

    /** The snapshot once every draining pod is gone. */
    public static PoolSnapshot podsGone(PoolSnapshot s) {
        return mapWorkloads(s, w -> with(w, w.assigned(), List.of()));
    }

    public static PoolSnapshot mapWorkloads(PoolSnapshot s, UnaryOperator<Workload> f) {
        List<Workload> next = new ArrayList<>();
        for (Workload w : s.workloads()) {
            next.add(f.apply(w));
        }
        return s.withWorkloads(next);
    }

    public static Workload with(Workload w, List<Assignment> assigned, List<Assignment> draining) {
        return new Workload(w.id(), w.organization(), w.gpusPerReplica(), w.minMemoryMiB(), w.allowedClasses(),
                w.desiredReplicas(), w.priority(), w.shared(), w.arrival(), w.frozen(), List.copyOf(assigned),
                List.copyOf(draining), w.claimed(), w.guaranteedReplicas());
    }

    public static Workload withDesired(Workload w, int desired) {
        return new Workload(w.id(), w.organization(), w.gpusPerReplica(), w.minMemoryMiB(), w.allowedClasses(),
                desired, w.priority(), w.shared(), w.arrival(), w.frozen(), w.assigned(), w.draining(), w.claimed(),
                // Without elastic replicas it stays without; with them, minReplicas stays what it was.
                w.guaranteedReplicas() >= w.desiredReplicas() ? desired : w.guaranteedReplicas());
    }

    private static Assignment sum(Assignment a, Assignment b) {
        return new Assignment(a.node(), a.gpuClass(), a.replicas() + b.replicas());
    }
}
