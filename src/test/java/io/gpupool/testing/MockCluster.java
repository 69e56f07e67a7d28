package io.gpupool.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.stream.Stream;

import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;

/**
 * A second API server for tests: a Fabric8 mock server in CRUD mode (no controllers), optionally knowing the gpupool
 * CRDs (so that status is a subresource, as on a real API server).
 */
public final class MockCluster implements AutoCloseable {

    private final KubernetesMockServer server;
    private final KubernetesClient admin;

    private MockCluster(boolean gpupoolCrds) {
        server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(),
                new KubernetesCrudDispatcher(List.of()), false);
        server.init();
        admin = client(server.createClient().getConfiguration().getMasterUrl());
        if (gpupoolCrds) {
            try (Stream<Path> files = Files.list(Path.of("crds"))) {
                for (Path f : files.sorted().toList()) {
                    admin.resource(Serialization.unmarshal(Files.readString(f), CustomResourceDefinition.class)).create();
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    /** A contributor's cluster: Nodes, Deployments, Services. */
    public static MockCluster plain() {
        return new MockCluster(false);
    }

    /** A pool's API server with the gpupool CRDs. */
    public static MockCluster withGpupoolCrds() {
        return new MockCluster(true);
    }

    /** A client with test-friendly timing: quick watch reconnects, no long retries of failed requests. */
    public static KubernetesClient client(String masterUrl) {
        Config config = new ConfigBuilder(Config.empty()).withMasterUrl(masterUrl).withTrustCerts(true)
                .withNamespace("default").withWatchReconnectInterval(100).withWatchReconnectLimit(-1)
                .withRequestRetryBackoffLimit(0).withConnectionTimeout(2000).withRequestTimeout(5000).build();
        return new KubernetesClientBuilder().withConfig(config).build();
    }

    public String url() {
        return admin.getConfiguration().getMasterUrl();
    }

    public int port() {
        return server.getPort();
    }

    public KubernetesClient client() {
        return admin;
    }

    @Override
    public void close() {
        admin.close();
        server.destroy();
    }
}
