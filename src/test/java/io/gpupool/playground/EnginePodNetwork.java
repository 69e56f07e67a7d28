package io.gpupool.playground;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import io.fabric8.kubernetes.api.model.Pod;
import io.gpupool.cluster.PodNetwork;
import io.gpupool.core.render.ServingContract;
import io.gpupool.core.render.ServingRenderer;
import io.gpupool.testing.FakeEngine;
import io.gpupool.testing.SimulatedReplicas;
import io.vertx.core.Vertx;

/**
 * The playground's pod network on the real control plane: every serving pod the simulated kubelet starts gets a
 * loopback address of its own as its IP, and a SIMULATED OpenAI engine ({@link FakeEngine}, the model's served name from
 * the serving contract) answers there on the pod's serving port, so that the gateway reaches the pod as it would a real
 * one. Other pods get an address nothing answers on.
 */
public final class EnginePodNetwork implements PodNetwork {

    private final Vertx vertx;
    private final Map<String, FakeEngine> engines = new ConcurrentHashMap<>();

    public EnginePodNetwork(Vertx vertx) {
        this.vertx = vertx;
    }

    @Override
    public String assign(Pod pod) {
        String ip = SimulatedReplicas.nextLoopback();
        String served = null;
        int port = ServingContract.PORT;
        for (var c : pod.getSpec().getContainers()) {
            if (c.getEnv() != null) {
                for (var e : c.getEnv()) {
                    if (ServingContract.GPUPOOL_SERVED_MODEL_NAME.name().equals(e.getName())) {
                        served = e.getValue();
                    }
                }
            }
            if (c.getPorts() != null) {
                for (var p : c.getPorts()) {
                    if (ServingRenderer.PORT_NAME.equals(p.getName()) && p.getContainerPort() != null) {
                        port = p.getContainerPort();
                    }
                }
            }
        }
        if (served != null) {
            engines.put(pod.getMetadata().getUid(), new FakeEngine(vertx, ip, served,
                    EmbeddedKubelet.ENGINE_SERVICE_TIME).forgetBodies().startOn(port));
        }
        return ip;
    }

    @Override
    public void release(Pod pod) {
        FakeEngine engine = engines.remove(pod.getMetadata().getUid());
        if (engine != null) {
            engine.close();
        }
    }
}
