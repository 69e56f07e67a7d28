package io.gpupool.operator.scheduling;

import java.util.List;
import java.util.Map;
import java.util.Optional;

import io.gpupool.api.v1alpha1.GpuClass;
import io.gpupool.api.v1alpha1.GpuNode;
import io.gpupool.api.v1alpha1.GpuPool;
import io.gpupool.api.v1alpha1.ModelDeployment;
import io.gpupool.api.v1alpha1.Organization;
import io.gpupool.core.model.NodeKey;
import io.gpupool.core.model.WorkloadId;

/** What the scheduler reads of the pool, served from informer caches (never from direct API calls). */
public interface PoolView {

    List<GpuClass> gpuClasses();

    List<GpuNode> gpuNodes();

    List<Organization> organizations();

    Optional<GpuPool> pool();

    /** Approved contributed clusters: ContributedCluster name → its organization. */
    Map<String, String> contributedClusters();

    List<ModelDeployment> modelDeployments();

    /** Number of namespaces labelled as members, per organization. */
    Map<String, Integer> memberNamespaces();

    /** Serving pods that still hold GPUs (not Succeeded or Failed), counted per ModelDeployment and node. */
    Map<WorkloadId, Map<NodeKey, Integer>> livePods();

    /**
     * Ready replicas on contributed clusters' nodes, per ModelDeployment and node, as their agents report them: what
     * proves a contributed node's GPUs ({@code ContributionProof}).
     */
    default Map<WorkloadId, Map<NodeKey, Integer>> readyReplicas() {
        return Map.of();
    }

    /** Per approved contributed cluster and GpuClass, the most GPUs that may earn quota (its ceiling). */
    default Map<String, Map<String, Integer>> clusterCeilings() {
        return Map.of();
    }
}
