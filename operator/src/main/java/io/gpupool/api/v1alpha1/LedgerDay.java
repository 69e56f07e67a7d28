package io.gpupool.api.v1alpha1;

import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** An organization's GPU-hours of one UTC day. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class LedgerDay {

    @JsonPropertyDescription("The UTC day, YYYY-MM-DD.")
    public String day;

    @JsonPropertyDescription("GPU-hours of that day per GpuClass (contributed, used, lent, borrowed; no GPUs counted).")
    public List<LedgerClass> classes = new ArrayList<>();

    @JsonPropertyDescription("Tokens consumed by the organization's ApiKeys that day (see tokensConsumed).")
    public Long tokensConsumed;

    @JsonPropertyDescription("Tokens served on its contributed clusters that day (see tokensServed).")
    public Long tokensServed;
}
