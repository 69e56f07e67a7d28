package io.gpupool.operator.modeldeployment;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

import io.gpupool.api.v1alpha1.ModelDeployment;
import io.gpupool.core.gateway.ModelCatalog;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.IndexerResourceCache;

/**
 * Which ModelDeployment holds a served model name ({@link ModelCatalog}'s rule, on the controller's cache, through an
 * index by served name), and who must look again when a holder lets a name go (renamed or deleted): the ones that
 * were waiting for it.
 */
final class ServedNames {

    static final String HELD = ModelCatalog.HELD;
    static final String TAKEN = ModelCatalog.TAKEN;
    private static final String INDEX = "servedModelName";

    private final IndexerResourceCache<ModelDeployment> primaries;
    private final Consumer<ResourceID> requeue;

    private ServedNames(IndexerResourceCache<ModelDeployment> primaries, Consumer<ResourceID> requeue) {
        this.primaries = primaries;
        this.requeue = requeue;
    }

    /** Indexes the cache (before its informer starts). */
    static ServedNames on(IndexerResourceCache<ModelDeployment> primaries, Consumer<ResourceID> requeue) {
        primaries.addIndexers(Map.of(INDEX, md -> List.of(ModelCatalog.servedName(md))));
        return new ServedNames(primaries, requeue);
    }

    /** The ModelDeployment that holds this one's name when it is not this one. */
    Optional<ModelDeployment> heldByAnother(ModelDeployment md) {
        List<ModelDeployment> claimants = primaries.byIndex(INDEX, ModelCatalog.servedName(md));
        return ModelCatalog.holder(claimants).filter(h -> !sameObject(h, md));
    }

    /** The name this ModelDeployment held until now changes hands: its other claimants look again. */
    void released(String name, ModelDeployment md) {
        if (name == null) {
            return;
        }
        for (ModelDeployment other : primaries.byIndex(INDEX, name)) {
            if (!sameObject(other, md)) {
                requeue.accept(ResourceID.fromResource(other));
            }
        }
    }

    private static boolean sameObject(ModelDeployment a, ModelDeployment b) {
        return a.getMetadata().getNamespace().equals(b.getMetadata().getNamespace())
                && a.getMetadata().getName().equals(b.getMetadata().getName());
    }
}
