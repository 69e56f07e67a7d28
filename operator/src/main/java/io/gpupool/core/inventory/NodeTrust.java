package io.gpupool.core.inventory;

import java.util.Map;
import java.util.Optional;

import io.gpupool.api.v1alpha1.GpuNode;

/**
 * Whether the pool believes a GpuNode. A contributed cluster's agent can write only in its own hub namespace, but it
 * writes whatever it likes there: so a GpuNode counts only when it sits in the hub namespace of the cluster it names,
 * that cluster was approved (a ContributedCluster of that name exists, or it is the pool's own cluster), and it is
 * contributed by the organization the approval names. Anything else is ignored by admission and explained in a
 * condition on the GpuNode.
 */
public final class NodeTrust {

    public static final String LOCAL_CLUSTER = "local";
    public static final String HUB_NAMESPACE_PREFIX = "gpupool-cluster-";

    /** Why a GpuNode is not believed. */
    public record Rejection(String reason, String message) {
    }

    private NodeTrust() {
    }

    public static String hubNamespace(String cluster) {
        return HUB_NAMESPACE_PREFIX + cluster;
    }

    /**
     * @param clusterOrganizations approved clusters: ContributedCluster name → spec.organization
     * @return empty when the node is believed
     */
    public static Optional<Rejection> check(GpuNode node, Map<String, String> clusterOrganizations) {
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
