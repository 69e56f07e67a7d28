package io.gpupool.operator.node;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.gpupool.api.v1alpha1.ApiGroup;
import io.gpupool.api.v1alpha1.GpuNode;
import io.gpupool.core.discovery.GpuNodes;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.CRUDKubernetesDependentResource;

/** The GpuNode of a Node of the pool's own cluster, owned by the Node so that it goes when the Node goes. */
public class GpuNodeDependent extends CRUDKubernetesDependentResource<GpuNode, Node> {

    public GpuNodeDependent() {
        super(GpuNode.class);
    }

    /** Which GpuNode belongs to a Node, without rendering it: also asked when the Node stopped contributing. */
    @Override
    protected ResourceID targetSecondaryResourceID(Node node, Context<Node> context) {
        return new ResourceID(node.getMetadata().getName(),
                LocalNodeReconciler.hubNamespace(LocalNodeReconciler.LOCAL_CLUSTER));
    }

    @Override
    protected GpuNode desired(Node node, Context<Node> context) {
        HubNamespaces.ensure(context.getClient(), LocalNodeReconciler.LOCAL_CLUSTER);
        GpuNode desired = new GpuNode();
        desired.setMetadata(new ObjectMetaBuilder()
                .withName(node.getMetadata().getName())
                .withNamespace(LocalNodeReconciler.hubNamespace(LocalNodeReconciler.LOCAL_CLUSTER))
                .addToLabels(ApiGroup.MANAGED_BY_LABEL, ApiGroup.MANAGED_BY)
                .addToLabels(ApiGroup.CLUSTER_LABEL, LocalNodeReconciler.LOCAL_CLUSTER)
                .build());
        desired.setSpec(GpuNodes.specOf(node, LocalNodeReconciler.LOCAL_CLUSTER).orElseThrow());
        return desired;
    }
}
