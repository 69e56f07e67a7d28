package io.gpupool.apiserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.gpupool.api.v1alpha1.ApiGroup;
import io.gpupool.api.v1alpha1.GpuClass;
import io.gpupool.api.v1alpha1.GpuNode;
import io.gpupool.api.v1alpha1.ModelDeployment;
import io.gpupool.api.v1alpha1.Organization;
import io.gpupool.core.render.ServingAccess;
import io.gpupool.testing.PoolFixtures;

/**
 * The operator's RBAC as the Helm chart renders it, on a server that enforces it (kube-api-test runs the API server
 * with --authorization-mode=RBAC): the ServiceAccount's permissions are enough to take a ModelDeployment from apply
 * to serving workload, status and cleanup (the operator runs with a client that impersonates the ServiceAccount), and
 * it is refused (403) what it does not need.
 */
@ApiServerTier
class RbacApiServerTest {

    private static final String RELEASE = "gpupool-operator";
    private static final String OPERATOR_NS = "gpupool-system";
    private static final String SERVICE_ACCOUNT = "system:serviceaccount:" + OPERATOR_NS + ":" + RELEASE;
    private static final String NS = "rbac-team";
    private static final String ORG = "rbac-org";
    private static final Duration WAIT = Duration.ofSeconds(60);

    private static KubernetesClient admin;
    private static KubernetesClient asOperator;
    private static TestPool pool;
    private static InstalledChart chart;

    @BeforeAll
    static void installChartRbac(RealKubeApiServer.Server server) {
        server.applyCrds();
        admin = server.admin();
        chart = InstalledChart.install(admin, "gpupool-operator", RELEASE, OPERATOR_NS, Map.of(), o -> true);
        assertThat(chart.objects()).extracting(HasMetadata::getKind).contains("ServiceAccount", "ClusterRole",
                "ClusterRoleBinding", "Role", "RoleBinding");
        asOperator = server.impersonating(SERVICE_ACCOUNT);
        pool = new TestPool(admin).member(NS, ORG).gpuClass("rbac-rtx", 20000, "*RTX-4090*");
    }

    @AfterAll
    static void cleanUp() {
        if (pool != null) {
            pool.close();
        }
        if (asOperator != null) {
            asOperator.close();
        }
        if (chart != null) {
            chart.close();
        }
    }

    @Test
    void theChartsServiceAccountCanRunTheOperatorFromApplyToCleanup() {
        try (InProcessOperator operator = InProcessOperator.start(asOperator)) {
            pool.contribute("rtx4090-home-01", ORG); // the operator (as the ServiceAccount) creates the GpuNode
            ModelDeployment md = PoolFixtures.modelDeployment(NS, "coder", 1, 1);
            md.getSpec().gpu.classes = List.of("rbac-rtx");
            md.getSpec().model.maxContextLength = 4096;
            admin.resource(md).fieldManager("kubectl").serverSideApply();

            await().atMost(WAIT).until(() -> deployments("coder").size() == 1
                    && admin.services().inNamespace(NS).withName("coder").get() != null
                    && admin.network().v1().networkPolicies().inNamespace(NS).withName(ServingAccess.POLICY_NAME).get() != null);
            // The real controllers and the simulated kubelet run its pod; the operator sees it ready.
            await().atMost(WAIT).until(() -> {
                ModelDeployment m = get("coder");
                return m.getStatus() != null && "Running".equals(m.getStatus().phase);
            });
            // Pool status written by the operator: GpuNode, GpuClass and Organization status.
            await().atMost(WAIT).until(() -> {
                GpuNode n = admin.resources(GpuNode.class).inNamespace(TestPool.HUB).withName("rtx4090-home-01").get();
                GpuClass c = admin.resources(GpuClass.class).withName("rbac-rtx").get();
                Organization o = admin.resources(Organization.class).withName(ORG).get();
                return n.getStatus() != null && Integer.valueOf(1).equals(n.getStatus().allocated)
                        && c.getStatus() != null && Integer.valueOf(1).equals(c.getStatus().allocated)
                        && o.getStatus() != null && o.getStatus().conditions != null;
            });
            assertThat(admin.v1().events().inNamespace(NS).list().getItems()).isNotNull();

            admin.resources(ModelDeployment.class).inNamespace(NS).withName("coder").delete();
            await().atMost(WAIT).until(() -> get("coder") == null);
            assertThat(operator.reconciles().failures()).isZero();
            pool.deleteModelDeployments(true);
        }
    }

    @Test
    void theChartsServiceAccountIsRefusedWhatTheOperatorDoesNotNeed() {
        admin.resource(new SecretBuilder().withNewMetadata().withName("hf-token").withNamespace(NS).endMetadata()
                .addToStringData("token", "hf_secret").build()).createOr(r -> r.update());
        Organization org = admin.resources(Organization.class).withName(ORG).get();

        List<String> allowed = new ArrayList<>();
        Forbidden.orAllowed(allowed, "read Secrets", () -> asOperator.secrets().inNamespace(NS).withName("hf-token").get());
        Forbidden.orAllowed(allowed, "list Secrets", () -> asOperator.secrets().inAnyNamespace().list());
        // Its informers of the agents' credentials list and watch them by name; no other name is allowed.
        Forbidden.orAllowed(allowed, "list Secrets of another name", () -> asOperator.secrets().inAnyNamespace()
                .withField("metadata.name", "hf-token").list());
        Forbidden.orAllowed(allowed, "watch Secrets", () -> asOperator.secrets().inNamespace(NS).watch(new NoopWatcher<>()).close());
        Forbidden.orAllowed(allowed, "list ServiceAccounts", () -> asOperator.serviceAccounts().inAnyNamespace().list());
        Forbidden.orAllowed(allowed, "list Roles", () -> asOperator.rbac().roles().inAnyNamespace().list());
        Forbidden.orAllowed(allowed, "list RoleBindings", () -> asOperator.rbac().roleBindings().inAnyNamespace().list());
        Forbidden.orAllowed(allowed, "read another Role", () -> asOperator.rbac().roles().inNamespace(OPERATOR_NS)
                .withName(RELEASE + "-leader-election").get());
        Forbidden.orAllowed(allowed, "delete Namespaces", () -> asOperator.namespaces().withName(NS).delete());
        Forbidden.orAllowed(allowed, "write an Organization's spec", () -> asOperator.resources(Organization.class).withName(ORG)
                .edit(o -> {
                    o.getSpec().displayName = "taken over";
                    return o;
                }));
        Forbidden.orAllowed(allowed, "delete Organizations", () -> asOperator.resources(Organization.class).withName(ORG).delete());
        Forbidden.orAllowed(allowed, "create GpuClasses", () -> asOperator.resource(PoolFixtures.gpuClass("free-for-all", 1, "*"))
                .create());
        Forbidden.orAllowed(allowed, "create ModelDeployments", () -> asOperator.resource(PoolFixtures.modelDeployment(NS, "mine", 1, 1))
                .create());
        Forbidden.orAllowed(allowed, "create ClusterRoles", () -> asOperator.resource(new ClusterRoleBuilder().withNewMetadata()
                .withName("escalate").endMetadata().addNewRule().withApiGroups("*").withResources("*").withVerbs("*")
                .endRule().build()).create());
        Forbidden.orAllowed(allowed, "create Pods", () -> asOperator.resource(new PodBuilder().withNewMetadata().withName("p")
                .withNamespace(NS).endMetadata().withNewSpec().addNewContainer().withName("c").withImage("busybox")
                .endContainer().endSpec().build()).create());
        Forbidden.orAllowed(allowed, "delete model-cache claims", () -> asOperator.persistentVolumeClaims()
                .inNamespace(NS).withName("gpupool-models-x").delete());
        Forbidden.orAllowed(allowed, "read ConfigMaps", () -> asOperator.configMaps().inNamespace(NS).list());
        Forbidden.orAllowed(allowed, "create ConfigMaps", () -> asOperator.resource(new ConfigMapBuilder().withNewMetadata()
                .withName("cm").withNamespace(NS).endMetadata().build()).create());
        var node = admin.resource(PoolFixtures.node("t4-01", null)).createOr(r -> r.update());
        Forbidden.orAllowed(allowed, "label Nodes", () -> asOperator.nodes().withName("t4-01").edit(n -> {
            n.getMetadata().getLabels().put(ApiGroup.ORGANIZATION_LABEL, "someone-else");
            return n;
        }));
        admin.resource(node).delete();
        Forbidden.orAllowed(allowed, "Leases outside its namespace", () -> asOperator.resource(new LeaseBuilder().withNewMetadata()
                .withName("x").withNamespace(NS).endMetadata().build()).create());
        assertThat(allowed).as("requests the ServiceAccount should be refused but was allowed").isEmpty();

        // Its leader-election Lease in its own namespace is allowed (prod profile).
        var lease = asOperator.resource(new LeaseBuilder().withNewMetadata().withName("gpupool-operator-leader")
                .withNamespace(OPERATOR_NS).endMetadata().withNewSpec().withHolderIdentity("test").endSpec().build())
                .create();
        asOperator.resource(lease).edit(l -> l);
        admin.resource(lease).delete();
        assertThat(org.getSpec().displayName).isEqualTo(admin.resources(Organization.class).withName(ORG).get().getSpec().displayName);
    }

    private static ModelDeployment get(String name) {
        return admin.resources(ModelDeployment.class).inNamespace(NS).withName(name).get();
    }

    private static List<Deployment> deployments(String md) {
        return admin.apps().deployments().inNamespace(NS).withLabel(ApiGroup.MODEL_DEPLOYMENT_LABEL, md).list().getItems();
    }

    /** A watcher for requests that are expected to be refused before any event. */
    private static final class NoopWatcher<T> implements io.fabric8.kubernetes.client.Watcher<T> {
        @Override
        public void eventReceived(Action action, T resource) {
        }

        @Override
        public void onClose(io.fabric8.kubernetes.client.WatcherException cause) {
        }
    }
}
