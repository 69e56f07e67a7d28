package io.gpupool.api.v1alpha1;

import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

import io.fabric8.kubernetes.api.model.Condition;

@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonClassDescription("What the agent reports back: ready replicas, its pods per node, and whether the work was applied.")
public class ServingWorkStatus {

    @JsonPropertyDescription("Serving replicas that are ready in the contributed cluster, as its agent last saw them.")
    public Integer readyReplicas;

    @JsonPropertyDescription("The work's pods per node, as the agent last saw them. Pods that still stop count: the "
            + "pool keeps their GPUs booked, and keeps this ServingWork, until they are gone.")
    public List<NodePods> nodes = new ArrayList<>();

    @JsonPropertyDescription("The metadata.generation of the spec the agent last applied (or refused).")
    public Long observedGeneration;

    @JsonPropertyDescription("Conditions: Applied (False with reason PolicyViolation when the contributor's policy "
            + "refuses the work, ApplyFailed when its API server did) and Ready.")
    public List<Condition> conditions = new ArrayList<>();

    /** Pods of a work on one node of the contributed cluster. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class NodePods {
        @JsonPropertyDescription("Name of the Node in the contributed cluster.")
        public String node;

        @JsonPropertyDescription("Pods of the work on that node that have not terminated, stopping ones included.")
        public Integer pods;

        @JsonPropertyDescription("Those of them that are ready.")
        public Integer ready;

        public NodePods() {
        }

        public NodePods(String node, int pods, int ready) {
            this.node = node;
            this.pods = pods;
            this.ready = ready;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof NodePods p && java.util.Objects.equals(p.node, node)
                    && java.util.Objects.equals(p.pods, pods) && java.util.Objects.equals(p.ready, ready);
        }

        @Override
        public int hashCode() {
            return java.util.Objects.hash(node, pods, ready);
        }
    }
}
