package io.gpupool.apiserver;

import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Set;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.gpupool.api.v1alpha1.ApiGroup;
import io.gpupool.api.v1alpha1.ApiKey;
import io.gpupool.api.v1alpha1.ModelDeployment;
import io.gpupool.gateway.Gateway;
import io.gpupool.gateway.GatewaySettings;
import io.gpupool.gateway.RemoteUpstreams;
import io.gpupool.operator.apikey.ApiKeyReconciler;
import io.gpupool.testing.EnginePodNetwork;
import io.gpupool.testing.PoolFixtures;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;

/**
 * What the gateway's tests share: keys, models and the GPU servers they run on, SIMULATED engines at their pods' IPs,
 * gateways in-process, a raw HTTP client for status codes.
 */
final class GatewayFixture {

    static final Duration WAIT = Duration.ofSeconds(60);
    /** The GpuClass of the gateway tests' GPU servers (8 H100 each) and their models. */
    static final String GPU_CLASS = "gw-h100";
    static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private GatewayFixture() {
    }

    /** The namespace where tests' gateways write their reports (the operator folds only those). */
    static void gatewayNamespace(KubernetesClient admin) {
        admin.resource(new NamespaceBuilder().withNewMetadata().withName(InProcessOperator.GATEWAY_NAMESPACE)
                .endMetadata().build()).createOr(r -> r.update());
    }

    static Gateway gateway(Vertx vertx, KubernetesClient client, GatewaySettings settings) {
        return gateway(vertx, client, settings, new SimpleMeterRegistry());
    }

    static Gateway gateway(Vertx vertx, KubernetesClient client, GatewaySettings settings, MeterRegistry registry) {
        return Gateway.start(vertx, client, settings, registry, Clock.systemUTC(), RemoteUpstreams.NONE, List.of());
    }

    static GatewaySettings settings(String instance) {
        return GatewaySettings.forTest(InProcessOperator.GATEWAY_NAMESPACE, instance);
    }

    /** Creates an ApiKey and returns its value, read from the Secret the operator wrote. */
    static String key(KubernetesClient admin, String namespace, String name) {
        return key(admin, namespace, name, null);
    }

    /** @param expiresAt the key's spec.expiresAt (RFC 3339), or null */
    static String key(KubernetesClient admin, String namespace, String name, String expiresAt) {
        ApiKey key = new ApiKey();
        key.setMetadata(new ObjectMetaBuilder().withNamespace(namespace).withName(name).build());
        key.getSpec().expiresAt = expiresAt;
        admin.resource(key).create();
        return keyValue(admin, namespace, name);
    }

    static String keyValue(KubernetesClient admin, String namespace, String name) {
        await().atMost(WAIT).until(() -> {
            ApiKey k = admin.resources(ApiKey.class).inNamespace(namespace).withName(name).get();
            return k != null && k.getStatus() != null && k.getStatus().secretName != null;
        });
        ApiKey k = admin.resources(ApiKey.class).inNamespace(namespace).withName(name).get();
        var secret = admin.secrets().inNamespace(namespace).withName(k.getStatus().secretName).get();
        return new String(Base64.getDecoder().decode(secret.getData().get(ApiKeyReconciler.SECRET_KEY)),
                StandardCharsets.UTF_8);
    }

    /**
     * The GpuClass of the tests' GPU servers; the pool's admin adds it once per class's pool (TestPool removes it).
     */
    static TestPool withGpuClass(TestPool pool) {
        return pool.gpuClass(GPU_CLASS, 80000, "NVIDIA-H100-80GB-HBM3");
    }

    /** A GPU server of 8 H100 that an organization contributes, for the operator to place the tests' models on. */
    static Node gpuServer(String name, String organization) {
        return PoolFixtures.node("dgx-h100-01", name, organization);
    }

    /**
     * From now on, the pods of these namespaces that the simulated kubelet runs get their IP from the network, where a
     * serving pod's SIMULATED engine answers; close the returned handle when the class ends.
     */
    static AutoCloseable engines(RealKubeApiServer.Server server, EnginePodNetwork network, String... namespaces) {
        Set<String> in = Set.of(namespaces);
        return server.kubelet().addresses(p -> in.contains(p.getMetadata().getNamespace()), network);
    }

    /** The model of a pod (its ModelDeployment's label), to set engines up per model. */
    static String modelOf(Pod pod) {
        return pod.getMetadata().getLabels() == null ? "" : pod.getMetadata().getLabels()
                .getOrDefault(ApiGroup.MODEL_DEPLOYMENT_LABEL, "");
    }

    /** A ModelDeployment of one replica on the tests' GPU servers. */
    static ModelDeployment model(KubernetesClient admin, String namespace, String name, String servedName,
            boolean shared, Integer maxInFlight) {
        return model(admin, namespace, name, servedName, shared, maxInFlight, 1);
    }

    static ModelDeployment model(KubernetesClient admin, String namespace, String name, String servedName,
            boolean shared, Integer maxInFlight, int replicas) {
        ModelDeployment md = PoolFixtures.modelDeployment(namespace, name, replicas, 1);
        md.getSpec().gpu.classes = List.of(GPU_CLASS);
        md.getSpec().model.maxContextLength = 4096;
        md.getSpec().servedModelName = servedName;
        md.getSpec().shared = shared;
        md.getSpec().maxInFlightPerReplica = maxInFlight;
        return admin.resource(md).create();
    }

    /** A raw POST, for what the official client never sends (malformed JSON, no key ...). */
    static HttpResponse<String> post(String url, String key, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body));
        if (key != null) {
            b.header("Authorization", "Bearer " + key);
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static HttpResponse<String> get(String url, String key) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30)).GET();
        if (key != null) {
            b.header("Authorization", "Bearer " + key);
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static String chat(String model, String content) {
        return "{\"model\":\"" + model + "\",\"messages\":[{\"role\":\"user\",\"content\":\"" + content + "\"}]}";
    }

    static List<String> lines(String s) {
        return new ArrayList<>(List.of(s.split("\n")));
    }
}
