package io.gpupool.bench.apiserver;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import io.gpupool.playground.PlaygroundApiServer;

/**
 * CPU profiles of kube-apiserver during a measurement (its /debug/pprof/profile, on by default), taken back to back
 * in 30-second pieces with the provisioned kubectl, and summarized with {@code go tool pprof} when Go is installed
 * (hack/provision-kube-apiserver.sh installs it): where the API server's CPU goes (decoding, server-side apply, watch
 * fan-out, etcd, GC), to compare the operator's writes with the floor's.
 */
final class ApiServerProfile implements AutoCloseable {

    private static final int PIECE_SECONDS = 30;

    private final Path dir;
    private final Path kubeconfig;
    private final List<Path> pieces = new ArrayList<>();
    private final Thread taker;
    private volatile boolean stopping;

    private ApiServerProfile(Path dir, Path kubeconfig) {
        this.dir = dir;
        this.kubeconfig = kubeconfig;
        this.taker = new Thread(this::takePieces, "apiserver-profile");
        this.taker.setDaemon(true);
    }

    static ApiServerProfile start(Path dir, PlaygroundApiServer server) {
        ApiServerProfile p = new ApiServerProfile(dir, server.kubeconfig.toAbsolutePath());
        p.taker.start();
        return p;
    }

    private void takePieces() {
        for (int i = 0; !stopping; i++) {
            Path piece = dir.resolve(String.format("apiserver-cpu-%03d.pprof", i));
            try {
                Process p = new ProcessBuilder(PlaygroundApiServer.realBinaryDir().resolve("kubectl").toString(),
                        "--kubeconfig", kubeconfig.toString(), "get", "--raw",
                        "/debug/pprof/profile?seconds=" + PIECE_SECONDS).redirectOutput(piece.toFile())
                        .redirectError(ProcessBuilder.Redirect.DISCARD).start();
                if (p.waitFor(PIECE_SECONDS + 60, TimeUnit.SECONDS) && p.exitValue() == 0) {
                    synchronized (pieces) {
                        pieces.add(piece);
                    }
                } else {
                    p.destroyForcibly();
                    return;
                }
            } catch (IOException e) {
                return;
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** Waits for the piece being taken, then writes the summary; returns its path, or null without Go or pieces. */
    Path stopAndSummarize() throws IOException, InterruptedException {
        stopping = true;
        taker.join(TimeUnit.SECONDS.toMillis(PIECE_SECONDS + 70));
        List<String> command = new ArrayList<>(List.of("go", "tool", "pprof", "-top", "-cum", "-nodecount=60"));
        synchronized (pieces) {
            if (pieces.isEmpty()) {
                return null;
            }
            pieces.forEach(p -> command.add(p.toString()));
        }
        Path out = dir.resolve("apiserver-profile.txt");
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile()).start();
            if (!p.waitFor(5, TimeUnit.MINUTES)) {
                p.destroyForcibly();
            }
        } catch (IOException e) {
            Files.writeString(out, "go tool pprof not available (" + e.getMessage() + "); the raw profiles are "
                    + "apiserver-cpu-*.pprof in this directory\n");
        }
        return out;
    }

    @Override
    public void close() {
        stopping = true;
        taker.interrupt();
    }
}
