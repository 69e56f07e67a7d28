package io.gpupool.api.v1alpha1;

import java.util.Objects;

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

    public ReplicaCounts() {
    }

    public ReplicaCounts(int desired, int admitted, int ready) {
        this.desired = desired;
        this.admitted = admitted;
        this.ready = ready;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ReplicaCounts r && r.desired == desired && r.admitted == admitted && r.ready == ready;
    }

    @Override
    public int hashCode() {
        return Objects.hash(desired, admitted, ready);
    }
}
