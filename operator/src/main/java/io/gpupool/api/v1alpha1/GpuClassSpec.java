package io.gpupool.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;

@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonClassDescription("Which GPUs belong to this class (product globs, minimum memory) and what one GPU of it is worth in "
        + "quotas.")
public class GpuClassSpec {

    @Size(max = 256)
    @JsonPropertyDescription("What this class is, for people reading `kubectl get gpuclass`.")
    public String description;

    @Required
    @JsonPropertyDescription("Which GPUs belong to this class.")
    public GpuMatch match = new GpuMatch();

    @Default("1")
    @Min(0)
    @Max(1000)
    @JsonPropertyDescription("Contribution units per GPU relative to a reference card (1.0). Weights this class in "
            + "the dominant-share computation of fair sharing. Defaults to 1.")
    public Double value = 1.0;
}
