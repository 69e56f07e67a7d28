package io.gpupool.gateway;

import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import io.gpupool.api.v1alpha1.GatewayReportSpec;
import io.gpupool.core.gateway.ModelCatalog;
import io.gpupool.core.gateway.dispatch.Grant;
import io.gpupool.core.gateway.dispatch.ModelDispatcher;
import io.gpupool.core.gateway.dispatch.QueueLimits;
import io.gpupool.gateway.metering.GatewayMetrics;
import io.gpupool.gateway.pool.PoolSnapshot;

/** One {@link ModelDispatcher} per model, whose replicas follow the pool directory's snapshots. */
public final class ModelDispatchers {

    private final Clock clock;
    private final QueueLimits limits;
    private final GatewayMetrics metrics;
    private final java.util.function.Consumer<Grant> onGrant;
    private final Map<String, ModelDispatcher> byModel = new ConcurrentHashMap<>();
    private volatile Runnable onHold = () -> {
    };

    /** @param onGrant starts requests that waited (hands them to their own event loop) */
    public ModelDispatchers(Clock clock, QueueLimits limits, GatewayMetrics metrics,
            java.util.function.Consumer<Grant> onGrant) {
        this.clock = clock;
        this.limits = limits;
        this.metrics = metrics;
        this.onGrant = onGrant;
    }

    /** The dispatcher of a model ({@code namespace/name}). */
    public ModelDispatcher of(String model) {
        return byModel.computeIfAbsent(model, m -> {
            ModelDispatcher d = new ModelDispatcher(clock, limits, onGrant);
            metrics.watch(m, d);
            return d;
        });
    }

    /** Gives every model its current replicas (models that are gone keep none; their waiting requests time out). */
    public void apply(PoolSnapshot snapshot) {
        java.util.Set<String> models = new java.util.HashSet<>();
        for (ModelCatalog.Model m : snapshot.catalog().all()) {
            models.add(m.id());
            of(m.id()).holdAtZero(m.autoscaled());
            of(m.id()).replicas(snapshot.replicas().getOrDefault(m.id(), List.of()));
        }
        byModel.forEach((model, d) -> {
            if (!models.contains(model)) {
                d.replicas(List.of());
            }
        });
    }

    /** Runs whenever a request is held for a first replica (the gateway then reports at once). */
    public void onHold(Runnable r) {
        this.onHold = r;
    }

    /** A request to a model was held for a first replica. */
    public void held() {
        onHold.run();
    }

    /**
     * What the report says of each model: the replicas reached (every model of the catalog), and the load of those
     * that had any in the load window (rounded to 0.01, so that a report does not change with every request).
     */
    public Map<String, GatewayReportSpec.ModelState> report(Map<String, Integer> reachable) {
        Map<String, GatewayReportSpec.ModelState> out = new java.util.TreeMap<>();
        reachable.forEach((m, n) -> out.put(m, new GatewayReportSpec.ModelState(m, n)));
        byModel.forEach((m, d) -> {
            ModelDispatcher.Load load = d.load();
            double mean = Math.round(load.mean() * 100) / 100.0;
            if (mean > 0 || load.held() > 0) {
                out.put(m, new GatewayReportSpec.ModelState(m, reachable.getOrDefault(m, 0), mean > 0 ? mean : null,
                        load.held() > 0 ? load.held() : null));
            }
        });
        return out;
    }

    public Map<String, ModelDispatcher> all() {
        return Map.copyOf(byModel);
    }
}
