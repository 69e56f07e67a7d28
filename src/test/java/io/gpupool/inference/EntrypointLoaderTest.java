package io.gpupool.inference;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static io.gpupool.core.render.ServingContract.GPUPOOL_ALLOW_REMOTE_CODE;
import static io.gpupool.core.render.ServingContract.GPUPOOL_ALLOW_UNSAFE_WEIGHTS;
import static io.gpupool.core.render.ServingContract.GPUPOOL_MODEL_SOURCE;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * What the entrypoint has {@code hf download} fetch for vLLM (config and tokenizer, the safetensors shards the index
 * names, pickle only when allowed and there is no safetensors, code only when allowed and asked), into the standard
 * cache on the cache volume; the token's path; and a stop while downloading.
 */
class EntrypointLoaderTest {

    @TempDir
    Path tmp;
    Entrypoint entrypoint;

    @BeforeEach
    void freshCache() {
        entrypoint = new Entrypoint(tmp);
    }

    Map<String, String> vllm() {
        return Fixtures.vllm(entrypoint.cache.toString());
    }

    Path snapshot(String repo, String sha) {
        return entrypoint.cache.resolve("hub/models--" + repo.replace("/", "--") + "/snapshots/" + sha);
    }

    /** What vLLM needs from acme/tiny-llm: config and tokenizer files, and the shards the index names. */
    static final List<String> TINY_LLM_SELECTION = List.of("config.json", "generation_config.json",
            "model.safetensors.index.json", "tokenizer.json", "tokenizer_config.json",
            "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors");

    static Entrypoint.Result ok(Entrypoint.Result r) {
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.stderr()).as(r.toString()).isEmpty();
        return r;
    }

    @Test
    void fetchesConfigTokenizerAndTheIndexedShardsIntoTheStandardCacheAndServesTheLocalSnapshot() throws IOException {
        Path snap = snapshot(Fixtures.TINY_LLM, Fixtures.TINY_LLM_SHA);
        Entrypoint.Result first = ok(entrypoint.run(vllm()));
        assertThat(entrypoint.hf.fetched(Fixtures.TINY_LLM)).containsExactlyInAnyOrderElementsOf(TINY_LLM_SELECTION);
        for (String file : TINY_LLM_SELECTION) {
            assertThat(Files.readAllBytes(snap.resolve(file))).as(file)
                    .isEqualTo(entrypoint.hf.repo(Fixtures.TINY_LLM).content(file));
        }
        assertThat(first.args().get(1)).isEqualTo(snap.toString());
        assertThat(entrypoint.cache.resolve("hub/models--acme--tiny-llm/refs/main")).hasContent(Fixtures.TINY_LLM_SHA);
        // The weights are asked for at the commit the first call resolved, so a branch that moves in between cannot
        // mix two revisions.
        assertThat(entrypoint.hf.calls()).extracting(FakeHf.Call::args).containsExactly(
                "download acme/tiny-llm --revision main --include *.json *.txt *.model *.tiktoken *.jinja *.vocab *.spm "
                        + "--exclude original/* --quiet",
                "download acme/tiny-llm model-00001-of-00002.safetensors model-00002-of-00002.safetensors --revision "
                        + Fixtures.TINY_LLM_SHA + " --quiet");
        assertThat(first.stdout()).contains("gpupool-entrypoint: downloading acme/tiny-llm@main into "
                + entrypoint.cache + "/hub");

        // A second replica on the node (same cache volume): hf finds every file in the cache and fetches nothing.
        entrypoint.hf.clearLog();
        Entrypoint.Result second = ok(entrypoint.run(vllm()));
        assertThat(entrypoint.hf.fetched(Fixtures.TINY_LLM)).isEmpty();
        assertThat(second.args()).isEqualTo(first.args());
    }

    @Test
    void withoutAnIndexEverySafetensorsFileOutsideOriginalIsFetched() {
        Map<String, String> env = vllm();
        env.put(GPUPOOL_MODEL_SOURCE.name(), "hf://" + Fixtures.TINY_AWQ);
        ok(entrypoint.run(env));
        assertThat(entrypoint.hf.fetched(Fixtures.TINY_AWQ)).containsExactlyInAnyOrder("config.json", "tokenizer.json",
                "model.safetensors");
    }

    @Test
    void remoteCodeIsFetchedOnlyWhenAllowedAndAsked() {
        Map<String, String> allowed = vllm();
        allowed.put(GPUPOOL_ALLOW_REMOTE_CODE.name(), "true");
        ok(entrypoint.run(allowed));
        assertThat(entrypoint.hf.fetched(Fixtures.TINY_LLM)).noneMatch(f -> f.endsWith(".py"));

        entrypoint.hf.clearLog();
        Entrypoint.Result asked = ok(entrypoint.run(allowed, "--trust-remote-code"));
        assertThat(entrypoint.hf.fetched(Fixtures.TINY_LLM)).containsExactlyInAnyOrder("configuration_tiny.py",
                "modeling_tiny.py");
        assertThat(asked.args()).containsOnlyOnce("--trust-remote-code").endsWith("--trust-remote-code");
    }

    @Test
    void pickleWeightsAreRefusedUnlessAllowedAndNeverFetchedWhenSafetensorsExist() throws IOException {
        Map<String, String> pickle = vllm();
        pickle.put(GPUPOOL_MODEL_SOURCE.name(), "hf://" + Fixtures.PICKLE_ONLY);
        Entrypoint.Result refused = entrypoint.run(pickle);
        assertThat(refused.exit()).isEqualTo(65);
        assertThat(refused.stderr()).isEqualTo("gpupool-entrypoint: acme/pickle-only@main has no safetensors weights; "
                + "pickle weights (.bin, .pt) are refused unless GPUPOOL_ALLOW_UNSAFE_WEIGHTS=true, and GGUF files are "
                + "served with GPUPOOL_ENGINE=llamacpp\n");
        assertThat(entrypoint.hf.fetched(Fixtures.PICKLE_ONLY)).noneMatch(f -> f.endsWith(".bin") || f.endsWith(".pt"));
        assertThat(refused.engineStarted()).isFalse();

        pickle.put(GPUPOOL_ALLOW_UNSAFE_WEIGHTS.name(), "true");
        Entrypoint.Result allowed = ok(entrypoint.run(pickle));
        assertThat(entrypoint.hf.fetched(Fixtures.PICKLE_ONLY)).containsExactlyInAnyOrder("config.json",
                "tokenizer.json", "pytorch_model.bin");
        assertThat(allowed.args()).doesNotContain("--load-format");

        // A repository with both: safetensors only, even when pickle is allowed.
        Map<String, String> both = vllm();
        both.put(GPUPOOL_ALLOW_UNSAFE_WEIGHTS.name(), "true");
        ok(entrypoint.run(both));
        assertThat(entrypoint.hf.fetched(Fixtures.TINY_LLM)).containsExactlyInAnyOrderElementsOf(TINY_LLM_SELECTION);
        try (Stream<Path> files = Files.walk(entrypoint.cache)) {
            assertThat(files.map(Path::toString)).filteredOn(p -> p.contains("tiny-llm"))
                    .noneMatch(p -> p.endsWith(".bin") || p.endsWith(".py") || p.contains("consolidated")
                            || p.contains("original") || p.endsWith(".onnx"));
        }
    }

    @Test
    void theTokenGoesToHfButNotToVllm() {
        Entrypoint.Result r = ok(entrypoint.run(vllm(), List.of(), Map.of("HF_TOKEN", "hf_s3cretToken")));
        assertThat(entrypoint.hf.calls()).isNotEmpty().allSatisfy(c -> assertThat(c.token()).isTrue());
        assertThat(r.engineEnv()).containsEntry("HF_TOKEN", "").containsEntry("HF_HUB_OFFLINE", "1");
        assertThat(r.stdout()).doesNotContain("hf_s3cretToken");

        // A gated repository is fetched with the token.
        Map<String, String> gated = vllm();
        gated.put(GPUPOOL_MODEL_SOURCE.name(), "hf://" + Fixtures.GATED);
        ok(entrypoint.run(gated, List.of(), Map.of("HF_TOKEN", "hf_s3cretToken")));
        assertThat(entrypoint.hf.fetched(Fixtures.GATED)).contains("model.safetensors");
    }

    @Test
    void llamaCppDownloadsItselfIntoTheSameCacheAndNothingIsFetchedBeforeIt() {
        Entrypoint.Result r = ok(entrypoint.run(Fixtures.llamacpp(entrypoint.cache.toString()), List.of(),
                Map.of("HF_TOKEN", "hf_s3cretToken")));
        assertThat(entrypoint.hf.calls()).isEmpty();
        assertThat(r.engineName()).isEqualTo("llama-server");
        assertThat(r.args()).startsWith("--hf-repo", Fixtures.TINY_GGUF, "--hf-file", "tiny-Q4_K_M.gguf");
        assertThat(r.engineEnv()).containsEntry("LLAMA_CACHE", entrypoint.cache + "/hub")
                .containsEntry("HF_HUB_CACHE", entrypoint.cache + "/hub").containsEntry("HF_TOKEN", "set");
    }

    @Test
    void sigtermWhileDownloadingStopsHfAndExits143() throws Exception {
        Map<String, String> env = vllm();
        env.put(GPUPOOL_MODEL_SOURCE.name(), "hf://" + Fixtures.SLOW);
        Entrypoint.Started started = entrypoint.start(env, List.of());
        Path hanging = Path.of(entrypoint.hf.log + ".hanging");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!Files.exists(hanging) && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(hanging).exists();

        started.process.destroy(); // SIGTERM, as the kubelet sends it
        assertThat(started.process.waitFor(10, TimeUnit.SECONDS)).isTrue();
        Entrypoint.Result stopped = started.result();
        assertThat(stopped.exit()).isEqualTo(143);
        assertThat(stopped.stdout()).contains("terminated while downloading the model; partial files are resumed");
        assertThat(stopped.engineStarted()).isFalse();
        long termDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        Path term = Path.of(entrypoint.hf.log + ".term");
        while (!Files.exists(term) && System.nanoTime() < termDeadline) {
            Thread.sleep(20);
        }
        assertThat(term).as("hf got the SIGTERM too").hasContent("TERM");
    }
}
