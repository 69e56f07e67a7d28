package io.gpupool.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

import io.fabric8.generator.annotation.Size;

@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonClassDescription("The member's quota: weight, and per GpuClass nominal GPUs, borrowing and lending limits.")
public class OrganizationSpec {

    @Size(max = 256)
    @JsonPropertyDescription("Human-readable name shown in tables and dashboards.")
    public String displayName;

    @JsonPropertyDescription("The organization's share of the pool.")
    public Quota quota = new Quota();
}
