package io.gpupool.api.v1alpha1;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonAnySetter;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

import io.fabric8.crd.generator.annotation.PreserveUnknownFields;
import io.fabric8.generator.annotation.Required;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;

@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonClassDescription("What the agent of a contributed cluster must run for one ModelDeployment: the rendered Deployments "
        + "and Service (written by the operator).")
public class ServingWorkSpec {

    private static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();

    @Required
    @JsonPropertyDescription("The ModelDeployment at the pool this work serves.")
    public ModelDeploymentRef modelDeployment = new ModelDeploymentRef();

    @JsonPropertyDescription("Organization that owns the ModelDeployment.")
    public String organization;

    @JsonPropertyDescription("Replicas in this cluster (the sum over the Deployments).")
    public Integer replicas;

    @JsonPropertyDescription("apps/v1 Deployments to run, one per node, as the pool rendered them (without namespace: "
            + "the agent runs them in its serving namespace).")
    public List<EmbeddedObject> deployments = new ArrayList<>();

    @JsonPropertyDescription("v1 Service in front of this cluster's replicas.")
    public EmbeddedObject service;

    @JsonPropertyDescription("When the model needs a Hugging Face token: its key in Secret gpupool-model-credentials. "
            + "The pool writes the token there in the hub namespace; the agent keeps a copy of that Secret, holding "
            + "only the tokens of the work it runs, in its serving namespace, where the Deployments read it.")
    public String credentialsKey;

    public List<Deployment> deployments() {
        return deployments == null ? List.of() : deployments.stream().map(d -> d.as(Deployment.class)).toList();
    }

    public Service service() {
        return service == null ? null : service.as(Service.class);
    }

    /** Identifies a ModelDeployment at the pool. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class ModelDeploymentRef {
        @JsonPropertyDescription("Namespace of the ModelDeployment.")
        public String namespace;

        @JsonPropertyDescription("Name of the ModelDeployment.")
        public String name;

        public ModelDeploymentRef() {
        }

        public ModelDeploymentRef(String namespace, String name) {
            this.namespace = namespace;
            this.name = name;
        }
    }

    /** A Kubernetes object embedded in a spec; the schema keeps its fields as they are. */
    @PreserveUnknownFields
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class EmbeddedObject {
        @JsonPropertyDescription("API version of the object.")
        public String apiVersion;

        @JsonPropertyDescription("Kind of the object.")
        public String kind;

        private final Map<String, Object> fields = new LinkedHashMap<>();

        @JsonAnyGetter
        Map<String, Object> fields() {
            return fields;
        }

        @JsonAnySetter
        void field(String name, Object value) {
            fields.put(name, value);
        }

        public static EmbeddedObject of(HasMetadata object) {
            return SERIALIZATION.convertValue(object, EmbeddedObject.class);
        }

        public <T> T as(Class<T> type) {
            return SERIALIZATION.convertValue(this, type);
        }
    }
}
