package io.gpupool.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonClassDescription;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Categories;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Version;

@Group(ApiGroup.GROUP)
@Version(ApiGroup.VERSION)
@Categories(ApiGroup.CATEGORY)
@AdditionalPrinterColumn(name = "Org", jsonPath = ".status.organization", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Ready", jsonPath = ".status.conditions[?(@.type==\"Ready\")].status", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Secret", jsonPath = ".status.secretName", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Last Used", jsonPath = ".status.lastUsedTime", type = AdditionalPrinterColumn.Type.DATE)
@AdditionalPrinterColumn(name = "Tokens", jsonPath = ".status.tokensUsed", type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(name = "Expires", jsonPath = ".spec.expiresAt", type = AdditionalPrinterColumn.Type.STRING, priority = 1)
@AdditionalPrinterColumn(name = "Age", jsonPath = ".metadata.creationTimestamp", type = AdditionalPrinterColumn.Type.DATE)
@JsonClassDescription("A key to the pool's OpenAI-compatible gateway for the organization that owns this namespace. "
        + "The operator generates the secret value once into a new Secret in this namespace (status.secretName, keys "
        + "OPENAI_API_KEY and OPENAI_BASE_URL) and keeps only its SHA-256 hash here; the gateway accepts the key for "
        + "the models the organization may use (its own and every shared one). Deleting the ApiKey revokes it within "
        + "seconds on every gateway replica (its Secret goes with it).")
public class ApiKey extends CustomResource<ApiKeySpec, ApiKeyStatus> implements Namespaced {

    @Override
    protected ApiKeySpec initSpec() {
        return new ApiKeySpec();
    }
}
