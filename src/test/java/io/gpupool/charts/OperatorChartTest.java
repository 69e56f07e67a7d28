package io.gpupool.charts;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

import com.marcnuri.helm.Helm;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.gpupool.api.v1alpha1.GpuPool;

/** charts/gpupool-operator rendered by real Helm (helm-java): lint, defaults, options, schema. */
class OperatorChartTest {

    private static final String CHART = "gpupool-operator";
    private static final String NS = "gpupool-system";

    private static RenderedChart render(List<String> files, Map<String, Object> sets) {
        return RenderedChart.render(CHART, NS, files, sets);
    }

    @Test
    void lintsClean() {
        var result = new Helm(RenderedChart.CHARTS.resolve(CHART)).lint().strict().call();
        assertThat(result.isFailed()).as(String.join("\n", result.getMessages())).isFalse();
    }

    @Test
    void defaultsRenderTheOperatorWithProbesMetricsAndRestrictedSecurity() {
        RenderedChart chart = render(List.of(), Map.of());
        Deployment d = chart.one(Deployment.class, "gp");
        assertThat(d.getMetadata().getNamespace()).isEqualTo(NS);
        // Two replicas under leader election: one reconciles, one stands by (FailoverE2ETest runs them).
        assertThat(d.getSpec().getReplicas()).isEqualTo(2);
        var pod = d.getSpec().getTemplate().getSpec();
        assertThat(pod.getServiceAccountName()).isEqualTo("gp");
        assertThat(pod.getSecurityContext().getRunAsNonRoot()).isTrue();
        assertThat(pod.getSecurityContext().getSeccompProfile().getType()).isEqualTo("RuntimeDefault");
        Container c = pod.getContainers().get(0);
        assertThat(c.getImage()).isEqualTo("ghcr.io/gpupool/gpupool-operator:0.1.0");
        assertThat(c.getArgs()).isNullOrEmpty();
        assertThat(c.getCommand()).isNullOrEmpty();
        assertThat(c.getEnv()).extracting(EnvVar::getName, EnvVar::getValue)
                .contains(org.assertj.core.groups.Tuple.tuple("QUARKUS_PROFILE", "prod"),
                        org.assertj.core.groups.Tuple.tuple("GPUPOOL_ROLE", "operator"),
                        org.assertj.core.groups.Tuple.tuple("MALLOC_ARENA_MAX", "2"));
        // The JVM's options replace the image launcher's defaults (JAVA_OPTS; jvmOptionsStartAJvm runs them).
        assertThat(c.getEnv()).extracting(EnvVar::getName).doesNotContain("JAVA_TOOL_OPTIONS");
        assertThat(c.getEnv()).filteredOn(e -> e.getName().equals("JAVA_OPTS")).singleElement()
                .satisfies(e -> assertThat(e.getValue()).contains("-XX:MaxRAMPercentage=", "-XX:+UseSerialGC",
                        "-Djava.util.logging.manager=org.jboss.logmanager.LogManager"));
        assertThat(c.getPorts()).singleElement().satisfies(p -> {
            assertThat(p.getContainerPort()).isEqualTo(9000);
            assertThat(p.getName()).isEqualTo("management");
        });
        assertThat(c.getLivenessProbe().getHttpGet().getPath()).isEqualTo("/q/health/live");
        assertThat(c.getLivenessProbe().getHttpGet().getPort().getStrVal()).isEqualTo("management");
        assertThat(c.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/q/health/ready");
        assertThat(c.getResources().getRequests()).containsKeys("cpu", "memory");
        assertThat(c.getResources().getLimits()).containsKey("memory");
        var sc = c.getSecurityContext();
        assertThat(sc.getAllowPrivilegeEscalation()).isFalse();
        assertThat(sc.getReadOnlyRootFilesystem()).isTrue();
        assertThat(sc.getCapabilities().getDrop()).containsExactly("ALL");
        assertThat(sc.getPrivileged()).isNotEqualTo(Boolean.TRUE);

        Service metrics = chart.one(Service.class, "gp-metrics");
        assertThat(metrics.getSpec().getPorts()).singleElement().satisfies(p -> {
            assertThat(p.getPort()).isEqualTo(9000);
            assertThat(p.getTargetPort().getStrVal()).isEqualTo("management");
        });
        assertThat(d.getSpec().getTemplate().getMetadata().getLabels()).containsAllEntriesOf(metrics.getSpec().getSelector());
        assertThat(chart.ofKind("ServiceMonitor")).isEmpty();

        // The RBAC that was there before, untouched; every binding points at the chart's ServiceAccount.
        chart.one(ServiceAccount.class, "gp");
        ClusterRole role = chart.one(ClusterRole.class, "gp");
        assertThat(role.getRules()).anySatisfy(r -> {
            assertThat(r.getResources()).contains("gpunodes");
            assertThat(r.getVerbs()).contains("create", "delete");
        });
        assertThat(chart.one(ClusterRoleBinding.class, "gp").getSubjects()).singleElement()
                .satisfies(s -> assertThat(s.getNamespace()).isEqualTo(NS));
        assertThat(chart.one(Role.class, "gp-leader-election").getRules()).singleElement()
                .satisfies(r -> assertThat(r.getResources()).containsExactly("leases"));
        chart.one(RoleBinding.class, "gp-leader-election");

        GpuPool pool = gpuPool(chart);
        assertThat(pool.getMetadata().getName()).isEqualTo("default");
        assertThat(pool.getSpec().fairShare.mode).isEqualTo("ContributionWeighted");
        assertThat(pool.getSpec().fairShare.commonsReservePercent).isEqualTo(10);
        assertThat(pool.getSpec().preemption.reclaim).isTrue();
        assertThat(pool.getSpec().heartbeatTimeoutSeconds).isEqualTo(120);
        assertThat(pool.getSpec().servingImages.vllm).isEqualTo("ghcr.io/gpupool/inference-vllm:0.1.0");
        assertThat(pool.getSpec().modelCache).as("no node-shared model cache unless asked").isNull();
    }

    @Test
    void serviceMonitorReplicasHubServerAndPoolPolicyFromValues() {
        RenderedChart chart = render(List.of("operator-servicemonitor.yaml"), Map.of());
        Deployment d = chart.one(Deployment.class, "gp");
        assertThat(d.getSpec().getReplicas()).isEqualTo(2);
        assertThat(d.getSpec().getTemplate().getSpec().getContainers().get(0).getEnv())
                .anySatisfy(e -> {
                    assertThat(e.getName()).isEqualTo("GPUPOOL_HUB_SERVER");
                    assertThat(e.getValue()).isEqualTo("https://pool.example.org:6443");
                });
        GenericKubernetesResource sm = (GenericKubernetesResource) chart.ofKind("ServiceMonitor").get(0);
        assertThat(sm.getApiVersion()).isEqualTo("monitoring.coreos.com/v1");
        assertThat(sm.getMetadata().getLabels()).containsEntry("release", "prometheus");
        @SuppressWarnings("unchecked")
        var spec = (Map<String, Object>) sm.getAdditionalProperties().get("spec");
        @SuppressWarnings("unchecked")
        var endpoint = ((List<Map<String, Object>>) spec.get("endpoints")).get(0);
        assertThat(endpoint).containsEntry("port", "metrics").containsEntry("path", "/metrics")
                .containsEntry("interval", "15s");
        GpuPool pool = gpuPool(chart);
        assertThat(pool.getSpec().fairShare.mode).isEqualTo("Static");
        assertThat(pool.getSpec().heartbeatTimeoutSeconds).isEqualTo(300);
        assertThat(pool.getSpec().servingImages.llamacpp).isEqualTo("registry.example.org/llamacpp:1");
        assertThat(pool.getSpec().modelCache.storageClassName).isEqualTo("local-path");
        assertThat(pool.getSpec().modelCache.size).isEqualTo("300Gi");

        assertThat(render(List.of(), Map.of("pool.create", false)).ofKind("GpuPool")).isEmpty();
    }

    @Test
    void theOperatorMayGrantTheAgentRoleItCreatesForEveryContributedCluster() {
        // RBAC refuses to create a Role granting more than its creator holds (no escalate verb here).
        ClusterRole operator = render(List.of(), Map.of()).one(ClusterRole.class, "gp");
        var agent = io.gpupool.operator.cluster.ContributedClusterReconciler.agentRole("gpupool-cluster-x");
        for (var rule : agent.getRules()) {
            for (String group : rule.getApiGroups()) {
                for (String resource : rule.getResources()) {
                    for (String verb : rule.getVerbs()) {
                        // Covered by a rule for every name, or for at least the names the agent's rule lists.
                        assertThat(operator.getRules()).as("%s %s/%s %s", verb, group, resource,
                                rule.getResourceNames()).anySatisfy(r -> {
                                    assertThat(r.getApiGroups()).contains(group);
                                    assertThat(r.getResources()).contains(resource);
                                    assertThat(r.getVerbs()).contains(verb);
                                    if (r.getResourceNames() != null && !r.getResourceNames().isEmpty()) {
                                        assertThat(rule.getResourceNames()).isNotEmpty();
                                        assertThat(r.getResourceNames()).containsAll(rule.getResourceNames());
                                    }
                                });
                    }
                }
            }
        }
        // What it may touch of Secrets, ServiceAccounts, Roles and RoleBindings is limited to the agent's by name.
        assertThat(operator.getRules()).filteredOn(r -> r.getResources().contains("secrets"))
                .allSatisfy(r -> assertThat(r.getVerbs().equals(List.of("create")) || !r.getResourceNames().isEmpty())
                        .isTrue());
        // Its informers list and watch Secrets by name only (a field selector that RBAC checks against the names).
        assertThat(operator.getRules()).filteredOn(r -> r.getResources().contains("secrets"))
                .filteredOn(r -> r.getVerbs().contains("list") || r.getVerbs().contains("watch"))
                .isNotEmpty().allSatisfy(r -> assertThat(r.getResourceNames()).isNotNull().isNotEmpty());
    }

    @Test
    void chartCrdsAreTheGeneratedOnesAndInstallWithTheChart() throws IOException {
        Path chartCrds = RenderedChart.CHARTS.resolve(CHART).resolve("crds");
        try (Stream<Path> files = Files.list(Path.of("crds"))) {
            for (Path crd : files.toList()) {
                assertThat(chartCrds.resolve(crd.getFileName()))
                        .as("charts/gpupool-operator/crds/%s is stale: run hack/update-crds.sh", crd.getFileName())
                        .hasSameTextualContentAs(crd);
            }
        }
        // Helm installs crds/ before the templates (so the GpuPool template can be created); templates never repeat them.
        String withCrds = new Helm(RenderedChart.CHARTS.resolve(CHART)).template().withName("gp")
                .withNamespace(NS).call();
        assertThat(withCrds).doesNotContain("kind: CustomResourceDefinition");
    }

    @Test
    void schemaRejectsBadValuesWithHelmsError() {
        assertThatThrownBy(() -> render(List.of(), Map.of("pool.fairShare.mode", "Greedy")))
                .hasMessageContaining("values don't meet the specifications of the schema")
                .hasMessageContaining("mode");
        assertThatThrownBy(() -> render(List.of(), Map.of("replicas", 0)))
                .hasMessageContaining("replicas");
        assertThatThrownBy(() -> render(List.of(), Map.of("pool.heartbeatTimeoutSeconds", 5)))
                .hasMessageContaining("heartbeatTimeoutSeconds");
        assertThatThrownBy(() -> render(List.of(), Map.of("metrics.serviceMonitor.enable", true)))
                .hasMessageContaining("enable");
    }

    static GpuPool gpuPool(RenderedChart chart) {
        List<HasMetadata> pools = chart.ofKind("GpuPool");
        assertThat(pools).hasSize(1);
        return Serialization.unmarshal(Serialization.asYaml(pools.get(0)), GpuPool.class);
    }

    static List<CustomResourceDefinition> crds(RenderedChart chart) {
        return chart.all(CustomResourceDefinition.class);
    }

    /**
     * The operator's JVM options as the chart renders them start a JVM (the image's launcher passes JAVA_OPTS to
     * {@code java} as they are), with the collector, heap share and native-heap trimming the chart's comments promise. A chart that
     * gave a second collector, as JAVA_TOOL_OPTIONS beside the launcher's defaults did, fails here.
     */
    @Test
    void jvmOptionsStartAJvm() throws Exception {
        String opts = render(List.of(), Map.of()).one(Deployment.class, "gp").getSpec().getTemplate().getSpec()
                .getContainers().get(0).getEnv().stream().filter(e -> e.getName().equals("JAVA_OPTS")).findFirst()
                .orElseThrow().getValue();
        List<String> command = new java.util.ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(List.of(opts.trim().split("\\s+")));
        command.addAll(List.of("-XX:+PrintFlagsFinal", "-version"));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as(out).isZero();
        assertThat(flag(out, "UseSerialGC")).isEqualTo("true");
        assertThat(flag(out, "UseParallelGC")).isEqualTo("false");
        assertThat(flag(out, "MaxRAMPercentage")).startsWith("55");
        assertThat(flag(out, "TrimNativeHeapInterval")).isEqualTo("5000");
    }

    /** A flag's final value in -XX:+PrintFlagsFinal's table. */
    private static String flag(String printFlagsFinal, String name) {
        return printFlagsFinal.lines().map(String::trim).map(l -> l.split("\\s+"))
                .filter(f -> f.length >= 4 && f[1].equals(name)).map(f -> f[3]).findFirst().orElseThrow();
    }
}
