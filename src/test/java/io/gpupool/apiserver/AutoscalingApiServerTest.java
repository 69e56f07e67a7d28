package io.gpupool.apiserver;

import static io.gpupool.apiserver.GatewayFixture.WAIT;
import static io.gpupool.apiserver.GatewayFixture.chat;
import static io.gpupool.apiserver.GatewayFixture.post;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.gpupool.api.v1alpha1.ApiGroup;
import io.gpupool.api.v1alpha1.AutoscalingSpec;
import io.gpupool.api.v1alpha1.ModelDeployment;
import io.gpupool.core.autoscaling.Autoscaler;
import io.gpupool.core.gateway.dispatch.QueueLimits;
import io.gpupool.core.model.WorkloadId;
import io.gpupool.gateway.Gateway;
import io.gpupool.testing.EnginePodNetwork;
import io.gpupool.testing.ColdStartTimeline;
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

        // Each step timed where it is first seen: the gateway's report, the scheduler's cycle (in-process, before
        // the status says it), the Deployment, the ready replica, the answer.
        WorkloadId id = new WorkloadId(NS, name);
        try (ColdStartTimeline timeline = new ColdStartTimeline(admin, InProcessOperator.GATEWAY_NAMESPACE, NS,
                name)) {
            operator.scheduler().onCycle((outcome, view) -> {
                var a = outcome.result().assignments().get(id);
                if (a != null && a.stream().mapToInt(x -> x.replicas()).sum() > 0) {
                    timeline.admittedAt(System.nanoTime());
                }
            });
            timeline.arrived();
            HttpResponse<String> response = post(gateway.url() + "/chat/completions", key,
                    chat(name, "hello from zero"));
            timeline.answered();
            assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
            JsonNode body = JSON.readTree(response.body());
            assertThat(body.path("model").asText()).isEqualTo(name);
            await().atMost(WAIT).until(timeline::complete);
            timeline.record(FIGURE);
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

}
