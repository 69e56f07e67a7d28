package io.gpupool.charts;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.marcnuri.helm.Helm;
import com.sun.net.httpserver.HttpServer;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.client.utils.Serialization;

/**
 * What an operator team expects of a chart, rendered by real Helm: next steps after install (NOTES.txt), a
 * {@code helm test} that asks the operator's readiness, the Kubernetes versions it supports, PodDisruptionBudgets,
 * {@code helm.sh/chart} labels, the dashboard and the engines' PodMonitor.
 */
class ChartOperationsTest {

    static final String OPERATOR = "gpupool-operator";
    static final String CONTRIBUTOR = "gpupool-contributor";
    static final Map<String, Object> CONTRIBUTOR_VALUES = Map.of("organization", "uni-nlp", "clusterName", "home-lab");

    /** What `helm install` prints, NOTES included, without a cluster (dry run, client only). */
    static String installOutput(String chart, String namespace, Map<String, Object> values) {
        var install = new Helm(RenderedChart.CHARTS.resolve(chart)).install().withName("gp").withNamespace(namespace)
                .dryRun().clientOnly();
        for (var v : values.entrySet()) {
            install = install.set(v.getKey(), v.getValue());
        }
        return install.call().getOutput();
    }

    @Test
    void notesSayWhatToDoNext() {
        String notes = installOutput(OPERATOR, "gpupool-system", Map.of());
        assertThat(notes).contains("NOTES:")
                .contains("kubectl -n gpupool-system rollout status deployment/gp")
                .contains("helm test gp -n gpupool-system")
                .contains("kubectl label node <gpu-node> gpupool.io/organization=<organization>")
                .contains("A namespace belongs to the Organization whose spec.namespaces lists it")
                .doesNotContain("kubectl label namespace")
                .contains("set hub.server to this API server's public URL")
                .contains("ConfigMap gp-dashboard")
                .contains("helm show crds <this chart> | kubectl apply --server-side -f -");
        assertThat(installOutput(OPERATOR, "gpupool-system", Map.of("hub.server", "https://pool.example.org:6443",
                "metrics.podMonitor.enabled", true))).contains("(it points at https://pool.example.org:6443)")
                .contains("A PodMonitor scrapes the serving engines");

        assertThat(installOutput(CONTRIBUTOR, "gpupool-contributor", CONTRIBUTOR_VALUES)).contains("NOTES:")
                .contains("kubectl get gpunodes -n gpupool-cluster-home-lab")
                .contains("kubectl label node <gpu-node> gpupool.io/contribute=true")
                .contains("helm uninstall gp -n gpupool-contributor --timeout 300s");
    }

    @ParameterizedTest
    @ValueSource(strings = {OPERATOR, CONTRIBUTOR})
    void everyObjectCarriesTheChartLabelAndTheChartStatesItsKubernetesVersions(String chart) throws IOException {
        Map<String, Object> values = chart.equals(OPERATOR) ? Map.of() : CONTRIBUTOR_VALUES;
        RenderedChart rendered = RenderedChart.render(chart, "ns", List.of(), values);
        String version = ImagesTest.release();
        assertThat(rendered.objects).isNotEmpty().allSatisfy(o -> assertThat(o.getMetadata().getLabels())
                .as("%s %s", o.getKind(), o.getMetadata().getName())
                .containsEntry("helm.sh/chart", chart + "-" + version));
        assertThat(Files.readString(RenderedChart.CHARTS.resolve(chart).resolve("Chart.yaml")))
                .contains("kubeVersion: \">=1.20.0-0\"");
        var install = new Helm(RenderedChart.CHARTS.resolve(chart)).install().withName("gp").withNamespace("ns")
                .dryRun().clientOnly().withKubeVersion("1.19.16");
        for (var v : values.entrySet()) {
            install = install.set(v.getKey(), v.getValue());
        }
        var old = install;
        assertThatThrownBy(old::call).hasMessageContaining("kubeVersion");
    }

    @ParameterizedTest
    @ValueSource(strings = {OPERATOR, CONTRIBUTOR})
    void everyContainerNamesEachEnvironmentVariableOnce(String chart) {
        // A name given twice is kept by the API server, but a server-side apply of the object is refused ("duplicate
        // entries for key") and which value wins is up to whoever reads the list.
        Map<String, Object> values = chart.equals(OPERATOR) ? Map.of() : CONTRIBUTOR_VALUES;
        RenderedChart rendered = RenderedChart.render(chart, "ns", List.of(), values);
        List<PodSpec> pods = new ArrayList<>();
        rendered.all(Deployment.class).forEach(d -> pods.add(d.getSpec().getTemplate().getSpec()));
        rendered.all(DaemonSet.class).forEach(d -> pods.add(d.getSpec().getTemplate().getSpec()));
        rendered.all(Pod.class).forEach(p -> pods.add(p.getSpec()));
        assertThat(pods).isNotEmpty();
        for (PodSpec pod : pods) {
            List<Container> containers = new ArrayList<>(pod.getContainers());
            containers.addAll(pod.getInitContainers());
            for (Container c : containers) {
                assertThat(c.getEnv()).as("env of container %s", c.getName())
                        .extracting(EnvVar::getName).doesNotHaveDuplicates();
            }
        }
    }

    @Test
    void podDisruptionBudgetsCoverTheOperatorAndTheAgentWithTheApiTheClusterHas() {
        RenderedChart operator = RenderedChart.render(OPERATOR, "gpupool-system", List.of(), Map.of());
        PodDisruptionBudget pdb = pdb(operator, "gp");
        assertThat(pdb.getSpec().getMaxUnavailable().getIntVal()).isEqualTo(1);
        assertThat(pdb.getSpec().getSelector().getMatchLabels()).containsEntry("app.kubernetes.io/component", "operator");
        assertThat(operator.one(Deployment.class, "gp").getSpec().getTemplate().getMetadata().getLabels())
                .containsAllEntriesOf(pdb.getSpec().getSelector().getMatchLabels());

        RenderedChart contributor = RenderedChart.render(CONTRIBUTOR, "gpupool-contributor", List.of(),
                CONTRIBUTOR_VALUES);
        PodDisruptionBudget agentPdb = pdb(contributor, "gp-agent");
        assertThat(contributor.one(Deployment.class, "gp-agent").getSpec().getTemplate().getMetadata().getLabels())
                .containsAllEntriesOf(agentPdb.getSpec().getSelector().getMatchLabels());

        // Kubernetes 1.20 (the oldest the charts support) serves PodDisruptionBudgets in policy/v1beta1 only.
        String onOld = new Helm(RenderedChart.CHARTS.resolve(OPERATOR)).template().withName("gp")
                .withNamespace("gpupool-system").withKubeVersion("1.20.2").call();
        assertThat(onOld).contains("apiVersion: policy/v1beta1\nkind: PodDisruptionBudget");

        assertThat(RenderedChart.render(OPERATOR, "gpupool-system", List.of(), Map.of("podDisruptionBudget.enabled", false))
                .ofKind("PodDisruptionBudget")).isEmpty();
        assertThatThrownBy(() -> RenderedChart.render(OPERATOR, "ns", List.of(),
                Map.of("podDisruptionBudget.maxUnavailable", 0))).hasMessageContaining("maxUnavailable");
    }

    private static PodDisruptionBudget pdb(RenderedChart chart, String name) {
        return chart.ofKind("PodDisruptionBudget").stream().filter(o -> name.equals(o.getMetadata().getName()))
                .map(o -> Serialization.unmarshal(Serialization.asYaml(o), PodDisruptionBudget.class)).findFirst()
                .orElseThrow(() -> new AssertionError("no PodDisruptionBudget " + name + " in\n" + chart.yaml));
    }

    /**
     * The test hook rendered by real Helm. helm-java returns the manifest without hooks, so the chart is copied with the
     * hook's annotations taken out (checked in the template itself), which makes Helm render the pod as a manifest.
     */
    static Pod testHook(Path tmp) throws IOException {
        Path chart = RenderedChart.CHARTS.resolve(OPERATOR);
        Path copy = tmp.resolve(OPERATOR);
        try (var files = Files.walk(chart)) {
            for (Path f : files.toList()) {
                Path target = copy.resolve(chart.relativize(f).toString());
                if (Files.isDirectory(f)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(f, target);
                }
            }
        }
        Path hook = copy.resolve("templates/tests/readiness.yaml");
        String template = Files.readString(hook);
        assertThat(template).contains("    helm.sh/hook: test\n");
        Files.writeString(hook, template.replaceAll("(?m)^    helm\\.sh/hook.*\n", ""));
        String yaml = new Helm(copy).template().withName("gp").withNamespace("gpupool-system").call();
        return java.util.Arrays.stream(yaml.split("(?m)^---\\s*$")).filter(d -> d.contains("kind: Pod\n"))
                .map(d -> Serialization.unmarshal(d, Pod.class)).findFirst().orElseThrow();
    }

    @Test
    void theHelmTestHookAsksTheOperatorsReadinessThroughTheMetricsService(@TempDir Path tmp) throws Exception {
        RenderedChart chart = RenderedChart.render(OPERATOR, "gpupool-system", List.of(), Map.of());
        assertThat(chart.find(Pod.class, "gp-test-readiness")).as("a hook, not installed with the release").isEmpty();
        Pod test = testHook(tmp);
        assertThat(test.getMetadata().getName()).isEqualTo("gp-test-readiness");
        assertThat(test.getSpec().getRestartPolicy()).isEqualTo("Never");
        var container = test.getSpec().getContainers().get(0);
        assertThat(container.getImage()).isEqualTo(chart.one(Deployment.class, "gp").getSpec().getTemplate().getSpec()
                .getContainers().get(0).getImage());
        assertThat(container.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
        Service metrics = chart.one(Service.class, "gp-metrics");
        String script = container.getCommand().get(2);
        assertThat(script).contains("host=gp-metrics.gpupool-system.svc", "port=" + metrics.getSpec().getPorts().get(0).getPort());

        // The check itself, run with bash against a stand-in of the operator's management port: 503, then 200.
        AtomicInteger asks = new AtomicInteger();
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/q/health/ready", exchange -> {
            int status = asks.incrementAndGet() < 2 ? 503 : 200;
            byte[] body = ("{\"status\": \"" + (status == 200 ? "UP" : "DOWN") + "\"}").getBytes();
            exchange.sendResponseHeaders(status, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.start();
        try {
            String local = script.replace("host=gp-metrics.gpupool-system.svc", "host=127.0.0.1")
                    .replaceAll("port=\\d+", "port=" + server.getAddress().getPort()).replace("sleep 2", "sleep 0.1");
            Process p = new ProcessBuilder("bash", "-c", local).redirectErrorStream(true).start();
            assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
            String out = new String(p.getInputStream().readAllBytes());
            assertThat(p.exitValue()).as(out).isZero();
            assertThat(out).contains("not ready yet: HTTP/1.1 503").contains("answered HTTP/1.1 200");

            server.removeContext("/q/health/ready");
            server.createContext("/q/health/ready", exchange -> {
                exchange.sendResponseHeaders(503, -1);
                exchange.close();
            });
            Process down = new ProcessBuilder("bash", "-c", local.replace("seq 1 30", "seq 1 3"))
                    .redirectErrorStream(true).start();
            assertThat(down.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(down.exitValue()).isEqualTo(1);
        } finally {
            server.stop(0);
        }
    }

    @Test
    void theDashboardShipsAsAConfigMapTheGrafanaSidecarPicksUp() throws IOException {
        RenderedChart chart = RenderedChart.render(OPERATOR, "gpupool-system", List.of(), Map.of());
        ConfigMap dashboard = chart.one(ConfigMap.class, "gp-dashboard");
        assertThat(dashboard.getMetadata().getLabels()).containsEntry("grafana_dashboard", "1");
        var json = new ObjectMapper().readTree(dashboard.getData().get("gpupool.json"));
        assertThat(json).isEqualTo(new ObjectMapper().readTree(Files.readString(
                RenderedChart.CHARTS.resolve(OPERATOR).resolve("dashboards/gpupool.json"))));
        assertThat(RenderedChart.render(OPERATOR, "ns", List.of(), Map.of("metrics.dashboard.namespace", "monitoring"))
                .one(ConfigMap.class, "gp-dashboard").getMetadata().getNamespace()).isEqualTo("monitoring");
        assertThat(RenderedChart.render(OPERATOR, "ns", List.of(), Map.of("metrics.dashboard.enabled", false))
                .find(ConfigMap.class, "gp-dashboard")).isEmpty();
    }

    @Test
    void aPodMonitorScrapesTheServingEnginesWhenAsked() {
        assertThat(RenderedChart.render(OPERATOR, "ns", List.of(), Map.of()).ofKind("PodMonitor")).isEmpty();
        RenderedChart chart = RenderedChart.render(OPERATOR, "gpupool-system", List.of(),
                Map.of("metrics.podMonitor.enabled", true, "metrics.podMonitor.labels.release", "prometheus"));
        GenericKubernetesResource pm = (GenericKubernetesResource) chart.ofKind("PodMonitor").get(0);
        assertThat(pm.getApiVersion()).isEqualTo("monitoring.coreos.com/v1");
        assertThat(pm.getMetadata().getLabels()).containsEntry("release", "prometheus");
        @SuppressWarnings("unchecked")
        Map<String, Object> spec = (Map<String, Object>) pm.getAdditionalProperties().get("spec");
        assertThat(spec.get("namespaceSelector")).isEqualTo(Map.of("any", true));
        // The labels and port the operator renders on every serving pod.
        var md = io.gpupool.testing.PoolFixtures.modelDeployment("team", "llama", 1, 1);
        var placement = new io.gpupool.api.v1alpha1.Placement();
        placement.cluster = "local";
        placement.node = "gpu-1";
        placement.gpuClass = "a100";
        placement.replicas = 1;
        Deployment serving = io.gpupool.core.render.ServingRenderer.deployment(md, placement,
                io.gpupool.core.render.ServingSettings.DEFAULT);
        @SuppressWarnings("unchecked")
        Map<String, String> matchLabels = (Map<String, String>) ((Map<String, Object>) spec.get("selector")).get("matchLabels");
        assertThat(serving.getSpec().getTemplate().getMetadata().getLabels()).containsAllEntriesOf(matchLabels);
        @SuppressWarnings("unchecked")
        Map<String, Object> endpoint = ((List<Map<String, Object>>) spec.get("podMetricsEndpoints")).get(0);
        assertThat(endpoint).containsEntry("path", "/metrics").containsEntry("port",
                serving.getSpec().getTemplate().getSpec().getContainers().get(0).getPorts().get(0).getName());
    }
}
