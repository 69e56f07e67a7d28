package io.gpupool.api.v1alpha1;

import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

import io.fabric8.kubernetes.api.model.Condition;

@JsonInclude(JsonInclude.Include.NON_NULL)
public class OrganizationStatus {

    @JsonPropertyDescription("Usage per GpuClass.")
    public List<ClassUsage> classes = new ArrayList<>();

    @JsonPropertyDescription("Dominant weighted share of borrowed GPUs (Kueue's formula); 0 when not borrowing.")
    public Double weightedShare;

    @JsonPropertyDescription("Number of namespaces labelled as members.")
    public Integer namespaces;

    @JsonPropertyDescription("Tokens the organization's members used through the pool's gateway, summed over every "
            + "gateway replica's durable report (written at most every few seconds).")
    public OrganizationUsage usage;

    @JsonPropertyDescription("Conditions: Ready.")
    public List<Condition> conditions = new ArrayList<>();

    @JsonPropertyDescription("The metadata.generation this status describes.")
    public Long observedGeneration;
}
