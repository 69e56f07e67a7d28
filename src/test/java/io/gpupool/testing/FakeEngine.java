package io.gpupool.testing;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;

/**
 * A SIMULATED OpenAI-compatible engine (test code: no model, no GPU) that answers like vLLM: chat completions,
 * completions and embeddings, non-streaming with {@code usage}, streaming as server-sent events with the usage chunk
 * when {@code stream_options.include_usage} is asked for. It serves one model name, takes a fixed service time per
 * request (0: answers at once), and records what the gateway sends it: requests, headers seen, bodies, and requests
 * whose client went away before the answer ended (cancelled generations).
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
    private HttpServer server;
    private int port;
    private final AtomicInteger requests = new AtomicInteger();
    private final AtomicInteger active = new AtomicInteger();
    private final AtomicInteger maxActive = new AtomicInteger();
    private final AtomicInteger cancelled = new AtomicInteger();
    private final AtomicLong promptTokensServed = new AtomicLong();
    private final ConcurrentLinkedQueue<String> authorizations = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<JsonNode> bodies = new ConcurrentLinkedQueue<>();
    private volatile boolean keepBodies = true;

    public FakeEngine(Vertx vertx, String host, String servedName, Duration serviceTime) {
        this.vertx = vertx;
        this.host = host;
        this.servedName = servedName;
        this.serviceTime = serviceTime;
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

    /** Completion tokens per answer (and chunks per stream). */
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

    /** Stop keeping request bodies (long runs). */
    public FakeEngine forgetBodies() {
        this.keepBodies = false;
        bodies.clear();
        return this;
    }

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

    /** Authorization headers that reached the engine (never any through the gateway). */
    public List<String> authorizations() {
        return List.copyOf(authorizations);
    }

    public List<JsonNode> bodies() {
        return List.copyOf(bodies);
    }

    private void handle(HttpServerRequest req) {
        String auth = req.getHeader("Authorization");
        if (auth != null) {
            authorizations.add(auth);
        }
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
            if (keepBodies) {
                bodies.add(json);
            }
            if (!servedName.equals(json.path("model").asText())) {
                error(req.response(), 404, "The model `" + json.path("model").asText() + "` does not exist.");
                return;
            }
            requests.incrementAndGet();
            int now = active.incrementAndGet();
            maxActive.accumulateAndGet(now, Math::max);
            long prompt = Math.max(1, json.toString().length() / 4);
            promptTokensServed.addAndGet(prompt);
            HttpServerResponse resp = req.response();
            boolean[] ended = { false };
            resp.closeHandler(v -> {
                if (!ended[0]) {
                    ended[0] = true;
                    cancelled.incrementAndGet();
                    active.decrementAndGet();
                }
            });
            Runnable answer = () -> {
                if (ended[0]) {
                    return;
                }
                switch (req.path()) {
                    case "/v1/chat/completions", "/v1/completions" -> {
                        boolean chat = req.path().startsWith("/v1/chat");
                        if (json.path("stream").asBoolean(false)) {
                            stream(resp, chat, prompt, json.path("stream_options").path("include_usage").asBoolean(false),
                                    ended);
                        } else {
                            finish(resp, completion(chat, prompt), ended);
                        }
                    }
                    case "/v1/embeddings" -> finish(resp, embedding(prompt), ended);
                    default -> {
                        ended[0] = true;
                        active.decrementAndGet();
                        error(resp, 404, "not found");
                    }
                }
            };
            long delay = serviceTime.toMillis();
            if (delay <= 0) {
                answer.run();
            } else {
                vertx.setTimer(delay, id -> answer.run());
            }
        });
    }

    private void finish(HttpServerResponse resp, ObjectNode body, boolean[] ended) {
        if (ended[0]) {
            return;
        }
        ended[0] = true;
        active.decrementAndGet();
        resp.putHeader("content-type", "application/json").end(body.toString());
    }

    private ObjectNode completion(boolean chat, long prompt) {
        ObjectNode o = JSON.createObjectNode();
        o.put("id", (chat ? "chatcmpl-" : "cmpl-") + requests.get());
        o.put("object", chat ? "chat.completion" : "text_completion");
        o.put("created", System.currentTimeMillis() / 1000);
        o.put("model", servedName);
        ArrayNode choices = o.putArray("choices");
        ObjectNode c = choices.addObject();
        c.put("index", 0);
        String text = text();
        if (chat) {
            ObjectNode m = c.putObject("message");
            m.put("role", "assistant");
            m.put("content", text);
        } else {
            c.put("text", text);
        }
        c.put("finish_reason", "stop");
        c.putNull("logprobs");
        usage(o, prompt, completionTokens);
        return o;
    }

    private ObjectNode embedding(long prompt) {
        ObjectNode o = JSON.createObjectNode();
        o.put("object", "list");
        o.put("model", servedName);
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

    private String text() {
        return "Hello from " + servedName + " (SIMULATED)";
    }

    /** One chunk per token, then (when asked) the usage chunk, then [DONE]; "usage": null in every chunk when asked. */
    private void stream(HttpServerResponse resp, boolean chat, long prompt, boolean includeUsage, boolean[] ended) {
        resp.setChunked(true).putHeader("content-type", "text/event-stream");
        String id = (chat ? "chatcmpl-" : "cmpl-") + requests.get();
        int n = completionTokens;
        long interval = chunkInterval.toMillis();
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
                chunk.put("model", servedName);
                ObjectNode c = chunk.putArray("choices").addObject();
                c.put("index", 0);
                String piece = i[0] == 0 ? "Hello" : " tok" + i[0];
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
                if (interval > 0) {
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
                last.put("model", servedName);
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
