package io.gpupool.operator.modeldeployment;

import io.fabric8.kubernetes.api.model.Service;
import io.gpupool.api.v1alpha1.ModelDeployment;
import io.gpupool.core.render.ServingRenderer;
import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.CRUDKubernetesDependentResource;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependent;

/** The Service in front of all of a ModelDeployment's serving pods: its OpenAI-compatible endpoint. */
@KubernetesDependent(informer = @Informer(labelSelector = ModelDeploymentReconciler.SERVING_SELECTOR))
public class ServingServiceDependent extends CRUDKubernetesDependentResource<Service, ModelDeployment> {

    public ServingServiceDependent() {
        super(Service.class);
    }

    @Override
    protected Service desired(ModelDeployment md, Context<ModelDeployment> context) {
        return ServingRenderer.service(md);
    }
}
