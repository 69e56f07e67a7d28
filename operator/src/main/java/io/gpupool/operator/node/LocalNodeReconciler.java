package io.gpupool.operator.node;

import io.fabric8.kubernetes.api.model.Node;
import io.gpupool.core.inventory.NodeTrust;
import io.gpupool.operator.Role;
import io.quarkus.arc.lookup.LookupIfProperty;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.gpupool.operator.cache.SlimNodes;
import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.api.reconciler.Workflow;
import io.javaoperatorsdk.operator.api.reconciler.dependent.Dependent;

/**
 * Contributes the GPU nodes of the pool's own cluster: every Node labelled {@code gpupool.io/organization} that has
 * GPUs gets a GpuNode in the hub namespace of the cluster {@code local}. (Contributed remote clusters do the same
 * through their agent.)
 */
@Workflow(dependents = @Dependent(type = GpuNodeDependent.class, reconcilePrecondition = ContributesGpus.class))
@LookupIfProperty(name = Role.PROPERTY, stringValue = Role.OPERATOR, lookupIfMissing = true)
// No label selector: removing the organization label from a Node must reach the reconciler as an update (so that the
// precondition turns false and the GpuNode is withdrawn), not vanish from the informer as a delete.
@ControllerConfiguration(name = LocalNodeReconciler.NAME, generationAwareEventProcessing = false,
        informer = @Informer(itemStore = SlimNodes.class))
public class LocalNodeReconciler implements Reconciler<Node> {

    public static final String NAME = "localnode";
    public static final String LOCAL_CLUSTER = NodeTrust.LOCAL_CLUSTER;

    public static String hubNamespace(String cluster) {
        return HubNamespaces.name(cluster);
    }

    @Override
    public UpdateControl<Node> reconcile(Node node, Context<Node> context) {
        // All the work is the GpuNode dependent's; it runs before this method.
        return UpdateControl.noUpdate();
    }
}
