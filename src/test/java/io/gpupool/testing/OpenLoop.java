package io.gpupool.testing;

import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;

import org.HdrHistogram.Histogram;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;

/**
 * An open-loop load generator: requests go out at a constant rate, whatever the answers do, and each latency is taken
 * from the request's intended send time (so a stall shows as the latency of every request it delayed, not hidden as
 * coordinated omission does). Latencies go into an HdrHistogram, in microseconds. Streamed answers also record the
 * time to the first chunk.
 */
public final class OpenLoop implements AutoCloseable {

    private final Vertx vertx;
    private final HttpClient client;

    /**
     * @param latency    end-to-end, from the intended send time (µs)
     * @param firstChunk from the intended send time to the first body chunk (µs)
     */
    public record Result(Histogram latency, Histogram firstChunk, Map<Integer, Integer> statuses, int errors,
            double seconds) {

        public int ok() {
            return statuses.getOrDefault(200, 0);
        }

        public double p(double percentile) {
            return latency.getValueAtPercentile(percentile) / 1000.0;
        }

        public double firstChunkP(double percentile) {
            return firstChunk.getValueAtPercentile(percentile) / 1000.0;
        }
    }

    public OpenLoop(Vertx vertx) {
        this.vertx = vertx;
        this.client = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true).setTcpNoDelay(true)
                .setConnectTimeout(5000), new PoolOptions().setHttp1MaxSize(4096).setMaxWaitQueueSize(-1));
    }

    /**
     * Sends {@code rate} requests a second for {@code duration} and waits for the answers.
     *
     * @param body the body of request i
     */
    public Result run(URI url, String key, IntFunction<String> body, double rate, Duration duration) {
        long total = Math.max(1, Math.round(rate * duration.toNanos() / 1e9));
        Histogram latency = new Histogram(TimeUnit.MINUTES.toMicros(10), 3);
        Histogram first = new Histogram(TimeUnit.MINUTES.toMicros(10), 3);
        Map<Integer, Integer> statuses = new ConcurrentHashMap<>();
        AtomicInteger errors = new AtomicInteger();
        AtomicInteger done = new AtomicInteger();
        CompletableFuture<Void> finished = new CompletableFuture<>();
        long start = System.nanoTime() + 20_000_000;
        double interval = 1e9 / rate;
        long[] sent = { 0 };
        RequestOptions options = new RequestOptions().setMethod(HttpMethod.POST).setHost(url.getHost())
                .setPort(url.getPort()).setURI(url.getPath()).putHeader("content-type", "application/json");
        if (key != null) {
            options.putHeader("authorization", "Bearer " + key);
        }
        vertx.runOnContext(v -> {
            long[] timer = new long[1];
            timer[0] = vertx.setPeriodic(1, id -> {
                long now = System.nanoTime();
                while (sent[0] < total && start + (long) (sent[0] * interval) <= now) {
                    long intended = start + (long) (sent[0] * interval);
                    Buffer payload = Buffer.buffer(body.apply((int) sent[0]));
                    sent[0]++;
                    long[] firstAt = { 0 };
                    client.request(options).compose(req -> req.send(payload)).compose(resp -> {
                        resp.handler(chunk -> {
                            if (firstAt[0] == 0) {
                                firstAt[0] = System.nanoTime();
                            }
                        });
                        return resp.end().map(x -> resp.statusCode());
                    }).onComplete(ar -> {
                        long end = System.nanoTime();
                        if (ar.succeeded()) {
                            statuses.merge(ar.result(), 1, Integer::sum);
                            if (ar.result() == 200) {
                                latency.recordValue(Math.max(1, (end - intended) / 1000));
                                first.recordValue(Math.max(1, ((firstAt[0] == 0 ? end : firstAt[0]) - intended) / 1000));
                            }
                        } else {
                            errors.incrementAndGet();
                        }
                        if (done.incrementAndGet() == total) {
                            finished.complete(null);
                        }
                    });
                }
                if (sent[0] >= total) {
                    vertx.cancelTimer(timer[0]);
                }
            });
        });
        try {
            finished.get(duration.toSeconds() + 300, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("the load did not finish: " + done.get() + " of " + total + " answered", e);
        }
        return new Result(latency, first, Map.copyOf(statuses), errors.get(), (System.nanoTime() - start) / 1e9);
    }

    @Override
    public void close() {
        client.close();
    }
}
