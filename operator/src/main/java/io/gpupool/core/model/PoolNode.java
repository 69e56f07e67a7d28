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
 */
public record PoolNode(NodeKey key, String organization, String gpuClass, long memoryMiB, int gpus, NodeState state,
        java.util.Set<Requirements.Consent> consents) {

    public PoolNode {
        consents = consents == null ? java.util.Set.of() : java.util.Set.copyOf(consents);
    }

    /** A node whose owner consents to nothing beyond serving. */
    public PoolNode(NodeKey key, String organization, String gpuClass, long memoryMiB, int gpus, NodeState state) {
        this(key, organization, gpuClass, memoryMiB, gpus, state, java.util.Set.of());
    }

    public boolean takesNewReplicas() {
        return state == NodeState.SCHEDULABLE && gpuClass != null;
    }
}
