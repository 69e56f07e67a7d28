package io.gpupool.operator.cluster;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Base64;
import java.util.Optional;

import io.fabric8.kubernetes.api.model.ConfigBuilder;
import io.fabric8.kubernetes.api.model.NamedAuthInfoBuilder;
import io.fabric8.kubernetes.api.model.NamedClusterBuilder;
import io.fabric8.kubernetes.api.model.NamedContextBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.gpupool.api.v1alpha1.ContributedCluster;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.processing.dependent.Creator;
import io.javaoperatorsdk.operator.processing.dependent.Updater;

/**
 * The kubeconfig the pool admin hands to the contributor: the pool's API server and CA, a token of the agent's
 * ServiceAccount, its hub namespace as default. The token is a short-lived one the API server signs on request
 * (TokenRequest), never a legacy ServiceAccount-token Secret that would work for ever: it expires after
 * {@link ContributedClusterReconciler#TOKEN_LIFETIME} (annotation {@value #EXPIRES_ANNOTATION}), the operator puts a
 * new one in this Secret once half of it has passed (so the Secret always holds a token to bootstrap an agent with),
 * and a running agent renews its own before it expires. Deleting the ContributedCluster deletes the ServiceAccount,
 * which invalidates every token issued for it at once.
 */
public class AgentKubeconfigDependent extends HubChildDependent<Secret>
        implements Creator<Secret, ContributedCluster>, Updater<Secret, ContributedCluster> {

    /** When the kubeconfig's token expires (RFC 3339). */
    public static final String EXPIRES_ANNOTATION = "gpupool.io/token-expires-at";
    /** The uid of the ServiceAccount the token is of. */
    public static final String ACCOUNT_ANNOTATION = "gpupool.io/token-service-account-uid";

    public AgentKubeconfigDependent() {
        super(Secret.class, ContributedClusterReconciler.KUBECONFIG_SECRET);
    }

    @Override
    protected Secret desired(ContributedCluster cc, Context<ContributedCluster> context) {
        var workflow = context.managedWorkflowAndDependentResourceContext();
        String hubServer = workflow.getMandatory(ContributedClusterReconciler.HUB_SERVER, String.class);
        String caData = workflow.get(ContributedClusterReconciler.HUB_CA, String.class).orElse(null);
        Clock clock = workflow.getMandatory(ContributedClusterReconciler.CLOCK, Clock.class);
        Duration lifetime = workflow.getMandatory(ContributedClusterReconciler.LIFETIME, Duration.class);
        Optional<Secret> current = context.getSecondaryResource(Secret.class, ContributedClusterReconciler.KUBECONFIG);
        String token;
        Instant expires;
        Optional<Instant> currentExpiry = current.flatMap(AgentKubeconfigDependent::expiry);
        Optional<String> currentToken = current.flatMap(AgentKubeconfigDependent::token);
        // A token of a ServiceAccount that was deleted since is void: the new one gets a new token.
        // (From the cache; just created in this reconcile, it may be there only on the API server.)
        String account = context.getSecondaryResource(io.fabric8.kubernetes.api.model.ServiceAccount.class,
                ContributedClusterReconciler.SERVICE_ACCOUNT).or(() -> Optional.ofNullable(context.getClient()
                        .serviceAccounts().inNamespace(hubNamespace(cc)).withName(ContributedClusterReconciler.AGENT)
                        .get())).map(sa -> sa.getMetadata().getUid()).orElse(null);
        boolean sameAccount = current.map(s -> s.getMetadata().getAnnotations() == null ? null
                : s.getMetadata().getAnnotations().get(ACCOUNT_ANNOTATION)).map(uid -> uid.equals(account))
                .orElse(false);
        if (currentExpiry.isPresent() && currentToken.isPresent() && sameAccount
                && renewalDue(currentExpiry.get(), lifetime).isAfter(clock.instant())) {
            token = currentToken.get();
            expires = currentExpiry.get();
        } else {
            var issued = context.getClient().serviceAccounts().inNamespace(hubNamespace(cc))
                    .withName(ContributedClusterReconciler.AGENT)
                    .tokenRequest(new TokenRequestBuilder().withNewSpec().withExpirationSeconds(lifetime.toSeconds())
                            .endSpec().build());
            token = issued.getStatus().getToken();
            expires = parse(issued.getStatus().getExpirationTimestamp())
                    .orElse(clock.instant().plus(lifetime));
        }
        String kubeconfig = kubeconfig(hubServer, cc.getMetadata().getName(), hubNamespace(cc), token, caData);
        return new SecretBuilder().withNewMetadata().withName(ContributedClusterReconciler.KUBECONFIG_SECRET)
                .withNamespace(hubNamespace(cc)).withLabels(labels(cc))
                .addToAnnotations(EXPIRES_ANNOTATION, expires.toString())
                .addToAnnotations(ACCOUNT_ANNOTATION, account == null ? "" : account).endMetadata().withType("Opaque")
                .addToData(ContributedClusterReconciler.KUBECONFIG_KEY,
                        Base64.getEncoder().encodeToString(kubeconfig.getBytes(StandardCharsets.UTF_8)))
                .build();
    }

    /** When a token that expires then is renewed: once half of its lifetime has passed. */
    static Instant renewalDue(Instant expires, Duration lifetime) {
        return expires.minus(lifetime.dividedBy(2));
    }

    /** When the token of a kubeconfig Secret expires, from its annotation. */
    static Optional<Instant> expiry(Secret secret) {
        return secret.getMetadata().getAnnotations() == null ? Optional.empty()
                : parse(secret.getMetadata().getAnnotations().get(EXPIRES_ANNOTATION));
    }

    private static Optional<Instant> parse(String rfc3339) {
        try {
            return rfc3339 == null ? Optional.empty() : Optional.of(Instant.parse(rfc3339));
        } catch (DateTimeParseException e) {
            return Optional.empty();
        }
    }

    /** The token in a kubeconfig Secret. */
    static Optional<String> token(Secret secret) {
        String data = secret.getData() == null ? null : secret.getData().get(ContributedClusterReconciler.KUBECONFIG_KEY);
        if (data == null) {
            return Optional.empty();
        }
        try {
            var config = Serialization.unmarshal(new String(Base64.getDecoder().decode(data), StandardCharsets.UTF_8),
                    io.fabric8.kubernetes.api.model.Config.class);
            return config == null || config.getUsers() == null ? Optional.empty()
                    : config.getUsers().stream().map(u -> u.getUser() == null ? null : u.getUser().getToken())
                            .filter(t -> t != null && !t.isBlank()).findFirst();
        } catch (RuntimeException e) {
            return Optional.empty(); // not a kubeconfig any more: a new one, with a new token
        }
    }

    /** A kubeconfig for the agent of {@code cluster}; {@code caData} is base64 as in a kubeconfig, or null. */
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
