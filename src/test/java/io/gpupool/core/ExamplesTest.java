package io.gpupool.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.gpupool.api.v1alpha1.ModelDeployment;
import io.gpupool.core.inventory.Workloads;
import io.gpupool.core.validation.ModelDeploymentValidator;

/** Every example a user may apply parses into the API classes, and every ModelDeployment in them is valid. */
class ExamplesTest {

    @Test
    void examplesAreValid() throws IOException {
        int modelDeployments = 0;
        try (Stream<Path> files = Files.list(Path.of("examples"))) {
            for (Path file : files.filter(p -> p.toString().endsWith(".yaml")).sorted().toList()) {
                Object parsed = Serialization.unmarshal(Files.readString(file));
                List<?> objects = parsed instanceof List<?> l ? l : List.of(parsed);
                assertThat(objects).as(file.toString()).isNotEmpty().allSatisfy(o -> assertThat(o).isInstanceOf(HasMetadata.class));
                for (Object o : objects) {
                    if (o instanceof HasMetadata h && "ModelDeployment".equals(h.getKind())) {
                        ModelDeployment md = Serialization.unmarshal(Serialization.asYaml(h), ModelDeployment.class);
                        modelDeployments++;
                        assertThat(ModelDeploymentValidator.validate(md.getMetadata().getName(), md.getSpec()))
                                .as(file.toString()).isEmpty();
                        assertThat(Workloads.requiredMemoryMiB(md.getSpec())).isPositive();
                    }
                }
            }
        }
        assertThat(modelDeployments).isGreaterThanOrEqualTo(3);
    }
}
