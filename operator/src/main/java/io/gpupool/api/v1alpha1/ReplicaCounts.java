package io.gpupool.api.v1alpha1;

import java.util.Objects;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

import io.fabric8.kubernetes.model.annotation.StatusReplicas;

public class ReplicaCounts {

    @JsonPropertyDescription("Replicas the spec asks for.")
    public int desired;

    @StatusReplicas
    @JsonPropertyDescription("Replicas that have GPUs assigned (the scale subresource's status.replicas).")
    public int admitted;

    @JsonPropertyDescription("Replicas whose serving pod is ready.")
    public int ready;

    @JsonPropertyDescription("Ready replicas the pool's gateway reaches (by pod IP in the pool's own cluster, through "
            + "the agent's tunnel on a contributed cluster), as the gateway replicas last reported. Absent when no "
            + "gateway runs.")
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public Integer reachable;

    public ReplicaCounts() {
    }

    public ReplicaCounts(int desired, int admitted, int ready) {
        this.desired = desired;
        this.admitted = admitted;
        this.ready = ready;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ReplicaCounts r && r.desired == desired && r.admitted == admitted && r.ready == ready
                && Objects.equals(r.reachable, reachable);
    }

    @Override
    public int hashCode() {
        return Objects.hash(desired, admitted, ready, reachable);
    }
}
