package io.gpupool.core.testing;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

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

/** Builds small pools for tests: {@code Pool.policy(...).gpuClass("a100", 1).node("n1", "acme", "a100", 8)...}. */
public final class Pool {

    public static final String CLUSTER = "c1";
    public static final long MEMORY = 81920;

    private PoolPolicy policy;
    private final List<GpuClassDef> classes = new ArrayList<>();
    private final List<PoolNode> nodes = new ArrayList<>();
    private final List<OrgQuota> orgs = new ArrayList<>();
    private final List<Workload> workloads = new ArrayList<>();
    private long clock = 1000;

    private Pool(PoolPolicy policy) {
        this.policy = policy;
    }

    public static Pool policy(PoolPolicy policy) {
        return new Pool(policy);
    }

    /** No commons reserve, contribution-weighted, reclaim on: the simplest numbers to check by hand. */
    public static Pool plain() {
        return new Pool(new PoolPolicy(true, 0, true));
    }

    public Pool gpuClass(String name, double value) {
        classes.add(new GpuClassDef(name, List.of(), 0, value));
        return this;
    }

    public Pool node(String name, String org, String gpuClass, int gpus) {
        return node(name, org, gpuClass, gpus, MEMORY, NodeState.SCHEDULABLE);
    }

    public Pool node(String name, String org, String gpuClass, int gpus, long memoryMiB, NodeState state) {
        nodes.add(new PoolNode(key(name), org, gpuClass, memoryMiB, gpus, state));
        return this;
    }

    public Pool org(String name, double weight) {
        return org(new OrgQuota(name, weight, Map.of(), Map.of(), Map.of()));
    }

    public Pool org(OrgQuota quota) {
        orgs.add(quota);
        return this;
    }

    public WorkloadBuilder workload(String name, String org, int gpusPerReplica, int replicas) {
        return new WorkloadBuilder(this, new WorkloadId(org, name), org, gpusPerReplica, replicas, clock++);
    }

    public PoolSnapshot snapshot() {
        return new PoolSnapshot(List.copyOf(classes), List.copyOf(nodes), List.copyOf(orgs), List.copyOf(workloads),
                policy);
    }

    public static NodeKey key(String node) {
        return new NodeKey(CLUSTER, node);
    }

    public static Assignment on(String node, String gpuClass, int replicas) {
        return new Assignment(key(node), gpuClass, replicas);
    }

    /** Quota with a nominal/borrowing/lending map per class, written as "a100=4". */
    public static OrgQuota quota(String name, double weight, String nominal, String borrowingLimit,
            String lendingLimit) {
        return new OrgQuota(name, weight, map(nominal), map(borrowingLimit), map(lendingLimit));
    }

    static Map<String, Integer> map(String spec) {
        Map<String, Integer> m = new HashMap<>();
        if (spec != null && !spec.isBlank()) {
            for (String part : spec.split(",")) {
                String[] kv = part.trim().split("=");
                m.put(kv[0], Integer.parseInt(kv[1]));
            }
        }
        return m;
    }

    /** Fluent workload; {@link #add()} returns to the pool. */
    public static final class WorkloadBuilder {
        private final Pool pool;
        private final WorkloadId id;
        private final String org;
        private final int gpus;
        private final int replicas;
        private long arrival;
        private int priority;
        private boolean shared;
        private boolean frozen;
        private long memory;
        private Integer guaranteed;
        private List<String> classes = List.of();
        private final List<Assignment> assigned = new ArrayList<>();
        private final List<Assignment> draining = new ArrayList<>();

        WorkloadBuilder(Pool pool, WorkloadId id, String org, int gpus, int replicas, long arrival) {
            this.pool = pool;
            this.id = id;
            this.org = org;
            this.gpus = gpus;
            this.replicas = replicas;
            this.arrival = arrival;
        }

        public WorkloadBuilder priority(int p) {
            priority = p;
            return this;
        }

        public WorkloadBuilder shared() {
            shared = true;
            return this;
        }

        public WorkloadBuilder frozen() {
            frozen = true;
            return this;
        }

        public WorkloadBuilder arrival(long t) {
            arrival = t;
            return this;
        }

        public WorkloadBuilder memory(long mib) {
            memory = mib;
            return this;
        }

        /** Only {@code n} replicas are guaranteed; the others are elastic (an autoscaled model above minReplicas). */
        public WorkloadBuilder elasticAbove(int n) {
            guaranteed = n;
            return this;
        }

        public WorkloadBuilder classes(String... names) {
            classes = List.of(names);
            return this;
        }

        public WorkloadBuilder on(String node, String gpuClass, int n) {
            assigned.add(Pool.on(node, gpuClass, n));
            return this;
        }

        public WorkloadBuilder draining(String node, String gpuClass, int n) {
            draining.add(Pool.on(node, gpuClass, n));
            return this;
        }

        public Pool add() {
            Workload w = new Workload(id, org, gpus, memory, classes, replicas, priority, shared, arrival, frozen,
                    List.copyOf(assigned), List.copyOf(draining));
            pool.workloads.add(guaranteed == null ? w : w.withGuaranteedReplicas(guaranteed));
            return pool;
        }
    }
}
