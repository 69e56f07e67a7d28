package io.gpupool.operator.cluster;

import java.util.Optional;

import io.fabric8.kubernetes.api.model.Secret;
import io.gpupool.api.v1alpha1.ContributedCluster;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.dependent.DependentResource;
import io.javaoperatorsdk.operator.processing.dependent.workflow.Condition;

/**
 * Kubernetes has issued the agent's token: the token Secret carries data.token. Until then there is nothing to write
 * into a kubeconfig.
 */
public class TokenIssued implements Condition<Secret, ContributedCluster> {

    @Override
    public boolean isMet(DependentResource<Secret, ContributedCluster> kubeconfig, ContributedCluster cc,
            Context<ContributedCluster> context) {
        return issuedToken(context).isPresent();
    }

    /** The token Secret, once it holds a token. */
    static Optional<Secret> issuedToken(Context<ContributedCluster> context) {
        return context.getSecondaryResource(Secret.class, ContributedClusterReconciler.TOKEN)
                .filter(s -> s.getData() != null && s.getData().get("token") != null
                        && !s.getData().get("token").isBlank());
    }
}
