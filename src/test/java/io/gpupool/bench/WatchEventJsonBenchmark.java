package io.gpupool.bench;

import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.fabric8.kubernetes.api.model.FieldsV1;
import io.fabric8.kubernetes.api.model.ManagedFieldsEntryBuilder;
import io.fabric8.kubernetes.api.model.WatchEvent;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.gpupool.api.v1alpha1.ModelDeployment;
import io.gpupool.api.v1alpha1.Placement;
import io.gpupool.core.render.ServingRenderer;
import io.gpupool.core.render.ServingSettings;
import io.gpupool.operator.json.FasterJson;
import io.gpupool.testing.PoolFixtures;

/**
 * What the operator pays per object it hears of or writes: JSON. In {@code hack/bench-apiserver.sh admission} Jackson
 * and the Fabric8 model are over half of the operator's Java samples (decoding watch events and responses: a serving Deployment
 * arrives as its create's response and as the watch's ADDED event; encoding the bodies of its writes). Side by side in
 * one run: the Fabric8 client's default mapper ({@code plain}) and the mapper the operator's client gets
 * ({@link FasterJson}: Jackson's Blackbird module, setters and getters called through generated lambdas instead of
 * reflection).
 *
 * <p>The event is what kube-apiserver sends for a serving Deployment the operator created: the rendered object with
 * the server's metadata and the managed-fields entry of the create (every leaf of the object, in its field-set form).
 *
 * <p>Run with {@code hack/bench.sh WatchEventJson -f 1 -wi 2 -i 3}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 3)
@Measurement(iterations = 5, time = 3)
@Fork(value = 1, jvmArgsAppend = { "-XX:ActiveProcessorCount=1", "-Xmx512m" })
public class WatchEventJsonBenchmark {

    @Param({ "plain", "blackbird" })
    public String mapper;

    private KubernetesSerialization json;
    private String event;
    private Deployment deployment;

    @Setup
    public void setUp() {
        ObjectMapper objectMapper = new ObjectMapper();
        if ("blackbird".equals(mapper)) {
            new FasterJson().customize(objectMapper);
        }
        json = new KubernetesSerialization(objectMapper, true);
        deployment = asTheApiServerReturnsIt(json);
        event = "{\"type\":\"ADDED\",\"object\":" + json.asJson(deployment) + "}";
    }

    /** A watch event of a serving Deployment, decoded as the informer decodes it. */
    @Benchmark
    public WatchEvent decodeWatchEvent() {
        return json.unmarshal(event, WatchEvent.class);
    }

    /** A serving Deployment encoded as the body of its create. */
    @Benchmark
    public String encodeDeployment() {
        return json.asJson(deployment);
    }

    static Deployment asTheApiServerReturnsIt(KubernetesSerialization json) {
        ModelDeployment md = PoolFixtures.modelDeployment("lab", "llama-8b", 1, 1);
        md.getMetadata().setUid("6d1c7f5e-2f1a-4c55-9a8e-0b7f3c2a9e11");
        Deployment d = ServingRenderer.deployments(md, List.of(new Placement("local", "node-1", "l4", 1)),
                ServingSettings.DEFAULT).get(0);
        d.getMetadata().setUid("0f3c1a2b-7d4e-4f6a-8b9c-1d2e3f4a5b6c");
        d.getMetadata().setResourceVersion("1234567");
        d.getMetadata().setGeneration(1L);
        d.getMetadata().setCreationTimestamp("2026-12-02T14:00:00Z");
        JsonNode tree = json.convertValue(d, JsonNode.class);
        FieldsV1 fields = new FieldsV1();
        fieldSet(tree).fields().forEachRemaining(f -> fields.setAdditionalProperty(f.getKey(), f.getValue()));
        d.getMetadata().setManagedFields(List.of(new ManagedFieldsEntryBuilder().withManager("gpupool-operator")
                .withOperation("Update").withApiVersion("apps/v1").withTime("2026-12-02T14:00:00Z")
                .withFieldsType("FieldsV1").withFieldsV1(fields).build()));
        return d;
    }

    /** The managed-fields form of an object: every key as "f:key", every leaf as {}. */
    private static ObjectNode fieldSet(JsonNode node) {
        ObjectNode out = new ObjectMapper().createObjectNode();
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext();) {
            Map.Entry<String, JsonNode> f = it.next();
            if (List.of("apiVersion", "kind", "status").contains(f.getKey())) {
                continue;
            }
            out.set("f:" + f.getKey(), f.getValue().isObject() ? fieldSet(f.getValue()) : out.objectNode());
        }
        return out;
    }
}
