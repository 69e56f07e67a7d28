package io.gpupool.core.inventory;

import java.util.Map;
import java.util.Optional;

import io.gpupool.api.v1alpha1.GpuNode;

/**
 * Whether the pool believes a GpuNode. A contributed cluster's agent can write only in its own hub namespace, but it
 * writes whatever it likes there: so a GpuNode counts only when it sits in the hub namespace of the cluster it names,
 * that cluster was approved (a ContributedCluster of that name exists, or it is the pool's own cluster), it is
 * contributed by the organization the approval names, it is named after the node it describes (so one hub namespace
 * cannot describe a node twice), and it claims no more GPUs than a machine can carry. Anything else is ignored by
 * admission, touches no other node's liveness, wakes no admission cycle, and is explained in a condition on the
 * GpuNode.
 */
public final class NodeTrust {

    public static final String LOCAL_CLUSTER = "local";
    public static final String HUB_NAMESPACE_PREFIX = "gpupool-cluster-";

    /** Why a GpuNode is not believed. */
    public record Rejection(String reason, String message) {
    }

    public static final int DEFAULT_MAX_GPUS_PER_NODE = 16;
    /** A MIG-partitioned GPU shows as up to seven devices (the single strategy counts them as nvidia.com/gpu). */
    public static final int MIG_SLICES_PER_GPU = 7;

    private NodeTrust() {
    }

    /** The most GPUs a node of this product can carry: MIG products count their slices. */
    static int ceiling(String product, int maxGpusPerNode) {
        return product != null && product.toUpperCase(java.util.Locale.ROOT).contains("-MIG-")
                ? maxGpusPerNode * MIG_SLICES_PER_GPU : maxGpusPerNode;
    }

    public static String hubNamespace(String cluster) {
        return HUB_NAMESPACE_PREFIX + cluster;
    }

    /** {@link #check(GpuNode, Map, int)} with the default ceiling of GPUs per node. */
    public static Optional<Rejection> check(GpuNode node, Map<String, String> clusterOrganizations) {
        return check(node, clusterOrganizations, DEFAULT_MAX_GPUS_PER_NODE);
    }

    /**
     * @param clusterOrganizations approved clusters: ContributedCluster name → spec.organization
     * @param maxGpusPerNode       the most GPUs a machine carries (GpuPool spec.maxGpusPerNode)
     * @return empty when the node is believed
     */
    public static Optional<Rejection> check(GpuNode node, Map<String, String> clusterOrganizations,
            int maxGpusPerNode) {
        var spec = node.getSpec();
        if (spec == null || spec.cluster == null || spec.gpu == null) {
            return Optional.of(new Rejection("InvalidSpec", "The GpuNode has no cluster or no GPUs."));
        }
        String namespace = node.getMetadata().getNamespace();
        if (!hubNamespace(spec.cluster).equals(namespace)) {
            return Optional.of(new Rejection("WrongNamespace", "spec.cluster is '" + spec.cluster
                    + "' but the GpuNode is in namespace '" + namespace + "'; a cluster reports only in "
                    + hubNamespace(spec.cluster) + "."));
        }
        if (!node.getMetadata().getName().equals(spec.nodeName)) {
            return Optional.of(new Rejection("NodeNameMismatch", "The GpuNode is named '" + node.getMetadata().getName()
                    + "' but describes node '" + spec.nodeName + "'; a GpuNode is named after its node, so that no "
                    + "node is counted twice."));
        }
        int ceiling = ceiling(spec.gpu.product, maxGpusPerNode);
        if (spec.gpu.count != null && spec.gpu.count > ceiling) {
            return Optional.of(new Rejection("ExceedsNodeCapacity", "The GpuNode claims " + spec.gpu.count + " GPUs; no "
                    + "node of the pool carries more than " + ceiling + " (GpuPool spec.maxGpusPerNode"
                    + (ceiling == maxGpusPerNode ? "" : ", " + MIG_SLICES_PER_GPU + " MIG slices per GPU") + ")."));
        }
        if (LOCAL_CLUSTER.equals(spec.cluster)) {
            return Optional.empty();
        }
        String approved = clusterOrganizations.get(spec.cluster);
        if (approved == null) {
            return Optional.of(new Rejection("ClusterNotApproved", "No ContributedCluster '" + spec.cluster
                    + "' exists; a pool admin approves a cluster by creating one."));
        }
        if (!approved.equals(spec.organization)) {
            return Optional.of(new Rejection("OrganizationMismatch", "The GpuNode says organization '"
                    + spec.organization + "' but ContributedCluster '" + spec.cluster + "' is contributed by '"
                    + approved + "'; the node is ignored."));
        }
        return Optional.empty();
    }
}
