package io.gpupool.playground;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The real operator, as production runs it: the packaged Quarkus application in its own JVM, pointed at the
 * playground's API server through KUBECONFIG. Leader election is off (one replica), and server-side apply is off on
 * the embedded server, which does not implement it.
 */
public final class OperatorProcess implements AutoCloseable {

    public final Path log;
    private final Process process;

    private OperatorProcess(Process process, Path log) {
        this.process = process;
        this.log = log;
    }

    static OperatorProcess start(PlaygroundApiServer server, Path workDir) throws IOException {
        // hack/playground.sh builds target/playground-app with server-side apply off for the embedded server.
        return start(server, workDir, PackagedApplication.require(server.isReal));
    }

    static OperatorProcess start(PlaygroundApiServer server, Path workDir, Path jar) throws IOException {
        return start(server, workDir, jar, "operator.log", List.of(), Map.of());
    }

    /**
     * As the playground starts it, with JVM options and extra environment variables (Quarkus reads every
     * configuration key from the environment, e.g. QUARKUS_OPERATOR_SDK_CONCURRENT_RECONCILIATION_THREADS), so that
     * benchmarks can measure and tune the operator through its configuration only.
     */
    public static OperatorProcess start(PlaygroundApiServer server, Path workDir, String logName,
            List<String> jvmOptions, Map<String, String> extraEnv) throws IOException {
        return start(server, workDir, PackagedApplication.require(server.isReal), logName, jvmOptions, extraEnv);
    }

    static OperatorProcess start(PlaygroundApiServer server, Path workDir, Path jar, String logName,
            List<String> jvmOptions, Map<String, String> extraEnv) throws IOException {
        // Leader election is active in the prod profile only (quarkus.operator-sdk.activate-leader-election-for-
        // profiles); one replica needs none.
        Map<String, String> env = new java.util.LinkedHashMap<>();
        env.put("QUARKUS_PROFILE", "playground");
        env.putAll(extraEnv);
        return start(server.kubeconfig, server.url(), jar, workDir.resolve(logName), jvmOptions, env);
    }

    /**
     * The packaged application against the API server of a kubeconfig, with the given environment on top of the
     * defaults (random HTTP ports, the hub server URL); e.g. the chart's environment with QUARKUS_PROFILE=prod and the
     * pod's namespace and name (KUBERNETES_NAMESPACE, HOSTNAME) to run it as one of the chart's replicas.
     */
    public static OperatorProcess start(Path kubeconfig, String apiServerUrl, Path jar, Path log, List<String> jvmOptions,
            Map<String, String> extraEnv) throws IOException {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> command = new ArrayList<>(List.of(java));
        command.addAll(jvmOptions);
        command.addAll(List.of("-jar", jar.toString()));
        Files.createDirectories(log.toAbsolutePath().getParent());
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        var env = pb.environment();
        env.put("KUBECONFIG", kubeconfig.toAbsolutePath().toString());
        env.put("QUARKUS_HTTP_PORT", "0");
        env.put("QUARKUS_MANAGEMENT_PORT", "0");
        // The pool's address in the kubeconfigs the operator issues to contributed clusters (the chart's hub.server).
        env.put("GPUPOOL_HUB_SERVER", apiServerUrl);
        env.putAll(extraEnv);
        return new OperatorProcess(pb.start(), log);
    }

    /** SIGKILL, as a node dies or the OOM killer strikes: no shutdown hook, no lease released. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
    }

    /** The operator JVM's process id (for /proc/<pid>/status, jcmd). */
    public long pid() {
        return process.pid();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly();
        }
    }
}
