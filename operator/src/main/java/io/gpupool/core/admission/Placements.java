package io.gpupool.core.admission;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import io.gpupool.core.model.Assignment;
import io.gpupool.core.model.NodeKey;
import io.gpupool.core.model.PoolNode;
import io.gpupool.core.model.Workload;

/** Small operations on lists of assignments. */
public final class Placements {

    private Placements() {
    }

    public static int count(List<Assignment> assignments) {
        int n = 0;
        for (Assignment a : assignments) {
            n += a.replicas();
        }
        return n;
    }

    /** Takes the GPUs of draining replicas out of {@code free}: they are busy until their pods are gone. */
    public static void reserveDraining(List<Workload> workloads, Map<NodeKey, Integer> free) {
        for (Workload w : workloads) {
            for (Assignment d : w.draining()) {
                free.computeIfPresent(d.node(), (k, f) -> f - d.replicas() * w.gpusPerReplica());
            }
        }
    }

    /** Adds one replica on a node to an assignment list, merging with an existing entry for that node. */
    public static List<Assignment> plusOne(List<Assignment> assignments, PoolNode node) {
        List<Assignment> out = new ArrayList<>(assignments.size() + 1);
        boolean merged = false;
        for (Assignment a : assignments) {
            if (a.node().equals(node.key())) {
                out.add(new Assignment(a.node(), a.gpuClass(), a.replicas() + 1));
                merged = true;
            } else {
                out.add(a);
            }
        }
        if (!merged) {
            out.add(new Assignment(node.key(), node.gpuClass(), 1));
        }
        return out;
    }

    /**
     * Places up to {@code wanted} more replicas of a workload, one at a time on the best node, taking their GPUs from
     * {@code free}.
     *
     * @return the grown assignment list
     */
    public static List<Assignment> grow(Workload w, int wanted, List<PoolNode> nodes, Map<NodeKey, Integer> free) {
        List<Assignment> current = w.assigned();
        Workload growing = w;
        for (int i = 0; i < wanted; i++) {
            PoolNode n = NodeFit.best(growing, nodes, free);
            if (n == null) {
                break;
            }
            free.merge(n.key(), -w.gpusPerReplica(), Integer::sum);
            current = plusOne(current, n);
            growing = w.withAssigned(current);
        }
        return current;
    }
}
