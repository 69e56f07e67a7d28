package io.gpupool.core.model;

/**
 * Pool-wide policy the engine applies.
 *
 * @param contributionWeighted  nominal quota includes what an organization contributes
 * @param commonsReservePercent share of contributed GPUs that goes to the commons
 * @param reclaim               whether organizations may preempt borrowers to reclaim their nominal quota
 * @param usageHalfLifeHours    fairness with memory: 0 = off; otherwise organizations borrow in the order of their
 *                              weighted share plus their decayed net usage ({@link OrgQuota#decayedNetUsage}), and
 *                              replicas younger than the minimum run time ({@link Workload#youngReplicas}) are not
 *                              preempted
 */
public record PoolPolicy(boolean contributionWeighted, int commonsReservePercent, boolean reclaim,
        double usageHalfLifeHours) {

    public static final PoolPolicy DEFAULT = new PoolPolicy(true, 10, true);

    /** A policy without memory. */
    public PoolPolicy(boolean contributionWeighted, int commonsReservePercent, boolean reclaim) {
        this(contributionWeighted, commonsReservePercent, reclaim, 0);
    }

    public boolean remembersUsage() {
        return usageHalfLifeHours > 0;
    }
}
