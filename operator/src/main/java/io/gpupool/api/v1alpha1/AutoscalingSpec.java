package io.gpupool.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.ValidationRule;

// CEL (Kubernetes 1.25+); older servers drop it and the operator reports the same problem as InvalidSpec.
@ValidationRule(value = "!has(self.minReplicas) || self.minReplicas <= self.maxReplicas",
        message = "minReplicas must not be greater than maxReplicas", fieldPath = ".minReplicas")
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonClassDescription("Replicas that follow the model's load, as the pool's gateway measures it (in-flight plus queued "
        + "requests). When set, spec.replicas is not used: the operator decides the replicas between minReplicas and "
        + "maxReplicas and shows its decisions in status.autoscaling and as Events. Replicas above minReplicas are "
        + "elastic: admitted only on idle GPUs (like borrowing, they never preempt anyone) and the first to give their "
        + "GPUs back when an organization reclaims its quota.")
public class AutoscalingSpec {

    @Default("0")
    @Min(0)
    @Max(512)
    @JsonPropertyDescription("Fewest replicas, held whatever the load and admitted like any replica. 0 (the default) "
            + "frees every GPU when the model is idle: the gateway then holds the next request while a replica starts "
            + "(a cold start: model load time).")
    public Integer minReplicas = 0;

    @Required
    @Min(1)
    @Max(512)
    @JsonPropertyDescription("Most replicas the load may ask for. At least minReplicas.")
    public Integer maxReplicas;

    @Min(1)
    @Max(100000)
    @JsonPropertyDescription("In-flight plus queued requests one replica should carry: desired replicas = "
            + "ceil(load / targetInFlightPerReplica) within [minReplicas, maxReplicas]. Defaults to the model's "
            + "maxInFlightPerReplica (a replica is added once the replicas are full and requests start to queue).")
    public Integer targetInFlightPerReplica;

    @Default("300")
    @Min(0)
    @Max(86400)
    @JsonPropertyDescription("Seconds the load must have asked for fewer replicas before any is removed (then down to "
            + "the most it asked for in that time). Scaling up is immediate. Defaults to 300, "
            + "a HorizontalPodAutoscaler's scale-down stabilization window.")
    public Integer scaleDownDelaySeconds = 300;
}
