package io.gpupool.operator.cluster;

import java.util.Objects;

import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder;
import io.gpupool.api.v1alpha1.ContributedCluster;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.processing.dependent.Creator;
import io.javaoperatorsdk.operator.processing.dependent.Matcher;
import io.javaoperatorsdk.operator.processing.dependent.Updater;

/** Binds the agent's Role to the agent's ServiceAccount, both in the hub namespace. */
public class AgentRoleBindingDependent extends HubChildDependent<RoleBinding>
        implements Creator<RoleBinding, ContributedCluster>, Updater<RoleBinding, ContributedCluster> {

    public AgentRoleBindingDependent() {
        super(RoleBinding.class, ContributedClusterReconciler.AGENT);
    }

    /** Also unequal when subjects were added: each would be granted the agent's Role (see {@link AgentRoleDependent}). */
    @Override
    public Matcher.Result<RoleBinding> match(RoleBinding actual, RoleBinding desired, ContributedCluster cc,
            Context<ContributedCluster> context) {
        Matcher.Result<RoleBinding> result = super.match(actual, desired, cc, context);
        return result.matched() && !Objects.equals(actual.getSubjects(), desired.getSubjects())
                ? Matcher.Result.computed(false, desired)
                : result;
    }

    @Override
    protected RoleBinding desired(ContributedCluster cc, Context<ContributedCluster> context) {
        String ns = hubNamespace(cc);
        return new RoleBindingBuilder().withNewMetadata().withName(ContributedClusterReconciler.AGENT).withNamespace(ns)
                .withLabels(labels(cc)).endMetadata()
                .withNewRoleRef().withApiGroup("rbac.authorization.k8s.io").withKind("Role")
                .withName(ContributedClusterReconciler.AGENT).endRoleRef()
                .addNewSubject().withKind("ServiceAccount").withName(ContributedClusterReconciler.AGENT).withNamespace(ns)
                .endSubject()
                .build();
    }
}
