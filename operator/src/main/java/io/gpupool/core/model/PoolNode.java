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
 */
public record PoolNode(NodeKey key, String organization, String gpuClass, long memoryMiB, int gpus, NodeState state) {

    public boolean takesNewReplicas() {
        return state == NodeState.SCHEDULABLE && gpuClass != null;
    }
}
