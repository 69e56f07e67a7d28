package io.gpupool.core.discovery;

import java.util.Map;
import java.util.Optional;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeCondition;
import io.fabric8.kubernetes.api.model.Quantity;
import io.gpupool.api.v1alpha1.ApiGroup;
import io.gpupool.api.v1alpha1.GpuFacts;

/**
 * Reads a Node's GPUs the way NVIDIA GPU Feature Discovery and the device plugin describe them: the product, memory
 * and compute capability from GFD labels, the count from the allocatable {@code nvidia.com/gpu}. Used by the operator
 * for its own cluster and by the contributor agent for contributed clusters.
 */
public final class NodeGpuDiscovery {

    public static final String GPU_RESOURCE = "nvidia.com/gpu";
    public static final String PRODUCT_LABEL = "nvidia.com/gpu.product";
    public static final String MEMORY_LABEL = "nvidia.com/gpu.memory";
    public static final String FAMILY_LABEL = "nvidia.com/gpu.family";
    public static final String COMPUTE_MAJOR_LABEL = "nvidia.com/gpu.compute.major";
    public static final String COMPUTE_MINOR_LABEL = "nvidia.com/gpu.compute.minor";

    private NodeGpuDiscovery() {
    }

    /** The node's GPUs, or empty when it has none the pool can use (no allocatable GPU or no GFD product label). */
    public static Optional<GpuFacts> gpus(Node node) {
        Map<String, String> labels = labels(node);
        int count = allocatableGpus(node);
        String product = labels.get(PRODUCT_LABEL);
        if (count <= 0 || product == null || product.isBlank()) {
            return Optional.empty();
        }
        GpuFacts facts = new GpuFacts();
        facts.product = product;
        facts.memoryMiB = parseLong(labels.get(MEMORY_LABEL), 0);
        facts.count = count;
        facts.family = labels.get(FAMILY_LABEL);
        String major = labels.get(COMPUTE_MAJOR_LABEL);
        String minor = labels.get(COMPUTE_MINOR_LABEL);
        facts.computeCapability = major == null ? null : major + "." + (minor == null ? "0" : minor);
        return Optional.of(facts);
    }

    /** The organization a node is contributed by (label gpupool.io/organization), if any. */
    public static Optional<String> organization(Node node) {
        String org = labels(node).get(ApiGroup.ORGANIZATION_LABEL);
        return org == null || org.isBlank() ? Optional.empty() : Optional.of(org);
    }

    /** Whether the kubelet reports the node Ready. */
    public static boolean ready(Node node) {
        if (node.getStatus() == null || node.getStatus().getConditions() == null) {
            return false;
        }
        for (NodeCondition c : node.getStatus().getConditions()) {
            if ("Ready".equals(c.getType())) {
                return "True".equals(c.getStatus());
            }
        }
        return false;
    }

    public static boolean cordoned(Node node) {
        return node.getSpec() != null && Boolean.TRUE.equals(node.getSpec().getUnschedulable());
    }

    static int allocatableGpus(Node node) {
        if (node.getStatus() == null || node.getStatus().getAllocatable() == null) {
            return 0;
        }
        Quantity q = node.getStatus().getAllocatable().get(GPU_RESOURCE);
        if (q == null) {
            return 0;
        }
        try {
            return Quantity.getAmountInBytes(q).intValueExact();
        } catch (ArithmeticException | IllegalArgumentException e) {
            return 0;
        }
    }

    private static Map<String, String> labels(Node node) {
        Map<String, String> labels = node.getMetadata() == null ? null : node.getMetadata().getLabels();
        return labels == null ? Map.of() : labels;
    }

    private static long parseLong(String s, long fallback) {
        try {
            return s == null ? fallback : Long.parseLong(s.trim());
        } catch (NumberFormatException e) {
            return fallback;
        }
    }
}
