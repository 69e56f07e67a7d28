package io.gpupool.core.admission.preemption;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import io.gpupool.core.fairshare.CycleLedger;
import io.gpupool.core.fairshare.QuotaBook;
import io.gpupool.core.fairshare.QuotaRules;
import io.gpupool.core.fairshare.Shares;
import io.gpupool.core.model.Requirements;
import io.gpupool.core.model.Workload;

/**
 * Finds the best way to make room for one replica that stays within its organization's nominal quota (or the
 * commons), on one node (docs/fair-share.md §4): GPUs being released there first (no eviction), else the node whose
 * victims are the most evictable ({@link Plan#better}). Victims on a node, in order: lower-priority replicas of the
 * preemptor's own organization as far as its quota needs them gone, then borrowed replicas of other organizations in
 * {@link VictimOrder} (each only while its organization is still above nominal quota without the ones before it, and
 * only if Kueue's {@code LessThanOrEqualToFinalShare} holds), then, if the node still lacks room, more lower-priority
 * replicas of its own organization. "Without the ones before it" is asked of the ledger with
 * {@link CycleLedger#simulateRemoval}, undone before the planner returns: planning changes nothing.
 *
 * <p>
 * One planner serves one cycle: it remembers which demands found no plan. Within a phase a failure stays a failure:
 * free GPUs and victims only decrease (replicas placed in the cycle are not evictable) and quota usage only grows.
 */
public final class PreemptionPlanner {

    private final CycleLedger ledger;
    private final QuotaBook book;
    private final Set<PlanKey> failedPlans = new HashSet<>();
    private final int[] visited;
    private int visit;

    /** What a failed plan depends on. */
    private record PlanKey(int org, int gpus, long minMemoryMiB, List<String> classes, int priority, boolean shared,
            Requirements requirements) {
    }

    public PreemptionPlanner(CycleLedger ledger) {
        this.ledger = ledger;
        this.book = ledger.book();
        this.visited = new int[ledger.nodeCount()];
    }

    /**
     * @param i          the workload that needs one more replica
     * @param mask       classes where it may preempt (it stays within nominal quota there)
     * @param classRanks its allowed classes in preference order, or null when any class is allowed
     * @return the best plan, or null when no node can make room
     */
    public Plan plan(int i, boolean[] mask, int[] classRanks) {
        Workload w = ledger.workload(i);
        int a = ledger.orgOf(i);
        PlanKey key = new PlanKey(a, w.gpusPerReplica(), w.minMemoryMiB(), w.allowedClasses(), w.priority(),
                w.shared(), w.requirements());
        if (failedPlans.contains(key)) {
            return null;
        }
        // A plan without victims beats any other. The replica found no free node, so such a plan needs GPUs being
        // released: only nodes with stopping replicas can have one.
        Plan best = null;
        BitSet releasing = ledger.releasing();
        for (int n = releasing.nextSetBit(0); n >= 0; n = releasing.nextSetBit(n + 1)) {
            int c = ledger.classOf(n);
            if (ledger.takes(n) && mask[c] && ledger.fits(w, n)) {
                Plan p = planOn(i, n, c, classRank(classRanks, c), null);
                if (p != null && p.victims().isEmpty() && p.better(best)) {
                    best = p;
                }
            }
        }
        if (best != null) {
            return best;
        }
        // Otherwise only nodes with replicas of borrowing organizations or lower-priority ones of its own can help.
        visit++;
        for (int c = 0; c < ledger.classCount(); c++) {
            if (!mask[c]) {
                continue;
            }
            int rank = classRank(classRanks, c);
            for (int x = 0; x < book.orgCount(); x++) {
                boolean mine = x == a;
                if (!mine && !QuotaRules.borrowing(ledger.runningOrg(x, c), book.nominal(x, c))) {
                    continue;
                }
                for (CycleLedger.Slot slot : ledger.slotsOf(x, c)) {
                    int n = slot.node();
                    if (visited[n] == visit || ledger.evictable(slot) == 0 || !ledger.takes(n) || !ledger.fits(w, n)
                            || (mine && !yields(slot.workload(), i, w.priority()))) {
                        continue;
                    }
                    visited[n] = visit;
                    Plan p = planOn(i, n, c, rank, best);
                    if (p != null && p.better(best)) {
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

    /** A class's place in the workload's preference order (0 when any class is allowed). */
    static int classRank(int[] ranks, int c) {
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

    /**
     * Whether a replica may go: another organization's only while it borrows, its own only if lower priority or
     * elastic.
     */
    private boolean eligible(CycleLedger.Slot slot, int c, int preemptor, int preemptorOrg, int preemptorPriority) {
        int x = ledger.orgOf(slot.workload());
        return x == preemptorOrg ? yields(slot.workload(), preemptor, preemptorPriority)
                : QuotaRules.borrowing(ledger.runningOrg(x, c), book.nominal(x, c));
    }

    /** Whether replicas of workload {@code v} of the preemptor's organization yield to it: lower priority, or elastic. */
    private boolean yields(int v, int preemptor, int preemptorPriority) {
        Workload victim = ledger.workload(v);
        return victim.priority() < preemptorPriority || (v != preemptor && elastic(v) > 0);
    }

    /** Elastic replicas of a workload that run now. */
    private int elastic(int v) {
        return ledger.workload(v).elastic(ledger.running(v));
    }

    /**
     * The plan for one node, or null when there is none or it cannot be better than {@code best}: once a plan exists,
     * another node can only win with victims no worse than its worst one, and nothing beats a plan without victims.
     */
    private Plan planOn(int i, int n, int c, int rank, Plan best) {
        Workload w = ledger.workload(i);
        int k = w.gpusPerReplica();
        int a = ledger.orgOf(i);
        int have = ledger.free(n) + ledger.soon(n);
        boolean commons = ledger.chargesCommons(i, c);
        // GPUs of its own quota that must be freed first (lower-priority replicas of its organization).
        int quotaNeed = commons ? 0 : Math.max(0, ledger.quotaUsed(a, c) + k - book.nominal(a, c));
        if (have >= k && quotaNeed == 0) {
            return new Plan(n, rank, have, List.of(), 0);
        }
        if (best != null && best.victims().isEmpty()) {
            return null;
        }
        Candidate bar = best == null ? null : best.worst();
        // Upper bound first, to skip nodes cheaply: replicas of borrowing organizations and lower-priority own ones.
        int bound = have;
        int ownBound = 0;
        List<CycleLedger.Slot> here = ledger.onNode(n);
        for (int j = 0; j < here.size(); j++) {
            CycleLedger.Slot slot = here.get(j);
            if (!eligible(slot, c, i, a, w.priority())) {
                continue;
            }
            Workload v = ledger.workload(slot.workload());
            boolean mine = ledger.orgOf(slot.workload()) == a;
            if (bar != null && VictimOrder.after(elastic(slot.workload()) > 0, mine,
                    mine ? 0 : ledger.orgShare(ledger.orgOf(slot.workload())), v, bar)) {
                continue;
            }
            int gpus = ledger.evictable(slot) * v.gpusPerReplica();
            bound += gpus;
            if (mine && !v.shared()) {
                ownBound += gpus;
            }
        }
        if (bound < k || ownBound < quotaNeed) {
            return null;
        }
        List<Candidate> cross = new ArrayList<>();
        List<Candidate> own = new ArrayList<>();
        for (CycleLedger.Slot slot : here) {
            int count = ledger.evictable(slot);
            if (count <= 0) {
                continue;
            }
            if (!eligible(slot, c, i, a, w.priority())) {
                continue;
            }
            Workload v = ledger.workload(slot.workload());
            int x = ledger.orgOf(slot.workload());
            boolean mine = x == a;
            double share = mine ? 0 : ledger.orgShare(x);
            // Up to its elastic count, this workload's replicas here go as elastic ones (most evictable).
            int elastic = Math.min(count, elastic(slot.workload()));
            if (bar != null && VictimOrder.after(elastic > 0, mine, share, v, bar)) {
                continue;
            }
            Candidate asElastic = new Candidate(slot, v, x, mine, share, true);
            Candidate asGuaranteed = new Candidate(slot, v, x, mine, share, false);
            boolean ownGuaranteedYields = !mine || v.priority() < w.priority();
            for (int r = 0; r < count; r++) {
                if (r < elastic) {
                    (mine ? own : cross).add(asElastic);
                } else if (ownGuaranteedYields) {
                    (mine ? own : cross).add(asGuaranteed);
                }
            }
        }
        cross.sort(VictimOrder.ORDER);
        own.sort(VictimOrder.ORDER);
        List<Candidate> taken = new ArrayList<>();
        int evicted = 0;
        int quotaFreed = 0;
        int nextOwn = 0;
        while (quotaFreed < quotaNeed && nextOwn < own.size()) {
            Candidate v = own.get(nextOwn++);
            taken.add(v);
            have += v.gpus();
            evicted += v.gpus();
            quotaFreed += v.w().shared() ? 0 : v.gpus();
        }
        if (quotaFreed < quotaNeed) {
            return null;
        }
        // Within nominal quota once its own victims are gone: its share in this class is 0 (or that of the commons).
        double preemptorShare = commons ? 0.0
                : Shares.weightedClassShare(book, a, c, ledger.quotaUsed(a, c) - quotaFreed + k);
        List<CycleLedger.Undo> undo = new ArrayList<>();
        for (Candidate v : cross) {
            if (have >= k) {
                break;
            }
            // Only a borrowed replica may go: its organization is above nominal quota without the ones chosen before.
            if (!QuotaRules.borrowing(ledger.runningOrg(v.org(), c), book.nominal(v.org(), c))
                    || (v.w().shared() && ledger.sharedOrgRunningGpus(v.workload(), c) <= 0)
                    || !mayLose(v.org(), c, v.gpus(), preemptorShare)) {
                continue;
            }
            undo.add(ledger.simulateRemoval(v.slot()));
            taken.add(v);
            have += v.gpus();
            evicted += v.gpus();
        }
        for (int u = undo.size() - 1; u >= 0; u--) {
            undo.get(u).undo();
        }
        if (have < k) {
            // The greedy pass may have stopped an organization's evictions at a small replica that brought it back to
            // nominal quota, where evicting a larger one first would have made room: look for any set that does.
            List<Candidate> complete = MinimalVictimSet.find(cross, k - (have - (evicted - ownGpus(taken))),
                    new MinimalVictimSet.Budget() {
                        @Override
                        public int borrowed(int org) {
                            return ledger.runningOrg(org, c) - book.nominal(org, c);
                        }

                        @Override
                        public boolean mayLose(int org, int gpus) {
                            return PreemptionPlanner.this.mayLose(org, c, gpus, preemptorShare);
                        }
                    });
            if (complete != null) {
                taken.removeIf(v -> !v.own());
                evicted = ownGpus(taken);
                have = ledger.free(n) + ledger.soon(n) + evicted;
                for (Candidate v : complete) {
                    taken.add(v);
                    have += v.gpus();
                    evicted += v.gpus();
                }
            }
        }
        while (have < k && nextOwn < own.size()) {
            Candidate v = own.get(nextOwn++);
            taken.add(v);
            have += v.gpus();
            evicted += v.gpus();
        }
        if (have < k) {
            return null;
        }
        return new Plan(n, rank, ledger.free(n) + ledger.soon(n), taken, evicted);
    }

    /**
     * Kueue's {@code LessThanOrEqualToFinalShare}: an organization may lose GPUs only if the preemptor's share with
     * its new replica stays at most the victim organization's share without them.
     */
    private boolean mayLose(int org, int c, int gpus, double preemptorShare) {
        return Shares.lessThanOrEqualToFinalShare(preemptorShare,
                Shares.weightedClassShare(book, org, c, ledger.quotaUsed(org, c) - gpus));
    }

    /** GPUs of the own-organization victims among {@code taken}. */
    private static int ownGpus(List<Candidate> taken) {
        int gpus = 0;
        for (Candidate v : taken) {
            if (v.own()) {
                gpus += v.gpus();
            }
        }
        return gpus;
    }
}
