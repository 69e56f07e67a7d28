package io.gpupool.apiserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.ResourceQuota;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.gpupool.agent.ContributorAgent;
import io.gpupool.api.v1alpha1.ApiGroup;
import io.gpupool.api.v1alpha1.GpuPool;
import io.gpupool.api.v1alpha1.ModelDeployment;
import io.gpupool.api.v1alpha1.Placement;
import io.gpupool.api.v1alpha1.ServingWork;
import io.gpupool.cluster.SimulatedKubelet;
import io.gpupool.core.inventory.NodeTrust;
import io.gpupool.core.render.RemoteWorkRenderer;
import io.gpupool.core.render.ServingAccess;
import io.gpupool.core.render.ServingContract;
import io.gpupool.core.render.ServingSettings;
import io.gpupool.testing.NetworkPolicyEvaluator;
import io.gpupool.testing.PoolFixtures;

/**
 * Who can reach serving pods, and what the contributor's serving namespace enforces, with the objects the charts,
 * the operator and the agent really make on the real API server.
 *
 * <p>The pool's side: the operator chart installed in full (its gateway and operator Deployments run as real pods), the
 * operator in-process as the chart's ServiceAccount, a ModelDeployment serving on a node of the pool. The contributor's
 * side (the same API server plays that cluster): a serving namespace its admin made beforehand, with a weaker Pod
 * Security label, the contributor chart installed with {@code servingNamespace.create=false} (RBAC, quota,
 * NetworkPolicy and the agent's Deployment, whose pod runs on the simulated kubelet), and the real agent in-process as
 * the chart's ServiceAccount, running work the pool placed on its cluster.
 *
 * <p>Why NetworkPolicies are not tested with packets: this machine has no CNI plugin, so nothing enforces them (no
 * connection is ever refused, with or without a policy), and the simulated kubelet runs no network. What is checked
 * instead is what a conforming plugin enforces: the policies as stored, read with the NetworkPolicy API's semantics
 * ({@link NetworkPolicyEvaluator}), against the real pods and namespaces: who is admitted to the serving port and who is
 * not. Removing a policy or widening its selectors admits a pod that must not be, and fails the test.
 */
@ApiServerTier
class ServingIsolationApiServerTest {

    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final String OPERATOR_RELEASE = "gpupool-operator";
    /**
     * The operator chart's namespace: its gateway runs there, and the in-process operator's NetworkPolicies admit the
     * gateway of that namespace, as the chart configures the operator (GPUPOOL_GATEWAY_NAMESPACE: its release namespace).
     */
    private static final String POOL_NS = InProcessOperator.GATEWAY_NAMESPACE;
    private static final String ORG = "isolation-org";
    private static final String TEAM = "isolation-team";
    private static final String OTHER = "isolation-other";
    private static final String MODEL = "chat";
    private static final String POOL_CLASS = "isolation-l4";
    private static final String POOL_NODE = "l4-01";
    private static final String CLUSTER = "walled";
    private static final String HUB_NS = NodeTrust.hubNamespace(CLUSTER);
    private static final String RELEASE = "walled";
    private static final String RELEASE_NS = "isolation-contributor";
    private static final String SERVING = "isolation-serving";
    private static final String CONTRIBUTED_NODE = "a10-01";
    private static final String CONTRIBUTE = "gpupool.io/contribute-walled";
    /** A node without GPUs (and without their taint) for the pods that ask for none. */
    private static final String CPU_NODE = "isolation-cpu-01";
    private static final String COMPONENT = "app.kubernetes.io/component";
    private static final String ENFORCE = "pod-security.kubernetes.io/enforce";
    private static final String WARN = "pod-security.kubernetes.io/warn";
    private static final int SERVING_PORT = ServingContract.PORT;
    /** Any port but the serving one: never admitted. */
    private static final int OTHER_PORT = 9000;

    private static KubernetesClient admin;
    private static InstalledChart operatorChart;
    private static InstalledChart contributorChart;
    private static KubernetesClient asOperator;
    private static TestPool pool;
    private static InProcessOperator operator;
    private static InProcessAgent agent;
    private static final List<Pod> handMade = new ArrayList<>();

    @BeforeAll
    static void poolAndContributorWithEverythingTheyShip(RealKubeApiServer.Server server) {
        server.applyCrds();
        admin = server.admin();
        Node cpu = PoolFixtures.node("cpu-only-01", null);
        cpu.getMetadata().setName(CPU_NODE);
        cpu.getMetadata().getLabels().put("kubernetes.io/hostname", CPU_NODE);
        SimulatedKubelet.registerNode(admin, cpu);

        // The pool: the operator chart as installed (gateway and operator pods included), the operator, a member
        // namespace and a node of the pool, an approved contributed cluster.
        operatorChart = InstalledChart.install(admin, "gpupool-operator", OPERATOR_RELEASE, POOL_NS, Map.of(),
                o -> !(o instanceof Pod)); // all but the `helm test` pod
        asOperator = server.impersonating("system:serviceaccount:" + POOL_NS + ":" + OPERATOR_RELEASE);
        pool = new TestPool(admin).member(TEAM, ORG).gpuClass(POOL_CLASS, 20000, "NVIDIA-L4");
        admin.resource(PoolFixtures.namespace(OTHER)).createOr(r -> r.update());
        operator = InProcessOperator.start(asOperator);
        pool.approve(CLUSTER, ORG).contribute(POOL_NODE, ORG);

        // The contributor's serving namespace, made by its admin before installing the chart, for privileged pods.
        admin.resource(new NamespaceBuilder().withNewMetadata().withName(SERVING)
                .withLabels(Map.of(ENFORCE, "privileged", WARN, "privileged", "owner", "contributor-admin"))
                .endMetadata().build()).createOr(r -> r.update());
        contributorChart = InstalledChart.install(admin, "gpupool-contributor", RELEASE, RELEASE_NS,
                Map.of("organization", ORG, "clusterName", CLUSTER, "hub.inCluster", false,
                        "hub.kubeconfigSecret", "gpupool-hub", "servingNamespace.name", SERVING,
                        "servingNamespace.create", false),
                o -> o instanceof Namespace || o instanceof ServiceAccount || o instanceof ClusterRole
                        || o instanceof ClusterRoleBinding || o instanceof Role || o instanceof RoleBinding
                        || o instanceof ResourceQuota || o instanceof NetworkPolicy || o instanceof Deployment);
        // The real quota controller computes the quota's status; until then its admission refuses every pod there.
        await().atMost(WAIT).until(() -> admin.resourceQuotas().inNamespace(SERVING).list().getItems().stream()
                .allMatch(q -> q.getStatus() != null && q.getStatus().getHard() != null));
        Node contributed = PoolFixtures.node(CONTRIBUTED_NODE, null);
        contributed.getMetadata().getLabels().put(CONTRIBUTE, "true");
        SimulatedKubelet.registerNode(admin, contributed);

        agent = InProcessAgent.start(server, ORG, CLUSTER, RELEASE_NS,
                contributorChart.one(ServiceAccount.class).getMetadata().getName(), Map.of(CONTRIBUTE, "true"), SERVING);
    }

    @AfterAll
    static void cleanUp() {
        try {
            if (agent != null) {
                agent.close();
            }
            handMade.forEach(p -> admin.resource(p).delete());
            admin.resources(ServingWork.class).inNamespace(HUB_NS).delete();
            admin.apps().deployments().inNamespace(SERVING).withLabel(RemoteWorkRenderer.WORK_LABEL).delete();
            admin.services().inNamespace(SERVING).withLabel(RemoteWorkRenderer.WORK_LABEL).delete();
        } finally {
            try {
                TestPool.tearDown(pool, operator, asOperator, contributorChart, operatorChart);
            } finally {
                // The pods go with their Deployments (the kubelet confirms them gone); then their nodes may go.
                await().atMost(WAIT).until(() -> List.of(SERVING, RELEASE_NS, POOL_NS, TEAM, OTHER).stream()
                        .allMatch(ns -> admin.pods().inNamespace(ns).list().getItems().isEmpty()));
                admin.nodes().withName(CONTRIBUTED_NODE).delete();
                admin.nodes().withName(CPU_NODE).delete();
            }
        }
    }

    /**
     * Issue #14 item 8: the serving namespace enforces the restricted Pod Security Standard whether or not the chart
     * created it. Its admin made it with {@code privileged}; the agent sets it back (other labels kept), says so in an
     * Event about it, and does it again when someone weakens it while the agent runs. The chart's quota and NetworkPolicy
     * are there without the chart owning the namespace, and the quota holds.
     */
    @Test
    void aServingNamespaceTheChartDidNotCreateIsRestrictedAndBounded() {
        assertThat(contributorChart.objects()).noneMatch(o -> o instanceof Namespace);
        await().atMost(WAIT).untilAsserted(() -> assertThat(admin.namespaces().withName(SERVING).get().getMetadata()
                .getLabels()).containsEntry(ENFORCE, "restricted").containsEntry(WARN, "restricted")
                .containsEntry("owner", "contributor-admin"));
        await().atMost(WAIT).untilAsserted(() -> assertThat(podSecurityEvents()).singleElement().satisfies(e -> {
            assertThat(e.getType()).isEqualTo("Warning");
            assertThat(e.getReason()).isEqualTo(ContributorAgent.POD_SECURITY_RESTORED);
            assertThat(e.getMessage()).startsWith("Set back to restricted: " + ENFORCE + "=privileged, " + WARN
                    + "=privileged.").contains("other organizations").contains("cluster " + CLUSTER);
            assertThat(e.getInvolvedObject().getUid()).isEqualTo(admin.namespaces().withName(SERVING).get()
                    .getMetadata().getUid());
        }));

        // Weakened again while the agent runs: put back at its next heartbeat, with a second Event.
        admin.namespaces().withName(SERVING).edit(n -> {
            n.getMetadata().getLabels().put(ENFORCE, "baseline");
            return n;
        });
        await().atMost(WAIT).untilAsserted(() -> assertThat(admin.namespaces().withName(SERVING).get().getMetadata()
                .getLabels()).containsEntry(ENFORCE, "restricted"));
        await().atMost(WAIT).untilAsserted(() -> assertThat(podSecurityEvents()).hasSize(2)
                .anySatisfy(e -> assertThat(e.getMessage()).startsWith("Set back to restricted: " + ENFORCE
                        + "=baseline.")));

        // The chart's quota and NetworkPolicy are in the namespace it did not create, and the quota is enforced.
        assertThat(admin.network().v1().networkPolicies().inNamespace(SERVING).list().getItems()).hasSize(1);
        assertThatThrownBy(() -> admin.resource(new ServiceBuilder().withNewMetadata().withName("exposed")
                .withNamespace(SERVING).endMetadata().withNewSpec().withType("NodePort").addNewPort().withPort(80).endPort()
                .endSpec().build()).create()).isInstanceOfSatisfying(KubernetesClientException.class, e -> {
                    assertThat(e.getCode()).isEqualTo(403);
                    assertThat(e.getMessage()).contains("exceeded quota");
                });
    }

    /**
     * Issue #14 item 13 on the pool's side: a ModelDeployment's serving pods admit the pool's gateway pods on the
     * serving port, and nothing else: not the operator beside the gateway, not a tenant's pod labelled as a gateway in
     * another namespace, not the agent, not a pod of their own namespace; that one only once the pool admin allows it.
     */
    @Test
    void servingPodsInThePoolsClusterAdmitOnlyTheGateway() {
        ModelDeployment md = PoolFixtures.modelDeployment(TEAM, MODEL, 1, 1);
        md.getSpec().gpu.classes = List.of(POOL_CLASS);
        md.getSpec().model.maxContextLength = 4096;
        admin.resource(md).create();
        List<Pod> serving = awaitPods(TEAM, Map.of(ApiGroup.MODEL_DEPLOYMENT_LABEL, MODEL), 1);
        List<Pod> gateways = awaitPods(POOL_NS, Map.of(COMPONENT, "gateway"), 2);
        Pod operatorPod = awaitPods(POOL_NS, Map.of(COMPONENT, "operator"), 1).get(0);
        Pod agentPod = awaitPods(RELEASE_NS, Map.of(COMPONENT, "agent"), 1).get(0);
        Pod neighbour = handMade(TEAM, "neighbour", Map.of("app", "notebook"));
        Pod forgedGateway = handMade(OTHER, "forged-gateway", gateways.get(0).getMetadata().getLabels());
        await().atMost(WAIT).until(() -> admin.network().v1().networkPolicies().inNamespace(TEAM).withName(ServingAccess.POLICY_NAME)
                .get() != null);

        for (Pod pod : serving) {
            NetworkPolicyEvaluator policies = policies();
            for (Pod gateway : gateways) {
                assertThat(policies.admits(gateway, pod, SERVING_PORT)).as("gateway %s", name(gateway)).isTrue();
                assertThat(policies.admits(gateway, pod, OTHER_PORT)).as("gateway on another port").isFalse();
            }
            assertRefused(policies, pod, operatorPod, forgedGateway, agentPod, neighbour);
            // Without the policies the same pods would all get in: the refusals above are the policy's doing.
            assertThat(new NetworkPolicyEvaluator(List.of(), admin.namespaces().list().getItems())
                    .admits(forgedGateway, pod, SERVING_PORT)).isTrue();
        }

        // The pool admin lets each namespace call its own replicas directly: the operator widens the policy so far.
        setAllowSameNamespace(true);
        try {
            await().atMost(WAIT).until(() -> admin.network().v1().networkPolicies().inNamespace(TEAM).withName(ServingAccess.POLICY_NAME)
                    .get().getSpec().getIngress().size() == 2);
            for (Pod pod : serving) {
                NetworkPolicyEvaluator policies = policies();
                assertThat(policies.admits(neighbour, pod, SERVING_PORT)).as("a pod of its own namespace").isTrue();
                assertThat(policies.admits(gateways.get(0), pod, SERVING_PORT)).isTrue();
                assertRefused(policies, pod, operatorPod, forgedGateway, agentPod);
            }
        } finally {
            setAllowSameNamespace(false);
        }
        await().atMost(WAIT).until(() -> admin.network().v1().networkPolicies().inNamespace(TEAM).withName(ServingAccess.POLICY_NAME)
                .get().getSpec().getIngress().size() == 1);
    }

    /**
     * Issue #14 item 13 on the contributor's side: the pool's work in the serving namespace admits the contributor
     * chart's agent (which carries the pool's traffic through its tunnel) on the serving port, and nothing else: not
     * the pool's gateway, not another pod of the agent's namespace, not a pod labelled as the agent elsewhere, not the
     * contributor's own pods beside the work.
     */
    @Test
    void workOnAContributedClusterAdmitsOnlyTheAgent() {
        var md = PoolFixtures.modelDeployment("isolation-remote", MODEL, 1, 1);
        md.getSpec().model.maxContextLength = 4096;
        admin.resource(RemoteWorkRenderer.render(md, ORG, CLUSTER, List.of(new Placement(CLUSTER, CONTRIBUTED_NODE,
                "isolation-a10", 1)), ServingSettings.DEFAULT)).create();
        await().atMost(WAIT).until(() -> running(admin.pods().inNamespace(SERVING)
                .withLabel(RemoteWorkRenderer.WORK_LABEL).list().getItems()).size() == 1);
        List<Pod> work = running(admin.pods().inNamespace(SERVING).withLabel(RemoteWorkRenderer.WORK_LABEL).list()
                .getItems());
        Pod agentPod = awaitPods(RELEASE_NS, Map.of(COMPONENT, "agent"), 1).get(0);
        List<Pod> gateways = awaitPods(POOL_NS, Map.of(COMPONENT, "gateway"), 2);
        Pod besideTheAgent = handMade(RELEASE_NS, "helper", Map.of("app", "helper"));
        Pod forgedAgent = handMade(OTHER, "forged-agent", agentPod.getMetadata().getLabels());
        Pod besideTheWork = handMade(SERVING, "contributors-own", Map.of("app", "own"));

        for (Pod pod : work) {
            NetworkPolicyEvaluator policies = policies();
            assertThat(policies.admits(agentPod, pod, SERVING_PORT)).as("the agent").isTrue();
            assertThat(policies.admits(agentPod, pod, OTHER_PORT)).as("the agent on another port").isFalse();
            assertRefused(policies, pod, gateways.get(0), gateways.get(1), besideTheAgent, forgedAgent, besideTheWork);
        }
    }

    private static void assertRefused(NetworkPolicyEvaluator policies, Pod to, Pod... from) {
        for (Pod source : from) {
            assertThat(policies.admits(source, to, SERVING_PORT)).as("%s may connect to %s", name(source), name(to))
                    .isFalse();
        }
    }

    /** The policies and namespaces as the API server holds them now. */
    private static NetworkPolicyEvaluator policies() {
        return new NetworkPolicyEvaluator(admin.network().v1().networkPolicies().inAnyNamespace().list().getItems(),
                admin.namespaces().list().getItems());
    }

    /** The running pods of the namespace with these labels, once there are at least {@code atLeast}. */
    private static List<Pod> awaitPods(String namespace, Map<String, String> labels, int atLeast) {
        await().atMost(WAIT).until(() -> running(admin.pods().inNamespace(namespace).withLabels(labels).list()
                .getItems()).size() >= atLeast);
        return running(admin.pods().inNamespace(namespace).withLabels(labels).list().getItems());
    }

    private static List<Pod> running(List<Pod> pods) {
        return pods.stream().filter(p -> p.getStatus() != null && "Running".equals(p.getStatus().getPhase())).toList();
    }

    /** A pod as anyone with edit rights in the namespace could create it (bound by the real scheduler). */
    private static Pod handMade(String namespace, String name, Map<String, String> labels) {
        Pod pod = admin.resource(new PodBuilder().withNewMetadata().withNamespace(namespace).withName(name)
                .withLabels(labels).endMetadata().withNewSpec().addNewContainer().withName("shell").withImage("busybox")
                .endContainer().endSpec().build()).create();
        handMade.add(pod);
        await().atMost(WAIT).until(() -> {
            Pod p = admin.pods().inNamespace(namespace).withName(name).get();
            return p.getStatus() != null && "Running".equals(p.getStatus().getPhase());
        });
        return admin.pods().inNamespace(namespace).withName(name).get();
    }

    private static List<Event> podSecurityEvents() {
        // Kubernetes keeps Events about cluster-scoped objects, a Namespace included, in "default".
        return admin.v1().events().inNamespace("default").list().getItems().stream()
                .filter(e -> "Namespace".equals(e.getInvolvedObject().getKind())
                        && SERVING.equals(e.getInvolvedObject().getName())
                        && e.getReason().startsWith("PodSecurity"))
                .toList();
    }

    private static void setAllowSameNamespace(boolean allow) {
        admin.resources(GpuPool.class).withName("default").edit(p -> {
            p.getSpec().servingAccess.allowSameNamespace = allow;
            return p;
        });
    }

    private static String name(HasMetadata o) {
        return o.getMetadata().getNamespace() + "/" + o.getMetadata().getName();
    }
}
