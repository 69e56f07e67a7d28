package io.gpupool.agent;

import jakarta.inject.Inject;

import io.fabric8.kubernetes.api.model.Node;
import io.gpupool.operator.Role;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.gpupool.operator.cache.WithoutManagedFields;
import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.quarkus.arc.lookup.LookupIfProperty;

/**
 * The agent role's controller in its own cluster: any change of a Node asks the agent for a sync (which compares every
 * contributed Node with the pool's GpuNodes). Being a JOSDK controller gives the agent the operator's health checks and
 * leader election; the operator's controllers are not registered in this role.
 */
@LookupIfProperty(name = Role.PROPERTY, stringValue = Role.AGENT)
@ControllerConfiguration(name = AgentNodeReconciler.NAME, generationAwareEventProcessing = false,
        informer = @Informer(itemStore = WithoutManagedFields.class))
public class AgentNodeReconciler implements Reconciler<Node> {

    public static final String NAME = "agent-nodes";

    private final AgentLauncher launcher;

    @Inject
    public AgentNodeReconciler(AgentLauncher launcher) {
        this.launcher = launcher;
    }

    @Override
    public UpdateControl<Node> reconcile(Node node, Context<Node> context) {
        launcher.agent().ifPresent(ContributorAgent::requestSync);
        return UpdateControl.noUpdate();
    }
}
