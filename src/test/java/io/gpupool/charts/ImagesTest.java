package io.gpupool.charts;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.gpupool.api.v1alpha1.ServingImages;

/**
 * Every image the charts reference is built from this repository with the commands README gives, under one version:
 * pom.xml's (without -SNAPSHOT) is the charts' version and appVersion and every image tag. Images cannot be built
 * here (no Docker engine); what can be checked is checked: the Dockerfiles' bases pinned by digest, and the rendered
 * charts naming exactly the images the build commands tag.
 */
class ImagesTest {

    static final Pattern FROM = Pattern.compile("(?m)^FROM\\s+(\\S+?):(\\S+?)@sha256:([0-9a-f]{64})(\\s+AS\\s+\\S+)?$");

    static String release() throws IOException {
        Matcher m = Pattern.compile("(?m)^  <version>([^<]+)</version>$").matcher(Files.readString(Path.of("pom.xml")));
        assertThat(m.find()).isTrue();
        return m.group(1).replace("-SNAPSHOT", "");
    }

    /** The images README's build commands tag (docker build ... -t IMAGE:TAG ...). */
    static List<String> builtByReadme() throws IOException {
        List<String> images = new ArrayList<>();
        Matcher m = Pattern.compile("docker build -f (\\S+) -t (\\S+) (\\S+)").matcher(Files.readString(Path.of("README.md")));
        while (m.find()) {
            assertThat(Path.of(m.group(1))).as("README builds with %s", m.group(1)).isRegularFile();
            assertThat(Path.of(m.group(3))).as("build context %s", m.group(3)).isDirectory();
            images.add(m.group(2));
        }
        return images;
    }

    @Test
    void oneVersionForThePomTheChartsAndEveryImage() throws IOException {
        String v = release();
        for (String chart : List.of("gpupool-operator", "gpupool-contributor")) {
            String yaml = Files.readString(RenderedChart.CHARTS.resolve(chart).resolve("Chart.yaml"));
            assertThat(yaml).as(chart).containsPattern("(?m)^version: " + Pattern.quote(v) + "$")
                    .containsPattern("(?m)^appVersion: \"" + Pattern.quote(v) + "\"$");
        }
        assertThat(builtByReadme()).containsExactlyInAnyOrder("ghcr.io/gpupool/gpupool-operator:" + v,
                "ghcr.io/gpupool/inference-vllm:" + v, "ghcr.io/gpupool/inference-llamacpp:" + v);
        assertThat(ServingImages.DEFAULT_VLLM).isEqualTo("ghcr.io/gpupool/inference-vllm:" + v);
        assertThat(ServingImages.DEFAULT_LLAMACPP).isEqualTo("ghcr.io/gpupool/inference-llamacpp:" + v);
    }

    @Test
    void theChartsRunTheImagesTheBuildNames() throws IOException {
        List<String> built = builtByReadme();
        RenderedChart operator = RenderedChart.render("gpupool-operator", "gpupool-system", List.of(), Map.of());
        for (Deployment d : operator.all(Deployment.class)) {
            d.getSpec().getTemplate().getSpec().getContainers()
                    .forEach(c -> assertThat(built).as("image of %s", d.getMetadata().getName()).contains(c.getImage()));
        }
        var pool = OperatorChartTest.gpuPool(operator);
        assertThat(built).contains(pool.getSpec().servingImages.vllm, pool.getSpec().servingImages.llamacpp);
        RenderedChart contributor = RenderedChart.render("gpupool-contributor", "gpupool-contributor", List.of(),
                Map.of("organization", "uni-nlp", "clusterName", "home-lab"));
        Deployment agent = contributor.all(Deployment.class).get(0);
        assertThat(built).contains(agent.getSpec().getTemplate().getSpec().getContainers().get(0).getImage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"src/main/docker/Dockerfile.jvm", "src/main/docker/Dockerfile.native-micro",
            "inference-image/vllm/Dockerfile", "inference-image/llamacpp/Dockerfile"})
    void everyBaseIsPinnedByDigest(String file) throws IOException {
        String text = Files.readString(Path.of(file));
        List<String> froms = text.lines().filter(l -> l.startsWith("FROM ")).toList();
        assertThat(froms).isNotEmpty().allSatisfy(f -> assertThat(FROM.matcher(f).matches()).as(f).isTrue());
        Matcher m = FROM.matcher(text);
        while (m.find()) {
            assertThat(m.group(2)).as("a tag, not latest").isNotEqualTo("latest");
            assertThat(text).as("says how to refresh the digest of %s", m.group(1))
                    .contains("docker buildx imagetools inspect " + m.group(1) + ":" + m.group(2));
        }
    }

    @Test
    void theOperatorImageRunsAsANonRootNumericUserOnTheManagementPort() throws IOException {
        String jvm = Files.readString(Path.of("src/main/docker/Dockerfile.jvm"));
        assertThat(jvm).containsPattern("(?m)^USER 185$").containsPattern("(?m)^EXPOSE 9000$")
                .contains("target/quarkus-app/quarkus-run.jar".replace("target/quarkus-app/", "/deployments/"));
        assertThat(Files.readString(Path.of(".dockerignore"))).contains("!pom.xml", "!operator/");
    }
}
