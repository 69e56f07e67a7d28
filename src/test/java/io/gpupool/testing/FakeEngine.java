package io.gpupool.testing;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;

/**
 * A SIMULATED OpenAI-compatible engine (test code: no model, no GPU) that answers like vLLM: chat completions,
 * completions and embeddings, non-streaming with {@code usage}, streaming as server-sent events with the usage chunk
 * when {@code stream_options.include_usage} is asked for. The one engine of the gateway's, the tunnel's, the
 * playground's tests and benchmarks.
 *
 * <p>It serves one model name (or any, when the name is null), takes a fixed service time per request (0: answers at
 * once), and records what reaches it: requests, headers, bodies, and requests whose client went away before the answer
 * ended (cancelled generations). By default it answers "Hello from &lt;model&gt; (SIMULATED)" in
 * {@link #completionTokens} chunks; {@link #echo()} makes it answer "echo: &lt;the prompt&gt;", one chunk per word,
 * so that a test sees which answer belongs to which request. A test can script the moments that matter to a proxy or
 * a tunnel: hold answers before their head ({@link #holdBeforeHead}) or streams after their first chunk
 * ({@link #holdAfterFirstChunk}), and {@code POST /v1/bulk {"bytes": n}} answers {@code n} bytes as fast as TCP lets
 * it ({@link #bulkWritten}: a reader that stops makes it stop).
 *
 * <p>Bind it to its own loopback address (127.0.0.N) to stand for one serving pod: the pod's status.podIP is that
 * address and its container port the engine's port.
 */
public final class FakeEngine implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Vertx vertx;
    private final String host;
    private final String servedName;
    private volatile Duration serviceTime;
    private volatile int completionTokens = 8;
    private volatile Duration chunkInterval = Duration.ZERO;
    private volatile boolean echo;
    private volatile CompletableFuture<Void> holdBeforeHead = CompletableFuture.completedFuture(null);
    private volatile CompletableFuture<Void> holdAfterFirstChunk = CompletableFuture.completedFuture(null);
    private HttpServer server;
    private int port;
    private final AtomicInteger requests = new AtomicInteger();
    private final AtomicInteger active = new AtomicInteger();
    private final AtomicInteger maxActive = new AtomicInteger();
    private final AtomicInteger cancelled = new AtomicInteger();
    private final AtomicLong bulkWritten = new AtomicLong();
    private final ConcurrentLinkedQueue<String> authorizations = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<JsonNode> bodies = new ConcurrentLinkedQueue<>();
    private volatile MultiMap lastHeaders = MultiMap.caseInsensitiveMultiMap();
    private volatile boolean keepBodies = true;

    /** @param servedName the one model it serves (others get a 404), or null for any */
    public FakeEngine(Vertx vertx, String host, String servedName, Duration serviceTime) {
        this.vertx = vertx;
        this.host = host;
        this.servedName = servedName;
        this.serviceTime = serviceTime;
    }

    /** An engine on 127.0.0.1 that serves any model, answers at once and echoes prompts, already listening. */
    public static FakeEngine echoing(Vertx vertx) {
        return new FakeEngine(vertx, "127.0.0.1", null, Duration.ZERO).echo().start();
    }

    /** Listens on a free port of its address. */
    public FakeEngine start() {
        return startOn(0);
    }

    /** Listens on the given port of its address (a pod's declared serving port). */
    public FakeEngine startOn(int listenPort) {
        try {
            server = vertx.createHttpServer(new HttpServerOptions().setHost(host).setPort(listenPort)
                    .setTcpNoDelay(true))
                    .requestHandler(this::handle).listen().toCompletionStage().toCompletableFuture()
                    .get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("fake engine could not listen on " + host, e);
        }
        port = server.actualPort();
        return this;
    }

    public String host() {
        return host;
    }

    public int port() {
        return port;
    }

    public String servedName() {
        return servedName;
    }

    /** Completion tokens per answer (and chunks per stream); not used by {@link #echo()}. */
    public FakeEngine completionTokens(int n) {
        this.completionTokens = n;
        return this;
    }

    /** Time between two streamed chunks. */
    public FakeEngine chunkInterval(Duration d) {
        this.chunkInterval = d;
        return this;
    }

    public FakeEngine serviceTime(Duration d) {
        this.serviceTime = d;
        return this;
    }

    /** Answers "echo: " and the prompt (the last message of a chat), one streamed chunk and one token per word. */
    public FakeEngine echo() {
        this.echo = true;
        return this;
    }

    /** Stop keeping request bodies (long runs). */
    public FakeEngine forgetBodies() {
        this.keepBodies = false;
        bodies.clear();
        return this;
    }

    /** Requests from now on get no response head until the returned future is completed. */
    public CompletableFuture<Void> holdBeforeHead() {
        holdBeforeHead = new CompletableFuture<>();
        return holdBeforeHead;
    }

    /** Streams from now on stop after their first chunk until the returned future is completed. */
    public CompletableFuture<Void> holdAfterFirstChunk() {
        holdAfterFirstChunk = new CompletableFuture<>();
        return holdAfterFirstChunk;
    }

    /** Model requests received (not health checks nor bulk). */
    public int requests() {
        return requests.get();
    }

    public int active() {
        return active.get();
    }

    public int maxActive() {
        return maxActive.get();
    }

    /** Requests whose client went away before the answer ended. */
    public int cancelled() {
        return cancelled.get();
    }

    /** Bytes of bulk answers written so far. */
    public long bulkWritten() {
        return bulkWritten.get();
    }

    /** Authorization headers that reached the engine (never any through the gateway). */
    public List<String> authorizations() {
        return List.copyOf(authorizations);
    }

    public List<JsonNode> bodies() {
        return List.copyOf(bodies);
    }

    /** The headers of the last request that reached it. */
    public MultiMap lastHeaders() {
        return lastHeaders;
    }

    private void handle(HttpServerRequest req) {
        String auth = req.getHeader("Authorization");
        if (auth != null) {
            authorizations.add(auth);
        }
        lastHeaders = MultiMap.caseInsensitiveMultiMap().addAll(req.headers());
        if ("GET".equals(req.method().name()) && "/health".equals(req.path())) {
            req.response().end();
            return;
        }
        req.body().onSuccess(body -> {
            JsonNode json;
            try {
                json = JSON.readTree(body.getBytes());
            } catch (Exception e) {
                error(req.response(), 400, "invalid JSON");
                return;
            }
            if ("/v1/bulk".equals(req.path())) {
                bulk(req.response(), json.path("bytes").asLong());
                return;
            }
            if (keepBodies) {
                bodies.add(json);
            }
            String model = json.path("model").asText();
            if (servedName != null && !servedName.equals(model)) {
                error(req.response(), 404, "The model `" + model + "` does not exist.");
                return;
            }
            requests.incrementAndGet();
            int now = active.incrementAndGet();
            maxActive.accumulateAndGet(now, Math::max);
            HttpServerResponse resp = req.response();
            boolean[] ended = { false };
            resp.closeHandler(v -> {
                if (!ended[0]) {
                    ended[0] = true;
                    cancelled.incrementAndGet();
                    active.decrementAndGet();
                }
            });
            long delay = serviceTime.toMillis();
            Runnable answer = delay <= 0 ? () -> answer(req.path(), json, model, resp, ended)
                    : () -> vertx.setTimer(delay, id -> answer(req.path(), json, model, resp, ended));
            CompletableFuture<Void> hold = holdBeforeHead;
            if (hold.isDone()) {
                answer.run();
            } else {
                Future.fromCompletionStage(hold, vertx.getOrCreateContext()).onComplete(held -> answer.run());
            }
        });
    }

    private void answer(String path, JsonNode json, String model, HttpServerResponse resp, boolean[] ended) {
        if (ended[0]) {
            return;
        }
        long prompt = Math.max(1, json.toString().length() / 4);
        switch (path) {
            case "/v1/chat/completions", "/v1/completions" -> {
                boolean chat = path.startsWith("/v1/chat");
                List<String> words = reply(json, chat, model);
                if (json.path("stream").asBoolean(false)) {
                    stream(resp, chat, model, words, prompt,
                            json.path("stream_options").path("include_usage").asBoolean(false), ended);
                } else {
                    finish(resp, completion(chat, model, String.join("", words), prompt, words.size()), ended);
                }
            }
            case "/v1/embeddings" -> finish(resp, embedding(model, prompt), ended);
            default -> {
                ended[0] = true;
                active.decrementAndGet();
                error(resp, 404, "not found");
            }
        }
    }

    /** The answer's tokens, each with its leading space: the echoed prompt's words, or the fixed greeting. */
    private List<String> reply(JsonNode json, boolean chat, String model) {
        if (echo) {
            JsonNode messages = json.path("messages");
            String prompt = chat ? (messages.isEmpty() ? "" : messages.get(messages.size() - 1).path("content").asText())
                    : json.path("prompt").asText();
            String[] words = ("echo: " + prompt).split(" ");
            List<String> out = new java.util.ArrayList<>();
            for (int i = 0; i < words.length; i++) {
                out.add(i == 0 ? words[i] : " " + words[i]);
            }
            return out;
        }
        List<String> out = new java.util.ArrayList<>();
        int n = completionTokens;
        for (int i = 0; i < n; i++) {
            out.add(i == 0 ? "Hello" : " tok" + i);
        }
        return out;
    }

    private void finish(HttpServerResponse resp, ObjectNode body, boolean[] ended) {
        if (ended[0]) {
            return;
        }
        ended[0] = true;
        active.decrementAndGet();
        resp.putHeader("content-type", "application/json").end(body.toString());
    }

    private ObjectNode completion(boolean chat, String model, String streamedText, long prompt, int tokens) {
        ObjectNode o = JSON.createObjectNode();
        o.put("id", (chat ? "chatcmpl-" : "cmpl-") + requests.get());
        o.put("object", chat ? "chat.completion" : "text_completion");
        o.put("created", System.currentTimeMillis() / 1000);
        o.put("model", model);
        ArrayNode choices = o.putArray("choices");
        ObjectNode c = choices.addObject();
        c.put("index", 0);
        String text = echo ? streamedText : "Hello from " + model + " (SIMULATED)";
        if (chat) {
            ObjectNode m = c.putObject("message");
            m.put("role", "assistant");
            m.put("content", text);
        } else {
            c.put("text", text);
        }
        c.put("finish_reason", "stop");
        c.putNull("logprobs");
        usage(o, prompt, tokens);
        return o;
    }

    private ObjectNode embedding(String model, long prompt) {
        ObjectNode o = JSON.createObjectNode();
        o.put("object", "list");
        o.put("model", model);
        ObjectNode e = o.putArray("data").addObject();
        e.put("object", "embedding");
        e.put("index", 0);
        ArrayNode v = e.putArray("embedding");
        for (int i = 0; i < 8; i++) {
            v.add(i / 8.0);
        }
        usage(o, prompt, 0);
        return o;
    }

    private static void usage(ObjectNode o, long prompt, long completion) {
        ObjectNode u = o.putObject("usage");
        u.put("prompt_tokens", prompt);
        u.put("completion_tokens", completion);
        u.put("total_tokens", prompt + completion);
    }

    /** One chunk per token, then (when asked) the usage chunk, then [DONE]; "usage": null in every chunk when asked. */
    private void stream(HttpServerResponse resp, boolean chat, String model, List<String> tokens, long prompt,
            boolean includeUsage, boolean[] ended) {
        resp.setChunked(true).putHeader("content-type", "text/event-stream");
        String id = (chat ? "chatcmpl-" : "cmpl-") + requests.get();
        int n = tokens.size();
        long interval = chunkInterval.toMillis();
        CompletableFuture<Void> hold = holdAfterFirstChunk;
        int[] i = { 0 };
        Runnable[] next = new Runnable[1];
        next[0] = () -> {
            if (ended[0]) {
                return;
            }
            if (i[0] < n) {
                ObjectNode chunk = JSON.createObjectNode();
                chunk.put("id", id);
                chunk.put("object", chat ? "chat.completion.chunk" : "text_completion");
                chunk.put("created", System.currentTimeMillis() / 1000);
                chunk.put("model", model);
                ObjectNode c = chunk.putArray("choices").addObject();
                c.put("index", 0);
                String piece = tokens.get(i[0]);
                if (chat) {
                    c.putObject("delta").put("content", piece);
                } else {
                    c.put("text", piece);
                }
                if (i[0] == n - 1) {
                    c.put("finish_reason", "stop");
                } else {
                    c.putNull("finish_reason");
                }
                if (includeUsage) {
                    chunk.putNull("usage");
                }
                resp.write("data: " + chunk + "\n\n");
                i[0]++;
                if (i[0] == 1 && !hold.isDone()) {
                    hold.thenRun(() -> vertx.runOnContext(v -> next[0].run()));
                } else if (interval > 0) {
                    vertx.setTimer(interval, t -> next[0].run());
                } else {
                    next[0].run();
                }
                return;
            }
            if (includeUsage) {
                ObjectNode last = JSON.createObjectNode();
                last.put("id", id);
                last.put("object", chat ? "chat.completion.chunk" : "text_completion");
                last.put("created", System.currentTimeMillis() / 1000);
                last.put("model", model);
                last.putArray("choices");
                usage(last, prompt, n);
                resp.write("data: " + last + "\n\n");
            }
            ended[0] = true;
            active.decrementAndGet();
            resp.end("data: [DONE]\n\n");
        };
        next[0].run();
    }

    private void bulk(HttpServerResponse response, long total) {
        response.putHeader("content-length", String.valueOf(total)).putHeader("content-type",
                "application/octet-stream");
        writeBulk(response, total, Buffer.buffer(new byte[16 * 1024]));
    }

    private void writeBulk(HttpServerResponse response, long remaining, Buffer block) {
        long left = remaining;
        while (left > 0 && !response.writeQueueFull() && !response.closed()) {
            Buffer piece = left >= block.length() ? block : block.slice(0, (int) left);
            response.write(piece);
            bulkWritten.addAndGet(piece.length());
            left -= piece.length();
        }
        if (response.closed()) {
            return;
        }
        if (left == 0) {
            response.end();
            return;
        }
        long rest = left;
        response.drainHandler(v -> writeBulk(response, rest, block));
    }

    private static void error(HttpServerResponse resp, int status, String message) {
        ObjectNode o = JSON.createObjectNode();
        ObjectNode e = o.putObject("error");
        e.put("message", message);
        e.put("type", status == 404 ? "NotFoundError" : "BadRequestError");
        e.put("code", status);
        resp.setStatusCode(status).putHeader("content-type", "application/json").end(o.toString());
    }

    /** Cuts every connection at once, as a crashing engine (streams under way break). */
    public void crash() {
        close();
    }

    @Override
    public void close() {
        if (server != null) {
            try {
                server.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
            } catch (Exception e) {
                // gone
            }
            server = null;
        }
    }
}
