package io.gpupool.core.ledger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.Map;

import org.junit.jupiter.api.Test;

/** The ledger's integral on an injected clock: joins, leaves, preemption, restarts in the middle of an interval. */
class ContributionLedgerTest {

    private static final Instant T0 = Instant.parse("2026-06-01T10:00:00Z");
    private static final Map<String, Double> VALUES = Map.of("a100", 4.0, "l4", 1.0);

    private static Instant at(double hours) {
        return T0.plus(Duration.ofSeconds(Math.round(hours * 3600)));
    }

    private static Map<String, Map<String, GpuHours>> acme(double contributed, double used) {
        return Map.of("acme", Map.of("a100", new GpuHours(contributed, used, 0, 0)));
    }

    @Test
    void aNodeJoinsAReplicaRunsIsPreemptedAndTheNodeLeaves() {
        ContributionLedger l = new ContributionLedger(31);
        l.observe(at(0), acme(8, 0), VALUES, 0);      // acme's 8-GPU node joins
        l.observe(at(0.5), acme(8, 2), VALUES, 0);    // a replica of 2 GPUs starts
        l.observe(at(1), acme(8, 0), VALUES, 0);      // it is preempted
        l.observe(at(2), acme(0, 0), VALUES, 0);      // the node leaves
        l.advanceTo(at(5));
        GpuHours total = l.checkpoint("acme").totals().get("a100");
        assertThat(total.contributed()).isCloseTo(16, within(1e-9));
        assertThat(total.used()).isCloseTo(1, within(1e-9));
        assertThat(l.checkpoint("acme").checkpoint()).isEqualTo(at(5));
    }

    @Test
    void aRestartInTheMiddleOfAnIntervalNeitherLosesNorCountsTwice() {
        ContributionLedger uninterrupted = new ContributionLedger(31);
        ContributionLedger first = new ContributionLedger(31);
        for (ContributionLedger l : new ContributionLedger[] { uninterrupted, first }) {
            l.observe(at(0), acme(8, 2), VALUES, 0);
            l.observe(at(1), acme(8, 4), VALUES, 0);
        }
        // The operator checkpoints at 1.5 h and dies at 1.75 h; the next one starts at 2.5 h.
        first.advanceTo(at(1.5));
        OrgLedger saved = first.checkpoint("acme");
        first.advanceTo(at(1.75));
        ContributionLedger second = new ContributionLedger(31);
        assertThat(second.restore("acme", saved)).isTrue();
        assertThat(second.restore("acme", saved)).as("a ledger already counting is not replaced").isFalse();
        second.observe(at(2.5), acme(8, 4), VALUES, 0);
        second.observe(at(3), acme(8, 0), VALUES, 0);
        uninterrupted.observe(at(3), acme(8, 0), VALUES, 0);
        second.advanceTo(at(4));
        uninterrupted.advanceTo(at(4));

        assertThat(second.checkpoint("acme").totals()).isEqualTo(uninterrupted.checkpoint("acme").totals());
        assertThat(second.checkpoint("acme").totals().get("a100").used()).isCloseTo(2 + 4 * 2, within(1e-9));
        assertThat(second.checkpoint("acme").since()).isEqualTo(T0);
    }

    @Test
    void intervalsAcrossMidnightAreSplitAndTheHistoryIsBounded() {
        ContributionLedger l = new ContributionLedger(2);
        Instant evening = Instant.parse("2026-06-01T22:00:00Z");
        l.observe(evening, Map.of("acme", Map.of("l4", new GpuHours(4, 1, 0, 0))), VALUES, 0);
        l.advanceTo(Instant.parse("2026-06-02T01:00:00Z"));
        var days = l.checkpoint("acme").days();
        assertThat(days.get(LocalDate.parse("2026-06-01")).get("l4")).isEqualTo(new GpuHours(8, 2, 0, 0));
        assertThat(days.get(LocalDate.parse("2026-06-02")).get("l4")).isEqualTo(new GpuHours(4, 1, 0, 0));
        l.advanceTo(Instant.parse("2026-06-03T00:30:00Z"));
        assertThat(l.checkpoint("acme").days()).as("two days kept").containsOnlyKeys(LocalDate.parse("2026-06-02"),
                LocalDate.parse("2026-06-03"));
        assertThat(l.checkpoint("acme").totals().get("l4").contributed()).as("the totals keep everything")
                .isCloseTo(4 * 26.5, within(1e-9));
    }

    @Test
    void netUsageDecaysByHalfEveryHalfLife() {
        ContributionLedger l = new ContributionLedger(31);
        // beta uses 2 a100 (value 4) and contributes nothing: 8 value-GPUs net, for one half-life of 2 hours.
        l.observe(at(0), Map.of("beta", Map.of("a100", new GpuHours(0, 2, 0, 2))), VALUES, 2);
        l.observe(at(2), Map.of("beta", Map.of()), VALUES, 2);
        double afterOneHalfLife = 8 * 2 / Math.log(2) * 0.5;
        assertThat(l.decayedNetAt("beta", at(2))).isCloseTo(afterOneHalfLife, within(1e-9));
        assertThat(l.decayedNetAt("beta", at(4))).isCloseTo(afterOneHalfLife / 2, within(1e-9));
        // Constant usage forever tends to rate × τ / ln 2.
        l.observe(at(4), Map.of("beta", Map.of("a100", new GpuHours(0, 2, 0, 2))), VALUES, 2);
        assertThat(l.decayedNetAt("beta", at(200))).isCloseTo(8 * 2 / Math.log(2), within(1e-6));
    }
}
