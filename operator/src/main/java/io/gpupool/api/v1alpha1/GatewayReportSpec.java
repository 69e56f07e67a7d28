package io.gpupool.api.v1alpha1;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

@JsonInclude(JsonInclude.Include.NON_NULL)
public class GatewayReportSpec {

    @JsonPropertyDescription("The gateway process that holds the slot: '<pod>/<process id>'.")
    public String holder;

    @JsonPropertyDescription("When the holder last renewed the slot (RFC 3339); another replica may take the slot "
            + "over once leaseDurationSeconds have passed since.")
    public String renewTime;

    @JsonPropertyDescription("Seconds the holder keeps the slot without renewing it.")
    public Integer leaseDurationSeconds;

    @JsonPropertyDescription("Requests and tokens per organization (the caller's), model and serving cluster, since "
            + "the slot was created.")
    public List<Usage> usage = new ArrayList<>();

    @JsonPropertyDescription("Requests and tokens per ApiKey, since the slot was created (keys that no longer exist "
            + "are dropped).")
    public List<KeyUsage> keys = new ArrayList<>();

    @JsonPropertyDescription("What the holder sees of each model it routes: replicas it reaches, and the load the "
            + "operator's autoscaler reads.")
    public List<ModelState> models = new ArrayList<>();

    /** One model as the holder's gateway process sees it. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class ModelState {
        @JsonPropertyDescription("The ModelDeployment, <namespace>/<name>.")
        public String model;

        @JsonPropertyDescription("Ready replicas this gateway process reaches (directly or through a tunnel).")
        public int reachableReplicas;

        @JsonPropertyDescription("In-flight plus queued requests of the model in this gateway process, averaged over "
                + "its load window (rounded to 0.01).")
        public Double load;

        @JsonPropertyDescription("Requests this gateway process holds because the model has no ready replica yet.")
        public Integer heldRequests;

        public ModelState() {
        }

        public ModelState(String model, int reachableReplicas) {
            this(model, reachableReplicas, null, null);
        }

        public ModelState(String model, int reachableReplicas, Double load, Integer heldRequests) {
            this.model = model;
            this.reachableReplicas = reachableReplicas;
            this.load = load;
            this.heldRequests = heldRequests;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof ModelState m && Objects.equals(m.model, model) && m.reachableReplicas == reachableReplicas
                    && Objects.equals(m.load, load) && Objects.equals(m.heldRequests, heldRequests);
        }

        @Override
        public int hashCode() {
            return Objects.hash(model, reachableReplicas, load, heldRequests);
        }
    }

    /** Counts of one organization on one model served by one cluster. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class Usage {
        @JsonPropertyDescription("The calling organization.")
        public String organization;

        @JsonPropertyDescription("The ModelDeployment that answered, <namespace>/<name>.")
        public String model;

        @JsonPropertyDescription("The cluster whose replica answered ('local' for the pool's own).")
        public String cluster;

        @JsonPropertyDescription("Requests answered.")
        public long requests;

        @JsonPropertyDescription("Prompt tokens, from the engines' usage.")
        public long promptTokens;

        @JsonPropertyDescription("Completion tokens, from the engines' usage.")
        public long completionTokens;

        public Usage() {
        }

        public Usage(String organization, String model, String cluster, long requests, long promptTokens,
                long completionTokens) {
            this.organization = organization;
            this.model = model;
            this.cluster = cluster;
            this.requests = requests;
            this.promptTokens = promptTokens;
            this.completionTokens = completionTokens;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Usage u && Objects.equals(u.organization, organization) && Objects.equals(u.model, model)
                    && Objects.equals(u.cluster, cluster) && u.requests == requests && u.promptTokens == promptTokens
                    && u.completionTokens == completionTokens;
        }

        @Override
        public int hashCode() {
            return Objects.hash(organization, model, cluster, requests, promptTokens, completionTokens);
        }
    }

    /** Counts of one ApiKey. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class KeyUsage {
        @JsonPropertyDescription("Namespace of the ApiKey.")
        public String namespace;

        @JsonPropertyDescription("Name of the ApiKey.")
        public String name;

        @JsonPropertyDescription("Requests answered with the key.")
        public long requests;

        @JsonPropertyDescription("Prompt plus completion tokens of those requests.")
        public long tokens;

        @JsonPropertyDescription("When the key was last accepted (RFC 3339).")
        public String lastUsedTime;

        public KeyUsage() {
        }

        public KeyUsage(String namespace, String name, long requests, long tokens, String lastUsedTime) {
            this.namespace = namespace;
            this.name = name;
            this.requests = requests;
            this.tokens = tokens;
            this.lastUsedTime = lastUsedTime;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof KeyUsage k && Objects.equals(k.namespace, namespace) && Objects.equals(k.name, name)
                    && k.requests == requests && k.tokens == tokens && Objects.equals(k.lastUsedTime, lastUsedTime);
        }

        @Override
        public int hashCode() {
            return Objects.hash(namespace, name, requests, tokens, lastUsedTime);
        }
    }
}
