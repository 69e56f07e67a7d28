package io.gpupool.api.v1alpha1;

import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Size;

@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonClassDescription("The member's quota: weight, and per GpuClass nominal GPUs, borrowing and lending limits.")
public class OrganizationSpec {

    @Size(max = 256)
    @JsonPropertyDescription("Human-readable name shown in tables and dashboards.")
    public String displayName;

    @Size(max = 1024)
    @JsonPropertyDescription("Namespaces that belong to this organization: their ModelDeployments (and API keys) are "
            + "its. Only pool admins write Organizations, so only they decide membership; nothing a tenant writes (a "
            + "namespace label, a field of a ModelDeployment) changes it. A namespace listed by two organizations "
            + "belongs to neither until one of them drops it (both say so in status.conditions).")
    public List<@Size(min = 1, max = 63) @Pattern("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$") String> namespaces =
            new ArrayList<>();

    @Default("false")
    @JsonPropertyDescription("Whether this organization's ModelDeployments may be shared (spec.shared: true): every "
            + "organization may call them, they draw first on the pool's commons reserve, and its own priority "
            + "preemption does not reach them. The pool's consent, set by a pool admin; without it a ModelDeployment "
            + "that asks to be shared runs as a private one and its Shared condition says so. Defaults to false.")
    public Boolean allowSharedDeployments = false;

    @JsonPropertyDescription("The organization's share of the pool.")
    public Quota quota = new Quota();
}
