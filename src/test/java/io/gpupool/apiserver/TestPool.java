package io.gpupool.apiserver;

import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.gpupool.api.v1alpha1.ApiGroup;
import io.gpupool.api.v1alpha1.ContributedCluster;
import io.gpupool.api.v1alpha1.GpuClass;
import io.gpupool.api.v1alpha1.GpuNode;
import io.gpupool.api.v1alpha1.ModelDeployment;
import io.gpupool.api.v1alpha1.Organization;
import io.gpupool.api.v1alpha1.ServingWork;
import io.gpupool.core.inventory.NodeTrust;
import io.gpupool.operator.cluster.ContributedClusterReconciler;
import io.gpupool.cluster.SimulatedKubelet;
import io.gpupool.core.status.Conditions;
import io.gpupool.operator.node.HubNamespaces;
import io.gpupool.operator.node.LocalNodeReconciler;
import io.gpupool.testing.PoolFixtures;

/**
 * The pool objects one test class creates, removed again by {@link #close()} so that the next class of the tier starts
 * from an empty pool on the shared control plane: the real garbage collector removes the ModelDeployments' children
 * and their pods (the simulated kubelet confirms them gone), and the close waits for that before the Nodes go, so
 * that no pod of this class holds a GPU the next one needs. Namespaces stay (they are reused by name).
 */
public final class TestPool implements AutoCloseable {

    public static final Duration WAIT = Duration.ofSeconds(60);
    public static final String HUB = HubNamespaces.name(LocalNodeReconciler.LOCAL_CLUSTER);

    private final KubernetesClient admin;
    private final Set<String> namespaces = new LinkedHashSet<>();
    private final Set<String> organizations = new LinkedHashSet<>();
    private final Set<String> classes = new LinkedHashSet<>();
    private final Set<String> nodes = new LinkedHashSet<>();
    private final Set<String> clusters = new LinkedHashSet<>();

    public TestPool(KubernetesClient admin) {
        this.admin = admin;
    }

    /** An organization and a namespace that belongs to it. */
    public TestPool member(String namespace, String organization) {
        organization(organization);
        admin.resources(Organization.class).withName(organization).edit(o -> {
            if (!o.getSpec().namespaces.contains(namespace)) {
                o.getSpec().namespaces.add(namespace);
            }
            return o;
        });
        admin.resource(PoolFixtures.namespace(namespace)).createOr(r -> r.update());
        namespaces.add(namespace);
        return this;
    }

    /** The pool admin lets an organization share its ModelDeployments (spec.shared: true). */
    public TestPool allowSharing(String organization) {
        organization(organization);
        admin.resources(Organization.class).withName(organization).edit(o -> {
            o.getSpec().allowSharedDeployments = true;
            return o;
        });
        return this;
    }

    public TestPool organization(String name) {
        if (admin.resources(Organization.class).withName(name).get() == null) {
            admin.resource(PoolFixtures.organization(name)).create();
        }
        organizations.add(name);
        return this;
    }

    public TestPool gpuClass(String name, long minMemoryMiB, String... products) {
        admin.resource(PoolFixtures.gpuClass(name, minMemoryMiB, products)).createOr(r -> r.update());
        classes.add(name);
        return this;
    }

    /**
     * A Node of src/test/resources/fixtures/nodes labelled with the organization, registered as its kubelet does (with
     * its status: capacity, allocatable GPUs, Ready), kept alive by the simulated kubelet (needs a running operator).
     */
    public TestPool contribute(String fixture, String organization) {
        return contribute(PoolFixtures.node(fixture, organization));
    }

    /** A Node (labelled with its organization), registered and awaited as {@link #contribute(String, String)} does. */
    public TestPool contribute(Node node) {
        String name = node.getMetadata().getName();
        SimulatedKubelet.registerNode(admin, node);
        nodes.add(name);
        await().atMost(WAIT).until(() -> admin.resources(GpuNode.class).inNamespace(HUB).withName(name).get() != null);
        return this;
    }

    /**
     * A pool admin approves a contributed cluster (needs a running operator): the kubeconfig the operator issues carries
     * a real, short-lived token the API server signed (TokenRequest). Agents in tests mostly reach the pool with clients
     * that impersonate the cluster's ServiceAccount.
     */
    public TestPool approve(String cluster, String organization) {
        ContributedCluster cc = new ContributedCluster();
        cc.setMetadata(new ObjectMetaBuilder().withName(cluster).build());
        cc.getSpec().organization = organization;
        admin.resource(cc).fieldManager("kubectl").serverSideApply();
        clusters.add(cluster);
        await().atMost(WAIT).until(() -> ready(cluster).map(c -> "CredentialsIssued".equals(c.getReason())).orElse(false));
        return this;
    }

    private Optional<Condition> ready(String cluster) {
        ContributedCluster c = admin.resources(ContributedCluster.class).withName(cluster).get();
        return c == null || c.getStatus() == null ? Optional.empty()
                : Conditions.find(c.getStatus().conditions, Conditions.READY);
    }

    public GpuNode gpuNode(String name) {
        return admin.resources(GpuNode.class).inNamespace(HUB).withName(name).get();
    }

    /**
     * Deletes what the class created. ModelDeployments first, while the operator (when given) still runs, so that
     * it releases the GPUs and removes the finalizers it put on; left-over finalizers are then stripped by hand.
     */
    public void deleteModelDeployments(boolean operatorRunning) {
        for (String ns : namespaces) {
            // One by one (a collection delete of hundreds of objects can outlast the client's request timeout), from a
            // few threads.
            List<ModelDeployment> all = admin.resources(ModelDeployment.class).inNamespace(ns).list().getItems();
            var deleters = java.util.concurrent.Executors.newFixedThreadPool(4);
            try {
                deleters.invokeAll(all.stream().map(md -> (java.util.concurrent.Callable<Object>) () -> admin.resource(md)
                        .delete()).toList());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                deleters.shutdownNow();
            }
        }
        if (operatorRunning) {
            try {
                await().atMost(Duration.ofSeconds(60)).until(this::noModelDeployments);
            } catch (RuntimeException e) {
                // fall through: strip what is left
            }
        }
        for (String ns : namespaces) {
            for (ModelDeployment md : admin.resources(ModelDeployment.class).inNamespace(ns).list().getItems()) {
                admin.resources(ModelDeployment.class).inNamespace(ns).withName(md.getMetadata().getName())
                        .edit(m -> {
                            m.getMetadata().setFinalizers(new ArrayList<>());
                            return m;
                        });
            }
        }
        await().atMost(WAIT).until(this::noModelDeployments);
    }

    /** Waits until no pod of the gpupool serving workloads is left in this pool's namespaces. */
    public void awaitNoServingPods() {
        await().atMost(WAIT).until(() -> namespaces.stream().allMatch(ns -> admin.pods().inNamespace(ns)
                .withLabel(ApiGroup.MANAGED_BY_LABEL, ApiGroup.MANAGED_BY).list().getItems().isEmpty()));
    }

    private boolean noModelDeployments() {
        return namespaces.stream().allMatch(ns -> admin.resources(ModelDeployment.class).inNamespace(ns).list()
                .getItems().isEmpty());
    }

    /**
     * Ends a test class: deletes its ModelDeployments, stops its operator, then removes the pool objects. The operator
     * is stopped whatever fails first: the next class would otherwise have two operators fighting over the objects.
     */
    public static void tearDown(TestPool pool, InProcessOperator operator) {
        tearDown(pool, operator, new AutoCloseable[0]);
    }

    /**
     * The same, then closes the others in order (charts, clients), each whatever closing the ones before did.
     */
    public static void tearDown(TestPool pool, InProcessOperator operator, AutoCloseable... others) {
        try {
            tearDownPool(pool, operator);
        } finally {
            for (AutoCloseable c : others) {
                try {
                    if (c != null) {
                        c.close();
                    }
                } catch (Exception e) {
                    // keep closing the others
                }
            }
        }
    }

    private static void tearDownPool(TestPool pool, InProcessOperator operator) {
        try {
            if (pool != null) {
                pool.deleteModelDeployments(operator != null);
            }
        } finally {
            // Never leave an operator running: the next class would have two fighting over the same objects.
            try {
                if (operator != null) {
                    operator.close();
                }
            } finally {
                if (pool != null) {
                    pool.close();
                }
            }
        }
    }

    @Override
    public void close() {
        deleteModelDeployments(false);
        // The garbage collector removes the children of the deleted ModelDeployments, and their pods go with their
        // ReplicaSets; the kubelet confirms each pod gone after its drain. Wait for that: a pod left on a node holds
        // GPUs that the next class's pods on a node of the same name would then wait for.
        awaitNoServingPods();
        for (String n : nodes) {
            admin.nodes().withName(n).delete();
            admin.resources(GpuNode.class).inNamespace(HUB).withName(n).delete();
        }
        for (String cluster : clusters) {
            // The approval and what is left in its hub namespace (the namespace itself stays).
            String ns = NodeTrust.hubNamespace(cluster);
            admin.resources(ServingWork.class).inNamespace(ns).delete();
            admin.resources(GpuNode.class).inNamespace(ns).delete();
            admin.secrets().inNamespace(ns).withName(ContributedClusterReconciler.MODEL_CREDENTIALS_SECRET).delete();
            admin.resources(ContributedCluster.class).withName(cluster).delete();
        }
        List<String> gone = new ArrayList<>(classes);
        gone.forEach(c -> admin.resources(GpuClass.class).withName(c).delete());
        organizations.forEach(o -> admin.resources(Organization.class).withName(o).delete());
    }
}
