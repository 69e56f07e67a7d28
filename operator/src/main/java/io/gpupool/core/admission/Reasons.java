package io.gpupool.core.admission;

import java.util.List;

import io.gpupool.core.fairshare.QuotaRules;
import io.gpupool.core.model.NodeKey;
import io.gpupool.core.model.WorkloadId;

/**
 * Why replicas wait or were evicted, as data: the engines state the facts they decided on, and {@link Explainer} alone
 * turns them into the sentences a person reads (conditions, Events).
 */
public final class Reasons {

    private Reasons() {
    }

    /** Why a workload's replicas wait. */
    public sealed interface Waiting permits NoMatchingGpu, InsufficientCapacity, QuotaExceeded, Preempting,
            WaitingForRelease {
    }

    /** Why replicas were evicted. */
    public sealed interface Evicted permits Reclaimed, Outranked, ElasticGivenBack {
    }

    /** What one replica needs of a node. */
    public record Need(int gpus, long minMemoryMiB, List<String> classes) {
    }

    /**
     * No schedulable node could ever hold a replica; some nodes may match no GpuClass at all, and some with such GPUs
     * may refuse it (their owners do not consent, or its token may not go to their cluster).
     *
     * @param refusal why the first refusing node refuses, or null when none does
     */
    public record NoMatchingGpu(Need need, int unclassifiedNodes, int refusedNodes, String refusal) implements Waiting {

        public NoMatchingGpu(Need need, int unclassifiedNodes) {
            this(need, unclassifiedNodes, 0, null);
        }
    }

    /** Nodes could hold a replica, but none has the GPUs free now. */
    public record InsufficientCapacity(Need need, int matchingNodes, int freeGpus, int gpus) implements Waiting {
    }

    /** A node of the class has room, and only the organization's quota keeps the replica out. */
    public record QuotaExceeded(String organization, String gpuClass, int nominal, int used, int borrowingLimit,
            QuotaRules.Block block, int gpus, boolean shared, int commons) implements Waiting {
    }

    /** The replica evicted others on a node and waits for them to stop. */
    public record Preempting(int victims, NodeKey node, String gpuClass, int gpus) implements Waiting {
    }

    /** The replica claimed GPUs that stopping replicas still hold. */
    public record WaitingForRelease(int gpus, NodeKey node, String gpuClass) implements Waiting {
    }

    /**
     * Borrowed replicas reclaimed for a replica within its organization's nominal quota (or the commons).
     *
     * @param borrowed    GPUs the victim's organization uses beyond its nominal quota in the class, before this eviction
     * @param forCommons  the preemptor is a shared model the commons carries
     */
    public record Reclaimed(String preemptorOrganization, WorkloadId preemptor, String victimOrganization,
            int borrowed, String gpuClass, int nominal, int gpus, NodeKey node, boolean forCommons)
            implements Evicted {
    }

    /** Elastic replicas (above minReplicas) of the preemptor's own organization, whatever their priority. */
    public record ElasticGivenBack(WorkloadId preemptor, String organization, NodeKey node) implements Evicted {
    }

    /** Lower-priority replicas of the preemptor's own organization. */
    public record Outranked(WorkloadId preemptor, String organization, int preemptorPriority, int victimPriority,
            NodeKey node) implements Evicted {
    }
}
