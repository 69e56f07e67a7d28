package io.gpupool.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.ValidationRule;

@JsonInclude(JsonInclude.Include.NON_NULL)
public class FairSharePolicy {

    public static final String CONTRIBUTION_WEIGHTED = "ContributionWeighted";
    public static final String STATIC = "Static";

    @Default(CONTRIBUTION_WEIGHTED)
    @Pattern("^(ContributionWeighted|Static)$")
    @JsonPropertyDescription("ContributionWeighted (default): an organization's nominal quota is its spec.quota.nominal "
            + "plus the GPUs it contributes, less the commons reserve. Static: only spec.quota.nominal counts.")
    public String mode = CONTRIBUTION_WEIGHTED;

    @Default("10")
    @Min(0)
    @Max(100)
    @JsonPropertyDescription("Percentage of contributed GPUs that goes to the commons instead of the contributor's "
            + "quota. Shared ModelDeployments draw on the commons first. Defaults to 10.")
    public Integer commonsReservePercent = 10;

    @Default("7")
    @Min(1)
    @Max(90)
    @JsonPropertyDescription("A contributed cluster's GPUs earn quota once proven: a node counts as many GPUs as Ready "
            + "replicas placed on it have used at once on any UTC day of the last this many days. Defaults to 7.")
    public Integer contributionProofDays = 7;

    /** The shortest half-life that keeps shares from oscillating (Kueue KEP-9734). */
    public static final double MIN_USAGE_HALF_LIFE_HOURS = 0.5;

    @Default("0")
    @Min(0)
    @Max(8760)
    @ValidationRule(value = "self == 0.0 || self >= 0.5", message = "must be 0 (off) or at least 0.5 (30 minutes)")
    @JsonPropertyDescription("Fairness with memory. 0 (default): off. Otherwise each organization's net usage "
            + "(value-weighted GPU-hours used minus contributed, in its status.ledger) is halved every this many "
            + "hours, and organizations that used less than they gave borrow idle GPUs first; replicas then run at "
            + "least spec.preemption.minimumRunSeconds before they may be reclaimed. At least 0.5 (30 minutes).")
    public Double usageHalfLifeHours = 0.0;
}
