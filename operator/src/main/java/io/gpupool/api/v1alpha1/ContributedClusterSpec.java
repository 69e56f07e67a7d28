package io.gpupool.api.v1alpha1;

import java.util.List;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;

@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonClassDescription("A pool admin's approval of a contributed cluster: which organization its GPUs count for.")
public class ContributedClusterSpec {

    @Required
    @Size(min = 1, max = 63)
    @Pattern("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
    @JsonPropertyDescription("Organization that contributes the cluster. GpuNodes its agent reports for another "
            + "organization are ignored (with a condition on the GpuNode).")
    public String organization;

    @Size(max = 256)
    @JsonPropertyDescription("Human-readable name shown in tables and dashboards.")
    public String displayName;

    @JsonPropertyDescription("What the cluster may bring: per GpuClass, the most of its GPUs that earn its "
            + "organization nominal quota and count as contributed in the ledger. GPUs beyond it are still placed on. "
            + "A class not listed has no ceiling (its GPUs still count only once proven by Ready replicas).")
    public List<ClassGpus> ceiling;
}
