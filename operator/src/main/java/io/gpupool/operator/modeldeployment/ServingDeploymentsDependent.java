package io.gpupool.operator.modeldeployment;

import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.gpupool.api.v1alpha1.ModelDeployment;
import io.gpupool.api.v1alpha1.Placement;
import io.gpupool.core.render.ServingRenderer;
import io.gpupool.core.render.ServingSettings;
import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.dependent.GarbageCollected;
import io.javaoperatorsdk.operator.processing.dependent.CRUDKubernetesBulkDependentResource;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependent;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependentResource;
import io.javaoperatorsdk.operator.processing.event.ResourceID;

/** One Deployment per node the ModelDeployment's replicas are placed on in the pool's own cluster. */
@KubernetesDependent(informer = @Informer(labelSelector = ModelDeploymentReconciler.SERVING_SELECTOR))
public class ServingDeploymentsDependent extends KubernetesDependentResource<Deployment, ModelDeployment>
        implements CRUDKubernetesBulkDependentResource<Deployment, ModelDeployment>, GarbageCollected<ModelDeployment> {

    public ServingDeploymentsDependent() {
        super(Deployment.class);
    }

    @Override
    public Map<ResourceID, Deployment> desiredResources(ModelDeployment md, Context<ModelDeployment> context) {
        var workflow = context.managedWorkflowAndDependentResourceContext();
        @SuppressWarnings("unchecked")
        List<Placement> placements = workflow.getMandatory(ModelDeploymentReconciler.LOCAL_PLACEMENTS, List.class);
        ServingSettings settings = workflow.getMandatory(ModelDeploymentReconciler.SETTINGS, ServingSettings.class);
        return ServingRenderer.deployments(md, placements, settings).stream()
                .collect(Collectors.toMap(ResourceID::fromResource, Function.identity()));
    }

    @Override
    public Map<ResourceID, Deployment> getSecondaryResources(ModelDeployment md, Context<ModelDeployment> context) {
        return context.getSecondaryResourcesAsStream(Deployment.class)
                .collect(Collectors.toMap(ResourceID::fromResource, Function.identity()));
    }
}
