package io.gpupool.playground;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentStatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;

/**
 * Stands in for the kubelets and the Deployment controller of the simulated clusters: a serving Deployment's replicas
 * become ready after a load delay. No engine runs and no model is downloaded.
 */
final class SimulatedKubelet implements AutoCloseable {

    private final KubernetesClient client;
    private final long loadDelayMillis;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "simulated-kubelet");
        t.setDaemon(true);
        return t;
    });
    private SharedIndexInformer<Deployment> informer;

    SimulatedKubelet(KubernetesClient client, long loadDelayMillis) {
        this.client = client;
        this.loadDelayMillis = loadDelayMillis;
    }

    void start() {
        informer = client.apps().deployments().inAnyNamespace()
                .withLabel("app.kubernetes.io/component", "model-server")
                .inform(new ResourceEventHandler<>() {
                    @Override
                    public void onAdd(Deployment d) {
                        schedule(d);
                    }

                    @Override
                    public void onUpdate(Deployment before, Deployment d) {
                        schedule(d);
                    }

                    @Override
                    public void onDelete(Deployment d, boolean unknown) {
                    }
                });
    }

    private void schedule(Deployment d) {
        int want = d.getSpec().getReplicas() == null ? 1 : d.getSpec().getReplicas();
        Integer ready = d.getStatus() == null ? null : d.getStatus().getReadyReplicas();
        if (ready != null && ready == want) {
            return;
        }
        // Going down is immediate (pods stop); going up takes the model's load time.
        long delay = ready != null && ready > want ? 0 : loadDelayMillis;
        timer.schedule(() -> becomeReady(d.getMetadata().getNamespace(), d.getMetadata().getName()), delay,
                TimeUnit.MILLISECONDS);
    }

    private void becomeReady(String namespace, String name) {
        try {
            Deployment current = client.apps().deployments().inNamespace(namespace).withName(name).get();
            if (current == null) {
                return;
            }
            int want = current.getSpec().getReplicas() == null ? 1 : current.getSpec().getReplicas();
            current.setStatus(new DeploymentStatusBuilder().withReplicas(want).withReadyReplicas(want)
                    .withAvailableReplicas(want).withUpdatedReplicas(want)
                    .withObservedGeneration(current.getMetadata().getGeneration()).build());
            client.apps().deployments().inNamespace(namespace).resource(current).updateStatus();
        } catch (KubernetesClientException e) {
            // A newer version exists: its own update event schedules another round.
        }
    }

    @Override
    public void close() {
        if (informer != null) {
            informer.close();
        }
        timer.shutdownNow();
    }
}
