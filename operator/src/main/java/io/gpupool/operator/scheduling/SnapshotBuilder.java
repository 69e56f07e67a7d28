package io.gpupool.operator.scheduling;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import io.gpupool.api.v1alpha1.GpuPool;
import io.gpupool.core.inventory.PoolInputs;
import io.gpupool.core.model.GpuClassDef;
import io.gpupool.core.model.NodeKey;
import io.gpupool.core.model.OrgQuota;
import io.gpupool.core.model.PoolNode;
import io.gpupool.core.model.PoolPolicy;
import io.gpupool.core.model.PoolSnapshot;
import io.gpupool.core.model.Workload;

/**
 * Builds what one admission cycle sees from the pool's objects: the GpuClasses, the believed GpuNodes with their
 * liveness ({@link NodeLiveness}), the Organizations' quotas and the pool's policy; the ledger's workloads are added
 * last. Today everything is converted again from the informer caches at every cycle: this is the seam where
 * incremental inputs plug in (keep the converted classes, nodes and quotas between cycles and update them from the
 * events that change them).
 */
final class SnapshotBuilder {

    private final NodeLiveness liveness;

    SnapshotBuilder(NodeLiveness liveness) {
        this.liveness = liveness;
    }

    /**
     * The pool's side of a snapshot.
     *
     * @param nodes the GpuNodes as this cycle sees them (states, gone, withdrawing, next expiry)
     */
    record CycleInputs(List<GpuClassDef> classes, NodeLiveness.Assessment nodes, List<OrgQuota> quotas,
            PoolPolicy policy) {

        /** The class of every node (null when none matches): draining replicas are counted in it. */
        Map<NodeKey, String> nodeClasses() {
            Map<NodeKey, String> out = new HashMap<>();
            for (PoolNode n : nodes.nodes()) {
                out.put(n.key(), n.gpuClass());
            }
            return out;
        }

        PoolSnapshot with(List<Workload> workloads) {
            return new PoolSnapshot(classes, nodes.nodes(), quotas, workloads, policy);
        }
    }

    CycleInputs inputs(PoolView view) {
        GpuPool pool = view.pool().orElse(null);
        List<GpuClassDef> classes = PoolInputs.classes(view.gpuClasses());
        NodeLiveness.Assessment nodes = liveness.assess(view.gpuNodes(), view.contributedClusters(), classes,
                PoolInputs.heartbeatTimeout(pool == null ? null : pool.getSpec()), pool == null ? null : pool.getSpec());
        return new CycleInputs(classes, nodes, view.organizations().stream().map(PoolInputs::quota).toList(),
                PoolInputs.policy(pool == null ? null : pool.getSpec()));
    }
}
