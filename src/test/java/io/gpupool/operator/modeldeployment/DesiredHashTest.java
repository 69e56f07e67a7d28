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
