package io.gpupool.operator.node;

import io.fabric8.kubernetes.api.model.Node;
import io.gpupool.api.v1alpha1.GpuNode;
import io.gpupool.core.discovery.NodeGpuDiscovery;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.dependent.DependentResource;
import io.javaoperatorsdk.operator.processing.dependent.workflow.Condition;

/** A Node contributes when it names an organization and has GPUs; otherwise its GpuNode is removed. */
public class ContributesGpus implements Condition<GpuNode, Node> {

    @Override
    public boolean isMet(DependentResource<GpuNode, Node> dependentResource, Node node, Context<Node> context) {
        return NodeGpuDiscovery.organization(node).isPresent() && NodeGpuDiscovery.gpus(node).isPresent();
    }
}
