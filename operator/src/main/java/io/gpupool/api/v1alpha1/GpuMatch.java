package io.gpupool.api.v1alpha1;

import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Size;

@JsonInclude(JsonInclude.Include.NON_NULL)
public class GpuMatch {

    @Size(max = 64)
    @JsonPropertyDescription("GPU product names as GPU Feature Discovery reports them (label nvidia.com/gpu.product), "
            + "with * and ? globs: ['NVIDIA-H100-80GB-*']. Empty matches any product.")
    public List<@Size(min = 1, max = 128) String> products = new ArrayList<>();

    @Min(0)
    @Max(16777216)
    @JsonPropertyDescription("Least memory per GPU in MiB.")
    public Long minMemoryMiB;
}
