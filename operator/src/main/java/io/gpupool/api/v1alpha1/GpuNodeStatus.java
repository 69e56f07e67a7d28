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

    @JsonPropertyDescription("GPUs of the node that earn its organization nominal quota and count as contributed in "
            + "the ledger: all of them on the pool's own cluster; on a contributed cluster, those proven by Ready "
            + "replicas, within its ContributedCluster's ceiling. Condition Verified says why.")
    public Integer countedGpus;

    @JsonPropertyDescription("When the node's agent last reported it (RFC 3339).")
    public String lastHeartbeatTime;

    @JsonPropertyDescription("Conditions: Ready (the node's kubelet is ready and its agent reports on time), Verified "
            + "(all its GPUs count toward its organization's quota; reasons Verified, Proven, NotProven, AboveCeiling).")
    public List<Condition> conditions = new ArrayList<>();
}
