package io.gpupool.api.v1alpha1;

import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;

@JsonInclude(JsonInclude.Include.NON_NULL)
public class GpuRequirements {

    @Default("1")
    @Min(1)
    @Max(64)
    @JsonPropertyDescription("GPUs per replica, all on one node (the engine's tensor-parallel size). Defaults to 1.")
    public Integer count = 1;

    @Min(1)
    @Max(16777216)
    @JsonPropertyDescription("Minimum memory of each GPU in MiB. When absent the operator estimates what the model "
            + "needs (weights + KV cache for maxContextLength + overhead, split over count GPUs) and reports it in "
            + "status.estimatedMemoryMiB.")
    public Long minMemoryMiB;

    @Size(max = 32)
    @ValidationRule(value = "self.all(x, self.exists_one(y, y == x))", message = "lists a GpuClass more than once")
    @JsonPropertyDescription("Allow-list of GpuClass names, in order of preference. Empty means any class whose GPUs "
            + "have enough memory.")
    public List<@Size(min = 1, max = 253) @Pattern("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$") String> classes = new ArrayList<>();
}
