package io.gpupool.core.inventory;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.function.Consumer;

import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.gpupool.api.v1alpha1.Placement;
import io.gpupool.core.model.WorkloadId;
import io.gpupool.core.render.ServingRenderer;
import io.gpupool.core.render.ServingSettings;
import io.gpupool.testing.PoolFixtures;

/** Only pods the operator's own Deployments made, bound to the node they claim, hold GPUs in the pool's books. */
class ServingPodsTest {

    private static final String NODE = "a100-80g-01";

    private static Deployment deployment() {
        var md = PoolFixtures.modelDeployment("uni-nlp", "llama-8b", 2, 1);
        return ServingRenderer.deployment(md, new Placement("local", NODE, "a100-80g", 2), ServingSettings.DEFAULT);
    }

    private static Pod pod(Consumer<PodBuilder> edit) {
        PodBuilder b = new PodBuilder(PoolFixtures.servingPod(deployment(), "llama-8b-x", true));
        edit.accept(b);
        return b.build();
    }

    @Test
    void aPodOfTheOperatorsDeploymentBoundToItsNodeCounts() {
        assertThat(ServingPods.claim(pod(b -> {
        }))).contains(new ServingPods.Claim(new WorkloadId("uni-nlp", "llama-8b"), NODE));
        // Still stopping (Terminating) it holds its GPUs: that is what draining means.
        assertThat(ServingPods.claim(pod(b -> b.editMetadata().withDeletionTimestamp("2026-01-01T00:00:00Z")
                .endMetadata()))).isPresent();
    }

    @Test
    void labelsAndAnAnnotationAloneBookNothing() {
        Pod forged = new PodBuilder().withNewMetadata().withName("decoy-0").withNamespace("home-collective")
                .withLabels(deployment().getSpec().getTemplate().getMetadata().getLabels())
                .addToLabels("gpupool.io/model-deployment", "decoy")
                .withAnnotations(deployment().getSpec().getTemplate().getMetadata().getAnnotations()).endMetadata()
                .withSpec(deployment().getSpec().getTemplate().getSpec())
                .withNewStatus().withPhase("Running").endStatus().build();
        assertThat(ServingPods.claim(forged)).isEmpty();
    }

    @Test
    void everyClaimMustHoldTogether() {
        List<Consumer<PodBuilder>> forgeries = List.of(
                // not scheduled yet, or running on another node than the one it names
                b -> b.editSpec().withNodeName(null).endSpec(),
                b -> b.editSpec().withNodeName("t4-01").endSpec(),
                // no controller, a ReplicaSet of another Deployment, or a hash that is not its ReplicaSet's
                b -> b.editMetadata().withOwnerReferences(List.of()).endMetadata(),
                b -> b.editMetadata().editFirstOwnerReference().withName("someone-else-5d8f7c9b6").endOwnerReference()
                        .endMetadata(),
                b -> b.editMetadata().addToLabels(ServingPods.POD_TEMPLATE_HASH_LABEL, "0000").endMetadata(),
                b -> b.editMetadata().editFirstOwnerReference().withKind("StatefulSet").endOwnerReference().endMetadata(),
                // the node hash of another node, or another ModelDeployment than its Deployment's
                b -> b.editMetadata().addToLabels(ServingRenderer.NODE_HASH_LABEL, "00000000").endMetadata(),
                b -> b.editMetadata().addToLabels("gpupool.io/model-deployment", "decoy").endMetadata(),
                // asks for no GPU, so holds none
                b -> b.editSpec().editFirstContainer().editResources().withLimits(java.util.Map.of()).endResources()
                        .endContainer().endSpec(),
                // finished
                b -> b.editStatus().withPhase("Failed").endStatus());
        for (var forgery : forgeries) {
            assertThat(ServingPods.claim(pod(forgery))).isEmpty();
        }
    }
}
