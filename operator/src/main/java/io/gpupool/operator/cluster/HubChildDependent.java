package io.gpupool.operator.cluster;

import java.util.Map;
import java.util.Set;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.gpupool.api.v1alpha1.ApiGroup;
import io.gpupool.api.v1alpha1.ContributedCluster;
import io.gpupool.core.inventory.NodeTrust;
import io.javaoperatorsdk.operator.api.config.informer.FieldSelector;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.dependent.GarbageCollected;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependentResource;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependentResourceConfig;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.PrimaryToSecondaryMapper;
import io.javaoperatorsdk.operator.processing.event.source.SecondaryToPrimaryMapper;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;

/**
 * A child of a ContributedCluster: its hub namespace gpupool-cluster-&lt;cluster&gt;, or one object of fixed name in it.
 * Owned by the (cluster-scoped) ContributedCluster, which a namespaced object may have as owner.
 *
 * <p>Mapped by name both ways instead of by owner reference: an object belongs to the ContributedCluster its hub
 * namespace names, and a ContributedCluster's object is the one of that name in that namespace. So an object that
 * lost its owner reference, or that an older operator made without one, is still found rather than created a second
 * time into a conflict (it takes the owner reference with its next update); and editing its labels cannot hide it
 * from its informer.
 */
abstract class HubChildDependent<R extends HasMetadata> extends KubernetesDependentResource<R, ContributedCluster>
        implements SecondaryToPrimaryMapper<R>, GarbageCollected<ContributedCluster> {

    /** Name of the object in the hub namespace; null for the hub namespace itself. */
    private final String objectName;

    HubChildDependent(Class<R> type, String objectName) {
        super(type);
        this.objectName = objectName;
    }

    static String hubNamespace(ContributedCluster cc) {
        return NodeTrust.hubNamespace(cc.getMetadata().getName());
    }

    /** The labels of every child: managed by gpupool, for this cluster. */
    static Map<String, String> labels(ContributedCluster cc) {
        return Map.of(ApiGroup.MANAGED_BY_LABEL, ApiGroup.MANAGED_BY, ApiGroup.CLUSTER_LABEL,
                cc.getMetadata().getName());
    }

    /** Whether an object carries an owner reference to this very ContributedCluster (its uid, not only its name). */
    static boolean ownedBy(HasMetadata object, ContributedCluster cc) {
        var owners = object.getMetadata().getOwnerReferences();
        return owners != null && owners.stream().anyMatch(o -> "ContributedCluster".equals(o.getKind())
                && cc.getMetadata().getUid() != null && cc.getMetadata().getUid().equals(o.getUid()));
    }

    private ResourceID idFor(ContributedCluster cc) {
        return objectName == null ? new ResourceID(hubNamespace(cc)) : new ResourceID(objectName, hubNamespace(cc));
    }

    @Override
    public Set<ResourceID> toPrimaryResourceIDs(R object) {
        String namespace = object instanceof Namespace ? object.getMetadata().getName()
                : object.getMetadata().getNamespace();
        if (namespace == null || !namespace.startsWith(NodeTrust.HUB_NAMESPACE_PREFIX)
                || (objectName != null && !objectName.equals(object.getMetadata().getName()))) {
            return Set.of();
        }
        return Set.of(new ResourceID(namespace.substring(NodeTrust.HUB_NAMESPACE_PREFIX.length())));
    }

    /**
     * The informer of this kind of child. An object of fixed name is watched by that name alone (a metadata.name field
     * selector), which is all the operator's RBAC lets it list: no other Secret, ServiceAccount, Role or RoleBinding
     * of the pool's cluster. (Set here rather than with {@code @Informer(fieldSelector)}, which quarkus-operator-sdk
     * 7.4 cannot record at build time.)
     */
    @Override
    protected InformerEventSource<R, ContributedCluster> createEventSource(
            EventSourceContext<ContributedCluster> context) {
        InformerEventSourceConfiguration.Builder<R> config = informerConfigurationBuilder(context)
                .withSecondaryToPrimaryMapper(this)
                .withPrimaryToSecondaryMapper((PrimaryToSecondaryMapper<ContributedCluster>) cc -> Set.of(idFor(cc)))
                .withName(name());
        configuration().map(KubernetesDependentResourceConfig::informerConfig).ifPresent(config::updateFrom);
        if (objectName != null) {
            config.withFieldSelector(new FieldSelector(new FieldSelector.Field("metadata.name", objectName)));
        }
        InformerEventSource<R, ContributedCluster> informer = new InformerEventSource<>(config.build(), context);
        setEventSource(informer);
        return informer;
    }

    /** Which object is this dependent's, without rendering it (the kubeconfig cannot be rendered before the token). */
    @Override
    protected ResourceID targetSecondaryResourceID(ContributedCluster cc, Context<ContributedCluster> context) {
        return idFor(cc);
    }
}
