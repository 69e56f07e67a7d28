package io.gpupool.api.v1alpha1;

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
}
