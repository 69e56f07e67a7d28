package io.gpupool.inference;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static io.gpupool.core.render.ServingContract.GPUPOOL_ALLOW_REMOTE_CODE;
import static io.gpupool.core.render.ServingContract.GPUPOOL_ALLOW_UNSAFE_WEIGHTS;
import static io.gpupool.core.render.ServingContract.GPUPOOL_MODEL_FILE;
import static io.gpupool.core.render.ServingContract.GPUPOOL_MODEL_REVISION;
import static io.gpupool.core.render.ServingContract.GPUPOOL_MODEL_SOURCE;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Model download against a local stand-in for the Hugging Face hub: what is fetched (safetensors only, never pickle
 * unless allowed, only the named GGUF), the cache (hits make no file request), the node-shared lock (two replicas fetch
 * each file once), resumption after an interruption, and the token's path.
 */
class EntrypointDownloadTest {

    static FakeHub hub;

    @TempDir
    Path tmp;
    Entrypoint entrypoint;

    @BeforeAll
    static void startHub() throws IOException {
        hub = FakeHub.withFixtures();
    }

    @AfterAll
    static void stopHub() {
        hub.close();
    }

    @BeforeEach
    void freshCache() {
        entrypoint = new Entrypoint(tmp);
        hub.clearRequests();
        hub.fileDelayMillis(0);
    }

    Map<String, String> vllm() {
        Map<String, String> env = Fixtures.vllm(entrypoint.cache.toString());
        env.put("HF_ENDPOINT", hub.endpoint());
        return env;
    }

    Map<String, String> llamacpp() {
        Map<String, String> env = Fixtures.llamacpp(entrypoint.cache.toString());
        env.put("HF_ENDPOINT", hub.endpoint());
        return env;
    }

    Path snapshot(String repo, String sha) {
        return entrypoint.cache.resolve("gpupool/hf/" + repo + "/snapshots/" + sha);
    }

    /** What vLLM needs from acme/tiny-llm: config and tokenizer files, and the shards the index names. */
    static final List<String> TINY_LLM_SELECTION = List.of("config.json", "generation_config.json", "tokenizer.json",
            "tokenizer_config.json", "model.safetensors.index.json", "model-00001-of-00002.safetensors",
            "model-00002-of-00002.safetensors");

    List<String> requestedFiles(String repo) {
        return hub.fileRequests(repo).stream().map(FakeHub.Request::file).toList();
    }

    void assertSameBytes(Path snapshot, String repo, String file) throws IOException {
        assertThat(Files.readAllBytes(snapshot.resolve(file))).as(file).isEqualTo(hub.repo(repo).files.get(file));
    }

    static Entrypoint.Result ok(Entrypoint.Result r) {
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.stderr()).as(r.toString()).isEmpty();
        return r;
    }

    @Test
    void downloadsTheSafetensorsCheckpointOnceAndServesLaterStartsFromTheCache() throws IOException {
        Path snap = snapshot(Fixtures.TINY_LLM, Fixtures.TINY_LLM_SHA);
        Entrypoint.Result first = ok(entrypoint.run(vllm()));
        assertThat(requestedFiles(Fixtures.TINY_LLM)).containsExactlyInAnyOrderElementsOf(TINY_LLM_SELECTION);
        for (String file : TINY_LLM_SELECTION) {
            assertSameBytes(snap, Fixtures.TINY_LLM, file);
        }
        try (Stream<Path> files = Files.walk(entrypoint.cache)) {
            assertThat(files.map(Path::toString)).noneMatch(p -> p.endsWith(".part") || p.endsWith(".py")
                    || p.endsWith(".bin") || p.endsWith(".pth") || p.contains("consolidated"));
        }
        assertThat(first.args().get(1)).isEqualTo(snap.toString());

        // Cache hit by branch: the listing is asked for (a branch moves), no file is.
        hub.clearRequests();
        Entrypoint.Result second = ok(entrypoint.run(vllm()));
        assertThat(hub.fileRequests(Fixtures.TINY_LLM)).isEmpty();
        assertThat(hub.apiRequests(Fixtures.TINY_LLM)).hasSize(1);
        assertThat(second.stdout()).contains("cache hit: acme/tiny-llm@" + Fixtures.TINY_LLM_SHA);
        assertThat(second.args()).isEqualTo(first.args());

        // Cache hit by commit: a commit cannot move, so there is no request at all.
        hub.clearRequests();
        Map<String, String> pinned = vllm();
        pinned.put(GPUPOOL_MODEL_REVISION.name(), Fixtures.TINY_LLM_SHA);
        assertThat(ok(entrypoint.run(pinned)).args()).isEqualTo(first.args());
        assertThat(hub.requests()).isEmpty();

        // A file lost from the cache is fetched again, and only that one.
        Files.delete(snap.resolve("model-00002-of-00002.safetensors"));
        hub.clearRequests();
        ok(entrypoint.run(pinned));
        assertThat(requestedFiles(Fixtures.TINY_LLM)).containsExactly("model-00002-of-00002.safetensors");
        assertSameBytes(snap, Fixtures.TINY_LLM, "model-00002-of-00002.safetensors");
    }

    @Test
    void remoteCodeIsDownloadedOnlyWhenAllowedAndAsked() {
        Map<String, String> allowed = vllm();
        allowed.put(GPUPOOL_ALLOW_REMOTE_CODE.name(), "true");
        ok(entrypoint.run(allowed));
        assertThat(requestedFiles(Fixtures.TINY_LLM)).noneMatch(f -> f.endsWith(".py"));

        hub.clearRequests();
        Entrypoint.Result asked = ok(entrypoint.run(allowed, "--trust-remote-code"));
        assertThat(requestedFiles(Fixtures.TINY_LLM)).containsExactlyInAnyOrder("configuration_tiny.py",
                "modeling_tiny.py");
        assertThat(asked.args()).containsOnlyOnce("--trust-remote-code").endsWith("--trust-remote-code");
    }

    @ParameterizedTest(name = "lock: {0}")
    @ValueSource(strings = {"flock", "mkdir"})
    void twoReplicasOnOneNodeDownloadEachFileOnce(String lockMode) throws Exception {
        hub.fileDelayMillis(150); // the first replica is still downloading when the second asks
        Map<String, String> knobs = Map.of("GPUPOOL_TEST_LOCK_MODE", lockMode);
        Entrypoint.Started a = entrypoint.start(vllm(), List.of(), knobs);
        Entrypoint.Started b = entrypoint.start(vllm(), List.of(), knobs);
        Entrypoint.Result ra = ok(a.await());
        Entrypoint.Result rb = ok(b.await());

        for (String file : TINY_LLM_SELECTION) {
            assertThat(hub.fileRequests(Fixtures.TINY_LLM, file)).as(file).hasSize(1);
            assertSameBytes(snapshot(Fixtures.TINY_LLM, Fixtures.TINY_LLM_SHA), Fixtures.TINY_LLM, file);
        }
        assertThat(hub.fileRequests(Fixtures.TINY_LLM)).hasSize(TINY_LLM_SELECTION.size());
        assertThat(ra.args()).isEqualTo(rb.args());
        assertThat(ra.stdout() + rb.stdout()).contains("waiting for another replica on this node")
                .contains("another replica downloaded acme/tiny-llm@" + Fixtures.TINY_LLM_SHA + " (vllm): reusing it");
        assertThat(entrypoint.cache.resolve("gpupool/hf/acme/tiny-llm/.lock.d")).doesNotExist();
    }

    @Test
    void aStaleMkdirLockIsTakenOver() throws IOException {
        Path lock = Files.createDirectories(entrypoint.cache.resolve("gpupool/hf/acme/tiny-llm/.lock.d"));
        Files.writeString(lock.resolve("beat"), "41\n"); // a replica that died holding the lock
        Entrypoint.Result r = ok(entrypoint.run(vllm(), List.of(),
                Map.of("GPUPOOL_TEST_LOCK_MODE", "mkdir", "GPUPOOL_TEST_LOCK_STALE_SECONDS", "1")));
        assertThat(r.stdout()).contains("the download lock has had no heartbeat for 1s: taking it over");
        assertThat(lock).doesNotExist();
    }

    @Test
    void aCutConnectionIsResumedWithARangeRequest() throws IOException {
        String file = "model-00001-of-00002.safetensors";
        hub.cutOnce(Fixtures.TINY_LLM, file, 100_000);
        Entrypoint.Result r = ok(entrypoint.run(vllm()));
        List<FakeHub.Request> requests = hub.fileRequests(Fixtures.TINY_LLM, file);
        assertThat(requests).extracting(FakeHub.Request::range).containsExactly(null, "bytes=100000-");
        assertThat(r.stdout()).contains("resuming " + file + " at byte 100000");
        assertSameBytes(snapshot(Fixtures.TINY_LLM, Fixtures.TINY_LLM_SHA), Fixtures.TINY_LLM, file);
    }

    @Test
    void aReplicaKilledMidDownloadLeavesAPartThatTheNextStartResumes() throws Exception {
        String file = "model-00002-of-00002.safetensors";
        Path part = snapshot(Fixtures.TINY_LLM, Fixtures.TINY_LLM_SHA).resolve(file + ".part");
        hub.stallOnce(Fixtures.TINY_LLM, file, 65_536);
        Entrypoint.Started started = entrypoint.start(vllm(), List.of());
        assertThat(hub.awaitStall(30)).isTrue();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while ((!Files.exists(part) || Files.size(part) == 0) && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }

        started.process.destroy(); // SIGTERM, as the kubelet sends it
        assertThat(started.process.waitFor(10, TimeUnit.SECONDS)).isTrue();
        Entrypoint.Result killed = started.result();
        assertThat(killed.exit()).isEqualTo(143);
        assertThat(killed.stdout()).contains("terminated while preparing the model; partial downloads are kept");
        assertThat(killed.engineStarted()).isFalse();
        long kept = Files.size(part);
        assertThat(kept).isPositive().isLessThanOrEqualTo(65_536);
        hub.releaseStall();

        hub.clearRequests();
        Entrypoint.Result resumed = ok(entrypoint.run(vllm()));
        assertThat(hub.fileRequests(Fixtures.TINY_LLM, file)).extracting(FakeHub.Request::range)
                .containsExactly("bytes=" + kept + "-");
        assertThat(resumed.stdout()).contains("resuming " + file + " at byte " + kept);
        assertSameBytes(snapshot(Fixtures.TINY_LLM, Fixtures.TINY_LLM_SHA), Fixtures.TINY_LLM, file);
        assertThat(part).doesNotExist();
    }

    @Test
    void pickleWeightsAreRefusedUnlessAllowedAndNeverFetchedWhenSafetensorsExist() {
        Map<String, String> pickle = vllm();
        pickle.put(GPUPOOL_MODEL_SOURCE.name(), "hf://" + Fixtures.PICKLE_ONLY);
        Entrypoint.Result refused = entrypoint.run(pickle);
        assertThat(refused.exit()).isEqualTo(65);
        assertThat(refused.stderr()).isEqualTo("gpupool-entrypoint: acme/pickle-only@main has only pickle weights "
                + "(pytorch_model.bin, 1 file(s)); refusing them unless GPUPOOL_ALLOW_UNSAFE_WEIGHTS=true\n");
        assertThat(hub.fileRequests(Fixtures.PICKLE_ONLY)).isEmpty();

        pickle.put(GPUPOOL_ALLOW_UNSAFE_WEIGHTS.name(), "true");
        Entrypoint.Result allowed = ok(entrypoint.run(pickle));
        assertThat(requestedFiles(Fixtures.PICKLE_ONLY)).containsExactlyInAnyOrder("config.json", "tokenizer.json",
                "pytorch_model.bin");
        assertThat(allowed.args()).doesNotContain("--load-format");

        // A repository with both: safetensors only, even when pickle is allowed.
        Map<String, String> both = vllm();
        both.put(GPUPOOL_ALLOW_UNSAFE_WEIGHTS.name(), "true");
        ok(entrypoint.run(both));
        assertThat(requestedFiles(Fixtures.TINY_LLM)).containsExactlyInAnyOrderElementsOf(TINY_LLM_SELECTION);
    }

    @Test
    void llamaCppFetchesOnlyTheNamedGgufFile() throws IOException {
        Path snap = snapshot(Fixtures.TINY_GGUF, "2222222222222222222222222222222222222222");
        Entrypoint.Result r = ok(entrypoint.run(llamacpp()));
        assertThat(requestedFiles(Fixtures.TINY_GGUF)).containsExactly("tiny-Q4_K_M.gguf");
        assertSameBytes(snap, Fixtures.TINY_GGUF, "tiny-Q4_K_M.gguf");
        assertThat(r.args()).startsWith("-m", snap.resolve("tiny-Q4_K_M.gguf").toString());

        // A split GGUF: the named first part and its siblings.
        hub.clearRequests();
        Map<String, String> split = llamacpp();
        split.put(GPUPOOL_MODEL_FILE.name(), "split/tiny-F16-00001-of-00002.gguf");
        Entrypoint.Result s = ok(entrypoint.run(split));
        assertThat(requestedFiles(Fixtures.TINY_GGUF)).containsExactlyInAnyOrder(
                "split/tiny-F16-00001-of-00002.gguf", "split/tiny-F16-00002-of-00002.gguf");
        assertThat(s.args()).startsWith("-m", snap.resolve("split/tiny-F16-00001-of-00002.gguf").toString());
        assertSameBytes(snap, Fixtures.TINY_GGUF, "split/tiny-F16-00002-of-00002.gguf");
    }

    @Test
    void hostileFileNamesInTheListingAreNeverFetched() throws IOException {
        Map<String, String> env = vllm();
        env.put(GPUPOOL_MODEL_SOURCE.name(), "hf://" + Fixtures.HOSTILE);
        ok(entrypoint.run(env));
        assertThat(requestedFiles(Fixtures.HOSTILE)).containsExactlyInAnyOrder("config.json", "model.safetensors");
        try (Stream<Path> files = Files.walk(tmp)) {
            assertThat(files.map(Path::toString)).noneMatch(p -> p.contains("escape") || p.contains("passwd"));
        }
    }

    @Test
    void theTokenGoesToTheHubButNotToTheEngine() {
        Entrypoint.Result r = ok(entrypoint.run(vllm(), List.of(), Map.of("HF_TOKEN", "hf_s3cretToken")));
        assertThat(hub.requests()).isNotEmpty()
                .allSatisfy(req -> assertThat(req.authorization()).isEqualTo("Bearer hf_s3cretToken"));
        assertThat(r.engineEnv()).containsEntry("HF_TOKEN", "").containsEntry("HF_HUB_OFFLINE", "1");
        assertThat(r.stdout()).doesNotContain("hf_s3cretToken");

        hub.clearRequests();
        ok(entrypoint.run(vllm()));
        assertThat(hub.requests()).isNotEmpty().allSatisfy(req -> assertThat(req.authorization()).isNull());
    }

    @Test
    void anUnreachableHubFailsAfterRetriesButStillServesACompleteCachedSnapshot() throws IOException {
        int closedPort;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort();
        }
        Map<String, String> offline = vllm();
        offline.put("HF_ENDPOINT", "http://127.0.0.1:" + closedPort);
        Entrypoint.Result nothingCached = entrypoint.run(offline);
        assertThat(nothingCached.exit()).isEqualTo(69);
        assertThat(nothingCached.stderr()).isEqualTo("gpupool-entrypoint: cannot reach http://127.0.0.1:" + closedPort
                + " to list acme/tiny-llm@main (curl exit 7)\n");

        ok(entrypoint.run(vllm()));
        Entrypoint.Result r = ok(entrypoint.run(offline));
        assertThat(r.stdout()).contains("warning: cannot reach http://127.0.0.1:" + closedPort
                + " to list acme/tiny-llm@main (curl exit 7); serving the cached acme/tiny-llm@" + Fixtures.TINY_LLM_SHA);
    }
}
