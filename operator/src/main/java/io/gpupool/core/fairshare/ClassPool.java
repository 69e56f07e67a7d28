package io.gpupool.core.fairshare;

/**
 * One GpuClass across the pool.
 *
 * @param capacity    GPUs of its SCHEDULABLE nodes
 * @param nominal     sum of the organizations' nominal quotas (may exceed the capacity in Static mode)
 * @param commons     {@code max(0, capacity - nominal)}: the reserve and unclaimed GPUs
 * @param commonsUsed GPUs of the commons that shared ModelDeployments hold
 * @param used        GPUs held by replicas (running or draining), on any node of the class that is not gone
 * @param borrowed    sum of the organizations' borrowed GPUs
 * @param idle        {@code max(0, capacity - used)}
 */
public record ClassPool(String gpuClass, double value, int capacity, int nominal, int commons, int commonsUsed, int used,
        int borrowed, int idle) {
}
