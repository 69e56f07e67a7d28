package io.gpupool.operator.modeldeployment;

import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.gpupool.api.v1alpha1.ModelDeployment;
import io.gpupool.core.render.ServingAccess;
import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.CRUDKubernetesDependentResource;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependent;

/**
 * The NetworkPolicy of a ModelDeployment's serving pods: only the pool's gateway (and, where the pool allows it, the
 * ModelDeployment's own namespace) may connect to them ({@link ServingAccess}).
 */
@KubernetesDependent(informer = @Informer(labelSelector = ModelDeploymentReconciler.SERVING_SELECTOR))
public class ServingNetworkPolicyDependent extends CRUDKubernetesDependentResource<NetworkPolicy, ModelDeployment> {

    public ServingNetworkPolicyDependent() {
        super(NetworkPolicy.class);
    }

    @Override
    protected NetworkPolicy desired(ModelDeployment md, Context<ModelDeployment> context) {
        return context.managedWorkflowAndDependentResourceContext()
                .getMandatory(ModelDeploymentReconciler.ACCESS, ServingAccess.class).networkPolicy(md);
    }
}
