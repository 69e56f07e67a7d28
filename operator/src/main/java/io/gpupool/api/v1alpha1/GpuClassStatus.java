package io.gpupool.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonClassDescription("Nodes and GPUs of this class in the pool, and how many GPUs are allocated, after the last admission "
        + "cycle.")
public class GpuClassStatus {

    @JsonPropertyDescription("GpuNodes in this class.")
    public Integer nodes;

    @JsonPropertyDescription("GPUs on Ready, schedulable GpuNodes of this class.")
    public Integer gpus;

    @JsonPropertyDescription("GPUs of this class assigned to replicas.")
    public Integer allocated;

    @JsonPropertyDescription("The metadata.generation this status describes.")
    public Long observedGeneration;
}
