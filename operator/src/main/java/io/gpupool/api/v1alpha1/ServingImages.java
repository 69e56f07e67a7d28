package io.gpupool.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

import io.fabric8.generator.annotation.Size;

@JsonInclude(JsonInclude.Include.NON_NULL)
public class ServingImages {

    public static final String DEFAULT_VLLM = "ghcr.io/gpupool/inference-vllm:0.1.0";
    public static final String DEFAULT_LLAMACPP = "ghcr.io/gpupool/inference-llamacpp:0.1.0";

    @Size(min = 1, max = 512)
    @JsonPropertyDescription("Image for engine vllm (built from inference-image/vllm). Defaults to "
            + DEFAULT_VLLM + ".")
    public String vllm = DEFAULT_VLLM;

    @Size(min = 1, max = 512)
    @JsonPropertyDescription("Image for engine llamacpp (built from inference-image/llamacpp). Defaults to "
            + DEFAULT_LLAMACPP + ".")
    public String llamacpp = DEFAULT_LLAMACPP;
}
