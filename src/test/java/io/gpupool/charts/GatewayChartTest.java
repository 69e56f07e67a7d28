package io.gpupool.charts;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;

/** The gateway in charts/gpupool-operator, rendered by real Helm: its Deployment, Service, PDB, RBAC and routes. */
class GatewayChartTest {

    private static final String NS = "gpupool-system";

    private static RenderedChart render(Map<String, Object> sets) {
        return RenderedChart.render("gpupool-operator", NS, List.of(), sets);
    }

    private static String env(Container c, String name) {
        return c.getEnv().stream().filter(e -> name.equals(e.getName())).findFirst().map(EnvVar::getValue).orElse(null);
    }

    @Test
    void defaultsRenderTwoGatewayReplicasBehindAServiceWithADisruptionBudget() {
        RenderedChart chart = render(Map.of());
        Deployment d = chart.one(Deployment.class, "gp-gateway");
        assertThat(d.getSpec().getReplicas()).isEqualTo(2);
        var pod = d.getSpec().getTemplate().getSpec();
        assertThat(pod.getServiceAccountName()).isEqualTo("gp-gateway");
        assertThat(pod.getSecurityContext().getRunAsNonRoot()).isTrue();
        Container c = pod.getContainers().get(0);
        assertThat(env(c, "GPUPOOL_ROLE")).isEqualTo("gateway");
        // Not prod: leader election belongs to the operator, and every gateway replica serves.
        assertThat(env(c, "QUARKUS_PROFILE")).isEqualTo("gateway");
        assertThat(env(c, "GPUPOOL_GATEWAY_NAME")).isEqualTo("gp-gateway");
        assertThat(env(c, "GPUPOOL_GATEWAY_REPLICAS")).isEqualTo("2");
        assertThat(c.getEnv()).anySatisfy(e -> {
            assertThat(e.getName()).isEqualTo("GPUPOOL_GATEWAY_NAMESPACE");
            assertThat(e.getValueFrom().getFieldRef().getFieldPath()).isEqualTo("metadata.namespace");
        });
        assertThat(c.getPorts()).extracting(p -> p.getName() + ":" + p.getContainerPort())
                .containsExactlyInAnyOrder("http:8000", "management:9000");
        assertThat(c.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/q/health/ready");
        assertThat(c.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
        assertThat(pod.getTerminationGracePeriodSeconds()).isEqualTo(45L);

        Service svc = chart.one(Service.class, "gp-gateway");
        assertThat(svc.getSpec().getPorts()).singleElement().satisfies(p -> {
            assertThat(p.getPort()).isEqualTo(80);
            assertThat(p.getTargetPort().getStrVal()).isEqualTo("http");
        });
        assertThat(d.getSpec().getTemplate().getMetadata().getLabels()).containsAllEntriesOf(svc.getSpec().getSelector());
        // The operator's own pods are not behind the gateway's Service, nor the gateway behind the operator's.
        Deployment operator = chart.one(Deployment.class, "gp");
        assertThat(operator.getSpec().getTemplate().getMetadata().getLabels())
                .doesNotContainEntry("app.kubernetes.io/name", "gpupool-gateway");
        assertThat(chart.one(Service.class, "gp-metrics").getSpec().getSelector())
                .containsEntry("app.kubernetes.io/name", "gpupool-operator");

        // policy/v1 from Kubernetes 1.21, policy/v1beta1 before (helm template's default version is older).
        assertThat(chart.ofKind("PodDisruptionBudget")).filteredOn(o -> "gp-gateway".equals(o.getMetadata().getName()))
                .singleElement().satisfies(pdb -> assertThat(pdb.getApiVersion()).isIn("policy/v1", "policy/v1beta1"));
        assertThat(chart.yaml).contains("minAvailable: 1");

        // The operator learns the gateway's URL (endpoints, key Secrets) and where its reports are.
        Container op = operator.getSpec().getTemplate().getSpec().getContainers().get(0);
        assertThat(env(op, "GPUPOOL_GATEWAY_URL")).isEqualTo("http://gp-gateway.gpupool-system.svc/v1");
        assertThat(env(op, "GPUPOOL_GATEWAY_NAMESPACE")).isEqualTo(NS);
        assertThat(chart.ofKind("Ingress")).isEmpty();
        assertThat(chart.ofKind("HTTPRoute")).isEmpty();
    }

    @Test
    void theGatewaysRbacReadsWhatRoutingNeedsAndNoSecret() {
        RenderedChart chart = render(Map.of());
        chart.one(ServiceAccount.class, "gp-gateway");
        ClusterRole role = chart.one(ClusterRole.class, "gp-gateway");
        assertThat(role.getRules()).allSatisfy(r -> {
            assertThat(r.getVerbs()).containsOnly("get", "list", "watch");
            assertThat(r.getResources()).doesNotContain("secrets");
        });
        assertThat(chart.one(ClusterRoleBinding.class, "gp-gateway").getSubjects()).singleElement()
                .satisfies(s -> assertThat(s.getName()).isEqualTo("gp-gateway"));
        // The tunnel checks agents' tokens: the standard delegated-authentication role, bound to the gateway alone.
        ClusterRoleBinding delegator = chart.one(ClusterRoleBinding.class, "gp-gateway-auth-delegator");
        assertThat(delegator.getRoleRef().getName()).isEqualTo("system:auth-delegator");
        assertThat(delegator.getSubjects()).singleElement().satisfies(s -> assertThat(s.getName()).isEqualTo("gp-gateway"));
        Role reports = chart.one(Role.class, "gp-gateway-reports");
        assertThat(reports.getMetadata().getNamespace()).isEqualTo(NS);
        assertThat(reports.getRules()).singleElement().satisfies(r -> {
            assertThat(r.getResources()).containsExactly("gatewayreports");
            assertThat(r.getVerbs()).doesNotContain("delete", "patch");
        });
        chart.one(RoleBinding.class, "gp-gateway-reports");
    }

    @Test
    void publicUrlIngressAndHttpRouteFromValues() {
        RenderedChart chart = render(Map.of("gateway.publicUrl", "https://llm.pool.example/v1",
                "gateway.ingress.enabled", true, "gateway.ingress.host", "llm.pool.example",
                "gateway.ingress.className", "nginx", "gateway.httpRoute.enabled", true,
                "gateway.httpRoute.parentRefs[0].name", "public", "gateway.replicas", 3));
        assertThat(chart.one(Deployment.class, "gp-gateway").getSpec().getReplicas()).isEqualTo(3);
        Container op = chart.one(Deployment.class, "gp").getSpec().getTemplate().getSpec().getContainers().get(0);
        assertThat(env(op, "GPUPOOL_GATEWAY_URL")).isEqualTo("https://llm.pool.example/v1");
        Ingress ingress = chart.one(Ingress.class, "gp-gateway");
        assertThat(ingress.getSpec().getIngressClassName()).isEqualTo("nginx");
        assertThat(ingress.getSpec().getRules()).singleElement().satisfies(r -> {
            assertThat(r.getHost()).isEqualTo("llm.pool.example");
            assertThat(r.getHttp().getPaths().get(0).getBackend().getService().getName()).isEqualTo("gp-gateway");
        });
        assertThat(chart.ofKind("HTTPRoute")).singleElement()
                .satisfies(route -> assertThat(route.getApiVersion()).isEqualTo("gateway.networking.k8s.io/v1"));
        assertThat(chart.yaml).contains("name: public");

        assertThat(render(Map.of("gateway.enabled", false)).objects)
                .noneSatisfy(o -> assertThat(o.getMetadata().getName()).startsWith("gp-gateway"));
        Container without = render(Map.of("gateway.enabled", false)).one(Deployment.class, "gp").getSpec()
                .getTemplate().getSpec().getContainers().get(0);
        assertThat(env(without, "GPUPOOL_GATEWAY_URL")).isNull();
    }

    @Test
    void badGatewayValuesAreRefusedByTheSchema() {
        assertThatThrownBy(() -> render(Map.of("gateway.replicas", 0))).hasMessageContaining("replicas");
        assertThatThrownBy(() -> render(Map.of("gateway.publicUrl", "llm.pool.example"))).hasMessageContaining("publicUrl");
        assertThatThrownBy(() -> render(Map.of("gateway.port", 9000))).hasMessageContaining("port");
        assertThatThrownBy(() -> render(Map.of("gateway.httpRoute.enabled", true)))
                .hasMessageContaining("parentRefs");
    }
}
