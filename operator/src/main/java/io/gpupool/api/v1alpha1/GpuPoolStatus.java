package io.gpupool.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonClassDescription("The pool's GPUs and how many are allocated, after the last admission cycle.")
public class GpuPoolStatus {

    @JsonPropertyDescription("Ready, schedulable GPUs in the pool.")
    public Integer gpus;

    @JsonPropertyDescription("GPUs assigned to replicas.")
    public Integer allocated;

    @JsonPropertyDescription("The metadata.generation this status describes.")
    public Long observedGeneration;
}
