package io.gpupool.apiserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.gpupool.agent.RenewedToken;
import io.gpupool.api.v1alpha1.GpuNode;
import io.gpupool.core.inventory.NodeTrust;
import io.gpupool.operator.cluster.AgentKubeconfigDependent;
import io.gpupool.operator.cluster.ContributedClusterReconciler;

/**
 * A contributed cluster's credentials on a server that signs and checks ServiceAccount tokens: the kubeconfig the
 * operator issues carries a short-lived token (TokenRequest), not a Secret whose token never expires; with it an agent
 * reaches its own hub namespace and nothing else; it renews its token itself and keeps the new one; and deleting the
 * agent's ServiceAccount (what deleting the ContributedCluster does) makes every token it ever had useless at once.
 */
@ApiServerTier
class AgentCredentialsApiServerTest {

    private static final String RELEASE = "gpupool-operator";
    private static final String OPERATOR_NS = "gpupool-system";
    private static final String ORG = "creds-org";
    private static final String CLUSTER = "creds-lab";
    private static final String HUB_NS = NodeTrust.hubNamespace(CLUSTER);
    private static final String CONTRIBUTOR_NS = "creds-contributor";

    private static KubernetesClient admin;
    private static KubernetesClient asOperator;
    private static InstalledChart chart;
    private static TestPool pool;
    private static InProcessOperator operator;
    private static final List<KubernetesClient> clients = new ArrayList<>();

    @BeforeAll
    static void approve(RealKubeApiServer.Server server) {
        server.applyCrds();
        admin = server.admin();
        chart = InstalledChart.install(admin, "gpupool-operator", RELEASE, OPERATOR_NS, Map.of(), o -> true);
        asOperator = server.impersonating("system:serviceaccount:" + OPERATOR_NS + ":" + RELEASE);
        pool = new TestPool(admin).organization(ORG);
        operator = InProcessOperator.start(asOperator);
        pool.approve(CLUSTER, ORG);
        admin.resource(new NamespaceBuilder().withNewMetadata().withName(CONTRIBUTOR_NS).endMetadata().build())
                .createOr(r -> r.update());
    }

    @AfterAll
    static void cleanUp() {
        clients.forEach(KubernetesClient::close);
        TestPool.tearDown(pool, operator);
        if (asOperator != null) {
            asOperator.close();
        }
        if (chart != null) {
            chart.close();
        }
    }

    private static Config kubeconfig() {
        Secret secret = admin.secrets().inNamespace(HUB_NS).withName(ContributedClusterReconciler.KUBECONFIG_SECRET).get();
        return Config.fromKubeconfig(new String(Base64.getDecoder().decode(secret.getData()
                .get(ContributedClusterReconciler.KUBECONFIG_KEY)), StandardCharsets.UTF_8));
    }

    private static KubernetesClient client(Config config) {
        KubernetesClient c = new KubernetesClientBuilder().withConfig(new ConfigBuilder(config)
                .withRequestRetryBackoffLimit(0).build()).build();
        clients.add(c);
        return c;
    }

    private static int code(Runnable request) {
        try {
            request.run();
            return 200;
        } catch (KubernetesClientException e) {
            return e.getCode();
        }
    }

    @Test
    void theAgentsTokenIsShortLivedRenewedByItselfAndRevokedWithItsServiceAccount() {
        // No legacy token Secret: the kubeconfig carries a token the API server signed, which expires.
        assertThat(admin.secrets().inNamespace(HUB_NS).withName(ContributedClusterReconciler.LEGACY_TOKEN_SECRET).get())
                .isNull();
        Secret issued = admin.secrets().inNamespace(HUB_NS).withName(ContributedClusterReconciler.KUBECONFIG_SECRET)
                .get();
        Instant expires = Instant.parse(issued.getMetadata().getAnnotations()
                .get(AgentKubeconfigDependent.EXPIRES_ANNOTATION));
        assertThat(expires).isBetween(Instant.now().plus(Duration.ofHours(23)), Instant.now().plus(Duration.ofHours(25)));

        // With it, the agent (really authenticated, no impersonation) reaches its hub namespace and nothing else.
        Config config = kubeconfig();
        KubernetesClient bootstrap = client(config);
        assertThat(bootstrap.resources(GpuNode.class).inNamespace(HUB_NS).list().getItems()).isNotNull();
        assertThat(code(() -> bootstrap.resources(GpuNode.class).inNamespace(TestPool.HUB).list())).isEqualTo(403);

        // Half of its lifetime later the agent renews it, with a client that reads the current token at each request,
        // and keeps the new one in its own cluster.
        Clock later = Clock.fixed(Instant.now().plus(Duration.ofHours(13)), ZoneOffset.UTC);
        RenewedToken token = RenewedToken.starting(RenewedToken.of(config), Optional.empty(), later);
        KubernetesClient hub = client(new ConfigBuilder(config).withOauthToken(null).withAutoOAuthToken(null).withOauthTokenProvider(token)
                .build());
        String store = CONTRIBUTOR_NS + "/gpupool-contributor-hub-token";
        assertThat(token.renewIfDue(hub, HUB_NS, ContributedClusterReconciler.AGENT, admin, Optional.of(store))).isTrue();
        String renewed = token.getToken();
        assertThat(renewed).isNotEqualTo(RenewedToken.of(config));
        assertThat(token.expires().orElseThrow()).isBetween(Instant.now().plus(Duration.ofMinutes(50)),
                Instant.now().plus(Duration.ofMinutes(70)));
        assertThat(RenewedToken.stored(admin, store)).contains(renewed);
        assertThat(hub.resources(GpuNode.class).inNamespace(HUB_NS).list().getItems()).isNotNull();
        // A restarted agent starts from the newer of the kubeconfig's token and the stored one.
        assertThat(RenewedToken.starting(RenewedToken.of(config), RenewedToken.stored(admin, store), Clock.systemUTC())
                .getToken()).isEqualTo(renewed);

        // Revoked: the ServiceAccount goes (with its ContributedCluster), and with it every token it had.
        KubernetesClient withRenewed = client(new ConfigBuilder(config).withAutoOAuthToken(null).withOauthToken(renewed).build());
        admin.serviceAccounts().inNamespace(HUB_NS).withName(ContributedClusterReconciler.AGENT).delete();
        await().atMost(TestPool.WAIT).until(() -> code(() -> bootstrap.resources(GpuNode.class).inNamespace(HUB_NS)
                .list()) == 401 && code(() -> withRenewed.resources(GpuNode.class).inNamespace(HUB_NS).list()) == 401);
    }
}
