package io.gpupool.agent;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;

import org.jboss.logging.Logger;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.OAuthTokenProvider;

/**
 * The agent's credentials at the pool: a short-lived token of its ServiceAccount there, which it renews itself before it
 * expires (a TokenRequest made with the current token, which its Role allows for that one ServiceAccount). Every
 * request to the pool reads the current token ({@link #getToken()}, the hub client's token provider), and so does
 * anything else that authenticates as the agent at the pool (the gateway tunnel, at each connection: see
 * {@link HubToken} for a pool that is the agent's own cluster, whose token the kubelet rotates).
 *
 * <p>Rotation: the kubeconfig the pool admin hands out carries a token the pool issued (its Secret gets a new one once
 * half of its lifetime has passed, so it always holds one to bootstrap with). The agent starts with the newer of that
 * token and the one it stored last; once half of the current token's lifetime has passed it requests a new one of
 * {@link #LIFETIME}, uses it from the next request on, and stores it in a Secret of its own cluster
 * ({@code <release>-hub-token}, the one Secret there it may write), so that a restarted agent does not fall back to
 * an older token. When the pool revokes the cluster (deletes its ContributedCluster, so its ServiceAccount) every token
 * stops working at once; the agent then stops its work ({@link ContributorAgent}).
 */
public final class RenewedToken implements OAuthTokenProvider, java.util.function.Supplier<String> {

    /** Lifetime of the tokens the agent requests. */
    public static final Duration LIFETIME = Duration.ofHours(1);
    /** Key of the stored token in the agent's Secret. */
    public static final String TOKEN_KEY = "token";
    /** How soon to try again when a renewal failed (the pool unreachable, or the API not served). */
    static final Duration RETRY = Duration.ofMinutes(1);

    private static final Logger LOG = Logger.getLogger(RenewedToken.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Clock clock;
    private volatile String token;
    private volatile Instant issued;
    private volatile Instant expires;
    private volatile Instant nextAttempt = Instant.MIN;

    /**
     * @param token the token to start with (from the kubeconfig, or the one stored last, whichever expires later)
     */
    public RenewedToken(String token, Clock clock) {
        this.clock = clock;
        use(token);
    }

    /** The token a client configuration carries (Fabric8 keeps a kubeconfig's token as its "auto" token). */
    public static String of(io.fabric8.kubernetes.client.Config config) {
        return config.getOauthToken() != null ? config.getOauthToken() : config.getAutoOAuthToken();
    }

    /**
     * The token to start with: the more recently issued of the kubeconfig's and the stored one (a pool admin who hands
     * out a new kubeconfig, after a revocation say, wins over what the agent kept), unless it has expired. Tokens carry
     * their issue time to the second: issued in the same second, the stored one is taken (the agent renewed right after
     * it was given the kubeconfig; taking the kubeconfig's would throw its renewal away).
     */
    public static RenewedToken starting(String fromKubeconfig, Optional<String> stored, Clock clock) {
        String chosen = fromKubeconfig;
        if (stored.isPresent()) {
            Instant a = issuedAt(fromKubeconfig).orElse(Instant.MIN);
            Instant b = issuedAt(stored.get()).orElse(Instant.MIN);
            boolean storedLive = expiry(stored.get()).map(e -> e.isAfter(clock.instant())).orElse(false);
            if (!b.isBefore(a) && storedLive) {
                chosen = stored.get();
            }
        }
        return new RenewedToken(chosen, clock);
    }

    private void use(String next) {
        token = next;
        issued = issuedAt(next).orElse(clock.instant());
        expires = expiry(next).orElse(null);
    }

    @Override
    public String getToken() {
        return token;
    }

    /** The current token (the gateway tunnel asks at every connection). */
    @Override
    public String get() {
        return token;
    }

    /** When the current token expires; empty when it does not say (not a JWT: then it is never renewed). */
    public Optional<Instant> expires() {
        return Optional.ofNullable(expires);
    }

    /** Whether half of the current token's lifetime has passed. */
    boolean due(Instant now) {
        return expires != null && !now.isBefore(issued.plus(Duration.between(issued, expires).dividedBy(2)))
                && !now.isBefore(nextAttempt);
    }

    /**
     * Renews the token when it is due: asks the pool for a new one (authenticated with the current one) and stores it.
     *
     * @param hub      the pool, as this agent
     * @param store    where the agent keeps its token ("namespace/name" of a Secret of its own cluster), if anywhere
     * @return whether a new token is in use
     */
    public boolean renewIfDue(KubernetesClient hub, String hubNamespace, String serviceAccount, KubernetesClient local,
            Optional<String> store) {
        Instant now = clock.instant();
        if (!due(now)) {
            return false;
        }
        try {
            var response = hub.serviceAccounts().inNamespace(hubNamespace).withName(serviceAccount)
                    .tokenRequest(new TokenRequestBuilder().withNewSpec().withExpirationSeconds(LIFETIME.toSeconds())
                            .endSpec().build());
            String next = response.getStatus().getToken();
            use(next);
            LOG.infof("Renewed this cluster's token at the pool; it expires at %s", expires);
            store.ifPresent(ref -> save(local, ref, next));
            return true;
        } catch (KubernetesClientException e) {
            nextAttempt = now.plus(RETRY);
            LOG.warnf("Could not renew this cluster's token at the pool (%s); it expires at %s", e.getMessage(), expires);
            return false;
        }
    }

    private static void save(KubernetesClient local, String ref, String token) {
        String[] parts = ref.split("/", 2);
        try {
            local.resource(new SecretBuilder().withNewMetadata().withNamespace(parts[0]).withName(parts[1])
                    .addToLabels("app.kubernetes.io/managed-by", ContributorAgent.MANAGED_BY).endMetadata()
                    .withType("Opaque").withData(Map.of(TOKEN_KEY, Base64.getEncoder()
                            .encodeToString(token.getBytes(StandardCharsets.UTF_8))))
                    .build()).createOr(r -> r.update());
        } catch (KubernetesClientException e) {
            LOG.warnf("Could not store the renewed token in Secret %s: %s (a restarted agent starts from the "
                    + "kubeconfig's)", ref, e.getMessage());
        }
    }

    /** The token the agent stored last, if any. */
    public static Optional<String> stored(KubernetesClient local, String ref) {
        String[] parts = ref.split("/", 2);
        try {
            var secret = local.secrets().inNamespace(parts[0]).withName(parts[1]).get();
            String data = secret == null || secret.getData() == null ? null : secret.getData().get(TOKEN_KEY);
            return data == null ? Optional.empty()
                    : Optional.of(new String(Base64.getDecoder().decode(data), StandardCharsets.UTF_8));
        } catch (KubernetesClientException e) {
            return Optional.empty();
        }
    }

    static Optional<Instant> expiry(String jwt) {
        return claim(jwt, "exp");
    }

    static Optional<Instant> issuedAt(String jwt) {
        return claim(jwt, "iat");
    }

    /** A time claim of a JWT's payload (not verified: the pool verifies; this only schedules the renewal). */
    private static Optional<Instant> claim(String jwt, String name) {
        String[] parts = jwt == null ? new String[0] : jwt.split("\\.");
        if (parts.length != 3) {
            return Optional.empty();
        }
        try {
            JsonNode payload = JSON.readTree(Base64.getUrlDecoder().decode(parts[1]));
            JsonNode value = payload.get(name);
            return value == null || !value.canConvertToLong() ? Optional.empty()
                    : Optional.of(Instant.ofEpochSecond(value.asLong()));
        } catch (Exception e) {
            return Optional.empty();
        }
    }
}
