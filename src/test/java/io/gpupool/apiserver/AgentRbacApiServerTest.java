package io.gpupool.apiserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import io.gpupool.agent.ContributorAgent;
import io.gpupool.api.v1alpha1.ContributedCluster;
import io.gpupool.api.v1alpha1.GpuNode;
import io.gpupool.api.v1alpha1.ModelDeployment;
import io.gpupool.api.v1alpha1.Placement;
import io.gpupool.api.v1alpha1.ServingWork;
import io.gpupool.cluster.SimulatedKubelet;
import io.gpupool.core.inventory.NodeTrust;
import io.gpupool.core.render.RemoteWorkRenderer;
import io.gpupool.core.render.ServingSettings;
import io.gpupool.core.status.Conditions;
import io.gpupool.operator.cluster.ContributedClusterReconciler;
import io.gpupool.testing.PoolFixtures;

/**
 * A contributed cluster's agent with exactly the permissions the pool and the contributor give it, on a server that
 * enforces them (RBAC on). At the pool: the operator runs in-process as the operator chart's ServiceAccount and
 * approves two clusters, alpha and beta; the agent of alpha talks to the pool as alpha's ServiceAccount
 * (system:serviceaccount:gpupool-cluster-alpha:gpupool-agent), bound by the operator to the Role the operator made. In
 * the contributor's cluster (the same API server plays it) the agent acts as the contributor chart's ServiceAccount,
 * with the RBAC that chart renders. The real {@link ContributorAgent} registers its nodes with heartbeats and runs its
 * work within those permissions, and every request outside them is refused with 403.
 */
@ApiServerTier
class AgentRbacApiServerTest {

    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final String OPERATOR_RELEASE = "gpupool-operator";
    private static final String OPERATOR_NS = "gpupool-system";
    private static final String CONTRIBUTOR_NS = "gpupool-contributor";
    private static final String SERVING = "gpupool-serving"; // the contributor chart's default serving namespace
    private static final String ORG = "agent-org";
    private static final String ALPHA = "alpha";
    private static final String BETA = "beta";
    private static final String ALPHA_NS = NodeTrust.hubNamespace(ALPHA);
    private static final String BETA_NS = NodeTrust.hubNamespace(BETA);
    private static final List<String> NODES = List.of("l4-01", "a10-01");
    private static final String CONTRIBUTE = "gpupool.io/contribute";

    private static KubernetesClient admin;
    private static InstalledChart operatorChart;
    private static InstalledChart contributorChart;
    private static TestPool pool;
    private static InProcessOperator operator;
    private static KubernetesClient asOperator;
    private static InProcessAgent alpha;
    private static KubernetesClient hub;
    private static KubernetesClient local;

    @BeforeAll
    static void approveClustersAndStartTheAgent(RealKubeApiServer.Server server) {
        server.applyCrds();
        admin = server.admin();
        operatorChart = InstalledChart.install(admin, "gpupool-operator", OPERATOR_RELEASE, OPERATOR_NS, Map.of(),
                o -> true);
        asOperator = server.impersonating("system:serviceaccount:" + OPERATOR_NS + ":" + OPERATOR_RELEASE);
        pool = new TestPool(admin).organization(ORG).gpuClass("agent-l4", 20000, "NVIDIA-L4");
        operator = InProcessOperator.start(asOperator);
        pool.approve(ALPHA, ORG).approve(BETA, ORG);

        // The contributor's cluster: its chart's RBAC (not its Deployment: the agent runs in this JVM), its nodes.
        contributorChart = InstalledChart.install(admin, "gpupool-contributor", "gpupool-contributor",
                CONTRIBUTOR_NS, Map.of("organization", ORG, "clusterName", ALPHA, "hub.inCluster", false,
                        "hub.kubeconfigSecret", "gpupool-hub"),
                o -> o instanceof Namespace || o instanceof ServiceAccount || o instanceof ClusterRole
                        || o instanceof ClusterRoleBinding || o instanceof Role || o instanceof RoleBinding);
        String agentAccount = contributorChart.one(ServiceAccount.class).getMetadata().getName();
        // What the contributor stores: the kubeconfig the pool issued (the agent here uses an impersonating client).
        admin.resource(new SecretBuilder().withNewMetadata().withName("gpupool-hub").withNamespace(CONTRIBUTOR_NS)
                .endMetadata().addToData("kubeconfig", admin.secrets().inNamespace(ALPHA_NS)
                        .withName(ContributedClusterReconciler.KUBECONFIG_SECRET).get().getData().get("kubeconfig"))
                .build()).createOr(r -> r.update());
        for (String name : NODES) {
            Node node = PoolFixtures.node(name, null);
            node.getMetadata().getLabels().put(CONTRIBUTE, "true");
            SimulatedKubelet.registerNode(admin, node);
        }

        alpha = InProcessAgent.start(server, ORG, ALPHA, CONTRIBUTOR_NS, agentAccount, Map.of(CONTRIBUTE, "true"),
                SERVING);
        hub = alpha.hub();
        local = alpha.local();
    }

    @AfterAll
    static void cleanUp() {
        try {
            if (alpha != null) {
                alpha.close();
            }
            // What the garbage collector would do (this API server has none): the agent's objects at both ends, the
            // approvals and their children.
            admin.apps().deployments().inNamespace(SERVING).withLabel(RemoteWorkRenderer.WORK_LABEL).delete();
            admin.services().inNamespace(SERVING).withLabel(RemoteWorkRenderer.WORK_LABEL).delete();
            admin.secrets().inNamespace(CONTRIBUTOR_NS).withName("gpupool-hub").delete();
            for (String ns : List.of(ALPHA_NS, BETA_NS)) {
                admin.resources(ServingWork.class).inNamespace(ns).delete();
                admin.resources(GpuNode.class).inNamespace(ns).delete();
                admin.secrets().inNamespace(ns).withName(ContributedClusterReconciler.MODEL_CREDENTIALS_SECRET).delete();
            }
            for (String name : NODES) {
                admin.nodes().withName(name).delete();
            }
            admin.resources(ContributedCluster.class).withName(ALPHA).delete();
            admin.resources(ContributedCluster.class).withName(BETA).delete();
        } finally {
            TestPool.tearDown(pool, operator, asOperator, contributorChart, operatorChart);
        }
    }

    @Test
    void theAgentRegistersItsNodesAndRunsItsWorkWithExactlyThesePermissions() {
        // Its GpuNodes are registered, with heartbeats, and the pool believes them.
        await().atMost(WAIT).until(() -> NODES.stream().allMatch(n -> {
            GpuNode g = gpuNode(n);
            return g != null && g.getStatus() != null && g.getStatus().lastHeartbeatTime != null;
        }));
        GpuNode l4 = gpuNode("l4-01");
        assertThat(l4.getSpec().cluster).isEqualTo(ALPHA);
        assertThat(l4.getSpec().organization).isEqualTo(ORG);
        String beat = l4.getStatus().lastHeartbeatTime;
        await().atMost(WAIT).until(() -> !beat.equals(gpuNode("l4-01").getStatus().lastHeartbeatTime));
        await().atMost(WAIT).untilAsserted(() -> assertThat(Conditions.find(gpuNode("l4-01").getStatus().conditions,
                Conditions.READY)).hasValueSatisfying(c -> assertThat(c.getReason()).isEqualTo("Schedulable")));

        // Work placed on alpha, written into its hub namespace as the operator writes it, runs in the serving
        // namespace; the agent reports it in the work's status.
        var md = PoolFixtures.modelDeployment("team-x", "chat", 1, 1);
        md.getSpec().model.maxContextLength = 4096;
        ServingWork work = RemoteWorkRenderer.render(md, ORG, ALPHA,
                List.of(new Placement(ALPHA, "l4-01", "agent-l4", 1)), ServingSettings.DEFAULT);
        admin.resource(work).create();
        await().atMost(WAIT).until(() -> serving().size() == 1
                && !admin.services().inNamespace(SERVING).withLabel(RemoteWorkRenderer.WORK_LABEL).list().getItems()
                        .isEmpty());
        // The real Deployment controller and kube-scheduler put its pod on l4-01; the simulated kubelet runs it.
        await().atMost(WAIT).untilAsserted(() -> {
            ServingWork w = admin.resources(ServingWork.class).inNamespace(ALPHA_NS)
                    .withName(work.getMetadata().getName()).get();
            assertThat(w.getStatus()).isNotNull();
            assertThat(w.getStatus().readyReplicas).isEqualTo(1);
            assertThat(Conditions.isTrue(w.getStatus().conditions, ContributorAgent.APPLIED)).isTrue();
            assertThat(Conditions.isTrue(w.getStatus().conditions, Conditions.READY)).isTrue();
        });
    }

    /**
     * A gated model placed on a contributed cluster: only on clusters its spec lists (the pool's own cluster otherwise),
     * and its token reaches the cluster only once the model's namespace lets the operator read it (a RoleBinding to
     * the chart's unbound model-token-reader ClusterRole) and marks the Secret as a model token; until then the model
     * says how, and the agent starts nothing. Then the token travels pool → hub namespace → the agent's copy.
     */
    @Test
    void aGatedModelsTokenReachesTheClusterOnlyWithItsNamespacesConsent() {
        String ns = "gated-team";
        pool.member(ns, ORG);
        admin.resource(new SecretBuilder().withNewMetadata().withName("hf").withNamespace(ns).endMetadata()
                .addToData("token", b64("hf_gated")).build()).create();
        var md = PoolFixtures.modelDeployment(ns, "gated", 1, 1);
        md.getSpec().model.maxContextLength = 4096;
        md.getSpec().gpu.classes = List.of("agent-l4");
        md.getSpec().hfTokenSecretRef = new io.gpupool.api.v1alpha1.SecretKeyRef();
        md.getSpec().hfTokenSecretRef.name = "hf";
        admin.resource(md).create();

        // Its token may go to no contributed cluster yet: it waits for the pool's own GPUs, and says why.
        await().atMost(WAIT).untilAsserted(() -> assertThat(admittedCondition(ns, "gated")).hasValueSatisfying(c -> {
            assertThat(c.getReason()).isEqualTo("NoMatchingGpu");
            assertThat(c.getMessage()).contains("may not go to cluster " + ALPHA).contains("hfTokenClusters");
        }));
        assertThat(admin.resources(ServingWork.class).inNamespace(ALPHA_NS).withName(ns + ".gated").get()).isNull();
        admin.resources(ModelDeployment.class).inNamespace(ns).withName("gated").edit(m -> {
            m.getSpec().hfTokenClusters = List.of(ALPHA);
            return m;
        });

        await().atMost(WAIT).untilAsserted(() -> assertThat(credentialsCondition(ns, "gated"))
                .hasValueSatisfying(c -> {
                    assertThat(c.getStatus()).isEqualTo("False");
                    assertThat(c.getReason()).isEqualTo("TokenNotReadable");
                    assertThat(c.getMessage()).contains("kubectl create rolebinding gpupool-model-token-reader -n " + ns
                            + " --clusterrole=" + OPERATOR_RELEASE + "-model-token-reader --serviceaccount="
                            + OPERATOR_NS + ":" + OPERATOR_RELEASE);
                }));
        String work = ns + ".gated";
        await().atMost(WAIT).untilAsserted(() -> assertThat(Conditions.find(admin.resources(ServingWork.class)
                .inNamespace(ALPHA_NS).withName(work).get().getStatus().conditions, ContributorAgent.APPLIED))
                .hasValueSatisfying(c -> assertThat(c.getReason()).isEqualTo(ContributorAgent.WAITING_FOR_CREDENTIALS)));
        assertThat(serving()).noneMatch(d -> work.equals(d.getMetadata().getAnnotations()
                .get(ContributorAgent.WORK_NAME_ANNOTATION)));

        // The namespace consents, exactly as the message says.
        admin.resource(new io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder().withNewMetadata()
                .withName("gpupool-model-token-reader").withNamespace(ns).endMetadata()
                .withNewRoleRef().withApiGroup("rbac.authorization.k8s.io").withKind("ClusterRole")
                .withName(OPERATOR_RELEASE + "-model-token-reader").endRoleRef()
                .addNewSubject().withKind("ServiceAccount").withName(OPERATOR_RELEASE).withNamespace(OPERATOR_NS)
                .endSubject().build()).create();
        // Readable is not enough: the namespace marks which Secrets are model tokens the pool may copy.
        await().atMost(WAIT).untilAsserted(() -> assertThat(credentialsCondition(ns, "gated"))
                .hasValueSatisfying(c -> {
                    assertThat(c.getReason()).isEqualTo("SecretNotMarked");
                    assertThat(c.getMessage()).contains("kubectl label secret hf -n " + ns + " gpupool.io/model-token=true");
                }));
        Secret notYet = admin.secrets().inNamespace(ALPHA_NS)
                .withName(ContributedClusterReconciler.MODEL_CREDENTIALS_SECRET).get();
        assertThat(notYet == null || notYet.getData() == null || !notYet.getData().containsKey(work)).isTrue();
        admin.secrets().inNamespace(ns).withName("hf").edit(s -> {
            s.getMetadata().setLabels(java.util.Map.of("gpupool.io/model-token", "true"));
            return s;
        });
        await().atMost(WAIT).untilAsserted(() -> assertThat(credentialsCondition(ns, "gated"))
                .hasValueSatisfying(c -> assertThat(c.getReason()).isEqualTo("Shared")));
        assertThat(admin.secrets().inNamespace(ALPHA_NS).withName(ContributedClusterReconciler.MODEL_CREDENTIALS_SECRET)
                .get().getData()).containsEntry(work, b64("hf_gated"));
        await().atMost(WAIT).until(() -> serving().stream().anyMatch(d -> work.equals(d.getMetadata().getAnnotations()
                .get(ContributorAgent.WORK_NAME_ANNOTATION))));
        assertThat(admin.secrets().inNamespace(SERVING).withName(ContributedClusterReconciler.MODEL_CREDENTIALS_SECRET)
                .get().getData()).containsEntry(work, b64("hf_gated"));

        // The model goes: so does its token, at the pool and in the cluster.
        admin.resources(ModelDeployment.class).inNamespace(ns).withName("gated").delete();
        await().atMost(WAIT).until(() -> {
            Secret shared = admin.secrets().inNamespace(ALPHA_NS)
                    .withName(ContributedClusterReconciler.MODEL_CREDENTIALS_SECRET).get();
            return shared == null || shared.getData() == null || !shared.getData().containsKey(work);
        });
        await().atMost(WAIT).until(() -> {
            Secret copy = admin.secrets().inNamespace(SERVING)
                    .withName(ContributedClusterReconciler.MODEL_CREDENTIALS_SECRET).get();
            return copy == null || copy.getData() == null || !copy.getData().containsKey(work);
        });
    }

    private static java.util.Optional<Condition> admittedCondition(String ns, String name) {
        ModelDeployment m = admin.resources(ModelDeployment.class).inNamespace(ns).withName(name).get();
        return m == null || m.getStatus() == null ? java.util.Optional.empty()
                : Conditions.find(m.getStatus().conditions, Conditions.ADMITTED);
    }

    private static java.util.Optional<Condition> credentialsCondition(String ns, String name) {
        ModelDeployment m = admin.resources(ModelDeployment.class).inNamespace(ns).withName(name).get();
        return m == null || m.getStatus() == null ? java.util.Optional.empty()
                : Conditions.find(m.getStatus().conditions, "CredentialsShared");
    }

    @Test
    void atThePoolTheAgentReachesOnlyItsOwnNamespaceAndOneSecret() throws Exception {
        for (String ns : List.of(ALPHA_NS, BETA_NS)) {
            admin.resource(new SecretBuilder().withNewMetadata().withName(ContributedClusterReconciler.MODEL_CREDENTIALS_SECRET)
                    .withNamespace(ns).endMetadata().addToStringData("hf-token", "hf_" + ns).build())
                    .createOr(r -> r.update());
        }
        ServingWork work = RemoteWorkRenderer.render(PoolFixtures.modelDeployment("team-y", "embed", 1, 1), ORG, ALPHA,
                List.of(new Placement(ALPHA, "a10-01", "agent-l4", 1)), ServingSettings.DEFAULT);
        admin.resource(work).createOr(r -> r.update());
        ServingWork selfMade = RemoteWorkRenderer.render(PoolFixtures.modelDeployment("team-y", "self-made", 1, 1), ORG,
                ALPHA, List.of(new Placement(ALPHA, "a10-01", "agent-l4", 1)), ServingSettings.DEFAULT);
        selfMade.getMetadata().setName("self-made");

        List<String> allowed = new ArrayList<>();
        Forbidden.orAllowed(allowed, "list GpuNodes of beta", () -> hub.resources(GpuNode.class).inNamespace(BETA_NS).list());
        Forbidden.orAllowed(allowed, "read a GpuNode of beta", () -> hub.resources(GpuNode.class).inNamespace(BETA_NS)
                .withName("l4-01").get());
        Forbidden.orAllowed(allowed, "list ServingWork of beta", () -> hub.resources(ServingWork.class).inNamespace(BETA_NS)
                .list());
        Forbidden.orAllowed(allowed, "read ServingWork of beta", () -> hub.resources(ServingWork.class).inNamespace(BETA_NS)
                .withName("anything").get());
        Forbidden.orAllowed(allowed, "create a GpuNode in beta's namespace", () -> hub.resource(gpuNodeIn(BETA_NS, BETA))
                .create());
        Forbidden.orAllowed(allowed, "create a GpuNode in another namespace", () -> hub.resource(gpuNodeIn(TestPool.HUB,
                NodeTrust.LOCAL_CLUSTER)).create());
        Forbidden.orAllowed(allowed, "list GpuNodes of all namespaces", () -> hub.resources(GpuNode.class).inAnyNamespace().list());
        Forbidden.orAllowed(allowed, "request a token of another ServiceAccount", () -> hub.serviceAccounts()
                .inNamespace(ALPHA_NS).withName("default").tokenRequest(new io.fabric8.kubernetes.api.model
                        .authentication.TokenRequestBuilder().withNewSpec().withExpirationSeconds(3600L).endSpec()
                        .build()));
        Forbidden.orAllowed(allowed, "read its kubeconfig Secret", () -> hub.secrets().inNamespace(ALPHA_NS)
                .withName(ContributedClusterReconciler.KUBECONFIG_SECRET).get());
        Forbidden.orAllowed(allowed, "list Secrets of its namespace", () -> hub.secrets().inNamespace(ALPHA_NS).list());
        Forbidden.orAllowed(allowed, "list Secrets", () -> hub.secrets().inAnyNamespace().list());
        Forbidden.orAllowed(allowed, "read model credentials of beta", () -> hub.secrets().inNamespace(BETA_NS)
                .withName(ContributedClusterReconciler.MODEL_CREDENTIALS_SECRET).get());
        Forbidden.orAllowed(allowed, "write its model credentials", () -> hub.secrets().inNamespace(ALPHA_NS)
                .withName(ContributedClusterReconciler.MODEL_CREDENTIALS_SECRET).edit(s -> {
                    s.getMetadata().setLabels(Map.of("taken", "over"));
                    return s;
                }));
        Forbidden.orAllowed(allowed, "write ServingWork spec", () -> hub.resources(ServingWork.class).inNamespace(ALPHA_NS)
                .withName(work.getMetadata().getName()).edit(w -> {
                    w.getSpec().replicas = 8;
                    return w;
                }));
        Forbidden.orAllowed(allowed, "create ServingWork", () -> hub.resource(selfMade).create());
        Forbidden.orAllowed(allowed, "delete ServingWork", () -> hub.resources(ServingWork.class).inNamespace(ALPHA_NS)
                .withName(work.getMetadata().getName()).delete());
        Forbidden.orAllowed(allowed, "edit its Role", () -> hub.rbac().roles().inNamespace(ALPHA_NS)
                .withName(ContributedClusterReconciler.AGENT).edit(r -> r));
        Forbidden.orAllowed(allowed, "read its ContributedCluster", () -> hub.resources(ContributedCluster.class).withName(ALPHA)
                .get());
        assertThat(allowed).as("requests alpha's agent should be refused at the pool but was allowed").isEmpty();

        // The one Secret it may read: get, list and watch by name, in its own namespace.
        Secret credentials = hub.secrets().inNamespace(ALPHA_NS)
                .withName(ContributedClusterReconciler.MODEL_CREDENTIALS_SECRET).get();
        assertThat(new String(Base64.getDecoder().decode(credentials.getData().get("hf-token")), StandardCharsets.UTF_8))
                .isEqualTo("hf_" + ALPHA_NS);
        assertThat(hub.secrets().inNamespace(ALPHA_NS)
                .withField("metadata.name", ContributedClusterReconciler.MODEL_CREDENTIALS_SECRET).list().getItems())
                .singleElement().satisfies(s -> assertThat(s.getMetadata().getName())
                        .isEqualTo(ContributedClusterReconciler.MODEL_CREDENTIALS_SECRET));
        List<String> seen = new CopyOnWriteArrayList<>();
        try (Watch watch = hub.secrets().inNamespace(ALPHA_NS).withName(ContributedClusterReconciler.MODEL_CREDENTIALS_SECRET)
                .watch(new Watcher<>() {
                    @Override
                    public void eventReceived(Action action, Secret secret) {
                        if (action == Action.MODIFIED && secret.getData().containsKey("second-token")) {
                            seen.add(secret.getMetadata().getName());
                        }
                    }

                    @Override
                    public void onClose(WatcherException cause) {
                    }
                })) {
            admin.secrets().inNamespace(ALPHA_NS).withName(ContributedClusterReconciler.MODEL_CREDENTIALS_SECRET)
                    .edit(s -> {
                        s.getData().put("second-token", b64("hf_more"));
                        return s;
                    });
            await().atMost(WAIT).until(() -> !seen.isEmpty());
        }
    }

    @Test
    void inTheContributorsClusterTheAgentReadsNodesAndWritesOnlyItsServingNamespace() {
        List<String> allowed = new ArrayList<>();
        Forbidden.orAllowed(allowed, "read Secrets", () -> local.secrets().inNamespace(CONTRIBUTOR_NS).withName("gpupool-hub")
                .get());
        Forbidden.orAllowed(allowed, "list Secrets of the serving namespace", () -> local.secrets().inNamespace(SERVING).list());
        Forbidden.orAllowed(allowed, "list Secrets", () -> local.secrets().inAnyNamespace().list());
        Forbidden.orAllowed(allowed, "label Nodes", () -> local.nodes().withName("l4-01").edit(n -> {
            n.getMetadata().getLabels().put(CONTRIBUTE, "false");
            return n;
        }));
        Forbidden.orAllowed(allowed, "delete Nodes", () -> local.nodes().withName("a10-01").delete());
        Forbidden.orAllowed(allowed, "create a Deployment outside its serving namespace", () -> local.resource(
                new DeploymentBuilder().withNewMetadata().withName("outside").withNamespace(CONTRIBUTOR_NS).endMetadata()
                        .withNewSpec().withNewSelector().addToMatchLabels("app", "x").endSelector().withNewTemplate()
                        .withNewMetadata().addToLabels("app", "x").endMetadata().withNewSpec().addNewContainer()
                        .withName("c").withImage("busybox").endContainer().endSpec().endTemplate().endSpec().build())
                .create());
        Forbidden.orAllowed(allowed, "create a Service outside its serving namespace", () -> local.resource(new ServiceBuilder()
                .withNewMetadata().withName("outside").withNamespace("default").endMetadata().withNewSpec()
                .addNewPort().withPort(80).endPort().endSpec().build()).create());
        Forbidden.orAllowed(allowed, "list Deployments of other namespaces", () -> local.apps().deployments().inAnyNamespace()
                .list());
        Forbidden.orAllowed(allowed, "create Pods in its serving namespace", () -> local.pods().inNamespace(SERVING).resource(
                new io.fabric8.kubernetes.api.model.PodBuilder().withNewMetadata().withName("p").endMetadata()
                        .withNewSpec().addNewContainer().withName("c").withImage("busybox").endContainer().endSpec()
                        .build()).create());
        assertThat(allowed).as("requests the contributor's agent should be refused but was allowed").isEmpty();
        // What it does need: Nodes read, serving Deployments listed.
        assertThat(local.nodes().withLabel(CONTRIBUTE, "true").list().getItems()).extracting(n -> n.getMetadata().getName())
                .containsAll(NODES);
        assertThat(local.apps().deployments().inNamespace(SERVING).list()).isNotNull();
    }

    /**
     * The operator as in production (server-side apply, the chart's RBAC) puts beta's credentials back when they are
     * deleted or widened, without beta's approval changing, and then leaves them alone; the admin's field manager
     * keeps the approval's spec.
     */
    @Test
    void theOperatorPutsCredentialsBackAndTheAdminKeepsTheApprovalsSpec() {
        var role = admin.rbac().roles().inNamespace(BETA_NS).withName(ContributedClusterReconciler.AGENT);
        var binding = admin.rbac().roleBindings().inNamespace(BETA_NS).withName(ContributedClusterReconciler.AGENT);
        var account = admin.serviceAccounts().inNamespace(BETA_NS).withName(ContributedClusterReconciler.AGENT);
        var kubeconfig = admin.secrets().inNamespace(BETA_NS).withName(ContributedClusterReconciler.KUBECONFIG_SECRET);
        var rules = ContributedClusterReconciler.agentRole(BETA_NS).getRules();
        assertThat(role.get().getRules()).isEqualTo(rules);
        var subjects = binding.get().getSubjects();
        String issued = kubeconfig.get().getData().get(ContributedClusterReconciler.KUBECONFIG_KEY);
        Long generation = admin.resources(ContributedCluster.class).withName(BETA).get().getMetadata().getGeneration();

        role.delete();
        await().atMost(WAIT).until(() -> role.get() != null && role.get().getRules().equals(rules));
        role.edit(r -> {
            r.getRules().add(new io.fabric8.kubernetes.api.model.rbac.PolicyRuleBuilder().withApiGroups("")
                    .withResources("secrets").withVerbs("get", "list", "watch").build());
            return r;
        });
        await().atMost(WAIT).until(() -> role.get().getRules().equals(rules));
        binding.edit(b -> {
            b.getSubjects().add(new io.fabric8.kubernetes.api.model.rbac.SubjectBuilder().withKind("User")
                    .withName("mallory").withApiGroup("rbac.authorization.k8s.io").build());
            return b;
        });
        await().atMost(WAIT).until(() -> binding.get().getSubjects().equals(subjects));
        binding.delete();
        await().atMost(WAIT).until(() -> binding.get() != null && binding.get().getSubjects().equals(subjects));
        account.delete();
        await().atMost(WAIT).until(() -> account.get() != null);
        // A new ServiceAccount: every token of the old one is void, and the operator issues a kubeconfig with a token
        // of the new one.
        await().atMost(WAIT).until(() -> !issued.equals(kubeconfig.get().getData()
                .get(ContributedClusterReconciler.KUBECONFIG_KEY)));
        kubeconfig.edit(k -> {
            k.getData().put(ContributedClusterReconciler.KUBECONFIG_KEY, b64("server: https://elsewhere.example"));
            return k;
        });
        // Put back: a kubeconfig of this API server with a token of the agent's ServiceAccount again. (Whether the token
        // is a new one depends on whether the operator's cache had seen the rewrite when it repaired the Secret; a new
        // one is not guaranteed, so it is not asserted.)
        await().atMost(WAIT).until(() -> {
            String now = new String(java.util.Base64.getDecoder().decode(kubeconfig.get().getData()
                    .get(ContributedClusterReconciler.KUBECONFIG_KEY)), java.nio.charset.StandardCharsets.UTF_8);
            return !now.contains("elsewhere.example") && now.contains("server: ") && now.contains("token: ");
        });
        assertThat(admin.resources(ContributedCluster.class).withName(BETA).get().getMetadata().getGeneration())
                .isEqualTo(generation);
        // Repaired once, then left alone: nothing is rewritten over and over.
        Map<String, String> versions = Map.of("role", role.get().getMetadata().getResourceVersion(),
                "binding", binding.get().getMetadata().getResourceVersion(),
                "kubeconfig", kubeconfig.get().getMetadata().getResourceVersion());
        await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(6)).until(() -> versions.equals(Map.of(
                "role", role.get().getMetadata().getResourceVersion(),
                "binding", binding.get().getMetadata().getResourceVersion(),
                "kubeconfig", kubeconfig.get().getMetadata().getResourceVersion())));

        // The admin edits the approval with server-side apply, no force: no conflict with the operator, which owns
        // only the status.
        ContributedCluster edit = new ContributedCluster();
        edit.setMetadata(new ObjectMetaBuilder().withName(BETA).build());
        edit.getSpec().organization = ORG;
        edit.getSpec().displayName = "Beta's basement";
        admin.resource(edit).patch(new io.fabric8.kubernetes.client.dsl.base.PatchContext.Builder()
                .withPatchType(io.fabric8.kubernetes.client.dsl.base.PatchType.SERVER_SIDE_APPLY)
                .withFieldManager("kubectl").withForce(false).build());
        await().atMost(WAIT).until(() -> {
            ContributedCluster c = admin.resources(ContributedCluster.class).withName(BETA).get();
            return c.getStatus() != null && c.getMetadata().getGeneration().equals(c.getStatus().observedGeneration);
        });
        ContributedCluster beta = admin.resources(ContributedCluster.class).withName(BETA).get();
        assertThat(beta.getMetadata().getManagedFields().stream().collect(java.util.stream.Collectors.toMap(
                m -> m.getManager() + "/" + m.getOperation(),
                m -> m.getFieldsV1().getAdditionalProperties().keySet().stream().sorted().toList())))
                .containsOnly(Map.entry("kubectl/Apply", List.of("f:spec")),
                        Map.entry(io.gpupool.operator.modeldeployment.ModelDeploymentReconciler.STATUS_FIELD_MANAGER
                                + "/Apply", List.of("f:status")));
        assertThat(Conditions.isTrue(beta.getStatus().conditions, Conditions.READY)).isTrue();
    }

    private static GpuNode gpuNode(String name) {
        return admin.resources(GpuNode.class).inNamespace(ALPHA_NS).withName(name).get();
    }

    private static List<Deployment> serving() {
        return admin.apps().deployments().inNamespace(SERVING).withLabel(RemoteWorkRenderer.WORK_LABEL).list()
                .getItems();
    }

    private static String b64(String s) {
        return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    /** A GpuNode as the agent would report one, for a cluster and namespace of the test's choosing. */
    private static GpuNode gpuNodeIn(String namespace, String cluster) {
        GpuNode node = new GpuNode();
        node.setMetadata(new ObjectMetaBuilder().withName("planted").withNamespace(namespace).build());
        node.setSpec(io.gpupool.core.discovery.GpuNodes.specOf(PoolFixtures.node("l4-01", null), cluster, ORG)
                .orElseThrow());
        return node;
    }
}
