package io.gpupool.operator.modeldeployment;

import java.util.List;

import io.gpupool.api.v1alpha1.ModelDeployment;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceUtils;
import io.javaoperatorsdk.operator.processing.dependent.workflow.Workflow;
import io.javaoperatorsdk.operator.processing.dependent.workflow.WorkflowBuilder;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;

/**
 * A ModelDeployment's children in the pool's own cluster: the model-cache claims, the serving Deployments, the Service
 * and the namespace's NetworkPolicy, one dependent each, in one workflow the reconciler invokes after the admission
 * (what they render depends on it).
 *
 * <p>Standalone dependents, configured in their constructors, not a managed {@code @Workflow}: JOSDK refuses managed
 * workflows in a controller whose reconciler sees every event ({@code triggerReconcilerOnAllEvents}), which this one
 * does so that it can put its finalizer only on ModelDeployments that write outside their namespace
 * ({@link ModelDeploymentFinalizer}) instead of leaving JOSDK to put it on every one (a write, a watch event and a
 * reconcile per ModelDeployment).
 */
final class ServingChildren {

    private final Workflow<ModelDeployment> workflow = new WorkflowBuilder<ModelDeployment>()
            .addDependentResource(new ModelCacheClaimsDependent())
            .addDependentResource(new ServingDeploymentsDependent())
            .addDependentResource(new ServingServiceDependent())
            .addDependentResource(new ServingNetworkPolicyDependent())
            .build();

    /** The dependents' informers, registered with the controller's other event sources. */
    List<EventSource<?, ModelDeployment>> eventSources(EventSourceContext<ModelDeployment> context) {
        return EventSourceUtils.eventSourcesFromWorkflow(context, workflow);
    }

    /** Creates or updates every child the context's workflow values name; throws when one of them fails. */
    void reconcile(ModelDeployment md, Context<ModelDeployment> context) {
        workflow.reconcile(md, context);
    }
}
