package io.gpupool.api.v1alpha1;

import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

import io.fabric8.kubernetes.api.model.Condition;

@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonClassDescription("What the operator set up for the cluster's agent: its hub namespace and kubeconfig Secret, and "
        + "whether it is ready.")
public class ContributedClusterStatus {

    @JsonPropertyDescription("The cluster's hub namespace at the pool (gpupool-cluster-<name>): its GpuNodes and its "
            + "ServingWork live there, and its agent can reach nothing else.")
    public String namespace;

    @JsonPropertyDescription("Secret in that namespace, key 'kubeconfig', holding the credentials of the cluster's "
            + "agent. Hand it to the contributor for the gpupool-contributor chart (hub.kubeconfigSecret).")
    public String kubeconfigSecret;

    @JsonPropertyDescription("Conditions: Ready (namespace, ServiceAccount, Role and kubeconfig are in place).")
    public List<Condition> conditions = new ArrayList<>();

    @JsonPropertyDescription("The metadata.generation this status describes.")
    public Long observedGeneration;
}
