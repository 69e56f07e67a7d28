package io.gpupool.core.admission;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;

import io.gpupool.core.fairshare.QuotaBook;
import io.gpupool.core.fairshare.Shares;
import io.gpupool.core.model.Assignment;
import io.gpupool.core.model.CycleResult;
import io.gpupool.core.model.Eviction;
import io.gpupool.core.model.NodeKey;
import io.gpupool.core.model.NodeState;
import io.gpupool.core.model.PendingReason;
import io.gpupool.core.model.PoolNode;
import io.gpupool.core.model.PoolSnapshot;
import io.gpupool.core.model.Workload;
import io.gpupool.core.model.WorkloadId;

/**
 * One cycle of {@link FairShareAdmission}. Mutable working state over arrays indexed by node, workload, organization
 * and class; used once.
 *
 * <p>
 * The cycle:
 * <ol>
 * <li>keeps what may stay ({@link FirstComeAdmission#keepValid}); GPUs of draining replicas, and of replicas it takes
 * away (scaled down, node no longer suitable), stay held until their pods are gone;</li>
 * <li>phase 1: replicas that stay within their organization's nominal quota (or, for shared models, within the
 * commons), the organization with the lowest weighted share first, then higher priority. A replica that finds no free
 * node, and could not borrow elsewhere either, preempts on one node: borrowed replicas of other organizations, and
 * lower-priority replicas of its own organization where its quota or the node's room needs them gone. It claims the
 * node's GPUs and waits ({@code Preempting}) until the evicted pods are gone; in the next cycles it is again a phase-1
 * replica, ahead of its victims, and claims the GPUs being released instead of evicting more;</li>
 * <li>phase 2: everything else borrows idle GPUs, one replica at a time, the organization whose weighted share would
 * be lowest with the replica first. Nobody is evicted to borrow;</li>
 * <li>explains every replica that still waits.</li>
 * </ol>
 */
final class FairShareCycle {

    /**
     * Most evictable first: other organizations' replicas before the preemptor's own, the highest weighted share first,
     * then the lowest priority, then the newest, then the name.
     */
    private static final Comparator<Victim> VICTIM_ORDER = (x, y) -> {
        if (x.own != y.own) {
            return x.own ? 1 : -1;
        }
        int c = Double.compare(y.orgShare, x.orgShare);
        if (c == 0) {
            c = Integer.compare(x.w.priority(), y.w.priority());
        }
        if (c == 0) {
            c = Long.compare(y.w.arrival(), x.w.arrival());
        }
        return c != 0 ? c : x.w.id().compareTo(y.w.id());
    };

    private final QuotaBook book;
    private final boolean reclaim;
    private final int nc;

    private final List<PoolNode> nodes;
    private final int[] cls;
    private final int[] free;
    private final int[] soon;
    /** Nodes with GPUs held by stopping replicas that nobody has claimed yet. */
    private final BitSet releasing = new BitSet();
    private final long[] memoryMiB;
    private final List<List<PoolNode>> nodesOfClass = new ArrayList<>();
    private final List<PoolNode> unclassified = new ArrayList<>();
    private final int[] gpus;
    private final FreeGpuIndex index;
    /** Replicas on each node, one slot per workload. */
    private final List<List<Slot>> onNode;

    private final Workload[] ws;
    private final int[] org;
    private final boolean[] passThrough;
    private final int[][] classRanks;
    private final boolean[][] allowed;
    private final int[] running;
    /** Each workload's replicas, one slot per node, in the order of its assignment (kept first, then new nodes). */
    private final List<List<Slot>> slotsOf;
    /** Slots per organization and class (on nodes that are not gone): where its evictable replicas are. */
    private final List<List<List<Slot>>> orgClassSlots;
    private final int[] visited;
    private int visit;
    /**
     * Workloads that lost replicas in this cycle get none placed, and none of a workload's replicas on a node where it
     * got replicas in this cycle is evicted ({@link Slot#fresh}), so a result never both removes and adds replicas of
     * one workload on one node.
     */
    private final Set<Integer> lostReplicas = new HashSet<>();
    private final int[] plannedOrg;
    private final int[] plannedWorkload;
    private final int[] claimed;
    private final int[][] sharedRunning;
    private final int[][] sharedCommons;
    private final String[] preempting;

    /** GPUs counted against each organization's quota per class: running replicas and claims, not the commons. */
    private final int[][] quotaUsed;
    /** Like {@link #quotaUsed} without claims: decides whether an organization's replicas count as borrowed. */
    private final int[][] runningOrg;
    private final int[] commonsUsed;
    /** GPUs held (running, stopping or claimed) on the SCHEDULABLE nodes of each class: the capacity's side. */
    private final long[] held;
    private final long[] reservedSum;
    private final double[] share;
    private final boolean[] shareDirty;
    private final Set<PlanKey> failedPlans = new HashSet<>();
    private final List<Eviction> evictions = new ArrayList<>();
    private final Map<NodeKey, Integer> nodeIdx;
    /** Claims of this cycle, per workload and node. */
    private final Map<Integer, Map<Integer, Integer>> claims = new LinkedHashMap<>();

    FairShareCycle(PoolSnapshot snapshot) {
        book = QuotaBook.of(snapshot);
        reclaim = book.policy().reclaim();
        nc = book.classCount();
        int no = book.orgCount();

        nodes = new ArrayList<>(snapshot.nodes());
        nodes.sort(Comparator.comparing(PoolNode::key));
        int nn = nodes.size();
        nodeIdx = new HashMap<>(nn * 2);
        Map<NodeKey, PoolNode> byKey = new HashMap<>(nn * 2);
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
            nodeIdx.put(node.key(), n);
            byKey.put(node.key(), node);
            cls[n] = book.classIndex(node.gpuClass());
            free[n] = node.gpus();
            memoryMiB[n] = node.memoryMiB();
            (cls[n] < 0 ? unclassified : nodesOfClass.get(cls[n])).add(node);
            gpus[n] = node.gpus();
            onNode.add(new ArrayList<>(4));
        }

        List<Workload> ordered = new ArrayList<>(snapshot.workloads());
        ordered.sort(FirstComeAdmission.ARRIVAL_ORDER);
        int nw = ordered.size();
        ws = ordered.toArray(new Workload[0]);
        org = new int[nw];
        passThrough = new boolean[nw];
        classRanks = new int[nw][];
        allowed = new boolean[nw][];
        running = new int[nw];
        claimed = new int[nw];
        sharedRunning = new int[nw][];
        sharedCommons = new int[nw][];
        preempting = new String[nw];
        held = new long[nc];

        // GPUs of draining replicas are held until their pods are gone.
        for (int i = 0; i < nw; i++) {
            Workload w = ws[i];
            org[i] = book.orgIndex(w.organization());
            passThrough[i] = w.gpusPerReplica() <= 0;
            for (Assignment d : w.draining()) {
                Integer n = nodeIdx.get(d.node());
                if (n != null) {
                    hold(n, d.replicas() * Math.max(0, w.gpusPerReplica()));
                }
            }
        }
        // Keep what may stay, oldest first; what is taken away stops and holds its GPUs meanwhile.
        Map<NodeKey, Integer> freeByKey = new HashMap<>(nn * 2);
        for (int n = 0; n < nn; n++) {
            freeByKey.put(nodes.get(n).key(), free[n]);
        }
        List<List<Assignment>> kept = new ArrayList<>(nw);
        for (int i = 0; i < nw; i++) {
            kept.add(passThrough[i] ? ws[i].assigned() : FirstComeAdmission.keepValid(ws[i], byKey, freeByKey));
        }
        for (int n = 0; n < nn; n++) {
            free[n] = freeByKey.get(nodes.get(n).key());
        }
        slotsOf = new ArrayList<>(nw);
        orgClassSlots = new ArrayList<>(no);
        for (int o = 0; o < no; o++) {
            List<List<Slot>> perClass = new ArrayList<>(nc);
            for (int c = 0; c < nc; c++) {
                perClass.add(new ArrayList<>());
            }
            orgClassSlots.add(perClass);
        }
        visited = new int[nn];
        for (int i = 0; i < nw; i++) {
            Workload w = ws[i];
            LinkedHashMap<Integer, Integer> mine = new LinkedHashMap<>();
            for (Assignment a : kept.get(i)) {
                Integer n = nodeIdx.get(a.node());
                if (n != null) {
                    mine.merge(n, a.replicas(), Integer::sum);
                }
                running[i] += a.replicas();
            }
            List<Slot> slots = new ArrayList<>(mine.size());
            for (Map.Entry<Integer, Integer> e : mine.entrySet()) {
                Slot slot = new Slot(i, e.getKey(), e.getValue());
                slots.add(slot);
                onNode.get(e.getKey()).add(slot);
                int c = cls[e.getKey()];
                if (c >= 0 && nodes.get(e.getKey()).state() != NodeState.GONE && org[i] >= 0) {
                    orgClassSlots.get(org[i]).get(c).add(slot);
                }
            }
            slotsOf.add(slots);
            if (passThrough[i]) {
                continue;
            }
            Map<Integer, Integer> left = new HashMap<>(mine);
            for (Assignment a : w.assigned()) {
                Integer n = nodeIdx.get(a.node());
                if (n == null) {
                    continue;
                }
                int stay = left.getOrDefault(n, 0);
                int removed = a.replicas() - stay;
                left.put(n, Math.max(0, stay - a.replicas()));
                if (removed > 0) {
                    hold(n, removed * w.gpusPerReplica());
                }
            }
        }

        // The ledger: whose quota running replicas count against. Stopping replicas only hold their GPUs.
        quotaUsed = new int[no][nc];
        runningOrg = new int[no][nc];
        commonsUsed = new int[nc];
        for (int i = 0; i < nw; i++) {
            Workload w = ws[i];
            int k = w.gpusPerReplica();
            int[] runningByClass = new int[nc];
            if (k <= 0) {
                continue;
            }
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
            }
        }
        plannedOrg = new int[no];
        plannedWorkload = new int[nw];
        reservedSum = new long[nc];
        for (int o = 0; o < no; o++) {
            for (int c = 0; c < nc; c++) {
                reservedSum[c] += book.reserved(o, c, quotaUsed[o][c]);
            }
        }
        share = new double[no];
        shareDirty = new boolean[no];
        Arrays.fill(shareDirty, true);

        for (int i = 0; i < nw; i++) {
            List<String> names = ws[i].allowedClasses();
            allowed[i] = new boolean[nc];
            if (names.isEmpty()) {
                Arrays.fill(allowed[i], true);
            } else {
                int[] ranks = new int[names.size()];
                int r = 0;
                for (String name : names) {
                    int c = book.classIndex(name);
                    if (c >= 0 && !allowed[i][c]) {
                        allowed[i][c] = true;
                        ranks[r++] = c;
                    }
                }
                classRanks[i] = r == ranks.length ? ranks : Arrays.copyOf(ranks, r);
            }
        }

        index = new FreeGpuIndex(nodes, cls, nc, free);
    }

    /** Marks GPUs of stopping replicas on a node as held (they are free for nobody until the pods are gone). */
    private void hold(int n, int amount) {
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
    }

    CycleResult run() {
        phase2(phase1());
        return result();
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Phase 1: within nominal quota (or the commons), with reclaim.

    /**
     * GPUs freed by a preemption go to the preemptor: the claims of the previous cycle come first. A claim still holds
     * while its workload lacks replicas, fits the node, and stays within nominal quota (or the commons) in the node's
     * class ahead of its organization's lower-priority replicas (which may have borrowed meanwhile: they then count as
     * borrowed). It is placed there if the GPUs are free, and claims them again while they are being released.
     */
    private void honorClaims() {
        for (int i = 0; i < ws.length; i++) {
            for (Assignment claim : ws[i].claimed()) {
                Integer ni = nodeIdx.get(claim.node());
                if (ni != null && !passThrough[i]) {
                    honorClaim(i, ni, claim.replicas());
                }
            }
        }
    }

    private void honorClaim(int i, int n, int replicas) {
        Workload w = ws[i];
        int k = w.gpusPerReplica();
        for (int r = 0; r < replicas; r++) {
            if (missing(i) <= 0 || lostReplicas.contains(i) || !index.takes(n) || !NodeFit.matches(w, nodes.get(n))
                    || !reclaimMask(i, withinMask(i))[cls[n]]) {
                return;
            }
            if (free[n] >= k) {
                admit(i, n);
            } else if (free[n] + soon[n] >= k) {
                claim(i, n);
                preempting[i] = waitingMessage(i, n);
            } else {
                return;
            }
        }
    }

    private List<Integer> phase1() {
        honorClaims();
        List<Integer> waiting = new ArrayList<>();
        for (int i = 0; i < ws.length; i++) {
            if (missing(i) > 0) {
                waiting.add(i);
            }
        }
        // Shares do not change in phase 1: nobody borrows more.
        waiting.sort(Comparator.<Integer>comparingDouble(i -> orgShare(org[i]))
                .thenComparingInt(i -> -ws[i].priority()).thenComparingInt(i -> i));
        List<Integer> next = new ArrayList<>();
        for (int i : waiting) {
            while (missing(i) > 0 && !lostReplicas.contains(i)) {
                boolean[] within = withinMask(i);
                int n = any(within) ? index.best(ws[i].gpusPerReplica(), ws[i].minMemoryMiB(), classRanks[i], within,
                        usedNodes(i)) : -1;
                if (n >= 0) {
                    admit(i, n);
                    continue;
                }
                if (!reclaim) {
                    break;
                }
                boolean[] reclaimable = reclaimMask(i, within);
                if (!any(reclaimable) || canBorrowNow(i)) {
                    break;
                }
                Plan p = plan(i, reclaimable);
                if (p == null) {
                    break;
                }
                apply(i, p);
            }
            if (preempting[i] == null && missing(i) > 0) {
                next.add(i);
            }
        }
        return next;
    }

    /**
     * Classes where a replica may preempt: it stays within nominal quota (or the commons), possibly once lower-priority
     * replicas of its own organization are gone.
     */
    private boolean[] reclaimMask(int i, boolean[] within) {
        boolean[] mask = within.clone();
        int o = org[i];
        int k = ws[i].gpusPerReplica();
        for (int c = 0; c < nc; c++) {
            if (allowed[i][c] && !mask[c] && quotaUsed[o][c] + k - book.nominal(o, c) <= ownLowerPriorityGpus(i, c)) {
                mask[c] = true;
            }
        }
        return mask;
    }

    /** GPUs of a class that running lower-priority replicas of the workload's organization count against its quota. */
    private int ownLowerPriorityGpus(int i, int c) {
        int total = 0;
        for (Slot slot : orgClassSlots.get(org[i]).get(c)) {
            Workload w = ws[slot.w];
            if (w.priority() < ws[i].priority() && !w.shared()) {
                total += slot.evictable() * w.gpusPerReplica();
            }
        }
        return total;
    }

    private boolean canBorrowNow(int i) {
        boolean[] mask = quotaMask(i);
        return any(mask) && index.best(ws[i].gpusPerReplica(), ws[i].minMemoryMiB(), classRanks[i], mask,
                usedNodes(i)) >= 0;
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Phase 2: borrowing, one replica at a time, lowest share first.

    private record Turn(int org, double share, int priority, int index) {
    }

    private void phase2(List<Integer> waiting) {
        Map<Integer, ArrayDeque<Integer>> queues = new HashMap<>();
        List<Integer> sorted = new ArrayList<>(waiting);
        sorted.sort(Comparator.<Integer>comparingInt(i -> -ws[i].priority()).thenComparingInt(i -> i));
        for (int i : sorted) {
            queues.computeIfAbsent(org[i], o -> new ArrayDeque<>()).add(i);
        }
        PriorityQueue<Turn> turns = new PriorityQueue<>(Comparator.comparingDouble(Turn::share)
                .thenComparingInt(t -> -t.priority()).thenComparingInt(Turn::index));
        for (ArrayDeque<Integer> q : queues.values()) {
            turns.add(turn(q.peek()));
        }
        while (!turns.isEmpty()) {
            Turn t = turns.poll();
            ArrayDeque<Integer> q = queues.get(t.org());
            int i = q.peek();
            if (!borrowOne(i)) {
                q.poll();
            }
            if (!q.isEmpty()) {
                turns.add(turn(q.peek()));
            }
        }
    }

    private Turn turn(int i) {
        return new Turn(org[i], shareWith(i), ws[i].priority(), i);
    }

    /** Places one more replica on idle GPUs; returns whether the workload may try another one in this cycle. */
    private boolean borrowOne(int i) {
        if (lostReplicas.contains(i)) {
            return false;
        }
        boolean[] mask = quotaMask(i);
        int n = any(mask) ? index.best(ws[i].gpusPerReplica(), ws[i].minMemoryMiB(), classRanks[i], mask,
                usedNodes(i)) : -1;
        if (n < 0) {
            return false;
        }
        admit(i, n);
        return missing(i) > 0;
    }

    /**
     * The weighted share the organization would have with one more replica of the workload, in the class where it
     * would be lowest (Kueue orders by the share with the workload admitted). Within nominal quota or the commons it is
     * the current share.
     */
    private double shareWith(int i) {
        int o = org[i];
        int k = ws[i].gpusPerReplica();
        double top1 = 0;
        double top2 = 0;
        int top1c = -1;
        for (int c = 0; c < nc; c++) {
            double r = Shares.classRatio(book, o, c, quotaUsed[o][c]);
            if (r > top1) {
                top2 = top1;
                top1 = r;
                top1c = c;
            } else if (r > top2) {
                top2 = r;
            }
        }
        double best = Double.NaN;
        for (int c = 0; c < nc; c++) {
            if (!allowed[i][c]) {
                continue;
            }
            double candidate;
            if (ws[i].shared() && commonsRoom(c) >= k) {
                candidate = Shares.weighted(top1, book.weight(o));
            } else {
                int after = quotaUsed[o][c] + k;
                int bl = book.borrowingLimit(o, c);
                if (bl != QuotaBook.UNLIMITED && after - book.nominal(o, c) > bl) {
                    continue;
                }
                double others = c == top1c ? top2 : top1;
                candidate = Shares.weighted(Math.max(others, Shares.classRatio(book, o, c, after)), book.weight(o));
            }
            if (Double.isNaN(best) || candidate < best) {
                best = candidate;
            }
        }
        return Double.isNaN(best) ? Shares.weighted(top1, book.weight(o)) : best;
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Quota.

    /** Nodes the workload has replicas on (NodeFit prefers them). */
    private List<Integer> usedNodes(int i) {
        List<Slot> slots = slotsOf.get(i);
        List<Integer> used = new ArrayList<>(slots.size());
        for (Slot slot : slots) {
            if (slot.count > 0) {
                used.add(slot.node);
            }
        }
        return used;
    }

    /** Replicas still to place or claim in this cycle. */
    private int missing(int i) {
        return waiting(i) - claimed[i];
    }

    /** Replicas the workload lacks: not running (some may have claimed GPUs being released). */
    private int waiting(int i) {
        Workload w = ws[i];
        return w.frozen() || passThrough[i] ? 0 : w.desiredReplicas() - running[i];
    }

    private int commonsRoom(int c) {
        return book.commons(c) - commonsUsed[c];
    }

    private boolean chargesCommons(int i, int c) {
        return ws[i].shared() && commonsRoom(c) >= ws[i].gpusPerReplica();
    }

    /** Allowed classes where one more replica stays within nominal quota (or the commons carries it). */
    private boolean[] withinMask(int i) {
        boolean[] mask = new boolean[nc];
        int o = org[i];
        int k = ws[i].gpusPerReplica();
        for (int c = 0; c < nc; c++) {
            mask[c] = allowed[i][c] && (chargesCommons(i, c) || quotaUsed[o][c] + k <= book.nominal(o, c));
        }
        return mask;
    }

    /** Allowed classes where the quota lets one more replica in now, within nominal or by borrowing. */
    private boolean[] quotaMask(int i) {
        boolean[] mask = new boolean[nc];
        for (int c = 0; c < nc; c++) {
            mask[c] = allowed[i][c] && quotaAllows(i, c);
        }
        return mask;
    }

    /** Whether the quota lets one more replica of the workload into class {@code c} now. */
    private boolean quotaAllows(int i, int c) {
        if (chargesCommons(i, c)) {
            return true;
        }
        int o = org[i];
        return book.allows(o, c, quotaUsed[o][c], ws[i].gpusPerReplica(), held[c], reservedSum[c]);
    }

    private void addQuota(int o, int c, int gpus) {
        reservedSum[c] -= book.reserved(o, c, quotaUsed[o][c]);
        quotaUsed[o][c] += gpus;
        reservedSum[c] += book.reserved(o, c, quotaUsed[o][c]);
        shareDirty[o] = true;
    }

    private double orgShare(int o) {
        if (shareDirty[o]) {
            share[o] = Shares.weightedShare(book, o, quotaUsed[o]);
            shareDirty[o] = false;
        }
        return share[o];
    }

    /** GPUs of a shared workload's running replicas in a class that count against its organization's quota. */
    private int sharedOrgRunningGpus(int i, int c) {
        int r = sharedRunning[i][c];
        return (r - Math.min(r, sharedCommons[i][c])) * ws[i].gpusPerReplica();
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Changes of state.

    private void setFree(int n, int value) {
        int before = free[n];
        free[n] = value;
        index.moved(n, before);
    }

    private void admit(int i, int n) {
        Workload w = ws[i];
        int k = w.gpusPerReplica();
        int c = cls[n];
        int o = org[i];
        setFree(n, free[n] - k);
        held[c] += k;
        if (w.shared()) {
            int before = sharedOrgRunningGpus(i, c);
            sharedRunning[i][c]++;
            if (commonsRoom(c) >= k) {
                sharedCommons[i][c]++;
                commonsUsed[c] += k;
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

    private void evict(Slot slot, int preemptor, String reason) {
        int v = slot.w;
        int n = slot.node;
        slot.count--;
        Workload w = ws[v];
        int k = w.gpusPerReplica();
        int c = cls[n];
        int o = org[v];
        int before = w.shared() ? sharedOrgRunningGpus(v, c) : k;
        running[v]--;
        lostReplicas.add(v);
        int leaving = k;
        if (w.shared()) {
            sharedRunning[v][c]--;
            leaving = before - sharedOrgRunningGpus(v, c);
        }
        runningOrg[o][c] -= leaving;
        addQuota(o, c, -leaving);
        soon[n] += k;
        releasing.set(n);
        Eviction last = evictions.isEmpty() ? null : evictions.get(evictions.size() - 1);
        NodeKey key = nodes.get(n).key();
        if (last != null && last.victim().equals(w.id()) && last.node().equals(key)
                && last.preemptor().equals(ws[preemptor].id())) {
            evictions.set(evictions.size() - 1,
                    new Eviction(w.id(), key, last.replicas() + 1, last.preemptor(), last.reason()));
        } else {
            evictions.add(new Eviction(w.id(), key, 1, ws[preemptor].id(), reason));
        }
    }

    /** The preemptor books the node's free GPUs and those being released; it is placed once they are free. */
    private void claim(int i, int n) {
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
        if (chargesCommons(i, c)) {
            commonsUsed[c] += k;
        } else {
            addQuota(org[i], c, k);
        }
        claimed[i]++;
        claims.computeIfAbsent(i, x -> new LinkedHashMap<>()).merge(n, 1, Integer::sum);
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Preemption.

    /** One replica that may be evicted. */
    private static final class Victim {
        final Slot slot;
        final int index;
        final Workload w;
        final int org;
        final boolean own;
        final double orgShare;

        Victim(Slot slot, Workload w, int org, boolean own, double orgShare) {
            this.slot = slot;
            this.index = slot.w;
            this.w = w;
            this.org = org;
            this.own = own;
            this.orgShare = orgShare;
        }
    }

    private static final class Plan {
        final int node;
        final int rank;
        final int have;
        final List<Victim> victims;
        final int evictedGpus;
        /** The least evictable victim, or null. */
        final Victim worst;

        Plan(int node, int rank, int have, List<Victim> victims, int evictedGpus) {
            this.node = node;
            this.rank = rank;
            this.have = have;
            this.victims = victims;
            this.evictedGpus = evictedGpus;
            this.worst = victims.isEmpty() ? null : Collections.max(victims, VICTIM_ORDER);
        }
    }

    /**
     * What a failed plan depends on. Within phase 1 a failure stays a failure: free GPUs and victims only decrease
     * (replicas placed in the cycle are not evictable) and the organization's quota usage only grows.
     */
    private record PlanKey(int org, int gpus, long minMemoryMiB, List<String> classes, int priority, boolean shared) {
    }

    /**
     * The best way to make room for one replica that stays within nominal quota (or the commons), on one node: GPUs
     * being released there first (no eviction), else the node whose victims are the most evictable, then the fewest
     * evicted GPUs, the most preferred class, the tightest fit and the node name. Victims, in order: lower-priority
     * replicas of the preemptor's own organization as far as its quota needs them gone, then borrowed replicas of other
     * organizations (highest weighted share first, then lowest priority, then newest), then more lower-priority
     * replicas of its own organization if the node still lacks room.
     */
    private Plan plan(int i, boolean[] mask) {
        Workload w = ws[i];
        PlanKey key = new PlanKey(org[i], w.gpusPerReplica(), w.minMemoryMiB(), w.allowedClasses(), w.priority(),
                w.shared());
        if (failedPlans.contains(key)) {
            return null;
        }
        // A plan without victims beats any other. The replica found no free node, so such a plan needs GPUs being
        // released: only nodes with stopping replicas can have one.
        Plan best = null;
        for (int n = releasing.nextSetBit(0); n >= 0; n = releasing.nextSetBit(n + 1)) {
            if (index.takes(n) && mask[cls[n]] && fits(w, n)) {
                Plan p = planOn(i, n, cls[n], classRank(i, cls[n]), null);
                if (p != null && p.victims.isEmpty() && better(p, best)) {
                    best = p;
                }
            }
        }
        if (best != null) {
            return best;
        }
        // Otherwise only nodes with replicas of borrowing organizations or lower-priority ones of its own can help.
        visit++;
        for (int c = 0; c < nc; c++) {
            if (!mask[c]) {
                continue;
            }
            int rank = classRank(i, c);
            for (int x = 0; x < orgClassSlots.size(); x++) {
                boolean mine = x == org[i];
                if (!mine && runningOrg[x][c] <= book.nominal(x, c)) {
                    continue;
                }
                for (Slot slot : orgClassSlots.get(x).get(c)) {
                    int n = slot.node;
                    if (visited[n] == visit || slot.evictable() == 0 || !index.takes(n) || !fits(w, n)
                            || (mine && ws[slot.w].priority() >= w.priority())) {
                        continue;
                    }
                    visited[n] = visit;
                    Plan p = planOn(i, n, c, rank, best);
                    if (p != null && better(p, best)) {
                        best = p;
                    }
                }
            }
        }
        if (best == null) {
            failedPlans.add(key);
        }
        return best;
    }

    /** Whether the node's GPUs are large enough and numerous enough for one replica (class and state aside). */
    private boolean fits(Workload w, int n) {
        return memoryMiB[n] >= w.minMemoryMiB() && gpus[n] >= w.gpusPerReplica();
    }

    private int classRank(int i, int c) {
        int[] ranks = classRanks[i];
        if (ranks == null) {
            return 0;
        }
        for (int r = 0; r < ranks.length; r++) {
            if (ranks[r] == c) {
                return r;
            }
        }
        return Integer.MAX_VALUE;
    }

    /** Replicas of one workload on one node. */
    private static final class Slot {
        final int w;
        final int node;
        int count;
        /** It got replicas on this node in this cycle. */
        boolean fresh;

        Slot(int w, int node, int count) {
            this.w = w;
            this.node = node;
            this.count = count;
        }

        /** Replicas that may be evicted: none where the workload got replicas in this cycle. */
        int evictable() {
            return fresh ? 0 : count;
        }
    }

    /**
     * The plan for one node, or null when there is none or it cannot be better than {@code best}: once a plan exists,
     * another node can only win with victims no worse than its worst one, and nothing beats a plan without victims.
     */
    private Plan planOn(int i, int n, int c, int rank, Plan best) {
        Workload w = ws[i];
        int k = w.gpusPerReplica();
        int a = org[i];
        int have = free[n] + soon[n];
        // GPUs of its own quota that must be freed first (lower-priority replicas of its organization).
        int quotaNeed = chargesCommons(i, c) ? 0 : Math.max(0, quotaUsed[a][c] + k - book.nominal(a, c));
        if (have >= k && quotaNeed == 0) {
            return new Plan(n, rank, have, List.of(), 0);
        }
        if (best != null && best.victims.isEmpty()) {
            return null;
        }
        Victim bar = best == null ? null : best.worst;
        // Upper bound first, to skip nodes cheaply: replicas of borrowing organizations and lower-priority own ones.
        int bound = have;
        int ownBound = 0;
        List<Slot> here = onNode.get(n);
        for (int j = 0; j < here.size(); j++) {
            Slot slot = here.get(j);
            int v = slot.w;
            int x = org[v];
            boolean mine = x == a;
            if (mine ? ws[v].priority() >= w.priority() : runningOrg[x][c] <= book.nominal(x, c)) {
                continue;
            }
            if (bar != null && worseThan(v, mine, bar)) {
                continue;
            }
            int gpus = slot.evictable() * ws[v].gpusPerReplica();
            bound += gpus;
            if (mine && !ws[v].shared()) {
                ownBound += gpus;
            }
        }
        if (bound < k || ownBound < quotaNeed) {
            return null;
        }
        List<Victim> cross = new ArrayList<>();
        List<Victim> own = new ArrayList<>();
        for (Slot slot : here) {
            int count = slot.evictable();
            if (count <= 0) {
                continue;
            }
            int v = slot.w;
            boolean mine = org[v] == a;
            if (mine ? ws[v].priority() >= w.priority() : runningOrg[org[v]][c] <= book.nominal(org[v], c)) {
                continue;
            }
            if (bar != null && worseThan(v, mine, bar)) {
                continue;
            }
            Victim victim = new Victim(slot, ws[v], org[v], mine, mine ? 0 : orgShare(org[v]));
            for (int r = 0; r < count; r++) {
                (mine ? own : cross).add(victim);
            }
        }
        cross.sort(VICTIM_ORDER);
        own.sort(VICTIM_ORDER);
        List<Victim> taken = new ArrayList<>();
        int evicted = 0;
        int quotaFreed = 0;
        int nextOwn = 0;
        while (quotaFreed < quotaNeed && nextOwn < own.size()) {
            Victim v = own.get(nextOwn++);
            taken.add(v);
            have += v.w.gpusPerReplica();
            evicted += v.w.gpusPerReplica();
            quotaFreed += v.w.shared() ? 0 : v.w.gpusPerReplica();
        }
        if (quotaFreed < quotaNeed) {
            return null;
        }
        // Within nominal quota once its own victims are gone: its share in this class is 0 (or that of the commons).
        double preemptorShare = chargesCommons(i, c) ? 0.0
                : Shares.weightedClassShare(book, a, c, quotaUsed[a][c] - quotaFreed + k);
        for (Victim v : cross) {
            if (have >= k) {
                break;
            }
            int kv = v.w.gpusPerReplica();
            int planned = plannedOrg[v.org];
            // Only a borrowed replica may go: its organization is above nominal quota in this class.
            if (runningOrg[v.org][c] - planned <= book.nominal(v.org, c)) {
                continue;
            }
            if (v.w.shared() && sharedOrgRunningGpus(v.index, c) - plannedWorkload[v.index] * kv <= 0) {
                continue;
            }
            double targetShare = Shares.weightedClassShare(book, v.org, c, quotaUsed[v.org][c] - planned - kv);
            if (!Shares.lessThanOrEqualToFinalShare(preemptorShare, targetShare)) {
                continue;
            }
            plannedOrg[v.org] += kv;
            plannedWorkload[v.index]++;
            taken.add(v);
            have += kv;
            evicted += kv;
        }
        for (Victim v : cross) {
            plannedOrg[v.org] = 0;
            plannedWorkload[v.index] = 0;
        }
        if (have < k) {
            // The greedy pass may have stopped an organization's evictions at a small replica that brought it back to
            // nominal quota, where evicting a larger one first would have made room: look for any set that does.
            List<Victim> complete = completeCrossVictims(cross, c, k - (have - (evicted - quotaFreedGpus(taken))),
                    preemptorShare);
            if (complete != null) {
                taken.removeIf(v -> !v.own);
                evicted = quotaFreedGpus(taken);
                have = free[n] + soon[n] + evicted;
                for (Victim v : complete) {
                    taken.add(v);
                    have += v.w.gpusPerReplica();
                    evicted += v.w.gpusPerReplica();
                }
            }
        }
        while (have < k && nextOwn < own.size()) {
            Victim v = own.get(nextOwn++);
            taken.add(v);
            have += v.w.gpusPerReplica();
            evicted += v.w.gpusPerReplica();
        }
        if (have < k) {
            return null;
        }
        return new Plan(n, rank, free[n] + soon[n], taken, evicted);
    }

    /** Whether a replica of workload {@code v} would come after {@code bar} in {@link #VICTIM_ORDER}. */
    private boolean worseThan(int v, boolean own, Victim bar) {
        if (own != bar.own) {
            return own;
        }
        int c = Double.compare(bar.orgShare, own ? 0 : orgShare(org[v]));
        if (c == 0) {
            c = Integer.compare(ws[v].priority(), bar.w.priority());
        }
        if (c == 0) {
            c = Long.compare(bar.w.arrival(), ws[v].arrival());
        }
        if (c == 0) {
            c = ws[v].id().compareTo(bar.w.id());
        }
        return c > 0;
    }

    /** GPUs of the own-organization victims among {@code taken}. */
    private static int quotaFreedGpus(List<Victim> taken) {
        int gpus = 0;
        for (Victim v : taken) {
            if (v.own) {
                gpus += v.w.gpusPerReplica();
            }
        }
        return gpus;
    }

    /**
     * A set of borrowed replicas of other organizations on one node that frees at least {@code need} GPUs, or null.
     * An organization may lose replicas as long as it is above nominal quota before each one goes, so the most it
     * can lose is found by letting its largest chosen replica go last: any set whose GPUs, less the largest, stay below
     * what it borrows. The set is then trimmed to what is needed, keeping the most evictable victims.
     */
    private List<Victim> completeCrossVictims(List<Victim> cross, int c, int need, double preemptorShare) {
        Map<Integer, List<Victim>> byOrg = new LinkedHashMap<>();
        for (Victim v : cross) {
            if (!v.w.shared()) {
                byOrg.computeIfAbsent(v.org, o -> new ArrayList<>()).add(v);
            }
        }
        List<Victim> chosen = new ArrayList<>();
        int total = 0;
        for (Map.Entry<Integer, List<Victim>> e : byOrg.entrySet()) {
            int x = e.getKey();
            int borrowed = runningOrg[x][c] - book.nominal(x, c);
            if (borrowed <= 0) {
                continue;
            }
            List<Victim> best = mostEvictable(e.getValue(), borrowed);
            int gpus = 0;
            for (Victim v : best) {
                gpus += v.w.gpusPerReplica();
            }
            if (Shares.lessThanOrEqualToFinalShare(preemptorShare,
                    Shares.weightedClassShare(book, x, c, quotaUsed[x][c] - gpus))) {
                total += gpus;
                chosen.addAll(best);
            }
        }
        if (total < need) {
            return null;
        }
        chosen.sort(VICTIM_ORDER);
        for (int j = chosen.size() - 1; j >= 0; j--) {
            int kv = chosen.get(j).w.gpusPerReplica();
            if (total - kv >= need) {
                total -= kv;
                chosen.remove(j);
            }
        }
        return chosen;
    }

    /** The replicas of one organization with the most GPUs such that their GPUs less the largest stay below budget. */
    private static List<Victim> mostEvictable(List<Victim> replicas, int borrowed) {
        List<Victim> bySize = new ArrayList<>(replicas);
        bySize.sort(Comparator.comparingInt((Victim v) -> -v.w.gpusPerReplica()));
        int cap = borrowed - 1;
        List<Victim> best = List.of();
        int bestTotal = 0;
        for (int last = 0; last < bySize.size(); last++) {
            // Subset sum over the smaller-or-equal replicas after it, up to cap GPUs.
            int m = bySize.size() - last - 1;
            int[] from = new int[cap + 1];
            Arrays.fill(from, -2);
            from[0] = -1;
            int[] reachedBy = new int[cap + 1];
            for (int j = 0; j < m; j++) {
                int size = bySize.get(last + 1 + j).w.gpusPerReplica();
                for (int sum = cap; sum >= size; sum--) {
                    if (from[sum] == -2 && from[sum - size] != -2) {
                        from[sum] = sum - size;
                        reachedBy[sum] = last + 1 + j;
                    }
                }
            }
            int top = cap;
            while (top > 0 && from[top] == -2) {
                top--;
            }
            int total = bySize.get(last).w.gpusPerReplica() + top;
            if (total > bestTotal) {
                List<Victim> set = new ArrayList<>();
                set.add(bySize.get(last));
                for (int sum = top; sum > 0; sum = from[sum]) {
                    set.add(bySize.get(reachedBy[sum]));
                }
                best = set;
                bestTotal = total;
            }
        }
        return best;
    }

    private static boolean better(Plan p, Plan best) {
        if (best == null) {
            return true;
        }
        boolean pz = p.victims.isEmpty();
        boolean bz = best.victims.isEmpty();
        if (pz != bz) {
            return pz;
        }
        if (!pz) {
            int cmp = VICTIM_ORDER.compare(p.worst, best.worst);
            if (cmp != 0) {
                return cmp < 0;
            }
            if (p.evictedGpus != best.evictedGpus) {
                return p.evictedGpus < best.evictedGpus;
            }
            if (p.victims.size() != best.victims.size()) {
                return p.victims.size() < best.victims.size();
            }
        }
        if (p.rank != best.rank) {
            return p.rank < best.rank;
        }
        if (p.have != best.have) {
            return p.have < best.have;
        }
        return p.node < best.node;
    }

    private void apply(int i, Plan p) {
        Workload w = ws[i];
        int n = p.node;
        int c = cls[n];
        String preemptorOrg = book.orgName(org[i]);
        for (Victim v : p.victims) {
            String reason;
            if (v.own) {
                reason = "preempted by " + w.id() + " of the same organization " + preemptorOrg + ": it has priority "
                        + w.priority() + ", higher than " + v.w.priority() + ", and needs the GPUs of node "
                        + nodes.get(n).key();
            } else {
                int borrowed = runningOrg[v.org][c] - book.nominal(v.org, c);
                reason = "reclaimed by org " + preemptorOrg + " for " + w.id() + ": org " + book.orgName(v.org)
                        + " borrows " + borrowed + " GPU(s) of class " + book.className(c)
                        + " beyond its nominal quota of " + book.nominal(v.org, c) + ", and " + w.id() + " needs "
                        + w.gpusPerReplica() + " GPU(s) of node " + nodes.get(n).key() + " within "
                        + (chargesCommons(i, c) ? "the commons" : preemptorOrg + "'s nominal quota");
            }
            evict(v.slot, i, reason);
        }
        claim(i, n);
        preempting[i] = p.victims.isEmpty() ? waitingMessage(i, n)
                : "Preempting " + p.victims.size() + " replica(s) on " + where(n) + " to free " + w.gpusPerReplica()
                        + " GPU(s); the replica starts once they have stopped.";
    }

    private String where(int n) {
        return nodes.get(n).key() + " (class " + book.className(cls[n]) + ")";
    }

    private String waitingMessage(int i, int n) {
        return "Waiting for " + ws[i].gpusPerReplica() + " GPU(s) on " + where(n)
                + " that stopping replicas still hold; the replica starts once they are released.";
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Result.

    private CycleResult result() {
        Map<WorkloadId, List<Assignment>> assignments = new LinkedHashMap<>();
        for (int i = 0; i < ws.length; i++) {
            if (passThrough[i]) {
                assignments.put(ws[i].id(), ws[i].assigned());
                continue;
            }
            List<Assignment> list = new ArrayList<>(slotsOf.get(i).size());
            for (Slot slot : slotsOf.get(i)) {
                if (slot.count > 0) {
                    PoolNode node = nodes.get(slot.node);
                    list.add(new Assignment(node.key(), node.gpuClass(), slot.count));
                }
            }
            assignments.put(ws[i].id(), Collections.unmodifiableList(list));
        }
        Map<WorkloadId, PendingReason> pending = new LinkedHashMap<>();
        Map<NodeKey, Integer> freeByKey = null;
        Map<List<Object>, PendingReason> noFit = new HashMap<>();
        for (int i = 0; i < ws.length; i++) {
            if (waiting(i) <= 0) {
                continue;
            }
            Workload w = ws[i];
            if (preempting[i] != null) {
                pending.put(w.id(), new PendingReason(PendingReason.PREEMPTING, preempting[i]));
                continue;
            }
            PendingReason quota = quotaReason(i);
            if (quota != null) {
                pending.put(w.id(), quota);
                continue;
            }
            if (freeByKey == null) {
                freeByKey = new HashMap<>(nodes.size() * 2);
                for (int n = 0; n < nodes.size(); n++) {
                    freeByKey.put(nodes.get(n).key(), free[n]);
                }
            }
            Map<NodeKey, Integer> f = freeByKey;
            int wi = i;
            pending.put(w.id(), noFit.computeIfAbsent(
                    List.of(w.gpusPerReplica(), w.minMemoryMiB(), w.allowedClasses()),
                    sig -> NodeFit.whyNoFit(w, relevantNodes(wi), f)));
        }
        Map<WorkloadId, List<Assignment>> out = new LinkedHashMap<>();
        for (Map.Entry<Integer, Map<Integer, Integer>> e : claims.entrySet()) {
            List<Assignment> list = new ArrayList<>();
            for (Map.Entry<Integer, Integer> c : e.getValue().entrySet()) {
                PoolNode node = nodes.get(c.getKey());
                list.add(new Assignment(node.key(), node.gpuClass(), c.getValue()));
            }
            out.put(ws[e.getKey()].id(), List.copyOf(list));
        }
        return new CycleResult(assignments, List.copyOf(evictions), pending, out);
    }

    /**
     * The nodes {@link NodeFit#whyNoFit} needs to look at for a workload: those of its allowed classes, and those of
     * no class (for its hint). The others never match, so its answer is the same as over all nodes.
     */
    private List<PoolNode> relevantNodes(int i) {
        if (classRanks[i] == null) {
            return nodes;
        }
        List<PoolNode> out = new ArrayList<>(unclassified);
        for (int c : classRanks[i]) {
            out.addAll(nodesOfClass.get(c));
        }
        return out;
    }

    /** QuotaExceeded when a node of an allowed class has room now and only the quota keeps the replica out. */
    private PendingReason quotaReason(int i) {
        Workload w = ws[i];
        int k = w.gpusPerReplica();
        int o = org[i];
        int[] order = classRanks[i];
        for (int r = 0; r < (order == null ? nc : order.length); r++) {
            int c = order == null ? r : order[r];
            if (!allowed[i][c] || !index.anyFit(k, w.minMemoryMiB(), c) || quotaAllows(i, c)) {
                continue;
            }
            int used = quotaUsed[o][c];
            int bl = book.borrowingLimit(o, c);
            String limit = bl == QuotaBook.UNLIMITED ? "none" : Integer.toString(bl);
            QuotaBook.Block block = book.quotaBlock(o, c, used, k, held[c], reservedSum[c]);
            String why = block == QuotaBook.Block.BORROWING_LIMIT
                    ? "a replica needs " + k + " more GPU(s), which would borrow " + (used + k - book.nominal(o, c))
                            + ", more than the limit"
                    : "the idle GPUs of the class are kept for other organizations' nominal quotas (lending limits)";
            String commons = w.shared() ? " The commons (" + book.commons(c) + " GPUs) is fully used." : "";
            return new PendingReason(PendingReason.QUOTA_EXCEEDED,
                    "Organization " + book.orgName(o) + " is at its quota for GpuClass " + book.className(c)
                            + ": nominal " + book.nominal(o, c) + " GPUs, used " + used + ", borrowing limit " + limit
                            + "; " + why + "." + commons);
        }
        return null;
    }

    private static boolean any(boolean[] mask) {
        for (boolean b : mask) {
            if (b) {
                return true;
            }
        }
        return false;
    }
}
