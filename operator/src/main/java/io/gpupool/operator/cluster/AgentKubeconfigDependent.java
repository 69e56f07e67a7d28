package io.gpupool.operator.cluster;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

import io.fabric8.kubernetes.api.model.ConfigBuilder;
import io.fabric8.kubernetes.api.model.NamedAuthInfoBuilder;
import io.fabric8.kubernetes.api.model.NamedClusterBuilder;
import io.fabric8.kubernetes.api.model.NamedContextBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.gpupool.api.v1alpha1.ContributedCluster;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.processing.dependent.Creator;
import io.javaoperatorsdk.operator.processing.dependent.Updater;

/**
 * The kubeconfig the pool admin hands to the contributor: the pool's API server, the agent's token, its hub namespace
 * as default. Reconciled once the token is issued ({@link TokenIssued}); follows the token when it changes.
 */
public class AgentKubeconfigDependent extends HubChildDependent<Secret>
        implements Creator<Secret, ContributedCluster>, Updater<Secret, ContributedCluster> {

    public AgentKubeconfigDependent() {
        super(Secret.class, ContributedClusterReconciler.KUBECONFIG_SECRET);
    }

    @Override
    protected Secret desired(ContributedCluster cc, Context<ContributedCluster> context) {
        Secret token = TokenIssued.issuedToken(context).orElseThrow(() -> new IllegalStateException(
                "the kubeconfig is rendered only once the token is issued"));
        String hubServer = context.managedWorkflowAndDependentResourceContext()
                .getMandatory(ContributedClusterReconciler.HUB_SERVER, String.class);
        String kubeconfig = kubeconfig(hubServer, cc.getMetadata().getName(), hubNamespace(cc),
                new String(Base64.getDecoder().decode(token.getData().get("token")), StandardCharsets.UTF_8),
                token.getData().get("ca.crt"));
        return new SecretBuilder().withNewMetadata().withName(ContributedClusterReconciler.KUBECONFIG_SECRET)
                .withNamespace(hubNamespace(cc)).withLabels(labels(cc)).endMetadata().withType("Opaque")
                .addToData(ContributedClusterReconciler.KUBECONFIG_KEY,
                        Base64.getEncoder().encodeToString(kubeconfig.getBytes(StandardCharsets.UTF_8)))
                .build();
    }

    /** A kubeconfig for the agent of {@code cluster}; {@code caData} is base64 as in the token Secret. */
    static String kubeconfig(String hubServer, String cluster, String namespace, String token, String caData) {
        var config = new ConfigBuilder()
                .withApiVersion("v1").withKind("Config")
                .withClusters(new NamedClusterBuilder().withName("gpupool").withNewCluster().withServer(hubServer)
                        .withCertificateAuthorityData(caData).endCluster().build())
                .withUsers(new NamedAuthInfoBuilder().withName("gpupool-agent-" + cluster).withNewUser()
                        .withToken(token).endUser().build())
                .withContexts(new NamedContextBuilder().withName("gpupool").withNewContext().withCluster("gpupool")
                        .withUser("gpupool-agent-" + cluster).withNamespace(namespace).endContext().build())
                .withCurrentContext("gpupool")
                .build();
        return Serialization.asYaml(config);
    }
}
