package io.gpupool.core.model;

/**
 * GPUs a preempting workload waits for on one node: evicted or stopping replicas still hold them. The admission engine
 * returns its claims in {@link CycleResult#claims()}; the operator passes them back in the next
 * {@link PoolSnapshot#claims()}, so that GPUs freed by a preemption go to the preemptor and not to whoever comes first
 * once they are free. A claim is not a booking: losing claims (an operator restart) never double-books a GPU, it can
 * only cost another round of preemption.
 *
 * @param workload the preemptor
 * @param node     where it waits
 * @param replicas how many of its replicas wait there
 */
public record Claim(WorkloadId workload, NodeKey node, int replicas) {
}
