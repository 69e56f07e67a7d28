package io.gpupool.operator.cache;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.ContainerImageBuilder;
import io.fabric8.kubernetes.api.model.FieldsV1;
import io.fabric8.kubernetes.api.model.ManagedFieldsEntryBuilder;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.gpupool.api.v1alpha1.GpuNodeSpec;
import io.gpupool.core.discovery.GpuNodes;

class SlimCachesTest {

    private static ObjectMeta meta() {
        FieldsV1 fields = new FieldsV1();
        fields.setAdditionalProperty("f:spec", Map.of("f:template", Map.of()));
        return new ObjectMetaBuilder().withName("llama-8b-ff7710f2").withNamespace("uni-nlp").withResourceVersion("9")
                .addToLabels("gpupool.io/model-deployment", "llama-8b")
                .addToAnnotations(Map.of("gpupool.io/node", "gpu-1", "gpupool.io/desired-hash", "abc"))
                .addToManagedFields(new ManagedFieldsEntryBuilder().withManager("modeldeployment")
                        .withOperation("Apply").withFieldsV1(fields).build())
                .build();
    }

    @Test
    void deploymentsKeepMetadataReplicasSelectorAndStatusOnly() {
        Deployment d = new DeploymentBuilder().withMetadata(meta()).withNewSpec().withReplicas(2)
                .withNewSelector().addToMatchLabels("gpupool.io/model-deployment", "llama-8b").endSelector()
                .withNewTemplate().withNewSpec().addNewContainer().withName("server").withImage("vllm").endContainer()
                .endSpec().endTemplate().endSpec()
                .withNewStatus().withReadyReplicas(1).withReplicas(2).endStatus().build();
        SlimDeployments store = new SlimDeployments();

        store.put(store.getKey(d), d);

        Deployment cached = store.get("uni-nlp/llama-8b-ff7710f2");
        assertThat(cached.getMetadata().getManagedFields()).isNullOrEmpty();
        assertThat(cached.getMetadata().getAnnotations()).containsEntry("gpupool.io/desired-hash", "abc")
                .containsEntry("gpupool.io/node", "gpu-1");
        assertThat(cached.getMetadata().getResourceVersion()).isEqualTo("9");
        assertThat(cached.getSpec().getReplicas()).isEqualTo(2);
        assertThat(cached.getSpec().getSelector().getMatchLabels()).containsKey("gpupool.io/model-deployment");
        assertThat(cached.getSpec().getTemplate()).isNull();
        assertThat(cached.getStatus().getReadyReplicas()).isEqualTo(1);
    }

    @Test
    void nodesKeepWhatGpuDiscoveryReads() throws java.io.IOException {
        Node node = Serialization.unmarshal(
                Files.readString(Path.of("src/test/resources/fixtures/nodes/dgx-h100-01.yaml")), Node.class);
        node.getMetadata().getLabels().put("gpupool.io/organization", "uni-nlp");
        node.getMetadata().setManagedFields(List.of(new ManagedFieldsEntryBuilder().withManager("kubelet").build()));
        node.getStatus().setImages(List.of(new ContainerImageBuilder().withNames("nvcr.io/nvidia/vllm:1").build()));
        Optional<GpuNodeSpec> before = GpuNodes.specOf(node, "local");
        SlimNodes store = new SlimNodes();

        store.put(store.getKey(node), node);

        Node cached = store.get(node.getMetadata().getName());
        assertThat(cached.getMetadata().getManagedFields()).isNullOrEmpty();
        assertThat(cached.getStatus().getImages()).isNullOrEmpty();
        assertThat(cached.getStatus().getNodeInfo()).isNull();
        assertThat(before).isPresent();
        assertThat(GpuNodes.sameSpec(GpuNodes.specOf(cached, "local").orElseThrow(), before.get())).isTrue();
    }

    @Test
    void servicesKeepMetadataAndTheirClusterIps() {
        Service s = new ServiceBuilder().withMetadata(meta()).withNewSpec().withClusterIP("10.96.0.7")
                .withClusterIPs(List.of("10.96.0.7")).addToSelector("gpupool.io/model-deployment", "llama-8b")
                .addNewPort().withPort(8000).endPort().endSpec().withNewStatus().endStatus().build();
        SlimServices store = new SlimServices();

        store.put(store.getKey(s), s);

        Service cached = store.get("uni-nlp/llama-8b-ff7710f2");
        assertThat(cached.getMetadata().getManagedFields()).isNullOrEmpty();
        assertThat(cached.getMetadata().getAnnotations()).containsEntry("gpupool.io/desired-hash", "abc");
        assertThat(cached.getSpec().getClusterIP()).isEqualTo("10.96.0.7");
        assertThat(cached.getSpec().getClusterIPs()).containsExactly("10.96.0.7");
        assertThat(cached.getSpec().getPorts()).isNullOrEmpty();
        assertThat(cached.getStatus()).isNull();
    }
}
