package io.gpupool.api.v1alpha1;

import java.util.Objects;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

@JsonInclude(JsonInclude.Include.NON_NULL)
public class Placement {

    @JsonPropertyDescription("Cluster the replicas run in ('local' for the pool's own cluster).")
    public String cluster;

    @JsonPropertyDescription("Kubernetes Node name in that cluster.")
    public String node;

    @JsonPropertyDescription("GpuClass of the node's GPUs.")
    public String gpuClass;

    @JsonPropertyDescription("Number of replicas placed on this node.")
    public int replicas;

    public Placement() {
    }

    public Placement(String cluster, String node, String gpuClass, int replicas) {
        this.cluster = cluster;
        this.node = node;
        this.gpuClass = gpuClass;
        this.replicas = replicas;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Placement p && p.replicas == replicas && Objects.equals(p.cluster, cluster)
                && Objects.equals(p.node, node) && Objects.equals(p.gpuClass, gpuClass);
    }

    @Override
    public int hashCode() {
        return Objects.hash(cluster, node, gpuClass, replicas);
    }

    @Override
    public String toString() {
        return cluster + "/" + node + "(" + gpuClass + ")x" + replicas;
    }
}
