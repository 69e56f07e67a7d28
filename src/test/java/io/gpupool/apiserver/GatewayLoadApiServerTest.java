package io.gpupool.apiserver;

import static io.gpupool.apiserver.GatewayFixture.WAIT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

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
import io.gpupool.testing.EnginePodNetwork;
import io.gpupool.testing.OpenLoop;
import io.gpupool.testing.RoundRobinProxy;
import io.vertx.core.Vertx;

/**
 * The gateway under load, end to end on the real control plane: fair queuing between two organizations on one
 * saturated shared model, and a gateway replica stopped while clients keep calling through a Service-like front. The
 * operator places the model on the flooding organization's GPU server, the real controllers and scheduler make and bind
 * its pod, and the simulated kubelet runs it with a SIMULATED engine at its pod IP that takes a fixed time per answer,
 * so the model's capacity is known: {@value #SLOTS} slots of 50 ms, 40 requests a second.
 */
@ApiServerTier
class GatewayLoadApiServerTest {

    private static final String QUIET = "gl-quiet";
    private static final String FLOOD = "gl-flood";
    private static final String MODEL = "gl-shared";
    /** Requests the one replica takes at once (maxInFlightPerReplica). */
    private static final int SLOTS = 2;
    private static final Duration SERVICE_TIME = Duration.ofMillis(50);
    /** Requests an organization may have waiting in the fairness test: more than the quiet one ever sends. */
    private static final int QUEUE = 150;
    /** Quota weights: the flooding organization weighs twice the quiet one. */
    private static final double QUIET_WEIGHT = 1.0;
    private static final double FLOOD_WEIGHT = 2.0;

    private static KubernetesClient admin;
    private static TestPool pool;
    private static InProcessOperator operator;
    private static Vertx vertx;
    private static AutoCloseable engines;
    private static String quietKey;
    private static String floodKey;

    @BeforeAll
    static void start(RealKubeApiServer.Server server) {
        server.applyCrds();
        admin = server.admin();
        GatewayFixture.gatewayNamespace(admin);
        pool = GatewayFixture.withGpuClass(new TestPool(admin).member(QUIET, QUIET).member(FLOOD, FLOOD)
                .allowSharing(FLOOD));
        admin.resources(Organization.class).withName(FLOOD).edit(o -> {
            o.getSpec().quota.weight = FLOOD_WEIGHT;
            return o;
        });
        operator = InProcessOperator.start(admin);
        pool.contribute(GatewayFixture.gpuServer("gl-h100", FLOOD));
        vertx = Vertx.vertx();
        engines = GatewayFixture.engines(server, new EnginePodNetwork(vertx, (pod, e) -> e.serviceTime(SERVICE_TIME)
                .forgetBodies()), FLOOD);
        GatewayFixture.model(admin, FLOOD, "shared", MODEL, true, SLOTS);
        quietKey = GatewayFixture.key(admin, QUIET, "k");
        floodKey = GatewayFixture.key(admin, FLOOD, "k");
    }

    @AfterAll
    static void stop() {
        if (admin != null) {
            admin.resources(ApiKey.class).inNamespace(QUIET).delete();
            admin.resources(ApiKey.class).inNamespace(FLOOD).delete();
        }
        // The engines go with their pods (the kubelet releases their addresses), then the class's Vert.x.
        TestPool.tearDown(pool, operator, engines, vertx == null ? null : vertx::close);
    }

    /** Requests of one size: the dispatcher charges each the same, so shares of requests are shares of tokens. */
    private static String body(int i) {
        return "{\"model\":\"" + MODEL + "\",\"max_tokens\":8,\"messages\":[{\"role\":\"user\",\"content\":\"request "
                + (i % 10) + " of the same size\"}]}";
    }

    /**
     * The flood organization sends 100 requests a second, 2.5 times what the model serves; the quiet one 20, more than
     * its third of the model (its weight share, 13.3 a second), so both stay backlogged. Every quiet request is
     * answered while the flood beyond its own queue is refused, and while both wait the requests served follow the
     * weights, 1:2, within the bound that virtual token counting guarantees (no timing in the assertions: how long
     * the quiet organization waits under a flood is a figure of hack/bench-gateway.sh).
     *
     * <p>The bound, in requests of one size (a tokens each as the engine counts them; the dispatcher charges e ≤ a when
     * it sends one, the gateway's estimate, and a − e when it ends): the dispatcher sends the request of the backlogged
     * organization with the smaller counter (tokens served / weight). An organization gets ahead only by its last
     * request sent and the corrections of its requests in flight, at most s + 1 requests' worth for s slots, so
     * the gap between the two counters, in requests, stays within [−(s+1)/w_flood, (s+1)/w_quiet], and over a window
     * it changes by at most (s+1)(1/w_quiet + 1/w_flood). What the meter counts in a window (requests ended) differs
     * from what the counters say by the requests in flight at either end, at most s per organization. So while both
     * are backlogged: |quiet/w_quiet − flood/w_flood| ≤ (2s+1)(1/w_quiet + 1/w_flood), 7.5 requests here, against
     * about 53 and 107 served in the window.
     */
    @Test
    void aFloodingOrganizationCannotStarveAQuietOne() throws Exception {
        try (Gateway gateway = GatewayFixture.gateway(vertx, admin, GatewayFixture.settings("gl/fair")
                .withQueue(new QueueLimits(QUEUE, Duration.ofSeconds(120))));
                OpenLoop load = new OpenLoop(vertx)) {
            await().atMost(WAIT).until(() -> gateway.directory().snapshot().replicas().containsKey(FLOOD + "/shared"));
            URI url = URI.create(gateway.url() + "/chat/completions");
            var model = gateway.dispatchers().of(FLOOD + "/shared");
            // Warm-up (connections, JIT, the dispatcher's mean completion), then an idle model.
            load.run(url, quietKey, GatewayLoadApiServerTest::body, 10, Duration.ofSeconds(2));
            await().atMost(WAIT).until(() -> model.stats().queued() == 0 && model.stats().inFlight() == 0);
            ExecutorService callers = Executors.newFixedThreadPool(2);
            try {
                Future<OpenLoop.Result> flood = callers.submit(() -> load.run(url, floodKey,
                        GatewayLoadApiServerTest::body, 100, Duration.ofSeconds(10)));
                await().atMost(WAIT).until(() -> model.stats().waiting().getOrDefault(FLOOD, 0) >= 50);
                // 120 requests: all of them fit in the quiet organization's queue, however slowly the machine serves.
                Future<OpenLoop.Result> quiet = callers.submit(() -> load.run(url, quietKey,
                        GatewayLoadApiServerTest::body, 20, Duration.ofSeconds(6)));
                // A window in which both organizations have requests waiting at either end (the quiet one's backlog
                // grows by about 7 a second in between).
                await().atMost(WAIT).until(() -> model.stats().waiting().getOrDefault(QUIET, 0) >= 10);
                Map<String, Integer> waitingAtStart = model.stats().waiting();
                UsageCounts before = gateway.meter().snapshot();
                Thread.sleep(4_000);
                UsageCounts after = gateway.meter().snapshot();
                Map<String, Integer> waitingAtEnd = model.stats().waiting();
                OpenLoop.Result quietAnswers = quiet.get();
                OpenLoop.Result floodAnswers = flood.get();

                long quietServed = requests(after.minus(before), QUIET);
                long floodServed = requests(after.minus(before), FLOOD);
                double gap = quietServed / QUIET_WEIGHT - floodServed / FLOOD_WEIGHT;
                double bound = (2 * SLOTS + 1) * (1 / QUIET_WEIGHT + 1 / FLOOD_WEIGHT);
                System.out.printf("[gateway-fairness] both backlogged: served %s %d, %s %d (weights 1:2, gap %.1f "
                        + "requests, bound %.1f); waiting at the window's ends %s, %s; quiet answered %s, flood %s%n",
                        QUIET, quietServed, FLOOD, floodServed, gap, bound, waitingAtStart, waitingAtEnd,
                        quietAnswers.statuses(), floodAnswers.statuses());

                // Every quiet request is answered: the flood fills only its own queue, and is refused beyond it.
                assertThat(quietAnswers.statuses()).containsOnlyKeys(200);
                assertThat(quietAnswers.errors()).isZero();
                assertThat(quietAnswers.ok()).isEqualTo(120);
                assertThat(floodAnswers.statuses().getOrDefault(429, 0)).isPositive();
                // While both wait, each gets its weight's share of the model.
                assertThat(waitingAtStart).containsKeys(QUIET, FLOOD);
                assertThat(waitingAtEnd).containsKeys(QUIET, FLOOD);
                assertThat(quietServed).isPositive();
                assertThat(Math.abs(gap)).isLessThanOrEqualTo(bound);
            } finally {
                callers.shutdownNow();
            }
        }
    }

    private static long requests(UsageCounts counts, String org) {
        return counts.usage().entrySet().stream().filter(e -> e.getKey().organization().equals(org))
                .mapToLong(e -> e.getValue().requests()).sum();
    }

    /**
     * Two gateway replicas behind a Service-like front; clients (the official SDK, its default retries) keep calling.
     * One replica is taken out of rotation and stopped: requests under way on it finish, clients that reach it again
     * get a 503 and retry on the other. Every request succeeds, and each is metered exactly once, durably.
     */
    @Test
    void aGatewayReplicaStoppedUnderLoadLosesNoRequestAndNoCount() throws Exception {
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
        }
    }

    private static long requests(String org) {
        Organization o = admin.resources(Organization.class).withName(org).get();
        OrganizationUsage u = o == null || o.getStatus() == null ? null : o.getStatus().usage;
        return u == null ? 0 : u.requests;
    }
}
