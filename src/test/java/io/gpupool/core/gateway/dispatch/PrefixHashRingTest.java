package io.gpupool.core.gateway.dispatch;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

/** The CHWBL ring: stable owners, even spread, little movement when a replica joins. */
class PrefixHashRingTest {

    @Test
    void spreadsPrefixesEvenlyAndMovesFewWhenAReplicaJoins() {
        PrefixHashRing ring = new PrefixHashRing();
        ring.rebuild(List.of("a", "b", "c", "d"));
        Map<String, Integer> count = new HashMap<>();
        Map<String, String> owner = new HashMap<>();
        for (int i = 0; i < 10_000; i++) {
            String key = "prompt " + i;
            String o = ring.ownerAt(ring.start(key), 0);
            owner.put(key, o);
            count.merge(o, 1, Integer::sum);
        }
        assertThat(count.values()).allSatisfy(n -> assertThat(n).isBetween(2_000, 3_000));
        ring.rebuild(List.of("a", "b", "c", "d", "e"));
        long moved = owner.entrySet().stream().filter(e -> !ring.ownerAt(ring.start(e.getKey()), 0).equals(e.getValue()))
                .count();
        // About a fifth moves (to the new replica), not everything.
        assertThat(moved).isBetween(1_200L, 2_800L);
        assertThat(ring.size()).isEqualTo(5 * PrefixHashRing.REPLICATION);
    }
}
