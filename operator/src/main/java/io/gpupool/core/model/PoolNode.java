package io.gpupool.core.model;

/**
 * A GPU node as the admission engine sees it.
 *
 * @param key          cluster and node name
 * @param organization contributor of the node
 * @param gpuClass     GpuClass its GPUs belong to, or null when no class matches (such a node is not used)
 * @param memoryMiB    memory of one GPU
 * @param gpus         GPUs the pool may assign on it
 * @param state        whether it takes replicas
 * @param consents     what its owner lets the pool's work do there ({@link Requirements})
 * @param countedGpus  the part of {@code gpus} that is verified: it earns its organization nominal quota and counts
 *                     as contributed ({@code io.gpupool.core.inventory.ContributionProof}); the rest is placed on but
 *                     belongs to the commons
 */
public record PoolNode(NodeKey key, String organization, String gpuClass, long memoryMiB, int gpus, NodeState state,
        java.util.Set<Requirements.Consent> consents, int countedGpus) {

    public PoolNode {
        consents = consents == null ? java.util.Set.of() : java.util.Set.copyOf(consents);
    }

    /** A node whose GPUs all count. */
    public PoolNode(NodeKey key, String organization, String gpuClass, long memoryMiB, int gpus, NodeState state,
            java.util.Set<Requirements.Consent> consents) {
        this(key, organization, gpuClass, memoryMiB, gpus, state, consents, gpus);
    }

    /** A node whose owner consents to nothing beyond serving, whose GPUs all count. */
    public PoolNode(NodeKey key, String organization, String gpuClass, long memoryMiB, int gpus, NodeState state) {
        this(key, organization, gpuClass, memoryMiB, gpus, state, java.util.Set.of());
    }

    /** The same node with only {@code counted} of its GPUs verified. */
    public PoolNode withCountedGpus(int counted) {
        return new PoolNode(key, organization, gpuClass, memoryMiB, gpus, state, consents,
                Math.max(0, Math.min(gpus, counted)));
    }

    public boolean takesNewReplicas() {
        return state == NodeState.SCHEDULABLE && gpuClass != null;
    }
}
