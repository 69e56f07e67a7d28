package io.gpupool.core.serving;

import java.util.List;

import io.gpupool.api.v1alpha1.Placement;
import io.gpupool.core.model.Assignment;
import io.gpupool.core.model.PendingReason;

/**
 * What the scheduler decided for one ModelDeployment.
 *
 * @param placements where its replicas run
 * @param pending    why some replicas wait, or null
 * @param preempted  why replicas were evicted in the last cycle, or null
 * @param stopping   pods of replicas taken away that have not stopped yet, per node (they still hold their GPUs)
 */
public record Admission(List<Placement> placements, PendingReason pending, String preempted, List<Assignment> stopping) {

    public Admission {
        stopping = stopping == null ? List.of() : List.copyOf(stopping);
    }

    public int admittedReplicas() {
        return placements.stream().mapToInt(p -> p.replicas).sum();
    }
}
