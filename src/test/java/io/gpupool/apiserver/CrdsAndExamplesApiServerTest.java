package io.gpupool.apiserver;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;

/**
 * The committed CRDs are accepted by a real API server and become Established, and every example in examples/ is
 * accepted unchanged: what is read back contains every field of the file with the same value (the server may add
 * defaults, but it must not prune or coerce anything a user wrote).
 */
@ApiServerTier
class CrdsAndExamplesApiServerTest {

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<GenericKubernetesResource> created = new ArrayList<>();

    @BeforeAll
    static void crds(RealKubeApiServer.Server server) {
        server.applyCrds();
    }

    @Test
    void everyCrdIsAcceptedAndEstablished(RealKubeApiServer.Server server) throws IOException {
        List<CustomResourceDefinition> crds = server.applyCrds();
        try (Stream<Path> files = Files.list(Path.of("crds"))) {
            assertThat(crds).hasSize((int) files.count()).hasSizeGreaterThanOrEqualTo(5);
        }
        for (CustomResourceDefinition crd : crds) {
            CustomResourceDefinition live = server.admin().apiextensions().v1().customResourceDefinitions()
                    .withName(crd.getMetadata().getName()).get();
            assertThat(RealKubeApiServer.established(live)).as(crd.getMetadata().getName()).isTrue();
            assertThat(live.getStatus().getAcceptedNames().getKind()).isEqualTo(crd.getSpec().getNames().getKind());
            // The server accepted the schema as structural: no NonStructuralSchema condition.
            assertThat(live.getStatus().getConditions()).noneMatch(c -> "NonStructuralSchema".equals(c.getType())
                    && "True".equals(c.getStatus()));
        }
    }

    @Test
    void everyExampleIsAcceptedUnchanged(RealKubeApiServer.Server server) throws IOException {
        KubernetesClient client = server.admin();
        int customResources = 0;
        int namespaces = 0;
        for (JsonNode doc : examples()) {
            GenericKubernetesResource sent = JSON.treeToValue(doc, GenericKubernetesResource.class);
            String what = sent.getKind() + " " + sent.getMetadata().getName() + " (" + doc.path("_file").asText() + ")";
            sent.getAdditionalProperties().remove("_file");
            ((com.fasterxml.jackson.databind.node.ObjectNode) doc).remove("_file");
            GenericKubernetesResource stored = client.resource(sent).createOr(r -> r.update());
            if (!"Namespace".equals(sent.getKind())) {
                created.add(stored);
            }
            GenericKubernetesResource readBack = client.resource(sent).get();
            JsonNode back = JSON.valueToTree(readBack);
            if ("Namespace".equals(sent.getKind())) {
                namespaces++;
                assertContains(what + " metadata.labels", doc.path("metadata").path("labels"),
                        back.path("metadata").path("labels"));
            } else {
                customResources++;
                assertThat(doc.has("spec")).as(what).isTrue();
                assertContains(what + " spec", doc.path("spec"), back.path("spec"));
            }
        }
        assertThat(namespaces).isEqualTo(3);
        assertThat(customResources).isGreaterThanOrEqualTo(10);
    }

    @AfterAll
    static void removeExamples(RealKubeApiServer.Server server) {
        // Leave the server as found for the other classes of the tier (namespaces stay: without
        // kube-controller-manager a deleted namespace would stay Terminating). No operator ran: no finalizers.
        for (GenericKubernetesResource r : created) {
            server.admin().resource(r).delete();
        }
    }

    /** Every document of every examples/*.yaml as a JSON tree, in file order, with its file in "_file". */
    static List<JsonNode> examples() throws IOException {
        List<JsonNode> docs = new ArrayList<>();
        try (Stream<Path> files = Files.list(Path.of("examples"))) {
            for (Path f : files.filter(p -> p.toString().endsWith(".yaml")).sorted().toList()) {
                try (var parser = YAML.createParser(f.toFile())) {
                    for (JsonNode doc : YAML.readValues(parser, JsonNode.class).readAll()) {
                        if (doc != null && doc.isObject()) {
                            ((com.fasterxml.jackson.databind.node.ObjectNode) doc).put("_file", f.getFileName().toString());
                            docs.add(doc);
                        }
                    }
                }
            }
        }
        return docs;
    }

    /** Every field of expected is in actual with an equal value (numbers compared by value); lists element-wise. */
    static void assertContains(String path, JsonNode expected, JsonNode actual) {
        if (expected.isMissingNode()) {
            return;
        }
        assertThat(actual.isMissingNode() || actual.isNull()).as("%s was pruned", path).isFalse();
        if (expected.isObject()) {
            assertThat(actual.isObject()).as("%s is no longer an object: %s", path, actual).isTrue();
            expected.fields().forEachRemaining(e -> assertContains(path + "." + e.getKey(), e.getValue(),
                    actual.path(e.getKey())));
        } else if (expected.isArray()) {
            assertThat(actual.isArray()).as("%s is no longer a list: %s", path, actual).isTrue();
            assertThat(actual.size()).as("%s length", path).isEqualTo(expected.size());
            for (int i = 0; i < expected.size(); i++) {
                assertContains(path + "[" + i + "]", expected.get(i), actual.get(i));
            }
        } else if (expected.isNumber()) {
            assertThat(actual.isNumber()).as("%s is no longer a number: %s", path, actual).isTrue();
            assertThat(actual.decimalValue().compareTo(expected.decimalValue())).as("%s: %s != %s", path, actual, expected)
                    .isZero();
        } else {
            assertThat(actual).as(path).isEqualTo(expected);
        }
    }

}
