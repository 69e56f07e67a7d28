package io.gpupool.operator.scheduling;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.jboss.logging.Logger;

import io.gpupool.api.v1alpha1.GpuNode;
import io.gpupool.api.v1alpha1.GpuPool;
import io.gpupool.api.v1alpha1.ModelDeployment;
import io.gpupool.api.v1alpha1.Placement;
import io.gpupool.core.admission.AdmissionEngine;
import io.gpupool.core.inventory.NodeTrust;
import io.gpupool.core.inventory.PoolInputs;
import io.gpupool.core.inventory.Workloads;
import io.gpupool.core.model.Assignment;
import io.gpupool.core.model.CycleResult;
import io.gpupool.core.model.Eviction;
import io.gpupool.core.model.GpuClassDef;
import io.gpupool.core.model.NodeKey;
import io.gpupool.core.model.NodeState;
import io.gpupool.core.model.PendingReason;
import io.gpupool.core.model.PoolNode;
import io.gpupool.core.model.PoolSnapshot;
import io.gpupool.core.model.Workload;
import io.gpupool.core.model.Withdrawal;
import io.gpupool.core.model.WorkloadId;
import io.gpupool.core.serving.Admission;

/**
 * The one place admission decisions are made. Every ModelDeployment reconcile calls {@link #schedule}, which runs a
 * cycle of the admission engine over the whole pool under a lock, so that two reconciles can never hand out the same
 * GPUs. Reconciles that arrive while a cycle runs are served together by the next one (their demands are handed in
 * before they wait for the lock): a cycle costs as much for one new demand as for fifty, so a burst of n applies costs
 * far fewer than n cycles over a pool that grows with them. The assignment of every workload is kept here between cycles (the ledger) because a status patch reaches the
 * informer cache later than the next reconcile may run; the ledger is rebuilt from the ModelDeployments' status on
 * start, so the API server stays the source of truth across restarts. GPUs of replicas that were taken away are held
 * until their pods are gone (derived from the pod cache at each cycle, not remembered), so no GPU is booked twice.
 */
@ApplicationScoped
public class PoolScheduler {

    private static final Logger LOG = Logger.getLogger(PoolScheduler.class);

    private final AdmissionEngine engine;
    private final Clock clock;
    private final Map<WorkloadId, Workload> ledger = new HashMap<>();
    private final Map<WorkloadId, PendingReason> pending = new HashMap<>();
    private final Map<WorkloadId, String> preempted = new HashMap<>();
    /** Demands handed in by reconciles waiting for the lock; the next cycle takes them all. Guarded by itself. */
    private final Map<WorkloadId, Workload> submitted = new LinkedHashMap<>();
    private volatile Consumer<WorkloadId> requeue = id -> {
    };
    private final List<BiConsumer<CycleOutcome, PoolView>> cycleListeners = new java.util.concurrent.CopyOnWriteArrayList<>();
    private volatile Consumer<Instant> expiryListener = t -> {
    };
    private volatile Set<NodeKey> goneNodes = Set.of();
    private volatile Map<NodeKey, Withdrawal> withdrawing = Map.of();
    private final Map<NodeKey, Seen> seen = new java.util.concurrent.ConcurrentHashMap<>();
    /** When the pool first saw each node not ready (it moves their replicas after the heartbeat timeout). */
    private final Map<NodeKey, Instant> notReadySince = new java.util.concurrent.ConcurrentHashMap<>();
    /** When the pool first saw each node being withdrawn (its handover of replicas is timed from then). */
    private final Map<NodeKey, Instant> withdrawingSince = new java.util.concurrent.ConcurrentHashMap<>();
    /** Deleted ModelDeployments kept in the ledger while their pods still stop, so that their GPUs stay booked. */
    private final Set<WorkloadId> released = new HashSet<>();
    private boolean initialized;

    @Inject
    public PoolScheduler(AdmissionEngine engine, Clock clock) {
        this.engine = engine;
        this.clock = clock;
    }

    /** Where to send the ids of ModelDeployments whose admission changed in a cycle run on behalf of another. */
    public void onRequeue(Consumer<WorkloadId> requeue) {
        this.requeue = requeue;
    }

    /**
     * Where to send the time at which the next contributed node's heartbeat expires, so that a cycle runs then (a
     * silent cluster sends no event).
     */
    public void onNextExpiry(Consumer<Instant> listener) {
        this.expiryListener = listener;
    }

    /** Nodes the last cycle counted as gone (silent past the heartbeat timeout). */
    public Set<NodeKey> goneNodes() {
        return goneNodes;
    }

    /** Nodes the last cycle found being withdrawn by their contributors. */
    public Map<NodeKey, Withdrawal> withdrawing() {
        return withdrawing;
    }

    /**
     * Notes, at the pool's own time, that a GpuNode's heartbeat changed and since when it is not ready or withdrawn.
     * Called for every GpuNode event (before any filtering), so that liveness is judged by when the pool saw a
     * heartbeat arrive, not by the agent's clock: a contributor's clock that runs behind or ahead neither kills nor
     * immortalises its nodes.
     */
    public void observe(GpuNode n) {
        if (n.getSpec() == null || n.getSpec().cluster == null) {
            return;
        }
        NodeKey key = PoolInputs.nodeKey(n);
        Instant now = clock.instant();
        note(notReadySince, key, Boolean.FALSE.equals(n.getSpec().nodeReady), now);
        note(withdrawingSince, key, Boolean.TRUE.equals(n.getSpec().unschedulable)
                || Boolean.TRUE.equals(n.getSpec().withdrawn), now);
        if (n.getStatus() == null || n.getStatus().lastHeartbeatTime == null) {
            return;
        }
        String beat = n.getStatus().lastHeartbeatTime;
        Seen before = seen.get(key);
        if (before == null || !before.beat().equals(beat)) {
            seen.put(key, new Seen(beat, now));
        }
    }

    /** Remembers since when a node has been in a state (first sight, on the pool's clock), or forgets it. */
    private static Instant note(Map<NodeKey, Instant> since, NodeKey key, boolean inState, Instant now) {
        if (!inState) {
            since.remove(key);
            return null;
        }
        return since.computeIfAbsent(key, k -> now);
    }

    /**
     * When a contributed node was last heard from: when the pool saw its current heartbeat arrive; for a heartbeat
     * the pool has not seen arrive (it started since), the agent's timestamp, but never later than now; before the
     * first heartbeat, the GpuNode's creation; the epoch (long gone) when nothing is known.
     */
    Instant heartbeat(GpuNode n, Instant now) {
        String beat = n.getStatus() == null ? null : n.getStatus().lastHeartbeatTime;
        NodeKey key = PoolInputs.nodeKey(n);
        Seen s = seen.get(key);
        if (beat != null && s != null && s.beat().equals(beat)) {
            return s.at();
        }
        Instant stamped = PoolInputs.parseTime(beat);
        if (stamped != null) {
            Instant at = stamped.isAfter(now) ? now : stamped;
            seen.put(key, new Seen(beat, at));
            return at;
        }
        Instant created = PoolInputs.parseTime(n.getMetadata().getCreationTimestamp());
        return created == null ? Instant.EPOCH : created.isAfter(now) ? now : created;
    }

    /** A heartbeat value and when the pool first saw it. */
    record Seen(String beat, Instant at) {
    }

    /** Told after each cycle, for status of nodes, classes and organizations, and for metrics. */
    public void onCycle(BiConsumer<CycleOutcome, PoolView> listener) {
        cycleListeners.add(listener);
    }

    /**
     * Runs a cycle with the given workload's current demand and returns its admission.
     *
     * @param demand the ModelDeployment's demand (its {@code assigned} and {@code draining} are ignored: the ledger and
     *               the pod cache are authoritative)
     */
    public Admission schedule(Workload demand, PoolView view) {
        synchronized (submitted) {
            submitted.put(demand.id(), demand);
        }
        CycleOutcome outcome = null;
        Admission admission;
        synchronized (this) {
            ensureInitialized(view);
            Map<WorkloadId, Workload> batch;
            synchronized (submitted) {
                batch = new LinkedHashMap<>(submitted);
                submitted.clear();
            }
            // Empty when a cycle run by another reconcile while this one waited for the lock already took this demand
            // (and any that came after it): its admission is in the ledger.
            if (!batch.isEmpty()) {
                batch.values().forEach(this::record);
                outcome = runCycle(view, batch.keySet());
            }
            admission = admissionOf(demand.id());
        }
        if (outcome != null) {
            CycleOutcome done = outcome;
            cycleListeners.forEach(l -> l.accept(done, view));
        }
        return admission;
    }

    /** Puts a demand in the ledger, keeping what the workload holds (the ledger is authoritative for that). */
    private void record(Workload demand) {
        released.remove(demand.id()); // created again under the same name
        Workload current = ledger.get(demand.id());
        ledger.put(demand.id(), current == null ? demand.withAssigned(List.of())
                : new Workload(demand.id(), demand.organization(), demand.gpusPerReplica(), demand.minMemoryMiB(),
                        demand.allowedClasses(), demand.desiredReplicas(), demand.priority(), demand.shared(),
                        demand.arrival(), demand.frozen(), current.assigned(), current.draining(),
                        current.claimed()));
    }

    /**
     * Forgets a deleted ModelDeployment. It stays in the ledger with no replicas while its pods stop, so that the GPUs
     * they hold stay booked until they are gone.
     */
    public void release(WorkloadId id, PoolView view) {
        CycleOutcome outcome;
        synchronized (this) {
            ensureInitialized(view);
            Workload w = ledger.get(id);
            if (w == null || released.contains(id)) {
                return;
            }
            ledger.put(id, new Workload(id, w.organization(), w.gpusPerReplica(), w.minMemoryMiB(), w.allowedClasses(),
                    0, w.priority(), w.shared(), w.arrival(), false, List.of(), w.draining(), List.of()));
            released.add(id);
            pending.remove(id);
            preempted.remove(id);
            outcome = runCycle(view, Set.of());
        }
        cycleListeners.forEach(l -> l.accept(outcome, view));
    }

    /** Runs a cycle on behalf of no one, when pool inputs changed (a node, class, organization or the pool). */
    public void rebalance(PoolView view) {
        CycleOutcome outcome;
        synchronized (this) {
            ensureInitialized(view);
            outcome = runCycle(view, Set.of());
        }
        cycleListeners.forEach(l -> l.accept(outcome, view));
    }

    /** Ids of ModelDeployments that wait for GPUs: capacity changes should wake them. */
    public synchronized Set<WorkloadId> waiting() {
        return new HashSet<>(pending.keySet());
    }

    /** Ids of ModelDeployments with replicas on a node. */
    public synchronized Set<WorkloadId> onNode(NodeKey node) {
        Set<WorkloadId> ids = new HashSet<>();
        for (Workload w : ledger.values()) {
            if (w.assigned().stream().anyMatch(a -> a.node().equals(node))) {
                ids.add(w.id());
            }
        }
        return ids;
    }

    /** GPUs assigned per node (replicas × GPUs per replica, draining included). */
    public synchronized Map<NodeKey, Integer> allocatedGpus() {
        Map<NodeKey, Integer> out = new HashMap<>();
        for (Workload w : ledger.values()) {
            for (Assignment a : w.assigned()) {
                out.merge(a.node(), a.replicas() * w.gpusPerReplica(), Integer::sum);
            }
            for (Assignment d : w.draining()) {
                out.merge(d.node(), d.replicas() * w.gpusPerReplica(), Integer::sum);
            }
        }
        return out;
    }

    public synchronized List<Workload> workloads() {
        return List.copyOf(ledger.values());
    }

    private Admission admissionOf(WorkloadId id) {
        Workload w = ledger.get(id);
        List<Placement> placements = new ArrayList<>();
        if (w != null) {
            for (Assignment a : w.assigned()) {
                placements.add(new Placement(a.node().cluster(), a.node().node(), a.gpuClass(), a.replicas()));
            }
        }
        placements.sort(Comparator.comparing((Placement p) -> p.cluster).thenComparing(p -> p.node));
        return new Admission(placements, pending.get(id), preempted.get(id), w == null ? List.of() : w.draining());
    }

    /**
     * One engine cycle over the whole pool.
     *
     * @param callers the workloads whose reconciles wait for this cycle's answer: they read it from the ledger, so
     *                they are not requeued when their admission changes
     */
    private CycleOutcome runCycle(PoolView view, Set<WorkloadId> callers) {
        GpuPool pool = view.pool().orElse(null);
        List<GpuClassDef> classes = PoolInputs.classes(view.gpuClasses());
        Instant now = clock.instant();
        var timeout = PoolInputs.heartbeatTimeout(pool == null ? null : pool.getSpec());
        List<PoolNode> nodes = new ArrayList<>();
        Map<String, String> approved = view.contributedClusters();
        Set<NodeKey> gone = new HashSet<>();
        Instant nextExpiry = null;
        Map<NodeKey, Withdrawal> leaving = new HashMap<>();
        for (GpuNode n : view.gpuNodes()) {
            if (NodeTrust.check(n, approved).isPresent()) {
                continue; // not believed: the status publisher says why on the GpuNode
            }
            // The operator watches its own cluster's nodes itself; a contributed node lives only by its heartbeat.
            Instant heartbeat = NodeTrust.LOCAL_CLUSTER.equals(n.getSpec().cluster) ? null : heartbeat(n, now);
            NodeKey key = PoolInputs.nodeKey(n);
            Instant unready = note(notReadySince, key, Boolean.FALSE.equals(n.getSpec().nodeReady), now);
            Instant withdrawn = note(withdrawingSince, key, Boolean.TRUE.equals(n.getSpec().unschedulable)
                    || Boolean.TRUE.equals(n.getSpec().withdrawn), now);
            PoolNode node = PoolInputs.node(n, classes, heartbeat, unready, now, timeout);
            nodes.add(node);
            if (node.state() == NodeState.GONE) {
                gone.add(node.key());
                continue;
            }
            if (node.state() == NodeState.WITHDRAWING) {
                leaving.put(key, new Withdrawal(node.gpuClass(), withdrawn));
            }
            // Silence and unreadiness send no event when they expire: ask for a cycle at the earliest expiry.
            for (Instant since : new Instant[] { heartbeat, unready }) {
                if (since != null) {
                    Instant expiry = since.plus(timeout).plusSeconds(1);
                    nextExpiry = nextExpiry == null || expiry.isBefore(nextExpiry) ? expiry : nextExpiry;
                }
            }
        }
        goneNodes = Set.copyOf(gone);
        withdrawing = Map.copyOf(leaving);
        Set<NodeKey> present = new HashSet<>();
        nodes.forEach(n -> present.add(n.key()));
        seen.keySet().retainAll(present);
        notReadySince.keySet().retainAll(present);
        withdrawingSince.keySet().retainAll(present);
        Map<WorkloadId, Map<NodeKey, Integer>> pods = view.livePods();
        Map<NodeKey, String> nodeClasses = new HashMap<>();
        nodes.forEach(n -> nodeClasses.put(n.key(), n.gpuClass()));
        List<Workload> workloads = new ArrayList<>();
        for (Workload w : List.copyOf(ledger.values())) {
            Workload withDraining = new Workload(w.id(), w.organization(), w.gpusPerReplica(), w.minMemoryMiB(),
                    w.allowedClasses(), w.desiredReplicas(), w.priority(), w.shared(), w.arrival(), w.frozen(),
                    w.assigned(), draining(w, pods.getOrDefault(w.id(), Map.of()), nodeClasses), w.claimed());
            if (released.contains(w.id()) && withDraining.draining().isEmpty()) {
                ledger.remove(w.id()); // deleted, and its last pod is gone
                released.remove(w.id());
                continue;
            }
            ledger.put(w.id(), withDraining);
            workloads.add(withDraining);
        }
        PoolSnapshot snapshot = new PoolSnapshot(classes, nodes,
                view.organizations().stream().map(PoolInputs::quota).toList(), workloads,
                PoolInputs.policy(pool == null ? null : pool.getSpec()));
        CycleResult result = engine.cycle(snapshot);

        Set<WorkloadId> changed = new HashSet<>();
        for (Workload w : workloads) {
            List<Assignment> next = result.assignments().getOrDefault(w.id(), w.assigned());
            // Claims (GPUs a preemptor waits for while its victims stop) live in the ledger like the assignment.
            List<Assignment> claimed = result.claims().getOrDefault(w.id(), List.of());
            Workload moved = w.withAssigned(next);
            // Pods of replicas this cycle took away still run: they hold their GPUs from now on, not from the next cycle.
            Workload updated = new Workload(w.id(), w.organization(), w.gpusPerReplica(), w.minMemoryMiB(),
                    w.allowedClasses(), w.desiredReplicas(), w.priority(), w.shared(), w.arrival(), w.frozen(),
                    List.copyOf(next), draining(moved, pods.getOrDefault(w.id(), Map.of()), nodeClasses), claimed);
            ledger.put(w.id(), updated);
            if (!sameAssignments(next, w.assigned())) {
                changed.add(w.id());
            }
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
        changed.removeAll(callers);
        changed.forEach(requeue);
        if (nextExpiry != null) {
            expiryListener.accept(nextExpiry);
        }
        return new CycleOutcome(snapshot.withWorkloads(List.copyOf(ledger.values())), result, Map.copyOf(allocatedGpus()));
    }

    /** Replicas whose pods still run on a node beyond what is assigned there: they hold GPUs until they stop. */
    static List<Assignment> draining(Workload w, Map<NodeKey, Integer> livePods, Map<NodeKey, String> nodeClasses) {
        Map<NodeKey, Integer> assigned = new HashMap<>();
        for (Assignment a : w.assigned()) {
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
        Map<NodeKey, Integer> x = new LinkedHashMap<>();
        Map<NodeKey, Integer> y = new LinkedHashMap<>();
        a.forEach(e -> x.merge(e.node(), e.replicas(), Integer::sum));
        b.forEach(e -> y.merge(e.node(), e.replicas(), Integer::sum));
        return x.equals(y);
    }

    /**
     * Rebuilds the ledger from the ModelDeployments' recorded placements the first time the scheduler is used. Until
     * each one reconciles with its real demand, it is frozen: it keeps its replicas and gets no new ones.
     */
    private void ensureInitialized(PoolView view) {
        if (initialized) {
            return;
        }
        for (ModelDeployment md : view.modelDeployments()) {
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
            ledger.put(Workloads.id(md), Workloads.frozen(md, md.getStatus().organization, gpus, assigned, List.of()));
        }
        initialized = true;
        LOG.infof("Scheduler ledger rebuilt from %d ModelDeployment(s) with placements", ledger.size());
    }

    /** The snapshot a cycle saw (with the ledger after it) and what it decided. */
    public record CycleOutcome(PoolSnapshot snapshot, CycleResult result, Map<NodeKey, Integer> allocated) {
    }
}
