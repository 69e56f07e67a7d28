package io.gpupool.api.v1alpha1;

import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.model.annotation.LabelSelector;

@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonClassDescription("Where the model runs and how it is doing: phase, replica counts, placements, endpoint, conditions "
        + "with reasons when something waits.")
public class ModelDeploymentStatus {

    @JsonPropertyDescription("Pending (waiting for admission or capacity), Admitted (GPUs assigned, pods starting), "
            + "Running (all desired replicas ready), Degraded (some replicas ready) or Failed (the spec is invalid).")
    public String phase;

    @JsonPropertyDescription("Replica counts: desired, admitted (GPUs assigned) and ready (serving).")
    public ReplicaCounts replicas;

    @JsonPropertyDescription("Where the admitted replicas run: one entry per cluster and node.")
    public List<Placement> placements = new ArrayList<>();

    @JsonPropertyDescription("Replicas that keep serving on nodes their contributors are taking back, until their "
            + "replacements in placements are ready (at most GpuPool spec.withdrawalHandoverSeconds). They are not "
            + "counted as admitted.")
    public List<Placement> handover = new ArrayList<>();

    @JsonPropertyDescription("Base URL of the OpenAI-compatible API (append /chat/completions): the pool's gateway "
            + "when it runs (call it with an ApiKey of an organization that may use this model, and servedModelName as "
            + "'model'), otherwise the model's in-cluster Service.")
    public String endpoint;

    @JsonPropertyDescription("The name to put in the 'model' field of OpenAI requests (spec.servedModelName or its "
            + "default). Absent while another ModelDeployment holds that name.")
    public String servedModelName;

    @JsonPropertyDescription("The autoscaler's last decision (only with spec.autoscaling): load, recommended and "
            + "desired replicas, when they last changed and why.")
    public AutoscalingStatus autoscaling;

    @LabelSelector
    @JsonPropertyDescription("Label selector of the serving pods in the pool's cluster, for the scale subresource (a "
            + "HorizontalPodAutoscaler reads their metrics through it).")
    public String selector;

    @JsonPropertyDescription("Organization that owns this ModelDeployment: the one whose "
            + "spec.namespaces lists its namespace.")
    public String organization;

    @JsonPropertyDescription("GPU memory per GPU in MiB that one replica needs: spec.gpu.minMemoryMiB, or the "
            + "operator's estimate when that is absent.")
    public Long estimatedMemoryMiB;

    @JsonPropertyDescription("Conditions: Admitted, Ready, and Preempted when replicas were evicted. Reasons include "
            + "QuotaExceeded, NoMatchingGpu, InsufficientCapacity and InvalidSpec.")
    public List<Condition> conditions = new ArrayList<>();

    @JsonPropertyDescription("The metadata.generation this status describes.")
    public Long observedGeneration;
}
