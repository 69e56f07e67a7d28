package io.gpupool.playground;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.authentication.TokenRequest;
import io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;

/**
 * Stands in for the token controller of kube-controller-manager, which the playground's API servers do not run: it
 * fills a ServiceAccount-token Secret (type kubernetes.io/service-account-token) with {@code token}, {@code ca.crt} and
 * {@code namespace}, as Kubernetes does, so that the operator can write a contributed cluster's kubeconfig.
 *
 * <p>On the real kube-apiserver the token is a real one, issued by the API server through the TokenRequest API (the
 * server signs ServiceAccount tokens with the key kube-api-test configures) and bound to the Secret, so it
 * authenticates the ServiceAccount and stops working when the Secret is deleted. The embedded server authenticates
 * nobody: any token works there, and this one is made up.
 */
final class SimulatedTokenController implements AutoCloseable {

    static final String SERVICE_ACCOUNT_TOKEN = "kubernetes.io/service-account-token";
    static final String SERVICE_ACCOUNT_NAME = "kubernetes.io/service-account.name";
    /** Legacy tokens never expire; a requested one must. A week outlives any playground session. */
    static final long TOKEN_SECONDS = 7 * 24 * 3600L;

    private final KubernetesClient client;
    private final boolean realServer;
    private SharedIndexInformer<Secret> informer;

    SimulatedTokenController(KubernetesClient client, boolean realServer) {
        this.client = client;
        this.realServer = realServer;
    }

    String describe() {
        return realServer
                ? "SIMULATED (no kube-controller-manager) - ServiceAccount-token Secrets get a real token from the "
                        + "TokenRequest API"
                : "SIMULATED (no kube-controller-manager) - ServiceAccount-token Secrets get a made-up token; the "
                        + "embedded server accepts any";
    }

    void start() {
        // The resync retries a Secret whose token could not be issued yet.
        informer = client.secrets().inAnyNamespace().inform(new ResourceEventHandler<>() {
            @Override
            public void onAdd(Secret s) {
                fill(s);
            }

            @Override
            public void onUpdate(Secret before, Secret s) {
                fill(s);
            }

            @Override
            public void onDelete(Secret s, boolean unknown) {
            }
        }, 5_000);
    }

    private void fill(Secret secret) {
        if (!SERVICE_ACCOUNT_TOKEN.equals(secret.getType())
                || (secret.getData() != null && secret.getData().containsKey("token"))) {
            return;
        }
        String ns = secret.getMetadata().getNamespace();
        String account = secret.getMetadata().getAnnotations() == null ? null
                : secret.getMetadata().getAnnotations().get(SERVICE_ACCOUNT_NAME);
        if (account == null) {
            return;
        }
        try {
            Map<String, String> data = new HashMap<>();
            data.put("token", base64(realServer ? requestToken(secret, account) : "playground-" + UUID.randomUUID()));
            data.put("namespace", base64(ns));
            caCertificate().ifPresent(ca -> data.put("ca.crt", base64(ca)));
            client.secrets().inNamespace(ns).withName(secret.getMetadata().getName()).edit(s -> {
                Map<String, String> merged = s.getData() == null ? new HashMap<>() : new HashMap<>(s.getData());
                merged.putAll(data);
                s.setData(merged);
                return s;
            });
        } catch (KubernetesClientException | IOException e) {
            // The informer's next resync tries again.
            System.out.printf("  token controller (simulated): no token for %s/%s yet: %s%n", ns, account,
                    e.getMessage());
        }
    }

    /** A token the API server signs for the ServiceAccount, bound to the Secret (deleting the Secret revokes it). */
    private String requestToken(Secret secret, String account) {
        TokenRequest request = new TokenRequestBuilder().withNewSpec().withExpirationSeconds(TOKEN_SECONDS)
                .withNewBoundObjectRef().withApiVersion("v1").withKind("Secret")
                .withName(secret.getMetadata().getName()).withUid(secret.getMetadata().getUid()).endBoundObjectRef()
                .endSpec().build();
        return client.serviceAccounts().inNamespace(secret.getMetadata().getNamespace()).withName(account)
                .tokenRequest(request).getStatus().getToken();
    }

    /** The API server's CA certificate as its kubeconfig names it (none for the embedded server: plain HTTP). */
    private Optional<String> caCertificate() throws IOException {
        var config = client.getConfiguration();
        if (config.getCaCertData() != null && !config.getCaCertData().isBlank()) {
            return Optional.of(new String(Base64.getDecoder().decode(config.getCaCertData()),
                    StandardCharsets.UTF_8));
        }
        if (config.getCaCertFile() != null && !config.getCaCertFile().isBlank()) {
            return Optional.of(Files.readString(Path.of(config.getCaCertFile())));
        }
        return Optional.empty();
    }

    private static String base64(String s) {
        return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public void close() {
        if (informer != null) {
            informer.close();
        }
    }
}
