package io.gpupool.operator;

import static io.gpupool.testing.PoolFixtures.gpuClass;
import static io.gpupool.testing.PoolFixtures.modelDeployment;
import static io.gpupool.testing.PoolFixtures.namespace;
import static io.gpupool.testing.PoolFixtures.node;
import static io.gpupool.testing.PoolFixtures.organization;
import static io.gpupool.testing.PoolFixtures.servingPod;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;

import jakarta.inject.Inject;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentStatusBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.gpupool.agent.AgentSettings;
import io.gpupool.agent.ContributorAgent;
import io.gpupool.api.v1alpha1.ClassGpus;
import io.gpupool.api.v1alpha1.ContributedCluster;
import io.gpupool.api.v1alpha1.GpuFacts;
import io.gpupool.api.v1alpha1.GpuNode;
import io.gpupool.api.v1alpha1.GpuNodeSpec;
import io.gpupool.api.v1alpha1.GpuPool;
import io.gpupool.api.v1alpha1.ModelDeployment;
import io.gpupool.api.v1alpha1.Organization;
import io.gpupool.api.v1alpha1.Placement;
import io.gpupool.api.v1alpha1.ServingWork;
import io.gpupool.core.policy.ContributorPolicy;
import io.gpupool.core.status.Conditions;
import io.gpupool.operator.cluster.ContributedClusterReconciler;
import io.gpupool.testing.MockCluster;
import io.gpupool.testing.TcpProxy;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;

/**
 * The pool (the operator on the Quarkus mock server) with contributed clusters (each its own Fabric8 mock server, with
 * a real agent connected through a proxy the test can cut): approval and credentials, registration, trust, serving
 * work end to end, heartbeat expiry and re-placement, and an agent's recovery after an outage.
 */
@QuarkusTest
@WithKubernetesTestServer
class RemoteClusterTest {

    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final String SERVING = "gpupool-serving";

    @Inject
    KubernetesClient pool;

    private final List<AutoCloseable> closing = new ArrayList<>();

    /** A contributed cluster: its API server, its agent, and the link from the agent to the pool. */
    record Contributor(MockCluster cluster, TcpProxy link, ContributorAgent agent) {
        List<Deployment> serving() {
            return cluster.client().apps().deployments().inNamespace(SERVING).list().getItems();
        }
    }

    @AfterEach
    void stop() throws Exception {
        List<AutoCloseable> reversed = new ArrayList<>(closing);
        java.util.Collections.reverse(reversed);
        for (AutoCloseable c : reversed) {
            c.close();
        }
        closing.clear();
    }

    private Contributor contributor(String name, String organization, String... fixtures) throws Exception {
        MockCluster cluster = MockCluster.plain();
        closing.add(cluster);
        cluster.client().resource(new NamespaceBuilder().withNewMetadata().withName(SERVING).endMetadata().build())
                .create();
        for (String f : fixtures) {
            Node n = node(f, null);
            n.getMetadata().getLabels().put("gpupool.io/contribute", "true");
            cluster.client().resource(n).create();
        }
        TcpProxy link = new TcpProxy(URI.create(pool.getConfiguration().getMasterUrl()).getPort());
        closing.add(link);
        KubernetesClient hub = MockCluster.client(link.url());
        closing.add(hub);
        ContributorAgent agent = new ContributorAgent(cluster.client(), hub,
                new AgentSettings(organization, name, Map.of("gpupool.io/contribute", "true"), SERVING,
                        Duration.ofSeconds(1),
                        new ContributorPolicy(List.of("ghcr.io/gpupool/inference-vllm:*"), false, false)),
                Clock.systemUTC());
        agent.start();
        closing.add(agent);
        return new Contributor(cluster, link, agent);
    }

    private void approve(String cluster, String organization) {
        ContributedCluster cc = new ContributedCluster();
        cc.setMetadata(new ObjectMetaBuilder().withName(cluster).build());
        cc.getSpec().organization = organization;
        cc.getSpec().displayName = cluster;
        issuesTokens(cluster);
        pool.resource(cc).createOr(r -> r.update());
        await().atMost(WAIT).until(() -> {
            ContributedCluster c = pool.resources(ContributedCluster.class).withName(cluster).get();
            return c.getStatus() != null && Conditions.isTrue(c.getStatus().conditions, Conditions.READY);
        });
    }

    private static String kubeconfigText(io.fabric8.kubernetes.api.model.Secret s) {
        return new String(Base64.getDecoder().decode(s.getData().get(ContributedClusterReconciler.KUBECONFIG_KEY)),
                StandardCharsets.UTF_8);
    }

    @io.quarkus.test.kubernetes.client.KubernetesTestServer
    io.quarkus.test.kubernetes.client.KubernetesServer mockServer;

    /**
     * Plays the API server's TokenRequest endpoint for a cluster's agent, which the mock server does not implement:
     * the first token is "token-of-&lt;cluster&gt;", later ones are numbered.
     */
    private void issuesTokens(String cluster) {
        java.util.concurrent.atomic.AtomicInteger issued = new java.util.concurrent.atomic.AtomicInteger();
        mockServer.expect().post().withPath("/api/v1/namespaces/gpupool-cluster-" + cluster
                + "/serviceaccounts/gpupool-agent/token").andReply(201, request -> {
                    int n = issued.incrementAndGet();
                    return new io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder().withNewSpec()
                            .withExpirationSeconds(86400L).endSpec().withNewStatus()
                            .withToken("token-of-" + cluster + (n == 1 ? "" : "-" + n))
                            .withExpirationTimestamp(java.time.Instant.now().plusSeconds(86400).toString())
                            .endStatus().build();
                }).always();
    }

    private static String b64(String s) {
        return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    private GpuNode gpuNode(String cluster, String name) {
        return pool.resources(GpuNode.class).inNamespace("gpupool-cluster-" + cluster).withName(name).get();
    }

    private Condition nodeReady(String cluster, String name) {
        GpuNode n = gpuNode(cluster, name);
        return n == null || n.getStatus() == null ? null
                : Conditions.find(n.getStatus().conditions, Conditions.READY).orElse(null);
    }

    /** The GpuNode's condition Verified: whether its GPUs count toward its organization's quota, and why. */
    private Condition verified(String cluster, String name) {
        GpuNode n = gpuNode(cluster, name);
        return n == null || n.getStatus() == null ? null
                : Conditions.find(n.getStatus().conditions, "Verified").orElse(null);
    }

    private ModelDeployment md(String ns, String name) {
        return pool.resources(ModelDeployment.class).inNamespace(ns).withName(name).get();
    }

    private void member(String org, String ns) {
        pool.resource(organization(org, ns)).createOr(r -> r.update());
        pool.resource(namespace(ns)).createOr(r -> r.update());
        pool.resource(gpuClass("rtx-24g", 20000, "*RTX-4090*")).createOr(r -> r.update());
    }

    @Test
    void approvalIssuesLeastPrivilegeCredentialsAndOnlyTrustedNodesCount() throws Exception {
        member("uni-nlp", "nlp");
        approve("lab-7", "uni-nlp");
        String ns = "gpupool-cluster-lab-7";
        ContributedCluster cc = pool.resources(ContributedCluster.class).withName("lab-7").get();
        assertThat(cc.getStatus().namespace).isEqualTo(ns);
        assertThat(cc.getStatus().kubeconfigSecret).isEqualTo(ContributedClusterReconciler.KUBECONFIG_SECRET);
        assertThat(pool.namespaces().withName(ns).get().getMetadata().getOwnerReferences()).singleElement()
                .satisfies(o -> assertThat(o.getKind()).isEqualTo("ContributedCluster"));
        assertThat(pool.serviceAccounts().inNamespace(ns).withName("gpupool-agent").get()).isNotNull();
        var role = pool.rbac().roles().inNamespace(ns).withName("gpupool-agent").get();
        assertThat(role.getRules()).flatExtracting(r -> r.getResources()).containsExactlyInAnyOrder("gpunodes",
                "gpunodes/status", "servingworks", "servingworks/status", "secrets", "serviceaccounts/token");
        assertThat(role.getRules()).filteredOn(r -> r.getResources().contains("servingworks"))
                .singleElement().satisfies(r -> assertThat(r.getVerbs()).containsExactlyInAnyOrder("get", "list", "watch"));
        assertThat(role.getRules()).filteredOn(r -> r.getResources().contains("secrets")).singleElement()
                .satisfies(r -> {
                    assertThat(r.getResourceNames()).containsExactly(ContributedClusterReconciler.MODEL_CREDENTIALS_SECRET);
                    assertThat(r.getVerbs()).containsExactlyInAnyOrder("get", "list", "watch");
                });
        assertThat(role.getMetadata().getOwnerReferences()).singleElement()
                .satisfies(o -> assertThat(o.getName()).isEqualTo("lab-7"));
        RoleBinding binding = pool.rbac().roleBindings().inNamespace(ns).withName("gpupool-agent").get();
        assertThat(binding.getRoleRef().getName()).isEqualTo("gpupool-agent");
        assertThat(binding.getSubjects()).singleElement().satisfies(s -> assertThat(s.getNamespace()).isEqualTo(ns));
        Secret kubeconfig = pool.secrets().inNamespace(ns).withName(ContributedClusterReconciler.KUBECONFIG_SECRET).get();
        String yaml = new String(Base64.getDecoder()
                .decode(kubeconfig.getData().get(ContributedClusterReconciler.KUBECONFIG_KEY)), StandardCharsets.UTF_8);
        var kc = Serialization.unmarshal(yaml, io.fabric8.kubernetes.api.model.Config.class);
        assertThat(kc.getClusters()).singleElement().satisfies(c -> {
            assertThat(c.getCluster().getServer()).isEqualTo("https://pool.test.example:6443");
            // The pool's CA as the operator's own client trusts it (none for this plain-HTTP mock server).
            assertThat(c.getCluster().getCertificateAuthorityData()).isEqualTo(pool.getConfiguration().getCaCertData());
        });
        assertThat(kc.getUsers()).singleElement()
                .satisfies(u -> assertThat(u.getUser().getToken()).isEqualTo("token-of-lab-7"));
        assertThat(kc.getContexts()).singleElement()
                .satisfies(c -> assertThat(c.getContext().getNamespace()).isEqualTo(ns));
        // And a client reads it as a kubeconfig.
        Config config = Config.fromKubeconfig(yaml);
        assertThat(config.getMasterUrl()).startsWith("https://pool.test.example:6443");
        assertThat(config.getNamespace()).isEqualTo(ns);

        // An agent that reports its nodes for another organization than the approval names: ignored, with a reason.
        Contributor lab = contributor("lab-7", "someone-else", "rtx4090-home-01", "cpu-only-01");
        await().atMost(WAIT).until(() -> nodeReady("lab-7", "rtx4090-home-01") != null
                && gpuNode("lab-7", "rtx4090-home-01").getStatus().lastHeartbeatTime != null);
        assertThat(gpuNode("lab-7", "cpu-only-01")).isNull();
        GpuNode spoofed = gpuNode("lab-7", "rtx4090-home-01");
        assertThat(spoofed.getStatus().allocatable).isZero();
        Condition mismatch = nodeReady("lab-7", "rtx4090-home-01");
        assertThat(mismatch.getStatus()).isEqualTo("False");
        assertThat(mismatch.getReason()).isEqualTo("OrganizationMismatch");
        assertThat(mismatch.getMessage()).contains("someone-else").contains("uni-nlp");

        // GpuNodes of a cluster nobody approved, or in another cluster's namespace, are ignored too.
        pool.resource(new NamespaceBuilder().withNewMetadata().withName("gpupool-cluster-rogue").endMetadata().build())
                .createOr(r -> r.update());
        pool.resource(fakeNode("gpupool-cluster-rogue", "rogue", "box", "uni-nlp")).create();
        pool.resource(fakeNode("gpupool-cluster-rogue", "lab-7", "elsewhere", "uni-nlp")).create();
        await().atMost(WAIT).until(() -> nodeReady("rogue", "box") != null
                && pool.resources(GpuNode.class).inNamespace("gpupool-cluster-rogue").withName("elsewhere").get()
                        .getStatus() != null);
        assertThat(nodeReady("rogue", "box").getReason()).isEqualTo("ClusterNotApproved");
        assertThat(Conditions.find(pool.resources(GpuNode.class).inNamespace("gpupool-cluster-rogue")
                .withName("elsewhere").get().getStatus().conditions, Conditions.READY).orElseThrow().getReason())
                .isEqualTo("WrongNamespace");

        // None of them takes part in admission: a replica needing 8 RTX 4090s on one node (as all three claim) waits.
        var big = modelDeployment("nlp", "needs-eight", 1, 8);
        big.getSpec().gpu.classes = List.of("rtx-24g");
        pool.resource(big).create();
        await().atMost(WAIT).until(() -> md("nlp", "needs-eight").getStatus() != null
                && Conditions.find(md("nlp", "needs-eight").getStatus().conditions, Conditions.ADMITTED).isPresent());
        assertThat(Conditions.find(md("nlp", "needs-eight").getStatus().conditions, Conditions.ADMITTED).orElseThrow()
                .getReason()).isEqualTo("NoMatchingGpu");
        // The agent's heartbeat and the pool's fields of the same status live side by side.
        String beat = gpuNode("lab-7", "rtx4090-home-01").getStatus().lastHeartbeatTime;
        await().atMost(WAIT).until(() -> !beat.equals(gpuNode("lab-7", "rtx4090-home-01").getStatus().lastHeartbeatTime));
        assertThat(nodeReady("lab-7", "rtx4090-home-01").getReason()).isEqualTo("OrganizationMismatch");
        assertThat(gpuNode("lab-7", "rtx4090-home-01").getStatus().conditions).hasSize(1);
        assertThat(lab.agent().lastHeartbeat()).isNotNull();

        // The approved cluster's credentials claiming a thousand GPUs on one machine: not believed either, and its
        // organization's quota does not grow (the agent is stopped first: it removes GpuNodes of no node of its own).
        lab.agent().close();
        GpuNode inflated = fakeNode("gpupool-cluster-lab-7", "lab-7", "big-box", "uni-nlp");
        inflated.getSpec().gpu.count = 1024;
        pool.resource(inflated).create();
        await().atMost(WAIT).until(() -> nodeReady("lab-7", "big-box") != null);
        assertThat(nodeReady("lab-7", "big-box").getReason()).isEqualTo("ExceedsNodeCapacity");
        assertThat(gpuNode("lab-7", "big-box").getStatus().allocatable).isZero();
        await().atMost(WAIT).until(() -> pool.resources(io.gpupool.api.v1alpha1.Organization.class).withName("uni-nlp")
                .get().getStatus() != null);
        var uniNlp = pool.resources(io.gpupool.api.v1alpha1.Organization.class).withName("uni-nlp").get();
        assertThat(uniNlp.getStatus().classes).allSatisfy(c -> assertThat(c.contributed).isZero());
    }

    @Test
    void deletedOrEditedCredentialsComeBackWithoutTheApprovalChanging() {
        approve("mended", "uni-nlp");
        String ns = "gpupool-cluster-mended";
        ContributedCluster approved = pool.resources(ContributedCluster.class).withName("mended").get();
        var role = pool.rbac().roles().inNamespace(ns).withName(ContributedClusterReconciler.AGENT);
        var binding = pool.rbac().roleBindings().inNamespace(ns).withName(ContributedClusterReconciler.AGENT);
        var kubeconfig = pool.secrets().inNamespace(ns).withName(ContributedClusterReconciler.KUBECONFIG_SECRET);
        var rules = role.get().getRules();
        var subjects = binding.get().getSubjects();
        String issued = kubeconfig.get().getData().get(ContributedClusterReconciler.KUBECONFIG_KEY);

        // Someone deletes the Role: it comes back as it was.
        role.delete();
        await().atMost(WAIT).until(() -> role.get() != null && role.get().getRules().equals(rules));
        // Someone widens the Role: the extra rule goes.
        role.edit(r -> {
            r.getRules().add(new io.fabric8.kubernetes.api.model.rbac.PolicyRuleBuilder().withApiGroups("")
                    .withResources("secrets").withVerbs("get", "list").build());
            return r;
        });
        await().atMost(WAIT).until(() -> role.get().getRules().equals(rules));
        // Someone edits the kubeconfig: it is written again, with a new token (whoever could write it may have read it).
        kubeconfig.edit(k -> {
            k.getData().put(ContributedClusterReconciler.KUBECONFIG_KEY, b64("server: https://elsewhere.example"));
            return k;
        });
        await().atMost(WAIT).until(() -> kubeconfigText(kubeconfig.get()).contains("https://pool.test.example:6443")
                && !issued.equals(kubeconfig.get().getData().get(ContributedClusterReconciler.KUBECONFIG_KEY)));
        // Someone binds the Role to another subject as well: that subject goes. Someone deletes the RoleBinding: it
        // comes back.
        binding.edit(b -> {
            b.getSubjects().add(new io.fabric8.kubernetes.api.model.rbac.SubjectBuilder().withKind("User")
                    .withName("mallory").build());
            return b;
        });
        await().atMost(WAIT).until(() -> binding.get().getSubjects().equals(subjects));
        binding.delete();
        await().atMost(WAIT).until(() -> binding.get() != null && binding.get().getSubjects().equals(subjects));
        // A deleted kubeconfig is issued again, with a new short-lived token; no non-expiring token Secret exists.
        String before = kubeconfigText(kubeconfig.get());
        kubeconfig.delete();
        await().atMost(WAIT).until(() -> kubeconfig.get() != null && !kubeconfigText(kubeconfig.get()).equals(before)
                && ready("mended").map(c -> "CredentialsIssued".equals(c.getReason())).orElse(false));
        assertThat(kubeconfig.get().getMetadata().getAnnotations()).containsKey("gpupool.io/token-expires-at");
        assertThat(pool.secrets().inNamespace(ns).withName(ContributedClusterReconciler.LEGACY_TOKEN_SECRET).get())
                .isNull();

        // None of it was the approval's doing: its spec never changed.
        ContributedCluster after = pool.resources(ContributedCluster.class).withName("mended").get();
        assertThat(after.getMetadata().getGeneration()).isEqualTo(approved.getMetadata().getGeneration());
        assertThat(after.getSpec().organization).isEqualTo("uni-nlp");
    }

    @Test
    void credentialsAnOlderOperatorMadeAreFoundAndUpdatedNotMadeTwice() {
        // As the imperative version left them: no owner references but the namespace's, the Role of that time.
        String ns = "gpupool-cluster-legacy";
        pool.resource(new NamespaceBuilder().withNewMetadata().withName(ns).endMetadata().build()).create();
        pool.resource(new io.fabric8.kubernetes.api.model.ServiceAccountBuilder().withNewMetadata()
                .withName(ContributedClusterReconciler.AGENT).withNamespace(ns).endMetadata().build()).create();
        var oldRole = ContributedClusterReconciler.agentRole(ns);
        oldRole.getRules().removeIf(r -> r.getResources().contains("secrets"));
        pool.resource(oldRole).create();
        pool.resource(new io.fabric8.kubernetes.api.model.SecretBuilder().withNewMetadata()
                .withName(ContributedClusterReconciler.LEGACY_TOKEN_SECRET).withNamespace(ns).endMetadata()
                .withType("kubernetes.io/service-account-token")
                .addToData(Map.of("token", b64("old-token"), "ca.crt", b64("-----BEGIN CERTIFICATE-----"))).build())
                .create();

        ContributedCluster cc = new ContributedCluster();
        cc.setMetadata(new ObjectMetaBuilder().withName("legacy").build());
        cc.getSpec().organization = "uni-nlp";
        issuesTokens("legacy");
        ContributedCluster created = pool.resource(cc).create();
        // A namespace the operator did not make for this approval (it is owned by no ContributedCluster) is not adopted:
        // whoever made it may hold roles in it that read the agent's credentials.
        await().atMost(WAIT).until(() -> ready("legacy").map(c -> "NamespaceNotOurs".equals(c.getReason()))
                .orElse(false));
        assertThat(pool.rbac().roleBindings().inNamespace(ns).withName(ContributedClusterReconciler.AGENT).get())
                .isNull();
        assertThat(pool.secrets().inNamespace(ns).withName(ContributedClusterReconciler.KUBECONFIG_SECRET).get())
                .isNull();
        // The older operator owned its namespaces by the approval's uid: once it is, the rest is found and updated.
        pool.namespaces().withName(ns).edit(n -> {
            n.getMetadata().setOwnerReferences(List.of(new io.fabric8.kubernetes.api.model.OwnerReferenceBuilder()
                    .withApiVersion("gpupool.io/v1alpha1").withKind("ContributedCluster").withName("legacy")
                    .withUid(created.getMetadata().getUid()).build()));
            return n;
        });
        await().atMost(WAIT).until(() -> ready("legacy").map(c -> "CredentialsIssued".equals(c.getReason()))
                .orElse(false));
        assertThat(pool.rbac().roles().inNamespace(ns).withName(ContributedClusterReconciler.AGENT).get().getRules())
                .isEqualTo(ContributedClusterReconciler.agentRole(ns).getRules());
        // The kubeconfig carries a requested, short-lived token; the older operator's non-expiring one is deleted.
        assertThat(kubeconfigText(pool.secrets().inNamespace(ns).withName(ContributedClusterReconciler.KUBECONFIG_SECRET)
                .get())).contains("token-of-legacy").doesNotContain("old-token");
        await().atMost(WAIT).until(() -> pool.secrets().inNamespace(ns)
                .withName(ContributedClusterReconciler.LEGACY_TOKEN_SECRET).get() == null);
        assertThat(pool.rbac().roleBindings().inNamespace(ns).withName(ContributedClusterReconciler.AGENT).get())
                .isNotNull();
    }

    @Test
    void localIsReservedForThePoolsOwnCluster() {
        ContributedCluster cc = new ContributedCluster();
        cc.setMetadata(new ObjectMetaBuilder().withName("local").build());
        cc.getSpec().organization = "uni-nlp";
        pool.resource(cc).create();
        await().atMost(WAIT).until(() -> ready("local").isPresent());
        assertThat(ready("local").orElseThrow().getReason()).isEqualTo("InvalidName");
        assertThat(ready("local").orElseThrow().getMessage()).contains("reserved");
        // No agent identity in the namespace of the pool's own GpuNodes.
        assertThat(pool.serviceAccounts().inNamespace("gpupool-cluster-local").withName(ContributedClusterReconciler.AGENT)
                .get()).isNull();
        assertThat(pool.rbac().roles().inNamespace("gpupool-cluster-local").withName(ContributedClusterReconciler.AGENT)
                .get()).isNull();
        pool.resource(cc).delete();
    }

    @Test
    void anApprovalWhoseNameCannotNameANamespaceGetsAConditionAndNoChildren() {
        ContributedCluster cc = new ContributedCluster();
        cc.setMetadata(new ObjectMetaBuilder().withName("lab.example.org").build());
        cc.getSpec().organization = "uni-nlp";
        pool.resource(cc).create();
        await().atMost(WAIT).until(() -> ready("lab.example.org").isPresent());
        Condition invalid = ready("lab.example.org").orElseThrow();
        assertThat(invalid.getStatus()).isEqualTo("False");
        assertThat(invalid.getReason()).isEqualTo("InvalidName");
        assertThat(invalid.getMessage()).contains("gpupool-cluster-lab.example.org");
        assertThat(pool.namespaces().withName("gpupool-cluster-lab.example.org").get()).isNull();
        assertThat(pool.serviceAccounts().inAnyNamespace().withField("metadata.name", ContributedClusterReconciler.AGENT)
                .list().getItems()).noneMatch(sa -> sa.getMetadata().getNamespace().contains("lab.example.org"));
    }

    private java.util.Optional<Condition> ready(String cluster) {
        ContributedCluster c = pool.resources(ContributedCluster.class).withName(cluster).get();
        return c == null || c.getStatus() == null ? java.util.Optional.empty()
                : Conditions.find(c.getStatus().conditions, Conditions.READY);
    }

    private static GpuNode fakeNode(String namespace, String cluster, String name, String org) {
        GpuNode n = new GpuNode();
        n.setMetadata(new ObjectMetaBuilder().withNamespace(namespace).withName(name).build());
        GpuNodeSpec spec = new GpuNodeSpec();
        spec.cluster = cluster;
        spec.nodeName = name;
        spec.organization = org;
        spec.gpu = new GpuFacts();
        spec.gpu.product = "NVIDIA-GeForce-RTX-4090";
        spec.gpu.memoryMiB = 24564L;
        spec.gpu.count = 8;
        n.setSpec(spec);
        return n;
    }

    @Test
    void workRunsOnAContributedClusterAndMovesWhenItsHeartbeatStops() throws Exception {
        member("uni-cv", "vision");
        pool.resource(gpuClass("a10-24g", 20000, "NVIDIA-A10")).createOr(r -> r.update());
        GpuPool gpuPool = new GpuPool();
        gpuPool.setMetadata(new ObjectMetaBuilder().withName(GpuPool.DEFAULT_NAME).build());
        gpuPool.getSpec().heartbeatTimeoutSeconds = 4;
        pool.resource(gpuPool).createOr(r -> r.update());
        closing.add(() -> pool.resources(GpuPool.class).withName(GpuPool.DEFAULT_NAME).delete());
        approve("attic", "uni-cv");
        approve("basement", "uni-cv");
        Contributor attic = contributor("attic", "uni-cv", "a10-01");
        Contributor basement = contributor("basement", "uni-cv", "a10-01");
        await().atMost(WAIT).until(() -> nodeReady("attic", "a10-01") != null
                && "True".equals(nodeReady("attic", "a10-01").getStatus()) && nodeReady("basement", "a10-01") != null
                && "True".equals(nodeReady("basement", "a10-01").getStatus()));

        var mdSpec = modelDeployment("vision", "llava", 2, 1);
        mdSpec.getSpec().model.maxContextLength = 2048;
        mdSpec.getSpec().gpu.classes = List.of("a10-24g");
        pool.resource(mdSpec).create();
        await().atMost(WAIT).until(() -> md("vision", "llava").getStatus() != null
                && md("vision", "llava").getStatus().replicas != null && md("vision", "llava").getStatus().replicas.admitted == 2);
        assertThat(md("vision", "llava").getStatus().placements)
                .containsExactly(new Placement("attic", "a10-01", "a10-24g", 2));
        // No local Deployment: the replicas are the attic's work.
        assertThat(pool.apps().deployments().inNamespace("vision").list().getItems()).isEmpty();
        ServingWork work = pool.resources(ServingWork.class).inNamespace("gpupool-cluster-attic").withName("vision.llava").get();
        assertThat(work).isNotNull();
        assertThat(work.getSpec().replicas).isEqualTo(2);
        assertThat(work.getSpec().organization).isEqualTo("uni-cv");
        // Its work is outside its namespace, where owner references cannot reach: it got the operator's finalizer
        // before the work was written (a ModelDeployment of the pool's own cluster has none).
        assertThat(md("vision", "llava").getMetadata().getFinalizers())
                .containsExactly("modeldeployments.gpupool.io/finalizer");

        await().atMost(WAIT).until(() -> attic.serving().size() == 1);
        Deployment running = attic.serving().get(0);
        running.setStatus(new DeploymentStatusBuilder().withReplicas(2).withReadyReplicas(2).build());
        attic.cluster().client().resource(running).updateStatus();
        await().atMost(WAIT).until(() -> "Running".equals(md("vision", "llava").getStatus().phase));
        assertThat(md("vision", "llava").getStatus().replicas.ready).isEqualTo(2);

        // The attic goes silent (its link to the pool is cut): after the heartbeat timeout its node is gone and the
        // replicas move to the basement; nothing but time tells the pool.
        attic.link().cut();
        await().atMost(WAIT).until(() -> md("vision", "llava").getStatus().placements
                .equals(List.of(new Placement("basement", "a10-01", "a10-24g", 2))));
        await().atMost(WAIT).untilAsserted(() -> assertThat(nodeReady("attic", "a10-01").getReason())
                .as("%s", Serialization.asYaml(gpuNode("attic", "a10-01"))).isEqualTo("HeartbeatExpired"));
        await().atMost(WAIT).until(() -> pool.resources(ServingWork.class).inNamespace("gpupool-cluster-attic")
                .withName("vision.llava").get() == null);
        await().atMost(WAIT).until(() -> basement.serving().size() == 1);
        // Meanwhile the attic, cut off, keeps running what it had.
        assertThat(attic.serving()).hasSize(1);
        Deployment moved = basement.serving().get(0);
        moved.setStatus(new DeploymentStatusBuilder().withReplicas(2).withReadyReplicas(2).build());
        basement.cluster().client().resource(moved).updateStatus();
        await().atMost(WAIT).until(() -> "Running".equals(md("vision", "llava").getStatus().phase));

        // The attic comes back: it learns its work is gone and stops it; its node takes replicas again.
        attic.link().restore();
        await().atMost(WAIT).until(() -> attic.serving().isEmpty());
        await().atMost(WAIT).until(() -> "True".equals(nodeReady("attic", "a10-01").getStatus()));
        assertThat(basement.serving()).hasSize(1);
        assertThat(pool.resources(ServingWork.class).inAnyNamespace().list().getItems())
                .extracting(w -> w.getMetadata().getNamespace()).containsExactly("gpupool-cluster-basement");

        // Deleting the ModelDeployment withdraws its work from the basement too; then the finalizer lets it go.
        pool.resources(ModelDeployment.class).inNamespace("vision").withName("llava").delete();
        await().atMost(WAIT).until(() -> basement.serving().isEmpty());
        await().atMost(WAIT).until(() -> pool.resources(ModelDeployment.class).inNamespace("vision").withName("llava")
                .get() == null && pool.resources(ServingWork.class).inAnyNamespace().list().getItems().isEmpty());
    }

    @Test
    void aCordonedContributedNodeHandsItsReplicasOverAndKeepsItsGpusUntilItsPodsAreGone() throws Exception {
        member("uni-av", "driving");
        pool.resource(gpuClass("a10-24g", 20000, "NVIDIA-A10")).createOr(r -> r.update());
        approve("porch", "uni-av");
        approve("garage", "uni-av");
        // The pool admin lets the garage bring no A10 that earns quota (its GPUs are still placed on).
        pool.resources(ContributedCluster.class).withName("garage").edit(c -> {
            c.getSpec().ceiling = List.of(new ClassGpus("a10-24g", 0));
            return c;
        });
        Contributor porch = contributor("porch", "uni-av", "a10-01");
        await().atMost(WAIT).until(() -> nodeReady("porch", "a10-01") != null
                && "True".equals(nodeReady("porch", "a10-01").getStatus()));
        // Its GPUs count once replicas proved them: none yet.
        await().atMost(WAIT).untilAsserted(() -> assertThat(verified("porch", "a10-01")).isNotNull()
                .extracting(Condition::getReason).isEqualTo("NotProven"));
        assertThat(gpuNode("porch", "a10-01").getStatus().countedGpus).isZero();
        var spec = modelDeployment("driving", "planner", 1, 1);
        spec.getSpec().model.maxContextLength = 2048;
        spec.getSpec().gpu.classes = List.of("a10-24g");
        pool.resource(spec).create();
        await().atMost(WAIT).until(() -> porch.serving().size() == 1);
        Deployment first = porch.serving().get(0);
        porch.cluster().client().resource(servingPod(first, "planner-porch-0", true)).create();
        first.setStatus(new DeploymentStatusBuilder().withReplicas(1).withReadyReplicas(1).build());
        porch.cluster().client().resource(first).updateStatus();
        await().atMost(WAIT).until(() -> "Running".equals(md("driving", "planner").getStatus().phase));
        // A Ready replica of 1 GPU proved 1 of the node's 2 GPUs; the organization's status keeps the proof.
        await().atMost(WAIT).untilAsserted(() -> {
            assertThat(verified("porch", "a10-01").getReason()).isEqualTo("Proven");
            assertThat(gpuNode("porch", "a10-01").getStatus().countedGpus).isEqualTo(1);
            assertThat(pool.resources(Organization.class).withName("uni-av").get().getStatus().provenNodes)
                    .anySatisfy(p -> assertThat(p.cluster + "/" + p.node).isEqualTo("porch/a10-01"));
        });

        // Another cluster joins; the porch's owner cordons the node to take it back.
        Contributor garage = contributor("garage", "uni-av", "a10-01");
        await().atMost(WAIT).until(() -> nodeReady("garage", "a10-01") != null
                && "True".equals(nodeReady("garage", "a10-01").getStatus()));
        porch.cluster().client().nodes().withName("a10-01").edit(n -> {
            n.getSpec().setUnschedulable(true);
            return n;
        });
        await().atMost(WAIT).until(() -> md("driving", "planner").getStatus().placements
                .equals(List.of(new Placement("garage", "a10-01", "a10-24g", 1))));
        assertThat(md("driving", "planner").getStatus().handover)
                .containsExactly(new Placement("porch", "a10-01", "a10-24g", 1));
        await().atMost(WAIT).until(() -> garage.serving().size() == 1);
        // The old replica keeps serving until the new one is ready.
        await().during(Duration.ofSeconds(2)).atMost(WAIT).until(() -> porch.serving().size() == 1);
        assertThat(md("driving", "planner").getStatus().replicas.ready).isEqualTo(1);

        Deployment replacement = garage.serving().get(0);
        garage.cluster().client().resource(servingPod(replacement, "planner-garage-0", true)).create();
        replacement.setStatus(new DeploymentStatusBuilder().withReplicas(1).withReadyReplicas(1).build());
        garage.cluster().client().resource(replacement).updateStatus();
        // Replaced: the porch's replica stops. Its pod is still stopping, so the porch's work stays (empty) and its
        // GPU stays booked.
        await().atMost(WAIT).until(() -> porch.serving().isEmpty());
        await().atMost(WAIT).until(() -> md("driving", "planner").getStatus().handover.isEmpty());
        // The garage's replica proved a GPU too, but its ceiling lets none count.
        await().atMost(WAIT).untilAsserted(() -> {
            assertThat(verified("garage", "a10-01").getReason()).isEqualTo("AboveCeiling");
            assertThat(gpuNode("garage", "a10-01").getStatus().countedGpus).isZero();
        });
        ServingWork emptied = pool.resources(ServingWork.class).inNamespace("gpupool-cluster-porch")
                .withName("driving.planner").get();
        assertThat(emptied).isNotNull();
        assertThat(emptied.getSpec().replicas).isZero();
        assertThat(emptied.getSpec().deployments).isEmpty();
        assertThat(gpuNode("porch", "a10-01").getStatus().allocated).isEqualTo(1);
        assertThat(nodeReady("porch", "a10-01").getReason()).isEqualTo("Withdrawing");

        porch.cluster().client().pods().inNamespace(SERVING).withName("planner-porch-0").delete();
        await().atMost(WAIT).until(() -> pool.resources(ServingWork.class).inNamespace("gpupool-cluster-porch")
                .withName("driving.planner").get() == null);
        await().atMost(WAIT).until(() -> Integer.valueOf(0).equals(gpuNode("porch", "a10-01").getStatus().allocated));
        assertThat(md("driving", "planner").getStatus().phase).isEqualTo("Running");
        pool.resources(ModelDeployment.class).inNamespace("driving").withName("planner").delete();
    }
}
