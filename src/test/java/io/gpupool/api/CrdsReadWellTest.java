package io.gpupool.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceColumnDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinitionVersion;
import io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaProps;
import io.fabric8.kubernetes.client.utils.Serialization;

/**
 * The committed CRDs (equal to what the build generates: CrdsUpToDateTest) read well for a person: every schema field
 * has a description for {@code kubectl explain} (so a field added later without one fails here), and
 * {@code kubectl get} prints the columns in the order the kind declares them, status first and AGE last.
 */
class CrdsReadWellTest {

    static Stream<Path> crds() throws IOException {
        return Files.list(Path.of("crds")).filter(p -> p.toString().endsWith(".yml")).sorted();
    }

    static CustomResourceDefinition load(Path file) throws IOException {
        return Serialization.unmarshal(Files.readString(file), CustomResourceDefinition.class);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("crds")
    void everyFieldIsDescribed(Path file) throws IOException {
        List<String> bare = new ArrayList<>();
        for (CustomResourceDefinitionVersion v : load(file).getSpec().getVersions()) {
            collectBare(v.getSchema().getOpenAPIV3Schema(), v.getName(), bare);
        }
        assertThat(bare).as("fields of %s without a description (add @JsonPropertyDescription, or a "
                + "@JsonClassDescription on their type, or a KubernetesFieldDescriptions entry)", file).isEmpty();
    }

    private static void collectBare(JSONSchemaProps schema, String path, List<String> bare) {
        if (schema == null) {
            return;
        }
        if (schema.getProperties() != null) {
            for (Map.Entry<String, JSONSchemaProps> e : schema.getProperties().entrySet()) {
                String p = path + "." + e.getKey();
                String d = e.getValue().getDescription();
                if (d == null || d.isBlank()) {
                    bare.add(p);
                }
                collectBare(e.getValue(), p, bare);
            }
        }
        if (schema.getItems() != null) {
            collectBare(schema.getItems().getSchema(), path + "[]", bare);
        }
        if (schema.getAdditionalProperties() != null) {
            collectBare(schema.getAdditionalProperties().getSchema(), path + "{}", bare);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("crds")
    void printerColumnsAreInTheDeclaredOrderStatusFirstAgeLast(Path file) throws Exception {
        CustomResourceDefinition crd = load(file);
        Class<?> kind = Class.forName("io.gpupool.api.v1alpha1." + crd.getSpec().getNames().getKind());
        List<String> declared = Arrays.stream(kind.getAnnotationsByType(AdditionalPrinterColumn.class))
                .map(AdditionalPrinterColumn::name).toList();
        for (CustomResourceDefinitionVersion v : crd.getSpec().getVersions()) {
            List<CustomResourceColumnDefinition> columns = v.getAdditionalPrinterColumns();
            assertThat(columns).extracting(CustomResourceColumnDefinition::getName)
                    .as("as written on %s", kind.getSimpleName()).containsExactlyElementsOf(declared);
            if (v.getSubresources() != null && v.getSubresources().getStatus() != null) {
                // (A kind without a status, as a GatewayReport that its writer fills in its spec, shows its spec.)
                assertThat(columns.get(0).getJsonPath()).as("the first column shows the status").startsWith(".status.");
            }
            columns.stream().filter(c -> c.getName().equals("Ready") || c.getName().equals("Phase"))
                    .forEach(c -> assertThat(columns.indexOf(c)).as(c.getName() + " comes first").isLessThanOrEqualTo(1));
            CustomResourceColumnDefinition last = columns.get(columns.size() - 1);
            assertThat(last.getName()).isEqualTo("Age");
            assertThat(last.getJsonPath()).isEqualTo(".metadata.creationTimestamp");
            assertThat(columns).as("shares and fractions are integers for people (no 3.4285714285714284)")
                    .filteredOn(c -> c.getName().contains("Share")).allSatisfy(c -> assertThat(c.getType()).isEqualTo("integer"));
        }
    }

    @org.junit.jupiter.api.Test
    void modelDeploymentsScaleLikeDeployments() throws IOException {
        var scale = load(Path.of("crds/modeldeployments.gpupool.io-v1.yml")).getSpec().getVersions().get(0)
                .getSubresources().getScale();
        assertThat(scale).as("kubectl scale md / HorizontalPodAutoscaler").isNotNull();
        assertThat(scale.getSpecReplicasPath()).isEqualTo(".spec.replicas");
        assertThat(scale.getStatusReplicasPath()).isEqualTo(".status.replicas.admitted");
        assertThat(scale.getLabelSelectorPath()).isEqualTo(".status.selector");
        assertThat(load(Path.of("crds/modeldeployments.gpupool.io-v1.yml")).getSpec().getVersions().get(0)
                .getAdditionalPrinterColumns()).filteredOn(c -> c.getName().equals("Model") || c.getName().equals("Endpoint"))
                .as("shown without -o wide").hasSize(2).allSatisfy(c -> assertThat(c.getPriority()).isZero());
    }
}
