package io.gpupool.core.admission;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.function.IntPredicate;

import io.gpupool.core.admission.preemption.Candidate;
import io.gpupool.core.admission.preemption.Plan;
import io.gpupool.core.admission.preemption.PreemptionPlanner;
import io.gpupool.core.fairshare.CycleLedger;
import io.gpupool.core.fairshare.QuotaBook;
import io.gpupool.core.fairshare.QuotaRules;
import io.gpupool.core.fairshare.Shares;
import io.gpupool.core.model.Assignment;
import io.gpupool.core.model.CycleResult;
import io.gpupool.core.model.Eviction;
import io.gpupool.core.model.NodeKey;
import io.gpupool.core.model.PendingReason;
import io.gpupool.core.model.PoolNode;
import io.gpupool.core.model.PoolSnapshot;
import io.gpupool.core.model.Requirements;
import io.gpupool.core.model.Workload;
import io.gpupool.core.model.WorkloadId;

/**
 * One cycle of {@link FairShareAdmission} (Kueue's {@code pkg/scheduler}): the order in which replicas are
 * considered and where each goes. What is used where lives in the {@link CycleLedger}, the quota rules in
 * {@link QuotaRules}, preemption in {@link PreemptionPlanner}, and the sentences in {@link Explainer}. Used once.
 *
 * <p>
 * The cycle:
 * <ol>
 * <li>keeps what may stay ({@link CycleStart#keepValid}); the ledger holds the GPUs of draining replicas and of
 * replicas it takes away until their pods are gone;</li>
 * <li>honours the claims of the previous cycle: GPUs freed by a preemption go to the preemptor;</li>
 * <li>phase 1: replicas that stay within their organization's nominal quota (or, for shared models, within the
 * commons), the organization with the lowest weighted share first, then higher priority. A replica that finds no free
 * node, and could not borrow elsewhere either, preempts on one node, claims the node's GPUs and waits
 * ({@code Preempting}) until the evicted pods are gone;</li>
 * <li>phase 2: everything else borrows idle GPUs, one replica at a time, the organization whose weighted share would
 * be lowest with the replica first. Nobody is evicted to borrow;</li>
 * <li>explains every replica that still waits.</li>
 * </ol>
 */
final class FairShareCycle {

    private final CycleLedger ledger;
    private final QuotaBook book;
    private final boolean reclaim;
    private final int nc;
    private final FreeGpuIndex index;
    private final PreemptionPlanner planner;
    /** Per organization, the part of its borrowing order that comes from its usage history (0 without memory). */
    private final double[] history;

    private final int[][] classRanks;
    private final boolean[][] allowed;
    private final int[] claimed;
    private final Reasons.Waiting[] preempting;
    /**
     * Workloads that lost replicas in this cycle get none placed, and none of a workload's replicas on a node where it
     * got replicas in this cycle is evicted ({@link CycleLedger.Slot#evictable}), so a result never both removes and
     * adds replicas of one workload on one node.
     */
    private final Set<Integer> lostReplicas = new HashSet<>();
    private final List<Evicted> evictions = new ArrayList<>();
    /** Claims of this cycle, per workload and node. */
    private final Map<Integer, Map<Integer, Integer>> claims = new LinkedHashMap<>();

    /** Replicas of a workload evicted from a node for one preemptor, and why (the first victim's reason). */
    private record Evicted(WorkloadId victim, NodeKey node, int replicas, WorkloadId preemptor,
            Reasons.Evicted reason) {
    }

    FairShareCycle(PoolSnapshot snapshot) {
        book = QuotaBook.of(snapshot);
        reclaim = book.policy().reclaim();
        nc = book.classCount();
        ledger = CycleLedger.load(book, snapshot, CycleStart::keepValid);
        int nw = ledger.workloadCount();
        claimed = new int[nw];
        preempting = new Reasons.Waiting[nw];
        classRanks = new int[nw][];
        allowed = new boolean[nw][];
        for (int i = 0; i < nw; i++) {
            List<String> names = ledger.workload(i).allowedClasses();
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
        history = history(book);
        index = new FreeGpuIndex(ledger.nodes(), ledger.classes(), nc, ledger.freeGpus());
        ledger.onFreeChange(index::moved);
        planner = new PreemptionPlanner(ledger);
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
        for (int i = 0; i < ledger.workloadCount(); i++) {
            for (Assignment claim : ledger.workload(i).claimed()) {
                Integer n = ledger.nodeIndex(claim.node());
                if (n != null && !ledger.passThrough(i)) {
                    honorClaim(i, n, claim.replicas());
                }
            }
        }
    }

    private void honorClaim(int i, int n, int replicas) {
        Workload w = ledger.workload(i);
        int k = w.gpusPerReplica();
        for (int r = 0; r < replicas; r++) {
            if (missingGuaranteed(i) <= 0 || lostReplicas.contains(i) || !index.takes(n) || !NodeFit.matches(w, ledger.node(n))
                    || !reclaimMask(i, withinMask(i))[ledger.classOf(n)]) {
                return;
            }
            if (ledger.free(n) >= k) {
                ledger.admit(i, n);
            } else if (ledger.free(n) + ledger.soon(n) >= k) {
                claim(i, n);
                preempting[i] = new Reasons.WaitingForRelease(k, ledger.node(n).key(), className(n));
            } else {
                return;
            }
        }
    }

    private List<Integer> phase1() {
        honorClaims();
        List<Integer> waiting = new ArrayList<>();
        for (int i = 0; i < ledger.workloadCount(); i++) {
            if (missing(i) > 0) {
                waiting.add(i);
            }
        }
        // Shares do not change in phase 1: nobody borrows more.
        waiting.sort(Comparator.<Integer>comparingDouble(i -> ledger.orgShare(ledger.orgOf(i)))
                .thenComparingInt(i -> -ledger.workload(i).priority()).thenComparingInt(i -> i));
        List<Integer> next = new ArrayList<>();
        for (int i : waiting) {
            Workload w = ledger.workload(i);
            // Elastic replicas (above the guaranteed ones) are left to phase 2: they borrow, they never preempt.
            while (missingGuaranteed(i) > 0 && !lostReplicas.contains(i)) {
                boolean[] within = withinMask(i);
                int n = any(within) ? best(i, within) : -1;
                if (n >= 0) {
                    ledger.admit(i, n);
                    continue;
                }
                if (!reclaim) {
                    break;
                }
                boolean[] reclaimable = reclaimMask(i, within);
                if (!any(reclaimable) || canBorrowNow(i)) {
                    break;
                }
                Plan p = planner.plan(i, reclaimable, classRanks[i]);
                if (p == null) {
                    break;
                }
                preempt(i, p);
            }
            if (preempting[i] == null && missing(i) > 0) {
                next.add(i);
            }
        }
        return next;
    }

    /**
     * The best node with free GPUs for one more replica of workload {@code i} in the classes of the mask, or -1: only
     * nodes whose owners consent to what it does and in clusters it may run in ({@link NodeFit#matches}).
     */
    private int best(int i, boolean[] mask) {
        Workload w = ledger.workload(i);
        IntPredicate admits = w.requirements().equals(Requirements.NONE) ? null
                : n -> w.requirements().admits(ledger.node(n));
        return index.best(w.gpusPerReplica(), w.minMemoryMiB(), classRanks[i], mask, ledger.usedNodes(i), admits);
    }

    private boolean canBorrowNow(int i) {
        Workload w = ledger.workload(i);
        boolean[] mask = quotaMask(i);
        return any(mask) && best(i, mask) >= 0;
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Phase 2: borrowing, one replica at a time, lowest share first.

    private record Turn(int org, double share, int priority, int index) {
    }

    private void phase2(List<Integer> waiting) {
        Map<Integer, ArrayDeque<Integer>> queues = new HashMap<>();
        List<Integer> sorted = new ArrayList<>(waiting);
        sorted.sort(Comparator.<Integer>comparingInt(i -> -ledger.workload(i).priority()).thenComparingInt(i -> i));
        for (int i : sorted) {
            queues.computeIfAbsent(ledger.orgOf(i), o -> new ArrayDeque<>()).add(i);
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
        int o = ledger.orgOf(i);
        return new Turn(o, shareWith(i) + history[o], ledger.workload(i).priority(), i);
    }

    /**
     * Fairness with memory: each organization's decayed net usage as a share, added to its weighted share when it
     * borrows. Normalized by what using the whole pool's value-weighted capacity for ever, beyond what one
     * contributes, would accumulate ({@code capacity × half-life / ln 2}): 1 for such an organization, negative for
     * one that contributed more than it used. Divided by the weight, like the share.
     */
    private static double[] history(QuotaBook book) {
        double[] out = new double[book.orgCount()];
        double halfLife = book.policy().usageHalfLifeHours();
        if (halfLife <= 0) {
            return out;
        }
        double capacity = 0;
        for (int c = 0; c < book.classCount(); c++) {
            capacity += book.value(c) * book.capacity(c);
        }
        double scale = Math.max(1e-9, capacity * halfLife / Math.log(2));
        for (int o = 0; o < out.length; o++) {
            double h = book.decayedNetUsage(o) / scale;
            out[o] = book.weight(o) > 0 ? h / book.weight(o) : (h > 0 ? Double.POSITIVE_INFINITY : 0);
        }
        return out;
    }

    /** Places one more replica on idle GPUs; returns whether the workload may try another one in this cycle. */
    private boolean borrowOne(int i) {
        if (lostReplicas.contains(i)) {
            return false;
        }
        Workload w = ledger.workload(i);
        boolean[] mask = quotaMask(i);
        int n = any(mask) ? best(i, mask) : -1;
        if (n < 0) {
            return false;
        }
        ledger.admit(i, n);
        return missing(i) > 0;
    }

    /**
     * The weighted share the organization would have with one more replica of the workload, in the class where it
     * would be lowest (Kueue orders by the share with the workload admitted). Within nominal quota or the commons it is
     * the current share.
     */
    private double shareWith(int i) {
        int o = ledger.orgOf(i);
        int k = ledger.workload(i).gpusPerReplica();
        double top1 = 0;
        double top2 = 0;
        int top1c = -1;
        for (int c = 0; c < nc; c++) {
            double r = Shares.classRatio(book, o, c, ledger.quotaUsed(o, c));
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
            if (ledger.workload(i).shared() && ledger.commonsRoom(c) >= k) {
                candidate = Shares.weighted(top1, book.weight(o));
            } else {
                if (!QuotaRules.withinBorrowingLimit(ledger.quotaUsed(o, c), k, book.nominal(o, c),
                        book.borrowingLimit(o, c))) {
                    continue;
                }
                double others = c == top1c ? top2 : top1;
                candidate = Shares.weighted(Math.max(others,
                        Shares.classRatio(book, o, c, ledger.quotaUsed(o, c) + k)), book.weight(o));
            }
            if (Double.isNaN(best) || candidate < best) {
                best = candidate;
            }
        }
        return Double.isNaN(best) ? Shares.weighted(top1, book.weight(o)) : best;
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Quota: which classes the rules let one more replica into.

    /** Replicas still to place or claim in this cycle. */
    private int missing(int i) {
        return waiting(i) - claimed[i];
    }

    /** Of the replicas still to place, those that are not elastic (phase 1 places and reclaims only these). */
    private int missingGuaranteed(int i) {
        Workload w = ledger.workload(i);
        return Math.min(missing(i), w.guaranteedReplicas() - ledger.running(i) - claimed[i]);
    }

    /** Replicas the workload lacks: not running (some may have claimed GPUs being released). */
    private int waiting(int i) {
        Workload w = ledger.workload(i);
        return w.frozen() || ledger.passThrough(i) ? 0 : w.desiredReplicas() - ledger.running(i);
    }

    /** Allowed classes where one more replica stays within nominal quota (or the commons carries it). */
    private boolean[] withinMask(int i) {
        boolean[] mask = new boolean[nc];
        int o = ledger.orgOf(i);
        int k = ledger.workload(i).gpusPerReplica();
        for (int c = 0; c < nc; c++) {
            mask[c] = allowed[i][c] && (ledger.chargesCommons(i, c)
                    || QuotaRules.withinNominal(ledger.quotaUsed(o, c), k, book.nominal(o, c)));
        }
        return mask;
    }

    /**
     * Classes where a replica may preempt: it stays within nominal quota (or the commons), possibly once lower-priority
     * or elastic replicas of its own organization are gone.
     */
    private boolean[] reclaimMask(int i, boolean[] within) {
        boolean[] mask = within.clone();
        int o = ledger.orgOf(i);
        int k = ledger.workload(i).gpusPerReplica();
        for (int c = 0; c < nc; c++) {
            if (allowed[i][c] && !mask[c] && QuotaRules.mayReclaim(ledger.quotaUsed(o, c), k, book.nominal(o, c),
                    ownLowerPriorityGpus(i, c))) {
                mask[c] = true;
            }
        }
        return mask;
    }

    /**
     * GPUs of a class that running replicas of the workload's organization which yield to it count against its quota:
     * its lower-priority replicas, and its elastic replicas of any priority (they give GPUs back first).
     */
    private int ownLowerPriorityGpus(int i, int c) {
        int total = 0;
        int priority = ledger.workload(i).priority();
        Map<Integer, Integer> elasticLeft = null;
        for (CycleLedger.Slot slot : ledger.slotsOf(ledger.orgOf(i), c)) {
            int v = slot.workload();
            Workload w = ledger.workload(v);
            if (w.shared()) {
                continue;
            }
            int evictable = ledger.evictable(slot);
            int yielding;
            if (w.priority() < priority) {
                yielding = evictable;
            } else if (v == i || w.guaranteedReplicas() >= w.desiredReplicas() && w.elastic(ledger.running(v)) == 0) {
                yielding = 0;
            } else {
                // A workload's elastic replicas may be on several nodes: count each once.
                if (elasticLeft == null) {
                    elasticLeft = new HashMap<>();
                }
                int left = elasticLeft.computeIfAbsent(v, x -> w.elastic(ledger.running(x)));
                yielding = Math.min(evictable, left);
                elasticLeft.put(v, left - yielding);
            }
            total += yielding * w.gpusPerReplica();
        }
        return total;
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
        if (ledger.chargesCommons(i, c)) {
            return true;
        }
        int o = ledger.orgOf(i);
        return book.allows(o, c, ledger.quotaUsed(o, c), ledger.workload(i).gpusPerReplica(), ledger.held(c),
                ledger.reservedSum(c));
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Preemption: evict what the plan says, claim the node.

    private void preempt(int i, Plan p) {
        Workload w = ledger.workload(i);
        int n = p.node();
        int c = ledger.classOf(n);
        NodeKey node = ledger.node(n).key();
        String preemptorOrg = book.orgName(ledger.orgOf(i));
        for (Candidate v : p.victims()) {
            // Said before the victim goes: what its organization borrows with it.
            Reasons.Evicted why = v.own() && v.w().priority() >= w.priority()
                    ? new Reasons.ElasticGivenBack(w.id(), preemptorOrg, node)
                    : v.own() ? new Reasons.Outranked(w.id(), preemptorOrg, w.priority(), v.w().priority(), node)
                    : new Reasons.Reclaimed(preemptorOrg, w.id(), book.orgName(v.org()),
                            ledger.runningOrg(v.org(), c) - book.nominal(v.org(), c), book.className(c),
                            book.nominal(v.org(), c), w.gpusPerReplica(), node, ledger.chargesCommons(i, c));
            ledger.remove(v.slot());
            lostReplicas.add(v.workload());
            Evicted last = evictions.isEmpty() ? null : evictions.get(evictions.size() - 1);
            if (last != null && last.victim().equals(v.w().id()) && last.node().equals(node)
                    && last.preemptor().equals(w.id())) {
                evictions.set(evictions.size() - 1,
                        new Evicted(last.victim(), node, last.replicas() + 1, w.id(), last.reason()));
            } else {
                evictions.add(new Evicted(v.w().id(), node, 1, w.id(), why));
            }
        }
        claim(i, n);
        preempting[i] = p.victims().isEmpty()
                ? new Reasons.WaitingForRelease(w.gpusPerReplica(), node, className(n))
                : new Reasons.Preempting(p.victims().size(), node, className(n), w.gpusPerReplica());
    }

    /** The preemptor books the node's free GPUs and those being released; it is placed once they are free. */
    private void claim(int i, int n) {
        ledger.reserveFor(i, n, ledger.chargesCommons(i, ledger.classOf(n)));
        claimed[i]++;
        claims.computeIfAbsent(i, x -> new LinkedHashMap<>()).merge(n, 1, Integer::sum);
    }

    private String className(int n) {
        return book.className(ledger.classOf(n));
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Result.

    private CycleResult result() {
        Map<WorkloadId, List<Assignment>> assignments = new LinkedHashMap<>();
        for (int i = 0; i < ledger.workloadCount(); i++) {
            Workload w = ledger.workload(i);
            if (ledger.passThrough(i)) {
                assignments.put(w.id(), w.assigned());
                continue;
            }
            List<Assignment> list = new ArrayList<>(ledger.slotsOf(i).size());
            for (CycleLedger.Slot slot : ledger.slotsOf(i)) {
                if (slot.count() > 0) {
                    PoolNode node = ledger.node(slot.node());
                    list.add(new Assignment(node.key(), node.gpuClass(), slot.count()));
                }
            }
            assignments.put(w.id(), Collections.unmodifiableList(list));
        }
        Map<WorkloadId, PendingReason> pending = new LinkedHashMap<>();
        Map<NodeKey, Integer> freeByKey = null;
        // Workloads that need the same kind of node wait for the same reason: explained once.
        Map<List<Object>, PendingReason> noFit = new HashMap<>();
        for (int i = 0; i < ledger.workloadCount(); i++) {
            if (waiting(i) <= 0) {
                continue;
            }
            Workload w = ledger.workload(i);
            Reasons.Waiting why = preempting[i] != null ? preempting[i] : quotaReason(i);
            if (why != null) {
                pending.put(w.id(), Explainer.pending(why));
                continue;
            }
            if (freeByKey == null) {
                freeByKey = new HashMap<>(ledger.nodeCount() * 2);
                for (int n = 0; n < ledger.nodeCount(); n++) {
                    freeByKey.put(ledger.node(n).key(), ledger.free(n));
                }
            }
            Map<NodeKey, Integer> f = freeByKey;
            int wi = i;
            pending.put(w.id(), noFit.computeIfAbsent(List.of(w.gpusPerReplica(), w.minMemoryMiB(),
                    w.allowedClasses()), sig -> Explainer.pending(NodeFit.whyNoFit(w, relevantNodes(wi), f))));
        }
        Map<WorkloadId, List<Assignment>> out = new LinkedHashMap<>();
        for (Map.Entry<Integer, Map<Integer, Integer>> e : claims.entrySet()) {
            List<Assignment> list = new ArrayList<>();
            for (Map.Entry<Integer, Integer> c : e.getValue().entrySet()) {
                PoolNode node = ledger.node(c.getKey());
                list.add(new Assignment(node.key(), node.gpuClass(), c.getValue()));
            }
            out.put(ledger.workload(e.getKey()).id(), List.copyOf(list));
        }
        List<Eviction> evicted = new ArrayList<>(evictions.size());
        for (Evicted e : evictions) {
            evicted.add(new Eviction(e.victim(), e.node(), e.replicas(), e.preemptor(),
                    Explainer.eviction(e.reason())));
        }
        return new CycleResult(assignments, List.copyOf(evicted), pending, out);
    }

    /**
     * The nodes {@link NodeFit#whyNoFit} needs to look at for a workload: those of its allowed classes, and those of
     * no class (for its hint). The others never match, so its answer is the same as over all nodes.
     */
    private List<PoolNode> relevantNodes(int i) {
        if (classRanks[i] == null) {
            return ledger.nodes();
        }
        List<PoolNode> out = new ArrayList<>(ledger.unclassified());
        for (int c : classRanks[i]) {
            out.addAll(ledger.nodesOfClass(c));
        }
        return out;
    }

    /** QuotaExceeded when a node of an allowed class has room now and only the quota keeps the replica out. */
    private Reasons.Waiting quotaReason(int i) {
        Workload w = ledger.workload(i);
        int k = w.gpusPerReplica();
        int o = ledger.orgOf(i);
        int[] order = classRanks[i];
        for (int r = 0; r < (order == null ? nc : order.length); r++) {
            int c = order == null ? r : order[r];
            if (!allowed[i][c] || !index.anyFit(k, w.minMemoryMiB(), c) || quotaAllows(i, c)) {
                continue;
            }
            int used = ledger.quotaUsed(o, c);
            return new Reasons.QuotaExceeded(book.orgName(o), book.className(c), book.nominal(o, c), used,
                    book.borrowingLimit(o, c), book.quotaBlock(o, c, used, k, ledger.held(c), ledger.reservedSum(c)),
                    k, w.shared(), book.commons(c));
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
