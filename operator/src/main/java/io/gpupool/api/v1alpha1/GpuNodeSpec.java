package io.gpupool.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;

@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonClassDescription("The node as its contributor reports it (the operator for the pool's own nodes, the agent for "
        + "contributed clusters): cluster, organization, GPUs, readiness.")
public class GpuNodeSpec {

    @Required
    @Size(min = 1, max = 63)
    @Pattern("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
    @JsonPropertyDescription("Name of the cluster the node is in ('local' for the pool's own cluster).")
    public String cluster;

    @Required
    @Size(min = 1, max = 253)
    @JsonPropertyDescription("Name of the Kubernetes Node in that cluster.")
    public String nodeName;

    @Required
    @Size(min = 1, max = 63)
    @Pattern("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
    @JsonPropertyDescription("Organization that contributes the node.")
    public String organization;

    @Required
    @JsonPropertyDescription("The node's GPUs, as GPU Feature Discovery and the device plugin report them.")
    public GpuFacts gpu = new GpuFacts();

    @JsonPropertyDescription("What the node's owner lets the pool's work do here, from the contributor chart's policy "
            + "(policy.allowRemoteCode, policy.allowUnsafeWeights). Ignored for the pool's own cluster, where "
            + "GpuPool spec.localNodes decides.")
    public NodeConsent consent = new NodeConsent();

    @Default("true")
    @JsonPropertyDescription("Whether the node's kubelet reports Ready, as its agent last saw it. A node that is not "
            + "ready keeps its replicas but takes no new ones; after GpuPool spec.heartbeatTimeoutSeconds of not being "
            + "ready it counts as gone and its replicas are placed elsewhere.")
    public Boolean nodeReady = true;

    @Default("false")
    @JsonPropertyDescription("True when the node is cordoned. A cordoned node takes no new replicas and is being "
            + "taken back: its replicas are placed elsewhere, and keep serving here until their replacements are "
            + "ready (at most GpuPool spec.withdrawalHandoverSeconds).")
    public Boolean unschedulable = false;

    @Default("false")
    @JsonPropertyDescription("True while the node leaves the pool: it no longer matches the contributor's node "
            + "selector, or the contributor chart is being uninstalled. It is withdrawn like a cordoned node; its "
            + "agent deletes this GpuNode once no replica of the pool runs on it any more.")
    public Boolean withdrawn = false;
}
