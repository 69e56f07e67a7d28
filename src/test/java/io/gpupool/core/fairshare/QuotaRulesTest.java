package io.gpupool.core.fairshare;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The quota rules on plain numbers (docs/fair-share.md §3 and §4). */
class QuotaRulesTest {

    @Test
    void withinNominalAndBorrowed() {
        assertThat(QuotaRules.withinNominal(6, 2, 8)).isTrue();
        assertThat(QuotaRules.withinNominal(7, 2, 8)).isFalse();
        assertThat(QuotaRules.borrowed(10, 8)).isEqualTo(2);
        assertThat(QuotaRules.borrowed(3, 8)).isZero();
        assertThat(QuotaRules.borrowing(9, 8)).isTrue();
        assertThat(QuotaRules.borrowing(8, 8)).as("at nominal its replicas are not borrowed").isFalse();
    }

    @Test
    void reclaimOnlyWithinNominalOnceOwnLowerPriorityReplicasAreGone() {
        assertThat(QuotaRules.mayReclaim(6, 2, 8, 0)).isTrue();
        assertThat(QuotaRules.mayReclaim(8, 2, 8, 0)).isFalse();
        assertThat(QuotaRules.mayReclaim(8, 2, 8, 2)).isTrue();
    }

    @Test
    void borrowingWithinLimitsAndWhatOthersKeepBack() {
        // The example of §3: beta, no quota, borrowing limit 4, uses 4 and asks for 2 more.
        assertThat(QuotaRules.mayBorrow(4, 2, 0, 4, 4, 0, 8)).isEqualTo(QuotaRules.Block.BORROWING_LIMIT);
        assertThat(QuotaRules.mayBorrow(2, 2, 0, 4, 2, 0, 8)).isEqualTo(QuotaRules.Block.NONE);
        // acme's lending limit 2 keeps 8 - 2 - 0 = 6 of its nominal back: beta gets 2 GPUs, not 4.
        assertThat(QuotaRules.keptBack(8, 2, 0)).isEqualTo(6);
        assertThat(QuotaRules.keptBack(8, QuotaRules.UNLIMITED, 0)).isZero();
        assertThat(QuotaRules.mayBorrow(0, 2, 0, QuotaRules.UNLIMITED, 0, 6, 8)).isEqualTo(QuotaRules.Block.NONE);
        assertThat(QuotaRules.mayBorrow(2, 2, 0, QuotaRules.UNLIMITED, 2, 6, 8))
                .isEqualTo(QuotaRules.Block.NO_LENDABLE_GPUS);
        assertThat(QuotaRules.mayBorrow(6, 2, 8, 0, 100, 100, 8)).as("within nominal nothing blocks")
                .isEqualTo(QuotaRules.Block.NONE);
        assertThat(QuotaRules.withinBorrowingLimit(4, 2, 0, 4)).isFalse();
        assertThat(QuotaRules.withinBorrowingLimit(4, 2, 0, QuotaRules.UNLIMITED)).isTrue();
    }
}
