package io.gpupool.core.admission.preemption;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The search for a set of borrowed replicas of other organizations on one node that frees enough GPUs, when taking
 * them in {@link VictimOrder} stopped short: an organization's evictions stop once it is back at its nominal quota,
 * and a small replica that brings it there can block a larger one that would have made room. An organization may lose
 * replicas as long as it is above nominal quota before each one goes, so the most it can lose is found by letting its
 * largest chosen replica go last: any set whose GPUs, less the largest, stay below what it borrows. The union over
 * organizations is then trimmed to what is needed, keeping the most evictable victims.
 */
public final class MinimalVictimSet {

    /** What each organization may lose. */
    public interface Budget {

        /** GPUs the organization uses beyond its nominal quota in the class (0 or less: it borrows nothing). */
        int borrowed(int org);

        /** Whether it may lose that many GPUs without its share dropping below the preemptor's (no ping-pong). */
        boolean mayLose(int org, int gpus);
    }

    private MinimalVictimSet() {
    }

    /**
     * @param cross borrowed replicas of other organizations on the node, one entry per replica
     * @param need  GPUs still to free
     * @return victims that free at least {@code need} GPUs, in {@link VictimOrder}, or null when there are none
     */
    public static List<Candidate> find(List<Candidate> cross, int need, Budget budget) {
        Map<Integer, List<Candidate>> byOrg = new LinkedHashMap<>();
        for (Candidate v : cross) {
            if (!v.w().shared()) {
                byOrg.computeIfAbsent(v.org(), o -> new ArrayList<>()).add(v);
            }
        }
        List<Candidate> chosen = new ArrayList<>();
        int total = 0;
        for (Map.Entry<Integer, List<Candidate>> e : byOrg.entrySet()) {
            int borrowed = budget.borrowed(e.getKey());
            if (borrowed <= 0) {
                continue;
            }
            List<Candidate> best = mostEvictable(e.getValue(), borrowed);
            int gpus = 0;
            for (Candidate v : best) {
                gpus += v.gpus();
            }
            if (budget.mayLose(e.getKey(), gpus)) {
                total += gpus;
                chosen.addAll(best);
            }
        }
        if (total < need) {
            return null;
        }
        chosen.sort(VictimOrder.ORDER);
        for (int j = chosen.size() - 1; j >= 0; j--) {
            int kv = chosen.get(j).gpus();
            if (total - kv >= need) {
                total -= kv;
                chosen.remove(j);
            }
        }
        return chosen;
    }

    /**
     * The replicas of one organization with the most GPUs such that their GPUs less the largest stay below what it
     * borrows (each one goes while the organization is still above its nominal quota).
     */
    public static List<Candidate> mostEvictable(List<Candidate> replicas, int borrowed) {
        List<Candidate> bySize = new ArrayList<>(replicas);
        bySize.sort(Comparator.comparingInt((Candidate v) -> -v.gpus()));
        int cap = borrowed - 1;
        List<Candidate> best = List.of();
        int bestTotal = 0;
        for (int last = 0; last < bySize.size(); last++) {
            // Subset sum over the smaller-or-equal replicas after it, up to cap GPUs.
            int m = bySize.size() - last - 1;
            int[] from = new int[cap + 1];
            Arrays.fill(from, -2);
            from[0] = -1;
            int[] reachedBy = new int[cap + 1];
            for (int j = 0; j < m; j++) {
                int size = bySize.get(last + 1 + j).gpus();
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
            int total = bySize.get(last).gpus() + top;
            if (total > bestTotal) {
                List<Candidate> set = new ArrayList<>();
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
}
