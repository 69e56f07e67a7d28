package io.gpupool.core.autoscaling;

import java.time.Instant;

import io.gpupool.api.v1alpha1.AutoscalingStatus;

/**
 * What the autoscaler decided for one ModelDeployment.
 *
 * @param desired   replicas to ask the pool for
 * @param status    status.autoscaling
 * @param event     the Normal Event of a change (reason ScaledUp or ScaledDown), or null when desired did not change
 * @param lookAgain when to decide again although no report arrives (a delayed scale-down is due), or null
 */
public record ScaleDecision(int desired, AutoscalingStatus status, Event event, Instant lookAgain) {

    /** An Event to record. */
    public record Event(String reason, String message) {
    }
}
