package io.gpupool.core.fairshare;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import io.gpupool.core.model.Assignment;
import io.gpupool.core.model.NodeKey;
import io.gpupool.core.model.NodeState;
import io.gpupool.core.model.PoolNode;
import io.gpupool.core.model.PoolSnapshot;
import io.gpupool.core.model.Workload;

/**
 * What is used where during one admission cycle (Kueue's {@code pkg/cache}, for one cycle): per node its free GPUs
 * and those being released, per workload where its replicas run, per organization and GpuClass its quota usage, per
 * class the GPUs held and the commons used. The phases and the preemption planner read it, and change it only through
 * its methods: {@link #admit}, {@link #reserveFor} (a claim), {@link #remove} and {@link #simulateRemoval}, which
 * answers "what if this replica were gone" and returns the {@link Undo}.
 *
 * <p>
 * One rule lives here and nowhere else: <b>replicas taken away still hold their GPUs</b> until their pods are gone.
 * Draining replicas, replicas a cycle does not keep, and evicted replicas stop: their GPUs stay held on their node
 * (and count as being released there), but no longer against their organization's quota. {@link #load} applies it to
 * a snapshot for the admission cycle and for {@link QuotaAccounting} alike.
 *
 * <p>
 * Nodes are numbered in the order of their keys, workloads in arrival order. Mutable; used by one thread for one
 * cycle.
 */
public final class CycleLedger {

    /** Puts back what {@link #simulateRemoval} changed. */
    @FunctionalInterface
    public interface Undo {
        void undo();
    }

    /** Told that a node's free GPUs changed. */
    @FunctionalInterface
    public interface FreeChange {
        void moved(int node, int before);
    }

    /** Which replicas of a workload run, given the free GPUs left by the draining and by the older workloads. */
    @FunctionalInterface
    public interface RunningRule {
        List<Assignment> running(Workload w, Map<NodeKey, PoolNode> nodes, Map<NodeKey, Integer> free);
    }

    /** Replicas of one workload on one node. */
    public static final class Slot {
        private final int workload;
        private final int node;
        private int count;
        /** It got replicas on this node in this cycle. */
        private boolean fresh;

        Slot(int workload, int node, int count) {
            this.workload = workload;
            this.node = node;
            this.count = count;
        }

        public int workload() {
            return workload;
        }

        public int node() {
            return node;
        }

        public int count() {
            return count;
        }

        /** Replicas that may be evicted: none where the workload got replicas in this cycle. */
        public int evictable() {
            return fresh ? 0 : count;
        }
    }

    private final QuotaBook book;
    private final boolean forCycle;
    private final int nc;

    // Nodes.
    private final List<PoolNode> nodes;
    private final Map<NodeKey, Integer> nodeIndex;
    private final int[] cls;
    private final int[] free;
    private final int[] soon;
    private final int[] gpus;
    private final long[] memoryMiB;
    /** Nodes with GPUs held by stopping replicas that nobody has claimed yet. */
    private final BitSet releasing = new BitSet();
    private final List<List<Slot>> onNode;
    private final List<List<PoolNode>> nodesOfClass = new ArrayList<>();
    private final List<PoolNode> unclassified = new ArrayList<>();
    /** Told of every change of a node's free GPUs (the cycle's index of free GPUs): node, free GPUs before. */
    private FreeChange freeChanged = (n, before) -> {
    };

    // Workloads.
    private final Workload[] ws;
    private final int[] org;
    private final boolean[] passThrough;
    private final int[] running;
    /** Each workload's replicas, one slot per node, in the order of its assignment (kept first, then new nodes). */
    private final List<List<Slot>> slotsOf;
    /** Slots per organization and class (on nodes that are not gone): where its evictable replicas are. */
    private final List<List<List<Slot>>> orgClassSlots;
    private final int[][] sharedRunning;
    private final int[][] sharedCommons;

    // Quota, per organization and class.
    /** GPUs counted against each organization's quota: running replicas and claims, not the commons. */
    private final int[][] quotaUsed;
    /** Like {@link #quotaUsed} without claims: decides whether an organization's replicas count as borrowed. */
    private final int[][] runningOrg;
    /** GPUs of running replicas, the commons' part included (accounting). */
    private final int[][] runningGpus;
    /** GPUs of stopping replicas (accounting). */
    private final int[][] stoppingGpus;
    /** GPUs of running replicas the commons carries (accounting). */
    private final int[][] commonsGpus;
    private final int[] commonsUsed;
    /** GPUs held (running, stopping or claimed) on the SCHEDULABLE nodes of each class: the capacity's side. */
    private final long[] held;
    private final long[] reservedSum;
    private final double[] share;
    private final boolean[] shareDirty;

    /**
     * @param forCycle whether an admission cycle will search and preempt in it: nodes numbered in key order, replicas
     *                 listed per node and per organization and class. Accounting needs none of that.
     */
    private CycleLedger(QuotaBook book, PoolSnapshot snapshot, boolean forCycle) {
        this.book = book;
        this.forCycle = forCycle;
        nc = book.classCount();
        int no = book.orgCount();
        nodes = new ArrayList<>(snapshot.nodes());
        if (forCycle) {
            nodes.sort(Comparator.comparing(PoolNode::key));
        }
        int nn = nodes.size();
        nodeIndex = new HashMap<>(nn * 2);
        cls = new int[nn];
        free = new int[nn];
        soon = new int[nn];
        memoryMiB = new long[nn];
        gpus = new int[nn];
        onNode = new ArrayList<>(nn);
        for (int c = 0; c < nc; c++) {
            nodesOfClass.add(new ArrayList<>());
        }
        for (int n = 0; n < nn; n++) {
            PoolNode node = nodes.get(n);
            nodeIndex.put(node.key(), n);
            cls[n] = book.classIndex(node.gpuClass());
            free[n] = node.gpus();
            memoryMiB[n] = node.memoryMiB();
            (cls[n] < 0 ? unclassified : nodesOfClass.get(cls[n])).add(node);
            gpus[n] = node.gpus();
            onNode.add(forCycle ? new ArrayList<>(4) : null);
        }
        List<Workload> ordered = new ArrayList<>(snapshot.workloads());
        ordered.sort(Workload.ARRIVAL_ORDER);
        int nw = ordered.size();
        ws = ordered.toArray(new Workload[0]);
        org = new int[nw];
        passThrough = new boolean[nw];
        running = new int[nw];
        sharedRunning = new int[nw][];
        sharedCommons = new int[nw][];
        slotsOf = new ArrayList<>(nw);
        orgClassSlots = new ArrayList<>(no);
        for (int o = 0; o < no; o++) {
            List<List<Slot>> perClass = new ArrayList<>(nc);
            for (int c = 0; c < nc; c++) {
                perClass.add(new ArrayList<>());
            }
            orgClassSlots.add(perClass);
        }
        quotaUsed = new int[no][nc];
        runningOrg = new int[no][nc];
        runningGpus = new int[no][nc];
        stoppingGpus = new int[no][nc];
        commonsGpus = new int[no][nc];
        commonsUsed = new int[nc];
        held = new long[nc];
        reservedSum = new long[nc];
        share = new double[no];
        shareDirty = new boolean[no];
        Arrays.fill(shareDirty, true);
    }

    /**
     * The ledger at the start of a cycle: every workload's draining replicas stop (they hold their GPUs), the replicas
     * the rule keeps run, and the rest of what each workload had is taken away (its pods stop and hold their GPUs too).
     * Then the running replicas are counted against their organizations' quotas, the commons carrying the running
     * shared models first, oldest first.
     *
     * @param running which replicas of each workload run: for a cycle, those it keeps ({@code CycleStart.keepValid});
     *                for accounting, those a cycle's result assigns
     */
    public static CycleLedger load(QuotaBook book, PoolSnapshot snapshot, RunningRule running) {
        CycleLedger l = new CycleLedger(book, snapshot, true);
        l.loadWorkloads(running, true);
        return l;
    }

    /**
     * As {@link #load}, when what runs does not depend on free GPUs (a cycle's result), for accounting: nodes are
     * not in key order and slots are not listed per node or organization (nothing is searched or preempted).
     *
     * @param running which replicas of a workload run
     */
    public static CycleLedger load(QuotaBook book, PoolSnapshot snapshot,
            java.util.function.Function<Workload, List<Assignment>> running) {
        CycleLedger l = new CycleLedger(book, snapshot, false);
        l.loadWorkloads((w, nodes, free) -> running.apply(w), false);
        return l;
    }

    private void loadWorkloads(RunningRule rule, boolean ruleReadsFree) {
        int nw = ws.length;
        Map<NodeKey, PoolNode> byKey = ruleReadsFree ? new HashMap<>(nodes.size() * 2) : Map.of();
        if (ruleReadsFree) {
            nodes.forEach(n -> byKey.put(n.key(), n));
        }
        for (int i = 0; i < nw; i++) {
            Workload w = ws[i];
            org[i] = book.orgIndex(w.organization());
            passThrough[i] = w.gpusPerReplica() <= 0;
            for (Assignment d : w.draining()) {
                Integer n = nodeIndex.get(d.node());
                if (n != null) {
                    stop(i, n, d.replicas() * Math.max(0, w.gpusPerReplica()));
                }
            }
        }
        Map<NodeKey, Integer> freeByKey = ruleReadsFree ? new HashMap<>(nodes.size() * 2) : Map.of();
        for (int n = 0; ruleReadsFree && n < nodes.size(); n++) {
            freeByKey.put(nodes.get(n).key(), free[n]);
        }
        for (int i = 0; i < nw; i++) {
            Workload w = ws[i];
            List<Assignment> runs = passThrough[i] ? w.assigned() : rule.running(w, byKey, freeByKey);
            // One slot per node, in the order of the assignment (lists of a workload's nodes are short).
            List<Slot> slots = new ArrayList<>(runs.size());
            for (Assignment a : runs) {
                Integer n = nodeIndex.get(a.node());
                if (n != null) {
                    Slot slot = slotOn(slots, n);
                    if (slot == null) {
                        slots.add(new Slot(i, n, a.replicas()));
                    } else {
                        slot.count += a.replicas();
                    }
                }
                running[i] += a.replicas();
            }
            for (Slot slot : slots) {
                int n = slot.node;
                if (!passThrough[i]) {
                    free[n] -= slot.count * w.gpusPerReplica();
                }
                if (forCycle) {
                    onNode.get(n).add(slot);
                    if (cls[n] >= 0 && nodes.get(n).state() != NodeState.GONE && org[i] >= 0) {
                        orgClassSlots.get(org[i]).get(cls[n]).add(slot);
                    }
                }
            }
            slotsOf.add(slots);
            if (!passThrough[i]) {
                takeAway(i, w.assigned(), slots);
            }
        }
        countQuotas();
        for (int o = 0; o < book.orgCount(); o++) {
            for (int c = 0; c < nc; c++) {
                reservedSum[c] += book.reserved(o, c, quotaUsed[o][c]);
            }
        }
    }

    /** Replicas the workload had that do not run any more: they stop, and hold their GPUs until they are gone. */
    private void takeAway(int i, List<Assignment> had, List<Slot> runs) {
        int[] left = new int[runs.size()];
        for (int j = 0; j < left.length; j++) {
            left[j] = runs.get(j).count;
        }
        for (Assignment a : had) {
            Integer n = nodeIndex.get(a.node());
            if (n == null) {
                continue;
            }
            int j = 0;
            while (j < left.length && runs.get(j).node != n) {
                j++;
            }
            int stay = j < left.length ? left[j] : 0;
            int removed = a.replicas() - stay;
            if (j < left.length) {
                left[j] = Math.max(0, stay - a.replicas());
            }
            if (removed > 0) {
                stop(i, n, removed * ws[i].gpusPerReplica());
            }
        }
    }

    private static Slot slotOn(List<Slot> slots, int n) {
        for (Slot s : slots) {
            if (s.node == n) {
                return s;
            }
        }
        return null;
    }

    /** GPUs of stopping replicas: free for nobody until the pods are gone, and released soon on a live node. */
    private void stop(int i, int n, int amount) {
        free[n] -= amount;
        NodeState state = nodes.get(n).state();
        if (state == NodeState.GONE || cls[n] < 0) {
            return;
        }
        if (state == NodeState.SCHEDULABLE) {
            held[cls[n]] += amount;
        }
        soon[n] += amount;
        releasing.set(n);
        if (org[i] >= 0) {
            stoppingGpus[org[i]][cls[n]] += amount;
        }
    }

    /** Counts running replicas against their organizations' quotas; the commons carries shared ones first. */
    private void countQuotas() {
        for (int i = 0; i < ws.length; i++) {
            Workload w = ws[i];
            int k = w.gpusPerReplica();
            if (k <= 0) {
                continue;
            }
            int[] runningByClass = new int[nc];
            for (Slot slot : slotsOf.get(i)) {
                int n = slot.node;
                NodeState state = nodes.get(n).state();
                if (cls[n] >= 0 && state != NodeState.GONE) {
                    runningByClass[cls[n]] += slot.count;
                    if (state == NodeState.SCHEDULABLE) {
                        held[cls[n]] += (long) slot.count * k;
                    }
                }
            }
            if (w.shared()) {
                sharedRunning[i] = runningByClass;
                sharedCommons[i] = new int[nc];
            }
            int o = org[i];
            for (int c = 0; c < nc; c++) {
                int replicas = runningByClass[c];
                if (replicas == 0) {
                    continue;
                }
                int cr = w.shared() ? Shares.commonsReplicas(replicas, k, book.commons(c) - commonsUsed[c]) : 0;
                if (w.shared()) {
                    sharedCommons[i][c] = cr;
                    commonsUsed[c] += cr * k;
                }
                quotaUsed[o][c] += (replicas - cr) * k;
                runningOrg[o][c] += (replicas - cr) * k;
                runningGpus[o][c] += replicas * k;
                commonsGpus[o][c] += cr * k;
            }
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Changes.

    /**
     * The free GPUs of every node, by node index, for an index of free GPUs to read; it must not write them, and is
     * told of every change through {@link #onFreeChange}.
     */
    public int[] freeGpus() {
        return free;
    }

    /** Tells {@code listener} (node, free GPUs before) of every change of a node's free GPUs from now on. */
    public void onFreeChange(FreeChange listener) {
        this.freeChanged = listener;
    }

    private void setFree(int n, int value) {
        int before = free[n];
        free[n] = value;
        freeChanged.moved(n, before);
    }

    /** One more replica of workload {@code i} runs on node {@code n}. */
    public void admit(int i, int n) {
        Workload w = ws[i];
        int k = w.gpusPerReplica();
        int c = cls[n];
        int o = org[i];
        setFree(n, free[n] - k);
        held[c] += k;
        runningGpus[o][c] += k;
        if (w.shared()) {
            int before = sharedOrgRunningGpus(i, c);
            sharedRunning[i][c]++;
            if (commonsRoom(c) >= k) {
                sharedCommons[i][c]++;
                commonsUsed[c] += k;
                commonsGpus[o][c] += k;
            } else {
                addQuota(o, c, k);
            }
            runningOrg[o][c] += sharedOrgRunningGpus(i, c) - before;
        } else {
            addQuota(o, c, k);
            runningOrg[o][c] += k;
        }
        Slot slot = null;
        for (Slot s : slotsOf.get(i)) {
            if (s.node == n) {
                slot = s;
            }
        }
        if (slot == null) {
            slot = new Slot(i, n, 0);
            slotsOf.get(i).add(slot);
            onNode.get(n).add(slot);
            orgClassSlots.get(o).get(c).add(slot);
        }
        slot.count++;
        slot.fresh = true;
        running[i]++;
    }

    /**
     * One replica of a slot stops (it is evicted): it no longer counts against its organization's quota, and its GPUs
     * are held, being released, until its pod is gone.
     */
    public void remove(Slot slot) {
        simulateRemoval(slot);
    }

    /**
     * As {@link #remove}, to see what the ledger would say without that replica.
     *
     * @return what puts it back
     */
    public Undo simulateRemoval(Slot slot) {
        int v = slot.workload;
        int n = slot.node;
        Workload w = ws[v];
        int k = w.gpusPerReplica();
        int c = cls[n];
        int o = org[v];
        boolean wasReleasing = releasing.get(n);
        // The undo puts the cached share back too: planning simulates many removals, and recomputing the shares of
        // every victim's organization after each would cost more than the planning itself.
        double shareBefore = share[o];
        boolean dirtyBefore = shareDirty[o];
        slot.count--;
        running[v]--;
        int leaving = k;
        if (w.shared()) {
            int before = sharedOrgRunningGpus(v, c);
            sharedRunning[v][c]--;
            leaving = before - sharedOrgRunningGpus(v, c);
        }
        runningOrg[o][c] -= leaving;
        addQuota(o, c, -leaving);
        runningGpus[o][c] -= k;
        stoppingGpus[o][c] += k;
        soon[n] += k;
        releasing.set(n);
        int left = leaving;
        return () -> {
            slot.count++;
            running[v]++;
            if (w.shared()) {
                sharedRunning[v][c]++;
            }
            runningOrg[o][c] += left;
            addQuota(o, c, left);
            runningGpus[o][c] += k;
            stoppingGpus[o][c] -= k;
            soon[n] -= k;
            releasing.set(n, wasReleasing);
            share[o] = shareBefore;
            shareDirty[o] = dirtyBefore;
        };
    }

    /**
     * A preemptor books one replica's GPUs on a node: what is free there, then what is being released. They count
     * against its quota (or the commons) at once; it is placed once they are free.
     */
    public void reserveFor(int i, int n, boolean chargesCommons) {
        int k = ws[i].gpusPerReplica();
        int c = cls[n];
        int fromFree = Math.min(Math.max(0, free[n]), k);
        if (fromFree > 0) {
            setFree(n, free[n] - fromFree);
            held[c] += fromFree;
        }
        soon[n] -= k - fromFree;
        if (soon[n] <= 0) {
            releasing.clear(n);
        }
        if (chargesCommons) {
            commonsUsed[c] += k;
        } else {
            addQuota(org[i], c, k);
        }
    }

    private void addQuota(int o, int c, int gpus) {
        reservedSum[c] -= book.reserved(o, c, quotaUsed[o][c]);
        quotaUsed[o][c] += gpus;
        reservedSum[c] += book.reserved(o, c, quotaUsed[o][c]);
        shareDirty[o] = true;
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Reading.

    public QuotaBook book() {
        return book;
    }

    public int classCount() {
        return nc;
    }

    public int nodeCount() {
        return nodes.size();
    }

    public PoolNode node(int n) {
        return nodes.get(n);
    }

    /** The index of a node, or null when the snapshot has no such node. */
    public Integer nodeIndex(NodeKey key) {
        return nodeIndex.get(key);
    }

    public int classOf(int n) {
        return cls[n];
    }

    public int free(int n) {
        return free[n];
    }

    /** Whether the node takes new replicas: schedulable, with a class. */
    public boolean takes(int n) {
        return cls[n] >= 0 && nodes.get(n).takesNewReplicas();
    }

    /** The class index of every node (-1: none), by node index; read only. */
    public int[] classes() {
        return cls;
    }

    /** GPUs of a node held by stopping replicas, about to be free. */
    public int soon(int n) {
        return soon[n];
    }

    /** Nodes with GPUs held by stopping replicas that nobody has claimed yet. */
    public BitSet releasing() {
        return releasing;
    }

    /**
     * Whether the node's GPUs are large enough and numerous enough for one replica, and its owner consents to what the
     * replica does where it may run at all (class and state aside).
     */
    public boolean fits(Workload w, int n) {
        return memoryMiB[n] >= w.minMemoryMiB() && gpus[n] >= w.gpusPerReplica()
                && w.requirements().admits(node(n));
    }

    /**
     * Replicas of a slot that may be evicted: none where its workload got replicas in this cycle, and never its young
     * replicas ({@link Workload#youngReplicas}, which have not run the pool's minimum run time yet).
     */
    public int evictable(Slot slot) {
        int young = ws[slot.workload].youngReplicas();
        return young <= 0 ? slot.evictable()
                : Math.min(slot.evictable(), Math.max(0, running[slot.workload] - young));
    }

    public List<Slot> onNode(int n) {
        return onNode.get(n);
    }

    public List<PoolNode> nodesOfClass(int c) {
        return nodesOfClass.get(c);
    }

    public List<PoolNode> unclassified() {
        return unclassified;
    }

    /** The nodes, in index order. */
    public List<PoolNode> nodes() {
        return nodes;
    }

    public int workloadCount() {
        return ws.length;
    }

    public Workload workload(int i) {
        return ws[i];
    }

    public int orgOf(int i) {
        return org[i];
    }

    /** A workload whose replicas need no GPUs: the cycle leaves it as it is. */
    public boolean passThrough(int i) {
        return passThrough[i];
    }

    public int running(int i) {
        return running[i];
    }

    public List<Slot> slotsOf(int i) {
        return slotsOf.get(i);
    }

    /** Slots of an organization in a class, on nodes that are not gone. */
    public List<Slot> slotsOf(int o, int c) {
        return orgClassSlots.get(o).get(c);
    }

    /** Nodes the workload has replicas on. */
    public List<Integer> usedNodes(int i) {
        List<Slot> slots = slotsOf.get(i);
        List<Integer> used = new ArrayList<>(slots.size());
        for (Slot slot : slots) {
            if (slot.count > 0) {
                used.add(slot.node);
            }
        }
        return used;
    }

    public int quotaUsed(int o, int c) {
        return quotaUsed[o][c];
    }

    public int[] quotaUsed(int o) {
        return quotaUsed[o];
    }

    /** GPUs of its running replicas counted against its quota (claims not included). */
    public int runningOrg(int o, int c) {
        return runningOrg[o][c];
    }

    public int runningGpus(int o, int c) {
        return runningGpus[o][c];
    }

    public int stoppingGpus(int o, int c) {
        return stoppingGpus[o][c];
    }

    public int commonsGpus(int o, int c) {
        return commonsGpus[o][c];
    }

    public long held(int c) {
        return held[c];
    }

    /** GPUs all organizations keep back with their lending limits ({@link QuotaBook#reserved}). */
    public long reservedSum(int c) {
        return reservedSum[c];
    }

    public int commonsUsed(int c) {
        return commonsUsed[c];
    }

    public int commonsRoom(int c) {
        return book.commons(c) - commonsUsed[c];
    }

    /** Whether the commons carries one more replica of workload {@code i} in class {@code c}. */
    public boolean chargesCommons(int i, int c) {
        return ws[i].shared() && commonsRoom(c) >= ws[i].gpusPerReplica();
    }

    /** GPUs of a shared workload's running replicas in a class that count against its organization's quota. */
    public int sharedOrgRunningGpus(int i, int c) {
        int r = sharedRunning[i][c];
        return (r - Math.min(r, sharedCommons[i][c])) * ws[i].gpusPerReplica();
    }

    /** The organization's weighted share now (cached until its quota usage changes). */
    public double orgShare(int o) {
        if (shareDirty[o]) {
            share[o] = Shares.weightedShare(book, o, quotaUsed[o]);
            shareDirty[o] = false;
        }
        return share[o];
    }
}
