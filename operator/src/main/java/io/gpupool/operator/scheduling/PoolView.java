package io.gpupool.operator.scheduling;

import java.util.List;
import java.util.Map;
import java.util.Optional;

import io.gpupool.api.v1alpha1.GpuClass;
import io.gpupool.api.v1alpha1.GpuNode;
import io.gpupool.api.v1alpha1.GpuPool;
import io.gpupool.api.v1alpha1.ModelDeployment;
import io.gpupool.api.v1alpha1.Organization;
import io.gpupool.core.inventory.Membership;
import io.gpupool.core.model.NodeKey;
import io.gpupool.core.model.Workload;
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

    /** Which organization each namespace belongs to ({@link Membership}: the one definition of it). */
    default Membership membership() {
        return Membership.of(organizations());
    }

    /**
     * What a ModelDeployment of {@link #modelDeployments()} asks the scheduler for, exactly as its reconcile would hand
     * it in, so that a cycle can decide it before its reconcile runs; null when the view cannot tell (the reconcile
     * hands it in then).
     */
    default Workload demandOf(ModelDeployment md) {
        return null;
    }

    /** Serving pods that still hold GPUs (not Succeeded or Failed), counted per ModelDeployment and node. */
    Map<WorkloadId, Map<NodeKey, Integer>> livePods();

    /**
     * Ready replicas on contributed clusters' nodes, per ModelDeployment and node, as their agents report them: what
     * proves a contributed node's GPUs ({@code ContributionProof}).
     */
    default Map<WorkloadId, Map<NodeKey, Integer>> readyReplicas() {
        return Map.of();
    }

    /** {@link #readyReplicas()} of one ModelDeployment. */
    default Map<NodeKey, Integer> readyReplicasOf(WorkloadId id) {
        return readyReplicas().getOrDefault(id, Map.of());
    }

    /** Per approved contributed cluster and GpuClass, the most GPUs that may earn quota (its ceiling). */
    default Map<String, Map<String, Integer>> clusterCeilings() {
        return Map.of();
    }

    /**
     * Whether every cache behind this view has been filled by its first list. A cycle over caches still filling would
     * see part of the pool: the ledger rebuilt from some of the recorded placements, replicas on nodes not listed yet
     * taken away, and the GPUs they hold handed to another ModelDeployment.
     */
    default boolean synced() {
        return true;
    }
}
