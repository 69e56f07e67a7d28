package io.gpupool.inference;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A local stand-in for the Hugging Face hub on 127.0.0.1 (port 0): {@code GET /api/models/{org}/{name}/revision/{rev}}
 * answers the JSON listing ({@code siblings[].rfilename}, with size and lfs.sha256 when the repository is set up with
 * blob metadata), {@code GET /{org}/{name}/resolve/{rev}/{file}} serves the bytes, with range requests. It records
 * every request and can cut or stall a file's first response.
 */
final class FakeHub implements AutoCloseable {

    record Request(String kind, String repo, String file, String range, String authorization) {
    }

    static final class Repo {
        final String id;
        final String sha;
        final Map<String, byte[]> files = new LinkedHashMap<>();
        boolean blobMetadata = true;
        boolean pretty;
        int status = 200;

        Repo(String id, String sha) {
            this.id = id;
            this.sha = sha;
        }

        Repo file(String name, byte[] content) {
            files.put(name, content);
            return this;
        }

        Repo file(String name, String content) {
            return file(name, content.getBytes(StandardCharsets.UTF_8));
        }

        /** A file listed by the API with no content behind it (a hostile or broken listing). */
        Repo listedOnly(String name) {
            files.put(name, null);
            return this;
        }
    }

    private enum FaultKind { CUT, STALL }

    private record Fault(FaultKind kind, int at) {
    }

    private static final Pattern API = Pattern.compile("^/api/models/([^/]+)/([^/]+)/revision/([^/?]+)$");
    private static final Pattern RESOLVE = Pattern.compile("^/([^/]+)/([^/]+)/resolve/([^/]+)/(.+)$");
    private static final Pattern RANGE = Pattern.compile("^bytes=(\\d+)-$");

    private final HttpServer server;
    private final ExecutorService executor = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "fake-hub");
        t.setDaemon(true);
        return t;
    });
    private final Map<String, Repo> repos = new ConcurrentHashMap<>();
    private final List<Request> requests = new ArrayList<>();
    private final Map<String, Fault> faults = new ConcurrentHashMap<>();
    private final CountDownLatch stallReached = new CountDownLatch(1);
    private final CountDownLatch stallRelease = new CountDownLatch(1);
    private volatile long fileDelayMillis;

    FakeHub() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setExecutor(executor);
        server.createContext("/", this::handle);
        server.start();
    }

    String endpoint() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    Repo repo(String id, String sha) {
        Repo repo = new Repo(id, sha);
        repos.put(id, repo);
        return repo;
    }

    Repo repo(String id) {
        return repos.get(id);
    }

    /** The first response for the file sends {@code at} bytes and then drops the connection. */
    void cutOnce(String repo, String file, int at) {
        faults.put(repo + "/" + file, new Fault(FaultKind.CUT, at));
    }

    /** The first response for the file sends {@code at} bytes and then hangs until {@link #releaseStall()}. */
    void stallOnce(String repo, String file, int at) {
        faults.put(repo + "/" + file, new Fault(FaultKind.STALL, at));
    }

    boolean awaitStall(long seconds) throws InterruptedException {
        return stallReached.await(seconds, TimeUnit.SECONDS);
    }

    void releaseStall() {
        stallRelease.countDown();
    }

    void fileDelayMillis(long millis) {
        fileDelayMillis = millis;
    }

    synchronized List<Request> requests() {
        return List.copyOf(requests);
    }

    synchronized void clearRequests() {
        requests.clear();
    }

    List<Request> fileRequests(String repo) {
        return requests().stream().filter(r -> r.kind().equals("file") && r.repo().equals(repo)).toList();
    }

    List<Request> fileRequests(String repo, String file) {
        return fileRequests(repo).stream().filter(r -> r.file().equals(file)).toList();
    }

    List<Request> apiRequests(String repo) {
        return requests().stream().filter(r -> r.kind().equals("api") && r.repo().equals(repo)).toList();
    }

    @Override
    public void close() {
        releaseStall();
        server.stop(0);
        executor.shutdownNow();
    }

    private synchronized void record(Request request) {
        requests.add(request);
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String path = exchange.getRequestURI().getRawPath();
            String auth = exchange.getRequestHeaders().getFirst("Authorization");
            Matcher api = API.matcher(path);
            Matcher resolve = RESOLVE.matcher(path);
            if (api.matches()) {
                String id = api.group(1) + "/" + api.group(2);
                record(new Request("api", id, null, null, auth));
                Repo repo = repos.get(id);
                String rev = URLDecoder.decode(api.group(3), StandardCharsets.UTF_8);
                if (repo == null || !(rev.equals("main") || rev.equals(repo.sha))) {
                    send(exchange, 404, "{\"error\":\"Repository not found\"}");
                } else if (repo.status != 200) {
                    send(exchange, repo.status, "{\"error\":\"Access to this model is restricted\"}");
                } else {
                    send(exchange, 200, listing(repo));
                }
            } else if (resolve.matches()) {
                String id = resolve.group(1) + "/" + resolve.group(2);
                String file = URLDecoder.decode(resolve.group(4), StandardCharsets.UTF_8);
                String range = exchange.getRequestHeaders().getFirst("Range");
                record(new Request("file", id, file, range, auth));
                serveFile(exchange, repos.get(id), id, file, range);
            } else {
                send(exchange, 404, "not found");
            }
        }
    }

    private void serveFile(HttpExchange exchange, Repo repo, String id, String file, String range) throws IOException {
        if (repo == null || repo.files.get(file) == null) {
            send(exchange, 404, "Entry not found");
            return;
        }
        if (repo.status != 200) {
            send(exchange, repo.status, "restricted");
            return;
        }
        sleep(fileDelayMillis);
        byte[] content = repo.files.get(file);
        int start = 0;
        if (range != null) {
            Matcher m = RANGE.matcher(range);
            if (m.matches()) {
                start = Integer.parseInt(m.group(1));
            }
            if (start >= content.length) {
                exchange.getResponseHeaders().set("Content-Range", "bytes */" + content.length);
                exchange.sendResponseHeaders(416, -1);
                return;
            }
            exchange.getResponseHeaders().set("Content-Range",
                    "bytes " + start + "-" + (content.length - 1) + "/" + content.length);
        }
        exchange.getResponseHeaders().set("Accept-Ranges", "bytes");
        exchange.getResponseHeaders().set("Content-Type", "application/octet-stream");
        exchange.sendResponseHeaders(range != null ? 206 : 200, content.length - start);
        OutputStream out = exchange.getResponseBody();
        Fault fault = faults.remove(id + "/" + file);
        if (fault != null && fault.at() > start) {
            out.write(content, start, fault.at() - start);
            out.flush();
            if (fault.kind() == FaultKind.STALL) {
                stallReached.countDown();
                try {
                    stallRelease.await(60, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            // Throwing from the handler makes the server drop the connection mid-body.
            throw new IOException("connection cut by the test after " + fault.at() + " bytes");
        }
        out.write(content, start, content.length - start);
    }

    private static void send(HttpExchange exchange, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(status, bytes.length);
        exchange.getResponseBody().write(bytes);
    }

    private static String listing(Repo repo) {
        String sep = repo.pretty ? "\n  " : "";
        String colon = repo.pretty ? ": " : ":";
        StringBuilder json = new StringBuilder("{").append(sep);
        json.append("\"_id\"").append(colon).append("\"").append(Integer.toHexString(repo.id.hashCode())).append("\",").append(sep);
        json.append("\"id\"").append(colon).append("\"").append(repo.id).append("\",").append(sep);
        json.append("\"private\"").append(colon).append("false,").append(sep);
        json.append("\"tags\"").append(colon).append("[\"safetensors\",\"text-generation\"],").append(sep);
        json.append("\"sha\"").append(colon).append("\"").append(repo.sha).append("\",").append(sep);
        json.append("\"config\"").append(colon).append("{\"architectures\":[\"LlamaForCausalLM\"],\"model_type\":\"llama\"},")
                .append(sep);
        json.append("\"siblings\"").append(colon).append("[");
        boolean first = true;
        for (Map.Entry<String, byte[]> e : repo.files.entrySet()) {
            json.append(first ? "" : ",").append(sep).append(repo.pretty ? "  " : "");
            first = false;
            json.append("{\"rfilename\"").append(colon).append("\"").append(e.getKey().replace("\"", "\\\"")).append("\"");
            byte[] content = e.getValue();
            if (repo.blobMetadata && content != null) {
                json.append(",\"blobId\":\"").append(sha256(content), 0, 40).append("\"");
                json.append(",\"size\"").append(colon).append(content.length);
                if (e.getKey().matches(".*\\.(safetensors|bin|gguf|pth)$")) {
                    json.append(",\"lfs\":{\"sha256\"").append(colon).append("\"").append(sha256(content))
                            .append("\",\"size\":").append(content.length).append(",\"pointerSize\":134}");
                }
            }
            json.append("}");
        }
        json.append(sep).append("],").append(sep);
        json.append("\"spaces\"").append(colon).append("[],").append(sep);
        json.append("\"safetensors\"").append(colon).append("{\"parameters\":{\"BF16\":1000},\"total\":1000},").append(sep);
        json.append("\"usedStorage\"").append(colon).append("123456").append(repo.pretty ? "\n" : "").append("}");
        return json.toString();
    }

    static String sha256(byte[] content) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(content));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static byte[] randomBytes(long seed, int size) {
        byte[] bytes = new byte[size];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }

    private static void sleep(long millis) {
        if (millis > 0) {
            try {
                Thread.sleep(millis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** The fake repositories the tests share. */
    static FakeHub withFixtures() throws IOException {
        FakeHub hub = new FakeHub();
        String index = """
                {"metadata": {"total_size": 360448},
                 "weight_map": {"model.embed_tokens.weight": "model-00001-of-00002.safetensors",
                                "model.layers.0.mlp.up_proj.weight": "model-00001-of-00002.safetensors",
                                "lm_head.weight": "model-00002-of-00002.safetensors"}}
                """;
        hub.repo(Fixtures.TINY_LLM, Fixtures.TINY_LLM_SHA)
                .file(".gitattributes", "*.safetensors filter=lfs diff=lfs merge=lfs -text\n")
                .file("README.md", "# tiny\n")
                .file("config.json", "{\n  \"architectures\": [\"LlamaForCausalLM\"],\n  \"torch_dtype\": \"bfloat16\",\n"
                        + "  \"auto_map\": {\"AutoConfig\": \"configuration_tiny.TinyConfig\"}\n}\n")
                .file("generation_config.json", "{\"do_sample\": true}\n")
                .file("tokenizer.json", "{\"version\": \"1.0\", \"model\": {\"type\": \"BPE\"}}\n")
                .file("tokenizer_config.json", "{\"chat_template\": \"{{ messages }}\"}\n")
                .file("configuration_tiny.py", "raise SystemExit('remote code ran')\n")
                .file("modeling_tiny.py", "raise SystemExit('remote code ran')\n")
                .file("model.safetensors.index.json", index)
                .file("model-00001-of-00002.safetensors", randomBytes(1, 196_608))
                .file("model-00002-of-00002.safetensors", randomBytes(2, 163_840))
                .file("consolidated.safetensors", randomBytes(3, 65_536))
                .file("pytorch_model.bin", randomBytes(4, 4_096))
                .file("training_args.bin", randomBytes(5, 512))
                .file("original/params.json", "{}")
                .file("original/consolidated.00.pth", randomBytes(6, 2_048))
                .file("onnx/model.onnx", randomBytes(7, 1_024));
        hub.repo(Fixtures.PICKLE_ONLY, "1111111111111111111111111111111111111111")
                .file("config.json", "{\"architectures\": [\"GPT2LMHeadModel\"]}")
                .file("tokenizer.json", "{}")
                .file("pytorch_model.bin", randomBytes(8, 8_192))
                .file("training_args.bin", randomBytes(9, 256));
        hub.repo(Fixtures.TINY_GGUF, "2222222222222222222222222222222222222222")
                .file("README.md", "# gguf\n")
                .file("tiny-Q4_K_M.gguf", randomBytes(10, 98_304))
                .file("tiny-Q8_0.gguf", randomBytes(11, 131_072))
                .file("split/tiny-F16-00001-of-00002.gguf", randomBytes(12, 40_000))
                .file("split/tiny-F16-00002-of-00002.gguf", randomBytes(13, 30_000)).pretty = true;
        hub.repo(Fixtures.TINY_GGUF).blobMetadata = false;
        hub.repo(Fixtures.TINY_AWQ, "3333333333333333333333333333333333333333")
                .file("config.json", "{\"architectures\": [\"LlamaForCausalLM\"], \"quantization_config\": "
                        + "{\"bits\": 4, \"group_size\": 128, \"quant_method\": \"awq\", \"version\": \"gemm\"}}")
                .file("tokenizer.json", "{}")
                .file("model.safetensors", randomBytes(14, 32_768));
        hub.repo(Fixtures.TINY_W8A8, "4444444444444444444444444444444444444444")
                .file("config.json", "{\"quantization_config\": {\"format\": \"int-quantized\", "
                        + "\"quant_method\": \"compressed-tensors\"}}")
                .file("model.safetensors", randomBytes(15, 32_768));
        hub.repo(Fixtures.TINY_FP8, "5555555555555555555555555555555555555555")
                .file("config.json", "{\"quantization_config\": {\"activation_scheme\": \"dynamic\", "
                        + "\"quant_method\": \"fp8\"}}")
                .file("model.safetensors", randomBytes(16, 32_768));
        hub.repo(Fixtures.GATED, "6666666666666666666666666666666666666666")
                .file("config.json", "{}")
                .file("model.safetensors", randomBytes(17, 1_024)).status = 401;
        hub.repo(Fixtures.HOSTILE, "7777777777777777777777777777777777777777")
                .file("config.json", "{}")
                .file("model.safetensors", randomBytes(18, 4_096))
                .listedOnly("../../../../escape.json")
                .listedOnly("sub/../../../escape.safetensors")
                .listedOnly("we ird.json")
                .listedOnly("quote\".json")
                .listedOnly("/etc/passwd.json");
        hub.repo(Fixtures.GGUF_ONLY, "8888888888888888888888888888888888888888")
                .file("config.json", "{}")
                .file("model-Q4_K_M.gguf", randomBytes(19, 1_024));
        return hub;
    }
}
