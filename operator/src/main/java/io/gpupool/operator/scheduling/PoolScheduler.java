package io.gpupool.operator.scheduling;

import java.time.Clock;
import java.time.Instant;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.Supplier;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.jboss.logging.Logger;

import io.gpupool.api.v1alpha1.GpuNode;
import io.gpupool.api.v1alpha1.GpuPool;
import io.gpupool.api.v1alpha1.ModelDeployment;
import io.gpupool.api.v1alpha1.ProvenNode;
import io.gpupool.core.admission.AdmissionEngine;
import io.gpupool.core.inventory.ContributionProof;
import io.gpupool.core.inventory.NodeTrust;
import io.gpupool.core.inventory.PoolInputs;
import io.gpupool.core.inventory.Workloads;
import io.gpupool.core.model.CycleResult;
import io.gpupool.core.model.NodeKey;
import io.gpupool.core.model.PoolSnapshot;
import io.gpupool.core.model.Withdrawal;
import io.gpupool.core.model.Workload;
import io.gpupool.core.model.WorkloadId;
import io.gpupool.core.serving.Admission;
import io.gpupool.core.status.PoolReport;
import io.gpupool.operator.Leadership;

/**
 * The one place admission decisions are made. Every ModelDeployment reconcile calls {@link #schedule}, which runs a
 * cycle of the admission engine over the whole pool under a lock, so that two reconciles can never hand out the same
 * GPUs. A cycle is four steps, each in a class of its own:
 * <ol>
 * <li>take the demands handed in ({@link #submitted}): reconciles that arrive while a cycle runs or soon after one
 * ({@link CycleThrottle}) are served together by the next one, with every ModelDeployment of the informer cache that
 * no cycle has seen yet ({@link PoolView#demandOf}), so a burst of n applies costs far fewer than n cycles over a pool
 * that grows with them; a reconcile whose demand a cycle has already decided gets its answer from the ledger without
 * a cycle ({@link AssignmentLedger#decided});</li>
 * <li>build the snapshot ({@link SnapshotBuilder}): classes, nodes with their liveness ({@link NodeLiveness}), quotas,
 * policy, and the workloads of the {@link AssignmentLedger} with the replicas whose pods still run as draining;</li>
 * <li>run the engine, a pure function of the snapshot;</li>
 * <li>take the result into the ledger, requeue the ModelDeployments whose admission changed, tell the listeners (status
 * publisher, metrics) after the lock is released, every cycle once and in the order the cycles ran.</li>
 * </ol>
 * GPUs of replicas that were taken away are held until their pods are gone (derived from the pod cache at each cycle,
 * not remembered), so no GPU is booked twice, across restarts too.
 */
@ApplicationScoped
public class PoolScheduler {

    private final AdmissionEngine engine;
    final NodeLiveness liveness;
    private final Clock clock;
    private final SnapshotBuilder snapshots;
    /** Guarded by this. */
    private final AssignmentLedger ledger = new AssignmentLedger();
    private final CycleThrottle throttle = new CycleThrottle();
    /** Demands handed in by reconciles waiting for the lock; the next cycle takes them all. Guarded by itself. */
    private final Map<WorkloadId, Workload> submitted = new LinkedHashMap<>();
    private volatile Consumer<WorkloadId> requeue = id -> {
    };
    private final List<BiConsumer<CycleOutcome, PoolView>> cycleListeners = new CopyOnWriteArrayList<>();
    /**
     * Outcomes not yet told to the listeners, in the order their cycles ran (queued under this scheduler's lock). They
     * are told outside it, so that reports and status writes do not hold up the next cycle; one thread at a time tells
     * all that are queued ({@link #publish}), so that listeners see every cycle once and in order. Told as each
     * reconcile left the lock, two cycles arrived in either order, and the older one, arriving last, was what the pool's
     * statuses showed until the next cycle (a minute away in a quiet pool), and what the admission metrics diffed.
     */
    private final Queue<Untold> untold = new ConcurrentLinkedQueue<>();
    private static final Logger LOG = Logger.getLogger(PoolScheduler.class);
    /** Calls of {@link #publish} not yet answered by the thread telling the listeners (the queue-drain idiom). */
    private final AtomicInteger tellers = new AtomicInteger();
    private volatile Consumer<Instant> expiryListener = t -> {
    };
    private volatile BiConsumer<GpuNode, PoolView> distrustListener = (n, v) -> {
    };
    private volatile Set<NodeKey> goneNodes = Set.of();
    private volatile Map<NodeKey, Withdrawal> withdrawing = Map.of();
    private volatile Map<NodeKey, ContributionProof.Counted> counted = Map.of();
    private volatile Map<String, List<ProvenNode>> proven = Map.of();
    private volatile Supplier<Map<String, Double>> usageHistory = Map::of;
    /** Cycles run so far. Guarded by this. */
    private long cycles;

    private final Leadership leadership;

    /** The only replica of the operator: it always leads. */
    public PoolScheduler(AdmissionEngine engine, Clock clock) {
        this(engine, clock, Leadership.sole());
    }

    /** @param leadership whether this replica leads: a standby runs no cycle of its own and writes nothing */
    @Inject
    public PoolScheduler(AdmissionEngine engine, Clock clock, Leadership leadership) {
        this.engine = engine;
        this.clock = clock;
        this.leadership = leadership;
        this.liveness = new NodeLiveness(clock);
        this.snapshots = new SnapshotBuilder(liveness, clock);
    }

    /** Runs {@code action} when this replica becomes the leader (a standby ran no cycle until then). */
    public void onTakeover(Runnable action) {
        leadership.onTakeover(action);
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

    /**
     * Where each cycle reads the organizations' decayed net usage from (the contributor ledger), for fairness with
     * memory. Called without the scheduler's lock held by the supplier's owner.
     */
    public void usageHistory(Supplier<Map<String, Double>> history) {
        this.usageHistory = history;
    }

    /** Told after each cycle, for status of nodes, classes and organizations, and for metrics. */
    public void onCycle(BiConsumer<CycleOutcome, PoolView> listener) {
        cycleListeners.add(listener);
    }

    /** Nodes the last cycle counted as gone (silent past the heartbeat timeout). */
    public Set<NodeKey> goneNodes() {
        return goneNodes;
    }

    /** Nodes the last cycle found being withdrawn by their contributors. */
    public Map<NodeKey, Withdrawal> withdrawing() {
        return withdrawing;
    }

    /** What of each node's GPUs counted in the last cycle, and why (for the GpuNode's status). */
    public Map<NodeKey, ContributionProof.Counted> counted() {
        return counted;
    }

    /** Per organization, what its contributed nodes have proven (saved in its status, read back on start). */
    public Map<String, List<ProvenNode>> provenNodes() {
        return proven;
    }

    /**
     * Notes a GpuNode event on the pool's own clock ({@link NodeLiveness#observe}). Called for every GpuNode event,
     * before any filtering, so that liveness is judged by when the pool saw a heartbeat arrive. A GpuNode the pool does
     * not believe ({@link NodeTrust}) is not noted (it could name a trusted node and keep it alive, or make it look
     * withdrawn); the distrust listener explains it on the GpuNode instead.
     *
     * @return whether the GpuNode is believed
     */
    public boolean observe(GpuNode n, PoolView view) {
        if (!trusted(n, view)) {
            if (leadership.leading()) {
                distrustListener.accept(n, view);
            }
            return false;
        }
        // A standby notes heartbeats too: it judges liveness from the first instant it leads.
        liveness.observe(n);
        return true;
    }

    /** Whether the pool believes a GpuNode, as a cycle would judge it now. */
    public static boolean trusted(GpuNode n, PoolView view) {
        return NodeTrust.check(n, view.contributedClusters(),
                PoolInputs.maxGpusPerNode(view.pool().map(GpuPool::getSpec).orElse(null))).isEmpty();
    }

    /**
     * Told of each GpuNode event the pool does not believe, so that the GpuNode says why without an admission cycle
     * (which such an event must not cause).
     */
    public void onDistrusted(BiConsumer<GpuNode, PoolView> listener) {
        this.distrustListener = listener;
    }

    /**
     * Runs a cycle with the given workload's current demand and returns its admission.
     *
     * @param demand the ModelDeployment's demand (its {@code assigned} and {@code draining} are ignored: the ledger and
     *               the pod cache are authoritative)
     */
    public Admission schedule(Workload demand, PoolView view) {
        synchronized (this) {
            ledger.rebuildOnce(view::modelDeployments);
            if (ledger.decided(demand) && !snapshots.provesMore(ledger.held(demand.id()), view)) {
                return ledger.admissionOf(demand.id());
            }
        }
        synchronized (submitted) {
            submitted.put(demand.id(), demand);
        }
        throttle.awaitTurn();
        Admission admission;
        synchronized (this) {
            ledger.rebuildOnce(view::modelDeployments);
            Map<WorkloadId, Workload> batch;
            synchronized (submitted) {
                batch = new LinkedHashMap<>(submitted);
                submitted.clear();
            }
            // Empty when a cycle run by another reconcile while this one waited for the lock already took this demand
            // (and any that came after it): its admission is in the ledger.
            if (!batch.isEmpty()) {
                batch.values().forEach(ledger::record);
                runCycle(view, batch.keySet());
            }
            admission = ledger.admissionOf(demand.id());
        }
        publish();
        return admission;
    }

    /**
     * Forgets a deleted ModelDeployment. It stays in the ledger with no replicas while its pods stop, so that the GPUs
     * they hold stay booked until they are gone.
     */
    public void release(WorkloadId id, PoolView view) {
        synchronized (this) {
            ledger.rebuildOnce(view::modelDeployments);
            if (!ledger.release(id)) {
                return;
            }
            runCycle(view, Set.of());
        }
        publish();
    }

    /** Runs a cycle on behalf of no one, when pool inputs changed (a node, class, organization or the pool). */
    public void rebalance(PoolView view) {
        if (!leadership.leading()) {
            return; // the leader runs the pool's cycles; this replica's turn comes with the lease (onTakeover)
        }
        synchronized (this) {
            ledger.rebuildOnce(view::modelDeployments);
            runCycle(view, Set.of());
        }
        publish();
    }

    /** Ids of ModelDeployments that wait for GPUs: capacity changes should wake them. */
    public synchronized Set<WorkloadId> waiting() {
        return ledger.waiting();
    }

    /** Ids of ModelDeployments with replicas on a node. */
    public synchronized Set<WorkloadId> onNode(NodeKey node) {
        return ledger.onNode(node);
    }

    /** GPUs assigned per node (replicas × GPUs per replica, draining included). */
    public synchronized Map<NodeKey, Integer> allocatedGpus() {
        return ledger.allocatedGpus();
    }

    public synchronized List<Workload> workloads() {
        return ledger.workloads();
    }

    /**
     * One engine cycle over the whole pool. Called with the lock held.
     *
     * @param callers the workloads whose reconciles wait for this cycle's answer: they read it from the ledger, so
     *                they are not requeued when their admission changes
     */
    private void runCycle(PoolView view, Set<WorkloadId> callers) {
        long start = throttle.now();
        Set<WorkloadId> unseen = recordUnseen(view);
        SnapshotBuilder.CycleInputs inputs = snapshots.inputs(view, ledger.workloads(), usageHistory.get());
        goneNodes = inputs.nodes().gone();
        withdrawing = inputs.nodes().withdrawing();
        counted = Map.copyOf(inputs.counted());
        proven = Map.copyOf(inputs.proven());
        Map<WorkloadId, Map<NodeKey, Integer>> pods = view.livePods();
        Map<NodeKey, String> nodeClasses = inputs.nodeClasses();
        long now = clock.millis();
        long minimumRun = PoolInputs.minimumRun(view.pool().map(GpuPool::getSpec).orElse(null)).toMillis();
        List<Workload> workloads = ledger.forCycle(pods, nodeClasses, now, minimumRun);
        PoolSnapshot snapshot = inputs.with(workloads);
        CycleResult result = engine.cycle(snapshot);

        Set<WorkloadId> changed = ledger.apply(workloads, result, pods, nodeClasses, now);
        changed.removeAll(callers);
        // Nor are those this cycle decided before their first reconcile asked: that reconcile is queued already and
        // finds the answer in the ledger. Requeued, they were reconciled twice in a burst (the event arrived while the
        // first reconcile still waited in JOSDK's executor, which runs it again afterwards: a second rendering of
        // everything for nothing).
        changed.removeAll(unseen);
        changed.forEach(requeue);
        if (!result.evictions().isEmpty()) {
            // The GPUs of evicted replicas go to their preemptors in a later cycle, once their pods are gone. A victim
            // without pods sends no pod event, and its reconcile reads its decided demand from the ledger: nothing
            // would run that cycle, so one is asked for now (that cycle asks for the next expiry again).
            expiryListener.accept(clock.instant());
        } else if (inputs.nodes().nextExpiry() != null) {
            expiryListener.accept(inputs.nodes().nextExpiry());
        }
        PoolSnapshot after = snapshot.withWorkloads(ledger.workloads());
        CycleOutcome outcome = new CycleOutcome(++cycles, clock.instant(), after, result,
                Map.copyOf(ledger.allocatedGpus()), counted, proven, once(after, result));
        untold.add(new Untold(outcome, view));
        throttle.ran(start);
    }

    /**
     * Puts into the ledger the ModelDeployments of the informer cache that it does not know yet (created since the
     * last cycle, their reconcile still queued): this cycle decides them too, and their reconciles find the answer.
     * Those being deleted are left out (their cleanup releases them). Returns the ids recorded.
     */
    private Set<WorkloadId> recordUnseen(PoolView view) {
        Set<WorkloadId> recorded = new HashSet<>();
        for (ModelDeployment md : view.modelDeployments()) {
            if (md.getMetadata().getDeletionTimestamp() == null && !ledger.knows(Workloads.id(md))) {
                Workload demand = view.demandOf(md);
                if (demand != null) {
                    ledger.record(demand);
                    recorded.add(demand.id());
                }
            }
        }
        return recorded;
    }

    /**
     * Tells the listeners of the cycles run so far that they have not been told of; called without the lock. A thread
     * that finds another telling returns at once (its reconcile does not wait for that one's status writes and
     * reports): the teller sees the count it left and drains the queue again before it stops.
     */
    private void publish() {
        if (tellers.getAndIncrement() != 0) {
            return;
        }
        int missed = 1;
        do {
            for (Untold next = untold.poll(); next != null; next = untold.poll()) {
                for (BiConsumer<CycleOutcome, PoolView> listener : cycleListeners) {
                    try {
                        listener.accept(next.outcome(), next.view());
                    } catch (RuntimeException e) {
                        // One listener's failure must not stop the others, nor the telling of later cycles.
                        LOG.warnf(e, "A listener failed on admission cycle %d", next.outcome().sequence());
                    }
                }
            }
            missed = tellers.addAndGet(-missed);
        } while (missed != 0);
    }

    private record Untold(CycleOutcome outcome, PoolView view) {
    }

    /**
     * The snapshot a cycle saw (with the ledger after it) and what it decided.
     *
     * @param sequence the cycle's number (listeners are told of cycles in this order)
     * @param at       when it ran, on the scheduler's clock
     * @param counted  what of each node's GPUs counted, and why
     * @param proven   per organization, what its contributed nodes have proven
     */
    public record CycleOutcome(long sequence, Instant at, PoolSnapshot snapshot, CycleResult result,
            Map<NodeKey, Integer> allocated, Map<NodeKey, ContributionProof.Counted> counted,
            Map<String, List<ProvenNode>> proven, Supplier<PoolReport> reports) {

        /** What the cycle means for classes and organizations (quota figures), computed once, by the first who asks. */
        public PoolReport report() {
            return reports.get();
        }
    }

    /** Computes the report of a cycle once, outside the scheduler's lock, for every listener that asks. */
    private static Supplier<PoolReport> once(PoolSnapshot snapshot, CycleResult result) {
        return new Supplier<>() {
            private volatile PoolReport report;

            @Override
            public PoolReport get() {
                PoolReport r = report;
                if (r == null) {
                    synchronized (this) {
                        r = report;
                        if (r == null) {
                            r = PoolReport.of(snapshot, result);
                            report = r;
                        }
                    }
                }
                return r;
            }
        };
    }
}
