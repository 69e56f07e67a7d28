package io.gpupool.operator.cache;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;

import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.FieldsV1;
import io.fabric8.kubernetes.api.model.ManagedFieldsEntryBuilder;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;

class WithoutManagedFieldsTest {

    @Test
    void cachedObjectsKeepEverythingButTheirManagedFields() {
        FieldsV1 fields = new FieldsV1();
        fields.setAdditionalProperty("f:status", Map.of("f:images", Map.of()));
        Node node = new NodeBuilder().withNewMetadata().withName("gpu-1").withResourceVersion("7")
                .addToLabels("gpupool.io/organization", "uni-nlp")
                .addToManagedFields(new ManagedFieldsEntryBuilder().withManager("kubelet").withOperation("Update")
                        .withFieldsV1(fields).build())
                .endMetadata().withNewStatus().addToAllocatable("nvidia.com/gpu", new io.fabric8.kubernetes.api.model
                        .Quantity("8")).endStatus().build();
        WithoutManagedFields<Node> store = new WithoutManagedFields<>();

        store.put(store.getKey(node), node);

        Node cached = store.get("gpu-1");
        assertThat(cached.getMetadata().getManagedFields()).isNullOrEmpty();
        assertThat(cached.getMetadata().getResourceVersion()).isEqualTo("7");
        assertThat(cached.getMetadata().getLabels()).containsEntry("gpupool.io/organization", "uni-nlp");
        assertThat(cached.getStatus().getAllocatable()).containsKey("nvidia.com/gpu");
        assertThat(store.size()).isEqualTo(1);
    }
}
