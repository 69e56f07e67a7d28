package io.gpupool.api.v1alpha1;

import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/**
 * What an organization gave the pool and used, integrated by the operator from every admission cycle on its clock and
 * checkpointed here: the totals stop at checkpointTime and the GPUs counted from then on are recorded with them, so an
 * operator that restarts or takes over continues exactly from this point. Only the operator writes it.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class OrganizationLedger {

    @JsonPropertyDescription("When the ledger started counting for this organization (RFC 3339).")
    public String since;

    @JsonPropertyDescription("The totals below are integrated up to this instant (RFC 3339).")
    public String checkpointTime;

    @JsonPropertyDescription("GPU-hours contributed, all classes, each weighted by its GpuClass value.")
    public Double contributedGpuHours;

    @JsonPropertyDescription("GPU-hours used, all classes, each weighted by its GpuClass value.")
    public Double usedGpuHours;

    @JsonPropertyDescription("contributedGpuHours - usedGpuHours: positive for an organization that gave more than it "
            + "took.")
    public Double balanceGpuHours;

    @JsonPropertyDescription("Value-weighted GPU-hours used minus contributed, halved every "
            + "GpuPool spec.fairShare.usageHalfLifeHours; absent while that is 0. Organizations with less go first "
            + "when borrowing.")
    public Double decayedNetUsageGpuHours;

    @JsonPropertyDescription("Tokens (prompt and completion) of requests the pool's gateway answered for the "
            + "organization's ApiKeys, since its reports began (the sum of status.usage when last checkpointed).")
    public Long tokensConsumed;

    @JsonPropertyDescription("Tokens of requests the pool's gateway had answered by replicas on the organization's "
            + "contributed clusters, whoever asked (the pool's own cluster's nodes are not attributed).")
    public Long tokensServed;

    @JsonPropertyDescription("Per GpuClass: GPU-hours contributed, used, lent and borrowed, and the GPUs counted now.")
    public List<LedgerClass> classes = new ArrayList<>();

    @JsonPropertyDescription("GPU-hours per UTC day, the most recent GpuPool spec.ledgerHistoryDays days.")
    public List<LedgerDay> days = new ArrayList<>();
}
