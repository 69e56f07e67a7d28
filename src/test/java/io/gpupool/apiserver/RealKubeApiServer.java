package io.gpupool.apiserver;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.extension.ExtensionConfigurationException;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

import io.fabric8.kubeapitest.KubeAPIServer;
import io.fabric8.kubeapitest.KubeAPIServerConfigBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;

/**
 * JUnit 5 extension of the real-API-server tier: starts ONE kube-apiserver + etcd (io.fabric8:kube-api-test, offline
 * binaries provisioned by hack/provision-kube-apiserver.sh) for the whole test run, however many test classes use it,
 * and stops it when the run ends (a {@link ExtensionContext.Store.CloseableResource} in the root store, plus a
 * shutdown hook so that an aborted run leaves no processes behind). Test methods and constructors get the
 * {@link RealKubeApiServer} as a parameter.
 *
 * <p>The server runs with kube-api-test's flags: {@code --authorization-mode=RBAC}, client-certificate authentication
 * (the admin client is in {@code system:masters}), the ServiceAccount admission plugin off. There is no
 * kube-controller-manager: no Deployment controller, no garbage collector, no namespace deletion.
 *
 * <p>When the binaries are missing the tier FAILS (it is not skipped) with a message that says how to provision them.
 */
public final class RealKubeApiServer implements ParameterResolver, org.junit.jupiter.api.extension.BeforeAllCallback {

    /** The version hack/provision-kube-apiserver.sh builds; KUBE_API_TEST_API_SERVER_VERSION overrides it. */
    public static final String DEFAULT_VERSION = "1.20.2";
    private static final String[] BINARIES = { "kube-apiserver", "etcd", "kubectl" };

    private static final Object LOCK = new Object();
    private static volatile Server server;
    private static RuntimeException startFailure;

    @Override
    public void beforeAll(ExtensionContext context) {
        get(context);
    }

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext extension) {
        return parameter.getParameter().getType() == Server.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext extension) {
        return get(extension);
    }

    static Server get(ExtensionContext context) {
        // The root store outlives every test class: its CloseableResource is closed once, at the end of the run.
        return context.getRoot().getStore(ExtensionContext.Namespace.create(RealKubeApiServer.class))
                .getOrComputeIfAbsent(Server.class, k -> start(), Server.class);
    }

    private static Server start() {
        synchronized (LOCK) {
            if (startFailure != null) {
                // Fail every class of the tier at once with the same reason, instead of trying to start it again.
                throw startFailure;
            }
            if (server == null) {
                try {
                    server = Server.start();
                } catch (RuntimeException e) {
                    startFailure = e;
                    throw e;
                }
                Runtime.getRuntime().addShutdownHook(new Thread(server::stopQuietly, "kube-apiserver-stop"));
            }
            return server;
        }
    }

    static String setting(String name, String fallback) {
        String value = System.getProperty(name);
        if (value == null || value.isBlank()) {
            value = System.getenv(name);
        }
        return value == null || value.isBlank() ? fallback : value;
    }

    /** Where kube-api-test looks for the binaries of a version, as hack/provision-kube-apiserver.sh puts them. */
    static Path binaryDir(String version) {
        String base = setting(KubeAPIServerConfigBuilder.KUBE_API_TEST_DIR,
                Path.of(System.getProperty("user.home"), ".kubeapitest").toString());
        return Path.of(base, "k8s", version + "-linux-amd64");
    }

    static void requireBinaries(String version) {
        Path dir = binaryDir(version);
        List<String> missing = new ArrayList<>();
        for (String b : BINARIES) {
            Path p = dir.resolve(b);
            if (!Files.isRegularFile(p) || !Files.isExecutable(p)) {
                missing.add(b);
            }
        }
        if (!missing.isEmpty()) {
            throw new ExtensionConfigurationException("The real-kube-apiserver test tier (src/test/java/io/gpupool/"
                    + "apiserver) needs kube-apiserver, etcd and kubectl " + version + " in " + dir + ", but "
                    + String.join(", ", missing) + " " + (missing.size() == 1 ? "is" : "are") + " missing. Provision "
                    + "them once with `sudo bash hack/provision-kube-apiserver.sh` (offline from Debian's mirror, "
                    + "~5-10 min on 2 cores, cached afterwards; .ci/run does this) and run the tests again. See "
                    + "hack/README-apiserver.md.");
        }
    }

    /** One running API server and an admin client for it. */
    public static final class Server implements ExtensionContext.Store.CloseableResource, AutoCloseable {

        private final KubeAPIServer apiServer;
        private final Config adminConfig;
        private final KubernetesClient admin;
        private final String version;
        private final Duration startup;
        private volatile boolean stopped;

        private Server(KubeAPIServer apiServer, Config adminConfig, String version, Duration startup) {
            this.apiServer = apiServer;
            this.adminConfig = adminConfig;
            this.admin = new KubernetesClientBuilder().withConfig(adminConfig).build();
            this.version = version;
            this.startup = startup;
        }

        static Server start() {
            String version = setting(KubeAPIServerConfigBuilder.KUBE_API_TEST_API_SERVER_VERSION, DEFAULT_VERSION);
            boolean offline = Boolean.parseBoolean(setting(KubeAPIServerConfigBuilder.KUBE_API_TEST_OFFLINE_MODE, "true"));
            if (offline) {
                requireBinaries(version);
            }
            long t0 = System.nanoTime();
            KubeAPIServer apiServer = new KubeAPIServer(KubeAPIServerConfigBuilder.anAPIServerConfig()
                    .withApiServerVersion(version)
                    .withOfflineMode(offline)
                    // Never touch the developer's ~/.kube/config: the tests build their clients from the YAML.
                    .withUpdateKubeConfig(false)
                    .withStartupTimeout(120_000)
                    .build());
            apiServer.start();
            Config config = Config.fromKubeconfig(apiServer.getKubeConfigYaml());
            config.setRequestTimeout(30_000);
            Duration startup = Duration.ofNanos(System.nanoTime() - t0);
            System.out.printf("[apiserver-tier] kube-apiserver %s + etcd started in %d ms (%s)%n", version,
                    startup.toMillis(), config.getMasterUrl());
            return new Server(apiServer, config, version, startup);
        }

        /** A client with the admin's identity (system:masters); not to be closed by tests. */
        public KubernetesClient admin() {
            return admin;
        }

        /** A fresh copy of the admin configuration, for clients of one's own (close them). */
        public Config adminConfig() {
            return Config.fromKubeconfig(apiServer.getKubeConfigYaml());
        }

        /** The admin's kubeconfig (for real Helm, which talks to the API server itself). */
        public String kubeConfigYaml() {
            return apiServer.getKubeConfigYaml();
        }

        /** A new client that impersonates the given user (e.g. system:serviceaccount:ns:name); close it. */
        public KubernetesClient impersonating(String user, String... groups) {
            Config config = adminConfig();
            config.setRequestTimeout(30_000);
            config.setImpersonateUsername(user);
            List<String> all = new ArrayList<>(List.of(groups));
            if (user.startsWith("system:serviceaccount:")) {
                // What the API server adds to a real ServiceAccount token's identity.
                String ns = user.split(":")[2];
                all.addAll(List.of("system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"));
            }
            config.setImpersonateGroups(all.toArray(String[]::new));
            return new KubernetesClientBuilder().withConfig(config).build();
        }

        public String version() {
            return version;
        }

        public Duration startup() {
            return startup;
        }

        /** Applies every CRD in crds/ (idempotent) and waits until each is Established. */
        public List<CustomResourceDefinition> applyCrds() {
            List<CustomResourceDefinition> crds = new ArrayList<>();
            try (Stream<Path> files = Files.list(Path.of("crds"))) {
                for (Path f : files.filter(p -> p.toString().endsWith(".yml") || p.toString().endsWith(".yaml"))
                        .sorted().toList()) {
                    try (var in = Files.newInputStream(f)) {
                        for (HasMetadata o : admin.load(in).items()) {
                            crds.add((CustomResourceDefinition) o);
                        }
                    }
                }
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            List<CustomResourceDefinition> applied = new ArrayList<>();
            for (CustomResourceDefinition crd : crds) {
                // Plain create-or-replace (not SSA) so that a CRD regenerated between runs replaces the old one.
                applied.add(admin.apiextensions().v1().customResourceDefinitions().resource(crd)
                        .createOr(r -> r.update()));
            }
            for (CustomResourceDefinition crd : crds) {
                admin.apiextensions().v1().customResourceDefinitions().withName(crd.getMetadata().getName())
                        .waitUntilCondition(RealKubeApiServer::established, 60, TimeUnit.SECONDS);
            }
            return applied;
        }

        @Override
        public void close() {
            stopQuietly();
        }

        void stopQuietly() {
            if (stopped) {
                return;
            }
            stopped = true;
            try {
                admin.close();
            } finally {
                apiServer.stop();
            }
        }
    }

    static boolean established(CustomResourceDefinition crd) {
        return crd != null && crd.getStatus() != null && Optional.ofNullable(crd.getStatus().getConditions())
                .orElse(List.of()).stream().anyMatch(c -> "Established".equals(c.getType()) && "True".equals(c.getStatus()));
    }
}
