package io.gpupool.core.inventory;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.gpupool.core.admission.FairShareAdmission;
import io.gpupool.core.fairshare.QuotaAccounting;
import io.gpupool.core.model.CycleResult;
import io.gpupool.core.model.NodeKey;
import io.gpupool.core.model.NodeState;
import io.gpupool.core.model.PoolNode;
import io.gpupool.core.model.PoolSnapshot;
import io.gpupool.core.testing.Pool;

/** Which contributed GPUs count: fake ones earn nothing, a node that served earns what it proved, within the ceiling. */
class ContributionProofTest {

    private static final Instant T0 = Instant.parse("2026-06-01T12:00:00Z");
    private static final NodeKey BIG = new NodeKey("lab", "big");

    private static PoolNode node(NodeKey key, int gpus) {
        return new PoolNode(key, "home", "h100", 81920, gpus, NodeState.SCHEDULABLE);
    }

    @Test
    void aClaimOf16GpusCountsOnlyWhatReplicasProvedWithinTheCeiling() {
        // 16 GPUs: the most a GpuNode may claim and still be believed (NodeTrust, GpuPool spec.maxGpusPerNode).
        ContributionProof proof = new ContributionProof(7);
        List<PoolNode> nodes = List.of(node(BIG, 16), node(new NodeKey("local", "dgx"), 8));
        Map<String, Map<String, Integer>> ceiling = Map.of("lab", Map.of("h100", 8));

        var joined = proof.counted(nodes, ceiling, "local", T0);
        assertThat(joined.get(BIG).gpus()).isZero();
        assertThat(joined.get(BIG).reason()).isEqualTo(ContributionProof.NOT_PROVEN);
        assertThat(joined.get(new NodeKey("local", "dgx")).gpus()).as("the pool's own nodes count at once")
                .isEqualTo(8);

        proof.record(T0.plus(Duration.ofHours(1)), Map.of(BIG, 12));
        var served = proof.counted(nodes, ceiling, "local", T0.plus(Duration.ofHours(2)));
        assertThat(served.get(BIG).gpus()).isEqualTo(8);
        assertThat(served.get(BIG).reason()).isEqualTo(ContributionProof.ABOVE_CEILING);
        assertThat(proof.counted(nodes, Map.of(), "local", T0.plus(Duration.ofHours(2))).get(BIG))
                .satisfies(c -> {
                    assertThat(c.gpus()).as("without a ceiling: what it proved").isEqualTo(12);
                    assertThat(c.reason()).isEqualTo(ContributionProof.PROVEN);
                });

        proof.record(T0.plus(Duration.ofDays(8)), Map.of());
        assertThat(proof.counted(nodes, ceiling, "local", T0.plus(Duration.ofDays(8))).get(BIG).gpus())
                .as("a week without a Ready replica: nothing counts any more").isZero();
    }

    @Test
    void aNodeNoClassMatchesCountsNothingAndBreaksNothing() {
        ContributionProof proof = new ContributionProof(7);
        NodeKey odd = new NodeKey("lab", "odd");
        PoolNode classless = new PoolNode(odd, "home", null, 16384, 2, NodeState.SCHEDULABLE);
        var counted = proof.counted(List.of(classless, node(BIG, 4)), Map.of("lab", Map.of("h100", 8)), "local", T0);
        assertThat(counted.get(odd).gpus()).isZero();
        assertThat(counted.get(odd).reason()).isEqualTo(ContributionProof.NOT_PROVEN);
        assertThat(counted.get(BIG).reason()).isEqualTo(ContributionProof.NOT_PROVEN);
    }

    @Test
    void theCeilingIsSharedAmongTheClustersNodesInNameOrder() {
        ContributionProof proof = new ContributionProof(7);
        NodeKey a = new NodeKey("lab", "a");
        NodeKey b = new NodeKey("lab", "b");
        proof.record(T0, Map.of(a, 4, b, 4));
        var counted = proof.counted(List.of(node(b, 4), node(a, 4)), Map.of("lab", Map.of("h100", 6)), "local", T0);
        assertThat(counted.get(a).gpus()).isEqualTo(4);
        assertThat(counted.get(b).gpus()).isEqualTo(2);
    }

    @Test
    void unprovenGpusAreCommonsAndEarnNoQuotaToReclaimWith() {
        // home's agent claims a 16-GPU H100 node (as many as NodeTrust believes) with 16 GiB GPUs; home's model needs
        // 80 GiB, so it fits only on the commons' real 8-GPU node, which beta borrows entirely. Counted at once, the
        // claim would make home's nominal quota 16 and let it reclaim beta's GPUs; unproven, it earns nothing and
        // home waits.
        PoolSnapshot s = Pool.plain().gpuClass("h100", 1)
                .node("big", "home", "h100", 16, 16384, NodeState.SCHEDULABLE)
                .node("real", null, "h100", 8, 81920, NodeState.SCHEDULABLE).org("home", 1).org("beta", 1)
                .workload("b", "beta", 4, 2).on("real", "h100", 2).add()
                .workload("h", "home", 4, 1).memory(81920).arrival(300).add().snapshot();
        CycleResult believed = new FairShareAdmission().cycle(s);
        assertThat(believed.evictions()).as("the test's premise: a believed claim reclaims").isNotEmpty();

        PoolSnapshot unproven = new PoolSnapshot(s.classes(),
                s.nodes().stream().map(n -> n.organization() == null ? n : n.withCountedGpus(0)).toList(),
                s.organizations(), s.workloads(), s.policy());
        CycleResult r = new FairShareAdmission().cycle(unproven);
        assertThat(r.evictions()).isEmpty();
        var home = QuotaAccounting.report(unproven, r).organization("home").gpuClass("h100");
        assertThat(home.contributed()).isZero();
        assertThat(home.nominal()).isZero();
        assertThat(r.assignments().getOrDefault(new io.gpupool.core.model.WorkloadId("home", "h"), List.of()))
                .as("nothing fits without preemption").isEmpty();
    }
}
