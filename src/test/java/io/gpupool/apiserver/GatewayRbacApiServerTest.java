package io.gpupool.apiserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.gpupool.api.v1alpha1.ApiKey;
import io.gpupool.api.v1alpha1.GatewayReport;
import io.gpupool.api.v1alpha1.ModelDeployment;
import io.gpupool.api.v1alpha1.Organization;
import io.gpupool.gateway.Gateway;
import io.gpupool.gateway.GatewaySettings;
import io.gpupool.testing.EnginePodNetwork;
import io.vertx.core.Vertx;

/**
 * The gateway's RBAC as the operator chart renders it, on a server that enforces it: a gateway whose client
 * impersonates the chart's gateway ServiceAccount serves a model with a key (the operator's key, on a pod the real
 * controllers made from the operator's Deployment, with a SIMULATED engine at its IP) and writes its usage report, and
 * is refused (403) everything else it might be tempted by: Secrets above all (it knows keys by their hashes only).
 */
@ApiServerTier
class GatewayRbacApiServerTest {

    private static final String RELEASE = "gw-rbac";
    private static final String GATEWAY_NS = "gw-rbac-system";
    private static final String SERVICE_ACCOUNT = "system:serviceaccount:" + GATEWAY_NS + ":" + RELEASE + "-gateway";
    private static final String NS = "gw-rbac-team";
    private static final String ORG = "gw-rbac-org";
    private static final Set<String> RBAC_KINDS = Set.of("ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role",
            "RoleBinding");

    private static KubernetesClient admin;
    private static KubernetesClient asGateway;
    private static InstalledChart chart;
    private static TestPool pool;
    private static InProcessOperator operator;
    private static Vertx vertx;
    private static AutoCloseable engines;

    @BeforeAll
    static void install(RealKubeApiServer.Server server) {
        server.applyCrds();
        admin = server.admin();
        chart = InstalledChart.install(admin, "gpupool-operator", RELEASE, GATEWAY_NS, Map.of(),
                o -> RBAC_KINDS.contains(o.getKind()));
        assertThat(chart.objects()).extracting(o -> o.getMetadata().getName()).contains(RELEASE + "-gateway",
                RELEASE + "-gateway-reports");
        asGateway = server.impersonating(SERVICE_ACCOUNT);
        pool = GatewayFixture.withGpuClass(new TestPool(admin).member(NS, ORG));
        operator = InProcessOperator.start(admin);
        pool.contribute(GatewayFixture.gpuServer("gw-rbac-h100", ORG));
        vertx = Vertx.vertx();
        engines = GatewayFixture.engines(server, new EnginePodNetwork(vertx), NS);
    }

    @AfterAll
    static void cleanUp() {
        if (admin != null) {
            admin.resources(ApiKey.class).inNamespace(NS).delete();
            admin.resources(GatewayReport.class).inNamespace(GATEWAY_NS).delete();
        }
        // The engines go with their pods (the kubelet releases their addresses), then the class's Vert.x.
        TestPool.tearDown(pool, operator, engines, vertx == null ? null : vertx::close, asGateway, chart);
    }

    @Test
    void theChartsGatewayServiceAccountServesAndReportsAndIsRefusedTheRest() throws Exception {
        GatewayFixture.model(admin, NS, "chat", "rbac-chat", false, null);
        String value = GatewayFixture.key(admin, NS, "k");

        GatewaySettings settings = new GatewaySettings("127.0.0.1", 0, 1 << 20,
                io.gpupool.core.gateway.dispatch.QueueLimits.DEFAULT, GATEWAY_NS, RELEASE + "-gateway", "rbac/1",
                Duration.ofHours(1), Duration.ofSeconds(5));
        try (Gateway gateway = GatewayFixture.gateway(vertx, asGateway, settings)) {
            await().atMost(GatewayFixture.WAIT).until(() -> GatewayFixture.post(gateway.url() + "/chat/completions",
                    value, GatewayFixture.chat("rbac-chat", "hi")).statusCode() == 200);
            // The answer is metered once it has been sent: the client may have it a moment before the meter does.
            await().atMost(GatewayFixture.WAIT).until(() -> {
                gateway.reports().flushNow();
                var reports = admin.resources(GatewayReport.class).inNamespace(GATEWAY_NS).list().getItems();
                return reports.size() == 1 && !reports.get(0).getSpec().usage.isEmpty();
            });
        }

        List<String> allowed = new ArrayList<>();
        Forbidden.orAllowed(allowed, "read a Secret", () -> asGateway.secrets().inNamespace(NS).withName("x").get());
        Forbidden.orAllowed(allowed, "list Secrets", () -> asGateway.secrets().inAnyNamespace().list());
        Forbidden.orAllowed(allowed, "list ConfigMaps", () -> asGateway.configMaps().inAnyNamespace().list());
        Forbidden.orAllowed(allowed, "create a ConfigMap", () -> asGateway.resource(new ConfigMapBuilder()
                .withNewMetadata().withName("x").withNamespace(GATEWAY_NS).endMetadata().build()).create());
        Forbidden.orAllowed(allowed, "create a Pod", () -> asGateway.resource(new PodBuilder().withNewMetadata()
                .withName("x").withNamespace(NS).endMetadata().withNewSpec().addNewContainer().withName("c")
                .withImage("i").endContainer().endSpec().build()).create());
        Forbidden.orAllowed(allowed, "delete a Pod", () -> asGateway.pods().inNamespace(NS).withName("x").delete());
        Forbidden.orAllowed(allowed, "edit a ModelDeployment", () -> asGateway.resources(ModelDeployment.class)
                .inNamespace(NS).withName("chat").edit(m -> {
                    m.getSpec().shared = true;
                    return m;
                }));
        Forbidden.orAllowed(allowed, "write an ApiKey's status", () -> asGateway.resources(ApiKey.class).inNamespace(NS)
                .withName("k").editStatus(k -> {
                    k.getStatus().tokensUsed = 0L;
                    return k;
                }));
        Forbidden.orAllowed(allowed, "write an Organization's status", () -> asGateway.resources(Organization.class)
                .withName(ORG).editStatus(o -> o));
        Forbidden.orAllowed(allowed, "write a report in another namespace", () -> {
            GatewayReport r = new GatewayReport();
            r.setMetadata(new ObjectMetaBuilder().withName("forged").withNamespace(NS).build());
            asGateway.resource(r).create();
        });
        Forbidden.orAllowed(allowed, "delete its reports", () -> asGateway.resources(GatewayReport.class)
                .inNamespace(GATEWAY_NS).delete());
        assertThat(allowed).isEmpty();
    }
}
