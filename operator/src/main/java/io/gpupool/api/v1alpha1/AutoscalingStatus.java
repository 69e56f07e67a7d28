package io.gpupool.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** The autoscaler's last decision for one ModelDeployment. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class AutoscalingStatus {

    @JsonPropertyDescription("The model's load: in-flight plus queued requests, averaged over the gateway's window and "
            + "summed over the gateway replicas that report (requests the gateway holds for a first replica count at "
            + "least once each).")
    public Double load;

    @JsonPropertyDescription("Requests the gateway holds while the model has no ready replica (scale from zero).")
    public Integer heldRequests;

    @JsonPropertyDescription("Gateway replicas whose reports were counted (0: no load is known, replicas stay).")
    public Integer reportingGateways;

    @JsonPropertyDescription("ceil(load / targetInFlightPerReplica) within [minReplicas, maxReplicas].")
    public Integer recommendedReplicas;

    @JsonPropertyDescription("Replicas the operator asks the pool for (status.replicas.desired).")
    public Integer desiredReplicas;

    @JsonPropertyDescription("When desiredReplicas last changed (RFC 3339).")
    public String lastScaleTime;

    @JsonPropertyDescription("Since when the load has asked for fewer replicas than desired (RFC 3339); replicas are "
            + "removed scaleDownDelaySeconds after it.")
    public String scaleDownSince;

    @JsonPropertyDescription("The most replicas the load asked for since scaleDownSince: what a scale-down goes to.")
    public Integer scaleDownTo;

    @JsonPropertyDescription("Why desiredReplicas is what it is: ScaledUp, ScaledDown, ScaleDownDelayed, Steady or "
            + "NoLoadReport.")
    public String reason;

    @JsonPropertyDescription("The last decision in a sentence.")
    public String message;
}
