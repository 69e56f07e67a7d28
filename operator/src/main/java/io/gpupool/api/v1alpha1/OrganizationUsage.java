package io.gpupool.api.v1alpha1;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** What an organization's members consumed through the pool's gateway, durably counted. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class OrganizationUsage {

    @JsonPropertyDescription("Requests answered for the organization's keys.")
    public long requests;

    @JsonPropertyDescription("Prompt tokens of those requests, from the engines' usage.")
    public long promptTokens;

    @JsonPropertyDescription("Completion tokens of those requests, from the engines' usage.")
    public long completionTokens;

    @JsonPropertyDescription("The same per model (<namespace>/<name> of the ModelDeployment) and serving cluster.")
    public List<ModelUsage> models = new ArrayList<>();

    /** Counts on one model served by one cluster. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class ModelUsage {
        @JsonPropertyDescription("The ModelDeployment, <namespace>/<name>.")
        public String model;

        @JsonPropertyDescription("The cluster whose replicas answered ('local' for the pool's own).")
        public String cluster;

        @JsonPropertyDescription("Requests answered.")
        public long requests;

        @JsonPropertyDescription("Prompt tokens.")
        public long promptTokens;

        @JsonPropertyDescription("Completion tokens.")
        public long completionTokens;

        public ModelUsage() {
        }

        public ModelUsage(String model, String cluster, long requests, long promptTokens, long completionTokens) {
            this.model = model;
            this.cluster = cluster;
            this.requests = requests;
            this.promptTokens = promptTokens;
            this.completionTokens = completionTokens;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof ModelUsage m && Objects.equals(m.model, model) && Objects.equals(m.cluster, cluster)
                    && m.requests == requests && m.promptTokens == promptTokens && m.completionTokens == completionTokens;
        }

        @Override
        public int hashCode() {
            return Objects.hash(model, cluster, requests, promptTokens, completionTokens);
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof OrganizationUsage u && u.requests == requests && u.promptTokens == promptTokens
                && u.completionTokens == completionTokens && Objects.equals(u.models, models);
    }

    @Override
    public int hashCode() {
        return Objects.hash(requests, promptTokens, completionTokens, models);
    }
}
