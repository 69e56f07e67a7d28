package io.gpupool.operator.cluster;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;

import jakarta.inject.Inject;

import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NamedClusterBuilder;
import io.fabric8.kubernetes.api.model.NamedContextBuilder;
import io.fabric8.kubernetes.api.model.NamedAuthInfoBuilder;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.rbac.PolicyRuleBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.NonDeletingOperation;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.gpupool.api.v1alpha1.ApiGroup;
import io.gpupool.api.v1alpha1.ContributedCluster;
import io.gpupool.api.v1alpha1.ContributedClusterStatus;
import io.gpupool.core.inventory.NodeTrust;
import io.gpupool.core.status.Conditions;
import io.gpupool.operator.Role;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.quarkus.arc.lookup.LookupIfProperty;

/**
 * Turns a pool admin's approval of a cluster (a ContributedCluster) into least-privilege credentials for that
 * cluster's agent: the hub namespace gpupool-cluster-&lt;name&gt; (owned by the ContributedCluster, so deleting the
 * approval revokes everything), a ServiceAccount, a Role that reaches only that namespace (its GpuNodes with their
 * status, its ServingWork, the status of its ServingWork) bound to it, a token for it, and a kubeconfig Secret the
 * admin hands to the contributor. Nothing is read or written by name pattern: the operator's own RBAC names exactly
 * these objects.
 */
@LookupIfProperty(name = Role.PROPERTY, stringValue = Role.OPERATOR, lookupIfMissing = true)
@ControllerConfiguration(name = ContributedClusterReconciler.NAME)
public class ContributedClusterReconciler implements Reconciler<ContributedCluster> {

    public static final String NAME = "contributedcluster";
    public static final String AGENT = "gpupool-agent";
    public static final String TOKEN_SECRET = "gpupool-agent-token";
    public static final String KUBECONFIG_SECRET = "gpupool-agent-kubeconfig";
    public static final String KUBECONFIG_KEY = "kubeconfig";
    static final Duration TOKEN_WAIT = Duration.ofSeconds(2);

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
                                .withVerbs("get", "patch", "update").build())
                .build();
    }

    @Override
    public UpdateControl<ContributedCluster> reconcile(ContributedCluster cc, Context<ContributedCluster> context) {
        KubernetesClient client = context.getClient();
        String cluster = cc.getMetadata().getName();
        String ns = NodeTrust.hubNamespace(cluster);
        ContributedClusterStatus previous = cc.getStatus() == null ? new ContributedClusterStatus() : cc.getStatus();
        ContributedClusterStatus next = new ContributedClusterStatus();
        next.namespace = ns;
        next.observedGeneration = cc.getMetadata().getGeneration();

        if (!cluster.matches("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$") || ns.length() > 63) {
            next.conditions = Conditions.set(previous.conditions, Conditions.READY, false, "InvalidName",
                    "The name must be a DNS label of at most " + (63 - NodeTrust.HUB_NAMESPACE_PREFIX.length())
                            + " characters: it names the namespace " + ns + ".",
                    next.observedGeneration, clock);
            return patch(cc, previous, next);
        }
        ensureNamespace(client, cc, ns);
        var labels = Map.of(ApiGroup.MANAGED_BY_LABEL, ApiGroup.MANAGED_BY, ApiGroup.CLUSTER_LABEL, cluster);
        apply(client, new ServiceAccountBuilder().withNewMetadata().withName(AGENT).withNamespace(ns)
                .withLabels(labels).endMetadata().build());
        apply(client, agentRole(ns));
        apply(client, new RoleBindingBuilder().withNewMetadata().withName(AGENT).withNamespace(ns).withLabels(labels)
                .endMetadata()
                .withNewRoleRef().withApiGroup("rbac.authorization.k8s.io").withKind("Role").withName(AGENT).endRoleRef()
                .addNewSubject().withKind("ServiceAccount").withName(AGENT).withNamespace(ns).endSubject()
                .build());
        Secret token = client.secrets().inNamespace(ns).withName(TOKEN_SECRET).get();
        if (token == null) {
            token = client.resource(new SecretBuilder().withNewMetadata().withName(TOKEN_SECRET).withNamespace(ns)
                    .withLabels(labels).addToAnnotations("kubernetes.io/service-account.name", AGENT).endMetadata()
                    .withType("kubernetes.io/service-account-token").build()).create();
        }
        String tokenData = token.getData() == null ? null : token.getData().get("token");
        if (tokenData == null || tokenData.isBlank()) {
            next.conditions = Conditions.set(previous.conditions, Conditions.READY, false, "WaitingForToken",
                    "Waiting for Kubernetes to issue the token of ServiceAccount " + ns + "/" + AGENT + ".",
                    next.observedGeneration, clock);
            UpdateControl<ContributedCluster> control = patch(cc, previous, next);
            return control.rescheduleAfter(TOKEN_WAIT);
        }
        String kubeconfig = kubeconfig(cluster, ns, new String(Base64.getDecoder().decode(tokenData),
                StandardCharsets.UTF_8), token.getData().get("ca.crt"));
        apply(client, new SecretBuilder().withNewMetadata().withName(KUBECONFIG_SECRET).withNamespace(ns)
                .withLabels(labels).endMetadata().withType("Opaque")
                .addToData(KUBECONFIG_KEY, Base64.getEncoder().encodeToString(kubeconfig.getBytes(StandardCharsets.UTF_8)))
                .build());
        next.kubeconfigSecret = KUBECONFIG_SECRET;
        next.conditions = Conditions.set(previous.conditions, Conditions.READY, true, "CredentialsIssued",
                "Hand Secret " + ns + "/" + KUBECONFIG_SECRET + " (key " + KUBECONFIG_KEY + ") to the contributor "
                        + "of organization " + cc.getSpec().organization + " for the gpupool-contributor chart.",
                next.observedGeneration, clock);
        return patch(cc, previous, next);
    }

    /** A kubeconfig for the agent: the pool's API server, the agent's token, its hub namespace as default. */
    String kubeconfig(String cluster, String ns, String token, String caData) {
        var config = new io.fabric8.kubernetes.api.model.ConfigBuilder()
                .withApiVersion("v1").withKind("Config")
                .withClusters(new NamedClusterBuilder().withName("gpupool").withNewCluster().withServer(hubServer)
                        .withCertificateAuthorityData(caData).endCluster().build())
                .withUsers(new NamedAuthInfoBuilder().withName("gpupool-agent-" + cluster).withNewUser()
                        .withToken(token).endUser().build())
                .withContexts(new NamedContextBuilder().withName("gpupool").withNewContext().withCluster("gpupool")
                        .withUser("gpupool-agent-" + cluster).withNamespace(ns).endContext().build())
                .withCurrentContext("gpupool")
                .build();
        return Serialization.asYaml(config);
    }

    private static void ensureNamespace(KubernetesClient client, ContributedCluster cc, String ns) {
        if (client.namespaces().withName(ns).get() != null) {
            return;
        }
        Namespace namespace = new NamespaceBuilder().withNewMetadata().withName(ns)
                .addToLabels(ApiGroup.MANAGED_BY_LABEL, ApiGroup.MANAGED_BY)
                .addToLabels(ApiGroup.CLUSTER_LABEL, cc.getMetadata().getName())
                // Owned by the approval: deleting the ContributedCluster revokes the cluster (namespace and all in it).
                .withOwnerReferences(new OwnerReferenceBuilder().withApiVersion(cc.getApiVersion()).withKind(cc.getKind())
                        .withName(cc.getMetadata().getName()).withUid(cc.getMetadata().getUid()).build())
                .endMetadata().build();
        client.resource(namespace).create();
        LOG.infof("Approved cluster %s (organization %s): hub namespace %s created", cc.getMetadata().getName(),
                cc.getSpec().organization, ns);
    }

    private static <T extends HasMetadata> void apply(KubernetesClient client, T object) {
        client.resource(object).createOr(NonDeletingOperation::update);
    }

    private static UpdateControl<ContributedCluster> patch(ContributedCluster cc, ContributedClusterStatus previous,
            ContributedClusterStatus next) {
        if (java.util.Objects.equals(previous.namespace, next.namespace)
                && java.util.Objects.equals(previous.kubeconfigSecret, next.kubeconfigSecret)
                && java.util.Objects.equals(previous.observedGeneration, next.observedGeneration)
                && java.util.Objects.equals(previous.conditions, next.conditions)) {
            return UpdateControl.noUpdate();
        }
        cc.setStatus(next);
        return UpdateControl.patchStatus(cc);
    }
}
