package io.gpupool.core.fairshare;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

/** Weighted max-min fair division and the Jain index of received / entitled, on cases computed by hand. */
class EntitlementTest {

    private static final double[] ONES = { 1, 1, 1 };

    @Test
    void waterFillingGivesSmallDemandsInFullAndSplitsTheRestEvenly() {
        // 12 GPUs, demands 2, 8, 8: the first gets 2, the others 5 each.
        assertThat(Entitlement.waterFill(12, new double[] { 2, 8, 8 }, new double[3], ONES))
                .containsExactly(new double[] { 2, 5, 5 }, within(1e-9));
        // Enough for everyone: each gets what it asks for.
        assertThat(Entitlement.waterFill(30, new double[] { 2, 8, 8 }, new double[3], ONES))
                .containsExactly(new double[] { 2, 8, 8 }, within(1e-9));
    }

    @Test
    void floorsComeFirstUpToTheDemandThenTheWaterRises() {
        // acme contributes 8 of 12 and asks for 10; beta and delta ask for 8 each, contribute nothing.
        // Floor: acme 8. The 4 left are split evenly among the residual demands (2, 8, 8): 4/3 each, all below them.
        double[] e = Entitlement.waterFill(12, new double[] { 10, 8, 8 }, new double[] { 8, 0, 0 }, ONES);
        assertThat(e).containsExactly(new double[] { 8 + 4 / 3.0, 4 / 3.0, 4 / 3.0 }, within(1e-9));
        // Floors beyond the capacity are scaled down.
        assertThat(Entitlement.waterFill(6, new double[] { 8, 4, 0 }, new double[] { 8, 4, 0 }, ONES))
                .containsExactly(new double[] { 4, 2, 0 }, within(1e-9));
    }

    @Test
    void weightsScaleTheLevelAndWeightZeroGetsOnlyTheRest() {
        assertThat(Entitlement.waterFill(12, new double[] { 12, 12 }, new double[2], new double[] { 1, 3 }))
                .containsExactly(new double[] { 3, 9 }, within(1e-9));
        assertThat(Entitlement.waterFill(12, new double[] { 4, 12 }, new double[2], new double[] { 1, 0 }))
                .containsExactly(new double[] { 4, 8 }, within(1e-9));
    }

    @Test
    void jainOfFractionsOfEntitlement() {
        assertThat(Entitlement.jain(new double[] { 4, 2 }, new double[] { 4, 2 })).isEqualTo(1.0);
        // Fractions 1 and 0.5: (1.5)² / (2 · 1.25) = 0.9.
        assertThat(Entitlement.jain(new double[] { 4, 1 }, new double[] { 4, 2 })).isCloseTo(0.9, within(1e-12));
        // Receiving more than entitled counts as 1; nobody entitled: NaN.
        assertThat(Entitlement.jain(new double[] { 8, 2 }, new double[] { 4, 2 })).isEqualTo(1.0);
        assertThat(Entitlement.jain(new double[] { 1 }, new double[] { 0 })).isNaN();
    }
}
