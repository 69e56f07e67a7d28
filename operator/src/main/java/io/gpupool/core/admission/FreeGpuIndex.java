package io.gpupool.core.admission;

import java.util.BitSet;
import java.util.Collection;
import java.util.List;
import java.util.function.IntPredicate;

import io.gpupool.core.model.PoolNode;

/**
 * Nodes that take new replicas, bucketed by GpuClass and number of free GPUs, so that the best node for a replica is
 * found without looking at every node. It chooses exactly as {@link NodeFit#best} does (most preferred class, then a
 * node the workload already uses, then the tightest fit, then the name), restricted to the classes of a mask.
 *
 * <p>
 * Nodes are numbered in the order of their keys, so the lowest number is the smallest name.
 */
final class FreeGpuIndex {

    private final int[] cls;
    private final long[] memoryMiB;
    private final boolean[] takes;
    private final int[] free;
    private final BitSet[][] buckets;

    /**
     * @param nodes nodes sorted by key
     * @param cls   class index of each node, -1 when it has none
     * @param free  free GPUs of each node; the index keeps a reference and must be told of every change
     */
    FreeGpuIndex(List<PoolNode> nodes, int[] cls, int classCount, int[] free) {
        int n = nodes.size();
        this.cls = cls;
        this.free = free;
        memoryMiB = new long[n];
        takes = new boolean[n];
        int maxGpus = 0;
        for (int i = 0; i < n; i++) {
            PoolNode node = nodes.get(i);
            memoryMiB[i] = node.memoryMiB();
            takes[i] = node.takesNewReplicas() && cls[i] >= 0;
            maxGpus = Math.max(maxGpus, node.gpus());
        }
        buckets = new BitSet[classCount][maxGpus + 1];
        for (int i = 0; i < n; i++) {
            add(i, free[i]);
        }
    }

    boolean takes(int node) {
        return takes[node];
    }

    /** Records that a node's free GPUs changed from {@code before} to the value now in {@code free}. */
    void moved(int node, int before) {
        remove(node, before);
        add(node, free[node]);
    }

    private void add(int node, int f) {
        if (!takes[node] || f <= 0) {
            return;
        }
        BitSet[] byFree = buckets[cls[node]];
        f = Math.min(f, byFree.length - 1);
        if (byFree[f] == null) {
            byFree[f] = new BitSet();
        }
        byFree[f].set(node);
    }

    private void remove(int node, int f) {
        if (!takes[node] || f <= 0) {
            return;
        }
        BitSet[] byFree = buckets[cls[node]];
        f = Math.min(f, byFree.length - 1);
        if (byFree[f] != null) {
            byFree[f].clear(node);
        }
    }

    /**
     * The best node for one more replica needing {@code k} GPUs of at least {@code minMemoryMiB}, among the classes
     * whose mask entry is true, or -1.
     *
     * @param classRanks the allowed classes in preference order (class indexes), or null when any class is allowed
     * @param usedNodes  nodes the workload already has replicas on
     */
    int best(int k, long minMemoryMiB, int[] classRanks, boolean[] mask, Collection<Integer> usedNodes) {
        return best(k, minMemoryMiB, classRanks, mask, usedNodes, null);
    }

    /**
     * As {@link #best(int, long, int[], boolean[], Collection)}, among the nodes {@code admits} accepts (null: all):
     * those whose owners consent to what the workload does, in clusters it may run in.
     */
    int best(int k, long minMemoryMiB, int[] classRanks, boolean[] mask, Collection<Integer> usedNodes,
            IntPredicate admits) {
        if (classRanks == null) {
            return bestInGroup(k, minMemoryMiB, mask, null, usedNodes, admits);
        }
        for (int c : classRanks) {
            if (mask[c]) {
                int n = bestInGroup(k, minMemoryMiB, null, c, usedNodes, admits);
                if (n >= 0) {
                    return n;
                }
            }
        }
        return -1;
    }

    /** Whether some node of class {@code c} has {@code k} free GPUs of at least {@code minMemoryMiB} now. */
    boolean anyFit(int k, long minMemoryMiB, int c) {
        return bestInGroup(k, minMemoryMiB, null, c, List.of(), null) >= 0;
    }

    private boolean inGroup(int node, boolean[] mask, Integer single) {
        int c = cls[node];
        return c >= 0 && (single != null ? c == single : mask[c]);
    }

    private int bestInGroup(int k, long minMemoryMiB, boolean[] mask, Integer single, Collection<Integer> usedNodes,
            IntPredicate admits) {
        int best = -1;
        for (int n : usedNodes) {
            if (takes[n] && inGroup(n, mask, single) && free[n] >= k && memoryMiB[n] >= minMemoryMiB
                    && (admits == null || admits.test(n))
                    && (best < 0 || free[n] < free[best] || (free[n] == free[best] && n < best))) {
                best = n;
            }
        }
        if (best >= 0) {
            return best;
        }
        int maxFree = buckets.length == 0 ? 0 : buckets[0].length - 1;
        for (int f = Math.max(1, k); f <= maxFree; f++) {
            int found = -1;
            if (single != null) {
                found = first(buckets[single][f], minMemoryMiB, found, admits);
            } else {
                for (int c = 0; c < buckets.length; c++) {
                    if (mask[c]) {
                        found = first(buckets[c][f], minMemoryMiB, found, admits);
                    }
                }
            }
            if (found >= 0) {
                return found;
            }
        }
        return -1;
    }

    /** The lowest node of the bucket with enough memory, if lower than {@code sofar}. */
    private int first(BitSet bucket, long minMemoryMiB, int sofar, IntPredicate admits) {
        if (bucket == null) {
            return sofar;
        }
        int limit = sofar < 0 ? Integer.MAX_VALUE : sofar;
        for (int n = bucket.nextSetBit(0); n >= 0 && n < limit; n = bucket.nextSetBit(n + 1)) {
            if (memoryMiB[n] >= minMemoryMiB && (admits == null || admits.test(n))) {
                return n;
            }
        }
        return sofar;
    }
}
