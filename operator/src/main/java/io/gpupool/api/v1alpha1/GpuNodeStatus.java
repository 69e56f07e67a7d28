package io.gpupool.api.v1alpha1;

import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

import io.fabric8.kubernetes.api.model.Condition;

@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonClassDescription("What the pool makes of the node: its GpuClass, GPUs it offers and has allocated, heartbeat, and "
        + "whether it takes replicas.")
public class GpuNodeStatus {

    @JsonPropertyDescription("GpuClass the node's GPUs belong to; empty when no class matches.")
    public String gpuClass;

    @JsonPropertyDescription("GPUs the pool may assign: spec.gpu.count while the node is Ready and schedulable, else 0.")
    public Integer allocatable;

    @JsonPropertyDescription("GPUs assigned to replicas.")
    public Integer allocated;

    @JsonPropertyDescription("When the node's agent last reported it (RFC 3339).")
    public String lastHeartbeatTime;

    @JsonPropertyDescription("Conditions: Ready (the node's kubelet is ready and its agent reports on time).")
    public List<Condition> conditions = new ArrayList<>();
}
