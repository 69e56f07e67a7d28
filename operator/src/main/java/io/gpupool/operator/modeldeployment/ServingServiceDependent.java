package io.gpupool.operator.modeldeployment;

import io.fabric8.kubernetes.api.model.Service;
import io.gpupool.api.v1alpha1.ModelDeployment;
import io.gpupool.core.render.ServingRenderer;
import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.CRUDKubernetesDependentResource;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependent;

/**
 * The Service in front of all of a ModelDeployment's serving pods: its OpenAI-compatible endpoint.
 *
 * <p>{@code createResourceOnlyIfNotExistingWithSSA = false}: by default JOSDK creates a dependent with a server-side
 * apply that carries {@code resourceVersion: "1"}, so that the apply fails if the object already exists. API servers
 * before the Service REST refactoring (found on 1.20 by the real-API-server test tier) create a Service that is
 * applied but missing through the Service registry's own Create, which refuses any resourceVersion with a 500
 * ("resourceVersion should not be set on objects to be created"): no Service would ever be created. Without the
 * precondition the create is a plain apply, which is idempotent. What is given up: a Service of the same name that
 * someone else already made in the ModelDeployment's namespace is adopted (and rewritten) instead of being refused;
 * only the namespace's own users can make one, and they own the ModelDeployment too. Deployments are created through
 * the generic registry and keep the precondition.
 */
@KubernetesDependent(informer = @Informer(labelSelector = ModelDeploymentReconciler.SERVING_SELECTOR),
        createResourceOnlyIfNotExistingWithSSA = false)
public class ServingServiceDependent extends CRUDKubernetesDependentResource<Service, ModelDeployment> {

    public ServingServiceDependent() {
        super(Service.class);
    }

    @Override
    protected Service desired(ModelDeployment md, Context<ModelDeployment> context) {
        return ServingRenderer.service(md);
    }
}
