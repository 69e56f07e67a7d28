package io.gpupool.cluster;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One Kubernetes binary (kube-controller-manager, kube-scheduler) run as a child process, its output in a log file.
 * Stopped with SIGTERM (then SIGKILL), also by a shutdown hook so that an aborted run leaves nothing behind.
 */
final class ComponentProcess implements AutoCloseable {

    final String name;
    final Path log;
    private final Process process;
    private final Thread stopOnExit;

    private ComponentProcess(String name, Path log, Process process) {
        this.name = name;
        this.log = log;
        this.process = process;
        this.stopOnExit = new Thread(this::stop, name + "-stop");
        Runtime.getRuntime().addShutdownHook(stopOnExit);
    }

    static ComponentProcess start(String name, Path binary, List<String> flags, Path logDir) {
        List<String> command = new ArrayList<>();
        command.add(binary.toString());
        command.addAll(flags);
        try {
            Files.createDirectories(logDir);
            Path log = logDir.resolve(name + ".log");
            Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            return new ComponentProcess(name, log, p);
        } catch (IOException e) {
            throw new UncheckedIOException("could not start " + binary, e);
        }
    }

    boolean isAlive() {
        return process.isAlive();
    }

    long pid() {
        return process.pid();
    }

    /** The last lines of its log, for a failure message. */
    String tail(int lines) {
        try {
            List<String> all = Files.readAllLines(log);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    private void stop() {
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        stop();
        try {
            Runtime.getRuntime().removeShutdownHook(stopOnExit);
        } catch (IllegalStateException e) {
            // the JVM is shutting down: the hook runs (and finds the process stopped)
        }
    }
}
