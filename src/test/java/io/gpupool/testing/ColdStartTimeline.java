package io.gpupool.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import io.gpupool.api.v1alpha1.ApiGroup;
import io.gpupool.api.v1alpha1.GatewayReport;
import io.gpupool.api.v1alpha1.ModelDeployment;

/**
 * The steps of a scale from zero, each timed where it is first seen through a watch of the API server: the request
 * arrives (the caller says when), the gateway's report says it holds a request, the replica is admitted (the
 * ModelDeployment's status, or the scheduler's cycle when the caller sees it), the Deployment is created, the replica is
 * ready, the answer arrives. A figure to record and print, never a timed assertion.
 */
public final class ColdStartTimeline implements AutoCloseable {

    private final String model;
    private final List<Watch> watches = new ArrayList<>();
    private final AtomicLong reported = new AtomicLong();
    private final AtomicLong admitted = new AtomicLong();
    private final AtomicLong created = new AtomicLong();
    private final AtomicLong ready = new AtomicLong();
    private long arrived;
    private long answered;

    /**
     * @param gatewayNamespace where the gateway writes its reports
     * @param namespace        the ModelDeployment's namespace
     * @param name             its name
     */
    public ColdStartTimeline(KubernetesClient client, String gatewayNamespace, String namespace, String name) {
        this.model = namespace + "/" + name;
        watches.add(client.resources(GatewayReport.class).inNamespace(gatewayNamespace).watch(firstSeen(reported,
                r -> r.getSpec().models.stream().anyMatch(m -> model.equals(m.model) && m.heldRequests != null))));
        watches.add(client.apps().deployments().inNamespace(namespace).withLabel(ApiGroup.MODEL_DEPLOYMENT_LABEL, name)
                .watch(firstSeen(created, d -> d.getSpec().getReplicas() != null && d.getSpec().getReplicas() > 0)));
        watches.add(client.resources(ModelDeployment.class).inNamespace(namespace).withName(name).watch(
                new Watcher<>() {
                    @Override
                    public void eventReceived(Action action, ModelDeployment md) {
                        var replicas = md.getStatus() == null ? null : md.getStatus().replicas;
                        if (replicas != null && replicas.admitted > 0) {
                            admitted.compareAndSet(0, System.nanoTime());
                        }
                        if (replicas != null && replicas.ready > 0) {
                            ready.compareAndSet(0, System.nanoTime());
                        }
                    }

                    @Override
                    public void onClose(WatcherException cause) {
                    }
                }));
    }

    /** The request leaves the client now. */
    public void arrived() {
        arrived = System.nanoTime();
    }

    /** The replica was admitted at {@code nanos} (the scheduler's own cycle, more precise than the status write). */
    public void admittedAt(long nanos) {
        admitted.accumulateAndGet(nanos, (seen, at) -> seen == 0 ? at : Math.min(seen, at));
    }

    /** The answer came now. */
    public void answered() {
        answered = System.nanoTime();
    }

    /** Whether every step was seen. */
    public boolean complete() {
        return arrived != 0 && answered != 0 && reported.get() != 0 && admitted.get() != 0 && created.get() != 0
                && ready.get() != 0;
    }

    /** The figure, one line: each step's milliseconds since the request arrived, and the load average. */
    public String figure() {
        return String.format(Locale.ROOT, "scale from zero of %s (load average %s): request arrival -> gateway "
                + "report says held %d ms -> replica admitted %d ms -> Deployment created %d ms (the operator's part); "
                + "-> answer %d ms, replica ready in status %d ms (pod start and the SIMULATED model load)", model,
                loadAverage(), since(reported.get()), since(admitted.get()), since(created.get()), since(answered),
                since(ready.get()));
    }

    /** Prints the figure and writes it to {@code file}. */
    public String record(Path file) throws IOException {
        String figure = figure();
        System.out.println("[figure] " + figure);
        Files.createDirectories(file.getParent());
        Files.writeString(file, figure + System.lineSeparator());
        return figure;
    }

    private long since(long nanos) {
        return nanos == 0 ? -1 : Math.max(0, nanos - arrived) / 1_000_000;
    }

    public static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
        } catch (IOException e) {
            return "?";
        }
    }

    private static <T> Watcher<T> firstSeen(AtomicLong at, Predicate<T> matches) {
        return new Watcher<>() {
            @Override
            public void eventReceived(Action action, T resource) {
                try {
                    if (action != Action.DELETED && matches.test(resource)) {
                        at.compareAndSet(0, System.nanoTime());
                    }
                } catch (RuntimeException ignored) {
                    // a resource without the parts looked at
                }
            }

            @Override
            public void onClose(WatcherException cause) {
            }
        };
    }

    @Override
    public void close() {
        watches.forEach(Watch::close);
    }
}
