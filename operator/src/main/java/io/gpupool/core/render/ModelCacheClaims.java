package io.gpupool.core.render;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import io.gpupool.api.v1alpha1.ApiGroup;
import io.gpupool.api.v1alpha1.ModelDeployment;
import io.gpupool.api.v1alpha1.ModelDeploymentSpec;
import io.gpupool.api.v1alpha1.Placement;
import io.gpupool.core.inventory.NodeTrust;

/**
 * The node-shared model cache (GpuPool.spec.modelCache): which replicas share one, the claim they share and the
 * {@value #VOLUME} volume of their pods. One PersistentVolumeClaim per namespace and node: a claim is namespaced, so a
 * pod can mount only the claims of its own namespace, and a namespace belongs to one organization, so no organization
 * ever writes files another organization's engine loads. ReadWriteOnce is per node, so every replica the namespace runs
 * on the node mounts it at once.
 *
 * <p>Who keeps a cache of its own (an emptyDir that goes with the pod): replicas that may run code shipped with a model
 * (allowRemoteCode, or allowUnsafeWeights: unpickling runs code), which could rewrite files the namespace's other
 * replicas load; and replicas on contributed clusters, whose serving namespace holds the work of many organizations
 * and whose agent creates no claims.
 *
 * <p>Claims are created, never updated or deleted by the operator: several ModelDeployments share one, and the files
 * outlive each of them (that is the point). README "Model cache" says how to remove them.
 */
public final class ModelCacheClaims {

    /** The pod volume mounted at {@link ServingContract#CACHE_DIR}. */
    public static final String VOLUME = "models";
    /** Name of a claim: this prefix and the node's hash. */
    public static final String NAME_PREFIX = "gpupool-models-";
    /** app.kubernetes.io/component of the claims (the operator's informer of claims selects it). */
    public static final String COMPONENT = "model-cache";

    private ModelCacheClaims() {
    }

    /** Whether the replicas of {@code md} on the placement's node share the namespace's claim on that node. */
    public static boolean shared(ModelDeploymentSpec spec, Placement placement, ServingSettings settings) {
        return settings.modelCache() != null && NodeTrust.LOCAL_CLUSTER.equals(placement.cluster)
                && !Boolean.TRUE.equals(spec.allowRemoteCode) && !Boolean.TRUE.equals(spec.allowUnsafeWeights);
    }

    /** Name of the claim of a node (in the namespace of the ModelDeployments that use it). */
    public static String claimName(Placement placement) {
        return NAME_PREFIX + ServingRenderer.nodeHash(placement.cluster, placement.node);
    }

    /**
     * The pod's {@value #VOLUME} volume: the namespace's claim on the node, or an emptyDir of its own bounded by
     * {@code sizeLimit}.
     */
    public static Volume volume(ModelDeploymentSpec spec, Placement placement, ServingSettings settings,
            Quantity sizeLimit) {
        VolumeBuilder volume = new VolumeBuilder().withName(VOLUME);
        if (shared(spec, placement, settings)) {
            return volume.withNewPersistentVolumeClaim().withClaimName(claimName(placement)).endPersistentVolumeClaim()
                    .build();
        }
        return volume.withNewEmptyDir().withSizeLimit(sizeLimit).endEmptyDir().build();
    }

    /** The claims the ModelDeployment's replicas on the pool's own cluster use, one per node, in placement order. */
    public static List<PersistentVolumeClaim> claims(ModelDeployment md, List<Placement> placements,
            ServingSettings settings) {
        Map<String, PersistentVolumeClaim> out = new LinkedHashMap<>();
        for (Placement p : placements) {
            if (p.replicas > 0 && shared(md.getSpec(), p, settings)) {
                out.putIfAbsent(claimName(p), claim(md.getMetadata().getNamespace(), p, settings.modelCache()));
            }
        }
        return new ArrayList<>(out.values());
    }

    static PersistentVolumeClaim claim(String namespace, Placement placement, ServingSettings.ModelCache cache) {
        Map<String, String> labels = new LinkedHashMap<>();
        labels.put("app.kubernetes.io/name", "gpupool-serving");
        labels.put("app.kubernetes.io/component", COMPONENT);
        labels.put(ApiGroup.MANAGED_BY_LABEL, ApiGroup.MANAGED_BY);
        labels.put(ServingRenderer.NODE_HASH_LABEL, ServingRenderer.nodeHash(placement.cluster, placement.node));
        return new PersistentVolumeClaimBuilder()
                .withMetadata(new ObjectMetaBuilder().withName(claimName(placement)).withNamespace(namespace)
                        .withLabels(labels).addToAnnotations(ServingRenderer.NODE_ANNOTATION, placement.node).build())
                .withNewSpec()
                .withAccessModes("ReadWriteOnce")
                .withStorageClassName(cache.storageClassName())
                .withNewResources().addToRequests("storage", new Quantity(cache.size())).endResources()
                .endSpec()
                .build();
    }
}
