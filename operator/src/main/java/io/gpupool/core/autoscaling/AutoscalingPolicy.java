package io.gpupool.core.autoscaling;

import java.time.Duration;

import io.gpupool.api.v1alpha1.AutoscalingSpec;
import io.gpupool.api.v1alpha1.ModelDeploymentSpec;
import io.gpupool.core.gateway.ModelCatalog;

/**
 * A ModelDeployment's spec.autoscaling with its defaults filled in.
 *
 * @param minReplicas    fewest replicas (admitted like any replica)
 * @param maxReplicas    most replicas
 * @param target         in-flight plus queued requests one replica should carry
 * @param scaleDownDelay how long the load must ask for fewer replicas before any is removed
 */
public record AutoscalingPolicy(int minReplicas, int maxReplicas, int target, Duration scaleDownDelay) {

    public AutoscalingPolicy {
        if (minReplicas < 0 || maxReplicas < Math.max(1, minReplicas) || target < 1 || scaleDownDelay.isNegative()) {
            throw new IllegalArgumentException("invalid autoscaling policy: min " + minReplicas + ", max " + maxReplicas
                    + ", target " + target + ", delay " + scaleDownDelay);
        }
    }

    /** The policy of a spec, or null when it does not autoscale (or its spec.autoscaling is invalid). */
    public static AutoscalingPolicy of(ModelDeploymentSpec spec) {
        AutoscalingSpec a = spec == null ? null : spec.autoscaling;
        if (a == null) {
            return null;
        }
        int min = a.minReplicas == null ? 0 : a.minReplicas;
        int max = a.maxReplicas == null ? Math.max(1, min) : a.maxReplicas;
        int target = a.targetInFlightPerReplica != null ? a.targetInFlightPerReplica
                : ModelCatalog.maxInFlightPerReplica(spec);
        int delay = a.scaleDownDelaySeconds == null ? 300 : a.scaleDownDelaySeconds;
        if (min < 0 || max < Math.max(1, min) || target < 1 || delay < 0) {
            return null; // invalid: ModelDeploymentValidator says why, and the ModelDeployment is frozen
        }
        return new AutoscalingPolicy(min, max, target, Duration.ofSeconds(delay));
    }

    /** {@code n} within [minReplicas, maxReplicas]. */
    public int bounded(int n) {
        return Math.max(minReplicas, Math.min(maxReplicas, n));
    }
}
