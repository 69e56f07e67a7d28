package io.gpupool.operator.cache;

import java.util.function.UnaryOperator;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.javaoperatorsdk.operator.processing.event.source.informer.TransformingItemStore;

/**
 * What every informer cache of the operator does with an object before it keeps it: its own transform (what is not
 * read goes), then one copy of each repeated string ({@link CachedStrings}). The name and namespace are interned
 * before JOSDK's store sees the object, because the store puts back the ones the object came with after the
 * transform.
 */
abstract class SlimItemStore<R extends HasMetadata> extends TransformingItemStore<R> {

    SlimItemStore(UnaryOperator<R> transform) {
        super(transform);
    }

    @Override
    public R put(String key, R obj) {
        if (obj.getMetadata() != null) {
            obj.getMetadata().setName(CachedStrings.of(obj.getMetadata().getName()));
            obj.getMetadata().setNamespace(CachedStrings.of(obj.getMetadata().getNamespace()));
        }
        return super.put(key, obj);
    }
}
