package io.gpupool.charts;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Test;

import com.marcnuri.helm.Helm;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;

/** charts/gpupool-contributor rendered by real Helm (helm-java): lint, pool in-cluster and remote, NVIDIA add-ons. */
class ContributorChartTest {

    private static final String CHART = "gpupool-contributor";
    private static final String NS = "gpupool-contrib";

    private static RenderedChart render(List<String> files, Map<String, Object> sets) {
        return RenderedChart.render(CHART, NS, files, sets);
    }

    private static Map<String, String> env(Deployment d) {
        return env(d.getSpec().getTemplate().getSpec().getContainers().get(0));
    }

    private static Map<String, String> env(Container c) {
        return c.getEnv().stream().filter(e -> e.getValue() != null)
                .collect(Collectors.toMap(EnvVar::getName, EnvVar::getValue));
    }

    @Test
    void lintsClean() {
        var result = new Helm(RenderedChart.CHARTS.resolve(CHART)).lint().strict().call();
        assertThat(result.isFailed()).as(String.join("\n", result.getMessages())).isFalse();
    }

    @Test
    void onlyTheAgentMayConnectToServingPodsAndTheServingNamespaceHasAQuota() {
        RenderedChart chart = render(List.of("contributor-local.yaml"), Map.of());
        var policy = chart.one(io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy.class, "gp-serving");
        assertThat(policy.getMetadata().getNamespace()).isEqualTo("gpupool-serving");
        assertThat(policy.getSpec().getPolicyTypes()).containsExactly("Ingress");
        assertThat(policy.getSpec().getPodSelector().getMatchExpressions()).singleElement()
                .satisfies(e -> assertThat(e.getKey()).isEqualTo("gpupool.io/work"));
        assertThat(policy.getSpec().getIngress()).singleElement().satisfies(rule -> {
            assertThat(rule.getFrom()).singleElement().satisfies(peer -> {
                // The agent's pods, in the agent's namespace: both must match.
                assertThat(peer.getNamespaceSelector().getMatchLabels())
                        .containsExactly(Map.entry("kubernetes.io/metadata.name", NS));
                Deployment agent = chart.one(Deployment.class, "gp-agent");
                assertThat(agent.getSpec().getTemplate().getMetadata().getLabels())
                        .containsAllEntriesOf(peer.getPodSelector().getMatchLabels());
                assertThat(peer.getPodSelector().getMatchLabels()).containsEntry("app.kubernetes.io/component", "agent");
            });
            assertThat(rule.getPorts()).singleElement().satisfies(p -> assertThat(p.getPort().getIntVal()).isEqualTo(8000));
        });
        var quota = chart.one(io.fabric8.kubernetes.api.model.ResourceQuota.class, "gp-serving");
        assertThat(quota.getMetadata().getNamespace()).isEqualTo("gpupool-serving");
        assertThat(quota.getSpec().getHard()).containsKeys("pods", "services.loadbalancers", "services.nodeports");

        RenderedChart open = render(List.of("contributor-local.yaml"),
                Map.of("servingNamespace.networkPolicy.enabled", "false", "servingNamespace.quota", "null"));
        assertThat(open.all(io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy.class)).isEmpty();
        assertThat(open.all(io.fabric8.kubernetes.api.model.ResourceQuota.class)).isEmpty();
    }

    @Test
    void poolInTheSameClusterUsesTheAgentsOwnServiceAccountAndNoKubeconfig() {
        RenderedChart chart = render(List.of("contributor-local.yaml"), Map.of());
        Deployment agent = chart.one(Deployment.class, "gp-agent");
        var pod = agent.getSpec().getTemplate().getSpec();
        Container c = pod.getContainers().get(0);
        assertThat(c.getImage()).isEqualTo("ghcr.io/gpupool/gpupool-operator:0.1.0"); // the operator's image
        assertThat(env(agent)).containsEntry("GPUPOOL_ROLE", "agent").containsEntry("QUARKUS_PROFILE", "prod")
                .containsEntry("GPUPOOL_AGENT_ORGANIZATION", "uni-nlp").containsEntry("GPUPOOL_AGENT_CLUSTER", "lab-1")
                .containsEntry("GPUPOOL_AGENT_NODE_SELECTOR", "gpupool.io/contribute=true")
                .containsEntry("GPUPOOL_AGENT_SERVING_NAMESPACE", "gpupool-serving")
                .containsEntry("GPUPOOL_AGENT_POLICY_ALLOWED_IMAGES",
                        "ghcr.io/gpupool/inference-vllm:*,ghcr.io/gpupool/inference-llamacpp:*")
                .containsEntry("GPUPOOL_AGENT_POLICY_ALLOW_PRIVILEGED", "false")
                .containsEntry("GPUPOOL_AGENT_POLICY_ALLOW_HOST_PATH", "false")
                .doesNotContainKey("GPUPOOL_AGENT_HUB_KUBECONFIG")
                .doesNotContainKey("GPUPOOL_AGENT_GATEWAY_URL"); // no gateway given: no tunnel
        assertThat(pod.getVolumes()).noneMatch(v -> v.getSecret() != null);
        assertThat(c.getVolumeMounts()).noneMatch(m -> m.getMountPath().startsWith("/etc/gpupool"));
        assertThat(c.getSecurityContext().getCapabilities().getDrop()).containsExactly("ALL");
        assertThat(c.getSecurityContext().getAllowPrivilegeEscalation()).isFalse();
        assertThat(agent.getSpec().getReplicas()).isEqualTo(1);

        // In-cluster, the agent's ServiceAccount is bound to the Role the operator made for this cluster at the hub.
        RoleBinding hub = chart.one(RoleBinding.class, "gp-hub");
        assertThat(hub.getMetadata().getNamespace()).isEqualTo("gpupool-cluster-lab-1");
        assertThat(hub.getRoleRef().getKind()).isEqualTo("Role");
        assertThat(hub.getRoleRef().getName()).isEqualTo("gpupool-agent");
        assertThat(hub.getSubjects()).singleElement().satisfies(s -> assertThat(s.getName()).isEqualTo("gp-agent"));

        assertThat(chart.all(DaemonSet.class)).isEmpty(); // device plugin and GFD are off by default
    }

    @Test
    void leastPrivilegeInTheContributorsCluster() {
        RenderedChart chart = render(List.of("contributor-local.yaml"), Map.of());
        chart.one(ServiceAccount.class, "gp-agent");
        ClusterRole cluster = chart.one(ClusterRole.class, "gp-agent");
        assertThat(cluster.getRules()).hasSize(2);
        assertThat(cluster.getRules()).filteredOn(r -> r.getResources().contains("nodes")).singleElement()
                .satisfies(r -> assertThat(r.getVerbs()).containsExactlyInAnyOrder("get", "list", "watch"));
        // Its serving namespace (only that one) it may label for the restricted Pod Security Standard.
        assertThat(cluster.getRules()).filteredOn(r -> r.getResources().contains("namespaces")).singleElement()
                .satisfies(r -> {
                    assertThat(r.getResourceNames()).containsExactly("gpupool-serving");
                    assertThat(r.getVerbs()).containsExactlyInAnyOrder("get", "patch");
                });
        assertThat(chart.one(ClusterRoleBinding.class, "gp-agent").getRoleRef().getName()).isEqualTo("gp-agent");
        Role serving = chart.one(Role.class, "gp-serving");
        assertThat(serving.getMetadata().getNamespace()).isEqualTo("gpupool-serving");
        assertThat(serving.getRules()).flatExtracting(PolicyRule::getResources)
                .containsExactlyInAnyOrder("deployments", "services", "pods", "secrets", "secrets");
        // Events about its serving namespace go where Kubernetes keeps those of cluster-scoped objects: created, never
        // read or changed.
        Role events = chart.one(Role.class, "gp-events");
        assertThat(events.getMetadata().getNamespace()).isEqualTo("default");
        assertThat(events.getRules()).singleElement().satisfies(r -> {
            assertThat(r.getResources()).containsExactly("events");
            assertThat(r.getVerbs()).containsExactly("create");
        });
        assertThat(chart.one(RoleBinding.class, "gp-events").getSubjects()).singleElement()
                .satisfies(s -> assertThat(s.getName()).isEqualTo("gp-agent"));
        // Secrets: only its copy of the model credentials may be read or changed; creating reveals nothing.
        assertThat(serving.getRules()).filteredOn(r -> r.getResources().contains("secrets")).allSatisfy(r -> {
            if (r.getResourceNames() == null || r.getResourceNames().isEmpty()) {
                assertThat(r.getVerbs()).containsExactly("create");
            } else {
                assertThat(r.getResourceNames()).containsExactly("gpupool-model-credentials");
            }
        });
        assertThat(serving.getRules()).noneMatch(r -> r.getResources().contains("pods") && r.getVerbs().contains("create"));
        assertThat(serving.getRules()).noneMatch(r -> r.getVerbs().contains("*") || r.getResources().contains("*"));
        assertThat(chart.one(RoleBinding.class, "gp-serving").getMetadata().getNamespace()).isEqualTo("gpupool-serving");
        Namespace ns = chart.one(Namespace.class, "gpupool-serving");
        assertThat(ns.getMetadata().getLabels()).containsEntry("pod-security.kubernetes.io/enforce", "restricted");
        // Leader election (the prod profile) takes a Lease in the release namespace, nothing else.
        assertThat(chart.one(Role.class, "gp-leader-election").getRules()).singleElement()
                .satisfies(r -> assertThat(r.getResources()).containsExactly("leases"));
        assertThat(chart.one(Role.class, "gp-leader-election").getMetadata().getNamespace()).isEqualTo(NS);
        // No ClusterRole reaches Secrets: the one Secret it may touch is in the serving namespace, by name.
        assertThat(chart.all(ClusterRole.class)).flatExtracting(ClusterRole::getRules)
                .noneMatch(r -> r.getResources().contains("secrets"));
    }

    @Test
    void remotePoolMountsTheKubeconfigSecretAndRunsTheNvidiaDaemons() {
        RenderedChart chart = render(List.of("contributor-remote.yaml"), Map.of());
        Deployment agent = chart.one(Deployment.class, "gp-agent");
        var pod = agent.getSpec().getTemplate().getSpec();
        assertThat(env(agent)).containsEntry("GPUPOOL_AGENT_HUB_KUBECONFIG", "/etc/gpupool/hub/kubeconfig")
                .containsEntry("GPUPOOL_AGENT_CLUSTER", "home-lab")
                .containsEntry("GPUPOOL_AGENT_NODE_SELECTOR", "gpupool.io/contribute=true,kubernetes.io/arch=amd64")
                .containsEntry("GPUPOOL_AGENT_SERVING_NAMESPACE", "pool-serving")
                .containsEntry("GPUPOOL_AGENT_POLICY_ALLOWED_IMAGES", "ghcr.io/gpupool/inference-vllm:*");
        assertThat(pod.getVolumes()).filteredOn(v -> "hub-kubeconfig".equals(v.getName())).singleElement().satisfies(v -> {
            assertThat(v.getSecret().getSecretName()).isEqualTo("gpupool-hub");
            assertThat(v.getName()).isEqualTo("hub-kubeconfig");
        });
        assertThat(pod.getContainers().get(0).getVolumeMounts()).anySatisfy(m -> {
            assertThat(m.getName()).isEqualTo("hub-kubeconfig");
            assertThat(m.getMountPath()).isEqualTo("/etc/gpupool/hub");
            assertThat(m.getReadOnly()).isTrue();
        });
        assertThat(chart.find(RoleBinding.class, "gp-hub")).isEmpty(); // the hub is elsewhere
        // The tunnel to the pool's gateway: dialed out, with the gateway's private CA; the agent exposes nothing but
        // its own management port (probes).
        assertThat(env(agent)).containsEntry("GPUPOOL_AGENT_GATEWAY_URL", "https://gpupool.example.org")
                .containsEntry("GPUPOOL_AGENT_GATEWAY_CA_FILE", "/etc/gpupool/gateway-ca/ca.crt");
        assertThat(pod.getVolumes()).anySatisfy(v -> {
            assertThat(v.getName()).isEqualTo("gateway-ca");
            assertThat(v.getSecret().getSecretName()).isEqualTo("gpupool-gateway-ca");
        });
        assertThat(pod.getContainers().get(0).getVolumeMounts()).anySatisfy(m -> {
            assertThat(m.getName()).isEqualTo("gateway-ca");
            assertThat(m.getMountPath()).isEqualTo("/etc/gpupool/gateway-ca");
        });
        assertThat(pod.getContainers().get(0).getPorts()).extracting(p -> p.getName()).containsExactly("management");
        assertThat(chart.all(io.fabric8.kubernetes.api.model.Service.class)).isEmpty();
        assertThat(chart.one(Role.class, "gp-serving").getMetadata().getNamespace()).isEqualTo("pool-serving");

        DaemonSet dp = chart.one(DaemonSet.class, "nvidia-device-plugin-daemonset");
        var dpPod = dp.getSpec().getTemplate().getSpec();
        assertThat(dpPod.getTolerations()).anySatisfy(t -> {
            assertThat(t.getKey()).isEqualTo("nvidia.com/gpu");
            assertThat(t.getOperator()).isEqualTo("Exists");
            assertThat(t.getEffect()).isEqualTo("NoSchedule");
        });
        assertThat(dpPod.getPriorityClassName()).isEqualTo("system-node-critical");
        assertThat(dpPod.getRuntimeClassName()).isEqualTo("nvidia");
        assertThat(dpPod.getNodeSelector()).containsEntry("gpupool.io/contribute", "true");
        Container plugin = dpPod.getContainers().get(0);
        assertThat(plugin.getImage()).isEqualTo("nvcr.io/nvidia/k8s-device-plugin:v0.17.1");
        assertThat(plugin.getEnv()).anySatisfy(e -> {
            assertThat(e.getName()).isEqualTo("FAIL_ON_INIT_ERROR");
            assertThat(e.getValue()).isEqualTo("false");
        });
        assertThat(plugin.getSecurityContext().getAllowPrivilegeEscalation()).isFalse();
        assertThat(plugin.getSecurityContext().getCapabilities().getDrop()).containsExactly("ALL");
        assertThat(plugin.getVolumeMounts()).singleElement()
                .satisfies(m -> assertThat(m.getMountPath()).isEqualTo("/var/lib/kubelet/device-plugins"));
        assertThat(dpPod.getVolumes()).singleElement().satisfies(v -> {
            assertThat(v.getHostPath().getPath()).isEqualTo("/var/lib/kubelet/device-plugins");
            assertThat(v.getHostPath().getType()).isEqualTo("Directory");
        });
        assertThat(dp.getSpec().getUpdateStrategy().getType()).isEqualTo("RollingUpdate");

        DaemonSet gfd = chart.one(DaemonSet.class, "gpu-feature-discovery");
        Container gfdc = gfd.getSpec().getTemplate().getSpec().getContainers().get(0);
        assertThat(gfdc.getImage()).isEqualTo("nvcr.io/nvidia/k8s-device-plugin:v0.17.1");
        assertThat(gfdc.getCommand()).containsExactly("gpu-feature-discovery");
        assertThat(gfd.getSpec().getTemplate().getSpec().getPriorityClassName()).isEqualTo("system-node-critical");
    }

    @Test
    void theUninstallHookMayStopTheRunningAgentAndNothingElse() {
        // helm-java's template renders no hooks: the Job itself is checked and run by
        // io.gpupool.apiserver.ContributorUninstallApiServerTest (helm install and uninstall on the real API server).
        // The RBAC it runs with is an ordinary part of the chart.
        RenderedChart chart = render(List.of("contributor-remote.yaml"), Map.of());
        Role stop = chart.one(Role.class, "gp-leave-pool");
        assertThat(stop.getMetadata().getNamespace()).isEqualTo(NS);
        assertThat(stop.getRules()).hasSize(2).allSatisfy(r -> {
            assertThat(r.getResourceNames()).containsExactly("gp-agent");
            assertThat(r.getVerbs()).doesNotContain("create", "delete", "list", "watch");
        });
        // It scales the agent's Deployment; it may not rewrite it (image, command, ServiceAccount).
        assertThat(stop.getRules()).filteredOn(r -> r.getResources().contains("deployments")).singleElement()
                .satisfies(r -> assertThat(r.getVerbs()).containsExactly("get"));
        assertThat(stop.getRules()).filteredOn(r -> r.getResources().contains("deployments/scale")).singleElement()
                .satisfies(r -> assertThat(r.getVerbs()).contains("patch"));
        assertThat(chart.one(RoleBinding.class, "gp-leave-pool").getSubjects()).singleElement()
                .satisfies(s -> assertThat(s.getName()).isEqualTo("gp-agent"));

        RenderedChart off = render(List.of("contributor-remote.yaml"), Map.of("withdrawal.enabled", false));
        assertThat(off.find(Role.class, "gp-leave-pool")).isEmpty();
    }

    @Test
    void devicePluginCanBeTurnedOnAlone() {
        RenderedChart chart = render(List.of("contributor-deviceplugin.yaml"), Map.of());
        DaemonSet dp = chart.one(DaemonSet.class, "nvidia-device-plugin-daemonset");
        assertThat(dp.getSpec().getTemplate().getSpec().getNodeSelector())
                .containsExactly(Map.entry("nvidia.com/gpu.present", "true"));
        assertThat(dp.getSpec().getTemplate().getSpec().getRuntimeClassName()).isNull();
        assertThat(chart.find(DaemonSet.class, "gpu-feature-discovery")).isEmpty();
    }

    @Test
    void schemaAndTemplatesRejectBadValuesWithHelmsError() {
        assertThatThrownBy(() -> render(List.of("contributor-local.yaml"), Map.of("policy.allowPrivileged", "yes")))
                .hasMessageContaining("values don't meet the specifications of the schema")
                .hasMessageContaining("allowPrivileged");
        assertThatThrownBy(() -> render(List.of("contributor-local.yaml"), Map.of("clusterName", "Home_Lab")))
                .hasMessageContaining("values don't meet the specifications of the schema")
                .hasMessageContaining("clusterName");
        assertThatThrownBy(() -> render(List.of("contributor-local.yaml"), Map.of("hub.inCluster", false)))
                .hasMessageContaining("kubeconfigSecret");
        assertThatThrownBy(() -> render(List.of("contributor-local.yaml"), Map.of("gateway.url", "gpupool.example.org")))
                .hasMessageContaining("values don't meet the specifications of the schema")
                .hasMessageContaining("url");
        assertThatThrownBy(() -> render(List.of("contributor-local.yaml"), Map.of("devicePlugin.migStrategy", "all")))
                .hasMessageContaining("migStrategy");
        // Required values are required at install time (lint only warns, so the defaults lint clean).
        assertThatThrownBy(() -> render(List.of(), Map.of())).hasMessageContaining("is required");
    }
}
