package io.gpupool.testing;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * A small OpenAI-compatible engine that a test scripts (SIMULATED: no model behind it), on 127.0.0.1 and a free port:
 * it can hold a stream after its first chunk or a request before its head, and send bulk bodies as fast as TCP lets
 * it, which is what the tunnel's tests need to cut, cancel and push back at chosen moments. Chat
 * completions answer with the request's last message echoed, as one JSON document or, with {@code "stream": true}, as
 * server-sent events: one chunk per word of the reply, {@link #chunkDelayMillis} apart, then a usage chunk when asked
 * ({@code stream_options.include_usage}) and {@code data: [DONE]}. It counts what a test needs to see: requests, the
 * streams whose client went away before the end (cancelled at the engine), and the headers it received.
 *
 * <p>{@code POST /v1/bulk} with {@code {"bytes": n}} answers {@code n} bytes as fast as TCP lets it, counting what it
 * managed to write ({@link #bulkWritten}): a reader that stops makes it stop.
 */
public final class ScriptedEngine implements AutoCloseable {

    private final Vertx vertx;
    private final HttpServer server;
    private final AtomicInteger requests = new AtomicInteger();
    private final AtomicInteger cancelled = new AtomicInteger();
    private final AtomicLong bulkWritten = new AtomicLong();
    private volatile long chunkDelayMillis = 0;
    private volatile CompletableFuture<Void> holdAfterFirstChunk = CompletableFuture.completedFuture(null);
    private volatile CompletableFuture<Void> holdBeforeHead = CompletableFuture.completedFuture(null);
    private volatile HttpServerRequest lastRequest;

    public ScriptedEngine(Vertx vertx) {
        this.vertx = vertx;
        this.server = vertx.createHttpServer().requestHandler(this::handle);
        try {
            server.listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("fake engine did not start", e);
        }
    }

    public int port() {
        return server.actualPort();
    }

    public int requests() {
        return requests.get();
    }

    /** Streams whose client closed the connection before the engine finished. */
    public int cancelled() {
        return cancelled.get();
    }

    public long bulkWritten() {
        return bulkWritten.get();
    }

    public HttpServerRequest lastRequest() {
        return lastRequest;
    }

    public ScriptedEngine chunkDelayMillis(long millis) {
        this.chunkDelayMillis = millis;
        return this;
    }

    /** Streams stop after their first chunk until the returned future is completed. */
    public CompletableFuture<Void> holdAfterFirstChunk() {
        holdAfterFirstChunk = new CompletableFuture<>();
        return holdAfterFirstChunk;
    }

    /** Requests get no response head until the returned future is completed. */
    public CompletableFuture<Void> holdBeforeHead() {
        holdBeforeHead = new CompletableFuture<>();
        return holdBeforeHead;
    }

    private void handle(HttpServerRequest request) {
        requests.incrementAndGet();
        lastRequest = request;
        request.body().onSuccess(body -> Future.fromCompletionStage(holdBeforeHead, vertx.getOrCreateContext())
                .onComplete(v -> answer(request, body)));
    }

    private void answer(HttpServerRequest request, Buffer body) {
        HttpServerResponse response = request.response();
        switch (request.path()) {
            case "/v1/chat/completions" -> chat(request, response, body.length() == 0 ? new JsonObject()
                    : body.toJsonObject());
            case "/v1/bulk" -> bulk(response, body.toJsonObject().getLong("bytes"));
            case "/health" -> response.end("ok");
            default -> response.setStatusCode(404).end(new JsonObject().put("error", new JsonObject()
                    .put("message", "no route " + request.path()).put("type", "invalid_request_error")).encode());
        }
    }

    private void chat(HttpServerRequest request, HttpServerResponse response, JsonObject body) {
        JsonArray messages = body.getJsonArray("messages", new JsonArray());
        String prompt = messages.isEmpty() ? "" : messages.getJsonObject(messages.size() - 1).getString("content", "");
        String reply = "echo: " + prompt;
        String[] words = reply.split(" ");
        String model = body.getString("model", "fake");
        if (!body.getBoolean("stream", false)) {
            response.putHeader("content-type", "application/json").end(new JsonObject()
                    .put("id", "chatcmpl-fake").put("object", "chat.completion").put("model", model)
                    .put("choices", new JsonArray().add(new JsonObject().put("index", 0).put("finish_reason", "stop")
                            .put("message", new JsonObject().put("role", "assistant").put("content", reply))))
                    .put("usage", usage(prompt, words.length)).encode());
            return;
        }
        boolean includeUsage = body.getJsonObject("stream_options", new JsonObject()).getBoolean("include_usage", false);
        response.setChunked(true).putHeader("content-type", "text/event-stream");
        boolean[] finished = { false };
        response.closeHandler(v -> {
            if (!finished[0]) {
                cancelled.incrementAndGet();
            }
        });
        CompletableFuture<Void> hold = holdAfterFirstChunk;
        sendChunk(response, model, words, 0, includeUsage, prompt, hold, finished);
    }

    private void sendChunk(HttpServerResponse response, String model, String[] words, int i, boolean includeUsage,
            String prompt, CompletableFuture<Void> hold, boolean[] finished) {
        if (response.closed()) {
            return;
        }
        if (i < words.length) {
            JsonObject chunk = new JsonObject().put("id", "chatcmpl-fake").put("object", "chat.completion.chunk")
                    .put("model", model).put("choices", new JsonArray().add(new JsonObject().put("index", 0)
                            .put("delta", new JsonObject().put("content", (i == 0 ? "" : " ") + words[i]))));
            response.write("data: " + chunk.encode() + "\n\n");
            Runnable next = () -> sendChunk(response, model, words, i + 1, includeUsage, prompt, hold, finished);
            if (i == 0 && !hold.isDone()) {
                hold.thenRun(() -> vertx.runOnContext(v -> next.run()));
            } else if (chunkDelayMillis > 0) {
                vertx.setTimer(chunkDelayMillis, t -> next.run());
            } else {
                next.run();
            }
            return;
        }
        if (includeUsage) {
            response.write("data: " + new JsonObject().put("id", "chatcmpl-fake").put("object", "chat.completion.chunk")
                    .put("model", model).put("choices", new JsonArray()).put("usage", usage(prompt, words.length))
                    .encode() + "\n\n");
        }
        finished[0] = true;
        response.end("data: [DONE]\n\n");
    }

    private static JsonObject usage(String prompt, int completionTokens) {
        int promptTokens = prompt.isBlank() ? 0 : prompt.split(" ").length;
        return new JsonObject().put("prompt_tokens", promptTokens).put("completion_tokens", completionTokens)
                .put("total_tokens", promptTokens + completionTokens);
    }

    private void bulk(HttpServerResponse response, long total) {
        response.putHeader("content-length", String.valueOf(total)).putHeader("content-type",
                "application/octet-stream");
        Buffer block = Buffer.buffer(new byte[16 * 1024]);
        writeBulk(response, total, block);
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

    @Override
    public void close() {
        server.close().toCompletionStage().toCompletableFuture().orTimeout(5, TimeUnit.SECONDS).join();
    }
}
