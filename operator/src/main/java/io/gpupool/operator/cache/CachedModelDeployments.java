package io.gpupool.operator.cache;

import io.gpupool.api.v1alpha1.ModelDeployment;
import io.gpupool.api.v1alpha1.ModelDeploymentStatus;
import io.gpupool.api.v1alpha1.Placement;

/**
 * The cache of ModelDeployments: without managed fields ({@link WithoutManagedFields}), and with one copy of the
 * strings their statuses repeat (phase, organization, served name, the conditions, where replicas are placed:
 * {@link CachedStrings}). The status is most of a cached ModelDeployment, and the same few phases, reasons, node
 * names and GPU classes run through thousands of them.
 *
 * <p>A class with a no-argument constructor, so that {@code @Informer(itemStore = ...)} can name it.
 */
public class CachedModelDeployments extends SlimItemStore<ModelDeployment> {

    public CachedModelDeployments() {
        super(CachedModelDeployments::slim);
    }

    static ModelDeployment slim(ModelDeployment md) {
        WithoutManagedFields.strip(md);
        ModelDeploymentStatus status = md.getStatus();
        if (status != null) {
            status.phase = CachedStrings.of(status.phase);
            status.organization = CachedStrings.of(status.organization);
            status.servedModelName = CachedStrings.of(status.servedModelName);
            CachedStrings.conditions(status.conditions);
            placements(status);
        }
        return md;
    }

    private static void placements(ModelDeploymentStatus status) {
        for (var list : java.util.Arrays.asList(status.placements, status.handover)) {
            if (list != null) {
                for (Placement p : list) {
                    p.cluster = CachedStrings.of(p.cluster);
                    p.node = CachedStrings.of(p.node);
                    p.gpuClass = CachedStrings.of(p.gpuClass);
                }
            }
        }
    }
}
