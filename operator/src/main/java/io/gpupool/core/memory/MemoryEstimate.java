package io.gpupool.core.memory;

/**
 * What one replica of a model needs in GPU memory, in MiB.
 *
 * @param weightsMiB     the weights, all GPUs together
 * @param kvCacheMiB     KV cache for one sequence of the maximum context length, all GPUs together
 * @param overheadMiB    activations, CUDA graphs and fragmentation
 * @param perGpuMiB      memory each GPU must have (the total split over the GPUs, divided by the share of a card the
 *                       engine may take)
 */
public record MemoryEstimate(long weightsMiB, long kvCacheMiB, long overheadMiB, long perGpuMiB) {
}
