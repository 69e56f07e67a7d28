package io.gpupool.agent;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.function.Supplier;

import io.fabric8.kubernetes.client.Config;

/**
 * The agent's current credential at the pool, read from where it lives at every call: the pool's kubeconfig file (a
 * mounted Secret, which the kubelet updates when the pool rotates the token), or, when the pool is this cluster, the
 * ServiceAccount token the kubelet projects and rotates. Never cached: whoever needs it (the tunnel, at every
 * connection) asks again.
 */
final class HubToken implements Supplier<String> {

    private final Optional<Path> kubeconfig;
    private final Path serviceAccountToken;

    HubToken(Optional<String> kubeconfig) {
        this(kubeconfig.map(Path::of), Path.of(Config.KUBERNETES_SERVICE_ACCOUNT_TOKEN_PATH));
    }

    HubToken(Optional<Path> kubeconfig, Path serviceAccountToken) {
        this.kubeconfig = kubeconfig;
        this.serviceAccountToken = serviceAccountToken;
    }

    @Override
    public String get() {
        try {
            if (kubeconfig.isEmpty()) {
                return Files.readString(serviceAccountToken).trim();
            }
            Config config = Config.fromKubeconfig(Files.readString(kubeconfig.get()));
            for (String token : new String[] { config.getOauthToken(), config.getAutoOAuthToken(),
                    config.getOauthTokenProvider() == null ? null : config.getOauthTokenProvider().getToken() }) {
                if (token != null && !token.isBlank()) {
                    return token.trim();
                }
            }
            throw new IllegalStateException("the pool's kubeconfig " + kubeconfig.get() + " holds no token");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the agent's credential at the pool", e);
        }
    }
}
