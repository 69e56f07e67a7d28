package io.gpupool.operator.cache;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.javaoperatorsdk.operator.processing.event.source.informer.TransformingItemStore;

/**
 * An informer cache that keeps objects without {@code metadata.managedFields}. Fabric8 reads those field-ownership
 * trees into nested maps: in the operator's cache they were about 60 % of the live heap at 3,000 ModelDeployments
 * (hack/bench-apiserver.sh rss, operator-heap-histogram.txt), and a real Node's (kubelet status, images) is bigger
 * still. This is controller-runtime's {@code TransformStripManagedFields} for JOSDK informers.
 *
 * <p>Only for informers whose objects are never compared field by field with server-side apply: NOT for the
 * dependents' Deployments and Services, whose matcher reads the operator's own managed-fields entry to tell its
 * desired state from what others (the Deployment controller, an HPA) set.
 *
 * <p>A class with a no-argument constructor, so that {@code @Informer(itemStore = ...)} can name it.
 */
public class WithoutManagedFields<R extends HasMetadata> extends TransformingItemStore<R> {

    public WithoutManagedFields() {
        super(WithoutManagedFields::strip);
    }

    static <R extends HasMetadata> R strip(R resource) {
        if (resource.getMetadata() != null) {
            resource.getMetadata().setManagedFields(null);
        }
        return resource;
    }
}
