package io.gpupool.core.model;

import java.util.List;

/**
 * Everything one admission cycle looks at. Immutable.
 *
 * @param claims the claims of the previous cycle's result ({@link CycleResult#claims()}), or empty
 */
public record PoolSnapshot(List<GpuClassDef> classes, List<PoolNode> nodes, List<OrgQuota> organizations,
        List<Workload> workloads, PoolPolicy policy, List<Claim> claims) {

    public PoolSnapshot {
        claims = claims == null ? List.of() : claims;
    }

    /** A snapshot without claims. */
    public PoolSnapshot(List<GpuClassDef> classes, List<PoolNode> nodes, List<OrgQuota> organizations,
            List<Workload> workloads, PoolPolicy policy) {
        this(classes, nodes, organizations, workloads, policy, List.of());
    }

    public PoolSnapshot withWorkloads(List<Workload> newWorkloads) {
        return new PoolSnapshot(classes, nodes, organizations, newWorkloads, policy, claims);
    }
}
