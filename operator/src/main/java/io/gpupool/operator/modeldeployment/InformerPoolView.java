package io.gpupool.operator.modeldeployment;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Stream;

import io.fabric8.kubernetes.api.model.Namespace;
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
import io.gpupool.core.inventory.PoolInputs;
import io.gpupool.core.model.NodeKey;
import io.gpupool.core.model.Workload;
import io.gpupool.core.model.WorkloadId;
import io.gpupool.core.render.RemoteWorkRenderer;
import io.gpupool.core.render.ServingRenderer;
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

    static final String LOCAL_CLUSTER = "local";

    final InformerEventSource<Namespace, ModelDeployment> namespaces;
    final InformerEventSource<GpuNode, ModelDeployment> gpuNodes;
    final InformerEventSource<GpuClass, ModelDeployment> gpuClasses;
    final InformerEventSource<Organization, ModelDeployment> organizations;
    final InformerEventSource<GpuPool, ModelDeployment> pools;
    final InformerEventSource<Pod, ModelDeployment> pods;
    final InformerEventSource<ContributedCluster, ModelDeployment> clusters;
    final InformerEventSource<ServingWork, ModelDeployment> works;
    final IndexerResourceCache<ModelDeployment> modelDeployments;

    InformerPoolView(InformerEventSource<Namespace, ModelDeployment> namespaces,
            InformerEventSource<GpuNode, ModelDeployment> gpuNodes,
            InformerEventSource<GpuClass, ModelDeployment> gpuClasses,
            InformerEventSource<Organization, ModelDeployment> organizations,
            InformerEventSource<GpuPool, ModelDeployment> pools, InformerEventSource<Pod, ModelDeployment> pods,
            InformerEventSource<ContributedCluster, ModelDeployment> clusters,
            InformerEventSource<ServingWork, ModelDeployment> works,
            IndexerResourceCache<ModelDeployment> modelDeployments) {
        this.namespaces = namespaces;
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
            if (c.getSpec() != null && c.getSpec().organization != null && c.getMetadata().getDeletionTimestamp() == null) {
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

    /** The one place a ModelDeployment's demand is derived: for its reconcile, and for cycles that run before it. */
    @Override
    public Workload demandOf(ModelDeployment md) {
        String organization = organizationOf(md.getMetadata().getNamespace()).orElse(null);
        boolean organizationExists = organization != null && organization(organization).isPresent();
        return ServingDecision.demand(md, organization, organizationExists,
                ModelDeploymentValidator.validate(md.getMetadata().getName(), md.getSpec()));
    }

    @Override
    public Map<String, Integer> memberNamespaces() {
        Map<String, Integer> out = new HashMap<>();
        namespaces.list().forEach(ns -> {
            String org = ns.getMetadata().getLabels() == null ? null
                    : ns.getMetadata().getLabels().get(ApiGroup.ORGANIZATION_LABEL);
            if (org != null && !org.isBlank()) {
                out.merge(org, 1, Integer::sum);
            }
        });
        return out;
    }

    /**
     * Pods of serving work that have not terminated, per ModelDeployment and node: those of the pool's own cluster
     * from the pod cache, those of contributed clusters as their agents report them in ServingWork status.
     */
    @Override
    public Map<WorkloadId, Map<NodeKey, Integer>> livePods() {
        Map<WorkloadId, Map<NodeKey, Integer>> out = reportedByAgents(n -> n.pods);
        pods.list().forEach(pod -> {
            String phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
            if ("Succeeded".equals(phase) || "Failed".equals(phase)) {
                return;
            }
            var meta = pod.getMetadata();
            String md = meta.getLabels() == null ? null : meta.getLabels().get(ApiGroup.MODEL_DEPLOYMENT_LABEL);
            String node = meta.getAnnotations() == null ? null : meta.getAnnotations().get(ServingRenderer.NODE_ANNOTATION);
            if (md != null && node != null) {
                out.computeIfAbsent(new WorkloadId(meta.getNamespace(), md), k -> new HashMap<>())
                        .merge(new NodeKey(LOCAL_CLUSTER, node), 1, Integer::sum);
            }
        });
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
     * they start (a namespace listed asks for a rebalance), before JOSDK starts reconciling.
     */
    @Override
    public boolean synced() {
        return Stream.<Object>of(namespaces, gpuNodes, gpuClasses, organizations, pools, pods, clusters, works,
                modelDeployments).allMatch(InformerPoolView::synced);
    }

    private static boolean synced(Object cache) {
        if (!(cache instanceof InformerWrappingEventSourceHealthIndicator<?> source)) {
            return true; // not informer-backed: nothing to wait for
        }
        var informers = source.informerHealthIndicators();
        return !informers.isEmpty() && informers.values().stream().allMatch(InformerHealthIndicator::hasSynced);
    }

    /** The organization a namespace belongs to ({@link PoolInputs#organizationOf}); empty when it has none. */
    Optional<String> organizationOf(String namespace) {
        return namespaces.get(new io.javaoperatorsdk.operator.processing.event.ResourceID(namespace))
                .flatMap(PoolInputs::organizationOf);
    }

    Optional<Organization> organization(String name) {
        return organizations.get(new io.javaoperatorsdk.operator.processing.event.ResourceID(name));
    }
}
