package io.gpupool.core.render;

import io.gpupool.api.v1alpha1.GpuPoolSpec;
import io.gpupool.api.v1alpha1.ServingImages;

/**
 * Pool-wide inputs of rendering, taken from the GpuPool (or its defaults).
 *
 * @param vllmImage              image for engine vllm
 * @param llamacppImage          image for engine llamacpp
 * @param drainGracePeriodSeconds termination grace period of serving pods (time to finish in-flight requests)
 */
public record ServingSettings(String vllmImage, String llamacppImage, int drainGracePeriodSeconds) {

    public static final ServingSettings DEFAULT = new ServingSettings(ServingImages.DEFAULT_VLLM,
            ServingImages.DEFAULT_LLAMACPP, 120);

    public static ServingSettings from(GpuPoolSpec pool) {
        if (pool == null) {
            return DEFAULT;
        }
        ServingImages images = pool.servingImages == null ? new ServingImages() : pool.servingImages;
        int grace = pool.preemption == null || pool.preemption.drainGracePeriodSeconds == null ? 120
                : pool.preemption.drainGracePeriodSeconds;
        return new ServingSettings(images.vllm == null ? ServingImages.DEFAULT_VLLM : images.vllm,
                images.llamacpp == null ? ServingImages.DEFAULT_LLAMACPP : images.llamacpp, grace);
    }

    public String imageFor(String engine) {
        return "llamacpp".equals(engine) ? llamacppImage : vllmImage;
    }
}
