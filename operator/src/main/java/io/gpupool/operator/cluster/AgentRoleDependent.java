package io.gpupool.operator.cluster;

import java.util.Objects;

import io.fabric8.kubernetes.api.model.rbac.Role;
import io.gpupool.api.v1alpha1.ContributedCluster;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.processing.dependent.Creator;
import io.javaoperatorsdk.operator.processing.dependent.Matcher;
import io.javaoperatorsdk.operator.processing.dependent.Updater;

/** The agent's Role: {@link ContributedClusterReconciler#agentRole}, in the hub namespace. */
public class AgentRoleDependent extends HubChildDependent<Role>
        implements Creator<Role, ContributedCluster>, Updater<Role, ContributedCluster> {

    public AgentRoleDependent() {
        super(Role.class, ContributedClusterReconciler.AGENT);
    }

    /**
     * Also unequal when rules were added: the generic matcher used without server-side apply ignores additions, and
     * a rule added here is a permission granted to a contributor. (With server-side apply an edit by anyone else takes
     * the atomic rules list from this manager, which its matcher already sees.)
     */
    @Override
    public Matcher.Result<Role> match(Role actual, Role desired, ContributedCluster cc,
            Context<ContributedCluster> context) {
        Matcher.Result<Role> result = super.match(actual, desired, cc, context);
        return result.matched() && !Objects.equals(actual.getRules(), desired.getRules())
                ? Matcher.Result.computed(false, desired)
                : result;
    }

    @Override
    protected Role desired(ContributedCluster cc, Context<ContributedCluster> context) {
        Role role = ContributedClusterReconciler.agentRole(hubNamespace(cc));
        role.getMetadata().getLabels().putAll(labels(cc));
        return role;
    }
}
