package io.gpupool.apiserver;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.gpupool.api.v1alpha1.ContributedCluster;
import io.gpupool.api.v1alpha1.GpuClass;
import io.gpupool.api.v1alpha1.GpuNode;
import io.gpupool.api.v1alpha1.GpuNodeSpec;
import io.gpupool.api.v1alpha1.GpuPool;
import io.gpupool.api.v1alpha1.ModelDeployment;
import io.gpupool.api.v1alpha1.ModelDeploymentStatus;
import io.gpupool.api.v1alpha1.Organization;
import io.gpupool.api.v1alpha1.Placement;
import io.gpupool.testing.PoolFixtures;

/**
 * Who may write what, on a server that enforces the chart's RBAC: a namespace's {@code edit} user (the built-in role,
 * into which the chart aggregates the gpupool kinds) applies ModelDeployments but writes no status (status.placements
 * is the scheduler's ledger on restart), no Organization (membership and quota), GpuNode or GpuClass; a {@code view}
 * user reads them; a pool admin writes the pool's kinds and still no status. This API server runs no
 * kube-controller-manager, so the test plays its ClusterRole aggregation controller.
 */
@ApiServerTier
class TenantRbacApiServerTest {

    private static final String RELEASE = "gpupool-operator";
    private static final String OPERATOR_NS = "gpupool-system";
    private static final String NS = "tenant-rbac";
    private static final String OTHER_NS = "tenant-rbac-other";

    private static KubernetesClient admin;
    private static KubernetesClient alice; // edit in NS
    private static KubernetesClient bob; // view in NS
    private static KubernetesClient carol; // pool admin
    private static InstalledChart chart;
    private static TestPool pool;

    @BeforeAll
    static void installTheChartsRoles(RealKubeApiServer.Server server) {
        server.applyCrds();
        admin = server.admin();
        chart = InstalledChart.install(admin, "gpupool-operator", RELEASE, OPERATOR_NS,
                Map.of("poolAdmins[0].kind", "User", "poolAdmins[0].name", "carol",
                        "poolAdmins[0].apiGroup", "rbac.authorization.k8s.io"),
                o -> o instanceof ClusterRole || o instanceof ClusterRoleBinding);
        aggregateBuiltInRoles();
        pool = new TestPool(admin).member(NS, "tenant-org").member(OTHER_NS, "other-org");
        for (var binding : List.of(new String[] { "alice", "edit" }, new String[] { "bob", "view" })) {
            admin.resource(new RoleBindingBuilder().withNewMetadata().withName(binding[0]).withNamespace(NS).endMetadata()
                    .withNewRoleRef().withApiGroup("rbac.authorization.k8s.io").withKind("ClusterRole")
                    .withName(binding[1]).endRoleRef().addNewSubject().withApiGroup("rbac.authorization.k8s.io")
                    .withKind("User").withName(binding[0]).endSubject().build()).createOr(r -> r.update());
        }
        alice = server.impersonating("alice", "system:authenticated");
        bob = server.impersonating("bob", "system:authenticated");
        carol = server.impersonating("carol", "system:authenticated");
    }

    /**
     * What kube-controller-manager's clusterrole-aggregation controller does: the rules of an aggregated ClusterRole
     * (view, edit, admin) are those of every ClusterRole its selectors match. Repeated, because view aggregates into
     * edit and edit into admin.
     */
    private static void aggregateBuiltInRoles() {
        for (int round = 0; round < 3; round++) {
            for (String name : List.of("view", "edit", "admin")) {
                ClusterRole role = admin.rbac().clusterRoles().withName(name).get();
                Set<PolicyRule> rules = new LinkedHashSet<>();
                for (var selector : role.getAggregationRule().getClusterRoleSelectors()) {
                    admin.rbac().clusterRoles().withLabels(selector.getMatchLabels()).list().getItems()
                            .forEach(r -> rules.addAll(r.getRules() == null ? List.of() : r.getRules()));
                }
                role.setRules(new ArrayList<>(rules));
                admin.resource(role).update();
            }
        }
    }

    @AfterAll
    static void cleanUp() {
        for (KubernetesClient c : new KubernetesClient[] { alice, bob, carol }) {
            if (c != null) {
                c.close();
            }
        }
        if (pool != null) {
            pool.close();
        }
        admin.rbac().roleBindings().inNamespace(NS).withName("alice").delete();
        admin.rbac().roleBindings().inNamespace(NS).withName("bob").delete();
        if (chart != null) {
            chart.close();
        }
    }

    @Test
    void aNamespaceEditorAppliesModelDeploymentsButWritesNoStatusAndNothingOfThePool() {
        ModelDeployment md = PoolFixtures.modelDeployment(NS, "mine", 1, 1);
        ModelDeployment applied = alice.resource(md).fieldManager("kubectl").serverSideApply();
        alice.resources(ModelDeployment.class).inNamespace(NS).withName("mine").edit(m -> {
            m.getSpec().replicas = 2;
            return m;
        });

        List<String> allowed = new ArrayList<>();
        // The ledger: placements it was never given.
        ModelDeploymentStatus granted = new ModelDeploymentStatus();
        granted.placements = List.of(new Placement("local", "a100-80g-01", "a100-80g", 8));
        granted.organization = "someone-richer";
        Forbidden.orAllowed(allowed, "replace a ModelDeployment's status", () -> {
            ModelDeployment current = alice.resources(ModelDeployment.class).inNamespace(NS).withName("mine").get();
            current.setStatus(granted);
            alice.resource(current).updateStatus();
        });
        Forbidden.orAllowed(allowed, "patch a ModelDeployment's status", () -> alice.resources(ModelDeployment.class)
                .inNamespace(NS).withName("mine").subresource("status").patch(
                        io.fabric8.kubernetes.client.dsl.base.PatchContext.of(
                                io.fabric8.kubernetes.client.dsl.base.PatchType.JSON_MERGE),
                        "{\"status\":{\"organization\":\"someone-richer\"}}"));
        Forbidden.orAllowed(allowed, "create an Organization", () -> alice.resource(PoolFixtures.organization("mine",
                NS)).create());
        Forbidden.orAllowed(allowed, "add its namespace to another Organization", () -> alice
                .resources(Organization.class).withName("other-org").edit(o -> {
                    o.getSpec().namespaces.add(NS);
                    return o;
                }));
        Forbidden.orAllowed(allowed, "create a GpuNode in its namespace", () -> alice.resource(gpuNode(NS)).create());
        Forbidden.orAllowed(allowed, "create a GpuClass", () -> alice.resource(PoolFixtures.gpuClass("cheap", 1, "*"))
                .create());
        Forbidden.orAllowed(allowed, "edit the GpuPool", () -> alice.resource(gpuPool()).create());
        Forbidden.orAllowed(allowed, "approve a contributed cluster", () -> alice.resource(cluster()).create());
        Forbidden.orAllowed(allowed, "create a ModelDeployment in another namespace", () -> alice
                .resource(PoolFixtures.modelDeployment(OTHER_NS, "theirs", 1, 1)).create());
        assertThat(allowed).as("requests a namespace editor should be refused but was allowed").isEmpty();
        assertThat(applied.getStatus()).isNull();
        assertThat(admin.resources(ModelDeployment.class).inNamespace(NS).withName("mine").get().getStatus()).isNull();
        alice.resources(ModelDeployment.class).inNamespace(NS).withName("mine").delete();
    }

    @Test
    void aNamespaceViewerReadsModelDeploymentsAndWritesNone() {
        admin.resource(PoolFixtures.modelDeployment(NS, "shown", 1, 1)).createOr(r -> r.update());
        assertThat(bob.resources(ModelDeployment.class).inNamespace(NS).withName("shown").get()).isNotNull();
        List<String> allowed = new ArrayList<>();
        Forbidden.orAllowed(allowed, "create a ModelDeployment", () -> bob.resource(PoolFixtures.modelDeployment(NS,
                "bobs", 1, 1)).create());
        Forbidden.orAllowed(allowed, "delete a ModelDeployment", () -> bob.resources(ModelDeployment.class)
                .inNamespace(NS).withName("shown").delete());
        assertThat(allowed).isEmpty();
        admin.resources(ModelDeployment.class).inNamespace(NS).withName("shown").delete();
    }

    @Test
    void aPoolAdminWritesThePoolsKindsButNoStatus() {
        Organization org = carol.resource(PoolFixtures.organization("carols-org", "carols-namespace")).create();
        carol.resource(PoolFixtures.gpuClass("carols-class", 1, "NVIDIA-L4")).create();
        assertThat(carol.resources(ModelDeployment.class).inAnyNamespace().list().getItems()).isNotNull();
        List<String> allowed = new ArrayList<>();
        Forbidden.orAllowed(allowed, "write an Organization's status", () -> {
            Organization current = carol.resources(Organization.class).withName("carols-org").get();
            current.setStatus(new io.gpupool.api.v1alpha1.OrganizationStatus());
            current.getStatus().namespaces = 99;
            carol.resource(current).updateStatus();
        });
        Forbidden.orAllowed(allowed, "write a ModelDeployment", () -> carol
                .resource(PoolFixtures.modelDeployment(NS, "carols", 1, 1)).create());
        Forbidden.orAllowed(allowed, "create a GpuNode", () -> carol.resource(gpuNode("gpupool-cluster-local")).create());
        assertThat(allowed).isEmpty();
        admin.resource(org).delete();
        admin.resources(GpuClass.class).withName("carols-class").delete();
    }

    private static GpuNode gpuNode(String namespace) {
        GpuNode n = new GpuNode();
        n.setMetadata(new ObjectMetaBuilder().withName("box").withNamespace(namespace).build());
        GpuNodeSpec spec = new GpuNodeSpec();
        spec.cluster = "local";
        spec.nodeName = "box";
        spec.organization = "tenant-org";
        spec.gpu.product = "NVIDIA-H100-80GB-HBM3";
        spec.gpu.memoryMiB = 81559L;
        spec.gpu.count = 8;
        n.setSpec(spec);
        return n;
    }

    private static GpuPool gpuPool() {
        GpuPool p = new GpuPool();
        p.setMetadata(new ObjectMetaBuilder().withName(GpuPool.DEFAULT_NAME).build());
        return p;
    }

    private static ContributedCluster cluster() {
        ContributedCluster cc = new ContributedCluster();
        cc.setMetadata(new ObjectMetaBuilder().withName("alices-cluster").build());
        cc.getSpec().organization = "tenant-org";
        return cc;
    }
}
