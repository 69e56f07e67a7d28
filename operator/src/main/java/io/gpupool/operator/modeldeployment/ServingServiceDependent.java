package io.gpupool.operator.modeldeployment;

import io.fabric8.kubernetes.api.model.Service;
import io.gpupool.api.v1alpha1.ModelDeployment;
import io.gpupool.core.render.ServingRenderer;
import io.gpupool.operator.cache.SlimServices;
import io.javaoperatorsdk.operator.api.config.informer.InformerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.processing.dependent.Matcher.Result;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.CRUDKubernetesDependentResource;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependentResourceConfigBuilder;

/**
 * The Service in front of all of a ModelDeployment's serving pods: its OpenAI-compatible endpoint.
 *
 * <p>Like the Deployments, matched by the hash of its rendering ({@link DesiredHash}), created with a POST and
 * replaced (PUT) when it differs, without server-side apply. A replacement carries the cluster IPs the API server
 * allocated (they cannot change, and the rendering has none). A Service of the same name that someone else already
 * made in the namespace makes the create fail with a conflict, reported as a reconcile error, instead of being
 * adopted.
 */
public class ServingServiceDependent extends CRUDKubernetesDependentResource<Service, ModelDeployment> {

    public ServingServiceDependent() {
        super(Service.class);
        configureWith(new KubernetesDependentResourceConfigBuilder<Service>().withUseSSA(false)
                .withKubernetesDependentInformerConfig(InformerConfiguration.builder(Service.class)
                        .withLabelSelector(ModelDeploymentReconciler.SERVING_SELECTOR)
                        .withItemStore(new SlimServices()).build())
                .build());
    }

    @Override
    protected Service desired(ModelDeployment md, Context<ModelDeployment> context) {
        return DesiredHash.stamp(ServingRenderer.service(md));
    }

    @Override
    public Result<Service> match(Service actual, Service desired, ModelDeployment md, Context<ModelDeployment> context) {
        return Result.computed(DesiredHash.matches(actual, desired), desired);
    }

    @Override
    public Service update(Service actual, Service desired, ModelDeployment md, Context<ModelDeployment> context) {
        if (actual.getSpec() != null) {
            desired.getSpec().setClusterIP(actual.getSpec().getClusterIP());
            desired.getSpec().setClusterIPs(actual.getSpec().getClusterIPs());
        }
        return super.update(actual, desired, md, context);
    }
}
