package io.gpupool.api.v1alpha1;

import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

import io.fabric8.kubernetes.api.model.Condition;

@JsonInclude(JsonInclude.Include.NON_NULL)
public class ServingWorkStatus {

    @JsonPropertyDescription("Serving replicas that are ready in the contributed cluster, as its agent last saw them.")
    public Integer readyReplicas;

    @JsonPropertyDescription("The metadata.generation of the spec the agent last applied (or refused).")
    public Long observedGeneration;

    @JsonPropertyDescription("Conditions: Applied (False with reason PolicyViolation when the contributor's policy "
            + "refuses the work, ApplyFailed when its API server did) and Ready.")
    public List<Condition> conditions = new ArrayList<>();
}
