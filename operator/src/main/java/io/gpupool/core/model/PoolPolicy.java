package io.gpupool.core.model;

/**
 * Pool-wide policy the engine applies.
 *
 * @param contributionWeighted  nominal quota includes what an organization contributes
 * @param commonsReservePercent share of contributed GPUs that goes to the commons
 * @param reclaim               whether organizations may preempt borrowers to reclaim their nominal quota
 */
public record PoolPolicy(boolean contributionWeighted, int commonsReservePercent, boolean reclaim) {

    public static final PoolPolicy DEFAULT = new PoolPolicy(true, 10, true);
}
