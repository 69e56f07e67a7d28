package io.gpupool.core.inventory;

import java.time.Instant;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import io.gpupool.api.v1alpha1.ModelDeployment;
import io.gpupool.api.v1alpha1.ModelDeploymentSpec;
import io.gpupool.core.memory.AttentionShape;
import io.gpupool.core.memory.MemoryEstimator;
import io.gpupool.core.model.Assignment;
import io.gpupool.core.model.Requirements;
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

    /**
     * The demand of a valid, private ModelDeployment that asks for spec.replicas (spec.shared counts only with the
     * pool's consent: {@link Sharing}).
     */
    public static Workload demand(ModelDeployment md, String organization, List<Assignment> assigned,
            List<Assignment> draining) {
        return demand(md, organization, Sharing.of(null, java.util.Optional.empty()), replicas(md.getSpec()), assigned,
                draining);
    }

    /** spec.replicas, or its default. */
    public static int replicas(ModelDeploymentSpec spec) {
        return spec == null || spec.replicas == null ? 1 : spec.replicas;
    }

    /** The demand of a valid ModelDeployment that asks for spec.replicas. */
    public static Workload demand(ModelDeployment md, String organization, Sharing sharing, List<Assignment> assigned,
            List<Assignment> draining) {
        return demand(md, organization, sharing, replicas(md.getSpec()), assigned, draining);
    }

    /**
     * The demand of a valid ModelDeployment.
     *
     * @param sharing  whether the pool lets it be shared ({@link Sharing}: never spec.shared alone)
     * @param replicas replicas it asks for: spec.replicas, or what its autoscaler decided
     */
    public static Workload demand(ModelDeployment md, String organization, Sharing sharing, int replicas,
            List<Assignment> assigned, List<Assignment> draining) {
        ModelDeploymentSpec spec = md.getSpec();
        return new Workload(id(md), organization, gpus(spec), requiredMemoryMiB(spec),
                spec.gpu == null || spec.gpu.classes == null ? List.of() : List.copyOf(spec.gpu.classes),
                replicas, spec.priority == null ? 0 : spec.priority, sharing.shared(), arrival(md), false, assigned,
                draining, List.of(), requirements(spec));
    }

    /**
     * What a replica needs of a node besides GPUs: the owner's consent to remote code and to pickled weights when the
     * spec allows them; and a model with a token runs only where the token may go (the pool's own cluster and
     * spec.hfTokenClusters), since a contributed cluster's admins can read what runs there.
     */
    public static Requirements requirements(ModelDeploymentSpec spec) {
        Set<Requirements.Consent> consents = EnumSet.noneOf(Requirements.Consent.class);
        if (Boolean.TRUE.equals(spec.allowRemoteCode)) {
            consents.add(Requirements.Consent.REMOTE_CODE);
        }
        if (Boolean.TRUE.equals(spec.allowUnsafeWeights)) {
            consents.add(Requirements.Consent.UNSAFE_WEIGHTS);
        }
        Set<String> clusters = new TreeSet<>();
        if (spec.hfTokenSecretRef != null) {
            clusters.add(NodeTrust.LOCAL_CLUSTER);
            if (spec.hfTokenClusters != null) {
                clusters.addAll(spec.hfTokenClusters);
            }
        }
        return new Requirements(consents, clusters);
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
