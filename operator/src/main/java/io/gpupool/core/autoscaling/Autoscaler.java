package io.gpupool.core.autoscaling;

import java.time.Instant;
import java.util.Locale;

import io.gpupool.api.v1alpha1.AutoscalingStatus;
import io.gpupool.core.inventory.PoolInputs;

/**
 * Decides a ModelDeployment's replicas from its load: desired = ceil(load / target) within [min, max], up at once,
 * down only once the load has asked for fewer replicas for the whole scale-down delay, and then to the most it asked
 * for in that time (a HorizontalPodAutoscaler's stabilization window, KubeAI's scaleDownDelaySeconds). A pure function
 * of the policy, the previous decision (kept in status.autoscaling, so it survives restarts), the load and the time.
 */
public final class Autoscaler {

    public static final String SCALED_UP = "ScaledUp";
    public static final String SCALED_DOWN = "ScaledDown";
    public static final String SCALE_DOWN_DELAYED = "ScaleDownDelayed";
    public static final String STEADY = "Steady";
    public static final String NO_LOAD_REPORT = "NoLoadReport";

    /** Loads this close above a multiple of the target do not ask for one more replica (floating-point noise). */
    private static final double EPSILON = 1e-6;

    private Autoscaler() {
    }

    /**
     * @param policy   spec.autoscaling with defaults
     * @param previous the last decision (status.autoscaling), or null the first time
     * @param start    replicas to start from the first time (what is admitted now: turning autoscaling on moves
     *                 nothing at once)
     * @param load     the load the gateway replicas report; {@link ModelLoad#gateways()} 0 when none reports
     */
    public static ScaleDecision decide(AutoscalingPolicy policy, AutoscalingStatus previous, int start, ModelLoad load,
            Instant now) {
        int current = previous != null && previous.desiredReplicas != null ? previous.desiredReplicas : start;
        Instant lastScale = previous == null ? null : PoolInputs.parseTime(previous.lastScaleTime);
        int bounded = policy.bounded(current);
        AutoscalingStatus next = new AutoscalingStatus();
        next.load = round(load.load());
        next.heldRequests = load.held();
        next.reportingGateways = load.gateways();
        if (load.gateways() == 0) {
            // Nothing measures the load: keep the replicas (within the bounds), decide nothing else.
            String message = "No gateway replica reports this model's load; replicas stay at " + bounded
                    + (bounded != current ? " (within [" + policy.minReplicas() + ", " + policy.maxReplicas() + "])" : "")
                    + ".";
            return finish(policy, next, bounded, bounded, current, lastScale, null, null, NO_LOAD_REPORT, message, now);
        }
        int recommended = policy.bounded(replicasFor(load.demand(), policy.target()));
        String why = describe(load, policy, recommended);
        if (recommended > bounded || bounded > current) {
            return finish(policy, next, recommended, Math.max(recommended, bounded), current, lastScale, null, null, SCALED_UP,
                    why, now);
        }
        if (recommended == bounded) {
            return finish(policy, next, recommended, bounded, current, lastScale, null, null, STEADY, why, now);
        }
        // Fewer replicas asked for: only after the delay, and then to the most asked for meanwhile.
        Instant since = previous == null ? null : PoolInputs.parseTime(previous.scaleDownSince);
        int to = previous == null || previous.scaleDownTo == null ? recommended : previous.scaleDownTo;
        if (since == null) {
            since = now;
            to = recommended;
        } else {
            to = Math.max(to, recommended);
        }
        Instant due = since.plus(policy.scaleDownDelay());
        if (to >= bounded) {
            return finish(policy, next, recommended, bounded, current, lastScale, null, null, STEADY, why, now);
        }
        if (now.isBefore(due)) {
            return finish(policy, next, recommended, bounded, current, lastScale, since, to, SCALE_DOWN_DELAYED,
                    why + " Scaling down to " + to + " at " + due + " unless the load rises.", now);
        }
        // Down to `to`; if the load asks for fewer still, that waits a delay of its own from now.
        boolean further = recommended < to;
        return finish(policy, next, recommended, to, current, lastScale, further ? now : null, further ? recommended : null,
                SCALED_DOWN, why + " (the most asked for over the last " + policy.scaleDownDelay().toSeconds() + " s).",
                now);
    }

    /** ceil(load / target): any load needs a replica. */
    public static int replicasFor(double load, int target) {
        if (load <= 0) {
            return 0;
        }
        return (int) Math.ceil(load / target - EPSILON);
    }

    private static ScaleDecision finish(AutoscalingPolicy policy, AutoscalingStatus next, int recommended, int desired, int current,
            Instant lastScale, Instant scaleDownSince, Integer scaleDownTo, String reason, String why, Instant now) {
        next.recommendedReplicas = recommended;
        next.desiredReplicas = desired;
        next.scaleDownSince = scaleDownSince == null ? null : scaleDownSince.toString();
        next.scaleDownTo = scaleDownTo;
        ScaleDecision.Event event = null;
        if (desired != current) {
            lastScale = now;
            String eventReason = desired > current ? SCALED_UP : SCALED_DOWN;
            event = new ScaleDecision.Event(eventReason, "Scaled " + (desired > current ? "up" : "down") + " from "
                    + current + " to " + desired + " replica(s): " + why);
            if (!reason.equals(NO_LOAD_REPORT)) {
                reason = eventReason;
            }
        }
        next.lastScaleTime = lastScale == null ? null : lastScale.toString();
        next.reason = reason;
        next.message = why;
        Instant lookAgain = scaleDownSince == null ? null : scaleDownSince.plus(policy.scaleDownDelay());
        return new ScaleDecision(desired, next, event, lookAgain);
    }

    private static String describe(ModelLoad load, AutoscalingPolicy policy, int recommended) {
        String held = load.held() > 0 ? ", " + load.held() + " request(s) held for a first replica" : "";
        return String.format(Locale.ROOT, "load %.2f (in-flight + queued requests, over %d gateway replica(s)%s) at %d "
                + "per replica asks for %d replica(s) within [%d, %d].", load.load(), load.gateways(), held,
                policy.target(), recommended, policy.minReplicas(), policy.maxReplicas());
    }

    private static Double round(double load) {
        return Math.round(load * 100) / 100.0;
    }
}
