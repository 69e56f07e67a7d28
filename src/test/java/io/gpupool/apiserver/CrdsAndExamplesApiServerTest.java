package io.gpupool.apiserver;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;

@ApiServerTier
class CrdsAndExamplesApiServerTest {

    @Test
    void everyCrdIsAcceptedAndEstablished(RealKubeApiServer.Server server) {
        List<CustomResourceDefinition> crds = server.applyCrds();
        assertThat(crds).hasSize(5);
        for (CustomResourceDefinition crd : crds) {
            CustomResourceDefinition live = server.admin().apiextensions().v1().customResourceDefinitions()
                    .withName(crd.getMetadata().getName()).get();
            assertThat(RealKubeApiServer.established(live)).as(crd.getMetadata().getName()).isTrue();
        }
    }
}
