package io.gpupool.operator.cluster;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.gpupool.api.v1alpha1.ContributedCluster;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.processing.dependent.Creator;

/**
 * The agent's service-account-token Secret. Created only, never updated: Kubernetes' token controller fills its data
 * (token, ca.crt) and annotations after creation, and an update to what is desired here would erase them. When the
 * ServiceAccount is re-created, the token controller deletes the old token, and this dependent creates a new one.
 */
public class AgentTokenDependent extends HubChildDependent<Secret> implements Creator<Secret, ContributedCluster> {

    static final String SERVICE_ACCOUNT_ANNOTATION = "kubernetes.io/service-account.name";

    public AgentTokenDependent() {
        super(Secret.class, ContributedClusterReconciler.TOKEN_SECRET);
    }

    @Override
    protected Secret desired(ContributedCluster cc, Context<ContributedCluster> context) {
        return new SecretBuilder().withNewMetadata().withName(ContributedClusterReconciler.TOKEN_SECRET)
                .withNamespace(hubNamespace(cc)).withLabels(labels(cc))
                .addToAnnotations(SERVICE_ACCOUNT_ANNOTATION, ContributedClusterReconciler.AGENT).endMetadata()
                .withType("kubernetes.io/service-account-token").build();
    }
}
