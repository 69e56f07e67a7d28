package io.gpupool.core.model;

/** Identifies a ModelDeployment: namespace and name. */
public record WorkloadId(String namespace, String name) implements Comparable<WorkloadId> {

    @Override
    public int compareTo(WorkloadId o) {
        int c = namespace.compareTo(o.namespace);
        return c != 0 ? c : name.compareTo(o.name);
    }

    @Override
    public String toString() {
        return namespace + "/" + name;
    }
}
