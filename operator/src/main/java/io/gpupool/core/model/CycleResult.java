package io.gpupool.core.model;

import java.util.List;
import java.util.Map;

/**
 * The outcome of one admission cycle.
 *
 * @param assignments the new assignment of every workload in the snapshot (evicted replicas already removed)
 * @param evictions   replicas removed to make room for others, in the order they were chosen
 * @param pending     why each workload with fewer assigned than desired replicas waits
 * @param claims      per preempting workload, the replicas it waits to place on each node (GPUs that evicted or
 *                    stopping replicas still hold); pass them back as the workloads' {@link Workload#claimed()}
 */
public record CycleResult(Map<WorkloadId, List<Assignment>> assignments, List<Eviction> evictions,
        Map<WorkloadId, PendingReason> pending, Map<WorkloadId, List<Assignment>> claims) {

    public CycleResult {
        claims = claims == null ? Map.of() : claims;
    }

    /** A result without claims. */
    public CycleResult(Map<WorkloadId, List<Assignment>> assignments, List<Eviction> evictions,
            Map<WorkloadId, PendingReason> pending) {
        this(assignments, evictions, pending, Map.of());
    }
}
