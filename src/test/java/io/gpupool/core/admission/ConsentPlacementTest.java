package io.gpupool.core.admission;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;

import io.gpupool.api.v1alpha1.GpuNode;
import io.gpupool.api.v1alpha1.GpuPoolSpec;
import io.gpupool.api.v1alpha1.NodeConsent;
import io.gpupool.api.v1alpha1.SecretKeyRef;
import io.gpupool.core.inventory.PoolInputs;
import io.gpupool.core.inventory.Workloads;
import io.gpupool.core.model.Assignment;
import io.gpupool.core.model.CycleResult;
import io.gpupool.core.model.GpuClassDef;
import io.gpupool.core.model.NodeKey;
import io.gpupool.core.model.NodeState;
import io.gpupool.core.model.OrgQuota;
import io.gpupool.core.model.PendingReason;
import io.gpupool.core.model.PoolNode;
import io.gpupool.core.model.PoolPolicy;
import io.gpupool.core.model.PoolSnapshot;
import io.gpupool.core.model.Requirements;
import io.gpupool.core.model.Requirements.Consent;
import io.gpupool.core.model.Workload;
import io.gpupool.core.model.WorkloadId;
import io.gpupool.core.testing.Invariants;
import io.gpupool.testing.PoolFixtures;

/**
 * Remote code, pickled weights and gated models' tokens run only on nodes whose owners consent (#14 item 6, item 7):
 * the tenant's spec asks, the GPUs' owner decides, and a replica nobody consents to waits with a reason that says who
 * may grant it.
 */
class ConsentPlacementTest {

    private final FairShareAdmission engine = new FairShareAdmission();
    private static final List<GpuClassDef> CLASSES = List.of(new GpuClassDef("l4", List.of(), 0, 1.0));

    private static PoolNode node(String cluster, String name, Set<Consent> consents) {
        return new PoolNode(new NodeKey(cluster, name), "acme", "l4", 24576, 1, NodeState.SCHEDULABLE, consents);
    }

    private static Workload workload(String name, Requirements requirements) {
        return new Workload(new WorkloadId("team", name), "acme", 1, 0, List.of(), 1, 0, false, 1, false, List.of(),
                List.of(), List.of(), requirements);
    }

    private CycleResult cycle(List<PoolNode> nodes, Workload... workloads) {
        PoolSnapshot s = new PoolSnapshot(CLASSES, nodes, List.of(new OrgQuota("acme", 1, Map.of(), Map.of(), Map.of())),
                List.of(workloads), new PoolPolicy(true, 0, true));
        CycleResult r = engine.cycle(s);
        Invariants.all(s, r);
        return r;
    }

    private static List<String> nodesOf(CycleResult r, String name) {
        return r.assignments().getOrDefault(new WorkloadId("team", name), List.of()).stream()
                .map(Assignment::node).map(NodeKey::node).toList();
    }

    @Test
    void remoteCodeRunsOnlyWhereTheOwnerConsents() {
        // The refusing node comes first in every order the engine prefers (name, then tightest fit).
        var refuses = node("home", "a-refuses", Set.of());
        var consents = node("lab", "b-consents", Set.of(Consent.REMOTE_CODE));
        var code = workload("code", new Requirements(Set.of(Consent.REMOTE_CODE), Set.of()));
        var plain = workload("plain", Requirements.NONE);

        CycleResult r = cycle(List.of(refuses, consents), code, plain);
        assertThat(nodesOf(r, "code")).containsExactly("b-consents");
        assertThat(nodesOf(r, "plain")).containsExactly("a-refuses");
        // The same again (the operator runs a cycle per event): it stays where it is.
        CycleResult again = cycle(List.of(refuses, consents), code.withAssigned(r.assignments().get(code.id())),
                plain.withAssigned(r.assignments().get(plain.id())));
        assertThat(nodesOf(again, "code")).containsExactly("b-consents");
        assertThat(r.pending()).isEmpty();
    }

    @Test
    void noReplicaIsPreemptedOnANodeWhoseOwnerRefusesThePreemptor() {
        // beta borrows acme's only node; acme's remote-code model is within acme's nominal quota, but the node's owner
        // does not consent to remote code: reclaiming the node would not let it run there.
        var refuses = node("home", "n1", Set.of());
        var borrowed = new Workload(new WorkloadId("beta-ns", "chat"), "beta", 1, 0, List.of(), 1, 0, false, 0, false,
                List.of(new Assignment(refuses.key(), "l4", 1)), List.of(), List.of(), Requirements.NONE);
        var code = workload("code", new Requirements(Set.of(Consent.REMOTE_CODE), Set.of()));
        PoolSnapshot s = new PoolSnapshot(CLASSES, List.of(refuses), List.of(
                new OrgQuota("acme", 1, Map.of("l4", 1), Map.of(), Map.of()),
                new OrgQuota("beta", 1, Map.of(), Map.of(), Map.of())), List.of(borrowed, code),
                new PoolPolicy(true, 0, true));
        CycleResult r = engine.cycle(s);
        Invariants.all(s, r);
        assertThat(r.evictions()).isEmpty();
        assertThat(nodesOf(r, "code")).isEmpty();
        assertThat(r.pending().get(new WorkloadId("team", "code")).message())
                .contains("its owner does not consent to remote code");
    }

    @Test
    void withoutAnyConsentingNodeTheReplicaWaitsAndTheReasonSaysWhoConsents() {
        var code = workload("code", new Requirements(Set.of(Consent.REMOTE_CODE, Consent.UNSAFE_WEIGHTS), Set.of()));
        CycleResult r = cycle(List.of(node("home", "n1", Set.of(Consent.REMOTE_CODE))), code);

        assertThat(nodesOf(r, "code")).isEmpty();
        PendingReason why = r.pending().get(new WorkloadId("team", "code"));
        assertThat(why.reason()).isEqualTo(PendingReason.NO_MATCHING_GPU);
        assertThat(why.message()).contains("1 node(s) with such GPUs may not hold it")
                .contains("its owner does not consent to unsafe (pickle) weights")
                .contains("GpuPool spec.localNodes").contains("contributor chart's policy");
    }

    @Test
    void aGatedModelRunsOnlyInThePoolsClusterAndTheClustersItsTokenMayGoTo() {
        var home = node("home", "n1", Set.of());
        var local = node("local", "n2", Set.of());
        var gated = PoolFixtures.modelDeployment("team", "gated", 1, 1);
        gated.getSpec().hfTokenSecretRef = new SecretKeyRef();
        gated.getSpec().hfTokenSecretRef.name = "hf";
        gated.getSpec().hfTokenSecretRef.key = "token";
        Requirements onlyLocal = Workloads.requirements(gated.getSpec());
        assertThat(onlyLocal.clusters()).containsExactly("local");

        assertThat(nodesOf(cycle(List.of(home, local), workload("gated", onlyLocal)), "gated")).containsExactly("n2");
        PendingReason why = cycle(List.of(home), workload("gated", onlyLocal)).pending()
                .get(new WorkloadId("team", "gated"));
        assertThat(why.message()).contains("its model's token may not go to cluster home (allowed: local)")
                .contains("spec.hfTokenClusters");

        gated.getSpec().hfTokenClusters = List.of("home");
        assertThat(nodesOf(cycle(List.of(home), workload("gated", Workloads.requirements(gated.getSpec()))), "gated"))
                .containsExactly("n1");
    }

    @Test
    void theSpecAsksAndTheOwnersOfTheGpusConsent() {
        var md = PoolFixtures.modelDeployment("team", "m", 1, 1);
        assertThat(Workloads.requirements(md.getSpec())).isEqualTo(Requirements.NONE);
        md.getSpec().allowRemoteCode = true;
        md.getSpec().allowUnsafeWeights = true;
        assertThat(Workloads.requirements(md.getSpec()).consents())
                .containsExactlyInAnyOrder(Consent.REMOTE_CODE, Consent.UNSAFE_WEIGHTS);

        // The pool consents for its own cluster's nodes (GpuPool spec.localNodes, default: nothing) ...
        GpuNode local = gpuNode("local");
        GpuPoolSpec pool = new GpuPoolSpec();
        assertThat(consentsOf(local, pool)).isEmpty();
        pool.localNodes = new NodeConsent(true, false);
        assertThat(consentsOf(local, pool)).containsExactly(Consent.REMOTE_CODE);
        // ... the contributor's chart for its nodes, through its agent (spec.consent), and the pool's policy there
        // means nothing.
        GpuNode contributed = gpuNode("home");
        assertThat(consentsOf(contributed, pool)).isEmpty();
        contributed.getSpec().consent = new NodeConsent(false, true);
        assertThat(consentsOf(contributed, pool)).containsExactly(Consent.UNSAFE_WEIGHTS);
        // A local GpuNode that claims consent itself is not believed: only the pool speaks for its own nodes.
        local.getSpec().consent = new NodeConsent(true, true);
        pool.localNodes = new NodeConsent();
        assertThat(consentsOf(local, pool)).isEmpty();
    }

    private static Set<Consent> consentsOf(GpuNode n, GpuPoolSpec pool) {
        return PoolInputs.node(n, CLASSES, pool, null, null, java.time.Instant.EPOCH, java.time.Duration.ofMinutes(1))
                .consents();
    }

    private static GpuNode gpuNode(String cluster) {
        GpuNode n = new GpuNode();
        n.setMetadata(new io.fabric8.kubernetes.api.model.ObjectMetaBuilder().withName(cluster + "-n1").build());
        n.getSpec().cluster = cluster;
        n.getSpec().nodeName = "n1";
        n.getSpec().organization = "acme";
        n.getSpec().gpu.product = "NVIDIA-L4";
        n.getSpec().gpu.count = 1;
        n.getSpec().gpu.memoryMiB = 24576L;
        return n;
    }
}
