package io.gpupool.gateway.http;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.gpupool.core.gateway.ApiKeys;
import io.gpupool.core.gateway.ModelCatalog;
import io.gpupool.core.gateway.metering.UsageCounts;
import io.gpupool.core.gateway.metering.UsageMeter;
import io.gpupool.core.gateway.openai.Endpoint;
import io.gpupool.core.gateway.openai.OpenAiError;
import io.gpupool.core.gateway.openai.OpenAiRequest;
import io.gpupool.gateway.GatewaySettings;
import io.gpupool.gateway.ModelDispatchers;
import io.gpupool.gateway.metering.GatewayMetrics;
import io.gpupool.gateway.pool.PoolDirectory;
import io.gpupool.gateway.pool.PoolSnapshot;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

/**
 * The OpenAI-compatible surface: authenticates the caller's key, reads and checks the request, finds the model, and
 * hands the request to an {@link Exchange}, which queues, sends and streams it. Everything here runs on the event loop
 * of the client's connection and never blocks.
 */
public final class Proxy {

    private static final ObjectMapper JSON = new ObjectMapper();

    final Vertx vertx;
    final PoolDirectory directory;
    final ModelDispatchers dispatchers;
    final UsageMeter meter;
    final GatewayMetrics metrics;
    final GatewaySettings settings;
    final Clock clock;
    private final AtomicInteger active = new AtomicInteger();
    private volatile boolean stopping;

    public Proxy(Vertx vertx, PoolDirectory directory, ModelDispatchers dispatchers, UsageMeter meter,
            GatewayMetrics metrics, GatewaySettings settings, Clock clock) {
        this.vertx = vertx;
        this.directory = directory;
        this.dispatchers = dispatchers;
        this.meter = meter;
        this.metrics = metrics;
        this.settings = settings;
        this.clock = clock;
    }

    /** The OpenAI routes; anything else under /v1 is a 404 in OpenAI's format. */
    public void mount(Router router) {
        router.get("/v1/models").handler(this::listModels);
        router.getWithRegex("/v1/models/(.+)").handler(this::getModel);
        for (Endpoint e : Endpoint.values()) {
            router.post(e.path()).handler(ctx -> forward(ctx, e));
            router.route(e.path()).handler(ctx -> refuse(ctx.response(),
                    OpenAiError.methodNotAllowed(ctx.request().method().name(), e.path())));
        }
        router.route("/v1/*").last().handler(ctx -> refuse(ctx.response(), OpenAiError.notFound(ctx.request().path())));
    }

    /** New requests are refused (503, connection closed) from now on; requests under way finish. */
    public void stopAccepting() {
        stopping = true;
    }

    /** Starts a request that waited, when the dispatcher grants it a slot (on its own event loop). */
    public static void granted(io.gpupool.core.gateway.dispatch.Grant grant) {
        Exchange.granted(grant);
    }

    /** Requests being answered. */
    public int active() {
        return active.get();
    }

    void ended() {
        active.decrementAndGet();
    }

    private void listModels(RoutingContext ctx) {
        Caller caller = authenticate(ctx);
        if (caller == null) {
            return;
        }
        PoolSnapshot snapshot = directory.snapshot();
        List<Map<String, Object>> data = new ArrayList<>();
        for (ModelCatalog.Model m : snapshot.catalog().visibleTo(caller.organization())) {
            data.add(model(m));
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("object", "list");
        body.put("data", data);
        Responses.json(ctx.response(), write(body));
    }

    private void getModel(RoutingContext ctx) {
        Caller caller = authenticate(ctx);
        if (caller == null) {
            return;
        }
        String name = URLDecoder.decode(ctx.pathParam("param0"), StandardCharsets.UTF_8);
        ModelCatalog.Lookup lookup = directory.snapshot().catalog().lookup(name, caller.organization());
        if (lookup instanceof ModelCatalog.Found f) {
            Responses.json(ctx.response(), write(model(f.model())));
        } else if (lookup instanceof ModelCatalog.Forbidden) {
            refuse(ctx.response(), OpenAiError.forbidden(name));
        } else {
            refuse(ctx.response(), OpenAiError.unknownModel(name));
        }
    }

    private static Map<String, Object> model(ModelCatalog.Model m) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("id", m.servedName());
        out.put("object", "model");
        out.put("created", m.created() == null ? 0 : m.created().getEpochSecond());
        out.put("owned_by", m.organization() == null ? m.namespace() : m.organization());
        return out;
    }

    private void forward(RoutingContext ctx, Endpoint endpoint) {
        long start = System.nanoTime();
        HttpServerRequest req = ctx.request();
        HttpServerResponse resp = ctx.response();
        if (stopping) {
            resp.putHeader(HttpHeaders.CONNECTION, "close");
            refuse(resp, OpenAiError.shuttingDown());
            return;
        }
        Caller caller = authenticate(ctx);
        if (caller == null) {
            return;
        }
        long limit = settings.maxBodyBytes();
        String length = req.getHeader(HttpHeaders.CONTENT_LENGTH);
        if (length != null) {
            try {
                if (Long.parseLong(length.trim()) > limit) {
                    tooLarge(resp, limit);
                    return;
                }
            } catch (NumberFormatException e) {
                refuse(resp, OpenAiError.badRequest("Content-Length is not a number.", null));
                return;
            }
        }
        Buffer body = Buffer.buffer();
        boolean[] refused = { false };
        req.handler(chunk -> {
            if (refused[0]) {
                return;
            }
            if (body.length() + chunk.length() > limit) {
                refused[0] = true;
                tooLarge(resp, limit);
                return;
            }
            body.appendBuffer(chunk);
        });
        req.exceptionHandler(e -> refused[0] = true);
        req.endHandler(v -> {
            if (!refused[0]) {
                received(ctx, endpoint, caller, body.getBytes(), start);
            }
        });
        req.resume();
    }

    private void received(RoutingContext ctx, Endpoint endpoint, Caller caller, byte[] body, long start) {
        HttpServerResponse resp = ctx.response();
        OpenAiRequest.Parsed parsed = OpenAiRequest.parse(endpoint, body);
        if (parsed instanceof OpenAiRequest.Invalid invalid) {
            refuse(resp, invalid.error());
            return;
        }
        OpenAiRequest request = ((OpenAiRequest.Ok) parsed).request();
        ModelCatalog.Lookup lookup = directory.snapshot().catalog().lookup(request.model(), caller.organization());
        if (lookup instanceof ModelCatalog.NotFound) {
            refuse(resp, OpenAiError.unknownModel(request.model()));
            return;
        }
        if (lookup instanceof ModelCatalog.Forbidden) {
            refuse(resp, OpenAiError.forbidden(request.model()));
            return;
        }
        ModelCatalog.Model model = ((ModelCatalog.Found) lookup).model();
        active.incrementAndGet();
        new Exchange(this, ctx, endpoint, caller, request, model, dispatchers.of(model.id()), start).begin();
    }

    /**
     * The caller's organization, or null after answering 401: no key, a key the pool does not know (deleted keys are
     * gone from the directory within the watch's delay), an expired one, or one whose namespace belongs to no
     * existing organization.
     */
    private Caller authenticate(RoutingContext ctx) {
        var key = ApiKeys.bearer(ctx.request().getHeader(HttpHeaders.AUTHORIZATION));
        if (key.isEmpty()) {
            refuse(ctx.response(), OpenAiError.missingKey());
            return null;
        }
        PoolSnapshot snapshot = directory.snapshot();
        PoolSnapshot.KeyEntry entry = snapshot.keys().get(ApiKeys.hash(key.get()));
        if (entry == null) {
            refuse(ctx.response(), OpenAiError.unknownKey("Incorrect API key provided: "
                    + ApiKeys.visiblePrefix(key.get()) + " (unknown or revoked)."));
            return null;
        }
        Instant now = clock.instant();
        if (entry.expiresAt() != null && !now.isBefore(entry.expiresAt())) {
            refuse(ctx.response(), OpenAiError.unknownKey("The API key " + entry.namespace() + "/" + entry.name()
                    + " expired at " + entry.expiresAt() + "."));
            return null;
        }
        Double weight = entry.organization() == null ? null : snapshot.weights().get(entry.organization());
        if (weight == null) {
            refuse(ctx.response(), OpenAiError.unknownKey("The API key " + entry.namespace() + "/" + entry.name()
                    + " belongs to no organization of the pool (its namespace has none)."));
            return null;
        }
        return new Caller(entry.organization(), weight, new UsageCounts.KeyRef(entry.namespace(), entry.name()));
    }

    private void tooLarge(HttpServerResponse resp, long limit) {
        // The rest of the body is not read: the connection goes.
        resp.putHeader(HttpHeaders.CONNECTION, "close");
        refuse(resp, OpenAiError.tooLarge(limit));
    }

    void refuse(HttpServerResponse resp, OpenAiError error) {
        metrics.refused(error.status());
        Responses.error(resp, error);
    }

    private static String write(Object o) {
        try {
            return JSON.writeValueAsString(o);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
