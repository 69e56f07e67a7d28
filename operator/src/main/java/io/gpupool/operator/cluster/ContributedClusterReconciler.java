package io.gpupool.operator.cluster;

import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
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
        // After the ServiceAccount: its token is requested from the API server (TokenRequest).
        @Dependent(name = ContributedClusterReconciler.KUBECONFIG, type = AgentKubeconfigDependent.class,
                dependsOn = ContributedClusterReconciler.SERVICE_ACCOUNT) })
@LookupIfProperty(name = Role.PROPERTY, stringValue = Role.OPERATOR, lookupIfMissing = true)
@ControllerConfiguration(name = ContributedClusterReconciler.NAME)
public class ContributedClusterReconciler implements Reconciler<ContributedCluster> {

    public static final String NAME = "contributedcluster";
    public static final String AGENT = "gpupool-agent";
    /**
     * The legacy ServiceAccount-token Secret older operators made (its token never expires): deleted, never made. The
     * agent's tokens are short-lived and requested (TokenRequest).
     */
    public static final String LEGACY_TOKEN_SECRET = "gpupool-agent-token";
    /** How long a token in a kubeconfig lives, by default; the operator puts a new one in once half has passed. */
    public static final Duration DEFAULT_TOKEN_LIFETIME = Duration.ofHours(24);
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
    static final String KUBECONFIG = "kubeconfig";
    /** Workflow context key: the pool's API server URL written into kubeconfigs. */
    static final String HUB_SERVER = "hubServer";
    /** Workflow context keys: the pool's CA (base64), the operator's clock, the tokens' lifetime. */
    static final String HUB_CA = "hubCa";
    static final String CLOCK = "clock";
    static final String LIFETIME = "tokenLifetime";

    static final String INVALID_NAME = "InvalidName";
    static final String NAMESPACE_NOT_OURS = "NamespaceNotOurs";
    static final String ISSUING_CREDENTIALS = "IssuingCredentials";
    static final String CREDENTIALS_ISSUED = "CredentialsIssued";

    private static final Logger LOG = Logger.getLogger(ContributedClusterReconciler.class);

    private final String hubServer;
    private final Clock clock;
    private final Duration tokenLifetime;
    private final String caFile;

    /**
     * @param hubServer     the pool's API server URL written into kubeconfigs
     * @param tokenLifetime how long a kubeconfig's token lives (the agent renews its own well before)
     * @param caFile        the pool's CA certificate for kubeconfigs; when it cannot be read, the operator client's CA
     */
    @Inject
    public ContributedClusterReconciler(
            @ConfigProperty(name = "gpupool.hub.server", defaultValue = "https://kubernetes.default.svc") String hubServer,
            Clock clock,
            @ConfigProperty(name = "gpupool.hub.token-lifetime", defaultValue = "PT24H") Duration tokenLifetime,
            @ConfigProperty(name = "gpupool.hub.ca-file",
                    defaultValue = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt") String caFile) {
        this.hubServer = hubServer;
        this.clock = clock;
        this.tokenLifetime = tokenLifetime;
        this.caFile = caFile;
    }

    /** With the default token lifetime and in-cluster CA. */
    public ContributedClusterReconciler(String hubServer, Clock clock) {
        this(hubServer, clock, DEFAULT_TOKEN_LIFETIME, "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt");
    }

    /** The pool's CA certificate, base64 as kubeconfigs carry it; null when there is none (plain HTTP, tests). */
    private String hubCa(Context<ContributedCluster> context) {
        try {
            java.nio.file.Path file = java.nio.file.Path.of(caFile);
            if (java.nio.file.Files.isReadable(file)) {
                return Base64.getEncoder().encodeToString(java.nio.file.Files.readAllBytes(file));
            }
            var config = context.getClient().getConfiguration();
            if (config.getCaCertData() != null && !config.getCaCertData().isBlank()) {
                return config.getCaCertData();
            }
            if (config.getCaCertFile() != null && !config.getCaCertFile().isBlank()) {
                return Base64.getEncoder().encodeToString(java.nio.file.Files.readAllBytes(
                        java.nio.file.Path.of(config.getCaCertFile())));
            }
        } catch (java.io.IOException e) {
            LOG.warnf("Cannot read the pool's CA certificate: %s", e.getMessage());
        }
        return null;
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
                                .withResourceNames(MODEL_CREDENTIALS_SECRET).withVerbs("get", "list", "watch").build(),
                        // Its own short-lived tokens, which it renews before they expire (TokenRequest).
                        new PolicyRuleBuilder().withApiGroups("").withResources("serviceaccounts/token")
                                .withResourceNames(AGENT).withVerbs("create").build())
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
        String ca = hubCa(context);
        if (ca != null) {
            workflow.put(HUB_CA, ca);
        }
        workflow.put(CLOCK, clock);
        workflow.put(LIFETIME, tokenLifetime);
        workflow.reconcileManagedWorkflow();
        removeLegacyToken(context, ns);

        var kubeconfig = context.getSecondaryResource(Secret.class, KUBECONFIG);
        if (kubeconfig.isEmpty()) {
            // Written by the workflow just now: its event brings the next reconcile.
            next.conditions = Conditions.set(previous.conditions, Conditions.READY, false, ISSUING_CREDENTIALS,
                    "Issuing a token of ServiceAccount " + ns + "/" + AGENT + ".", next.observedGeneration, clock);
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
        UpdateControl<ContributedCluster> control = patchStatus(cc, previous, next, context);
        // The kubeconfig's token is renewed once half of its lifetime has passed, whatever else happens by then.
        return kubeconfig.flatMap(AgentKubeconfigDependent::expiry)
                .map(expires -> control.rescheduleAfter(Duration.between(clock.instant(),
                        AgentKubeconfigDependent.renewalDue(expires, tokenLifetime)).plusSeconds(1)))
                .orElse(control);
    }

    /** Deletes the non-expiring token Secret an older operator made for the agent, if there is one. */
    private static void removeLegacyToken(Context<ContributedCluster> context, String namespace) {
        var legacy = context.getClient().secrets().inNamespace(namespace).withName(LEGACY_TOKEN_SECRET);
        try {
            if (legacy.get() != null) {
                legacy.delete();
                LOG.infof("Deleted the non-expiring token Secret %s/%s: the agent's tokens are requested and expire",
                        namespace, LEGACY_TOKEN_SECRET);
            }
        } catch (io.fabric8.kubernetes.client.KubernetesClientException e) {
            LOG.warnf("Could not delete %s/%s: %s", namespace, LEGACY_TOKEN_SECRET, e.getMessage());
        }
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
