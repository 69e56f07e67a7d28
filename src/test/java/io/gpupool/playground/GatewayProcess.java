package io.gpupool.playground;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * The pool's gateway, as production runs it: the packaged application in the gateway role, its own JVM, pointed at
 * the playground's API server. It listens on 127.0.0.1 at a free port, writes its usage reports into the gateway
 * namespace every 2 s, and reaches the SIMULATED serving pods by their pod IPs (loopback addresses).
 */
final class GatewayProcess implements AutoCloseable {

    static final String NAMESPACE = "gpupool-system";

    final Path log;
    final int port;
    private final Process process;

    private GatewayProcess(Process process, Path log, int port) {
        this.process = process;
        this.log = log;
        this.port = port;
    }

    static GatewayProcess start(Path jar, PlaygroundApiServer server, Path workDir) throws IOException {
        int port = freePort();
        Path log = workDir.resolve("gateway.log");
        String java = ProcessHandle.current().info().command().orElse("java");
        ProcessBuilder pb = new ProcessBuilder(java, "-jar", jar.toString()).redirectErrorStream(true)
                .redirectOutput(log.toFile());
        var env = pb.environment();
        env.put("KUBECONFIG", server.kubeconfig.toAbsolutePath().toString());
        env.put("QUARKUS_PROFILE", "playground");
        env.put("QUARKUS_HTTP_PORT", "0");
        env.put("QUARKUS_MANAGEMENT_PORT", "0");
        env.put("GPUPOOL_ROLE", "gateway");
        env.put("GPUPOOL_GATEWAY_HOST", "127.0.0.1");
        env.put("GPUPOOL_GATEWAY_PORT", Integer.toString(port));
        env.put("GPUPOOL_GATEWAY_NAMESPACE", NAMESPACE);
        env.put("GPUPOOL_GATEWAY_POD_NAME", "gpupool-gateway-playground");
        env.put("GPUPOOL_GATEWAY_REPORT_INTERVAL_SECONDS", "2");
        return new GatewayProcess(pb.start(), log, port);
    }

    /** The base URL of the OpenAI API. */
    String url() {
        return base() + "/v1";
    }

    /** The gateway's own URL, as a pool admin hands it to contributors (their agents' tunnels end there). */
    String base() {
        return "http://127.0.0.1:" + port;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            return s.getLocalPort();
        }
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(40, TimeUnit.SECONDS)) {
            process.destroyForcibly();
        }
    }
}
