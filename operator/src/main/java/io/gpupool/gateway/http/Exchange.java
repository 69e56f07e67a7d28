package io.gpupool.gateway.http;

import java.util.UUID;

import io.gpupool.core.gateway.ModelCatalog;
import io.gpupool.core.gateway.dispatch.Decision;
import io.gpupool.core.gateway.dispatch.Grant;
import io.gpupool.core.gateway.dispatch.ModelDispatcher;
import io.gpupool.core.gateway.dispatch.Ticket;
import io.gpupool.core.gateway.openai.Endpoint;
import io.gpupool.core.gateway.openai.OpenAiError;
import io.gpupool.core.gateway.openai.OpenAiRequest;
import io.gpupool.core.gateway.openai.SseUsageFilter;
import io.gpupool.core.gateway.openai.Usage;
import io.gpupool.core.gateway.openai.UsageScanner;
import io.gpupool.gateway.upstream.Upstream;
import io.gpupool.gateway.upstream.UpstreamRequest;
import io.gpupool.gateway.upstream.UpstreamResponse;
import io.gpupool.gateway.upstream.UpstreamUnavailableException;
import io.vertx.core.AsyncResult;
import io.vertx.core.Context;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.streams.ReadStream;
import io.vertx.ext.web.RoutingContext;

/**
 * One request's life after it was accepted: a ticket in its model's dispatcher (sent at once, or queued fairly with a
 * deadline), the request to the replica (once more to another replica when it never reached the first), and the
 * answer streamed back chunk by chunk while its usage is read on the way, then metered. Every step runs on the event
 * loop of the client's connection ({@link #context}); grants to requests that waited are handed over to it.
 */
final class Exchange {

    /** Headers that reach the engine (never Authorization, cookies or an encoding the meter could not read). */
    private static final String[] FORWARDED = { "content-type", "accept", "user-agent", "x-request-id", "traceparent",
            "tracestate" };

    private final Proxy proxy;
    private final HttpServerResponse resp;
    private final Endpoint endpoint;
    private final Caller caller;
    private final OpenAiRequest request;
    private final ModelCatalog.Model model;
    private final ModelDispatcher dispatcher;
    private final long start;
    private final Context context;
    private final MultiMap headers;
    private final String requestId;
    private Ticket ticket;
    private Grant grant;
    private UpstreamResponse upstream;
    private long timer = -1;
    private long queuedSince;
    private boolean retried;
    /** It was held for a first replica (scale from zero). */
    private boolean held;
    private boolean clientGone;
    private boolean finished;
    private boolean firstByte;
    private SseUsageFilter sse;
    private UsageScanner scanner;

    Exchange(Proxy proxy, RoutingContext ctx, Endpoint endpoint, Caller caller, OpenAiRequest request,
            ModelCatalog.Model model, ModelDispatcher dispatcher, long start) {
        this.proxy = proxy;
        this.resp = ctx.response();
        this.endpoint = endpoint;
        this.caller = caller;
        this.request = request;
        this.model = model;
        this.dispatcher = dispatcher;
        this.start = start;
        this.context = Vertx.currentContext();
        String id = ctx.request().getHeader("x-request-id");
        this.requestId = id == null || id.isBlank() || id.length() > 128 ? UUID.randomUUID().toString() : id;
        this.headers = MultiMap.caseInsensitiveMultiMap();
        for (String h : FORWARDED) {
            String v = ctx.request().getHeader(h);
            if (v != null) {
                headers.set(h, v);
            }
        }
        headers.set("content-type", "application/json");
        headers.set("x-request-id", requestId);
        headers.set("accept-encoding", "identity");
    }

    /** Hands the request to the dispatcher. */
    void begin() {
        resp.closeHandler(v -> clientGone());
        ticket = new Ticket(caller.organization(), caller.weight(), request.prefix(), request.promptTokens(),
                request.maxTokens(), this);
        queuedSince = System.nanoTime();
        Decision decision = dispatcher.submit(ticket);
        decided(decision, proxy.settings.queue().maxWait().toMillis());
    }

    private void decided(Decision decision, long waitMillis) {
        if (decision instanceof Decision.Dispatched d) {
            send(d.grant());
        } else if (decision instanceof Decision.Queued) {
            timer = proxy.vertx.setTimer(Math.max(1, waitMillis), id -> timedOut());
        } else if (decision instanceof Decision.Held) {
            // No replica yet (scale from zero): the operator hears of it from the report written now; the request
            // waits for the first ready replica, at most the cold-start wait.
            held = true;
            proxy.dispatchers.held();
            timer = proxy.vertx.setTimer(Math.max(1, proxy.settings.queue().coldStartWait().toMillis()),
                    id -> timedOut());
        } else {
            Decision.Rejected r = (Decision.Rejected) decision;
            fail(r.reason() == Decision.Reason.QUEUE_FULL
                    ? OpenAiError.queueFull(model.servedName(), r.retryAfterSeconds())
                    : OpenAiError.noReplica(model.servedName(), r.retryAfterSeconds()));
        }
    }

    /** A grant for this request after it waited: continue on its own event loop. */
    static void granted(Grant grant) {
        Exchange e = grant.ticket().attachment();
        e.context.runOnContext(v -> e.send(grant));
    }

    private void timedOut() {
        timer = -1;
        if (!dispatcher.cancel(ticket)) {
            return; // granted meanwhile: the grant is on its way
        }
        boolean noReplica = dispatcher.stats().replicas() == 0;
        int ahead = dispatcher.stats().waiting().getOrDefault(caller.organization(), 0);
        if (held && noReplica) {
            long waited = proxy.settings.queue().coldStartWait().toSeconds();
            fail(OpenAiError.coldStartTimeout(model.servedName(), waited,
                    (int) Math.max(1, Math.min(60, waited / 4))));
            return;
        }
        fail(noReplica ? OpenAiError.noReplica(model.servedName(), 5)
                : OpenAiError.queueTimeout(model.servedName(), dispatcher.retryAfterSeconds(ahead + 1)));
    }

    private void send(Grant g) {
        grant = g;
        if (timer >= 0) {
            proxy.vertx.cancelTimer(timer);
            timer = -1;
        }
        if (clientGone) {
            dispatcher.complete(g, 0, 0);
            end();
            return;
        }
        proxy.metrics.queueWait(model.id(), System.nanoTime() - queuedSince);
        Upstream up = (Upstream) g.handle();
        up.send(new UpstreamRequest(HttpMethod.POST, endpoint.path(), headers, Buffer.buffer(request.upstreamBody())))
                .onComplete(ar -> onContext(() -> sent(g, ar)));
    }

    private void sent(Grant g, AsyncResult<UpstreamResponse> ar) {
        if (ar.failed()) {
            if (ar.cause() instanceof UpstreamUnavailableException && !retried && !clientGone) {
                retried = true;
                proxy.metrics.retry(model.id());
                queuedSince = System.nanoTime();
                Decision d = dispatcher.retry(g);
                long left = proxy.settings.queue().maxWait().toMillis() - (System.nanoTime() - start) / 1_000_000;
                if (d instanceof Decision.Rejected) {
                    fail(OpenAiError.noReplica(model.servedName(), 5));
                } else {
                    decided(d, left);
                }
                return;
            }
            dispatcher.complete(g, 0, 0);
            if (ar.cause() instanceof UpstreamUnavailableException && !clientGone) {
                fail(OpenAiError.noReplica(model.servedName(), 5));
            } else {
                fail(OpenAiError.upstreamFailed(model.servedName(), String.valueOf(ar.cause().getMessage())));
            }
            return;
        }
        upstream = ar.result();
        if (clientGone) {
            upstream.cancel();
            dispatcher.complete(g, 0, 0);
            end();
            return;
        }
        stream(g, upstream);
    }

    /** Streams the engine's answer to the client as it comes, reading its usage on the way. */
    private void stream(Grant g, UpstreamResponse up) {
        resp.setStatusCode(up.statusCode());
        String type = up.headers().get(HttpHeaders.CONTENT_TYPE);
        if (type != null) {
            resp.putHeader(HttpHeaders.CONTENT_TYPE, type);
        }
        resp.putHeader("x-request-id", requestId);
        boolean events = type != null && type.toLowerCase().startsWith("text/event-stream");
        if (events) {
            sse = new SseUsageFilter(request.addedUsageChunk());
            resp.setChunked(true);
            resp.putHeader(HttpHeaders.CACHE_CONTROL, "no-cache");
        } else {
            scanner = new UsageScanner();
            String length = up.headers().get(HttpHeaders.CONTENT_LENGTH);
            if (length != null) {
                resp.putHeader(HttpHeaders.CONTENT_LENGTH, length);
            } else {
                resp.setChunked(true);
            }
        }
        ReadStream<Buffer> body = up.body();
        body.handler(chunk -> {
            if (finished) {
                return;
            }
            if (events) {
                byte[] out = sse.accept(chunk.getBytes());
                if (out.length > 0) {
                    write(Buffer.buffer(out));
                }
            } else {
                scanner.feed(chunk.getBytes());
                write(chunk);
            }
            if (resp.writeQueueFull()) {
                body.pause();
                resp.drainHandler(v -> body.resume());
            }
        });
        body.exceptionHandler(e -> onContext(() -> brokeMidway(g, e)));
        body.endHandler(v -> onContext(() -> {
            if (finished) {
                return;
            }
            if (events) {
                byte[] rest = sse.finish();
                resp.end(Buffer.buffer(rest));
            } else {
                resp.end();
            }
            answered(g, up.statusCode(), usage());
        }));
        body.resume();
    }

    private void write(Buffer b) {
        if (!firstByte) {
            firstByte = true;
            proxy.metrics.firstByte(model.id(), System.nanoTime() - start);
        }
        resp.write(b);
    }

    /**
     * The engine or the path to it broke after the answer began: a stream ends with an error event (OpenAI's
     * clients raise it), any other answer is cut (its client sees an incomplete body, never a wrong one).
     */
    private void brokeMidway(Grant g, Throwable e) {
        if (finished) {
            return;
        }
        if (sse != null && !resp.ended() && !resp.closed()) {
            OpenAiError error = OpenAiError.answerBroken(model.servedName(), String.valueOf(e.getMessage()));
            resp.end(Buffer.buffer("data: " + error.json() + "\n\n"));
        } else if (!resp.ended() && !resp.closed()) {
            resp.reset();
        }
        answered(g, 502, partialUsage());
    }

    private void clientGone() {
        if (finished || clientGone) {
            return;
        }
        clientGone = true;
        if (ticket != null && dispatcher.cancel(ticket)) {
            if (timer >= 0) {
                proxy.vertx.cancelTimer(timer);
            }
            end();
            return;
        }
        if (upstream != null) {
            // The engine stops generating for a client that is gone.
            upstream.cancel();
            answered(grant, 499, partialUsage());
        }
        // Otherwise the request is on its way to the replica: send() or sent() sees clientGone.
    }

    private Usage usage() {
        Usage u = sse != null ? sse.usage() : scanner.usage();
        return u.reported() ? u : partialUsage();
    }

    /** The engine's usage when it came; otherwise an estimate from the prompt and the chunks that streamed. */
    private Usage partialUsage() {
        Usage u = sse != null ? sse.usage() : scanner != null ? scanner.usage() : Usage.NONE;
        if (u.reported()) {
            return u;
        }
        return new Usage(request.promptTokens(), sse == null ? 0 : sse.dataEvents(), false);
    }

    /** The request is over: frees its slot, meters it, counts it. */
    private void answered(Grant g, int status, Usage usage) {
        if (finished) {
            return;
        }
        finished = true;
        Usage metered = status >= 400 && status != 499 && status != 502 && !usage.reported() ? Usage.NONE : usage;
        dispatcher.complete(g, metered.promptTokens(), metered.completionTokens());
        proxy.meter.record(caller.organization(), model.id(), g.cluster(), caller.key(), metered, proxy.clock.instant());
        proxy.metrics.tokens(caller.organization(), model.id(), g.cluster(), metered.promptTokens(),
                metered.completionTokens());
        proxy.metrics.request(model.id(), caller.organization(), status, System.nanoTime() - start);
        proxy.ended();
    }

    private void fail(OpenAiError error) {
        if (finished) {
            return;
        }
        finished = true;
        Responses.error(resp, error);
        proxy.metrics.request(model.id(), caller.organization(), error.status(), System.nanoTime() - start);
        proxy.ended();
    }

    /** Ends an exchange whose client left before anything was sent to an engine. */
    private void end() {
        if (!finished) {
            finished = true;
            proxy.metrics.request(model.id(), caller.organization(), 499, System.nanoTime() - start);
            proxy.ended();
        }
    }

    private void onContext(Runnable r) {
        if (Vertx.currentContext() == context) {
            r.run();
        } else {
            context.runOnContext(v -> r.run());
        }
    }
}
