package io.gpupool.inference;

import io.gpupool.core.render.ServingContract;

import java.util.LinkedHashMap;
import java.util.Map;

/** Names of the fake repositories and the valid contracts the tests start from. */
final class Fixtures {
    static final String TINY_LLM = "acme/tiny-llm";
    static final String TINY_LLM_SHA = "0123456789abcdef0123456789abcdef01234567";
    static final String PICKLE_ONLY = "acme/pickle-only";
    static final String TINY_GGUF = "acme/tiny-gguf";
    static final String TINY_AWQ = "acme/tiny-awq";
    static final String TINY_W8A8 = "acme/tiny-w8a8";
    static final String TINY_FP8 = "acme/tiny-fp8";
    static final String GATED = "acme/gated";
    static final String HOSTILE = "acme/hostile";
    static final String GGUF_ONLY = "acme/gguf-only";
    static final String SLOW = "acme/slow";

    private Fixtures() {
    }

    /** A valid vLLM contract for {@link #TINY_LLM}, as the operator renders it. */
    static Map<String, String> vllm(String cacheDir) {
        Map<String, String> env = new LinkedHashMap<>();
        env.put(ServingContract.GPUPOOL_ENGINE.name(), "vllm");
        env.put(ServingContract.GPUPOOL_MODEL_SOURCE.name(), "hf://" + TINY_LLM);
        env.put(ServingContract.GPUPOOL_MODEL_REVISION.name(), "main");
        env.put(ServingContract.GPUPOOL_SERVED_MODEL_NAME.name(), "tiny-llm");
        env.put(ServingContract.GPUPOOL_TENSOR_PARALLEL_SIZE.name(), "1");
        env.put(ServingContract.GPUPOOL_MAX_CONTEXT_LENGTH.name(), "4096");
        env.put(ServingContract.GPUPOOL_DTYPE.name(), "bf16");
        env.put(ServingContract.GPUPOOL_GPU_MEMORY_UTILIZATION.name(), "0.90");
        env.put(ServingContract.GPUPOOL_PORT.name(), String.valueOf(ServingContract.PORT));
        env.put(ServingContract.GPUPOOL_CACHE_DIR.name(), cacheDir);
        env.put(ServingContract.GPUPOOL_ALLOW_REMOTE_CODE.name(), "false");
        env.put(ServingContract.GPUPOOL_ALLOW_UNSAFE_WEIGHTS.name(), "false");
        env.put("CUDA_VISIBLE_DEVICES", "0,1,2,3");
        return env;
    }

    /** A valid llama.cpp contract for {@link #TINY_GGUF}. */
    static Map<String, String> llamacpp(String cacheDir) {
        Map<String, String> env = vllm(cacheDir);
        env.put(ServingContract.GPUPOOL_ENGINE.name(), "llamacpp");
        env.put(ServingContract.GPUPOOL_MODEL_SOURCE.name(), "hf://" + TINY_GGUF);
        env.put(ServingContract.GPUPOOL_MODEL_FILE.name(), "tiny-Q4_K_M.gguf");
        env.put(ServingContract.GPUPOOL_SERVED_MODEL_NAME.name(), "tiny-gguf");
        return env;
    }
}
