package io.gpupool.operator;

import jakarta.inject.Singleton;

import io.fabric8.kubernetes.client.Config;
import io.quarkus.kubernetes.client.KubernetesConfigCustomizer;

/**
 * Keeps the Kubernetes client from re-reading its kubeconfig on every request when it authenticates with a client
 * certificate alone. Fabric8's token-refresh interceptor refreshes the token at most once a minute, but counts a
 * refresh only when it finds a token: with certificate authentication there is none, so after the first minute every
 * request re-read and re-parsed the kubeconfig and the environment (a tenth of the operator's CPU in a burst of
 * applies, measured with hack/bench-apiserver.sh --operator-profile). A token provider that has no token makes the
 * interceptor ask it instead, which costs nothing. In a cluster (a ServiceAccount token, refreshed from its file) and
 * with any other credentials (tokens, including those of exec plugins, basic auth, auth providers) nothing changes.
 */
@Singleton
public class CertificateAuthentication implements KubernetesConfigCustomizer {

    @Override
    public void customize(Config config) {
        withoutTokenRefresh(config);
    }

    /** Gives a certificate-only configuration a token provider without a token; leaves any other alone. */
    public static Config withoutTokenRefresh(Config config) {
        boolean certificate = notBlank(config.getClientCertData()) || notBlank(config.getClientCertFile());
        boolean otherCredentials = notBlank(config.getOauthToken()) || notBlank(config.getAutoOAuthToken())
                || config.getOauthTokenProvider() != null || notBlank(config.getUsername())
                || config.getAuthProvider() != null;
        if (certificate && !otherCredentials) {
            config.setOauthTokenProvider(() -> null);
        }
        return config;
    }

    private static boolean notBlank(String s) {
        return s != null && !s.isBlank();
    }
}
