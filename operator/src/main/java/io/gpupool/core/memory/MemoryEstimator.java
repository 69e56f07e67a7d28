package io.gpupool.core.memory;

/**
 * Estimates the GPU memory a model needs, following the planning rules in docs/architecture.md: weights = parameters ×
 * bytes per parameter; KV cache = 2 × layers × KV heads × head dimension × bytes × context; 15 % overhead; and the
 * engine only takes {@link #GPU_MEMORY_UTILIZATION} of each card (vLLM's --gpu-memory-utilization).
 */
public final class MemoryEstimator {

    /** Share of each GPU's memory the engine is told to use; the rest is left to the CUDA context and other tenants. */
    public static final double GPU_MEMORY_UTILIZATION = 0.90;
    static final double OVERHEAD = 0.15;
    private static final double MIB = 1024.0 * 1024.0;

    private MemoryEstimator() {
    }

    /**
     * @param parametersBillions model size
     * @param dtype              bf16 | fp16 | fp8 | int8 | int4
     * @param maxContextLength   tokens of one sequence the KV cache must hold
     * @param shape              attention shape, or null to derive a conservative one from the size
     * @param gpus               GPUs the replica is split over (tensor parallel)
     */
    public static MemoryEstimate estimate(double parametersBillions, String dtype, int maxContextLength,
            AttentionShape shape, int gpus) {
        if (!(parametersBillions > 0) || gpus < 1 || maxContextLength < 1) {
            throw new IllegalArgumentException("parameters, context length and GPU count must be positive");
        }
        AttentionShape s = shape != null ? shape : AttentionShape.derivedFrom(parametersBillions);
        double weights = parametersBillions * 1e9 * bytesPerParameter(dtype);
        double kv = 2.0 * s.layers() * s.kvHeads() * s.headDim() * kvBytes(dtype) * (double) maxContextLength;
        double overhead = (weights + kv) * OVERHEAD;
        double perGpu = (weights + kv + overhead) / gpus / GPU_MEMORY_UTILIZATION;
        return new MemoryEstimate(ceilMiB(weights), ceilMiB(kv), ceilMiB(overhead), ceilMiB(perGpu));
    }

    public static double bytesPerParameter(String dtype) {
        return switch (dtype) {
            case "bf16", "fp16" -> 2.0;
            case "fp8", "int8" -> 1.0;
            case "int4" -> 0.5;
            default -> throw new IllegalArgumentException("unknown dtype '" + dtype + "'");
        };
    }

    /** The KV cache stays in 16 bits for 16-bit and 4-bit weights (AWQ/GPTQ kernels), 8 bits with fp8/int8. */
    static double kvBytes(String dtype) {
        return switch (dtype) {
            case "fp8", "int8" -> 1.0;
            default -> 2.0;
        };
    }

    private static long ceilMiB(double bytes) {
        return (long) Math.ceil(bytes / MIB);
    }
}
