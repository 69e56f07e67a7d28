package io.gpupool.core.model;

/** Identifies a GPU node across the pool: its cluster and its Kubernetes Node name. */
public record NodeKey(String cluster, String node) implements Comparable<NodeKey> {

    @Override
    public int compareTo(NodeKey o) {
        int c = cluster.compareTo(o.cluster);
        return c != 0 ? c : node.compareTo(o.node);
    }

    @Override
    public String toString() {
        return cluster + "/" + node;
    }
}
