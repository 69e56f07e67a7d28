package io.gpupool.agent;

import static io.gpupool.testing.PoolFixtures.modelDeployment;
import static io.gpupool.testing.PoolFixtures.namespace;
import static io.gpupool.testing.PoolFixtures.node;
import static io.gpupool.testing.PoolFixtures.organization;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.Map;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.gpupool.api.v1alpha1.GpuNode;
import io.gpupool.api.v1alpha1.ModelDeployment;
import io.javaoperatorsdk.operator.Operator;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;

/**
 * The same application in the agent role (GPUPOOL_ROLE=agent), with the pool in the same cluster (hub in-cluster):
 * only the agent's controller is registered, the operator's are not, and the agent contributes the cluster's labelled
 * GPU nodes.
 */
@QuarkusTest
@WithKubernetesTestServer
@TestProfile(AgentRoleTest.AgentRole.class)
class AgentRoleTest {

    public static class AgentRole implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("gpupool.role", "agent",
                    "gpupool.agent.organization", "uni-nlp",
                    "gpupool.agent.cluster", "same-cluster",
                    "gpupool.agent.node-selector", "gpupool.io/contribute=true",
                    "gpupool.agent.heartbeat-interval-seconds", "1",
                    "gpupool.agent.policy.allowed-images", "ghcr.io/gpupool/*");
        }
    }

    private static final Duration WAIT = Duration.ofSeconds(20);

    @Inject
    KubernetesClient client;

    @Inject
    Operator operator;

    @Inject
    AgentLauncher launcher;

    @Test
    void onlyTheAgentRunsAndItContributesTheClustersNodes() throws InterruptedException {
        assertThat(operator.getRegisteredControllers()).extracting(c -> c.getConfiguration().getName())
                .containsExactly(AgentNodeReconciler.NAME);
        assertThat(launcher.agent()).isPresent();

        Node contributed = node("l4-01", null);
        contributed.getMetadata().getLabels().put("gpupool.io/contribute", "true");
        client.resource(contributed).create();
        await().atMost(WAIT).until(() -> {
            GpuNode n = client.resources(GpuNode.class).inNamespace("gpupool-cluster-same-cluster").withName("l4-01").get();
            return n != null && n.getStatus() != null && n.getStatus().lastHeartbeatTime != null;
        });
        GpuNode n = client.resources(GpuNode.class).inNamespace("gpupool-cluster-same-cluster").withName("l4-01").get();
        assertThat(n.getSpec().organization).isEqualTo("uni-nlp");
        assertThat(n.getSpec().cluster).isEqualTo("same-cluster");

        // The operator's controllers are off: no local discovery, no ModelDeployment reconciles.
        client.resource(node("t4-01", "uni-nlp")).create();
        client.resource(organization("uni-nlp", "nlp")).create();
        client.resource(namespace("nlp")).create();
        client.resource(modelDeployment("nlp", "ignored", 1, 1)).create();
        // Nothing may happen for a while: assert it throughout, not once after a pause.
        await().during(java.time.Duration.ofSeconds(3)).atMost(java.time.Duration.ofSeconds(5)).untilAsserted(() -> {
            assertThat(client.resources(GpuNode.class).inNamespace("gpupool-cluster-local").list().getItems()).isEmpty();
            assertThat(client.resources(ModelDeployment.class).inNamespace("nlp").withName("ignored").get().getStatus())
                    .isNull();
        });
    }
}
