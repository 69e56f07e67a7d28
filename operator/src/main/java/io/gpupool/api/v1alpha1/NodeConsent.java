package io.gpupool.api.v1alpha1;

import java.util.Objects;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

import io.fabric8.generator.annotation.Default;

/** What the owner of GPU nodes lets the pool's work do on them. Both default to false: refused. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class NodeConsent {

    @Default("false")
    @JsonPropertyDescription("Replicas that may run Python code shipped with their model (ModelDeployment "
            + "allowRemoteCode) are placed here. Defaults to false.")
    public Boolean remoteCode = false;

    @Default("false")
    @JsonPropertyDescription("Replicas that may load weights in pickle formats, which can execute code when loaded "
            + "(ModelDeployment allowUnsafeWeights), are placed here. Defaults to false.")
    public Boolean unsafeWeights = false;

    public NodeConsent() {
    }

    public NodeConsent(boolean remoteCode, boolean unsafeWeights) {
        this.remoteCode = remoteCode;
        this.unsafeWeights = unsafeWeights;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof NodeConsent c && Objects.equals(c.remoteCode, remoteCode)
                && Objects.equals(c.unsafeWeights, unsafeWeights);
    }

    @Override
    public int hashCode() {
        return Objects.hash(remoteCode, unsafeWeights);
    }
}
