package io.gpupool.operator.scheduling;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.jboss.logging.Logger;

/**
 * Runs one admission cycle soon after the pool's inputs change (a GpuNode, GpuClass, Organization or the GpuPool), or
 * when a contributed node's heartbeat expires, so
 * that capacity that appears is handed out, and statuses are refreshed, even when no ModelDeployment is reconciling.
 * Requests that arrive while a cycle is queued are merged into it. Requests made while the view's caches are still
 * filling (at start-up) wait for them ({@link PoolView#synced}).
 */
@ApplicationScoped
public class PoolRebalancer {

    private static final Logger LOG = Logger.getLogger(PoolRebalancer.class);
    /** How often a request made before the caches synced looks again. */
    static final Duration SYNC_POLL = Duration.ofMillis(100);

    private final PoolScheduler scheduler;
    private final ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "gpupool-rebalancer");
        t.setDaemon(true);
        return t;
    });
    private final AtomicBoolean queued = new AtomicBoolean();
    private final Clock clock;
    private volatile PoolView view;
    private ScheduledFuture<?> timer;
    private Instant timerAt;

    @Inject
    public PoolRebalancer(PoolScheduler scheduler, Clock clock) {
        this.scheduler = scheduler;
        this.clock = clock;
        scheduler.onNextExpiry(this::requestAt);
        // A new leader's first cycle: its statuses and ledger checkpoints take over at once, whether or not a
        // ModelDeployment reconciles.
        scheduler.onTakeover(this::request);
    }

    /**
     * Runs a cycle at the given time (the next heartbeat expiry): one timer, moved earlier when an earlier time is
     * asked for, so a silent cluster is noticed without polling.
     */
    public synchronized void requestAt(Instant when) {
        Instant now = clock.instant();
        if (timer != null && !timer.isDone() && timerAt != null && !when.isBefore(timerAt) && timerAt.isAfter(now)) {
            return;
        }
        if (timer != null) {
            timer.cancel(false);
        }
        timerAt = when;
        long delay = Math.max(0, Duration.between(now, when).toMillis());
        timer = executor.schedule(this::request, delay, TimeUnit.MILLISECONDS);
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
            if (!view.synced()) {
                executor.schedule(this::request, SYNC_POLL.toMillis(), TimeUnit.MILLISECONDS);
                return;
            }
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
