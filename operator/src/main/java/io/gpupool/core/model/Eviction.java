package io.gpupool.core.model;

/**
 * Replicas of a workload evicted from a node so that another workload can run.
 *
 * @param victim    the workload that loses the replicas
 * @param node      where they ran
 * @param replicas  how many
 * @param preemptor the workload that reclaims the GPUs
 * @param reason    a sentence for the victim's Preempted condition and Event
 */
public record Eviction(WorkloadId victim, NodeKey node, int replicas, WorkloadId preemptor, String reason) {
}
