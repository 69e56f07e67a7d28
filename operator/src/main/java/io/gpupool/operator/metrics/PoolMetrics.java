package io.gpupool.operator.metrics;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;

import io.gpupool.core.model.Assignment;
import io.gpupool.core.model.Workload;
import io.gpupool.core.status.PoolReport;
import io.gpupool.operator.scheduling.PoolScheduler;
import io.gpupool.operator.scheduling.PoolView;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.quarkus.runtime.StartupEvent;

/**
 * Prometheus gauges of the pool, refreshed after every admission cycle: GPUs per class and state, replicas per state,
 * and per organization and class the quota figures of its status; and the number of cycles run
 * ({@code gpupool_admission_cycles_total}: reconciles that arrive together share a cycle). Reconcile counts and
 * durations come from JOSDK's Micrometer integration.
 */
@ApplicationScoped
public class PoolMetrics {

    private final MeterRegistry registry;
    private final Map<String, AtomicInteger> gauges = new ConcurrentHashMap<>();
    private final Map<String, java.util.concurrent.atomic.AtomicReference<Double>> shares = new ConcurrentHashMap<>();

    @Inject
    public PoolMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    void register(@Observes StartupEvent start, PoolScheduler scheduler) {
        scheduler.onCycle(this::record);
    }

    void record(PoolScheduler.CycleOutcome outcome, PoolView view) {
        registry.counter("gpupool_admission_cycles").increment();
        PoolReport report = PoolReport.of(outcome.snapshot(), outcome.result());
        report.classes().forEach((cls, t) -> {
            set("gpupool_gpus", Tags.of("class", cls, "state", "schedulable"), t.gpus());
            set("gpupool_gpus", Tags.of("class", cls, "state", "allocated"), t.allocated());
            set("gpupool_nodes", Tags.of("class", cls), t.nodes());
        });
        int desired = 0;
        int admitted = 0;
        for (Workload w : outcome.snapshot().workloads()) {
            desired += w.desiredReplicas();
            for (Assignment a : w.assigned()) {
                admitted += a.replicas();
            }
        }
        set("gpupool_replicas", Tags.of("state", "desired"), desired);
        set("gpupool_replicas", Tags.of("state", "admitted"), admitted);
        set("gpupool_replicas", Tags.of("state", "pending"), Math.max(0, desired - admitted));
        report.organizations().forEach((org, totals) -> {
            for (var u : totals.classes()) {
                Tags tags = Tags.of("organization", org, "class", u.gpuClass);
                set("gpupool_organization_contributed_gpus", tags, u.contributed);
                set("gpupool_organization_nominal_gpus", tags, u.nominal);
                set("gpupool_organization_used_gpus", tags, u.used);
                set("gpupool_organization_borrowed_gpus", tags, u.borrowed);
                set("gpupool_organization_lent_gpus", tags, u.lent);
                set("gpupool_organization_pending_gpus", tags, u.pending);
            }
            shares.computeIfAbsent(org, o -> {
                var ref = new java.util.concurrent.atomic.AtomicReference<>(0.0);
                registry.gauge("gpupool_organization_weighted_share", Tags.of("organization", o), ref,
                        r -> r.get());
                return ref;
            }).set(totals.weightedShare());
        });
    }

    private void set(String name, Tags tags, int value) {
        gauges.computeIfAbsent(name + tags, k -> registry.gauge(name, tags, new AtomicInteger())).set(value);
    }
}
