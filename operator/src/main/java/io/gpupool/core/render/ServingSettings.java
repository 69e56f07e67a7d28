package io.gpupool.core.render;

import io.gpupool.api.v1alpha1.GpuPoolSpec;
import io.gpupool.api.v1alpha1.ServingImages;

/**
 * Pool-wide inputs of rendering, taken from the GpuPool (or its defaults).
 *
 * @param vllmImage              image for engine vllm
 * @param llamacppImage          image for engine llamacpp
 * @param drainGracePeriodSeconds termination grace period of serving pods (time to finish in-flight requests)
 * @param modelCache             the node-shared model cache ({@link ModelCacheClaims}); null: a cache per pod
 */
public record ServingSettings(String vllmImage, String llamacppImage, int drainGracePeriodSeconds,
        ModelCache modelCache) {

    /**
     * GpuPool.spec.modelCache.
     *
     * @param storageClassName StorageClass of the claims
     * @param size             what each claim requests, e.g. 200Gi
     */
    public record ModelCache(String storageClassName, String size) {
    }

    public static final ServingSettings DEFAULT = new ServingSettings(ServingImages.DEFAULT_VLLM,
            ServingImages.DEFAULT_LLAMACPP, 120);

    /** Without a shared model cache. */
    public ServingSettings(String vllmImage, String llamacppImage, int drainGracePeriodSeconds) {
        this(vllmImage, llamacppImage, drainGracePeriodSeconds, null);
    }

    public static ServingSettings from(GpuPoolSpec pool) {
        if (pool == null) {
            return DEFAULT;
        }
        ServingImages images = pool.servingImages == null ? new ServingImages() : pool.servingImages;
        int grace = pool.preemption == null || pool.preemption.drainGracePeriodSeconds == null ? 120
                : pool.preemption.drainGracePeriodSeconds;
        ModelCache cache = pool.modelCache == null || pool.modelCache.storageClassName == null ? null
                : new ModelCache(pool.modelCache.storageClassName,
                        pool.modelCache.size == null ? "200Gi" : pool.modelCache.size);
        return new ServingSettings(images.vllm == null ? ServingImages.DEFAULT_VLLM : images.vllm,
                images.llamacpp == null ? ServingImages.DEFAULT_LLAMACPP : images.llamacpp, grace, cache);
    }

    public String imageFor(String engine) {
        return "llamacpp".equals(engine) ? llamacppImage : vllmImage;
    }
}
