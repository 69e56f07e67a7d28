package io.gpupool.apiserver;

import static io.gpupool.apiserver.GatewayFixture.WAIT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.models.chat.completions.ChatCompletionCreateParams;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.gpupool.api.v1alpha1.ApiKey;
import io.gpupool.api.v1alpha1.Organization;
import io.gpupool.api.v1alpha1.OrganizationUsage;
import io.gpupool.core.gateway.dispatch.QueueLimits;
import io.gpupool.core.gateway.metering.UsageCounts;
import io.gpupool.gateway.Gateway;
import io.gpupool.testing.FakeEngine;
import io.gpupool.testing.OpenLoop;
import io.gpupool.testing.RoundRobinProxy;
import io.gpupool.testing.SimulatedReplicas;
import io.vertx.core.Vertx;

/**
 * The gateway under load, end to end: fair queuing between two organizations on one saturated shared model, and a
 * gateway replica stopped while clients keep calling through a Service-like front. The engine is SIMULATED with a
 * fixed service time, so the model's capacity is known: 8 slots of 200 ms, 40 requests a second.
 */
@ApiServerTier
class GatewayLoadApiServerTest {

    private static final String QUIET = "gl-quiet";
    private static final String FLOOD = "gl-flood";
    private static final String MODEL = "gl-shared";

    private static KubernetesClient admin;
    private static TestPool pool;
    private static InProcessOperator operator;
    private static Vertx vertx;
    private static SimulatedReplicas replicas;
    private static FakeEngine engine;
    private static String quietKey;
    private static String floodKey;

    @BeforeAll
    static void start(RealKubeApiServer.Server server) {
        server.applyCrds();
        admin = server.admin();
        GatewayFixture.gatewayNamespace(admin);
        pool = new TestPool(admin).member(QUIET, QUIET).member(FLOOD, FLOOD).allowSharing(FLOOD);
        // The flooding organization weighs twice the quiet one: its share while both are backlogged is 2:1.
        admin.resources(Organization.class).withName(FLOOD).edit(o -> {
            o.getSpec().quota.weight = 2.0;
            return o;
        });
        operator = InProcessOperator.start(admin);
        vertx = Vertx.vertx();
        replicas = new SimulatedReplicas(admin, vertx);
        GatewayFixture.model(admin, FLOOD, "shared", MODEL, true, 8);
        engine = replicas.start(FLOOD, "shared", MODEL, Duration.ofMillis(200)).engine().forgetBodies();
        quietKey = GatewayFixture.key(admin, QUIET, "k");
        floodKey = GatewayFixture.key(admin, FLOOD, "k");
    }

    @AfterAll
    static void stop() {
        if (replicas != null) {
            replicas.close();
        }
        if (vertx != null) {
            vertx.close();
        }
        if (admin != null) {
            admin.resources(ApiKey.class).inNamespace(QUIET).delete();
            admin.resources(ApiKey.class).inNamespace(FLOOD).delete();
        }
        TestPool.tearDown(pool, operator);
    }

    private static String body(int i) {
        return "{\"model\":\"" + MODEL + "\",\"max_tokens\":8,\"messages\":[{\"role\":\"user\",\"content\":\"request "
                + (i % 10) + " of the same size\"}]}";
    }

    /**
     * The quiet organization sends 10 requests a second; the flood organization 10 times as many, more than the
     * model serves (40/s). The quiet one's p99, measured open-loop from the intended send time, stays within twice its
     * figure without the flood. Solo and flooded phases alternate (4 of each, 50 requests per phase), so that the
     * machine's own load, which drifts on a shared 2-core machine, weighs on both alike.
     */
    @Test
    void aFloodingOrganizationCannotStarveAQuietOne() throws Exception {
        try (Gateway gateway = GatewayFixture.gateway(vertx, admin, GatewayFixture.settings("gl/fair")
                .withQueue(new QueueLimits(100, Duration.ofSeconds(60))));
                OpenLoop load = new OpenLoop(vertx)) {
            await().atMost(WAIT).until(() -> gateway.directory().snapshot().replicas().containsKey(FLOOD + "/shared"));
            URI url = URI.create(gateway.url() + "/chat/completions");
            var model = gateway.dispatchers().of(FLOOD + "/shared");
            load.run(url, quietKey, GatewayLoadApiServerTest::body, 10, Duration.ofSeconds(2)); // warm-up
            Histogram solo = new Histogram(3);
            Histogram flooded = new Histogram(3);
            int soloOk = 0;
            int floodedOk = 0;
            Map<Integer, Integer> floodAnswers = new HashMap<>();
            ExecutorService flooder = Executors.newSingleThreadExecutor();
            try {
                for (int phase = 0; phase < 4; phase++) {
                    await().atMost(WAIT).until(() -> model.stats().queued() == 0 && model.stats().inFlight() == 0);
                    OpenLoop.Result alone = load.run(url, quietKey, GatewayLoadApiServerTest::body, 10,
                            Duration.ofSeconds(5));
                    solo.add(alone.latency());
                    soloOk += alone.ok();
                    Future<OpenLoop.Result> flood = flooder.submit(() -> load.run(url, floodKey,
                            GatewayLoadApiServerTest::body, 100, Duration.ofSeconds(9)));
                    // The flood saturates the model first.
                    await().atMost(WAIT).until(() -> model.stats().queued() > 50);
                    OpenLoop.Result under = load.run(url, quietKey, GatewayLoadApiServerTest::body, 10,
                            Duration.ofSeconds(5));
                    flooded.add(under.latency());
                    floodedOk += under.ok();
                    flood.get().statuses().forEach((code, n) -> floodAnswers.merge(code, n, Integer::sum));
                }
            } finally {
                flooder.shutdown();
            }
            double soloP99 = solo.getValueAtPercentile(99) / 1000.0;
            double floodedP99 = flooded.getValueAtPercentile(99) / 1000.0;
            System.out.printf("[gateway-fairness] quiet org alone: p50 %.1f ms p99 %.1f ms (%d); under a 10x flood: "
                    + "p50 %.1f ms p99 %.1f ms (%d); flood answered %s; load average %s%n",
                    solo.getValueAtPercentile(50) / 1000.0, soloP99, soloOk, flooded.getValueAtPercentile(50) / 1000.0,
                    floodedP99, floodedOk, floodAnswers, loadAverage());
            assertThat(soloOk).isEqualTo(200);
            assertThat(floodedOk).isEqualTo(200);
            assertThat(floodedP99).isLessThanOrEqualTo(2 * soloP99);
            // The flood was refused beyond its own queue: the model was saturated.
            assertThat(floodAnswers.getOrDefault(429, 0)).isPositive();
            assertThat(engine.maxActive()).isEqualTo(8);
        }
    }

    private static String loadAverage() {
        try {
            return java.nio.file.Files.readString(java.nio.file.Path.of("/proc/loadavg")).trim();
        } catch (java.io.IOException e) {
            return "?";
        }
    }

    @Test
    void whileBothAreBackloggedTokensFollowTheWeights() throws Exception {
        try (Gateway gateway = GatewayFixture.gateway(vertx, admin, GatewayFixture.settings("gl/ratio")
                .withQueue(new QueueLimits(1000, Duration.ofSeconds(120))))) {
            await().atMost(WAIT).until(() -> gateway.directory().snapshot().replicas().containsKey(FLOOD + "/shared"));
            URI url = URI.create(gateway.url() + "/chat/completions");
            AtomicBoolean running = new AtomicBoolean(true);
            List<Thread> clients = new ArrayList<>();
            // Closed loops with 30 requests always outstanding per organization: both stay backlogged (8 slots).
            for (String key : List.of(quietKey, floodKey)) {
                for (int i = 0; i < 30; i++) {
                    Thread t = new Thread(() -> {
                        int n = 0;
                        while (running.get()) {
                            try {
                                GatewayFixture.post(url.toString(), key, body(n++));
                            } catch (Exception e) {
                                // counted by what the gateway metered
                            }
                        }
                    });
                    t.setDaemon(true);
                    t.start();
                    clients.add(t);
                }
            }
            await().atMost(WAIT).until(() -> gateway.dispatchers().of(FLOOD + "/shared").stats().waiting().size() == 2);
            UsageCounts start = gateway.meter().snapshot();
            Thread.sleep(12_000);
            UsageCounts end = gateway.meter().snapshot();
            var backlog = gateway.dispatchers().of(FLOOD + "/shared").stats().waiting();
            running.set(false);
            long quiet = tokens(end.minus(start), QUIET);
            long flood = tokens(end.minus(start), FLOOD);
            System.out.printf("[gateway-fairness] both backlogged for 12 s: tokens served %s %d, %s %d (ratio %.3f, "
                    + "weights 2:1); still waiting at the end %s%n", FLOOD, flood, QUIET, quiet, (double) flood / quiet,
                    backlog);
            assertThat(backlog).containsKeys(QUIET, FLOOD);
            assertThat((double) flood / quiet).isBetween(2 * 0.9, 2 * 1.1);
            for (Thread t : clients) {
                t.join(30_000);
            }
        }
    }

    private static long tokens(UsageCounts counts, String org) {
        return counts.usage().entrySet().stream().filter(e -> e.getKey().organization().equals(org))
                .mapToLong(e -> e.getValue().promptTokens() + e.getValue().completionTokens()).sum();
    }

    /**
     * Two gateway replicas behind a Service-like front; clients (the official SDK, its default retries) keep calling.
     * One replica is taken out of rotation and stopped: requests under way on it finish, clients that reach it again
     * get a 503 and retry on the other. Every request succeeds, and each is metered exactly once, durably.
     */
    @Test
    void aGatewayReplicaStoppedUnderLoadLosesNoRequestAndNoCount() throws Exception {
        engine.serviceTime(Duration.ofMillis(50));
        Gateway first = GatewayFixture.gateway(vertx, admin, GatewayFixture.settings("gl/first"));
        Gateway second = GatewayFixture.gateway(vertx, admin, GatewayFixture.settings("gl/second"));
        try (RoundRobinProxy service = new RoundRobinProxy(List.of(first.port(), second.port()))) {
            for (Gateway g : List.of(first, second)) {
                await().atMost(WAIT).until(() -> g.directory().snapshot().replicas().containsKey(FLOOD + "/shared"));
            }
            long before = requests(QUIET);
            OpenAIClient client = OpenAIOkHttpClient.builder().apiKey(quietKey).baseUrl(service.url())
                    .timeout(Duration.ofSeconds(30)).build();
            AtomicBoolean running = new AtomicBoolean(true);
            AtomicInteger ok = new AtomicInteger();
            List<Throwable> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
            List<Thread> callers = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                Thread t = new Thread(() -> {
                    while (running.get()) {
                        try {
                            client.chat().completions().create(ChatCompletionCreateParams.builder().model(MODEL)
                                    .addUserMessage("keep going").build());
                            ok.incrementAndGet();
                        } catch (Throwable e) {
                            failures.add(e);
                        }
                    }
                });
                t.start();
                callers.add(t);
            }
            await().atMost(WAIT).until(() -> ok.get() > 50 && first.meter().snapshot().usage().size() > 0);
            service.remove(first.port()); // its pod is no longer ready: no new connections
            first.stop(Duration.ofSeconds(10));
            int atStop = ok.get();
            await().atMost(WAIT).until(() -> ok.get() > atStop + 50);
            running.set(false);
            for (Thread t : callers) {
                t.join(30_000);
            }
            second.reports().flushNow();
            assertThat(failures).isEmpty();
            // Everything the stopped replica metered was written when it stopped; the other writes its share.
            await().atMost(WAIT).until(() -> requests(QUIET) == before + ok.get());
        } finally {
            first.close();
            second.close();
            engine.serviceTime(Duration.ofMillis(200));
        }
    }

    private static long requests(String org) {
        Organization o = admin.resources(Organization.class).withName(org).get();
        OrganizationUsage u = o == null || o.getStatus() == null ? null : o.getStatus().usage;
        return u == null ? 0 : u.requests;
    }
}
