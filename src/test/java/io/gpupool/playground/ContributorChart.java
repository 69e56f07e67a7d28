package io.gpupool.playground;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

/**
 * What a contributor gets from `helm install gpupool-contributor` with the chart's default values
 * (charts/gpupool-contributor/values.yaml), read from the chart itself so that the simulated contributor follows it:
 * which Nodes are contributed, the serving namespace, the policy, and the agent container's environment as
 * templates/deployment.yaml renders it.
 */
record ContributorChart(Map<String, String> contributedNodeSelector, String servingNamespace, List<String> allowedImages,
        boolean allowPrivileged, boolean allowHostPath, int heartbeatIntervalSeconds) {

    static final Path VALUES = Path.of("charts", "gpupool-contributor", "values.yaml");

    static ContributorChart defaults() {
        try {
            JsonNode v = new ObjectMapper(new YAMLFactory()).readTree(VALUES.toFile());
            // Helm ranges over a map in key order: the chart renders the selector sorted.
            Map<String, String> selector = new TreeMap<>();
            v.path("contributedNodeSelector").properties().forEach(e -> selector.put(e.getKey(), e.getValue().asText()));
            List<String> images = new ArrayList<>();
            v.path("policy").path("allowedImages").forEach(i -> images.add(i.asText()));
            return new ContributorChart(selector, v.path("servingNamespace").path("name").asText(), List.copyOf(images),
                    v.path("policy").path("allowPrivileged").asBoolean(), v.path("policy").path("allowHostPath").asBoolean(),
                    v.path("heartbeatIntervalSeconds").asInt());
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read the contributor chart's values " + VALUES, e);
        }
    }

    /** The selector as the chart passes it to the agent (helper gpupool-contributor.nodeSelectorString). */
    String nodeSelectorString() {
        return contributedNodeSelector.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue())
                .collect(Collectors.joining(","));
    }

    /**
     * The agent container's environment in templates/deployment.yaml with hub.inCluster=false (the pool is another
     * cluster, reached with the kubeconfig the pool admin handed out), minus QUARKUS_PROFILE (the caller's choice).
     */
    Map<String, String> agentEnvironment(String organization, String cluster, Path hubKubeconfig, String gatewayUrl) {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("GPUPOOL_ROLE", "agent");
        env.put("GPUPOOL_AGENT_ORGANIZATION", organization);
        env.put("GPUPOOL_AGENT_CLUSTER", cluster);
        env.put("GPUPOOL_AGENT_NODE_SELECTOR", nodeSelectorString());
        env.put("GPUPOOL_AGENT_SERVING_NAMESPACE", servingNamespace);
        env.put("GPUPOOL_AGENT_HEARTBEAT_INTERVAL_SECONDS", Integer.toString(heartbeatIntervalSeconds));
        env.put("GPUPOOL_AGENT_POLICY_ALLOWED_IMAGES", String.join(",", allowedImages));
        env.put("GPUPOOL_AGENT_POLICY_ALLOW_PRIVILEGED", Boolean.toString(allowPrivileged));
        env.put("GPUPOOL_AGENT_POLICY_ALLOW_HOST_PATH", Boolean.toString(allowHostPath));
        env.put("GPUPOOL_AGENT_HUB_KUBECONFIG", hubKubeconfig.toAbsolutePath().toString());
        if (gatewayUrl != null) {
            env.put("GPUPOOL_AGENT_GATEWAY_URL", gatewayUrl); // gateway.url
        }
        return env;
    }
}
