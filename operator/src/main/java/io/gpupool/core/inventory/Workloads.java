package io.gpupool.core.inventory;

import java.time.Instant;
import java.util.List;

import io.gpupool.api.v1alpha1.ModelDeployment;
import io.gpupool.api.v1alpha1.ModelDeploymentSpec;
import io.gpupool.core.memory.AttentionShape;
import io.gpupool.core.memory.MemoryEstimator;
import io.gpupool.core.model.Assignment;
import io.gpupool.core.model.Workload;
import io.gpupool.core.model.WorkloadId;

/** Turns a ModelDeployment into the admission engine's demand. */
public final class Workloads {

    private Workloads() {
    }

    public static WorkloadId id(ModelDeployment md) {
        return new WorkloadId(md.getMetadata().getNamespace(), md.getMetadata().getName());
    }

    /** GPU memory each GPU of a replica needs: the user's floor, or the estimate from the model. */
    public static long requiredMemoryMiB(ModelDeploymentSpec spec) {
        if (spec.gpu != null && spec.gpu.minMemoryMiB != null) {
            return spec.gpu.minMemoryMiB;
        }
        var m = spec.model;
        var shape = m.architecture == null ? null
                : new AttentionShape(m.architecture.layers, m.architecture.kvHeads, m.architecture.headDim);
        return MemoryEstimator.estimate(m.parametersBillions, m.dtype == null ? "bf16" : m.dtype,
                m.maxContextLength == null ? 8192 : m.maxContextLength, shape, gpus(spec)).perGpuMiB();
    }

    /** The demand of a valid ModelDeployment that asks for spec.replicas. */
    public static Workload demand(ModelDeployment md, String organization, List<Assignment> assigned,
            List<Assignment> draining) {
        return demand(md, organization, replicas(md.getSpec()), assigned, draining);
    }

    /** spec.replicas, or its default. */
    public static int replicas(ModelDeploymentSpec spec) {
        return spec == null || spec.replicas == null ? 1 : spec.replicas;
    }

    /**
     * The demand of a valid ModelDeployment.
     *
     * @param replicas replicas it asks for: spec.replicas, or what its autoscaler decided
     */
    public static Workload demand(ModelDeployment md, String organization, int replicas, List<Assignment> assigned,
            List<Assignment> draining) {
        ModelDeploymentSpec spec = md.getSpec();
        return new Workload(id(md), organization, gpus(spec), requiredMemoryMiB(spec),
                spec.gpu == null || spec.gpu.classes == null ? List.of() : List.copyOf(spec.gpu.classes),
                replicas, spec.priority == null ? 0 : spec.priority,
                Boolean.TRUE.equals(spec.shared), arrival(md), false, assigned, draining);
    }

    /**
     * A ModelDeployment whose spec is invalid or whose organization is unknown: it keeps the replicas it has and gets
     * no new ones, so that a bad edit never takes a serving model down.
     */
    public static Workload frozen(ModelDeployment md, String organization, int gpusPerReplica,
            List<Assignment> assigned, List<Assignment> draining) {
        int replicas = 0;
        for (Assignment a : assigned) {
            replicas += a.replicas();
        }
        return new Workload(id(md), organization, Math.max(1, gpusPerReplica), 0, List.of(), replicas, 0, false,
                arrival(md), true, assigned, draining);
    }

    static int gpus(ModelDeploymentSpec spec) {
        return spec.gpu == null || spec.gpu.count == null ? 1 : spec.gpu.count;
    }

    static long arrival(ModelDeployment md) {
        Instant created = PoolInputs.parseTime(md.getMetadata().getCreationTimestamp());
        return created == null ? Long.MAX_VALUE : created.toEpochMilli();
    }
}
