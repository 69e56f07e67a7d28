package io.gpupool.operator.modeldeployment;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Stream;

import io.fabric8.kubernetes.api.model.Pod;
import io.gpupool.api.v1alpha1.ApiGroup;
import io.gpupool.api.v1alpha1.ContributedCluster;
import io.gpupool.api.v1alpha1.GpuClass;
import io.gpupool.api.v1alpha1.GpuNode;
import io.gpupool.api.v1alpha1.GpuPool;
import io.gpupool.api.v1alpha1.ModelDeployment;
import io.gpupool.api.v1alpha1.Organization;
import io.gpupool.api.v1alpha1.ServingWork;
import io.gpupool.api.v1alpha1.ServingWorkStatus.NodePods;
import io.gpupool.core.inventory.NodeTrust;
import io.gpupool.core.inventory.ServingPods;
import io.gpupool.core.inventory.Sharing;
import io.gpupool.core.model.NodeKey;
import io.gpupool.core.model.Workload;
import io.gpupool.core.model.WorkloadId;
import io.gpupool.core.render.RemoteWorkRenderer;
import io.gpupool.core.autoscaling.ScaleDecision;
import io.gpupool.core.serving.ServingDecision;
import io.gpupool.core.validation.ModelDeploymentValidator;
import io.gpupool.operator.scheduling.PoolView;
import io.javaoperatorsdk.operator.health.InformerHealthIndicator;
import io.javaoperatorsdk.operator.health.InformerWrappingEventSourceHealthIndicator;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.IndexerResourceCache;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;

/** The pool as the ModelDeployment controller's informers see it. */
final class InformerPoolView implements PoolView {

    static final String LOCAL_CLUSTER = NodeTrust.LOCAL_CLUSTER;

    final InformerEventSource<GpuNode, ModelDeployment> gpuNodes;
    final InformerEventSource<GpuClass, ModelDeployment> gpuClasses;
    final InformerEventSource<Organization, ModelDeployment> organizations;
    final InformerEventSource<GpuPool, ModelDeployment> pools;
    final InformerEventSource<Pod, ModelDeployment> pods;
    final InformerEventSource<ContributedCluster, ModelDeployment> clusters;
    final InformerEventSource<ServingWork, ModelDeployment> works;
    final IndexerResourceCache<ModelDeployment> modelDeployments;

    InformerPoolView(InformerEventSource<GpuNode, ModelDeployment> gpuNodes,
            InformerEventSource<GpuClass, ModelDeployment> gpuClasses,
            InformerEventSource<Organization, ModelDeployment> organizations,
            InformerEventSource<GpuPool, ModelDeployment> pools, InformerEventSource<Pod, ModelDeployment> pods,
            InformerEventSource<ContributedCluster, ModelDeployment> clusters,
            InformerEventSource<ServingWork, ModelDeployment> works,
            IndexerResourceCache<ModelDeployment> modelDeployments) {
        this.gpuNodes = gpuNodes;
        this.gpuClasses = gpuClasses;
        this.organizations = organizations;
        this.pools = pools;
        this.pods = pods;
        this.clusters = clusters;
        this.works = works;
        this.modelDeployments = modelDeployments;
    }

    @Override
    public List<GpuClass> gpuClasses() {
        return gpuClasses.list().toList();
    }

    @Override
    public List<GpuNode> gpuNodes() {
        return gpuNodes.list().toList();
    }

    @Override
    public List<Organization> organizations() {
        return organizations.list().toList();
    }

    @Override
    public Optional<GpuPool> pool() {
        return pools.list().filter(p -> GpuPool.DEFAULT_NAME.equals(p.getMetadata().getName())).findFirst();
    }

    @Override
    public Map<String, String> contributedClusters() {
        Map<String, String> out = new HashMap<>();
        clusters.list().forEach(c -> {
            // 'local' is the pool's own cluster, never an approval (ContributedClusterReconciler refuses it).
            if (c.getSpec() != null && c.getSpec().organization != null && c.getMetadata().getDeletionTimestamp() == null
                    && !LOCAL_CLUSTER.equals(c.getMetadata().getName())) {
                out.put(c.getMetadata().getName(), c.getSpec().organization);
            }
        });
        return out;
    }

    /** The ServingWork of a ModelDeployment, in every cluster. */
    List<ServingWork> servingWorks(String namespace, String name) {
        return works.list().filter(w -> w.getMetadata().getLabels() != null
                && name.equals(w.getMetadata().getLabels().get(ApiGroup.MODEL_DEPLOYMENT_LABEL))
                && namespace.equals(w.getMetadata().getLabels().get(RemoteWorkRenderer.MD_NAMESPACE_LABEL))).toList();
    }

    @Override
    public List<ModelDeployment> modelDeployments() {
        return modelDeployments.list().toList();
    }

    /**
     * The one place a ModelDeployment's demand is derived: for its reconcile, and for cycles that run before it. Its
     * organization by the pool's one rule ({@link io.gpupool.core.inventory.Membership}), shared only with that
     * organization's consent ({@link Sharing}).
     */
    @Override
    public Workload demandOf(ModelDeployment md) {
        return demandOf(md, null);
    }

    /**
     * The demand with the autoscaler's fresh decision (its reconcile); without one an autoscaled ModelDeployment asks
     * for what it last decided.
     */
    public Workload demandOf(ModelDeployment md, ScaleDecision scale) {
        String organization = membership().organizationOf(md.getMetadata().getNamespace()).orElse(null);
        boolean organizationExists = organization != null && organization(organization).isPresent();
        return ServingDecision.demand(md, organization, organizationExists,
                ModelDeploymentValidator.validate(md.getMetadata().getName(), md.getSpec()), sharingOf(md, organization),
                scale);
    }

    /** Whether the pool lets a ModelDeployment of that organization be shared ({@link Sharing}). */
    Sharing sharingOf(ModelDeployment md, String organization) {
        return organization == null ? Sharing.of(null, Optional.empty())
                : Sharing.of(md.getSpec(), organization(organization));
    }

    /**
     * Pods of serving work that have not terminated, per ModelDeployment and node: those of the pool's own cluster
     * from the pod cache (the operator's own, bound where they claim: {@link ServingPods}), those of contributed clusters as their agents report them in ServingWork status.
     */
    @Override
    public Map<WorkloadId, Map<NodeKey, Integer>> livePods() {
        Map<WorkloadId, Map<NodeKey, Integer>> out = reportedByAgents(n -> n.pods);
        // Only pods the operator's own Deployments made, bound to the node they claim (ServingPods): labels alone are
        // anyone's to write.
        pods.list().forEach(pod -> ServingPods.claim(pod).ifPresent(claim -> out
                .computeIfAbsent(claim.workload(), k -> new HashMap<>())
                .merge(new NodeKey(LOCAL_CLUSTER, claim.node()), 1, Integer::sum)));
        return out;
    }

    /** Ready replicas of contributed clusters per ModelDeployment and node, as their agents report them. */
    @Override
    public Map<WorkloadId, Map<NodeKey, Integer>> readyReplicas() {
        return reportedByAgents(n -> n.ready);
    }

    /** One ModelDeployment's: from its own ServingWorks only (a reconcile asks for it). */
    @Override
    public Map<NodeKey, Integer> readyReplicasOf(WorkloadId id) {
        Map<NodeKey, Integer> out = new HashMap<>();
        for (ServingWork work : servingWorks(id.namespace(), id.name())) {
            var labels = work.getMetadata().getLabels();
            String cluster = labels == null ? null : labels.get(ApiGroup.CLUSTER_LABEL);
            if (cluster != null && work.getStatus() != null && work.getStatus().nodes != null) {
                for (NodePods n : work.getStatus().nodes) {
                    if (n.node != null && n.ready != null && n.ready > 0) {
                        out.merge(new NodeKey(cluster, n.node), n.ready, Integer::sum);
                    }
                }
            }
        }
        return out;
    }

    /** A count the agents report per node in ServingWork status, per ModelDeployment and contributed node. */
    private Map<WorkloadId, Map<NodeKey, Integer>> reportedByAgents(Function<NodePods, Integer> count) {
        Map<WorkloadId, Map<NodeKey, Integer>> out = new HashMap<>();
        works.list().forEach(work -> {
            var labels = work.getMetadata().getLabels();
            String cluster = labels == null ? null : labels.get(ApiGroup.CLUSTER_LABEL);
            if (cluster == null || work.getStatus() == null || work.getStatus().nodes == null) {
                return;
            }
            for (ResourceID owner : ServingWorks.owner(work)) {
                for (NodePods n : work.getStatus().nodes) {
                    Integer c = n.node == null ? null : count.apply(n);
                    if (c != null && c > 0) {
                        out.computeIfAbsent(new WorkloadId(owner.getNamespace().orElseThrow(), owner.getName()),
                                k -> new HashMap<>()).merge(new NodeKey(cluster, n.node), c, Integer::sum);
                    }
                }
            }
        });
        return out;
    }

    @Override
    public Map<String, Map<String, Integer>> clusterCeilings() {
        Map<String, Map<String, Integer>> out = new HashMap<>();
        clusters.list().forEach(c -> {
            if (c.getSpec() != null && c.getSpec().ceiling != null && c.getMetadata().getDeletionTimestamp() == null) {
                Map<String, Integer> perClass = new HashMap<>();
                c.getSpec().ceiling.forEach(g -> {
                    if (g != null && g.gpuClass != null && g.gpus != null) {
                        perClass.merge(g.gpuClass, g.gpus, Integer::sum);
                    }
                });
                out.put(c.getMetadata().getName(), perClass);
            }
        });
        return out;
    }

    /**
     * Every informer of the view, the primary cache's too, has synced. The pool's inputs change events arrive while
     * they start, before JOSDK starts reconciling.
     */
    @Override
    public boolean synced() {
        return Stream.<Object>of(gpuNodes, gpuClasses, organizations, pools, pods, clusters, works, modelDeployments)
                .allMatch(InformerPoolView::synced);
    }

    private static boolean synced(Object cache) {
        if (!(cache instanceof InformerWrappingEventSourceHealthIndicator<?> source)) {
            return true; // not informer-backed: nothing to wait for
        }
        var informers = source.informerHealthIndicators();
        return !informers.isEmpty() && informers.values().stream().allMatch(InformerHealthIndicator::hasSynced);
    }

    /** The Organization of that name, from the cache. */
    Optional<Organization> organization(String name) {
        return organizations.get(new ResourceID(name));
    }
}
