package io.gpupool.core.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import io.gpupool.core.admission.NodeFit;
import io.gpupool.core.model.Assignment;
import io.gpupool.core.model.CycleResult;
import io.gpupool.core.model.Eviction;
import io.gpupool.core.model.NodeKey;
import io.gpupool.core.model.NodeState;
import io.gpupool.core.model.PoolNode;
import io.gpupool.core.model.PoolSnapshot;
import io.gpupool.core.model.Workload;
import io.gpupool.core.model.WorkloadId;

/** Checks every admission result must pass, whatever the engine. */
public final class Invariants {

    private Invariants() {
    }

    /**
     * No GPU booked twice: on every node that is not gone, the GPUs of the result's assignments, of the snapshot's
     * draining replicas and of the replicas the result takes away (they drain next) fit in the node.
     */
    public static void noDoubleBooking(PoolSnapshot s, CycleResult r) {
        PoolSnapshot next = OperatorLoop.apply(s, r, false);
        Map<NodeKey, Integer> held = new HashMap<>();
        for (Workload w : next.workloads()) {
            for (Assignment a : w.assigned()) {
                held.merge(a.node(), a.replicas() * w.gpusPerReplica(), Integer::sum);
            }
            for (Assignment d : w.draining()) {
                held.merge(d.node(), d.replicas() * w.gpusPerReplica(), Integer::sum);
            }
        }
        for (PoolNode n : s.nodes()) {
            if (n.state() != NodeState.GONE) {
                assertThat(held.getOrDefault(n.key(), 0)).as("GPUs held on %s", n.key()).isLessThanOrEqualTo(n.gpus());
            }
        }
    }

    /** Every replica the result places fits its node: it exists, is neither gone nor withdrawn, matches, and new ones take replicas. */
    public static void everyReplicaFits(PoolSnapshot s, CycleResult r) {
        Map<NodeKey, PoolNode> nodes = new HashMap<>();
        for (PoolNode n : s.nodes()) {
            nodes.put(n.key(), n);
        }
        for (Workload w : s.workloads()) {
            List<Assignment> now = r.assignments().get(w.id());
            assertThat(now).as("assignment of %s", w.id()).isNotNull();
            Map<NodeKey, Integer> before = new HashMap<>();
            for (Assignment a : w.assigned()) {
                before.merge(a.node(), a.replicas(), Integer::sum);
            }
            int total = 0;
            for (Assignment a : now) {
                PoolNode n = nodes.get(a.node());
                assertThat(n).as("node of %s", a).isNotNull();
                assertThat(n.state().keepsReplicas()).as("state of %s", a.node()).isTrue();
                assertThat(a.replicas()).isPositive();
                assertThat(a.gpuClass()).isEqualTo(n.gpuClass());
                if (!w.frozen()) {
                    assertThat(NodeFit.matches(w, n)).as("%s fits %s", w.id(), n).isTrue();
                }
                if (a.replicas() > before.getOrDefault(a.node(), 0)) {
                    assertThat(w.frozen()).as("frozen %s grew", w.id()).isFalse();
                    assertThat(n.takesNewReplicas()).as("%s takes new replicas", n.key()).isTrue();
                }
                total += a.replicas();
            }
            if (!w.frozen()) {
                assertThat(total).as("replicas of %s", w.id()).isLessThanOrEqualTo(Math.max(0, w.desiredReplicas()));
            }
        }
    }

    /** Evicted replicas were running where the eviction says and are gone from the victim's assignment. */
    public static void evictionsRemoveReplicas(PoolSnapshot s, CycleResult r) {
        Map<WorkloadId, Workload> byId = new HashMap<>();
        for (Workload w : s.workloads()) {
            byId.put(w.id(), w);
        }
        Map<List<Object>, Integer> evicted = new HashMap<>();
        for (Eviction e : r.evictions()) {
            assertThat(e.replicas()).isPositive();
            assertThat(e.reason()).isNotBlank();
            evicted.merge(List.of(e.victim(), e.node()), e.replicas(), Integer::sum);
        }
        for (Map.Entry<List<Object>, Integer> e : evicted.entrySet()) {
            WorkloadId victim = (WorkloadId) e.getKey().get(0);
            NodeKey node = (NodeKey) e.getKey().get(1);
            int before = count(byId.get(victim).assigned(), node);
            int after = count(r.assignments().get(victim), node);
            assertThat(before - after).as("replicas of %s removed from %s", victim, node)
                    .isGreaterThanOrEqualTo(e.getValue());
        }
    }

    public static void all(PoolSnapshot s, CycleResult r) {
        noDoubleBooking(s, r);
        everyReplicaFits(s, r);
        evictionsRemoveReplicas(s, r);
    }

    public static int count(List<Assignment> as, NodeKey node) {
        int n = 0;
        for (Assignment a : as) {
            if (a.node().equals(node)) {
                n += a.replicas();
            }
        }
        return n;
    }

    public static int count(List<Assignment> as) {
        int n = 0;
        for (Assignment a : as) {
            n += a.replicas();
        }
        return n;
    }
}
