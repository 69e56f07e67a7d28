package io.gpupool.operator.modeldeployment;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.gpupool.api.v1alpha1.ModelDeployment;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.PrimaryUpdateAndCacheUtils;
import io.javaoperatorsdk.operator.processing.event.ResourceID;

/**
 * The operator's finalizer, only on ModelDeployments that write outside their namespace (a ServingWork in a contributed
 * cluster's hub namespace, a copy of the model's token there): owner references cannot reach those, so the
 * ModelDeployment stays until the operator has removed them. Everything else a ModelDeployment has is either in its
 * namespace, owned by it and collected by Kubernetes' garbage collector, or in the operator's memory (its GPUs, its
 * served name), released when the operator sees it marked for deletion or deleted; an operator that was down then
 * rebuilds its memory from the ModelDeployments that exist.
 *
 * <p>JOSDK would put a finalizer on every ModelDeployment: a write, a watch event and a reconcile each, about a tenth
 * of the API server's work in a burst of creates (#15).
 */
final class ModelDeploymentFinalizer {

    /**
     * JOSDK's default name for this controller's finalizer, which every ModelDeployment carried before the operator
     * managed it: those keep it and go as before.
     */
    static final String NAME = "modeldeployments.gpupool.io/finalizer";

    private ModelDeploymentFinalizer() {
    }

    /**
     * Puts the finalizer on (unless it is there, or the ModelDeployment is going) before anything is written outside
     * the namespace: with server-side apply under the controller's field manager, as JOSDK does, or a JSON patch where
     * the primary resource is not applied. The answer is cached as this reconcile's own write, so it wakes nothing.
     *
     * @return the ModelDeployment as the API server returned it (the version the status write locks on)
     */
    static ModelDeployment ensure(ModelDeployment md, Context<ModelDeployment> context, boolean serverSideApply) {
        if (md.hasFinalizer(NAME) || md.isMarkedForDeletion()) {
            return md;
        }
        ModelDeployment updated = serverSideApply ? PrimaryUpdateAndCacheUtils.addFinalizerWithSSA(context, md, NAME)
                : PrimaryUpdateAndCacheUtils.addFinalizer(context.getClient(), md, NAME);
        context.eventSourceRetriever().getControllerEventSource()
                .handleRecentResourceUpdate(ResourceID.fromResource(md), updated, md);
        return updated;
    }

    /** Takes the finalizer off (when there): the ModelDeployment's writes outside its namespace are gone. */
    static void remove(KubernetesClient client, ModelDeployment md) {
        PrimaryUpdateAndCacheUtils.removeFinalizer(client, md, NAME);
    }
}
