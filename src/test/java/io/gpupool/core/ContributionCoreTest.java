package io.gpupool.core;

import static io.gpupool.testing.PoolFixtures.modelDeployment;
import static io.gpupool.testing.PoolFixtures.node;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.gpupool.api.v1alpha1.GpuNode;
import io.gpupool.api.v1alpha1.Placement;
import io.gpupool.api.v1alpha1.ServingWork;
import io.gpupool.core.discovery.GpuNodes;
import io.gpupool.core.inventory.NodeTrust;
import io.gpupool.core.inventory.PoolInputs;
import io.gpupool.core.model.GpuClassDef;
import io.gpupool.core.model.NodeState;
import io.gpupool.core.policy.ContributorPolicy;
import io.gpupool.api.v1alpha1.SecretKeyRef;
import io.gpupool.core.render.RemoteWorkRenderer;
import io.gpupool.core.render.ServingRenderer;
import io.gpupool.core.render.ServingSettings;

/** The pure pieces of contributed clusters: discovery with a cluster's organization, trust, remote work, policy. */
class ContributionCoreTest {

    @Test
    void aContributedClusterNamesTheOrganizationNotItsNodeLabels() {
        var labelled = node("l4-01", "someone-else");
        assertThat(GpuNodes.specOf(labelled, "lab", "uni-nlp")).hasValueSatisfying(s -> {
            assertThat(s.organization).isEqualTo("uni-nlp");
            assertThat(s.cluster).isEqualTo("lab");
        });
        assertThat(GpuNodes.specOf(labelled, "local")).hasValueSatisfying(s -> assertThat(s.organization)
                .isEqualTo("someone-else"));
        assertThat(GpuNodes.specOf(node("cpu-only-01", null), "lab", "uni-nlp")).isEmpty();
        assertThat(GpuNodes.specOf(node("l4-01", null), "local")).isEmpty();
        var mig = GpuNodes.specOf(node("a100-40g-mig-01", null), "lab", "uni-nlp").orElseThrow();
        assertThat(mig.gpu.count).isEqualTo(56);
        assertThat(mig.gpu.memoryMiB).isEqualTo(5120L);
        assertThat(GpuNodes.specOf(node("l4-02-notready", null), "lab", "uni-nlp").orElseThrow().nodeReady).isFalse();
    }

    private static GpuNode gpuNode(String namespace, String cluster, String org) {
        GpuNode n = new GpuNode();
        n.setMetadata(new ObjectMetaBuilder().withNamespace(namespace).withName("l4-01").build());
        n.setSpec(GpuNodes.specOf(node("l4-01", null), cluster, org).orElseThrow());
        return n;
    }

    @Test
    void onlyApprovedClustersReportingInTheirOwnNamespaceForTheirOrganizationCount() {
        Map<String, String> approved = Map.of("lab", "uni-nlp");
        assertThat(NodeTrust.check(gpuNode("gpupool-cluster-lab", "lab", "uni-nlp"), approved)).isEmpty();
        assertThat(NodeTrust.check(gpuNode("gpupool-cluster-local", "local", "anyone"), approved)).isEmpty();
        assertThat(NodeTrust.check(gpuNode("gpupool-cluster-lab", "lab", "other"), approved))
                .hasValueSatisfying(r -> assertThat(r.reason()).isEqualTo("OrganizationMismatch"));
        assertThat(NodeTrust.check(gpuNode("gpupool-cluster-x", "x", "uni-nlp"), approved))
                .hasValueSatisfying(r -> assertThat(r.reason()).isEqualTo("ClusterNotApproved"));
        assertThat(NodeTrust.check(gpuNode("gpupool-cluster-lab", "local", "uni-nlp"), approved))
                .hasValueSatisfying(r -> assertThat(r.reason()).isEqualTo("WrongNamespace"));
    }

    @Test
    void aGpuNodeMustBeNamedAfterItsNodeAndClaimNoMoreGpusThanAMachineCarries() {
        Map<String, String> approved = Map.of("lab", "uni-nlp");
        GpuNode renamed = gpuNode("gpupool-cluster-lab", "lab", "uni-nlp");
        renamed.getMetadata().setName("l4-01-again");
        assertThat(NodeTrust.check(renamed, approved))
                .hasValueSatisfying(r -> assertThat(r.reason()).isEqualTo("NodeNameMismatch"));
        GpuNode inflated = gpuNode("gpupool-cluster-lab", "lab", "uni-nlp");
        inflated.getSpec().gpu.count = 1024;
        assertThat(NodeTrust.check(inflated, approved)).hasValueSatisfying(r -> {
            assertThat(r.reason()).isEqualTo("ExceedsNodeCapacity");
            assertThat(r.message()).contains("1024").contains("16");
        });
        inflated.getSpec().gpu.count = 16;
        assertThat(NodeTrust.check(inflated, approved)).isEmpty();
        assertThat(NodeTrust.check(inflated, approved, 8)).isPresent();
        // The pool's own nodes too: whoever may write their GpuNodes does not decide how many GPUs a machine has.
        GpuNode local = gpuNode("gpupool-cluster-local", "local", "uni-nlp");
        local.getSpec().gpu.count = 17;
        assertThat(NodeTrust.check(local, approved)).isPresent();
        // A MIG node counts seven slices per GPU: eight A100s in 1g.5gb slices are 56 devices.
        GpuNode mig = new GpuNode();
        mig.setMetadata(new ObjectMetaBuilder().withNamespace("gpupool-cluster-lab").withName("a100-40g-mig-01").build());
        mig.setSpec(GpuNodes.specOf(node("a100-40g-mig-01", null), "lab", "uni-nlp").orElseThrow());
        assertThat(NodeTrust.check(mig, approved)).isEmpty();
    }

    @Test
    void aSilentNodeIsGoneAfterTheHeartbeatTimeout() {
        GpuNode n = gpuNode("gpupool-cluster-lab", "lab", "uni-nlp");
        var classes = List.of(new GpuClassDef("l4", List.of("NVIDIA-L4"), 0, 1.0));
        Instant beat = Instant.parse("2026-01-01T00:00:00Z");
        Duration timeout = Duration.ofSeconds(120);
        assertThat(PoolInputs.node(n, classes, beat, null, beat.plusSeconds(120), timeout).state())
                .isEqualTo(NodeState.SCHEDULABLE);
        assertThat(PoolInputs.node(n, classes, beat, null, beat.plusSeconds(121), timeout).state())
                .isEqualTo(NodeState.GONE);
    }

    @Test
    void aCordonedOrLeavingNodeIsWithdrawnAndANodeNotReadyForTooLongIsGone() {
        GpuNode n = gpuNode("gpupool-cluster-lab", "lab", "uni-nlp");
        var classes = List.of(new GpuClassDef("l4", List.of("NVIDIA-L4"), 0, 1.0));
        Instant t = Instant.parse("2026-01-01T00:00:00Z");
        Duration timeout = Duration.ofSeconds(120);
        n.getSpec().unschedulable = true;
        assertThat(PoolInputs.node(n, classes, t, null, t.plusSeconds(1), timeout).state())
                .isEqualTo(NodeState.WITHDRAWING);
        n.getSpec().unschedulable = false;
        n.getSpec().withdrawn = true;
        assertThat(PoolInputs.node(n, classes, t, null, t.plusSeconds(1), timeout).state())
                .isEqualTo(NodeState.WITHDRAWING);
        n.getSpec().withdrawn = false;
        n.getSpec().nodeReady = false;
        assertThat(PoolInputs.node(n, classes, t, t, t.plusSeconds(120), timeout).state())
                .as("not ready for a while: keeps its replicas").isEqualTo(NodeState.NOT_READY);
        assertThat(PoolInputs.node(n, classes, t.plusSeconds(120), t, t.plusSeconds(121), timeout).state())
                .as("not ready past the timeout, although its agent still reports").isEqualTo(NodeState.GONE);
        assertThat(PoolInputs.node(n, classes, null, t, t.plusSeconds(121), timeout).state())
                .as("a node of the pool's own cluster, not ready past the timeout").isEqualTo(NodeState.GONE);
    }

    @Test
    void remoteWorkIsTheRenderedServingWorkloadNamedAndSelectedPerModelDeployment() {
        var md = modelDeployment("team-a", "llama", 3, 1);
        List<Placement> placements = List.of(new Placement("lab", "n1", "l4", 2), new Placement("lab", "n2", "l4", 1),
                new Placement("local", "n3", "l4", 1), new Placement("other", "n4", "l4", 1));
        ServingWork work = RemoteWorkRenderer.render(md, "org-a", "lab", placements, ServingSettings.DEFAULT);
        assertThat(work.getMetadata().getNamespace()).isEqualTo("gpupool-cluster-lab");
        assertThat(work.getMetadata().getName()).isEqualTo("team-a.llama");
        assertThat(work.getSpec().replicas).isEqualTo(3);
        assertThat(work.getSpec().organization).isEqualTo("org-a");
        List<Deployment> ds = work.getSpec().deployments();
        assertThat(ds).hasSize(2);
        String hash = RemoteWorkRenderer.workHash("team-a", "llama");
        Deployment local = ServingRenderer.deployment(md, placements.get(0), ServingSettings.DEFAULT);
        assertThat(ds.get(0).getMetadata().getNamespace()).isNull();
        assertThat(ds.get(0).getMetadata().getName()).isEqualTo("llama-" + hash + "-" + ServingRenderer.nodeHash("lab", "n1"));
        assertThat(ds.get(0).getSpec().getTemplate().getSpec()).isEqualTo(local.getSpec().getTemplate().getSpec());
        assertThat(ds.get(0).getSpec().getSelector().getMatchLabels()).containsEntry(RemoteWorkRenderer.WORK_LABEL, hash);
        assertThat(ds.get(0).getSpec().getTemplate().getMetadata().getLabels())
                .containsEntry(RemoteWorkRenderer.WORK_LABEL, hash);
        assertThat(work.getSpec().service().getSpec().getSelector()).containsExactly(Map.entry(RemoteWorkRenderer.WORK_LABEL, hash));
        assertThat(RemoteWorkRenderer.remoteClusters(placements)).containsExactly("lab", "other");
        assertThat(RemoteWorkRenderer.workHash("team-b", "llama")).isNotEqualTo(hash);
    }

    @Test
    void aGatedModelsRemoteWorkReadsItsTokenFromTheCredentialsTheAgentKeepsAndNothingElse() {
        var md = modelDeployment("team-a", "llama", 1, 1);
        md.getSpec().hfTokenSecretRef = new SecretKeyRef();
        md.getSpec().hfTokenSecretRef.name = "hf";
        md.getSpec().hfTokenSecretRef.key = "read-token";
        List<Placement> placements = List.of(new Placement("lab", "n1", "l4", 1));
        ServingWork work = RemoteWorkRenderer.render(md, "org-a", "lab", placements, ServingSettings.DEFAULT);
        assertThat(work.getSpec().credentialsKey).isEqualTo("team-a.llama");
        Deployment d = work.getSpec().deployments().get(0);
        var token = d.getSpec().getTemplate().getSpec().getContainers().get(0).getEnv().stream()
                .filter(e -> e.getName().equals("HF_TOKEN")).findFirst().orElseThrow().getValueFrom().getSecretKeyRef();
        assertThat(token.getName()).isEqualTo(RemoteWorkRenderer.MODEL_CREDENTIALS_SECRET);
        assertThat(token.getKey()).isEqualTo("team-a.llama");
        // At the pool the same model reads the user's own Secret.
        var local = ServingRenderer.deployment(md, new Placement("local", "n1", "l4", 1), ServingSettings.DEFAULT)
                .getSpec().getTemplate().getSpec().getContainers().get(0).getEnv().stream()
                .filter(e -> e.getName().equals("HF_TOKEN")).findFirst().orElseThrow().getValueFrom().getSecretKeyRef();
        assertThat(local.getName() + "/" + local.getKey()).isEqualTo("hf/read-token");
        assertThat(RemoteWorkRenderer.render(modelDeployment("team-a", "open", 1, 1), "org-a", "lab", placements,
                ServingSettings.DEFAULT).getSpec().credentialsKey).isNull();

        // The agent lets it read exactly that key; another work's key, a whole Secret or any other Secret are refused.
        var policy = new ContributorPolicy(List.of("ghcr.io/gpupool/*"), false, false);
        var own = java.util.Set.of(new ContributorPolicy.SecretKey(RemoteWorkRenderer.MODEL_CREDENTIALS_SECRET,
                "team-a.llama"));
        assertThat(policy.violations(d, own)).isEmpty();
        assertThat(policy.violations(d)).singleElement().asString().contains("reads key team-a.llama of Secret "
                + RemoteWorkRenderer.MODEL_CREDENTIALS_SECRET);
        token.setKey("team-b.other");
        assertThat(policy.violations(d, own)).singleElement().asString().contains("team-b.other");
        token.setKey("team-a.llama");
        var pod = d.getSpec().getTemplate().getSpec();
        pod.getContainers().get(0).getEnvFrom().add(new io.fabric8.kubernetes.api.model.EnvFromSourceBuilder()
                .withNewSecretRef().withName("contributors-own").endSecretRef().build());
        pod.getVolumes().add(new io.fabric8.kubernetes.api.model.VolumeBuilder().withName("creds").withNewSecret()
                .withSecretName(RemoteWorkRenderer.MODEL_CREDENTIALS_SECRET).endSecret().build());
        assertThat(policy.violations(d, own)).containsExactlyInAnyOrder(
                "container server reads all of Secret contributors-own.", "volume creds mounts a Secret or a ServiceAccount token.");
    }

    @Test
    void policyAllowsListedImagesAndRefusesPrivilegeAndHostPaths() {
        var policy = new ContributorPolicy(List.of("ghcr.io/gpupool/*", "registry.example.org/vllm:1.*"), false, false);
        assertThat(policy.imageAllowed("ghcr.io/gpupool/inference-vllm:0.1.0")).isTrue();
        assertThat(policy.imageAllowed("registry.example.org/vllm:1.2")).isTrue();
        assertThat(policy.imageAllowed("registry.example.org/vllm:2.0")).isFalse();
        assertThat(policy.imageAllowed("ghcr.io/gpupool-evil/x")).isFalse();
        assertThat(new ContributorPolicy(List.of(), false, false).imageAllowed("anything")).isFalse();

        var md = modelDeployment("team-a", "llama", 1, 1);
        Deployment d = ServingRenderer.deployment(md, new Placement("lab", "n1", "l4", 1), ServingSettings.DEFAULT);
        assertThat(policy.violations(d)).isEmpty(); // what the pool renders complies with the default policy
        d.getSpec().getTemplate().getSpec().setHostNetwork(true);
        d.getSpec().getTemplate().getSpec().getContainers().get(0).getSecurityContext().setAllowPrivilegeEscalation(true);
        assertThat(policy.violations(d)).hasSize(2);
        assertThat(new ContributorPolicy(List.of("*"), true, true).violations(d)).isEmpty();
        assertThat(policy.violations(new ServiceBuilder().withNewMetadata().withName("s").endMetadata().withNewSpec()
                .withType("LoadBalancer").endSpec().build())).singleElement().asString().contains("LoadBalancer");
    }
}
