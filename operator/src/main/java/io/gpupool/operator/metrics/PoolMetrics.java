package io.gpupool.operator.metrics;

import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;

import io.gpupool.core.model.OrgQuota;
import io.gpupool.core.model.Workload;
import io.gpupool.core.status.PoolReport;
import io.gpupool.operator.ledger.PoolLedger;
import io.gpupool.operator.scheduling.PoolScheduler;
import io.gpupool.operator.scheduling.PoolScheduler.CycleOutcome;
import io.gpupool.operator.scheduling.PoolView;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.quarkus.runtime.StartupEvent;

/**
 * The pool's Prometheus metrics, recorded after every admission cycle (the scheduler only reports its cycles):
 * gauges of what the cycle saw, as MultiGauges whose rows are replaced every cycle, so the series of a deleted
 * organization, class or node state disappear with it; Kueue-like admission counters and histograms
 * ({@link AdmissionMetrics}); the contributor ledger's GPU-hours ({@code gpupool_organization_gpu_hours_total});
 * and the number of cycles. Reconcile counts and durations come from JOSDK's Micrometer
 * integration, the build from {@link BuildInfo}. docs/metrics.md lists them all; the chart's dashboard reads them.
 */
@ApplicationScoped
public class PoolMetrics {

    private final MeterRegistry registry;
    private final PoolLedger ledger;
    /** The ledger's counters per organization and class, removed with the organization. */
    private final Map<List<String>, List<Meter>> ledgerCounters = new HashMap<>();
    private final AdmissionMetrics admission;
    private final Counter cycles;
    private final Map<String, MultiGauge> gauges = new TreeMap<>();

    @Inject
    public PoolMetrics(MeterRegistry registry, Clock clock, PoolLedger ledger) {
        this.registry = registry;
        this.ledger = ledger;
        this.admission = new AdmissionMetrics(registry, clock);
        this.cycles = Counter.builder("gpupool_admission_cycles")
                .description("Admission cycles run (reconciles that arrive together share one)").register(registry);
    }

    void register(@Observes StartupEvent start, PoolScheduler scheduler) {
        scheduler.onCycle(this::record);
    }

    void record(CycleOutcome outcome, PoolView view) {
        record(outcome);
    }

    /** Called on the scheduler's thread, one cycle at a time. */
    synchronized void record(CycleOutcome outcome) {
        cycles.increment();
        PoolReport report = outcome.report();
        List<MultiGauge.Row<?>> gpus = new ArrayList<>();
        List<MultiGauge.Row<?>> nodes = new ArrayList<>();
        report.classes().forEach((cls, t) -> {
            gpus.add(MultiGauge.Row.of(Tags.of("class", cls, "state", "schedulable"), t.gpus()));
            gpus.add(MultiGauge.Row.of(Tags.of("class", cls, "state", "allocated"), t.allocated()));
            nodes.add(MultiGauge.Row.of(Tags.of("class", cls), t.nodes()));
        });
        gauge("gpupool_gpus", "GPUs per class: schedulable ones, and those allocated to replicas", gpus);
        gauge("gpupool_nodes", "GPU nodes per class", nodes);

        int desired = 0;
        int admitted = 0;
        Map<List<String>, Integer> pending = new TreeMap<>(java.util.Comparator.comparing(Object::toString));
        for (Workload w : outcome.snapshot().workloads()) {
            desired += w.desiredReplicas();
            admitted += w.assignedReplicas();
            int missing = w.desiredReplicas() - w.assignedReplicas();
            if (missing > 0 && !w.frozen()) {
                // As in Organization status: a replica that accepts several classes is pending in each of them.
                List<String> classes = w.allowedClasses().isEmpty() ? List.copyOf(report.classes().keySet())
                        : w.allowedClasses();
                for (String cls : classes.isEmpty() ? List.of("") : classes) {
                    pending.merge(List.of(w.organization(), cls), missing, Integer::sum);
                }
            }
        }
        gauge("gpupool_replicas", "Replicas of all ModelDeployments: desired, admitted, pending", List.of(
                MultiGauge.Row.of(Tags.of("state", "desired"), desired),
                MultiGauge.Row.of(Tags.of("state", "admitted"), admitted),
                MultiGauge.Row.of(Tags.of("state", "pending"), Math.max(0, desired - admitted))));
        List<MultiGauge.Row<?>> pendingRows = new ArrayList<>();
        pending.forEach((k, n) -> pendingRows.add(MultiGauge.Row.of(Tags.of("organization", k.get(0), "class", k.get(1)), n)));
        gauge("gpupool_pending_replicas", "Replicas waiting for admission, per organization and the GpuClasses they accept",
                pendingRows);

        Map<String, List<MultiGauge.Row<?>>> quota = new TreeMap<>();
        List<MultiGauge.Row<?>> shares = new ArrayList<>();
        report.organizations().forEach((org, totals) -> {
            for (var u : totals.classes()) {
                Tags tags = Tags.of("organization", org, "class", u.gpuClass);
                quota.computeIfAbsent("contributed", k -> new ArrayList<>()).add(MultiGauge.Row.of(tags, u.contributed));
                quota.computeIfAbsent("nominal", k -> new ArrayList<>()).add(MultiGauge.Row.of(tags, u.nominal));
                quota.computeIfAbsent("used", k -> new ArrayList<>()).add(MultiGauge.Row.of(tags, u.used));
                quota.computeIfAbsent("borrowed", k -> new ArrayList<>()).add(MultiGauge.Row.of(tags, u.borrowed));
                quota.computeIfAbsent("lent", k -> new ArrayList<>()).add(MultiGauge.Row.of(tags, u.lent));
                quota.computeIfAbsent("pending", k -> new ArrayList<>()).add(MultiGauge.Row.of(tags, u.pending));
                ledgerCounters(org, u.gpuClass);
            }
            shares.add(MultiGauge.Row.of(Tags.of("organization", org), totals.weightedSharePerMille()));
        });
        for (String figure : List.of("contributed", "nominal", "used", "borrowed", "lent", "pending")) {
            gauge("gpupool_organization_" + figure + "_gpus", "GPUs " + figure + " per organization and class (as in "
                    + "Organization status)", quota.getOrDefault(figure, List.of()));
        }
        gauge("gpupool_organization_weighted_share", "Weighted share of borrowed GPUs x 1000, as Kueue reports it "
                + "(0 within nominal quota; the lowest is served first)", shares);

        admission.record(outcome);
        Set<String> organizations = new HashSet<>();
        outcome.snapshot().organizations().stream().map(OrgQuota::name).forEach(organizations::add);
        outcome.snapshot().workloads().stream().map(Workload::organization).forEach(organizations::add);
        admission.forgetOrganizationsExcept(organizations);
        ledgerCounters.entrySet().removeIf(e -> {
            if (organizations.contains(e.getKey().get(0))) {
                return false;
            }
            e.getValue().forEach(registry::remove);
            return true;
        });
    }

    /**
     * The contributor ledger's GPU-hours as counters ({@code gpupool_organization_gpu_hours_total}, labels
     * organization, class and kind = contributed, used, lent or borrowed): read from the ledger when scraped, so they
     * carry the same figures as the Organization's status.ledger and continue from its checkpoint after a restart.
     */
    private void ledgerCounters(String org, String gpuClass) {
        ledgerCounters.computeIfAbsent(List.of(org, gpuClass), k -> {
            List<Meter> meters = new ArrayList<>();
            for (PoolLedger.Kind kind : PoolLedger.Kind.values()) {
                meters.add(FunctionCounter
                        .builder("gpupool_organization_gpu_hours", ledger, l -> l.gpuHours(org, gpuClass, kind))
                        .tags(Tags.of("organization", org, "class", gpuClass, "kind", kind.label()))
                        .description("GPU-hours an organization contributed, used, lent or borrowed in a GpuClass "
                                + "(the contributor ledger)")
                        .register(registry));
            }
            return meters;
        });
    }

    private void gauge(String name, String description, List<MultiGauge.Row<?>> rows) {
        gauges.computeIfAbsent(name, n -> MultiGauge.builder(n).description(description).register(registry))
                .register(rows, true);
    }
}
