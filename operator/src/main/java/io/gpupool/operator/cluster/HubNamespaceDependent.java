package io.gpupool.operator.cluster;

import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.gpupool.api.v1alpha1.ContributedCluster;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.processing.dependent.Creator;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.BooleanWithUndefined;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependent;

/**
 * The hub namespace gpupool-cluster-&lt;cluster&gt;, owned by the ContributedCluster: deleting the approval revokes the
 * cluster (namespace and all in it).
 *
 * <p>Re-created when deleted, never updated: updating would need {@code patch} on every Namespace of the pool's
 * cluster, and Namespace labels decide which organization a namespace belongs to. For the same reason it is created
 * with a plain create, not a server-side apply (which is a patch). Its informer has no label selector, so a namespace
 * whose labels were edited is still seen as existing rather than created again into a conflict.
 */
@KubernetesDependent(useSSA = BooleanWithUndefined.FALSE)
public class HubNamespaceDependent extends HubChildDependent<Namespace> implements Creator<Namespace, ContributedCluster> {

    public HubNamespaceDependent() {
        super(Namespace.class, null);
    }

    @Override
    protected Namespace desired(ContributedCluster cc, Context<ContributedCluster> context) {
        return new NamespaceBuilder().withNewMetadata().withName(hubNamespace(cc)).withLabels(labels(cc)).endMetadata()
                .build();
    }
}
