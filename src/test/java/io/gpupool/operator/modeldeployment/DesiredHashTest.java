package io.gpupool.operator.modeldeployment;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.gpupool.api.v1alpha1.ModelDeployment;
import io.gpupool.core.render.ServingRenderer;
import io.gpupool.core.render.ServingSettings;

class DesiredHashTest {

    private static ModelDeployment golden() throws IOException {
        return Serialization.unmarshal(
                Files.readString(Path.of("src/test/resources/golden/vllm-one-node/in-modeldeployment.yaml")),
                ModelDeployment.class);
    }

    private static Deployment render(ModelDeployment md, ServingSettings settings) {
        return DesiredHash.stamp(ServingRenderer.deployment(md, md.getStatus().placements.get(0), settings));
    }

    @Test
    void theSameRenderingMatchesAndAnyRenderedChangeDoesNot() throws IOException {
        Deployment inCluster = render(golden(), ServingSettings.DEFAULT);
        inCluster.getMetadata().getAnnotations().put("deployment.kubernetes.io/revision", "3"); // others' additions
        inCluster.getMetadata().setResourceVersion("42");

        assertThat(DesiredHash.matches(inCluster, render(golden(), ServingSettings.DEFAULT))).isTrue();

        ModelDeployment edited = golden();
        edited.getSpec().model.maxContextLength = edited.getSpec().model.maxContextLength * 2;
        assertThat(DesiredHash.matches(inCluster, render(edited, ServingSettings.DEFAULT))).isFalse();

        ServingSettings otherImage = new ServingSettings("example.org/vllm:other",
                ServingSettings.DEFAULT.llamacppImage(), ServingSettings.DEFAULT.drainGracePeriodSeconds());
        assertThat(DesiredHash.matches(inCluster, render(golden(), otherImage))).isFalse();
    }

    /**
     * The hash is of the rendering's {@code toString()}, not its JSON: it must still see every field the JSON carries.
     * Each leaf of the rendered Deployment's JSON is changed in turn (a string, number or boolean), read back, and
     * must hash differently.
     */
    @Test
    void everyFieldOfTheRenderingCountsInTheHash() throws IOException {
        ModelDeployment md = golden();
        Deployment rendered = ServingRenderer.deployment(md, md.getStatus().placements.get(0), ServingSettings.DEFAULT);
        String original = DesiredHash.of(rendered);
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        com.fasterxml.jackson.databind.JsonNode tree = json.readTree(Serialization.asJson(rendered));
        java.util.List<com.fasterxml.jackson.core.JsonPointer> leaves = new java.util.ArrayList<>();
        collectLeaves(tree, com.fasterxml.jackson.core.JsonPointer.empty(), leaves);
        assertThat(leaves).hasSizeGreaterThan(50);
        for (var leaf : leaves) {
            com.fasterxml.jackson.databind.JsonNode changed = tree.deepCopy();
            var parent = changed.at(leaf.head());
            var value = changed.at(leaf);
            var replacement = value.isBoolean() ? json.getNodeFactory().booleanNode(!value.booleanValue())
                    : value.isNumber() ? json.getNodeFactory().numberNode(value.asLong() + 1)
                            : json.getNodeFactory().textNode(value.asText() + "x");
            if (parent.isObject()) {
                ((com.fasterxml.jackson.databind.node.ObjectNode) parent).set(leaf.last().getMatchingProperty(),
                        replacement);
            } else {
                ((com.fasterxml.jackson.databind.node.ArrayNode) parent).set(leaf.last().getMatchingIndex(), replacement);
            }
            Deployment readBack = Serialization.unmarshal(json.writeValueAsString(changed), Deployment.class);
            assertThat(DesiredHash.of(readBack)).as("changing %s", leaf).isNotEqualTo(original);
        }
    }

    private static void collectLeaves(com.fasterxml.jackson.databind.JsonNode node,
            com.fasterxml.jackson.core.JsonPointer at, java.util.List<com.fasterxml.jackson.core.JsonPointer> leaves) {
        if (node.isObject()) {
            node.fields().forEachRemaining(e -> collectLeaves(e.getValue(), at.appendProperty(e.getKey()), leaves));
        } else if (node.isArray()) {
            for (int i = 0; i < node.size(); i++) {
                collectLeaves(node.get(i), at.appendIndex(i), leaves);
            }
        } else if (!node.isNull()) {
            leaves.add(at);
        }
    }

    @Test
    void aChildWithoutTheAnnotationNeverMatches() throws IOException {
        Service inCluster = ServingRenderer.service(golden()); // written before hashes, or the annotation removed
        Service desired = DesiredHash.stamp(ServingRenderer.service(golden()));
        assertThat(DesiredHash.matches(inCluster, desired)).isFalse();
        inCluster.getMetadata().setAnnotations(null);
        assertThat(DesiredHash.matches(inCluster, desired)).isFalse();
    }

    @Test
    void theHashIsOfTheRenderingBeforeTheAnnotation() throws IOException {
        Service stamped = DesiredHash.stamp(ServingRenderer.service(golden()));
        assertThat(stamped.getMetadata().getAnnotations().get(DesiredHash.ANNOTATION)).hasSize(64)
                .isEqualTo(DesiredHash.of(ServingRenderer.service(golden())));
    }
}
