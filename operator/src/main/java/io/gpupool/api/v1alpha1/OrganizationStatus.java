package io.gpupool.api.v1alpha1;

import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

import io.fabric8.kubernetes.api.model.Condition;

@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonClassDescription("Quota and usage per GpuClass and the fair share, as the last admission cycle computed them.")
public class OrganizationStatus {

    @JsonPropertyDescription("Usage per GpuClass.")
    public List<ClassUsage> classes = new ArrayList<>();

    @JsonPropertyDescription("Dominant weighted share of borrowed GPUs × 1000, rounded, as Kueue reports it: 0 while "
            + "within nominal quota, 1000 when borrowing as much as the weight allows; the lowest is served first. "
            + "9223372036854775807 when borrowing without any nominal quota.")
    public Long weightedShare;

    @JsonPropertyDescription("Number of namespaces that belong to it: listed in spec.namespaces and by no other "
            + "organization.")
    public Integer namespaces;

    @JsonPropertyDescription("Tokens the organization's members used through the pool's gateway, summed over every "
            + "gateway replica's durable report (written at most every few seconds).")
    public OrganizationUsage usage;

    @JsonPropertyDescription("Conditions: Ready; NamespacesContested when another organization lists one of its "
            + "namespaces too.")
    public List<Condition> conditions = new ArrayList<>();

    @JsonPropertyDescription("The metadata.generation this status describes.")
    public Long observedGeneration;

    @JsonPropertyDescription("What the organization gave and used since the ledger started, in GPU-hours, with a "
            + "per-day history. Written by the operator only.")
    public OrganizationLedger ledger;

    @JsonPropertyDescription("Contributed clusters' nodes of the organization whose GPUs Ready replicas have used "
            + "recently: what makes them count (written by the operator, which reads it back after a restart).")
    public List<ProvenNode> provenNodes;
}
