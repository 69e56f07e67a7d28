package io.gpupool.core.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.gpupool.api.v1alpha1.GatewayReport;
import io.gpupool.core.gateway.metering.ReportSlots;
import io.gpupool.core.gateway.metering.UsageCounts;
import io.gpupool.core.gateway.metering.UsageMeter;
import io.gpupool.core.gateway.metering.UsageTotals;
import io.gpupool.core.gateway.openai.Usage;

/**
 * Metering's arithmetic: a meter's snapshots, the slot content written from them, and the pool's totals as the sum of
 * slots. A process that loses its slot and continues in another counts nothing twice and loses nothing written.
 */
class UsageCountsTest {

    private static final Instant T = Instant.parse("2026-01-01T00:00:00Z");

    private static GatewayReport slot(String name, UsageCounts counts, String holder, Instant renewed) {
        GatewayReport r = new GatewayReport();
        r.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace("gw").build());
        counts.writeTo(r.getSpec());
        r.getSpec().holder = holder;
        r.getSpec().renewTime = renewed.toString();
        r.getSpec().leaseDurationSeconds = 60;
        return r;
    }

    @Test
    void slotsHoldWhatWasWrittenAndTheirSumIsTheTotalWhateverHappensToProcesses() {
        UsageMeter meter = new UsageMeter();
        UsageCounts.KeyRef key = new UsageCounts.KeyRef("ns", "k");
        meter.record("org", "ns/m", "local", key, new Usage(10, 5, true), T);
        UsageCounts written = meter.snapshot();
        // Slot A holds the first write.
        GatewayReport a = slot("gw-0", UsageCounts.EMPTY.plus(written.minus(UsageCounts.EMPTY)), "p1", T);
        meter.record("org", "ns/m", "local", key, new Usage(1, 1, true), T.plusSeconds(1));
        meter.record("other", "ns/m", "home-lab", null, new Usage(7, 3, true), T.plusSeconds(2));
        // Slot A was lost (taken over): what came after the last write goes to a new slot B, from what it held (0).
        UsageCounts now = meter.snapshot();
        GatewayReport b = slot("gw-1", UsageCounts.EMPTY.plus(now.minus(written)), "p1", T.plusSeconds(3));
        UsageTotals totals = UsageTotals.of(List.of(a, b));
        assertThat(totals.organization("org").requests).isEqualTo(2);
        assertThat(totals.organization("org").promptTokens).isEqualTo(11);
        assertThat(totals.organization("other").models).singleElement()
                .satisfies(m -> assertThat(m.cluster).isEqualTo("home-lab"));
        assertThat(totals.key("ns", "k").tokens()).isEqualTo(17);
        assertThat(totals.key("ns", "k").lastUsed()).isEqualTo(T.plusSeconds(1));
        // A third process takes slot A over and continues from what it holds.
        UsageMeter third = new UsageMeter();
        third.record("org", "ns/m", "local", null, new Usage(100, 0, true), T.plusSeconds(4));
        GatewayReport a2 = slot("gw-0", UsageCounts.of(a.getSpec()).plus(third.snapshot()), "p3", T.plusSeconds(5));
        assertThat(UsageTotals.of(List.of(a2, b)).organization("org").promptTokens).isEqualTo(111);
        // Folding again what did not change gives the same totals (the fold keeps no state of its own).
        assertThat(UsageTotals.of(List.of(b, a2)).organization("org")).isEqualTo(
                UsageTotals.of(List.of(a2, b)).organization("org"));
    }

    @Test
    void aSlotIsTakenOverOnlyOnceItsLeaseLapsedAndNewOnesGetTheSmallestFreeNumber() {
        List<GatewayReport> slots = new ArrayList<>();
        slots.add(slot("gpupool-gateway-0", UsageCounts.EMPTY, "pod-a/1", T));
        slots.add(slot("gpupool-gateway-2", UsageCounts.EMPTY, "pod-b/1", T.minusSeconds(120)));
        assertThat(ReportSlots.takeable(slots, "gpupool-gateway", "pod-c/1", T.plusSeconds(10)))
                .hasValueSatisfying(r -> assertThat(r.getMetadata().getName()).isEqualTo("gpupool-gateway-2"));
        assertThat(ReportSlots.takeable(slots, "gpupool-gateway", "pod-a/1", T))
                .hasValueSatisfying(r -> assertThat(r.getMetadata().getName()).isEqualTo("gpupool-gateway-0"));
        slots.remove(1);
        assertThat(ReportSlots.takeable(slots, "gpupool-gateway", "pod-c/1", T.plusSeconds(10))).isEmpty();
        assertThat(ReportSlots.newName(slots, "gpupool-gateway")).isEqualTo("gpupool-gateway-1");
        assertThat(ReportSlots.takeable(slots, "gpupool-gateway", "pod-c/1", T.plusSeconds(61))).isPresent();
    }
}
