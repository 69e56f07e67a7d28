package io.gpupool.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;

@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonClassDescription("A model cache per namespace and node, shared by the replicas a namespace runs on that node: "
        + "the operator creates one PersistentVolumeClaim per namespace and node (ReadWriteOnce, which every pod of "
        + "the node may mount) and mounts it where the engines keep the standard Hugging Face cache, so that a second "
        + "replica on the node finds the weights the first downloaded. Only replicas on the pool's own cluster that "
        + "run no code shipped with a model (allowRemoteCode and allowUnsafeWeights false) use it; the others, and "
        + "replicas on contributed clusters, keep a cache of their own that goes with the pod.")
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
