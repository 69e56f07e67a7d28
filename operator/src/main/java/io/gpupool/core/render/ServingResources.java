package io.gpupool.core.render;

import io.fabric8.kubernetes.api.model.Quantity;
import io.gpupool.api.v1alpha1.ModelDeploymentSpec;
import io.gpupool.core.memory.MemoryEstimator;

/**
 * What a serving pod may take of a node besides its GPUs, derived from the model: every scratch volume has a size limit
 * (a replica runs on hardware another organization contributed, and an unbounded emptyDir or /dev/shm would let it fill
 * the node's disk or memory), and the container's memory and ephemeral storage are requested and limited to match, so
 * that the scheduler places it where it fits and the kubelet evicts it, not its neighbours, when it overruns.
 *
 * @param modelsGiB         the model cache volume: the weights with 10 % slack plus 2 GiB for tokenizer and config
 * @param tmpGiB            /tmp
 * @param homeGiB           the home directory (compilation caches)
 * @param shmGiB            the memory-backed /dev/shm (tensor-parallel workers exchange tensors through it): 1 GiB per
 *                          GPU, at most 16
 * @param memoryRequestGiB  host memory: the weights pass through it while they load, plus 4 GiB for the engine, and at
 *                          least 8 GiB per GPU
 * @param memoryLimitGiB    the request plus /dev/shm, which counts against the container's memory
 * @param ephemeralRequestGiB the scratch volumes
 * @param ephemeralLimitGiB the scratch volumes plus 1 GiB of logs
 */
public record ServingResources(long modelsGiB, long tmpGiB, long homeGiB, long shmGiB, long memoryRequestGiB,
        long memoryLimitGiB, long ephemeralRequestGiB, long ephemeralLimitGiB) {

    private static final double GIB = 1024.0 * 1024.0 * 1024.0;

    public static ServingResources of(ModelDeploymentSpec spec) {
        int gpus = spec.gpu == null || spec.gpu.count == null ? 1 : Math.max(1, spec.gpu.count);
        long weights = (long) Math.ceil(weightsBytes(spec, gpus) / GIB);
        long models = (long) Math.ceil(weights * 1.1) + 2;
        long tmp = 2;
        long home = 2;
        long shm = Math.min(16, gpus);
        long memory = Math.max(8L * gpus, weights + 4);
        long ephemeral = models + tmp + home;
        return new ServingResources(models, tmp, home, shm, memory, memory + shm, ephemeral, ephemeral + 1);
    }

    /** The weights' size: from the parameters and dtype, else the GPU memory the user asked for (which holds them). */
    static double weightsBytes(ModelDeploymentSpec spec, int gpus) {
        var model = spec.model;
        if (model != null && model.parametersBillions != null && model.parametersBillions > 0) {
            return model.parametersBillions * 1e9
                    * MemoryEstimator.bytesPerParameter(model.dtype == null ? "bf16" : model.dtype);
        }
        long perGpuMiB = spec.gpu == null || spec.gpu.minMemoryMiB == null ? 16384 : spec.gpu.minMemoryMiB;
        return perGpuMiB * 1024.0 * 1024.0 * gpus;
    }

    /** The same bounds when the model cache is a claim ({@link ModelCacheClaims}): not the pod's ephemeral storage. */
    public ServingResources modelsOnClaim() {
        return new ServingResources(modelsGiB, tmpGiB, homeGiB, shmGiB, memoryRequestGiB, memoryLimitGiB,
                ephemeralRequestGiB - modelsGiB, ephemeralLimitGiB - modelsGiB);
    }

    public static Quantity gib(long gib) {
        return new Quantity(gib + "Gi");
    }
}
