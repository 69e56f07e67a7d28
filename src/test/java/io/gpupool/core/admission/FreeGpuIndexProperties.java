package io.gpupool.core.admission;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import io.gpupool.core.model.Assignment;
import io.gpupool.core.model.NodeKey;
import io.gpupool.core.model.NodeState;
import io.gpupool.core.model.PoolNode;
import io.gpupool.core.model.Workload;
import io.gpupool.core.model.WorkloadId;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/** The index picks exactly the node {@link NodeFit#best} picks, also after free GPUs change. */
class FreeGpuIndexProperties {

    static final String[] CLASSES = { "a", "b", "c" };

    @Property(tries = 500)
    void choosesWhatNodeFitChooses(@ForAll @Size(max = 12) List<@IntRange(max = 4 * 9 * 3 * 3 - 1) Integer> nodeSeeds,
            @ForAll @Size(max = 12) List<@IntRange(max = 9) Integer> freeSeeds,
            @ForAll @IntRange(min = 1, max = 8) int k, @ForAll @IntRange(max = 2) int memory,
            @ForAll @IntRange(max = 7) int classMask, @ForAll @IntRange(max = 5) int reorder,
            @ForAll @Size(max = 3) List<@IntRange(max = 11) Integer> used) {
        List<PoolNode> nodes = new ArrayList<>();
        for (int i = 0; i < nodeSeeds.size(); i++) {
            int s = nodeSeeds.get(i);
            int cls = s % 4;
            int gpus = s / 4 % 9;
            int mem = s / 36 % 3;
            NodeState state = NodeState.values()[s / 108 % 3];
            nodes.add(new PoolNode(new NodeKey("c", "n" + (char) ('a' + (i * 7) % 12)), "o",
                    cls == 3 ? null : CLASSES[cls], 20000L * (mem + 1), gpus, state));
        }
        nodes.sort((x, y) -> x.key().compareTo(y.key()));
        nodes = dedupe(nodes);
        List<String> allowed = new ArrayList<>();
        for (int c = 0; c < 3; c++) {
            if ((classMask & (1 << c)) != 0) {
                allowed.add(CLASSES[(c + reorder) % 3]);
            }
        }
        List<Assignment> assigned = new ArrayList<>();
        for (int u : used) {
            if (u < nodes.size()) {
                assigned.add(new Assignment(nodes.get(u).key(), nodes.get(u).gpuClass(), 1));
            }
        }
        Workload w = new Workload(new WorkloadId("o", "w"), "o", k, 20000L * memory, allowed, 5, 0, false, 1, false,
                assigned, List.of());

        int[] cls = new int[nodes.size()];
        int[] free = new int[nodes.size()];
        Map<NodeKey, Integer> freeMap = new HashMap<>();
        for (int n = 0; n < nodes.size(); n++) {
            String c = nodes.get(n).gpuClass();
            cls[n] = c == null ? -1 : List.of(CLASSES).indexOf(c);
            free[n] = Math.min(nodes.get(n).gpus(), n < freeSeeds.size() ? freeSeeds.get(n) : nodes.get(n).gpus());
            freeMap.put(nodes.get(n).key(), free[n]);
        }
        FreeGpuIndex index = new FreeGpuIndex(nodes, cls, 3, free);
        // Change some free counts after indexing, as a cycle does.
        for (int n = 0; n < nodes.size(); n += 2) {
            int before = free[n];
            free[n] = Math.max(0, free[n] - 1);
            index.moved(n, before);
            freeMap.put(nodes.get(n).key(), free[n]);
        }
        boolean[] mask = new boolean[3];
        int[] ranks = null;
        if (allowed.isEmpty()) {
            java.util.Arrays.fill(mask, true);
        } else {
            ranks = allowed.stream().mapToInt(c -> List.of(CLASSES).indexOf(c)).toArray();
            for (int r : ranks) {
                mask[r] = true;
            }
        }
        Set<Integer> usedNodes = new LinkedHashSet<>();
        for (Assignment a : assigned) {
            for (int n = 0; n < nodes.size(); n++) {
                if (nodes.get(n).key().equals(a.node())) {
                    usedNodes.add(n);
                }
            }
        }
        int chosen = index.best(k, w.minMemoryMiB(), ranks, mask, usedNodes);
        PoolNode expected = NodeFit.best(w, nodes, freeMap);
        assertThat(chosen < 0 ? null : nodes.get(chosen)).isEqualTo(expected);
    }

    private static List<PoolNode> dedupe(List<PoolNode> nodes) {
        List<PoolNode> out = new ArrayList<>();
        for (PoolNode n : nodes) {
            if (out.isEmpty() || !out.get(out.size() - 1).key().equals(n.key())) {
                out.add(n);
            }
        }
        return out;
    }
}
