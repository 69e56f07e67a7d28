package io.gpupool.core.admission.preemption;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import io.gpupool.core.model.Workload;
import io.gpupool.core.model.WorkloadId;

/** The one order of victims, and the bound check that uses it. */
class VictimOrderTest {

    static Workload w(String name, int priority, long arrival, int gpus) {
        return new Workload(new WorkloadId("ns", name), "org", gpus, 0, List.of(), 1, priority, false, arrival, false,
                List.of(), List.of());
    }

    static Candidate c(Workload w, int org, boolean own, double share) {
        return new Candidate(null, w, org, own, share);
    }

    @Test
    void otherOrganizationsFirstThenHighestShareLowestPriorityNewestName() {
        Candidate ownLow = c(w("own", 0, 1, 1), 0, true, 0);
        Candidate bigShare = c(w("big", 5, 1, 1), 1, false, 0.9);
        Candidate lowPriority = c(w("low", 0, 1, 1), 2, false, 0.5);
        Candidate newer = c(w("newer", 1, 20, 1), 2, false, 0.5);
        Candidate older = c(w("older", 1, 10, 1), 2, false, 0.5);
        Candidate b = c(w("b", 1, 10, 1), 2, false, 0.5);
        List<Candidate> all = new ArrayList<>(List.of(ownLow, older, newer, b, lowPriority, bigShare));
        all.sort(VictimOrder.ORDER);
        assertThat(all).containsExactly(bigShare, lowPriority, newer, b, older, ownLow);
    }

    @Test
    void aReplicaAfterTheBarCannotMakeABetterPlan() {
        Candidate bar = c(w("bar", 1, 10, 1), 1, false, 0.5);
        assertThat(VictimOrder.after(false, 0.4, w("x", 1, 10, 1), bar)).as("lower share").isTrue();
        assertThat(VictimOrder.after(false, 0.6, w("x", 1, 10, 1), bar)).isFalse();
        assertThat(VictimOrder.after(true, 0, w("x", 0, 99, 1), bar)).as("own organization").isTrue();
        assertThat(VictimOrder.after(false, 0.5, w("bar", 1, 10, 1), bar)).as("itself").isFalse();
        // The bound check and the sort agree everywhere.
        Candidate x = c(w("x", 2, 5, 1), 3, false, 0.5);
        assertThat(VictimOrder.after(x.own(), x.orgShare(), x.w(), bar))
                .isEqualTo(VictimOrder.ORDER.compare(x, bar) > 0);
    }
}
