package io.gpupool.inference;

import io.gpupool.core.render.ServingContract;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

import static io.gpupool.core.render.ServingContract.GPUPOOL_ALLOW_REMOTE_CODE;
import static io.gpupool.core.render.ServingContract.GPUPOOL_ALLOW_UNSAFE_WEIGHTS;
import static io.gpupool.core.render.ServingContract.GPUPOOL_CACHE_DIR;
import static io.gpupool.core.render.ServingContract.GPUPOOL_DTYPE;
import static io.gpupool.core.render.ServingContract.GPUPOOL_ENGINE;
import static io.gpupool.core.render.ServingContract.GPUPOOL_GPU_MEMORY_UTILIZATION;
import static io.gpupool.core.render.ServingContract.GPUPOOL_MAX_CONTEXT_LENGTH;
import static io.gpupool.core.render.ServingContract.GPUPOOL_MODEL_FILE;
import static io.gpupool.core.render.ServingContract.GPUPOOL_MODEL_REVISION;
import static io.gpupool.core.render.ServingContract.GPUPOOL_MODEL_SOURCE;
import static io.gpupool.core.render.ServingContract.GPUPOOL_PORT;
import static io.gpupool.core.render.ServingContract.GPUPOOL_SERVED_MODEL_NAME;
import static io.gpupool.core.render.ServingContract.GPUPOOL_TENSOR_PARALLEL_SIZE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

/**
 * The entrypoint turns every supported contract into the right engine arguments and refuses every invalid one with one
 * clear line; the engine is exec'd (same PID, SIGTERM reaches it).
 */
class EntrypointArgumentsTest {

    @TempDir
    static Path tmp;
    static Entrypoint entrypoint;

    @BeforeAll
    static void start() {
        entrypoint = new Entrypoint(tmp);
    }

    static Map<String, String> vllm() {
        return Fixtures.vllm(entrypoint.cache.toString());
    }

    static Map<String, String> llamacpp() {
        return Fixtures.llamacpp(entrypoint.cache.toString());
    }

    /** The standard Hugging Face cache layout under GPUPOOL_CACHE_DIR/hub. */
    static String snapshot(String repo, String sha) {
        return entrypoint.cache + "/hub/models--" + repo.replace("/", "--") + "/snapshots/" + sha;
    }

    // -----------------------------------------------------------------------------------------------------------------
    // Supported combinations

    record Combo(String engine, String dtype, int tp, boolean allowRemote, boolean askRemote, boolean unsafe,
            List<String> extra) {

        String name() {
            return engine + " dtype=" + dtype + " tp=" + tp + " remoteCode=" + (allowRemote ? "allowed" : "refused")
                    + (askRemote ? "+asked" : "") + " unsafeWeights=" + unsafe + " extra=" + extra.size();
        }

        String repo() {
            if (engine.equals("llamacpp")) {
                return Fixtures.TINY_GGUF;
            }
            return dtype.equals("int8") ? Fixtures.TINY_W8A8 : Fixtures.TINY_LLM;
        }

        String sha() {
            return dtype.equals("int8") ? "4444444444444444444444444444444444444444" : Fixtures.TINY_LLM_SHA;
        }

        Map<String, String> env() {
            Map<String, String> env = engine.equals("vllm") ? vllm() : llamacpp();
            env.put(GPUPOOL_MODEL_SOURCE.name(), "hf://" + repo());
            // vLLM pinned to a commit; llama.cpp's downloader reads the main branch only.
            env.put(GPUPOOL_MODEL_REVISION.name(), engine.equals("vllm") ? sha() : "main");
            env.put(GPUPOOL_DTYPE.name(), dtype);
            env.put(GPUPOOL_TENSOR_PARALLEL_SIZE.name(), String.valueOf(tp));
            env.put(GPUPOOL_ALLOW_REMOTE_CODE.name(), String.valueOf(allowRemote));
            env.put(GPUPOOL_ALLOW_UNSAFE_WEIGHTS.name(), String.valueOf(unsafe));
            env.put("HF_TOKEN", "hf_matrixToken123");
            return env;
        }

        List<String> args() {
            List<String> args = new ArrayList<>();
            if (askRemote) {
                args.add("--trust-remote-code");
            }
            args.addAll(extra);
            return args;
        }

        /** What the engine must receive: an independent statement of the mapping in the README. */
        List<String> expected() {
            List<String> a = new ArrayList<>();
            if (engine.equals("vllm")) {
                a.addAll(List.of("serve", snapshot(repo(), sha()), "--served-model-name", "tiny-llm", "--host", "0.0.0.0",
                        "--port", "8000", "--tensor-parallel-size", String.valueOf(tp), "--max-model-len", "4096"));
                switch (dtype) {
                    case "bf16" -> a.addAll(List.of("--dtype", "bfloat16"));
                    case "fp16" -> a.addAll(List.of("--dtype", "float16"));
                    case "fp8" -> a.addAll(List.of("--quantization", "fp8"));
                    case "int4" -> a.addAll(List.of("--quantization", "bitsandbytes"));
                    case "int8" -> { } // pre-quantized checkpoint (compressed-tensors): vLLM reads it from config.json
                    default -> throw new IllegalStateException(dtype);
                }
                a.addAll(List.of("--gpu-memory-utilization", "0.90"));
                if (!unsafe) {
                    a.addAll(List.of("--load-format", "safetensors"));
                }
            } else {
                a.addAll(List.of("--hf-repo", repo(), "--hf-file", "tiny-Q4_K_M.gguf",
                        "--host", "0.0.0.0", "--port", "8000", "-c", "4096", "-ngl", "999", "--alias", "tiny-gguf",
                        "--metrics", "--no-slots"));
                if (tp == 1) {
                    a.addAll(List.of("--split-mode", "none"));
                } else {
                    a.addAll(List.of("--split-mode", "layer", "--tensor-split", String.join(",", java.util.Collections.nCopies(tp, "1"))));
                }
            }
            a.addAll(args());
            return a;
        }
    }

    static final List<String> VLLM_EXTRA = List.of("--enable-prefix-caching", "--max-num-seqs", "8",
            "--chat-template={% for m in messages %}{{ m['content'] }}{% endfor %} $HOME \"quoted\" it's");
    static final List<String> LLAMA_EXTRA = List.of("-np", "4", "--jinja", "--chat-template",
            "{{ 'a' }} \"b\" $HOME `x`\nsecond line\n");

    static List<Combo> combos() {
        List<Combo> combos = new ArrayList<>();
        for (String dtype : List.of("bf16", "fp16", "fp8", "int8", "int4")) {
            for (boolean unsafe : List.of(false, true)) {
                for (int tp : List.of(1, 2)) {
                    for (boolean[] remote : new boolean[][] {{false, false}, {true, false}, {true, true}}) {
                        for (List<String> extra : List.of(List.<String>of(), VLLM_EXTRA)) {
                            combos.add(new Combo("vllm", dtype, tp, remote[0], remote[1], unsafe, extra));
                        }
                    }
                }
                for (int tp : List.of(1, 2, 3)) {
                    for (boolean allowRemote : List.of(false, true)) {
                        for (List<String> extra : List.of(List.<String>of(), LLAMA_EXTRA)) {
                            combos.add(new Combo("llamacpp", dtype, tp, allowRemote, false, unsafe, extra));
                        }
                    }
                }
            }
        }
        return combos;
    }

    @TestFactory
    Stream<DynamicTest> everySupportedCombinationBuildsTheEngineArguments() {
        List<Combo> combos = combos();
        ExecutorService pool = Executors.newFixedThreadPool(4);
        List<Future<Entrypoint.Result>> results = new ArrayList<>();
        for (Combo combo : combos) {
            results.add(pool.submit(() -> entrypoint.run(combo.env(), combo.args(), Map.of())));
        }
        pool.shutdown();
        List<DynamicTest> tests = new ArrayList<>();
        for (int i = 0; i < combos.size(); i++) {
            Combo combo = combos.get(i);
            Future<Entrypoint.Result> future = results.get(i);
            tests.add(dynamicTest(combo.name(), () -> {
                Entrypoint.Result r = future.get();
                assertThat(r.exit()).as(r.toString()).isZero();
                assertThat(r.stderr()).as(r.toString()).isEmpty();
                assertThat(r.engineName()).isEqualTo(combo.engine().equals("vllm") ? "vllm" : "llama-server");
                assertThat(r.args()).containsExactlyElementsOf(combo.expected());
                assertThat(r.enginePid()).as("exec: the engine keeps the entrypoint's PID").isEqualTo(r.pid());
                String hubCache = entrypoint.cache + "/hub";
                if (combo.engine().equals("vllm")) {
                    // The model is local: vLLM stays offline and code shipped with a model never sees the token.
                    assertThat(r.engineEnv()).containsEntry("HF_TOKEN", "").containsEntry("HF_HUB_OFFLINE", "1")
                            .containsEntry("HF_HUB_CACHE", hubCache);
                } else {
                    // llama.cpp downloads itself, into the same standard cache, with the token; it runs no model code.
                    assertThat(r.engineEnv()).containsEntry("HF_TOKEN", "set").containsEntry("HF_HUB_OFFLINE", "")
                            .containsEntry("LLAMA_CACHE", hubCache);
                }
            }));
        }
        return tests.stream();
    }

    @Test
    void vllmGoldenArguments() {
        Map<String, String> env = vllm();
        env.put(GPUPOOL_SERVED_MODEL_NAME.name(), "acme/tiny chat");
        env.put(GPUPOOL_TENSOR_PARALLEL_SIZE.name(), "4");
        env.put(GPUPOOL_MAX_CONTEXT_LENGTH.name(), "32768");
        env.put(GPUPOOL_GPU_MEMORY_UTILIZATION.name(), "0.85");
        env.put(GPUPOOL_PORT.name(), "8000");
        Entrypoint.Result r = entrypoint.run(env, "--enable-prefix-caching", "--api-key", "sk-very-secret");
        assertThat(r.exit()).as(r.toString()).isZero();
        String snap = snapshot(Fixtures.TINY_LLM, Fixtures.TINY_LLM_SHA);
        assertThat(r.args()).containsExactly("serve", snap,
                "--served-model-name", "acme/tiny chat", "--host", "0.0.0.0", "--port", "8000",
                "--tensor-parallel-size", "4", "--max-model-len", "32768", "--dtype", "bfloat16",
                "--gpu-memory-utilization", "0.85", "--load-format", "safetensors", "--enable-prefix-caching", "--api-key", "sk-very-secret");
        assertThat(r.stdout()).as("extra arguments are counted, not logged").contains("(+ 3 extra argument(s))")
                .doesNotContain("sk-very-secret");
    }

    @Test
    void llamacppGoldenArguments() {
        Map<String, String> env = llamacpp();
        env.put(GPUPOOL_TENSOR_PARALLEL_SIZE.name(), "2");
        env.put(GPUPOOL_MAX_CONTEXT_LENGTH.name(), "8192");
        Entrypoint.Result r = entrypoint.run(env, "-np", "2");
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.engineName()).isEqualTo("llama-server");
        assertThat(r.args()).containsExactly("--hf-repo", Fixtures.TINY_GGUF, "--hf-file", "tiny-Q4_K_M.gguf",
                "--host", "0.0.0.0", "--port", "8000", "-c", "8192", "-ngl", "999", "--alias", "tiny-gguf",
                "--metrics", "--no-slots", "--split-mode", "layer", "--tensor-split", "1,1", "-np", "2");
    }

    @Test
    void prequantizedCheckpointsAreLoadedAsTheyAre() {
        for (String[] c : new String[][] {
                {Fixtures.TINY_AWQ, "int4", "3333333333333333333333333333333333333333"},
                {Fixtures.TINY_FP8, "fp8", "5555555555555555555555555555555555555555"},
                {Fixtures.TINY_W8A8, "int8", "4444444444444444444444444444444444444444"}}) {
            Map<String, String> env = vllm();
            env.put(GPUPOOL_MODEL_SOURCE.name(), "hf://" + c[0]);
            env.put(GPUPOOL_DTYPE.name(), c[1]);
            Entrypoint.Result r = entrypoint.run(env);
            assertThat(r.exit()).as(r.toString()).isZero();
            assertThat(r.args()).as(c[0]).doesNotContain("--quantization", "--dtype")
                    .startsWith("serve", snapshot(c[0], c[2]));
        }
    }

    // -----------------------------------------------------------------------------------------------------------------
    // Visible GPUs

    static Map<String, String> gpus(Map<String, String> env, String tp, String... kv) {
        Map<String, String> e = new HashMap<>(env);
        e.remove("CUDA_VISIBLE_DEVICES");
        e.put(GPUPOOL_TENSOR_PARALLEL_SIZE.name(), tp);
        for (int i = 0; i < kv.length; i += 2) {
            e.put(kv[i], kv[i + 1]);
        }
        return e;
    }

    @Test
    void visibleGpusAreCountedFromTheDeviceVariables() {
        assertThat(entrypoint.run(gpus(vllm(), "2", "NVIDIA_VISIBLE_DEVICES", "GPU-aaa,GPU-bbb")).exit()).isZero();
        assertThat(entrypoint.run(gpus(vllm(), "3", "NVIDIA_VISIBLE_DEVICES", "GPU-aaa,GPU-bbb")).stderr())
                .isEqualTo("gpupool-entrypoint: GPUPOOL_TENSOR_PARALLEL_SIZE=3 exceeds the 2 visible GPU(s)\n");
        // CUDA_VISIBLE_DEVICES is what the CUDA runtime honours: it wins over NVIDIA_VISIBLE_DEVICES.
        assertThat(entrypoint.run(gpus(vllm(), "2", "NVIDIA_VISIBLE_DEVICES", "GPU-aaa,GPU-bbb",
                "CUDA_VISIBLE_DEVICES", "0")).stderr()).contains("exceeds the 1 visible GPU(s)");
        assertThat(entrypoint.run(gpus(vllm(), "1", "CUDA_VISIBLE_DEVICES", "")).stderr())
                .contains("exceeds the 0 visible GPU(s)");
    }

    @Test
    void nvidiaSmiCountsGpusWhenTheVariablesSayAll() throws IOException {
        Path smiDir = tmp.resolve("smi");
        Entrypoint.executable(smiDir.resolve("nvidia-smi"), """
                #!/bin/sh
                [ "$1" = -L ] || exit 2
                echo 'GPU 0: NVIDIA L4 (UUID: GPU-0)'
                echo 'GPU 1: NVIDIA L4 (UUID: GPU-1)'
                echo 'GPU 2: NVIDIA L4 (UUID: GPU-2)'
                """);
        Path migDir = tmp.resolve("mig");
        Entrypoint.executable(migDir.resolve("nvidia-smi"), """
                #!/bin/sh
                echo 'GPU 0: NVIDIA A100-SXM4-80GB (UUID: GPU-0)'
                echo '  MIG 3g.40gb     Device  0: (UUID: MIG-a)'
                echo '  MIG 3g.40gb     Device  1: (UUID: MIG-b)'
                """);
        String path = smiDir + ":" + entrypoint.bin + ":/usr/bin:/bin";
        assertThat(entrypoint.run(gpus(vllm(), "3", "NVIDIA_VISIBLE_DEVICES", "all", "PATH", path)).exit()).isZero();
        assertThat(entrypoint.run(gpus(vllm(), "4", "NVIDIA_VISIBLE_DEVICES", "all", "PATH", path)).stderr())
                .contains("exceeds the 3 visible GPU(s)");
        // The device plugin's volume-mounts strategy puts a path in NVIDIA_VISIBLE_DEVICES.
        assertThat(entrypoint.run(gpus(vllm(), "3", "NVIDIA_VISIBLE_DEVICES", "/var/run/nvidia-container-devices",
                "PATH", path)).exit()).isZero();
        String migPath = migDir + ":" + entrypoint.bin + ":/usr/bin:/bin";
        assertThat(entrypoint.run(gpus(vllm(), "2", "PATH", migPath)).exit()).isZero();
        assertThat(entrypoint.run(gpus(vllm(), "3", "PATH", migPath)).stderr()).contains("exceeds the 2 visible GPU(s)");
    }

    @Test
    void withoutAnyGpuLlamaCppRunsOnTheCpuButVllmDoesNot() {
        Entrypoint.Result cpu = entrypoint.run(gpus(llamacpp(), "1", "NVIDIA_VISIBLE_DEVICES", "void"));
        assertThat(cpu.exit()).as(cpu.toString()).isZero();
        assertThat(cpu.stdout()).contains("no GPU visible: llama.cpp runs on the CPU");
        assertThat(entrypoint.run(gpus(vllm(), "1", "NVIDIA_VISIBLE_DEVICES", "void")).stderr())
                .contains("exceeds the 0 visible GPU(s)");
        // Nothing to count with (no nvidia-smi on PATH either): one GPU is not checked, more are refused.
        String noSmi = entrypoint.bin + ":/usr/bin:/bin";
        assertThat(entrypoint.run(gpus(vllm(), "1", "PATH", noSmi)).exit()).isZero();
        assertThat(entrypoint.run(gpus(vllm(), "2", "PATH", noSmi)).stderr()).isEqualTo("gpupool-entrypoint: "
                + "GPUPOOL_TENSOR_PARALLEL_SIZE=2 but the visible GPUs cannot be counted (no CUDA_VISIBLE_DEVICES, "
                + "NVIDIA_VISIBLE_DEVICES or nvidia-smi)\n");
    }

    // -----------------------------------------------------------------------------------------------------------------
    // Invalid contracts: non-zero exit, one line on stderr, no engine.

    record Invalid(String name, Map<String, String> env, List<String> args, int exit, String message) {
    }

    static Invalid invalid(String name, Map<String, String> base, List<String> args, int exit, String message,
            String... changes) {
        Map<String, String> env = new HashMap<>(base);
        for (int i = 0; i < changes.length; i += 2) {
            env.put(changes[i], changes[i + 1]);
        }
        return new Invalid(name, env, args, exit, message);
    }

    static List<Invalid> invalids() throws IOException {
        Entrypoint.executable(tmp.resolve("only-vllm/vllm"), "#!/bin/sh\nexit 0\n");
        Path regularFile = Files.writeString(tmp.resolve("not-a-directory"), "x");
        Map<String, String> v = vllm();
        Map<String, String> l = llamacpp();
        List<String> none = List.of();
        String engine = GPUPOOL_ENGINE.name();
        String source = GPUPOOL_MODEL_SOURCE.name();
        String tp = GPUPOOL_TENSOR_PARALLEL_SIZE.name();
        return List.of(
                invalid("unknown engine", v, none, 64, "GPUPOOL_ENGINE 'tgi' is not supported (vllm or llamacpp)",
                        engine, "tgi"),
                invalid("missing engine", v, none, 64, "GPUPOOL_ENGINE is required", engine, null),
                invalid("missing model source", v, none, 64, "GPUPOOL_MODEL_SOURCE is required", source, null),
                invalid("s3 scheme", v, none, 64, "GPUPOOL_MODEL_SOURCE scheme 's3://' is not supported",
                        source, "s3://bucket/llama"),
                invalid("pvc scheme", v, none, 64, "GPUPOOL_MODEL_SOURCE scheme 'pvc://' is not supported",
                        source, "pvc://models/llama"),
                invalid("no scheme", v, none, 64, "is not a hf://<org>/<name> URL", source, "acme/tiny-llm"),
                invalid("no org", v, none, 64, "is not a hf://<org>/<name> URL", source, "hf://tiny-llm"),
                invalid("dot-dot in source", v, none, 64, "must not contain '..'", source, "hf://acme/a..b"),
                invalid("missing revision", v, none, 64, "GPUPOOL_MODEL_REVISION is required",
                        GPUPOOL_MODEL_REVISION.name(), null),
                invalid("path in revision", v, none, 64, "GPUPOOL_MODEL_REVISION '../main' is not a valid",
                        GPUPOOL_MODEL_REVISION.name(), "../main"),
                invalid("missing served name", v, none, 64, "GPUPOOL_SERVED_MODEL_NAME is required",
                        GPUPOOL_SERVED_MODEL_NAME.name(), null),
                invalid("zero tensor parallel", v, none, 64, "GPUPOOL_TENSOR_PARALLEL_SIZE '0' is not a positive integer",
                        tp, "0"),
                invalid("word tensor parallel", v, none, 64, "GPUPOOL_TENSOR_PARALLEL_SIZE 'two' is not a positive",
                        tp, "two"),
                invalid("tensor parallel above visible GPUs", v, none, 64,
                        "GPUPOOL_TENSOR_PARALLEL_SIZE=8 exceeds the 4 visible GPU(s)", tp, "8"),
                invalid("llamacpp tensor parallel above visible GPUs", l, none, 64,
                        "GPUPOOL_TENSOR_PARALLEL_SIZE=2 exceeds the 1 visible GPU(s)", tp, "2",
                        "CUDA_VISIBLE_DEVICES", "0"),
                invalid("context length", v, none, 64, "GPUPOOL_MAX_CONTEXT_LENGTH '4k' is not a positive integer",
                        GPUPOOL_MAX_CONTEXT_LENGTH.name(), "4k"),
                invalid("unknown dtype", v, none, 64, "GPUPOOL_DTYPE 'fp32' is not supported",
                        GPUPOOL_DTYPE.name(), "fp32"),
                invalid("missing dtype", v, none, 64, "GPUPOOL_DTYPE is required", GPUPOOL_DTYPE.name(), null),
                invalid("utilization above 1", v, none, 64, "GPUPOOL_GPU_MEMORY_UTILIZATION '1.5' is not a share",
                        GPUPOOL_GPU_MEMORY_UTILIZATION.name(), "1.5"),
                invalid("utilization zero", v, none, 64, "GPUPOOL_GPU_MEMORY_UTILIZATION '0.0' is not a share",
                        GPUPOOL_GPU_MEMORY_UTILIZATION.name(), "0.0"),
                invalid("utilization percent", v, none, 64, "GPUPOOL_GPU_MEMORY_UTILIZATION '90%' is not a share",
                        GPUPOOL_GPU_MEMORY_UTILIZATION.name(), "90%"),
                invalid("port zero", v, none, 64, "GPUPOOL_PORT '0' is not a TCP port", GPUPOOL_PORT.name(), "0"),
                invalid("port too large", v, none, 64, "GPUPOOL_PORT '70000' is not a TCP port",
                        GPUPOOL_PORT.name(), "70000"),
                invalid("relative cache dir", v, none, 64, "GPUPOOL_CACHE_DIR 'models' is not an absolute path",
                        GPUPOOL_CACHE_DIR.name(), "models"),
                invalid("cache dir not writable", v, none, 73, "is not writable by uid",
                        GPUPOOL_CACHE_DIR.name(), regularFile + "/models"),
                invalid("missing cache dir", v, none, 64, "GPUPOOL_CACHE_DIR is required",
                        GPUPOOL_CACHE_DIR.name(), null),
                invalid("remote code flag not boolean", v, none, 64, "GPUPOOL_ALLOW_REMOTE_CODE 'yes' must be true or false",
                        GPUPOOL_ALLOW_REMOTE_CODE.name(), "yes"),
                invalid("unsafe weights flag not boolean", v, none, 64,
                        "GPUPOOL_ALLOW_UNSAFE_WEIGHTS '1' must be true or false", GPUPOOL_ALLOW_UNSAFE_WEIGHTS.name(), "1"),
                invalid("missing remote code flag", v, none, 64, "GPUPOOL_ALLOW_REMOTE_CODE is required",
                        GPUPOOL_ALLOW_REMOTE_CODE.name(), null),
                invalid("trust remote code not allowed", v, List.of("--max-num-seqs", "4", "--trust-remote-code"), 64,
                        "extra argument '--trust-remote-code' needs GPUPOOL_ALLOW_REMOTE_CODE=true"),
                invalid("trust remote code abbreviated", v, List.of("--trust-remote"), 64,
                        "extra argument '--trust-remote' needs GPUPOOL_ALLOW_REMOTE_CODE=true"),
                invalid("trust remote code with a value", v, List.of("--trust-remote-code=True"), 64,
                        "needs GPUPOOL_ALLOW_REMOTE_CODE=true"),
                invalid("trust remote code on llamacpp", l, List.of("--trust-remote-code"), 64,
                        "needs GPUPOOL_ALLOW_REMOTE_CODE=true"),
                invalid("pickle load format", v, List.of("--load-format", "pt"), 64,
                        "extra argument --load-format 'pt' needs GPUPOOL_ALLOW_UNSAFE_WEIGHTS=true"),
                invalid("auto load format", v, List.of("--load-format=auto"), 64,
                        "extra argument --load-format 'auto' needs GPUPOOL_ALLOW_UNSAFE_WEIGHTS=true"),
                invalid("llamacpp without model file", l, none, 64,
                        "GPUPOOL_MODEL_FILE is required with GPUPOOL_ENGINE=llamacpp", GPUPOOL_MODEL_FILE.name(), null),
                invalid("llamacpp with a non-GGUF file", l, none, 64, "GPUPOOL_MODEL_FILE 'model.bin' is not a .gguf file",
                        GPUPOOL_MODEL_FILE.name(), "model.bin"),
                invalid("llamacpp with a path outside the repository", l, none, 64,
                        "GPUPOOL_MODEL_FILE '../other/model.gguf' is not a safe path", GPUPOOL_MODEL_FILE.name(),
                        "../other/model.gguf"),
                invalid("vllm with a model file", v, none, 64, "GPUPOOL_MODEL_FILE is only used with GPUPOOL_ENGINE=llamacpp",
                        GPUPOOL_MODEL_FILE.name(), "tiny-Q4_K_M.gguf"),
                invalid("trust remote code with underscores", v, List.of("--trust_remote_code"), 64,
                        "extra argument '--trust_remote_code' needs GPUPOOL_ALLOW_REMOTE_CODE=true"),
                invalid("trust remote code mixed spelling with a value", v, List.of("--trust-remote_code=1"), 64,
                        "needs GPUPOOL_ALLOW_REMOTE_CODE=true"),
                invalid("pickle load format with underscores", v, List.of("--load_format", "pt"), 64,
                        "extra argument --load-format 'pt' needs GPUPOOL_ALLOW_UNSAFE_WEIGHTS=true"),
                invalid("abbreviated load format", v, List.of("--load-f=npcache"), 64,
                        "extra argument --load-format 'npcache' needs GPUPOOL_ALLOW_UNSAFE_WEIGHTS=true"),
                invalid("bitsandbytes load format can read pickle shards", v, List.of("--load-format", "bitsandbytes"),
                        64, "--load-format 'bitsandbytes' needs GPUPOOL_ALLOW_UNSAFE_WEIGHTS=true"),
                invalid("a config file can set any flag", v, List.of("--config", "/models/x.yaml"), 64,
                        "extra argument '--config' needs GPUPOOL_ALLOW_REMOTE_CODE=true and GPUPOOL_ALLOW_UNSAFE_WEIGHTS=true"),
                invalid("a config file even when remote code alone is allowed", v, List.of("--config=/x.yaml"), 64,
                        "extra argument '--config=/x.yaml' needs", GPUPOOL_ALLOW_REMOTE_CODE.name(), "true"),
                invalid("PYTHONPATH loads code", v, none, 64,
                        "environment variable PYTHONPATH needs GPUPOOL_ALLOW_REMOTE_CODE=true", "PYTHONPATH", "/models"),
                // A library that exists (the C library itself), so that ld.so, which really preloads it for every
                // program the entrypoint starts, says nothing on stderr.
                invalid("LD_PRELOAD loads code", l, none, 64,
                        "environment variable LD_PRELOAD needs GPUPOOL_ALLOW_REMOTE_CODE=true", "LD_PRELOAD",
                        "libc.so.6"),
                invalid("PYTHONSTARTUP loads code", v, none, 64, "environment variable PYTHONSTARTUP needs",
                        "PYTHONSTARTUP", "/models/x.py"),
                invalid("vLLM's insecure serialization unpickles", v, none, 64,
                        "environment variable VLLM_ALLOW_INSECURE_SERIALIZATION needs GPUPOOL_ALLOW_UNSAFE_WEIGHTS=true",
                        "VLLM_ALLOW_INSECURE_SERIALIZATION", "1"),
                invalid("llamacpp at another revision than main", l, none, 64,
                        "GPUPOOL_MODEL_REVISION 'v1.0' cannot be served by llama.cpp, whose downloader reads the main "
                                + "branch only", GPUPOOL_MODEL_REVISION.name(), "v1.0"),
                invalid("engine missing", v, none, 127, "'vllm' not found on PATH", "PATH", "/usr/bin:/bin"),
                invalid("hf missing", v, none, 127, "'hf' not found on PATH", "PATH",
                        entrypoint.bin.resolveSibling("only-vllm") + ":/usr/bin:/bin"),
                invalid("llama-server missing", l, none, 127, "'llama-server' not found on PATH", "PATH",
                        "/usr/bin:/bin"),
                invalid("value with a newline is shown on one line", v, none, 64,
                        "GPUPOOL_ENGINE 'vllm?rm -rf' is not supported", engine, "vllm\nrm -rf"),
                // Found out from the repository: exit 65
                invalid("int8 without a pre-quantized checkpoint", v, none, 65,
                        "GPUPOOL_DTYPE=int8 needs a pre-quantized checkpoint", GPUPOOL_DTYPE.name(), "int8"),
                invalid("vllm on a GGUF-only repository", v, none, 65,
                        "acme/gguf-only@main has no safetensors weights; pickle weights (.bin, .pt) are refused unless "
                                + "GPUPOOL_ALLOW_UNSAFE_WEIGHTS=true, and GGUF files are served with GPUPOOL_ENGINE=llamacpp",
                        source, "hf://" + Fixtures.GGUF_ONLY),
                invalid("a shard index naming a path outside the repository", v, none, 65,
                        "model.safetensors.index.json of acme/hostile@main names an unsafe path "
                                + "'../../../escape.safetensors'", source, "hf://" + Fixtures.HOSTILE),
                // hf says no: exit 69, with the end of its exception
                invalid("gated repository", v, none, 69, "hf download of acme/gated@main failed (exit 1): "
                        + "huggingface_hub.errors.GatedRepoError: 401 Client Error. (Request ID: Root=1-fake) Access to "
                        + "model acme/gated is restricted.", source, "hf://" + Fixtures.GATED),
                invalid("unknown repository", v, none, 69, "hf download of acme/nope@main failed (exit 1): "
                        + "huggingface_hub.errors.RepositoryNotFoundError: 404 Client Error. (Request ID: Root=1-fake) "
                        + "Repository Not Found for url", source, "hf://acme/nope"),
                invalid("unknown revision", v, none, 69, "RevisionNotFoundError: 404 Client Error. Revision Not Found",
                        GPUPOOL_MODEL_REVISION.name(), "no-such-branch"));
    }

    @TestFactory
    Stream<DynamicTest> everyInvalidContractFailsWithOneClearLine() throws IOException {
        List<Invalid> cases = invalids();
        ExecutorService pool = Executors.newFixedThreadPool(4);
        List<Future<Entrypoint.Result>> results = new ArrayList<>();
        for (Invalid c : cases) {
            Map<String, String> env = new HashMap<>(c.env());
            if (c.exit() != 65 && c.exit() != 69) {
                // The contract is checked before any download: with no repository there, a call of hf would have
                // turned the expected message into "Repository Not Found".
                env.put("FAKE_HF_REPOS", tmp.resolve("no-repositories").toString());
            }
            results.add(pool.submit(() -> entrypoint.run(env, c.args(), Map.of())));
        }
        pool.shutdown();
        List<DynamicTest> tests = new ArrayList<>();
        for (int i = 0; i < cases.size(); i++) {
            Invalid c = cases.get(i);
            Future<Entrypoint.Result> future = results.get(i);
            tests.add(dynamicTest(c.name(), () -> {
                Entrypoint.Result r = future.get();
                assertThat(r.exit()).as(r.toString()).isEqualTo(c.exit());
                assertThat(r.stderrLines()).as(r.toString()).hasSize(1);
                assertThat(r.stderrLines().get(0)).startsWith("gpupool-entrypoint: ").contains(c.message());
                assertThat(r.engineStarted()).isFalse();
            }));
        }
        return tests.stream();
    }

    // -----------------------------------------------------------------------------------------------------------------
    // Signals

    @Test
    void sigtermSentToTheEntrypointReachesTheEngine() throws Exception {
        Entrypoint.Started started = entrypoint.start(vllm(), List.of(), Map.of("STUB_HANG", "1"));
        assertThat(started.waitForFile(".ready", Duration.ofSeconds(30))).as(started.result().toString()).isTrue();
        Entrypoint.Result running = started.result();
        assertThat(running.enginePid()).as("exec: the engine replaced the entrypoint").isEqualTo(started.process.pid());

        started.process.destroy(); // SIGTERM to the entrypoint's PID

        assertThat(started.process.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        assertThat(Entrypoint.read(Path.of(started.out + ".term"))).isEqualTo("TERM\n");
        assertThat(started.process.exitValue()).isZero();
    }
}
