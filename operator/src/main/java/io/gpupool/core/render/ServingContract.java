package io.gpupool.core.render;

/**
 * The environment contract between the operator's renderer and the inference image's entrypoint
 * (inference-image/entrypoint.sh). This enum is its single definition: the renderer sets exactly these variables, and a
 * test checks that the entrypoint reads exactly these and that the README's table lists them, so the two sides cannot
 * drift. Extra engine arguments (spec.engineArgs) are passed as the container's args, which the entrypoint appends.
 */
public enum ServingContract {
    GPUPOOL_ENGINE(true, "Serving engine: vllm or llamacpp."),
    GPUPOOL_MODEL_SOURCE(true, "Model location, hf://<org>/<name>."),
    GPUPOOL_MODEL_REVISION(true, "Repository revision (branch, tag or commit); main only with llamacpp."),
    GPUPOOL_MODEL_FILE(false, "GGUF file in the repository (llamacpp only; required there)."),
    GPUPOOL_SERVED_MODEL_NAME(true, "Name clients put in the OpenAI 'model' field."),
    GPUPOOL_TENSOR_PARALLEL_SIZE(true, "GPUs the replica is split over; must not exceed the visible GPUs."),
    GPUPOOL_MAX_CONTEXT_LENGTH(true, "Maximum tokens per sequence (--max-model-len / --ctx-size)."),
    GPUPOOL_DTYPE(true, "Weight precision: bf16, fp16, fp8, int8 or int4."),
    GPUPOOL_GPU_MEMORY_UTILIZATION(true, "Share of each GPU's memory the engine may take, e.g. 0.90."),
    GPUPOOL_PORT(true, "Port of the OpenAI-compatible HTTP server."),
    GPUPOOL_CACHE_DIR(true, "The engines' loaders keep the standard Hugging Face cache in <dir>/hub; may be shared "
            + "by replicas on one node."),
    GPUPOOL_ALLOW_REMOTE_CODE(true, "true lets the engine run code shipped with the model; false refuses "
            + "--trust-remote-code."),
    GPUPOOL_ALLOW_UNSAFE_WEIGHTS(true, "true allows pickle weights (.bin/.pt); false loads safetensors or GGUF only.");

    private final boolean required;
    private final String description;

    ServingContract(boolean required, String description) {
        this.required = required;
        this.description = description;
    }

    public boolean required() {
        return required;
    }

    public String description() {
        return description;
    }

    /** The port both engines listen on in gpupool's images. */
    public static final int PORT = 8000;
    /** Where the model cache volume is mounted. */
    public static final String CACHE_DIR = "/models";
}
