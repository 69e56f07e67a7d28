package io.gpupool.bench.apiserver;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.gpupool.api.v1alpha1.ApiGroup;
import io.gpupool.api.v1alpha1.ModelDeployment;
import io.gpupool.core.status.Conditions;

/**
 * Client-side timestamps from watches (informers), on this JVM's monotonic clock ({@link System#nanoTime()}): when
 * each ModelDeployment was first seen with a status and admitted, and when its first serving Deployment was first
 * seen. The API server's own timestamps have one-second resolution; these have the watch's delivery delay
 * instead (the handlers only record a time).
 */
final class WatchClock implements AutoCloseable {

    /** Admitted: the Admitted condition is True with reason Admitted, i.e. every replica is admitted. */
    static final Predicate<ModelDeployment> ADMITTED = md -> md.getStatus() != null && Conditions
            .find(md.getStatus().conditions, Conditions.ADMITTED)
            .map(c -> "True".equals(c.getStatus()) && "Admitted".equals(c.getReason())).orElse(false);
    static final Predicate<ModelDeployment> HAS_STATUS = md -> md.getStatus() != null
            && md.getStatus().observedGeneration != null;

    final Milestone statusWritten = new Milestone();
    final Milestone admitted = new Milestone();
    final Milestone deploymentExists = new Milestone();
    private final SharedIndexInformer<ModelDeployment> mds;
    private final SharedIndexInformer<Deployment> deployments;

    WatchClock(KubernetesClient client) {
        mds = client.resources(ModelDeployment.class).inAnyNamespace().inform(new Handler<>(md -> {
            long now = System.nanoTime();
            if (HAS_STATUS.test(md)) {
                statusWritten.reach(key(md), now);
            }
            if (ADMITTED.test(md)) {
                admitted.reach(key(md), now);
            }
        }));
        deployments = client.apps().deployments().inAnyNamespace()
                .withLabel("app.kubernetes.io/component", "model-server")
                .inform(new Handler<>(d -> {
                    long now = System.nanoTime();
                    String md = d.getMetadata().getLabels().get(ApiGroup.MODEL_DEPLOYMENT_LABEL);
                    if (md != null) {
                        deploymentExists.reach(d.getMetadata().getNamespace() + "/" + md, now);
                    }
                }));
    }

    static String key(HasMetadata o) {
        return o.getMetadata().getNamespace() + "/" + o.getMetadata().getName();
    }

    @Override
    public void close() {
        mds.close();
        deployments.close();
    }

    /** The first time each object reached a state, and a way to wait until a number of them have. */
    static final class Milestone {
        final Map<String, Long> at = new ConcurrentHashMap<>();

        void reach(String key, long nanos) {
            if (at.putIfAbsent(key, nanos) == null) {
                synchronized (this) {
                    notifyAll();
                }
            }
        }

        int count() {
            return at.size();
        }

        /** Waits until {@code n} objects have reached the state; false on timeout. */
        synchronized boolean awaitCount(int n, long deadlineNanos, Runnable everyFewSeconds) throws InterruptedException {
            long lastReport = System.nanoTime();
            while (at.size() < n) {
                long left = deadlineNanos - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                wait(Math.max(1, Math.min(left / 1_000_000, 1000)));
                if (System.nanoTime() - lastReport > 15_000_000_000L) {
                    everyFewSeconds.run();
                    lastReport = System.nanoTime();
                }
            }
            return true;
        }
    }

    /** Calls {@code seen} with every object added or updated; deletes are ignored. */
    record Handler<T>(java.util.function.Consumer<T> seen) implements ResourceEventHandler<T> {
        @Override
        public void onAdd(T obj) {
            seen.accept(obj);
        }

        @Override
        public void onUpdate(T oldObj, T newObj) {
            seen.accept(newObj);
        }

        @Override
        public void onDelete(T obj, boolean deletedFinalStateUnknown) {
        }
    }
}
