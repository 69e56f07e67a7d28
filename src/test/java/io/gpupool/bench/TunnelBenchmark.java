package io.gpupool.bench;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;

import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

import io.gpupool.gateway.upstream.Upstream;
import io.gpupool.gateway.upstream.UpstreamRequest;
import io.gpupool.testing.FakeEngine;
import io.gpupool.tunnel.AgentIdentity;
import io.gpupool.tunnel.RemoteReplica;
import io.gpupool.tunnel.TunnelRegistry;
import io.gpupool.tunnel.TunnelServer;
import io.gpupool.tunnel.agent.ServingEndpoints;
import io.gpupool.tunnel.agent.TunnelClient;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;

/**
 * Open-loop benchmark of the tunnel (hack/bench-tunnel.sh; hack/bench-gateway.sh can call {@link #run}): requests
 * leave at a constant rate and each latency is measured from its intended send time (no coordinated omission), into
 * HdrHistograms. Side by side in one run, against a fake engine that answers at once:
 * <ul>
 * <li>{@code direct}: a Vert.x HTTP client to the engine (the floor: what the gateway pays for a local replica);</li>
 * <li>{@code tunnel}: {@link Upstream#send} through the real {@link TunnelServer}, WebSocket and agent
 * ({@link TunnelClient}) to the same engine: what a replica behind NAT adds.</li>
 * </ul>
 * At 500 and 1,000 requests/s, then rates rising until the tunnel's p99 passes 50 ms. Everything runs in this JVM on
 * this machine: the figures include the engine's and the agent's CPU, as on a 2-core box. Bodies are read to their end.
 */
public final class TunnelBenchmark {

    private static final long P99_LIMIT_MICROS = 50_000;

    private final Vertx vertx;
    private final FakeEngine engine;
    private final HttpClient direct;
    private final Upstream tunnel;
    private final TunnelClient agent;

    private TunnelBenchmark(Vertx vertx) throws Exception {
        this.vertx = vertx;
        this.engine = FakeEngine.echoing(vertx);
        this.direct = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true),
                new PoolOptions().setHttp1MaxSize(256));
        String work = "bench.model";
        TunnelRegistry registry = new TunnelRegistry((cluster, w) -> true);
        Router router = Router.router(vertx);
        new TunnelServer(vertx, (token, cluster) -> new AgentIdentity(cluster, "system:serviceaccount:bench:agent"),
                registry, TunnelServer.Settings.defaults(() -> 1)).mount(router);
        int port = vertx.createHttpServer().requestHandler(router).listen(0, "127.0.0.1").toCompletionStage()
                .toCompletableFuture().get(10, TimeUnit.SECONDS).actualPort();
        ServingEndpoints endpoints = new ServingEndpoints() {
            @Override
            public Map<String, List<Endpoint>> ready() {
                return Map.of(work, List.of(new Endpoint("pod-0", "127.0.0.1", engine.port())));
            }

            @Override
            public void onChange(Runnable listener) {
            }
        };
        agent = new TunnelClient(vertx, TunnelClient.Settings.of(URI.create("http://127.0.0.1:" + port), "bench",
                () -> "bench-token", Optional.empty()), endpoints);
        agent.start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (registry.replicas("bench", work).isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        this.tunnel = registry.upstream(new RemoteReplica("bench", work, "pod-0"));
    }

    /**
     * One measured step: the rate asked for, answers per second achieved, latency percentiles (µs, from the intended
     * send time), requests that failed or got no answer.
     */
    public record Step(String mode, int rate, double achieved, long p50, long p90, long p99, long max, long errors) {

        public String line() {
            return String.format(Locale.ROOT, "%-7s %6d req/s  achieved %8.1f  p50 %7d us  p90 %7d us  p99 %7d us  "
                    + "max %8d us  errors %d", mode, rate, achieved, p50, p90, p99, max, errors);
        }
    }

    private static UpstreamRequest chat() {
        return new UpstreamRequest(HttpMethod.POST, "/v1/chat/completions",
                MultiMap.caseInsensitiveMultiMap().add("content-type", "application/json"),
                new JsonObject().put("model", "bench").put("max_tokens", 16).put("messages", new JsonArray()
                        .add(new JsonObject().put("role", "user").put("content", "say hi"))).toBuffer());
    }

    private Future<Void> viaDirect(UpstreamRequest r) {
        return direct.request(new RequestOptions().setMethod(r.method()).setHost("127.0.0.1").setPort(engine.port())
                .setURI(r.path()).setHeaders(r.headers())).compose(req -> req.send(r.body()))
                .compose(resp -> resp.body()).mapEmpty();
    }

    private Future<Void> viaTunnel(UpstreamRequest r) {
        return tunnel.send(r).compose(resp -> {
            io.vertx.core.Promise<Void> done = io.vertx.core.Promise.promise();
            resp.body().exceptionHandler(done::tryFail);
            resp.body().endHandler(v -> done.tryComplete());
            resp.body().handler(b -> {
            });
            return done.future();
        });
    }

    /** Sends at {@code rate} for {@code seconds} (after a warm-up second), open loop. */
    Step step(String mode, int rate, int seconds) throws InterruptedException {
        Supplier<Future<Void>> send = "direct".equals(mode) ? () -> viaDirect(chat()) : () -> viaTunnel(chat());
        run(send, rate, 1, new Recorder(3), new AtomicLong());
        Recorder recorder = new Recorder(3);
        AtomicLong errors = new AtomicLong();
        long started = System.nanoTime();
        long sent = run(send, rate, seconds, recorder, errors);
        double elapsed = (System.nanoTime() - started) / 1e9;
        Histogram h = recorder.getIntervalHistogram();
        return new Step(mode, rate, h.getTotalCount() / elapsed, h.getValueAtPercentile(50),
                h.getValueAtPercentile(90), h.getValueAtPercentile(99), h.getMaxValue(),
                sent - h.getTotalCount()); // failed, or not answered within 10 s of the step's end
    }

    /** Fires requests at their intended times from this thread; waits (bounded) for the last answers. */
    private long run(Supplier<Future<Void>> send, int rate, int seconds, Recorder recorder, AtomicLong errors)
            throws InterruptedException {
        long interval = 1_000_000_000L / rate;
        long total = (long) rate * seconds;
        long start = System.nanoTime();
        AtomicLong done = new AtomicLong();
        for (long i = 0; i < total; i++) {
            long intended = start + i * interval;
            long wait = intended - System.nanoTime();
            if (wait > 0) {
                LockSupport.parkNanos(wait);
            }
            vertx.runOnContext(v -> send.get().onComplete(ar -> {
                if (ar.succeeded()) {
                    recorder.recordValue(Math.max(0, (System.nanoTime() - intended) / 1000));
                } else {
                    errors.incrementAndGet();
                }
                done.incrementAndGet();
            }));
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (done.get() < total && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        return total;
    }

    /**
     * The whole benchmark: both modes at 500 and 1,000 requests/s, then the tunnel at rising rates until its p99 passes
     * 50 ms (or {@code maxRate}).
     */
    public static List<Step> run(int seconds, int maxRate, java.io.PrintStream out) throws Exception {
        Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(2));
        TunnelBenchmark bench = new TunnelBenchmark(vertx);
        List<Step> steps = new ArrayList<>();
        try {
            // JIT warm-up of both paths before anything is measured (the first steps would otherwise measure the
            // compiler).
            for (String mode : new String[] { "direct", "tunnel" }) {
                bench.step(mode, 1000, Math.max(5, seconds));
            }
            for (int rate : new int[] { 500, 1000 }) {
                for (String mode : new String[] { "direct", "tunnel" }) {
                    Step s = bench.step(mode, rate, seconds);
                    steps.add(s);
                    out.println(s.line());
                }
            }
            Step best = null;
            for (int rate = 1500; rate <= maxRate; rate += rate < 3000 ? 500 : 1000) {
                Step s = bench.step("tunnel", rate, seconds);
                steps.add(s);
                out.println(s.line());
                if (s.p99() >= P99_LIMIT_MICROS || s.errors() > 0 || s.achieved() < 0.95 * rate) {
                    break;
                }
                best = s;
            }
            out.println(best == null ? "tunnel: no rate above 1,000 req/s kept p99 under 50 ms"
                    : "tunnel: highest rate with p99 < 50 ms: " + best.rate() + " req/s (p99 " + best.p99() + " us)");
        } finally {
            bench.agent.close();
            bench.engine.close();
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
        return steps;
    }

    public static void main(String[] args) throws Exception {
        int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 10;
        int maxRate = args.length > 1 ? Integer.parseInt(args[1]) : 8000;
        System.out.printf("Tunnel benchmark: open loop, %d s per step, fake engine answering at once, all in one JVM "
                + "(%d CPUs)%n", seconds, Runtime.getRuntime().availableProcessors());
        run(seconds, maxRate, System.out);
        System.out.println("load average: " + new String(java.nio.file.Files.readAllBytes(
                java.nio.file.Path.of("/proc/loadavg"))).trim());
    }
}
