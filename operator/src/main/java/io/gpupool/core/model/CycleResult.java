package io.gpupool.core.model;

import java.util.List;
import java.util.Map;

/**
 * The outcome of one admission cycle.
 *
 * @param assignments the new assignment of every workload in the snapshot (evicted replicas already removed)
 * @param evictions   replicas removed to make room for others, in the order they were chosen
 * @param pending     why each workload with fewer assigned than desired replicas waits
 * @param claims      GPUs that preempting workloads wait for; pass them back in the next snapshot
 */
public record CycleResult(Map<WorkloadId, List<Assignment>> assignments, List<Eviction> evictions,
        Map<WorkloadId, PendingReason> pending, List<Claim> claims) {

    public CycleResult {
        claims = claims == null ? List.of() : claims;
    }

    /** A result without claims. */
    public CycleResult(Map<WorkloadId, List<Assignment>> assignments, List<Eviction> evictions,
            Map<WorkloadId, PendingReason> pending) {
        this(assignments, evictions, pending, List.of());
    }
}
