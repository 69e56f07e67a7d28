package io.gpupool.agent;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

import io.gpupool.core.policy.ContributorPolicy;

/**
 * What an agent needs to know about its cluster.
 *
 * @param organization     the Organization that contributes the cluster (its ContributedCluster's)
 * @param cluster          the cluster's name at the pool (its ContributedCluster's name)
 * @param nodeSelector     labels a Node must carry to be contributed (all of them); empty: every Node with GPUs
 * @param servingNamespace namespace of the contributor's cluster where serving work runs
 * @param heartbeat        how often the agent reports its nodes (and resynchronises)
 * @param policy           what the contributor agrees to run
 * @param revocationGrace  how long the pool may refuse the agent's credentials (401/403) before the agent takes the
 *                         pool as having revoked this cluster: it scales the work to zero and deletes the copied
 *                         credentials (an outage, where the pool does not answer at all, keeps the work running)
 */
public record AgentSettings(String organization, String cluster, Map<String, String> nodeSelector,
        String servingNamespace, Duration heartbeat, ContributorPolicy policy, Duration revocationGrace) {

    public static final Duration DEFAULT_REVOCATION_GRACE = Duration.ofMinutes(10);

    public AgentSettings(String organization, String cluster, Map<String, String> nodeSelector,
            String servingNamespace, Duration heartbeat, ContributorPolicy policy) {
        this(organization, cluster, nodeSelector, servingNamespace, heartbeat, policy, DEFAULT_REVOCATION_GRACE);
    }

    public AgentSettings {
        if (organization == null || organization.isBlank()) {
            throw new IllegalArgumentException("gpupool.agent.organization is required (the contributing Organization)");
        }
        if (cluster == null || !cluster.matches("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$") || cluster.length() > 47) {
            throw new IllegalArgumentException("gpupool.agent.cluster must be a DNS label of at most 47 characters "
                    + "(the ContributedCluster's name), got '" + cluster + "'");
        }
        nodeSelector = Map.copyOf(nodeSelector);
        revocationGrace = revocationGrace == null ? DEFAULT_REVOCATION_GRACE : revocationGrace;
    }

    /** Parses "k1=v1,k2=v2" (the chart's rendering of contributedNodeSelector). */
    public static Map<String, String> parseSelector(String selector) {
        Map<String, String> out = new LinkedHashMap<>();
        if (selector == null || selector.isBlank()) {
            return out;
        }
        for (String pair : selector.split(",")) {
            String p = pair.trim();
            if (p.isEmpty()) {
                continue;
            }
            int eq = p.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("gpupool.agent.node-selector: '" + p + "' is not key=value");
            }
            out.put(p.substring(0, eq).trim(), p.substring(eq + 1).trim());
        }
        return out;
    }
}
