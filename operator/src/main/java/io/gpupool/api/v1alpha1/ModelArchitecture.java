package io.gpupool.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Required;

@JsonInclude(JsonInclude.Include.NON_NULL)
public class ModelArchitecture {

    @Required
    @Min(1)
    @Max(1024)
    @JsonPropertyDescription("Number of transformer layers (32 for Llama-3.1-8B).")
    public Integer layers;

    @Required
    @Min(1)
    @Max(1024)
    @JsonPropertyDescription("Number of key/value attention heads (8 for Llama-3.1-8B with grouped-query attention).")
    public Integer kvHeads;

    @Required
    @Min(1)
    @Max(4096)
    @JsonPropertyDescription("Dimension of one attention head (128 for Llama-3.1-8B).")
    public Integer headDim;
}
