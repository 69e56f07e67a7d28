package io.gpupool.apiserver;

import static io.gpupool.apiserver.GatewayFixture.WAIT;
import static io.gpupool.apiserver.GatewayFixture.chat;
import static io.gpupool.apiserver.GatewayFixture.post;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import io.gpupool.api.v1alpha1.ApiGroup;
import io.gpupool.api.v1alpha1.AutoscalingSpec;
import io.gpupool.api.v1alpha1.GatewayReport;
import io.gpupool.api.v1alpha1.ModelDeployment;
import io.gpupool.core.autoscaling.Autoscaler;
import io.gpupool.core.gateway.dispatch.QueueLimits;
import io.gpupool.core.model.WorkloadId;
import io.gpupool.gateway.Gateway;
import io.gpupool.playground.EnginePodNetwork;
import io.gpupool.testing.PoolFixtures;
import io.vertx.core.Vertx;

/**
 * Scale from zero and back, end to end on the real control plane: a ModelDeployment with minReplicas 0 holds no GPU;
 * the first request is held by the gateway, which writes its report at once; the operator, woken by that write (a
 * watch, not a poll), admits a replica and creates its Deployment; the real controllers and kube-scheduler make and
 * bind its pod, the simulated kubelet runs it with a SIMULATED engine on its pod IP, and the gateway releases the
 * request to it. Idle again, the model gives its GPU back after its scale-down delay. Timings are recorded as a
 * figure (target/figures/scale-from-zero.txt), never asserted.
 */
@ApiServerTier
class AutoscalingApiServerTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String NS = "as-team";
    private static final String ORG = "as-org";
    private static final String GATEWAY_URL = "https://llm.pool.example/v1";
    static final Path FIGURE = Path.of("target", "figures", "scale-from-zero.txt");

    private static KubernetesClient admin;
    private static TestPool pool;
    private static InProcessOperator operator;
    private static Vertx vertx;
    private static AutoCloseable engines;
    private static Gateway gateway;
    private static String key;

    @BeforeAll
    static void start(RealKubeApiServer.Server server) {
        server.applyCrds();
        admin = server.admin();
        GatewayFixture.gatewayNamespace(admin);
        pool = new TestPool(admin).member(NS, ORG).gpuClass("a100-80g", 80000, "NVIDIA-A100-SXM4-80GB");
        operator = InProcessOperator.start(admin, GATEWAY_URL);
        pool.contribute("a100-80g-01", ORG);
        vertx = Vertx.vertx();
        // Serving pods of this namespace get a SIMULATED engine on their pod IP, as in the playground.
        engines = server.kubelet().addresses(p -> NS.equals(p.getMetadata().getNamespace()),
                new EnginePodNetwork(vertx));
        key = GatewayFixture.key(admin, NS, "as-key");
        gateway = GatewayFixture.gateway(vertx, admin, GatewayFixture.settings("as-test/1")
                .withQueue(QueueLimits.DEFAULT.withColdStartWait(Duration.ofSeconds(60))
                        .withLoadWindow(Duration.ofSeconds(2))));
    }

    @AfterAll
    static void stop() throws Exception {
        if (gateway != null) {
            gateway.close();
        }
        TestPool.tearDown(pool, operator);
        if (engines != null) {
            engines.close();
        }
        if (vertx != null) {
            vertx.close();
        }
    }

    private static ModelDeployment autoscaled(String name, int min, int max, int delaySeconds, String gpuClass) {
        ModelDeployment md = PoolFixtures.modelDeployment(NS, name, 1, 1);
        md.getSpec().servedModelName = name;
        md.getSpec().model.maxContextLength = 4096;
        md.getSpec().gpu.classes = List.of(gpuClass);
        md.getSpec().autoscaling = new AutoscalingSpec();
        md.getSpec().autoscaling.minReplicas = min;
        md.getSpec().autoscaling.maxReplicas = max;
        md.getSpec().autoscaling.targetInFlightPerReplica = 1;
        md.getSpec().autoscaling.scaleDownDelaySeconds = delaySeconds;
        return admin.resource(md).create();
    }

    private static ModelDeployment get(String name) {
        return admin.resources(ModelDeployment.class).inNamespace(NS).withName(name).get();
    }

    private static int deploymentReplicas(String name) {
        return admin.apps().deployments().inNamespace(NS).withLabel(ApiGroup.MODEL_DEPLOYMENT_LABEL, name).list()
                .getItems().stream().mapToInt(d -> d.getSpec().getReplicas() == null ? 0 : d.getSpec().getReplicas())
                .sum();
    }

    @Test
    void aModelAtZeroAnswersItsFirstRequestAfterAColdStartAndGivesItsGpuBackWhenIdle() throws Exception {
        String name = "cold-coder";
        autoscaled(name, 0, 2, 3, "a100-80g");
        await().atMost(WAIT).ignoreExceptions().until(() -> {
            ModelDeployment md = get(name);
            return md.getStatus().autoscaling.desiredReplicas == 0 && md.getStatus().replicas.admitted == 0;
        });
        // Idle: no GPU held, no serving pod.
        assertThat(deploymentReplicas(name)).isZero();
        await().atMost(WAIT).until(() -> gateway.directory().snapshot().catalog().byServedName(name).isPresent());

        // Timestamps of each step, taken where each is seen first: the gateway's report (watch), the scheduler's
        // cycle (in-process), the Deployment (watch), the ready replica in the gateway's view, the answer.
        AtomicLong reported = new AtomicLong();
        AtomicLong admitted = new AtomicLong();
        AtomicLong created = new AtomicLong();
        WorkloadId id = new WorkloadId(NS, name);
        operator.scheduler().onCycle((outcome, view) -> {
            var a = outcome.result().assignments().get(id);
            if (a != null && a.stream().mapToInt(x -> x.replicas()).sum() > 0) {
                admitted.compareAndSet(0, System.nanoTime());
            }
        });
        try (Watch reports = admin.resources(GatewayReport.class).inNamespace(InProcessOperator.GATEWAY_NAMESPACE)
                .watch(firstSeen(reported, r -> r.getSpec().models.stream()
                        .anyMatch(m -> (NS + "/" + name).equals(m.model) && m.heldRequests != null)));
                Watch deployments = admin.apps().deployments().inNamespace(NS)
                        .withLabel(ApiGroup.MODEL_DEPLOYMENT_LABEL, name)
                        .watch(firstSeen(created, d -> d.getSpec().getReplicas() != null
                                && d.getSpec().getReplicas() > 0))) {
            long arrival = System.nanoTime();
            CompletableFuture<HttpResponse<String>> answer = CompletableFuture.supplyAsync(() -> {
                try {
                    return post(gateway.url() + "/chat/completions", key, chat(name, "hello from zero"));
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            AtomicLong reachable = new AtomicLong();
            await().atMost(WAIT).until(() -> {
                if (reachable.get() == 0 && gateway.directory().snapshot().reachable().getOrDefault(NS + "/" + name,
                        0) > 0) {
                    reachable.set(System.nanoTime());
                }
                return answer.isDone();
            });
            long answered = System.nanoTime();
            HttpResponse<String> response = answer.get();
            assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
            JsonNode body = JSON.readTree(response.body());
            assertThat(body.path("model").asText()).isEqualTo(name);
            await().atMost(WAIT).until(() -> created.get() != 0 && admitted.get() != 0 && reported.get() != 0);
            record(arrival, reported.get(), admitted.get(), created.get(), reachable.get(), answered);
        }

        ModelDeployment md = get(name);
        assertThat(md.getStatus().autoscaling.desiredReplicas).isEqualTo(1);
        assertThat(events(name)).anySatisfy(e -> {
            assertThat(e.getReason()).isEqualTo(Autoscaler.SCALED_UP);
            assertThat(e.getMessage()).contains("from 0 to 1", "held for a first replica");
        });

        // Idle again: after the load window (2 s) and the scale-down delay (3 s), the GPU is given back.
        await().atMost(WAIT).ignoreExceptions().until(() -> get(name).getStatus().autoscaling.desiredReplicas == 0
                && get(name).getStatus().replicas.admitted == 0);
        await().atMost(WAIT).until(() -> deploymentReplicas(name) == 0);
        assertThat(events(name)).anySatisfy(e -> assertThat(e.getReason()).isEqualTo(Autoscaler.SCALED_DOWN));
    }

    @Test
    void aRequestHeldLongerThanTheColdStartWaitGetsA503WithRetryAfter() throws Exception {
        // No node of this class: a replica never comes.
        String name = "never-starts";
        autoscaled(name, 0, 1, 300, "h100-80g");
        try (Gateway impatient = GatewayFixture.gateway(vertx, admin, GatewayFixture.settings("as-test/2")
                .withQueue(QueueLimits.DEFAULT.withColdStartWait(Duration.ofSeconds(2))))) {
            await().atMost(WAIT).until(() -> impatient.directory().snapshot().catalog().byServedName(name).isPresent());
            HttpResponse<String> response = post(impatient.url() + "/chat/completions", key, chat(name, "hi"));
            assertThat(response.statusCode()).isEqualTo(503);
            assertThat(response.headers().firstValue("retry-after")).isPresent();
            assertThat(JSON.readTree(response.body()).path("error").path("code").asText()).isEqualTo("model_starting");
        }
        // The operator heard of the request: it asked for a replica, which waits for a GPU of its class.
        await().atMost(WAIT).ignoreExceptions().until(() -> get(name).getStatus().autoscaling.desiredReplicas == 1);
    }

    private static List<Event> events(String name) {
        return admin.v1().events().inNamespace(NS).list().getItems().stream()
                .filter(e -> name.equals(e.getInvolvedObject().getName())).toList();
    }

    private static <T> Watcher<T> firstSeen(AtomicLong at, java.util.function.Predicate<T> matches) {
        return new Watcher<>() {
            @Override
            public void eventReceived(Action action, T resource) {
                try {
                    if (action != Action.DELETED && matches.test(resource)) {
                        at.compareAndSet(0, System.nanoTime());
                    }
                } catch (RuntimeException ignored) {
                    // a resource without the parts looked at
                }
            }

            @Override
            public void onClose(WatcherException cause) {
            }
        };
    }

    /** The figure: each step's time since the request arrived (a record, not an assertion). */
    private static void record(long arrival, long reported, long admitted, long created, long reachable,
            long answered) throws IOException {
        String figure = String.format(Locale.ROOT, "scale from zero (load %s): request arrival -> gateway report "
                + "written %d ms -> replica admitted %d ms -> Deployment created %d ms (the operator's part); -> "
                + "replica ready and reachable %d ms -> answer %d ms (pod start and SIMULATED model load: the "
                + "kubelet's load delay)%n", loadAverage(), ms(reported - arrival), ms(admitted - arrival),
                ms(created - arrival), ms(reachable - arrival), ms(answered - arrival));
        System.out.print("[figure] " + figure);
        Files.createDirectories(FIGURE.getParent());
        Files.writeString(FIGURE, figure);
    }

    private static long ms(long nanos) {
        return Math.max(0, nanos) / 1_000_000;
    }

    static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
        } catch (IOException e) {
            return "?";
        }
    }
}
