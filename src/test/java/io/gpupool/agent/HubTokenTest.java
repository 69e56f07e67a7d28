package io.gpupool.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The agent's credential is read where it lives at every call, so a rotated token is used at once. */
class HubTokenTest {

    private static String kubeconfig(String token) {
        return """
                apiVersion: v1
                kind: Config
                clusters:
                - name: gpupool
                  cluster:
                    server: https://pool.example.org:6443
                users:
                - name: gpupool-agent-home-lab
                  user:
                    token: %s
                contexts:
                - name: gpupool
                  context:
                    cluster: gpupool
                    user: gpupool-agent-home-lab
                    namespace: gpupool-cluster-home-lab
                current-context: gpupool
                """.formatted(token);
    }

    @Test
    void readsTheKubeconfigsTokenAgainAtEveryCall(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("kubeconfig");
        Files.writeString(file, kubeconfig("first-token"));
        HubToken token = new HubToken(Optional.of(file), dir.resolve("none"));
        assertThat(token.get()).isEqualTo("first-token");
        Files.writeString(file, kubeconfig("rotated-token")); // the kubelet updated the mounted Secret
        assertThat(token.get()).isEqualTo("rotated-token");
    }

    @Test
    void inClusterItReadsTheProjectedServiceAccountToken(@TempDir Path dir) throws Exception {
        Path projected = dir.resolve("token");
        Files.writeString(projected, "sa-token-1\n");
        HubToken token = new HubToken(Optional.empty(), projected);
        assertThat(token.get()).isEqualTo("sa-token-1");
        Files.writeString(projected, "sa-token-2");
        assertThat(token.get()).isEqualTo("sa-token-2");
    }

    @Test
    void aKubeconfigWithoutATokenSaysSo(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("kubeconfig");
        Files.writeString(file, kubeconfig("x").replace("    token: x\n", "    username: someone\n"));
        assertThatThrownBy(() -> new HubToken(Optional.of(file), dir.resolve("none")).get())
                .hasMessageContaining("holds no token");
    }
}
