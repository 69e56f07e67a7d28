package io.gpupool.apiserver;

import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.gpupool.agent.AgentSettings;
import io.gpupool.agent.ContributorAgent;
import io.gpupool.core.inventory.NodeTrust;
import io.gpupool.core.policy.ContributorPolicy;
import io.gpupool.operator.cluster.ContributedClusterReconciler;

/**
 * The real contributor agent, run in this JVM with exactly the identities it has in production: at the pool the
 * ServiceAccount of its cluster's hub namespace (bound by the operator when a pool admin approved the cluster), in the
 * contributor's cluster the contributor chart's ServiceAccount. The tier's one API server plays both clusters; both
 * identities are impersonated, so its RBAC decides every request. Heartbeats every second; the chart's default policy
 * (the pool's vLLM images, nothing privileged).
 *
 * @param hub   the agent's client at the pool
 * @param local the agent's client in the contributor's cluster
 */
record InProcessAgent(KubernetesClient hub, KubernetesClient local, ContributorAgent agent) implements AutoCloseable {

    /**
     * Starts the agent (returns once its caches of the contributor's cluster are filled).
     *
     * @param contributorNamespace the contributor chart's release namespace
     * @param agentAccount         the chart's agent ServiceAccount there
     */
    static InProcessAgent start(RealKubeApiServer.Server server, String organization, String cluster,
            String contributorNamespace, String agentAccount, Map<String, String> nodeSelector,
            String servingNamespace) {
        KubernetesClient hub = server.impersonating("system:serviceaccount:" + NodeTrust.hubNamespace(cluster) + ":"
                + ContributedClusterReconciler.AGENT);
        KubernetesClient local = server.impersonating("system:serviceaccount:" + contributorNamespace + ":"
                + agentAccount);
        ContributorAgent agent = new ContributorAgent(local, hub, new AgentSettings(organization, cluster, nodeSelector,
                servingNamespace, Duration.ofSeconds(1),
                new ContributorPolicy(List.of("ghcr.io/gpupool/inference-vllm:*"), false, false)), Clock.systemUTC());
        agent.start();
        return new InProcessAgent(hub, local, agent);
    }

    @Override
    public void close() {
        try {
            agent.close();
        } finally {
            hub.close();
            local.close();
        }
    }
}
