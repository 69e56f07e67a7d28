package io.gpupool.sim;

import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

import io.gpupool.core.admission.AdmissionEngine;
import io.gpupool.core.classes.GpuClassMatcher;
import io.gpupool.core.ledger.ContributionLedger;
import io.gpupool.core.ledger.GpuHours;
import io.gpupool.core.model.Assignment;
import io.gpupool.core.model.CycleResult;
import io.gpupool.core.model.Eviction;
import io.gpupool.core.model.GpuClassDef;
import io.gpupool.core.model.NodeKey;
import io.gpupool.core.model.NodeState;
import io.gpupool.core.model.OrgQuota;
import io.gpupool.core.model.PoolNode;
import io.gpupool.core.model.PoolSnapshot;
import io.gpupool.core.model.Workload;
import io.gpupool.core.model.WorkloadId;

/**
 * Replays one trace under one policy in virtual time. Events: node joins and leaves, submissions, completions; one
 * engine cycle per distinct event time (up to {@value #ROUNDS_PER_INSTANT} at the same instant while cycles evict or
 * claim: evicted replicas are gone at once, so nothing is ever draining). Only waiting and running workloads are kept
 * in memory; the workload CSV is streamed.
 */
final class Simulation {

    static final int ROUNDS_PER_INSTANT = 3;
    /** How often autoscaled services' load is looked at (the gateway's report cadence, rounded up). */
    static final long AUTOSCALE_TICK = 10;
    static final String NAMESPACE = "sim";

    /** A live workload. */
    private static final class Live {
        final Trace.WorkloadRow row;
        final long seq;
        final WorkloadId wid;
        long remaining;
        List<Assignment> assigned = List.of();
        List<Assignment> claimed = List.of();
        boolean running;
        long runStart;
        long generation;
        boolean admittedOnce;
        boolean reclaimer;
        /** When its replicas were placed (time, replicas), for the minimum run time. */
        final java.util.ArrayDeque<long[]> started = new java.util.ArrayDeque<>();
        /** Its requests and autoscaler when it is an autoscaled service, else null. */
        final ServiceLoad service;

        Live(Trace.WorkloadRow row, long seq) {
            this.row = row;
            this.seq = seq;
            this.wid = new WorkloadId(NAMESPACE, row.id());
            this.remaining = row.duration();
            this.service = row.service() == null ? null : new ServiceLoad(row.service(), row.submit());
        }

        int desiredReplicas() {
            return service == null ? row.replicas() : service.desired();
        }

        boolean holds() {
            return !assigned.isEmpty() || !claimed.isEmpty();
        }

        Workload model(long now, long minimumRun) {
            started.removeIf(s -> s[0] + minimumRun <= now);
            int young = 0;
            for (long[] s : started) {
                young += (int) s[1];
            }
            Workload w = new Workload(wid, row.organization(), row.gpusPerReplica(), row.minMemoryMiB(), List.of(),
                    desiredReplicas(), row.priority(), row.shared(), seq, false, assigned, List.of(), claimed)
                    .withYoungReplicas(Math.min(young, assignedReplicas(this)));
            // A service's replicas above min_replicas are elastic, as the operator makes them.
            return service == null ? w : w.withGuaranteedReplicas(Math.min(w.desiredReplicas(),
                    row.service().minReplicas()));
        }
    }

    private record Completion(long at, Live w, long generation) {
    }

    /** Receives GPUs in use per organization over time (for CSV and SVG). */
    interface Observer {
        /** GPUs each organization holds during [from, to), and the GPUs available then. */
        void interval(Policy policy, long from, long to, Map<String, Integer> inUse, int available);

        /** Called after every instant whose allocation changed. */
        default void changed(Policy policy, long at, Map<String, Integer> inUse) {
        }
    }

    private final Policy policy;
    private final AdmissionEngine engine;
    private final List<GpuClassDef> classes;
    private final Map<String, Double> classValue = new HashMap<>();
    private final Set<String> classNames = new TreeSet<>();
    private final List<Trace.NodeRow> pool;
    private final Path workloadCsv;
    private final int maxWaitingShown;
    private final Observer observer;

    // state
    private final Map<NodeKey, PoolNode> nodes = new LinkedHashMap<>();
    private final Set<String> orgs = new TreeSet<>();
    private final Map<WorkloadId, Live> live = new HashMap<>();
    private final TreeMap<Long, Live> waiting = new TreeMap<>();
    private final Set<Live> holding = new LinkedHashSet<>();
    /** Live autoscaled services. */
    private final Set<Live> services = new LinkedHashSet<>();
    private long nextTick = Long.MAX_VALUE;
    private int serviceGpus;
    private int serviceMaxGpus;
    private final PriorityQueue<Completion> completions = new PriorityQueue<>(
            Comparator.comparingLong(Completion::at).thenComparingLong(c -> c.w().seq));
    private List<OrgQuota> quotas;
    private List<PoolNode> nodeList;
    private Map<String, Integer> inUse = new TreeMap<>();
    private Map<String, Double> valueInUse = new HashMap<>();
    private int allocated;
    private int busy;
    /** Classes in a fixed order, for the fairness figure. */
    private final List<String> classOrder;
    private final Map<String, Integer> classIndex = new HashMap<>();
    /** GPUs each organization asks for per class (its live workloads, each in the cheapest class it fits). */
    private Map<String, double[]> demand = new TreeMap<>();
    /** GPUs each organization's replicas hold per class. */
    private Map<String, double[]> held = new TreeMap<>();
    /** The cheapest class a replica of (GPUs, memory) fits in, by the nodes present; cleared when they change. */
    private final Map<List<Long>, Integer> cheapestFit = new HashMap<>();

    /** Fairness with memory: each organization's usage, integrated and decayed by the same ledger as the operator's. */
    private final ContributionLedger usage = new ContributionLedger(1);

    // metrics
    final SimResult result;

    Simulation(Policy policy, List<GpuClassDef> classes, List<Trace.NodeRow> pool, Path workloadCsv, int maxWaitingShown,
            Observer observer) {
        this.policy = policy;
        this.engine = policy.engine();
        this.classes = List.copyOf(classes);
        for (GpuClassDef c : classes) {
            classValue.put(c.name(), c.value());
            classNames.add(c.name());
        }
        this.pool = pool;
        this.workloadCsv = workloadCsv;
        this.maxWaitingShown = maxWaitingShown;
        this.observer = observer;
        this.result = new SimResult(policy);
        for (Trace.NodeRow n : pool) {
            orgs.add(n.organization());
            String c = nodeClass(n);
            classNames.add(c);
            classValue.putIfAbsent(c, 1.0);
        }
        classOrder = List.copyOf(classNames);
        for (int c = 0; c < classOrder.size(); c++) {
            classIndex.put(classOrder.get(c), c);
        }
    }

    private String nodeClass(Trace.NodeRow n) {
        String c = GpuClassMatcher.classify(n.product(), n.memoryMiB(), classes);
        return c != null ? c : n.product();
    }

    SimResult run() {
        // node events: joins and leaves, in time order
        List<long[]> nodeEvents = new ArrayList<>();
        for (int i = 0; i < pool.size(); i++) {
            nodeEvents.add(new long[] { pool.get(i).joinsAt(), i, 1 });
            if (pool.get(i).leavesAt() >= 0) {
                nodeEvents.add(new long[] { pool.get(i).leavesAt(), i, 0 });
            }
        }
        nodeEvents.sort(Comparator.<long[]>comparingLong(e -> e[0]).thenComparingLong(e -> e[2]));
        int ne = 0;
        long seq = 0;
        long last = 0;
        boolean started = false;
        try (Trace.WorkloadReader reader = new Trace.WorkloadReader(workloadCsv)) {
            while (true) {
                long t = Long.MAX_VALUE;
                if (ne < nodeEvents.size()) {
                    t = Math.min(t, nodeEvents.get(ne)[0]);
                }
                if (reader.peek() != null) {
                    t = Math.min(t, reader.peek().submit());
                }
                if (!completions.isEmpty()) {
                    t = Math.min(t, completions.peek().at());
                }
                if (!services.isEmpty()) {
                    t = Math.min(t, nextTick);
                }
                if (t == Long.MAX_VALUE) {
                    break;
                }
                // nothing left to happen but node events with no work around: stop
                if (reader.peek() == null && completions.isEmpty() && live.isEmpty()) {
                    break;
                }
                if (!started) {
                    last = t;
                    started = true;
                    result.start = t;
                }
                integrate(last, t);
                last = t;
                // apply the events of instant t
                boolean nodesChanged = false;
                List<NodeKey> gone = new ArrayList<>();
                while (ne < nodeEvents.size() && nodeEvents.get(ne)[0] == t) {
                    long[] e = nodeEvents.get(ne++);
                    Trace.NodeRow n = pool.get((int) e[1]);
                    NodeKey key = new NodeKey(n.cluster(), n.node());
                    if (e[2] == 1) {
                        nodes.put(key, new PoolNode(key, n.organization(), nodeClass(n), n.memoryMiB(), n.gpus(),
                                NodeState.SCHEDULABLE));
                    } else {
                        PoolNode p = nodes.get(key);
                        if (p != null) {
                            result.restartedReplicas += replicasOn(key);
                            nodes.put(key, new PoolNode(key, p.organization(), p.gpuClass(), p.memoryMiB(), p.gpus(),
                                    NodeState.GONE));
                            gone.add(key);
                        }
                    }
                    nodesChanged = true;
                    cheapestFit.clear();
                }
                while (!completions.isEmpty() && completions.peek().at() == t) {
                    Completion c = completions.poll();
                    if (c.generation() != c.w().generation || !c.w().running) {
                        continue;
                    }
                    finish(c.w(), t);
                }
                while (reader.peek() != null && reader.peek().submit() == t) {
                    Trace.WorkloadRow row = reader.take();
                    Live w = new Live(row, seq++);
                    if (live.putIfAbsent(w.wid, w) != null) {
                        throw new TraceFormatException(reader.file(), reader.line(), "id",
                                "workload " + row.id() + " is submitted again while it is still waiting or running");
                    }
                    orgs.add(row.organization());
                    result.submitters.add(row.organization());
                    result.submitted++;
                    if (w.service != null) {
                        // A service lives its duration whatever it is given; its replicas follow its load.
                        w.running = true;
                        w.runStart = t;
                        completions.add(new Completion(t + row.duration(), w, w.generation));
                        services.add(w);
                        result.services++;
                        nextTick = t; // its first decision now

                    } else {
                        waiting.put(w.seq, w);
                    }
                }
                boolean rescaled = false;
                if (!services.isEmpty() && t >= nextTick) {
                    for (Live w : services) {
                        rescaled |= w.service.decide(t);
                        if (w.service.desired() > assignedReplicas(w)) {
                            waiting.put(w.seq, w);
                        }
                    }
                    nextTick = t + AUTOSCALE_TICK;
                }
                result.maxLive = Math.max(result.maxLive, live.size());
                if (nodesChanged || quotas == null) {
                    nodeList = List.copyOf(nodes.values());
                    quotas = policy.quotas(orgs, nodeList, classNames);
                } else if (quotas.size() != orgs.size()) {
                    quotas = policy.quotas(orgs, nodeList, classNames);
                }
                boolean any = !gone.isEmpty() || rescaled;
                for (int round = 0; round < ROUNDS_PER_INSTANT; round++) {
                    if (waiting.isEmpty() && !any) {
                        break;
                    }
                    any = false;
                    boolean more = cycle(t);
                    if (!more) {
                        break;
                    }
                }
                for (NodeKey k : gone) {
                    nodes.remove(k);
                }
                if (!gone.isEmpty()) {
                    nodeList = List.copyOf(nodes.values());
                    quotas = policy.quotas(orgs, nodeList, classNames);
                }
                recount(t);
            }
        }
        result.end = last;
        result.unfinished = live.size();
        return result;
    }

    /** One engine cycle; true when it evicted or claimed (worth another round at the same instant). */
    private boolean cycle(long t) {
        LinkedHashSet<Live> shown = new LinkedHashSet<>(holding);
        int n = 0;
        for (Live w : waiting.values()) {
            if (n++ >= maxWaitingShown) {
                break;
            }
            shown.add(w);
        }
        List<Workload> models = new ArrayList<>(shown.size());
        for (Live w : shown) {
            models.add(w.model(t, policy.minimumRunSeconds()));
        }
        PoolSnapshot snap = new PoolSnapshot(classes, nodeList, withUsageHistory(quotas, t), models,
                policy.poolPolicy());
        CycleResult r = engine.cycle(snap);
        result.cycles++;
        for (Eviction e : r.evictions()) {
            result.preemptedReplicas += e.replicas();
            result.restartedReplicas += e.replicas();
            Live victim = live.get(e.victim());
            if (victim != null && victim.running && victim.service == null) {
                // The work its replicas did since they last started: lost for a job that cannot resume (a service's
                // replicas keep no work: it loses capacity, not results).
                result.lostGpuSeconds += (double) e.replicas() * victim.row.gpusPerReplica() * (t - victim.runStart);
            }
            Live p = live.get(e.preemptor());
            if (p != null) {
                p.reclaimer = true;
            }
        }
        for (Live w : shown) {
            List<Assignment> a = r.assignments().get(w.wid);
            int before = assignedReplicas(w);
            w.assigned = a == null ? List.of() : List.copyOf(a);
            int replicas = assignedReplicas(w);
            if (replicas > before) {
                w.started.add(new long[] { t, replicas - before });
            }
            List<Assignment> c = r.claims().get(w.wid);
            w.claimed = c == null ? List.of() : List.copyOf(c);
            if (w.holds()) {
                holding.add(w);
            } else {
                holding.remove(w);
            }
            if (w.service != null) {
                result.coldStarts += w.service.admitted(t, replicas);
                if (replicas >= w.service.desired()) {
                    waiting.remove(w.seq);
                } else {
                    waiting.put(w.seq, w);
                }
                continue;
            }
            boolean full = replicas >= w.row.replicas();
            if (full && !w.running) {
                w.running = true;
                w.runStart = t;
                w.generation++;
                waiting.remove(w.seq);
                completions.add(new Completion(t + w.remaining, w, w.generation));
                if (!w.admittedOnce) {
                    w.admittedOnce = true;
                    result.queueDelay.add(t - w.row.submit());
                    if (w.reclaimer) {
                        result.reclaimDelay.add(t - w.row.submit());
                    }
                }
            } else if (!full && w.running) {
                w.running = false;
                w.remaining = Math.max(0, w.remaining - (t - w.runStart));
                w.generation++;
                waiting.put(w.seq, w);
            }
        }
        return !r.evictions().isEmpty() || !r.claims().isEmpty();
    }

    private static int assignedReplicas(Live w) {
        int replicas = 0;
        for (Assignment x : w.assigned) {
            replicas += x.replicas();
        }
        return replicas;
    }

    private void finish(Live w, long t) {
        w.running = false;
        services.remove(w);
        live.remove(w.wid);
        holding.remove(w);
        waiting.remove(w.seq);
        result.finished++;
    }

    /** Recomputes GPUs in use per organization (running and partly admitted replicas hold GPUs). */
    private void recount(long t) {
        Map<String, Integer> now = new TreeMap<>();
        Map<String, Double> value = new HashMap<>();
        int total = 0;
        int running = 0;
        for (Live w : holding) {
            for (Assignment a : w.assigned) {
                int g = a.replicas() * w.row.gpusPerReplica();
                now.merge(w.row.organization(), g, Integer::sum);
                value.merge(w.row.organization(), g * classValue.getOrDefault(a.gpuClass(), 1.0), Double::sum);
                total += g;
                if (w.running) {
                    running += g;
                }
            }
        }
        if (!now.equals(inUse)) {
            inUse = now;
            if (observer != null) {
                observer.changed(policy, t, now);
            }
        }
        valueInUse = value;
        allocated = total;
        busy = running;
        Map<String, double[]> asked = new TreeMap<>();
        Map<String, double[]> holds = new TreeMap<>();
        for (Live w : live.values()) {
            int c = cheapestFit(w.row.gpusPerReplica(), w.row.minMemoryMiB());
            if (c >= 0) {
                asked.computeIfAbsent(w.row.organization(), o -> new double[classOrder.size()])[c] +=
                        (double) w.desiredReplicas() * w.row.gpusPerReplica();
            }
            for (Assignment a : w.assigned) {
                Integer ci = classIndex.get(a.gpuClass());
                if (ci != null) {
                    holds.computeIfAbsent(w.row.organization(), o -> new double[classOrder.size()])[ci] +=
                            (double) a.replicas() * w.row.gpusPerReplica();
                }
            }
        }
        serviceGpus = 0;
        serviceMaxGpus = 0;
        for (Live w : services) {
            serviceGpus += assignedReplicas(w) * w.row.gpusPerReplica();
            serviceMaxGpus += w.row.service().maxReplicas() * w.row.gpusPerReplica();
        }
        demand = asked;
        held = holds;
        observeUsage(t);
    }

    /** The quotas with each organization's decayed net usage, when the policy remembers usage. */
    private List<OrgQuota> withUsageHistory(List<OrgQuota> quotas, long t) {
        if (!policy.poolPolicy().remembersUsage()) {
            return quotas;
        }
        List<OrgQuota> out = new ArrayList<>(quotas.size());
        Instant now = Instant.ofEpochSecond(t);
        for (OrgQuota q : quotas) {
            out.add(q.withDecayedNetUsage(usage.decayedNetAt(q.name(), now)));
        }
        return out;
    }

    /** Tells the usage ledger what each organization contributes and holds from {@code t} on. */
    private void observeUsage(long t) {
        if (!policy.poolPolicy().remembersUsage()) {
            return;
        }
        Map<String, Map<String, GpuHours>> rates = new TreeMap<>();
        for (PoolNode n : nodes.values()) {
            if (n.state() == NodeState.SCHEDULABLE && n.gpuClass() != null && n.organization() != null) {
                rates.computeIfAbsent(n.organization(), o -> new TreeMap<>()).merge(n.gpuClass(),
                        new GpuHours(n.gpus(), 0, 0, 0), GpuHours::plus);
            }
        }
        held.forEach((org, perClass) -> {
            for (int c = 0; c < perClass.length; c++) {
                if (perClass[c] > 0) {
                    rates.computeIfAbsent(org, o -> new TreeMap<>()).merge(classOrder.get(c),
                            new GpuHours(0, perClass[c], 0, 0), GpuHours::plus);
                }
            }
        });
        usage.observe(Instant.ofEpochSecond(t), rates, classValue, policy.poolPolicy().usageHalfLifeHours());
    }

    /** The least valuable class (then the first by name) with a schedulable node that holds such a replica, or -1. */
    private int cheapestFit(int gpus, long memoryMiB) {
        return cheapestFit.computeIfAbsent(List.of((long) gpus, memoryMiB), k -> {
            int best = -1;
            for (PoolNode n : nodes.values()) {
                if (n.state() != NodeState.SCHEDULABLE || n.gpuClass() == null || n.gpus() < gpus
                        || n.memoryMiB() < memoryMiB) {
                    continue;
                }
                int c = classIndex.get(n.gpuClass());
                if (best < 0 || classValue.get(classOrder.get(c)) < classValue.get(classOrder.get(best))
                        || (classValue.get(classOrder.get(c)).equals(classValue.get(classOrder.get(best))) && c < best)) {
                    best = c;
                }
            }
            return best;
        });
    }

    /** Replicas of live workloads assigned to a node. */
    private int replicasOn(NodeKey node) {
        int n = 0;
        for (Live w : holding) {
            for (Assignment a : w.assigned) {
                if (a.node().equals(node)) {
                    n += a.replicas();
                }
            }
        }
        return n;
    }

    /** The fairness figure's view of the interval: capacity, contributions, demand and holdings per class. */
    private void measureFairness(long dt) {
        int nc = classOrder.size();
        double[] value = new double[nc];
        double[] capacity = new double[nc];
        for (int c = 0; c < nc; c++) {
            value[c] = classValue.getOrDefault(classOrder.get(c), 1.0);
        }
        Map<String, double[]> contributed = new TreeMap<>();
        for (PoolNode n : nodes.values()) {
            if (n.state() == NodeState.SCHEDULABLE && n.gpuClass() != null) {
                int c = classIndex.get(n.gpuClass());
                capacity[c] += n.gpus();
                if (n.organization() != null) {
                    contributed.computeIfAbsent(n.organization(), o -> new double[nc])[c] += n.gpus();
                }
            }
        }
        List<String> names = new ArrayList<>(new TreeSet<>(demand.keySet()));
        double[][] d = new double[names.size()][];
        double[][] f = new double[names.size()][];
        double[][] h = new double[names.size()][];
        for (int o = 0; o < names.size(); o++) {
            d[o] = demand.get(names.get(o));
            f[o] = contributed.getOrDefault(names.get(o), new double[nc]);
            h[o] = held.getOrDefault(names.get(o), new double[nc]);
        }
        result.fairness.interval(dt, names, value, capacity, d, f, h);
    }

    private void integrate(long from, long to) {
        if (to <= from) {
            return;
        }
        long dt = to - from;
        int available = 0;
        for (PoolNode n : nodes.values()) {
            if (n.state() == NodeState.SCHEDULABLE && n.gpuClass() != null) {
                available += n.gpus();
            }
        }
        result.availableGpuSeconds += (double) available * dt;
        result.allocatedGpuSeconds += (double) allocated * dt;
        result.busyGpuSeconds += (double) busy * dt;
        result.serviceGpuSeconds += (double) serviceGpus * dt;
        result.serviceMaxGpuSeconds += (double) serviceMaxGpus * dt;
        for (Live w : services) {
            w.service.advance(from, to, result.requestLatency, result);
        }
        for (Map.Entry<String, Double> e : valueInUse.entrySet()) {
            result.orgValueGpuSeconds.merge(e.getKey(), e.getValue() * dt, Double::sum);
        }
        measureFairness(dt);
        if (observer != null) {
            observer.interval(policy, from, to, inUse, available);
        }
    }
}
