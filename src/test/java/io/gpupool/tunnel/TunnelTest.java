package io.gpupool.tunnel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.gpupool.gateway.upstream.UpstreamRequest;
import io.gpupool.gateway.upstream.UpstreamResponse;
import io.gpupool.gateway.upstream.UpstreamUnavailableException;
import io.gpupool.testing.FakeEngine;
import io.gpupool.testing.TcpProxy;
import io.gpupool.tunnel.agent.ServingEndpoints;
import io.gpupool.tunnel.agent.TunnelClient;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;

/**
 * The tunnel end to end on one machine: a gateway (a Vert.x server with the tunnel mounted on its router), the agent's
 * real tunnel client dialing it through a link the test can cut ({@link TcpProxy}), and a fake OpenAI engine behind
 * the agent. Credentials are checked by a table here; the real check (TokenReview and SubjectAccessReview) is
 * {@link TunnelApiServerTest}'s.
 */
class TunnelTest {

    private static final Duration WAIT = Duration.ofSeconds(15);
    /** Pings every second; three silent seconds close a tunnel (a loaded CI machine can stall an event loop). */
    private static final Duration KEEPALIVE = Duration.ofSeconds(1);
    private static final String CLUSTER = "home-lab";
    private static final String WORK = "team-a.llama";
    private static final String POD = "llama-1a2b-0";
    private static final RemoteReplica REPLICA = new RemoteReplica(CLUSTER, WORK, POD);

    private Vertx vertx;
    private FakeEngine engine;
    private HttpServer gateway;
    private TunnelRegistry registry;
    private TcpProxy link;
    private TunnelClient agent;
    /** Valid tokens and the cluster each belongs to. */
    private final Map<String, String> tokens = new ConcurrentHashMap<>();
    /** Tokens the gateway checked, in order. */
    private final List<String> checked = new CopyOnWriteArrayList<>();
    private final AtomicReference<String> agentToken = new AtomicReference<>("token-1");
    /** Works the pool placed, as cluster/work. */
    private final Set<String> placed = ConcurrentHashMap.newKeySet();
    private final TestEndpoints endpoints = new TestEndpoints();

    @BeforeEach
    void start() throws Exception {
        vertx = Vertx.vertx();
        engine = FakeEngine.echoing(vertx);
        tokens.put("token-1", CLUSTER);
        placed.add(CLUSTER + "/" + WORK);
        endpoints.set(Map.of(WORK, List.of(new ServingEndpoints.Endpoint(POD, "127.0.0.1", engine.port()))));
        registry = new TunnelRegistry((cluster, work) -> placed.contains(cluster + "/" + work));
        TunnelAuthenticator table = (token, cluster) -> {
            checked.add(token);
            String owner = tokens.get(token);
            if (owner == null) {
                throw new TunnelRefusedException(401, "unknown token");
            }
            if (!owner.equals(cluster)) {
                throw new TunnelRefusedException(403, "not the agent of " + cluster);
            }
            return new AgentIdentity(cluster, "system:serviceaccount:gpupool-cluster-" + cluster + ":gpupool-agent");
        };
        TunnelServer server = new TunnelServer(vertx, table, registry,
                new TunnelServer.Settings(() -> 1, 64 * 1024, KEEPALIVE, Duration.ofMillis(300)));
        Router router = Router.router(vertx);
        server.mount(router);
        gateway = vertx.createHttpServer().requestHandler(router).listen(0, "127.0.0.1").toCompletionStage()
                .toCompletableFuture().get(10, TimeUnit.SECONDS);
        link = new TcpProxy(gateway.actualPort());
    }

    private void startAgent() {
        agent = new TunnelClient(vertx, new TunnelClient.Settings(URI.create(link.url()), CLUSTER, agentToken::get,
                Optional.empty(), Duration.ofMillis(100), Duration.ofMillis(800), KEEPALIVE), endpoints);
        agent.start();
        await().atMost(WAIT).until(() -> registry.replicas(CLUSTER, WORK).size() == 1);
    }

    @AfterEach
    void stop() throws Exception {
        if (agent != null) {
            agent.close();
        }
        link.close();
        engine.close();
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    private static UpstreamRequest chat(String prompt, boolean stream) {
        JsonObject body = new JsonObject().put("model", "llama").put("stream", stream)
                .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", prompt)));
        return new UpstreamRequest(HttpMethod.POST, "/v1/chat/completions",
                MultiMap.caseInsensitiveMultiMap().add("content-type", "application/json").add("x-request-id", prompt),
                body.toBuffer());
    }

    private UpstreamResponse send(UpstreamRequest request) throws Exception {
        return registry.upstream(REPLICA).send(request).toCompletionStage().toCompletableFuture().get(10,
                TimeUnit.SECONDS);
    }

    /** Reads a body to its end, keeping the chunks as they came. */
    private static final class Reader {
        final List<String> chunks = new CopyOnWriteArrayList<>();
        final CompletableFuture<String> done = new CompletableFuture<>();

        Reader(UpstreamResponse response) {
            StringBuilder all = new StringBuilder();
            response.body().exceptionHandler(done::completeExceptionally);
            response.body().endHandler(v -> done.complete(all.toString()));
            response.body().handler(b -> {
                chunks.add(b.toString());
                all.append(b);
            });
        }

        String body() throws Exception {
            return done.get(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void answersAndStreamsChunkByChunk() throws Exception {
        startAgent();
        UpstreamResponse plain = send(chat("hello pool", false));
        assertThat(plain.statusCode()).isEqualTo(200);
        assertThat(plain.headers().get("content-type")).isEqualTo("application/json");
        JsonObject answer = new JsonObject(new Reader(plain).body());
        assertThat(answer.getJsonArray("choices").getJsonObject(0).getJsonObject("message").getString("content"))
                .isEqualTo("echo: hello pool");
        // What the engine saw: the client's headers, not the hop's.
        assertThat(engine.lastHeaders().get("x-request-id")).isEqualTo("hello pool");

        // A stream reaches the gateway while the engine is still generating: its first chunk, then the rest.
        CompletableFuture<Void> rest = engine.holdAfterFirstChunk();
        UpstreamResponse streamed = send(chat("one two three four", true));
        assertThat(streamed.headers().get("content-type")).isEqualTo("text/event-stream");
        Reader reader = new Reader(streamed);
        await().atMost(WAIT).until(() -> reader.chunks.size() == 1);
        assertThat(reader.chunks.get(0)).startsWith("data: ").contains("\"content\":\"echo:\"");
        assertThat(reader.done).isNotDone();
        rest.complete(null);
        String body = reader.body();
        assertThat(body).endsWith("data: [DONE]\n\n");
        assertThat(body.split("\n\n")).hasSize(6); // five words, [DONE]
        assertThat(reader.chunks.size()).isGreaterThan(1);
    }

    @Test
    void anIdleTunnelStaysOpenOnItsKeepalive() throws Exception {
        startAgent();
        List<String> changes = new CopyOnWriteArrayList<>();
        registry.onChange(() -> changes.add(registry.clusters().toString()));
        Thread.sleep(5_000); // five keepalive periods without a request
        assertThat(changes).isEmpty();
        assertThat(registry.connected(CLUSTER)).isTrue();
    }

    @Test
    void multiplexesManyConcurrentRequestsOverOneTunnel() throws Exception {
        startAgent();
        engine.chunkInterval(Duration.ofMillis(2));
        List<CompletableFuture<String>> answers = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            boolean stream = i % 2 == 0;
            answers.add(registry.upstream(REPLICA).send(chat("request " + i, stream)).toCompletionStage()
                    .toCompletableFuture().thenCompose(r -> new Reader(r).done));
        }
        for (int i = 0; i < answers.size(); i++) {
            String body = answers.get(i).get(20, TimeUnit.SECONDS);
            if (i % 2 == 0) {
                assertThat(body).contains("\"content\":\" " + i + "\"").endsWith("data: [DONE]\n\n");
            } else {
                assertThat(body).contains("echo: request " + i + "\"");
            }
        }
        assertThat(engine.requests()).isEqualTo(200);
    }

    @Test
    void aReaderThatStopsHoldsBackTheEngineAndLosesNothing() throws Exception {
        startAgent();
        long total = 24L * 1024 * 1024;
        UpstreamResponse bulk = send(new UpstreamRequest(HttpMethod.POST, "/v1/bulk", MultiMap.caseInsensitiveMultiMap(),
                new JsonObject().put("bytes", total).toBuffer()));
        // Nobody reads yet: the tunnel lets the agent run ahead by its window only, so the engine stops writing once
        // the buffers on its side are full.
        await().atMost(WAIT).pollInterval(Duration.ofMillis(300)).until(new java.util.concurrent.Callable<>() {
            long previous = -1;

            @Override
            public Boolean call() {
                long now = engine.bulkWritten();
                boolean stalled = now == previous;
                previous = now;
                return stalled;
            }
        });
        assertThat(engine.bulkWritten()).isLessThan(total / 2);
        long[] received = { 0 };
        CompletableFuture<Long> done = new CompletableFuture<>();
        bulk.body().endHandler(v -> done.complete(received[0]));
        bulk.body().handler(b -> received[0] += b.length());
        assertThat(done.get(30, TimeUnit.SECONDS)).isEqualTo(total);
    }

    @Test
    void aClientThatGoesAwayCancelsTheRequestAtTheEngine() throws Exception {
        startAgent();
        engine.holdAfterFirstChunk();
        UpstreamResponse streamed = send(chat("a long answer", true));
        Reader reader = new Reader(streamed);
        await().atMost(WAIT).until(() -> reader.chunks.size() == 1);
        streamed.cancel();
        await().atMost(WAIT).until(() -> engine.cancelled() == 1);
    }

    @Test
    void aTunnelCutMidStreamFailsTheBodyAndStopsTheEngine() throws Exception {
        startAgent();
        engine.holdAfterFirstChunk();
        UpstreamResponse streamed = send(chat("cut me off", true));
        Reader reader = new Reader(streamed);
        await().atMost(WAIT).until(() -> reader.chunks.size() == 1);
        link.cut();
        assertThatThrownBy(reader::body).isInstanceOf(ExecutionException.class)
                .hasCauseInstanceOf(TunnelStreamException.class).hasMessageContaining("the tunnel closed");
        // The agent lost its client too: it resets the engine's request.
        await().atMost(WAIT).until(() -> engine.cancelled() == 1);
    }

    @Test
    void aTunnelLostBeforeTheFirstByteIsUnavailableSoTheGatewayMayRetry() throws Exception {
        startAgent();
        engine.holdBeforeHead();
        CompletableFuture<UpstreamResponse> pending = registry.upstream(REPLICA).send(chat("never answered", false))
                .toCompletionStage().toCompletableFuture();
        await().atMost(WAIT).until(() -> engine.requests() == 1);
        link.cut();
        assertThatThrownBy(() -> pending.get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(
                UpstreamUnavailableException.class);
        await().atMost(WAIT).until(() -> !registry.connected(CLUSTER));
        // Without a tunnel the replica is unavailable at once.
        assertThat(registry.replicas(CLUSTER, WORK)).isEmpty();
        assertThatThrownBy(() -> send(chat("nobody there", false))).hasCauseInstanceOf(
                UpstreamUnavailableException.class).hasMessageContaining("has no tunnel open");
    }

    @Test
    void reconnectsWithBackoffAfterAnOutageReadingItsTokenAgain() throws Exception {
        startAgent();
        List<String> changes = new CopyOnWriteArrayList<>();
        registry.onChange(() -> changes.add(registry.clusters().toString()));
        link.cut();
        await().atMost(WAIT).until(() -> !registry.connected(CLUSTER));
        // The pool rotated the agent's token during the outage.
        tokens.put("token-2", CLUSTER);
        agentToken.set("token-2");
        Thread.sleep(3_000);
        // Backoff between 100 ms and 800 ms: a handful of attempts in 3 s, not a storm.
        assertThat(link.refusedConnections()).isBetween(3, 20);
        link.restore();
        await().atMost(WAIT).until(() -> registry.replicas(CLUSTER, WORK).size() == 1);
        assertThat(checked).last().isEqualTo("token-2");
        assertThat(changes).contains("[]", "[" + CLUSTER + "]");
        assertThat(new Reader(send(chat("back again", false))).body()).contains("echo: back again");
    }

    @Test
    void aRotatedTokenKeepsTheTunnelAndARevokedOneClosesIt() throws Exception {
        startAgent();
        // Rotation: the agent sends its new token; the gateway checks that one from then on.
        tokens.put("token-2", CLUSTER);
        agentToken.set("token-2");
        await().atMost(WAIT).until(() -> checked.contains("token-2"));
        tokens.remove("token-1");
        Thread.sleep(1_000); // a few re-authorizations with the new token
        assertThat(registry.connected(CLUSTER)).isTrue();
        // Revocation: the next re-authorization closes the tunnel, and the agent cannot open another.
        tokens.remove("token-2");
        await().atMost(WAIT).until(() -> !registry.connected(CLUSTER));
        Thread.sleep(1_000);
        assertThat(registry.connected(CLUSTER)).isFalse();
    }

    @Test
    void onlyTheClustersCurrentWorksAreReachable() throws Exception {
        startAgent();
        // The agent reports a work the pool did not place on this cluster: the gateway does not believe it.
        endpoints.set(Map.of(WORK, List.of(new ServingEndpoints.Endpoint(POD, "127.0.0.1", engine.port())),
                "team-b.secret", List.of(new ServingEndpoints.Endpoint("secret-0", "127.0.0.1", engine.port()))));
        await().atMost(WAIT).until(() -> registry.tunnelFor(REPLICA).orElseThrow().replicas()
                .containsKey("team-b.secret"));
        assertThat(registry.replicas(CLUSTER, "team-b.secret")).isEmpty();
        assertThatThrownBy(() -> registry.upstream(new RemoteReplica(CLUSTER, "team-b.secret", "secret-0"))
                .send(chat("x", false)).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS))
                .hasCauseInstanceOf(UpstreamUnavailableException.class).hasMessageContaining("placed no work");

        // The agent refuses a work that is not one of its cluster's current works, whatever the gateway asks.
        placed.add(CLUSTER + "/team-c.other");
        assertThatThrownBy(() -> registry.upstream(new RemoteReplica(CLUSTER, "team-c.other", "other-0"))
                .send(chat("x", false)).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS))
                .hasCauseInstanceOf(UpstreamUnavailableException.class)
                .hasMessageContaining("team-c.other is not a current work of cluster " + CLUSTER);

        // A pod that stopped being ready is unavailable (the gateway tries another replica).
        endpoints.set(Map.of(WORK, List.of()));
        await().atMost(WAIT).until(() -> registry.replicas(CLUSTER, WORK).isEmpty());
        assertThatThrownBy(() -> send(chat("x", false))).hasCauseInstanceOf(UpstreamUnavailableException.class)
                .hasMessageContaining("no ready replica " + POD);
        assertThat(engine.requests()).isZero();
    }

    @Test
    void aWorksUpstreamSpreadsRequestsToTheLeastBusyReplica() throws Exception {
        try (FakeEngine second = FakeEngine.echoing(vertx)) {
            startAgent();
            endpoints.set(Map.of(WORK, List.of(new ServingEndpoints.Endpoint(POD, "127.0.0.1", engine.port()),
                    new ServingEndpoints.Endpoint("llama-1a2b-1", "127.0.0.1", second.port()))));
            await().atMost(WAIT).until(() -> registry.replicas(CLUSTER, WORK).size() == 2);
            var work = registry.upstream(CLUSTER, WORK).orElseThrow();
            assertThat(work.describe()).isEqualTo(CLUSTER + "/" + WORK);
            CompletableFuture<Void> first = engine.holdAfterFirstChunk();
            CompletableFuture<Void> other = second.holdAfterFirstChunk();
            List<Reader> readers = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                UpstreamResponse r = work.send(chat("busy " + i, true)).toCompletionStage().toCompletableFuture()
                        .get(10, TimeUnit.SECONDS);
                Reader reader = new Reader(r);
                readers.add(reader);
                await().atMost(WAIT).until(() -> reader.chunks.size() == 1);
            }
            // Held streams stay under way: the choice alternates.
            assertThat(engine.requests()).isEqualTo(2);
            assertThat(second.requests()).isEqualTo(2);
            first.complete(null);
            other.complete(null);
            for (Reader r : readers) {
                assertThat(r.body()).endsWith("data: [DONE]\n\n");
            }
            endpoints.set(Map.of(WORK, List.of()));
            await().atMost(WAIT).until(() -> registry.upstream(CLUSTER, WORK).isEmpty());
        }
    }

    @Test
    void aForgedTokenOrAnotherClustersTokenOpensNoTunnel() throws Exception {
        agentToken.set("forged");
        tokens.put("token-b", "other-lab");
        agent = new TunnelClient(vertx, new TunnelClient.Settings(URI.create(link.url()), CLUSTER, agentToken::get,
                Optional.empty(), Duration.ofMillis(100), Duration.ofMillis(300), KEEPALIVE), endpoints);
        agent.start();
        await().atMost(WAIT).until(() -> checked.contains("forged"));
        agentToken.set("token-b");
        await().atMost(WAIT).until(() -> checked.contains("token-b"));
        Thread.sleep(500);
        assertThat(registry.clusters()).isEmpty();
        assertThat(agent.connectedGateways()).isZero();
        // The right token, read at the next attempt, opens it.
        agentToken.set("token-1");
        await().atMost(WAIT).until(() -> registry.connected(CLUSTER));
    }

    @Test
    void keepsOneTunnelToEachGatewayReplicaBehindOneUrl() throws Exception {
        // Two gateway replicas behind a load balancer that alternates: each must get its own tunnel.
        List<TunnelRegistry> registries = new ArrayList<>();
        List<Integer> ports = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            TunnelRegistry r = new TunnelRegistry((cluster, work) -> true);
            Router router = Router.router(vertx);
            new TunnelServer(vertx, (token, cluster) -> new AgentIdentity(cluster, "system:serviceaccount:x:y"), r,
                    new TunnelServer.Settings(() -> 2, 64 * 1024, KEEPALIVE, Duration.ofSeconds(5)))
                    .mount(router);
            ports.add(vertx.createHttpServer().requestHandler(router).listen(0, "127.0.0.1").toCompletionStage()
                    .toCompletableFuture().get(10, TimeUnit.SECONDS).actualPort());
            registries.add(r);
        }
        // A balancer that sends the first two dials to the same replica: the agent closes the duplicate and dials on.
        try (TcpProxy balancer = new TcpProxy(ports.get(0), ports.get(0), ports.get(1))) {
            agent = new TunnelClient(vertx, new TunnelClient.Settings(URI.create(balancer.url()), CLUSTER,
                    agentToken::get, Optional.empty(), Duration.ofMillis(100), Duration.ofMillis(800), KEEPALIVE),
                    endpoints);
            agent.start();
            await().atMost(WAIT).until(() -> registries.stream().allMatch(r -> r.replicas(CLUSTER, WORK).size() == 1));
            assertThat(agent.connectedGateways()).isEqualTo(2);
            for (TunnelRegistry r : registries) {
                UpstreamResponse answer = r.upstream(REPLICA).send(chat("via each gateway", false)).toCompletionStage()
                        .toCompletableFuture().get(10, TimeUnit.SECONDS);
                assertThat(new Reader(answer).body()).contains("echo: via each gateway");
            }
            agent.close();
            agent = null;
        }
    }

    /** The agent's view of its serving pods, set by the test. */
    private static final class TestEndpoints implements ServingEndpoints {
        private volatile Map<String, List<Endpoint>> ready = Map.of();
        private final List<Runnable> listeners = new CopyOnWriteArrayList<>();

        void set(Map<String, List<Endpoint>> next) {
            ready = new java.util.TreeMap<>(next);
            listeners.forEach(Runnable::run);
        }

        @Override
        public Map<String, List<Endpoint>> ready() {
            return ready;
        }

        @Override
        public void onChange(Runnable listener) {
            listeners.add(listener);
        }
    }
}
