package io.gpupool.operator.cache;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeStatus;

/**
 * The cache of the pool's own Nodes, keeping what GPU discovery reads ({@code core/discovery/GpuNodes}): metadata
 * without managed fields (the organization and GFD labels), the spec (cordoned) and, of the status, the allocatable
 * and capacity resources and the conditions (Ready). A real Node's status also lists every container image on it,
 * its volumes, addresses and system facts, often several times what is kept, and the kubelet rewrites it; none of
 * it is read.
 */
public class SlimNodes extends SlimItemStore<Node> {

    public SlimNodes() {
        super(SlimNodes::slim);
    }

    static Node slim(Node node) {
        WithoutManagedFields.strip(node);
        NodeStatus status = node.getStatus();
        if (status != null) {
            NodeStatus kept = new NodeStatus();
            kept.setAllocatable(status.getAllocatable());
            kept.setCapacity(status.getCapacity());
            kept.setConditions(status.getConditions());
            node.setStatus(kept);
        }
        return node;
    }
}
