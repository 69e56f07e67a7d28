package io.gpupool.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;

@JsonInclude(JsonInclude.Include.NON_NULL)
public class PreemptionPolicy {

    @Default("true")
    @JsonPropertyDescription("Whether an organization may reclaim its nominal quota from borrowers. Defaults to true.")
    public Boolean reclaim = true;

    @Default("120")
    @Min(0)
    @Max(3600)
    @JsonPropertyDescription("Seconds an evicted serving pod gets to finish in-flight requests (its termination "
            + "grace period). Defaults to 120.")
    public Integer drainGracePeriodSeconds = 120;

    @Default("600")
    @Min(0)
    @Max(86400)
    @JsonPropertyDescription("With fairness with memory (spec.fairShare.usageHalfLifeHours > 0): seconds a replica runs "
            + "before it may be preempted, so that shares do not oscillate. Defaults to 600.")
    public Integer minimumRunSeconds = 600;
}
