package io.gpupool.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.gpupool.api.v1alpha1.GpuPool;
import io.gpupool.api.v1alpha1.ModelDeployment;
import io.gpupool.core.render.ModelCacheClaims;
import io.gpupool.core.render.ServingRenderer;
import io.gpupool.core.render.ServingSettings;

/**
 * Golden files (Kroxylicious style): each folder under src/test/resources/golden holds an input ModelDeployment whose
 * status carries its placements, and the objects the renderer must produce, one file per object
 * (out-&lt;Kind&gt;-&lt;name&gt;.yaml), with the pool's settings from in-gpupool.yaml when the folder has one. Run with -Dgpupool.golden.update=true to rewrite the expected files after an
 * intended change, then review the diff.
 */
class ServingRendererGoldenTest {

    static final Path GOLDEN = Path.of("src/test/resources/golden");

    static Stream<String> cases() throws IOException {
        try (Stream<Path> dirs = Files.list(GOLDEN)) {
            return dirs.filter(Files::isDirectory).map(p -> p.getFileName().toString()).sorted().toList().stream();
        }
    }

    @ParameterizedTest
    @MethodSource("cases")
    void rendersTheExpectedObjects(String name) throws IOException {
        Path dir = GOLDEN.resolve(name);
        ModelDeployment md = Serialization.unmarshal(Files.readString(dir.resolve("in-modeldeployment.yaml")),
                ModelDeployment.class);
        // A case may bring its pool (in-gpupool.yaml); the default pool otherwise.
        Path poolFile = dir.resolve("in-gpupool.yaml");
        ServingSettings settings = Files.exists(poolFile)
                ? ServingSettings.from(Serialization.unmarshal(Files.readString(poolFile), GpuPool.class).getSpec())
                : ServingSettings.DEFAULT;
        List<HasMetadata> rendered = new ArrayList<>(
                ServingRenderer.deployments(md, md.getStatus().placements, settings));
        rendered.add(ServingRenderer.service(md));
        rendered.addAll(ModelCacheClaims.claims(md, md.getStatus().placements, settings));

        boolean update = Boolean.getBoolean("gpupool.golden.update");
        List<String> expectedFiles = new ArrayList<>();
        for (HasMetadata object : rendered) {
            String file = "out-" + object.getKind() + "-" + object.getMetadata().getName() + ".yaml";
            expectedFiles.add(file);
            String yaml = Serialization.asYaml(object);
            if (update) {
                Files.writeString(dir.resolve(file), yaml);
            }
            assertThat(dir.resolve(file)).as("golden file %s/%s", name, file).exists();
            assertThat(yaml).as("%s/%s differs from what the renderer produces", name, file)
                    .isEqualTo(Files.readString(dir.resolve(file)));
        }
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString()).filter(f -> f.startsWith("out-")))
                    .as("every expected object is rendered, and nothing else")
                    .containsExactlyInAnyOrderElementsOf(expectedFiles);
        }
    }
}
