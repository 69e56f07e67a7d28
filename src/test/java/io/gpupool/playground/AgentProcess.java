package io.gpupool.playground;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A contributed cluster's real agent: the same packaged application as the operator, run with GPUPOOL_ROLE=agent in
 * its own JVM and configured as the gpupool-contributor chart configures it. KUBECONFIG points at the contributor's
 * cluster (what in-cluster credentials are in production), GPUPOOL_AGENT_HUB_KUBECONFIG at the kubeconfig the operator
 * issued (what the chart mounts from the contributor's Secret). Leader election is off, as for the operator.
 */
final class AgentProcess implements AutoCloseable {

    final Path log;
    private final Process process;

    private AgentProcess(Process process, Path log) {
        this.process = process;
        this.log = log;
    }

    static AgentProcess start(Path jar, Path contributorKubeconfig, Map<String, String> chartEnvironment, Path log)
            throws IOException {
        String java = ProcessHandle.current().info().command().orElse("java");
        ProcessBuilder pb = new ProcessBuilder(java, "-jar", jar.toString())
                .redirectErrorStream(true).redirectOutput(log.toFile());
        var env = pb.environment();
        env.putAll(chartEnvironment);
        env.put("KUBECONFIG", contributorKubeconfig.toAbsolutePath().toString());
        env.put("QUARKUS_PROFILE", "playground");
        env.put("QUARKUS_HTTP_PORT", "0");
        env.put("QUARKUS_MANAGEMENT_PORT", "0");
        return new AgentProcess(pb.start(), log);
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly();
        }
    }
}
