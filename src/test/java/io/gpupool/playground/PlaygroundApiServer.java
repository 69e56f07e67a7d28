package io.gpupool.playground;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.function.UnaryOperator;

import io.fabric8.kubeapitest.KubeAPIServerConfigBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.gpupool.cluster.ControlPlane;
import io.gpupool.cluster.ControlPlaneBinaries;
import io.gpupool.cluster.SimulatedKubelet;

/**
 * The playground's API server: the real control plane of the cluster harness ({@link ControlPlane}: kube-apiserver +
 * etcd, kube-controller-manager, kube-scheduler) when hack/provision-kube-apiserver.sh has put its binaries in place,
 * otherwise Fabric8's embedded mock server in CRUD mode. Either way it writes a kubeconfig that kubectl and the
 * operator use.
 */
public final class PlaygroundApiServer implements AutoCloseable {

    public static final String VERSION = "1.20.2";

    /** Held so that JUL keeps the level: it forgets a logger nobody references. */
    private static final java.util.logging.Logger MOCK_SERVER_LOG = java.util.logging.Logger
            .getLogger("io.fabric8.mockwebserver");

    private final ControlPlane real;
    private SimulatedKubelet kubelet;
    private final KubernetesMockServer embedded;
    public final Path kubeconfig;
    public final boolean isReal;

    private PlaygroundApiServer(ControlPlane real, KubernetesMockServer embedded, Path kubeconfig) {
        this.real = real;
        this.embedded = embedded;
        this.kubeconfig = kubeconfig;
        this.isReal = real != null;
    }

    public static boolean realBinariesPresent() {
        return Files.isExecutable(realBinaryDir().resolve("kube-apiserver"));
    }

    /**
     * The full control plane when all its binaries are there, the real API server alone when only kube-api-test's
     * are, the embedded one otherwise (or when forced).
     */
    public static PlaygroundApiServer start(Path workDir, boolean forceEmbedded) throws IOException {
        Path kubeconfig = workDir.resolve("kubeconfig");
        if (!forceEmbedded && ControlPlaneBinaries.allPresent()) {
            return startReal(workDir, ControlPlane.Options.full(workDir.resolve("control-plane")));
        }
        if (!forceEmbedded && realBinariesPresent()) {
            return startReal(workDir, UnaryOperator.identity());
        }
        return embedded(kubeconfig);
    }

    /**
     * An embedded API server (Fabric8 mock, CRUD mode) whose kubeconfig is written to the given file: the pool's when the
     * real binaries are missing, and the simulated contributed clusters' always.
     */
    static PlaygroundApiServer embedded(Path kubeconfig) throws IOException {
        MOCK_SERVER_LOG.setLevel(java.util.logging.Level.WARNING); // it logs every request at INFO
        Files.createDirectories(kubeconfig.toAbsolutePath().getParent());
        KubernetesMockServer server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(),
                new TokenRequests(), false);
        server.init(InetAddress.getLoopbackAddress(), 0);
        String url = "http://127.0.0.1:" + server.getPort();
        Files.writeString(kubeconfig, """
                apiVersion: v1
                kind: Config
                clusters:
                - name: playground
                  cluster:
                    server: %s
                contexts:
                - name: playground
                  context:
                    cluster: playground
                    user: playground
                    namespace: default
                current-context: playground
                users:
                - name: playground
                  user:
                    token: playground
                """.formatted(url));
        return new PlaygroundApiServer(null, server, kubeconfig);
    }

    /**
     * The real kube-apiserver only (no controllers, no scheduler), its kube-api-test configuration adjusted first
     * (benchmarks use this to give it a binary directory of their own).
     */
    public static PlaygroundApiServer startReal(Path workDir, UnaryOperator<KubeAPIServerConfigBuilder> adjust)
            throws IOException {
        return startReal(workDir, ControlPlane.Options.apiServerOnly(workDir.resolve("control-plane")).withApiServer(adjust));
    }

    /** The real control plane with the given options (the benchmarks opt into controllers and scheduler here). */
    public static PlaygroundApiServer startReal(Path workDir, ControlPlane.Options options) throws IOException {
        Path kubeconfig = workDir.resolve("kubeconfig");
        ControlPlane plane = ControlPlane.start(options);
        Files.writeString(kubeconfig, plane.kubeConfigYaml());
        return new PlaygroundApiServer(plane, null, kubeconfig);
    }

    /** Starts the simulated kubelet of the real control plane's Nodes; it stops with this server. */
    public SimulatedKubelet runKubelets(SimulatedKubelet.Settings settings) throws IOException {
        if (real == null) {
            throw new IllegalStateException("the embedded API server runs no pods: use EmbeddedKubelet");
        }
        kubelet = SimulatedKubelet.start(real.admin(), settings);
        return kubelet;
    }

    /** The real control plane (absent on the embedded server). */
    public java.util.Optional<ControlPlane> controlPlane() {
        return java.util.Optional.ofNullable(real);
    }

    public KubernetesClient client() throws IOException {
        return new KubernetesClientBuilder().withConfig(Config.fromKubeconfig(Files.readString(kubeconfig))).build();
    }

    public String describe() {
        return isReal ? String.join("; ", real.describe()) : "embedded API server (Fabric8 mock, CRUD mode)";
    }

    /** The URL clients reach it at, as written in its kubeconfig. */
    String url() throws IOException {
        return Config.fromKubeconfig(Files.readString(kubeconfig)).getMasterUrl();
    }

    /** Where kube-api-test looks for the real binaries (what {@link #realBinariesPresent()} checks). */
    public static Path realBinaryDir() {
        return ControlPlaneBinaries.dir(VERSION);
    }

    @Override
    public void close() {
        if (kubelet != null) {
            kubelet.close();
        }
        if (real != null) {
            real.close();
        }
        if (embedded != null) {
            embedded.destroy();
        }
    }

    /**
     * The embedded server's CRUD, plus the TokenRequest API (which Fabric8's mock does not implement): a made-up token
     * that expires in a day. The embedded server authenticates nobody, so any token works there.
     */
    static final class TokenRequests extends KubernetesCrudDispatcher {
        private static final java.util.regex.Pattern TOKEN = java.util.regex.Pattern
                .compile("^/api/v1/namespaces/[^/]+/serviceaccounts/[^/]+/token(\\?.*)?$");

        @Override
        public io.fabric8.mockwebserver.http.MockResponse dispatch(io.fabric8.mockwebserver.http.RecordedRequest request) {
            if ("POST".equals(request.getMethod()) && TOKEN.matcher(request.getPath()).matches()) {
                var issued = new io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder().withNewSpec()
                        .withExpirationSeconds(86400L).endSpec().withNewStatus()
                        .withToken("playground-" + java.util.UUID.randomUUID())
                        .withExpirationTimestamp(java.time.Instant.now().plusSeconds(86400).toString()).endStatus()
                        .build();
                return new io.fabric8.mockwebserver.http.MockResponse().setResponseCode(201)
                        .setBody(io.fabric8.kubernetes.client.utils.Serialization.asJson(issued));
            }
            return super.dispatch(request);
        }
    }
}
