package io.gpupool.operator.cache;

import io.fabric8.kubernetes.api.model.HasMetadata;

/**
 * An informer cache that keeps objects without {@code metadata.managedFields}. Fabric8 reads those field-ownership
 * trees into nested maps: in the operator's cache they were about 60 % of the live heap at 3,000 ModelDeployments
 * (hack/bench-apiserver.sh rss, operator-heap-histogram.txt), and a real Node's (kubelet status, images) is bigger
 * still. This is controller-runtime's {@code TransformStripManagedFields} for JOSDK informers.
 *
 * <p>Only for informers whose objects are never compared field by field with server-side apply (whose matcher reads
 * the operator's own managed-fields entry); the serving Deployments and Services are matched by their desired-state
 * hash ({@link SlimDeployments}, {@link SlimServices}).
 *
 * <p>A class with a no-argument constructor, so that {@code @Informer(itemStore = ...)} can name it.
 */
public class WithoutManagedFields<R extends HasMetadata> extends SlimItemStore<R> {

    public WithoutManagedFields() {
        super(WithoutManagedFields::strip);
    }

    /** Drops the managed fields and keeps one copy of the metadata's repeated strings ({@link CachedStrings}). */
    static <R extends HasMetadata> R strip(R resource) {
        if (resource.getMetadata() != null) {
            resource.getMetadata().setManagedFields(null);
            CachedStrings.metadata(resource.getMetadata());
        }
        return resource;
    }
}
