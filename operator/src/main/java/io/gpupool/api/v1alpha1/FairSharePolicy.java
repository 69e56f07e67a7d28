package io.gpupool.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;

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
}
