package io.gpupool.playground;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodConditionBuilder;
import io.fabric8.kubernetes.api.model.PodStatusBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentStatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.gpupool.cluster.PodNetwork;
import io.gpupool.testing.EnginePodNetwork;
import io.gpupool.testing.PoolFixtures;

/**
 * Stands in for the kubelets AND the Deployment controller of a cluster whose API server is the embedded one (Fabric8's
 * mock, which runs no controllers): the simulated contributed cluster, and the pool's own cluster when the real
 * binaries are missing. On the real control plane the playground uses the harness's
 * {@link io.gpupool.cluster.SimulatedKubelet} instead, under the real controllers and scheduler. A serving Deployment
 * gets its pods, on the node it is pinned to; each pod becomes ready after a load delay, and a pod that is no longer wanted
 * stays a moment before it is gone, as a real one drains its requests (the pool keeps its GPU booked meanwhile). No
 * model is downloaded: given a pod network such as {@link EnginePodNetwork}, each pod gets its IP there, where a
 * SIMULATED engine answers on the pod's serving port.
 */
public final class EmbeddedKubelet implements AutoCloseable {

    static final String COMPONENT_LABEL = "app.kubernetes.io/component";
    static final String MODEL_SERVER = "model-server";
    /** How long a stopping pod lingers (its drain). */
    static final long DRAIN_MILLIS = 2000;

    private final KubernetesClient client;
    private final long loadDelayMillis;
    /** Everything happens on this one thread, so the pods below need no locking. */
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "simulated-kubelet");
        t.setDaemon(true);
        return t;
    });
    /** The pods this kubelet runs, per Deployment (namespace/name), oldest first. */
    private final Map<String, List<SimPod>> pods = new HashMap<>();
    private SharedIndexInformer<Deployment> deployments;

    /** A pod this kubelet runs. */
    private static final class SimPod {
        final String namespace;
        final String name;
        /** The pod as created (its uid), once it has an address; null before. */
        Pod addressed;
        String ip;
        boolean ready;

        SimPod(String namespace, String name) {
            this.namespace = namespace;
            this.name = name;
        }
    }

    /** Gives each pod its IP (and, for an {@link EnginePodNetwork}, its engine); null: pods have no IP. */
    private final PodNetwork network;

    public EmbeddedKubelet(KubernetesClient client, long loadDelayMillis) {
        this(client, loadDelayMillis, null);
    }

    /** @param network gives each pod its IP when not null */
    public EmbeddedKubelet(KubernetesClient client, long loadDelayMillis, PodNetwork network) {
        this.client = client;
        this.loadDelayMillis = loadDelayMillis;
        this.network = network;
    }

    public void start() {
        deployments = client.apps().deployments().inAnyNamespace().withLabel(COMPONENT_LABEL, MODEL_SERVER)
                .inform(new ResourceEventHandler<>() {
                    @Override
                    public void onAdd(Deployment d) {
                        later(() -> sync(key(d)), 0);
                    }

                    @Override
                    public void onUpdate(Deployment before, Deployment d) {
                        later(() -> sync(key(d)), 0);
                    }

                    @Override
                    public void onDelete(Deployment d, boolean unknown) {
                        later(() -> {
                            List<SimPod> gone = pods.remove(key(d));
                            if (gone != null) {
                                gone.forEach(EmbeddedKubelet.this::stop);
                            }
                        }, 0);
                    }
                });
    }

    private void later(Runnable task, long delayMillis) {
        timer.schedule(() -> {
            try {
                task.run();
            } catch (KubernetesClientException e) {
                // A newer version exists: its own event brings another round.
            }
        }, delayMillis, TimeUnit.MILLISECONDS);
    }

    /** Makes the Deployment's pods match its replicas, and its status match its pods. */
    private void sync(String key) {
        Deployment d = deployments.getStore().getByKey(key);
        if (d == null) {
            return;
        }
        int want = d.getSpec().getReplicas() == null ? 1 : d.getSpec().getReplicas();
        List<SimPod> running = pods.computeIfAbsent(key, k -> new ArrayList<>());
        while (running.size() > want) {
            // Scale down: a pod that is not ready yet goes first, else the newest.
            SimPod victim = running.stream().filter(p -> !p.ready).findFirst().orElse(running.get(running.size() - 1));
            running.remove(victim);
            stop(victim);
        }
        while (running.size() < want) {
            running.add(startPod(d, key));
        }
        int ready = (int) running.stream().filter(p -> p.ready).count();
        var status = d.getStatus();
        if (status == null || !Integer.valueOf(ready).equals(status.getReadyReplicas())
                || !Integer.valueOf(running.size()).equals(status.getReplicas())) {
            Deployment current = client.apps().deployments().inNamespace(d.getMetadata().getNamespace())
                    .withName(d.getMetadata().getName()).get();
            if (current != null) {
                current.setStatus(new DeploymentStatusBuilder().withReplicas(running.size()).withReadyReplicas(ready)
                        .withAvailableReplicas(ready).withUpdatedReplicas(running.size())
                        .withObservedGeneration(current.getMetadata().getGeneration()).build());
                client.resource(current).updateStatus();
            }
        }
    }

    private SimPod startPod(Deployment d, String key) {
        SimPod pod = new SimPod(d.getMetadata().getNamespace(),
                d.getMetadata().getName() + "-" + UUID.randomUUID().toString().substring(0, 5));
        // Owned by the Deployment's ReplicaSet and bound to its node, as the pool counts only such pods.
        Pod created = client.resource(PoolFixtures.asDeploymentControllerMakesIt(d, pod.name)).create();
        if (network != null) {
            pod.ip = network.assign(created);
            pod.addressed = created;
        }
        writeStatus(created, false, pod);
        // The model "loads"; then the pod is ready and the Deployment says so.
        later(() -> {
            if (pods.getOrDefault(key, List.of()).contains(pod)) {
                pod.ready = true;
                Pod live = client.pods().inNamespace(pod.namespace).withName(pod.name).get();
                if (live != null) {
                    writeStatus(live, true, pod);
                }
                sync(key);
            }
        }, loadDelayMillis);
        return pod;
    }

    private void writeStatus(Pod pod, boolean ready, SimPod sim) {
        pod.setStatus(new PodStatusBuilder().withPhase("Running")
                .withPodIP(sim.ip)
                .withConditions(new PodConditionBuilder().withType("Ready").withStatus(ready ? "True" : "False").build())
                .build());
        client.resource(pod).updateStatus();
    }

    /**
     * The pod drains for a moment (it still holds its GPU), then is gone. Deleted with a grace period of 0, as a
     * kubelet confirms a pod it has stopped: on a real API server a pod bound to a node otherwise stays Terminating
     * until its kubelet does so, and there is none (its GPU would stay booked for ever).
     */
    private void stop(SimPod pod) {
        pod.ready = false;
        later(() -> {
            client.pods().inNamespace(pod.namespace).withName(pod.name).withGracePeriod(0).delete();
            release(pod);
        }, DRAIN_MILLIS);
    }

    private static String key(Deployment d) {
        return d.getMetadata().getNamespace() + "/" + d.getMetadata().getName();
    }

    @Override
    public void close() {
        if (deployments != null) {
            deployments.close();
        }
        timer.shutdownNow();
        pods.values().forEach(list -> list.forEach(this::release));
    }

    private void release(SimPod pod) {
        if (network != null && pod.addressed != null) {
            network.release(pod.addressed);
            pod.addressed = null;
        }
    }
}
