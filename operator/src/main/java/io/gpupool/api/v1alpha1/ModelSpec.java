package io.gpupool.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;

@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonClassDescription("Which model to serve: its source, revision, size, precision, context length and served name.")
public class ModelSpec {

    @Required
    @Size(min = 1, max = 512)
    @Pattern("^[a-z][a-z0-9+.-]*://\\S+$")
    @JsonPropertyDescription("Where the model comes from, as a URL. Supported today: hf://<org>/<name> (a Hugging Face "
            + "repository). Other schemes are reported as InvalidSpec until they are supported.")
    public String source;

    @Default("main")
    @Size(min = 1, max = 256)
    @Pattern("^[A-Za-z0-9._/-]+$")
    @JsonPropertyDescription("Repository revision to serve: a branch, tag or commit. Pin a commit for reproducible "
            + "serving. Defaults to main. Engine llamacpp serves main only (llama.cpp downloads the file itself and "
            + "takes no revision).")
    public String revision = "main";

    // Exclusive 0, not an inclusive 0.001: older API servers compare an integer value with a fractional minimum
    // truncated to an integer, so parametersBillions: 0 passed 'minimum: 0.001' on 1.20.
    @Min(value = 0, inclusive = false)
    @Max(10000)
    @JsonPropertyDescription("Number of model parameters in billions (8 for Llama-3.1-8B). Used to estimate the GPU "
            + "memory a replica needs when gpu.minMemoryMiB is not set.")
    public Double parametersBillions;

    @Default("bf16")
    @Pattern("^(bf16|fp16|fp8|int8|int4)$")
    @JsonPropertyDescription("Precision of the weights as served: bf16, fp16, fp8, int8 or int4. Sets bytes per "
            + "parameter in the memory estimate and the engine's dtype/quantization flags. Defaults to bf16.")
    public String dtype = "bf16";

    @Default("8192")
    @Min(256)
    @Max(10485760)
    @JsonPropertyDescription("Maximum context length in tokens that one sequence may use (vLLM --max-model-len, "
            + "llama.cpp --ctx-size). Sizes the KV cache in the memory estimate. Defaults to 8192.")
    public Integer maxContextLength = 8192;

    @Size(max = 128)
    @Pattern("^[A-Za-z0-9._:/-]+$")
    @JsonPropertyDescription("Deprecated: use spec.servedModelName, which takes precedence. Read only when "
            + "spec.servedModelName is absent.")
    public String servedModelName;

    @Size(max = 256)
    @Pattern("^[A-Za-z0-9._/-]+\\.gguf$")
    @JsonPropertyDescription("For engine llamacpp: the GGUF file in the repository to serve, for example "
            + "'Llama-3.1-8B-Instruct-Q4_K_M.gguf'.")
    public String file;

    @JsonPropertyDescription("Optional shape of the model's attention, for a precise KV-cache estimate. When absent "
            + "the operator derives a conservative shape from parametersBillions.")
    public ModelArchitecture architecture;
}
