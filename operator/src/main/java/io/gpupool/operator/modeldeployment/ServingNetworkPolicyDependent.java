package io.gpupool.operator.modeldeployment;

import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;

import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.gpupool.api.v1alpha1.ApiGroup;
import io.gpupool.api.v1alpha1.ModelDeployment;
import io.gpupool.core.render.ServingAccess;
import io.gpupool.operator.cache.WithoutManagedFields;
import io.javaoperatorsdk.operator.api.config.informer.InformerConfiguration;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.processing.dependent.Creator;
import io.javaoperatorsdk.operator.processing.dependent.Matcher.Result;
import io.javaoperatorsdk.operator.processing.dependent.Updater;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependentResource;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependentResourceConfig;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependentResourceConfigBuilder;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.PrimaryToSecondaryMapper;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;

/**
 * The NetworkPolicy of a namespace's serving pods ({@link ServingAccess}): only the pool's gateway (and, where the pool
 * allows it, the namespace's own pods) may connect to them. One per namespace, shared by all of its ModelDeployments:
 * its content depends on the pool, not on any one of them, so it costs one write per namespace instead of one per
 * ModelDeployment.
 *
 * <ul>
 * <li><b>Owner</b>: none (like the model-cache claims): no owner reference to one ModelDeployment, whose deletion would
 * take the policy of its neighbours' pods away. It is looked up by name in the informer's cache.</li>
 * <li><b>Written</b> by every reconcile of a ModelDeployment of the namespace whose policy is missing or differs from
 * what the pool says now: created with server-side apply without the create-only precondition (two ModelDeployments
 * of a new namespace reconciled at once both apply the same object, idempotent, where a create would fail the
 * second); compared by its spec and labels, so an edit made by hand (an extra ingress rule) is undone.</li>
 * <li><b>Woken</b>: a policy edited or deleted by someone else wakes one ModelDeployment of its namespace, which writes
 * it again; a change of the GpuPool's spec wakes every ModelDeployment ({@link ModelDeploymentReconciler}).</li>
 * <li><b>Deleted</b>: never by the operator. It stays with its namespace after the last ModelDeployment there is gone,
 * harmless: it selects only pods of the operator's serving Deployments, which exist only for ModelDeployments, and the
 * next ModelDeployment of the namespace brings it up to date; deleting the namespace deletes it.</li>
 * </ul>
 */
public class ServingNetworkPolicyDependent extends KubernetesDependentResource<NetworkPolicy, ModelDeployment>
        implements Creator<NetworkPolicy, ModelDeployment>, Updater<NetworkPolicy, ModelDeployment> {

    static final String SELECTOR = ApiGroup.MANAGED_BY_LABEL + "=" + ApiGroup.MANAGED_BY + ","
            + ServingAccess.GATEWAY_COMPONENT_LABEL + "=" + ServingAccess.COMPONENT;

    public ServingNetworkPolicyDependent() {
        super(NetworkPolicy.class);
        configureWith(new KubernetesDependentResourceConfigBuilder<NetworkPolicy>()
                .withCreateResourceOnlyIfNotExistingWithSSA(false)
                .withKubernetesDependentInformerConfig(InformerConfiguration.builder(NetworkPolicy.class)
                        .withLabelSelector(SELECTOR).withItemStore(new WithoutManagedFields<>()).build())
                .build());
    }

    @Override
    protected NetworkPolicy desired(ModelDeployment md, Context<ModelDeployment> context) {
        return context.managedWorkflowAndDependentResourceContext()
                .getMandatory(ModelDeploymentReconciler.ACCESS, ServingAccess.class)
                .networkPolicy(md.getMetadata().getNamespace());
    }

    /** The namespace's policy, by name (it has no owner to index it by). */
    @Override
    public Optional<NetworkPolicy> getSecondaryResource(ModelDeployment md, Context<ModelDeployment> context) {
        return eventSource().orElseThrow()
                .get(new ResourceID(ServingAccess.POLICY_NAME, md.getMetadata().getNamespace()));
    }

    /** The spec and labels as rendered: nothing else (the API server's defaults add none to a NetworkPolicy's). */
    @Override
    public Result<NetworkPolicy> match(NetworkPolicy actual, NetworkPolicy desired, ModelDeployment md,
            Context<ModelDeployment> context) {
        return Result.computed(Objects.equals(actual.getSpec(), desired.getSpec())
                && Objects.equals(actual.getMetadata().getLabels(), desired.getMetadata().getLabels()), desired);
    }

    /** No owner reference and no annotation naming one ModelDeployment: the policy belongs to its namespace's. */
    @Override
    protected void addReferenceHandlingMetadata(NetworkPolicy policy, ModelDeployment md) {
    }

    /**
     * A policy created by the operator wakes no one; one edited or deleted by someone else wakes one ModelDeployment of
     * its namespace (not being deleted), which writes it again.
     */
    @Override
    protected InformerEventSource<NetworkPolicy, ModelDeployment> createEventSource(
            EventSourceContext<ModelDeployment> context) {
        var primaries = context.getPrimaryCache();
        InformerEventSourceConfiguration.Builder<NetworkPolicy> config = informerConfigurationBuilder(context)
                .withName(name());
        configuration().map(KubernetesDependentResourceConfig::informerConfig).ifPresent(config::updateFrom);
        config.withOnAddFilter(policy -> false)
                .withSecondaryToPrimaryMapper(policy -> oneOf(primaries.list(policy.getMetadata().getNamespace()))
                        .map(Set::of).orElse(Set.of()))
                .withPrimaryToSecondaryMapper((PrimaryToSecondaryMapper<ModelDeployment>) md -> Set.of());
        InformerEventSource<NetworkPolicy, ModelDeployment> source = new InformerEventSource<>(config.build(), context);
        setEventSource(source);
        return source;
    }

    /** A ModelDeployment of these (one namespace's) that is not being deleted: its reconcile writes their policy. */
    static Optional<ResourceID> oneOf(Stream<ModelDeployment> namespace) {
        return namespace.filter(md -> md.getMetadata().getDeletionTimestamp() == null).findFirst()
                .map(ResourceID::fromResource);
    }
}
