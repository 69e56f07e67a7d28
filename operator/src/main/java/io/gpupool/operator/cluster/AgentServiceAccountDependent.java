package io.gpupool.operator.cluster;

import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.gpupool.api.v1alpha1.ContributedCluster;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.processing.dependent.Creator;
import io.javaoperatorsdk.operator.processing.dependent.Updater;

/** The agent's ServiceAccount in the hub namespace. */
public class AgentServiceAccountDependent extends HubChildDependent<ServiceAccount>
        implements Creator<ServiceAccount, ContributedCluster>, Updater<ServiceAccount, ContributedCluster> {

    public AgentServiceAccountDependent() {
        super(ServiceAccount.class, ContributedClusterReconciler.AGENT);
    }

    @Override
    protected ServiceAccount desired(ContributedCluster cc, Context<ContributedCluster> context) {
        return new ServiceAccountBuilder().withNewMetadata().withName(ContributedClusterReconciler.AGENT)
                .withNamespace(hubNamespace(cc)).withLabels(labels(cc)).endMetadata().build();
    }
}
