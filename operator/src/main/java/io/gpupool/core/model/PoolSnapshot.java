package io.gpupool.core.model;

import java.util.List;

/** Everything one admission cycle looks at. Immutable. */
public record PoolSnapshot(List<GpuClassDef> classes, List<PoolNode> nodes, List<OrgQuota> organizations,
        List<Workload> workloads, PoolPolicy policy) {

    public PoolSnapshot withWorkloads(List<Workload> newWorkloads) {
        return new PoolSnapshot(classes, nodes, organizations, newWorkloads, policy);
    }
}
