package io.gpupool.testing;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.gpupool.api.v1alpha1.ApiGroup;
import io.gpupool.core.render.ServingRenderer;
import io.vertx.core.Vertx;

/**
 * Serving pods of a ModelDeployment without a kubelet or a GPU: each is a {@link FakeEngine} bound to a loopback
 * address of its own (127.0.0.N, which Linux routes to lo) and a Pod in the API server with the serving labels,
 * status.podIP = that address, its container port named like the serving port = the engine's port, and Ready. The
 * gateway finds and reaches them as it would real pods.
 */
public final class SimulatedReplicas implements AutoCloseable {

    /** Loopback addresses handed out so far in this JVM (127.0.0.2 and up; 127.0.0.1 stays for everything else). */
    private static final AtomicInteger NEXT = new AtomicInteger(2);

    private final KubernetesClient client;
    private final Vertx vertx;
    private final List<Replica> replicas = new ArrayList<>();

    /** A running replica: its engine and its pod. */
    public record Replica(FakeEngine engine, String namespace, String pod) {
    }

    public SimulatedReplicas(KubernetesClient client, Vertx vertx) {
        this.client = client;
        this.vertx = vertx;
    }

    /** The next loopback address (127.0.0.2 .. 127.0.255.254). */
    public static String nextLoopback() {
        int n = NEXT.getAndIncrement();
        return "127.0." + (n / 254) + "." + (n % 254 + 1);
    }

    /** Starts an engine for a model and its ready pod. */
    public Replica start(String namespace, String modelDeployment, String servedName, Duration serviceTime) {
        FakeEngine engine = new FakeEngine(vertx, nextLoopback(), servedName, serviceTime).start();
        String name = modelDeployment + "-sim-" + engine.host().replace('.', '-');
        Pod pod = new PodBuilder().withNewMetadata().withName(name).withNamespace(namespace)
                .addToLabels(ApiGroup.MANAGED_BY_LABEL, ApiGroup.MANAGED_BY)
                .addToLabels("app.kubernetes.io/component", "model-server")
                .addToLabels(ApiGroup.MODEL_DEPLOYMENT_LABEL, modelDeployment).endMetadata()
                // A scheduler that does not exist: a cluster's control plane (the test tier runs one) leaves the pod
                // alone, nothing binds it or writes its status but this class.
                .withNewSpec().withSchedulerName("gpupool-simulated-replica")
                .addNewContainer().withName(ServingRenderer.CONTAINER_NAME).withImage("simulated-engine")
                .addNewPort().withName(ServingRenderer.PORT_NAME).withContainerPort(engine.port()).endPort()
                .endContainer().endSpec().build();
        client.resource(pod).create();
        var status = new io.fabric8.kubernetes.api.model.PodStatusBuilder().withPhase("Running")
                .withPodIP(engine.host()).addNewCondition().withType("Ready").withStatus("True").endCondition().build();
        client.pods().inNamespace(namespace).withName(name).editStatus(p -> {
            p.setStatus(status);
            return p;
        });
        Replica r = new Replica(engine, namespace, name);
        replicas.add(r);
        return r;
    }

    /** Takes a replica away: its pod is deleted, its engine stops. */
    public void stop(Replica r) {
        client.pods().inNamespace(r.namespace()).withName(r.pod()).withGracePeriod(0).delete();
        r.engine().close();
        replicas.remove(r);
    }

    public List<Replica> all() {
        return List.copyOf(replicas);
    }

    @Override
    public void close() {
        for (Replica r : List.copyOf(replicas)) {
            stop(r);
        }
    }
}
