package io.gpupool.apiserver;

import static io.gpupool.apiserver.RawObjects.JSON;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;

/**
 * The CRD schemas reject bad objects at the door: the real API server answers 422 and names the field. (The Fabric8
 * mock server validates nothing, so this is the only tier that checks what the schema promises.)
 */
@ApiServerTier
class SchemaValidationApiServerTest {

    private static final String NS = "schema-validation";
    private static int seq;

    @BeforeAll
    static void setUp(RealKubeApiServer.Server server) {
        server.applyCrds();
        server.admin().namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(NS).endMetadata().build())
                .createOr(r -> r.update());
    }

    static Arguments bad(String field, String kind, Consumer<ObjectNode> mutate) {
        return Arguments.of(field, kind, mutate);
    }

    static Stream<Arguments> invalidObjects() {
        return Stream.of(
                bad("spec.replicas", "ModelDeployment", o -> RawObjects.set(o, "spec.replicas", JSON.valueToTree(-1))),
                bad("spec.replicas", "ModelDeployment", o -> RawObjects.set(o, "spec.replicas", TextNode.valueOf("two"))),
                bad("spec.replicas", "ModelDeployment", o -> RawObjects.set(o, "spec.replicas", JSON.valueToTree(1.5))),
                bad("spec.gpu.count", "ModelDeployment", o -> RawObjects.set(o, "spec.gpu.count", JSON.valueToTree(0))),
                bad("spec.gpu.count", "ModelDeployment", o -> RawObjects.set(o, "spec.gpu.count", JSON.valueToTree(65))),
                bad("spec.gpu.minMemoryMiB", "ModelDeployment", o -> RawObjects.set(o, "spec.gpu.minMemoryMiB", JSON.valueToTree(0))),
                bad("spec.gpu.classes[0]", "ModelDeployment", o -> RawObjects.set(o, "spec.gpu.classes", RawObjects.array("Not_A_Class"))),
                bad("spec.model.dtype", "ModelDeployment", o -> RawObjects.set(o, "spec.model.dtype", TextNode.valueOf("fp64"))),
                bad("spec.engine", "ModelDeployment", o -> RawObjects.set(o, "spec.engine", TextNode.valueOf("tgi"))),
                bad("spec.model.source", "ModelDeployment", o -> RawObjects.set(o, "spec.model.source", TextNode.valueOf("not a url"))),
                bad("spec.model.source", "ModelDeployment", o -> RawObjects.remove(o, "spec.model.source")),
                bad("spec.model", "ModelDeployment", o -> RawObjects.remove(o, "spec.model")),
                bad("spec.model.maxContextLength", "ModelDeployment", o -> RawObjects.set(o, "spec.model.maxContextLength", JSON.valueToTree(10))),
                bad("spec.model.parametersBillions", "ModelDeployment", o -> RawObjects.set(o, "spec.model.parametersBillions", JSON.valueToTree(0))),
                bad("spec.model.revision", "ModelDeployment", o -> RawObjects.set(o, "spec.model.revision", TextNode.valueOf(""))),
                bad("spec.model.file", "ModelDeployment", o -> RawObjects.set(o, "spec.model.file", TextNode.valueOf("weights.bin"))),
                bad("spec.model.architecture.layers", "ModelDeployment", o -> RawObjects.at(o, "spec.model.architecture").put("headDim", 128).put("kvHeads", 8)),
                bad("spec.priority", "ModelDeployment", o -> RawObjects.set(o, "spec.priority", JSON.valueToTree(1_000_000_000_000L))),
                bad("spec.hfTokenSecretRef.name", "ModelDeployment", o -> RawObjects.at(o, "spec.hfTokenSecretRef").put("key", "token")),
                bad("spec.shared", "ModelDeployment", o -> RawObjects.set(o, "spec.shared", TextNode.valueOf("yes"))),
                bad("spec.engineArgs", "ModelDeployment", o -> RawObjects.set(o, "spec.engineArgs", JSON.valueToTree(
                        java.util.Collections.nCopies(65, "--x")))),
                bad("spec.quota.weight", "Organization", o -> RawObjects.set(o, "spec.quota.weight", JSON.valueToTree(-1))),
                bad("spec.quota.nominal[0].gpus", "Organization", o -> RawObjects.set(o, "spec.quota.nominal",
                        JSON.valueToTree(List.of(java.util.Map.of("gpuClass", "l4", "gpus", -2))))),
                bad("spec.quota.nominal[0].gpuClass", "Organization", o -> RawObjects.set(o, "spec.quota.nominal",
                        JSON.valueToTree(List.of(java.util.Map.of("gpus", 2))))),
                bad("spec.value", "GpuClass", o -> RawObjects.set(o, "spec.value", JSON.valueToTree(1001))),
                bad("spec.match.minMemoryMiB", "GpuClass", o -> RawObjects.set(o, "spec.match.minMemoryMiB", JSON.valueToTree(-1))),
                bad("spec.fairShare.mode", "GpuPool", o -> RawObjects.set(o, "spec.fairShare.mode", TextNode.valueOf("Greedy"))),
                bad("spec.fairShare.commonsReservePercent", "GpuPool", o -> RawObjects.set(o, "spec.fairShare.commonsReservePercent", JSON.valueToTree(101))),
                bad("spec.heartbeatTimeoutSeconds", "GpuPool", o -> RawObjects.set(o, "spec.heartbeatTimeoutSeconds", JSON.valueToTree(1))),
                bad("spec.cluster", "GpuNode", o -> RawObjects.set(o, "spec.cluster", TextNode.valueOf("Not_A_Cluster"))));
    }

    /** A valid object of the kind, to be broken by one mutation. */
    static ObjectNode valid(String kind, String name) {
        return switch (kind) {
            case "ModelDeployment" -> RawObjects.modelDeployment(NS, name);
            case "Organization" -> RawObjects.object(kind, null, name);
            case "GpuClass" -> {
                ObjectNode o = RawObjects.object(kind, null, name);
                RawObjects.at(o, "spec.match").set("products", RawObjects.array("NVIDIA-L4"));
                yield o;
            }
            case "GpuPool" -> RawObjects.object(kind, null, "default");
            case "GpuNode" -> {
                ObjectNode o = RawObjects.object(kind, NS, name);
                ObjectNode spec = RawObjects.at(o, "spec");
                spec.put("cluster", "edge").put("nodeName", "n1").put("organization", "org-a");
                spec.putObject("gpu").put("product", "NVIDIA-L4").put("count", 1).put("memoryMiB", 23034);
                yield o;
            }
            default -> throw new IllegalArgumentException(kind);
        };
    }

    @ParameterizedTest(name = "{1} with bad {0} is refused")
    @MethodSource("invalidObjects")
    void invalidObjectIsRefusedWith422NamingTheField(String field, String kind, Consumer<ObjectNode> mutate,
            RealKubeApiServer.Server server) {
        ObjectNode good = valid(kind, "bad-" + (++seq));
        // The unmutated object is accepted (so the 422 below is the mutation's doing); dry-run keeps nothing.
        GenericKubernetesResource accepted = server.admin().resource(RawObjects.generic(good)).dryRun().create();
        assertThat(accepted.getMetadata().getName()).isEqualTo(good.path("metadata").path("name").asText());

        ObjectNode bad = good.deepCopy();
        mutate.accept(bad);
        KubernetesClientException e = catchThrowableOfType(KubernetesClientException.class,
                () -> RawObjects.create(server.admin(), bad));
        assertThat(e).as("%s with bad %s was accepted: %s", kind, field, bad).isNotNull();
        assertThat(e.getCode()).as(e.getMessage()).isEqualTo(422);
        // 1.20 names list items without their index (spec.gpu.classes); newer servers add it (spec.gpu.classes[0]).
        assertThat(e.getStatus().getDetails().getCauses()).as(e.getMessage())
                .anySatisfy(c -> assertThat(withoutIndex(c.getField())).isEqualTo(withoutIndex(field)));
        assertThat(withoutIndex(e.getMessage())).contains(withoutIndex(field));
    }

    static String withoutIndex(String path) {
        return path.replaceAll("\\[\\d+\\]", "");
    }

    @Test
    @SuppressWarnings("unchecked")
    void unknownFieldsArePrunedNotStored(RealKubeApiServer.Server server) {
        ObjectNode md = RawObjects.modelDeployment(NS, "pruned");
        RawObjects.at(md, "spec").put("replica", 3).put("gpus", 2);
        RawObjects.at(md, "spec.model").put("quantization", "awq");
        GenericKubernetesResource stored = RawObjects.create(server.admin(), md);
        var spec = (java.util.Map<String, Object>) stored.getAdditionalProperties().get("spec");
        assertThat(spec).doesNotContainKeys("replica", "gpus").containsEntry("replicas", 1);
        assertThat((java.util.Map<String, Object>) spec.get("model")).doesNotContainKey("quantization")
                .containsEntry("dtype", "bf16").containsEntry("revision", "main");
        server.admin().resource(stored).delete();
    }
}
