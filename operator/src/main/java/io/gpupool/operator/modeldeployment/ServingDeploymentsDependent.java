package io.gpupool.operator.modeldeployment;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import java.util.stream.Collectors;

import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.gpupool.api.v1alpha1.ModelDeployment;
import io.gpupool.api.v1alpha1.Placement;
import io.gpupool.core.render.ServingRenderer;
import io.gpupool.core.render.ServingSettings;
import io.gpupool.operator.cache.SlimDeployments;
import io.javaoperatorsdk.operator.api.config.informer.InformerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.dependent.GarbageCollected;
import io.javaoperatorsdk.operator.processing.dependent.CRUDKubernetesBulkDependentResource;
import io.javaoperatorsdk.operator.processing.dependent.Matcher.Result;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependentResource;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependentResourceConfigBuilder;
import io.javaoperatorsdk.operator.processing.event.ResourceID;

/**
 * One Deployment per node the ModelDeployment's replicas are placed on in the pool's own cluster. Matched by the hash
 * of its rendering ({@link DesiredHash}) and its replica count; created with a POST and replaced (PUT, keeping the
 * labels and annotations others added) when it differs, without server-side apply: nothing but the operator writes
 * these Deployments' specs, so there is no field ownership to negotiate, and the API server does less for a POST than
 * for an apply.
 */
public class ServingDeploymentsDependent extends KubernetesDependentResource<Deployment, ModelDeployment>
        implements CRUDKubernetesBulkDependentResource<Deployment, ModelDeployment>, GarbageCollected<ModelDeployment> {

    public ServingDeploymentsDependent() {
        super(Deployment.class);
        // The add events of the operator's own creates are filtered (CreatesInFlight).
        configureWith(new KubernetesDependentResourceConfigBuilder<Deployment>().withUseSSA(false)
                .withKubernetesDependentInformerConfig(InformerConfiguration.builder(Deployment.class)
                        .withLabelSelector(ModelDeploymentReconciler.SERVING_SELECTOR)
                        .withItemStore(new SlimDeployments()).withOnAddFilter(new CreatesInFlight()).build())
                .build());
    }

    @Override
    public Map<ResourceID, Deployment> desiredResources(ModelDeployment md, Context<ModelDeployment> context) {
        var workflow = context.managedWorkflowAndDependentResourceContext();
        @SuppressWarnings("unchecked")
        List<Placement> placements = workflow.getMandatory(ModelDeploymentReconciler.LOCAL_PLACEMENTS, List.class);
        ServingSettings settings = workflow.getMandatory(ModelDeploymentReconciler.SETTINGS, ServingSettings.class);
        return ServingRenderer.deployments(md, placements, settings).stream().map(DesiredHash::stamp)
                .collect(Collectors.toMap(ResourceID::fromResource, Function.identity()));
    }

    /** Noted as in flight first: its add event may arrive before the POST's response ({@link CreatesInFlight}). */
    @Override
    public Deployment create(Deployment desired, ModelDeployment md, Context<ModelDeployment> context) {
        CreatesInFlight.creating(md.getMetadata().getUid(), desired);
        try {
            return super.create(desired, md, context);
        } catch (RuntimeException e) {
            CreatesInFlight.settled(md.getMetadata().getUid(), desired);
            throw e;
        }
    }

    @Override
    protected void onCreated(ModelDeployment md, Deployment created, Context<ModelDeployment> context) {
        super.onCreated(md, created, context); // from here on JOSDK recognizes the add event by its version
        CreatesInFlight.settled(md.getMetadata().getUid(), created);
    }

    @Override
    public Result<Deployment> match(Deployment actual, Deployment desired, ModelDeployment md,
            Context<ModelDeployment> context) {
        boolean same = DesiredHash.matches(actual, desired) && actual.getSpec() != null
                && Objects.equals(actual.getSpec().getReplicas(), desired.getSpec().getReplicas());
        return Result.computed(same, desired);
    }

    @Override
    public Map<ResourceID, Deployment> getSecondaryResources(ModelDeployment md, Context<ModelDeployment> context) {
        return context.getSecondaryResourcesAsStream(Deployment.class)
                .collect(Collectors.toMap(ResourceID::fromResource, Function.identity()));
    }
}
