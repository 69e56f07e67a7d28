package io.gpupool.cluster;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

import io.fabric8.kubeapitest.KubeAPIServer;
import io.fabric8.kubeapitest.KubeAPIServerConfig;
import io.fabric8.kubeapitest.KubeAPIServerConfigBuilder;
import io.fabric8.kubeapitest.cert.CertManager;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;

/**
 * A real Kubernetes control plane on this machine, for tests, the playground and the API-server benchmarks alike:
 * kube-apiserver + etcd (started by io.fabric8:kube-api-test, with its flags and certificates), and, unless switched
 * off, kube-controller-manager (Deployment, ReplicaSet, garbage collector, ServiceAccount + token, namespace, endpoint,
 * node lifecycle, pod GC, Job, persistent volume and resource quota controllers) and kube-scheduler, both as child
 * processes with the admin's kubeconfig. Nodes and their pods are run by a {@link SimulatedKubelet}, the one simulated part.
 *
 * <p>Neither controller serves HTTP ({@code --port=0 --secure-port=0}): several test runs share this machine, and
 * fixed ports would collide. Their logs go to the work directory.
 */
public final class ControlPlane implements AutoCloseable {

    /** The controllers of kube-controller-manager the harness runs (the rest need cloud, CSI or certificates). */
    public static final List<String> CONTROLLERS = List.of("deployment", "replicaset", "garbagecollector",
            "serviceaccount", "serviceaccount-token", "namespace", "endpoint", "endpointslice", "nodelifecycle",
            "podgc", "job", "persistentvolume-binder", "pvc-protection", "pv-protection", "resourcequota");

    private final KubeAPIServer apiServer;
    private final String kubeConfigYaml;
    private final Path kubeconfig;
    private final KubernetesClient admin;
    private final List<ComponentProcess> components;
    private final Options options;
    private final Duration startup;
    private volatile boolean stopped;

    /** What runs beside the API server, and how. */
    public record Options(Path workDir, boolean controllers, boolean scheduler, Duration nodeMonitorGracePeriod,
            UnaryOperator<KubeAPIServerConfigBuilder> apiServer) {

        /** The full control plane, a node counted as gone 10 s after its last heartbeat. */
        public static Options full(Path workDir) {
            return new Options(workDir, true, true, Duration.ofSeconds(10), UnaryOperator.identity());
        }

        /** The API server and etcd only (no controllers, no scheduler): what the API-server benchmarks measure. */
        public static Options apiServerOnly(Path workDir) {
            return new Options(workDir, false, false, Duration.ofSeconds(10), UnaryOperator.identity());
        }

        public Options withApiServer(UnaryOperator<KubeAPIServerConfigBuilder> adjust) {
            return new Options(workDir, controllers, scheduler, nodeMonitorGracePeriod, adjust);
        }

        public Options withNodeMonitorGracePeriod(Duration grace) {
            return new Options(workDir, controllers, scheduler, grace, apiServer);
        }
    }

    private ControlPlane(KubeAPIServer apiServer, String kubeConfigYaml, Path kubeconfig,
            List<ComponentProcess> components, Options options, Duration startup) {
        this.apiServer = apiServer;
        this.kubeConfigYaml = kubeConfigYaml;
        this.kubeconfig = kubeconfig;
        this.components = components;
        this.options = options;
        this.startup = startup;
        this.admin = new KubernetesClientBuilder().withConfig(adminConfig()).build();
    }

    /** Starts everything the options ask for; returns when the API server answers and the controllers run. */
    public static ControlPlane start(Options options) {
        List<String> needed = new ArrayList<>(ControlPlaneBinaries.API_SERVER);
        if (options.controllers()) {
            needed.add(ControlPlaneBinaries.KUBE_CONTROLLER_MANAGER);
        }
        if (options.scheduler()) {
            needed.add(ControlPlaneBinaries.KUBE_SCHEDULER);
        }
        ControlPlaneBinaries.require(needed, "The real control plane (src/test/java/io/gpupool/cluster)");
        long t0 = System.nanoTime();
        KubeAPIServerConfig config = options.apiServer().apply(KubeAPIServerConfigBuilder.anAPIServerConfig()
                .withApiServerVersion(ControlPlaneBinaries.version())
                .withOfflineMode(true)
                // Never touch the developer's ~/.kube/config: clients are built from the YAML.
                .withUpdateKubeConfig(false)
                // Two cores shared with other developers: kube-api-test's default is too short under load.
                .withStartupTimeout(180_000)).build();
        KubeAPIServer apiServer = new KubeAPIServer(config);
        waitPastMidnightIfClose(config.getStartupTimeout());
        try {
            apiServer.start();
        } catch (RuntimeException e) {
            apiServer.stop(); // kube-api-test leaves etcd running when the API server does not come up
            throw e;
        }
        List<ComponentProcess> components = new ArrayList<>();
        try {
            Files.createDirectories(options.workDir());
            String yaml = apiServer.getKubeConfigYaml();
            Path kubeconfig = options.workDir().resolve("admin.kubeconfig");
            Files.writeString(kubeconfig, yaml);
            CertManager certs = new CertManager(config.getKubeAPITestDir());
            if (options.controllers()) {
                components.add(ComponentProcess.start(ControlPlaneBinaries.KUBE_CONTROLLER_MANAGER,
                        ControlPlaneBinaries.binary(ControlPlaneBinaries.KUBE_CONTROLLER_MANAGER),
                        controllerManagerFlags(kubeconfig, certs, options), options.workDir()));
            }
            if (options.scheduler()) {
                components.add(ComponentProcess.start(ControlPlaneBinaries.KUBE_SCHEDULER,
                        ControlPlaneBinaries.binary(ControlPlaneBinaries.KUBE_SCHEDULER),
                        schedulerFlags(kubeconfig), options.workDir()));
            }
            ControlPlane plane = new ControlPlane(apiServer, yaml, kubeconfig, components, options,
                    Duration.ofNanos(System.nanoTime() - t0));
            plane.awaitControllers(Duration.ofSeconds(120));
            return plane;
        } catch (IOException | RuntimeException e) {
            components.forEach(ComponentProcess::close);
            apiServer.stop();
            throw e instanceof IOException io ? new UncheckedIOException(io) : (RuntimeException) e;
        }
    }

    /**
     * kube-api-test's readiness check compares LocalTime values (time of day), so a start whose timeout reaches past
     * midnight fails at once ("did not start properly"). A start that close to midnight waits until just after it.
     */
    static void waitPastMidnightIfClose(int startupTimeoutMillis) {
        java.time.LocalTime now = java.time.LocalTime.now();
        long untilMidnight = Duration.between(now, java.time.LocalTime.MAX).toMillis() + 1;
        if (untilMidnight < startupTimeoutMillis) {
            System.out.printf("[control-plane] waiting %d s until after midnight: kube-api-test's start-up timeout "
                    + "does not cross it%n", untilMidnight / 1000 + 2);
            sleep(untilMidnight + 2000);
        }
    }

    /** No HTTP at all: --port (insecure, removed in 1.24) and --secure-port 0. */
    private static List<String> noServing() {
        return ControlPlaneBinaries.minor() < 24 ? List.of("--port=0", "--secure-port=0") : List.of("--secure-port=0");
    }

    static List<String> controllerManagerFlags(Path kubeconfig, CertManager certs, Options options) {
        List<String> flags = new ArrayList<>(List.of(
                "--kubeconfig=" + kubeconfig,
                "--leader-elect=false",
                "--controllers=" + String.join(",", CONTROLLERS),
                // The token controller signs with the key the API server verifies with (kube-api-test's), and puts
                // the API server's certificate into every token Secret as ca.crt.
                "--service-account-private-key-file=" + certs.getAPIServerKeyPath(),
                "--root-ca-file=" + certs.getAPIServerCertPath(),
                "--use-service-account-credentials=false",
                // Node heartbeats: a node whose kubelet stopped is NotReady after the grace period.
                "--node-monitor-period=1s",
                "--node-monitor-grace-period=" + options.nodeMonitorGracePeriod().toSeconds() + "s",
                "--kube-api-qps=200", "--kube-api-burst=400",
                "--v=1"));
        flags.addAll(noServing());
        return flags;
    }

    static List<String> schedulerFlags(Path kubeconfig) {
        List<String> flags = new ArrayList<>(List.of(
                "--kubeconfig=" + kubeconfig,
                "--leader-elect=false",
                "--v=1"));
        if (ControlPlaneBinaries.minor() < 24) {
            flags.addAll(List.of("--kube-api-qps=200", "--kube-api-burst=400"));
        }
        flags.addAll(noServing());
        return flags;
    }

    /**
     * Waits until kube-controller-manager acts (its ServiceAccount controller gives namespace default its default
     * ServiceAccount), failing with the controller's log when it died.
     */
    private void awaitControllers(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        for (ComponentProcess c : components) {
            if (ControlPlaneBinaries.KUBE_CONTROLLER_MANAGER.equals(c.name)) {
                while (admin.serviceAccounts().inNamespace("default").withName("default").get() == null) {
                    checkAlive();
                    if (System.nanoTime() > deadline) {
                        throw new IllegalStateException("kube-controller-manager did not start within "
                                + timeout.toSeconds() + " s; its log (" + c.log + ") ends with:\n" + c.tail(20));
                    }
                    sleep(200);
                }
            }
        }
        checkAlive();
    }

    /** Fails when a controller process has died (its log tells why). */
    public void checkAlive() {
        for (ComponentProcess c : components) {
            if (!c.isAlive()) {
                throw new IllegalStateException(c.name + " stopped; its log (" + c.log + ") ends with:\n" + c.tail(20));
            }
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /** A client with the admin's identity (system:masters); closed with the control plane. */
    public KubernetesClient admin() {
        return admin;
    }

    /** A fresh copy of the admin configuration, for clients of one's own (close them). */
    public Config adminConfig() {
        Config config = Config.fromKubeconfig(kubeConfigYaml);
        config.setRequestTimeout(30_000);
        return config;
    }

    /** The admin's kubeconfig as YAML (kube-api-test's). */
    public String kubeConfigYaml() {
        return kubeConfigYaml;
    }

    /** The admin's kubeconfig as a file (for kubectl, Helm, the operator process). */
    public Path kubeconfig() {
        return kubeconfig;
    }

    public String version() {
        return ControlPlaneBinaries.version();
    }

    /** How long starting took, from the API server's launch to the controllers acting. */
    public Duration startup() {
        return startup;
    }

    public boolean runsControllers() {
        return options.controllers();
    }

    public boolean runsScheduler() {
        return options.scheduler();
    }

    /** How long a node may miss heartbeats before kube-controller-manager marks it NotReady. */
    public Duration nodeMonitorGracePeriod() {
        return options.nodeMonitorGracePeriod();
    }

    /** One line per component, for logs and the playground's screen. */
    public List<String> describe() {
        List<String> out = new ArrayList<>();
        out.add("kube-apiserver " + version() + " + etcd (real)");
        out.add(options.controllers() ? "kube-controller-manager " + version() + " (real): " + String.join(", ",
                CONTROLLERS) : "no kube-controller-manager");
        out.add(options.scheduler() ? "kube-scheduler " + version() + " (real)" : "no kube-scheduler");
        return out;
    }

    @Override
    public void close() {
        if (stopped) {
            return;
        }
        stopped = true;
        try {
            admin.close();
            // Controllers first: they would otherwise log connection errors while the API server goes.
            components.forEach(ComponentProcess::close);
        } finally {
            apiServer.stop();
        }
    }
}
