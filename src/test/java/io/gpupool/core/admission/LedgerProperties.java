package io.gpupool.core.admission;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import io.gpupool.core.fairshare.ClassAccount;
import io.gpupool.core.fairshare.ClassPool;
import io.gpupool.core.fairshare.OrgAccount;
import io.gpupool.core.fairshare.QuotaAccounting;
import io.gpupool.core.fairshare.QuotaReport;
import io.gpupool.core.ledger.ContributionLedger;
import io.gpupool.core.ledger.GpuHours;
import io.gpupool.core.model.CycleResult;
import io.gpupool.core.model.GpuClassDef;
import io.gpupool.core.model.PoolSnapshot;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Arbitrary;

/**
 * The ledger over random pools and events (the scenarios of {@link FairShareProperties}), each cycle's accounting fed
 * at a random time, the operator restarted from a checkpoint at random moments: its totals equal the integral of the
 * cycles' figures, and nobody contributes more than the capacity over time.
 */
class LedgerProperties {

    @Provide
    Arbitrary<FairShareProperties.Scenario> scenarios() {
        return new FairShareProperties().scenarios();
    }

    @Property(tries = 300)
    void totalsAreTheIntegralOfTheCyclesAndContributionsFitTheCapacity(
            @ForAll("scenarios") FairShareProperties.Scenario scenario,
            @ForAll("steps") List<Integer> seconds) {
        FairShareProperties.Sim sim = new FairShareProperties.Sim(scenario.pool());
        FairShareAdmission engine = new FairShareAdmission();
        ContributionLedger ledger = new ContributionLedger(400);
        Map<String, Map<String, double[]>> integral = new TreeMap<>();
        Map<String, Double> capacityHours = new HashMap<>();
        Map<String, Map<String, GpuHours>> rates = Map.of();
        Map<String, Integer> capacity = Map.of();
        Instant t = Instant.parse("2026-06-01T00:00:00Z");
        int step = 0;
        for (FairShareProperties.Event e : scenario.events()) {
            long dt = seconds.get(step++ % seconds.size());
            Instant next = t.plusSeconds(dt);
            double h = dt / 3600.0;
            rates.forEach((org, perClass) -> perClass.forEach((cls, r) -> {
                double[] acc = integral.computeIfAbsent(org, o -> new TreeMap<>()).computeIfAbsent(cls,
                        c -> new double[4]);
                acc[0] += r.contributed() * h;
                acc[1] += r.used() * h;
                acc[2] += r.lent() * h;
                acc[3] += r.borrowed() * h;
            }));
            capacity.forEach((cls, gpus) -> capacityHours.merge(cls, gpus * h, Double::sum));
            t = next;
            if (step % 3 == 0) {
                // The operator restarts from its checkpoint, somewhere in the middle of an interval.
                ledger.advanceTo(t.minusSeconds(dt / 2));
                ContributionLedger restarted = new ContributionLedger(400);
                ledger.checkpoints().forEach(restarted::restore);
                ledger = restarted;
            }
            PoolSnapshot s = sim.snapshot;
            CycleResult r = engine.cycle(s);
            QuotaReport report = QuotaAccounting.report(s, r);
            rates = rates(report);
            capacity = capacity(report);
            Map<String, Double> values = new HashMap<>();
            for (GpuClassDef c : s.classes()) {
                values.put(c.name(), c.value());
            }
            ledger.observe(t, rates, values, 0);
            sim.snapshot = io.gpupool.core.testing.OperatorLoop.apply(s, r, true);
            sim.apply(e);
        }
        ledger.advanceTo(t);
        Map<String, Double> contributedHours = new HashMap<>();
        for (var org : ledger.organizations()) {
            ledger.checkpoint(org).totals().forEach((cls, total) -> {
                double[] want = integral.getOrDefault(org, Map.of()).getOrDefault(cls, new double[4]);
                assertThat(total.contributed()).isCloseTo(want[0], within(1e-6));
                assertThat(total.used()).isCloseTo(want[1], within(1e-6));
                assertThat(total.lent()).isCloseTo(want[2], within(1e-6));
                assertThat(total.borrowed()).isCloseTo(want[3], within(1e-6));
                contributedHours.merge(cls, total.contributed(), Double::sum);
            });
        }
        contributedHours.forEach((cls, h) -> assertThat(h).as("contributed ≤ capacity × time in %s", cls)
                .isLessThanOrEqualTo(capacityHours.getOrDefault(cls, 0.0) + 1e-6));
    }

    @Provide
    Arbitrary<List<Integer>> steps() {
        return Arbitraries.integers().between(1, 7200).list().ofMinSize(1).ofMaxSize(8);
    }

    private static Map<String, Map<String, GpuHours>> rates(QuotaReport report) {
        Map<String, Map<String, GpuHours>> out = new TreeMap<>();
        for (OrgAccount o : report.organizations()) {
            Map<String, GpuHours> perClass = new TreeMap<>();
            for (ClassAccount c : o.classes()) {
                GpuHours g = new GpuHours(c.contributed(), c.used(), c.lent(), c.borrowed());
                if (!g.isZero()) {
                    perClass.put(c.gpuClass(), g);
                }
            }
            out.put(o.organization(), perClass);
        }
        return out;
    }

    private static Map<String, Integer> capacity(QuotaReport report) {
        Map<String, Integer> out = new HashMap<>();
        for (ClassPool c : report.classes()) {
            out.put(c.gpuClass(), c.capacity());
        }
        return out;
    }
}
