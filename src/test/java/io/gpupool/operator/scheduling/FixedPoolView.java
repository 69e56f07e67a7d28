package io.gpupool.operator.scheduling;

import static io.gpupool.testing.PoolFixtures.gpuClass;
import static io.gpupool.testing.PoolFixtures.node;
import static io.gpupool.testing.PoolFixtures.organization;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.gpupool.api.v1alpha1.GpuClass;
import io.gpupool.api.v1alpha1.GpuNode;
import io.gpupool.api.v1alpha1.GpuPool;
import io.gpupool.api.v1alpha1.ModelDeployment;
import io.gpupool.api.v1alpha1.Organization;
import io.gpupool.core.discovery.GpuNodes;
import io.gpupool.core.inventory.Workloads;
import io.gpupool.core.model.NodeKey;
import io.gpupool.core.model.Workload;
import io.gpupool.core.model.WorkloadId;

/**
 * A pool of 8-GPU H100 nodes of the pool's own cluster ({@code dgx-0}, {@code dgx-1}, ...), all contributed by the
 * organization {@code lab}, whose ModelDeployments (in any namespace) belong to {@code lab}. Tests put ModelDeployments
 * into its cache and pods onto its nodes.
 */
final class FixedPoolView implements PoolView {

    final List<ModelDeployment> modelDeployments = new CopyOnWriteArrayList<>();
    final Map<WorkloadId, Map<NodeKey, Integer>> livePods = new ConcurrentHashMap<>();
    /** Whether the caches have synced (an operator starting has them filling). */
    volatile boolean synced = true;
    private final List<GpuNode> nodes = new ArrayList<>();
    private final List<GpuClass> classes = List.of(gpuClass("h100-80g", 80000, "NVIDIA-H100-*"));
    /** The one organization, {@code lab}: no nominal quota unless a test gives it one. */
    final Organization lab = organization("lab");
    private final List<Organization> orgs = List.of(lab);

    FixedPoolView(int nodeCount) {
        for (int n = 0; n < nodeCount; n++) {
            Node node = node("dgx-h100-01", "lab");
            node.getMetadata().setName("dgx-" + n);
            GpuNode g = new GpuNode();
            g.setMetadata(new ObjectMetaBuilder().withNamespace("gpupool-cluster-local").withName("dgx-" + n).build());
            g.setSpec(GpuNodes.specOf(node, "local").orElseThrow());
            nodes.add(g);
        }
    }

    @Override
    public List<GpuClass> gpuClasses() {
        return classes;
    }

    @Override
    public List<GpuNode> gpuNodes() {
        return nodes;
    }

    @Override
    public List<Organization> organizations() {
        return orgs;
    }

    @Override
    public Optional<GpuPool> pool() {
        return Optional.empty();
    }

    @Override
    public Map<String, String> contributedClusters() {
        return Map.of();
    }

    @Override
    public List<ModelDeployment> modelDeployments() {
        return List.copyOf(modelDeployments);
    }

    @Override
    public Workload demandOf(ModelDeployment md) {
        return Workloads.demand(md, "lab", List.of(), List.of());
    }

    @Override
    public Map<WorkloadId, Map<NodeKey, Integer>> livePods() {
        return Map.copyOf(livePods);
    }

    @Override
    public boolean synced() {
        return synced;
    }
}
