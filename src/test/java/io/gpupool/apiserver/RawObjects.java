package io.gpupool.apiserver;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.gpupool.api.v1alpha1.ApiGroup;

/**
 * Objects as raw JSON trees, so that a test can send what a typed client never would (wrong types, unknown fields):
 * the API server, not Jackson, has to refuse them.
 */
final class RawObjects {

    static final ObjectMapper JSON = new ObjectMapper();
    static final String API_VERSION = ApiGroup.GROUP + "/" + ApiGroup.VERSION;

    private RawObjects() {
    }

    /** A valid vLLM ModelDeployment of an 8B model: 1 replica on 1 GPU, about 20 GiB. */
    static ObjectNode modelDeployment(String namespace, String name) {
        ObjectNode md = JSON.createObjectNode();
        md.put("apiVersion", API_VERSION).put("kind", "ModelDeployment");
        md.putObject("metadata").put("name", name).put("namespace", namespace);
        ObjectNode spec = md.putObject("spec");
        ObjectNode model = spec.putObject("model");
        model.put("source", "hf://meta-llama/Llama-3.1-8B-Instruct");
        model.put("parametersBillions", 8);
        model.put("maxContextLength", 4096);
        spec.put("replicas", 1);
        spec.putObject("gpu").put("count", 1);
        return md;
    }

    static ObjectNode object(String kind, String namespace, String name) {
        ObjectNode o = JSON.createObjectNode();
        o.put("apiVersion", API_VERSION).put("kind", kind);
        ObjectNode meta = o.putObject("metadata").put("name", name);
        if (namespace != null) {
            meta.put("namespace", namespace);
        }
        o.putObject("spec");
        return o;
    }

    /** The object node at a dotted path (e.g. "spec.model"), created when missing. */
    static ObjectNode at(ObjectNode root, String dottedPath) {
        ObjectNode node = root;
        if (dottedPath.isEmpty()) {
            return node;
        }
        for (String part : dottedPath.split("\\.")) {
            JsonNode next = node.get(part);
            if (next == null || !next.isObject()) {
                next = node.putObject(part);
            }
            node = (ObjectNode) next;
        }
        return node;
    }

    static String parent(String dottedPath) {
        int i = dottedPath.lastIndexOf('.');
        return i < 0 ? "" : dottedPath.substring(0, i);
    }

    static String leaf(String dottedPath) {
        return dottedPath.substring(dottedPath.lastIndexOf('.') + 1);
    }

    static ObjectNode set(ObjectNode root, String dottedPath, JsonNode value) {
        at(root, parent(dottedPath)).set(leaf(dottedPath), value);
        return root;
    }

    static ObjectNode remove(ObjectNode root, String dottedPath) {
        at(root, parent(dottedPath)).remove(leaf(dottedPath));
        return root;
    }

    static ArrayNode array(Object... values) {
        return JSON.valueToTree(java.util.List.of(values));
    }

    static GenericKubernetesResource generic(JsonNode node) {
        return JSON.convertValue(node, GenericKubernetesResource.class);
    }

    /** Creates the object exactly as given (the JSON types are kept); returns what the server stored. */
    static GenericKubernetesResource create(KubernetesClient client, JsonNode node) {
        return client.resource(generic(node)).create();
    }
}
