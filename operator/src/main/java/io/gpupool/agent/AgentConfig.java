package io.gpupool.agent;

import java.util.List;
import java.util.Optional;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/** Configuration of the agent role (gpupool.agent.*, env GPUPOOL_AGENT_*), set by the gpupool-contributor chart. */
@ConfigMapping(prefix = "gpupool.agent")
public interface AgentConfig {

    /** The Organization contributing this cluster. */
    Optional<String> organization();

    /** This cluster's name at the pool (its ContributedCluster). */
    Optional<String> cluster();

    /** Labels of contributed Nodes, "k1=v1,k2=v2"; empty: every Node with GPUs. */
    Optional<String> nodeSelector();

    /** Namespace where serving work runs. */
    @WithDefault("gpupool-serving")
    String servingNamespace();

    /** Seconds between heartbeats. */
    @WithDefault("30")
    int heartbeatIntervalSeconds();

    /**
     * Seconds the pool may refuse this agent's credentials (401/403) before the agent takes the cluster as revoked:
     * it scales its work to zero and deletes the copied model credentials.
     */
    @WithDefault("600")
    int revocationGraceSeconds();

    /**
     * Where the agent keeps the token it renews at the pool: "namespace/name" of a Secret of its own cluster (the
     * contributor chart's {@code <release>-hub-token}); absent: kept in memory only.
     */
    Optional<String> tokenSecret();

    /** Path of the kubeconfig for the pool's API server; absent: the pool is this cluster (in-cluster credentials). */
    Optional<String> hubKubeconfig();

    Policy policy();

    /**
     * The pool gateway's URL (https://...): the agent opens a tunnel to it (outbound, like everything else it does), so
     * the pool's members reach the models served in this cluster; nothing listens here. Absent: no tunnel, and the
     * replicas here can be reached only from inside this cluster.
     */
    Optional<String> gatewayUrl();

    /** PEM file of the CA that signed the gateway's certificate, when it is not one the JVM trusts already. */
    Optional<String> gatewayCaFile();

    /**
     * Leave the pool, then exit (the contributor chart's uninstall hook): withdraw every node, wait until the pool has
     * moved their replicas elsewhere, delete the GpuNodes.
     */
    @WithDefault("false")
    boolean leavePool();

    /** Seconds to wait for the pool when leaving; then the GpuNodes are deleted anyway and their replicas move at once. */
    @WithDefault("240")
    int leaveTimeoutSeconds();

    /**
     * The running agent's Deployment, "namespace/name": stopped before leaving, so that it does not contribute the nodes
     * again meanwhile.
     */
    Optional<String> agentDeployment();

    interface Policy {
        /** Image patterns serving containers may use ('*' matches anything). */
        Optional<List<String>> allowedImages();

        @WithDefault("false")
        boolean allowPrivileged();

        @WithDefault("false")
        boolean allowHostPath();

        /** Whether work may run Python code shipped with its model. */
        @WithDefault("false")
        boolean allowRemoteCode();

        /** Whether work may load weights in pickle formats. */
        @WithDefault("false")
        boolean allowUnsafeWeights();

        /** PriorityClasses work may name. */
        Optional<List<String>> allowedPriorityClasses();
    }
}
