package io.gpupool.api.v1alpha1;

import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

import io.fabric8.kubernetes.api.model.Condition;

@JsonInclude(JsonInclude.Include.NON_NULL)
public class ApiKeyStatus {

    @JsonPropertyDescription("Organization the key acts for: the one that owns this namespace, decided as for "
            + "ModelDeployments.")
    public String organization;

    @JsonPropertyDescription("Hash of the secret value, 'sha256:<hex>'. The gateway compares the hash of a caller's "
            + "key with it; the value itself is only in the Secret.")
    public String keyHash;

    @JsonPropertyDescription("The first characters of the key, to recognise it (e.g. in a client's configuration).")
    public String keyPrefix;

    @JsonPropertyDescription("Secret in this namespace holding the key (OPENAI_API_KEY) and the gateway's URL "
            + "(OPENAI_BASE_URL), written once when the key is created. Deleting the Secret does not revoke the key: "
            + "delete the ApiKey.")
    public String secretName;

    @JsonPropertyDescription("Requests the gateway answered with this key (every gateway replica, durably reported).")
    public Long requests;

    @JsonPropertyDescription("Prompt plus completion tokens of those requests, as the engines reported them.")
    public Long tokensUsed;

    @JsonPropertyDescription("When a gateway last accepted the key (to the report interval, a few seconds).")
    public String lastUsedTime;

    @JsonPropertyDescription("Conditions: Ready (False with reason NoOrganization, Expired or SecretFailed when the "
            + "gateway refuses the key).")
    public List<Condition> conditions = new ArrayList<>();

    @JsonPropertyDescription("The metadata.generation this status describes.")
    public Long observedGeneration;
}
