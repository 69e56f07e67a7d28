package io.gpupool.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.WatchEvent;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.gpupool.api.v1alpha1.ModelDeployment;
import io.gpupool.testing.PoolFixtures;

/**
 * The pool's custom resources are known to Fabric8's deserializer by class (META-INF/services), so that a watch event
 * decodes its object as that class in one pass, not as a GenericKubernetesResource converted afterwards.
 */
class KubernetesResourcesListedTest {

    private static final Path API = Path.of("operator/src/main/java/io/gpupool/api/v1alpha1");
    private static final Path LIST = Path.of(
            "operator/src/main/resources/META-INF/services/io.fabric8.kubernetes.api.model.KubernetesResource");

    @Test
    void everyCustomResourceIsListed() throws IOException {
        List<String> listed = Files.readAllLines(LIST).stream().map(String::trim)
                .filter(l -> !l.isEmpty() && !l.startsWith("#")).toList();
        List<String> customResources;
        try (Stream<Path> files = Files.list(API)) {
            customResources = files.filter(f -> read(f).contains(" extends CustomResource<"))
                    .map(f -> "io.gpupool.api.v1alpha1." + f.getFileName().toString().replace(".java", "")).toList();
        }

        assertThat(customResources).hasSizeGreaterThanOrEqualTo(9);
        assertThat(listed).containsExactlyInAnyOrderElementsOf(customResources);
    }

    @Test
    void aWatchEventDecodesItsObjectAsTheClass() {
        KubernetesSerialization json = new KubernetesSerialization();
        ModelDeployment md = PoolFixtures.modelDeployment("uni-nlp", "llama-8b", 1, 1);

        WatchEvent event = json.unmarshal("{\"type\":\"ADDED\",\"object\":" + json.asJson(md) + "}", WatchEvent.class);

        assertThat(event.getObject()).isInstanceOf(ModelDeployment.class);
        assertThat(((ModelDeployment) event.getObject()).getSpec().model).isNotNull();
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
