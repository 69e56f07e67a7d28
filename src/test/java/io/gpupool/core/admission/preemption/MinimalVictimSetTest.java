package io.gpupool.core.admission.preemption;

import static io.gpupool.core.admission.preemption.VictimOrderTest.c;
import static io.gpupool.core.admission.preemption.VictimOrderTest.w;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

/** The search for borrowed replicas that free enough GPUs when the greedy order stops short. */
class MinimalVictimSetTest {

    private static MinimalVictimSet.Budget borrows(Map<Integer, Integer> borrowed) {
        return new MinimalVictimSet.Budget() {
            @Override
            public int borrowed(int org) {
                return borrowed.getOrDefault(org, 0);
            }

            @Override
            public boolean mayLose(int org, int gpus) {
                return true;
            }
        };
    }

    @Test
    void anOrganizationLosesReplicasOnlyWhileItIsAboveNominalBeforeEach() {
        // beta borrows 3 GPUs with a 1-GPU and a 4-GPU replica: taking the 1-GPU one first would stop at nominal
        // (3 - 1 = 2 left, the 4-GPU one still goes: 2 > 0); the largest set is both, the 4-GPU one going last.
        Candidate small = c(w("small", 0, 20, 1), 1, false, 0.5);
        Candidate large = c(w("large", 0, 10, 4), 1, false, 0.5);
        assertThat(MinimalVictimSet.mostEvictable(List.of(small, large), 3)).containsExactlyInAnyOrder(small, large);
        // Borrowing 1 GPU: only one replica may go, the largest.
        assertThat(MinimalVictimSet.mostEvictable(List.of(small, large), 1)).containsExactly(large);
    }

    @Test
    void theUnionIsTrimmedToWhatIsNeededKeepingTheMostEvictable() {
        Candidate a1 = c(w("a1", 0, 10, 2), 1, false, 0.9);
        Candidate a2 = c(w("a2", 0, 11, 2), 1, false, 0.9);
        Candidate b1 = c(w("b1", 0, 12, 4), 2, false, 0.1);
        List<Candidate> found = MinimalVictimSet.find(List.of(a1, a2, b1), 4, borrows(Map.of(1, 4, 2, 4)));
        assertThat(found).as("org 1 has the higher share: its replicas go first, org 2's are not needed")
                .containsExactly(a2, a1);
        assertThat(MinimalVictimSet.find(List.of(a1, a2, b1), 9, borrows(Map.of(1, 4, 2, 4)))).isNull();
        assertThat(MinimalVictimSet.find(List.of(a1, a2, b1), 4, borrows(Map.of(2, 4)))).containsExactly(b1);
    }
}
