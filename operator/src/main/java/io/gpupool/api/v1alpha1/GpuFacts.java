package io.gpupool.api.v1alpha1;

import java.util.Objects;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;

@JsonInclude(JsonInclude.Include.NON_NULL)
public class GpuFacts {

    @Required
    @Size(min = 1, max = 128)
    @JsonPropertyDescription("GPU product name (nvidia.com/gpu.product), e.g. NVIDIA-H100-80GB-HBM3.")
    public String product;

    @Required
    @Min(0)
    @Max(16777216)
    @JsonPropertyDescription("Memory of one GPU in MiB (nvidia.com/gpu.memory).")
    public Long memoryMiB;

    @Required
    @Min(0)
    @Max(1024)
    @JsonPropertyDescription("Number of allocatable GPUs (nvidia.com/gpu in the Node's allocatable).")
    public Integer count;

    @Size(max = 16)
    @JsonPropertyDescription("CUDA compute capability, major.minor (e.g. 9.0).")
    public String computeCapability;

    @Size(max = 64)
    @JsonPropertyDescription("GPU family (nvidia.com/gpu.family), e.g. hopper.")
    public String family;

    @Override
    public boolean equals(Object o) {
        return o instanceof GpuFacts g && Objects.equals(g.product, product) && Objects.equals(g.memoryMiB, memoryMiB)
                && Objects.equals(g.count, count) && Objects.equals(g.computeCapability, computeCapability)
                && Objects.equals(g.family, family);
    }

    @Override
    public int hashCode() {
        return Objects.hash(product, memoryMiB, count, computeCapability, family);
    }
}
