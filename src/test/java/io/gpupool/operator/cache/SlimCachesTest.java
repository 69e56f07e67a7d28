package io.gpupool.operator.cache;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.ConditionBuilder;
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
import io.gpupool.api.v1alpha1.ModelDeployment;
import io.gpupool.api.v1alpha1.ModelDeploymentStatus;
import io.gpupool.api.v1alpha1.Placement;
import io.gpupool.core.discovery.GpuNodes;
import io.gpupool.testing.PoolFixtures;

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

    /**
     * Objects read from JSON each have their own copies of every string; the caches keep one copy of those that
     * repeat across objects, and every value reads as before.
     */
    @Test
    void repeatedStringsAreKeptOnce() {
        Deployment rendered = new DeploymentBuilder().withMetadata(meta()).editMetadata()
                .addNewOwnerReference().withApiVersion("gpupool.io/v1alpha1").withKind("ModelDeployment")
                .withName("llama-8b").withUid("6d1c7f5e").endOwnerReference().endMetadata()
                .withNewSpec().withReplicas(1).withNewSelector()
                .addToMatchLabels("gpupool.io/model-deployment", "llama-8b").endSelector().endSpec().build();
        String json = Serialization.asJson(rendered);
        Deployment a = Serialization.unmarshal(json, Deployment.class);
        Deployment b = Serialization.unmarshal(json.replace("llama-8b-ff7710f2", "llama-8b-0a0b0c0d"), Deployment.class);
        assertThat(a.getMetadata().getNamespace()).isNotSameAs(b.getMetadata().getNamespace());
        SlimDeployments store = new SlimDeployments();

        store.put(store.getKey(a), a);
        store.put(store.getKey(b), b);

        ObjectMeta one = store.get("uni-nlp/llama-8b-ff7710f2").getMetadata();
        ObjectMeta two = store.get("uni-nlp/llama-8b-0a0b0c0d").getMetadata();
        assertThat(one.getNamespace()).isEqualTo("uni-nlp").isSameAs(two.getNamespace());
        assertThat(one.getLabels().get("gpupool.io/model-deployment")).isEqualTo("llama-8b")
                .isSameAs(two.getLabels().get("gpupool.io/model-deployment"))
                .isSameAs(one.getOwnerReferences().get(0).getName());
        assertThat(one.getOwnerReferences().get(0).getKind()).isEqualTo("ModelDeployment")
                .isSameAs(two.getOwnerReferences().get(0).getKind());
        assertThat(one.getOwnerReferences().get(0).getUid()).isEqualTo("6d1c7f5e")
                .isSameAs(two.getOwnerReferences().get(0).getUid());
        assertThat(store.get("uni-nlp/llama-8b-ff7710f2").getSpec().getSelector().getMatchLabels())
                .containsEntry("gpupool.io/model-deployment", "llama-8b");
        assertThat(one.getName()).isEqualTo("llama-8b-ff7710f2");
        assertThat(Serialization.asJson(store.get("uni-nlp/llama-8b-ff7710f2")))
                .isEqualTo(Serialization.asJson(SlimDeployments.slim(Serialization.unmarshal(json, Deployment.class))));
    }

    @Test
    void modelDeploymentStatusesShareTheirRepeatedStrings() {
        ModelDeployment md = PoolFixtures.modelDeployment("uni-nlp", "llama-8b", 1, 1);
        md.getMetadata().setManagedFields(List.of(new ManagedFieldsEntryBuilder().withManager("kubectl").build()));
        md.setStatus(new ModelDeploymentStatus());
        md.getStatus().phase = "Running";
        md.getStatus().organization = "uni-nlp";
        md.getStatus().placements.add(new Placement("local", "gpu-1", "l4", 1));
        md.getStatus().conditions.add(new ConditionBuilder().withType("Admitted").withStatus("True")
                .withReason("Placed").withMessage("1 replica placed").withLastTransitionTime("2026-12-02T19:00:00Z")
                .build());
        String json = Serialization.asJson(md);
        CachedModelDeployments store = new CachedModelDeployments();

        store.put("uni-nlp/a", Serialization.unmarshal(json, ModelDeployment.class));
        store.put("uni-nlp/b", Serialization.unmarshal(json, ModelDeployment.class));

        ModelDeployment a = store.get("uni-nlp/a");
        ModelDeployment b = store.get("uni-nlp/b");
        assertThat(a.getMetadata().getManagedFields()).isNullOrEmpty();
        assertThat(a.getStatus().phase).isEqualTo("Running").isSameAs(b.getStatus().phase);
        assertThat(a.getStatus().placements.get(0).node).isEqualTo("gpu-1").isSameAs(b.getStatus().placements.get(0).node);
        assertThat(a.getStatus().conditions.get(0).getReason()).isEqualTo("Placed")
                .isSameAs(b.getStatus().conditions.get(0).getReason());
        assertThat(a.getStatus().conditions.get(0).getLastTransitionTime()).isEqualTo("2026-12-02T19:00:00Z")
                .isSameAs(b.getStatus().conditions.get(0).getLastTransitionTime());
        md.getMetadata().setManagedFields(null);
        assertThat(Serialization.asJson(a)).isEqualTo(Serialization.asJson(md));
    }

    @Test
    void immutableLabelsAreKeptAsTheyAre() {
        Deployment built = new DeploymentBuilder().withNewMetadata().withName("d").withNamespace("uni-nlp")
                .withLabels(Map.of("gpupool.io/model-deployment", "llama-8b")).withFinalizers(List.of("x"))
                .endMetadata().build();
        built.getMetadata().setLabels(Map.of("gpupool.io/model-deployment", "llama-8b"));
        built.getMetadata().setFinalizers(List.of("gpupool.io/cleanup"));
        SlimDeployments store = new SlimDeployments();

        store.put(store.getKey(built), built);

        assertThat(store.get("uni-nlp/d").getMetadata().getLabels()).containsEntry("gpupool.io/model-deployment",
                "llama-8b");
        assertThat(store.get("uni-nlp/d").getMetadata().getFinalizers()).containsExactly("gpupool.io/cleanup");
    }
}
