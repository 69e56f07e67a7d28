package io.gpupool.api.v1alpha1;

import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** What a contributed node of the organization has proven: the most GPUs Ready replicas used there, per UTC day. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class ProvenNode {

    @JsonPropertyDescription("The node's cluster.")
    public String cluster;

    @JsonPropertyDescription("The node's name in that cluster.")
    public String node;

    @JsonPropertyDescription("Per UTC day of GpuPool spec.fairShare.contributionProofDays, the most GPUs Ready "
            + "replicas the pool placed there used at once, as YYYY-MM-DD=GPUs.")
    public List<String> peaks = new ArrayList<>();
}
