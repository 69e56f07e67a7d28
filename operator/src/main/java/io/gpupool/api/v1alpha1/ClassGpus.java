package io.gpupool.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;

import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;

public class ClassGpus {

    @Required
    @Size(min = 1, max = 253)
    @Pattern("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
    @JsonPropertyDescription("Name of a GpuClass.")
    public String gpuClass;

    @Required
    @Min(0)
    @Max(1000000)
    @JsonPropertyDescription("Number of GPUs.")
    public Integer gpus;

    public ClassGpus() {
    }

    public ClassGpus(String gpuClass, int gpus) {
        this.gpuClass = gpuClass;
        this.gpus = gpus;
    }
}
