package io.gpupool.core.discovery;

import java.util.Objects;
import java.util.Optional;

import io.fabric8.kubernetes.api.model.Node;
import io.gpupool.api.v1alpha1.GpuNodeSpec;

/** The GpuNode spec that describes a Node to the pool; shared by the operator (own cluster) and the agent. */
public final class GpuNodes {

    private GpuNodes() {
    }

    /**
     * The pool's own cluster: the organization is the Node's gpupool.io/organization label. Empty when the Node
     * contributes nothing (no organization label or no GPUs).
     */
    public static Optional<GpuNodeSpec> specOf(Node node, String cluster) {
        return NodeGpuDiscovery.organization(node).flatMap(org -> specOf(node, cluster, org));
    }

    /**
     * A contributed cluster: every contributed Node belongs to the cluster's organization, whatever its labels say.
     * Empty when the Node has no GPUs the pool can use.
     */
    public static Optional<GpuNodeSpec> specOf(Node node, String cluster, String organization) {
        var gpus = NodeGpuDiscovery.gpus(node);
        if (organization == null || organization.isBlank() || gpus.isEmpty()) {
            return Optional.empty();
        }
        GpuNodeSpec spec = new GpuNodeSpec();
        spec.cluster = cluster;
        spec.nodeName = node.getMetadata().getName();
        spec.organization = organization;
        spec.gpu = gpus.get();
        spec.nodeReady = NodeGpuDiscovery.ready(node);
        spec.unschedulable = NodeGpuDiscovery.cordoned(node);
        return Optional.of(spec);
    }

    /** Whether two specs describe the node the same way. */
    public static boolean sameSpec(GpuNodeSpec a, GpuNodeSpec b) {
        return a != null && b != null && Objects.equals(a.cluster, b.cluster) && Objects.equals(a.nodeName, b.nodeName)
                && Objects.equals(a.organization, b.organization) && Objects.equals(a.gpu, b.gpu)
                && Objects.equals(a.nodeReady, b.nodeReady) && Objects.equals(a.unschedulable, b.unschedulable)
                && Objects.equals(a.withdrawn, b.withdrawn) && Objects.equals(a.consent, b.consent);
    }
}
