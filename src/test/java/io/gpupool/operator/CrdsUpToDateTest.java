package io.gpupool.operator;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;

/**
 * The CRDs committed under crds/, and their copy in charts/gpupool-operator/crds/, must be exactly what the build
 * generates from the API classes (the Quarkus build, which also runs for this test, writes them to target/kubernetes).
 * Run hack/update-crds.sh after changing the API.
 */
@QuarkusTest
@WithKubernetesTestServer
class CrdsUpToDateTest {

    @Test
    void committedCrdsMatchTheGeneratedOnes() throws IOException {
        assertMatchesGenerated(Path.of("crds"));
    }

    @Test
    void theOperatorChartCarriesTheSameCrds() throws IOException {
        assertMatchesGenerated(Path.of("charts/gpupool-operator/crds"));
    }

    private static void assertMatchesGenerated(Path committed) throws IOException {
        Path generated = Path.of("target/kubernetes");
        try (Stream<Path> files = Files.list(generated)) {
            var crds = files.filter(p -> p.getFileName().toString().endsWith("-v1.yml")).sorted().toList();
            assertThat(crds).hasSize(9);
            for (Path crd : crds) {
                Path mine = committed.resolve(crd.getFileName());
                assertThat(mine).as("%s/%s is missing: run hack/update-crds.sh", committed, crd.getFileName()).exists();
                assertThat(Files.readString(mine))
                        .as("%s/%s is stale: run hack/update-crds.sh and commit it", committed, crd.getFileName())
                        .isEqualTo(Files.readString(crd));
            }
        }
        try (Stream<Path> files = Files.list(committed)) {
            assertThat(files.map(p -> p.getFileName().toString()))
                    .allSatisfy(name -> assertThat(generated.resolve(name)).as("%s/%s is no longer generated", committed, name)
                            .exists());
        }
    }
}
