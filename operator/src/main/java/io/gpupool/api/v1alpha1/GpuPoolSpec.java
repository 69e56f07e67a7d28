package io.gpupool.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;

@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonClassDescription("Pool-wide policy: fair-share mode, commons reserve, preemption, heartbeat and handover limits, "
        + "serving images, model cache.")
public class GpuPoolSpec {

    @JsonPropertyDescription("How quotas are computed.")
    public FairSharePolicy fairShare = new FairSharePolicy();

    @JsonPropertyDescription("How replicas are evicted when an owner reclaims its GPUs.")
    public PreemptionPolicy preemption = new PreemptionPolicy();

    @Default("120")
    @Min(10)
    @Max(86400)
    @JsonPropertyDescription("Seconds without a heartbeat after which a GpuNode counts as gone and its replicas are "
            + "placed elsewhere. Defaults to 120.")
    public Integer heartbeatTimeoutSeconds = 120;

    @Default("16")
    @Min(1)
    @Max(1024)
    @JsonPropertyDescription("Most GPUs one node can carry (a MIG product's slices count seven per GPU). A GpuNode "
            + "that reports more is not believed (reason ExceedsNodeCapacity): a contributed node's count is its "
            + "agent's word, and an agent must not raise its organization's quota by claiming GPUs no machine has. "
            + "Defaults to 16.")
    public Integer maxGpusPerNode = 16;

    @Default("300")
    @Min(0)
    @Max(86400)
    @JsonPropertyDescription("When a contributor takes a node back (cordons it, takes it out of the pool, uninstalls "
            + "the contributor chart), its replicas are placed elsewhere at once, and the ones that run there keep "
            + "serving until their replacements are ready, for at most this many seconds; then they stop, each "
            + "draining its in-flight requests. 0 stops them as soon as they are replaced. Defaults to 300.")
    public Integer withdrawalHandoverSeconds = 300;

    @Default("92")
    @Min(1)
    @Max(366)
    @JsonPropertyDescription("UTC days of per-day GPU-hours every Organization's ledger keeps in its status (the totals "
            + "are kept for ever). Defaults to 92.")
    public Integer ledgerHistoryDays = 92;

    @JsonPropertyDescription("What the pool lets work do on the nodes of its own cluster (contributed clusters decide "
            + "for theirs, in the contributor chart's policy): replicas that may run their model's code or load "
            + "pickled weights are placed only on nodes whose owners consent.")
    public NodeConsent localNodes = new NodeConsent();

    @JsonPropertyDescription("Who may connect to serving pods of the pool's own cluster besides the gateway.")
    public ServingAccessPolicy servingAccess = new ServingAccessPolicy();

    @JsonPropertyDescription("Container images that run the serving engines.")
    public ServingImages servingImages = new ServingImages();

    @JsonPropertyDescription("Share downloaded models between the replicas a namespace runs on one node: the "
            + "operator creates a PersistentVolumeClaim per namespace and node (gpupool-models-<node hash>, "
            + "ReadWriteOnce) and mounts it where the engines keep the Hugging Face cache. A namespace belongs to one "
            + "organization, so no organization writes files another's engine loads. Replicas that may run code "
            + "shipped with a model (allowRemoteCode or allowUnsafeWeights) and replicas on contributed clusters keep "
            + "a cache of their own. The claims outlive the ModelDeployments (delete them by hand, see README). "
            + "Unset (the default): every replica downloads its model into a cache of its own that goes with the "
            + "pod (an emptyDir).")
    public ModelCache modelCache;
}
