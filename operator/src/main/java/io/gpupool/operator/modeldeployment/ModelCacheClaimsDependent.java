package io.gpupool.operator.modeldeployment;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.gpupool.api.v1alpha1.ApiGroup;
import io.gpupool.api.v1alpha1.ModelDeployment;
import io.gpupool.api.v1alpha1.Placement;
import io.gpupool.core.render.ModelCacheClaims;
import io.gpupool.core.render.ServingSettings;
import io.javaoperatorsdk.operator.api.config.informer.InformerConfiguration;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.processing.dependent.BulkDependentResource;
import io.javaoperatorsdk.operator.processing.dependent.Creator;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependentResource;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependentResourceConfig;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependentResourceConfigBuilder;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.PrimaryToSecondaryMapper;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;

/**
 * The model-cache claims the ModelDeployment's replicas on the pool's own cluster mount ({@link ModelCacheClaims}).
 * Create-only: a claim is shared by every ModelDeployment of its namespace on its node and holds files that outlive
 * each of them, so it is never updated, has no owner (the garbage collector leaves it) and is not deleted with a
 * ModelDeployment. The claims a ModelDeployment uses are looked up by name in the informer's cache, not through owner
 * references; a claim deleted by hand is created again by the next reconcile of a ModelDeployment of its namespace,
 * which its deletion triggers.
 *
 * <p>Not created only-if-not-existing with server-side apply: two ModelDeployments placed on a node at once both create
 * its claim; a plain apply of the same object is idempotent, where the precondition would fail the second.
 */
public class ModelCacheClaimsDependent extends KubernetesDependentResource<PersistentVolumeClaim, ModelDeployment>
        implements BulkDependentResource<PersistentVolumeClaim, ModelDeployment, ResourceID>,
        Creator<PersistentVolumeClaim, ModelDeployment> {

    static final String SELECTOR = ApiGroup.MANAGED_BY_LABEL + "=" + ApiGroup.MANAGED_BY
            + ",app.kubernetes.io/component=" + ModelCacheClaims.COMPONENT;

    public ModelCacheClaimsDependent() {
        super(PersistentVolumeClaim.class);
        configureWith(new KubernetesDependentResourceConfigBuilder<PersistentVolumeClaim>()
                .withCreateResourceOnlyIfNotExistingWithSSA(false)
                .withKubernetesDependentInformerConfig(InformerConfiguration.builder(PersistentVolumeClaim.class)
                        .withLabelSelector(SELECTOR).build())
                .build());
    }

    @Override
    public Map<ResourceID, PersistentVolumeClaim> desiredResources(ModelDeployment md, Context<ModelDeployment> context) {
        var workflow = context.managedWorkflowAndDependentResourceContext();
        @SuppressWarnings("unchecked")
        List<Placement> placements = workflow.getMandatory(ModelDeploymentReconciler.LOCAL_PLACEMENTS, List.class);
        ServingSettings settings = workflow.getMandatory(ModelDeploymentReconciler.SETTINGS, ServingSettings.class);
        Map<ResourceID, PersistentVolumeClaim> out = new LinkedHashMap<>();
        for (PersistentVolumeClaim claim : ModelCacheClaims.claims(md, placements, settings)) {
            out.put(ResourceID.fromResource(claim), claim);
        }
        return out;
    }

    /** The claims of those this ModelDeployment needs that exist (other claims of the namespace are none of its own). */
    @Override
    public Map<ResourceID, PersistentVolumeClaim> getSecondaryResources(ModelDeployment md,
            Context<ModelDeployment> context) {
        InformerEventSource<PersistentVolumeClaim, ModelDeployment> claims = eventSource().orElseThrow();
        Map<ResourceID, PersistentVolumeClaim> out = new LinkedHashMap<>();
        for (ResourceID id : desiredResources(md, context).keySet()) {
            claims.get(id).ifPresent(c -> out.put(id, c));
        }
        return out;
    }

    /** Never called: the dependent is no Deleter. */
    @Override
    public void deleteTargetResource(ModelDeployment md, PersistentVolumeClaim claim, ResourceID id,
            Context<ModelDeployment> context) {
        throw new UnsupportedOperationException("model-cache claims are never deleted by the operator");
    }

    /** No owner reference and no annotation naming one ModelDeployment: the claim belongs to its namespace's. */
    @Override
    protected void addReferenceHandlingMetadata(PersistentVolumeClaim claim, ModelDeployment md) {
    }

    /**
     * Only a deleted claim wakes anyone: the ModelDeployments of its namespace, so that those that use it create it
     * again.
     */
    @Override
    protected InformerEventSource<PersistentVolumeClaim, ModelDeployment> createEventSource(
            EventSourceContext<ModelDeployment> context) {
        var primaries = context.getPrimaryCache();
        InformerEventSourceConfiguration.Builder<PersistentVolumeClaim> config = informerConfigurationBuilder(context)
                .withName(name());
        configuration().map(KubernetesDependentResourceConfig::informerConfig).ifPresent(config::updateFrom);
        config.withOnAddFilter(claim -> false)
                .withOnUpdateFilter((now, before) -> false)
                .withSecondaryToPrimaryMapper(claim -> primaries.list(claim.getMetadata().getNamespace())
                        .map(ResourceID::fromResource).collect(Collectors.toSet()))
                .withPrimaryToSecondaryMapper((PrimaryToSecondaryMapper<ModelDeployment>) md -> Set.of());
        InformerEventSource<PersistentVolumeClaim, ModelDeployment> source = new InformerEventSource<>(config.build(), context);
        setEventSource(source);
        return source;
    }
}
