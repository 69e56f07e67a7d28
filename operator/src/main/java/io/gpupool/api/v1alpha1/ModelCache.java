package io.gpupool.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;

@JsonInclude(JsonInclude.Include.NON_NULL)
/** GpuPool.spec.modelCache: see its description, and io.gpupool.core.render.ModelCacheClaims. */
public class ModelCache {

    @Required
    @Size(min = 1, max = 253)
    @Pattern("^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
    @JsonPropertyDescription("StorageClass of the claims. Use one that binds when the first pod is scheduled "
            + "(volumeBindingMode: WaitForFirstConsumer) and keeps the data on the node, such as Rancher's "
            + "local-path or a local-volume provisioner: an Immediate class may put the volume where the node's "
            + "replicas cannot reach it.")
    public String storageClassName;

    @Default("200Gi")
    @Pattern("^[1-9][0-9]{0,5}(Mi|Gi|Ti)$")
    @JsonPropertyDescription("Size each claim requests, e.g. 200Gi: room for the models a namespace runs on one node "
            + "(Llama-3.1-8B in bf16 takes 16 GB, Llama-3.1-70B 141 GB). Applies to claims created after a change; "
            + "an existing claim keeps its size (grow it by editing the claim where the class allows expansion). "
            + "Defaults to 200Gi.")
    public String size = "200Gi";
}
