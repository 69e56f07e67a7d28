package io.gpupool.playground;

import java.io.IOException;
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
        String java = ProcessHandle.current().info().command().orElse("java");
        Path log = workDir.resolve(logName);
        List<String> command = new ArrayList<>(List.of(java));
        command.addAll(jvmOptions);
        command.addAll(List.of("-jar", jar.toString()));
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        var env = pb.environment();
        env.put("KUBECONFIG", server.kubeconfig.toAbsolutePath().toString());
        // Leader election is active in the prod profile only (a build-time setting); one replica needs none.
        env.put("QUARKUS_PROFILE", "playground");
        env.put("QUARKUS_HTTP_PORT", "0");
        env.put("QUARKUS_MANAGEMENT_PORT", "0");
        // The pool's address in the kubeconfigs the operator issues to contributed clusters (the chart's hub.server).
        env.put("GPUPOOL_HUB_SERVER", server.url());
        env.putAll(extraEnv);
        return new OperatorProcess(pb.start(), log);
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
