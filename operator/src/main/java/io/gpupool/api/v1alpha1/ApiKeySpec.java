package io.gpupool.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Size;

@JsonInclude(JsonInclude.Include.NON_NULL)
public class ApiKeySpec {

    @Size(max = 256)
    @JsonPropertyDescription("What the key is for, for people (e.g. 'CI of the eval harness').")
    public String description;

    @Pattern("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$")
    @JsonPropertyDescription("When the key stops working, as an RFC 3339 time (e.g. 2026-12-31T23:59:59Z). Absent: "
            + "it works until the ApiKey is deleted.")
    public String expiresAt;
}
