package io.gpupool.core.serving;

import static io.gpupool.testing.PoolFixtures.modelDeployment;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentStatusBuilder;
import io.gpupool.api.v1alpha1.ModelDeployment;
import io.gpupool.api.v1alpha1.Placement;
import io.gpupool.api.v1alpha1.SecretKeyRef;
import io.gpupool.api.v1alpha1.ServingWork;
import io.gpupool.core.model.Assignment;
import io.gpupool.core.model.NodeKey;
import io.gpupool.core.model.PendingReason;
import io.gpupool.core.model.Withdrawal;
import io.gpupool.core.render.ServingRenderer;
import io.gpupool.core.render.ServingSettings;
import io.gpupool.core.status.Conditions;
import io.gpupool.testing.ManualClock;

/** The one decision of a ModelDeployment reconcile, without a cluster: what it applies for given facts. */
class ServingDecisionTest {

    private final ManualClock clock = new ManualClock(Instant.parse("2026-06-01T12:00:00Z"));
    private final List<List<String>> tokenReads = new ArrayList<>();

    private ServingInputs inputs(String organization, List<String> problems, Map<NodeKey, Withdrawal> withdrawing,
            List<Deployment> deployments, List<ServingWork> works, ModelToken token) {
        return new ServingInputs(organization, organization != null, problems, ServingSettings.DEFAULT, withdrawing,
                Duration.ofSeconds(300), deployments, works, Set.of(), (secret, key) -> {
                    tokenReads.add(List.of(secret, key));
                    return token;
                }, "kubectl create rolebinding ...", Set.of(), clock);
    }

    private static Admission admitted(Placement... placements) {
        return new Admission(List.of(placements), null, null, List.of());
    }

    private static Deployment readyDeployment(ModelDeployment md, Placement p, int ready) {
        Deployment d = ServingRenderer.deployment(md, p, ServingSettings.DEFAULT);
        d.setStatus(new DeploymentStatusBuilder().withReplicas(p.replicas).withReadyReplicas(ready).build());
        return d;
    }

    @Test
    void admittedReplicasOnTheLocalClusterBecomeDeploymentsAndTheirReadinessThePhase() {
        ModelDeployment md = modelDeployment("team", "chat", 2, 1);
        Placement n1 = new Placement("local", "n1", "l4", 2);
        ServingPlan plan = ServingDecision.decide(md,
                inputs("acme", List.of(), Map.of(), List.of(readyDeployment(md, n1, 1)), List.of(), null),
                admitted(n1));

        assertThat(plan.children().localPlacements()).containsExactly(n1);
        assertThat(plan.children().works()).isEmpty();
        assertThat(plan.status().phase).isEqualTo("Degraded");
        assertThat(plan.status().replicas.ready).isEqualTo(1);
        assertThat(plan.status().organization).isEqualTo("acme");
        assertThat(Conditions.isTrue(plan.status().conditions, Conditions.ADMITTED)).isTrue();
        assertThat(plan.warnings()).isEmpty();
        assertThat(plan.lookAgain()).isNull();
        assertThat(tokenReads).as("no contributed cluster needs a token").isEmpty();
    }

    /** The operator's finalizer follows from the plan: only writes outside the namespace need it. */
    @Test
    void onlyAPlanThatWritesOutsideTheNamespaceNeedsTheFinalizer() {
        ModelDeployment md = modelDeployment("team", "chat", 1, 1);
        Placement local = new Placement("local", "n1", "l4", 1);
        ServingPlan here = ServingDecision.decide(md, inputs("acme", List.of(), Map.of(), List.of(), List.of(), null),
                admitted(local));
        assertThat(here.children().writeOutsideTheNamespace()).isFalse();

        ServingPlan there = ServingDecision.decide(md, inputs("acme", List.of(), Map.of(), List.of(), List.of(), null),
                admitted(new Placement("lab", "n1", "l4", 1)));
        assertThat(there.children().works()).isNotEmpty();
        assertThat(there.children().writeOutsideTheNamespace()).isTrue();
    }

    @Test
    void anInvalidSpecAppliesNothingAndKeepsCountingWhatRuns() {
        ModelDeployment md = modelDeployment("team", "chat", 1, 1);
        Placement n1 = new Placement("local", "n1", "l4", 1);
        ServingInputs in = inputs("acme", List.of("spec.engine: unknown engine 'x'; use vllm or llamacpp."), Map.of(),
                List.of(readyDeployment(md, n1, 1)), List.of(), null);
        assertThat(ServingDecision.demand(md, "acme", true, in.problems()).frozen()).isTrue();

        ServingPlan plan = ServingDecision.decide(md, in, admitted(n1));

        assertThat(plan.children()).as("a bad edit never takes running replicas down").isNull();
        assertThat(plan.status().phase).isEqualTo("Failed");
        assertThat(plan.status().replicas.ready).isEqualTo(1);
        assertThat(plan.warnings()).containsExactly(new ServingPlan.Warning(Conditions.INVALID_SPEC,
                "spec.engine: unknown engine 'x'; use vllm or llamacpp.", true));
    }

    @Test
    void aPendingReasonAndANewPreemptionAreWarnedOnceAndAlways() {
        ModelDeployment md = modelDeployment("team", "chat", 2, 1);
        Placement n1 = new Placement("local", "n1", "l4", 1);
        Admission admission = new Admission(List.of(n1),
                new PendingReason(PendingReason.INSUFFICIENT_CAPACITY, "Waiting for capacity."), "reclaimed by acme",
                List.of());
        ServingPlan plan = ServingDecision.decide(md, inputs("beta", List.of(), Map.of(), List.of(), List.of(), null),
                admission);

        assertThat(plan.warnings()).containsExactly(
                new ServingPlan.Warning(PendingReason.INSUFFICIENT_CAPACITY, "Waiting for capacity.", true),
                new ServingPlan.Warning("Preempted", "reclaimed by acme", false));
        assertThat(Conditions.isTrue(plan.status().conditions, Conditions.PREEMPTED)).isTrue();

        md.setStatus(plan.status());
        assertThat(ServingDecision.decide(md, inputs("beta", List.of(), Map.of(), List.of(), List.of(), null),
                admission).warnings()).as("the same preemption is not announced twice").hasSize(1);
    }

    @Test
    void replicasOnAWithdrawnNodeKeepServingUntilTheirReplacementsAreReadyOrTheDeadline() {
        ModelDeployment md = modelDeployment("team", "chat", 1, 1);
        Placement replacement = new Placement("local", "n2", "l4", 1);
        NodeKey old = new NodeKey("local", "n1");
        Instant since = clock.instant().minusSeconds(100);
        Admission admission = new Admission(List.of(replacement), null, null, List.of(new Assignment(old, "l4", 1)));
        ServingPlan plan = ServingDecision.decide(md,
                inputs("acme", List.of(), Map.of(old, new Withdrawal("l4", since)), List.of(), List.of(), null),
                admission);

        Placement kept = new Placement("local", "n1", "l4", 1);
        assertThat(plan.status().handover).containsExactly(kept);
        assertThat(plan.children().localPlacements()).containsExactly(replacement, kept);
        assertThat(plan.lookAgain()).isEqualTo(since.plusSeconds(300));

        Deployment ready = readyDeployment(md, replacement, 1);
        assertThat(ServingDecision.decide(md, inputs("acme", List.of(), Map.of(old, new Withdrawal("l4", since)),
                List.of(ready), List.of(), null), admission).status().handover)
                .as("the replacement is ready: the old replica stops").isEmpty();
    }

    @Test
    void aTokenTheNamespaceDoesNotShareIsExplainedAndLookedForAgain() {
        ModelDeployment md = modelDeployment("team", "chat", 1, 1);
        md.getSpec().hfTokenSecretRef = new SecretKeyRef();
        md.getSpec().hfTokenSecretRef.name = "hf";
        md.getSpec().hfTokenClusters = List.of("lab");
        Placement remote = new Placement("lab", "n1", "l4", 1);
        ServingPlan plan = ServingDecision.decide(md,
                inputs("acme", List.of(), Map.of(), List.of(), List.of(), ModelToken.UNREADABLE), admitted(remote));

        assertThat(tokenReads).containsExactly(List.of("hf", "token"));
        assertThat(plan.children().credentials().shareWith()).isEmpty();
        assertThat(plan.children().works()).singleElement()
                .satisfies(w -> assertThat(w.getMetadata().getNamespace()).isEqualTo("gpupool-cluster-lab"));
        var condition = Conditions.find(plan.status().conditions, CredentialsOutcome.CONDITION).orElseThrow();
        assertThat(condition.getReason()).isEqualTo("TokenNotReadable");
        assertThat(condition.getMessage()).contains("kubectl create rolebinding ...");
        assertThat(plan.warnings()).extracting(ServingPlan.Warning::reason).containsExactly("TokenNotReadable");
        assertThat(plan.lookAgain()).isEqualTo(clock.instant().plus(CredentialsOutcome.RETRY));
    }

    @Test
    void aTokenSharedWithEveryClusterThatRunsReplicasOrNotWrittenEverywhere() {
        ModelDeployment md = modelDeployment("team", "chat", 2, 1);
        md.getSpec().hfTokenSecretRef = new SecretKeyRef();
        md.getSpec().hfTokenSecretRef.name = "hf";
        md.getSpec().hfTokenSecretRef.key = "t";
        md.getSpec().hfTokenClusters = List.of("lab", "home");
        Admission admission = admitted(new Placement("lab", "n1", "l4", 1), new Placement("home", "n2", "l4", 1));
        ServingInputs in = inputs("acme", List.of(), Map.of(), List.of(), List.of(), ModelToken.found("c2VjcmV0"));

        ServingPlan plan = ServingDecision.decide(md, in, admission);
        assertThat(plan.children().credentials()).isEqualTo(
                new ServingPlan.Credentials("team.chat", "c2VjcmV0", List.of("lab", "home"), List.of()));
        assertThat(Conditions.isTrue(plan.status().conditions, CredentialsOutcome.CONDITION)).isTrue();
        assertThat(plan.lookAgain()).isNull();

        ServingPlan failed = ServingDecision.decide(md, in.withCredentialWriteFailures(Set.of("home")), admission);
        assertThat(Conditions.find(failed.status().conditions, CredentialsOutcome.CONDITION).orElseThrow().getMessage())
                .isEqualTo("The token could not be written for clusters [home]; retrying.");
        assertThat(failed.lookAgain()).isEqualTo(clock.instant().plus(CredentialsOutcome.RETRY));
    }

    @Test
    void aTokenGoesOnlyToListedClustersAndOnlyFromAMarkedSecret() {
        ModelDeployment md = modelDeployment("team", "chat", 2, 1);
        md.getSpec().hfTokenSecretRef = new SecretKeyRef();
        md.getSpec().hfTokenSecretRef.name = "hf";
        md.getSpec().hfTokenClusters = List.of("lab");
        // A replica on "home" (placed before the list shrank): the token goes to lab only, and the condition says why.
        Admission admission = admitted(new Placement("lab", "n1", "l4", 1), new Placement("home", "n2", "l4", 1));
        ServingPlan plan = ServingDecision.decide(md, inputs("acme", List.of(), Map.of(), List.of(), List.of(),
                ModelToken.found("c2VjcmV0")), admission);
        assertThat(plan.children().credentials().shareWith()).containsExactly("lab");
        assertThat(Conditions.find(plan.status().conditions, CredentialsOutcome.CONDITION).orElseThrow().getReason())
                .isEqualTo("ClusterNotAllowed");

        // A Secret the namespace did not mark as a model token is copied nowhere.
        ServingPlan unmarked = ServingDecision.decide(md, inputs("acme", List.of(), Map.of(), List.of(), List.of(),
                ModelToken.NOT_MARKED), admitted(new Placement("lab", "n1", "l4", 1)));
        assertThat(unmarked.children().credentials().shareWith()).isEmpty();
        var condition = Conditions.find(unmarked.status().conditions, CredentialsOutcome.CONDITION).orElseThrow();
        assertThat(condition.getReason()).isEqualTo("SecretNotMarked");
        assertThat(condition.getMessage()).contains("kubectl label secret hf -n team gpupool.io/model-token=true");
    }
}
