package io.gpupool.operator.cluster;

import java.time.Clock;
import java.util.Objects;

import jakarta.inject.Inject;

import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.rbac.PolicyRuleBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBuilder;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.gpupool.api.v1alpha1.ApiGroup;
import io.gpupool.api.v1alpha1.ContributedCluster;
import io.gpupool.api.v1alpha1.ContributedClusterStatus;
import io.gpupool.core.inventory.NodeTrust;
import io.gpupool.core.render.RemoteWorkRenderer;
import io.gpupool.core.status.Conditions;
import io.gpupool.operator.Role;
import io.gpupool.operator.modeldeployment.ModelDeploymentReconciler;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.PrimaryUpdateAndCacheUtils;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.api.reconciler.Workflow;
import io.javaoperatorsdk.operator.api.reconciler.dependent.Dependent;
import io.quarkus.arc.lookup.LookupIfProperty;

/**
 * Turns a pool admin's approval of a cluster (a ContributedCluster) into least-privilege credentials for that
 * cluster's agent: the hub namespace gpupool-cluster-&lt;name&gt; (owned by the ContributedCluster, so deleting the
 * approval revokes everything), a ServiceAccount, a Role that reaches only that namespace (its GpuNodes with their
 * status, its ServingWork, the status of its ServingWork, one Secret of model credentials) bound to it, a token for
 * it, and a kubeconfig Secret the admin hands to the contributor. Each is a dependent with its own informer, so a
 * child that is deleted or edited is put back without the ContributedCluster changing. Nothing is read or written by
 * name pattern: the operator's own RBAC names exactly these objects.
 *
 * <p>The workflow is invoked explicitly because an approval whose name cannot name a namespace gets a condition and
 * no children.
 */
@Workflow(explicitInvocation = true, dependents = {
        @Dependent(name = ContributedClusterReconciler.NAMESPACE, type = HubNamespaceDependent.class),
        @Dependent(name = ContributedClusterReconciler.SERVICE_ACCOUNT, type = AgentServiceAccountDependent.class,
                dependsOn = ContributedClusterReconciler.NAMESPACE),
        @Dependent(name = ContributedClusterReconciler.ROLE, type = AgentRoleDependent.class,
                dependsOn = ContributedClusterReconciler.NAMESPACE),
        @Dependent(name = ContributedClusterReconciler.ROLE_BINDING, type = AgentRoleBindingDependent.class,
                dependsOn = { ContributedClusterReconciler.SERVICE_ACCOUNT, ContributedClusterReconciler.ROLE }),
        // After the ServiceAccount: the token controller deletes tokens of ServiceAccounts that do not exist.
        @Dependent(name = ContributedClusterReconciler.TOKEN, type = AgentTokenDependent.class,
                dependsOn = ContributedClusterReconciler.SERVICE_ACCOUNT),
        @Dependent(name = ContributedClusterReconciler.KUBECONFIG, type = AgentKubeconfigDependent.class,
                dependsOn = ContributedClusterReconciler.TOKEN, reconcilePrecondition = TokenIssued.class) })
@LookupIfProperty(name = Role.PROPERTY, stringValue = Role.OPERATOR, lookupIfMissing = true)
@ControllerConfiguration(name = ContributedClusterReconciler.NAME)
public class ContributedClusterReconciler implements Reconciler<ContributedCluster> {

    public static final String NAME = "contributedcluster";
    public static final String AGENT = "gpupool-agent";
    public static final String TOKEN_SECRET = "gpupool-agent-token";
    public static final String KUBECONFIG_SECRET = "gpupool-agent-kubeconfig";
    public static final String KUBECONFIG_KEY = "kubeconfig";
    /**
     * The one Secret of the hub namespace the agent may read (get, list and watch by name): credentials of the models
     * it serves (e.g. Hugging Face tokens), written there by the operator.
     */
    public static final String MODEL_CREDENTIALS_SECRET = RemoteWorkRenderer.MODEL_CREDENTIALS_SECRET;

    // Dependent names (also the names of their informers).
    static final String NAMESPACE = "namespace";
    static final String SERVICE_ACCOUNT = "serviceaccount";
    static final String ROLE = "role";
    static final String ROLE_BINDING = "rolebinding";
    static final String TOKEN = "token";
    static final String KUBECONFIG = "kubeconfig";
    /** Workflow context key: the pool's API server URL written into kubeconfigs. */
    static final String HUB_SERVER = "hubServer";

    static final String INVALID_NAME = "InvalidName";
    static final String NAMESPACE_NOT_OURS = "NamespaceNotOurs";
    static final String WAITING_FOR_TOKEN = "WaitingForToken";
    static final String CREDENTIALS_ISSUED = "CredentialsIssued";

    private static final Logger LOG = Logger.getLogger(ContributedClusterReconciler.class);

    private final String hubServer;
    private final Clock clock;

    @Inject
    public ContributedClusterReconciler(
            @ConfigProperty(name = "gpupool.hub.server", defaultValue = "https://kubernetes.default.svc") String hubServer,
            Clock clock) {
        this.hubServer = hubServer;
        this.clock = clock;
    }

    /** What a contributed cluster's agent may do at the pool, in its own hub namespace only. */
    public static io.fabric8.kubernetes.api.model.rbac.Role agentRole(String namespace) {
        return new RoleBuilder().withNewMetadata().withName(AGENT).withNamespace(namespace)
                .addToLabels(ApiGroup.MANAGED_BY_LABEL, ApiGroup.MANAGED_BY).endMetadata()
                .withRules(
                        new PolicyRuleBuilder().withApiGroups(ApiGroup.GROUP).withResources("gpunodes")
                                .withVerbs("get", "list", "watch", "create", "update", "patch", "delete").build(),
                        new PolicyRuleBuilder().withApiGroups(ApiGroup.GROUP).withResources("gpunodes/status")
                                .withVerbs("get", "patch", "update").build(),
                        new PolicyRuleBuilder().withApiGroups(ApiGroup.GROUP).withResources("servingworks")
                                .withVerbs("get", "list", "watch").build(),
                        new PolicyRuleBuilder().withApiGroups(ApiGroup.GROUP).withResources("servingworks/status")
                                .withVerbs("get", "patch", "update").build(),
                        // One Secret by name (list and watch need a metadata.name field selector): no token, no
                        // kubeconfig, nothing else of the namespace.
                        new PolicyRuleBuilder().withApiGroups("").withResources("secrets")
                                .withResourceNames(MODEL_CREDENTIALS_SECRET).withVerbs("get", "list", "watch").build())
                .build();
    }

    @Override
    public UpdateControl<ContributedCluster> reconcile(ContributedCluster cc, Context<ContributedCluster> context) {
        String cluster = cc.getMetadata().getName();
        String ns = NodeTrust.hubNamespace(cluster);
        ContributedClusterStatus previous = cc.getStatus() == null ? new ContributedClusterStatus() : cc.getStatus();
        ContributedClusterStatus next = new ContributedClusterStatus();
        next.namespace = ns;
        next.observedGeneration = cc.getMetadata().getGeneration();

        if (!cluster.matches("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$") || ns.length() > 63) {
            next.conditions = Conditions.set(previous.conditions, Conditions.READY, false, INVALID_NAME,
                    "The name must be a DNS label of at most " + (63 - NodeTrust.HUB_NAMESPACE_PREFIX.length())
                            + " characters: it names the namespace " + ns + ".",
                    next.observedGeneration, clock);
            return patchStatus(cc, previous, next, context);
        }
        if (NodeTrust.LOCAL_CLUSTER.equals(cluster)) {
            // gpupool-cluster-local holds the GpuNodes of the pool's own cluster: an agent's Role there would let a
            // contributor rewrite them.
            next.conditions = Conditions.set(previous.conditions, Conditions.READY, false, INVALID_NAME,
                    "'" + NodeTrust.LOCAL_CLUSTER + "' is reserved for the pool's own cluster; approve the cluster "
                            + "under another name.", next.observedGeneration, clock);
            return patchStatus(cc, previous, next, context);
        }
        var foreign = context.getSecondaryResource(Namespace.class, NAMESPACE)
                .filter(existing -> !HubChildDependent.ownedBy(existing, cc));
        if (foreign.isPresent()) {
            // Someone else made the namespace first (and may hold roles in it that would read the agent's
            // credentials): nothing is created in it.
            next.conditions = Conditions.set(previous.conditions, Conditions.READY, false, NAMESPACE_NOT_OURS,
                    "Namespace " + ns + " exists but was not created by the operator for this ContributedCluster, "
                            + "so no credentials are issued into it. Delete the namespace (or approve the cluster "
                            + "under another name).", next.observedGeneration, clock);
            return patchStatus(cc, previous, next, context);
        }
        var workflow = context.managedWorkflowAndDependentResourceContext();
        workflow.put(HUB_SERVER, hubServer);
        workflow.reconcileManagedWorkflow();

        // Ready only once the kubeconfig exists: the token may have arrived while the workflow ran, after the kubeconfig's
        // precondition was checked (its event brings another reconcile, which writes it).
        if (TokenIssued.issuedToken(context).isEmpty()
                || context.getSecondaryResource(Secret.class, KUBECONFIG).isEmpty()) {
            // The token Secret's informer wakes this reconciler when Kubernetes fills it in.
            next.conditions = Conditions.set(previous.conditions, Conditions.READY, false, WAITING_FOR_TOKEN,
                    "Waiting for Kubernetes to issue the token of ServiceAccount " + ns + "/" + AGENT + ".",
                    next.observedGeneration, clock);
        } else {
            next.kubeconfigSecret = KUBECONFIG_SECRET;
            next.conditions = Conditions.set(previous.conditions, Conditions.READY, true, CREDENTIALS_ISSUED,
                    "Hand Secret " + ns + "/" + KUBECONFIG_SECRET + " (key " + KUBECONFIG_KEY + ") to the contributor "
                            + "of organization " + cc.getSpec().organization + " for the gpupool-contributor chart.",
                    next.observedGeneration, clock);
            if (!Conditions.isTrue(previous.conditions, Conditions.READY)) {
                LOG.infof("Approved cluster %s (organization %s): credentials issued in %s", cluster,
                        cc.getSpec().organization, ns);
            }
        }
        return patchStatus(cc, previous, next, context);
    }

    static boolean sameStatus(ContributedClusterStatus a, ContributedClusterStatus b) {
        return Objects.equals(a.namespace, b.namespace) && Objects.equals(a.kubeconfigSecret, b.kubeconfigSecret)
                && Objects.equals(a.observedGeneration, b.observedGeneration)
                && Objects.equals(a.conditions, b.conditions);
    }

    /**
     * Patches the status only when it changed. With server-side apply (production) the status alone is applied under
     * {@link ModelDeploymentReconciler#STATUS_FIELD_MANAGER}, for the reason given there: on API servers before 1.22
     * an apply to /status that carries the spec takes the spec's ownership away from the admin who applied it.
     */
    private static UpdateControl<ContributedCluster> patchStatus(ContributedCluster cc,
            ContributedClusterStatus previous, ContributedClusterStatus next, Context<ContributedCluster> context) {
        if (sameStatus(previous, next)) {
            return UpdateControl.noUpdate();
        }
        if (context.getControllerConfiguration().getConfigurationService().useSSAToPatchPrimaryResource()) {
            ContributedCluster statusOnly = new ContributedCluster();
            statusOnly.setMetadata(new ObjectMetaBuilder().withName(cc.getMetadata().getName()).build());
            statusOnly.setSpec(null); // not even an empty spec: only the status is this manager's
            statusOnly.setStatus(next);
            PatchContext apply = new PatchContext.Builder().withPatchType(PatchType.SERVER_SIDE_APPLY)
                    .withFieldManager(ModelDeploymentReconciler.STATUS_FIELD_MANAGER).withForce(true).build();
            PrimaryUpdateAndCacheUtils.updateAndCacheResource(cc, context, current -> statusOnly,
                    patch -> context.getClient().resource(patch).subresource("status").patch(apply));
            return UpdateControl.noUpdate();
        }
        cc.setStatus(next);
        return UpdateControl.patchStatus(cc);
    }
}
