package io.gpupool.e2e;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import io.gpupool.cluster.ControlPlaneBinaries;

/** The real kubectl (provisioned with the control plane's binaries), run as a person would, against one kubeconfig. */
final class Kubectl {

    private final Path kubeconfig;

    Kubectl(Path kubeconfig) {
        this.kubeconfig = kubeconfig;
    }

    /** What one command printed (stdout and stderr) and its exit code. */
    record Result(int exitCode, String output) {
    }

    /** Runs the command; fails with its output unless it exits 0. */
    String run(String... args) {
        Result r = exec(args);
        if (r.exitCode() != 0) {
            throw new AssertionError("kubectl " + String.join(" ", args) + " exited " + r.exitCode() + ":\n" + r.output());
        }
        return r.output();
    }

    Result exec(String... args) {
        List<String> command = new ArrayList<>();
        command.add(ControlPlaneBinaries.binary(ControlPlaneBinaries.KUBECTL).toString());
        command.add("--kubeconfig=" + kubeconfig.toAbsolutePath());
        command.addAll(List.of(args));
        try {
            // Its own cache directory: kubectl writes discovery there, and the developer's is none of its business.
            ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
            pb.environment().put("HOME", kubeconfig.toAbsolutePath().getParent().toString());
            Process p = pb.start();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("kubectl " + String.join(" ", args) + " did not finish within 60 s");
            }
            return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }
}
