package io.gpupool.operator.scheduling;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;

import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.jboss.logging.Logger;

/**
 * Runs one admission cycle soon after the pool's inputs change (a GpuNode, GpuClass, Organization or the GpuPool), so
 * that capacity that appears is handed out, and statuses are refreshed, even when no ModelDeployment is reconciling.
 * Requests that arrive while a cycle is queued are merged into it.
 */
@ApplicationScoped
public class PoolRebalancer {

    private static final Logger LOG = Logger.getLogger(PoolRebalancer.class);

    private final PoolScheduler scheduler;
    private final ExecutorService executor = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "gpupool-rebalancer");
        t.setDaemon(true);
        return t;
    });
    private final AtomicBoolean queued = new AtomicBoolean();
    private volatile PoolView view;

    @Inject
    public PoolRebalancer(PoolScheduler scheduler) {
        this.scheduler = scheduler;
    }

    public void attach(PoolView view) {
        this.view = view;
    }

    public void request() {
        if (view == null || !queued.compareAndSet(false, true)) {
            return;
        }
        executor.execute(() -> {
            queued.set(false);
            try {
                scheduler.rebalance(view);
            } catch (RuntimeException e) {
                LOG.warn("Rebalancing the pool failed; the next change will try again", e);
            }
        });
    }

    @PreDestroy
    void stop() {
        executor.shutdownNow();
    }
}
