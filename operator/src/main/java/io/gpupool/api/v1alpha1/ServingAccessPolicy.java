package io.gpupool.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

import io.fabric8.generator.annotation.Default;

@JsonInclude(JsonInclude.Include.NON_NULL)
public class ServingAccessPolicy {

    @Default("false")
    @JsonPropertyDescription("Let pods of a ModelDeployment's own namespace call its replicas directly (its Service, "
            + "http://<name>.<namespace>.svc:8000/v1), besides the pool's gateway. Off by default: every call goes "
            + "through the gateway, which checks API keys, queues fairly and meters. Each ModelDeployment's serving "
            + "pods get a NetworkPolicy that admits only these callers.")
    public Boolean allowSameNamespace = false;
}
