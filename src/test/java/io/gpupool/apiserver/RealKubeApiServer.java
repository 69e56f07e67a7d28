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

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.gpupool.cluster.ControlPlane;
import io.gpupool.cluster.ControlPlaneBinaries;
import io.gpupool.cluster.SimulatedKubelet;

/**
 * JUnit 5 extension of the real-API-server tier: starts ONE real control plane ({@link ControlPlane}: kube-apiserver +
 * etcd through io.fabric8:kube-api-test, kube-controller-manager and kube-scheduler) and the {@link SimulatedKubelet} of
 * its Nodes for the whole test run, however many test classes use it, and stops them when the run ends (a
 * {@link ExtensionContext.Store.CloseableResource} in the root store, plus shutdown hooks so that an aborted run leaves
 * no processes behind). Test methods and constructors get the {@link RealKubeApiServer.Server} as a parameter.
 *
 * <p>The API server runs with kube-api-test's flags: {@code --authorization-mode=RBAC}, client-certificate
 * authentication (the admin client is in {@code system:masters}), the ServiceAccount admission plugin off. The real
 * controllers turn Deployments into pods, bind them, collect garbage, delete namespaces and issue ServiceAccount
 * tokens; the simulated kubelet runs every Node (heartbeats) and its pods (Running, then Ready after a short load).
 *
 * <p>When the binaries are missing the tier FAILS (it is not skipped) with a message that says how to provision them
 * (`mvn test` provisions them before the tests).
 */
public final class RealKubeApiServer implements ParameterResolver, org.junit.jupiter.api.extension.BeforeAllCallback {

    /** The version hack/provision-kube-apiserver.sh builds; KUBE_API_TEST_API_SERVER_VERSION overrides it. */
    public static final String DEFAULT_VERSION = ControlPlaneBinaries.DEFAULT_VERSION;
    /** Where the control plane's logs and kubeconfig go. */
    static final Path WORK_DIR = Path.of("target", "control-plane");

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
                } catch (IllegalStateException e) {
                    startFailure = new ExtensionConfigurationException("The real-kube-apiserver test tier "
                            + "(src/test/java/io/gpupool/apiserver) could not start its control plane: "
                            + e.getMessage(), e);
                    throw startFailure;
                } catch (RuntimeException e) {
                    startFailure = e;
                    throw e;
                }
                Runtime.getRuntime().addShutdownHook(new Thread(server::stopQuietly, "kube-apiserver-stop"));
            }
            return server;
        }
    }

    /** One running API server and an admin client for it. */
    public static final class Server implements ExtensionContext.Store.CloseableResource, AutoCloseable {

        private final ControlPlane controlPlane;
        private final SimulatedKubelet kubelet;
        private volatile boolean stopped;

        private Server(ControlPlane controlPlane, SimulatedKubelet kubelet) {
            this.controlPlane = controlPlane;
            this.kubelet = kubelet;
        }

        static Server start() {
            ControlPlane plane = ControlPlane.start(ControlPlane.Options.full(WORK_DIR));
            SimulatedKubelet kubelet = SimulatedKubelet.start(plane.admin(), SimulatedKubelet.Settings.defaults());
            System.out.printf("[apiserver-tier] control plane started in %d ms (%s; logs in %s)%n",
                    plane.startup().toMillis(), String.join("; ", plane.describe()), WORK_DIR);
            return new Server(plane, kubelet);
        }

        /** The control plane under the tier (kube-apiserver, etcd, kube-controller-manager, kube-scheduler). */
        public ControlPlane controlPlane() {
            return controlPlane;
        }

        /** The simulated kubelet of every Node. */
        public SimulatedKubelet kubelet() {
            return kubelet;
        }

        /** A client with the admin's identity (system:masters); not to be closed by tests. */
        public KubernetesClient admin() {
            return controlPlane.admin();
        }

        /** A fresh copy of the admin configuration, for clients of one's own (close them). */
        public Config adminConfig() {
            return controlPlane.adminConfig();
        }

        /** The admin's kubeconfig (for real Helm, which talks to the API server itself). */
        public String kubeConfigYaml() {
            return controlPlane.kubeConfigYaml();
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
            return controlPlane.version();
        }

        public Duration startup() {
            return controlPlane.startup();
        }

        /** Applies every CRD in crds/ (idempotent) and waits until each is Established. */
        public List<CustomResourceDefinition> applyCrds() {
            List<CustomResourceDefinition> crds = new ArrayList<>();
            try (Stream<Path> files = Files.list(Path.of("crds"))) {
                for (Path f : files.filter(p -> p.toString().endsWith(".yml") || p.toString().endsWith(".yaml"))
                        .sorted().toList()) {
                    try (var in = Files.newInputStream(f)) {
                        for (HasMetadata o : admin().load(in).items()) {
                            crds.add((CustomResourceDefinition) o);
                        }
                    }
                }
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            List<CustomResourceDefinition> applied = new ArrayList<>();
            KubernetesClient admin = admin();
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
                kubelet.close();
            } finally {
                controlPlane.close();
            }
        }
    }

    static boolean established(CustomResourceDefinition crd) {
        return crd != null && crd.getStatus() != null && Optional.ofNullable(crd.getStatus().getConditions())
                .orElse(List.of()).stream().anyMatch(c -> "Established".equals(c.getType()) && "True".equals(c.getStatus()));
    }
}
