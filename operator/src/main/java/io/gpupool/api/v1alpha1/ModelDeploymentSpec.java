package io.gpupool.api.v1alpha1;

import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

import io.fabric8.generator.annotation.Default;
import io.fabric8.kubernetes.model.annotation.SpecReplicas;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import io.fabric8.kubernetes.api.model.EnvVar;

// CEL rules (Kubernetes 1.25+; older servers drop them and the operator reports the same problems as InvalidSpec).
@ValidationRule(value = "!has(self.engine) || self.engine != 'llamacpp' || has(self.model.file)",
        message = "spec.model.file is required with engine llamacpp: name the GGUF file to serve", fieldPath = ".model.file",
        reason = "FieldValueRequired")
// Every spelling the engines accept: '_' for '-', any case, an unambiguous prefix, '=value' (core/validation/EngineArgs).
@ValidationRule(value = "!has(self.engineArgs) || (has(self.allowRemoteCode) && self.allowRemoteCode) || "
        + "!self.engineArgs.exists(a, a.matches('(?i)^--(t|tr|tru|trus|trust|trust[-_]|trust[-_]r|trust[-_]re|"
        + "trust[-_]rem|trust[-_]remo|trust[-_]remot|trust[-_]remote|trust[-_]remote[-_]|trust[-_]remote[-_]c|"
        + "trust[-_]remote[-_]co|trust[-_]remote[-_]cod|trust[-_]remote[-_]code)(=.*)?$'))",
        message = "engineArgs asks for --trust-remote-code but allowRemoteCode is false: set allowRemoteCode: true to "
                + "let the model's own code run", fieldPath = ".engineArgs")
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonClassDescription("The model to serve and how: source and revision, engine, replicas, GPUs per replica, priority, "
        + "engine arguments and environment, and what the engine may run.")
public class ModelDeploymentSpec {

    @Required
    @JsonPropertyDescription("The open model to serve: where it comes from and what it takes to hold it in GPU memory.")
    public ModelSpec model;

    @Default("vllm")
    @Pattern("^(vllm|llamacpp)$")
    @JsonPropertyDescription("Serving engine: 'vllm' (data-centre GPUs, safetensors weights) or 'llamacpp' (consumer "
            + "GPUs, quantized GGUF files). Defaults to vllm.")
    public String engine = "vllm";

    @Default("1")
    @Min(0)
    @Max(512)
    @SpecReplicas
    @JsonPropertyDescription("Number of serving replicas. Each replica holds a full copy of the model on gpu.count GPUs "
            + "of one node. 0 keeps the object but frees its GPUs. Also set by `kubectl scale md` and a "
            + "HorizontalPodAutoscaler through the scale subresource. Not used when spec.autoscaling is set (the "
            + "operator then decides the replicas).")
    public Integer replicas = 1;

    @JsonPropertyDescription("The GPUs each replica needs.")
    public GpuRequirements gpu = new GpuRequirements();

    @Size(max = 128)
    @Pattern("^[A-Za-z0-9._:/-]+$")
    @JsonPropertyDescription("Name clients put in the 'model' field of OpenAI requests to the pool's gateway, and "
            + "the name the engine serves. Unique in the pool: when another ModelDeployment already holds the name (the "
            + "older one keeps it), this one is not routed and its ServedModelName condition names the holder. Defaults "
            + "to <namespace>/<name>, which no other ModelDeployment can take.")
    public String servedModelName;

    @Min(1)
    @Max(100000)
    @JsonPropertyDescription("Requests the gateway sends to one replica at a time; further requests wait in the "
            + "gateway's per-organization fair queues. Defaults per engine: 64 for vllm (continuous batching), 4 for "
            + "llamacpp (its server's parallel slots).")
    public Integer maxInFlightPerReplica;

    @JsonPropertyDescription("Replicas that follow the load the pool's gateway measures, instead of spec.replicas.")
    public AutoscalingSpec autoscaling;

    @Default("0")
    @Min(-1000000)
    @Max(1000000)
    @JsonPropertyDescription("Priority among the ModelDeployments of the same organization: a higher priority is "
            + "admitted first and may preempt a lower one of the same organization. Defaults to 0.")
    public Integer priority = 0;

    @Default("false")
    @JsonPropertyDescription("A community deployment that members of every organization may call. Shared deployments "
            + "draw first on the pool's commons reserve.")
    public Boolean shared = false;

    @Size(max = 64)
    @JsonPropertyDescription("Extra command-line arguments passed to the engine after the ones the operator renders, "
            + "for example ['--enable-prefix-caching']. Arguments that would enable remote code are refused unless "
            + "allowRemoteCode is true.")
    public List<@Size(max = 1024) String> engineArgs = new ArrayList<>();

    @Size(max = 128)
    @JsonPropertyDescription("Extra environment variables for the serving container.")
    public List<EnvVar> env = new ArrayList<>();

    @JsonPropertyDescription("A Secret in this namespace holding a Hugging Face token, for gated or private models. "
            + "It reaches the engine as HF_TOKEN. Replicas the pool places on contributed clusters get a copy (in a "
            + "Secret only that cluster's agent can read), once the namespace lets the operator read the Secret: "
            + "bind the operator chart's ClusterRole <release>-model-token-reader to the operator's ServiceAccount here "
            + "(condition CredentialsShared says how). Use a read-only token.")
    public SecretKeyRef hfTokenSecretRef;

    @Size(max = 64)
    @JsonPropertyDescription("Contributed clusters (ContributedCluster names) whose nodes may run replicas of a "
            + "model with a token (hfTokenSecretRef): each gets a copy of the token, and their admins can read what "
            + "runs there. Without it, a model with a token runs only on the pool's own cluster.")
    public List<@Size(min = 1, max = 63) @Pattern("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$") String> hfTokenClusters =
            new ArrayList<>();

    @Default("false")
    @JsonPropertyDescription("Let the engine run Python code shipped with the model (vLLM --trust-remote-code). Off "
            + "by default: the GPUs belong to other organizations, and remote code runs with the pod's rights. Replicas "
            + "are placed only on nodes whose owners consent (GpuPool spec.localNodes, the contributor chart's "
            + "policy).")
    public Boolean allowRemoteCode = false;

    @Default("false")
    @JsonPropertyDescription("Allow weights in pickle formats (.bin, .pt). Off by default: only safetensors (vLLM) "
            + "or GGUF (llama.cpp) files are loaded, because unpickling can execute code. Replicas that allow them are "
            + "placed only on nodes whose owners consent.")
    public Boolean allowUnsafeWeights = false;
}
