package io.gpupool.operator.scheduling;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Supplier;

import org.jboss.logging.Logger;

import io.gpupool.api.v1alpha1.ModelDeployment;
import io.gpupool.api.v1alpha1.Placement;
import io.gpupool.core.inventory.Workloads;
import io.gpupool.core.model.Assignment;
import io.gpupool.core.model.CycleResult;
import io.gpupool.core.model.Eviction;
import io.gpupool.core.model.NodeKey;
import io.gpupool.core.model.PendingReason;
import io.gpupool.core.model.Workload;
import io.gpupool.core.model.WorkloadId;
import io.gpupool.core.serving.Admission;

/**
 * What every workload holds between cycles: its assignment, claims and draining replicas, why it waits, why it was
 * preempted. Kept here because a status patch reaches the informer cache later than the next reconcile may run; rebuilt
 * from the ModelDeployments' status on start, so the API server stays the source of truth across restarts. Draining
 * replicas are not remembered: each cycle derives them from the pods that still run. Not thread-safe: the
 * {@link PoolScheduler} guards it.
 */
final class AssignmentLedger {

    private static final Logger LOG = Logger.getLogger(AssignmentLedger.class);

    private final Map<WorkloadId, Workload> workloads = new HashMap<>();
    private final Map<WorkloadId, PendingReason> pending = new HashMap<>();
    private final Map<WorkloadId, String> preempted = new HashMap<>();
    /** When each workload's replicas were placed (epoch ms, replicas), for the minimum run time; forgotten after it. */
    private final Map<WorkloadId, java.util.ArrayDeque<long[]>> started = new HashMap<>();
    /** Deleted ModelDeployments kept while their pods still stop, so that their GPUs stay booked. */
    private final Set<WorkloadId> released = new HashSet<>();
    /** Workloads whose demand as recorded no cycle has seen yet. */
    private final Set<WorkloadId> undecided = new HashSet<>();
    private boolean rebuilt;

    /**
     * Rebuilds the ledger from the ModelDeployments' recorded placements, once. Until each one reconciles with its
     * real demand, it is frozen: it keeps its replicas and gets no new ones. The ModelDeployments are read only that
     * once: every reconcile passes here, and listing the informer cache each time cost O(n) per reconcile (4 % of the
     * operator's CPU at 3,000 ModelDeployments, growing with the pool).
     */
    void rebuildOnce(Supplier<? extends Collection<ModelDeployment>> modelDeployments) {
        if (rebuilt) {
            return;
        }
        for (ModelDeployment md : modelDeployments.get()) {
            if (md.getStatus() == null || md.getStatus().placements == null || md.getStatus().placements.isEmpty()) {
                continue;
            }
            List<Assignment> assigned = new ArrayList<>();
            for (Placement p : md.getStatus().placements) {
                if (p.replicas > 0 && p.cluster != null && p.node != null) {
                    assigned.add(new Assignment(new NodeKey(p.cluster, p.node), p.gpuClass, p.replicas));
                }
            }
            int gpus = md.getSpec() != null && md.getSpec().gpu != null && md.getSpec().gpu.count != null
                    ? md.getSpec().gpu.count
                    : 1;
            workloads.put(Workloads.id(md), Workloads.frozen(md, md.getStatus().organization, gpus, assigned,
                    List.of()));
            undecided.add(Workloads.id(md));
        }
        rebuilt = true;
        LOG.infof("Scheduler ledger rebuilt from %d ModelDeployment(s) with placements", workloads.size());
    }

    /** Puts a demand in the ledger, keeping what the workload holds (the ledger is authoritative for that). */
    void record(Workload demand) {
        released.remove(demand.id()); // created again under the same name
        Workload current = workloads.get(demand.id());
        if (current == null || !sameDemand(current, demand)) {
            undecided.add(demand.id());
        }
        workloads.put(demand.id(), current == null ? demand.withAssigned(List.of())
                : demand.withHoldings(current.assigned(), current.draining(), current.claimed()));
    }

    /** The workload as the ledger holds it, or null. */
    Workload held(WorkloadId id) {
        return workloads.get(id);
    }

    /** Whether the ledger holds the workload (admitted, waiting, or released with pods still stopping). */
    boolean knows(WorkloadId id) {
        return workloads.containsKey(id);
    }

    /**
     * Whether a cycle has already decided this demand and nothing it decided can have changed without a cycle of its
     * own: the last cycle saw the workload asking for exactly this, and it has neither replicas whose pods are still
     * stopping nor claims on GPUs being freed (those change with its pods, which only its reconcile notices). Anything
     * else that changes an admission (nodes, classes, organizations, the pool, other workloads) runs a cycle itself
     * and requeues the workloads whose admission it changed.
     */
    boolean decided(Workload demand) {
        Workload current = workloads.get(demand.id());
        return current != null && !undecided.contains(demand.id()) && !released.contains(demand.id())
                && sameDemand(current, demand) && current.draining().isEmpty() && current.claimed().isEmpty();
    }

    /** The same demand: everything but where its replicas are (which the ledger, not the demand, knows). */
    static boolean sameDemand(Workload a, Workload b) {
        return a.id().equals(b.id()) && Objects.equals(a.organization(), b.organization())
                && a.gpusPerReplica() == b.gpusPerReplica() && a.minMemoryMiB() == b.minMemoryMiB()
                && a.allowedClasses().equals(b.allowedClasses()) && a.desiredReplicas() == b.desiredReplicas()
                && a.priority() == b.priority() && a.shared() == b.shared() && a.arrival() == b.arrival()
                && a.frozen() == b.frozen() && a.guaranteedReplicas() == b.guaranteedReplicas()
                && a.requirements().equals(b.requirements());
    }

    /**
     * Forgets a deleted workload: it stays without replicas while its pods stop, so that the GPUs they hold stay
     * booked until they are gone.
     *
     * @return false when it is not in the ledger or already released
     */
    boolean release(WorkloadId id) {
        Workload w = workloads.get(id);
        if (w == null || released.contains(id)) {
            return false;
        }
        workloads.put(id, new Workload(id, w.organization(), w.gpusPerReplica(), w.minMemoryMiB(), w.allowedClasses(),
                0, w.priority(), w.shared(), w.arrival(), false, List.of(), w.draining(), List.of(), w.requirements()));
        released.add(id);
        pending.remove(id);
        preempted.remove(id);
        return true;
    }

    /**
     * The workloads a cycle sees: each with the replicas whose pods still run beyond its assignment as draining.
     * Released workloads whose last pod is gone leave the ledger here.
     */
    List<Workload> forCycle(Map<WorkloadId, Map<NodeKey, Integer>> livePods, Map<NodeKey, String> nodeClasses) {
        return forCycle(livePods, nodeClasses, 0, 0);
    }

    /**
     * @param now        the time of the cycle (epoch ms)
     * @param minimumRun how long a replica runs before it may be preempted (ms); 0: no replica is young
     */
    List<Workload> forCycle(Map<WorkloadId, Map<NodeKey, Integer>> livePods, Map<NodeKey, String> nodeClasses,
            long now, long minimumRun) {
        List<Workload> out = new ArrayList<>();
        for (Workload w : List.copyOf(workloads.values())) {
            Workload withDraining = withDraining(w, w.assigned(), w.claimed(), livePods, nodeClasses)
                    .withYoungReplicas(young(w, now, minimumRun));
            if (released.contains(w.id()) && withDraining.draining().isEmpty()) {
                workloads.remove(w.id()); // deleted, and its last pod is gone
                released.remove(w.id());
                started.remove(w.id());
                undecided.remove(w.id());
                continue;
            }
            workloads.put(w.id(), withDraining);
            out.add(withDraining);
        }
        return out;
    }

    /** Replicas of the workload placed less than {@code minimumRun} ago, no more than it has. */
    private int young(Workload w, long now, long minimumRun) {
        var times = started.get(w.id());
        if (times == null) {
            return 0;
        }
        times.removeIf(t -> t[0] + minimumRun <= now);
        if (times.isEmpty()) {
            started.remove(w.id());
            return 0;
        }
        int young = 0;
        for (long[] t : times) {
            young += (int) t[1];
        }
        return Math.min(young, w.assignedReplicas());
    }

    /** Notes that replicas were placed at {@code now} (epoch ms). */
    void started(WorkloadId id, int replicas, long now) {
        if (replicas > 0) {
            started.computeIfAbsent(id, k -> new java.util.ArrayDeque<>()).add(new long[] { now, replicas });
        }
    }

    /**
     * Takes in what a cycle decided.
     *
     * @param seen the workloads the cycle saw
     * @return the workloads whose admission changed (assignment, pending reason, preemption)
     */
    Set<WorkloadId> apply(List<Workload> seen, CycleResult result, Map<WorkloadId, Map<NodeKey, Integer>> livePods,
            Map<NodeKey, String> nodeClasses) {
        return apply(seen, result, livePods, nodeClasses, 0);
    }

    /** @param now the time of the cycle (epoch ms): replicas it places start then */
    Set<WorkloadId> apply(List<Workload> seen, CycleResult result, Map<WorkloadId, Map<NodeKey, Integer>> livePods,
            Map<NodeKey, String> nodeClasses, long now) {
        Set<WorkloadId> changed = new HashSet<>();
        for (Workload w : seen) {
            undecided.remove(w.id());
            List<Assignment> next = result.assignments().getOrDefault(w.id(), w.assigned());
            // Claims (GPUs a preemptor waits for while its victims stop) live here like the assignment. Pods of
            // replicas this cycle took away still run: they hold their GPUs from now on, not from the next cycle.
            Workload updated = withDraining(w, List.copyOf(next), result.claims().getOrDefault(w.id(), List.of()),
                    livePods, nodeClasses);
            workloads.put(w.id(), updated);
            if (!sameAssignments(next, w.assigned())) {
                changed.add(w.id());
            }
            started(w.id(), updated.assignedReplicas() - w.assignedReplicas(), now);
            PendingReason reason = result.pending().get(w.id());
            PendingReason before = reason == null ? pending.remove(w.id()) : pending.put(w.id(), reason);
            if (!Objects.equals(before, reason)) {
                changed.add(w.id());
            }
            // Preempted once, whole again: the Preempted condition has nothing left to explain (the Event stays).
            if (reason == null && updated.assignedReplicas() >= updated.desiredReplicas()
                    && preempted.remove(w.id()) != null) {
                changed.add(w.id());
            }
        }
        for (Eviction e : result.evictions()) {
            LOG.infof("Evicting %d replica(s) of %s from %s: %s", e.replicas(), e.victim(), e.node(), e.reason());
            preempted.put(e.victim(), e.reason());
            changed.add(e.victim());
        }
        return changed;
    }

    private static Workload withDraining(Workload w, List<Assignment> assigned, List<Assignment> claimed,
            Map<WorkloadId, Map<NodeKey, Integer>> livePods, Map<NodeKey, String> nodeClasses) {
        Map<NodeKey, Integer> pods = livePods.get(w.id());
        if ((pods == null || pods.isEmpty()) && w.draining().isEmpty() && assigned == w.assigned()
                && claimed == w.claimed()) {
            return w; // most workloads, most cycles: nothing to recompute
        }
        return w.withHoldings(assigned, draining(assigned, livePods.getOrDefault(w.id(), Map.of()), nodeClasses),
                claimed);
    }

    /** Replicas whose pods still run on a node beyond what is assigned there: they hold GPUs until they stop. */
    static List<Assignment> draining(List<Assignment> assignedNow, Map<NodeKey, Integer> livePods,
            Map<NodeKey, String> nodeClasses) {
        Map<NodeKey, Integer> assigned = new HashMap<>();
        for (Assignment a : assignedNow) {
            assigned.merge(a.node(), a.replicas(), Integer::sum);
        }
        List<Assignment> out = new ArrayList<>();
        livePods.forEach((node, count) -> {
            int extra = count - assigned.getOrDefault(node, 0);
            if (extra > 0) {
                out.add(new Assignment(node, nodeClasses.get(node), extra));
            }
        });
        out.sort(Comparator.comparing(Assignment::node));
        return out;
    }

    private static boolean sameAssignments(List<Assignment> a, List<Assignment> b) {
        if (a.equals(b)) {
            return true; // most workloads, most cycles
        }
        Map<NodeKey, Integer> x = new LinkedHashMap<>();
        Map<NodeKey, Integer> y = new LinkedHashMap<>();
        a.forEach(e -> x.merge(e.node(), e.replicas(), Integer::sum));
        b.forEach(e -> y.merge(e.node(), e.replicas(), Integer::sum));
        return x.equals(y);
    }

    /** The scheduler's answer for one workload. */
    Admission admissionOf(WorkloadId id) {
        Workload w = workloads.get(id);
        List<Placement> placements = new ArrayList<>();
        if (w != null) {
            for (Assignment a : w.assigned()) {
                placements.add(new Placement(a.node().cluster(), a.node().node(), a.gpuClass(), a.replicas()));
            }
        }
        placements.sort(Comparator.comparing((Placement p) -> p.cluster).thenComparing(p -> p.node));
        return new Admission(placements, pending.get(id), preempted.get(id), w == null ? List.of() : w.draining());
    }

    /** Ids of workloads that wait for GPUs. */
    Set<WorkloadId> waiting() {
        return new HashSet<>(pending.keySet());
    }

    /** Ids of workloads with replicas on a node. */
    Set<WorkloadId> onNode(NodeKey node) {
        Set<WorkloadId> ids = new HashSet<>();
        for (Workload w : workloads.values()) {
            if (w.assigned().stream().anyMatch(a -> a.node().equals(node))) {
                ids.add(w.id());
            }
        }
        return ids;
    }

    /** GPUs assigned per node (replicas × GPUs per replica, draining included). */
    Map<NodeKey, Integer> allocatedGpus() {
        Map<NodeKey, Integer> out = new HashMap<>();
        for (Workload w : workloads.values()) {
            for (Assignment a : w.assigned()) {
                out.merge(a.node(), a.replicas() * w.gpusPerReplica(), Integer::sum);
            }
            for (Assignment d : w.draining()) {
                out.merge(d.node(), d.replicas() * w.gpusPerReplica(), Integer::sum);
            }
        }
        return out;
    }

    List<Workload> workloads() {
        return List.copyOf(workloads.values());
    }
}
