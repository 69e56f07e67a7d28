package io.gpupool.bench;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import io.gpupool.core.model.Assignment;
import io.gpupool.core.model.GpuClassDef;
import io.gpupool.core.model.NodeKey;
import io.gpupool.core.model.NodeState;
import io.gpupool.core.model.OrgQuota;
import io.gpupool.core.model.PoolNode;
import io.gpupool.core.model.PoolPolicy;
import io.gpupool.core.model.PoolSnapshot;
import io.gpupool.core.model.Workload;
import io.gpupool.core.model.WorkloadId;

/**
 * A deterministic, busy pool for benchmarks: nodes of mixed sizes contributed by every organization, about half of the
 * GPUs already running replicas (some organizations far beyond their quota, so reclaim happens), and a given number
 * of replicas waiting.
 */
public final class SyntheticPool {

    private SyntheticPool() {
    }

    public static PoolSnapshot generate(long seed, int pendingReplicas, int nodeCount, int orgCount, int classCount) {
        Random rnd = new Random(seed);
        List<GpuClassDef> classes = new ArrayList<>();
        double[] values = { 0.5, 1, 1, 2, 4 };
        long[] memory = { 24576, 49152, 81920 };
        for (int c = 0; c < classCount; c++) {
            classes.add(new GpuClassDef("class-" + c, List.of(), 0, values[c % values.length]));
        }
        List<OrgQuota> orgs = new ArrayList<>();
        for (int o = 0; o < orgCount; o++) {
            Map<String, Integer> nominal = new HashMap<>();
            Map<String, Integer> borrowing = new HashMap<>();
            Map<String, Integer> lending = new HashMap<>();
            if (rnd.nextInt(5) == 0) {
                nominal.put("class-" + rnd.nextInt(classCount), 1 + rnd.nextInt(8));
            }
            if (rnd.nextInt(5) == 0) {
                borrowing.put("class-" + rnd.nextInt(classCount), rnd.nextInt(32));
            }
            if (rnd.nextInt(10) == 0) {
                lending.put("class-" + rnd.nextInt(classCount), rnd.nextInt(16));
            }
            double[] weights = { 0.5, 1, 1, 1, 2 };
            orgs.add(new OrgQuota("org-" + o, weights[rnd.nextInt(weights.length)], nominal, borrowing, lending));
        }
        List<PoolNode> nodes = new ArrayList<>();
        int[] sizes = { 8, 8, 8, 8, 4, 4, 2, 1 };
        for (int n = 0; n < nodeCount; n++) {
            int c = rnd.nextInt(classCount);
            int roll = rnd.nextInt(100);
            NodeState state = roll < 97 ? NodeState.SCHEDULABLE : roll < 99 ? NodeState.NOT_READY : NodeState.GONE;
            nodes.add(new PoolNode(new NodeKey("cluster-" + (n % 7), String.format("node-%06d", n)),
                    "org-" + rnd.nextInt(orgCount), "class-" + c, memory[c % memory.length],
                    sizes[rnd.nextInt(sizes.length)], state));
        }

        // Running replicas on about half of the GPUs; a few organizations hold much more than they contribute.
        List<Workload> workloads = new ArrayList<>();
        int[] free = new int[nodeCount];
        for (int n = 0; n < nodeCount; n++) {
            free[n] = nodes.get(n).state() == NodeState.GONE ? 0 : nodes.get(n).gpus();
        }
        int[] gpuSizes = { 1, 1, 1, 2, 2, 4, 8 };
        long arrival = 1;
        int id = 0;
        for (int n = 0; n < nodeCount; n++) {
            PoolNode node = nodes.get(n);
            while (free[n] > 0 && rnd.nextInt(100) < 55) {
                int k = Math.min(free[n], gpuSizes[rnd.nextInt(gpuSizes.length)]);
                int replicas = Math.max(1, Math.min(free[n] / k, 1 + rnd.nextInt(3)));
                String org = rnd.nextInt(4) == 0 ? "org-" + rnd.nextInt(Math.max(1, orgCount / 10))
                        : "org-" + rnd.nextInt(orgCount);
                free[n] -= replicas * k;
                workloads.add(new Workload(new WorkloadId(org, "run-" + id++), org, k, 0,
                        List.of(node.gpuClass()), replicas, rnd.nextInt(3), rnd.nextInt(30) == 0, arrival++, false,
                        List.of(new Assignment(node.key(), node.gpuClass(), replicas)), List.of()));
            }
        }

        // Waiting replicas.
        int left = pendingReplicas;
        while (left > 0) {
            int replicas = Math.min(left, 1 + rnd.nextInt(8));
            left -= replicas;
            String org = "org-" + rnd.nextInt(orgCount);
            int roll = rnd.nextInt(10);
            List<String> allowed = roll < 3 ? List.of()
                    : roll < 8 ? List.of("class-" + rnd.nextInt(classCount))
                            : List.of("class-" + rnd.nextInt(classCount), "class-" + rnd.nextInt(classCount));
            workloads.add(new Workload(new WorkloadId(org, "new-" + id++), org, gpuSizes[rnd.nextInt(gpuSizes.length)],
                    rnd.nextInt(10) == 0 ? 40000 : 0, allowed.stream().distinct().toList(), replicas, rnd.nextInt(4),
                    rnd.nextInt(20) == 0, arrival++, false, List.of(), List.of()));
        }
        return new PoolSnapshot(classes, nodes, orgs, workloads, PoolPolicy.DEFAULT);
    }
}
