package io.gpupool.core.discovery;

import java.util.Optional;

import io.fabric8.kubernetes.api.model.Node;
import io.gpupool.api.v1alpha1.GpuNodeSpec;

/** The GpuNode spec that describes a Node to the pool; shared by the operator (own cluster) and the agent. */
public final class GpuNodes {

    private GpuNodes() {
    }

    /** Empty when the Node contributes nothing (no organization label or no GPUs). */
    public static Optional<GpuNodeSpec> specOf(Node node, String cluster) {
        var org = NodeGpuDiscovery.organization(node);
        var gpus = NodeGpuDiscovery.gpus(node);
        if (org.isEmpty() || gpus.isEmpty()) {
            return Optional.empty();
        }
        GpuNodeSpec spec = new GpuNodeSpec();
        spec.cluster = cluster;
        spec.nodeName = node.getMetadata().getName();
        spec.organization = org.get();
        spec.gpu = gpus.get();
        spec.nodeReady = NodeGpuDiscovery.ready(node);
        spec.unschedulable = NodeGpuDiscovery.cordoned(node);
        return Optional.of(spec);
    }
}
